#include "site.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <pthread.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/icons.h"
#include "pages.h"
#include "theme.h"
#include "tmpl.h"
#include "../common/banned.h"

/* Pages and assets over this size get a .gz sibling. */
#define GZ_MIN_SIZE 1024
/*
 * Pages are built and compressed by this many threads: the work is bound
 * by copying bytes into files and deflate, which scale with cores.
 */
#define RENDER_THREADS 2
/* libdeflate level for .gz files: 6 is near its best ratio at a fraction of 9's time. */
#define GZ_LEVEL 6
/* Marks a bucket's slot in a rendered page: "\001<bucket index>\002". */
#define SLOT_OPEN  '\001'
#define SLOT_CLOSE '\002'

static const char *const view_item_template[RENDER_NVIEWS] = {"table-row", "tile", "compact-item"};

/* One service rendered for one view. */
struct frag {
	uint64_t id;
	uint64_t key; /* hash of the view model + template generation */
	char *raw;
	size_t rawlen;
	int used; /* reused by the build in progress */
};

/* A fragment cache for one view: sorted by id. */
struct frag_cache {
	struct frag **v;
	size_t n;
};

/* What was last written to a page, to skip it when nothing changed. */
struct page_state {
	int known; /* hash/size/mtime describe the file on disk */
	uint64_t hash;
	off_t size;
	struct timespec mtime;
	int gz_known; /* gz_size/gz_mtime describe the .gz on disk */
	off_t gz_size;
	struct timespec gz_mtime;
	int written; /* the last build changed its bytes (render_site_written) */
};

/* A page written whose .gz is still to be made (render_site_compress). */
struct pending_gz {
	int due;
	struct buf raw;
};

struct render_site {
	char *out_dir, *tmp_dir;
	char *templates_dir, *override_dir, *images_dir;
	struct render_theme theme;
	uint64_t generation; /* bumped on reload: every cached fragment is stale */
	struct frag_cache cache[RENDER_NVIEWS];
	struct page_state pages[RENDER_NPAGES];
	struct pending_gz pending[RENDER_NPAGES]; /* by page index */
	size_t npending;
	struct libdeflate_compressor *gz[RENDER_THREADS]; /* one per thread */
	json_t *icons_seen; /* icon file name -> true/false, for one build */
	struct render_stats *st;
	const char *written[RENDER_NPAGES]; /* the last build's changed pages, in page order */
	size_t nwritten;
};

/* --- gzip ------------------------------------------------------------------ */

/* gzip data into out (whole buffer: nginx gzip_static and the daemon serve it as is). */
static void gzip_buf(struct libdeflate_compressor *c, const void *data, size_t len, struct buf *out)
{
	size_t cap = libdeflate_gzip_compress_bound(c, len);
	buf_reset(out);
	char *p = xmalloc(cap);
	size_t n = libdeflate_gzip_compress(c, data, len, p, cap);
	buf_add(out, p, n);
	free(p);
}

/* --- files --------------------------------------------------------------- */

static int write_file(struct render_site *s, const char *rel, const void *data, size_t len,
                      int flags, int *changed, struct err *e)
{
	char *path = xasprintf("%s/%s", s->out_dir, rel);
	/* The site is derived data, re-rendered at every start: no fsync per file. */
	int rc = fileio_write_atomic_flags(path, s->tmp_dir, data, len, flags | FILEIO_NOSYNC,
	                                   changed, e);
	free(path);
	return rc;
}

static int is_compressible(const char *name)
{
	const char *dot = strrchr(name, '.');
	return !dot || !strcmp(dot, ".css") || !strcmp(dot, ".js") || !strcmp(dot, ".svg") ||
	       !strcmp(dot, ".html") || !strcmp(dot, ".txt") || !strcmp(dot, ".json");
}

/*
 * Write rel and, when large enough, rel.gz (whole-file deflate). A changed
 * file loses its old .gz first and a file too small for one loses it for
 * good: nginx's gzip_static does not compare mtimes.
 */
