/*
 * Writing YAML by hand rather than through libyaml's emitter: the output
 * is small and fixed in shape, and choosing every scalar's style here is
 * what makes the "plain only when no reader re-types it" rule checkable.
 */
#include "yaml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/banned.h"

/* Longest rendered mapping key written as an implicit key (YAML allows 1024 characters). */
#define MAX_IMPLICIT_KEY 1000

struct emitter {
	struct buf *out;
	int rc; /* first error; output stops there */
};

static void put(struct emitter *em, const char *s, size_t n)
{
	if (!em->rc)
		em->rc = buf_add(em->out, s, n);
}

static void puts_(struct emitter *em, const char *s)
{
	put(em, s, strlen(s));
}

static void put_indent(struct emitter *em, int n)
{
	static const char spaces[] = "                ";
	while (n > 0) {
		int k = n < 16 ? n : 16;
		put(em, spaces, (size_t)k);
		n -= k;
	}
}

/*
 * Decode the UTF-8 character at s[*i] and advance *i; -1 for a malformed,
 * overlong or surrogate sequence (YAML readers reject those).
 */
static long utf8_next(const char *str, size_t len, size_t *i)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[*i];
	size_t n;
	long cp, min;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if ((c & 0xE0) == 0xC0) {
		n = 1, cp = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2, cp = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += n + 1;
	return cp;
}

/*
 * Characters every YAML reader takes literally inside a plain or quoted
 * scalar: printable, no line break of YAML 1.1 (NEL, LS, PS), no BOM.
 */
static int literal_char(long cp)
{
	if (cp >= 0x20 && cp <= 0x7E)
		return 1;
	if (cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF)
		return 0;
	return cp <= 0xD7FF || (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
}

/* Whether a reader could resolve the plain scalar s as something other than a string. */
static int looks_typed(const char *s, size_t len)
{
	static const char *const words[] = {"null", "~",     "true",  "false", "yes", "no",
	                                    "on",   "off",   "y",     "n",     "<<",  "=",
	                                    ".inf", "-.inf", "+.inf", ".nan"};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strlen(words[i]) == len && !strncasecmp(s, words[i], len))
			return 1;
	/* YAML 1.1 timestamps: 2024-01-02... */
	if (len >= 5 && strspn(s, "0123456789") >= 4 && s[4] == '-')
		return 1;
	/*
	 * Anything number-like in any schema (ints in bases 2-16, 1_000,
	 * sexagesimal 1:30, floats, "1.2.3" which YAML 1.1's float pattern
	 * matches): a sign, then a digit or '.', then only such characters.
	 */
	size_t p = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	if (p >= len || !strchr("0123456789.", s[p]))
		return 0;
	for (; p < len; p++)
		if (!strchr("0123456789abcdefABCDEFxXoO._:+-", s[p]))
			return 0;
	return 1;
}

/* Whether s can be written as a plain scalar and read back as the same string. */
static int plain_ok(const char *s, size_t len)
{
	if (!len || s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
		return 0;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) || (len >= 3 && !memcmp(s, "...", 3)))
		return 0;
	if (looks_typed(s, len))
		return 0;
	for (size_t i = 0; i < len;) {
		long cp = utf8_next(s, len, &i);
		if (cp < 0 || !literal_char(cp))
			return 0;
	}
	return !memmem(s, len, ": ", 2) && !memmem(s, len, " #", 2);
}

