/*
 * The default site templates and assets (site-templates/), embedded into
 * the binary at build time by render/embed-assets.sh, so the daemon and
 * `portolan render` need no source tree. Files in <config>/templates/
 * with the same name override them.
 */
#ifndef RENDER_ASSETS_H
#define RENDER_ASSETS_H

#include <stddef.h>

struct render_asset {
	const char *name; /* file name, e.g. "tile.html", "style.css" */
	const unsigned char *data;
	size_t len; /* data[len] is a NUL, not counted */
};

/* Sorted by name. */
extern const struct render_asset render_assets[];
extern const size_t render_nassets;

/* The embedded asset called name, or NULL. */
const struct render_asset *render_asset_find(const char *name);

#endif