static int write_with_gz(struct render_site *s, const char *rel, const void *data, size_t len,
                         int *changed, struct err *e)
{
	char *path = xasprintf("%s/%s", s->out_dir, rel);
	char *gzrel = xasprintf("%s.gz", rel), *gzpath = xasprintf("%s.gz", path);
	int ch = !fileio_same_content(path, data, len), rc = 0;
	if (ch) {
		unlink(gzpath);
		rc = write_file(s, rel, data, len, FILEIO_NOCOMPARE, NULL, e);
	}
	if (!rc && !(len >= GZ_MIN_SIZE && is_compressible(rel))) {
		unlink(gzpath);
	} else if (!rc && (ch || !fileio_exists(gzpath))) {
		struct buf gz;
		buf_init(&gz, 0);
		gzip_buf(s->gz[0], data, len, &gz);
		rc = write_file(s, gzrel, gz.data, gz.len, FILEIO_NOCOMPARE, NULL, e);
		buf_release(&gz);
	}
	free(path);
	free(gzrel);
	free(gzpath);
	if (!rc && changed)
		*changed = ch;
	return rc;
}

/* --- service and group icons ---------------------------------------------- */

/* Copy images_dir/name to site/images/name when it changed. 1 = available, 0 = not. */
static int copy_icon(struct render_site *s, const char *name)
{
	char *src = xasprintf("%s/%s", s->images_dir, name);
	char *rel = xasprintf("images/%s", name);
	char *dst = xasprintf("%s/%s", s->out_dir, rel);
	struct stat ss, ds;
	int ok = 0;
	if (stat(src, &ss) || !S_ISREG(ss.st_mode) || ss.st_size > STORE_ICON_MAX_BYTES)
		goto out;
	ok = 1;
	if (!stat(dst, &ds) && ds.st_size == ss.st_size &&
	    (ds.st_mtim.tv_sec > ss.st_mtim.tv_sec ||
	     (ds.st_mtim.tv_sec == ss.st_mtim.tv_sec && ds.st_mtim.tv_nsec >= ss.st_mtim.tv_nsec)))
		goto out;
	struct buf b;
	buf_init(&b, STORE_ICON_MAX_BYTES + 1);
	int changed = 0;
	struct err e = {0};
	/* One bad icon is the operator's to fix; the pages still render, without it. */
	/*
	 * A file the operator dropped in gets the same scrutiny as a fetched one
	 * (whatever its extension's case); only .ico is taken as it is.
	 */
	size_t n = strlen(name);
	int ico = n > 4 && !strcasecmp(name + n - 4, ".ico");
	if (fileio_read(src, &b, &e) || (!ico && store_icon_check(b.data, b.len, NULL, &e)) ||
	    write_file(s, rel, b.data, b.len, 0, &changed, &e)) {
		log_warn("icon '%s': %s", name, e.msg);
		ok = 0;
	} else if (changed && s->st)
		s->st->assets_written++;
	buf_release(&b);
out:
	free(src);
	free(rel);
	free(dst);
	return ok;
}

/*
 * The icon file for an icon name, copied into the site: the name itself
 * when it has an image extension, else the first of
 * store_icon_bare_exts that exists (derived icons are bare names). NULL when there is none.
 * Borrowed: valid until the next build.
 */
static const char *icon_file(const char *name, void *arg)
{
	struct render_site *s = arg;
	if (!s->images_dir || !store_icon_name_ok(name))
		return NULL;
	json_t *seen = json_object_get(s->icons_seen, name);
	if (seen)
		return json_string_value(seen);
	const char *found = NULL;
	int bare = store_icon_name_bare(name);
	for (size_t i = 0; (bare ? store_icon_bare_exts[i] != NULL : i == 0) && !found; i++) {
		char *file = xasprintf("%s%s", name, bare ? store_icon_bare_exts[i] : "");
		if (copy_icon(s, file)) {
			json_object_set_new(s->icons_seen, name, json_string(file));
			found = json_string_value(json_object_get(s->icons_seen, name));
		}
		free(file);
	}
	if (!found)
		json_object_set_new(s->icons_seen, name, json_null());
	return found;
}

/* icon_file() for names already looked up this build; copies nothing (thread-safe). */
static const char *icon_file_known(const char *name, void *arg)
{
	struct render_site *s = arg;
	return json_string_value(json_object_get(s->icons_seen, name));
}

/* --- fragments ------------------------------------------------------------ */

