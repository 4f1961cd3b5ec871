/*
 * Accounts and sessions (store/users.h) on a real store in a temporary
 * directory: adding and listing users, field validation, password checks,
 * revocation, last-admin protection, the default account, the session
 * lifecycle, malformed tokens and stored values, CSRF comparison.
 * Run one case: ./test_users.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../store/db.h"
#include "../../store/users.h"

#define T0   1700000000
#define IDLE 7200

struct fx {
	char tmp[64];
	char dir[128];
	struct store_db *db;
	struct store_txn *t; /* open txn, aborted by teardown if left */
	struct err e;
	struct store_user u;    /* released by teardown */
	struct store_session s; /* released by teardown */
};

#define OK(f, call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s: %d %s", #call, rc_, (f)->e.msg);                             \
	} while (0)

/* call fails with code and a message starting with prefix. */
#define FAILS(f, code, prefix, call)                                                               \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != (code))                                                                 \
			fail_msg("%s: got %d (%s), want %d", #call, rc_, (f)->e.msg, (code));      \
		if (strncmp((f)->e.msg, (prefix), strlen(prefix)))                                 \
			fail_msg("%s: message '%s' does not start with '%s'", #call, (f)->e.msg,   \
			         (prefix));                                                        \
	} while (0)

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-users-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/services.lmdb", f->tmp);
	if (store_db_open(&f->db, f->dir, &f->e))
		return -1;
	if (store_txn_begin(f->db, 1, &f->t, &f->e))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_user_release(&f->u);
	store_session_release(&f->s);
	store_txn_abort(f->t);
	store_db_close(f->db);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

/* Commit the open write txn and open a new one (write or read). */
static void recommit(struct fx *f, int write)
{
	struct store_txn *t = f->t;
	f->t = NULL;
	if (store_txn_commit(t, &f->e))
		fail_msg("commit: %s", f->e.msg);
	if (store_txn_begin(f->db, write, &f->t, &f->e))
		fail_msg("begin: %s", f->e.msg);
}

static void add(struct fx *f, const char *name, const char *role, const char *pw, int must)
{
	OK(f, store_user_add(f->t, name, role, pw, must, T0, &f->e));
}

static int session_get(struct fx *f, const char *token, int64_t now)
{
	store_session_release(&f->s);
	return store_session_get(f->t, token, now, IDLE, &f->s, &f->e);
}

static int is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static void add_get_list(void **state)
{
	struct fx *f = *state;
	add(f, "bob", "viewer", "bobs-password", 1);
	add(f, "alice", "admin", "alices-password", 0);
	recommit(f, 0);

	OK(f, store_user_get(f->t, "alice", &f->u, &f->e));
	assert_string_equal(f->u.name, "alice");
	assert_int_equal(f->u.role, STORE_USER_ADMIN);
	assert_int_equal(f->u.created, T0);
	assert_int_equal(f->u.last_login, 0);
	assert_int_equal(f->u.must_change_password, 0);
	store_user_release(&f->u);
	OK(f, store_user_get(f->t, "bob", &f->u, &f->e));
	assert_int_equal(f->u.role, STORE_USER_VIEWER);
	assert_int_equal(f->u.must_change_password, 1);
	store_user_release(&f->u);
	FAILS(f, ERR_NOTFOUND, "no user 'carol'", store_user_get(f->t, "carol", &f->u, &f->e));
	FAILS(f, ERR_NOTFOUND, "no such user", store_user_get(f->t, "Bad Name", &f->u, &f->e));
	assert_int_equal(store_user_count(f->t), 2);

	json_t *list = store_user_list(f->t);
	assert_int_equal(json_array_size(list), 2);
	json_t *a = json_array_get(list, 0), *b = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "alice");
	assert_string_equal(json_string_value(json_object_get(a, "role")), "admin");
	assert_int_equal(json_integer_value(json_object_get(a, "created")), T0);
	assert_int_equal(json_integer_value(json_object_get(a, "last_login")), 0);
	assert_true(json_is_false(json_object_get(a, "must_change_password")));
	assert_string_equal(json_string_value(json_object_get(b, "name")), "bob");
	assert_string_equal(json_string_value(json_object_get(b, "role")), "viewer");
	assert_true(json_is_true(json_object_get(b, "must_change_password")));
	assert_int_equal(json_object_size(a), 5);
	assert_null(json_object_get(a, "hash"));
	char *dump = json_dumps(list, JSON_COMPACT);
	assert_null(strstr(dump, "argon2"));
	free(dump);
	json_decref(list);
}

