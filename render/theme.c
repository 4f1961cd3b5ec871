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
static int read_in(const char *dir, const char *name, struct buf *b, struct err *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = fileio_read(path, b, e);
	free(path);
	return rc;
}

/* Names of the regular, non-dot files of dir (NULL when it does not exist). */
static json_t *list_dir(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return NULL;
	json_t *names = json_array();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (!stat(path, &st) && S_ISREG(st.st_mode))
			json_array_append_new(names, json_string(de->d_name));
		free(path);
	}
	closedir(d);
	return names;
}

/*
 * Collect the file set: base (templates_dir or the embedded files), with
 * override_dir's files replacing or adding. Result: object name -> bytes.
 */
static int collect_files(const char *templates_dir, const char *override_dir, json_t **out,
                         struct err *e)
{
	json_t *files = json_object();
	struct buf b;
	buf_init(&b, 4u << 20);
	int rc = 0;
	if (templates_dir) {
		json_t *names = list_dir(templates_dir);
		if (!names) {
			rc = err_set(e, ERR_IO, "cannot read templates '%s': %s", templates_dir,
			             strerror(errno));
			goto out;
		}
		size_t i;
		json_t *n;
		json_array_foreach (names, i, n) {
			buf_reset(&b);
			if ((rc = read_in(templates_dir, json_string_value(n), &b, e))) {
				json_decref(names);
				goto out;
			}
			json_object_set_new(files, json_string_value(n),
			                    json_stringn_nocheck(b.data, b.len));
		}
		json_decref(names);
	} else {
		for (size_t i = 0; i < render_nassets; i++)
			json_object_set_new(
			    files, render_assets[i].name,
			    json_stringn_nocheck((const char *)render_assets[i].data,
			                         render_assets[i].len));
	}
	json_t *over = list_dir(override_dir);
	size_t i;
	json_t *n;
	json_array_foreach (over, i, n) {
		buf_reset(&b);
		if ((rc = read_in(override_dir, json_string_value(n), &b, e))) {
			json_decref(over);
			goto out;
		}
		json_object_set_new(files, json_string_value(n),
		                    json_stringn_nocheck(b.data, b.len));
	}
	json_decref(over);
out:
	buf_release(&b);
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
	if (collect_files(templates_dir, override_dir, &files, e))
		return -1;
	struct tmpl_set *set = tmpl_set_new();
	struct render_theme_asset *assets = xcalloc(json_object_size(files) + 1, sizeof(*assets));
	size_t nassets = 0;
	const char *name;
	json_t *v;
	int rc = 0;
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
