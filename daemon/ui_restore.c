#include "ui_restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/history.h"
#include "../store/ops.h"
#include "../store/repo.h"
#include "form.h"
#include "serve.h"
#include "ui.h"
#include "ui_settings.h"
#include "../common/banned.h"

struct restore_job {
	const struct store_repo *repo;
	const char *author;
	size_t changed;
};

static int apply_restore(struct store_txn *t, void *ctx, struct err *e)
{
	struct restore_job *j = ctx;
	return store_ops_restore(t, j->repo, j->author, (int64_t)time(NULL), &j->changed, e);
}

/* Load the version at commit into repo, through a scratch dir under the config dir. */
static int load_version(struct daemon *d, const char *commit, struct store_repo *repo,
                        struct buf *problems, struct err *e)
{
	char *tmp = xasprintf("%s/restore.XXXXXX", d->app.config);
	if (!mkdtemp(tmp)) {
		int rc = err_set(e, ERR_IO, "cannot create '%s'", tmp);
		free(tmp);
		return rc;
	}
	int rc = store_history_export(d->app.repo, commit, tmp, e);
	if (!rc && (rc = store_repo_load(repo, tmp, problems, e)) == ERR_INVAL && problems->len)
		err_set(e, ERR_INVAL, "that version does not validate any more: %.300s",
		        problems->data);
	fileio_remove_tree(tmp, NULL);
	free(tmp);
	return rc;
}

void ui_restore_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                     const struct auth_user *u)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	const char *commit = form_get(form, "commit");
	struct store_repo repo;
	memset(&repo, 0, sizeof(repo));
	struct buf problems;
	buf_init(&problems, 64 * 1024);
	struct err e = {0};
	struct restore_job j = {&repo, u->name, 0};
	int rc = load_version(d, commit, &repo, &problems, &e);
	if (!rc)
		rc = writer_submit(d->writer, apply_restore, &j, &e);
	if (rc) {
		struct ui_settings_failed f = {.error = e.msg};
		ui_settings_page(d, res, ui_settings_status_of(rc), u, "inventory", NULL, &f);
	} else {
		log_info("inventory restored to %.12s by '%s': %zu service(s) changed", commit,
		         u->name, j.changed);
		char done[64];
		snprintf(done, sizeof(done), "restored&changed=%zu", j.changed);
		ui_settings_redirect_done(res, "inventory", done);
	}
	store_repo_release(&repo);
	buf_release(&problems);
	json_decref(form);
}
