#include "ui.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/theme.h"
#include "form.h"
#include "serve.h"
#include "throttle.h"
#include "ui_edit.h"
#include "ui_settings.h"
#include "../common/banned.h"

/* The UI's pages load only their own files; forms post only here. */
#define UI_CSP                                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const char *const required[] = {"ui-page",   "ui-login",   "ui-password",
                                       "ui-edit",   "ui-message", "ui-settings",
                                       "ui-dbdump", "ui-history", NULL};

struct ui {
	char *override_dir;
	pthread_rwlock_t lock; /* guards theme: renders read, a reload swaps it */
	struct render_theme theme;
};

int ui_new(struct ui **out, const char *config, struct err *e)
{
	struct ui *ui = xcalloc(1, sizeof(*ui));
	ui->override_dir = xasprintf("%s/templates", config);
	int rc = render_theme_load(&ui->theme, NULL, ui->override_dir, required, e);
	if (rc) {
		free(ui->override_dir);
		free(ui);
		return rc;
	}
	pthread_rwlock_init(&ui->lock, NULL);
	*out = ui;
	return 0;
}

void ui_reload(struct ui *ui)
{
	if (!ui)
		return;
	struct render_theme fresh;
	memset(&fresh, 0, sizeof(fresh));
	struct err e = {0};
	if (render_theme_load(&fresh, NULL, ui->override_dir, required, &e)) {
		log_error("UI templates not reloaded: %s", e.msg);
		return;
	}
	pthread_rwlock_wrlock(&ui->lock);
	render_theme_release(&ui->theme);
	ui->theme = fresh;
	pthread_rwlock_unlock(&ui->lock);
}

void ui_free(struct ui *ui)
{
	if (!ui)
		return;
	render_theme_release(&ui->theme);
	pthread_rwlock_destroy(&ui->lock);
	free(ui->override_dir);
	free(ui);
}

/* --- shared helpers ------------------------------------------------------- */

void ui_page(struct daemon *d, struct http_response *res, int status, const char *title,
             const char *body, json_t *ctx, const struct auth_user *u)
{
	struct ui *ui = d->ui;
	struct buf inner, page;
	buf_init(&inner, 0);
	buf_init(&page, 0);
	struct err e = {0};
	json_t *outer = json_pack("{s:s}", "title", title);
	if (u)
		json_object_set_new(outer, "user",
		                    json_pack("{s:s,s:s,s:b,s:s}", "name", u->name, "role",
		                              u->admin ? "admin" : "viewer", "admin", u->admin,
		                              "csrf", u->csrf));
	pthread_rwlock_rdlock(&ui->lock);
	int rc = tmpl_render(ui->theme.tmpl, body, ctx, &inner, &e);
	if (!rc) {
		json_object_set_new(outer, "body_html", json_stringn(inner.data, inner.len));
		rc = tmpl_render(ui->theme.tmpl, "ui-page", outer, &page, &e);
	}
	pthread_rwlock_unlock(&ui->lock);
	json_decref(outer);
	json_decref(ctx);
	buf_release(&inner);
	buf_release(&res->body);
	if (rc) {
		log_error("UI page '%s': %s", body, e.msg);
		buf_release(&page);
		res->status = 500;
		res->content_type = "text/plain; charset=utf-8";
		buf_adds(&res->body, "internal error: the page template failed (see the log)\n");
		return;
	}
	res->status = status;
	res->content_type = "text/html; charset=utf-8";
	res->body = page;
	http_response_header(res, "Content-Security-Policy", UI_CSP);
}

void ui_redirect(struct http_response *res, const char *location)
{
	res->status = 303;
	res->content_type = "text/plain; charset=utf-8";
	http_response_header(res, "Location", location);
}

static void message(struct daemon *d, struct http_response *res, int status, const char *title,
                    const char *text, const struct auth_user *u)
{
	ui_page(d, res, status, title, "ui-message", json_pack("{s:s}", "message", text), u);
}

int ui_csrf_ok(struct daemon *d, struct http_response *res, const json_t *form,
               const struct auth_user *u)
{
	if (u && auth_csrf_ok(u, form_get(form, "csrf_token")))
		return 1;
	message(d, res, 403, "Forbidden",
	        "The form's security token is missing or out of date (CSRF). Nothing was changed: "
	        "go back, reload the page and try again.",
	        u);
	return 0;
}

/*
 * A form posted from another site: its Origin names another host than the
 * one it was sent to (Host, or X-Forwarded-Host from a proxy that
 * rewrote Host: a form cannot set that header, only a proxy can). Browsers
 * send Origin with every POST; tools may not, and need no such check.
 */
