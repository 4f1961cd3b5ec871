#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* Ceiling for reading a value back: a valid user or session is ~250 bytes. */
#define VALUE_MAX (16 * 1024)
#define RAW_TOKEN 32 /* bytes behind a token's 64 hex digits */
#define KEY_SIZE  32 /* crypto_generichash of the raw token: the sessions key */

/*
 * Verified against when the user does not exist, so an unknown name costs
 * what a wrong password does. Same algorithm and limits as real hashes;
 * the password behind it was random and is forgotten.
 */
static const char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$E0sTPbg9hapNXMb2ZUXsyw$"
    "i/FuJh1TpEkVWUx9qkMis/z8suAyORE9xdRnfBrNk3M";

static const char *const role_names[] = {
    [STORE_USER_VIEWER] = "viewer", [STORE_USER_ADMIN] = "admin"};

const char *store_user_role_name(int role)
{
	return role == STORE_USER_ADMIN ? role_names[STORE_USER_ADMIN]
	                                : role_names[STORE_USER_VIEWER];
}

static int role_parse(const char *s)
{
	if (s && !strcmp(s, "admin"))
		return STORE_USER_ADMIN;
	if (s && !strcmp(s, "viewer"))
		return STORE_USER_VIEWER;
	return -1;
}

static int name_ok(const char *name)
{
	if (!name || !*name || *name == '.' || *name == '-')
		return 0;
	size_t n = 0;
	for (const char *p = name; *p; p++, n++)
		if (n == STORE_USER_NAME_MAX ||
		    !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			return 0;
	return 1;
}

int store_user_check_name(const char *name, struct err *e)
{
	if (name_ok(name))
		return 0;
	return err_set(e, ERR_INVAL,
	               "name: must be 1 to %d characters of a-z, 0-9, '.', '_' and '-', not "
	               "starting with '.' or '-'",
	               STORE_USER_NAME_MAX);
}

int store_user_check_role(const char *role, struct err *e)
{
	return role_parse(role) < 0 ? err_set(e, ERR_INVAL, "role: must be 'admin' or 'viewer'")
	                            : 0;
}

int store_user_check_password(const char *password, struct err *e)
{
	if (!password)
		return err_set(e, ERR_INVAL, "password: is required");
	size_t bytes = 0, chars = 0;
	for (const unsigned char *p = (const unsigned char *)password; *p; p++, bytes++)
		if ((*p & 0xc0) != 0x80)
			chars++;
	if (chars < STORE_USER_PASSWORD_MIN)
		return err_set(e, ERR_INVAL, "password: must be at least %d characters",
		               STORE_USER_PASSWORD_MIN);
	if (bytes > STORE_USER_PASSWORD_MAX)
		return err_set(e, ERR_INVAL, "password: must be at most %d bytes",
		               STORE_USER_PASSWORD_MAX);
	return 0;
}

/* Names are only echoed once valid: a bad one may hold anything. */
static int no_user(struct err *e, const char *name)
{
	if (name_ok(name))
		return err_set(e, ERR_NOTFOUND, "no user '%s'", name);
	return err_set(e, ERR_NOTFOUND, "no such user");
}

static int get_int(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* Decode a stored user; *hash (optional) gets a copy of the hash. */
static int decode_user(struct store_user *out, char **hash, const char *name, const void *val,
                       size_t len, struct err *e)
{
	struct store_user u = {0};
	json_t *j = json_loadb(val, len, 0, NULL);
	int role = role_parse(json_string_value(json_object_get(j, "role")));
	const char *h = json_string_value(json_object_get(j, "hash"));
	json_t *must = json_object_get(j, "must_change_password");
	if (role < 0 || !h || !json_is_boolean(must) || get_int(j, "created", &u.created) ||
	    get_int(j, "last_login", &u.last_login)) {
		json_decref(j);
		return err_set(e, ERR_STORE, "malformed user '%.*s'", STORE_USER_NAME_MAX, name);
	}
	get_int(j, "password_changed", &u.password_changed);
	u.role = role;
	u.must_change_password = json_is_true(must);
	u.name = xstrdup(name);
	if (hash)
		*hash = xstrdup(h);
	json_decref(j);
	*out = u;
	return 0;
}

/* Load name's record. ERR_NOTFOUND, ERR_STORE when malformed. */
static int load_user(struct store_txn *t, const char *name, struct store_user *out, char **hash,
                     struct err *e)
{
	if (!name_ok(name))
		return no_user(e, name);
	struct buf b;
	buf_init(&b, VALUE_MAX);
	int rc = store_kv_get(t, STORE_KV_USERS, name, strlen(name), &b, NULL);
	if (rc == ERR_NOTFOUND)
		rc = no_user(e, name);
	else if (rc)
		rc = err_set(e, rc, "cannot read user '%s'", name);
	else
		rc = decode_user(out, hash, name, b.data, b.len, e);
	buf_release(&b);
	return rc;
}

static int put_user(struct store_txn *t, const struct store_user *u, const char *hash,
                    struct err *e)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b}", "role", store_user_role_name(u->role),
	                      "hash", hash, "created", (json_int_t)u->created, "last_login",
	                      (json_int_t)u->last_login, "password_changed",
	                      (json_int_t)u->password_changed, "must_change_password",
	                      u->must_change_password ? 1 : 0);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int rc = store_kv_put(t, STORE_KV_USERS, u->name, strlen(u->name), s, strlen(s), e);
	free(s);
	return rc;
}

