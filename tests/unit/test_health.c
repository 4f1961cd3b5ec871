/*
 * URL health results (store/health.h) on a real store in a temporary
 * directory: the round trip, the ring, url changes, state transitions and
 * their journal entries, forgetting, the JSON shape and malformed values.
 * Run one case: ./test_health.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../store/db.h"
#include "../../store/health.h"
#include "../../store/ops.h"
#include "../../store/record.h"

#define T0 1700000000
#define AT 1795455600 /* 2026-11-23T17:40:00Z */

struct fx {
	char tmp[64];
	char dir[128];
	struct store_db *db;
	struct store_txn *t; /* open txn, aborted by teardown if left */
	struct err e;
	struct store_health h; /* released by teardown */
};

#define OK(f, call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s: %d %s", #call, rc_, (f)->e.msg);                             \
	} while (0)

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-health-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/services.lmdb", f->tmp);
	if (store_db_open(&f->db, f->dir, &f->e))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_health_release(&f->h);
	store_txn_abort(f->t);
	store_db_close(f->db);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

static void begin(struct fx *f, int write)
{
	assert_null(f->t);
	if (store_txn_begin(f->db, write, &f->t, &f->e))
		fail_msg("begin: %s", f->e.msg);
}

static void commit(struct fx *f)
{
	struct store_txn *t = f->t;
	f->t = NULL;
	if (store_txn_commit(t, &f->e))
		fail_msg("commit: %s", f->e.msg);
}

static void abort_txn(struct fx *f)
{
	store_txn_abort(f->t);
	f->t = NULL;
}

static void put_service(struct fx *f, uint64_t id, const char *host, const char *name)
{
	struct store_record r;
	store_record_init(&r);
	r.id = id;
	r.host = strdup(host);
	r.container_name = strdup(name);
	int rc = store_db_put(f->t, &r, &f->e);
	store_record_release(&r);
	if (rc)
		fail_msg("put: %s", f->e.msg);
}

static struct store_health_result result(int64_t at, int status, int ms, int error, const char *msg)
{
	struct store_health_result r;
	memset(&r, 0, sizeof(r));
	r.at = at;
	r.status = status;
	r.ms = ms;
	r.error = error;
	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	return r;
}

/* Record one result in its own write txn; returns *state_changed. */
static int record(struct fx *f, uint64_t id, int dir, const char *url, int64_t at, int status,
                  int error)
{
	struct store_health_result r = result(at, status, 42, error, error ? "boom" : NULL);
	int changed = -1;
	begin(f, 1);
	OK(f, store_health_record(f->t, id, dir, url, &r, &changed, &f->e));
	commit(f);
	assert_true(changed == 0 || changed == 1);
	return changed;
}

static int get(struct fx *f, uint64_t id, int dir)
{
	store_health_release(&f->h);
	begin(f, 0);
	int rc = store_health_get(f->t, id, dir, &f->h, &f->e);
	abort_txn(f);
	return rc;
}

struct health_entries {
	size_t n;       /* STORE_CHANGE_HEALTH entries */
	size_t total;   /* all entries */
	int bad_flags;  /* a health entry with the inventory flag */
	char last[256]; /* message of the last health entry */
	uint64_t last_id;
	char author[64];
};

static int count_health(const struct store_journal_entry *en, void *arg)
{
	struct health_entries *he = arg;
	he->total++;
	if (en->kind != STORE_CHANGE_HEALTH)
		return 0;
	he->n++;
	if (en->flags & STORE_JOURNAL_INVENTORY)
		he->bad_flags = 1;
	snprintf(he->last, sizeof(he->last), "%s", en->message ? en->message : "");
	snprintf(he->author, sizeof(he->author), "%s", en->author ? en->author : "");
	he->last_id = en->id;
	return 0;
}

static struct health_entries journal(struct fx *f)
{
	struct health_entries he;
	memset(&he, 0, sizeof(he));
	begin(f, 0);
	OK(f, store_journal_read(f->t, 0, 100000, count_health, &he, &f->e));
	abort_txn(f);
	return he;
}

static void setup_service(struct fx *f)
{
	begin(f, 1);
	put_service(f, 7, "docker01", "nginx");
	commit(f);
}

/* ------------------------------------------------------------------ */

