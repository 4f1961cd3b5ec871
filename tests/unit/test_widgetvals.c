/*
 * Widget values (store/widgetvals.h) on a real store in a temporary
 * directory: record/state/history round trip, stale marking, errors that
 * keep the value, non-integral values, out-of-order and same-second
 * samples, forget, prune on the day boundary, persistence across a reopen,
 * name and message checks, the change flag, deleting the service.
 * Run one case: ./test_widgetvals.t <name-glob>.
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
#include "../../store/ops.h"
#include "../../store/record.h"
#include "../../store/widgetkey.h"
#include "../../store/widgetvals.h"

#define DAY 86400
#define T0  1700006400 /* 2023-11-15T00:00:00Z, a day boundary */

struct fx {
	char tmp[64];
	char dir[128];
	struct store_db *db;
	struct store_txn *t; /* open write txn, aborted by teardown if left */
	struct err e;
	json_t *j; /* released by teardown */
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
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-widgetvals-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/services.lmdb", f->tmp);
	if (store_db_open(&f->db, f->dir, &f->e) || store_txn_begin(f->db, 1, &f->t, &f->e))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	json_decref(f->j);
	store_txn_abort(f->t);
	store_db_close(f->db);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	OK(f, store_txn_commit(f->t, &f->e));
	f->t = NULL;
	store_db_close(f->db);
	OK(f, store_db_open(&f->db, f->dir, &f->e));
	OK(f, store_txn_begin(f->db, 1, &f->t, &f->e));
}

static int rec(struct fx *f, uint64_t id, const char *field, int64_t when, double v)
{
	int changed = -1;
	OK(f, store_widget_record(f->t, id, field, when, v, &changed, &f->e));
	assert_true(changed == 0 || changed == 1);
	return changed;
}

static json_t *field_state(struct fx *f, uint64_t id, const char *field)
{
	json_decref(f->j);
	f->j = NULL;
	OK(f, store_widget_state(f->t, id, &f->j, &f->e));
	return json_object_get(json_object_get(f->j, "fields"), field);
}

static json_t *history(struct fx *f, uint64_t id, const char *field, int64_t since)
{
	json_decref(f->j);
	f->j = NULL;
	OK(f, store_widget_history(f->t, id, field, since, &f->j, &f->e));
	return field ? json_object_get(f->j, field) : f->j;
}

/* The history list of field equals the n (time, value) pairs given. */
static void assert_series(json_t *list, const int64_t *ts, const double *vs, size_t n)
{
	assert_non_null(list);
	if (json_array_size(list) != n)
		fail_msg("history has %zu points, want %zu", json_array_size(list), n);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(list, i);
		assert_int_equal(json_integer_value(json_array_get(p, 0)), ts[i]);
		if (json_number_value(json_array_get(p, 1)) != vs[i])
			fail_msg("point %zu: %.17g, want %.17g", i,
			         json_number_value(json_array_get(p, 1)), vs[i]);
	}
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rec(f, 7, "queries", T0 + 900, 120), 1);
	assert_int_equal(rec(f, 7, "queries", T0 + 1800, 125), 1);
	assert_int_equal(rec(f, 7, "queries", T0 + 2700, 125), 0); /* same value: no re-render */
	rec(f, 7, "blocked", T0 + 900, 3);
	rec(f, 8, "queries", T0 + 900, 999); /* another service stays apart */

	json_t *s = field_state(f, 7, "queries");
	assert_non_null(s);
	assert_true(json_is_integer(json_object_get(s, "value")));
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 125);
	assert_string_equal(json_string_value(json_object_get(s, "at")), "2023-11-15T00:45:00Z");
	assert_true(json_is_null(json_object_get(s, "error")));
	assert_true(json_is_false(json_object_get(s, "stale")));
	assert_int_equal(json_object_size(json_object_get(f->j, "fields")), 2);

	int64_t ts[] = {T0 + 900, T0 + 1800, T0 + 2700};
	double vs[] = {120, 125, 125};
	assert_series(history(f, 7, "queries", 0), ts, vs, 3);
	assert_series(history(f, 7, "queries", T0 + 1800), ts + 1, vs + 1, 2);
	json_t *all = history(f, 7, NULL, 0);
	assert_int_equal(json_object_size(all), 2);
	assert_int_equal(json_array_size(json_object_get(all, "blocked")), 1);
	/* A field with nothing, and a service with nothing. */
	assert_int_equal(json_array_size(history(f, 7, "nothing", 0)), 0);
	assert_int_equal(json_object_size(history(f, 99, NULL, 0)), 0);
	assert_null(field_state(f, 99, "queries"));
	assert_int_equal(json_object_size(json_object_get(f->j, "fields")), 0);
}

