#include "theme.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "assets.h"
#include "../common/banned.h"

static void free_assets(struct render_theme_asset *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].name);
		buf_release(&a[i].data);
	}
	free(a);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* Read dir/name into b; 0, ERR_NOTFOUND, or another error. */
/* Read dir/name into b (bounded by TMPL_MAX_FILE); ERR_IO or ERR_TOOBIG naming the path. */
static int read_in(const char *dir, const char *name, struct buf *b, struct err *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct err fe = {0};
	buf_reset(b);
	int rc = fileio_read(path, b, &fe);
	if (rc)
		rc = err_set(e, rc == ERR_TOOBIG ? ERR_TOOBIG : ERR_IO, "%s", fe.msg);
	free(path);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

/*
 * The file names of dir, sorted (so the first error reported does not
 * depend on readdir()): every non-dot *.html entry (one that is not a file
 * then fails to read, naming itself) and the other regular files (assets).
 * *out NULL when dir is missing and optional; ERR_IO otherwise.
 */
static int list_dir(const char *dir, int optional, json_t **out, struct err *e)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d) {
		if (optional && errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "cannot open template directory '%s': %s", dir,
		               strerror(errno));
	}
	json_t *names = json_array();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (has_suffix(de->d_name, ".html") || (!stat(path, &st) && S_ISREG(st.st_mode)))
			json_array_append_new(names, json_string(de->d_name));
		free(path);
	}
	closedir(d);
	size_t n = json_array_size(names);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(names, i));
	qsort(v, n, sizeof(*v), cmp_name);
	json_array_clear(names);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(names, v[i]);
	free(v);
	*out = names;
	return 0;
}

/* Read every file of names from dir into files (name -> bytes), replacing what is there. */
static int read_all(const char *dir, const json_t *names, json_t *files, struct buf *b,
                    struct err *e)
{
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		int rc = read_in(dir, json_string_value(n), b, e);
		if (rc)
			return rc;
		json_object_set_new(files, json_string_value(n),
		                    json_stringn_nocheck(b->data, b->len));
	}
	return 0;
}

/*
 * Collect the file set: base (templates_dir or the embedded files), with
 * override_dir's files replacing or adding. Result: object name -> bytes.
 */
static int collect_files(const char *templates_dir, const char *override_dir, json_t **out,
                         struct err *e)
{
	json_t *files = json_object(), *base = NULL, *over = NULL;
	struct buf b;
	buf_init(&b, TMPL_MAX_FILE);
	int rc = 0;
	if (templates_dir) {
		if (!(rc = list_dir(templates_dir, 0, &base, e)))
			rc = read_all(templates_dir, base, files, &b, e);
	} else {
		for (size_t i = 0; i < render_nassets; i++)
			json_object_set_new(
			    files, render_assets[i].name,
			    json_stringn_nocheck((const char *)render_assets[i].data,
			                         render_assets[i].len));
	}
	if (!rc && override_dir && !(rc = list_dir(override_dir, 1, &over, e)))
		rc = read_all(override_dir, over, files, &b, e);
	buf_release(&b);
	json_decref(base);
	json_decref(over);
	if (rc)
		json_decref(files);
	else
		*out = files;
	return rc;
}

int render_theme_load(struct render_theme *t, const char *templates_dir, const char *override_dir,
                      const char *const *required, struct err *e)
{
	json_t *files = NULL;
	int rc = collect_files(templates_dir, override_dir, &files, e);
	if (rc)
		return rc;
	struct tmpl_set *set = tmpl_set_new();
	struct render_theme_asset *assets = xcalloc(json_object_size(files) + 1, sizeof(*assets));
	size_t nassets = 0;
	const char *name;
	json_t *v;
	json_object_foreach (files, name, v) {
		if (has_suffix(name, ".html")) {
			char *tname = xstrndup(name, strlen(name) - 5);
			rc = tmpl_set_add_string(set, tname, json_string_value(v),
			                         json_string_length(v), e);
			free(tname);
			if (rc)
				break;
		} else if (strcmp(name, "README.md")) {
			assets[nassets].name = xstrdup(name);
			buf_init(&assets[nassets].data, 0);
			buf_add(&assets[nassets].data, json_string_value(v), json_string_length(v));
			nassets++;
		}
	}
	json_decref(files);
	for (size_t i = 0; !rc && required && required[i]; i++)
		if (!tmpl_set_has(set, required[i]))
			rc = err_set(e, ERR_INVAL, "missing template '%s.html'", required[i]);
	if (!rc)
		rc = tmpl_set_finish(set, e);
	if (rc) {
		tmpl_set_free(set);
		free_assets(assets, nassets);
		return rc;
	}
	render_theme_release(t);
	t->tmpl = set;
	t->assets = assets;
	t->nassets = nassets;
	return 0;
}

void render_theme_release(struct render_theme *t)
{
	tmpl_set_free(t->tmpl);
	free_assets(t->assets, t->nassets);
	memset(t, 0, sizeof(*t));
}

const struct render_theme_asset *render_theme_asset(const struct render_theme *t, const char *name)
{
	for (size_t i = 0; i < t->nassets; i++)
		if (!strcmp(t->assets[i].name, name))
			return &t->assets[i];
	return NULL;
}

const struct render_asset *render_asset_find(const char *name)
{
	for (size_t i = 0; i < render_nassets; i++)
		if (!strcmp(render_assets[i].name, name))
			return &render_assets[i];
	return NULL;
}
