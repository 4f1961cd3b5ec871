#include "widgetdef.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../store/validate.h"
#include "../store/yaml.h"
#include "widget_builtins.h"
#include "../common/banned.h"

#define MAX_NAME        64
#define MAX_TEXT        512
#define MAX_CONF_FIELDS 32

/*
 * Where problems go: with a YAML document they point into the file
 * (file:line:col), without one (the json widget's operator config, which
 * is JSON from the UI) they name the member ("config: fields[0].url").
 */
struct pctx {
	const struct store_yaml_doc *doc;
	const char *filename;
	struct buf *problems;
	int bad;
};

__attribute__((format(printf, 3, 4))) static void problem(struct pctx *c, const json_t *loc,
                                                          const char *fmt, ...)
{
	va_list ap;
	c->bad = 1;
	if (c->doc) {
		size_t line, col;
		store_yaml_doc_pos(c->doc, loc, &line, &col);
		buf_addf(c->problems, "%s:%zu:%zu: ", c->filename, line, col);
	} else {
		char *dotted = store_loc_dotted(loc);
		buf_addf(c->problems, "%s: %s%s", c->filename, dotted, *dotted ? ": " : "");
		free(dotted);
	}
	va_start(ap, fmt);
	buf_vaddf(c->problems, fmt, ap);
	va_end(ap);
	buf_addc(c->problems, '\n');
}

static int is_word(const char *s, const char *extra)
{
	if (!*s || strlen(s) > MAX_NAME)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (extra && strchr(extra, *s))))
			return 0;
	return 1;
}

/* Report every member of obj not in allowed (NULL-terminated). */
static void check_keys(struct pctx *c, const json_t *obj, const json_t *loc,
                       const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			json_t *l = store_loc_key(loc, k);
			problem(c, l, "unknown key '%s'", k);
			json_decref(l);
		}
	}
}

/*
 * The string member key of obj, copied; NULL (reported when required or
 * present with another type) otherwise.
 */
static char *get_str(struct pctx *c, const json_t *obj, const json_t *loc, const char *key,
                     int required)
{
	json_t *v = json_object_get(obj, key);
	json_t *l = store_loc_key(loc, key);
	char *s = NULL;
	if (!v) {
		if (required)
			problem(c, loc, "missing required key '%s'", key);
	} else if (!json_is_string(v)) {
		problem(c, l, "%s: expected a string", key);
	} else if (json_string_length(v) > MAX_TEXT) {
		problem(c, l, "%s: longer than %d bytes", key, MAX_TEXT);
	} else if (strlen(json_string_value(v)) != json_string_length(v)) {
		problem(c, l, "%s: contains a NUL character", key);
	} else {
		s = xstrdup(json_string_value(v));
	}
	json_decref(l);
	return s;
}

static void path_check(struct pctx *c, struct widget_path *p, const json_t *obj, const json_t *loc,
                       const char *key)
{
	json_t *l = store_loc_key(loc, key);
	char *text = get_str(c, obj, loc, key, 0);
	const char *why = NULL;
	if (widget_path_parse(p, text ? text : "$", &why))
		problem(c, l, "%s: bad JSON path '%s': %s", key, text, why);
	free(text);
	json_decref(l);
}

/* {item...} is allowed only in a foreach request's templates. */
static void template_check(struct pctx *c, const char *t, int foreach, const json_t *loc,
                           const char *what)
{
	const char *why = NULL;
	if (widget_template_check(t, foreach, &why))
		problem(c, loc, "%s: %s", what, why);
}

static void parse_query(struct pctx *c, struct widget_reqdef *r, const json_t *q, const json_t *loc,
                        int foreach)
{
	const char *k;
	json_t *v;
	if (!json_is_object(q)) {
		problem(c, loc, "query: expected a map of parameter names to values");
		return;
	}
	r->query = xcalloc(json_object_size(q) + 1, sizeof(*r->query));
	json_object_foreach ((json_t *)q, k, v) {
		json_t *l = store_loc_key(loc, k);
		char *val = NULL;
		if (!is_word(k, "-.ABCDEFGHIJKLMNOPQRSTUVWXYZ[]"))
			problem(c, l,
			        "query parameter name '%s': use letters, digits, '_', '-', '.'", k);
		if (json_is_string(v))
			val = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			val = xasprintf("%lld", (long long)json_integer_value(v));
		else
			problem(c, l, "query parameter '%s': expected a string or an integer", k);
		if (val) {
			template_check(c, val, foreach, l, k);
			r->query[r->nquery].name = xstrdup(k);
			r->query[r->nquery++].value = val;
		}
		json_decref(l);
	}
}

