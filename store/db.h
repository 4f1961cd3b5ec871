/*
 * The LMDB hot store. One environment, <config>/services.lmdb/, with named
 * databases:
 *   services  id (u64 BE)              -> encoded struct store_record
 *   names     host \0 container_name    -> id   (the unique identity index)
 *   groups    group name                -> JSON {"name","icon","sort_priority"}
 *   settings  key                       -> JSON (UI-changeable settings, e.g. "exposure")
 *   journal   seq (u64 BE)              -> encoded struct store_journal_entry
 *   cursors   consumer name             -> last seq it has processed (u64)
 *   meta      "schema_version", "next_id", "next_seq", "mirror_head"
 *   live      opaque key -> opaque value: live state that is never in git and
 *             survives a rebuild (ids are kept), e.g. URL health (health.h)
 *   users     user name                 -> JSON user account (users.h)
 *   sessions  hash of a session token   -> JSON session (users.h)
 *   widgetkeys  id (u64 BE)             -> encrypted widget API key (widgetkey.h)
 *   widgetvals  day/id/field chunks and per-field state (widgetvals.h)
 * live, users, sessions, widgetkeys and widgetvals are live state: never
 * mirrored to git, never cleared by store_db_clear_inventory.
 * A struct store_txn is one LMDB transaction; every write function of the
 * store (ops.h) takes one, so callers can batch many changes into one
 * durable commit. The store_db owns the environment; a txn must not outlive it.
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "record.h"

#define STORE_SCHEMA_VERSION 1

struct store_db;
struct store_txn;

enum store_change_kind {
	STORE_CHANGE_REGISTER = 1,
	STORE_CHANGE_EDIT,
	STORE_CHANGE_ADD,
	STORE_CHANGE_DELETE,
	STORE_CHANGE_GROUP,
	STORE_CHANGE_SETTINGS,
	STORE_CHANGE_IMPORT, /* a file changed in the repo by someone else */
	STORE_CHANGE_HEALTH, /* a URL health state changed (live: the mirror skips it) */
};

/* Journal entry flags. */
#define STORE_JOURNAL_INVENTORY 1 /* an inventory field changed: the mirror must write */

struct store_journal_entry {
	uint64_t seq;
	int kind;          /* enum store_change_kind */
	int flags;         /* STORE_JOURNAL_* */
	uint64_t id;       /* service id, 0 for groups/settings */
	char *path_before; /* repo path the service had before, or NULL */
	char *author;      /* "notifier@docker01", a user name, "portolan" */
	char *message;     /* "register docker01/nginx: image 1.27.3 -> 1.27.4" */
};

/* Open (creating if needed) the store in dir. ERR_VERSION if it is newer than us. */
int store_db_open(struct store_db **out, const char *dir, struct err *e);
/* Close the environment. NULL is fine. */
void store_db_close(struct store_db *db);
/* Directory the store lives in. */
const char *store_db_dir(const struct store_db *db);

/* Begin a read (write = 0) or write transaction. ERR_STORE on failure. */
int store_txn_begin(struct store_db *db, int write, struct store_txn **out, struct err *e);
/* Commit (durable on return, for a write txn) and free the txn. */
int store_txn_commit(struct store_txn *t, struct err *e);
/* Abandon and free the txn. NULL is fine. */
void store_txn_abort(struct store_txn *t);

/* Load a service by id. ERR_NOTFOUND if there is none. */
int store_db_get(struct store_txn *t, uint64_t id, struct store_record *out, struct err *e);
/* Find a service id by identity. ERR_NOTFOUND if there is none. */
int store_db_find(struct store_txn *t, const char *host, const char *container_name, uint64_t *id,
                  struct err *e);
/*
 * Insert or replace a service (by r->id), keeping the identity index in
 * step (old identity removed on rename). ERR_EXISTS if another service has
 * the identity.
 */
int store_db_put(struct store_txn *t, const struct store_record *r, struct err *e);
/* Delete a service and its index entry. ERR_NOTFOUND if there is none. */
int store_db_del(struct store_txn *t, uint64_t id, struct err *e);
/* Allocate the next service id. */
int store_db_next_id(struct store_txn *t, uint64_t *id, struct err *e);
/* Number of services. */
size_t store_db_count(struct store_txn *t);
/* Call cb for each service in id order; stops and returns cb's nonzero value. */
int store_db_foreach(struct store_txn *t, int (*cb)(const struct store_record *r, void *arg),
                     void *arg, struct err *e);

/* Empty the services, names and groups databases (rebuild from the repo). */
int store_db_clear_inventory(struct store_txn *t, struct err *e);
/* Make sure the next allocated id is greater than id. */
int store_db_reserve_id(struct store_txn *t, uint64_t id, struct err *e);