static void frag_free(struct frag *f)
{
	if (!f)
		return;
	free(f->raw);
	free(f);
}

static int cmp_frag_id(const void *a, const void *b)
{
	const struct frag *x = *(struct frag *const *)a, *y = *(struct frag *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The cached fragment of id when its key still matches (marked used), else NULL. */
static struct frag *cache_find(struct frag_cache *c, uint64_t id, uint64_t key)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct frag *f = c->v[mid];
		if (f->id == id) {
			if (f->key != key)
				return NULL;
			f->used = 1;
			return f;
		}
		if (f->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Make fresh (n fragments, some reused from the cache) the cache; free the unused. */
static void cache_replace(struct frag_cache *c, struct frag **fresh, size_t n)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->v[i]->used)
			frag_free(c->v[i]);
	free(c->v);
	for (size_t i = 0; i < n; i++)
		fresh[i]->used = 0;
	qsort(fresh, n, sizeof(*fresh), cmp_frag_id);
	c->v = fresh;
	c->n = n;
}

static int render_frag(struct render_site *s, enum render_view view, const json_t *svc, uint64_t id,
                       uint64_t key, struct frag **out, struct err *e)
{
	struct buf b;
	buf_init(&b, 0);
	if (tmpl_render(s->theme.tmpl, view_item_template[view], svc, &b, e)) {
		buf_release(&b);
		return -1;
	}
	struct frag *f = xcalloc(1, sizeof(*f));
	f->id = id;
	f->key = key;
	f->raw = buf_detach(&b, &f->rawlen);
	*out = f;
	return 0;
}

/* --- pages ---------------------------------------------------------------- */

static const char *const view_labels[RENDER_NVIEWS] = {"Table", "Tiled", "Compact"};
static const char *const group_by_labels[RENDER_NGROUP_BY] = {"Group", "Stack", "Host"};

/* Links to the pages that differ from p in one control. */
static json_t *page_links(struct render_page p, int which)
{
	json_t *a = json_array();
	int n = which == 0 ? RENDER_NVIEWS : RENDER_NGROUP_BY;
	for (int i = 0; i < n; i++) {
		struct render_page q = p;
		if (which == 0)
			q.view = (enum render_view)i;
		else
			q.group_by = (enum render_group_by)i;
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:b}", "label",
		                 which == 0 ? view_labels[i] : group_by_labels[i], "href",
		                 render_page_file(q), "current",
		                 which == 0 ? p.view == q.view : p.group_by == q.group_by));
	}
	return a;
}

struct page_assets {
	char *css_href, *js_href;
	const char *sprite;
};

static json_t *page_context(struct render_site *s, struct render_page p,
                            const struct store_record *services, const struct render_bucket *b,
                            size_t nb, const struct render_env *env, const struct page_assets *pa)
{
	size_t count = 0;
	int multi_host = 0;
	const char *first_host = NULL;
	json_t *buckets = json_array();
	for (size_t i = 0; i < nb; i++) {
		char slot[32], id[32];
		snprintf(slot, sizeof(slot), "%c%zu%c", SLOT_OPEN, i, SLOT_CLOSE);
		snprintf(id, sizeof(id), "b-%zu", i);
		json_t *o = json_pack("{s:s, s:o, s:I, s:s}", "id", id, "label",
		                      render_model_text(b[i].label), "count", (json_int_t)b[i].n,
		                      "services_html", slot);
		const char *file =
		    b[i].icon && env->icon_file ? env->icon_file(b[i].icon, env->icon_arg) : NULL;
		if (file) {
			char *src = xasprintf("images/%s", file);
			json_object_set_new(o, "icon_src", json_string(src));
			free(src);
		}
		json_array_append_new(buckets, o);
		count += b[i].n;
		for (size_t k = 0; k < b[i].n && !multi_host; k++) {
			const char *h = services[b[i].items[k]].host;
			h = h ? h : "";
			if (!first_host)
				first_host = h;
			else if (strcmp(first_host, h))
				multi_host = 1;
		}
	}
	struct render_page other = p;
	other.show_urlless = !p.show_urlless;
	char count_label[48];
	snprintf(count_label, sizeof(count_label), "%zu service%s", count, count == 1 ? "" : "s");
	(void)s;
	return json_pack(
	    "{s:s, s:s, s:b, s:b, s:b, s:s, s:s, s:b, s:o, s:o, s:{s:s, s:s, s:b}, s:I, s:s, s:b, "
	    "s:b, s:o, s:s, s:s, s:s}",
	    "title", "portolan", "view", render_view_name(p.view), "is_table",
	    p.view == RENDER_VIEW_TABLE, "is_tiled", p.view == RENDER_VIEW_TILED, "is_compact",
	    p.view == RENDER_VIEW_COMPACT, "group_by", render_group_by_name(p.group_by),
	    "group_by_label", group_by_labels[p.group_by], "show_urlless", p.show_urlless, "views",
	    page_links(p, 0), "groupings", page_links(p, 1), "urlless", "href",
	    render_page_file(other), "label", p.show_urlless ? "Hide URL-less" : "Show URL-less",
	    "on", p.show_urlless, "count", (json_int_t)count, "count_label", count_label,
	    "multi_host", multi_host, "empty", count == 0, "buckets", buckets, "css_href",
	    pa->css_href, "js_href", pa->js_href, "sprite_html", pa->sprite);
}

