/*
 * The store's write functions: one per kind of change. Each validates
 * what it must, applies its merge rules, and appends a journal entry in the
 * caller's write transaction, so a change and its journal entry are durable
 * together (or not at all). Nothing here commits: callers batch.
 */
#ifndef STORE_OPS_H
#define STORE_OPS_H

#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "db.h"
#include "payload.h"
#include "record.h"

/* An operator's edit: each field is absent, null (clear) or a value. */
struct store_edit {
	struct store_pstr host;
	struct store_pstr container_name;
	struct store_pstr internalurl;
	struct store_pstr externalurl;
	struct store_pbool internal_health_check_enabled;
	struct store_pbool external_health_check_enabled;
	struct store_pstr group_name;
	struct store_pint sort_priority;
	struct store_pint health_check_timeout;
	struct store_pstr image_icon;
	struct store_pbool is_static;
	struct store_pstr notes;
	struct store_pstr stack_name;
	struct store_pstr widget; /* canonical config text (store/widgetcfg.h) */
	struct store_pstr
	    widget_api_key; /* absent = keep, null or "" = remove; never stored here */
};

/* Validate an operator edit body (PATCH/POST); ERR_INVAL with problems in v. */
int store_edit_from_json(struct store_edit *out, const json_t *body, struct store_verr *v);
/* Free an edit's strings. */
void store_edit_release(struct store_edit *ed);

/*
 * A notifier's registration. *status gets an enum store_merge_status; out
 * (if non-NULL) the stored record. The author is "notifier@<host>".
 */
int store_ops_register(struct store_txn *t, const struct store_payload *p, int ownership,
                       int64_t now, struct store_record *out, int *status, struct err *e);
/* An operator adds a service; host and container_name are required. */
int store_ops_add(struct store_txn *t, const struct store_edit *ed, const char *author, int64_t now,
                  struct store_record *out, struct err *e);
/* An operator edits a service. ERR_NOTFOUND, ERR_EXISTS (rename onto another). */
int store_ops_edit(struct store_txn *t, uint64_t id, const struct store_edit *ed,
                   const char *author, int64_t now, struct store_record *out, struct err *e);
/* Delete a service. ERR_NOTFOUND. */
int store_ops_delete(struct store_txn *t, uint64_t id, const char *author, struct err *e);
/* Create or replace a group {"name", "icon", "sort_priority"}. */
int store_ops_group_put(struct store_txn *t, const json_t *group, const char *author,
                        struct err *e);
/* Delete a group. ERR_NOTFOUND. */
int store_ops_group_delete(struct store_txn *t, const char *name, const char *author,
                           struct err *e);
/*
 * Replace the exposure settings (already validated) and re-run the
 * synthesizer for every service.
 */
int store_ops_exposure_put(struct store_txn *t, const json_t *exposure, const char *author,
                           int64_t now, struct err *e);

struct store_repo;
/*
 * Make the inventory what repo holds (a past version, loaded with
 * store/repo.h): exposure and groups replaced, services not in it deleted,
 * the others (matched by host and container name) given its inventory
 * fields — live state and ids kept —, missing ones re-created (with their
 * old id when it is free). Every change is journaled as made by author, so
 * the mirror records the restore as new commits. *changed (optional) gets
 * how many services changed.
 */
int store_ops_restore(struct store_txn *t, const struct store_repo *repo, const char *author,
                      int64_t now, size_t *changed, struct err *e);

/*
 * Give the service cur the inventory fields of then (cur's id and live
 * state kept), or with cur NULL create then (its id when free, else a new
 * one). Journaled as "<verb> host/name: …" by author when something
 * changed; *changed counts services changed.
 */
int store_ops_put_inventory(struct store_txn *t, const struct store_record *cur,
                            const struct store_record *then, const char *verb, const char *author,
                            int64_t now, size_t *changed, struct err *e);
/* Make the groups exactly groups (a validated array of group objects). */
int store_ops_groups_replace(struct store_txn *t, const json_t *groups, const char *author,
                             struct err *e);

struct store_std_backup;
struct store_std_report;
/*
 * Apply a parsed STD backup (stdbackup.h) with STD's restore rules:
 * records without host or container_name are skipped; scope static
 * (enum store_std_scope) takes only records with is_static true; a stored
 * static entry is not overwritten by a non-static record; the first
 * record of an identity wins over later duplicates. Every other record's
 * inventory keys are applied to the entry with its (host,
 * container_name), or a new one; keys the file lacks, live state and
 * fields STD's format does not carry are kept. Journaled as author with
 * "restore from <b->source>: <host>/<name>: <changes>". *report gets one
 * result per record (released by the caller). Only store errors fail.
 */
int store_ops_std_restore(struct store_txn *t, const struct store_std_backup *b, int scope,
                          const char *author, int64_t now, struct store_std_report *report,
                          struct err *e);

#endif
