#include "tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../common/banned.h"

/* Context stack entries per render: sections, array elements, across partials. */
#define RENDER_STACK 256

enum op_kind { OP_TEXT, OP_VAR, OP_RAW, OP_SECTION, OP_INVERTED, OP_PARTIAL };

/* One segment of a dotted name, pointing into the template's source. */
struct seg {
	const char *s;
	size_t len;
};

struct op {
	enum op_kind kind;
	unsigned line;
	const char *s; /* OP_TEXT: the bytes; otherwise the name as written */
	size_t len;
	size_t seg, nseg;           /* name segments t->segs[seg, seg + nseg); none for "." */
	size_t end;                 /* OP_SECTION, OP_INVERTED: index of the op after the section */
	const struct tmpl *partial; /* OP_PARTIAL, set by tmpl_set_finish() */
};

struct tmpl {
	char *name;
	size_t name_len;
	char *label; /* name + ".html", for messages */
	char *src;   /* own copy: text spans and names point into it */
	struct op *ops;
	size_t nops, aops;
	struct seg *segs;
	size_t nsegs, asegs;
};

struct tmpl_set {
	struct tmpl **v; /* sorted by name */
	size_t n, alloc;
	int finished;
};

/* ---- escaping ------------------------------------------------------------ */

static const struct {
	const char *s;
	unsigned char n;
} entity[256] = {
    ['&'] = {"&amp;", 5},  ['<'] = {"&lt;", 4},  ['>'] = {"&gt;", 4},  ['"'] = {"&quot;", 6},
    ['\''] = {"&#39;", 5}, ['`'] = {"&#96;", 5}, ['='] = {"&#61;", 5},
};

/* 1 for the bytes entity[] replaces: the scan loop's table. */
static const unsigned char special[256] = {
    ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1, ['`'] = 1, ['='] = 1,
};

/*
 * buf_add with its common case inline: most appends are a few bytes into
 * a buffer that already has room. Relies only on struct buf's documented
 * fields (data NUL-terminated, alloc 0 while data is the shared "").
 */
static inline int out_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n < b->alloc && (!b->max || b->len + n <= b->max)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_add(b, p, n);
}

/* Append s escaped: each run of safe bytes goes in with one append. */
static int escape_into(struct buf *out, const char *s, size_t len)
{
	if (!len)
		return 0;
	const char *p = s, *end = s + len;
	for (;;) {
		const char *q = p;
		while (end - q >= 4 &&
		       !(special[(unsigned char)q[0]] | special[(unsigned char)q[1]] |
		         special[(unsigned char)q[2]] | special[(unsigned char)q[3]]))
			q += 4;
		while (q < end && !special[(unsigned char)*q])
			q++;
		if (out_add(out, p, (size_t)(q - p)))
			return ERR_TOOBIG;
		if (q == end)
			break;
		unsigned char c = (unsigned char)*q;
		if (out_add(out, entity[c].s, entity[c].n))
			return ERR_TOOBIG;
		p = q + 1;
	}
	return 0;
}

/* Cut out back to len bytes (undoing a failed append sequence). */
static void buf_cut(struct buf *out, size_t len)
{
	out->len = len;
	if (out->alloc)
		out->data[len] = '\0';
}

int tmpl_escape_html(struct buf *out, const char *s, size_t len)
{
	size_t start = out->len;
	if (escape_into(out, s, len)) {
		buf_cut(out, start);
		return ERR_TOOBIG;
	}
	return 0;
}

/* ---- parsing ------------------------------------------------------------- */

struct parser {
	struct tmpl *t;
	const char *src;
	size_t len;
	size_t lpos;   /* newlines are counted up to here */
	unsigned line; /* line number at lpos */
	size_t open[TMPL_MAX_NEST];
	size_t nopen;
	struct err *e;
};

struct tag {
	char sigil; /* 0 or one of { # ^ / > ! & */
	size_t start, end;
	const char *name; /* trimmed contents */
	size_t nlen;
	unsigned line;
};

