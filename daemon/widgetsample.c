/*
 * The sample engine of widgetdef.h: JSON paths, templates, and the state
 * machine that turns a definition into requests and answers into values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "widgetdef.h"
#include "../common/banned.h"

/* ---- JSON paths ---- */

static void add_step(struct widget_path *p, enum widget_step_kind kind, char *member, size_t index)
{
	p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
	p->steps[p->nsteps++] = (struct widget_step){kind, member, index};
}

/* One step at *s; advances *s. -1 with *why when bad. */
static int parse_step(struct widget_path *p, const char **s, const char **why)
{
	const char *t = *s;
	if (*t == '.') {
		size_t n = 0;
		t++;
		while (t[n] && (t[n] == '_' || t[n] == '-' || (t[n] >= '0' && t[n] <= '9') ||
		                ((t[n] | 0x20) >= 'a' && (t[n] | 0x20) <= 'z')))
			n++;
		if (!n)
			return *why = "expected a member name after '.'", -1;
		add_step(p, WIDGET_STEP_MEMBER, xstrndup(t, n), 0);
		*s = t + n;
		return 0;
	}
	if (*t != '[')
		return *why = "expected '.member', '[N]', '[*]' or '[\"member\"]'", -1;
	t++;
	if (t[0] == '*' && t[1] == ']') {
		add_step(p, WIDGET_STEP_ALL, NULL, 0);
	} else if (*t == '"') {
		const char *end = strchr(t + 1, '"');
		if (!end || end[1] != ']' || end == t + 1)
			return *why = "expected [\"member\"]", -1;
		add_step(p, WIDGET_STEP_MEMBER, xstrndup(t + 1, (size_t)(end - t - 1)), 0);
		t = end;
	} else if (*t >= '0' && *t <= '9') {
		size_t idx = 0;
		while (*t >= '0' && *t <= '9') {
			if (idx > 100000000)
				return *why = "index too large", -1;
			idx = idx * 10 + (size_t)(*t++ - '0');
		}
		if (*t != ']')
			return *why = "expected ']' after the index", -1;
		add_step(p, WIDGET_STEP_INDEX, NULL, idx);
		*s = t + 1;
		return 0;
	} else {
		return *why = "expected a non-negative index, * or a quoted member in [...]", -1;
	}
	*s = t + 2;
	return 0;
}

int widget_path_parse(struct widget_path *out, const char *text, const char **why)
{
	struct widget_path p = {0};
	const char *s = text;
	if (*s != '$') {
		*why = "a JSON path starts with '$'";
		return -1;
	}
	s++;
	while (*s) {
		if (p.nsteps == WIDGET_MAX_PATH_DEPTH) {
			*why = "too deep (at most 16 steps)";
			widget_path_release(&p);
			return -1;
		}
		if (parse_step(&p, &s, why)) {
			widget_path_release(&p);
			return -1;
		}
	}
	p.text = xstrdup(text);
	*out = p;
	return 0;
}

/*
 * Follow steps [from, n) of p in v. A wildcard maps the rest of the path
 * over an array's items. New reference, or NULL with a message in *msg.
 */
static json_t *path_eval(const struct widget_path *p, size_t from, json_t *v, char **msg)
{
	for (size_t i = from; i < p->nsteps; i++) {
		const struct widget_step *st = &p->steps[i];
		json_t *next = NULL;
		if (st->kind == WIDGET_STEP_ALL) {
			size_t k;
			json_t *item, *all = json_array();
			if (!json_is_array(v)) {
				json_decref(all);
				*msg = xasprintf("%s: [*] of a non-array", p->text);
				return NULL;
			}
			json_array_foreach (v, k, item) {
				json_t *x = path_eval(p, i + 1, item, msg);
				if (!x) {
					json_decref(all);
					return NULL;
				}
				json_array_append_new(all, x);
			}
			return all;
		}
		if (st->kind == WIDGET_STEP_MEMBER)
			next = json_object_get(v, st->member);
		else
			next = json_array_get(v, st->index);
		if (!next) {
			if (st->kind == WIDGET_STEP_MEMBER)
				*msg = xasprintf("%s: no member '%s'", p->text, st->member);
			else
				*msg = xasprintf("%s: no item %zu", p->text, st->index);
			return NULL;
		}
		v = next;
	}
	return json_incref(v);
}