static void add_duplicate(void **state)
{
	struct fx *f = *state;
	add(f, "alice", "admin", "alices-password", 0);
	FAILS(f, ERR_EXISTS, "user 'alice' already exists",
	      store_user_add(f->t, "alice", "viewer", "other-password", 0, T0, &f->e));
	OK(f, store_user_verify(f->t, "alice", "alices-password", NULL, &f->e));
}

static void bad_fields(void **state)
{
	struct fx *f = *state;
	const char *bad_names[] = {"",       "Alice", ".alice",  "-alice", "al ice",
	                           "al/ice", "é",     "al\nice", NULL};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
		FAILS(f, ERR_INVAL, "name: ",
		      store_user_add(f->t, bad_names[i], "admin", "good-password", 0, T0, &f->e));
	char long_name[66];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	FAILS(f, ERR_INVAL, "name: ", store_user_check_name(long_name, &f->e));
	long_name[64] = '\0';
	OK(f, store_user_check_name(long_name, &f->e));
	OK(f, store_user_check_name("a", &f->e));
	OK(f, store_user_check_name("0.x_y-z", &f->e));
	OK(f, store_user_check_name("_svc", &f->e));

	FAILS(f, ERR_INVAL, "role: must be 'admin' or 'viewer'",
	      store_user_add(f->t, "alice", "root", "good-password", 0, T0, &f->e));
	FAILS(f, ERR_INVAL,
	      "role: ", store_user_add(f->t, "alice", NULL, "good-password", 0, T0, &f->e));
	FAILS(f, ERR_INVAL, "password: must be at least 8 characters",
	      store_user_add(f->t, "alice", "admin", "1234567", 0, T0, &f->e));
	FAILS(f, ERR_INVAL,
	      "password: ", store_user_add(f->t, "alice", "admin", NULL, 0, T0, &f->e));
	/* Four characters of two bytes each: eight bytes but too short. */
	FAILS(f, ERR_INVAL, "password: must be at least 8 characters",
	      store_user_check_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &f->e));
	char long_pw[1026];
	memset(long_pw, 'p', 1025);
	long_pw[1025] = '\0';
	FAILS(f, ERR_INVAL, "password: must be at most 1024 bytes",
	      store_user_check_password(long_pw, &f->e));
	long_pw[1024] = '\0';
	OK(f, store_user_check_password(long_pw, &f->e));
	OK(f, store_user_check_password("12345678", &f->e));
	assert_int_equal(store_user_count(f->t), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void verify(void **state)
{
	struct fx *f = *state;
	add(f, "alice", "admin", "alices-password", 1);
	recommit(f, 0); /* verify works in a read txn */

	OK(f, store_user_verify(f->t, "alice", "alices-password", &f->u, &f->e));
	assert_string_equal(f->u.name, "alice");
	assert_int_equal(f->u.role, STORE_USER_ADMIN);
	assert_int_equal(f->u.must_change_password, 1);

	double t0 = now_s();
	FAILS(f, ERR_AUTH, "wrong user name or password",
	      store_user_verify(f->t, "alice", "alices-passworD", NULL, &f->e));
	double wrong = now_s() - t0;
	t0 = now_s();
	FAILS(f, ERR_AUTH, "wrong user name or password",
	      store_user_verify(f->t, "mallory", "alices-password", NULL, &f->e));
	double unknown = now_s() - t0;
	/* An unknown name still pays for a hash: it cannot be told apart by time. */
	if (unknown < 0.3 * wrong)
		fail_msg("unknown user took %.4f s, wrong password %.4f s", unknown, wrong);
	FAILS(f, ERR_AUTH, "wrong user name or password",
	      store_user_verify(f->t, "Not Valid", "x", NULL, &f->e));
	FAILS(f, ERR_AUTH, "wrong user name or password",
	      store_user_verify(f->t, "alice", NULL, NULL, &f->e));
	FAILS(f, ERR_AUTH, "wrong user name or password",
	      store_user_verify(f->t, "alice", "", NULL, &f->e));
}

static void set_password_revokes(void **state)
{
	struct fx *f = *state;
	char tok1[65], tok2[65], tok3[65], csrf[65];
	add(f, "alice", "admin", "first-password", 1);
	add(f, "bob", "viewer", "bobs-password", 0);
	OK(f, store_session_create(f->t, "alice", T0, tok1, csrf, &f->e));
	OK(f, store_session_create(f->t, "alice", T0, tok2, csrf, &f->e));
	OK(f, store_session_create(f->t, "bob", T0, tok3, csrf, &f->e));
	recommit(f, 1);

	FAILS(f, ERR_INVAL, "password: must be at least 8 characters",
	      store_user_set_password(f->t, "alice", "short", 0, T0 + 5, &f->e));
	FAILS(f, ERR_NOTFOUND, "no user 'carol'",
	      store_user_set_password(f->t, "carol", "second-password", 0, T0 + 5, &f->e));
	OK(f, session_get(f, tok1, T0 + 5)); /* the refused change revoked nothing */
	OK(f, store_user_set_password(f->t, "alice", "second-password", 0, T0 + 5, &f->e));
	recommit(f, 0);

	OK(f, store_user_get(f->t, "alice", &f->u, &f->e));
	assert_int_equal(f->u.must_change_password, 0);
	assert_int_equal(f->u.password_changed, T0 + 5);
	assert_int_equal(f->u.created, T0);
	FAILS(f, ERR_AUTH, "wrong",
	      store_user_verify(f->t, "alice", "first-password", NULL, &f->e));
	OK(f, store_user_verify(f->t, "alice", "second-password", NULL, &f->e));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, tok1, T0 + 5));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, tok2, T0 + 5));
	OK(f, session_get(f, tok3, T0 + 5));
	assert_string_equal(f->s.user, "bob");
	/* an admin's reset for someone else: a temporary password */
	store_user_release(&f->u);
	recommit(f, 1);
	OK(f, store_user_set_password(f->t, "bob", "temporary-password", 1, T0 + 6, &f->e));
	OK(f, store_user_get(f->t, "bob", &f->u, &f->e));
	assert_int_equal(f->u.must_change_password, 1);
}

