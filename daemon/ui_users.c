#include "ui_users.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../render/model.h"
#include "../store/db.h"
#include "../store/record.h"
#include "../store/users.h"
#include "form.h"
#include "serve.h"
#include "ui.h"
#include "ui_settings.h"
#include "../common/banned.h"

/* The store's messages start with the field ("password: must be ..."): drop it beside the field. */
static const char *without_field(const char *msg)
{
	const char *p = strstr(msg, ": ");
	if (!p || p - msg > 16)
		return msg;
	for (const char *q = msg; q < p; q++)
		if (!islower((unsigned char)*q) && *q != '_')
			return msg;
	return p + 2;
}

static json_t *time_text(const json_t *v)
{
	json_int_t s = json_integer_value(v);
	char buf[32] = "never";
	if (s > 0)
		store_time_format((int64_t)s, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *role_options(const char *current)
{
	return json_pack("[{s:s,s:b},{s:s,s:b}]", "v", "admin", "sel", !strcmp(current, "admin"),
	                 "v", "viewer", "sel", !strcmp(current, "viewer"));
}

json_t *ui_users_tab(struct store_txn *t, const struct auth_user *u,
                     const struct ui_settings_failed *f)
{
	json_t *users = store_user_list(t), *rows = json_array(), *x;
	size_t i;
	json_array_foreach (users, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *role = json_string_value(json_object_get(x, "role"));
		int mine = f && f->row && !strcmp(f->row, name);
		const char *shown =
		    mine && *form_get(f->form, "role") ? form_get(f->form, "role") : role;
		json_array_append_new(
		    rows,
		    json_pack("{s:I,s:s,s:s,s:o,s:o,s:b,s:b,s:b,s:o,s:o}", "n", (json_int_t)i,
		              "name", name, "role", role, "created",
		              time_text(json_object_get(x, "created")), "last_login",
		              time_text(json_object_get(x, "last_login")), "must_change",
		              json_is_true(json_object_get(x, "must_change_password")), "self",
		              !strcmp(name, u->name), "open", mine, "roles", role_options(shown),
		              "rerr", mine ? json_incref(f->errors) : json_object()));
	}
	json_decref(users);
	int add = f && !f->row;
	const char *role = add && *form_get(f->form, "role") ? form_get(f->form, "role") : "viewer";
	return json_pack("{s:o,s:{s:o,s:o,s:o}}", "rows", rows, "add", "name_in",
	                 render_model_text(add ? form_get(f->form, "name") : ""), "roles",
	                 role_options(role), "err", add ? json_incref(f->errors) : json_object());
}

struct user_job {
	enum ui_users_op op;
	const char *name, *role, *password;
	struct auth_user *renew; /* the caller setting their own password: a fresh session */
};

static int apply_user(struct store_txn *t, void *ctx, struct err *e)
{
	struct user_job *j = ctx;
	int64_t now = (int64_t)time(NULL);
	int rc;
	switch (j->op) {
	case UI_USERS_ADD:
		/* an admin hands out a first password: its owner replaces it at first login */
		return store_user_add(t, j->name, j->role, j->password, 1, now, e);
	case UI_USERS_PASSWORD:
		/* your own: chosen; someone else's: temporary, changed at their next login */
		rc = store_user_set_password(t, j->name, j->password, !j->renew, now, e);
		if (!rc && j->renew)
			rc = store_session_create(t, j->name, now, j->renew->token, j->renew->csrf,
			                          e);
		return rc;
	case UI_USERS_ROLE:
		return store_user_set_role(t, j->name, j->role, e);
	default:
		return store_user_del(t, j->name, e);
	}
}

/* Check the fields of j's form into errors. */
static void user_check(const struct user_job *j, const json_t *form, json_t *errors)
{
	struct err e = {0};
	if (j->op == UI_USERS_ADD && store_user_check_name(j->name, &e))
		ui_settings_set_error(errors, "name", without_field(e.msg));
	if ((j->op == UI_USERS_ADD || j->op == UI_USERS_ROLE) && store_user_check_role(j->role, &e))
		ui_settings_set_error(errors, "role", without_field(e.msg));
	if (j->op != UI_USERS_ADD && j->op != UI_USERS_PASSWORD)
		return;
	if (store_user_check_password(j->password, &e))
		ui_settings_set_error(errors, "password", without_field(e.msg));
	else if (strcmp(j->password, form_get(form, "confirm_password")))
		ui_settings_set_error(errors, "confirm_password", "The two passwords differ.");
}

void ui_users_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                   const struct auth_user *u, enum ui_users_op op)
{
	static const char *const done[] = {"user_added", "password_set", "role_set",
	                                   "user_deleted"};
	static const char *const verbs[] = {"added", "password set", "role changed", "deleted"};
	static const char *const refused_at[] = {"name", "password", "role", "delete"};
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	struct auth_user fresh = *u;
	const char *name = form_get(form, op == UI_USERS_ADD ? "name" : "user");
	int self = !strcmp(name, u->name);
	struct user_job j = {op, name, form_get(form, "role"), form_get(form, "password"),
	                     op == UI_USERS_PASSWORD && self ? &fresh : NULL};
	json_t *errors = json_object();
	user_check(&j, form, errors);
	struct err e = {0};
	int status = 400, rc = 0;
	if (!json_object_size(errors)) {
		if (!(rc = writer_submit(d->writer, apply_user, &j, &e))) {
			log_info("user '%s': %s by '%s'", name, verbs[op], u->name);
			if (op == UI_USERS_DELETE && self) {
				auth_cookie(req, res, NULL);
				ui_redirect(res, "/login");
			} else if (op == UI_USERS_ROLE && self && strcmp(j.role, "admin")) {
				ui_redirect(res, "/"); /* no longer allowed here */
			} else {
				if (j.renew)
					auth_cookie(req, res, fresh.token);
				ui_settings_redirect_done(res, "users", done[op]);
			}
			goto out;
		}
		/* input was checked: ERR_INVAL here is the last-admin rule, a conflict */
		status = rc == ERR_INVAL ? 409 : ui_settings_status_of(rc);
		if (rc == ERR_EXISTS || rc == ERR_INVAL)
			ui_settings_set_error(errors, refused_at[op], without_field(e.msg));
	}
	struct ui_settings_failed f = {op == UI_USERS_ADD ? NULL : name, errors, form,
	                               rc && !json_object_size(errors) ? e.msg : NULL, NULL};
	ui_settings_page(d, res, status, u, "users", NULL, &f);
out:
	json_decref(errors);
	json_decref(form);
}