/* ---- templates ---- */

/* Percent-encode s (everything but RFC 3986's unreserved characters). */
static void url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			buf_addc(out, (char)ch);
		} else {
			buf_addc(out, '%');
			buf_addc(out, hex[ch >> 4]);
			buf_addc(out, hex[ch & 15]);
		}
	}
}

/* {now} or {now-<N><s|m|h|d>}: the UTC time as ISO 8601, into out. -1 when bad. */
static int computed_now(struct buf *out, const char *name, size_t n, time_t now)
{
	long long back = 0;
	if (n < 3 || strncmp(name, "now", 3))
		return -1;
	if (n > 3) {
		size_t i = 4;
		long long num = 0;
		if (name[3] != '-' || n < 6)
			return -1;
		for (; i < n - 1; i++) {
			if (name[i] < '0' || name[i] > '9' || num > 100000000)
				return -1;
			num = num * 10 + (name[i] - '0');
		}
		switch (name[n - 1]) {
		case 's':
			back = num;
			break;
		case 'm':
			back = num * 60;
			break;
		case 'h':
			back = num * 3600;
			break;
		case 'd':
			back = num * 86400;
			break;
		default:
			return -1;
		}
	}
	time_t t = now - (time_t)back;
	struct tm tm;
	char s[32];
	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	buf_adds(out, s);
	return 0;
}

/* {item} or {item.a.b}: the item's scalar as text. -1 (why) when absent or not a scalar. */
static int item_value(struct buf *out, const char *name, size_t n, const json_t *item,
                      const char **why)
{
	const json_t *v = item;
	const char *p = name + 4, *end = name + n;
	while (p < end) {
		const char *dot = memchr(p + 1, '.', (size_t)(end - p - 1));
		const char *stop = dot ? dot : end;
		char *m = xstrndup(p + 1, (size_t)(stop - p - 1));
		v = json_object_get(v, m);
		free(m);
		if (!v)
			return *why = "the item has no such member", -1;
		p = stop;
	}
	if (json_is_string(v))
		buf_add(out, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		buf_addf(out, "%lld", (long long)json_integer_value(v));
	else
		return *why = "the item's value is not a string or an integer", -1;
	return 0;
}

static int valid_item_ref(const char *name, size_t n)
{
	if (n < 4 || strncmp(name, "item", 4))
		return 0;
	if (n == 4)
		return 1;
	if (name[4] != '.')
		return 0;
	for (size_t i = 5; i < n; i++)
		if (name[i] == '.' ? name[i - 1] == '.' || i + 1 == n
		                   : !(name[i] == '_' || name[i] == '-' ||
		                       (name[i] >= '0' && name[i] <= '9') ||
		                       ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z')))
			return 0;
	return n > 5;
}

/*
 * The one template walker. mode 0: expand raw; 1: expand, percent-encoding
 * what placeholders produce (a path); 2: check only (item refs allowed
 * when item is non-NULL).
 */
static int tmpl_run(struct buf *out, const char *t, time_t now, const json_t *item, int mode,
                    const char **why)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	int rc = 0;
	for (const char *p = t; *p && !rc; p++) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			buf_addc(out, *p++);
			continue;
		}
		if (*p == '}') {
			*why = "a lone '}' (write }} for a literal one)";
			rc = -1;
			break;
		}
		if (*p != '{') {
			buf_addc(out, *p);
			continue;
		}
		const char *end = strchr(p, '}');
		if (!end) {
			*why = "'{' without '}' (write {{ for a literal one)";
			rc = -1;
			break;
		}
		const char *name = p + 1;
		size_t n = (size_t)(end - name);
		buf_reset(&tmp);
		if (valid_item_ref(name, n)) {
			if (!item) {
				*why = "{item...} outside a foreach request";
				rc = -1;
			} else if (mode != 2) {
				rc = item_value(&tmp, name, n, item, why);
			}
		} else if (computed_now(&tmp, name, n, now)) {
			*why = "unknown computed value (use {now}, {now-7d}, {now-12h}, "
			       "{item.member})";
			rc = -1;
		}
		if (mode == 1)
			url_encode(out, tmp.data, tmp.len);
		else
			buf_add(out, tmp.data, tmp.len);
		p = end;
	}
	buf_release(&tmp);
	return rc;
}

