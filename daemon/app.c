#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/git.h"
#include "../store/repo.h"
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
		/* Resume what a crashed process left unmirrored. */
		rc = store_mirror_drain(a->mirror, a->db, NULL, e);
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
