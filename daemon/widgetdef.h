/*
 * Widget definitions: what a widget is (widgets/<name>/widget.yml and its
 * README.md), the registry of them (built-ins embedded in the binary,
 * <config>/widgets/<name>/ adding or overriding by name) and the sample
 * engine that turns one definition, a base URL and an API key into HTTP
 * requests and the answers into numbers.
 *
 * Everything here is pure: no network, no clock, no threads. The engine is
 * a state machine so that one driver (the daemon's curl-multi sampler, the
 * CLI's blocking loop) can run hundreds of samples at once: ask it for the
 * requests of the current phase, answer each, ask again (a "foreach"
 * request is a second phase built from the first one's answers), then
 * read the values. The parser lives in widgetdef.c, the engine in
 * widgetsample.c; they share this header because the engine walks the
 * parsed definition.
 *
 * Ownership: a struct widget_def owns all its strings; a registry owns its
 * definitions; a sample borrows its definition (which must outlive it) and
 * owns every request, header and value it hands out, valid until the next
 * widget_sample_answer/free. Messages never contain the API key.
 */
#ifndef DAEMON_WIDGETDEF_H
#define DAEMON_WIDGETDEF_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Largest number of items a foreach request fans out to. */
#define WIDGET_MAX_FANOUT 256
/* Longest JSON path, in steps. */
#define WIDGET_MAX_PATH_DEPTH 16
/* Largest response body a driver should accept (the cap is the driver's). */
#define WIDGET_MAX_BODY (4u << 20)
/* Largest widget.yml / README.md read from disk. */
#define WIDGET_MAX_FILE (256u << 10)

/* One step of a JSON path: $.member, $["member"], $[3], $[*]. */
enum widget_step_kind { WIDGET_STEP_MEMBER, WIDGET_STEP_INDEX, WIDGET_STEP_ALL };
struct widget_step {
	enum widget_step_kind kind;
	char *member; /* WIDGET_STEP_MEMBER */
	size_t index; /* WIDGET_STEP_INDEX */
};
struct widget_path {
	char *text; /* as written, e.g. "$.indexers[*].numberOfGrabs" */
	struct widget_step *steps;
	size_t nsteps; /* 0 = the whole document */
};

enum widget_reduce {
	WIDGET_REDUCE_NONE,   /* the value itself must be a number */
	WIDGET_REDUCE_LENGTH, /* number of items of an array */
	WIDGET_REDUCE_SUM,    /* sum of the items (or of a member of each) */
	WIDGET_REDUCE_COUNT,  /* items (or a member of each) matching a condition */
};
enum widget_op {
	WIDGET_OP_EQ,
	WIDGET_OP_NE,
	WIDGET_OP_GT,
	WIDGET_OP_GE,
	WIDGET_OP_LT,
	WIDGET_OP_LE
};

struct widget_field {
	char *key;      /* unique within the widget: [a-z0-9_]+ */
	char *label;    /* shown to people */
	char *unit;     /* "" when none */
	size_t request; /* index into widget_def.requests */
	struct widget_path value;
	enum widget_reduce reduce;
	char *member;      /* SUM/COUNT: member of each item, NULL = the item */
	enum widget_op op; /* COUNT */
	json_t *operand;   /* COUNT: a number, string, true, false or null */
	double divide;     /* 0 = no division */
	int round;         /* decimals to round to (half to even), -1 = none */
};

struct widget_param {
	char *name;
	char *value; /* a template: {now-7d}, {item.id}; {{ is a literal { */
};

struct widget_reqdef {
	char *name;
	char *path; /* template; "/..." joined to the base URL (json widget: or http(s)://...) */
	struct widget_param *query;
	size_t nquery;
	long foreach;             /* request whose answer is iterated, -1 = none */
	struct widget_path items; /* where the array is in that answer ("$" by default) */
};

struct widget_def {
	char *name;
	char *description;
	char *key_header; /* send the API key in this header ... */
	char *key_query;  /* ... or as this query parameter; both NULL: no key */
	int configurable; /* the json widget: fields come from the operator's config */
	struct widget_reqdef *requests;
	size_t nrequests;
	struct widget_field *fields;
	size_t nfields;
	char *readme; /* raw Markdown, "" when none */
};

/*
 * Parse a widget.yml. Strict: unknown keys, wrong types, bad JSON paths,
 * unknown reductions or computed values, a foreach naming an unknown
 * request, unused requests, duplicate field keys and missing required
 * members each append one "filename:line:col: what\n" line to problems.
 * Returns 0, or ERR_INVAL (nothing in *out).
 */
int widget_def_parse(struct widget_def **out, const char *data, size_t len, const char *filename,
                     struct buf *problems, struct err *e);
