/*
 * YAML for the inventory repository: one file per service (the record's id
 * and inventory fields), and generic JSON <-> YAML for groups.yml and
 * exposure.yml.
 *
 * Writing is deterministic: equal input gives identical bytes (block
 * style, UTF-8, LF, trailing newline, keys in table or insertion order).
 * A string is written plain only when every YAML 1.1 and 1.2 reader keeps
 * it a string with the same bytes; otherwise it is double-quoted (notes:
 * a literal block when that round-trips). Reading is strict and reports
 * the first problem as "<file>:<line>:<col>: <what>" (1-based, from the
 * offending node). Plain scalars are typed by the YAML 1.2 core schema;
 * quoted scalars are strings. Anchors, aliases, tags other than !!str,
 * several documents, NUL characters and duplicate keys are rejected.
 *
 * Invariant: for a record r whose list fields are canonical (listfields.h),
 * host and container_name non-empty and at most STORE_MAX_NAME bytes,
 * other strings (notes aside) at most STORE_MAX_STRING, URLs http(s),
 * store_yaml_parse_record(store_yaml_emit_record(r)) equals r on the
 * inventory fields and id, and emitting it again gives the same bytes.
 */
#ifndef STORE_YAML_H
#define STORE_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "record.h"
#include "validate.h"

/* Deepest nesting of collections a parsed document may have. */
#define STORE_YAML_MAX_DEPTH 64

/*
 * Append the service file for r to out: `id` (null when 0), then every
 * inventory field in table order, all keys present. ERR_INVAL when a
 * string is not valid UTF-8 or a list field is not JSON; ERR_TOOBIG when
 * out is full. out may hold partial output on error.
 */
int store_yaml_emit_record(const struct store_record *r, struct buf *out);

/*
 * Parse a service file into *out (which must hold no strings). Missing
 * keys take their defaults (null, false, unset; id 0 = not yet assigned);
 * host and container_name are required. String fields take any plain
 * scalar as written (`stack_name: 2024` is "2024"); bool fields take
 * true/false and, unquoted, STD's words (yes/no/on/off/1/0); integers must
 * be unquoted; list fields go through store_list_canon(). Returns 0, or
 * ERR_INVAL with e->msg = "<filename>:<line>:<col>: <problem>" and *out
 * untouched.
 */
int store_yaml_parse_record(struct store_record *out, const char *data, size_t len,
                            const char *filename, struct err *e);

/*
 * Append v as a block-style YAML document (keys in insertion order) to
 * out. ERR_INVAL for a string that is not valid UTF-8, ERR_TOOBIG when out
 * is full.
 */
int store_yaml_emit_json(const json_t *v, struct buf *out);

/*
 * Parse a YAML document into a new JSON value (JSON null for an empty
 * document). Returns 0, or ERR_INVAL with "<filename>:<line>:<col>: ..." in
 * e->msg (out untouched).
 */
int store_yaml_parse_json(json_t **out, const char *data, size_t len, const char *filename,
                          struct err *e);

/*
 * A parsed document that remembers where every node is, for callers that
 * check a document's meaning after parsing it and want their errors to
 * point into the file.
 */
struct store_yaml_doc;

/* Parse data into *out; ERR_INVAL with "<filename>:<line>:<col>: ..." on error. */
int store_yaml_doc_parse(struct store_yaml_doc **out, const char *data, size_t len,
                         const char *filename, struct err *e);
/* Free a document; NULL is fine. */
void store_yaml_doc_free(struct store_yaml_doc *d);
/* The document as a new JSON value (JSON null when empty); ERR_INVAL (positioned) on error. */
int store_yaml_doc_json(const struct store_yaml_doc *d, json_t **out, struct err *e);
/*
 * Set e->msg to "<filename>:<line>:<col>: <fmt...>" at the node loc points
 * to (a JSON array of keys and indices as in validate.h; the nearest
 * existing ancestor when it does not exist) and return ERR_INVAL.
 */
int store_yaml_doc_errf(const struct store_yaml_doc *d, const json_t *loc, struct err *e,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Line and column (1-based) of the node loc points to, as store_yaml_doc_errf finds it. */
void store_yaml_doc_pos(const struct store_yaml_doc *d, const json_t *loc, size_t *line,
                        size_t *col);
/*
 * Report the first problem in v like store_yaml_doc_errf (an unknown key
 * points at the key itself) and return ERR_INVAL.
 */
int store_yaml_doc_verr(const struct store_yaml_doc *d, const struct store_verr *v, struct err *e);

#endif
