#include "pages.h"

#include <string.h>
#include <strings.h>

#include "../common/banned.h"

static const char *const view_names[RENDER_NVIEWS] = {"table", "tiled", "compact"};
static const char *const group_by_names[RENDER_NGROUP_BY] = {"group", "stack", "host"};

/* File names, indexed like render_page_nth(): view, then grouping, then URL-less shown/hidden. */
static const char *const page_files[RENDER_NPAGES] = {
    "index.html",         "table-group-urls.html",
    "table-stack.html",   "table-stack-urls.html",
    "table-host.html",    "table-host-urls.html",
    "tiled-group.html",   "tiled-group-urls.html",
    "tiled-stack.html",   "tiled-stack-urls.html",
    "tiled-host.html",    "tiled-host-urls.html",
    "compact-group.html", "compact-group-urls.html",
    "compact-stack.html", "compact-stack-urls.html",
    "compact-host.html",  "compact-host-urls.html",
};

static size_t page_index(struct render_page p)
{
	return ((size_t)p.view * RENDER_NGROUP_BY + (size_t)p.group_by) * 2 +
	       (p.show_urlless ? 0 : 1);
}

struct render_page render_page_nth(size_t i)
{
	struct render_page p;
	p.show_urlless = i % 2 == 0;
	p.group_by = (enum render_group_by)(i / 2 % RENDER_NGROUP_BY);
	p.view = (enum render_view)(i / 2 / RENDER_NGROUP_BY);
	return p;
}

const char *render_page_file(struct render_page p)
{
	return page_files[page_index(p)];
}

const char *render_view_name(enum render_view v)
{
	return view_names[v];
}

const char *render_group_by_name(enum render_group_by g)
{
	return group_by_names[g];
}

int render_page_from_std(const char *path, const char *group_by, const char *show_urlless,
                         struct render_page *out)
{
	struct render_page p = {RENDER_VIEW_TABLE, RENDER_BY_GROUP, 1};
	if (!strcmp(path, "/") || !strcmp(path, "/index.html"))
		p.view = RENDER_VIEW_TABLE;
	else if (!strcmp(path, "/tiled_dash"))
		p.view = RENDER_VIEW_TILED;
	else if (!strcmp(path, "/compact_dash"))
		p.view = RENDER_VIEW_COMPACT;
	else
		return -1;
	for (int g = 0; group_by && g < RENDER_NGROUP_BY; g++)
		if (!strcasecmp(group_by, group_by_names[g]))
			p.group_by = (enum render_group_by)g;
	if (show_urlless) {
		static const char *const offs[] = {"false", "0", "no", "off"};
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
			if (!strcasecmp(show_urlless, offs[i]))
				p.show_urlless = 0;
	}
	*out = p;
	return 0;
}
