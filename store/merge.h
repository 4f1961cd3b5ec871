/*
 * The merge rules of spec/register.md, as pure functions on records: no
 * I/O, no LMDB, so every rule and tie-break is unit-testable. The store's
 * write functions call these inside their transaction.
 */
#ifndef STORE_MERGE_H
#define STORE_MERGE_H

#include <stdint.h>

#include <jansson.h>

#include "payload.h"
#include "record.h"

enum store_ownership {
	STORE_USER_WINS = 0, /* default: an operator's group/priority stays */
	STORE_NOTIFIER_WINS,
};

enum store_merge_status {
	STORE_MERGE_CREATED,
	STORE_MERGE_UPDATED,
	STORE_MERGE_UNCHANGED,
	STORE_MERGE_SKIPPED, /* static (locked) entry: nothing written */
};

struct store_merge_ctx {
	const json_t *exposure; /* {"layers": {...}, "hosts": {...}}; NULL = none */
	int ownership;          /* enum store_ownership */
	int64_t now;            /* unix seconds */
};

/*
 * Apply a validated register payload to rec. exists = 0 means rec is a
 * fresh record for a new entry (id already assigned). Returns the status;
 * rec is left unchanged for SKIPPED.
 */
int store_merge_register(struct store_record *rec, int exists, const struct store_payload *p,
                         const struct store_merge_ctx *ctx);

/*
 * Run the exposure synthesizer for one record against the exposure
 * settings: only URLs whose source is none or synthesized are written.
 */
void store_synthesize(struct store_record *rec, const json_t *exposure);

/* "internal", "external" or "neither" for a layer on a host. */
const char *store_exposure_direction(const json_t *exposure, const char *host, const char *layer);

/*
 * Validate exposure settings {"layers": {layer: dir}, "hosts": {host: {layer:
 * dir}}} with dir in internal|external|neither; problems go to v. Returns 0
 * and a canonical copy in *out, or ERR_INVAL.
 */
int store_exposure_validate(const json_t *in, json_t **out, struct store_verr *v);

/* The icon name derived from an image name or, failing that, a container name. */
char *store_derive_icon(const char *image_name, const char *container_name);

/* Set a string field: frees the old value, copies the new one (NULL clears). */
void store_set_str(char **field, const char *value);

#endif