static void spans_days(void **state)
{
	struct fx *f = *state;
	int64_t ts[8 * 96];
	double vs[8 * 96];
	size_t n = 0;
	for (int64_t t = T0 - 3 * DAY; t < T0 + 5 * DAY; t += 900, n++) {
		ts[n] = t;
		vs[n] = (double)(1000 + (n % 17) * 3 - (n % 5));
		rec(f, 1, "load", t, vs[n]);
	}
	assert_series(history(f, 1, "load", 0), ts, vs, n);
	/* The last 7 days: starts mid-series. */
	int64_t since = T0 + 5 * DAY - 7 * DAY;
	size_t skip = (size_t)((since - ts[0]) / 900);
	assert_series(history(f, 1, "load", since), ts + skip, vs + skip, n - skip);
}

static void non_integral(void **state)
{
	struct fx *f = *state;
	double vs[] = {45.3,         45.25, -0.125, 0.1 + 0.2, 1e300,  -3,  1.5e-9,
	               12345678.901, 1e15,  3.0,    -45.3,     4.0e15, 2.5, 9007199254740993.0,
	               -1e-300};
	int64_t ts[sizeof(vs) / sizeof(*vs)];
	for (size_t i = 0; i < sizeof(vs) / sizeof(*vs); i++) {
		ts[i] = T0 + (int64_t)i * 60;
		rec(f, 3, "temp_c", ts[i], vs[i]);
	}
	reopen(f);
	assert_series(history(f, 3, "temp_c", 0), ts, vs, sizeof(vs) / sizeof(*vs));
	json_t *s = field_state(f, 3, "temp_c");
	assert_true(json_is_real(json_object_get(s, "value")));
	assert_true(json_real_value(json_object_get(s, "value")) == -1e-300);
	/* A non-finite value is refused and changes nothing. */
	assert_int_equal(store_widget_record(f->t, 3, "temp_c", T0 + DAY, 1.0 / 0.0, NULL, &f->e),
	                 ERR_INVAL);
	assert_int_equal(json_array_size(history(f, 3, "temp_c", 0)), sizeof(vs) / sizeof(*vs));
}

