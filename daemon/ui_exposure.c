#include "ui_exposure.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../store/db.h"
#include "../store/merge.h"
#include "../store/ops.h"
#include "../store/record.h"
#include "../store/validate.h"
#include "form.h"
#include "serve.h"
#include "ui.h"
#include "ui_settings.h"
#include "../common/banned.h"

static const char *const directions[] = {"internal", "external", "neither"};

/* The form field `prefix` + i (rows of a table posted in one form). */
static const char *form_row(const json_t *form, const char *prefix, size_t i)
{
	char key[48];
	snprintf(key, sizeof(key), "%s%zu", prefix, i);
	return form_get(form, key);
}

/* A row count posted by our own form; 0 for anything else. */
static size_t form_count(const json_t *form, const char *name)
{
	const char *s = form_get(form, name);
	size_t n = strspn(s, "0123456789");
	if (!n || s[n] || n > 3)
		return 0;
	size_t v = (size_t)strtoul(s, NULL, 10);
	return v <= FORM_MAX_FIELDS ? v : 0;
}

/* [{"v": "internal", "sel": true}, ...] for a direction select. */
static json_t *dir_options(const char *current)
{
	json_t *list = json_array();
	for (size_t i = 0; i < 3; i++)
		json_array_append_new(list, json_pack("{s:s,s:b}", "v", directions[i], "sel",
		                                      current && !strcmp(current, directions[i])));
	return list;
}

/* Layer names seen in observations, once each (case-insensitively, as the synthesizer matches). */
struct layers_seen {
	json_t *list; /* [{"name", "seen": services, "by": id + 1 of the last service counted}] */
};

static json_t *layer_entry(json_t *list, const char *name)
{
	json_t *l;
	size_t i;
	json_array_foreach (list, i, l)
		if (!strcasecmp(json_string_value(json_object_get(l, "name")), name))
			return l;
	return NULL;
}

static int see_layers(const struct store_record *r, void *arg)
{
	struct layers_seen *ls = arg;
	json_t *obs =
	    r->exposure_observations ? json_loads(r->exposure_observations, 0, NULL) : NULL;
	json_t *o;
	size_t i;
	json_array_foreach (obs, i, o) {
		const char *name = json_string_value(json_object_get(o, "layer"));
		if (!name || !*name)
			continue;
		json_t *l = layer_entry(ls->list, name);
		if (!l) {
			l = json_pack("{s:s,s:I,s:I}", "name", name, "seen", (json_int_t)0, "by",
			              (json_int_t)0);
			json_array_append_new(ls->list, l);
		}
		/* one per service, however many observations name the layer */
		if (json_integer_value(json_object_get(l, "by")) != (json_int_t)r->id + 1) {
			json_object_set_new(l, "by", json_integer((json_int_t)r->id + 1));
			json_object_set_new(
			    l, "seen",
			    json_integer(json_integer_value(json_object_get(l, "seen")) + 1));
		}
	}
	json_decref(obs);
	return 0;
}

static int see_host(const struct store_record *r, void *arg)
{
	if (r->host)
		json_object_set_new(arg, r->host, json_true());
	return 0;
}

