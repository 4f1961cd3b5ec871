#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../store/merge.h"
#include "../store/ops.h"
#include "../store/payload.h"
#include "../store/repo.h"
#include "app.h"
#include "settings.h"
#include "../common/banned.h"

/* Payloads per durable transaction during an import. */
#define IMPORT_TXN_BATCH 1000

struct import_item {
	struct store_payload p;
	size_t order; /* position in the input, for a stable sort */
};

struct import_set {
	struct import_item *v;
	size_t n, alloc;
	int invalid;
};

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Validate one payload; report problems as "file[index]: loc: msg". */
static void take_payload(struct import_set *set, const json_t *body, const char *file, long index)
{
	char where[600];
	if (index < 0)
		snprintf(where, sizeof(where), "%s", file);
	else
		snprintf(where, sizeof(where), "%s[%ld]", file, index);
	if (!json_is_object(body)) {
		fprintf(stderr, "%s: Request body must be a JSON object\n", where);
		set->invalid++;
		return;
	}
	struct store_verr v;
	store_verr_init(&v);
	struct store_payload p;
	if (store_payload_from_json(&p, body, &v)) {
		size_t i;
		json_t *d;
		json_array_foreach (v.details, i, d) {
			char *loc = store_loc_dotted(json_object_get(d, "loc"));
			fprintf(stderr, "%s: %s: %s\n", where, loc,
			        json_string_value(json_object_get(d, "msg")));
			free(loc);
		}
		set->invalid++;
	} else {
		if (set->n == set->alloc) {
			set->alloc = set->alloc ? 2 * set->alloc : 256;
			set->v = xrealloc(set->v, set->alloc * sizeof(*set->v));
		}
		set->v[set->n].p = p;
		set->v[set->n].order = set->n;
		set->n++;
	}
	store_verr_release(&v);
}

static void load_file(struct import_set *set, const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		fprintf(stderr, "%s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
		set->invalid++;
		return;
	}
	if (json_is_array(doc)) {
		size_t i;
		json_t *el;
		json_array_foreach (doc, i, el)
			take_payload(set, el, path, (long)i);
	} else {
		take_payload(set, doc, path, -1);
	}
	json_decref(doc);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load a file, or every *.json file of a directory in name order. */
static void load_path(struct import_set *set, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: no such file or directory\n", path);
		set->invalid++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		load_file(set, path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".json"))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s/%s", path, de->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		load_file(set, names[i]);
		free(names[i]);
	}
	free(names);
}

/* By host, then input order: one mirror commit per notifier, as a live feed would give. */
static int cmp_item(const void *a, const void *b)
{
	const struct import_item *x = a, *y = b;
	int c = strcmp(x->p.host, y->p.host);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int apply_all(struct app *a, struct import_set *set, int ownership, size_t counts[4],
                     struct err *e)
{
	int64_t now = (int64_t)time(NULL);
	int rc = 0;
	for (size_t start = 0; start < set->n && !rc; start += IMPORT_TXN_BATCH) {
		struct store_txn *t;
		rc = store_txn_begin(a->db, 1, &t, e);
		size_t end = start + IMPORT_TXN_BATCH < set->n ? start + IMPORT_TXN_BATCH : set->n;
		for (size_t i = start; i < end && !rc; i++) {
			int status;
			rc = store_ops_register(t, &set->v[i].p, ownership, now, NULL, &status, e);
			if (!rc)
				counts[status]++;
		}
		if (rc)
			store_txn_abort(t);
		else
			rc = store_txn_commit(t, e);
	}
	return rc;
}

int cli_import(const char *config, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: portolan import FILE|DIR...\n");
		return 2;
	}
	struct import_set set = {0};
	for (int i = 0; i < argc; i++)
		load_path(&set, argv[i]);
	int status = 1;
	struct app a;
	struct err e = {0};
	if (set.invalid) {
		fprintf(stderr, "import: %d invalid payload(s); nothing imported\n", set.invalid);
		goto out;
	}
	if (set.n)
		qsort(set.v, set.n, sizeof(*set.v), cmp_item);
	if (app_open(&a, config, &e)) {
		fprintf(stderr, "import: %s\n", e.msg);
		goto out;
	}
	size_t counts[4] = {0};
	int commits = 0;
	/* The same ownership rule the daemon applies (env > settings.yml > default). */
	struct settings *s = NULL;
	int ownership =
	    settings_read(&s, config, NULL, &e) ? STORE_USER_WINS : s->register_field_ownership;
	settings_free(s);
	if (apply_all(&a, &set, ownership, counts, &e) ||
	    store_mirror_drain(a.mirror, a.db, &commits, &e)) {
		fprintf(stderr, "import: %s\n", e.msg);
	} else {
		printf("imported %zu payloads: %zu created, %zu updated, %zu unchanged, %zu "
		       "skipped; %d commit(s)\n",
		       set.n, counts[STORE_MERGE_CREATED], counts[STORE_MERGE_UPDATED],
		       counts[STORE_MERGE_UNCHANGED], counts[STORE_MERGE_SKIPPED], commits);
		status = 0;
	}
	app_close(&a);
out:
	for (size_t i = 0; i < set.n; i++)
		store_payload_release(&set.v[i].p);
	free(set.v);
	return status;
}

static int export_one(const struct store_record *r, void *arg)
{
	json_array_append_new(arg, store_record_to_json(r, STORE_FIELD_INVENTORY));
	return 0;
}

int cli_export(const char *config, int argc, char **argv)
{
	(void)argv;
	if (argc) {
		fprintf(stderr, "usage: portolan export\n");
		return 2;
	}
	struct app a;
	struct err e = {0};
	if (app_open(&a, config, &e)) {
		fprintf(stderr, "export: %s\n", e.msg);
		return 1;
	}
	struct store_txn *t = NULL;
	json_t *list = json_array();
	int rc = store_txn_begin(a.db, 0, &t, &e);
	if (!rc)
		rc = store_db_foreach(t, export_one, list, &e);
	store_txn_abort(t);
	if (!rc) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		fprintf(stderr, "export: %s\n", e.msg);
	}
	json_decref(list);
	app_close(&a);
	return rc ? 1 : 0;
}

int cli_check(const char *config, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: portolan check [DIR]\n");
		return 2;
	}
	char *dir = argc ? xstrdup(argv[0]) : xasprintf("%s/inventory", config);
	struct store_repo repo;
	struct buf problems;
	buf_init(&problems, 0);
	struct err e = {0};
	int rc = store_repo_load(&repo, dir, &problems, &e);
	if (rc) {
		fputs(problems.data, stderr);
		fprintf(stderr, "check: %s\n", e.msg);
	} else {
		printf("%s: %zu services, all valid\n", dir, repo.n);
		store_repo_release(&repo);
	}
	buf_release(&problems);
	free(dir);
	return rc ? 1 : 0;
}

int cli_rebuild(const char *config, int argc, char **argv)
{
	(void)argv;
	if (argc) {
		fprintf(stderr, "usage: portolan rebuild\n");
		return 2;
	}
	struct app a;
	struct err e = {0};
	size_t n = 0;
	int rc = app_open(&a, config, &e);
	if (!rc)
		rc = app_rebuild(&a, &n, &e);
	if (rc)
		fprintf(stderr, "rebuild: %s\n", e.msg);
	else
		printf("rebuilt %zu services from '%s'\n", n, a.repo);
	app_close(&a);
	return rc ? 1 : 0;
}
