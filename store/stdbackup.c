#include "stdbackup.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../common/xalloc.h"
#include "health.h"
#include "payload.h"
#include "validate.h"
#include "widgetcfg.h"
#include "yaml.h"
#include "../common/banned.h"

/* --- writing --------------------------------------------------------------- */

/*
 * portolan's error classes as the exception names STD's health checker
 * (python requests) reports: a refused connection and a failed name
 * lookup are both requests' ConnectionError, a timeout is taken as a
 * connect timeout (portolan does not tell connect and read apart).
 */
const char *store_std_health_error(int error)
{
	switch (error) {
	case STORE_HEALTH_DNS:
	case STORE_HEALTH_REFUSED:
		return "ConnectionError";
	case STORE_HEALTH_TIMEOUT:
		return "ConnectTimeout";
	case STORE_HEALTH_TLS:
		return "SSLError";
	case STORE_HEALTH_TOO_MANY_REDIRECTS:
		return "TooManyRedirects";
	default:
		return "RequestException";
	}
}

/* STD's datetime: "YYYY-MM-DD HH:MM:SS", server local time; null for 0 (never). */
static json_t *std_time(int64_t t)
{
	if (!t)
		return json_null();
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];
	if (!localtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm))
		return json_null();
	return json_string(s);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *list_or_null(const char *canon)
{
	json_t *v = canon ? json_loads(canon, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

/* The health keys of one direction: enabled flag, status and time of the last result. */
static void add_health(json_t *o, struct store_txn *t, const struct store_record *r, int dir)
{
	const char *p = dir == STORE_HEALTH_INTERNAL ? "internal" : "external";
	char key[64];
	int enabled = dir == STORE_HEALTH_INTERNAL ? r->internal_health_check_enabled
	                                           : r->external_health_check_enabled;
	struct store_health h;
	memset(&h, 0, sizeof(h));
	json_t *status = json_null(), *at = json_null();
	if (!store_health_get(t, r->id, dir, &h, NULL)) {
		json_decref(status);
		json_decref(at);
		status = h.last.error == STORE_HEALTH_OK
		             ? json_sprintf("%d", h.last.status)
		             : json_sprintf("Error: %s", store_std_health_error(h.last.error));
		at = std_time(h.last.at);
	}
	store_health_release(&h);
	snprintf(key, sizeof(key), "%s_health_check_enabled", p);
	json_object_set_new(o, key, json_boolean(enabled));
	snprintf(key, sizeof(key), "%s_health_check_status", p);
	json_object_set_new(o, key, status);
	snprintf(key, sizeof(key), "%s_health_check_update", p);
	json_object_set_new(o, key, at);
}

/* The tag, with the digest after '@' when the image is pinned (STD has no digest key). */
static json_t *std_tag(const struct store_record *r)
{
	if (!r->image_digest)
		return str_or_null(r->image_tag);
	return json_sprintf("%s@%s", r->image_tag ? r->image_tag : "", r->image_digest);
}

static json_t *source_or_null(int src)
{
	return str_or_null(store_url_source_name(src));
}

/*
 * STD's widget block, without widget_api_key: portolan's export never holds
 * a secret (the key stays in the encrypted store).
 */
static void add_widget(json_t *o, const struct store_record *r)
{
	json_t *cfg = r->widget ? json_loads(r->widget, 0, NULL) : NULL;
	if (!cfg)
		return;
	json_object_set_new(o, "widget",
	                    json_pack("{s:O,s:O,s:O}", "widget_name", json_object_get(cfg, "type"),
	                              "widget_url", json_object_get(cfg, "url"), "widget_fields",
	                              json_object_get(cfg, "fields")));
	json_decref(cfg);
}

/* One record in STD's key order (spec/std-backup.md), then group_name. */
static json_t *std_record(struct store_txn *t, const struct store_record *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "stack_name", str_or_null(r->stack_name));
	json_object_set_new(o, "host", json_string(r->host));
	json_object_set_new(o, "container_name", json_string(r->container_name));
	json_object_set_new(o, "container_id", str_or_null(r->container_id));
	json_object_set_new(o, "internalurl", str_or_null(r->internalurl));
	json_object_set_new(o, "externalurl", str_or_null(r->externalurl));
	json_object_set_new(o, "last_updated", std_time(r->last_updated));
	json_object_set_new(o, "last_api_update", std_time(r->last_api_update));
	json_object_set_new(o, "docker_status", str_or_null(r->docker_status));
	add_health(o, t, r, STORE_HEALTH_INTERNAL);
	add_health(o, t, r, STORE_HEALTH_EXTERNAL);
	/* add_health put the external keys after the internal ones: STD's order */
	json_object_set_new(o, "image_registry", str_or_null(r->image_registry));
	json_object_set_new(o, "image_owner", str_or_null(r->image_owner));
	json_object_set_new(o, "image_name", str_or_null(r->image_name));
	json_object_set_new(o, "image_tag", std_tag(r));
	json_object_set_new(o, "started_at", str_or_null(r->started_at));
	json_object_set_new(o, "image_icon", str_or_null(r->image_icon));
	json_object_set_new(o, "is_static", json_boolean(r->is_static));
	json_object_set_new(o, "sort_priority",
	                    r->sort_priority.set ? json_integer(r->sort_priority.value)
	                                         : json_null());
	json_object_set_new(o, "networks", list_or_null(r->networks));
	json_object_set_new(o, "exposed_ports", list_or_null(r->exposed_ports));
	json_object_set_new(o, "published_ports", list_or_null(r->published_ports));
	json_object_set_new(o, "internalurl_source", source_or_null(r->internalurl_source));
	json_object_set_new(o, "externalurl_source", source_or_null(r->externalurl_source));
	add_widget(o, r);
	json_object_set_new(o, "group_name", str_or_null(r->group_name));
	return o;
}

struct emit_ctx {
	struct store_txn *t;
	json_t *list;
};

static int emit_one(const struct store_record *r, void *arg)
{
	struct emit_ctx *c = arg;
	json_array_append_new(c->list, std_record(c->t, r));
	return 0;
}

int store_std_emit(struct store_txn *t, struct buf *out, size_t *n, struct err *e)
{
	struct emit_ctx c = {t, json_array()};
	int rc = store_db_foreach(t, emit_one, &c, e);
	if (!rc && (rc = store_yaml_emit_json(c.list, out)))
		err_set(e, rc, "cannot write the backup as YAML");
	if (!rc && n)
		*n = json_array_size(c.list);
	json_decref(c.list);
	return rc;
}

/* --- reading --------------------------------------------------------------- */

/* The slots store_pkeys_parse fills from a record's inventory keys. */
struct std_slots {
	struct store_pstr host, container_name, stack_name;
	struct store_pstr internalurl, externalurl, internalurl_source, externalurl_source;
	struct store_pbool internal_health_check_enabled, external_health_check_enabled, is_static;
	struct store_pstr image_registry, image_owner, image_name, image_tag, image_icon;
	struct store_pint sort_priority;
	struct store_pstr networks, exposed_ports, published_ports, group_name;
};

#define K(name, type)                                                                              \
	{                                                                                          \
#name, STORE_PT_##type, offsetof(struct std_slots, name)                           \
	}

/* The same types and limits as a register or an operator edit. */
static const struct store_pkey std_keys[] = {
    K(host, STR),
    K(container_name, STR),
    K(stack_name, STR),
    K(internalurl, URL),
    K(externalurl, URL),
    K(internalurl_source, STR),
    K(externalurl_source, STR),
    K(internal_health_check_enabled, BOOL),
    K(external_health_check_enabled, BOOL),
    K(is_static, BOOL),
    K(image_registry, STR),
    K(image_owner, STR),
    K(image_name, STR),
    K(image_tag, STR),
    K(image_icon, ICON),
    K(sort_priority, INT),
    K(networks, LIST),
    K(exposed_ports, LIST),
    K(published_ports, LIST),
    K(group_name, STR),
};
#define NSTD (sizeof(std_keys) / sizeof(std_keys[0]))

/* What STD writes about a service's state: accepted, never applied (notifiers refresh it). */
static const char *const live_keys[] = {
    "container_id",
    "last_updated",
    "last_api_update",
    "docker_status",
    "internal_health_check_status",
    "internal_health_check_update",
    "external_health_check_status",
    "external_health_check_update",
    "started_at",
    "widget", /* taken apart by take_widget; its widget_api_key is never looked at */
};

static int is_live_key(const char *k)
{
	for (size_t i = 0; i < sizeof(live_keys) / sizeof(*live_keys); i++)
		if (!strcmp(k, live_keys[i]))
			return 1;
	return 0;
}

static int is_std_key(const char *k)
{
	for (size_t i = 0; i < NSTD; i++)
		if (!strcmp(k, std_keys[i].key))
			return 1;
	return 0;
}

/* msg without a UTF-8 sequence its truncation to struct err's size may have cut. */
static char *utf8_whole(const char *msg)
{
	size_t n = strlen(msg), k = n;
	while (k > 0 && ((unsigned char)msg[k - 1] & 0xC0) == 0x80)
		k--;
	if (k > 0 && (unsigned char)msg[k - 1] >= 0xC0) {
		unsigned char lead = (unsigned char)msg[k - 1];
		size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
		if (n - (k - 1) < want)
			n = k - 1;
	}
	return xstrndup(msg, n);
}

static void add_warning(struct store_std_backup *b, const char *msg)
{
	b->warnings = xrealloc(b->warnings, (b->nwarnings + 1) * sizeof(*b->warnings));
	b->warnings[b->nwarnings++] = utf8_whole(msg);
}

/* Mark field name present in r and return a pointer to its slot in rec. */
static void *field_slot(struct store_std_record *r, const char *name)
{
	const struct store_field *f = store_field_find(name);
	r->present |= (uint64_t)1 << (f - store_fields);
	return (char *)&r->rec + f->offset;
}

/* A string slot into a record field: "" and null clear, absent stays absent. */
static void take_str(struct store_std_record *r, const char *name, struct store_pstr *s)
{
	if (s->state == STORE_P_ABSENT)
		return;
	char **f = field_slot(r, name);
	free(*f);
	*f = s->state == STORE_P_VALUE && s->value[0] ? s->value : NULL;
	if (*f == s->value)
		s->value = NULL; /* taken */
}

/* A bool slot: null keeps the stored value, as a register does. */
static void take_bool(struct store_std_record *r, const char *name, const struct store_pbool *b)
{
	if (b->state == STORE_P_VALUE)
		*(int *)field_slot(r, name) = b->value;
}

/* The first problem of v, at its place in record i: "<file>:<l>:<c>: <field>: <what>". */
static int slot_error(const struct store_yaml_doc *d, size_t i, const struct store_verr *v,
                      struct err *e)
{
	const json_t *first = json_array_get(v->details, 0);
	const json_t *loc = json_object_get(first, "loc");
	json_t *full = json_array();
	json_array_append_new(full, json_integer((json_int_t)i));
	json_array_extend(full, (json_t *)loc);
	char *dotted = store_loc_dotted(loc);
	const char *msg = json_string_value(json_object_get(first, "msg"));
	int rc = store_yaml_doc_errf(d, full, e, "%s: %s", dotted, msg ? msg : "invalid");
	free(dotted);
	json_decref(full);
	return rc;
}

/* A URL source name; ERR_INVAL (positioned) when unknown. */
static int take_source(const struct store_yaml_doc *d, size_t i, struct store_std_record *r,
                       const char *name, const struct store_pstr *s, struct err *e)
{
	if (s->state == STORE_P_ABSENT)
		return 0;
	int src = store_url_source_parse(s->state == STORE_P_VALUE ? s->value : NULL);
	if (src < 0) {
		json_t *loc = json_pack("[I,s]", (json_int_t)i, name);
		int rc = store_yaml_doc_errf(
		    d, loc, e,
		    "%s: unknown source '%s' (null, synthesized, explicit_label or ui_edit)", name,
		    s->value);
		json_decref(loc);
		return rc;
	}
	*(int *)field_slot(r, name) = src;
	return 0;
}

/* "1.27@sha256:..." is a tag pinned to a digest (how portolan writes a digest). */
static void take_tag(struct store_std_record *r, struct store_pstr *s)
{
	if (s->state == STORE_P_ABSENT)
		return;
	char *at = s->state == STORE_P_VALUE ? strchr(s->value, '@') : NULL;
	char **digest = field_slot(r, "image_digest");
	free(*digest);
	*digest = at && at[1] ? xstrdup(at + 1) : NULL;
	if (at)
		*at = '\0';
	take_str(r, "image_tag", s);
}

/* A URL and its source: a URL without a source came from STD before provenance. */
static void url_default_source(struct store_std_record *r, const char *url, const char *src)
{
	const struct store_field *fu = store_field_find(url), *fs = store_field_find(src);
	uint64_t bu = (uint64_t)1 << (fu - store_fields), bs = (uint64_t)1 << (fs - store_fields);
	char *value = *(char **)((char *)&r->rec + fu->offset);
	int *source = (int *)((char *)&r->rec + fs->offset);
	if ((r->present & bu) && !(r->present & bs))
		*(int *)field_slot(r, src) = value ? STORE_SRC_EXPLICIT_LABEL : STORE_SRC_NONE;
	else if ((r->present & bu) && !value)
		*source = STORE_SRC_NONE;
}

static int check_identity(const struct store_yaml_doc *d, size_t i, const char *key, const char *v,
                          struct err *e)
{
	if (!v || strlen(v) <= STORE_MAX_NAME)
		return 0;
	json_t *loc = json_pack("[I,s]", (json_int_t)i, key);
	int rc = store_yaml_doc_errf(d, loc, e, "%s: String should have at most %d bytes", key,
	                             STORE_MAX_NAME);
	json_decref(loc);
	return rc;
}

/* The slots of record i into r. */
static int take_slots(const struct store_yaml_doc *d, size_t i, struct std_slots *s,
                      struct store_std_record *r, struct err *e)
{
	int rc = check_identity(d, i, "host", s->host.value, e);
	if (!rc)
		rc = check_identity(d, i, "container_name", s->container_name.value, e);
	if (!rc)
		rc = take_source(d, i, r, "internalurl_source", &s->internalurl_source, e);
	if (!rc)
		rc = take_source(d, i, r, "externalurl_source", &s->externalurl_source, e);
	if (rc)
		return rc;
	take_str(r, "host", &s->host);
	take_str(r, "container_name", &s->container_name);
	take_str(r, "stack_name", &s->stack_name);
	take_str(r, "internalurl", &s->internalurl);
	take_str(r, "externalurl", &s->externalurl);
	url_default_source(r, "internalurl", "internalurl_source");
	url_default_source(r, "externalurl", "externalurl_source");
	take_bool(r, "internal_health_check_enabled", &s->internal_health_check_enabled);
	take_bool(r, "external_health_check_enabled", &s->external_health_check_enabled);
	take_bool(r, "is_static", &s->is_static);
	take_str(r, "image_registry", &s->image_registry);
	take_str(r, "image_owner", &s->image_owner);
	take_str(r, "image_name", &s->image_name);
	take_tag(r, &s->image_tag);
	take_str(r, "image_icon", &s->image_icon);
	if (s->sort_priority.state != STORE_P_ABSENT) {
		struct store_opt_int *p = field_slot(r, "sort_priority");
		p->set = s->sort_priority.state == STORE_P_VALUE;
		p->value = p->set ? s->sort_priority.value : 0;
	}
	take_str(r, "networks", &s->networks);
	take_str(r, "exposed_ports", &s->exposed_ports);
	take_str(r, "published_ports", &s->published_ports);
	take_str(r, "group_name", &s->group_name);
	return 0;
}

/*
 * STD's widget block {widget_name, widget_url, widget_fields,
 * widget_api_key} as a widget configuration. Its API key is not taken:
 * it would have to be kept in clear until the restore; the operator sets
 * it again on the edit page. A block that does not make a valid
 * configuration is a warning, not a reason to refuse the whole file.
 */
static void take_widget(const struct store_yaml_doc *d, size_t i, const json_t *w,
                        struct store_std_backup *b, struct store_std_record *r)
{
	if (!w || json_is_null(w))
		return;
	json_t *loc = json_pack("[I,s]", (json_int_t)i, "widget");
	json_t *cfg = json_is_object(w)
	                  ? json_pack("{s:O?,s:O?,s:O?}", "type", json_object_get(w, "widget_name"),
	                              "url", json_object_get(w, "widget_url"), "fields",
	                              json_object_get(w, "widget_fields"))
	                  : NULL;
	struct store_verr v;
	store_verr_init(&v);
	char *canon = NULL;
	if (cfg && !store_widget_config_canon(cfg, loc, &v, &canon)) {
		char **slot = field_slot(r, "widget");
		free(*slot);
		*slot = canon;
	} else {
		struct err we = {0};
		store_yaml_doc_errf(d, loc, &we,
		                    "widget ignored: not a widget portolan knows how to configure");
		add_warning(b, we.msg);
	}
	store_verr_release(&v);
	json_decref(cfg);
	json_decref(loc);
}

/* Record i of the document (obj) into r; unknown keys become warnings in b. */
static int parse_record(const struct store_yaml_doc *d, size_t i, const json_t *obj,
                        struct store_std_backup *b, struct store_std_record *r, struct err *e)
{
	json_t *known = json_object(), *loc = json_pack("[I]", (json_int_t)i);
	const char *key;
	json_t *v;
	store_yaml_doc_pos(d, loc, &r->line, &(size_t){0});
	json_object_foreach ((json_t *)obj, key, v) {
		if (is_std_key(key)) {
			json_object_set(known, key, v);
		} else if (!is_live_key(key)) {
			struct err w = {0};
			json_t *kloc = json_pack("[I,s]", (json_int_t)i, key);
			store_yaml_doc_errf(d, kloc, &w, "unknown key '%s' ignored", key);
			add_warning(b, w.msg);
			json_decref(kloc);
		}
	}
	struct std_slots s;
	memset(&s, 0, sizeof(s));
	struct store_verr verr;
	store_verr_init(&verr);
	store_pkeys_parse(&s, std_keys, NSTD, known, &verr);
	int rc = store_verr_any(&verr) ? slot_error(d, i, &verr, e) : take_slots(d, i, &s, r, e);
	if (!rc)
		take_widget(d, i, json_object_get(obj, "widget"), b, r);
	store_verr_release(&verr);
	store_pkeys_release(&s, std_keys, NSTD);
	json_decref(known);
	json_decref(loc);
	return rc;
}

/*
 * The last part of a path as printable ASCII: it titles a commit, a log
 * line and a report, so no control character, no ':' (the commit title
 * is what precedes ": ") and no byte that could be half a UTF-8 sequence.
 */
static char *source_name(const char *filename)
{
	const char *base = strrchr(filename, '/');
	base = base && base[1] ? base + 1 : filename;
	char *s = xstrndup(base, strnlen(base, 128));
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == ':')
			*p = *p == ':' ? '_' : '?';
	return s;
}

