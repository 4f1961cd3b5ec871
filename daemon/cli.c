#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../store/merge.h"
#include "../store/ops.h"
#include "../store/payload.h"
#include "../store/repo.h"
#include "../store/stdbackup.h"
#include "backup.h"
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

/* Largest backup file `import --format std` reads. */
#define STD_IMPORT_MAX (256u << 20)

/* The git author of a CLI restore: --author, else $USER when it is a plain name. */
static const char *cli_author(const char *given)
{
	const char *u = given ? given : getenv("USER");
	size_t n = u ? strlen(u) : 0;
	if (!n || n > 64 ||
	    strspn(u, "abcdefghijklmnopqrstuvwxyz"
	              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return "portolan";
	return u;
}

static int apply_std(struct app *a, const struct store_std_backup *b, int scope, const char *author,
                     struct store_std_report *rep, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(a->db, 1, &t, e);
	if (rc)
		return rc;
	rc = store_ops_std_restore(t, b, scope, author, (int64_t)time(NULL), rep, e);
	if (rc)
		store_txn_abort(t);
	else
		rc = store_txn_commit(t, e);
	return rc;
}

/* portolan import --format std [--scope all|static] [--author NAME] FILE */
static int import_std(const char *config, const char *file, int scope, const char *author)
{
	struct buf data;
	buf_init(&data, STD_IMPORT_MAX);
	struct err e = {0};
	struct store_std_backup b;
	memset(&b, 0, sizeof(b));
	struct store_std_report rep;
	memset(&rep, 0, sizeof(rep));
	struct app a;
	memset(&a, 0, sizeof(a));
	int status = 1, commits = 0;
	if (fileio_read(file, &data, &e) || store_std_parse(&b, data.data, data.len, file, &e)) {
		fprintf(stderr, "import: %s\nimport: nothing imported\n", e.msg);
		goto out;
	}
	if (app_open(&a, config, &e) || apply_std(&a, &b, scope, author, &rep, &e) ||
	    store_mirror_drain(a.mirror, a.db, &commits, &e)) {
		fprintf(stderr, "import: %s\n", e.msg);
		goto out;
	}
	struct buf text;
	buf_init(&text, 0);
	store_std_report_text(&rep, &b, &text);
	fputs(text.data, stdout);
	printf("%d commit(s)\n", commits);
	buf_release(&text);
	status = 0;
out:
	app_close(&a);
	store_std_report_release(&rep);
	store_std_backup_release(&b);
	buf_release(&data);
	return status;
}

/* Take "--name VALUE" / "--name=VALUE" at argv[*i]; 1 when it was that option. */
static int take_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (!strcmp(argv[*i], name) && *i + 1 < argc) {
		*value = argv[++*i];
		return 1;
	}
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	return 0;
}

int cli_import(const char *config, int argc, char **argv)
{
	const char *format = "register", *scope_s = NULL, *author = NULL;
	int nargs = 0;
	for (int i = 0; i < argc; i++) {
		if (take_opt(argc, argv, &i, "--format", &format) ||
		    take_opt(argc, argv, &i, "--scope", &scope_s) ||
		    take_opt(argc, argv, &i, "--author", &author))
			continue;
		argv[nargs++] = argv[i];
	}
	argc = nargs;
	int std = !strcmp(format, "std"), scope = store_std_scope_parse(scope_s ? scope_s : "all");
	if ((!std && strcmp(format, "register")) || scope < 0 || (!std && (scope_s || author)) ||
	    argc < 1 || (std && argc != 1)) {
		fprintf(stderr, "usage: portolan import [--format register] FILE|DIR...\n"
		                "       portolan import --format std [--scope all|static] "
		                "[--author NAME] FILE\n");
		return 2;
	}
	if (std)
		return import_std(config, argv[0], scope, cli_author(author));
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

/* portolan export --format std: the inventory as an STD backup on stdout. */
static int export_std(struct app *a)
{
	struct buf out;
	buf_init(&out, 0);
	struct err e = {0};
	int rc = backup_export(a->db, &out, NULL, &e);
	if (rc)
		fprintf(stderr, "export: %s\n", e.msg);
	else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout))
		rc = 1, fprintf(stderr, "export: cannot write the backup to standard output\n");
	buf_release(&out);
	return rc ? 1 : 0;
}

int cli_export(const char *config, int argc, char **argv)
{
	const char *format = "json";
	for (int i = 0; i < argc; i++) {
		if (!take_opt(argc, argv, &i, "--format", &format) ||
		    (strcmp(format, "json") && strcmp(format, "std"))) {
			fprintf(stderr, "usage: portolan export [--format json|std]\n");
			return 2;
		}
	}
	struct app a;
	struct err e = {0};
	if (app_open(&a, config, &e)) {
		fprintf(stderr, "export: %s\n", e.msg);
		return 1;
	}
	if (!strcmp(format, "std")) {
		int rc = export_std(&a);
		app_close(&a);
		return rc;
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
