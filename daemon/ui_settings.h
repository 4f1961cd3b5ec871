/*
 * The web UI's /settings and /dbdump, for admins (ui.c routes only a
 * logged-in admin without a pending password change here).
 *
 * /settings is one page with tabs (?tab=info|groups|exposure|users|
 * inventory, default info), each a server-rendered section of
 * ui-settings.html. Every change is a POST form to /settings/<tab>/<verb>
 * carrying the session's CSRF token: on success a 303 back to
 * /settings?tab=X&done=<key> (the key picks a fixed message, so nothing
 * from the query string is echoed); on a problem the tab again with a
 * 400 (bad input), 404 (gone meanwhile) or 409 (conflicts with the
 * stored state) and the message next to the field, nothing changed.
 * Every write is one writer job that re-checks its preconditions inside
 * the transaction, so two admins racing cannot slip past a check.
 *
 * /dbdump is every service with every field (inventory and live, in
 * store_fields order) in one wide table (ui-dbdump.html).
 */
#ifndef DAEMON_UI_SETTINGS_H
#define DAEMON_UI_SETTINGS_H

#include <jansson.h>

#include "auth.h"
#include "http.h"

struct daemon;

/* Serve /settings[/...] and /dbdump for u (a logged-in admin); always fills res. */
void ui_settings_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u);

/*
 * For the tab modules only (ui_groups, ui_exposure, ui_users): this module
 * owns the page and routing, they own their tab's section and forms, and
 * call back here to show the page again or to share these helpers.
 */

/*
 * A form that failed, shown again: row is the table row it belongs to (a
 * group or user name; NULL for the tab's add form), errors maps its field
 * names to messages, form is what was posted. error is for the whole tab;
 * exposure (exposure tab only) is what the form asked for, shown instead of
 * the stored settings.
 */
struct ui_settings_failed {
	const char *row;
	json_t *errors;
	const json_t *form;
	const char *error;
	const json_t *exposure;
};

/* Show /settings on tab: done is the message, f a failed form or NULL; 500 on a store error. */
void ui_settings_page(struct daemon *d, struct http_response *res, int status,
                      const struct auth_user *u, const char *tab, const char *done,
                      const struct ui_settings_failed *f);

/* Show the Inventory tab with report (what a backup restore did, ui_backup.c) on top. */
void ui_settings_page_report(struct daemon *d, struct http_response *res, const struct auth_user *u,
                             const json_t *report);

/* A JSON value as new text: strings as they are, numbers and booleans as words, lists as JSON. */
char *ui_settings_value_text(const json_t *v);

/* s without leading and trailing white space (new string). */
char *ui_settings_trimmed(const char *s);

/* The HTTP status for an ERR_* code: 400, 409, 404, else 500. */
int ui_settings_status_of(int rc);

/* Set errors[field] to msg unless the field already has a message. */
void ui_settings_set_error(json_t *errors, const char *field, const char *msg);

/* A 303 to /settings?tab=<tab>&done=<done>. */
void ui_settings_redirect_done(struct http_response *res, const char *tab, const char *done);

#endif