static void parse_request(struct pctx *c, struct widget_reqdef *r, const char *name,
                          const json_t *v, const json_t *loc, char **foreach_name)
{
	static const char *const keys[] = {"path", "query", "foreach", "items", NULL};
	r->name = xstrdup(name);
	r->foreach = -1;
	if (!is_word(name, NULL))
		problem(c, loc, "request name '%s': use a-z, 0-9 and '_'", name);
	if (!json_is_object(v)) {
		problem(c, loc, "request '%s': expected a map", name);
		return;
	}
	check_keys(c, v, loc, keys);
	*foreach_name = get_str(c, v, loc, "foreach", 0);
	json_t *l = store_loc_key(loc, "path");
	r->path = get_str(c, v, loc, "path", 1);
	if (r->path && r->path[0] != '/')
		problem(c, l, "path: must start with '/' (it is joined to the service's URL)");
	else if (r->path)
		template_check(c, r->path, *foreach_name != NULL, l, "path");
	json_decref(l);
	json_t *q = json_object_get(v, "query");
	if (q) {
		l = store_loc_key(loc, "query");
		parse_query(c, r, q, l, *foreach_name != NULL);
		json_decref(l);
	}
	if (json_object_get(v, "items") && !*foreach_name) {
		l = store_loc_key(loc, "items");
		problem(c, l, "items: only a foreach request has items");
		json_decref(l);
	}
	path_check(c, &r->items, v, loc, "items");
}

static int op_parse(const char *k, enum widget_op *op)
{
	static const char *const names[] = {"eq", "ne", "gt", "ge", "lt", "le"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(k, names[i])) {
			*op = (enum widget_op)i;
			return 0;
		}
	return -1;
}

static void parse_count(struct pctx *c, struct widget_field *f, const json_t *v, const json_t *loc)
{
	const char *k;
	json_t *x;
	int nops = 0;
	if (!json_is_object(v)) {
		problem(c, loc, "count: expected a map like {member: needBytes, gt: 0}");
		return;
	}
	json_object_foreach ((json_t *)v, k, x) {
		json_t *l = store_loc_key(loc, k);
		if (!strcmp(k, "member")) {
			f->member = get_str(c, v, loc, "member", 0);
		} else if (!op_parse(k, &f->op)) {
			nops++;
			if (json_is_number(x) || json_is_string(x) || json_is_boolean(x) ||
			    json_is_null(x)) {
				json_decref(f->operand); /* a second operator is reported below */
				f->operand = json_incref(x);
			} else {
				problem(c, l, "%s: expected a number, string, true, false or null",
				        k);
			}
			if (!json_is_number(x) && f->op != WIDGET_OP_EQ && f->op != WIDGET_OP_NE)
				problem(c, l,
				        "%s: compares numbers only (eq and ne take any scalar)", k);
		} else {
			problem(c, l,
			        "unknown condition '%s' (use member and eq, ne, gt, ge, lt, le)",
			        k);
		}
		json_decref(l);
	}
	if (nops != 1)
		problem(c, loc, "count: needs exactly one of eq, ne, gt, ge, lt, le");
}

static void parse_reduce(struct pctx *c, struct widget_field *f, const json_t *v, const json_t *loc)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "length"))
			f->reduce = WIDGET_REDUCE_LENGTH;
		else if (!strcmp(s, "sum"))
			f->reduce = WIDGET_REDUCE_SUM;
		else
			problem(c, loc,
			        "unknown reduction '%s' (length, sum, {sum: member}, {count: "
			        "...})",
			        s);
		return;
	}
	if (!json_is_object(v) || json_object_size(v) != 1) {
		problem(c, loc, "reduce: expected length, sum, {sum: member} or {count: {...}}");
		return;
	}
	const char *k = json_object_iter_key(json_object_iter((json_t *)v));
	json_t *x = json_object_get(v, k);
	json_t *l = store_loc_key(loc, k);
	if (!strcmp(k, "sum")) {
		f->reduce = WIDGET_REDUCE_SUM;
		f->member = get_str(c, v, loc, "sum", 1);
	} else if (!strcmp(k, "count")) {
		f->reduce = WIDGET_REDUCE_COUNT;
		parse_count(c, f, x, l);
	} else {
		problem(c, l, "unknown reduction '%s' (length, sum, {sum: member}, {count: ...})",
		        k);
	}
	json_decref(l);
}