static void emit_quoted(struct emitter *em, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	put(em, "\"", 1);
	for (size_t i = 0; i < len;) {
		size_t start = i;
		long cp = utf8_next(s, len, &i);
		char esc[8];
		if (cp < 0) {
			em->rc = em->rc ? em->rc : ERR_INVAL;
			return;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp;
			put(em, esc, 2);
		} else if (cp == '\n' || cp == '\t' || cp == '\r') {
			esc[0] = '\\', esc[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
			put(em, esc, 2);
		} else if (literal_char(cp)) {
			put(em, s + start, i - start);
		} else if (cp < 0x100) {
			esc[0] = '\\', esc[1] = 'x', esc[2] = hex[cp >> 4], esc[3] = hex[cp & 15];
			put(em, esc, 4);
		} else {
			esc[0] = '\\', esc[1] = 'u';
			for (int k = 0; k < 4; k++)
				esc[2 + k] = hex[(cp >> (12 - 4 * k)) & 15];
			put(em, esc, 6);
		}
	}
	put(em, "\"", 1);
}

static void emit_string(struct emitter *em, const char *s, size_t len)
{
	if (plain_ok(s, len))
		put(em, s, len);
	else
		emit_quoted(em, s, len);
}

/*
 * Whether a multi-line text survives as a literal block: printable, no CR,
 * no trailing blanks on any line, a first line that does not start with a
 * blank (it fixes the indentation) and is not empty.
 */
static int literal_block_ok(const char *s, size_t len)
{
	if (!memchr(s, '\n', len) || s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
		return 0;
	if (s[len - 1] == ' ' || s[len - 1] == '\t')
		return 0;
	for (size_t i = 0; i < len;) {
		long cp = utf8_next(s, len, &i);
		if (cp == '\n' && (s[i - 2] == ' ' || s[i - 2] == '\t'))
			return 0;
		if (cp < 0 || (cp != '\n' && cp != '\t' && !literal_char(cp)))
			return 0;
	}
	return 1;
}

/* " |" with the chomping indicator that keeps the trailing newlines exact, then the lines. */
static void emit_literal_block(struct emitter *em, const char *s, size_t len, int indent)
{
	size_t trailing = 0;
	while (trailing < len && s[len - 1 - trailing] == '\n')
		trailing++;
	puts_(em, trailing == 0 ? " |-\n" : trailing == 1 ? " |\n" : " |+\n");
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - s) : len;
		if (end > pos) {
			put_indent(em, indent);
			put(em, s + pos, end - pos);
		}
		put(em, "\n", 1);
		pos = end + 1;
	}
}

/*
 * jansson's round-trip form (so re-reading gives the same canonical text),
 * made a float for YAML 1.1 readers too: "1e20" -> "1.0e+20".
 */
static void emit_real(struct emitter *em, const json_t *v)
{
	char *t = json_dumps(v, JSON_ENCODE_ANY);
	if (!t)
		abort(); /* jansson fails only on allocation here */
	char out[64];
	size_t n = 0;
	int dot = strchr(t, '.') != NULL;
	for (const char *p = t; *p && n < sizeof(out) - 4; p++) {
		if ((*p == 'e' || *p == 'E') && !dot) {
			out[n++] = '.';
			out[n++] = '0';
		}
		out[n++] = *p;
		if ((*p == 'e' || *p == 'E') && p[1] != '-' && p[1] != '+')
			out[n++] = '+';
	}
	put(em, out, n);
	free(t);
}

static int is_block(const json_t *v)
{
	return (json_is_array(v) && json_array_size(v)) ||
	       (json_is_object(v) && json_object_size(v));
}

/* A value written on the current line: scalars and empty collections. */
static void emit_inline(struct emitter *em, const json_t *v)
{
	char num[32];
	switch (json_typeof(v)) {
	case JSON_STRING:
		emit_string(em, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		puts_(em, num);
		break;
	case JSON_REAL:
		emit_real(em, v);
		break;
	case JSON_TRUE:
		puts_(em, "true");
		break;
	case JSON_FALSE:
		puts_(em, "false");
		break;
	case JSON_NULL:
		puts_(em, "null");
		break;
	case JSON_ARRAY:
		puts_(em, "[]");
		break;
	case JSON_OBJECT:
		puts_(em, "{}");
		break;
	}
}

static void emit_entries(struct emitter *em, const json_t *obj, int indent, int first_inline);
static void emit_items(struct emitter *em, const json_t *arr, int indent, int first_inline);

/* After "key:" at column indent: " scalar" or a nested block. */
static void emit_after_key(struct emitter *em, const json_t *v, int indent)
{
	if (!is_block(v)) {
		put(em, " ", 1);
		emit_inline(em, v);
		put(em, "\n", 1);
	} else if (json_is_object(v)) {
		put(em, "\n", 1);
		emit_entries(em, v, indent + 2, 0);
	} else {
		put(em, "\n", 1);
		emit_items(em, v, indent + 2, 0);
	}
}

/* "key:", or "? key\n:" for a key too long to be implicit. */
static void emit_key(struct emitter *em, const char *key, int indent)
{
	struct buf k;
	buf_init(&k, 0);
	struct emitter kem = {&k, 0};
	emit_string(&kem, key, strlen(key));
	if (kem.rc) {
		em->rc = em->rc ? em->rc : kem.rc;
	} else if (k.len <= MAX_IMPLICIT_KEY) {
		put(em, k.data, k.len);
		put(em, ":", 1);
	} else {
		put(em, "? ", 2);
		put(em, k.data, k.len);
		put(em, "\n", 1);
		put_indent(em, indent);
		put(em, ":", 1);
	}
	buf_release(&k);
}

static void emit_entries(struct emitter *em, const json_t *obj, int indent, int first_inline)
{
	const char *key;
	json_t *val;
	int first = 1;
	json_object_foreach ((json_t *)obj, key, val) {
		if (!first || !first_inline)
			put_indent(em, indent);
		first = 0;
		emit_key(em, key, indent);
		emit_after_key(em, val, indent);
	}
}

static void emit_items(struct emitter *em, const json_t *arr, int indent, int first_inline)
{
	size_t i;
	json_t *item;
	json_array_foreach (arr, i, item) {
		if (i || !first_inline)
			put_indent(em, indent);
		put(em, "- ", 2);
		if (!is_block(item)) {
			emit_inline(em, item);
			put(em, "\n", 1);
		} else if (json_is_object(item)) {
			emit_entries(em, item, indent + 2, 1);
		} else {
			emit_items(em, item, indent + 2, 1);
		}
	}
}

int store_yaml_emit_json(const json_t *v, struct buf *out)
{
	struct emitter em = {out, 0};
	if (json_is_object(v) && json_object_size(v)) {
		emit_entries(&em, v, 0, 0);
	} else if (json_is_array(v) && json_array_size(v)) {
		emit_items(&em, v, 0, 0);
	} else {
		emit_inline(&em, v);
		put(&em, "\n", 1);
	}
	return em.rc;
}

#define FIELD_CPTR(r, f, T) ((const T *)((const char *)(r) + (f)->offset))

static void emit_text(struct emitter *em, const char *s)
{
	size_t len = strlen(s);
	if (literal_block_ok(s, len)) {
		emit_literal_block(em, s, len, 2);
		return;
	}
	put(em, " ", 1);
	emit_string(em, s, len);
	put(em, "\n", 1);
}

static void emit_list_field(struct emitter *em, const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!v) {
		em->rc = em->rc ? em->rc : ERR_INVAL;
		return;
	}
	emit_after_key(em, v, 0);
	json_decref(v);
}

