/*
 * Web UI accounts and login sessions (live state: LMDB only, never in git
 * or backups). A user is a name (the key), a role, an argon2id password
 * hash, creation and last-login times and a must-change-password flag; a
 * session maps a random bearer token to a user, a CSRF token and its
 * last-seen time. Values are compact JSON so fields can be added later.
 *
 * Invariants: the password hash never leaves this module (not in struct
 * store_user, not in store_user_list); there is always an admin once there
 * is one (the last admin can be neither demoted nor deleted); changing a
 * password or deleting a user ends that user's sessions in the same txn.
 * Sessions are stored under a hash of their token, so a copy of the LMDB
 * file hands out no session. A session holds only the user name: callers
 * look the user up on each request, so role changes apply at once.
 *
 * Every function takes the caller's txn (the caller batches and commits)
 * and returns 0 or a negative ERR_* with a message in e. libsodium must be
 * initialised (sodium_init) by the program before any call; this module
 * keeps no global state. Hashing and verifying a password cost ~0.1 s and
 * 64 MiB of memory each.
 */
#ifndef STORE_USERS_H
#define STORE_USERS_H

#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "db.h"

#define STORE_USER_NAME_MAX     64
#define STORE_USER_PASSWORD_MIN 8    /* characters (UTF-8 code points) */
#define STORE_USER_PASSWORD_MAX 1024 /* bytes */
/* The account store_users_ensure_default creates on an empty store (STD's default). */
#define STORE_USER_DEFAULT_NAME     "admin"
#define STORE_USER_DEFAULT_PASSWORD "changeme123"
/* Session and CSRF tokens: 32 random bytes as lowercase hex. */
#define STORE_SESSION_TOKEN_LEN 64
/* Callers refresh a session's last_seen only when it is older than this. */
#define STORE_SESSION_TOUCH_AFTER 60

enum store_user_role { STORE_USER_VIEWER = 0, STORE_USER_ADMIN = 1 };

struct store_user {
	char *name;
	int role;                 /* enum store_user_role */
	int64_t created;          /* unix seconds */
	int64_t last_login;       /* unix seconds, 0 = never */
	int64_t password_changed; /* unix seconds of the last set_password, 0 = never */
	int must_change_password;
};

struct store_session {
	char *user;
	char csrf[STORE_SESSION_TOKEN_LEN + 1];
	int64_t created;   /* unix seconds */
	int64_t last_seen; /* unix seconds */
};

/* "admin" or "viewer". */
const char *store_user_role_name(int role);
/* 0 when name is a valid user name (see store_user_add), else ERR_INVAL naming the field. */
int store_user_check_name(const char *name, struct err *e);
/* 0 when role is "admin" or "viewer", else ERR_INVAL naming the field. */
int store_user_check_role(const char *role, struct err *e);
/* 0 when password is acceptable (8 characters to 1024 bytes), else ERR_INVAL naming the field. */
int store_user_check_password(const char *password, struct err *e);

/*
 * Create a user. name: 1..64 characters of [a-z0-9._-], not starting with
 * '.' or '-'; role "admin" or "viewer"; password 8 characters to 1024
 * bytes. ERR_INVAL for a bad field (the message starts with its name),
 * ERR_EXISTS when the name is taken.
 */
int store_user_add(struct store_txn *t, const char *name, const char *role, const char *password,
                   int must_change, int64_t now, struct err *e);
/* Load a user into out (released by the caller). ERR_NOTFOUND if there is none. */
int store_user_get(struct store_txn *t, const char *name, struct store_user *out, struct err *e);
/* Free what u holds and zero it. */
void store_user_release(struct store_user *u);
/*
 * Every user as a JSON array sorted by name: [{"name","role","created",
 * "last_login","must_change_password"}] (never the hash). New reference.
 */
json_t *store_user_list(struct store_txn *t);
/* Number of users. */
size_t store_user_count(struct store_txn *t);
/*
 * Check a login. ERR_AUTH (one message for both) for an unknown user or a
 * wrong password; an unknown user costs the same time as a known one. On
 * success out (optional) gets the user. Works in a read txn.
 */
int store_user_verify(struct store_txn *t, const char *name, const char *password,
                      struct store_user *out, struct err *e);
/*
 * Replace a user's password, set must_change_password to must_change (an
 * admin's reset for someone else: a temporary password) and end all of
 * the user's sessions. ERR_NOTFOUND, ERR_INVAL for a bad password.
 */
int store_user_set_password(struct store_txn *t, const char *name, const char *password,
                            int must_change, int64_t now, struct err *e);
/* Change a user's role. ERR_NOTFOUND; ERR_INVAL for a bad role or demoting the last admin. */
int store_user_set_role(struct store_txn *t, const char *name, const char *role, struct err *e);
/* Delete a user and their sessions. ERR_NOTFOUND; ERR_INVAL for the last admin. */
int store_user_del(struct store_txn *t, const char *name, struct err *e);
/* Record a successful login at now. ERR_NOTFOUND. */
int store_user_touch_login(struct store_txn *t, const char *name, int64_t now, struct err *e);
/*
 * With no user at all, create STORE_USER_DEFAULT_NAME (admin, password
 * STORE_USER_DEFAULT_PASSWORD, must_change_password set) and set
 * *created_out to 1; otherwise change nothing and set it to 0.
 */
int store_users_ensure_default(struct store_txn *t, int64_t now, int *created_out, struct err *e);

/*
 * Start a session for an existing user: token_out and csrf_out (each
 * STORE_SESSION_TOKEN_LEN + 1 bytes) get fresh random tokens; only a hash
 * of the token is stored. ERR_NOTFOUND when the user does not exist.
 */
int store_session_create(struct store_txn *t, const char *user, int64_t now,
                         char token_out[STORE_SESSION_TOKEN_LEN + 1],
                         char csrf_out[STORE_SESSION_TOKEN_LEN + 1], struct err *e);
/*
 * Look a session up (released by the caller). ERR_NOTFOUND for an unknown
 * or malformed token, a malformed stored value, or a session last seen
 * more than idle_seconds before now (expired: left for
 * store_session_prune). Works in a read txn.
 */
int store_session_get(struct store_txn *t, const char *token, int64_t now, int64_t idle_seconds,
                      struct store_session *out, struct err *e);
/*
 * Set a session's last_seen to now. A write per request would serialise
 * page views on the write lock: callers call it only when last_seen is
 * more than STORE_SESSION_TOUCH_AFTER seconds old. ERR_NOTFOUND.
 */
int store_session_touch(struct store_txn *t, const char *token, int64_t now, struct err *e);
/* End a session (logout). ERR_NOTFOUND for an unknown or malformed token. */
int store_session_del(struct store_txn *t, const char *token, struct err *e);
/* End every session of user; none is fine. */
int store_session_del_user(struct store_txn *t, const char *user, struct err *e);
/*
 * Delete sessions last seen more than idle_seconds before now, and
 * malformed ones; *removed_out (optional) gets how many.
 */
int store_session_prune(struct store_txn *t, int64_t now, int64_t idle_seconds, size_t *removed_out,
                        struct err *e);
/* Free what s holds and zero it. */
void store_session_release(struct store_session *s);
/* 1 when given equals the session's CSRF token (constant time), 0 otherwise or for NULL. */
int store_session_csrf_ok(const struct store_session *s, const char *given);

#endif