json_t *ui_exposure_tab(struct store_txn *t, const struct ui_settings_failed *f)
{
	const json_t *shown = f && f->exposure ? f->exposure : store_db_exposure(t);
	const json_t *set = json_object_get(shown, "layers"),
	             *hosts = json_object_get(shown, "hosts");
	struct layers_seen ls = {json_array()};
	const char *key, *k2;
	json_t *v, *v2;
	/* the settings' own names first (exactly), then the others seen */
	json_object_foreach ((json_t *)set, key, v)
		json_array_append_new(ls.list,
		                      json_pack("{s:s,s:I}", "name", key, "seen", (json_int_t)0));
	store_db_foreach(t, see_layers, &ls, NULL);
	json_t *layers = json_array(), *names = json_array(), *l;
	size_t i;
	json_array_foreach (ls.list, i, l) {
		const char *name = json_string_value(json_object_get(l, "name"));
		json_array_append_new(
		    layers,
		    json_pack("{s:I,s:o,s:O,s:o}", "i", (json_int_t)i, "name",
		              render_model_text(name), "seen", json_object_get(l, "seen"), "dirs",
		              dir_options(store_exposure_direction(shown, NULL, name))));
		json_array_append_new(names, render_model_text(name));
	}
	json_t *host_set = json_object(), *overrides = json_array();
	store_db_foreach(t, see_host, host_set, NULL);
	size_t n = 0;
	json_object_foreach ((json_t *)hosts, key, v) {
		json_object_set_new(host_set, key, json_true());
		json_object_foreach (v, k2, v2)
			json_array_append_new(overrides,
			                      json_pack("{s:I,s:o,s:o,s:o}", "i", (json_int_t)n++,
			                                "host", render_model_text(key), "layer",
			                                render_model_text(k2), "dirs",
			                                dir_options(json_string_value(v2))));
	}
	const char *new_host = f ? form_get(f->form, "new_host") : "";
	json_t *host_opts = json_array();
	json_object_foreach (host_set, key, v)
		json_array_append_new(host_opts, json_pack("{s:o,s:b}", "v", render_model_text(key),
		                                           "sel", !strcmp(key, new_host)));
	json_t *tab =
	    json_pack("{s:o,s:I,s:o,s:I,s:o,s:{s:o,s:o,s:o},s:o}", "layers", layers, "nlayers",
	              (json_int_t)json_array_size(layers), "overrides", overrides, "noverrides",
	              (json_int_t)n, "layer_names", names, "new", "hosts", host_opts, "layer",
	              render_model_text(f ? form_get(f->form, "new_layer") : ""), "dirs",
	              dir_options(f ? form_get(f->form, "new_dir") : "internal"), "err",
	              f ? json_incref(f->errors) : json_object());
	json_decref(ls.list);
	json_decref(host_set);
	return tab;
}

static void set_override(json_t *hosts, const char *host, const char *layer, const char *dir)
{
	json_t *m = json_object_get(hosts, host);
	if (!m) {
		m = json_object();
		json_object_set_new(hosts, host, m);
	}
	json_object_set_new(m, layer, json_string(dir));
}

/*
 * The exposure settings the form asks for (not validated yet). A layer
 * left at "neither" is written only when the settings already name it:
 * "neither" is what an unnamed layer means anyway.
 */
static json_t *exposure_from_form(const json_t *form, const json_t *stored, json_t *errors)
{
	json_t *layers = json_object(), *hosts = json_object();
	const json_t *was = json_object_get(stored, "layers");
	size_t n = form_count(form, "nlayers");
	for (size_t i = 0; i < n; i++) {
		const char *name = form_row(form, "layer", i), *dir = form_row(form, "dir", i);
		if (*name && (strcmp(dir, "neither") || json_object_get(was, name)))
			json_object_set_new(layers, name, json_string(dir));
	}
	n = form_count(form, "noverrides");
	for (size_t i = 0; i < n; i++) {
		const char *host = form_row(form, "ohost", i), *layer = form_row(form, "olayer", i);
		if (*host && *layer && strcmp(form_row(form, "oremove", i), "1"))
			set_override(hosts, host, layer, form_row(form, "odir", i));
	}
	char *host = ui_settings_trimmed(form_get(form, "new_host")),
	     *layer = ui_settings_trimmed(form_get(form, "new_layer"));
	if (*host && !*layer)
		ui_settings_set_error(errors, "new_layer",
		                      "Name the layer this host treats differently.");
	else if (!*host && *layer)
		ui_settings_set_error(errors, "new_host", "Choose the host.");
	else if (*host)
		set_override(hosts, host, layer, form_get(form, "new_dir"));
	free(host);
	free(layer);
	return json_pack("{s:o,s:o}", "layers", layers, "hosts", hosts);
}

/* Validation problems: the new override's beside its field, the others in one line. */
static void exposure_problems(const struct store_verr *v, const json_t *form, json_t *errors,
                              struct buf *general)
{
	char *host = ui_settings_trimmed(form_get(form, "new_host")),
	     *layer = ui_settings_trimmed(form_get(form, "new_layer"));
	json_t *p;
	size_t i;
	json_array_foreach (v->details, i, p) {
		const json_t *loc = json_object_get(p, "loc");
		const char *msg = json_string_value(json_object_get(p, "msg"));
		const char *h = json_string_value(json_array_get(loc, 1));
		const char *l = json_string_value(json_array_get(loc, 2));
		if (h && l && !strcmp(h, host) && !strcmp(l, layer)) {
			ui_settings_set_error(errors, "new_layer", msg);
			continue;
		}
		char *where = store_loc_dotted(loc);
		buf_addf(general, "%s%s: %s", general->len ? "; " : "Not saved: ", where, msg);
		free(where);
	}
	free(host);
	free(layer);
}

