#include "sitegen.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/site.h"
#include "../store/health.h"
#include "../store/repo.h"
#include "serve.h"
#include "../store/widgetvals.h"
#include "widgetdef.h"
#include "../common/banned.h"

/* Quiet time after a change before rendering: gathers a burst into one render. */
#define RENDER_DEBOUNCE_MS 250
/* Re-render this often even without changes: ages and staleness are relative to now. */
#define RENDER_PERIOD_S 60

struct sitegen {
	struct daemon *d;
	char *dir;
	struct render_site *site;
	sitegen_done_fn done;
	void *done_arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int dirty, reload, stop;
	unsigned long long renders;
	double seconds;
	double last_seconds; /* the last render's duration: stretches the debounce under load */
};

/* One service URL's latest health check, for the pages. */
struct snap_health {
	int known;
	char *url; /* the URL it was made for */
	struct render_url_health h;
};

static int cmp_record_id(const void *key, const void *elem);

/* One service's widget fields for the pages (render_env.widget_values). */
struct snap_widget {
	struct render_widget_value *v;
	size_t n;
};

/* Everything a render reads from the store, copied out of one read txn. */
struct snapshot {
	struct store_record *v; /* in id order (store_db_foreach) */
	struct snap_health (*health)[2];
	struct snap_widget *widgets; /* per record, n = 0 without a widget */
	json_t *keep;                /* owns the strings widgets point into */
	double **spark;              /* owns the sparkline values widgets point into */
	size_t nspark;
	size_t n, cap;
	json_t *groups;
	uint64_t seq;
};

/* Kept values per sparkline: a week of samples thinned to this many points. */
#define SPARK_POINTS 48
#define SPARK_SPAN_S (7 * 86400)

/* A string that lives as long as the snapshot. */
static const char *keep_str(struct snapshot *s, const char *text)
{
	json_t *j = json_string(text ? text : "");
	json_array_append_new(s->keep, j);
	return json_string_value(j);
}

static int64_t iso_time(const json_t *v)
{
	int64_t t = 0;
	if (json_is_string(v))
		store_time_parse(json_string_value(v), &t);
	return t;
}

/* The kept values of one field, thinned to SPARK_POINTS (malloc'd; *n points). */
static double *spark_values(const json_t *series, size_t *n)
{
	size_t total = json_array_size(series);
	size_t k = total < SPARK_POINTS ? total : SPARK_POINTS;
	double *v = xmalloc((k ? k : 1) * sizeof(*v));
	/* evenly spread, the first and the newest always in */
	for (size_t i = 0; i < k; i++) {
		size_t at = k > 1 ? i * (total - 1) / (k - 1) : total - 1;
		v[i] = json_number_value(json_array_get(json_array_get(series, at), 1));
	}
	*n = k;
	return v;
}

/* The fields to show: the chosen ones, else all of the definition's. */
static void snap_widget(struct store_txn *t, const struct store_record *r, struct snapshot *s,
                        const struct widget_defs *defs, struct snap_widget *out)
{
	json_t *cfg = json_loads(r->widget, 0, NULL);
	const struct widget_def *def =
	    defs ? widget_defs_find(defs, json_string_value(json_object_get(cfg, "type"))) : NULL;
	json_t *state = NULL, *history = NULL;
	int64_t now = (int64_t)time(NULL);
	if (!def || store_widget_state(t, r->id, &state, NULL) ||
	    store_widget_history(t, r->id, NULL, now - SPARK_SPAN_S, &history, NULL))
		goto out;
	const json_t *chosen = json_object_get(cfg, "fields");
	int json_widget = def->configurable;
	size_t n = json_widget || !json_array_size(chosen)
	               ? (json_widget ? json_array_size(chosen) : def->nfields)
	               : json_array_size(chosen);
	out->v = xcalloc(n ? n : 1, sizeof(*out->v));
	for (size_t i = 0; i < n; i++) {
		const char *key = NULL, *label = NULL, *unit = NULL;
		if (json_widget) {
			const json_t *f = json_array_get(chosen, i);
			key = json_string_value(json_object_get(f, "key"));
			label = json_string_value(json_object_get(f, "label"));
			unit = json_string_value(json_object_get(f, "unit"));
		} else {
			const char *want = json_array_size(chosen)
			                       ? json_string_value(json_array_get(chosen, i))
			                       : NULL;
			for (size_t k = 0; k < def->nfields; k++)
				if (want ? !strcmp(def->fields[k].key, want) : k == i) {
					key = def->fields[k].key;
					label = def->fields[k].label;
					unit = def->fields[k].unit;
				}
		}
		if (!key)
			continue;
		struct render_widget_value *v = &out->v[out->n++];
		v->label = keep_str(s, label ? label : key);
		v->unit = keep_str(s, unit);
		const json_t *st = json_object_get(json_object_get(state, "fields"), key);
		const json_t *value = json_object_get(st, "value"),
		             *err = json_object_get(st, "error");
		if (json_is_number(value)) {
			v->has_value = 1;
			v->value = json_number_value(value);
			v->at = iso_time(json_object_get(st, "at"));
		}
		if (json_is_object(err)) {
			char *text =
			    xasprintf("%s: %s", json_string_value(json_object_get(err, "class")),
			              json_string_value(json_object_get(err, "message")));
			v->error = keep_str(s, text);
			free(text);
		}
		v->stale = json_is_true(json_object_get(st, "stale"));
		double *hist = spark_values(json_object_get(history, key), &v->nhistory);
		s->spark = xrealloc(s->spark, (s->nspark + 1) * sizeof(*s->spark));
		s->spark[s->nspark++] = hist;
		v->history = hist;
	}
out:
	json_decref(history);
	json_decref(state);
	json_decref(cfg);
}