static void last_admin_protected(void **state)
{
	struct fx *f = *state;
	char tok[65], csrf[65];
	add(f, "alice", "admin", "alices-password", 0);
	add(f, "bob", "viewer", "bobs-password", 0);

	FAILS(f, ERR_INVAL, "cannot remove the last admin", store_user_del(f->t, "alice", &f->e));
	FAILS(f, ERR_INVAL, "cannot remove the last admin",
	      store_user_set_role(f->t, "alice", "viewer", &f->e));
	OK(f, store_user_set_role(f->t, "alice", "admin", &f->e)); /* no change is fine */
	FAILS(f, ERR_INVAL, "role: ", store_user_set_role(f->t, "alice", "owner", &f->e));
	FAILS(f, ERR_NOTFOUND, "no user 'carol'",
	      store_user_set_role(f->t, "carol", "admin", &f->e));

	/* With a second admin, the first may go; then the second is the last. */
	OK(f, store_user_set_role(f->t, "bob", "admin", &f->e));
	OK(f, store_user_set_role(f->t, "alice", "viewer", &f->e));
	OK(f, store_user_get(f->t, "alice", &f->u, &f->e));
	assert_int_equal(f->u.role, STORE_USER_VIEWER);
	OK(f, store_user_verify(f->t, "alice", "alices-password", NULL, &f->e)); /* hash kept */
	FAILS(f, ERR_INVAL, "cannot remove the last admin", store_user_del(f->t, "bob", &f->e));
	FAILS(f, ERR_INVAL, "cannot remove the last admin",
	      store_user_set_role(f->t, "bob", "viewer", &f->e));

	/* Deleting a viewer works and ends their sessions. */
	OK(f, store_session_create(f->t, "alice", T0, tok, csrf, &f->e));
	OK(f, store_user_del(f->t, "alice", &f->e));
	FAILS(f, ERR_NOTFOUND, "no user 'alice'", store_user_get(f->t, "alice", &f->u, &f->e));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, tok, T0));
	FAILS(f, ERR_NOTFOUND, "no user 'alice'", store_user_del(f->t, "alice", &f->e));
	assert_int_equal(store_user_count(f->t), 1);
}

