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
