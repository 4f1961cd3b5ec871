/*
 * The web UI: pages the daemon renders on request with the same template
 * engine and stylesheet as the static site (templates ui-*.html in
 * site-templates/, overridable from <config>/templates like the site's).
 * This module owns the UI's theme and the account pages (/login,
 * /logout, /password); ui_edit.c has the service forms. Every form that
 * changes something carries the session's CSRF token; a missing or wrong
 * one is a 403 and changes nothing.
 */
#ifndef DAEMON_UI_H
#define DAEMON_UI_H

#include <jansson.h>

#include "../common/err.h"
#include "auth.h"
#include "http.h"

struct daemon;
struct ui;

/* Load the UI templates (embedded + <config>/templates). ERR_INVAL with file:line. */
int ui_new(struct ui **out, const char *config, struct err *e);
/* Re-read the templates (SIGHUP); a set that does not parse is logged, the old one stays. */
void ui_reload(struct ui *ui);
/* Free. NULL is fine. */
void ui_free(struct ui *ui);

/*
 * Handle a UI route; 1 when req was one (res filled), 0 otherwise. u is
 * the session user or NULL.
 */
int ui_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
              const struct auth_user *u);

/*
 * Render template `body` with ctx (stolen) inside ui-page as the reply,
 * titled title, for user u (NULL: logged out). On a template error, a 500.
 */
void ui_page(struct daemon *d, struct http_response *res, int status, const char *title,
             const char *body, json_t *ctx, const struct auth_user *u);
/* A 303 to location (a local path). */
void ui_redirect(struct http_response *res, const char *location);
/* 1 when the form's csrf_token is u's; else replies 403 (a page) and returns 0. */
int ui_csrf_ok(struct daemon *d, struct http_response *res, const json_t *form,
               const struct auth_user *u);
/*
 * The request's form body, or NULL after replying 400/415/413. The
 * caller releases it.
 */
json_t *ui_form(struct daemon *d, const struct http_request *req, struct http_response *res,
                const struct auth_user *u);
/*
 * Like ui_form for a multipart/form-data body (a file upload): the plain
 * fields as the JSON object, every part (files too) in *mp, which the
 * caller releases. NULL after replying 400/403/413/415 (*mp then empty).
 */
struct form_multipart;
json_t *ui_form_multipart(struct daemon *d, const struct http_request *req,
                          struct http_response *res, const struct auth_user *u,
                          struct form_multipart *mp);

#endif
