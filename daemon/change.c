#include "change.h"

#include <string.h>
#include <time.h>

#include "../store/ops.h"
#include "../store/widgetkey.h"
#include "../store/widgetvals.h"
#include "widgetdef.h"
#include "serve.h"
#include "../common/banned.h"

struct change_job {
	enum change_kind kind;
	uint64_t id;
	const char *author;
	struct store_edit ed;
	struct store_record rec;
	const unsigned char *secret; /* the widget key file's key; NULL: no widgets */
};

/* The widget's API key, in the same transaction as the change (never in the record). */
static int apply_widget_key(struct store_txn *t, struct change_job *j, struct err *e)
{
	uint64_t id = j->rec.id;
	if (j->ed.widget.state == STORE_P_NULL) { /* no widget: no key, no values */
		int rc = store_widget_key_put(t, id, NULL, j->secret, e);
		return rc ? rc : store_widget_forget(t, id, e);
	}
	if (j->ed.widget_api_key.state == STORE_P_VALUE)
		return store_widget_key_put(t, id, j->ed.widget_api_key.value, j->secret, e);
	if (j->ed.widget_api_key.state == STORE_P_NULL)
		return store_widget_key_put(t, id, NULL, j->secret, e);
	return 0;
}

static int apply(struct store_txn *t, void *ctx, struct err *e)
{
	struct change_job *j = ctx;
	int64_t now = (int64_t)time(NULL);
	int rc;
	switch (j->kind) {
	case CHANGE_ADD:
		rc = store_ops_add(t, &j->ed, j->author, now, &j->rec, e);
		break;
	case CHANGE_EDIT:
		rc = store_ops_edit(t, j->id, &j->ed, j->author, now, &j->rec, e);
		break;
	default:
		return store_ops_delete(t, j->id, j->author, e);
	}
	if (!rc && j->secret)
		rc = apply_widget_key(t, j, e);
	return rc;
}

static void widget_problem(struct store_verr *v, const char *key, const char *what, const char *arg)
{
	json_t *loc = json_pack("[s,s]", "widget", key);
	store_verr_add(v, loc, "widget", "%s%s", what, arg);
	json_decref(loc);
}

/* The configuration against the widget definitions: a known type, fields it has. */
static void check_widget(struct daemon *d, const char *canon, struct store_verr *v)
{
	const struct widget_defs *defs = widgets_defs(d->widgets);
	json_t *cfg = json_loads(canon, 0, NULL);
	const char *type = json_string_value(json_object_get(cfg, "type"));
	const struct widget_def *def = defs && type ? widget_defs_find(defs, type) : NULL;
	if (!def) {
		widget_problem(v, "type", "Unknown widget type: ", type ? type : "");
	} else if (def->configurable) {
		struct widget_def *tmp = NULL;
		struct buf problems;
		struct err e = {0};
		buf_init(&problems, 0);
		json_t *engine = widget_engine_config(cfg);
		if (widget_def_configure(&tmp, def, engine, &problems, &e))
			widget_problem(v, "fields", "", problems.len ? problems.data : e.msg);
		widget_def_free(tmp);
		json_decref(engine);
		buf_release(&problems);
	} else {
		size_t i;
		json_t *f;
		json_array_foreach (json_object_get(cfg, "fields"), i, f) {
			int known = 0;
			for (size_t k = 0; k < def->nfields; k++)
				known |= !strcmp(def->fields[k].key, json_string_value(f));
			if (!known)
				widget_problem(v, "fields",
				               "This widget has no field: ", json_string_value(f));
		}
	}
	json_decref(cfg);
}

static void require(const json_t *body, const char *key, struct store_verr *v)
{
	if (json_object_get(body, key))
		return;
	json_t *loc = store_loc_key(NULL, key);
	store_verr_add(v, loc, "missing", "Field required");
	json_decref(loc);
}

int change_apply(struct daemon *d, enum change_kind kind, uint64_t id, const json_t *body,
                 const char *author, struct store_record *out, struct store_verr *v, struct err *e)
{
	struct change_job j;
	memset(&j, 0, sizeof(j));
	j.kind = kind;
	j.id = id;
	j.author = author;
	store_record_init(&j.rec);
	int rc = 0;
	if (kind != CHANGE_DELETE) {
		/* every problem at once: a missing identity too, not only the first bad field */
		store_edit_from_json(&j.ed, body, v);
		if (kind == CHANGE_ADD && json_is_object(body)) {
			require(body, "host", v);
			require(body, "container_name", v);
		}
		if (j.ed.widget.state == STORE_P_VALUE)
			check_widget(d, j.ed.widget.value, v);
		if (store_verr_any(v)) {
			rc = err_set(e, ERR_INVAL, "invalid service");
			goto out;
		}
		if (j.ed.widget.state != STORE_P_ABSENT && !d->widgets) {
			rc = err_set(e, ERR_BUSY, "widgets are not available (see the log)");
			goto out;
		}
	}
	if (d->widgets)
		j.secret = widgets_secret(d->widgets);
	if ((rc = writer_submit(d->writer, apply, &j, e)))
		goto out;
	health_wake(d->health);
	icons_wake(d->icons);
	if (j.ed.widget.state != STORE_P_ABSENT)
		widgets_wake(d->widgets);
	if (out) {
		*out = j.rec;
		store_record_init(&j.rec);
	}
out:
	store_edit_release(&j.ed);
	store_record_release(&j.rec);
	return rc;
}
