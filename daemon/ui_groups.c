#include "ui_groups.h"

#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../store/db.h"
#include "../store/icons.h"
#include "../store/ops.h"
#include "../store/record.h"
#include "../store/validate.h"
#include "form.h"
#include "serve.h"
#include "ui.h"
#include "ui_settings.h"
#include "../common/banned.h"

/* Services per group name, trimmed as the dashboards bucket them; "" counts the ungrouped. */
static int count_group(const struct store_record *r, void *arg)
{
	char *g = ui_settings_trimmed(r->group_name ? r->group_name : "");
	json_t *counts = arg;
	json_object_set_new(counts, g,
	                    json_integer(json_integer_value(json_object_get(counts, g)) + 1));
	free(g);
	return 0;
}

static json_t *group_counts(struct store_txn *t)
{
	json_t *counts = json_object();
	store_db_foreach(t, count_group, counts, NULL);
	return counts;
}

/* The stored group called name (new reference), or NULL. */
static json_t *group_find(struct store_txn *t, const char *name)
{
	json_t *groups = store_group_list(t), *g, *found = NULL;
	size_t i;
	json_array_foreach (groups, i, g) {
		const char *n = json_string_value(json_object_get(g, "name"));
		if (n && !strcmp(n, name)) {
			found = json_incref(g);
			break;
		}
	}
	json_decref(groups);
	return found;
}

/* A group row's form input: what was posted when this row's form failed, else stored. */
static json_t *row_input(const struct ui_settings_failed *f, int mine, const char *field,
                         const char *stored)
{
	if (mine && json_object_get(f->form, field))
		return render_model_text(form_get(f->form, field));
	return render_model_text(stored);
}

json_t *ui_groups_tab(struct store_txn *t, const struct ui_settings_failed *f)
{
	json_t *counts = group_counts(t), *groups = store_group_list(t), *rows = json_array(), *g;
	size_t i;
	json_array_foreach (groups, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		if (!name)
			continue;
		const char *icon = json_string_value(json_object_get(g, "icon"));
		char *prio = ui_settings_value_text(json_object_get(g, "sort_priority"));
		json_int_t n = json_integer_value(json_object_get(counts, name));
		int mine = f && f->row && !strcmp(f->row, name);
		json_array_append_new(
		    rows,
		    json_pack("{s:I,s:o,s:o,s:o,s:I,s:b,s:b,s:o,s:o,s:o,s:o}", "n", (json_int_t)i,
		              "name", render_model_text(name), "icon", render_model_text(icon),
		              "prio", render_model_text(prio), "services", n, "defined", 1, "open",
		              mine, "icon_in", row_input(f, mine, "icon", icon), "prio_in",
		              row_input(f, mine, "sort_priority", prio), "new_name_in",
		              row_input(f, mine, "new_name", name), "rerr",
		              mine ? json_incref(f->errors) : json_object()));
		json_object_del(counts, name);
		free(prio);
	}
	json_int_t ungrouped = json_integer_value(json_object_get(counts, ""));
	json_object_del(counts, "");
	/* Names services use that no group defines: shown, so they can be defined. */
	const char *name;
	json_t *n;
	json_object_foreach (counts, name, n)
		json_array_append_new(rows, json_pack("{s:o,s:s,s:s,s:O,s:b,s:b,s:o}", "name",
		                                      render_model_text(name), "icon", "", "prio",
		                                      "", "services", n, "defined", 0, "open", 0,
		                                      "rerr", json_object()));
	int add = f && !f->row;
	json_t *tab = json_pack("{s:o,s:I,s:{s:o,s:o,s:o,s:o}}", "rows", rows, "ungrouped",
	                        ungrouped, "add", "name_in", row_input(f, add, "name", ""),
	                        "icon_in", row_input(f, add, "icon", ""), "prio_in",
	                        row_input(f, add, "sort_priority", ""), "err",
	                        add ? json_incref(f->errors) : json_object());
	json_decref(groups);
	json_decref(counts);
	return tab;
}

struct group_job {
	enum ui_groups_op op;
	const char *name, *new_name, *icon, *author;
	json_t *prio;      /* integer or null */
	const char *field; /* set by apply_group: the field a refusal belongs to */
};

struct group_use {
	const char *name;
	size_t n;
};

static int count_use(const struct store_record *r, void *arg)
{
	struct group_use *gu = arg;
	char *g = ui_settings_trimmed(r->group_name ? r->group_name : "");
	gu->n += !strcmp(g, gu->name);
	free(g);
	return 0;
}

static int refuse(struct group_job *j, const char *field, struct err *e, int code, const char *msg)
{
	j->field = field;
	return err_set(e, code, "%s", msg);
}

