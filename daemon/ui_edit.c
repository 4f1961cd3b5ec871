#include "ui_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../store/db.h"
#include "../store/history.h"
#include "../store/naming.h"
#include "../store/record.h"
#include "../store/yaml.h"
#include "change.h"
#include "form.h"
#include "icons.h"
#include "serve.h"
#include "ui.h"
#include "widgetdef.h"
#include "../store/widgetkey.h"
#include "../common/banned.h"

enum kind { TEXT, NUMBER, CHECK, AREA };

struct field {
	const char *name, *label;
	enum kind kind;
	const char *help;
};

/* Every field an operator may set, in form order. */
static const struct field fields[] = {
    {"host", "Host", TEXT, "The Docker host (or any name) the service runs on."},
    {"container_name", "Container name", TEXT, NULL},
    {"stack_name", "Stack", TEXT, NULL},
    {"internalurl", "Internal URL", TEXT,
     "http:// or https://. Empty hands it back to the synthesizer."},
    {"externalurl", "External URL", TEXT,
     "http:// or https://. Empty hands it back to the synthesizer."},
    {"internal_health_check_enabled", "Check the internal URL", CHECK, NULL},
    {"external_health_check_enabled", "Check the external URL", CHECK, NULL},
    {"health_check_timeout", "Health-check timeout (seconds)", NUMBER,
     "1 to 60. Empty: the global HEALTHCHECK_TIMEOUT."},
    {"group_name", "Group", TEXT, "Choose one or type a new name. Empty: Ungrouped."},
    {"sort_priority", "Sort priority", NUMBER, "Lower comes first. Empty: after the others."},
    {"image_icon", "Icon", TEXT,
     "A file in <config>/images/ (sonarr.svg), or a bare name (sonarr) to look up."},
    {"is_static", "Locked (static)", CHECK, "A static entry ignores registrations from notifiers."},
    {"notes", "Notes (Markdown)", AREA, NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const url_badges[] = {NULL, "Synthesized", "Explicit label", "Edited in UI"};

/* A stored value as the form shows it. */
static char *form_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	return xstrdup("");
}

/* --- the widget section --------------------------------------------------------- */

/* "wanted, queued" for a built-in's fields; one "key | label | path | unit" line per json field. */
static char *fields_text(const json_t *cfg)
{
	struct buf b;
	buf_init(&b, 0);
	const json_t *list = json_object_get(cfg, "fields"), *f;
	size_t i;
	json_array_foreach (list, i, f) {
		if (json_is_string(f)) {
			buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(f));
		} else {
			/* key | label | url | path [| unit [| reduce]] */
			const char *unit = json_string_value(json_object_get(f, "unit"));
			const char *reduce = json_string_value(json_object_get(f, "reduce"));
			buf_addf(&b, "%s%s | %s | %s | %s", i ? "\n" : "",
			         json_string_value(json_object_get(f, "key")),
			         json_string_value(json_object_get(f, "label")),
			         json_string_value(json_object_get(f, "url")),
			         json_string_value(json_object_get(f, "path")));
			if (unit || reduce)
				buf_addf(&b, " | %s", unit ? unit : "");
			if (reduce)
				buf_addf(&b, " | %s", reduce);
		}
	}
	char *t = buf_detach(&b, NULL);
	return t ? t : xstrdup("");
}

static char *trimmed(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

/* The form's fields text as the API's "fields" (strings, or objects for the json widget). */
static json_t *fields_from_text(const char *type, const char *text)
{
	json_t *out = json_array();
	int json = !strcmp(type, "json");
	const char *sep = json ? "\n" : ",\n";
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, sep);
		char *item = trimmed(p, n);
		p += n + (p[n] ? 1 : 0);
		if (!*item) {
			free(item);
			continue;
		}
		if (!json) {
			json_array_append_new(out, json_string(item));
		} else {
			/* key | label | url | path [| unit [| reduce]] */
			char *part[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
			const char *q = item;
			for (int k = 0; k < 6 && q; k++) {
				size_t m = strcspn(q, "|");
				part[k] = trimmed(q, m);
				q = q[m] ? q + m + 1 : NULL;
			}
			json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "key", part[0], "label",
			                      part[1] ? part[1] : "", "url", part[2] ? part[2] : "",
			                      "path", part[3] ? part[3] : "");
			if (part[4] && *part[4])
				json_object_set_new(o, "unit", json_string(part[4]));
			if (part[5] && *part[5])
				json_object_set_new(o, "reduce", json_string(part[5]));
			json_array_append_new(out, o);
			for (int k = 0; k < 6; k++)
				free(part[k]);
		}
		free(item);
	}
	return out;
}

