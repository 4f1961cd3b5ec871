#include "history_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../store/db.h"
#include "../store/history.h"
#include "serve.h"
#include "../common/banned.h"

/*
 * Answers kept for one HEAD: service pages looked at between two inventory
 * changes, within a memory budget (a diff may be 64 KiB, an answer 20 of them).
 */
#define CACHE_MAX       256
#define CACHE_MAX_BYTES (8u << 20)

struct history_cache {
	pthread_mutex_t lock;
	char *head;      /* the HEAD the answers belong to, or NULL */
	json_t *answers; /* question -> answer */
	size_t bytes;    /* roughly what the answers hold */
};

struct history_cache *history_cache_new(void)
{
	struct history_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->answers = json_object();
	return c;
}

void history_cache_free(struct history_cache *c)
{
	if (!c)
		return;
	json_decref(c->answers);
	free(c->head);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The HEAD the mirror last committed (malloc'd), or NULL when unknown. */
static char *current_head(struct daemon *d)
{
	struct store_txn *t = NULL;
	char *head = NULL;
	if (!store_txn_begin(d->app.db, 0, &t, NULL))
		head = store_meta_get(t, "mirror_head");
	store_txn_abort(t);
	return head;
}

/* A copy of the answer to key under head, or NULL. */
static json_t *lookup(struct history_cache *c, const char *head, const char *key)
{
	json_t *hit = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->head && head && !strcmp(c->head, head))
		hit = json_deep_copy(json_object_get(c->answers, key));
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Roughly the memory an answer holds: its diffs and a little per commit. */
static size_t answer_bytes(const json_t *answer)
{
	size_t n = 0, i;
	const json_t *c;
	json_array_foreach (answer, i, c)
		n += 512 + json_string_length(json_object_get(c, "diff"));
	return n;
}

static void remember(struct history_cache *c, const char *head, const char *key, json_t *answer)
{
	size_t size = answer_bytes(answer);
	if (size > CACHE_MAX_BYTES / 4)
		return; /* one answer must not push out all the others */
	pthread_mutex_lock(&c->lock);
	if (!c->head || strcmp(c->head, head) || json_object_size(c->answers) >= CACHE_MAX ||
	    c->bytes + size > CACHE_MAX_BYTES) {
		free(c->head);
		c->head = xstrdup(head);
		json_object_clear(c->answers);
		c->bytes = 0;
	}
	c->bytes += size;
	json_object_set_new(c->answers, key, json_deep_copy(answer));
	pthread_mutex_unlock(&c->lock);
}

/* path NULL: the log. */
static int ask(struct daemon *d, const char *path, size_t max, json_t **out, struct err *e)
{
	char *head = current_head(d);
	char *key = xasprintf("%zu %s", max, path ? path : "");
	json_t *answer = lookup(d->history_cache, head, key);
	int rc = 0;
	if (!answer) {
		rc = path ? store_history_file(d->app.repo, path, max, &answer, e)
		          : store_history_log(d->app.repo, max, &answer, e);
		/* no HEAD recorded yet (a fresh repo): nothing to key on, nothing kept */
		if (!rc && head)
			remember(d->history_cache, head, key, answer);
	}
	if (!rc)
		*out = answer;
	free(key);
	free(head);
	return rc;
}

int history_cache_file(struct daemon *d, const char *path, size_t max, json_t **out, struct err *e)
{
	return ask(d, path, max, out, e);
}

int history_cache_log(struct daemon *d, size_t max, json_t **out, struct err *e)
{
	return ask(d, NULL, max, out, e);
}