/* render_env.widget_values over a snapshot. */
static size_t snap_widget_values(uint64_t id, const char *config,
                                 const struct render_widget_value **out, void *arg)
{
	(void)config;
	const struct snapshot *s = arg;
	const struct store_record *r = bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_record_id);
	if (!r || !s->widgets)
		return 0;
	*out = s->widgets[r - s->v].v;
	return s->widgets[r - s->v].n;
}

static int snap_add(const struct store_record *r, void *arg)
{
	struct snapshot *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	store_record_init(&s->v[s->n]);
	store_record_copy(&s->v[s->n++], r);
	return 0;
}

static void snap_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		store_record_release(&s->v[i]);
		if (s->health) {
			free(s->health[i][0].url);
			free(s->health[i][1].url);
		}
	}
	free(s->health);
	for (size_t i = 0; s->widgets && i < s->n; i++)
		free(s->widgets[i].v);
	free(s->widgets);
	for (size_t i = 0; i < s->nspark; i++)
		free(s->spark[i]);
	free(s->spark);
	json_decref(s->keep);
	free(s->v);
	json_decref(s->groups);
	memset(s, 0, sizeof(*s));
}

static void snap_health(struct store_txn *t, const struct store_record *r, int dir,
                        struct snap_health *out)
{
	struct store_health h = {0};
	struct err e = {0};
	if (store_health_get(t, r->id, dir, &h, &e))
		return; /* never checked (or unreadable: shown as no data) */
	out->known = 1;
	out->url = h.url ? xstrdup(h.url) : NULL;
	out->h.state = h.state == STORE_HEALTH_UP         ? RENDER_HEALTH_UP
	               : h.state == STORE_HEALTH_DEGRADED ? RENDER_HEALTH_DEGRADED
	                                                  : RENDER_HEALTH_DOWN;
	out->h.status = h.last.status;
	out->h.ms = h.last.ms;
	out->h.error = h.last.error;
	out->h.at = h.last.at;
	out->h.uptime = store_health_uptime(&h);
	if (h.state == STORE_HEALTH_UNKNOWN)
		out->known = 0;
	store_health_release(&h);
}

static int cmp_record_id(const void *key, const void *elem)
{
	uint64_t id = *(const uint64_t *)key, other = ((const struct store_record *)elem)->id;
	return id < other ? -1 : id > other;
}

/* render_env.url_health over a snapshot. */
static int snap_url_health(uint64_t id, int dir, const char *url, struct render_url_health *out,
                           void *arg)
{
	const struct snapshot *s = arg;
	const struct store_record *r = bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_record_id);
	if (!r)
		return -1;
	const struct snap_health *h = &s->health[r - s->v][dir];
	if (!h->known || !h->url || strcmp(h->url, url))
		return -1; /* checked under another URL: no data for this one yet */
	*out = h->h;
	return 0;
}

static int take_snapshot(struct store_db *db, const struct widget_defs *defs, struct snapshot *s,
                         struct err *e)
{
	struct store_txn *t;
	memset(s, 0, sizeof(*s));
	if (store_txn_begin(db, 0, &t, e))
		return -1;
	int rc = store_db_foreach(t, snap_add, s, e);
	s->health = xcalloc(s->n ? s->n : 1, sizeof(*s->health));
	s->widgets = xcalloc(s->n ? s->n : 1, sizeof(*s->widgets));
	s->keep = json_array();
	for (size_t i = 0; !rc && i < s->n; i++) {
		for (int dir = 0; dir < 2; dir++)
			snap_health(t, &s->v[i], dir, &s->health[i][dir]);
		if (s->v[i].widget)
			snap_widget(t, &s->v[i], s, defs, &s->widgets[i]);
	}
	s->groups = store_group_list(t);
	s->seq = store_journal_last(t);
	store_txn_abort(t);
	if (rc)
		snap_release(s);
	return rc;
}

