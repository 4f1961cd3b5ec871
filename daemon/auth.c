#include "auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "form.h"
#include "serve.h"
#include "throttle.h"
#include "../common/banned.h"

static int64_t idle_seconds(struct daemon *d)
{
	pthread_rwlock_rdlock(&d->settings_lock);
	int64_t s = (int64_t)d->settings->user_session_length * 60;
	pthread_rwlock_unlock(&d->settings_lock);
	return s;
}

static void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, STORE_USER_NAME_MAX);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct touch_job {
	char token[STORE_SESSION_TOKEN_LEN + 1];
	int64_t now;
};

static int apply_touch(struct store_txn *t, void *ctx, struct err *e)
{
	struct touch_job *j = ctx;
	int rc = store_session_touch(t, j->token, j->now, e);
	return rc == ERR_NOTFOUND ? 0 : rc; /* logged out meanwhile */
}

static void touch_done(void *arg, int rc, const struct err *e)
{
	if (rc)
		log_warn("cannot refresh a session: %s", e->msg);
	free(arg);
}

int auth_session(struct daemon *d, const struct http_request *req, struct auth_user *u)
{
	char token[STORE_SESSION_TOKEN_LEN + 2];
	const char *cookie = http_header(req, "Cookie");
	if (!cookie || form_cookie(cookie, AUTH_COOKIE, token, sizeof(token)))
		return ERR_NOTFOUND;
	int64_t now = (int64_t)time(NULL);
	struct store_txn *t = NULL;
	struct store_session s;
	struct store_user user;
	memset(&s, 0, sizeof(s));
	memset(&user, 0, sizeof(user));
	int rc = store_txn_begin(d->app.db, 0, &t, NULL);
	if (!rc)
		rc = store_session_get(t, token, now, idle_seconds(d), &s, NULL);
	if (!rc)
		rc = store_user_get(t, s.user, &user, NULL);
	store_txn_abort(t);
	if (!rc) {
		memset(u, 0, sizeof(*u));
		copy_name(u->name, user.name);
		u->admin = user.role == STORE_USER_ADMIN;
		u->must_change = user.must_change_password;
		memcpy(u->token, token, STORE_SESSION_TOKEN_LEN);
		memcpy(u->csrf, s.csrf, STORE_SESSION_TOKEN_LEN);
		if (now - s.last_seen > STORE_SESSION_TOUCH_AFTER) {
			struct touch_job *j = xcalloc(1, sizeof(*j));
			memcpy(j->token, token, STORE_SESSION_TOKEN_LEN);
			j->now = now;
			if (writer_submit_async(d->writer, apply_touch, j, touch_done, j, NULL))
				free(j);
		}
	}
	store_session_release(&s);
	store_user_release(&user);
	return rc ? ERR_NOTFOUND : 0;
}

struct login_job {
	const char *name;
	int64_t now, idle;
	struct auth_user *u;
};

static int apply_login(struct store_txn *t, void *ctx, struct err *e)
{
	struct login_job *j = ctx;
	int rc = store_session_create(t, j->name, j->now, j->u->token, j->u->csrf, e);
	if (!rc)
		rc = store_user_touch_login(t, j->name, j->now, e);
	if (!rc) /* a login is a good moment to drop sessions nobody will use again */
		rc = store_session_prune(t, j->now, j->idle, NULL, e);
	return rc;
}

int auth_verify(struct daemon *d, const char *name, const char *password, struct store_user *out,
                struct err *e)
{
	/*
	 * A check costs ~0.1 s of CPU and 64 MiB on an HTTP thread: at most
	 * AUTH_HASHING_MAX at once, so a flood of logins cannot take every
	 * thread (or much memory); the rest are told to come back.
	 */
	if (atomic_fetch_add(&d->hashing, 1) >= AUTH_HASHING_MAX) {
		atomic_fetch_sub(&d->hashing, 1);
		return err_set(e, ERR_BUSY,
		               "too many logins at this moment: try again in a second");
	}
	struct store_txn *t = NULL;
	/* a read txn: it holds no lock anybody waits on */
	int rc = store_txn_begin(d->app.db, 0, &t, e);
	if (!rc)
		rc = store_user_verify(t, name, password, out, e);
	store_txn_abort(t);
	atomic_fetch_sub(&d->hashing, 1);
	return rc;
}