static void parse_number_opts(struct pctx *c, struct widget_field *f, const json_t *v,
                              const json_t *loc)
{
	json_t *d = json_object_get(v, "divide"), *r = json_object_get(v, "round");
	json_t *l;
	f->round = -1;
	if (d) {
		l = store_loc_key(loc, "divide");
		if (!json_is_number(d) || json_number_value(d) <= 0)
			problem(c, l, "divide: expected a number greater than 0");
		else
			f->divide = json_number_value(d);
		json_decref(l);
	}
	if (r) {
		l = store_loc_key(loc, "round");
		if (!json_is_integer(r) || json_integer_value(r) < 0 || json_integer_value(r) > 6)
			problem(c, l, "round: expected a number of decimals from 0 to 6");
		else
			f->round = (int)json_integer_value(r);
		json_decref(l);
	}
}

/* A field of a YAML definition; the request is resolved later by name. */
static void parse_field(struct pctx *c, struct widget_field *f, const json_t *v, const json_t *loc,
                        char **request)
{
	static const char *const keys[] = {"key",    "label",  "unit",  "request", "value",
	                                   "reduce", "divide", "round", NULL};
	f->round = -1;
	if (!json_is_object(v)) {
		problem(c, loc, "field: expected a map");
		return;
	}
	check_keys(c, v, loc, keys);
	f->key = get_str(c, v, loc, "key", 1);
	if (f->key && !is_word(f->key, NULL)) {
		json_t *l = store_loc_key(loc, "key");
		problem(c, l, "key '%s': use a-z, 0-9 and '_'", f->key);
		json_decref(l);
	}
	f->label = get_str(c, v, loc, "label", 1);
	f->unit = get_str(c, v, loc, "unit", 0);
	if (!f->unit)
		f->unit = xstrdup("");
	*request = get_str(c, v, loc, "request", 1);
	path_check(c, &f->value, v, loc, "value");
	json_t *r = json_object_get(v, "reduce");
	if (r) {
		json_t *l = store_loc_key(loc, "reduce");
		parse_reduce(c, f, r, l);
		json_decref(l);
	}
	parse_number_opts(c, f, v, loc);
}

static long find_request(const struct widget_def *d, const char *name)
{
	for (size_t i = 0; i < d->nrequests; i++)
		if (d->requests[i].name && !strcmp(d->requests[i].name, name))
			return (long)i;
	return -1;
}

static void parse_requests(struct pctx *c, struct widget_def *d, const json_t *reqs,
                           const json_t *loc)
{
	const char *k;
	json_t *v;
	if (!json_is_object(reqs)) {
		problem(c, loc, "requests: expected a map of request names to requests");
		return;
	}
	size_t n = json_object_size(reqs);
	char **foreach = xcalloc(n + 1, sizeof(*foreach));
	d->requests = xcalloc(n + 1, sizeof(*d->requests));
	json_object_foreach ((json_t *)reqs, k, v) {
		json_t *l = store_loc_key(loc, k);
		parse_request(c, &d->requests[d->nrequests], k, v, l, &foreach[d->nrequests]);
		d->nrequests++;
		json_decref(l);
	}
	for (size_t i = 0; i < d->nrequests; i++) {
		if (!foreach[i])
			continue;
		json_t *l = store_loc_key(loc, d->requests[i].name);
		json_t *lf = store_loc_key(l, "foreach");
		long p = find_request(d, foreach[i]);
		if (p < 0)
			problem(c, lf, "foreach: no request called '%s'", foreach[i]);
		else if ((size_t)p == i)
			problem(c, lf, "foreach: a request cannot iterate over itself");
		else
			d->requests[i].foreach = p;
		json_decref(lf);
		json_decref(l);
		free(foreach[i]);
	}
	/* One level only: a foreach over a foreach would need a third phase. */
	for (size_t i = 0; i < d->nrequests; i++) {
		long p = d->requests[i].foreach;
		if (p >= 0 && d->requests[p].foreach >= 0) {
			json_t *l = store_loc_key(loc, d->requests[i].name);
			json_t *lf = store_loc_key(l, "foreach");
			problem(c, lf, "foreach: '%s' is itself a foreach request",
			        d->requests[p].name);
			json_decref(lf);
			json_decref(l);
		}
	}
	free(foreach);
}

