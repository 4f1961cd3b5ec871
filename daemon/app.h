/*
 * The pieces every command works on, opened from one config dir:
 * <config>/services.lmdb/ (the store), <config>/inventory/ (the git repo),
 * <config>/inventory.lock (serialises git work between processes).
 * app_open() also rebuilds an empty store from the repo, so a deleted
 * services.lmdb/ comes back by itself, and otherwise mirrors whatever a
 * crashed process left in the journal, so every start converges.
 */
#ifndef DAEMON_APP_H
#define DAEMON_APP_H

#include "../common/err.h"
#include "../store/db.h"
#include "../store/mirror.h"

struct app {
	char *config;
	char *repo;
	struct store_db *db;
	struct store_mirror *mirror;
};

/* Open (creating) everything under config. ERR_* with a message on failure. */
int app_open(struct app *a, const char *config, struct err *e);
/* Close everything. Safe on a zeroed or partly opened app. */
void app_close(struct app *a);
/* Load the repo and rebuild LMDB from it; problems (file:line:col) go to stderr. */
int app_rebuild(struct app *a, size_t *nservices, struct err *e);

/* What app_import did. */
enum { APP_IMPORT_NONE, APP_IMPORT_DONE, APP_IMPORT_REFUSED };
struct app_import_result {
	int outcome;
	char rev[41];   /* the outside commit looked at ("" when none) */
	char *author;   /* its author (DONE) */
	char *problems; /* file:line:col lines (REFUSED) */
	size_t files, changed;
	double seconds;
};
void app_import_result_release(struct app_import_result *r);

/*
 * Import commits made outside (store/import.h): by hand in the repo, else
 * the commit fetched (NULL: none), e.g. "refs/remotes/origin/main", in a
 * transaction of its own. A refused commit is logged with file:line and
 * remembered; returns 0 then (res->outcome says it), an error only when
 * the store or the repo failed.
 */
int app_import(struct app *a, const char *fetched, struct app_import_result *res, struct err *e);

#endif
