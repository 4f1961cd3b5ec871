/*
 * Themes (render/theme.h) loaded from directories: a base dir and an
 * override dir, templates and assets, and every way loading can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../render/theme.h"
#include "../../common/banned.h"

struct fx {
	char tmp[64];
	char *base, *over;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-theme.XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	f->base = xasprintf("%s/base", f->tmp);
	f->over = xasprintf("%s/over", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fileio_remove_tree(f->tmp, NULL);
	free(f->base);
	free(f->over);
	free(f);
	return 0;
}

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct err e = {0};
	if (fileio_write_atomic(path, text, strlen(text), NULL, &e))
		fail_msg("%s", e.msg);
	free(path);
}

static void render_expect(struct tmpl_set *s, const char *name, const char *want)
{
	struct buf out;
	struct err e = {0};
	buf_init(&out, 0);
	if (tmpl_render(s, name, NULL, &out, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void override_dir_replaces_and_adds(void **state)
{
	struct fx *f = *state;
	struct render_theme t = {0};
	struct err e = {0};
	put(f->base, "page.html", "B[{{> part}}]");
	put(f->base, "part.html", "base-part");
	put(f->base, "only.html", "only-base");
	put(f->base, ".hidden.html", "{{broken");
	put(f->base, "notes.txt", "{{broken");
	put(f->over, "part.html", "over-part{{> extra}}");
	put(f->over, "extra.html", "+extra");

	assert_int_equal(render_theme_load(&t, f->base, f->over, NULL, &e), 0);
	render_expect(t.tmpl, "page", "B[over-part+extra]");
	render_expect(t.tmpl, "only", "only-base");
	assert_int_equal(tmpl_set_has(t.tmpl, "extra"), 1);
	assert_int_equal(tmpl_set_has(t.tmpl, ".hidden"), 0);
	assert_int_equal(tmpl_set_has(t.tmpl, "notes.txt"), 0);
	/* everything that is not a template is an asset */
	assert_non_null(render_theme_asset(&t, "notes.txt"));
	assert_null(render_theme_asset(&t, ".hidden.html"));
	render_theme_release(&t);

	/* No override, or one that does not exist. */
	assert_int_equal(render_theme_load(&t, f->base, NULL, NULL, &e), 0);
	render_expect(t.tmpl, "page", "B[base-part]");
	render_theme_release(&t);
	char *missing = xasprintf("%s/nope", f->tmp);
	assert_int_equal(render_theme_load(&t, f->base, missing, NULL, &e), 0);
	render_expect(t.tmpl, "page", "B[base-part]");
	render_theme_release(&t);
	free(missing);
}

static void load_errors(void **state)
{
	struct fx *f = *state;
	struct render_theme t = {0};
	struct err e = {0};
	char *dir;

	/* Base directory missing. */
	assert_int_equal(render_theme_load(&t, f->base, NULL, NULL, &e), ERR_IO);
	assert_non_null(strstr(e.msg, f->base));

	/* A file that cannot be read (a directory named *.html). */
	put(f->base, "page.html", "ok");
	dir = xasprintf("%s/broken.html", f->base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(render_theme_load(&t, f->base, NULL, NULL, &e), ERR_IO);
	assert_non_null(strstr(e.msg, dir));
	assert_int_equal(rmdir(dir), 0);
	free(dir);

	/* A parse error names the file, in the override too. */
	put(f->base, "tile.html", "<div>\n{{#urls}}\n</div>\n");
	assert_int_equal(render_theme_load(&t, f->base, NULL, NULL, &e), ERR_INVAL);
	assert_string_equal(e.msg, "tile.html:2: unclosed section 'urls'");
	/* The override's tile.html wins: the broken base file is not even parsed. */
	put(f->over, "tile.html", "{{#urls}}{{/urls}}");
	put(f->over, "zz.html", "\n{{{x}}}");
	assert_int_equal(render_theme_load(&t, f->base, f->over, NULL, &e), ERR_INVAL);
	assert_string_equal(e.msg, "zz.html:2: raw output of 'x' needs a name ending in _html");

	/* A missing partial, checked once the whole set is there. */
	put(f->over, "zz.html", "{{> zzz}}");
	assert_int_equal(render_theme_load(&t, f->base, f->over, NULL, &e), ERR_INVAL);
	assert_string_equal(e.msg, "zz.html:1: unknown partial 'zzz'");
	put(f->over, "zzz.html", "");
	assert_int_equal(render_theme_load(&t, f->base, f->over, NULL, &e), 0);
	assert_non_null(t.tmpl);
	render_theme_release(&t);

	/* The override path is a file, not a directory. */
	dir = xasprintf("%s/page.html", f->base);
	assert_int_equal(render_theme_load(&t, f->base, dir, NULL, &e), ERR_IO);
	assert_null(t.tmpl); /* a failed load leaves the theme as it was */
	free(dir);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TF(override_dir_replaces_and_adds),
	    TF(load_errors),
	};
	return cmocka_run_group_tests_name("render_theme", tests, NULL, NULL);
}
