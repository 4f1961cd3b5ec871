/*
 * Reading YAML: libyaml's event parser builds a small node tree that keeps
 * each node's position and scalar style, so that later checks (a record's
 * field types, a caller's validation) can point at the offending line.
 */
#include "yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "listfields.h"
#include "widgetcfg.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

enum ynode_kind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ynode_kind kind;
	size_t line, col; /* 1-based */
	char *text;       /* scalar value, NUL-free */
	size_t len;
	int plain;           /* plain scalar: typed by the core schema */
	struct ynode **kids; /* sequence items; mapping: key, value, key, value... */
	size_t n, alloc;
};

struct store_yaml_doc {
	char *filename;
	struct ynode *root; /* NULL for an empty stream */
};

static void node_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

void store_yaml_doc_free(struct store_yaml_doc *d)
{
	if (!d)
		return;
	node_free(d->root);
	free(d->filename);
	free(d);
}

static int err_at(const struct store_yaml_doc *d, size_t line, size_t col, struct err *e,
                  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static int err_at(const struct store_yaml_doc *d, size_t line, size_t col, struct err *e,
                  const char *fmt, va_list ap)
{
	char msg[400];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return err_set(e, ERR_INVAL, "%s:%zu:%zu: %s", d->filename, line, col, msg);
}

static int node_err(const struct store_yaml_doc *d, const struct ynode *n, struct err *e,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int node_err(const struct store_yaml_doc *d, const struct ynode *n, struct err *e,
                    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = err_at(d, n ? n->line : 1, n ? n->col : 1, e, fmt, ap);
	va_end(ap);
	return rc;
}

static int mark_err(const struct store_yaml_doc *d, yaml_mark_t m, struct err *e, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static int mark_err(const struct store_yaml_doc *d, yaml_mark_t m, struct err *e, const char *fmt,
                    ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = err_at(d, m.line + 1, m.column + 1, e, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- building the tree from events ---- */

struct frame {
	struct ynode *node;
	json_t *keys; /* mapping: keys seen so far, for duplicates */
};

struct builder {
	struct store_yaml_doc *doc;
	struct frame stack[STORE_YAML_MAX_DEPTH];
	int depth;
	int ndocs;
	struct err *e;
};

static struct ynode *node_new(enum ynode_kind kind, yaml_mark_t m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = m.line + 1;
	n->col = m.column + 1;
	return n;
}

/* Hang n into the tree (it is owned by the tree even when this fails). */
static int attach(struct builder *b, struct ynode *n)
{
	if (!b->depth) {
		b->doc->root = n;
		return 0;
	}
	struct frame *top = &b->stack[b->depth - 1];
	struct ynode *p = top->node;
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 8;
		p->kids = xrealloc(p->kids, p->alloc * sizeof(*p->kids));
	}
	p->kids[p->n++] = n;
	if (p->kind != Y_MAP || p->n % 2 == 0)
		return 0;
	if (n->kind != Y_SCALAR)
		return node_err(b->doc, n, b->e, "mapping keys must be scalars");
	if (json_object_get(top->keys, n->text))
		return node_err(b->doc, n, b->e, "duplicate key '%s'", n->text);
	json_object_set_new(top->keys, n->text, json_true());
	return 0;
}

static int check_props(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                       const yaml_char_t *tag, int str_tag_ok)
{
	if (anchor)
		return mark_err(b->doc, ev->start_mark, b->e, "anchors are not supported");
	if (!tag)
		return 0;
	const char *t = (const char *)tag;
	if (str_tag_ok && (!strcmp(t, YAML_STR_TAG) || !strcmp(t, "!")))
		return 0;
	return mark_err(b->doc, ev->start_mark, b->e, "tag '%s' is not supported", t);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	int rc = check_props(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag, 1);
	if (rc)
		return rc;
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(v, 0, len))
		return mark_err(b->doc, ev->start_mark, b->e, "NUL characters are not supported");
	struct ynode *n = node_new(Y_SCALAR, ev->start_mark);
	n->text = xstrndup(v, len);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	return attach(b, n);
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	int rc = is_map ? check_props(b, ev, ev->data.mapping_start.anchor,
	                              ev->data.mapping_start.tag, 0)
	                : check_props(b, ev, ev->data.sequence_start.anchor,
	                              ev->data.sequence_start.tag, 0);
	if (rc)
		return rc;
	if (b->depth == STORE_YAML_MAX_DEPTH)
		return mark_err(b->doc, ev->start_mark, b->e, "nesting deeper than %d levels",
		                STORE_YAML_MAX_DEPTH);
	struct ynode *n = node_new(is_map ? Y_MAP : Y_SEQ, ev->start_mark);
	rc = attach(b, n);
	if (rc)
		return rc;
	b->stack[b->depth].node = n;
	b->stack[b->depth].keys = is_map ? json_object() : NULL;
	b->depth++;
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->ndocs++)
			return mark_err(b->doc, ev->start_mark, b->e, "more than one document");
		return 0;
	case YAML_ALIAS_EVENT:
		return mark_err(b->doc, ev->start_mark, b->e, "aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(b, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		json_decref(b->stack[b->depth].keys);
		b->stack[b->depth].keys = NULL;
		return 0;
	default:
		return 0;
	}
}

/* libyaml's own diagnosis; reader errors (bad UTF-8) come with a byte offset only. */
static int syntax_err(const struct store_yaml_doc *d, const yaml_parser_t *p, const char *data,
                      size_t len, struct err *e)
{
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_READER_ERROR) {
		size_t off = p->problem_offset < len ? p->problem_offset : len;
		m.line = m.column = 0;
		for (size_t i = 0; i < off; i++) {
			if (data[i] == '\n')
				m.line++, m.column = 0;
			else if (((unsigned char)data[i] & 0xC0) != 0x80)
				m.column++;
		}
	}
	return mark_err(d, m, e, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

int store_yaml_doc_parse(struct store_yaml_doc **out, const char *data, size_t len,
                         const char *filename, struct err *e)
{
	struct store_yaml_doc *d = xcalloc(1, sizeof(*d));
	d->filename = xstrdup(filename ? filename : "<input>");
	struct builder b = {.doc = d, .e = e};
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		abort(); /* allocation failure */
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	int rc = 0, done = 0;
	while (!rc && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_err(d, &p, data, len, e);
			break;
		}
		rc = on_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (b.depth > 0)
		json_decref(b.stack[--b.depth].keys);
	if (rc) {
		store_yaml_doc_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- core schema ---- */

enum ytype { YT_STR, YT_NULL, YT_BOOL, YT_INT, YT_FLOAT };

static int is_one_of(const char *s, const char *a, const char *b, const char *c)
{
	return !strcmp(s, a) || !strcmp(s, b) || !strcmp(s, c);
}

static int all_in(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_core_float(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t ip = strspn(p, "0123456789");
	p += ip;
	if (*p == '.') {
		size_t fp = strspn(p + 1, "0123456789");
		if (!ip && !fp)
			return 0;
		p += 1 + fp;
	} else if (!ip) {
		return 0;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		p += (*p == '+' || *p == '-');
		if (!all_in(p, "0123456789"))
			return 0;
		return 1;
	}
	return *p == '\0';
}

static enum ytype resolve_plain(const char *s)
{
	if (!*s || is_one_of(s, "~", "null", "Null") || !strcmp(s, "NULL"))
		return YT_NULL;
	if (is_one_of(s, "true", "True", "TRUE") || is_one_of(s, "false", "False", "FALSE"))
		return YT_BOOL;
	const char *d = s + (*s == '+' || *s == '-');
	if (all_in(d, "0123456789"))
		return YT_INT;
	if ((!strncmp(s, "0o", 2) && all_in(s + 2, "01234567")) ||
	    (!strncmp(s, "0x", 2) && all_in(s + 2, "0123456789abcdefABCDEF")))
		return YT_INT;
	if (is_core_float(s) || is_one_of(d, ".inf", ".Inf", ".INF") ||
	    is_one_of(s, ".nan", ".NaN", ".NAN"))
		return YT_FLOAT;
	return YT_STR;
}

/* A plain scalar as JSON; NULL (reported) when it is a number JSON cannot hold. */
static json_t *plain_json(const struct store_yaml_doc *d, const struct ynode *n, struct err *e)
{
	const char *s = n->text;
	char *end;
	errno = 0;
	switch (resolve_plain(s)) {
	case YT_NULL:
		return json_null();
	case YT_BOOL:
		return json_boolean(s[0] == 't' || s[0] == 'T');
	case YT_INT: {
		int base = !strncmp(s, "0o", 2) ? 8 : !strncmp(s, "0x", 2) ? 16 : 10;
		long long v = strtoll(base == 10 ? s : s + 2, &end, base);
		if (errno) {
			node_err(d, n, e, "integer '%s' out of range", s);
			return NULL;
		}
		return json_integer(v);
	}
	case YT_FLOAT: {
		double v = strtod(s, &end);
		if (isfinite(v) && !*end)
			return json_real(v);
		node_err(d, n, e, "number '%s' cannot be represented", s);
		return NULL;
	}
	case YT_STR:
		break;
	}
	return json_stringn(n->text, n->len);
}

static json_t *node_json(const struct store_yaml_doc *d, const struct ynode *n, struct err *e)
{
	if (n->kind == Y_SCALAR)
		return n->plain ? plain_json(d, n, e) : json_stringn(n->text, n->len);
	int map = n->kind == Y_MAP;
	json_t *v = map ? json_object() : json_array();
	for (size_t i = 0; i < n->n; i += map ? 2 : 1) {
		json_t *kid = node_json(d, n->kids[map ? i + 1 : i], e);
		if (!kid) {
			json_decref(v);
			return NULL;
		}
		if (map)
			json_object_set_new(v, n->kids[i]->text, kid);
		else
			json_array_append_new(v, kid);
	}
	return v;
}

int store_yaml_doc_json(const struct store_yaml_doc *d, json_t **out, struct err *e)
{
	json_t *v = d->root ? node_json(d, d->root, e) : json_null();
	if (!v)
		return ERR_INVAL;
	*out = v;
	return 0;
}

int store_yaml_parse_json(json_t **out, const char *data, size_t len, const char *filename,
                          struct err *e)
{
	struct store_yaml_doc *d = NULL;
	int rc = store_yaml_doc_parse(&d, data, len, filename, e);
	if (!rc)
		rc = store_yaml_doc_json(d, out, e);
	store_yaml_doc_free(d);
	return rc;
}

/* ---- positions for later checks ---- */

/* The node loc names, or its nearest existing ancestor; at_key: the key node of the last step. */
static const struct ynode *locate(const struct store_yaml_doc *d, const json_t *loc, int at_key)
{
	const struct ynode *n = d->root;
	size_t last = json_array_size(loc);
	for (size_t i = 0; n && i < last; i++) {
		const json_t *el = json_array_get(loc, i);
		const struct ynode *next = NULL, *key = NULL;
		if (n->kind == Y_MAP && json_is_string(el)) {
			for (size_t k = 0; k + 1 < n->n && !next; k += 2)
				if (!strcmp(n->kids[k]->text, json_string_value(el)))
					key = n->kids[k], next = n->kids[k + 1];
		} else if (n->kind == Y_SEQ && json_is_integer(el) && json_integer_value(el) >= 0 &&
		           (size_t)json_integer_value(el) < n->n) {
			next = n->kids[json_integer_value(el)];
		}
		if (!next)
			break;
		if (at_key && key && i + 1 == last)
			return key;
		n = next;
	}
	return n;
}

int store_yaml_doc_errf(const struct store_yaml_doc *d, const json_t *loc, struct err *e,
                        const char *fmt, ...)
{
	const struct ynode *n = locate(d, loc, 0);
	va_list ap;
	va_start(ap, fmt);
	int rc = err_at(d, n ? n->line : 1, n ? n->col : 1, e, fmt, ap);
	va_end(ap);
	return rc;
}

void store_yaml_doc_pos(const struct store_yaml_doc *d, const json_t *loc, size_t *line,
                        size_t *col)
{
	const struct ynode *n = locate(d, loc, 0);
	*line = n ? n->line : 1;
	*col = n ? n->col : 1;
}

int store_yaml_doc_verr(const struct store_yaml_doc *d, const struct store_verr *v, struct err *e)
{
	const json_t *first = json_array_get(v->details, 0);
	if (!first)
		return store_yaml_doc_errf(d, NULL, e, "invalid document");
	const json_t *loc = json_object_get(first, "loc");
	const char *type = json_string_value(json_object_get(first, "type"));
	const char *msg = json_string_value(json_object_get(first, "msg"));
	int unknown = type && !strcmp(type, "extra_forbidden");
	const struct ynode *n = locate(d, loc, unknown);
	char *dotted = store_loc_dotted(loc);
	int rc;
	if (unknown || !*dotted)
		rc = node_err(d, n, e, "%s", msg ? msg : "invalid");
	else
		rc = node_err(d, n, e, "%s: %s", dotted, msg ? msg : "invalid");
	free(dotted);
	return rc;
}

/* ---- service files ---- */

#define FIELD_PTR(r, f, T) ((T *)((char *)(r) + (f)->offset))

static int is_null_scalar(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain && resolve_plain(n->text) == YT_NULL;
}

static int is_identity(const struct store_field *f)
{
	return !strcmp(f->name, "host") || !strcmp(f->name, "container_name");
}

static int is_url(const struct store_field *f)
{
	return !strcmp(f->name, "internalurl") || !strcmp(f->name, "externalurl");
}

/* A string field: any scalar, plain numbers and words taken as written ("2024"). */
static int get_string(const struct store_yaml_doc *d, const struct store_field *f,
                      const struct ynode *n, char **out, struct err *e)
{
	if (n->kind != Y_SCALAR)
		return node_err(d, n, e, "'%s' must be a string", f->name);
	if (is_null_scalar(n) || (is_identity(f) && !n->len)) {
		if (is_identity(f))
			return node_err(d, n, e, "'%s' must be a non-empty string", f->name);
		*out = NULL;
		return 0;
	}
	size_t max = is_identity(f) ? STORE_MAX_NAME : STORE_MAX_STRING;
	if (f->type == STORE_FT_STR && n->len > max)
		return node_err(d, n, e, "'%s' is longer than %zu bytes", f->name, max);
	if (is_url(f) && !store_url_is_http(n->text))
		return node_err(d, n, e, "'%s' must be an http or https URL", f->name);
	*out = xstrndup(n->text, n->len);
	return 0;
}

/* The JSON value of a plain scalar, or NULL (not reported) for anything else. */
static json_t *plain_value(const struct store_yaml_doc *d, const struct ynode *n, struct err *e,
                           int *rc)
{
	*rc = 0;
	if (n->kind != Y_SCALAR || !n->plain)
		return NULL;
	json_t *v = plain_json(d, n, e);
	if (!v)
		*rc = ERR_INVAL;
	return v;
}

static int get_opt_int(const struct store_yaml_doc *d, const struct store_field *f,
                       const struct ynode *n, struct store_opt_int *out, struct err *e)
{
	int rc;
	json_t *v = plain_value(d, n, e, &rc);
	int64_t x = 0;
	if (rc)
		return rc;
	if (json_is_null(v)) {
		out->set = 0;
		out->value = 0;
	} else if ((json_is_integer(v) || json_is_real(v)) && !store_coerce_int(v, &x)) {
		out->set = 1;
		out->value = x;
	} else {
		rc = node_err(d, n, e, "'%s' must be an integer or null", f->name);
	}
	json_decref(v);
	return rc;
}

/* A bool field: true/false, and the yes/no/on/off/1/0 words STD accepts, unquoted. */
static int get_bool(const struct store_yaml_doc *d, const struct store_field *f,
                    const struct ynode *n, int *out, struct err *e)
{
	int rc, b = 0;
	json_t *v = plain_value(d, n, e, &rc);
	if (rc)
		return rc;
	if (json_is_null(v))
		*out = 0;
	else if (v && !store_coerce_bool(v, &b))
		*out = b;
	else
		rc = node_err(d, n, e, "'%s' must be true or false", f->name);
	json_decref(v);
	return rc;
}

static int get_source(const struct store_yaml_doc *d, const struct store_field *f,
                      const struct ynode *n, int *out, struct err *e)
{
	if (n->kind != Y_SCALAR)
		return node_err(d, n, e, "'%s' must be a source name or null", f->name);
	if (is_null_scalar(n)) {
		*out = 0;
		return 0;
	}
	int src = f->type == STORE_FT_URL_SRC ? store_url_source_parse(n->text)
	                                      : store_icon_source_parse(n->text);
	if (src < 0)
		return node_err(d, n, e, "unknown source '%s' for '%s'", n->text, f->name);
	*out = src;
	return 0;
}

static int get_list(const struct store_yaml_doc *d, const struct store_field *f,
                    const struct ynode *n, char **out, struct err *e)
{
	if (is_null_scalar(n)) {
		*out = NULL;
		return 0;
	}
	json_t *v = node_json(d, n, e);
	if (!v)
		return ERR_INVAL;
	struct store_verr verr;
	store_verr_init(&verr);
	int rc = !strcmp(f->name, "widget") ? store_widget_config_canon(v, NULL, &verr, out)
	                                    : store_list_canon(f->name, v, NULL, &verr, out);
	if (rc)
		rc = store_yaml_doc_verr(d, &verr, e);
	store_verr_release(&verr);
	json_decref(v);
	return rc;
}

static int get_time(const struct store_yaml_doc *d, const struct store_field *f,
                    const struct ynode *n, int64_t *out, struct err *e)
{
	if (is_null_scalar(n)) {
		*out = 0;
		return 0;
	}
	if (n->kind != Y_SCALAR || store_time_parse(n->text, out))
		return node_err(d, n, e, "'%s' must be a time like 2024-01-31T12:00:00Z", f->name);
	return 0;
}

static int get_field(const struct store_yaml_doc *d, const struct store_field *f,
                     const struct ynode *n, struct store_record *r, struct err *e)
{
	char *s = NULL;
	int rc;
	switch (f->type) {
	case STORE_FT_STR:
	case STORE_FT_TEXT:
	case STORE_FT_JSON:
		rc = f->type == STORE_FT_JSON ? get_list(d, f, n, &s, e)
		                              : get_string(d, f, n, &s, e);
		if (!rc) {
			free(*FIELD_PTR(r, f, char *));
			*FIELD_PTR(r, f, char *) = s;
		}
		return rc;
	case STORE_FT_OPT_INT:
		return get_opt_int(d, f, n, FIELD_PTR(r, f, struct store_opt_int), e);
	case STORE_FT_BOOL:
		return get_bool(d, f, n, FIELD_PTR(r, f, int), e);
	case STORE_FT_URL_SRC:
	case STORE_FT_ICON_SRC:
		return get_source(d, f, n, FIELD_PTR(r, f, int), e);
	case STORE_FT_TIME:
		return get_time(d, f, n, FIELD_PTR(r, f, int64_t), e);
	}
	return node_err(d, n, e, "unsupported field '%s'", f->name);
}

static int get_id(const struct store_yaml_doc *d, const struct ynode *n, uint64_t *out,
                  struct err *e)
{
	int rc;
	json_t *v = plain_value(d, n, e, &rc);
	if (rc)
		return rc;
	if (json_is_null(v))
		*out = 0;
	else if (json_is_integer(v) && json_integer_value(v) > 0)
		*out = (uint64_t)json_integer_value(v);
	else
		rc = node_err(d, n, e, "'id' must be a positive integer");
	json_decref(v);
	return rc;
}

static int get_record(const struct store_yaml_doc *d, struct store_record *r, struct err *e)
{
	const struct ynode *root = d->root;
	if (!root || root->kind != Y_MAP)
		return node_err(d, root, e, "expected a mapping of field names to values");
	for (size_t i = 0; i < root->n; i += 2) {
		const struct ynode *key = root->kids[i], *val = root->kids[i + 1];
		const struct store_field *f = store_field_find(key->text);
		int rc;
		if (!strcmp(key->text, "id"))
			rc = get_id(d, val, &r->id, e);
		else if (!f || f->kind != STORE_FIELD_INVENTORY)
			rc = node_err(d, key, e, "unknown key '%s'", key->text);
		else
			rc = get_field(d, f, val, r, e);
		if (rc)
			return rc;
	}
	if (!r->host)
		return node_err(d, root, e, "missing key 'host'");
	if (!r->container_name)
		return node_err(d, root, e, "missing key 'container_name'");
	return 0;
}

int store_yaml_parse_record(struct store_record *out, const char *data, size_t len,
                            const char *filename, struct err *e)
{
	struct store_yaml_doc *d = NULL;
	struct store_record r;
	store_record_init(&r);
	int rc = store_yaml_doc_parse(&d, data, len, filename, e);
	if (!rc)
		rc = get_record(d, &r, e);
	store_yaml_doc_free(d);
	if (rc) {
		store_record_release(&r);
		return rc;
	}
	*out = r;
	return 0;
}