static void parse_fields(struct pctx *c, struct widget_def *d, const json_t *fields,
                         const json_t *loc)
{
	if (!json_is_array(fields) || !json_array_size(fields)) {
		problem(c, loc, "fields: expected a non-empty list of fields");
		return;
	}
	size_t n = json_array_size(fields);
	char *used = xcalloc(d->nrequests + 1, 1);
	d->fields = xcalloc(n, sizeof(*d->fields));
	for (size_t i = 0; i < n; i++) {
		struct widget_field *f = &d->fields[d->nfields++];
		json_t *l = store_loc_index(loc, i);
		char *req = NULL;
		parse_field(c, f, json_array_get(fields, i), l, &req);
		for (size_t j = 0; f->key && j < i; j++)
			if (d->fields[j].key && !strcmp(d->fields[j].key, f->key)) {
				json_t *lk = store_loc_key(l, "key");
				problem(c, lk, "duplicate field key '%s'", f->key);
				json_decref(lk);
			}
		long r = req ? find_request(d, req) : -1;
		if (req && r < 0) {
			json_t *lr = store_loc_key(l, "request");
			problem(c, lr, "request: no request called '%s'", req);
			json_decref(lr);
		} else if (r >= 0) {
			f->request = (size_t)r;
			used[r] = 1;
		}
		free(req);
		json_decref(l);
	}
	for (size_t i = 0; i < d->nrequests; i++)
		if (d->requests[i].foreach >= 0)
			used[d->requests[i].foreach] = 1;
	json_t *lr = json_pack("[s]", "requests");
	for (size_t i = 0; i < d->nrequests; i++)
		if (!used[i] && d->requests[i].name) {
			json_t *l = store_loc_key(lr, d->requests[i].name);
			problem(c, l, "request '%s' is used by no field", d->requests[i].name);
			json_decref(l);
		}
	json_decref(lr);
	free(used);
}