static void errors_keep_value(void **state)
{
	struct fx *f = *state;
	int ch = -1;
	rec(f, 5, "queries", T0, 42);
	OK(f, store_widget_record_error(f->t, 5, "queries", T0 + 900, "timeout",
	                                "no answer in 10 s", &ch, &f->e));
	assert_int_equal(ch, 1);
	json_t *s = field_state(f, 5, "queries");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 42);
	assert_string_equal(json_string_value(json_object_get(s, "at")), "2023-11-15T00:00:00Z");
	assert_true(json_is_true(json_object_get(s, "stale")));
	json_t *err = json_object_get(s, "error");
	assert_string_equal(json_string_value(json_object_get(err, "class")), "timeout");
	assert_string_equal(json_string_value(json_object_get(err, "message")),
	                    "no answer in 10 s");
	assert_string_equal(json_string_value(json_object_get(err, "at")), "2023-11-15T00:15:00Z");

	/* The same error again is no change; another message is. */
	OK(f, store_widget_record_error(f->t, 5, "queries", T0 + 1800, "timeout",
	                                "no answer in 10 s", &ch, &f->e));
	assert_int_equal(ch, 0);
	OK(f, store_widget_record_error(f->t, 5, "queries", T0 + 2700, "auth", "401", &ch, &f->e));
	assert_int_equal(ch, 1);
	/* An error older than the newest one is ignored. */
	OK(f, store_widget_record_error(f->t, 5, "queries", T0 + 100, "dns", "x", &ch, &f->e));
	assert_int_equal(ch, 0);
	/* Errors are not samples. */
	assert_int_equal(json_array_size(history(f, 5, "queries", 0)), 1);

	/* A newer good sample, even with the same value, clears the staleness. */
	assert_int_equal(rec(f, 5, "queries", T0 + 3600, 42), 1);
	s = field_state(f, 5, "queries");
	assert_true(json_is_false(json_object_get(s, "stale")));
	assert_true(json_is_null(json_object_get(s, "error")));
	/* An error older than the value does not mark it stale. */
	OK(f, store_widget_record_error(f->t, 5, "queries", T0 + 3000, "dns", "x", &ch, &f->e));
	assert_int_equal(ch, 0);
	assert_true(json_is_false(json_object_get(field_state(f, 5, "queries"), "stale")));

	/* An error before any value: null value, stale. */
	OK(f, store_widget_record_error(f->t, 5, "fresh", T0, "parse", "bad json", &ch, &f->e));
	s = field_state(f, 5, "fresh");
	assert_true(json_is_null(json_object_get(s, "value")));
	assert_true(json_is_null(json_object_get(s, "at")));
	assert_true(json_is_true(json_object_get(s, "stale")));
	assert_int_equal(json_array_size(history(f, 5, "fresh", 0)), 0);
}

static void same_second_and_out_of_order(void **state)
{
	struct fx *f = *state;
	rec(f, 2, "n", T0 + 600, 6);
	rec(f, 2, "n", T0 + 300, 3);
	/* Older than the newest: stored in place, the state keeps the newest. */
	assert_int_equal(rec(f, 2, "n", T0 + 100, 1), 0);
	assert_int_equal(rec(f, 2, "n", T0 - 100, -1), 0); /* the day before */
	/* Same second as the newest: replaces it. */
	assert_int_equal(rec(f, 2, "n", T0 + 600, 7), 1);
	/* Same second as an older one: replaces that one only. */
	rec(f, 2, "n", T0 + 300, 4);
	int64_t ts[] = {T0 - 100, T0 + 100, T0 + 300, T0 + 600};
	double vs[] = {-1, 1, 4, 7};
	assert_series(history(f, 2, "n", 0), ts, vs, 4);
	json_t *s = field_state(f, 2, "n");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 7);
	/* At the same second, an error recorded after a value wins and vice versa. */
	int ch;
	OK(f, store_widget_record_error(f->t, 2, "n", T0 + 600, "http", "503", &ch, &f->e));
	assert_true(json_is_true(json_object_get(field_state(f, 2, "n"), "stale")));
	assert_int_equal(rec(f, 2, "n", T0 + 600, 7), 1);
	assert_true(json_is_false(json_object_get(field_state(f, 2, "n"), "stale")));
	/* Midnight and the last second of a day land in their own days. */
	rec(f, 2, "edge", T0 - 1, 1);
	rec(f, 2, "edge", T0, 2);
	rec(f, 2, "edge", 0, 0);
	int64_t ets[] = {0, T0 - 1, T0};
	double evs[] = {0, 1, 2};
	assert_series(history(f, 2, "edge", 0), ets, evs, 3);
}