/* Longest name quoted in a message. */
#define NAME_SHOWN 64
#define SHOW(s, n) (int)((n) < NAME_SHOWN ? (n) : NAME_SHOWN), (s)

static int perr(const struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(const struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(p->e, ERR_INVAL, "%s:%u: %s", p->t->label, line, msg);
}

static unsigned line_at(struct parser *p, size_t pos)
{
	const char *s = p->src + p->lpos, *end = p->src + pos;
	while ((s = memchr(s, '\n', (size_t)(end - s)))) {
		p->line++;
		s++;
	}
	p->lpos = pos;
	return p->line;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\r';
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* "." alone, or non-empty segments of name characters joined by dots. */
static int dotted_name_ok(const char *s, size_t n)
{
	int after_dot = 1;
	if (n == 1 && s[0] == '.')
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (after_dot)
				return 0;
			after_dot = 1;
		} else if (is_name_char(s[i])) {
			after_dot = 0;
		} else {
			return 0;
		}
	}
	return !after_dot;
}

/* Partial names are template (file) names: dots are plain characters. */
static int partial_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]) && s[i] != '.')
			return 0;
	return 1;
}

/* Find the end of the tag at tg->start and its trimmed contents. */
static int scan_tag(struct parser *p, struct tag *tg)
{
	const char *src = p->src;
	size_t i = tg->start + 2, clen = 2;
	tg->sigil = 0;
	if (i < p->len && memchr("{#^/>!&", src[i], 7)) {
		tg->sigil = src[i++];
		if (tg->sigil == '{')
			clen = 3;
	}
	const char *c = memmem(src + i, p->len - i, "}}}", clen);
	if (!c)
		return perr(p, tg->line, "unterminated tag");
	size_t ce = (size_t)(c - src);
	tg->end = ce + clen;
	while (i < ce && is_space(src[i]))
		i++;
	while (ce > i && is_space(src[ce - 1]))
		ce--;
	tg->name = src + i;
	tg->nlen = ce - i;
	return 0;
}

/*
 * A section, inverted, close, comment or partial tag with only blanks
 * around it on its line takes the whole line with it (Mustache's
 * "standalone" rule), so templates can be indented freely.
 */
static void standalone(const struct parser *p, const struct tag *tg, size_t pos, size_t *text_end,
                       size_t *next)
{
	const char *src = p->src;
	size_t ls = tg->start, te = tg->end;
	if (!tg->sigil || tg->sigil == '{' || tg->sigil == '&')
		return;
	while (ls > pos && is_blank(src[ls - 1]))
		ls--;
	if (ls > 0 && src[ls - 1] != '\n')
		return;
	while (te < p->len && is_blank(src[te]))
		te++;
	if (te + 1 < p->len && src[te] == '\r' && src[te + 1] == '\n')
		te += 2;
	else if (te < p->len && src[te] == '\n')
		te++;
	else if (te < p->len)
		return;
	*text_end = ls;
	*next = te;
}

static struct op *push_op(struct tmpl *t, enum op_kind kind, unsigned line, const char *s,
                          size_t len)
{
	if (t->nops == t->aops) {
		t->aops = t->aops ? 2 * t->aops : 16;
		t->ops = xrealloc(t->ops, t->aops * sizeof(*t->ops));
	}
	struct op *op = &t->ops[t->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->line = line;
	op->s = s;
	op->len = len;
	return op;
}

/* An op for a name, split at its dots. */
static struct op *push_named(struct tmpl *t, enum op_kind kind, const struct tag *tg)
{
	struct op *op = push_op(t, kind, tg->line, tg->name, tg->nlen);
	op->seg = t->nsegs;
	if (tg->nlen == 1 && tg->name[0] == '.')
		return op;
	const char *s = tg->name, *end = tg->name + tg->nlen;
	while (s < end) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		const char *e = dot ? dot : end;
		if (t->nsegs == t->asegs) {
			t->asegs = t->asegs ? 2 * t->asegs : 16;
			t->segs = xrealloc(t->segs, t->asegs * sizeof(*t->segs));
		}
		t->segs[t->nsegs].s = s;
		t->segs[t->nsegs++].len = (size_t)(e - s);
		op->nseg++;
		s = e + 1;
	}
	return op;
}