static void record_get_round_trip(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	assert_int_equal(get(f, 7, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	struct store_health_result r = result(T0, 0, 1234, STORE_HEALTH_TIMEOUT, "timed out");
	int changed = -1;
	begin(f, 1);
	OK(f, store_health_record(f->t, 7, STORE_HEALTH_EXTERNAL, "https://nginx.example/", &r,
	                          &changed, &f->e));
	commit(f);
	assert_int_equal(changed, 1);
	OK(f, get(f, 7, STORE_HEALTH_EXTERNAL));
	assert_string_equal(f->h.url, "https://nginx.example/");
	assert_int_equal(f->h.state, STORE_HEALTH_DOWN);
	assert_int_equal(f->h.last.at, T0);
	assert_int_equal(f->h.last.status, 0);
	assert_int_equal(f->h.last.ms, 1234);
	assert_int_equal(f->h.last.error, STORE_HEALTH_TIMEOUT);
	assert_string_equal(f->h.last.msg, "timed out");
	assert_int_equal(f->h.n, 1);
	assert_int_equal(f->h.history[0].at, T0);
	assert_int_equal(f->h.history[0].ms, 1234);
	assert_int_equal(f->h.history[0].error, STORE_HEALTH_TIMEOUT);
	assert_string_equal(f->h.history[0].msg, "");
	/* The other direction is separate. */
	assert_int_equal(get(f, 7, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	/* A NULL state_changed is fine. */
	r = result(T0 + 300, 200, 5, STORE_HEALTH_OK, NULL);
	begin(f, 1);
	OK(f, store_health_record(f->t, 7, STORE_HEALTH_EXTERNAL, "https://nginx.example/", &r,
	                          NULL, &f->e));
	commit(f);
	OK(f, get(f, 7, STORE_HEALTH_EXTERNAL));
	assert_int_equal(f->h.state, STORE_HEALTH_UP);
	assert_int_equal(f->h.last.status, 200);
	assert_string_equal(f->h.last.msg, "");
	assert_int_equal(f->h.n, 2);
}

static void transitions_journal_once(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	const char *u = "http://nginx.lan/";
	struct health_entries he = journal(f);
	size_t base_total = he.total;
	assert_int_equal(he.n, 0);

	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0, 200, 0), 1);
	he = journal(f);
	assert_int_equal(he.n, 1);
	assert_string_equal(he.last, "health docker01/nginx internal: unknown -> up");
	assert_string_equal(he.author, "portolan");
	assert_int_equal(he.last_id, 7);

	/* Same state: nothing journalled. 301 is still up. */
	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0 + 1, 301, 0), 0);
	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0 + 2, 204, 0), 0);
	assert_int_equal(journal(f).n, 1);

	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0 + 3, 503, 0), 1);
	he = journal(f);
	assert_int_equal(he.n, 2);
	assert_string_equal(he.last, "health docker01/nginx internal: up -> down");
	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0 + 4, 0, STORE_HEALTH_DNS), 0);
	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, u, T0 + 5, 0, STORE_HEALTH_TLS), 1);
	he = journal(f);
	assert_int_equal(he.n, 3);
	assert_string_equal(he.last, "health docker01/nginx internal: down -> degraded");
	assert_int_equal(record(f, 7, STORE_HEALTH_EXTERNAL, "https://x/", T0 + 6, 200, 0), 1);
	he = journal(f);
	assert_int_equal(he.n, 4);
	assert_string_equal(he.last, "health docker01/nginx external: unknown -> up");
	assert_int_equal(he.total - base_total, 4);
	assert_int_equal(he.bad_flags, 0);
}

static void ring_keeps_last(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	begin(f, 1);
	for (int i = 0; i < 300; i++) {
		/* Every third down: the states alternate, all in one txn. */
		struct store_health_result r =
		    result(T0 + i, i % 3 == 2 ? 500 : 200, i, STORE_HEALTH_OK, NULL);
		OK(f, store_health_record(f->t, 7, STORE_HEALTH_INTERNAL, "http://a/", &r, NULL,
		                          &f->e));
	}
	commit(f);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));
	assert_int_equal(f->h.n, STORE_HEALTH_HISTORY);
	for (size_t i = 0; i < f->h.n; i++) {
		assert_int_equal(f->h.history[i].at, T0 + 12 + (int64_t)i);
		assert_int_equal(f->h.history[i].ms, 12 + (int)i);
	}
	assert_int_equal(f->h.last.at, T0 + 299);
	/* 288 kept results from 12..299: those with i % 3 == 2 are down (96). */
	assert_true(store_health_uptime(&f->h) > 66.66 && store_health_uptime(&f->h) < 66.67);
}

