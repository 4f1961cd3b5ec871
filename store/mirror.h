/*
 * The git mirror: a consumer of the change journal that writes the YAML
 * file of every changed service into the inventory repo and makes one
 * commit per batch (one author per commit). Its cursor lives in LMDB and
 * moves only after the commit, so after a crash it replays from the cursor:
 * the same bytes are written again and no empty commit is made.
 *
 * Several processes (the daemon, a CLI command) may mirror the same repo:
 * every git operation happens under an exclusive flock on
 * <config>/inventory.lock.
 */
#ifndef STORE_MIRROR_H
#define STORE_MIRROR_H

#include "../common/err.h"
#include <stdint.h>

#include "../common/buf.h"
#include "db.h"

struct store_mirror;

/* Name of the mirror's journal cursor. */
#define STORE_MIRROR_CURSOR "mirror"

/* Open (creating) the repo at repo_dir, serialised by lock_path. ERR_GIT, ERR_IO. */
int store_mirror_open(struct store_mirror **out, const char *repo_dir, const char *lock_path,
                      struct err *e);
/* Close. NULL is fine. */
void store_mirror_free(struct store_mirror *m);
/*
 * Process every journal entry past the mirror's cursor; *commits (if
 * non-NULL) gets the number of commits made. On error the cursor stays
 * where the last successful batch left it.
 */
int store_mirror_drain(struct store_mirror *m, struct store_db *db, int *commits, struct err *e);
/* The repo's HEAD commit id (41 bytes); ERR_NOTFOUND before the first commit. */
int store_mirror_head(struct store_mirror *m, char *hex, struct err *e);
/* The repo's work tree directory. */
const char *store_mirror_repo(const struct store_mirror *m);

/*
 * Commits made outside the daemon (see store/import.h): by hand in the
 * repo (HEAD moved past the commit the mirror made last), or fetched from
 * the remote. meta keys: "mirror_head" (the last commit the store
 * reflects), "import_base" (where the next import starts), "import_refused"
 * / "fetch_refused" (an invalid outside commit, not retried until another
 * arrives), "merge_parent" (a fetched tip the next drain records as the
 * second parent of a merge commit).
 */
struct store_import;
struct store_mirror_import {
	struct store_import *plan; /* NULL: nothing to import */
	char rev[41];              /* the outside commit ("" when none) */
	char merge_parent[41];     /* "" or the commit the next drain merges */
	int from_head;             /* rev is HEAD: committed by hand in the repo */
};
/*
 * Look for outside commits: HEAD first, then fetched (NULL: none), a
 * commit in the repo (e.g. refs/remotes/origin/main's). mi->plan stays NULL
 * when there is nothing to import. ERR_INVAL when the outside commit is
 * invalid: mi->rev names it, problems has one file:line:col line each.
 */
int store_mirror_check(struct store_mirror *m, struct store_db *db, const char *fetched,
                       struct store_mirror_import *mi, struct buf *problems, struct err *e);
/* Apply a planned import in t (and note what the mirror must do next). */
int store_mirror_import_apply(struct store_txn *t, const struct store_mirror_import *mi,
                              int64_t now, size_t *changed, struct err *e);
/* Remember mi->rev as refused, so it is not planned again. */
int store_mirror_refuse(struct store_txn *t, const struct store_mirror_import *mi, struct err *e);
void store_mirror_import_release(struct store_mirror_import *mi);
/* Tracked files edited in the work tree and not committed: *n, and the first ten in paths. */
int store_mirror_uncommitted(struct store_mirror *m, size_t *n, struct buf *paths, struct err *e);

/* Paths of the non-service files in the repo. */
#define STORE_GROUPS_FILE   "groups.yml"
#define STORE_EXPOSURE_FILE "exposure.yml"

/*
 * Call cb(path, exists_in_to, arg) for every file that differs between two
 * commits (from_hex NULL or "" = the empty tree), under the repo lock.
 * Returns cb's first nonzero value (which stops the walk), ERR_NOTFOUND
 * for an unknown commit, ERR_GIT or ERR_IO.
 */
int store_mirror_changed_paths(struct store_mirror *m, const char *from_hex, const char *to_hex,
                               int (*cb)(const char *path, int exists, void *arg), void *arg,
                               struct err *e);

#endif