static int ends_in_html(const char *s, size_t n)
{
	const char *dot = memrchr(s, '.', n);
	size_t last = dot ? n - (size_t)(dot + 1 - s) : n;
	return last >= 5 && !memcmp(s + n - 5, "_html", 5);
}

static int close_section(struct parser *p, const struct tag *tg)
{
	struct tmpl *t = p->t;
	if (!p->nopen)
		return perr(p, tg->line, "close '%.*s' without open section",
		            SHOW(tg->name, tg->nlen));
	struct op *o = &t->ops[p->open[p->nopen - 1]];
	if (o->len != tg->nlen || memcmp(o->s, tg->name, o->len))
		return perr(p, tg->line, "mismatched close '%.*s' (open '%.*s')",
		            SHOW(tg->name, tg->nlen), SHOW(o->s, o->len));
	o->end = t->nops;
	p->nopen--;
	return 0;
}

/* Compile one tag into ops. */
static int tag_op(struct parser *p, const struct tag *tg)
{
	struct tmpl *t = p->t;
	if (tg->sigil == '!')
		return 0;
	if (!tg->nlen)
		return perr(p, tg->line, "empty name in tag");
	if (tg->sigil == '>') {
		if (!partial_name_ok(tg->name, tg->nlen))
			return perr(p, tg->line, "bad partial name '%.*s'",
			            SHOW(tg->name, tg->nlen));
		push_op(t, OP_PARTIAL, tg->line, tg->name, tg->nlen);
		return 0;
	}
	if (tg->sigil == '/')
		return close_section(p, tg);
	if (!dotted_name_ok(tg->name, tg->nlen))
		return perr(p, tg->line, "bad name '%.*s' (letters, digits, '_', '-', '.' only)",
		            SHOW(tg->name, tg->nlen));
	switch (tg->sigil) {
	case '#':
	case '^':
		if (p->nopen == TMPL_MAX_NEST)
			return perr(p, tg->line, "sections nested deeper than %d", TMPL_MAX_NEST);
		p->open[p->nopen++] = t->nops;
		push_named(t, tg->sigil == '#' ? OP_SECTION : OP_INVERTED, tg);
		return 0;
	case '{':
	case '&':
		if (!ends_in_html(tg->name, tg->nlen))
			return perr(p, tg->line,
			            "raw output of '%.*s' needs a name ending in _html",
			            SHOW(tg->name, tg->nlen));
		push_named(t, OP_RAW, tg);
		return 0;
	default:
		push_named(t, OP_VAR, tg);
		return 0;
	}
}

static int parse(struct parser *p)
{
	const char *src = p->src;
	size_t pos = 0;
	while (pos < p->len) {
		const char *o = memmem(src + pos, p->len - pos, "{{", 2);
		if (!o) {
			push_op(p->t, OP_TEXT, 0, src + pos, p->len - pos);
			break;
		}
		struct tag tg = {.start = (size_t)(o - src)};
		tg.line = line_at(p, tg.start);
		if (scan_tag(p, &tg))
			return ERR_INVAL;
		size_t text_end = tg.start, next = tg.end;
		standalone(p, &tg, pos, &text_end, &next);
		if (text_end > pos)
			push_op(p->t, OP_TEXT, 0, src + pos, text_end - pos);
		if (tag_op(p, &tg))
			return ERR_INVAL;
		pos = next;
	}
	if (p->nopen) {
		const struct op *op = &p->t->ops[p->open[p->nopen - 1]];
		return perr(p, op->line, "unclosed section '%.*s'", SHOW(op->s, op->len));
	}
	return 0;
}

static void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->label);
	free(t->src);
	free(t->ops);
	free(t->segs);
	free(t);
}