/* Free a definition; NULL is fine. */
void widget_def_free(struct widget_def *d);
/* The README (raw Markdown, never NULL): the UI renders it with cmark as the widget's help. */
const char *widget_def_readme(const struct widget_def *d);
/*
 * Parse the json widget's operator config ({"fields": [{"key", "label",
 * "unit", "url", "path", "reduce"}], "key_header" | "key_query"}) into a
 * new definition borrowing d's name. ERR_INVAL with one "config: where:
 * what\n" line per problem in problems.
 */
int widget_def_configure(struct widget_def **out, const struct widget_def *d, const json_t *config,
                         struct buf *problems, struct err *e);

/*
 * Check a widget directory (widget.yml and README.md, the name matching
 * the directory's). Problems as in widget_def_parse; ERR_INVAL when any,
 * ERR_NOTFOUND when dir holds no widget.yml.
 */
int widget_def_check_dir(const char *dir, struct buf *problems, struct err *e);

struct widget_defs;

/*
 * Load the built-in definitions and, when config_dir is not NULL, every
 * <config_dir>/widgets/<name>/ (added, or replacing the built-in of that
 * name). An invalid one is reported in problems and skipped (a built-in it
 * meant to replace stays). Returns 0 (problems may be non-empty) or ERR_IO.
 */
int widget_defs_load(struct widget_defs **out, const char *config_dir, struct buf *problems,
                     struct err *e);
/* Free a registry; NULL is fine. */
void widget_defs_free(struct widget_defs *r);
/* The definition called name, or NULL. */
const struct widget_def *widget_defs_find(const struct widget_defs *r, const char *name);
/* Number of definitions, and the i-th (sorted by name). */
size_t widget_defs_count(const struct widget_defs *r);
const struct widget_def *widget_defs_at(const struct widget_defs *r, size_t i);

/* ---- the sample engine (widgetsample.c) ---- */

struct widget_request {
	const char *url;            /* base URL + path + query, percent-encoded */
	const char *const *headers; /* NULL-terminated "Name: value" lines */
};

struct widget_value {
	const char *key, *label, *unit;
	int has_value;
	double value;
	/*
	 * NULL with a value, else "auth" (401/403), "http" (other non-2xx),
	 * "timeout", "connect", "toobig", "transport" (other transport
	 * failures), "json" (malformed body), "missing" (member absent or of
	 * the wrong type), "limit" (foreach fan-out), "config" (json widget).
	 */
	const char *error_class;
	const char *message; /* short, human, without the API key; NULL with a value */
};

struct widget_sample;

/*
 * Start a sample of d against base_url (http(s)://host[:port][/prefix]).
 * api_key may be NULL (nothing sent). config is the json widget's
 * operator config (see widget_def_configure), else NULL; a bad config
 * gives a sample with one "config" value. now feeds {now...} values.
 */
struct widget_sample *widget_sample_new(const struct widget_def *d, const char *base_url,
                                        const char *api_key, const json_t *config, time_t now);
/*
 * The requests of the current phase (the same URL only once), valid until
 * the phase changes, which happens only when all of them are answered; 0
 * when the sample is done.
 */
size_t widget_sample_requests(struct widget_sample *s, const struct widget_request **out);
/*
 * Answer request i of the current phase: the HTTP status and body, or a
 * transport error (then http_status is ignored). A transport error may
 * start with its class ("timeout: ...", "connect: ...", "toobig: ...");
 * otherwise it is classified from curl's wording. A second answer to the
 * same request, or an index out of range, is ignored.
 */
void widget_sample_answer(struct widget_sample *s, size_t i, long http_status, const char *body,
                          size_t len, const char *transport_error);
/* The values, one per field in definition order; 0 until the sample is done. */
size_t widget_sample_values(const struct widget_sample *s, const struct widget_value **out);
/* Free a sample; NULL is fine. */
void widget_sample_free(struct widget_sample *s);

/* Parse a JSON path ("$", "$.a[0]", "$.a[*].b", "$[\"x y\"]"); -1 with *why set when bad. */
int widget_path_parse(struct widget_path *out, const char *text, const char **why);
/* Free a path's contents. */
void widget_path_release(struct widget_path *p);
/*
 * Expand a template into out: {now}, {now-<N><s|m|h|d>} (ISO 8601 UTC),
 * {item}, {item.<member>[.<member>...]} (item may be NULL: then an item
 * reference is an error), {{ and }} for literal braces. -1 with *why set
 * when the template is bad or names a missing item member.
 */
int widget_template_expand(struct buf *out, const char *tmpl, time_t now, const json_t *item,
                           const char **why);
/* Check a template's syntax (item references allowed only when allow_item); -1 with *why. */
int widget_template_check(const char *tmpl, int allow_item, const char **why);

#endif