static void url_change_restarts(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	for (int i = 0; i < 5; i++)
		record(f, 7, STORE_HEALTH_INTERNAL, "http://old/", T0 + i, 200, 0);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));
	assert_int_equal(f->h.n, 5);
	/* Still up: the state did not change, so no new journal entry. */
	assert_int_equal(record(f, 7, STORE_HEALTH_INTERNAL, "http://new/", T0 + 10, 200, 0), 0);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));
	assert_string_equal(f->h.url, "http://new/");
	assert_int_equal(f->h.n, 1);
	assert_int_equal(f->h.history[0].at, T0 + 10);
	assert_int_equal(journal(f).n, 1);
}

static void unknown_service_writes_nothing(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	struct store_health_result r = result(T0, 200, 1, STORE_HEALTH_OK, NULL);
	int changed = -1;
	begin(f, 1);
	uint64_t last = store_journal_last(f->t);
	assert_int_equal(
	    store_health_record(f->t, 99, STORE_HEALTH_INTERNAL, "http://a/", &r, &changed, &f->e),
	    ERR_NOTFOUND);
	assert_int_equal(changed, -1);
	assert_int_equal(store_journal_last(f->t), last);
	/* Bad arguments are refused too. */
	assert_int_equal(store_health_record(f->t, 7, 2, "http://a/", &r, &changed, &f->e),
	                 ERR_INVAL);
	assert_int_equal(store_health_record(f->t, 7, 0, NULL, &r, &changed, &f->e), ERR_INVAL);
	r.error = 42;
	assert_int_equal(store_health_record(f->t, 7, 0, "http://a/", &r, &changed, &f->e),
	                 ERR_INVAL);
	commit(f);
	assert_int_equal(get(f, 99, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	assert_int_equal(get(f, 7, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	assert_int_equal(journal(f).n, 0);
}

static void forget_both_directions(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	begin(f, 1);
	put_service(f, 8, "docker01", "redis");
	commit(f);
	record(f, 7, STORE_HEALTH_INTERNAL, "http://a/", T0, 200, 0);
	record(f, 7, STORE_HEALTH_EXTERNAL, "https://a/", T0, 200, 0);
	record(f, 8, STORE_HEALTH_INTERNAL, "http://b/", T0, 200, 0);
	begin(f, 1);
	OK(f, store_health_forget(f->t, 7, &f->e));
	OK(f, store_health_forget(f->t, 7, &f->e)); /* missing is fine */
	OK(f, store_health_forget(f->t, 12345, &f->e));
	commit(f);
	assert_int_equal(get(f, 7, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	assert_int_equal(get(f, 7, STORE_HEALTH_EXTERNAL), ERR_NOTFOUND);
	OK(f, get(f, 8, STORE_HEALTH_INTERNAL));
}

static void ops_delete_forgets(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	record(f, 7, STORE_HEALTH_INTERNAL, "http://a/", T0, 200, 0);
	record(f, 7, STORE_HEALTH_EXTERNAL, "https://a/", T0, 0, STORE_HEALTH_REFUSED);
	begin(f, 1);
	OK(f, store_ops_delete(f->t, 7, "alice", &f->e));
	commit(f);
	assert_int_equal(get(f, 7, STORE_HEALTH_INTERNAL), ERR_NOTFOUND);
	assert_int_equal(get(f, 7, STORE_HEALTH_EXTERNAL), ERR_NOTFOUND);
	/* A check that raced the delete writes nothing. */
	struct store_health_result r = result(T0 + 1, 200, 1, STORE_HEALTH_OK, NULL);
	begin(f, 1);
	assert_int_equal(
	    store_health_record(f->t, 7, STORE_HEALTH_INTERNAL, "http://a/", &r, NULL, &f->e),
	    ERR_NOTFOUND);
	abort_txn(f);
}

static void rebuild_keeps_health(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	record(f, 7, STORE_HEALTH_INTERNAL, "http://a/", T0, 200, 0);
	begin(f, 1);
	OK(f, store_db_clear_inventory(f->t, &f->e));
	commit(f);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));
	assert_int_equal(f->h.n, 1);
}

static void json_shape(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	record(f, 7, STORE_HEALTH_INTERNAL, "http://a/", AT - 300, 200, 0);
	struct store_health_result r = result(AT, 0, 3000, STORE_HEALTH_TLS,
	                                      "SSL certificate problem: certificate has expired");
	begin(f, 1);
	OK(f, store_health_record(f->t, 7, STORE_HEALTH_INTERNAL, "http://a/", &r, NULL, &f->e));
	commit(f);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));

	json_t *j = store_health_to_json(&f->h, 0);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 8);
	assert_string_equal(json_string_value(json_object_get(j, "url")), "http://a/");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "degraded");
	assert_true(json_is_null(json_object_get(j, "status")));
	assert_int_equal(json_integer_value(json_object_get(j, "ms")), 3000);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "tls");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
	                    "SSL certificate problem: certificate has expired");
	assert_string_equal(json_string_value(json_object_get(j, "checked_at")),
	                    "2026-11-23T17:40:00Z");
	assert_true(json_is_number(json_object_get(j, "uptime")));
	assert_true(json_number_value(json_object_get(j, "uptime")) == 50.0);
	assert_null(json_object_get(j, "history"));
	json_decref(j);

	j = store_health_to_json(&f->h, 1);
	assert_int_equal(json_object_size(j), 9);
	json_t *hist = json_object_get(j, "history");
	assert_true(json_is_array(hist));
	assert_int_equal(json_array_size(hist), 2);
	json_t *h0 = json_array_get(hist, 0), *h1 = json_array_get(hist, 1);
	assert_int_equal(json_object_size(h0), 4);
	assert_int_equal(json_integer_value(json_object_get(h0, "at")), AT - 300);
	assert_int_equal(json_integer_value(json_object_get(h0, "status")), 200);
	assert_int_equal(json_integer_value(json_object_get(h0, "ms")), 42);
	assert_true(json_is_null(json_object_get(h0, "error")));
	assert_true(json_is_null(json_object_get(h1, "status")));
	assert_string_equal(json_string_value(json_object_get(h1, "error")), "tls");
	json_decref(j);

	/* An up result: status a number, error and message null. */
	record(f, 7, STORE_HEALTH_INTERNAL, "http://a/", AT + 300, 204, 0);
	OK(f, get(f, 7, STORE_HEALTH_INTERNAL));
	j = store_health_to_json(&f->h, 0);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "up");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 204);
	assert_true(json_is_null(json_object_get(j, "error")));
	assert_true(json_is_null(json_object_get(j, "message")));
	json_decref(j);

	/* Nothing recorded: uptime null, state unknown. */
	struct store_health empty;
	memset(&empty, 0, sizeof(empty));
	j = store_health_to_json(&empty, 1);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "unknown");
	assert_true(json_is_null(json_object_get(j, "uptime")));
	assert_true(json_is_null(json_object_get(j, "url")));
	assert_int_equal(json_array_size(json_object_get(j, "history")), 0);
	json_decref(j);
}

