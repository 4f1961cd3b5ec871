#include "throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../common/banned.h"

/*
 * A flat array scanned linearly: at 4096 entries a scan is a few
 * microseconds, far below the password hash every login attempt costs,
 * and it keeps eviction (oldest last activity) trivially correct.
 */
struct entry {
	char ip[THROTTLE_IP_MAX + 1];
	int64_t last_active;  /* last failure or lockout start: what eviction orders by */
	int64_t locked_until; /* 0 when not locked */
	int nfail;            /* failure times held in the ring (<= max_failures) */
	int head;             /* ring slot the next failure goes to */
};

struct throttle {
	pthread_mutex_t lock;
	int max_failures;
	int64_t window_s, lockout_s;
	size_t max_entries, n;
	struct entry *v;
	int64_t *fails; /* max_failures slots per entry: that entry's failure times */
};

struct throttle *throttle_new(int max_failures, int64_t window_s, int64_t lockout_s,
                              size_t max_entries)
{
	struct throttle *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->max_failures = max_failures < 1 ? 1 : max_failures;
	t->window_s = window_s < 1 ? 1 : window_s;
	t->lockout_s = lockout_s < 1 ? 1 : lockout_s;
	t->max_entries = max_entries < 1 ? 1 : max_entries;
	t->v = xcalloc(t->max_entries, sizeof(*t->v));
	t->fails = xcalloc(t->max_entries * (size_t)t->max_failures, sizeof(*t->fails));
	return t;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->v);
	free(t->fails);
	free(t);
}

static void key_of(char key[THROTTLE_IP_MAX + 1], const char *ip)
{
	size_t n = ip ? strnlen(ip, THROTTLE_IP_MAX) : 0;
	memcpy(key, ip ? ip : "", n);
	key[n] = '\0';
}

static struct entry *find(struct throttle *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].ip, key))
			return &t->v[i];
	return NULL;
}

static int64_t *ring_of(struct throttle *t, const struct entry *en)
{
	return t->fails + (size_t)(en - t->v) * (size_t)t->max_failures;
}

/* Remove entry i, moving the last one into its place (with its ring). */
static void drop(struct throttle *t, size_t i)
{
	size_t last = --t->n;
	if (i != last) {
		t->v[i] = t->v[last];
		memcpy(ring_of(t, &t->v[i]), ring_of(t, &t->v[last]),
		       (size_t)t->max_failures * sizeof(*t->fails));
	}
	memset(&t->v[last], 0, sizeof(t->v[last]));
}

/* A slot for key: a free one, else the least recently active entry's. */
static struct entry *take(struct throttle *t, const char *key)
{
	if (t->n == t->max_entries) {
		size_t oldest = 0;
		for (size_t i = 1; i < t->n; i++)
			if (t->v[i].last_active < t->v[oldest].last_active)
				oldest = i;
		drop(t, oldest);
	}
	struct entry *en = &t->v[t->n++];
	memset(en, 0, sizeof(*en));
	memcpy(en->ip, key, strlen(key) + 1);
	return en;
}

/* Failures of en within the window ending at now. */
static int recent(struct throttle *t, const struct entry *en, int64_t now)
{
	const int64_t *ring = ring_of(t, en);
	int c = 0;
	for (int i = 0; i < en->nfail; i++)
		if (now - ring[i] < t->window_s)
			c++;
	return c;
}

int throttle_check(struct throttle *t, const char *ip, int64_t now, int64_t *retry_after)
{
	char key[THROTTLE_IP_MAX + 1];
	key_of(key, ip);
	pthread_mutex_lock(&t->lock);
	struct entry *en = find(t, key);
	int locked = en && en->locked_until > now;
	if (locked && retry_after)
		*retry_after = en->locked_until - now;
	pthread_mutex_unlock(&t->lock);
	return locked;
}

int throttle_fail(struct throttle *t, const char *ip, int64_t now)
{
	char key[THROTTLE_IP_MAX + 1];
	key_of(key, ip);
	pthread_mutex_lock(&t->lock);
	struct entry *en = find(t, key);
	if (!en)
		en = take(t, key);
	int locked = en->locked_until > now;
	if (!locked) {
		int64_t *ring = ring_of(t, en);
		ring[en->head] = now;
		en->head = (en->head + 1) % t->max_failures;
		if (en->nfail < t->max_failures)
			en->nfail++;
		en->last_active = now;
		if (recent(t, en, now) >= t->max_failures) {
			/* Start afresh when the lockout ends. */
			en->locked_until = now + t->lockout_s;
			en->nfail = en->head = 0;
			locked = 1;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return locked;
}

size_t throttle_size(struct throttle *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