/*
 * The widget part of the form: type, base URL, fields, a new API key, and
 * "remove the key". An empty type removes the widget. Sent only when it
 * changes something (an unchanged form leaves the widget and its key alone).
 */
static void widget_from_form(const json_t *form, const json_t *current, json_t *edit)
{
	const char *type = form_get(form, "widget_type"), *url = form_get(form, "widget_url");
	const char *key = form_get(form, "widget_api_key");
	int clear_key = !strcmp(form_get(form, "widget_api_key_clear"), "true");
	const json_t *was = current ? json_object_get(current, "widget") : NULL;
	int had = json_is_object(was);
	if (!json_object_get(form, "widget_type"))
		return; /* a form without the section (e.g. restoring a version) leaves the widget
		           be */
	if (had && !*key && !clear_key) {
		/* as shown: unchanged, even where the text form cannot say it the same way */
		char *shown = fields_text(was), *posted = xstrdup(form_get(form, "widget_fields"));
		char *w = posted;
		for (const char *r = posted; *r; r++) /* browsers send a textarea's lines as CRLF */
			if (*r != '\r')
				*w++ = *r;
		*w = 0;
		int same = !strcmp(type, json_string_value(json_object_get(was, "type"))) &&
		           !strcmp(url, json_string_value(json_object_get(was, "url"))) &&
		           !strcmp(posted, shown);
		free(shown);
		free(posted);
		if (same)
			return;
	}
	if (!*type) {
		if (had)
			json_object_set_new(edit, "widget", json_null());
		return;
	}
	json_t *cfg = json_pack("{s:s,s:s,s:o}", "type", type, "url", url, "fields",
	                        fields_from_text(type, form_get(form, "widget_fields")));
	int same = had && json_equal(cfg, was);
	if (*key)
		json_object_set_new(cfg, "api_key", json_string(key));
	else if (clear_key)
		json_object_set_new(cfg, "api_key", json_null());
	if (same && !*key && !clear_key)
		json_decref(cfg);
	else
		json_object_set_new(edit, "widget", cfg);
}

/* Whether service id has an API key stored for its widget. */
static int widget_key_set(struct daemon *d, uint64_t id)
{
	struct store_txn *t = NULL;
	int set = !store_txn_begin(d->app.db, 0, &t, NULL) && store_widget_key_isset(t, id);
	store_txn_abort(t);
	return set;
}

/* The widget definitions for the type chooser and their help: [{name, description, fields_text,
 * readme_html}]. */
static json_t *widget_types(struct daemon *d)
{
	json_t *out = json_array();
	const struct widget_defs *defs = widgets_defs(d->widgets);
	for (size_t i = 0; defs && i < widget_defs_count(defs); i++) {
		const struct widget_def *def = widget_defs_at(defs, i);
		struct buf f;
		buf_init(&f, 0);
		for (size_t k = 0; k < def->nfields; k++)
			buf_addf(&f, "%s%s (%s)", k ? ", " : "", def->fields[k].key,
			         def->fields[k].label);
		if (def->configurable)
			buf_adds(&f, "written by you, one per line");
		json_t *o = json_pack("{s:s,s:s,s:s}", "name", def->name, "description",
		                      def->description ? def->description : "", "fields_text",
		                      f.data ? f.data : "");
		json_t *readme = render_model_markdown(widget_def_readme(def));
		if (readme)
			json_object_set_new(o, "readme_html", readme);
		json_array_append_new(out, o);
		buf_release(&f);
	}
	return out;
}