static int hash_password(char out[crypto_pwhash_STRBYTES], const char *password, struct err *e)
{
	if (crypto_pwhash_str_alg(out, password, strlen(password),
	                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
		return err_set(e, ERR_IO, "cannot hash password: out of memory");
	return 0;
}

/* Count admins; a malformed user counts as none. */
static int count_admin(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(void)key;
	(void)klen;
	json_t *j = json_loadb(val, vlen, 0, NULL);
	if (role_parse(json_string_value(json_object_get(j, "role"))) == STORE_USER_ADMIN)
		(*(size_t *)arg)++;
	json_decref(j);
	return 0;
}

static int last_admin(struct store_txn *t, const struct store_user *u, struct err *e)
{
	if (u->role != STORE_USER_ADMIN)
		return 0;
	size_t admins = 0;
	int rc = store_kv_foreach(t, STORE_KV_USERS, count_admin, &admins, e);
	if (rc)
		return rc;
	return admins <= 1 ? err_set(e, ERR_INVAL, "cannot remove the last admin") : 0;
}

int store_user_add(struct store_txn *t, const char *name, const char *role, const char *password,
                   int must_change, int64_t now, struct err *e)
{
	int rc = store_user_check_name(name, e);
	if (!rc)
		rc = store_user_check_role(role, e);
	if (!rc)
		rc = store_user_check_password(password, e);
	if (rc)
		return rc;
	struct buf b;
	buf_init(&b, VALUE_MAX);
	rc = store_kv_get(t, STORE_KV_USERS, name, strlen(name), &b, NULL);
	buf_release(&b);
	if (rc != ERR_NOTFOUND)
		return rc ? err_set(e, rc, "cannot read user '%s'", name)
		          : err_set(e, ERR_EXISTS, "user '%s' already exists", name);
	char hash[crypto_pwhash_STRBYTES];
	if ((rc = hash_password(hash, password, e)))
		return rc;
	struct store_user u = {.name = (char *)name,
	                       .role = role_parse(role),
	                       .created = now,
	                       .must_change_password = must_change ? 1 : 0};
	return put_user(t, &u, hash, e);
}

int store_user_get(struct store_txn *t, const char *name, struct store_user *out, struct err *e)
{
	return load_user(t, name, out, NULL, e);
}

void store_user_release(struct store_user *u)
{
	if (!u)
		return;
	free(u->name);
	memset(u, 0, sizeof(*u));
}

static int list_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	char name[STORE_USER_NAME_MAX + 1];
	struct store_user u;
	if (klen > STORE_USER_NAME_MAX)
		return 0;
	memcpy(name, key, klen);
	name[klen] = '\0';
	if (!name_ok(name) || decode_user(&u, NULL, name, val, vlen, NULL))
		return 0; /* unusable entries cannot log in either: leave them out */
	json_array_append_new(arg, json_pack("{s:s,s:s,s:I,s:I,s:b}", "name", u.name, "role",
	                                     store_user_role_name(u.role), "created",
	                                     (json_int_t)u.created, "last_login",
	                                     (json_int_t)u.last_login, "must_change_password",
	                                     u.must_change_password));
	store_user_release(&u);
	return 0;
}

json_t *store_user_list(struct store_txn *t)
{
	/* Key order is byte order, which is name order for the allowed characters. */
	json_t *list = json_array();
	store_kv_foreach(t, STORE_KV_USERS, list_one, list, NULL);
	return list;
}

size_t store_user_count(struct store_txn *t)
{
	return store_kv_count(t, STORE_KV_USERS);
}

int store_user_verify(struct store_txn *t, const char *name, const char *password,
                      struct store_user *out, struct err *e)
{
	struct store_user u = {0};
	char *hash = NULL;
	int rc = load_user(t, name, &u, &hash, e);
	if (rc && rc != ERR_NOTFOUND)
		return rc;
	/* libsodium reads a full crypto_pwhash_STRBYTES: hand it a padded copy. */
	char h[crypto_pwhash_STRBYTES];
	int found = !rc && strlen(hash) < sizeof(h);
	memset(h, 0, sizeof(h));
	memcpy(h, found ? hash : dummy_hash, strlen(found ? hash : dummy_hash));
	free(hash);
	const char *pw = password ? password : "";
	int match = crypto_pwhash_str_verify(h, pw, strlen(pw)) == 0;
	if (!found || !match) {
		store_user_release(&u);
		return err_set(e, ERR_AUTH, "wrong user name or password");
	}
	if (out)
		*out = u;
	else
		store_user_release(&u);
	return 0;
}

int store_user_set_password(struct store_txn *t, const char *name, const char *password,
                            int must_change, int64_t now, struct err *e)
{
	int rc = store_user_check_password(password, e);
	if (rc)
		return rc;
	struct store_user u;
	if ((rc = load_user(t, name, &u, NULL, e)))
		return rc;
	char hash[crypto_pwhash_STRBYTES];
	rc = hash_password(hash, password, e);
	if (!rc) {
		u.must_change_password = must_change ? 1 : 0;
		u.password_changed = now;
		rc = put_user(t, &u, hash, e);
	}
	if (!rc)
		rc = store_session_del_user(t, name, e);
	store_user_release(&u);
	return rc;
}

int store_user_set_role(struct store_txn *t, const char *name, const char *role, struct err *e)
{
	int rc = store_user_check_role(role, e);
	if (rc)
		return rc;
	struct store_user u;
	char *hash = NULL;
	if ((rc = load_user(t, name, &u, &hash, e)))
		return rc;
	int want = role_parse(role);
	if (want != u.role) {
		rc = want == STORE_USER_ADMIN ? 0 : last_admin(t, &u, e);
		u.role = want;
		if (!rc)
			rc = put_user(t, &u, hash, e);
	}
	free(hash);
	store_user_release(&u);
	return rc;
}

int store_user_del(struct store_txn *t, const char *name, struct err *e)
{
	struct store_user u;
	int rc = load_user(t, name, &u, NULL, e);
	if (rc)
		return rc;
	rc = last_admin(t, &u, e);
	if (!rc)
		rc = store_kv_del(t, STORE_KV_USERS, name, strlen(name), e);
	if (!rc)
		rc = store_session_del_user(t, name, e);
	store_user_release(&u);
	return rc;
}

int store_user_touch_login(struct store_txn *t, const char *name, int64_t now, struct err *e)
{
	struct store_user u;
	char *hash = NULL;
	int rc = load_user(t, name, &u, &hash, e);
	if (rc)
		return rc;
	u.last_login = now;
	rc = put_user(t, &u, hash, e);
	free(hash);
	store_user_release(&u);
	return rc;
}

int store_users_ensure_default(struct store_txn *t, int64_t now, int *created_out, struct err *e)
{
	if (store_user_count(t)) {
		*created_out = 0;
		return 0;
	}
	int rc = store_user_add(t, STORE_USER_DEFAULT_NAME, "admin", STORE_USER_DEFAULT_PASSWORD, 1,
	                        now, e);
	if (!rc)
		*created_out = 1;
	return rc;
}

/* --- sessions ------------------------------------------------------------ */

static void random_token(char out[STORE_SESSION_TOKEN_LEN + 1])
{
	unsigned char raw[RAW_TOKEN];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, STORE_SESSION_TOKEN_LEN + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

/* The sessions key of a token; -1 unless it is exactly 64 lowercase hex digits. */
static int token_key(const char *token, unsigned char key[KEY_SIZE])
{
	if (!token || strnlen(token, STORE_SESSION_TOKEN_LEN + 1) != STORE_SESSION_TOKEN_LEN)
		return -1;
	for (const char *p = token; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	unsigned char raw[RAW_TOKEN];
	size_t n = 0;
	if (sodium_hex2bin(raw, sizeof(raw), token, STORE_SESSION_TOKEN_LEN, NULL, &n, NULL) ||
	    n != sizeof(raw))
		return -1;
	crypto_generichash(key, KEY_SIZE, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

static int decode_session(struct store_session *out, const void *val, size_t len)
{
	struct store_session s = {0};
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *user = json_string_value(json_object_get(j, "user"));
	const char *csrf = json_string_value(json_object_get(j, "csrf"));
	if (!user || !csrf || strlen(csrf) != STORE_SESSION_TOKEN_LEN ||
	    get_int(j, "created", &s.created) || get_int(j, "last_seen", &s.last_seen)) {
		json_decref(j);
		return -1;
	}
	s.user = xstrdup(user);
	memcpy(s.csrf, csrf, sizeof(s.csrf));
	json_decref(j);
	*out = s;
	return 0;
}

static int put_session(struct store_txn *t, const unsigned char key[KEY_SIZE],
                       const struct store_session *s, struct err *e)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I}", "user", s->user, "csrf", s->csrf, "created",
	                      (json_int_t)s->created, "last_seen", (json_int_t)s->last_seen);
	char *v = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int rc = store_kv_put(t, STORE_KV_SESSIONS, key, KEY_SIZE, v, strlen(v), e);
	free(v);
	return rc;
}

/* Load the session under key, expired or not. ERR_NOTFOUND also for a malformed value. */
static int load_session(struct store_txn *t, const unsigned char key[KEY_SIZE],
                        struct store_session *out, struct err *e)
{
	struct buf b;
	buf_init(&b, VALUE_MAX);
	int rc = store_kv_get(t, STORE_KV_SESSIONS, key, KEY_SIZE, &b, NULL);
	if (rc == ERR_NOTFOUND || (!rc && decode_session(out, b.data, b.len)))
		rc = err_set(e, ERR_NOTFOUND, "no such session");
	else if (rc)
		rc = err_set(e, rc, "cannot read session");
	buf_release(&b);
	return rc;
}

int store_session_create(struct store_txn *t, const char *user, int64_t now,
                         char token_out[STORE_SESSION_TOKEN_LEN + 1],
                         char csrf_out[STORE_SESSION_TOKEN_LEN + 1], struct err *e)
{
	struct store_user u;
	int rc = load_user(t, user, &u, NULL, e);
	if (rc)
		return rc;
	char token[STORE_SESSION_TOKEN_LEN + 1];
	unsigned char key[KEY_SIZE];
	struct store_session s = {.user = u.name, .created = now, .last_seen = now};
	random_token(token);
	random_token(s.csrf);
	token_key(token, key);
	rc = put_session(t, key, &s, e);
	if (!rc) {
		memcpy(token_out, token, sizeof(token));
		memcpy(csrf_out, s.csrf, sizeof(s.csrf));
	}
	sodium_memzero(token, sizeof(token));
	store_user_release(&u);
	return rc;
}

static int expired(const struct store_session *s, int64_t now, int64_t idle_seconds)
{
	return now - s->last_seen > idle_seconds;
}

int store_session_get(struct store_txn *t, const char *token, int64_t now, int64_t idle_seconds,
                      struct store_session *out, struct err *e)
{
	unsigned char key[KEY_SIZE];
	if (token_key(token, key))
		return err_set(e, ERR_NOTFOUND, "no such session");
	struct store_session s;
	int rc = load_session(t, key, &s, e);
	if (rc)
		return rc;
	if (expired(&s, now, idle_seconds)) {
		store_session_release(&s);
		return err_set(e, ERR_NOTFOUND, "session expired");
	}
	*out = s;
	return 0;
}

int store_session_touch(struct store_txn *t, const char *token, int64_t now, struct err *e)
{
	unsigned char key[KEY_SIZE];
	if (token_key(token, key))
		return err_set(e, ERR_NOTFOUND, "no such session");
	struct store_session s;
	int rc = load_session(t, key, &s, e);
	if (rc)
		return rc;
	s.last_seen = now;
	rc = put_session(t, key, &s, e);
	store_session_release(&s);
	return rc;
}

int store_session_del(struct store_txn *t, const char *token, struct err *e)
{
	unsigned char key[KEY_SIZE];
	int rc = token_key(token, key) ? ERR_NOTFOUND
	                               : store_kv_del(t, STORE_KV_SESSIONS, key, KEY_SIZE, NULL);
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no such session");
	return rc ? err_set(e, rc, "cannot delete session") : 0;
}

/* Keys of the sessions to delete, gathered first: a cursor walk must not write. */
struct doomed {
	const char *user; /* match this user, or NULL: match expired and malformed ones */
	int64_t now, idle_seconds;
	struct buf keys; /* KEY_SIZE bytes each */
};

static int doom_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct doomed *d = arg;
	struct store_session s;
	if (klen != KEY_SIZE)
		return 0; /* not written by this module: no token can reach it */
	int bad = decode_session(&s, val, vlen);
	int drop = d->user ? !bad && !strcmp(s.user, d->user)
	                   : bad || expired(&s, d->now, d->idle_seconds);
	if (!bad)
		store_session_release(&s);
	if (drop)
		buf_add(&d->keys, key, KEY_SIZE);
	return 0;
}

static int delete_doomed(struct store_txn *t, struct doomed *d, size_t *removed, struct err *e)
{
	int rc = store_kv_foreach(t, STORE_KV_SESSIONS, doom_one, d, e);
	size_t n = 0;
	for (size_t off = 0; !rc && off < d->keys.len; off += KEY_SIZE, n++)
		rc = store_kv_del(t, STORE_KV_SESSIONS, d->keys.data + off, KEY_SIZE, e);
	buf_release(&d->keys);
	if (!rc && removed)
		*removed = n;
	return rc;
}

int store_session_del_user(struct store_txn *t, const char *user, struct err *e)
{
	struct doomed d = {.user = user ? user : ""};
	buf_init(&d.keys, 0);
	return delete_doomed(t, &d, NULL, e);
}

int store_session_prune(struct store_txn *t, int64_t now, int64_t idle_seconds, size_t *removed_out,
                        struct err *e)
{
	struct doomed d = {.now = now, .idle_seconds = idle_seconds};
	buf_init(&d.keys, 0);
	return delete_doomed(t, &d, removed_out, e);
}

void store_session_release(struct store_session *s)
{
	if (!s)
		return;
	free(s->user);
	sodium_memzero(s, sizeof(*s));
}

int store_session_csrf_ok(const struct store_session *s, const char *given)
{
	if (!s || !given ||
	    strnlen(given, STORE_SESSION_TOKEN_LEN + 1) != STORE_SESSION_TOKEN_LEN ||
	    strlen(s->csrf) != STORE_SESSION_TOKEN_LEN)
		return 0;
	return sodium_memcmp(s->csrf, given, STORE_SESSION_TOKEN_LEN) == 0;
}
