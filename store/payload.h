/*
 * A register payload, validated completely before anything touches the
 * store. Every optional key keeps its presence (absent / null / value)
 * because the merge rules treat the three differently. List fields are
 * canonical JSON text (see listfields.h).
 */
#ifndef STORE_PAYLOAD_H
#define STORE_PAYLOAD_H

#include <stdint.h>

#include <jansson.h>

#include "validate.h"

enum store_pstate { STORE_P_ABSENT = 0, STORE_P_NULL, STORE_P_VALUE };

struct store_pstr {
	int state;
	char *value;
};

struct store_pbool {
	int state;
	int value;
};

struct store_pint {
	int state;
	int64_t value;
};

struct store_payload {
	char *host;
	char *container_name;
	struct store_pstr container_id;
	struct store_pstr stack_name;
	struct store_pstr docker_status;
	struct store_pstr started_at;
	struct store_pstr timestamp; /* accepted and ignored, as STD does */
	struct store_pstr internalurl;
	struct store_pstr externalurl;
	struct store_pbool internal_health_check_enabled;
	struct store_pbool external_health_check_enabled;
	struct store_pstr image_name;
	struct store_pstr image_icon;
	struct store_pstr group_name;
	struct store_pint sort_priority;
	struct store_pstr networks;
	struct store_pstr exposed_ports;
	struct store_pstr published_ports;
	struct store_pstr exposure_observations;
};

/* Generic keyed-object parsing, shared by the register payload and operator edits. */
enum store_ptype {
	STORE_PT_NAME, /* required non-empty string <= 255 bytes (char *) */
	STORE_PT_STR,  /* string <= 4096 bytes (struct store_pstr) */
	STORE_PT_TEXT, /* string <= STORE_MAX_TEXT bytes (struct store_pstr) */
	STORE_PT_URL,  /* "" or an http(s) URL (struct store_pstr) */
	STORE_PT_ICON, /* "" or a plain icon file name, store_icon_name_ok (struct store_pstr) */
	STORE_PT_BOOL, /* STD-coerced bool (struct store_pbool) */
	STORE_PT_INT,  /* STD-coerced integer (struct store_pint) */
	STORE_PT_LIST, /* a list field, canonical JSON (struct store_pstr) */
};

struct store_pkey {
	const char *key;
	enum store_ptype type;
	size_t offset; /* of the slot in the output struct */
};

/* Longest Markdown note (bytes). */
#define STORE_MAX_TEXT 65536

/*
 * Fill the slots of out from body's keys; unknown keys and bad values are
 * recorded in v (the caller checks store_verr_any). Required-key checks are
 * the caller's.
 */
void store_pkeys_parse(void *out, const struct store_pkey *keys, size_t n, const json_t *body,
                       struct store_verr *v);
/* Free the strings in out's slots. */
void store_pkeys_release(void *out, const struct store_pkey *keys, size_t n);

/*
 * Validate a register body. On success (0) *out holds the payload; on
 * ERR_INVAL every problem is in v and *out is untouched.
 */
int store_payload_from_json(struct store_payload *out, const json_t *body, struct store_verr *v);
/* Free the payload's strings. NULL is fine. */
void store_payload_release(struct store_payload *p);

#endif