static int same_stat(const char *path, off_t size, struct timespec mtime)
{
	struct stat st;
	return !stat(path, &st) && st.st_size == size && st.st_mtim.tv_sec == mtime.tv_sec &&
	       st.st_mtim.tv_nsec == mtime.tv_nsec;
}

/*
 * Split a rendered page at its bucket slots and call piece() for each
 * static span and each fragment, in order.
 */
struct piece_cb {
	void (*text)(void *arg, const char *p, size_t n);
	void (*frag)(void *arg, const struct frag *f);
	void *arg;
};

static void walk_page(const struct buf *page, const struct render_bucket *b, size_t nb,
                      struct frag *const *frags, const struct piece_cb *cb)
{
	const char *p = page->data, *end = page->data + page->len;
	while (p < end) {
		const char *open = memchr(p, SLOT_OPEN, (size_t)(end - p));
		if (!open) {
			cb->text(cb->arg, p, (size_t)(end - p));
			return;
		}
		/* Only an exact "\001<index>\002" is a slot; anything else is text. */
		const char *q = open + 1;
		size_t i = 0;
		while (q < end && *q >= '0' && *q <= '9' && q - open <= 9)
			i = i * 10 + (size_t)(*q++ - '0');
		if (q == open + 1 || q >= end || *q != SLOT_CLOSE || i >= nb) {
			cb->text(cb->arg, p, (size_t)(open + 1 - p));
			p = open + 1;
			continue;
		}
		cb->text(cb->arg, p, (size_t)(open - p));
		for (size_t k = 0; k < b[i].n; k++)
			cb->frag(cb->arg, frags[b[i].items[k]]);
		p = q + 1;
	}
}

