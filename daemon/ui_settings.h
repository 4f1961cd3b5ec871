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

#include "auth.h"
#include "http.h"

struct daemon;

/* Serve /settings[/...] and /dbdump for u (a logged-in admin); always fills res. */
void ui_settings_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u);

#endif
