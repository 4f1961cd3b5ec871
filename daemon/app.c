#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/git.h"
#include "../store/repo.h"
#include "../store/import.h"
#include "../common/banned.h"

/* A store that has never seen a change: nothing in it, no journal. */
static int store_is_empty(struct store_db *db)
{
	struct store_txn *t;
	if (store_txn_begin(db, 0, &t, NULL))
		return 0;
	int empty = store_db_count(t) == 0 && store_journal_last(t) == 0;
	store_txn_abort(t);
	return empty;
}

int app_rebuild(struct app *a, size_t *nservices, struct err *e)
{
	/* Mirror what is pending first, so the repo holds every acknowledged change. */
	int rc = store_mirror_drain(a->mirror, a->db, NULL, e);
	if (rc)
		return rc;
	struct store_repo repo;
	struct buf problems;
	buf_init(&problems, 0);
	rc = store_repo_load(&repo, a->repo, &problems, e);
	if (rc) {
		fputs(problems.data, stderr);
		buf_release(&problems);
		return rc;
	}
	buf_release(&problems);
	char head[STORE_GIT_HEX_SIZE];
	int has_head = !store_mirror_head(a->mirror, head, NULL);
	rc = store_repo_rebuild(a->db, &repo, has_head ? head : NULL, e);
	if (!rc && nservices)
		*nservices = repo.n;
	store_repo_release(&repo);
	if (!rc)
		rc = store_mirror_drain(a->mirror, a->db, NULL, e);
	return rc;
}

int app_open(struct app *a, const char *config, struct err *e)
{
	memset(a, 0, sizeof(*a));
	a->config = xstrdup(config);
	a->repo = xasprintf("%s/inventory", config);
	char *lmdb = xasprintf("%s/services.lmdb", config);
	char *lock = xasprintf("%s/inventory.lock", config);
	int rc = fileio_mkdirs(config, e);
	if (!rc)
		rc = store_mirror_open(&a->mirror, a->repo, lock, e);
	if (!rc)
		rc = store_db_open(&a->db, lmdb, e);
	if (!rc && store_is_empty(a->db)) {
		size_t n = 0;
		rc = app_rebuild(a, &n, e);
		if (!rc && n)
			log_info("rebuilt the store from '%s': %zu services", a->repo, n);
	} else if (!rc) {
		/* Commits made by hand while we were down come in before we commit on top. */
		struct app_import_result res;
		if (app_import(a, NULL, &res, e) == ERR_STORE)
			rc = ERR_STORE;
		app_import_result_release(&res);
		/* Resume what a crashed process left unmirrored. */
		if (!rc)
			rc = store_mirror_drain(a->mirror, a->db, NULL, e);
		if (rc == ERR_BUSY) { /* an outside commit could not be imported: logged; later */
			log_warn("%s", e->msg);
			rc = 0;
		}
	}
	free(lmdb);
	free(lock);
	if (rc)
		app_close(a);
	return rc;
}

void app_close(struct app *a)
{
	store_mirror_free(a->mirror);
	store_db_close(a->db);
	free(a->config);
	free(a->repo);
	memset(a, 0, sizeof(*a));
}

struct import_job {
	const struct store_mirror_import *mi;
	int refuse;
	size_t changed;
};

/*
 * In a transaction of its own, never the writer's group: an import is all
 * or nothing, and one that fails must not fail the registers it would
 * have shared a group with.
 */
static int run_job(struct app *a, struct import_job *j, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(a->db, 1, &t, e);
	if (rc)
		return rc;
	rc = j->refuse ? store_mirror_refuse(t, j->mi, e)
	               : store_mirror_import_apply(t, j->mi, (int64_t)time(NULL), &j->changed, e);
	return rc ? (store_txn_abort(t), rc) : store_txn_commit(t, e);
}

void app_import_result_release(struct app_import_result *r)
{
	free(r->problems);
	free(r->author);
	memset(r, 0, sizeof(*r));
}

int app_import(struct app *a, const char *fetched, struct app_import_result *res, struct err *e)
{
	struct store_mirror_import mi;
	struct buf problems;
	buf_init(&problems, 0);
	memset(res, 0, sizeof(*res));
	double t0 = clock_mono_s();
	int rc = store_mirror_check(a->mirror, a->db, fetched, &mi, &problems, e);
	snprintf(res->rev, sizeof(res->rev), "%s", mi.rev);
	struct import_job job = {&mi, 0, 0};
	if (!rc && mi.plan) {
		res->author = xstrdup(store_import_author(mi.plan));
		res->files = store_import_nfiles(mi.plan);
		rc = run_job(a, &job, e);
		if (rc == ERR_INVAL || rc == ERR_EXISTS || rc == ERR_NOTFOUND) {
			/* valid files that cannot be applied together: refused like an invalid one
			 */
			buf_addf(&problems, "%s\n", e->msg);
			rc = ERR_INVAL;
		}
		res->changed = job.changed;
		res->seconds = clock_mono_s() - t0;
		if (!rc) {
			res->outcome = APP_IMPORT_DONE;
			log_info(
			    "git import: %.7s by %s (%s): %zu files, %zu services changed in %.0f "
			    "ms",
			    mi.rev, res->author, mi.from_head ? "committed in the repo" : "fetched",
			    res->files, res->changed, res->seconds * 1000);
		}
	}
	if (rc == ERR_INVAL && mi.rev[0]) {
		/* refused whole: say why, file by file, and do not try this commit again */
		res->outcome = APP_IMPORT_REFUSED;
		res->problems = buf_detach(&problems, NULL);
		log_error("git import: refused %.7s (%s): nothing applied", mi.rev,
		          mi.from_head ? "committed in the repo" : "fetched");
		for (char *line = res->problems, *end; line && *line; line = end) {
			end = strchr(line, '\n');
			log_error("git import: %.*s", end ? (int)(end - line) : (int)strlen(line),
			          line);
			end = end ? end + 1 : NULL;
		}
		job.refuse = 1;
		rc = run_job(a, &job, e);
	}
	if (rc)
		log_error("git import: %s", e->msg);
	store_mirror_import_release(&mi);
	buf_release(&problems);
	return rc;
}
