/*
 * STD's backup format (shared/spec/std-backup.md), to write and to read:
 * a YAML sequence of service records with STD's keys in STD's order,
 * then group_name (which STD's nightly file forgot).
 *
 * Writing takes every service of a read transaction: inventory fields,
 * live fields in STD's shapes (datetimes "YYYY-MM-DD HH:MM:SS" in local
 * time, health statuses "200" or "Error: <ExceptionName>" from the stored
 * health results, null where unknown). Never a widget block, never a
 * secret.
 *
 * Reading is strict on values, tolerant on keys: every record is checked
 * with the register/edit rules (store_pkeys_parse) before anything is
 * applied, and the first bad value is reported as "<file>:<line>:<col>:
 * <field>: <what>". Unknown keys are warnings; live keys (container_id,
 * statuses, dates) and a `widget:` block are accepted and ignored (a
 * widget_api_key is never read into memory that outlives the parse).
 * A record keeps which keys it had: a key the file does not have (the
 * nightly file's group_name) leaves the stored value alone.
 */
#ifndef STORE_STDBACKUP_H
#define STORE_STDBACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "db.h"
#include "record.h"

/* One record of a backup, validated. */
struct store_std_record {
	size_t line;             /* where the record starts (1-based) */
	struct store_record rec; /* host/container_name NULL when missing (the record is skipped) */
	uint64_t present;        /* bit i: the file sets store_fields[i] */
};

struct store_std_backup {
	char *source; /* the file's name as the journal and reports show it */
	struct store_std_record *v;
	size_t n;
	char **warnings; /* "<file>:<line>:<col>: unknown key 'x' ignored" */
	size_t nwarnings;
};

/* Restore scopes (STD's "all" and "static"). */
enum store_std_scope { STORE_STD_SCOPE_ALL = 0, STORE_STD_SCOPE_STATIC };

/* What a restore did with one record. */
enum store_std_outcome {
	STORE_STD_CREATED = 0,
	STORE_STD_UPDATED,
	STORE_STD_UNCHANGED,
	STORE_STD_SKIPPED,
};

struct store_std_result {
	size_t line;
	char *host;           /* NULL when the record had none */
	char *container_name; /* NULL when the record had none */
	int outcome;          /* enum store_std_outcome */
	const char *reason;   /* static text for a skip: "no host", "locked", ... */
};

struct store_std_report {
	struct store_std_result *v;
	size_t n;
	size_t count[4]; /* by enum store_std_outcome */
};

/*
 * Append every service as a backup to out; *n (optional) gets how many.
 * ERR_STORE on a read failure, ERR_INVAL when a stored string cannot be
 * written as YAML.
 */
int store_std_emit(struct store_txn *t, struct buf *out, size_t *n, struct err *e);

/*
 * Parse a backup (STD's nightly or manual file, or portolan's export).
 * filename labels messages and becomes b->source (its last path part,
 * with ':' and control characters replaced). ERR_INVAL with
 * "<file>:<line>:<col>: ..." (out untouched) when the YAML is bad, the
 * document is not a list of mappings or any value is invalid.
 */
int store_std_parse(struct store_std_backup *out, const char *data, size_t len,
                    const char *filename, struct err *e);
/* Free a parsed backup. NULL is fine. */
void store_std_backup_release(struct store_std_backup *b);

/* Parse "all" or "static"; -1 otherwise. */
int store_std_scope_parse(const char *s);
/* "created", "updated", "unchanged", "skipped". */
const char *store_std_outcome_name(int outcome);

/* Free a report's contents. NULL is fine. */
void store_std_report_release(struct store_std_report *r);
/*
 * The report as text: a summary line ("restore from F: 5 restored (2
 * created, 2 updated, 1 unchanged), 2 skipped"), then one line per record
 * ("F:12: docker01/nginx: skipped: locked"), then the parse warnings.
 */
void store_std_report_text(const struct store_std_report *r, const struct store_std_backup *b,
                           struct buf *out);

/* The STD-like exception name a health error class is reported as ("ConnectTimeout"). */
const char *store_std_health_error(int error);

#endif