static void forget(void **state)
{
	struct fx *f = *state;
	for (int d = 0; d < 5; d++) {
		rec(f, 10, "a", T0 + d * DAY, d);
		rec(f, 10, "b", T0 + d * DAY, d);
		rec(f, 11, "a", T0 + d * DAY, d);
		rec(f, 9, "a", T0 + d * DAY, d);
	}
	OK(f, store_widget_record_error(f->t, 10, "c", T0, "http", "500", NULL, &f->e));
	OK(f, store_widget_forget(f->t, 10, &f->e));
	assert_null(field_state(f, 10, "a"));
	assert_int_equal(json_object_size(json_object_get(f->j, "fields")), 0);
	assert_int_equal(json_object_size(history(f, 10, NULL, 0)), 0);
	assert_int_equal(json_array_size(history(f, 10, "a", 0)), 0);
	/* Neighbours on both sides are untouched. */
	assert_int_equal(json_array_size(history(f, 11, "a", 0)), 5);
	assert_int_equal(json_array_size(history(f, 9, "a", 0)), 5);
	OK(f, store_widget_forget(f->t, 10, &f->e)); /* again: fine */
	OK(f, store_widget_forget(f->t, UINT64_MAX, &f->e));
}

static void ops_delete_forgets(void **state)
{
	struct fx *f = *state;
	struct store_record r;
	store_record_init(&r);
	r.id = 12;
	r.host = strdup("docker01");
	r.container_name = strdup("pihole");
	OK(f, store_db_put(f->t, &r, &f->e));
	store_record_release(&r);
	unsigned char key[crypto_secretbox_KEYBYTES] = {1};
	rec(f, 12, "queries", T0, 5);
	OK(f, store_widget_key_put(f->t, 12, "secret-token", key, &f->e));
	OK(f, store_ops_delete(f->t, 12, "alice", &f->e));
	assert_int_equal(json_object_size(history(f, 12, NULL, 0)), 0);
	assert_int_equal(store_widget_key_isset(f->t, 12), 0);
}

static void prune_day_boundary(void **state)
{
	struct fx *f = *state;
	/* Day -2 and day -1 end at T0 - DAY and T0. */
	rec(f, 1, "a", T0 - 2 * DAY + 10, 1);
	rec(f, 1, "a", T0 - DAY + 10, 2);
	rec(f, 1, "a", T0 - 1, 3);
	rec(f, 1, "a", T0 + 10, 4);
	rec(f, 2, "old", T0 - 2 * DAY, 5); /* nothing newer: its state goes too */
	OK(f, store_widget_record_error(f->t, 3, "err", T0 - 2 * DAY, "x", "y", NULL, &f->e));
	rec(f, 4, "kept", T0 - 2 * DAY, 6); /* value old but a recent error keeps the state */
	OK(f, store_widget_record_error(f->t, 4, "kept", T0 + 5, "x", "y", NULL, &f->e));

	size_t removed = 99;
	/* Inside day -1: only day -2 has ended. */
	OK(f, store_widget_prune(f->t, T0 - 1, &removed, &f->e));
	assert_int_equal(removed, 3 + 2); /* 3 chunks of day -2, the states of "old" and "err" */
	int64_t ts[] = {T0 - DAY + 10, T0 - 1, T0 + 10};
	double vs[] = {2, 3, 4};
	assert_series(history(f, 1, "a", 0), ts, vs, 3);
	assert_null(field_state(f, 2, "old"));
	assert_null(field_state(f, 3, "err"));
	json_t *s = field_state(f, 4, "kept");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 6);
	assert_int_equal(json_array_size(history(f, 4, "kept", 0)), 0);

	/* Exactly at the end of day -1: it goes. */
	OK(f, store_widget_prune(f->t, T0, &removed, &f->e));
	assert_int_equal(removed, 1);
	assert_series(history(f, 1, "a", 0), ts + 2, vs + 2, 1);
	OK(f, store_widget_prune(f->t, T0, &removed, &f->e));
	assert_int_equal(removed, 0);
	OK(f, store_widget_prune(f->t, -5, NULL, &f->e));
	assert_int_equal(json_integer_value(json_object_get(field_state(f, 1, "a"), "value")), 4);
}

