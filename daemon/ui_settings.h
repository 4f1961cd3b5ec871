/*
 * The web UI's /settings (tabs: Info, Groups, Exposure, Users, Inventory)
 * and /dbdump, for admins.
 */
#ifndef DAEMON_UI_SETTINGS_H
#define DAEMON_UI_SETTINGS_H

#include "auth.h"
#include "http.h"

struct daemon;

/* Serve /settings[/...] and /dbdump for u (a logged-in admin). */
void ui_settings_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u);

#endif