static void names_and_states(void **state)
{
	(void)state;
	assert_null(store_health_error_name(STORE_HEALTH_OK));
	assert_string_equal(store_health_error_name(STORE_HEALTH_DNS), "dns");
	assert_string_equal(store_health_error_name(STORE_HEALTH_REFUSED), "refused");
	assert_string_equal(store_health_error_name(STORE_HEALTH_TIMEOUT), "timeout");
	assert_string_equal(store_health_error_name(STORE_HEALTH_TLS), "tls");
	assert_string_equal(store_health_error_name(STORE_HEALTH_TOO_MANY_REDIRECTS),
	                    "too_many_redirects");
	assert_string_equal(store_health_error_name(STORE_HEALTH_OTHER), "other");
	assert_string_equal(store_health_error_name(99), "other");
	assert_string_equal(store_health_state_name(STORE_HEALTH_UNKNOWN), "unknown");
	assert_string_equal(store_health_state_name(STORE_HEALTH_UP), "up");
	assert_string_equal(store_health_state_name(STORE_HEALTH_DEGRADED), "degraded");
	assert_string_equal(store_health_state_name(STORE_HEALTH_DOWN), "down");
	assert_string_equal(store_health_state_name(-3), "unknown");

	struct store_health_result r = result(T0, 100, 0, STORE_HEALTH_OK, NULL);
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_UP);
	r.status = 399;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_UP);
	r.status = 400;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DOWN);
	r.status = 99;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DOWN);
	r.status = 0;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DOWN);
	r.error = STORE_HEALTH_TLS;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DEGRADED);
	r.error = STORE_HEALTH_TIMEOUT;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DOWN);
	r.status = 200;
	r.error = STORE_HEALTH_TOO_MANY_REDIRECTS;
	assert_int_equal(store_health_state_of(&r), STORE_HEALTH_DOWN);
}