/* Append to the change journal; *seq (if non-NULL) gets the entry's number. */
int store_journal_append(struct store_txn *t, struct store_journal_entry *en, struct err *e);
/*
 * Call cb for entries with seq > after, in order, at most max of them;
 * stops early and returns cb's nonzero value.
 */
int store_journal_read(struct store_txn *t, uint64_t after, size_t max,
                       int (*cb)(const struct store_journal_entry *en, void *arg), void *arg,
                       struct err *e);
/* Sequence number of the newest journal entry (0 when none ever). */
uint64_t store_journal_last(struct store_txn *t);
/* Delete entries every registered consumer has processed. */
int store_journal_prune(struct store_txn *t, struct err *e);
/* Free an entry's strings. */
void store_journal_entry_release(struct store_journal_entry *en);

/* A consumer's cursor (0 when it never ran). */
uint64_t store_cursor_get(struct store_txn *t, const char *consumer);
/* Store a consumer's cursor. */
int store_cursor_set(struct store_txn *t, const char *consumer, uint64_t seq, struct err *e);

/* Settings (JSON). ERR_NOTFOUND when unset; *out is a new reference. */
int store_setting_get(struct store_txn *t, const char *key, json_t **out, struct err *e);
/* Store a setting (JSON value). */
int store_setting_put(struct store_txn *t, const char *key, const json_t *value, struct err *e);
/*
 * The exposure settings, parsed once and cached while their bytes do not
 * change; borrowed reference valid until the txn ends. Never NULL.
 */
const json_t *store_db_exposure(struct store_txn *t);

/* Groups: all as a JSON array sorted by name (new reference). */
json_t *store_group_list(struct store_txn *t);
/* Insert or replace a group {"name","icon","sort_priority"}. */
int store_group_put(struct store_txn *t, const json_t *group, struct err *e);
/* Delete a group by name. ERR_NOTFOUND if there is none. */
int store_group_del(struct store_txn *t, const char *name, struct err *e);

/* Small string values in meta (e.g. "mirror_head"); NULL when unset (malloc'd). */
char *store_meta_get(struct store_txn *t, const char *key);
/* Store a meta string value. */
int store_meta_put(struct store_txn *t, const char *key, const char *value, struct err *e);

/*
 * Live state (the "live" database): raw bytes under a caller-chosen key
 * (at most 511 bytes), owned by one module each (health.h: id BE + dir).
 * Not touched by store_db_clear_inventory.
 */
/* Copy the value of key into out (reset first). ERR_NOTFOUND, ERR_TOOBIG over out's limit. */
int store_live_get(struct store_txn *t, const void *key, size_t klen, struct buf *out,
                   struct err *e);
/* Insert or replace the value of key. ERR_STORE on failure. */
int store_live_put(struct store_txn *t, const void *key, size_t klen, const void *val, size_t vlen,
                   struct err *e);
/* Delete key. ERR_NOTFOUND if there is none. */
int store_live_del(struct store_txn *t, const void *key, size_t klen, struct err *e);

/*
 * Raw access to the databases one module owns each: users and sessions for
 * store/users.c, widgetkeys for store/widgetkey.c, widgetvals for
 * store/widgetvals.c. Everyone else goes through those modules' headers,
 * which keep the encoding and invariants. Keys are at most 511 bytes and
 * sort as bytes (memcmp, shorter first).
 */
enum store_kv { STORE_KV_USERS, STORE_KV_SESSIONS, STORE_KV_WIDGETKEYS, STORE_KV_WIDGETVALS };
/* Copy the value of key into out (reset first). ERR_NOTFOUND, ERR_TOOBIG over out's limit. */
int store_kv_get(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                 struct buf *out, struct err *e);
/* Insert or replace the value of key. ERR_STORE on failure. */
int store_kv_put(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                 const void *val, size_t vlen, struct err *e);
/* Delete key. ERR_NOTFOUND if there is none. */
int store_kv_del(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                 struct err *e);
/* Number of entries. */
size_t store_kv_count(struct store_txn *t, enum store_kv db);
/*
 * Call cb for each entry in key order (bytes valid during the call only;
 * cb must not write to db); stops and returns cb's nonzero value.
 */
int store_kv_foreach(struct store_txn *t, enum store_kv db,
                     int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                               void *arg),
                     void *arg, struct err *e);
/*
 * store_kv_foreach starting at the first key >= key (klen 0: at the first
 * key), for ordered range scans; cb returns nonzero to stop at the range's end.
 */
int store_kv_foreach_from(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                          int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                                    void *arg),
                          void *arg, struct err *e);
/*
 * Delete every key k with from <= k < to (flen 0: from the first key; to
 * NULL: to the last); *removed (optional) gets how many. ERR_STORE on failure.
 */
int store_kv_del_range(struct store_txn *t, enum store_kv db, const void *from, size_t flen,
                       const void *to, size_t tlen, size_t *removed, struct err *e);

#endif
