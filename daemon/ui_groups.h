/*
 * The Groups tab of /settings (ui_settings.c routes here): every stored
 * group with its service count, then the group names services use that no
 * group defines, so they can be defined. Its forms are POSTs to
 * /settings/groups/{add,edit,rename,delete}. A group that services still
 * use can be neither renamed nor deleted; the writer job re-checks that,
 * and that a name is free, inside the transaction.
 */
#ifndef DAEMON_UI_GROUPS_H
#define DAEMON_UI_GROUPS_H

#include <jansson.h>

#include "auth.h"
#include "http.h"

struct daemon;
struct store_txn;
struct ui_settings_failed;

enum ui_groups_op { UI_GROUPS_ADD, UI_GROUPS_EDIT, UI_GROUPS_RENAME, UI_GROUPS_DELETE };

/* The tab's section of ui-settings.html (new reference), showing f's form again if not NULL. */
json_t *ui_groups_tab(struct store_txn *t, const struct ui_settings_failed *f);

/* Handle a groups form POST for op; always fills res (303, or the tab again on a problem). */
void ui_groups_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u, enum ui_groups_op op);

#endif
