/*
 * The Users tab of /settings (ui_settings.c routes here): every account
 * with its role and times, and the forms /settings/users/{add,password,
 * role,delete}. The store keeps at least one admin; an admin who sets
 * their own password gets a fresh session, one who deletes themselves is
 * logged out, and one who gives up admin is sent to /.
 */
#ifndef DAEMON_UI_USERS_H
#define DAEMON_UI_USERS_H

#include <jansson.h>

#include "auth.h"
#include "http.h"

struct daemon;
struct store_txn;
struct ui_settings_failed;

enum ui_users_op { UI_USERS_ADD, UI_USERS_PASSWORD, UI_USERS_ROLE, UI_USERS_DELETE };

/* The tab's section of ui-settings.html for u (new reference), showing f's form again if set. */
json_t *ui_users_tab(struct store_txn *t, const struct auth_user *u,
                     const struct ui_settings_failed *f);

/* Handle a users form POST for op; always fills res (a redirect, or the tab again on a problem). */
void ui_users_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                   const struct auth_user *u, enum ui_users_op op);

#endif