int widget_template_expand(struct buf *out, const char *tmpl, time_t now, const json_t *item,
                           const char **why)
{
	return tmpl_run(out, tmpl, now, item, 0, why);
}

int widget_template_check(const char *tmpl, int allow_item, const char **why)
{
	struct buf out;
	json_t *item = allow_item ? json_object() : NULL;
	buf_init(&out, 0);
	int rc = tmpl_run(&out, tmpl, 0, item, 2, why);
	buf_release(&out);
	json_decref(item);
	return rc;
}

/* ---- the sample state machine ---- */

/* One distinct URL of a phase and what came back. */
struct fetch {
	char *url;
	int answered;
	json_t *body;       /* the parsed answer, when it was good */
	const char *eclass; /* else why not */
	char *emsg;
};

struct phase {
	struct fetch *f;
	struct widget_request *reqs;
	size_t n, nanswered;
};

/* What a request of the definition resolved to. */
struct rstate {
	size_t fetch;  /* a plain request's fetch in phase 0 */
	size_t *items; /* a foreach request's fetches in phase 1, in item order */
	size_t nitems;
	int started;    /* a foreach whose items were listed */
	json_t *answer; /* the body; for a foreach, the array of bodies */
	const char *eclass;
	char *emsg;
};

struct widget_sample {
	const struct widget_def *d;
	struct widget_def *own; /* the json widget's definition from its config */
	char *base, *key;
	time_t now;
	char **headers;
	struct phase ph[2];
	int cur; /* phase 0 or 1, 2 = done */
	struct rstate *rs;
	struct widget_value *values;
	char **vmsg;
	size_t nvalues;
};

/* Replace every copy of the key (raw or percent-encoded) in msg with "***". */
static char *scrub(const struct widget_sample *s, char *msg)
{
	if (!msg || !s->key || !*s->key)
		return msg;
	struct buf enc;
	buf_init(&enc, 0);
	url_encode(&enc, s->key, strlen(s->key));
	const char *pats[2] = {s->key, enc.data};
	for (int k = 0; k < 2; k++) {
		char *hit;
		while ((hit = strstr(msg, pats[k]))) {
			char *n =
			    xasprintf("%.*s***%s", (int)(hit - msg), msg, hit + strlen(pats[k]));
			free(msg);
			msg = n;
		}
	}
	buf_release(&enc);
	return msg;
}

static char *build_url(const struct widget_sample *s, const struct widget_reqdef *r,
                       const json_t *item, const char **why)
{
	struct buf u, v;
	int rc = 0;
	char sep;
	buf_init(&u, 0);
	buf_init(&v, 0);
	if (r->path[0] == '/')
		buf_adds(&u, s->base);
	rc = tmpl_run(&u, r->path, s->now, item, 1, why);
	sep = strchr(u.data, '?') ? '&' : '?';
	for (size_t i = 0; !rc && i < r->nquery; i++) {
		buf_reset(&v);
		rc = tmpl_run(&v, r->query[i].value, s->now, item, 0, why);
		buf_addf(&u, "%c%s=", sep, r->query[i].name);
		url_encode(&u, v.data, v.len);
		sep = '&';
	}
	if (!rc && s->key && s->d->key_query) {
		buf_addf(&u, "%c%s=", sep, s->d->key_query);
		url_encode(&u, s->key, strlen(s->key));
	}
	buf_release(&v);
	if (rc) {
		buf_release(&u);
		return NULL;
	}
	return buf_detach(&u, NULL);
}

/* Index of url in phase p, added when new: requests shared by fields are made once. */
static size_t phase_add(struct widget_sample *s, int p, char *url)
{
	struct phase *ph = &s->ph[p];
	for (size_t i = 0; i < ph->n; i++)
		if (!strcmp(ph->f[i].url, url)) {
			free(url);
			return i;
		}
	ph->f = xrealloc(ph->f, (ph->n + 1) * sizeof(*ph->f));
	ph->reqs = xrealloc(ph->reqs, (ph->n + 1) * sizeof(*ph->reqs));
	ph->f[ph->n] = (struct fetch){.url = url};
	ph->reqs[ph->n] = (struct widget_request){url, (const char *const *)s->headers};
	return ph->n++;
}

static void set_err(struct rstate *r, const char *eclass, char *msg)
{
	r->eclass = eclass;
	free(r->emsg);
	r->emsg = msg;
}