int store_std_parse(struct store_std_backup *out, const char *data, size_t len,
                    const char *filename, struct err *e)
{
	struct store_yaml_doc *d = NULL;
	json_t *root = NULL;
	struct store_std_backup b;
	memset(&b, 0, sizeof(b));
	const char *fn = filename ? filename : "<input>";
	int rc = store_yaml_doc_parse(&d, data, len, fn, e);
	if (!rc)
		rc = store_yaml_doc_json(d, &root, e);
	if (!rc && !json_is_array(root))
		rc = store_yaml_doc_errf(
		    d, NULL, e, "expected a list of service records (STD's backup format)");
	size_t n = json_array_size(root);
	b.v = xcalloc(n ? n : 1, sizeof(*b.v));
	for (size_t i = 0; !rc && i < n; i++) {
		const json_t *obj = json_array_get(root, i);
		json_t *loc = json_pack("[I]", (json_int_t)i);
		if (!json_is_object(obj))
			rc = store_yaml_doc_errf(
			    d, loc, e, "record %zu: expected a mapping of keys to values", i + 1);
		else
			rc = parse_record(d, i, obj, &b, &b.v[b.n++], e);
		json_decref(loc);
	}
	json_decref(root);
	store_yaml_doc_free(d);
	if (rc) {
		store_std_backup_release(&b);
		return rc;
	}
	b.source = source_name(fn);
	*out = b;
	return 0;
}