static void ensure_default_once(void **state)
{
	struct fx *f = *state;
	int created = -1;
	OK(f, store_users_ensure_default(f->t, T0, &created, &f->e));
	assert_int_equal(created, 1);
	recommit(f, 1);
	OK(f, store_user_get(f->t, "admin", &f->u, &f->e));
	assert_int_equal(f->u.role, STORE_USER_ADMIN);
	assert_int_equal(f->u.must_change_password, 1);
	assert_int_equal(f->u.created, T0);
	OK(f, store_user_verify(f->t, "admin", "changeme123", NULL, &f->e));

	created = -1;
	OK(f, store_users_ensure_default(f->t, T0 + 1, &created, &f->e));
	assert_int_equal(created, 0);
	assert_int_equal(store_user_count(f->t), 1);

	/* Any account at all, even without the name "admin", is enough. */
	OK(f, store_user_set_password(f->t, "admin", "chosen-password", 0, T0 + 2, &f->e));
	add(f, "ops", "admin", "ops-password", 0);
	OK(f, store_user_del(f->t, "admin", &f->e));
	created = -1;
	OK(f, store_users_ensure_default(f->t, T0 + 3, &created, &f->e));
	assert_int_equal(created, 0);
	FAILS(f, ERR_NOTFOUND, "no user 'admin'", store_user_get(f->t, "admin", &f->u, &f->e));
}

static void touch_login(void **state)
{
	struct fx *f = *state;
	add(f, "alice", "admin", "alices-password", 1);
	OK(f, store_user_touch_login(f->t, "alice", T0 + 60, &f->e));
	OK(f, store_user_get(f->t, "alice", &f->u, &f->e));
	assert_int_equal(f->u.last_login, T0 + 60);
	assert_int_equal(f->u.must_change_password, 1);
	OK(f, store_user_verify(f->t, "alice", "alices-password", NULL, &f->e));
	FAILS(f, ERR_NOTFOUND, "no user 'bob'", store_user_touch_login(f->t, "bob", T0, &f->e));
}

struct scan {
	const char *token;
	int found;
};

/* Neither the token nor its raw bytes appear as a key or in a value. */
static int scan_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct scan *sc = arg;
	unsigned char raw[32];
	sodium_hex2bin(raw, sizeof(raw), sc->token, 64, NULL, NULL, NULL);
	if ((klen == 32 && !memcmp(key, raw, 32)) || (klen == 64 && !memcmp(key, sc->token, 64)) ||
	    memmem(val, vlen, sc->token, 64) || memmem(val, vlen, raw, 32))
		sc->found = 1;
	return 0;
}