static const char *transport_class(const char *t, const char **msg)
{
	static const char *const prefixed[] = {"timeout", "connect", "toobig", "transport"};
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(prefixed[i]);
		if (!strncmp(t, prefixed[i], n) && t[n] == ':') {
			*msg = t + n + 1 + (t[n + 1] == ' ');
			return prefixed[i];
		}
	}
	*msg = t;
	if (strstr(t, "timed out") || strstr(t, "Timeout"))
		return "timeout";
	if (strstr(t, "connect") || strstr(t, "resolve") || strstr(t, "refused"))
		return "connect";
	return "transport";
}

static void fetch_answer(struct widget_sample *s, struct fetch *f, long status, const char *body,
                         size_t len, const char *terr)
{
	json_error_t je;
	const char *m;
	f->answered = 1;
	if (terr) {
		f->eclass = transport_class(terr, &m);
		f->emsg = scrub(s, xstrdup(*m ? m : f->eclass));
	} else if (status == 401 || status == 403) {
		f->eclass = "auth";
		f->emsg = xasprintf("HTTP %ld: the API key was refused", status);
	} else if (status < 200 || status > 299) {
		f->eclass = "http";
		f->emsg = xasprintf("HTTP %ld", status);
	} else if (!(f->body = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &je))) {
		f->eclass = "json";
		f->emsg = scrub(s, xasprintf("malformed JSON at line %d: %s", je.line, je.text));
	}
}

static void resolve_from(struct rstate *r, const struct fetch *f)
{
	if (f->body)
		r->answer = json_incref(f->body);
	else
		set_err(r, f->eclass, xstrdup(f->emsg));
}

/* List a foreach request's items and add their URLs to phase 1. */
static void start_foreach(struct widget_sample *s, size_t i)
{
	const struct widget_reqdef *r = &s->d->requests[i];
	struct rstate *st = &s->rs[i], *parent = &s->rs[r->foreach];
	char *msg = NULL;
	json_t *items;
	if (parent->eclass) {
		set_err(st, parent->eclass, xstrdup(parent->emsg));
		return;
	}
	if (!(items = path_eval(&r->items, 0, parent->answer, &msg))) {
		set_err(st, "missing", msg);
		return;
	}
	if (!json_is_array(items)) {
		set_err(st, "missing", xasprintf("%s: not an array", r->items.text));
	} else if (json_array_size(items) > WIDGET_MAX_FANOUT) {
		set_err(st, "limit",
		        xasprintf("%zu items to request, more than %d", json_array_size(items),
		                  WIDGET_MAX_FANOUT));
	} else {
		st->started = 1;
		st->items = xcalloc(json_array_size(items) + 1, sizeof(*st->items));
		for (size_t k = 0; k < json_array_size(items); k++) {
			const char *why;
			char *url = build_url(s, r, json_array_get(items, k), &why);
			/* An item without the member the URL needs is skipped, as STD does. */
			if (url)
				st->items[st->nitems++] = phase_add(s, 1, url);
		}
	}
	json_decref(items);
}

static void resolve_foreach(struct widget_sample *s, size_t i)
{
	struct rstate *st = &s->rs[i];
	if (!st->started)
		return;
	st->answer = json_array();
	for (size_t k = 0; k < st->nitems; k++) {
		const struct fetch *f = &s->ph[1].f[st->items[k]];
		if (!f->body) {
			json_decref(st->answer);
			st->answer = NULL;
			set_err(st, f->eclass, xstrdup(f->emsg));
			return;
		}
		json_array_append(st->answer, f->body);
	}
}

/* ---- values ---- */

static double round_even(double x, int digits)
{
	double m = 1;
	for (int i = 0; i < digits; i++)
		m *= 10;
	/* Half to even, as Python's round() that STD's widgets use. */
	double y = x * m, r = floor(y), diff = y - r;
	if (diff > 0.5 || (diff == 0.5 && floor(r / 2) * 2 != r))
		r += 1;
	return r / m;
}