static void emit_after_key_string(struct emitter *em, const char *s)
{
	put(em, " ", 1);
	emit_string(em, s, strlen(s));
	put(em, "\n", 1);
}

static void emit_after_key_word(struct emitter *em, const char *s)
{
	put(em, " ", 1);
	puts_(em, s);
	put(em, "\n", 1);
}

static void emit_field(struct emitter *em, const struct store_record *r,
                       const struct store_field *f)
{
	const char *s = NULL;
	char num[32];
	switch (f->type) {
	case STORE_FT_STR:
	case STORE_FT_TEXT:
	case STORE_FT_JSON:
		s = *FIELD_CPTR(r, f, char *);
		break;
	case STORE_FT_OPT_INT: {
		const struct store_opt_int *o = FIELD_CPTR(r, f, struct store_opt_int);
		if (o->set)
			snprintf(num, sizeof(num), "%lld", (long long)o->value);
		s = o->set ? num : NULL;
		break;
	}
	case STORE_FT_BOOL:
		s = *FIELD_CPTR(r, f, int) ? "true" : "false";
		break;
	case STORE_FT_URL_SRC:
		s = store_url_source_name(*FIELD_CPTR(r, f, int));
		break;
	case STORE_FT_ICON_SRC:
		s = store_icon_source_name(*FIELD_CPTR(r, f, int));
		break;
	case STORE_FT_TIME:
		if (*FIELD_CPTR(r, f, int64_t))
			store_time_format(*FIELD_CPTR(r, f, int64_t), num, sizeof(num));
		s = *FIELD_CPTR(r, f, int64_t) ? num : NULL;
		break;
	}
	emit_key(em, f->name, 0);
	if (!s)
		puts_(em, " null\n");
	else if (f->type == STORE_FT_TEXT)
		emit_text(em, s);
	else if (f->type == STORE_FT_JSON)
		emit_list_field(em, s);
	else if (f->type == STORE_FT_STR || f->type == STORE_FT_TIME)
		emit_after_key_string(em, s);
	else
		emit_after_key_word(em, s);
}

int store_yaml_emit_record(const struct store_record *r, struct buf *out)
{
	struct emitter em = {out, 0};
	char id[32] = "null";
	if (r->id)
		snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
	puts_(&em, "id: ");
	puts_(&em, id);
	put(&em, "\n", 1);
	for (size_t i = 0; i < store_nfields; i++)
		if (store_fields[i].kind == STORE_FIELD_INVENTORY)
			emit_field(&em, r, &store_fields[i]);
	return em.rc;
}
