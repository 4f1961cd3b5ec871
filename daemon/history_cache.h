/*
 * The web UI's memory of inventory history: store/history.h walks the
 * repo (tens of milliseconds over a few hundred commits), but its answers
 * only change when the repo's HEAD does, and HEAD moves only when the
 * inventory changes (live state is not in git). So each answer is kept
 * under the HEAD the mirror last recorded (meta "mirror_head") and the
 * question; a new HEAD empties the cache. Bounded; thread-safe.
 */
#ifndef DAEMON_HISTORY_CACHE_H
#define DAEMON_HISTORY_CACHE_H

#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"

struct daemon;
struct history_cache;

/* A new, empty cache. Never NULL. */
struct history_cache *history_cache_new(void);
/* Free it. NULL is fine. */
void history_cache_free(struct history_cache *c);
/* store_history_file(repo, path, max) through the cache; a new reference. */
int history_cache_file(struct daemon *d, const char *path, size_t max, json_t **out, struct err *e);
/* store_history_log(repo, max) through the cache; a new reference. */
int history_cache_log(struct daemon *d, size_t max, json_t **out, struct err *e);

#endif
