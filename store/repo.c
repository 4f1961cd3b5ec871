#include "repo.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "history.h"
#include "merge.h"
#include "mirror.h"
#include "naming.h"
#include "yaml.h"
#include "../common/banned.h"

/* Largest YAML file we read: a service file is a few KiB. */
#define MAX_FILE (1 << 20)

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static void add_service(struct store_repo *r, struct store_record *rec, const char *rel)
{
	if ((r->n & (r->n - 1)) == 0) { /* grow at powers of two */
		size_t cap = r->n ? 2 * r->n : 1;
		r->services = xrealloc(r->services, cap * sizeof(*r->services));
		r->paths = xrealloc(r->paths, cap * sizeof(*r->paths));
	}
	r->services[r->n] = *rec;
	r->paths[r->n] = xstrdup(rel);
	r->n++;
}

/* Walk root/rel recursively, parsing every .yml file. */
static int scan_dir(struct store_repo *r, const char *root, const char *rel, struct buf *problems,
                    struct err *e)
{
	char *dir = xasprintf("%s/%s", root, rel);
	DIR *d = opendir(dir);
	if (!d) {
		free(dir);
		return 0; /* no services/ yet: an empty inventory */
	}
	struct dirent *de;
	struct buf content;
	buf_init(&content, MAX_FILE);
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *child = xasprintf("%s/%s", rel, de->d_name);
		char *full = xasprintf("%s/%s", root, child);
		struct stat st;
		if (!lstat(full, &st) && S_ISDIR(st.st_mode)) {
			rc = scan_dir(r, root, child, problems, e);
		} else if (S_ISREG(st.st_mode) && has_suffix(de->d_name, ".yml")) {
			struct err pe = {0};
			struct store_record rec;
			buf_reset(&content);
			if (fileio_read(full, &content, &pe) ||
			    store_yaml_parse_record(&rec, content.data, content.len, child, &pe))
				buf_addf(problems, "%s\n", pe.msg);
			else
				add_service(r, &rec, child);
		}
		free(child);
		free(full);
	}
	closedir(d);
	buf_release(&content);
	free(dir);
	return rc;
}

