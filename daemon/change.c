#include "change.h"

#include <string.h>
#include <time.h>

#include "../store/ops.h"
#include "serve.h"
#include "../common/banned.h"

struct change_job {
	enum change_kind kind;
	uint64_t id;
	const char *author;
	struct store_edit ed;
	struct store_record rec;
};

static int apply(struct store_txn *t, void *ctx, struct err *e)
{
	struct change_job *j = ctx;
	int64_t now = (int64_t)time(NULL);
	switch (j->kind) {
	case CHANGE_ADD:
		return store_ops_add(t, &j->ed, j->author, now, &j->rec, e);
	case CHANGE_EDIT:
		return store_ops_edit(t, j->id, &j->ed, j->author, now, &j->rec, e);
	default:
		return store_ops_delete(t, j->id, j->author, e);
	}
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
		if (store_verr_any(v)) {
			rc = err_set(e, ERR_INVAL, "invalid service");
			goto out;
		}
	}
	if ((rc = writer_submit(d->writer, apply, &j, e)))
		goto out;
	health_wake(d->health);
	icons_wake(d->icons);
	if (out) {
		*out = j.rec;
		store_record_init(&j.rec);
	}
out:
	store_edit_release(&j.ed);
	store_record_release(&j.rec);
	return rc;
}
