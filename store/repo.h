/*
 * Reading the inventory repo back: validating its YAML files (`portolan
 * check`) and rebuilding LMDB from them (`portolan rebuild`, and the daemon
 * when LMDB is missing). A repo with any invalid file is reported whole
 * (every file:line:col) and nothing of it is applied.
 */
#ifndef STORE_REPO_H
#define STORE_REPO_H

#include <stddef.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "db.h"
#include "record.h"

/* Everything a repo holds, parsed and validated. */
struct store_repo {
	struct store_record *services;
	char **paths; /* where each service's file is, relative to the repo */
	size_t n;
	json_t *groups;   /* array, or NULL when the repo has no groups.yml */
	json_t *exposure; /* object, or NULL when the repo has no exposure.yml */
};

/*
 * Parse and validate every file of the repo at dir (services/ **.yml,
 * groups.yml, exposure.yml): syntax, schema, duplicate ids and identities.
 * Each problem is appended to problems as one "file:line:col: what" line;
 * returns ERR_INVAL when there is any, and out is then empty.
 */
int store_repo_load(struct store_repo *out, const char *dir, struct buf *problems, struct err *e);
/*
 * The same, from the files of a commit of the repo at repo_dir (read from
 * git's objects: the work tree is not looked at). Problems name paths
 * relative to the repo.
 */
int store_repo_load_commit(struct store_repo *out, const char *repo_dir, const char *commit_hex,
                           struct buf *problems, struct err *e);
/* Free everything loaded. */
void store_repo_release(struct store_repo *r);

/*
 * Replace the inventory in LMDB with the repo's (live fields of services
 * that keep their id are kept). Journals a move for every file that is not
 * at its canonical path so the mirror tidies it. Nothing is written on error.
 */
int store_repo_rebuild(struct store_db *db, const struct store_repo *repo, const char *head,
                       struct err *e);

#endif
