/*
 * Login throttling (daemon/throttle.h): the failure limit, the lockout and
 * its end, the sliding window, independent addresses, the bounded
 * table and its eviction order, long addresses, concurrent use.
 * Run one case: ./test_throttle.t <name-glob>.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/throttle.h"

#define T0 1700000000

static struct throttle *fresh(void)
{
	return throttle_new(THROTTLE_MAX_FAILURES, THROTTLE_WINDOW_S, THROTTLE_LOCKOUT_S,
	                    THROTTLE_MAX_ENTRIES);
}

static void tenth_failure_locks(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	int64_t retry = -1;
	for (int i = 0; i < 9; i++) {
		assert_int_equal(throttle_fail(t, "192.0.2.1", T0 + i), 0);
		assert_int_equal(throttle_check(t, "192.0.2.1", T0 + i, &retry), 0);
	}
	assert_int_equal(retry, -1); /* untouched while not locked */
	assert_int_equal(throttle_fail(t, "192.0.2.1", T0 + 9), 1);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 9, &retry), 1);
	assert_int_equal(retry, 900);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 109, &retry), 1);
	assert_int_equal(retry, 800);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 9, NULL), 1);
	/* Failing while locked does not extend the lockout. */
	assert_int_equal(throttle_fail(t, "192.0.2.1", T0 + 500), 1);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 500, &retry), 1);
	assert_int_equal(retry, 409);
	throttle_free(t);
}

static void lockout_ends(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	int64_t retry = -1;
	for (int i = 0; i < 10; i++)
		throttle_fail(t, "2001:db8::1", T0);
	assert_int_equal(throttle_check(t, "2001:db8::1", T0 + 899, &retry), 1);
	assert_int_equal(retry, 1);
	assert_int_equal(throttle_check(t, "2001:db8::1", T0 + 900, &retry), 0);
	/* After a lockout the count starts afresh. */
	for (int i = 0; i < 9; i++)
		assert_int_equal(throttle_fail(t, "2001:db8::1", T0 + 900 + i), 0);
	assert_int_equal(throttle_check(t, "2001:db8::1", T0 + 910, NULL), 0);
	assert_int_equal(throttle_fail(t, "2001:db8::1", T0 + 910), 1);
	assert_int_equal(throttle_check(t, "2001:db8::1", T0 + 910, &retry), 1);
	assert_int_equal(retry, 900);
	throttle_free(t);
}

static void window_slides(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	/* Nine failures 100 s apart: T0 .. T0+800. */
	for (int i = 0; i < 9; i++)
		assert_int_equal(throttle_fail(t, "192.0.2.7", T0 + 100 * i), 0);
	/* At T0+900 the first is a full window old and no longer counts. */
	assert_int_equal(throttle_fail(t, "192.0.2.7", T0 + 900), 0);
	assert_int_equal(throttle_check(t, "192.0.2.7", T0 + 900, NULL), 0);
	/* Ten within the window (T0+100 .. T0+901) lock. */
	assert_int_equal(throttle_fail(t, "192.0.2.7", T0 + 901), 1);
	throttle_free(t);

	/* Guessing slower than max_failures per window never locks. */
	t = fresh();
	for (int i = 0; i < 100; i++)
		assert_int_equal(throttle_fail(t, "192.0.2.8", T0 + 101 * i), 0);
	throttle_free(t);
}

static void addresses_independent(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	for (int i = 0; i < 10; i++)
		throttle_fail(t, "192.0.2.1", T0);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0, NULL), 1);
	assert_int_equal(throttle_check(t, "192.0.2.2", T0, NULL), 0);
	assert_int_equal(throttle_fail(t, "192.0.2.2", T0), 0);
	assert_int_equal(throttle_check(t, "", T0, NULL), 0);
	assert_int_equal(throttle_check(t, NULL, T0, NULL), 0);
	throttle_free(t);
}

static void table_bounded(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	char ip[64];
	for (int i = 0; i < 3 * THROTTLE_MAX_ENTRIES; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
		throttle_fail(t, ip, T0 + i);
		assert_true(throttle_size(t) <= THROTTLE_MAX_ENTRIES);
	}
	assert_int_equal(throttle_size(t), THROTTLE_MAX_ENTRIES);
	throttle_free(t);
}

static void eviction_takes_oldest(void **state)
{
	(void)state;
	/* Two failures lock; room for three addresses. */
	struct throttle *t = throttle_new(2, 900, 900, 3);
	throttle_fail(t, "a", T0 + 1);
	throttle_fail(t, "b", T0 + 2);
	throttle_fail(t, "c", T0 + 3);
	assert_int_equal(throttle_fail(t, "a", T0 + 4), 1); /* a is now the most recent */
	assert_int_equal(throttle_fail(t, "d", T0 + 5), 0); /* evicts b, the oldest */
	assert_int_equal(throttle_size(t), 3);
	assert_int_equal(throttle_check(t, "a", T0 + 5, NULL), 1);
	/* b was forgotten: its next failure is its first (and evicts c). */
	assert_int_equal(throttle_fail(t, "b", T0 + 6), 0);
	assert_int_equal(throttle_fail(t, "b", T0 + 7), 1);
	/* c was evicted, d was not. */
	assert_int_equal(throttle_fail(t, "c", T0 + 8), 0); /* evicts a (last active T0+4) */
	assert_int_equal(throttle_fail(t, "d", T0 + 9), 1);
	assert_int_equal(throttle_check(t, "a", T0 + 9, NULL), 0);
	throttle_free(t);
}

static void long_address_truncated(void **state)
{
	(void)state;
	struct throttle *t = fresh();
	char a[101], b[101];
	memset(a, 'f', 100);
	a[100] = '\0';
	memcpy(b, a, sizeof(a));
	b[99] = 'e'; /* differs after the first 63 characters only */
	for (int i = 0; i < 9; i++)
		throttle_fail(t, a, T0);
	assert_int_equal(throttle_fail(t, b, T0), 1);
	assert_int_equal(throttle_check(t, a, T0, NULL), 1);
	assert_int_equal(throttle_size(t), 1);
	a[THROTTLE_IP_MAX - 1] = 'e'; /* within the key: another address */
	assert_int_equal(throttle_check(t, a, T0, NULL), 0);
	throttle_free(t);
}

struct worker {
	struct throttle *t;
	int id;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	char ip[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", w->id, i % 300);
		throttle_fail(w->t, ip, T0 + i);
		throttle_check(w->t, ip, T0 + i, NULL);
	}
	return NULL;
}

static void concurrent_use(void **state)
{
	(void)state;
	struct throttle *t = throttle_new(10, 900, 900, 256);
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){t, i};
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_true(throttle_size(t) <= 256);
	throttle_free(t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tenth_failure_locks),    cmocka_unit_test(lockout_ends),
	    cmocka_unit_test(window_slides),          cmocka_unit_test(addresses_independent),
	    cmocka_unit_test(table_bounded),          cmocka_unit_test(eviction_takes_oldest),
	    cmocka_unit_test(long_address_truncated), cmocka_unit_test(concurrent_use),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