static int cross_origin(const struct http_request *req)
{
	const char *origin = http_header(req, "Origin"), *host = http_header(req, "Host");
	const char *fwd = http_header(req, "X-Forwarded-Host");
	if (!origin)
		return 0;
	const char *sep = strstr(origin, "://");
	if (!sep)
		return 1;
	return !(host && !strcasecmp(sep + 3, host)) && !(fwd && !strcasecmp(sep + 3, fwd));
}

json_t *ui_form(struct daemon *d, const struct http_request *req, struct http_response *res,
                const struct auth_user *u)
{
	const char *type = http_header(req, "Content-Type");
	struct err e = {0};
	json_t *form = NULL;
	if (cross_origin(req))
		message(d, res, 403, "Forbidden",
		        "This form was sent from another site (Origin). Nothing was changed.", u);
	else if (req->body_too_large)
		message(d, res, 413, "Too large", "The form is larger than 1 MiB.", u);
	else if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33))
		message(d, res, 415, "Unsupported form",
		        "Forms must be sent as application/x-www-form-urlencoded.", u);
	else if (form_parse(req->body.data, req->body.len, &form, &e))
		message(d, res, 400, "Bad form", e.msg, u);
	return form;
}

json_t *ui_form_multipart(struct daemon *d, const struct http_request *req,
                          struct http_response *res, const struct auth_user *u,
                          struct form_multipart *mp)
{
	const char *type = http_header(req, "Content-Type");
	struct err e = {0};
	json_t *form = NULL;
	memset(mp, 0, sizeof(*mp));
	if (cross_origin(req))
		message(d, res, 403, "Forbidden",
		        "This form was sent from another site (Origin). Nothing was changed.", u);
	else if (req->body_too_large)
		message(d, res, 413, "Too large", "The upload is larger than 1 MiB.", u);
	else if (!type || strncasecmp(type, "multipart/form-data", 19))
		message(d, res, 415, "Unsupported form",
		        "This form must be sent as multipart/form-data.", u);
	else if (form_parse_multipart(mp, type, req->body.data, req->body.len, &e) ||
	         form_multipart_fields(mp, &form, &e)) {
		form_multipart_release(mp);
		message(d, res, 400, "Bad form", e.msg, u);
	}
	return form;
}

/* --- /login, /logout, /password ------------------------------------------- */

static const char *next_or_home(const char *next)
{
	return form_local_path(next) && strncmp(next, "/login", 6) ? next : "/";
}

static void login_page(struct daemon *d, struct http_response *res, int status, const char *next,
                       const char *username, const char *error)
{
	ui_page(d, res, status, "Log in", "ui-login",
	        json_pack("{s:s,s:s,s:s?}", "next", next_or_home(next), "username", username,
	                  "error", error),
	        NULL);
}

static void login_post(struct daemon *d, const struct http_request *req, struct http_response *res)
{
	json_t *form = ui_form(d, req, res, NULL);
	if (!form)
		return;
	const char *name = form_get(form, "username"), *next = form_get(form, "next");
	struct auth_user u;
	struct err e = {0};
	int retry = 0;
	int rc = auth_login(d, req, name, form_get(form, "password"), &u, &retry, &e);
	if (rc == ERR_BUSY) { /* locked out (429), or too many checks running (503) */
		char secs[24];
		snprintf(secs, sizeof(secs), "%d", retry > 0 ? retry : 1);
		login_page(d, res, retry > 0 ? 429 : 503, next, name, e.msg);
		http_response_header(res, "Retry-After", secs);
	} else if (rc == ERR_AUTH) {
		login_page(d, res, 401, next, name, e.msg);
	} else if (rc) {
		message(d, res, 500, "Error", e.msg, NULL);
	} else {
		auth_cookie(req, res, u.token);
		ui_redirect(res, u.must_change ? "/password" : next_or_home(next));
	}
	json_decref(form);
}

static void logout_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form)
		return;
	if (!u) {
		auth_cookie(req, res, NULL);
		ui_redirect(res, "/login");
	} else if (ui_csrf_ok(d, res, form, u)) {
		auth_logout(d, u);
		auth_cookie(req, res, NULL);
		ui_redirect(res, "/login");
	}
	json_decref(form);
}

static void password_page(struct daemon *d, struct http_response *res, int status,
                          const struct auth_user *u, json_t *errors)
{
	json_t *ctx = json_pack("{s:b,s:o,s:s}", "forced", u->must_change, "errors",
	                        errors ? errors : json_object(), "csrf", u->csrf);
	ui_page(d, res, status, "Change password", "ui-password", ctx, u);
}

struct passwd_job {
	const char *name, *password;
	struct auth_user *u;
};