static void parse_api_key(struct pctx *c, struct widget_def *d, const json_t *v, const json_t *loc)
{
	static const char *const keys[] = {"header", "query", NULL};
	if (!json_is_object(v) || json_object_size(v) != 1) {
		problem(c, loc, "api_key: expected {header: NAME} or {query: NAME}");
		if (!json_is_object(v))
			return;
	}
	check_keys(c, v, loc, keys);
	d->key_header = get_str(c, v, loc, "header", 0);
	d->key_query = get_str(c, v, loc, "query", 0);
	const char *name = d->key_header ? d->key_header : d->key_query;
	if (name && !is_word(name, "-.ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
		json_t *l = store_loc_key(loc, d->key_header ? "header" : "query");
		problem(c, l, "api_key: bad name '%s' (letters, digits, '_', '-', '.')", name);
		json_decref(l);
	}
}

static void parse_top(struct pctx *c, struct widget_def *d, const json_t *root)
{
	static const char *const keys[] = {"name",   "description",  "api_key", "requests",
	                                   "fields", "configurable", NULL};
	json_t *loc = json_array();
	if (!json_is_object(root)) {
		problem(c, loc, "expected a map with name, description, api_key, requests, fields");
		json_decref(loc);
		return;
	}
	check_keys(c, root, loc, keys);
	d->name = get_str(c, root, loc, "name", 1);
	if (d->name && !is_word(d->name, "-")) {
		json_t *l = store_loc_key(loc, "name");
		problem(c, l, "name '%s': use a-z, 0-9, '_' and '-'", d->name);
		json_decref(l);
	}
	d->description = get_str(c, root, loc, "description", 1);
	json_t *v = json_object_get(root, "api_key");
	json_t *l;
	if (v) {
		l = store_loc_key(loc, "api_key");
		parse_api_key(c, d, v, l);
		json_decref(l);
	}
	v = json_object_get(root, "configurable");
	if (v) {
		l = store_loc_key(loc, "configurable");
		if (!json_is_boolean(v))
			problem(c, l, "configurable: expected true or false");
		d->configurable = json_is_true(v);
		json_decref(l);
	}
	json_t *reqs = json_object_get(root, "requests"), *fields = json_object_get(root, "fields");
	if (d->configurable) {
		/* The operator writes them (widget_def_configure). */
		if (reqs || fields) {
			l = store_loc_key(loc, reqs ? "requests" : "fields");
			problem(c, l,
			        "a configurable widget takes its requests and fields from the "
			        "operator");
			json_decref(l);
		}
	} else if (!reqs || !fields) {
		problem(c, loc, "missing required key '%s'", reqs ? "fields" : "requests");
	} else {
		l = store_loc_key(loc, "requests");
		parse_requests(c, d, reqs, l);
		json_decref(l);
		l = store_loc_key(loc, "fields");
		parse_fields(c, d, fields, l);
		json_decref(l);
	}
	json_decref(loc);
}

int widget_def_parse(struct widget_def **out, const char *data, size_t len, const char *filename,
                     struct buf *problems, struct err *e)
{
	struct store_yaml_doc *doc = NULL;
	json_t *root = NULL;
	struct widget_def *d = NULL;
	struct err perr;
	int rc = store_yaml_doc_parse(&doc, data, len, filename, &perr);
	if (!rc)
		rc = store_yaml_doc_json(doc, &root, &perr);
	if (rc) {
		buf_addf(problems, "%s\n", perr.msg);
		rc = err_set(e, ERR_INVAL, "%s", perr.msg);
		goto out;
	}
	struct pctx c = {doc, filename, problems, 0};
	d = xcalloc(1, sizeof(*d));
	parse_top(&c, d, root);
	if (c.bad) {
		rc = err_set(e, ERR_INVAL, "invalid widget definition '%s'", filename);
		goto out;
	}
	d->readme = xstrdup("");
	*out = d;
	d = NULL;
out:
	widget_def_free(d);
	json_decref(root);
	store_yaml_doc_free(doc);
	return rc;
}

void widget_path_release(struct widget_path *p)
{
	for (size_t i = 0; i < p->nsteps; i++)
		free(p->steps[i].member);
	free(p->steps);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

void widget_def_free(struct widget_def *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nrequests; i++) {
		struct widget_reqdef *r = &d->requests[i];
		for (size_t j = 0; j < r->nquery; j++) {
			free(r->query[j].name);
			free(r->query[j].value);
		}
		free(r->query);
		free(r->name);
		free(r->path);
		widget_path_release(&r->items);
	}
	for (size_t i = 0; i < d->nfields; i++) {
		struct widget_field *f = &d->fields[i];
		free(f->key);
		free(f->label);
		free(f->unit);
		free(f->member);
		json_decref(f->operand);
		widget_path_release(&f->value);
	}
	free(d->requests);
	free(d->fields);
	free(d->name);
	free(d->description);
	free(d->key_header);
	free(d->key_query);
	free(d->readme);
	free(d);
}

const char *widget_def_readme(const struct widget_def *d)
{
	return d && d->readme ? d->readme : "";
}

/* ---- the json widget: fields from the operator ---- */

static int is_abs_http(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static void configure_field(struct pctx *c, struct widget_def *d, const json_t *v,
                            const json_t *loc)
{
	static const char *const keys[] = {"key", "label", "unit", "url", "path", "reduce", NULL};
	struct widget_field *f = &d->fields[d->nfields];
	struct widget_reqdef *r = &d->requests[d->nrequests];
	f->round = -1;
	if (!json_is_object(v)) {
		problem(c, loc, "expected an object with key, label, url, path");
		return;
	}
	check_keys(c, v, loc, keys);
	f->key = get_str(c, v, loc, "key", 1);
	if (f->key && !is_word(f->key, NULL))
		problem(c, loc, "key '%s': use a-z, 0-9 and '_'", f->key);
	for (size_t j = 0; f->key && j < d->nfields; j++)
		if (!strcmp(d->fields[j].key, f->key))
			problem(c, loc, "duplicate field key '%s'", f->key);
	f->label = get_str(c, v, loc, "label", 1);
	f->unit = get_str(c, v, loc, "unit", 0);
	if (!f->unit)
		f->unit = xstrdup("");
	r->foreach = -1;
	r->name = xasprintf("f%zu", d->nfields);
	r->path = get_str(c, v, loc, "url", 1);
	const char *why = NULL;
	if (r->path && r->path[0] != '/' && !is_abs_http(r->path))
		problem(c, loc, "url: a path starting with '/' or an http(s):// URL");
	else if (r->path && widget_template_check(r->path, 0, &why))
		problem(c, loc, "url: %s", why);
	path_check(c, &f->value, v, loc, "path");
	json_t *red = json_object_get(v, "reduce");
	if (red && (!json_is_string(red) || (strcmp(json_string_value(red), "length") &&
	                                     strcmp(json_string_value(red), "sum"))))
		problem(c, loc, "reduce: length or sum");
	else if (red)
		parse_reduce(c, f, red, loc);
	f->request = d->nrequests++;
	d->nfields++;
}

int widget_def_configure(struct widget_def **out, const struct widget_def *d, const json_t *config,
                         struct buf *problems, struct err *e)
{
	static const char *const keys[] = {"fields", "key_header", "key_query", NULL};
	struct pctx c = {NULL, "config", problems, 0};
	json_t *loc = json_array(), *fields = json_object_get(config, "fields");
	struct widget_def *n = xcalloc(1, sizeof(*n));
	int rc = 0;
	n->name = xstrdup(d->name);
	n->description = xstrdup(d->description ? d->description : "");
	n->readme = xstrdup(widget_def_readme(d));
	if (!json_is_object(config)) {
		problem(&c, loc, "expected an object with a list of fields");
		goto out;
	}
	check_keys(&c, config, loc, keys);
	n->key_header = get_str(&c, config, loc, "key_header", 0);
	n->key_query = get_str(&c, config, loc, "key_query", 0);
	if (n->key_header && n->key_query)
		problem(&c, loc, "key_header and key_query: give one of them");
	if (!n->key_header && !n->key_query) {
		n->key_header = xstrdup(d->key_header ? d->key_header : "");
		n->key_query = d->key_query ? xstrdup(d->key_query) : NULL;
		if (!*n->key_header) {
			free(n->key_header);
			n->key_header = NULL;
		}
	}
	json_t *lf = store_loc_key(loc, "fields");
	size_t nf = json_array_size(fields);
	if (!json_is_array(fields) || !nf || nf > MAX_CONF_FIELDS) {
		problem(&c, lf, "expected a list of 1 to %d fields", MAX_CONF_FIELDS);
		nf = 0;
	}
	n->fields = xcalloc(nf + 1, sizeof(*n->fields));
	n->requests = xcalloc(nf + 1, sizeof(*n->requests));
	for (size_t i = 0; i < nf; i++) {
		json_t *l = store_loc_index(lf, i);
		configure_field(&c, n, json_array_get(fields, i), l);
		json_decref(l);
	}
	json_decref(lf);
out:
	json_decref(loc);
	if (c.bad) {
		widget_def_free(n);
		return err_set(e, ERR_INVAL, "invalid widget config");
	}
	*out = n;
	return rc;
}

/* ---- widget directories and the registry ---- */

static char *dir_base(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	return xstrndup(dir + start, n - start);
}

/* Parse yml (and its README) as the widget called name; problems and ERR_INVAL when bad. */
static int load_one(struct widget_def **out, const char *name, const char *yml, size_t ylen,
                    const char *yname, const char *readme, const char *rname, struct buf *problems,
                    struct err *e)
{
	struct widget_def *d = NULL;
	int rc = widget_def_parse(&d, yml, ylen, yname, problems, e);
	if (rc)
		return rc;
	if (strcmp(d->name, name)) {
		struct pctx c = {NULL, yname, problems, 0};
		json_t *l = json_pack("[s]", "name");
		struct store_yaml_doc *doc = NULL;
		if (!store_yaml_doc_parse(&doc, yml, ylen, yname, NULL))
			c.doc = doc;
		problem(&c, l, "name '%s' differs from its directory's, '%s'", d->name, name);
		json_decref(l);
		store_yaml_doc_free(doc);
		rc = err_set(e, ERR_INVAL, "invalid widget definition '%s'", yname);
	} else if (!readme) {
		buf_addf(problems, "%s: missing README.md (the widget's help)\n", rname);
		rc = err_set(e, ERR_INVAL, "invalid widget '%s'", name);
	}
	if (rc) {
		widget_def_free(d);
		return rc;
	}
	free(d->readme);
	d->readme = xstrdup(readme);
	*out = d;
	return 0;
}

static int load_dir(struct widget_def **out, const char *dir, struct buf *problems, struct err *e)
{
	struct buf yml, readme;
	char *name = dir_base(dir);
	char *ypath = xasprintf("%s/widget.yml", dir);
	char *rpath = xasprintf("%s/README.md", dir);
	int rc, have_readme;
	buf_init(&yml, WIDGET_MAX_FILE);
	buf_init(&readme, WIDGET_MAX_FILE);
	rc = fileio_read(ypath, &yml, e);
	if (rc == ERR_NOTFOUND) {
		err_set(e, rc, "no widget.yml in '%s'", dir);
		goto out;
	}
	if (rc) {
		buf_addf(problems, "%s: %s\n", ypath, e ? e->msg : "cannot read");
		goto out;
	}
	have_readme = !fileio_read(rpath, &readme, NULL);
	rc = load_one(out, name, yml.data, yml.len, ypath, have_readme ? readme.data : NULL, rpath,
	              problems, e);
out:
	buf_release(&yml);
	buf_release(&readme);
	free(ypath);
	free(rpath);
	free(name);
	return rc;
}

int widget_def_check_dir(const char *dir, struct buf *problems, struct err *e)
{
	struct widget_def *d = NULL;
	int rc = load_dir(&d, dir, problems, e);
	widget_def_free(d);
	return rc;
}

struct widget_defs {
	struct widget_def **defs;
	size_t n, alloc;
};

/* Add d, replacing a definition of the same name. */
static void defs_put(struct widget_defs *r, struct widget_def *d)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->defs[i]->name, d->name)) {
			widget_def_free(r->defs[i]);
			r->defs[i] = d;
			return;
		}
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		r->defs = xrealloc(r->defs, r->alloc * sizeof(*r->defs));
	}
	r->defs[r->n++] = d;
}