int auth_login(struct daemon *d, const struct http_request *req, const char *name,
               const char *password, struct auth_user *u, int *retry_after, struct err *e)
{
	int64_t now = (int64_t)time(NULL), wait = 0;
	char ipbuf[AUTH_IP_MAX];
	const char *ip = auth_client_ip(req, ipbuf, sizeof(ipbuf));
	if (throttle_check(d->throttle, ip, now, &wait)) {
		*retry_after = (int)wait;
		return err_set(e, ERR_BUSY,
		               "too many failed logins from this address: try again in %d minutes",
		               (int)((wait + 59) / 60));
	}
	struct store_user user;
	memset(&user, 0, sizeof(user));
	int rc = auth_verify(d, name, password, &user, e);
	if (rc == ERR_AUTH) {
		int locked = throttle_fail(d->throttle, ip, now);
		log_warn("failed login for '%.64s' from %s%s", name, ip,
		         locked ? ": address locked out for 15 minutes" : "");
		store_user_release(&user);
		return err_set(e, ERR_AUTH, "wrong user name or password");
	}
	if (rc) {
		store_user_release(&user);
		return rc;
	}
	/*
	 * A good login leaves the address's failures alone (throttle.h): one
	 * login with any account must not wipe the guesses at another.
	 */
	memset(u, 0, sizeof(*u));
	copy_name(u->name, user.name);
	u->admin = user.role == STORE_USER_ADMIN;
	u->must_change = user.must_change_password;
	store_user_release(&user);
	struct login_job j = {u->name, now, idle_seconds(d), u};
	rc = writer_submit(d->writer, apply_login, &j, e);
	if (!rc)
		log_info("login '%s' from %s", u->name, ip);
	return rc;
}

static int apply_logout(struct store_txn *t, void *ctx, struct err *e)
{
	int rc = store_session_del(t, ctx, e);
	return rc == ERR_NOTFOUND ? 0 : rc;
}

void auth_logout(struct daemon *d, const struct auth_user *u)
{
	struct err e = {0};
	if (writer_submit(d->writer, apply_logout, (void *)u->token, &e))
		log_error("logout '%s': %s", u->name, e.msg);
	else
		log_info("logout '%s'", u->name);
}

int auth_csrf_ok(const struct auth_user *u, const char *given)
{
	struct store_session s;
	memset(&s, 0, sizeof(s));
	memcpy(s.csrf, u->csrf, sizeof(s.csrf));
	return store_session_csrf_ok(&s, given);
}

/* A peer on this machine: the only proxy whose X-Forwarded-* headers are believed. */
static int from_loopback(const struct http_request *req)
{
	return !strcmp(req->remote_ip, "127.0.0.1") || !strcmp(req->remote_ip, "::1") ||
	       !strncmp(req->remote_ip, "::ffff:127.", 10);
}

int auth_https(const struct http_request *req)
{
	const char *proto = http_header(req, "X-Forwarded-Proto");
	return from_loopback(req) && proto && !strcasecmp(proto, "https");
}

const char *auth_client_ip(const struct http_request *req, char *buf, size_t size)
{
	const char *xff = from_loopback(req) ? http_header(req, "X-Forwarded-For") : NULL;
	if (!xff)
		return req->remote_ip;
	/* the last hop is the one our proxy added; earlier ones the client may have made up */
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	size_t n = strspn(last, "0123456789abcdefABCDEF:.");
	if (!n || n >= size || last[n + strspn(last + n, " \t")])
		return req->remote_ip;
	memcpy(buf, last, n);
	buf[n] = '\0';
	return buf;
}

void auth_cookie(const struct http_request *req, struct http_response *res, const char *token)
{
	char v[256];
	snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s", AUTH_COOKIE,
	         token ? token : "", auth_https(req) ? "; Secure" : "", token ? "" : "; Max-Age=0");
	http_response_header(res, "Set-Cookie", v);
	/*
	 * A readable marker without the secret: app.js asks /api/v1/me only when
	 * it is there, so a copy of the site on nginx or file:// sends nothing.
	 */
	snprintf(v, sizeof(v), "%s=1; Path=/; SameSite=Lax%s%s", AUTH_UI_COOKIE,
	         auth_https(req) ? "; Secure" : "", token ? "" : "; Max-Age=0");
	http_response_header(res, "Set-Cookie", v);
}

static int apply_default_user(struct store_txn *t, void *ctx, struct err *e)
{
	return store_users_ensure_default(t, (int64_t)time(NULL), ctx, e);
}

int auth_ensure_default_user(struct daemon *d, struct err *e)
{
	int created = 0;
	int rc = writer_submit(d->writer, apply_default_user, &created, e);
	if (!rc && created)
		log_warn("created the user '%s' with the password '%s': log in at /login and "
		         "change it",
		         STORE_USER_DEFAULT_NAME, STORE_USER_DEFAULT_PASSWORD);
	return rc;
}
