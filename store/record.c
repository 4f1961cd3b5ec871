#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/xalloc.h"
#include "../common/banned.h"

#define F(name, type, kind)                                                                        \
	{                                                                                          \
#name, STORE_FT_##type, offsetof(struct store_record, name), kind                  \
	}
#define INV  STORE_FIELD_INVENTORY
#define LIVE STORE_FIELD_LIVE

/* Canonical order: YAML files, JSON objects and the LMDB encoding follow it. */
const struct store_field store_fields[] = {
    F(host, STR, INV),
    F(container_name, STR, INV),
    F(stack_name, STR, INV),
    F(image_registry, STR, INV),
    F(image_owner, STR, INV),
    F(image_name, STR, INV),
    F(image_tag, STR, INV),
    F(image_digest, STR, INV),
    F(image_icon, STR, INV),
    F(image_icon_source, ICON_SRC, INV),
    F(group_name, STR, INV),
    F(sort_priority, OPT_INT, INV),
    F(internalurl, STR, INV),
    F(internalurl_source, URL_SRC, INV),
    F(externalurl, STR, INV),
    F(externalurl_source, URL_SRC, INV),
    F(internal_health_check_enabled, BOOL, INV),
    F(external_health_check_enabled, BOOL, INV),
    F(health_check_timeout, OPT_INT, INV),
    F(is_static, BOOL, INV),
    F(networks, JSON, INV),
    F(exposed_ports, JSON, INV),
    F(published_ports, JSON, INV),
    F(exposure_observations, JSON, INV),
    F(notifier_reported_group_name, STR, INV),
    F(notifier_reported_sort_priority, OPT_INT, INV),
    F(widget, JSON, INV),
    F(notes, TEXT, INV),
    F(container_id, STR, LIVE),
    F(docker_status, STR, LIVE),
    F(started_at, STR, LIVE),
    F(last_api_update, TIME, LIVE),
    F(last_updated, TIME, LIVE),
};
const size_t store_nfields = sizeof(store_fields) / sizeof(store_fields[0]);

#define FIELD_PTR(r, f, T)  ((T *)((char *)(r) + (f)->offset))
#define FIELD_CPTR(r, f, T) ((const T *)((const char *)(r) + (f)->offset))

static int is_string_type(enum store_field_type t)
{
	return t == STORE_FT_STR || t == STORE_FT_TEXT || t == STORE_FT_JSON;
}

static int is_small_int_type(enum store_field_type t)
{
	return t == STORE_FT_BOOL || t == STORE_FT_URL_SRC || t == STORE_FT_ICON_SRC;
}

const struct store_field *store_field_find(const char *name)
{
	for (size_t i = 0; i < store_nfields; i++)
		if (!strcmp(store_fields[i].name, name))
			return &store_fields[i];
	return NULL;
}

void store_record_init(struct store_record *r)
{
	memset(r, 0, sizeof(*r));
}

void store_record_release(struct store_record *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < store_nfields; i++)
		if (is_string_type(store_fields[i].type))
			free(*FIELD_PTR(r, &store_fields[i], char *));
	store_record_init(r);
}

void store_record_copy(struct store_record *dst, const struct store_record *src)
{
	*dst = *src;
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (is_string_type(f->type))
			*FIELD_PTR(dst, f, char *) = xstrdup(*FIELD_CPTR(src, f, char *));
	}
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int field_equal(const struct store_record *a, const struct store_record *b,
                       const struct store_field *f)
{
	if (is_string_type(f->type))
		return str_eq(*FIELD_CPTR(a, f, char *), *FIELD_CPTR(b, f, char *));
	if (is_small_int_type(f->type))
		return *FIELD_CPTR(a, f, int) == *FIELD_CPTR(b, f, int);
	if (f->type == STORE_FT_TIME)
		return *FIELD_CPTR(a, f, int64_t) == *FIELD_CPTR(b, f, int64_t);
	const struct store_opt_int *x = FIELD_CPTR(a, f, struct store_opt_int);
	const struct store_opt_int *y = FIELD_CPTR(b, f, struct store_opt_int);
	return x->set == y->set && (!x->set || x->value == y->value);
}

int store_record_equal(const struct store_record *a, const struct store_record *b, int kinds)
{
	if (a->id != b->id)
		return 0;
	for (size_t i = 0; i < store_nfields; i++)
		if ((store_fields[i].kind & kinds) && !field_equal(a, b, &store_fields[i]))
			return 0;
	return 1;
}