static void persists(void **state)
{
	struct fx *f = *state;
	rec(f, 1, "a", T0, 1.5);
	OK(f, store_widget_record_error(f->t, 1, "a", T0 + 60, "tls", "bad cert", NULL, &f->e));
	reopen(f);
	json_t *s = field_state(f, 1, "a");
	assert_true(json_real_value(json_object_get(s, "value")) == 1.5);
	assert_true(json_is_true(json_object_get(s, "stale")));
	/* Not part of the inventory: a rebuild keeps it. */
	OK(f, store_db_clear_inventory(f->t, &f->e));
	assert_int_equal(json_array_size(history(f, 1, "a", 0)), 1);
}

static void bad_input(void **state)
{
	struct fx *f = *state;
	const char *bad[] = {
	    "",    "Queries", "a-b",
	    "a b", "ä",       "a.b",
	    "x\n", NULL,      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(store_widget_record(f->t, 1, bad[i], T0, 1, NULL, &f->e),
		                 ERR_INVAL);
		assert_int_equal(
		    store_widget_record_error(f->t, 1, bad[i], T0, "x", "y", NULL, &f->e),
		    ERR_INVAL);
		assert_int_equal(
		    store_widget_record_error(f->t, 1, "ok", T0, bad[i], "y", NULL, &f->e),
		    ERR_INVAL);
	}
	assert_int_equal(
	    store_widget_check_field(
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &f->e),
	    0); /* 64 */
	assert_int_equal(store_widget_record(f->t, 1, "a", -1, 1, NULL, &f->e), ERR_INVAL);
	assert_int_equal(store_widget_history(f->t, 1, "A", 0, &f->j, &f->e), ERR_INVAL);
	assert_int_equal(json_object_size(history(f, 1, NULL, 0)), 0);
}

static void message_cleaned(void **state)
{
	struct fx *f = *state;
	char longmsg[600];
	memset(longmsg, 'x', sizeof(longmsg));
	memcpy(longmsg + 255, "\xc3\xa9", 2); /* é straddling the 256-byte cut */
	longmsg[sizeof(longmsg) - 1] = '\0';
	OK(f, store_widget_record_error(f->t, 1, "a", T0, "http",
	                                "bad\r\nline \xff\xfe caf\xc3\xa9", NULL, &f->e));
	json_t *err = json_object_get(field_state(f, 1, "a"), "error");
	assert_string_equal(json_string_value(json_object_get(err, "message")),
	                    "bad  line ?? caf\xc3\xa9");
	OK(f, store_widget_record_error(f->t, 1, "a", T0 + 1, "http", longmsg, NULL, &f->e));
	err = json_object_get(field_state(f, 1, "a"), "error");
	assert_int_equal(strlen(json_string_value(json_object_get(err, "message"))), 255);
	OK(f, store_widget_record_error(f->t, 1, "a", T0 + 2, "http", NULL, NULL, &f->e));
	err = json_object_get(field_state(f, 1, "a"), "error");
	assert_string_equal(json_string_value(json_object_get(err, "message")), "");
}

static void malformed_chunk(void **state)
{
	struct fx *f = *state;
	rec(f, 1, "a", T0, 1);
	unsigned char k[] = {'d', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a'};
	uint32_t day = T0 / DAY;
	k[1] = (unsigned char)(day >> 24);
	k[2] = (unsigned char)(day >> 16);
	k[3] = (unsigned char)(day >> 8);
	k[4] = (unsigned char)day;
	OK(f, store_kv_put(f->t, STORE_KV_WIDGETVALS, k, sizeof(k), "\x01\xff", 2, &f->e));
	assert_int_equal(store_widget_history(f->t, 1, "a", 0, &f->j, &f->e), ERR_STORE);
	assert_int_equal(store_widget_record(f->t, 1, "a", T0 + 1, 1, NULL, &f->e), ERR_STORE);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(spans_days, setup, teardown),
	    cmocka_unit_test_setup_teardown(non_integral, setup, teardown),
	    cmocka_unit_test_setup_teardown(errors_keep_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(same_second_and_out_of_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(ops_delete_forgets, setup, teardown),
	    cmocka_unit_test_setup_teardown(prune_day_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(persists, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(message_cleaned, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_chunk, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
