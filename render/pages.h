/*
 * The site's page set and its file names: every view (table, tiled,
 * compact) x grouping (group, stack, host) x URL-less (shown, hidden) is
 * one file, so every state is bookmarkable and the site works from any
 * static server or file://. index.html is the default page (table by
 * group, URL-less shown) under the name every server opens first.
 */
#ifndef RENDER_PAGES_H
#define RENDER_PAGES_H

#include <stddef.h>

enum render_view { RENDER_VIEW_TABLE, RENDER_VIEW_TILED, RENDER_VIEW_COMPACT, RENDER_NVIEWS };
enum render_group_by { RENDER_BY_GROUP, RENDER_BY_STACK, RENDER_BY_HOST, RENDER_NGROUP_BY };

/* One page of the site. */
struct render_page {
	enum render_view view;
	enum render_group_by group_by;
	int show_urlless; /* 1 = services without any URL are listed */
};

/* Number of distinct pages (views x groupings x URL-less). */
#define RENDER_NPAGES (RENDER_NVIEWS * RENDER_NGROUP_BY * 2)

/* The i-th page, 0 <= i < RENDER_NPAGES (page 0 is the default). */
struct render_page render_page_nth(size_t i);

/*
 * The page's file name relative to the site root, e.g. "tiled-host.html",
 * "compact-stack-urls.html" (URL-less hidden); the default page is
 * "index.html". Static storage.
 */
const char *render_page_file(struct render_page p);

/* "table" / "tiled" / "compact"; "group" / "stack" / "host". */
const char *render_view_name(enum render_view v);
const char *render_group_by_name(enum render_group_by g);

/*
 * Map an STD URL onto a page: path "/", "/tiled_dash" or "/compact_dash"
 * with the raw query values group_by and show_urlless (NULL when absent).
 * Unknown values fall back to the defaults (group, shown); show_urlless is
 * off only for "false", "0", "no", "off" (any case). Returns -1 when the
 * path is not one of STD's dashboard paths.
 */
int render_page_from_std(const char *path, const char *group_by, const char *show_urlless,
                         struct render_page *out);

#endif