/* What the widget section shows: the posted form again, else the stored configuration. */
static json_t *widget_section(const json_t *values, int key_set, const json_t *errors)
{
	json_t *w;
	if (json_object_get(values, "widget_type")) {
		w = json_pack("{s:s,s:s,s:s}", "type", form_get(values, "widget_type"), "url",
		              form_get(values, "widget_url"), "fields",
		              form_get(values, "widget_fields"));
	} else {
		const json_t *cfg = json_object_get(values, "widget");
		char *text = fields_text(cfg);
		w = json_pack(
		    "{s:s,s:s,s:s}", "type",
		    json_is_object(cfg) ? json_string_value(json_object_get(cfg, "type")) : "",
		    "url",
		    json_is_object(cfg) ? json_string_value(json_object_get(cfg, "url")) : "",
		    "fields", text);
		free(text);
	}
	json_object_set_new(w, "key_set", json_boolean(key_set));
	const json_t *err = json_object_get(errors, "widget");
	if (err)
		json_object_set(w, "widget_error", (json_t *)err);
	return w;
}

/*
 * The edit object for what the form says: for an add every non-empty
 * field, for an edit (current given) only the fields that differ from it.
 */
static json_t *edit_from_form(const json_t *form, const json_t *current)
{
	json_t *edit = json_object();
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		const char *given = form_get(form, f->name);
		json_t *v;
		if (f->kind == CHECK) {
			v = json_boolean(!strcmp(given, "true"));
		} else if (!*given) {
			/* empty: an URL is handed back to the synthesizer, the rest is unset */
			v = strstr(f->name, "url") ? json_string("") : json_null();
		} else {
			v = json_string(given);
		}
		if (current) {
			char *was = form_text(json_object_get(current, f->name));
			char *now = form_text(v);
			int same = !strcmp(was, now);
			free(was);
			free(now);
			if (same) {
				json_decref(v);
				continue;
			}
		} else if (json_is_null(v) || (json_is_string(v) && !json_string_length(v))) {
			json_decref(v);
			continue;
		}
		json_object_set_new(edit, f->name, v);
	}
	widget_from_form(form, current, edit);
	return edit;
}

/* Group names for the chooser: the groups and every name a service uses. */
static int add_group_name(const struct store_record *r, void *arg)
{
	if (r->group_name && *r->group_name)
		json_object_set_new(arg, r->group_name, json_true());
	return 0;
}

static json_t *group_names(struct store_txn *t)
{
	json_t *set = json_object(), *groups = store_group_list(t), *g, *v;
	size_t i;
	json_array_foreach (groups, i, g)
		json_object_set_new(set, json_string_value(json_object_get(g, "name")),
		                    json_true());
	store_db_foreach(t, add_group_name, set, NULL);
	json_t *names = json_array();
	const char *k;
	json_object_foreach (set, k, v)
		json_array_append_new(names, json_string(k));
	json_decref(groups);
	json_decref(set);
	return names;
}

/* What the notifier reported, read-only; "Not reported" where it sent nothing. */
static json_t *reported(const json_t *rec)
{
	static const char *const keys[][2] = {
	    {"networks", "Networks"},
	    {"exposed_ports", "Exposed ports"},
	    {"published_ports", "Published ports"},
	    {"exposure_observations", "Exposure observations"},
	    {"notifier_reported_group_name", "Notifier-reported group"},
	    {"notifier_reported_sort_priority", "Notifier-reported priority"},
	    {"container_id", "Container id"},
	    {"docker_status", "Docker status"},
	    {"last_api_update", "Last register"},
	};
	json_t *items = json_array();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(rec, keys[i][0]);
		char *text = json_is_array(v) || json_is_object(v)
		                 ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII)
		                 : form_text(v);
		int empty = !text || !*text || (json_is_array(v) && !json_array_size(v));
		json_array_append_new(items,
		                      json_pack("{s:s,s:o,s:b}", "label", keys[i][1], "value",
		                                render_model_text(empty ? "Not reported" : text),
		                                "none", empty));
		free(text);
	}
	return items;
}

/* Problems by field name: {"host": "String should not be empty", ...}. */
static json_t *errors_by_field(const struct store_verr *v)
{
	json_t *errors = json_object(), *p;
	size_t i;
	json_array_foreach (v->details, i, p) {
		const char *name = json_string_value(json_array_get(json_object_get(p, "loc"), 0));
		if (name && !json_object_get(errors, name))
			json_object_set(errors, name, json_object_get(p, "msg"));
	}
	return errors;
}