struct url_snap {
	uint64_t id;
	char *in, *ex;
};

struct exposure_job {
	const json_t *exposure;
	const char *author;
	struct url_snap *snap;
	size_t n, alloc, next;
	size_t changed; /* services whose internal or external URL changed */
};

static int snap_urls(const struct store_record *r, void *arg)
{
	struct exposure_job *j = arg;
	if (j->n == j->alloc) {
		j->alloc = j->alloc ? 2 * j->alloc : 64;
		j->snap = xrealloc(j->snap, j->alloc * sizeof(*j->snap));
	}
	j->snap[j->n++] = (struct url_snap){r->id, r->internalurl ? xstrdup(r->internalurl) : NULL,
	                                    r->externalurl ? xstrdup(r->externalurl) : NULL};
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Both walks are in id order, and the put adds or removes no service. */
static int diff_urls(const struct store_record *r, void *arg)
{
	struct exposure_job *j = arg;
	while (j->next < j->n && j->snap[j->next].id < r->id)
		j->next++;
	const struct url_snap *s = j->next < j->n ? &j->snap[j->next] : NULL;
	if (!s || s->id != r->id || !same(s->in, r->internalurl) || !same(s->ex, r->externalurl))
		j->changed++;
	return 0;
}

static int apply_exposure(struct store_txn *t, void *ctx, struct err *e)
{
	struct exposure_job *j = ctx;
	j->next = j->changed = 0;
	int rc = store_db_foreach(t, snap_urls, j, e);
	if (!rc)
		rc = store_ops_exposure_put(t, j->exposure, j->author, (int64_t)time(NULL), e);
	if (!rc)
		rc = store_db_foreach(t, diff_urls, j, e);
	for (size_t i = 0; i < j->n; i++) {
		free(j->snap[i].in);
		free(j->snap[i].ex);
	}
	free(j->snap);
	j->snap = NULL;
	j->n = j->alloc = 0;
	return rc;
}

void ui_exposure_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                      const struct auth_user *u)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	struct err e = {0};
	struct store_txn *t = NULL;
	json_t *stored = NULL, *canon = NULL, *errors = json_object(), *want = NULL;
	struct store_verr v;
	store_verr_init(&v);
	struct buf general;
	buf_init(&general, 0);
	if (store_txn_begin(d->app.db, 0, &t, &e)) {
		ui_page(d, res, 500, "Error", "ui-message", json_pack("{s:s}", "message", e.msg),
		        u);
		goto out;
	}
	stored = json_deep_copy(store_db_exposure(t));
	store_txn_abort(t);
	want = exposure_from_form(form, stored, errors);
	if (!json_object_size(errors) && store_exposure_validate(want, &canon, &v))
		exposure_problems(&v, form, errors, &general);
	if (json_object_size(errors) || general.len) {
		struct ui_settings_failed f = {NULL, errors, form,
		                               general.len ? general.data : NULL, want};
		ui_settings_page(d, res, 400, u, "exposure", NULL, &f);
		goto out;
	}
	struct exposure_job j = {canon, u->name, NULL, 0, 0, 0, 0};
	if (!json_equal(canon, stored)) {
		int rc = writer_submit(d->writer, apply_exposure, &j, &e);
		if (rc) {
			struct ui_settings_failed f = {NULL, errors, form, e.msg, want};
			ui_settings_page(d, res, ui_settings_status_of(rc), u, "exposure", NULL,
			                 &f);
			goto out;
		}
		log_info("exposure settings saved by '%s': %zu services got new URLs", u->name,
		         j.changed);
		health_wake(d->health);
	}
	char *to = xasprintf("/settings?tab=exposure&done=exposure&changed=%zu", j.changed);
	ui_redirect(res, to);
	free(to);
out:
	buf_release(&general);
	store_verr_release(&v);
	json_decref(want);
	json_decref(canon);
	json_decref(stored);
	json_decref(errors);
	json_decref(form);
}
