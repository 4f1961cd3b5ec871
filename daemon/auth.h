/*
 * Who is asking: the web UI's login sessions on top of store/users.h. A
 * session is a random token in the portolan_session cookie (HttpOnly,
 * SameSite=Lax, Secure over https); the store keeps only its hash. Every
 * request looks the session and its user up again, so a logout, password
 * change, role change or deleted user applies at the next request.
 * Logins are throttled per client IP (throttle.h). State-changing calls
 * made with a session carry its CSRF token (form field csrf_token or the
 * X-CSRF-Token header); Bearer-token calls do not need one (no browser
 * sends a Bearer token by itself).
 */
#ifndef DAEMON_AUTH_H
#define DAEMON_AUTH_H

#include "../common/err.h"
#include "../store/users.h"
#include "http.h"

struct daemon;

#define AUTH_COOKIE "portolan_session"
/* Set beside it, readable by scripts, holding nothing: "a UI session may exist". */
#define AUTH_UI_COOKIE "portolan_ui"

struct auth_user {
	char name[STORE_USER_NAME_MAX + 1];
	int admin;       /* role admin: may change things */
	int must_change; /* must set a new password before anything else */
	char token[STORE_SESSION_TOKEN_LEN + 1];
	char csrf[STORE_SESSION_TOKEN_LEN + 1];
};

/*
 * The session user of req: 0 with *u filled, ERR_NOTFOUND when there is
 * no valid session (no cookie, unknown, expired, user gone). Refreshes the
 * session's last-seen time when it is due (asynchronously).
 */
int auth_session(struct daemon *d, const struct http_request *req, struct auth_user *u);
/*
 * Check a login from req's client: 0 with a new session in *u; ERR_BUSY
 * when the IP is locked out (*retry_after seconds), ERR_AUTH for a wrong
 * name or password (counted against the IP), other codes when the store
 * failed. Failures are logged with the IP and name, never the password.
 */
int auth_login(struct daemon *d, const struct http_request *req, const char *name,
               const char *password, struct auth_user *u, int *retry_after, struct err *e);
/* Password checks running at once, at most (each ~0.1 s of CPU and 64 MiB). */
#define AUTH_HASHING_MAX 2

/*
 * Check name's password (store_user_verify), at most AUTH_HASHING_MAX at
 * once: ERR_BUSY when that many are running, ERR_AUTH when wrong.
 */
int auth_verify(struct daemon *d, const char *name, const char *password, struct store_user *out,
                struct err *e);
/* End u's session. */
void auth_logout(struct daemon *d, const struct auth_user *u);
/* 1 when given is u's CSRF token (constant time). */
int auth_csrf_ok(const struct auth_user *u, const char *given);
/* Set the session cookie (and AUTH_UI_COOKIE) for token, or clear them (token NULL). */
void auth_cookie(const struct http_request *req, struct http_response *res, const char *token);
/* 1 when req came over https: directly, or X-Forwarded-Proto from a loopback proxy. */
int auth_https(const struct http_request *req);
/* Room for an address from auth_client_ip. */
#define AUTH_IP_MAX 64
/*
 * The client's address: the last X-Forwarded-For hop when the peer is a
 * proxy on this machine (so the login throttle counts clients, not the
 * proxy), else the peer's. Returns buf or req->remote_ip.
 */
const char *auth_client_ip(const struct http_request *req, char *buf, size_t size);
/* Create the first admin (admin / changeme123, must change) on an empty store. */
int auth_ensure_default_user(struct daemon *d, struct err *e);

#endif