/*
 * The form page. values: what to show (the stored record, or what was
 * posted); rec: the stored record for an edit (NULL for an add).
 */
static void form_page(struct daemon *d, struct http_response *res, int status,
                      const struct auth_user *u, uint64_t id, const json_t *values,
                      const json_t *rec, json_t *errors, const char *error, int saved)
{
	json_t *list = json_array();
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		char *text = form_text(json_object_get(values, f->name));
		json_t *o = json_pack("{s:s,s:s,s:o,s:s?,s:O?}", "name", f->name, "label", f->label,
		                      "value", render_model_text(text), "help", f->help, "error",
		                      json_object_get(errors, f->name));
		json_object_set_new(o,
		                    f->kind == CHECK    ? "is_check"
		                    : f->kind == AREA   ? "is_area"
		                    : f->kind == NUMBER ? "is_number"
		                                        : "is_text",
		                    json_true());
		if (f->kind == CHECK && !strcmp(text, "true"))
			json_object_set_new(o, "checked", json_true());
		if (!strcmp(f->name, "group_name"))
			json_object_set_new(o, "list", json_string("groups"));
		char src[32];
		snprintf(src, sizeof(src), "%s_source", f->name);
		const char *s = json_string_value(json_object_get(rec, src));
		int rank = s ? store_url_source_parse(s) : 0;
		if (rank > 0 && strstr(f->name, "url"))
			json_object_set_new(o, "badge", json_string(url_badges[rank]));
		json_array_append_new(list, o);
		free(text);
	}
	json_t *ctx = json_pack("{s:o,s:s,s:b,s:s?}", "fields", list, "csrf", u->csrf, "saved",
	                        saved, "error", error);
	json_object_set_new(ctx, "widget",
	                    widget_section(values, rec && widget_key_set(d, id), errors));
	json_object_set_new(ctx, "widget_types", widget_types(d));
	struct store_txn *t = NULL;
	if (!store_txn_begin(d->app.db, 0, &t, NULL))
		json_object_set_new(ctx, "groups", group_names(t));
	store_txn_abort(t);
	char *action = id ? xasprintf("/edit/%llu", (unsigned long long)id) : xstrdup("/add");
	json_object_set_new(ctx, "action", json_string(action));
	if (rec) {
		json_object_set_new(ctx, "is_edit", json_true());
		json_object_set_new(ctx, "reported", reported(rec));
		json_object_set_new(ctx, "history_href", json_sprintf("%s/history", action));
		json_object_set_new(ctx, "delete_action", json_sprintf("%s/delete", action));
		json_t *notes =
		    render_model_markdown(json_string_value(json_object_get(rec, "notes")));
		if (notes)
			json_object_set_new(ctx, "notes_html", notes);
		char *images = xasprintf("%s/images", d->app.config);
		char *file =
		    icons_local_file(images, json_string_value(json_object_get(rec, "image_icon")));
		if (file)
			json_object_set_new(ctx, "icon_src", json_sprintf("/images/%s", file));
		free(file);
		free(images);
	}
	free(action);
	char *title = rec ? xasprintf("Edit %s/%s", json_string_value(json_object_get(rec, "host")),
	                              json_string_value(json_object_get(rec, "container_name")))
	                  : xstrdup("Add a service");
	json_decref(errors);
	ui_page(d, res, status, title, "ui-edit", ctx, u);
	free(title);
}

/* How many versions of a service the edit page lists. */
#define HISTORY_MAX 20

/* The repo path of rec's service file (malloc'd). */
static char *service_path(const json_t *rec)
{
	return store_naming_service_path(json_string_value(json_object_get(rec, "host")),
	                                 json_string_value(json_object_get(rec, "container_name")));
}