/* ---- the set ------------------------------------------------------------- */

/* Index of name in s->v, or where it would go; *found says which. */
static size_t set_find(const struct tmpl_set *s, const char *name, size_t len, int *found)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tmpl *t = s->v[mid];
		size_t m = t->name_len < len ? t->name_len : len;
		int c = memcmp(t->name, name, m);
		if (!c)
			c = (t->name_len > len) - (t->name_len < len);
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct tmpl_set *tmpl_set_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_set));
}

void tmpl_set_free(struct tmpl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		tmpl_free(s->v[i]);
	free(s->v);
	free(s);
}

int tmpl_set_has(const struct tmpl_set *s, const char *name)
{
	int found;
	set_find(s, name, strlen(name), &found);
	return found;
}

int tmpl_set_add_string(struct tmpl_set *s, const char *name, const char *text, size_t len,
                        struct err *e)
{
	if (!*name)
		return err_set(e, ERR_INVAL, "empty template name");
	struct tmpl *t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->name_len = strlen(name);
	t->label = xasprintf("%s.html", name);
	t->src = xmalloc(len + 1);
	if (len)
		memcpy(t->src, text, len);
	t->src[len] = '\0';
	struct parser p = {.t = t, .src = t->src, .len = len, .line = 1, .e = e};
	if (parse(&p)) {
		tmpl_free(t);
		return ERR_INVAL;
	}
	int found;
	size_t i = set_find(s, name, t->name_len, &found);
	if (found) {
		tmpl_free(s->v[i]);
	} else {
		if (s->n == s->alloc) {
			s->alloc = s->alloc ? 2 * s->alloc : 16;
			s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
		}
		memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
		s->n++;
	}
	s->v[i] = t;
	s->finished = 0;
	return 0;
}

int tmpl_set_finish(struct tmpl_set *s, struct err *e)
{
	s->finished = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct tmpl *t = s->v[i];
		for (size_t k = 0; k < t->nops; k++) {
			struct op *op = &t->ops[k];
			int found;
			if (op->kind != OP_PARTIAL)
				continue;
			size_t j = set_find(s, op->s, op->len, &found);
			if (!found)
				return err_set(e, ERR_INVAL, "%s:%u: unknown partial '%.*s'",
				               t->label, op->line, SHOW(op->s, op->len));
			op->partial = s->v[j];
		}
	}
	s->finished = 1;
	return 0;
}

/* ---- rendering ----------------------------------------------------------- */

struct rctx {
	struct buf *out;
	struct err *e;
	long steps;
	unsigned partials; /* partials currently being rendered */
	size_t depth;
	const json_t *stack[RENDER_STACK];
};

static int toobig(struct rctx *r)
{
	return err_set(r->e, ERR_TOOBIG, "rendered output over %zu bytes", r->out->max);
}

static int truthy(const json_t *v)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_TRUE:
		return 1;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	default:
		return 0;
	}
}

/* The first segment is looked up from the innermost context outwards, the rest inside it. */
static const json_t *lookup(const struct rctx *r, const struct tmpl *t, const struct op *op)
{
	const struct seg *seg;
	const json_t *v = NULL;
	if (!op->nseg)
		return r->depth ? r->stack[r->depth - 1] : NULL;
	seg = t->segs + op->seg;
	for (size_t i = r->depth; i-- > 0 && !v;)
		if (json_is_object(r->stack[i]))
			v = json_object_getn(r->stack[i], seg[0].s, seg[0].len);
	for (size_t k = 1; v && k < op->nseg; k++)
		v = json_is_object(v) ? json_object_getn(v, seg[k].s, seg[k].len) : NULL;
	return v;
}

/* Shortest %g that reads back as the same double (at most 17 digits). */
static size_t format_real(char *s, size_t size, double d)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(s, size, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	return n > 0 ? (size_t)n : 0;
}

