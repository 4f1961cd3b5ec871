/*
 * The web UI's service pages: /add, /edit/<id> and /edit/<id>/delete.
 * A form is turned into the same edit object the JSON API takes and goes
 * through change_apply, so the rules (validation, URL provenance, the
 * operator's icon) are the API's; an edit sends only the fields the
 * operator changed, so an untouched synthesized URL stays synthesized.
 * Invalid input re-shows the form with the message next to the field and
 * the input kept.
 */
#ifndef DAEMON_UI_EDIT_H
#define DAEMON_UI_EDIT_H

#include "auth.h"
#include "http.h"

struct daemon;

/* Serve /add, /edit/<id>[/delete] for u (a logged-in admin). */
void ui_edit_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u);

#endif