/* The git history of rec's file, newest first; the versions that can be restored marked. */
static json_t *history(struct daemon *d, const json_t *rec)
{
	char *path = service_path(rec);
	json_t *list = NULL, *c;
	struct err e = {0};
	if (history_cache_file(d, path, HISTORY_MAX, &list, &e)) {
		log_warn("history of '%s': %s", path, e.msg);
		list = json_array();
	}
	size_t i;
	json_array_foreach (list, i, c) {
		const char *change = json_string_value(json_object_get(c, "change"));
		/* the newest version is what the form shows; a deletion has nothing to restore */
		json_object_set_new(c, "restorable",
		                    json_boolean(i > 0 && strcmp(change, "deleted")));
		json_object_set_new(
		    c, "short", json_stringn(json_string_value(json_object_get(c, "commit")), 10));
	}
	free(path);
	return list;
}

/* The stored record as JSON (inventory and live), or NULL when there is none. */
static json_t *load(struct daemon *d, uint64_t id)
{
	struct store_txn *t = NULL;
	struct store_record r;
	store_record_init(&r);
	json_t *out = NULL;
	if (!store_txn_begin(d->app.db, 0, &t, NULL) && !store_db_get(t, id, &r, NULL))
		out = store_record_to_json(&r, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_txn_abort(t);
	store_record_release(&r);
	return out;
}

static void save(struct daemon *d, const struct http_request *req, struct http_response *res,
                 const struct auth_user *u, uint64_t id, const json_t *rec)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	json_t *edit = edit_from_form(form, rec);
	struct store_verr v;
	store_verr_init(&v);
	struct store_record out;
	store_record_init(&out);
	struct err e = {0};
	int rc = change_apply(d, id ? CHANGE_EDIT : CHANGE_ADD, id, edit, u->name, &out, &v, &e);
	if (!rc) {
		char *to = xasprintf("/edit/%llu?saved=1", (unsigned long long)out.id);
		ui_redirect(res, to);
		free(to);
	} else if (rc == ERR_INVAL && store_verr_any(&v)) {
		form_page(d, res, 400, u, id, form, rec, errors_by_field(&v), NULL, 0);
	} else if (rc == ERR_EXISTS) {
		form_page(d, res, 409, u, id, form, rec,
		          json_pack("{s:s}", "container_name",
		                    "Another service on this host already has this name."),
		          NULL, 0);
	} else {
		form_page(d, res, rc == ERR_NOTFOUND ? 404 : 500, u, id, form, rec, NULL, e.msg, 0);
	}
	store_record_release(&out);
	store_verr_release(&v);
	json_decref(edit);
	json_decref(form);
}

static void delete_service(struct daemon *d, const struct http_request *req,
                           struct http_response *res, const struct auth_user *u, uint64_t id)
{
	json_t *form = ui_form(d, req, res, u);
	if (form && ui_csrf_ok(d, res, form, u)) {
		struct store_verr v;
		store_verr_init(&v);
		struct err e = {0};
		if (change_apply(d, CHANGE_DELETE, id, NULL, u->name, NULL, &v, &e))
			ui_page(d, res, e.code == ERR_NOTFOUND ? 404 : 500, "Not deleted",
			        "ui-message", json_pack("{s:s}", "message", e.msg), u);
		else
			ui_redirect(res, "/");
		store_verr_release(&v);
	}
	json_decref(form);
}

/*
 * Restore the version of the service file at a commit: its operator-set
 * fields go back as a UI edit (a new commit), only those that differ from
 * now, so URL provenance does not flip for URLs that stay the same.
 */