static int write_value(struct rctx *r, const json_t *v, int escape)
{
	char num[40];
	const char *s = num;
	size_t n;
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		                     json_integer_value(v));
		break;
	case JSON_REAL:
		n = format_real(num, sizeof(num), json_real_value(v));
		break;
	case JSON_TRUE:
		s = "true";
		n = 4;
		break;
	case JSON_FALSE:
		s = "false";
		n = 5;
		break;
	default:
		return 0;
	}
	if (escape ? escape_into(r->out, s, n) : out_add(r->out, s, n))
		return toobig(r);
	return 0;
}

static int render_ops(struct rctx *r, const struct tmpl *t, size_t i, size_t end);

static int render_pushed(struct rctx *r, const struct tmpl *t, const struct op *op, const json_t *v)
{
	if (r->depth == RENDER_STACK)
		return err_set(r->e, ERR_INVAL, "%s:%u: sections nested deeper than %d", t->label,
		               op->line, RENDER_STACK);
	r->stack[r->depth++] = v;
	int rc = render_ops(r, t, (size_t)(op - t->ops) + 1, op->end);
	r->depth--;
	return rc;
}

static int render_section(struct rctx *r, const struct tmpl *t, const struct op *op)
{
	const json_t *v = lookup(r, t, op);
	if (!truthy(v))
		return 0;
	if (!json_is_array(v))
		return render_pushed(r, t, op, v);
	for (size_t k = 0, n = json_array_size(v); k < n; k++) {
		int rc = render_pushed(r, t, op, json_array_get(v, k));
		if (rc)
			return rc;
	}
	return 0;
}

static int render_partial(struct rctx *r, const struct tmpl *t, const struct op *op)
{
	if (r->partials == TMPL_MAX_PARTIAL_DEPTH)
		return err_set(r->e, ERR_INVAL, "%s:%u: partial '%.*s' nested deeper than %d",
		               t->label, op->line, SHOW(op->s, op->len), TMPL_MAX_PARTIAL_DEPTH);
	r->partials++;
	int rc = render_ops(r, op->partial, 0, op->partial->nops);
	r->partials--;
	return rc;
}

static int render_ops(struct rctx *r, const struct tmpl *t, size_t i, size_t end)
{
	int rc = 0;
	while (!rc && i < end) {
		const struct op *op = &t->ops[i];
		if (++r->steps > TMPL_MAX_STEPS)
			return err_set(r->e, ERR_TOOBIG, "%s:%u: render takes more than %ld steps",
			               t->label, op->line, TMPL_MAX_STEPS);
		switch (op->kind) {
		case OP_TEXT:
			if (out_add(r->out, op->s, op->len))
				rc = toobig(r);
			break;
		case OP_VAR:
		case OP_RAW:
			rc = write_value(r, lookup(r, t, op), op->kind == OP_VAR);
			break;
		case OP_SECTION:
			rc = render_section(r, t, op);
			i = op->end;
			continue;
		case OP_INVERTED:
			if (!truthy(lookup(r, t, op)))
				rc = render_ops(r, t, i + 1, op->end);
			i = op->end;
			continue;
		case OP_PARTIAL:
			rc = render_partial(r, t, op);
			break;
		}
		i++;
	}
	return rc;
}

int tmpl_render(const struct tmpl_set *s, const char *name, const json_t *ctx, struct buf *out,
                struct err *e)
{
	int found;
	if (!s->finished)
		return err_set(e, ERR_INVAL, "template set not finished");
	size_t i = set_find(s, name, strlen(name), &found);
	if (!found)
		return err_set(e, ERR_NOTFOUND, "no template '%s'", name);
	struct rctx r; /* not zeroed whole: the stack is written before it is read */
	r.out = out;
	r.e = e;
	r.steps = 0;
	r.partials = 0;
	r.depth = 0;
	if (ctx)
		r.stack[r.depth++] = ctx;
	size_t start = out->len;
	int rc = render_ops(&r, s->v[i], 0, s->v[i]->nops);
	if (rc)
		buf_cut(out, start);
	return rc;
}
