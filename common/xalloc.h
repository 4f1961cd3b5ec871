/*
 * Allocation that never returns NULL: running out of memory aborts, so
 * callers need no failure path for it. Oversized *input* is rejected long
 * before it reaches here (see struct buf's limit).
 */
#ifndef COMMON_XALLOC_H
#define COMMON_XALLOC_H

#include <stddef.h>

/* malloc that aborts on failure. */
void *xmalloc(size_t n);
/* calloc that aborts on failure or overflow. */
void *xcalloc(size_t count, size_t size);
/* realloc that aborts on failure. */
void *xrealloc(void *p, size_t n);
/* strdup that aborts on failure; NULL in, NULL out. */
char *xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