/* The number v is, or -1 with *msg. */
static int number_of(const json_t *v, const char *what, double *out, char **msg)
{
	if (!json_is_number(v)) {
		*msg = xasprintf("%s is not a number", what);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int cond_match(const struct widget_field *f, const json_t *v, const char *what, int *match,
                      char **msg)
{
	double a, b;
	if (!json_is_number(f->operand)) {
		int eq = json_equal((json_t *)v, f->operand);
		*match = f->op == WIDGET_OP_EQ ? eq : !eq;
		return 0;
	}
	if (number_of(v, what, &a, msg))
		return -1;
	b = json_number_value(f->operand);
	switch (f->op) {
	case WIDGET_OP_EQ:
		*match = a == b;
		break;
	case WIDGET_OP_NE:
		*match = a != b;
		break;
	case WIDGET_OP_GT:
		*match = a > b;
		break;
	case WIDGET_OP_GE:
		*match = a >= b;
		break;
	case WIDGET_OP_LT:
		*match = a < b;
		break;
	case WIDGET_OP_LE:
		*match = a <= b;
		break;
	}
	return 0;
}

static int reduce(const struct widget_field *f, const json_t *x, double *out, char **msg)
{
	size_t k;
	json_t *item;
	const char *what = f->value.text;
	if (f->reduce == WIDGET_REDUCE_NONE)
		return number_of(x, what, out, msg);
	if (!json_is_array(x)) {
		*msg = xasprintf("%s is not an array", what);
		return -1;
	}
	if (f->reduce == WIDGET_REDUCE_LENGTH) {
		*out = (double)json_array_size(x);
		return 0;
	}
	*out = 0;
	json_array_foreach (x, k, item) {
		const json_t *v = f->member ? json_object_get(item, f->member) : item;
		double n = 0;
		int match = 0, rc;
		if (!v) {
			*msg = xasprintf("%s: item %zu has no member '%s'", what, k, f->member);
			return -1;
		}
		char *w = xasprintf("%s: item %zu%s%s", what, k, f->member ? "'s " : "",
		                    f->member ? f->member : "");
		if (f->reduce == WIDGET_REDUCE_SUM)
			rc = number_of(v, w, &n, msg);
		else
			rc = cond_match(f, v, w, &match, msg);
		free(w);
		if (rc)
			return -1;
		*out += f->reduce == WIDGET_REDUCE_SUM ? n : match;
	}
	return 0;
}

static void compute_value(struct widget_sample *s, size_t i)
{
	const struct widget_field *f = &s->d->fields[i];
	const struct rstate *r = &s->rs[f->request];
	struct widget_value *v = &s->values[i];
	char *msg = NULL;
	*v = (struct widget_value){f->key, f->label, f->unit, 0, 0, NULL, NULL};
	if (r->eclass) {
		v->error_class = r->eclass;
		msg = xstrdup(r->emsg);
	} else {
		json_t *x = path_eval(&f->value, 0, r->answer, &msg);
		double n;
		if (x && !reduce(f, x, &n, &msg)) {
			if (f->divide > 0)
				n /= f->divide;
			if (f->round >= 0)
				n = round_even(n, f->round);
			v->has_value = 1;
			v->value = n;
		} else {
			v->error_class = "missing";
		}
		json_decref(x);
	}
	s->vmsg[i] = scrub(s, msg);
	v->message = s->vmsg[i];
}

static void finish(struct widget_sample *s)
{
	s->cur = 2;
	s->nvalues = s->d->nfields;
	s->values = xcalloc(s->nvalues + 1, sizeof(*s->values));
	s->vmsg = xcalloc(s->nvalues + 1, sizeof(*s->vmsg));
	for (size_t i = 0; i < s->nvalues; i++)
		compute_value(s, i);
}

/* Move on once every request of the current phase is answered. */
static void advance(struct widget_sample *s)
{
	const struct widget_def *d = s->d;
	if (s->cur == 0) {
		for (size_t i = 0; i < d->nrequests; i++)
			if (d->requests[i].foreach < 0 && !s->rs[i].eclass)
				resolve_from(&s->rs[i], &s->ph[0].f[s->rs[i].fetch]);
		for (size_t i = 0; i < d->nrequests; i++)
			if (d->requests[i].foreach >= 0)
				start_foreach(s, i);
		s->cur = 1;
		if (s->ph[1].n)
			return;
	}
	for (size_t i = 0; i < d->nrequests; i++)
		if (d->requests[i].foreach >= 0)
			resolve_foreach(s, i);
	finish(s);
}

/* A sample that is done before it starts: one value saying why. */
static struct widget_sample *failed(struct widget_sample *s, const char *eclass, char *msg)
{
	s->cur = 2;
	s->nvalues = 1;
	s->values = xcalloc(1, sizeof(*s->values));
	s->vmsg = xcalloc(1, sizeof(*s->vmsg));
	s->vmsg[0] = scrub(s, msg);
	s->values[0] =
	    (struct widget_value){"config", "Configuration", "", 0, 0, eclass, s->vmsg[0]};
	return s;
}

struct widget_sample *widget_sample_new(const struct widget_def *d, const char *base_url,
                                        const char *api_key, const json_t *config, time_t now)
{
	struct widget_sample *s = xcalloc(1, sizeof(*s));
	size_t n = strlen(base_url);
	while (n && base_url[n - 1] == '/')
		n--;
	s->base = xstrndup(base_url, n);
	s->key = api_key && *api_key ? xstrdup(api_key) : NULL;
	s->now = now;
	s->d = d;
	if (d->configurable) {
		struct buf problems;
		buf_init(&problems, 4096);
		if (widget_def_configure(&s->own, d, config, &problems, NULL)) {
			size_t len = strcspn(problems.data, "\n");
			char *first = xstrndup(problems.data, len);
			buf_release(&problems);
			return failed(s, "config", first);
		}
		buf_release(&problems);
		s->d = d = s->own;
	}
	if (strncmp(s->base, "http://", 7) && strncmp(s->base, "https://", 8))
		return failed(s, "config", xstrdup("the URL must start with http:// or https://"));
	for (const char *p = s->key; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return failed(s, "config", xstrdup("the API key holds control characters"));
	s->headers = xcalloc(3, sizeof(*s->headers));
	s->headers[0] = xstrdup("Accept: application/json");
	if (s->key && d->key_header)
		s->headers[1] = xasprintf("%s: %s", d->key_header, s->key);
	s->rs = xcalloc(d->nrequests + 1, sizeof(*s->rs));
	for (size_t i = 0; i < d->nrequests; i++) {
		const char *why = NULL;
		if (d->requests[i].foreach >= 0)
			continue;
		char *url = build_url(s, &d->requests[i], NULL, &why);
		if (url)
			s->rs[i].fetch = phase_add(s, 0, url);
		else
			set_err(&s->rs[i], "config", xstrdup(why));
	}
	if (!s->ph[0].n)
		advance(s);
	return s;
}

size_t widget_sample_requests(struct widget_sample *s, const struct widget_request **out)
{
	if (s->cur > 1) {
		*out = NULL;
		return 0;
	}
	*out = s->ph[s->cur].reqs;
	return s->ph[s->cur].n;
}

void widget_sample_answer(struct widget_sample *s, size_t i, long http_status, const char *body,
                          size_t len, const char *transport_error)
{
	if (s->cur > 1 || i >= s->ph[s->cur].n || s->ph[s->cur].f[i].answered)
		return;
	struct phase *ph = &s->ph[s->cur];
	fetch_answer(s, &ph->f[i], http_status, body, len, transport_error);
	if (++ph->nanswered == ph->n)
		advance(s);
}

size_t widget_sample_values(const struct widget_sample *s, const struct widget_value **out)
{
	*out = s->cur == 2 ? s->values : NULL;
	return s->cur == 2 ? s->nvalues : 0;
}

void widget_sample_free(struct widget_sample *s)
{
	if (!s)
		return;
	for (int p = 0; p < 2; p++) {
		for (size_t i = 0; i < s->ph[p].n; i++) {
			free(s->ph[p].f[i].url);
			free(s->ph[p].f[i].emsg);
			json_decref(s->ph[p].f[i].body);
		}
		free(s->ph[p].f);
		free(s->ph[p].reqs);
	}
	for (size_t i = 0; s->rs && i < s->d->nrequests; i++) {
		free(s->rs[i].items);
		free(s->rs[i].emsg);
		json_decref(s->rs[i].answer);
	}
	for (size_t i = 0; i < s->nvalues; i++)
		free(s->vmsg[i]);
	for (size_t i = 0; s->headers && s->headers[i]; i++)
		free(s->headers[i]);
	free(s->headers);
	free(s->vmsg);
	free(s->values);
	free(s->rs);
	widget_def_free(s->own);
	free(s->base);
	free(s->key);
	free(s);
}