/* The new password ends every session of the user; this one is replaced by a fresh one. */
static int apply_passwd(struct store_txn *t, void *ctx, struct err *e)
{
	struct passwd_job *j = ctx;
	int64_t now = (int64_t)time(NULL);
	int rc = store_user_set_password(t, j->name, j->password, 0, now, e);
	if (!rc)
		rc = store_session_create(t, j->name, now, j->u->token, j->u->csrf, e);
	return rc;
}

static void password_post(struct daemon *d, const struct http_request *req,
                          struct http_response *res, const struct auth_user *u)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	const char *cur = form_get(form, "current_password"), *pw = form_get(form, "new_password");
	json_t *errors = json_object();
	struct err e = {0};
	/* the current password guards a session left open: guesses count like failed logins */
	int64_t now = (int64_t)time(NULL), wait = 0;
	char ipbuf[AUTH_IP_MAX];
	const char *ip = auth_client_ip(req, ipbuf, sizeof(ipbuf));
	int rc = throttle_check(d->throttle, ip, now, &wait)
	             ? err_set(&e, ERR_BUSY,
	                       "too many wrong passwords from this address: try again later")
	             : auth_verify(d, u->name, cur, NULL, &e);
	if (rc == ERR_AUTH)
		throttle_fail(d->throttle, ip, now);
	if (rc == ERR_BUSY) {
		json_object_set_new(errors, "current_password", json_string(e.msg));
		password_page(d, res, 429, u, errors);
		json_decref(form);
		return;
	}
	if (rc)
		json_object_set_new(errors, "current_password",
		                    json_string("This is not your current password."));
	else if (store_user_check_password(pw, &e))
		json_object_set_new(errors, "new_password", json_string(e.msg));
	else if (strcmp(pw, form_get(form, "confirm_password")))
		json_object_set_new(errors, "confirm_password",
		                    json_string("The two new passwords differ."));
	else if (!strcmp(pw, cur))
		json_object_set_new(
		    errors, "new_password",
		    json_string("The new password must differ from the current one."));
	if (json_object_size(errors)) {
		password_page(d, res, 400, u, errors);
		json_decref(form);
		return;
	}
	json_decref(errors);
	struct auth_user fresh = *u;
	fresh.must_change = 0;
	struct passwd_job j = {u->name, pw, &fresh};
	if (writer_submit(d->writer, apply_passwd, &j, &e)) {
		message(d, res, 500, "Error", e.msg, u);
	} else {
		log_info("password changed for '%s'", u->name);
		auth_cookie(req, res, fresh.token);
		ui_redirect(res, "/");
	}
	json_decref(form);
}

/* --- routing -------------------------------------------------------------- */

static int is(const struct http_request *req, const char *method)
{
	return !strcmp(req->method, method);
}

static void not_allowed(struct http_response *res, const char *allow)
{
	res->status = 405;
	res->content_type = "text/plain; charset=utf-8";
	buf_adds(&res->body, "method not allowed\n");
	res->allow = xstrdup(allow);
}

int ui_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
              const struct auth_user *u)
{
	const char *p = req->path;
	if (!strcmp(p, "/login")) {
		if (is(req, "GET") || is(req, "HEAD")) {
			const char *next = http_query(req, "next");
			if (u && !u->must_change)
				ui_redirect(res, next_or_home(next));
			else
				login_page(d, res, 200, next ? next : "/", "", NULL);
		} else if (is(req, "POST")) {
			login_post(d, req, res);
		} else {
			not_allowed(res, "GET, POST");
		}
		return 1;
	}
	if (!strcmp(p, "/logout")) {
		if (is(req, "POST"))
			logout_post(d, req, res, u);
		else
			not_allowed(res, "POST");
		return 1;
	}
	int settings =
	    !strcmp(p, "/settings") || !strncmp(p, "/settings/", 10) || !strcmp(p, "/dbdump");
	if (strcmp(p, "/password") && strcmp(p, "/add") && strncmp(p, "/edit/", 6) && !settings)
		return 0;
	if (!u) {
		struct buf to;
		buf_init(&to, 0);
		buf_adds(&to, "/login?next=");
		form_url_encode(&to, p);
		ui_redirect(res, to.data);
		buf_release(&to);
		return 1;
	}
	if (!strcmp(p, "/password")) {
		if (is(req, "GET") || is(req, "HEAD"))
			password_page(d, res, 200, u, NULL);
		else if (is(req, "POST"))
			password_post(d, req, res, u);
		else
			not_allowed(res, "GET, POST");
		return 1;
	}
	if (u->must_change) {
		ui_redirect(res, "/password");
		return 1;
	}
	if (!u->admin) {
		message(d, res, 403, "Forbidden", "Your account can view, not change.", u);
		return 1;
	}
	if (settings)
		ui_settings_handle(d, req, res, u);
	else
		ui_edit_handle(d, req, res, u);
	return 1;
}