/*
 * LMDB encoding: a format byte, the id, then each field in table order:
 * strings as u32 length (UINT32_MAX = NULL) + bytes, small ints as one
 * byte, optional ints as a presence byte + i64, times as i64. Native byte
 * order: the file never leaves the machine (git holds the portable copy).
 */
/*
 * 2 added health_check_timeout, 3 widget; older records (without them)
 * still decode.
 */
#define RECORD_FORMAT 3
#define NULL_LEN      UINT32_MAX

static void put_u32(struct buf *out, uint32_t v)
{
	buf_add(out, &v, sizeof(v));
}

static void put_i64(struct buf *out, int64_t v)
{
	buf_add(out, &v, sizeof(v));
}

void store_record_encode(const struct store_record *r, struct buf *out)
{
	buf_addc(out, RECORD_FORMAT);
	buf_add(out, &r->id, sizeof(r->id));
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (is_string_type(f->type)) {
			const char *s = *FIELD_CPTR(r, f, char *);
			if (!s) {
				put_u32(out, NULL_LEN);
				continue;
			}
			uint32_t n = (uint32_t)strlen(s);
			put_u32(out, n);
			buf_add(out, s, n);
		} else if (is_small_int_type(f->type)) {
			buf_addc(out, (char)*FIELD_CPTR(r, f, int));
		} else if (f->type == STORE_FT_TIME) {
			put_i64(out, *FIELD_CPTR(r, f, int64_t));
		} else {
			const struct store_opt_int *o = FIELD_CPTR(r, f, struct store_opt_int);
			buf_addc(out, (char)(o->set ? 1 : 0));
			put_i64(out, o->set ? o->value : 0);
		}
	}
}

struct reader {
	const unsigned char *p;
	size_t left;
};

static int take(struct reader *rd, void *dst, size_t n)
{
	if (rd->left < n)
		return -1;
	memcpy(dst, rd->p, n);
	rd->p += n;
	rd->left -= n;
	return 0;
}

static int decode_field(struct store_record *r, const struct store_field *f, struct reader *rd)
{
	if (is_string_type(f->type)) {
		uint32_t n;
		if (take(rd, &n, sizeof(n)))
			return -1;
		if (n == NULL_LEN)
			return 0;
		if (rd->left < n)
			return -1;
		*FIELD_PTR(r, f, char *) = xstrndup((const char *)rd->p, n);
		rd->p += n;
		rd->left -= n;
		return 0;
	}
	if (is_small_int_type(f->type)) {
		unsigned char c;
		if (take(rd, &c, 1))
			return -1;
		*FIELD_PTR(r, f, int) = c;
		return 0;
	}
	if (f->type == STORE_FT_TIME)
		return take(rd, FIELD_PTR(r, f, int64_t), sizeof(int64_t));
	struct store_opt_int *o = FIELD_PTR(r, f, struct store_opt_int);
	unsigned char set;
	if (take(rd, &set, 1) || take(rd, &o->value, sizeof(o->value)))
		return -1;
	o->set = set;
	return 0;
}

/* The record format that introduced field f. */
static int field_since(const struct store_field *f)
{
	if (f->offset == offsetof(struct store_record, health_check_timeout))
		return 2;
	if (f->offset == offsetof(struct store_record, widget))
		return 3;
	return 1;
}

int store_record_decode(struct store_record *out, const void *data, size_t len, struct err *e)
{
	struct reader rd = {data, len};
	struct store_record r;
	store_record_init(&r);
	unsigned char format;
	if (take(&rd, &format, 1) || format < 1 || format > RECORD_FORMAT ||
	    take(&rd, &r.id, sizeof(r.id)))
		goto bad;
	for (size_t i = 0; i < store_nfields; i++)
		if (format >= field_since(&store_fields[i]) &&
		    decode_field(&r, &store_fields[i], &rd))
			goto bad;
	if (rd.left)
		goto bad;
	*out = r;
	return 0;
bad:
	store_record_release(&r);
	return err_set(e, ERR_INVAL, "malformed record in store (%zu bytes)", len);
}

static const char *const url_source_names[] = {NULL, "synthesized", "explicit_label", "ui_edit"};
static const char *const icon_source_names[] = {NULL, "derived", "notifier", "ui_edit"};

const char *store_url_source_name(int src)
{
	return src > 0 && src <= STORE_SRC_UI_EDIT ? url_source_names[src] : NULL;
}