static void render_once(struct sitegen *g)
{
	struct daemon *d = g->d;
	struct err e = {0};
	struct snapshot snap;
	double t0 = clock_mono_s();
	if (take_snapshot(d->app.db, widgets_defs(d->widgets), &snap, &e)) {
		log_error("render: %s", e.msg);
		return;
	}
	pthread_rwlock_rdlock(&d->settings_lock);
	char *dozzle = d->settings->dozzle_url ? xstrdup(d->settings->dozzle_url) : NULL;
	int stale_after = d->settings->stale_after;
	pthread_rwlock_unlock(&d->settings_lock);
	struct render_env env = {.now = (int64_t)time(NULL),
	                         .stale_after = stale_after,
	                         .dozzle_url = dozzle,
	                         .live_known = 1,
	                         .url_health = snap_url_health,
	                         .health_arg = &snap,
	                         .widget_values = snap_widget_values,
	                         .widget_arg = &snap};
	struct render_stats st;
	if (render_site_build(g->site, snap.v, snap.n, snap.groups, &env, &st, &e)) {
		log_error("render: %s", e.msg);
	} else {
		double dt = clock_mono_s() - t0;
		log_debug("render: %zu services, %zu pages written, %zu unchanged, %.1f ms", snap.n,
		          st.pages_written, st.pages_unchanged, dt * 1e3);
		pthread_mutex_lock(&g->lock);
		g->renders++;
		g->seconds += dt;
		g->last_seconds = dt;
		pthread_mutex_unlock(&g->lock);
		/* The pages are live; their .gz siblings follow. */
		if (render_site_compress(g->site, &e))
			log_error("render: %s", e.msg);
		/*
		 * Only now: a post-render hook that publishes the site must find
		 * every .gz in place (the compress of a few pages takes milliseconds).
		 */
		if (g->done) {
			size_t npages;
			const char *const *pages = render_site_written(g->site, &npages);
			g->done(g->done_arg, snap.seq, pages, npages);
		}
		/* The page buffers were megabytes: give them back rather than keep them resident.
		 */
		malloc_trim(0);
	}
	free(dozzle);
	snap_release(&snap);
}

static void *render_main(void *arg)
{
	struct sitegen *g = arg;
	/* Background work: the HTTP threads and the writer come first on a busy machine. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	render_once(g);
	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec until;
		clock_deadline_ms(&until, RENDER_PERIOD_S * 1000L);
		while (!g->dirty && !g->reload && !g->stop &&
		       pthread_cond_timedwait(&g->wake, &g->lock, &until) == 0)
			;
		if (g->stop)
			break;
		if (g->dirty) {
			/*
			 * Debounce: wait out the burst (a fixed window after the first change),
			 * and at least four times the last render (which runs on two threads),
			 * so that under a sustained storm of writes rendering takes at most
			 * about a third of a core.
			 */
			long wait_ms = (long)(g->last_seconds * 4000);
			clock_deadline_ms(
			    &until, wait_ms > RENDER_DEBOUNCE_MS ? wait_ms : RENDER_DEBOUNCE_MS);
			while (!g->stop && pthread_cond_timedwait(&g->wake, &g->lock, &until) == 0)
				;
		}
		int reload = g->reload;
		g->dirty = g->reload = 0;
		pthread_mutex_unlock(&g->lock);
		if (reload) {
			struct err e = {0};
			if (render_site_reload(g->site, &e))
				log_error("templates: %s; keeping the current ones", e.msg);
			else
				log_info("templates reloaded");
		}
		render_once(g);
		pthread_mutex_lock(&g->lock);
	}
	int pending = g->dirty;
	pthread_mutex_unlock(&g->lock);
	if (pending)
		render_once(g); /* the last writes before a clean stop */
	return NULL;
}

int sitegen_start(struct sitegen **out, struct daemon *d, sitegen_done_fn done, void *arg,
                  struct err *e)
{
	pthread_rwlock_rdlock(&d->settings_lock);
	char *site_dir = xstrdup(d->settings->site_dir);
	pthread_rwlock_unlock(&d->settings_lock);
	char *override = xasprintf("%s/templates", d->app.config);
	char *images = xasprintf("%s/images", d->app.config);
	struct render_site_config cfg = {site_dir, NULL, override, images};
	struct render_site *site = NULL;
	int rc = render_site_new(&site, &cfg, e);
	free(override);
	free(images);
	if (rc) {
		free(site_dir);
		return rc;
	}
	struct sitegen *g = xcalloc(1, sizeof(*g));
	g->d = d;
	g->dir = site_dir;
	g->site = site;
	g->done = done;
	g->done_arg = arg;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if ((rc = pthread_create(&g->thread, NULL, render_main, g))) {
		render_site_free(site);
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g->dir);
		free(g);
		return err_set(e, ERR_IO, "cannot start the render thread: %s", strerror(rc));
	}
	*out = g;
	return 0;
}