static void restore(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u, uint64_t id, const json_t *rec)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	char *path = service_path(rec);
	struct buf file;
	buf_init(&file, 1024 * 1024);
	struct err e = {0};
	struct store_record old;
	store_record_init(&old);
	int rc = store_history_file_at(d->app.repo, form_get(form, "commit"), path, &file, &e);
	if (!rc)
		rc = store_yaml_parse_record(&old, file.data, file.len, path, &e);
	if (rc) {
		form_page(d, res, rc == ERR_NOTFOUND || rc == ERR_INVAL ? 400 : 500, u, id, rec,
		          rec, NULL, e.msg, 0);
	} else {
		json_t *then = store_record_to_json(&old, STORE_FIELD_INVENTORY),
		       *as_form = json_object();
		for (size_t i = 0; i < NFIELDS; i++) {
			char *text = form_text(json_object_get(then, fields[i].name));
			json_object_set_new(as_form, fields[i].name, json_string(text));
			free(text);
		}
		json_t *edit = edit_from_form(as_form, rec);
		struct store_verr v;
		store_verr_init(&v);
		if (change_apply(d, CHANGE_EDIT, id, edit, u->name, NULL, &v, &e)) {
			form_page(d, res, e.code == ERR_EXISTS ? 409 : 400, u, id, rec, rec,
			          store_verr_any(&v) ? errors_by_field(&v) : NULL,
			          "That version cannot be restored: it does not validate any more.",
			          0);
		} else {
			char *to = xasprintf("/edit/%llu?saved=1", (unsigned long long)id);
			ui_redirect(res, to);
			free(to);
		}
		store_verr_release(&v);
		json_decref(edit);
		json_decref(as_form);
		json_decref(then);
	}
	store_record_release(&old);
	buf_release(&file);
	free(path);
	json_decref(form);
}

/*
 * /edit/<id>/history: its own page, because walking the repo costs tens of
 * milliseconds on a long history, and the edit form must stay fast.
 */
static void history_page(struct daemon *d, struct http_response *res, const struct auth_user *u,
                         uint64_t id, const json_t *rec)
{
	json_t *ctx =
	    json_pack("{s:o,s:s,s:o,s:o}", "history", history(d, rec), "csrf", u->csrf,
	              "restore_action", json_sprintf("/edit/%llu/restore", (unsigned long long)id),
	              "edit_href", json_sprintf("/edit/%llu", (unsigned long long)id));
	char *title = xasprintf("History of %s/%s", json_string_value(json_object_get(rec, "host")),
	                        json_string_value(json_object_get(rec, "container_name")));
	ui_page(d, res, 200, title, "ui-history", ctx, u);
	free(title);
}

/* "/edit/<id>" → id and *tail ("", "/delete", "/restore", "/history"); 0 when malformed. */
static uint64_t route_id(const char *p, const char **tail)
{
	uint64_t id = 0;
	const char *s = p + 6;
	size_t n = 0;
	for (; s[n] >= '0' && s[n] <= '9' && n < 18; n++)
		id = id * 10 + (uint64_t)(s[n] - '0');
	*tail = s + n;
	return n && (!**tail || !strcmp(*tail, "/delete") || !strcmp(*tail, "/restore") ||
	             !strcmp(*tail, "/history"))
	           ? id
	           : 0;
}

static void not_found(struct daemon *d, struct http_response *res, const struct auth_user *u)
{
	ui_page(d, res, 404, "Not found", "ui-message",
	        json_pack("{s:s}", "message", "There is no such service (deleted meanwhile?)."), u);
}

void ui_edit_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u)
{
	int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
	int post = !strcmp(req->method, "POST");
	if (!get && !post) {
		res->status = 405;
		res->allow = xstrdup(strstr(req->path, "/delete") ? "POST" : "GET, POST");
		return;
	}
	if (!strcmp(req->path, "/add")) {
		if (get)
			form_page(d, res, 200, u, 0, NULL, NULL, NULL, NULL, 0);
		else
			save(d, req, res, u, 0, NULL);
		return;
	}
	const char *tail;
	uint64_t id = route_id(req->path, &tail);
	json_t *rec = id ? load(d, id) : NULL;
	if (!rec) {
		not_found(d, res, u);
	} else if (!strcmp(tail, "/history")) {
		if (get) {
			history_page(d, res, u, id, rec);
		} else {
			res->status = 405;
			res->allow = xstrdup("GET");
		}
	} else if (*tail) {
		if (post && !strcmp(tail, "/restore"))
			restore(d, req, res, u, id, rec);
		else if (post)
			delete_service(d, req, res, u, id);
		else {
			res->status = 405;
			res->allow = xstrdup("POST");
		}
	} else if (get) {
		const char *saved = http_query(req, "saved");
		form_page(d, res, 200, u, id, rec, rec, NULL, NULL, saved && !strcmp(saved, "1"));
	} else {
		save(d, req, res, u, id, rec);
	}
	json_decref(rec);
}
