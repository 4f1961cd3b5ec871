/*
 * A theme: the compiled templates and the asset files (CSS, JS, sprite,
 * licence) of the site. The base is site-templates/ as embedded into the
 * binary (render/assets.h), or a directory; files of an override
 * directory (<config>/templates) with the same name replace base files
 * and new names are added. *.html files are templates named without the
 * extension; everything else but README.md is an asset.
 */
#ifndef RENDER_THEME_H
#define RENDER_THEME_H

#include <stddef.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "tmpl.h"

struct render_theme_asset {
	char *name; /* file name, e.g. "style.css" */
	struct buf data;
};

struct render_theme {
	struct tmpl_set *tmpl;
	struct render_theme_asset *assets;
	size_t nassets;
};

/*
 * Load a theme into t (zeroed or loaded: replaced only on success).
 * templates_dir NULL = the embedded files; override_dir may be NULL or
 * missing; required (NULL-terminated, or NULL) names templates that must
 * exist. ERR_IO (a path that cannot be read), ERR_INVAL ("file.html:LINE:
 * what", or a missing required template).
 */
int render_theme_load(struct render_theme *t, const char *templates_dir, const char *override_dir,
                      const char *const *required, struct err *e);
/* Free what t holds and zero it. */
void render_theme_release(struct render_theme *t);
/* The asset called name, or NULL. */
const struct render_theme_asset *render_theme_asset(const struct render_theme *t, const char *name);

#endif