static void uptime_counts_up(void **state)
{
	(void)state;
	struct store_health h;
	memset(&h, 0, sizeof(h));
	assert_true(store_health_uptime(&h) == -1);
	struct store_health_result hist[4] = {
	    result(T0, 200, 0, 0, NULL), result(T0, 500, 0, 0, NULL),
	    result(T0, 0, 0, STORE_HEALTH_TLS, NULL), result(T0, 302, 0, 0, NULL)};
	h.history = hist;
	h.n = 4;
	assert_true(store_health_uptime(&h) == 50.0);
	h.n = 1;
	assert_true(store_health_uptime(&h) == 100.0);
	h.history = hist + 1;
	assert_true(store_health_uptime(&h) == 0.0);
}

static void put_raw(struct fx *f, uint64_t id, int dir, const void *val, size_t len)
{
	unsigned char key[9];
	for (int i = 7; i >= 0; i--, id >>= 8)
		key[i] = (unsigned char)(id & 0xff);
	key[8] = (unsigned char)dir;
	begin(f, 1);
	OK(f, store_live_put(f->t, key, sizeof(key), val, len, &f->e));
	commit(f);
}

static void corrupted_value(void **state)
{
	struct fx *f = *state;
	setup_service(f);
	/* Garbage, an empty value, a future version, and a valid value cut short. */
	put_raw(f, 7, 0, "garbage!", 8);
	int rc = get(f, 7, 0);
	assert_true(rc == ERR_STORE || rc == ERR_INVAL);
	put_raw(f, 7, 0, "", 0);
	rc = get(f, 7, 0);
	assert_true(rc == ERR_STORE || rc == ERR_INVAL);

	record(f, 7, 1, "http://a/", T0, 200, 0);
	record(f, 7, 1, "http://a/", T0 + 1, 0, STORE_HEALTH_DNS);
	unsigned char key[9] = {0, 0, 0, 0, 0, 0, 0, 7, 1};
	struct buf b;
	buf_init(&b, 0);
	begin(f, 0);
	OK(f, store_live_get(f->t, key, sizeof(key), &b, &f->e));
	abort_txn(f);
	for (size_t cut = 0; cut < b.len; cut++) {
		put_raw(f, 7, 0, b.data, cut);
		rc = get(f, 7, 0);
		if (rc != ERR_STORE && rc != ERR_INVAL)
			fail_msg("value cut at %zu of %zu: rc %d", cut, b.len, rc);
	}
	/* One trailing byte too many, and a bumped version. */
	buf_addc(&b, 0);
	put_raw(f, 7, 0, b.data, b.len);
	assert_int_equal(get(f, 7, 0), ERR_STORE);
	b.len--;
	b.data[0] = 99;
	put_raw(f, 7, 0, b.data, b.len);
	assert_int_equal(get(f, 7, 0), ERR_STORE);
	/* Every single-byte flip decodes or fails cleanly (valgrind/asan check). */
	b.data[0] = 1;
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0xff;
		put_raw(f, 7, 0, b.data, b.len);
		get(f, 7, 0);
		b.data[i] ^= 0xff;
	}
	buf_release(&b);

	/* Recording over a malformed value starts afresh. */
	put_raw(f, 7, 0, "garbage!", 8);
	assert_int_equal(record(f, 7, 0, "http://a/", T0 + 2, 200, 0), 1);
	OK(f, get(f, 7, 0));
	assert_int_equal(f->h.n, 1);
	assert_int_equal(f->h.state, STORE_HEALTH_UP);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(record_get_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(transitions_journal_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(ring_keeps_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(url_change_restarts, setup, teardown),
	    cmocka_unit_test_setup_teardown(unknown_service_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(forget_both_directions, setup, teardown),
	    cmocka_unit_test_setup_teardown(ops_delete_forgets, setup, teardown),
	    cmocka_unit_test_setup_teardown(rebuild_keeps_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(json_shape, setup, teardown),
	    cmocka_unit_test(names_and_states),
	    cmocka_unit_test(uptime_counts_up),
	    cmocka_unit_test_setup_teardown(corrupted_value, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