static void session_lifecycle(void **state)
{
	struct fx *f = *state;
	char tok[65], csrf[65], tok2[65], csrf2[65];
	add(f, "alice", "admin", "alices-password", 0);
	FAILS(f, ERR_NOTFOUND, "no user 'bob'",
	      store_session_create(f->t, "bob", T0, tok, csrf, &f->e));
	OK(f, store_session_create(f->t, "alice", T0, tok, csrf, &f->e));
	OK(f, store_session_create(f->t, "alice", T0, tok2, csrf2, &f->e));
	assert_true(is_hex64(tok));
	assert_true(is_hex64(csrf));
	assert_string_not_equal(tok, csrf);
	assert_string_not_equal(tok, tok2);
	assert_string_not_equal(csrf, csrf2);
	struct scan sc = {tok, 0};
	OK(f, store_kv_foreach(f->t, STORE_KV_SESSIONS, scan_one, &sc, &f->e));
	assert_int_equal(sc.found, 0);
	recommit(f, 0);

	/* A read txn can look sessions up. */
	OK(f, session_get(f, tok, T0 + 10));
	assert_string_equal(f->s.user, "alice");
	assert_string_equal(f->s.csrf, csrf);
	assert_int_equal(f->s.created, T0);
	assert_int_equal(f->s.last_seen, T0);
	OK(f, session_get(f, tok, T0 + IDLE)); /* exactly idle_seconds old: still valid */
	FAILS(f, ERR_NOTFOUND, "session expired", session_get(f, tok, T0 + IDLE + 1));
	recommit(f, 1);

	/* Touching moves the expiry; an expired session is not deleted by get. */
	OK(f, store_session_touch(f->t, tok, T0 + 100, &f->e));
	OK(f, session_get(f, tok, T0 + 100 + IDLE));
	assert_int_equal(f->s.last_seen, T0 + 100);
	assert_int_equal(f->s.created, T0);
	FAILS(f, ERR_NOTFOUND, "session expired", session_get(f, tok, T0 + 101 + IDLE));
	OK(f, store_session_touch(f->t, tok, T0 + 200 + IDLE, &f->e)); /* still stored */

	OK(f, store_session_del(f->t, tok, &f->e));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, tok, T0 + 100));
	FAILS(f, ERR_NOTFOUND, "no such session", store_session_del(f->t, tok, &f->e));
	FAILS(f, ERR_NOTFOUND, "no such session", store_session_touch(f->t, tok, T0, &f->e));
	OK(f, session_get(f, tok2, T0)); /* the other session is untouched */
}

static void session_del_user_and_prune(void **state)
{
	struct fx *f = *state;
	char a1[65], a2[65], b1[65], b2[65], csrf[65];
	size_t removed = 99;
	add(f, "alice", "admin", "alices-password", 0);
	add(f, "bob", "viewer", "bobs-password", 0);
	OK(f, store_session_create(f->t, "alice", T0, a1, csrf, &f->e));
	OK(f, store_session_create(f->t, "alice", T0 + 5000, a2, csrf, &f->e));
	OK(f, store_session_create(f->t, "bob", T0, b1, csrf, &f->e));
	OK(f, store_session_create(f->t, "bob", T0 + 5000, b2, csrf, &f->e));

	OK(f, store_session_del_user(f->t, "alice", &f->e));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, a1, T0));
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, a2, T0 + 5000));
	OK(f, session_get(f, b1, T0));
	OK(f, store_session_del_user(f->t, "nobody", &f->e)); /* none is fine */
	assert_int_equal(store_kv_count(f->t, STORE_KV_SESSIONS), 2);

	/* A malformed value is pruned too; get treats it as absent. */
	OK(f, store_kv_put(f->t, STORE_KV_SESSIONS, "0123456789abcdef0123456789abcdef", 32, "{}", 2,
	                   &f->e));
	OK(f, store_session_prune(f->t, T0 + IDLE, IDLE, &removed, &f->e));
	assert_int_equal(removed, 1); /* only the malformed one: b1 is exactly IDLE old */
	OK(f, store_session_prune(f->t, T0 + IDLE + 1, IDLE, &removed, &f->e));
	assert_int_equal(removed, 1);
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, b1, T0));
	OK(f, session_get(f, b2, T0 + IDLE + 1));
	OK(f, store_session_prune(f->t, T0 + IDLE + 1, IDLE, NULL, &f->e));
	assert_int_equal(store_kv_count(f->t, STORE_KV_SESSIONS), 1);
}