static void poke(struct sitegen *g, int *flag)
{
	pthread_mutex_lock(&g->lock);
	*flag = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
}

void sitegen_wake(struct sitegen *g)
{
	if (g)
		poke(g, &g->dirty);
}

void sitegen_reload(struct sitegen *g)
{
	if (g)
		poke(g, &g->reload);
}

void sitegen_stop(struct sitegen *g)
{
	if (!g)
		return;
	poke(g, &g->stop);
	pthread_join(g->thread, NULL);
	render_site_free(g->site);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g->dir);
	free(g);
}

const char *sitegen_dir(const struct sitegen *g)
{
	return g->dir;
}

void sitegen_stats(struct sitegen *g, unsigned long long *renders, double *seconds)
{
	*renders = 0;
	*seconds = 0;
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	*renders = g->renders;
	*seconds = g->seconds;
	pthread_mutex_unlock(&g->lock);
}

/* --- portolan render ------------------------------------------------------ */

struct render_opts {
	const char *repo, *out, *templates, *images;
};

static int parse_render_opts(int argc, char **argv, struct render_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char **slot = !strcmp(argv[i], "--repo")        ? &o->repo
		                    : !strcmp(argv[i], "--out")       ? &o->out
		                    : !strcmp(argv[i], "--templates") ? &o->templates
		                    : !strcmp(argv[i], "--images")    ? &o->images
		                                                      : NULL;
		if (!slot) {
			fprintf(stderr, "render: unknown option '%s'\n", argv[i]);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "render: %s needs a value\n", argv[i]);
			return -1;
		}
		*slot = argv[++i];
	}
	return 0;
}

/* SOURCE_DATE_EPOCH (reproducible builds) pins "now"; else the clock. */
static int render_now(int64_t *now)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*now = (int64_t)time(NULL);
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 0) {
		fprintf(stderr, "render: SOURCE_DATE_EPOCH: not a number of seconds: '%s'\n", s);
		return -1;
	}
	*now = v;
	return 0;
}

/* SITE_DIR as the daemon would use it, else <config>/site. */
static char *default_site_dir(const char *config)
{
	struct settings *st = NULL;
	struct err e = {0};
	if (settings_read(&st, config, NULL, &e))
		return xasprintf("%s/site", config);
	char *dir = xstrdup(st->site_dir);
	settings_free(st);
	return dir;
}

int sitegen_cmd_render(const char *config, int argc, char **argv)
{
	struct render_opts o = {0};
	if (parse_render_opts(argc, argv, &o))
		return 2;
	char *repo = o.repo ? xstrdup(o.repo) : xasprintf("%s/inventory", config);
	char *out = o.out ? xstrdup(o.out) : default_site_dir(config);
	/* Like the daemon: <config>/templates overrides unless --templates names another dir. */
	char *override = o.templates ? xstrdup(o.templates) : xasprintf("%s/templates", config);
	char *images = o.images ? xstrdup(o.images) : xasprintf("%s/images", config);
	struct store_repo r = {0};
	struct buf problems;
	buf_init(&problems, 0);
	struct err e = {0};
	struct render_site *site = NULL;
	int status = 1;
	int64_t now;
	if (render_now(&now))
		goto out;
	if (store_repo_load(&r, repo, &problems, &e)) {
		if (problems.len)
			fputs(problems.data, stderr);
		fprintf(stderr, "render: %s\n", e.msg);
		goto out;
	}
	struct render_site_config cfg = {out, NULL, override, images};
	if (render_site_new(&site, &cfg, &e)) {
		fprintf(stderr, "render: %s\n", e.msg);
		goto out;
	}
	struct render_env env = {.now = now, .stale_after = 300, .live_known = 0};
	struct render_stats st;
	if (render_site_build(site, r.services, r.n, r.groups, &env, &st, &e) ||
	    render_site_compress(site, &e)) {
		fprintf(stderr, "render: %s\n", e.msg);
		goto out;
	}
	printf("rendered %zu service%s into %s: %zu page%s written, %zu unchanged\n", r.n,
	       r.n == 1 ? "" : "s", out, st.pages_written, st.pages_written == 1 ? "" : "s",
	       st.pages_unchanged);
	status = 0;
out:
	render_site_free(site);
	store_repo_release(&r);
	buf_release(&problems);
	free(repo);
	free(out);
	free(override);
	free(images);
	return status;
}