static const struct widget_builtin *builtin_file(const char *name, const char *file)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < widget_nbuiltins; i++) {
		const char *p = widget_builtins[i].path;
		if (!strncmp(p, name, nl) && p[nl] == '/' && !strcmp(p + nl + 1, file))
			return &widget_builtins[i];
	}
	return NULL;
}

static void load_builtins(struct widget_defs *r, struct buf *problems)
{
	for (size_t i = 0; i < widget_nbuiltins; i++) {
		const char *p = widget_builtins[i].path, *slash = strchr(p, '/');
		if (!slash || strcmp(slash + 1, "widget.yml"))
			continue;
		char *name = xstrndup(p, (size_t)(slash - p));
		char *yname = xasprintf("<built-in>/%s/widget.yml", name);
		char *rname = xasprintf("<built-in>/%s/README.md", name);
		const struct widget_builtin *rd = builtin_file(name, "README.md");
		struct widget_def *d = NULL;
		if (!load_one(&d, name, (const char *)widget_builtins[i].data,
		              widget_builtins[i].len, yname, rd ? (const char *)rd->data : NULL,
		              rname, problems, NULL))
			defs_put(r, d);
		free(name);
		free(yname);
		free(rname);
	}
}

static int cmp_def(const void *a, const void *b)
{
	return strcmp((*(struct widget_def *const *)a)->name,
	              (*(struct widget_def *const *)b)->name);
}

