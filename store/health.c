#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/*
 * Value encoding (all integers big-endian), version 1:
 *   u8 version, u8 state, u16 url length, url bytes,
 *   last result: i64 at, i32 status, i32 ms, u8 error, u8 msg length, msg bytes,
 *   u16 n, then n results (oldest first): i64 at, i32 status, i32 ms, u8 error.
 */
#define HEALTH_VERSION 1
#define RESULT_SIZE    17
/* Longer URLs are refused: the record keeps them well under this. */
#define HEALTH_URL_MAX 8192
/* Ceiling for reading a value back: the largest valid value is ~13 KiB. */
#define HEALTH_VALUE_MAX (64 * 1024)

static void key_of(uint64_t id, int dir, unsigned char key[9])
{
	for (int i = 7; i >= 0; i--, id >>= 8)
		key[i] = (unsigned char)(id & 0xff);
	key[8] = (unsigned char)dir;
}

static void put_be(struct buf *b, uint64_t v, int bytes)
{
	unsigned char c[8];
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		c[i] = (unsigned char)(v & 0xff);
	buf_add(b, c, (size_t)bytes);
}

static void put_result(struct buf *b, const struct store_health_result *r)
{
	put_be(b, (uint64_t)r->at, 8);
	put_be(b, (uint32_t)(int32_t)r->status, 4);
	put_be(b, (uint32_t)(int32_t)r->ms, 4);
	put_be(b, (uint8_t)r->error, 1);
}

static void encode(const struct store_health *h, struct buf *b)
{
	size_t ulen = strlen(h->url);
	size_t mlen = strnlen(h->last.msg, sizeof(h->last.msg) - 1);
	put_be(b, HEALTH_VERSION, 1);
	put_be(b, (uint8_t)h->state, 1);
	put_be(b, ulen, 2);
	buf_add(b, h->url, ulen);
	put_result(b, &h->last);
	put_be(b, mlen, 1);
	buf_add(b, h->last.msg, mlen);
	put_be(b, h->n, 2);
	for (size_t i = 0; i < h->n; i++)
		put_result(b, &h->history[i]);
}