static int cmp_by_id(const void *a, const void *b)
{
	const struct store_record *x = *(struct store_record *const *)a;
	const struct store_record *y = *(struct store_record *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_by_identity(const void *a, const void *b)
{
	const struct store_record *x = *(struct store_record *const *)a;
	const struct store_record *y = *(struct store_record *const *)b;
	int c = strcmp(x->host, y->host);
	return c ? c : strcmp(x->container_name, y->container_name);
}

/* Report duplicate ids and identities (two files describing one service). */
static void check_duplicates(const struct store_repo *r, struct buf *problems)
{
	if (r->n < 2)
		return;
	const struct store_record **v = xmalloc(r->n * sizeof(*v));
	for (size_t i = 0; i < r->n; i++)
		v[i] = &r->services[i];
	qsort(v, r->n, sizeof(*v), cmp_by_id);
	for (size_t i = 1; i < r->n; i++)
		if (v[i]->id == v[i - 1]->id)
			buf_addf(problems, "%s:1:1: id %llu is also used by '%s'\n",
			         r->paths[v[i] - r->services], (unsigned long long)v[i]->id,
			         r->paths[v[i - 1] - r->services]);
	qsort(v, r->n, sizeof(*v), cmp_by_identity);
	for (size_t i = 1; i < r->n; i++)
		if (!cmp_by_identity(&v[i], &v[i - 1]))
			buf_addf(problems, "%s:1:1: service '%s/%s' is also described by '%s'\n",
			         r->paths[v[i] - r->services], v[i]->host, v[i]->container_name,
			         r->paths[v[i - 1] - r->services]);
	free(v);
}

/* Parse an optional top-level JSON-shaped file (groups.yml, exposure.yml). */
static json_t *load_json_file(const char *root, const char *rel, struct buf *problems)
{
	char *full = xasprintf("%s/%s", root, rel);
	struct buf content;
	buf_init(&content, MAX_FILE);
	json_t *v = NULL;
	struct err pe = {0};
	int rc = fileio_read(full, &content, &pe);
	if (rc && rc != ERR_NOTFOUND)
		buf_addf(problems, "%s\n", pe.msg);
	else if (!rc && store_yaml_parse_json(&v, content.data, content.len, rel, &pe))
		buf_addf(problems, "%s\n", pe.msg);
	buf_release(&content);
	free(full);
	return v;
}

static void check_groups(json_t *groups, struct buf *problems)
{
	size_t i;
	json_t *g;
	if (!json_is_array(groups)) {
		buf_addf(problems, "%s:1:1: expected a list of groups\n", STORE_GROUPS_FILE);
		return;
	}
	json_array_foreach (groups, i, g) {
		const json_t *prio = json_object_get(g, "sort_priority");
		const char *name = json_string_value(json_object_get(g, "name"));
		/* what store_group_put will take: a name LMDB can key (511 bytes at most) */
		if (!name || !*name || strlen(name) > STORE_MAX_NAME ||
		    (prio && !json_is_null(prio) && !json_is_integer(prio)))
			buf_addf(problems,
			         "%s:1:1: group %zu needs a name (1 to %d bytes) and an integer "
			         "sort_priority\n",
			         STORE_GROUPS_FILE, i + 1, STORE_MAX_NAME);
	}
}

/* The canonical exposure settings of raw (taken), or NULL with a problem noted. */
static json_t *check_exposure(json_t *raw, struct buf *problems)
{
	if (!raw)
		return NULL;
	struct store_verr v;
	store_verr_init(&v);
	json_t *canon = NULL;
	if (store_exposure_validate(raw, &canon, &v)) {
		char *d = json_dumps(v.details, JSON_COMPACT);
		buf_addf(problems, "%s:1:1: invalid exposure settings: %s\n", STORE_EXPOSURE_FILE,
		         d);
		free(d);
	}
	store_verr_release(&v);
	json_decref(raw);
	return canon;
}

static json_t *load_exposure(const char *root, struct buf *problems)
{
	return check_exposure(load_json_file(root, STORE_EXPOSURE_FILE, problems), problems);
}

int store_repo_load(struct store_repo *out, const char *dir, struct buf *problems, struct err *e)
{
	struct store_repo r;
	memset(&r, 0, sizeof(r));
	size_t before = problems->len;
	int rc = scan_dir(&r, dir, "services", problems, e);
	if (rc)
		goto fail;
	check_duplicates(&r, problems);
	r.groups = load_json_file(dir, STORE_GROUPS_FILE, problems);
	if (r.groups)
		check_groups(r.groups, problems);
	r.exposure = load_exposure(dir, problems);
	if (problems->len > before) {
		rc = err_set(e, ERR_INVAL, "inventory '%s' has invalid files", dir);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	store_repo_release(&r);
	return rc;
}

struct commit_load {
	struct store_repo *r;
	struct buf *problems;
};

static int load_file(const char *path, const char *data, size_t len, void *arg)
{
	struct commit_load *c = arg;
	struct err pe = {0};
	json_t *v = NULL;
	if (!strcmp(path, STORE_GROUPS_FILE) || !strcmp(path, STORE_EXPOSURE_FILE)) {
		if (store_yaml_parse_json(&v, data, len, path, &pe)) {
			buf_addf(c->problems, "%s\n", pe.msg);
		} else if (!strcmp(path, STORE_GROUPS_FILE)) {
			c->r->groups = v;
			check_groups(v, c->problems);
		} else {
			c->r->exposure = check_exposure(v, c->problems);
		}
	} else if (has_suffix(path, ".yml")) {
		struct store_record rec;
		if (store_yaml_parse_record(&rec, data, len, path, &pe))
			buf_addf(c->problems, "%s\n", pe.msg);
		else
			add_service(c->r, &rec, path);
	}
	return 0;
}

int store_repo_load_commit(struct store_repo *out, const char *repo_dir, const char *commit_hex,
                           struct buf *problems, struct err *e)
{
	struct store_repo r;
	memset(&r, 0, sizeof(r));
	size_t before = problems->len;
	struct commit_load c = {&r, problems};
	int rc = store_history_walk(repo_dir, commit_hex, load_file, &c, e);
	if (rc)
		goto fail;
	check_duplicates(&r, problems);
	if (problems->len > before) {
		rc = err_set(e, ERR_INVAL, "commit %.12s of '%s' has invalid files", commit_hex,
		             repo_dir);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	store_repo_release(&r);
	return rc;
}

void store_repo_release(struct store_repo *r)
{
	for (size_t i = 0; i < r->n; i++) {
		store_record_release(&r->services[i]);
		free(r->paths[i]);
	}
	free(r->services);
	free(r->paths);
	json_decref(r->groups);
	json_decref(r->exposure);
	memset(r, 0, sizeof(*r));
}

/* Carry over what LMDB knows live about a service that keeps its id. */
static void keep_live_fields(struct store_txn *t, struct store_record *rec)
{
	struct store_record old;
	if (store_db_get(t, rec->id, &old, NULL))
		return;
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (!(f->kind & STORE_FIELD_LIVE))
			continue;
		/* Swap raw field bytes: both records own their strings. */
		char tmp[sizeof(int64_t)];
		size_t size = f->type == STORE_FT_TIME ? sizeof(int64_t) : sizeof(char *);
		memcpy(tmp, (char *)rec + f->offset, size);
		memcpy((char *)rec + f->offset, (char *)&old + f->offset, size);
		memcpy((char *)&old + f->offset, tmp, size);
	}
	store_record_release(&old);
}

static int journal_move(struct store_txn *t, const struct store_record *rec, const char *from,
                        const char *to, struct err *e)
{
	char *msg =
	    xasprintf("rebuild %s/%s: move %s to %s", rec->host, rec->container_name, from, to);
	struct store_journal_entry en = {0};
	en.kind = STORE_CHANGE_IMPORT;
	en.flags = STORE_JOURNAL_INVENTORY;
	en.id = rec->id;
	en.path_before = (char *)from;
	en.author = (char *)"portolan";
	en.message = msg;
	int rc = store_journal_append(t, &en, e);
	free(msg);
	return rc;
}

static int put_services(struct store_txn *t, const struct store_repo *repo, struct err *e)
{
	struct store_record *copies = xcalloc(repo->n ? repo->n : 1, sizeof(*copies));
	int rc = 0;
	for (size_t i = 0; i < repo->n; i++) {
		store_record_copy(&copies[i], &repo->services[i]);
		keep_live_fields(t, &copies[i]);
	}
	rc = store_db_clear_inventory(t, e);
	for (size_t i = 0; i < repo->n && !rc; i++) {
		rc = store_db_put(t, &copies[i], e);
		if (!rc)
			rc = store_db_reserve_id(t, copies[i].id, e);
		char *canonical =
		    store_naming_service_path(copies[i].host, copies[i].container_name);
		if (!rc && strcmp(canonical, repo->paths[i]))
			rc = journal_move(t, &copies[i], repo->paths[i], canonical, e);
		free(canonical);
	}
	for (size_t i = 0; i < repo->n; i++)
		store_record_release(&copies[i]);
	free(copies);
	return rc;
}

int store_repo_rebuild(struct store_db *db, const struct store_repo *repo, const char *head,
                       struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 1, &t, e);
	if (rc)
		return rc;
	/* The repo is the source here: nothing before this point needs mirroring. */
	rc = store_cursor_set(t, STORE_MIRROR_CURSOR, store_journal_last(t), e);
	if (!rc)
		rc = put_services(t, repo, e);
	size_t i;
	json_t *g;
	json_array_foreach (repo->groups, i, g) {
		if (!rc)
			rc = store_group_put(t, g, e);
	}
	if (!rc && repo->exposure)
		rc = store_setting_put(t, "exposure", repo->exposure, e);
	if (!rc && head)
		rc = store_meta_put(t, "mirror_head", head, e);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t, e);
}
