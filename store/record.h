/*
 * The service record: one struct, every field of spec/register.md, and a
 * field table that drives the generic operations (binary encoding for LMDB,
 * JSON for the API and export, equality, diffs for commit messages).
 *
 * Fields are of two kinds, kept apart on purpose: inventory fields (what
 * the service is; mirrored to git) and live fields (what it is doing; LMDB
 * only). A record owns all its strings; NULL means "null/unset".
 *
 * The four list fields (networks, exposed_ports, published_ports,
 * exposure_observations) are kept as canonical compact JSON text produced
 * by the payload validator (fixed key order, defaults filled in), so that
 * equality is a string compare and the hot merge path never re-parses them.
 */
#ifndef STORE_RECORD_H
#define STORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"

/* URL provenance; the order is the rank (a writer overwrites ranks <= its own). */
enum store_url_source {
	STORE_SRC_NONE = 0,
	STORE_SRC_SYNTHESIZED,
	STORE_SRC_EXPLICIT_LABEL,
	STORE_SRC_UI_EDIT,
};

/* Who chose image_icon: an operator's choice is never overwritten by a register. */
enum store_icon_source {
	STORE_ICON_NONE = 0,
	STORE_ICON_DERIVED,
	STORE_ICON_NOTIFIER,
	STORE_ICON_UI_EDIT,
};

/* An optional integer (sort priorities). */
struct store_opt_int {
	int set;
	int64_t value;
};

struct store_record {
	uint64_t id;

	/* inventory */
	char *host;
	char *container_name;
	char *stack_name;
	char *image_registry;
	char *image_owner;
	char *image_name;
	char *image_tag;
	char *image_digest;
	char *image_icon;
	int image_icon_source; /* enum store_icon_source */
	char *group_name;
	struct store_opt_int sort_priority;
	char *internalurl;
	int internalurl_source; /* enum store_url_source */
	char *externalurl;
	int externalurl_source;
	int internal_health_check_enabled;
	int external_health_check_enabled;
	struct store_opt_int health_check_timeout; /* seconds (1..60); unset: HEALTHCHECK_TIMEOUT */
	int is_static;
	char *notes;
	char *networks;              /* canonical JSON array text, or NULL */
	char *exposed_ports;         /* canonical JSON array text, or NULL */
	char *published_ports;       /* canonical JSON array text, or NULL */
	char *exposure_observations; /* canonical JSON array text, or NULL (= none) */
	char *notifier_reported_group_name;
	struct store_opt_int notifier_reported_sort_priority;
	char *widget; /* canonical JSON text (store/widgetcfg.h), or NULL; never the API key */

	/* live */
	char *container_id;
	char *docker_status;
	char *started_at;
	int64_t last_api_update; /* unix seconds, 0 = never */
	int64_t last_updated;    /* unix seconds, 0 = never */
};

enum store_field_type {
	STORE_FT_STR,      /* char * */
	STORE_FT_TEXT,     /* char *, multi-line (notes): emitted as a literal block in YAML */
	STORE_FT_OPT_INT,  /* struct store_opt_int */
	STORE_FT_BOOL,     /* int 0/1 */
	STORE_FT_URL_SRC,  /* int, enum store_url_source */
	STORE_FT_ICON_SRC, /* int, enum store_icon_source */
	STORE_FT_JSON,     /* char *, canonical JSON text */
	STORE_FT_TIME,     /* int64_t unix seconds, 0 = null */
};

#define STORE_FIELD_INVENTORY 1
#define STORE_FIELD_LIVE      2

struct store_field {
	const char *name; /* key in JSON and YAML */
	enum store_field_type type;
	size_t offset;
	int kind; /* STORE_FIELD_INVENTORY or STORE_FIELD_LIVE */
};

/* The field table in canonical (YAML/JSON) order; `id` is not in it. */
extern const struct store_field store_fields[];
extern const size_t store_nfields;

/* Look a field up by key; NULL when unknown. */
const struct store_field *store_field_find(const char *name);

/* Zero a record (no allocation). */
void store_record_init(struct store_record *r);
/* Free every string the record owns and re-initialise it. NULL is fine. */
void store_record_release(struct store_record *r);
/* Deep copy src into dst (dst must be released or initialised). */
void store_record_copy(struct store_record *dst, const struct store_record *src);

/* 1 if every field of the given kinds (bitmask) is equal, else 0. */
int store_record_equal(const struct store_record *a, const struct store_record *b, int kinds);

/* Append the binary LMDB encoding of r to out. */
void store_record_encode(const struct store_record *r, struct buf *out);
/* Decode a record from its LMDB encoding; ERR_INVAL if malformed. */
int store_record_decode(struct store_record *out, const void *data, size_t len, struct err *e);

/*
 * The record as the API returns it: every field of the given kinds plus
 * `id`, with list fields as JSON values, sources as strings, times as ISO
 * 8601 UTC. New reference.
 */
json_t *store_record_to_json(const struct store_record *r, int kinds);

/*
 * Append field f of r as text: strings as they are, list fields as their
 * compact JSON, integers in decimal, booleans as true/false, sources by
 * name, times as ISO 8601; nothing for null/unset. (For /dbdump: no JSON
 * values made per field.)
 */
void store_record_field_text(const struct store_record *r, const struct store_field *f,
                             struct buf *out);

/*
 * Describe the inventory differences old -> new in a short human line,
 * e.g. "image 1.27.3 -> 1.27.4, internalurl set". Empty when none.
 */
void store_record_describe_changes(const struct store_record *old, const struct store_record *new,
                                   struct buf *out);

/* "synthesized" etc., or NULL for STORE_SRC_NONE. */
const char *store_url_source_name(int src);
/* Parse a source name (NULL or "" = none); -1 when unknown. */
int store_url_source_parse(const char *s);
/* "derived"/"notifier"/"ui_edit", or NULL for none. */
const char *store_icon_source_name(int src);
/* Parse an icon source name (NULL or "" = none); -1 when unknown. */
int store_icon_source_parse(const char *s);

/* Format unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21 bytes). */
void store_time_format(int64_t t, char *out, size_t size);
/* Parse "YYYY-MM-DDTHH:MM:SSZ"; -1 when malformed. */
int store_time_parse(const char *s, int64_t *out);

#endif