static int apply_group(struct store_txn *t, void *ctx, struct err *e)
{
	struct group_job *j = ctx;
	json_t *old = group_find(t, j->name), *put = NULL;
	struct group_use gu = {j->name, 0};
	int rc = 0;
	if (j->op == UI_GROUPS_ADD && old) {
		rc = refuse(j, "name", e, ERR_EXISTS, "There is already a group with this name.");
		goto out;
	}
	if (j->op != UI_GROUPS_ADD && !old) {
		rc = err_set(e, ERR_NOTFOUND, "There is no group '%s' (deleted meanwhile?).",
		             j->name);
		goto out;
	}
	if (j->op == UI_GROUPS_ADD || j->op == UI_GROUPS_EDIT) {
		put = json_pack("{s:s}", "name", j->name);
		if (*j->icon)
			json_object_set_new(put, "icon", json_string(j->icon));
		if (!json_is_null(j->prio))
			json_object_set(put, "sort_priority", j->prio);
		rc = store_ops_group_put(t, put, j->author, e);
		goto out;
	}
	if ((rc = store_db_foreach(t, count_use, &gu, e)))
		goto out;
	const char *field = j->op == UI_GROUPS_RENAME ? "new_name" : "delete";
	if (gu.n) {
		char *msg =
		    xasprintf("%zu service%s in this group: move %s to another group first.", gu.n,
		              gu.n == 1 ? " is" : "s are", gu.n == 1 ? "it" : "them");
		rc = refuse(j, field, e, ERR_EXISTS, msg);
		free(msg);
		goto out;
	}
	if (j->op == UI_GROUPS_RENAME) {
		json_t *taken = group_find(t, j->new_name);
		int exists = taken != NULL;
		json_decref(taken);
		if (exists) {
			rc = refuse(j, field, e, ERR_EXISTS,
			            "There is already a group with this name.");
			goto out;
		}
		put = json_deep_copy(old);
		json_object_set_new(put, "name", json_string(j->new_name));
		rc = store_ops_group_put(t, put, j->author, e);
	}
	if (!rc)
		rc = store_ops_group_delete(t, j->name, j->author, e);
out:
	json_decref(put);
	json_decref(old);
	return rc;
}

static const char *group_name_problem(const char *name)
{
	if (!*name)
		return "A name is required.";
	if (strlen(name) > STORE_MAX_NAME)
		return "At most 255 bytes.";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "No control characters.";
	return NULL;
}

/* An optional integer: 0 with *out (null for empty), or -1. */
static int parse_prio(const char *s, json_t **out)
{
	if (!*s) {
		*out = json_null();
		return 0;
	}
	const char *p = s + (*s == '-' || *s == '+');
	size_t n = strspn(p, "0123456789");
	if (!n || p[n] || n > 9)
		return -1;
	*out = json_integer((json_int_t)strtoll(s, NULL, 10));
	return 0;
}

/* Check the fields of j's form into errors; j->prio gets the priority (null when empty or bad). */
static void group_check(struct group_job *j, const char *prio, json_t *errors)
{
	const char *p;
	j->prio = NULL;
	if (j->op == UI_GROUPS_ADD && (p = group_name_problem(j->name)))
		ui_settings_set_error(errors, "name", p);
	if (j->op == UI_GROUPS_RENAME && (p = group_name_problem(j->new_name)))
		ui_settings_set_error(errors, "new_name", p);
	else if (j->op == UI_GROUPS_RENAME && !strcmp(j->new_name, j->name))
		ui_settings_set_error(errors, "new_name", "This is the current name.");
	if (j->op == UI_GROUPS_ADD || j->op == UI_GROUPS_EDIT) {
		if (*j->icon && !store_icon_name_ok(j->icon))
			ui_settings_set_error(
			    errors, "icon",
			    "A file name such as sonarr.svg or a bare name such as sonarr: "
			    "letters, digits, '.', '_' and '-'. Or empty.");
		if (parse_prio(prio, &j->prio))
			ui_settings_set_error(errors, "sort_priority",
			                      "A whole number (at most 9 digits), or empty.");
	}
	if (!j->prio)
		j->prio = json_null();
}

void ui_groups_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u, enum ui_groups_op op)
{
	static const char *const done[] = {"group_added", "group_saved", "group_renamed",
	                                   "group_deleted"};
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	char *name = ui_settings_trimmed(form_get(form, op == UI_GROUPS_ADD ? "name" : "group"));
	char *new_name = ui_settings_trimmed(form_get(form, "new_name"));
	char *icon = ui_settings_trimmed(form_get(form, "icon"));
	char *prio = ui_settings_trimmed(form_get(form, "sort_priority"));
	struct group_job j = {op, name, new_name, icon, u->name, NULL, NULL};
	json_t *errors = json_object();
	group_check(&j, prio, errors);
	struct err e = {0};
	int status = 400, rc = 0;
	if (!json_object_size(errors)) {
		if (!(rc = writer_submit(d->writer, apply_group, &j, &e))) {
			log_info("group '%s': %s%s%s by '%s'", name, done[op] + 6,
			         op == UI_GROUPS_RENAME ? " to " : "",
			         op == UI_GROUPS_RENAME ? new_name : "", u->name);
			if (*icon)
				icons_wake(d->icons);
			ui_settings_redirect_done(res, "groups", done[op]);
			goto out;
		}
		status = ui_settings_status_of(rc);
		if (j.field)
			ui_settings_set_error(errors, j.field, e.msg);
	}
	struct ui_settings_failed f = {op == UI_GROUPS_ADD ? NULL : name, errors, form,
	                               rc && !j.field ? e.msg : NULL, NULL};
	ui_settings_page(d, res, status, u, "groups", NULL, &f);
out:
	json_decref(errors);
	json_decref(j.prio);
	json_decref(form);
	free(name);
	free(new_name);
	free(icon);
	free(prio);
}