void store_std_backup_release(struct store_std_backup *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		store_record_release(&b->v[i].rec);
	free(b->v);
	for (size_t i = 0; i < b->nwarnings; i++)
		free(b->warnings[i]);
	free(b->warnings);
	free(b->source);
	memset(b, 0, sizeof(*b));
}

int store_std_scope_parse(const char *s)
{
	if (s && !strcmp(s, "all"))
		return STORE_STD_SCOPE_ALL;
	if (s && !strcmp(s, "static"))
		return STORE_STD_SCOPE_STATIC;
	return -1;
}

const char *store_std_outcome_name(int outcome)
{
	static const char *const names[] = {"created", "updated", "unchanged", "skipped"};
	return outcome >= 0 && outcome < 4 ? names[outcome] : "skipped";
}

/* --- reports --------------------------------------------------------------- */

void store_std_report_release(struct store_std_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].host);
		free(r->v[i].container_name);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void store_std_report_text(const struct store_std_report *r, const struct store_std_backup *b,
                           struct buf *out)
{
	const size_t *c = r->count;
	buf_addf(out,
	         "restore from %s: %zu restored (%zu created, %zu updated, %zu unchanged), %zu "
	         "skipped\n",
	         b->source, c[STORE_STD_CREATED] + c[STORE_STD_UPDATED] + c[STORE_STD_UNCHANGED],
	         c[STORE_STD_CREATED], c[STORE_STD_UPDATED], c[STORE_STD_UNCHANGED],
	         c[STORE_STD_SKIPPED]);
	for (size_t i = 0; i < r->n; i++) {
		const struct store_std_result *x = &r->v[i];
		buf_addf(out, "%s:%zu: %s/%s: %s%s%s\n", b->source, x->line,
		         x->host ? x->host : "-", x->container_name ? x->container_name : "-",
		         store_std_outcome_name(x->outcome), x->reason ? ": " : "",
		         x->reason ? x->reason : "");
	}
	for (size_t i = 0; i < b->nwarnings; i++)
		buf_addf(out, "warning: %s\n", b->warnings[i]);
}
