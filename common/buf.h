/*
 * A growable, always NUL-terminated byte buffer with a ceiling. `data` is
 * never NULL (an empty buffer points at a shared ""), so it can be printed
 * at any time. Appends past `max` fail with ERR_TOOBIG and leave the
 * buffer unchanged: untrusted input never grows memory without a bound.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc; /* 0 while data points at the shared empty string */
	size_t max;   /* 0 = no limit (trusted, self-generated data only) */
};

/* Initialise an empty buffer that may hold at most max bytes (0 = no limit). */
void buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);
/* Append n bytes; ERR_TOOBIG when over the ceiling. */
int buf_add(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string; ERR_TOOBIG when over the ceiling. */
int buf_adds(struct buf *b, const char *s);
/* Append one byte; ERR_TOOBIG when over the ceiling. */
int buf_addc(struct buf *b, char c);
/* Append formatted text; ERR_TOOBIG when over the ceiling. */
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append formatted text from a va_list. */
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Hand the contents to the caller (malloc'd) and reset the buffer. */
char *buf_detach(struct buf *b, size_t *len);

#endif