static void bad_tokens(void **state)
{
	struct fx *f = *state;
	char tok[65], csrf[65], bad[80];
	add(f, "alice", "admin", "alices-password", 0);
	OK(f, store_session_create(f->t, "alice", T0, tok, csrf, &f->e));
	const char *fixed[] = {NULL, "", "abc"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
		FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, fixed[i], T0));
		FAILS(f, ERR_NOTFOUND, "no such session",
		      store_session_touch(f->t, fixed[i], T0, &f->e));
		FAILS(f, ERR_NOTFOUND, "no such session", store_session_del(f->t, fixed[i], &f->e));
	}
	snprintf(bad, sizeof(bad), "%.63s", tok); /* one short */
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, bad, T0));
	snprintf(bad, sizeof(bad), "%s0", tok); /* one long */
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, bad, T0));
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[10] = 'g'; /* not hex */
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, bad, T0));
	FAILS(f, ERR_NOTFOUND, "no such session", store_session_del(f->t, bad, &f->e));
	snprintf(bad, sizeof(bad), "%s", tok);
	for (char *p = bad; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if (strcmp(bad, tok)) /* upper case is not the token */
		FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, bad, T0));
	/* The csrf token is not a session token. */
	FAILS(f, ERR_NOTFOUND, "no such session", session_get(f, csrf, T0));
	OK(f, session_get(f, tok, T0));
}

static void csrf_ok(void **state)
{
	struct fx *f = *state;
	char tok[65], csrf[65], other[65];
	add(f, "alice", "admin", "alices-password", 0);
	OK(f, store_session_create(f->t, "alice", T0, tok, csrf, &f->e));
	OK(f, session_get(f, tok, T0));
	assert_int_equal(store_session_csrf_ok(&f->s, csrf), 1);
	snprintf(other, sizeof(other), "%s", csrf);
	other[63] = other[63] == '0' ? '1' : '0';
	assert_int_equal(store_session_csrf_ok(&f->s, other), 0);
	assert_int_equal(store_session_csrf_ok(&f->s, tok), 0);
	assert_int_equal(store_session_csrf_ok(&f->s, NULL), 0);
	assert_int_equal(store_session_csrf_ok(&f->s, ""), 0);
	other[63] = '\0';
	memcpy(other, csrf, 63);
	assert_int_equal(store_session_csrf_ok(&f->s, other), 0); /* a prefix */
	char longer[70];
	snprintf(longer, sizeof(longer), "%sff", csrf);
	assert_int_equal(store_session_csrf_ok(&f->s, longer), 0);
	assert_int_equal(store_session_csrf_ok(NULL, csrf), 0);
}

static void survive_clear_inventory(void **state)
{
	struct fx *f = *state;
	char tok[65], csrf[65];
	add(f, "alice", "admin", "alices-password", 0);
	OK(f, store_session_create(f->t, "alice", T0, tok, csrf, &f->e));
	OK(f, store_db_clear_inventory(f->t, &f->e));
	recommit(f, 0);
	assert_int_equal(store_user_count(f->t), 1);
	OK(f, session_get(f, tok, T0));
}

static void malformed_user(void **state)
{
	struct fx *f = *state;
	add(f, "alice", "admin", "alices-password", 0);
	OK(f, store_kv_put(f->t, STORE_KV_USERS, "broken", 6, "{\"role\":\"god\"}", 14, &f->e));
	FAILS(f, ERR_STORE, "malformed user 'broken'",
	      store_user_get(f->t, "broken", &f->u, &f->e));
	FAILS(f, ERR_STORE, "malformed user 'broken'",
	      store_user_verify(f->t, "broken", "whatever1", NULL, &f->e));
	json_t *list = store_user_list(f->t);
	assert_int_equal(json_array_size(list), 1); /* left out */
	json_decref(list);
	/* A malformed user is no admin: alice is still the last one. */
	FAILS(f, ERR_INVAL, "cannot remove the last admin", store_user_del(f->t, "alice", &f->e));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(add_get_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(add_duplicate, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(set_password_revokes, setup, teardown),
	    cmocka_unit_test_setup_teardown(last_admin_protected, setup, teardown),
	    cmocka_unit_test_setup_teardown(ensure_default_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(touch_login, setup, teardown),
	    cmocka_unit_test_setup_teardown(session_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(session_del_user_and_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(csrf_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(survive_clear_inventory, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_user, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