int widget_defs_load(struct widget_defs **out, const char *config_dir, struct buf *problems,
                     struct err *e)
{
	struct widget_defs *r = xcalloc(1, sizeof(*r));
	load_builtins(r, problems);
	if (config_dir) {
		char *wdir = xasprintf("%s/widgets", config_dir);
		DIR *dh = opendir(wdir);
		struct dirent *de;
		while (dh && (de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			char *dir = xasprintf("%s/%s", wdir, de->d_name);
			char *yml = xasprintf("%s/widget.yml", dir);
			struct widget_def *d = NULL;
			if (fileio_exists(yml) && !load_dir(&d, dir, problems, NULL))
				defs_put(r, d);
			free(yml);
			free(dir);
		}
		if (dh)
			closedir(dh);
		free(wdir);
	}
	(void)e;
	qsort(r->defs, r->n, sizeof(*r->defs), cmp_def);
	*out = r;
	return 0;
}

void widget_defs_free(struct widget_defs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		widget_def_free(r->defs[i]);
	free(r->defs);
	free(r);
}

const struct widget_def *widget_defs_find(const struct widget_defs *r, const char *name)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->defs[i]->name, name))
			return r->defs[i];
	return NULL;
}

size_t widget_defs_count(const struct widget_defs *r)
{
	return r ? r->n : 0;
}

const struct widget_def *widget_defs_at(const struct widget_defs *r, size_t i)
{
	return r && i < r->n ? r->defs[i] : NULL;
}
