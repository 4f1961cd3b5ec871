/*
 * The static site generator. A struct render_site owns the compiled
 * templates, a cache of rendered service fragments (per view, keyed by a
 * hash of the service's view model, so a service that did not change is
 * not rendered again) and what it last wrote to each page. A build
 * renders every page of render/pages.h into out_dir, writing only files
 * whose bytes changed (atomic rename; mtimes and ETags of unchanged files
 * stay valid), each with a .gz sibling for nginx's gzip_static and the
 * daemon (see render_site_compress). Fragments, pages and .gz files are
 * made by two threads; the caller sees one call.
 *
 * Not thread-safe: one thread at a time builds (the daemon's render thread, or
 * `portolan render`).
 */
#ifndef RENDER_SITE_H
#define RENDER_SITE_H

#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"
#include "../store/record.h"
#include "model.h"

struct render_site_config {
	const char *out_dir;       /* where the site goes (created) */
	const char *templates_dir; /* NULL = the embedded site-templates/ */
	const char
	    *override_dir;      /* per-install overrides (<config>/templates), NULL or missing ok */
	const char *images_dir; /* service and group icons (<config>/images), NULL = none */
};

struct render_stats {
	size_t pages_written;   /* pages whose bytes changed */
	size_t pages_unchanged; /* pages left alone */
	size_t fragments_rendered;
	size_t fragments_cached;
	size_t assets_written; /* css/js/sprite/icons copied because they changed */
};

struct render_site;

/* Load the templates and prepare out_dir. ERR_IO / ERR_INVAL ("file:line: what"). */
int render_site_new(struct render_site **out, const struct render_site_config *cfg, struct err *e);
/* Re-read the templates (SIGHUP); on error the old ones stay and the error is returned. */
int render_site_reload(struct render_site *s, struct err *e);
/*
 * Render every page for services[0..n) with groups (JSON array of
 * {"name","icon","sort_priority"}, or NULL) under env. st (optional) gets
 * the counts. ERR_IO when a file cannot be written (the site then holds
 * the previous version of that file).
 */
int render_site_build(struct render_site *s, const struct store_record *services, size_t n,
                      const json_t *groups, const struct render_env *env, struct render_stats *st,
                      struct err *e);
/*
 * Write the .gz siblings of the pages the last build wrote. Split from the
 * build so fresh pages are visible first; until then the stale .gz of a
 * changed page is gone (removed before the page was replaced), so a
 * server falls back to the plain file and never serves old content.
 * render_site_build() calls it first if it is still due. ERR_IO.
 */
int render_site_compress(struct render_site *s, struct err *e);
/*
 * The pages the last render_site_build wrote (their bytes changed), as
 * paths relative to out_dir in page order; *n of them (after a failed
 * build, those it did write). Valid until the next build; the strings
 * are static.
 */
const char *const *render_site_written(const struct render_site *s, size_t *n);
/* Free everything. NULL is fine. */
void render_site_free(struct render_site *s);

#endif
