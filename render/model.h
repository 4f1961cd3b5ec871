/*
 * The view model: turns store records into the JSON contexts the
 * templates get (render/MODEL.md is the contract), and orders services
 * into the buckets of a page (spec/views.md: sort and grouping rules).
 * Pure functions of their inputs: the same records, groups and
 * struct render_env always give the same JSON, which is what makes
 * fragment caching and golden pages possible.
 */
#ifndef RENDER_MODEL_H
#define RENDER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../store/record.h"
#include "pages.h"

/* The latest health check of one service URL (what the store keeps, as the pages need it). */
enum render_health_state { RENDER_HEALTH_UP = 1, RENDER_HEALTH_DEGRADED, RENDER_HEALTH_DOWN };
struct render_url_health {
	int state;     /* enum render_health_state (same numbers as the store's) */
	int status;    /* HTTP status, 0 when none */
	int ms;        /* response time */
	int error;     /* 0, or the store's error class: 1 dns, 2 refused, 3 timeout, 4 tls, ... */
	int64_t at;    /* when it was checked (unix seconds) */
	double uptime; /* % of kept results that were up, -1 when unknown */
};

/* One widget field as the pages show it (see render_env.widget_values). */
struct render_widget_value {
	const char *label;
	const char *unit; /* "" or NULL for none */
	int has_value;    /* a good sample was ever taken */
	double value;
	int64_t at;            /* when the value was sampled */
	const char *error;     /* the last sample's error ("auth: 401 Unauthorized"), or NULL */
	int stale;             /* the last sample failed: the value shown is older */
	const double *history; /* kept values, oldest first, for the sparkline */
	size_t nhistory;
};

/* What the model needs besides the records. */
struct render_env {
	int64_t now;            /* unix seconds; ages and staleness are relative to it */
	int stale_after;        /* seconds without a register before a dynamic entry is stale */
	const char *dozzle_url; /* http(s) base URL, or NULL */
	int live_known;         /* 0 when rendering from a repo alone: live fields are unknown */
	/*
	 * The latest check of service id's URL in direction dir (0 internal, 1
	 * external), when it was made for this url: 0 and *out filled, else -1.
	 * NULL hook = no health data.
	 */
	int (*url_health)(uint64_t id, int dir, const char *url, struct render_url_health *out,
	                  void *arg);
	void *health_arg;
	/* The file (under the site's images/) for an icon name, or NULL; NULL hook = no icons. */
	const char *(*icon_file)(const char *name, void *arg);
	void *icon_arg;
	/*
	 * The fields of service id's widget (configured as widget_config, the
	 * record's canonical JSON), in display order: their count, *out
	 * valid until the next call. NULL hook or 0 = nothing to show.
	 */
	size_t (*widget_values)(uint64_t id, const char *widget_config,
	                        const struct render_widget_value **out, void *arg);
	void *widget_arg;
};

/*
 * A JSON string from record text (new reference; "" for NULL or invalid
 * UTF-8). C0 controls but tab and newline are dropped: they are invalid in
 * HTML, and the site generator marks fragment slots with them. Every text
 * a template gets goes through here.
 */
json_t *render_model_text(const char *s);
/* Markdown as safe HTML (raw HTML and unsafe URLs dropped), a new JSON string; NULL for empty. */
json_t *render_model_markdown(const char *md);

/* The service context of one record (new reference). */
json_t *render_model_service(const struct store_record *r, const struct render_env *env);

/* FNV-1a over n bytes, continuing from h (start with RENDER_HASH_SEED): cache keys, not security.
 */
#define RENDER_HASH_SEED 0xcbf29ce484222325ULL
uint64_t render_hash(uint64_t h, const void *p, size_t n);

/*
 * A hash of everything render_model_service(r, env) depends on (the
 * record, and what env makes of it now): equal keys, equal models. Much
 * cheaper than building the model, so unchanged services skip it.
 */
uint64_t render_model_key(const struct store_record *r, const struct render_env *env);

/* One bucket of a page: a label and the indexes of its services, in display order. */
struct render_bucket {
	const char *label; /* borrowed from the struct render_order */
	const char *icon;  /* group icon file name, or NULL */
	size_t *items;
	size_t n;
};

/*
 * The orders of one set of services (spec/views.md): buckets by group
 * (group sort priority, unset last, then name; "Ungrouped" last), stack
 * or host (trimmed value, case-insensitive; "Unstacked"/"Unknown host"
 * last); inside a bucket by sort_priority (unset = 9999) then name, or by
 * name alone for the compact view. Worked out once per build, so each
 * page only filters. services and groups (a JSON array of
 * {"name","icon","sort_priority"}, or NULL) must outlive it.
 */
struct render_order;
struct render_order *render_order_new(const struct store_record *services, size_t n,
                                      const json_t *groups);
void render_order_free(struct render_order *o);

/*
 * The buckets of page p: URL-less services dropped first when p hides
 * them, so empty buckets disappear. *out gets a malloc'd array of *nout.
 */
void render_model_buckets(const struct render_order *o, struct render_page p,
                          struct render_bucket **out, size_t *nout);
/* Free what render_model_buckets() returned. */
void render_buckets_free(struct render_bucket *b, size_t n);

/* 1 when the record has an internal or external URL, else 0. */
int render_has_url(const struct store_record *r);

/* Is s an http: or https: URL with a host (the only URLs that become links)? */
int render_url_is_http(const char *s);

/* "just now", "5 min ago", "3 h ago", "2 d ago" for an age in seconds. */
void render_age_text(int64_t age, char *out, size_t size);

#endif