static void hash_text(void *arg, const char *p, size_t n)
{
	uint64_t *h = arg;
	*h = render_hash(*h, p, n);
	*h = render_hash(*h, "", 1);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static void hash_frag(void *arg, const struct frag *f)
{
	uint64_t *h = arg;
	*h = mix(mix(*h, f->key), f->id);
}

static void asm_text(void *arg, const char *p, size_t n)
{
	buf_add(arg, p, n);
}

static void asm_frag(void *arg, const struct frag *f)
{
	buf_add(arg, f->raw, f->rawlen);
}

static int build_page(struct render_site *s, size_t idx, const struct store_record *services,
                      const struct render_order *order, struct frag *const *frags,
                      const struct render_env *env, const struct page_assets *pa,
                      struct render_stats *st, struct err *e)
{
	struct render_page p = render_page_nth(idx);
	struct render_bucket *b = NULL;
	size_t nb = 0;
	render_model_buckets(order, p, &b, &nb);
	json_t *ctx = page_context(s, p, services, b, nb, env, pa);
	struct buf page;
	buf_init(&page, 0);
	int rc =
	    ctx ? tmpl_render(s->theme.tmpl, "page", ctx, &page, e)
	        : err_set(e, ERR_INVAL, "cannot build the context of '%s' (icons.svg not UTF-8?)",
	                  render_page_file(p));
	json_decref(ctx);
	if (rc)
		goto out;

	uint64_t h = RENDER_HASH_SEED;
	struct piece_cb hcb = {hash_text, hash_frag, &h};
	walk_page(&page, b, nb, frags, &hcb);
	const char *rel = render_page_file(p);
	char *path = xasprintf("%s/%s", s->out_dir, rel);
	char *gzpath = xasprintf("%s.gz", path);
	struct page_state *ps = &s->pages[idx];
	int same = ps->known && ps->hash == h && same_stat(path, ps->size, ps->mtime);
	int need_gz = !ps->gz_known || !same_stat(gzpath, ps->gz_size, ps->gz_mtime);
	if (!same || need_gz) {
		struct buf raw;
		buf_init(&raw, 0);
		struct piece_cb acb = {asm_text, asm_frag, &raw};
		walk_page(&page, b, nb, frags, &acb);
		/* First build in this process: the file may already hold these bytes. */
		if (!same && !ps->known && fileio_same_content(path, raw.data, raw.len))
			same = 1;
		if (!same) {
			/* The old .gz goes first: a server never pairs a new page with a stale .gz.
			 */
			unlink(gzpath);
			ps->gz_known = 0;
			rc = write_file(s, rel, raw.data, raw.len, FILEIO_NOCOMPARE, NULL, e);
			st->pages_written++;
			ps->written = !rc;
			need_gz = 1;
		}
		struct stat st1, st2;
		ps->known = !rc && !stat(path, &st1);
		if (ps->known) {
			ps->hash = h;
			ps->size = st1.st_size;
			ps->mtime = st1.st_mtim;
		}
		/*
		 * An unchanged page from an earlier process: its .gz is current when it is
		 * not older than the page (a changed page loses its .gz before it is replaced).
		 */
		if (ps->known && same && need_gz && !stat(gzpath, &st2) && S_ISREG(st2.st_mode) &&
		    (st2.st_mtim.tv_sec > st1.st_mtim.tv_sec ||
		     (st2.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
		      st2.st_mtim.tv_nsec >= st1.st_mtim.tv_nsec))) {
			ps->gz_known = 1;
			ps->gz_size = st2.st_size;
			ps->gz_mtime = st2.st_mtim;
			need_gz = 0;
		}
		if (!rc && need_gz) {
			struct pending_gz *pg = &s->pending[idx];
			pg->due = 1;
			pg->raw = raw; /* moved */
		} else {
			buf_release(&raw);
		}
	}
	if (same)
		st->pages_unchanged++;
	free(path);
	free(gzpath);
out:
	buf_release(&page);
	render_buckets_free(b, nb);
	return rc;
}

/* --- build ---------------------------------------------------------------- */

/* Copy the assets into site/assets/ and work out their cache-busting hrefs. */
static int write_assets(struct render_site *s, struct page_assets *pa, struct err *e)
{
	for (size_t i = 0; i < s->theme.nassets; i++) {
		const struct render_theme_asset *a = &s->theme.assets[i];
		char *rel = xasprintf("assets/%s", a->name);
		int changed = 0;
		int rc = write_with_gz(s, rel, a->data.data, a->data.len, &changed, e);
		free(rel);
		if (rc)
			return rc;
		if (changed)
			s->st->assets_written++;
	}
	const struct render_theme_asset *css = render_theme_asset(&s->theme, "style.css");
	const struct render_theme_asset *js = render_theme_asset(&s->theme, "app.js");
	const struct render_theme_asset *sprite = render_theme_asset(&s->theme, "icons.svg");
	pa->css_href =
	    xasprintf("assets/style.css?v=%08llx",
	              css ? (unsigned long long)(render_hash(RENDER_HASH_SEED, css->data.data,
	                                                     css->data.len) &
	                                         0xffffffffULL)
	                  : 0ULL);
	pa->js_href = xasprintf(
	    "assets/app.js?v=%08llx",
	    js ? (unsigned long long)(render_hash(RENDER_HASH_SEED, js->data.data, js->data.len) &
	                              0xffffffffULL)
	       : 0ULL);
	pa->sprite = sprite ? sprite->data.data : "";
	/* The sprite is inlined (so <use href="#i-x"> works from file://): skip an XML prolog. */
	if (!strncmp(pa->sprite, "<?xml", 5)) {
		const char *end = strstr(pa->sprite, "?>");
		pa->sprite = end ? end + 2 : "";
		while (*pa->sprite == '\n' || *pa->sprite == '\r')
			pa->sprite++;
	}
	return 0;
}

/* One thread's share of the work: pages first, first + RENDER_THREADS, ... */
struct worker {
	struct render_site *s;
	int first;
	/* page building */
	const struct store_record *services;
	size_t n;
	const struct render_order *order;
	struct frag **const *frags;
	const struct render_env *env;
	const struct page_assets *pa;
	struct render_stats st;
	/* result */
	int rc;
	struct err e;
};

static void *compress_some(void *arg)
{
	struct worker *w = arg;
	struct render_site *s = w->s;
	struct buf gz;
	buf_init(&gz, 0);
	for (size_t i = (size_t)w->first; i < RENDER_NPAGES; i += RENDER_THREADS) {
		struct pending_gz *pg = &s->pending[i];
		if (!pg->due)
			continue;
		struct page_state *ps = &s->pages[i];
		const char *rel = render_page_file(render_page_nth(i));
		char *gzrel = xasprintf("%s.gz", rel),
		     *gzpath = xasprintf("%s/%s", s->out_dir, gzrel);
		gzip_buf(s->gz[w->first], pg->raw.data, pg->raw.len, &gz);
		struct stat st;
		if (!w->rc)
			w->rc =
			    write_file(s, gzrel, gz.data, gz.len, FILEIO_NOCOMPARE, NULL, &w->e);
		ps->gz_known = !w->rc && !stat(gzpath, &st);
		if (ps->gz_known) {
			ps->gz_size = st.st_size;
			ps->gz_mtime = st.st_mtim;
		}
		buf_release(&pg->raw);
		pg->due = 0;
		free(gzrel);
		free(gzpath);
	}
	buf_release(&gz);
	return NULL;
}

static void *build_some(void *arg)
{
	struct worker *w = arg;
	for (size_t i = (size_t)w->first; i < RENDER_NPAGES && !w->rc; i += RENDER_THREADS)
		w->rc = build_page(w->s, i, w->services, w->order,
		                   w->frags[render_page_nth(i).view], w->env, w->pa, &w->st, &w->e);
	return NULL;
}

/* Run fn over RENDER_THREADS workers (this thread is one); the first error wins. */
static int run_workers(struct worker *w, void *(*fn)(void *), struct err *e)
{
	pthread_t tid[RENDER_THREADS];
	int started[RENDER_THREADS] = {0};
	for (int t = 1; t < RENDER_THREADS; t++)
		started[t] = !pthread_create(&tid[t], NULL, fn, &w[t]);
	fn(&w[0]);
	for (int t = 1; t < RENDER_THREADS; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			fn(&w[t]); /* no thread: do its share here */
	}
	for (int t = 0; t < RENDER_THREADS; t++)
		if (w[t].rc)
			return err_set(e, w[t].e.code ? w[t].e.code : ERR_IO, "%s", w[t].e.msg);
	return 0;
}

int render_site_compress(struct render_site *s, struct err *e)
{
	struct worker w[RENDER_THREADS];
	memset(w, 0, sizeof(w));
	for (int t = 0; t < RENDER_THREADS; t++) {
		w[t].s = s;
		w[t].first = t;
	}
	int rc = run_workers(w, compress_some, e);
	s->npending = 0;
	return rc;
}

/* Services first, first + RENDER_THREADS, ...: fragments from the cache or rendered. */
static void *fragments_some(void *arg)
{
	struct worker *w = arg;
	struct render_site *s = w->s;
	for (size_t i = (size_t)w->first; i < w->n && !w->rc; i += RENDER_THREADS) {
		const struct store_record *r = &w->services[i];
		uint64_t key = render_model_key(r, w->env) ^ s->generation;
		json_t *svc = NULL; /* built only when a view needs a new fragment */
		for (int v = 0; v < RENDER_NVIEWS && !w->rc; v++) {
			struct frag *f = cache_find(&s->cache[v], r->id, key);
			if (f) {
				w->st.fragments_cached++;
			} else {
				if (!svc)
					svc = render_model_service(r, w->env);
				w->rc =
				    render_frag(s, (enum render_view)v, svc, r->id, key, &f, &w->e);
				w->st.fragments_rendered++;
			}
			w->frags[v][i] = f;
		}
		json_decref(svc);
	}
	return NULL;
}

/*
 * Every service's fragments, over RENDER_THREADS threads (service icons are
 * copied first, here). *made: services whose fragments are all there.
 */
static int build_fragments(struct render_site *s, const struct store_record *services, size_t n,
                           struct frag **const *frags, const struct render_env *env, size_t *made,
                           struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (services[i].image_icon && *services[i].image_icon)
			icon_file(services[i].image_icon, s);
	struct render_env readonly = *env;
	readonly.icon_file =
	    icon_file_known; /* the threads must not copy files or grow the cache */
	struct worker w[RENDER_THREADS];
	memset(w, 0, sizeof(w));
	for (int t = 0; t < RENDER_THREADS; t++)
		w[t] = (struct worker){.s = s,
		                       .first = t,
		                       .services = services,
		                       .n = n,
		                       .frags = frags,
		                       .env = &readonly};
	int rc = run_workers(w, fragments_some, e);
	for (int t = 0; t < RENDER_THREADS; t++) {
		s->st->fragments_cached += w[t].st.fragments_cached;
		s->st->fragments_rendered += w[t].st.fragments_rendered;
	}
	/* On an error, keep the fragments of the services that got all of theirs. */
	*made = n;
	for (size_t i = 0; rc && i < n; i++)
		for (int v = 0; v < RENDER_NVIEWS; v++)
			if (!frags[v][i] && *made == n)
				*made = i;
	return rc;
}

/* Every page, over RENDER_THREADS threads; group icons are copied first, here. */
static int build_pages(struct render_site *s, const struct store_record *services, size_t n,
                       const json_t *groups, struct frag **const *frags,
                       const struct render_env *env, const struct page_assets *pa, struct err *e)
{
	size_t i;
	json_t *g;
	json_array_foreach (groups, i, g) {
		const char *icon = json_string_value(json_object_get(g, "icon"));
		if (icon)
			icon_file(icon, s);
	}
	struct render_env readonly = *env;
	readonly.icon_file =
	    icon_file_known; /* the threads must not copy files or grow the cache */
	struct render_order *order = render_order_new(services, n, groups);
	struct worker w[RENDER_THREADS];
	memset(w, 0, sizeof(w));
	for (int t = 0; t < RENDER_THREADS; t++) {
		w[t] = (struct worker){.s = s,
		                       .first = t,
		                       .services = services,
		                       .order = order,
		                       .frags = frags,
		                       .env = &readonly,
		                       .pa = pa};
	}
	int rc = run_workers(w, build_some, e);
	for (int t = 0; t < RENDER_THREADS; t++) {
		s->st->pages_written += w[t].st.pages_written;
		s->st->pages_unchanged += w[t].st.pages_unchanged;
	}
	s->npending = 0;
	for (size_t p = 0; p < RENDER_NPAGES; p++) {
		s->npending += s->pending[p].due != 0;
		if (s->pages[p].written)
			s->written[s->nwritten++] = render_page_file(render_page_nth(p));
	}
	render_order_free(order);
	return rc;
}

int render_site_build(struct render_site *s, const struct store_record *services, size_t n,
                      const json_t *groups, const struct render_env *env_in,
                      struct render_stats *st, struct err *e)
{
	struct render_stats local;
	if (s->npending && render_site_compress(s, e))
		return -1;
	/* Someone may have removed the site (or its .tmp) under a running daemon. */
	if (fileio_mkdirs(s->tmp_dir, e))
		return -1;
	s->st = st ? st : &local;
	memset(s->st, 0, sizeof(*s->st));
	s->nwritten = 0;
	for (size_t p = 0; p < RENDER_NPAGES; p++)
		s->pages[p].written = 0;
	json_decref(s->icons_seen);
	s->icons_seen = json_object();
	struct render_env env = *env_in;
	env.icon_file = icon_file;
	env.icon_arg = s;
	struct page_assets pa = {0};
	struct frag **frags[RENDER_NVIEWS] = {0};
	size_t made = 0; /* services whose fragments are all in frags[] */
	int rc = write_assets(s, &pa, e);
	if (rc)
		goto out;
	for (int v = 0; v < RENDER_NVIEWS; v++)
		frags[v] = xcalloc(n ? n : 1, sizeof(struct frag *));
	rc = build_fragments(s, services, n, frags, &env, &made, e);
	if (!rc)
		rc = build_pages(s, services, n, groups, frags, &env, &pa, e);
out:
	for (int v = 0; v < RENDER_NVIEWS; v++) {
		if (!frags[v])
			continue;
		/* Keep what was rendered (even on error); drop the rest of a half-done service. */
		size_t keep = 0;
		for (size_t i = 0; i < n; i++) {
			if (frags[v][i] && i < made)
				frags[v][keep++] = frags[v][i];
			else if (frags[v][i] && frags[v][i]->used)
				frags[v][i]->used =
				    0; /* still the old cache's: cache_replace frees it */
			else if (frags[v][i])
				frag_free(frags[v][i]);
		}
		cache_replace(&s->cache[v], frags[v], keep);
	}
	free(pa.css_href);
	free(pa.js_href);
	s->st = NULL;
	return rc;
}

const char *const *render_site_written(const struct render_site *s, size_t *n)
{
	*n = s->nwritten;
	return s->written;
}

/* (Re)load the theme; the fragment cache is stale after a successful load. */
static int load_templates(struct render_site *s, struct err *e)
{
	static const char *const required[] = {"page", "table-row", "tile", "compact-item", NULL};
	if (render_theme_load(&s->theme, s->templates_dir, s->override_dir, required, e))
		return -1;
	s->generation++;
	return 0;
}

int render_site_new(struct render_site **out, const struct render_site_config *cfg, struct err *e)
{
	struct render_site *s = xcalloc(1, sizeof(*s));
	s->out_dir = xstrdup(cfg->out_dir);
	s->tmp_dir = xasprintf("%s/.tmp", cfg->out_dir);
	s->templates_dir = cfg->templates_dir ? xstrdup(cfg->templates_dir) : NULL;
	s->override_dir = cfg->override_dir ? xstrdup(cfg->override_dir) : NULL;
	s->images_dir = cfg->images_dir ? xstrdup(cfg->images_dir) : NULL;
	for (int t = 0; t < RENDER_THREADS; t++)
		s->gz[t] = libdeflate_alloc_compressor(GZ_LEVEL);
	if (!s->gz[0] || !s->gz[RENDER_THREADS - 1]) {
		for (int t = 0; t < RENDER_THREADS; t++)
			libdeflate_free_compressor(s->gz[t]);
		free(s->out_dir); /* render_site_free needs an initialised stream */
		free(s->tmp_dir);
		free(s->templates_dir);
		free(s->override_dir);
		free(s->images_dir);
		free(s);
		return err_set(e, ERR_IO, "cannot initialise libdeflate");
	}
	/* Temp files of a killed writer are swept here; .tmp is never served. */
	if (load_templates(s, e) || fileio_remove_tree(s->tmp_dir, e) ||
	    fileio_mkdirs(s->tmp_dir, e)) {
		render_site_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int render_site_reload(struct render_site *s, struct err *e)
{
	return load_templates(s, e);
}

void render_site_free(struct render_site *s)
{
	if (!s)
		return;
	for (int v = 0; v < RENDER_NVIEWS; v++) {
		for (size_t i = 0; i < s->cache[v].n; i++)
			frag_free(s->cache[v].v[i]);
		free(s->cache[v].v);
	}
	for (size_t i = 0; i < RENDER_NPAGES; i++)
		buf_release(&s->pending[i].raw);
	render_theme_release(&s->theme);
	for (int t = 0; t < RENDER_THREADS; t++)
		libdeflate_free_compressor(s->gz[t]);
	json_decref(s->icons_seen);
	free(s->out_dir);
	free(s->tmp_dir);
	free(s->templates_dir);
	free(s->override_dir);
	free(s->images_dir);
	free(s);
}
