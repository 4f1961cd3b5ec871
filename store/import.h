/*
 * Importing commits made outside the daemon — fetched from GIT_REMOTE, or
 * committed by hand in the inventory repo — into the store.
 *
 * A plan is made from two commits of the repo: base (what the store
 * already reflects) and rev (the outside version). rev is loaded and
 * validated whole, like a rebuild (store/repo.h): one invalid file and the
 * plan is refused with every problem as file:line:col, nothing applied.
 * Only what changed between base and rev is applied, field by field, onto
 * the store's current records (a three-way merge whose common ancestor is
 * the base version of the file):
 * - a field the outside commit did not change keeps the store's value;
 * - a field only the outside changed takes the outside value;
 * - a field both changed takes the outside value if it is operator-owned
 *   (URLs, group, priority, icon, notes, lock, health flags and timeout,
 *   the identity), the store's if notifier-observed (image, stack,
 *   networks, ports, exposure, notifier-reported values).
 * A URL or icon taken from the outside gets provenance ui_edit: it is an
 * operator's choice, as if made in the web UI. Files deleted outside
 * delete their service; new files add one (their id when it is free).
 * groups.yml and exposure.yml changed outside replace the store's.
 */
#ifndef STORE_IMPORT_H
#define STORE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "db.h"
#include "git.h"

struct store_import;

/*
 * Plan the import of base..rev (base "" = from nothing), reading both from
 * git's objects. ERR_INVAL with one line per problem appended to problems
 * when rev is invalid; ERR_GIT.
 */
int store_import_plan(struct store_import **out, struct store_git *g, const char *base,
                      const char *rev, struct buf *problems, struct err *e);
/* Apply the plan in t, journaled as made by the outside commit's author. */
int store_import_apply(struct store_txn *t, const struct store_import *p, int64_t now,
                       size_t *changed, struct err *e);
/* Inventory files the outside changed (services, groups.yml, exposure.yml). */
size_t store_import_nfiles(const struct store_import *p);
/* The outside commit's id, and its author. */
const char *store_import_rev(const struct store_import *p);
const char *store_import_author(const struct store_import *p);
void store_import_free(struct store_import *p);

#endif
