/*
 * Settings → Inventory → Backups: download a backup in STD's format, save
 * one on the server (the daily job's file, backup.h), and restore from a
 * server file (by name only, from BACKUP_PATH) or an upload, scope all or
 * static. A restore is parsed and validated whole first (an invalid file
 * changes nothing and names file:line), then applied in one writer job
 * with store_ops_std_restore as the user, and the tab shows the
 * per-record report. Admins only (ui.c); every POST carries the CSRF
 * token.
 */
#ifndef DAEMON_UI_BACKUP_H
#define DAEMON_UI_BACKUP_H

#include <jansson.h>

#include "auth.h"
#include "http.h"

struct daemon;

enum ui_backup_op {
	UI_BACKUP_SAVE,    /* POST /settings/inventory/backup/save (csrf_token) */
	UI_BACKUP_RESTORE, /* POST /settings/inventory/backup/restore (csrf_token, file, scope) */
	UI_BACKUP_UPLOAD,  /* POST /settings/inventory/backup/upload, multipart (csrf_token, scope,
	                      file) */
};

/* GET /settings/inventory/backup: the inventory as service_backup_all_<stamp>.yaml. */
void ui_backup_download(struct daemon *d, struct http_response *res, const struct auth_user *u);
/* The POSTs above, for u (an admin). */
void ui_backup_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u, enum ui_backup_op op);
/* Add what the Backups part of the Inventory tab shows to section. */
void ui_backup_tab(struct daemon *d, json_t *section);

#endif