static int parse_name(const char *s, const char *const *names, int n)
{
	if (!s || !*s)
		return 0;
	for (int i = 1; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int store_url_source_parse(const char *s)
{
	return parse_name(s, url_source_names, 4);
}

const char *store_icon_source_name(int src)
{
	return src > 0 && src <= STORE_ICON_UI_EDIT ? icon_source_names[src] : NULL;
}

int store_icon_source_parse(const char *s)
{
	return parse_name(s, icon_source_names, 4);
}

void store_time_format(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int store_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static json_t *field_to_json(const struct store_record *r, const struct store_field *f)
{
	switch (f->type) {
	case STORE_FT_STR:
	case STORE_FT_TEXT: {
		const char *s = *FIELD_CPTR(r, f, char *);
		return s ? json_string(s) : json_null();
	}
	case STORE_FT_JSON: {
		const char *s = *FIELD_CPTR(r, f, char *);
		json_t *v = s ? json_loads(s, 0, NULL) : NULL;
		return v ? v : json_null();
	}
	case STORE_FT_BOOL:
		return json_boolean(*FIELD_CPTR(r, f, int));
	case STORE_FT_URL_SRC: {
		const char *n = store_url_source_name(*FIELD_CPTR(r, f, int));
		return n ? json_string(n) : json_null();
	}
	case STORE_FT_ICON_SRC: {
		const char *n = store_icon_source_name(*FIELD_CPTR(r, f, int));
		return n ? json_string(n) : json_null();
	}
	case STORE_FT_TIME: {
		int64_t t = *FIELD_CPTR(r, f, int64_t);
		if (!t)
			return json_null();
		char ts[32];
		store_time_format(t, ts, sizeof(ts));
		return json_string(ts);
	}
	case STORE_FT_OPT_INT: {
		const struct store_opt_int *o = FIELD_CPTR(r, f, struct store_opt_int);
		return o->set ? json_integer(o->value) : json_null();
	}
	}
	return json_null();
}

void store_record_field_text(const struct store_record *r, const struct store_field *f,
                             struct buf *out)
{
	switch (f->type) {
	case STORE_FT_STR:
	case STORE_FT_TEXT:
	case STORE_FT_JSON: { /* list fields are canonical compact JSON text already */
		const char *s = *FIELD_CPTR(r, f, char *);
		if (s)
			buf_adds(out, s);
		return;
	}
	case STORE_FT_BOOL:
		buf_adds(out, *FIELD_CPTR(r, f, int) ? "true" : "false");
		return;
	case STORE_FT_URL_SRC:
	case STORE_FT_ICON_SRC: {
		int src = *FIELD_CPTR(r, f, int);
		const char *n = f->type == STORE_FT_URL_SRC ? store_url_source_name(src)
		                                            : store_icon_source_name(src);
		if (n)
			buf_adds(out, n);
		return;
	}
	case STORE_FT_TIME: {
		int64_t t = *FIELD_CPTR(r, f, int64_t);
		char ts[32];
		if (t) {
			store_time_format(t, ts, sizeof(ts));
			buf_adds(out, ts);
		}
		return;
	}
	case STORE_FT_OPT_INT: {
		const struct store_opt_int *o = FIELD_CPTR(r, f, struct store_opt_int);
		if (o->set)
			buf_addf(out, "%lld", (long long)o->value);
		return;
	}
	}
}

json_t *store_record_to_json(const struct store_record *r, int kinds)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)r->id));
	for (size_t i = 0; i < store_nfields; i++)
		if (store_fields[i].kind & kinds)
			json_object_set_new(o, store_fields[i].name,
			                    field_to_json(r, &store_fields[i]));
	return o;
}

/* A scalar field's value as text for a commit subject ("(none)" for null). */
static void describe_value(const struct store_record *r, const struct store_field *f, char *out,
                           size_t size)
{
	json_t *v = field_to_json(r, f);
	if (json_is_null(v))
		snprintf(out, size, "(none)");
	else if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
	else
		out[0] = '\0';
	json_decref(v);
}

void store_record_describe_changes(const struct store_record *old, const struct store_record *new,
                                   struct buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (!(f->kind & STORE_FIELD_INVENTORY) || field_equal(old, new, f))
			continue;
		/* Parsed image parts read better as one "image" change. */
		const char *label = !strcmp(f->name, "image_tag") ? "image" : f->name;
		if (out->len > start)
			buf_adds(out, ", ");
		if (f->type == STORE_FT_JSON || f->type == STORE_FT_TEXT) {
			buf_addf(out, "%s changed", label);
			continue;
		}
		char a[64], b[64];
		describe_value(old, f, a, sizeof(a));
		describe_value(new, f, b, sizeof(b));
		if (strlen(a) < 60 && strlen(b) < 60)
			buf_addf(out, "%s %s -> %s", label, a, b);
		else
			buf_addf(out, "%s changed", label);
	}
}
