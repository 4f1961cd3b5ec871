/*
 * Settings → Inventory → "Restore the inventory to this commit": the files
 * of a past commit are loaded and validated like a rebuild's
 * (store/repo.h), then applied with store_ops_restore as the user's change
 * (new commits, nothing rewritten). An invalid version changes nothing.
 */
#ifndef DAEMON_UI_RESTORE_H
#define DAEMON_UI_RESTORE_H

#include "auth.h"
#include "http.h"

struct daemon;

/* POST /settings/inventory/restore (csrf_token, commit) for u, an admin. */
void ui_restore_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                     const struct auth_user *u);

#endif