struct reader {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint64_t get_be(struct reader *rd, int bytes)
{
	uint64_t v = 0;
	if (rd->bad || rd->left < (size_t)bytes) {
		rd->bad = 1;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v = v << 8 | rd->p[i];
	rd->p += bytes;
	rd->left -= (size_t)bytes;
	return v;
}

static const unsigned char *get_bytes(struct reader *rd, size_t n)
{
	if (rd->bad || rd->left < n) {
		rd->bad = 1;
		return NULL;
	}
	const unsigned char *p = rd->p;
	rd->p += n;
	rd->left -= n;
	return p;
}

static void get_result(struct reader *rd, struct store_health_result *r)
{
	memset(r, 0, sizeof(*r));
	r->at = (int64_t)get_be(rd, 8);
	r->status = (int32_t)(uint32_t)get_be(rd, 4);
	r->ms = (int32_t)(uint32_t)get_be(rd, 4);
	r->error = (int)get_be(rd, 1);
	if (r->error < STORE_HEALTH_OK || r->error > STORE_HEALTH_OTHER)
		rd->bad = 1;
}

/* Decode a stored value; -1 when it is malformed (out untouched). */
static int decode(struct store_health *out, const unsigned char *p, size_t len)
{
	struct reader rd = {p, len, 0};
	struct store_health h = {0};
	if (get_be(&rd, 1) != HEALTH_VERSION)
		return -1;
	h.state = (int)get_be(&rd, 1);
	size_t ulen = (size_t)get_be(&rd, 2);
	const unsigned char *url = get_bytes(&rd, ulen);
	get_result(&rd, &h.last);
	size_t mlen = (size_t)get_be(&rd, 1);
	const unsigned char *msg = get_bytes(&rd, mlen);
	h.n = (size_t)get_be(&rd, 2);
	if (rd.bad || h.state < STORE_HEALTH_UNKNOWN || h.state > STORE_HEALTH_DOWN ||
	    mlen >= sizeof(h.last.msg) || h.n > STORE_HEALTH_HISTORY ||
	    rd.left != h.n * RESULT_SIZE || memchr(url, '\0', ulen) || memchr(msg, '\0', mlen))
		return -1;
	memcpy(h.last.msg, msg, mlen);
	h.history = xcalloc(h.n ? h.n : 1, sizeof(*h.history));
	for (size_t i = 0; i < h.n; i++)
		get_result(&rd, &h.history[i]);
	if (rd.bad) {
		free(h.history);
		return -1;
	}
	h.url = xstrndup((const char *)url, ulen);
	*out = h;
	return 0;
}

enum store_health_state store_health_state_of(const struct store_health_result *r)
{
	if (r->error == STORE_HEALTH_OK && r->status >= 100 && r->status <= 399)
		return STORE_HEALTH_UP;
	if (r->error == STORE_HEALTH_TLS)
		return STORE_HEALTH_DEGRADED;
	return STORE_HEALTH_DOWN;
}

const char *store_health_error_name(int error)
{
	static const char *const names[] = {
	    NULL, "dns", "refused", "timeout", "tls", "too_many_redirects", "other"};
	if (error == STORE_HEALTH_OK)
		return NULL;
	if (error < 0 || (size_t)error >= sizeof(names) / sizeof(*names))
		return "other";
	return names[error];
}

const char *store_health_state_name(int state)
{
	static const char *const names[] = {"unknown", "up", "degraded", "down"};
	if (state < 0 || (size_t)state >= sizeof(names) / sizeof(*names))
		return "unknown";
	return names[state];
}

static const char *dir_name(int dir)
{
	return dir == STORE_HEALTH_EXTERNAL ? "external" : "internal";
}

int store_health_get(struct store_txn *t, uint64_t id, int dir, struct store_health *out,
                     struct err *e)
{
	unsigned char key[9];
	struct buf b;
	buf_init(&b, HEALTH_VALUE_MAX);
	key_of(id, dir, key);
	int rc = store_live_get(t, key, sizeof(key), &b, NULL);
	if (rc == ERR_NOTFOUND) {
		rc = err_set(e, ERR_NOTFOUND, "no health results for service %llu %s",
		             (unsigned long long)id, dir_name(dir));
		goto out;
	}
	if (rc || decode(out, (const unsigned char *)b.data, b.len)) {
		rc = err_set(e, ERR_STORE, "malformed health results for service %llu %s",
		             (unsigned long long)id, dir_name(dir));
		goto out;
	}
out:
	buf_release(&b);
	return rc;
}

/* Append r (without its message) to h's ring, dropping the oldest when full. */
static void history_push(struct store_health *h, const struct store_health_result *r)
{
	if (!h->history)
		h->history = xcalloc(STORE_HEALTH_HISTORY, sizeof(*h->history));
	else if (h->n < STORE_HEALTH_HISTORY)
		h->history = xrealloc(h->history, STORE_HEALTH_HISTORY * sizeof(*h->history));
	if (h->n == STORE_HEALTH_HISTORY) {
		memmove(h->history, h->history + 1, (h->n - 1) * sizeof(*h->history));
		h->n--;
	}
	struct store_health_result *slot = &h->history[h->n++];
	*slot = *r;
	memset(slot->msg, 0, sizeof(slot->msg));
}

static int journal_state(struct store_txn *t, const struct store_record *rec, int dir, int from,
                         int to, struct err *e)
{
	char *msg =
	    xasprintf("health %s/%s %s: %s -> %s", rec->host, rec->container_name, dir_name(dir),
	              store_health_state_name(from), store_health_state_name(to));
	struct store_journal_entry en = {0};
	en.kind = STORE_CHANGE_HEALTH;
	en.flags = 0; /* live state: the git mirror must not write for it */
	en.id = rec->id;
	en.author = (char *)"portolan";
	en.message = msg;
	int rc = store_journal_append(t, &en, e);
	free(msg);
	return rc;
}

int store_health_record(struct store_txn *t, uint64_t id, int dir, const char *url,
                        const struct store_health_result *r, int *state_changed, struct err *e)
{
	if (dir != STORE_HEALTH_INTERNAL && dir != STORE_HEALTH_EXTERNAL)
		return err_set(e, ERR_INVAL, "bad health direction %d", dir);
	if (!url || strlen(url) > HEALTH_URL_MAX)
		return err_set(e, ERR_INVAL, "bad health url for service %llu",
		               (unsigned long long)id);
	if (r->error < STORE_HEALTH_OK || r->error > STORE_HEALTH_OTHER)
		return err_set(e, ERR_INVAL, "bad health error %d", r->error);
	struct store_record rec;
	int rc = store_db_get(t, id, &rec, e);
	if (rc)
		return rc;
	struct store_health h = {0};
	struct buf val;
	buf_init(&val, 0);
	/* A malformed value is overwritten: one bad record must not stop checks forever. */
	if (store_health_get(t, id, dir, &h, NULL)) {
		store_health_release(&h);
		h.state = STORE_HEALTH_UNKNOWN;
	}
	int before = h.state;
	if (!h.url || strcmp(h.url, url)) {
		free(h.url);
		h.url = xstrdup(url);
		h.n = 0;
	}
	h.last = *r;
	size_t mlen = strnlen(r->msg, sizeof(r->msg) - 1);
	memset(h.last.msg, 0, sizeof(h.last.msg));
	memcpy(h.last.msg, r->msg, mlen);
	history_push(&h, r);
	h.state = store_health_state_of(r);
	encode(&h, &val);
	unsigned char key[9];
	key_of(id, dir, key);
	rc = store_live_put(t, key, sizeof(key), val.data, val.len, e);
	if (!rc && h.state != before)
		rc = journal_state(t, &rec, dir, before, h.state, e);
	if (!rc && state_changed)
		*state_changed = h.state != before;
	buf_release(&val);
	store_health_release(&h);
	store_record_release(&rec);
	return rc;
}

int store_health_forget(struct store_txn *t, uint64_t id, struct err *e)
{
	for (int dir = STORE_HEALTH_INTERNAL; dir <= STORE_HEALTH_EXTERNAL; dir++) {
		unsigned char key[9];
		key_of(id, dir, key);
		int rc = store_live_del(t, key, sizeof(key), e);
		if (rc && rc != ERR_NOTFOUND)
			return rc;
	}
	return 0;
}

void store_health_release(struct store_health *h)
{
	if (!h)
		return;
	free(h->url);
	free(h->history);
	memset(h, 0, sizeof(*h));
}

double store_health_uptime(const struct store_health *h)
{
	if (!h->n)
		return -1;
	size_t up = 0;
	for (size_t i = 0; i < h->n; i++)
		up += store_health_state_of(&h->history[i]) == STORE_HEALTH_UP;
	return 100.0 * (double)up / (double)h->n;
}

/* A string as JSON; bytes that are not valid UTF-8 (a curl message) become '?'. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

static json_t *error_json(int error)
{
	const char *name = store_health_error_name(error);
	return name ? json_string(name) : json_null();
}

static json_t *iso_time(int64_t at)
{
	time_t tt = (time_t)at;
	struct tm tm;
	char s[32];
	if (!at || !gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(s);
}

json_t *store_health_to_json(const struct store_health *h, int with_history)
{
	double uptime = store_health_uptime(h);
	json_t *j = json_object();
	json_object_set_new(j, "url", h->url ? text_json(h->url) : json_null());
	json_object_set_new(j, "state", json_string(store_health_state_name(h->state)));
	json_object_set_new(j, "status",
	                    h->last.status ? json_integer(h->last.status) : json_null());
	json_object_set_new(j, "ms", json_integer(h->last.ms));
	json_object_set_new(j, "error", error_json(h->last.error));
	json_object_set_new(j, "message", h->last.msg[0] ? text_json(h->last.msg) : json_null());
	json_object_set_new(j, "checked_at", iso_time(h->last.at));
	json_object_set_new(j, "uptime", uptime < 0 ? json_null() : json_real(uptime));
	if (!with_history)
		return j;
	json_t *hist = json_array();
	for (size_t i = 0; i < h->n; i++) {
		const struct store_health_result *r = &h->history[i];
		json_array_append_new(
		    hist, json_pack("{s:I,s:o,s:i,s:o}", "at", (json_int_t)r->at, "status",
		                    r->status ? json_integer(r->status) : json_null(), "ms", r->ms,
		                    "error", error_json(r->error)));
	}
	json_object_set_new(j, "history", hist);
	return j;
}
