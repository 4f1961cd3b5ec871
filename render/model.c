#include "model.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmark.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* See model.h. */
json_t *render_model_text(const char *s)
{
	if (!s)
		return json_string("");
	size_t n = strlen(s);
	int clean = 1;
	for (size_t i = 0; i < n && clean; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') || s[i] == 0x7f)
			clean = 0;
	if (clean) {
		json_t *j = json_stringn(s, n);
		return j ? j : json_string("");
	}
	char *copy = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!(((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') || s[i] == 0x7f))
			copy[k++] = s[i];
	json_t *j = json_stringn(copy, k);
	free(copy);
	return j ? j : json_string("");
}

static void set_text(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, render_model_text(s));
}

static int nonempty(const char *s)
{
	return s && *s;
}

int render_url_is_http(const char *s)
{
	if (!s)
		return 0;
	const char *rest;
	if (!strncasecmp(s, "http://", 7))
		rest = s + 7;
	else if (!strncasecmp(s, "https://", 8))
		rest = s + 8;
	else
		return 0;
	if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\')
			return 0;
	return 1;
}

int render_has_url(const struct store_record *r)
{
	return nonempty(r->internalurl) || nonempty(r->externalurl);
}

void render_age_text(int64_t age, char *out, size_t size)
{
	if (age < 0)
		age = 0;
	if (age < 60)
		snprintf(out, size, "just now");
	else if (age < 3600)
		snprintf(out, size, "%lld min ago", (long long)(age / 60));
	else if (age < 86400 * 2)
		snprintf(out, size, "%lld h ago", (long long)(age / 3600));
	else
		snprintf(out, size, "%lld d ago", (long long)(age / 86400));
}

/* "2026-11-20T10:00:00.123Z" -> unix seconds; 0 when it does not parse. */
static int64_t parse_iso(const char *s)
{
	int y, mo, d, h, mi, sec;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm);
}

static void utc_text(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Docker status as the model shows it (spec/views.md, "Docker status"). */
struct docker_view {
	const char *cls;
	char text[96], tip[256], age[48];
};

static void docker_fill(const struct store_record *r, const struct render_env *env,
                        struct docker_view *dv)
{
	char when[48];
	const char *st = r->docker_status;
	dv->cls = "warn";
	dv->age[0] = '\0';
	if (r->is_static) {
		dv->cls = "muted";
		snprintf(dv->text, sizeof(dv->text), "static");
		snprintf(dv->tip, sizeof(dv->tip), "static entry: not managed by a notifier");
		return;
	}
	if (!env->live_known) {
		dv->cls = "muted";
		snprintf(dv->text, sizeof(dv->text), "unknown");
		snprintf(dv->tip, sizeof(dv->tip),
		         "docker: unknown (rendered from the repository alone)");
		return;
	}
	if (r->last_api_update == 0) {
		dv->cls = "bad";
		snprintf(dv->text, sizeof(dv->text), "never registered");
		snprintf(dv->tip, sizeof(dv->tip),
		         "docker: no notifier has registered this container");
		return;
	}
	char ago[32];
	render_age_text(env->now - r->last_api_update, ago, sizeof(ago));
	utc_text(r->last_api_update, when, sizeof(when));
	if (env->now - r->last_api_update > env->stale_after) {
		snprintf(dv->text, sizeof(dv->text), "stale (%s)", ago);
	} else {
		char low[64];
		size_t k = 0;
		for (const char *p = st ? st : ""; *p && k + 1 < sizeof(low); p++)
			low[k++] = (char)tolower((unsigned char)*p);
		low[k] = '\0';
		if (strstr(low, "unhealthy") || strstr(low, "exited") || strstr(low, "dead") ||
		    strstr(low, "restarting") || strstr(low, "removing") || strstr(low, "paused"))
			dv->cls = "bad";
		else if (strstr(low, "healthy") || !strncmp(low, "running", 7) ||
		         !strncmp(low, "up", 2))
			dv->cls = "ok";
		snprintf(dv->text, sizeof(dv->text), "%s", nonempty(st) ? st : "unknown");
	}
	snprintf(dv->tip, sizeof(dv->tip), "docker: %s · last register %s (%s)", dv->text, ago,
	         when);
	int64_t started = parse_iso(r->started_at);
	if (started > 0 && !strcmp(dv->cls, "ok")) {
		char up[32];
		render_age_text(env->now - started, up, sizeof(up));
		char *sp = strstr(up, " ago"); /* "3 h ago" -> "up 3 h" */
		if (sp)
			*sp = '\0';
		snprintf(dv->age, sizeof(dv->age), "up %s",
		         !strcmp(up, "just now") ? "< 1 min" : up);
	}
}

static json_t *docker_status(const struct store_record *r, const struct render_env *env)
{
	struct docker_view dv;
	docker_fill(r, env, &dv);
	json_t *o = json_object();
	json_object_set_new(o, "status_class", json_string(dv.cls));
	set_text(o, "status_text", dv.text);
	set_text(o, "tooltip", dv.tip);
	set_text(o, "age_text", dv.age);
	set_text(o, "image_tag", r->image_tag);
	return o;
}

/* A URL pill as the model shows it (spec/views.md, "URL status"). */
struct url_view {
	const char *cls;
	char text[64];   /* "200", "timeout", "not monitored", ... */
	char detail[96]; /* "120 ms · 3 min ago · 99.7 % up", or "" */
	char tip[640];
};

static const char *const health_error_text[] = {
    "", "DNS error", "refused", "timeout", "TLS error", "too many redirects", "error"};

static void url_fill(const struct store_record *r, int dir, const struct render_env *env,
                     struct url_view *uv)
{
	const char *label = dir ? "external" : "internal";
	const char *url = dir ? r->externalurl : r->internalurl;
	int enabled = dir ? r->external_health_check_enabled : r->internal_health_check_enabled;
	struct render_url_health h;
	uv->cls = "muted";
	uv->detail[0] = '\0';
	if (!nonempty(url))
		snprintf(uv->text, sizeof(uv->text), "no URL");
	else if (!enabled)
		snprintf(uv->text, sizeof(uv->text), "not monitored");
	else if (!env->live_known)
		snprintf(uv->text, sizeof(uv->text), "unknown");
	else if (!env->url_health || env->url_health(r->id, dir, url, &h, env->health_arg))
		snprintf(uv->text, sizeof(uv->text), "no data yet");
	else {
		char ago[32];
		render_age_text(env->now - h.at, ago, sizeof(ago));
		if (h.status && h.error == 0)
			snprintf(uv->text, sizeof(uv->text), "%d", h.status);
		else
			snprintf(uv->text, sizeof(uv->text), "%s",
			         health_error_text[h.error > 0 && h.error < 7 ? h.error : 6]);
		uv->cls = h.state == RENDER_HEALTH_UP         ? "ok"
		          : h.state == RENDER_HEALTH_DEGRADED ? "warn"
		                                              : "bad";
		int n = snprintf(uv->detail, sizeof(uv->detail), "%d ms · %s", h.ms, ago);
		if (h.uptime >= 0 && n > 0 && (size_t)n < sizeof(uv->detail))
			snprintf(uv->detail + n, sizeof(uv->detail) - (size_t)n, " · %.1f %% up",
			         h.uptime);
	}
	snprintf(uv->tip, sizeof(uv->tip), "%s: %s%s%s%s%s", label, uv->text,
	         uv->detail[0] ? " · " : "", uv->detail, nonempty(url) ? " · " : "",
	         nonempty(url) ? url : "");
}

static json_t *url_entry(const struct store_record *r, int dir, const struct render_env *env)
{
	const char *url = dir ? r->externalurl : r->internalurl;
	struct url_view uv;
	url_fill(r, dir, env, &uv);
	json_t *o = json_object();
	json_object_set_new(o, "dir", json_string(dir ? "EXT" : "INT"));
	json_object_set_new(o, "label", json_string(dir ? "external" : "internal"));
	set_text(o, "url", url);
	/* Always there (null = no link): a missing name would find the service's href instead. */
	json_object_set_new(o, "href",
	                    render_url_is_http(url) ? render_model_text(url) : json_null());
	json_object_set_new(o, "status_class", json_string(uv.cls));
	set_text(o, "status_text", uv.text);
	set_text(o, "detail_text", uv.detail);
	set_text(o, "tooltip", uv.tip);
	return o;
}

static const char *layer_icon(const char *layer)
{
	static const struct {
		const char *prefix, *icon;
	} marks[] = {{"traefik", "traefik"},      {"cloudflare", "cloudflare"},
	             {"dockflare", "cloudflare"}, {"nginx", "nginx"},
	             {"swag", "nginx"},           {"npm", "nginx"},
	             {"caddy", "caddy"}};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (!strncasecmp(layer, marks[i].prefix, strlen(marks[i].prefix)))
			return marks[i].icon;
	return "route";
}

/* Is the auth value one that means "authentication required"? */
static int auth_required(const char *auth)
{
	return nonempty(auth) && strcasecmp(auth, "none") && strcasecmp(auth, "false") &&
	       strcasecmp(auth, "no");
}

/* Exposure observations -> badges (3 + "+N") and the drawer's full list. */
static void add_exposures(json_t *svc, const struct store_record *r)
{
	json_t *list =
	    r->exposure_observations ? json_loads(r->exposure_observations, 0, NULL) : NULL;
	json_t *badges = json_array(), *all = json_array();
	struct buf more, tip;
	buf_init(&more, 0);
	buf_init(&tip, 0);
	size_t i, nobs = json_array_size(list);
	json_t *ob;
	json_array_foreach (list, i, ob) {
		const char *layer = json_string_value(json_object_get(ob, "layer"));
		const char *hostname = json_string_value(json_object_get(ob, "hostname"));
		const char *path = json_string_value(json_object_get(ob, "path_prefix"));
		const char *auth = json_string_value(json_object_get(ob, "auth"));
		int tls = json_is_true(json_object_get(ob, "tls"));
		struct buf where;
		buf_init(&where, 0);
		buf_adds(&where, hostname ? hostname : "");
		if (nonempty(path) && strcmp(path, "/"))
			buf_adds(&where, path);
		const char *auth_text = !auth                 ? "auth unknown"
		                        : auth_required(auth) ? "auth"
		                                              : "no auth";
		json_t *e = json_object();
		set_text(e, "layer", layer);
		set_text(e, "where", where.data);
		json_object_set_new(e, "tls_text", json_string(tls ? "TLS" : "no TLS"));
		if (auth_required(auth)) {
			struct buf a;
			buf_init(&a, 0);
			buf_addf(&a, "auth (%s)", auth);
			set_text(e, "auth_text", a.data);
			buf_release(&a);
		} else {
			json_object_set_new(e, "auth_text", json_string(auth_text));
		}
		json_array_append_new(all, e);
		buf_reset(&tip);
		buf_addf(&tip, "%s · %s · %s · %s", layer ? layer : "",
		         where.len ? where.data : "no hostname", tls ? "TLS" : "no TLS",
		         auth_required(auth) ? "auth" : auth_text);
		if (i < 3 || nobs == 3) {
			json_t *b = json_object();
			json_object_set_new(b, "icon", json_string(layer_icon(layer ? layer : "")));
			set_text(b, "layer", layer);
			json_object_set_new(b, "tls", json_boolean(tls));
			json_object_set_new(b, "auth", json_boolean(auth_required(auth)));
			set_text(b, "tooltip", tip.data);
			json_array_append_new(badges, b);
		} else {
			buf_addf(&more, "%s%s", more.len ? "\n" : "", tip.data);
		}
		buf_release(&where);
	}
	if (nobs > 3) {
		/* Three badges, then "+N" for the rest: the fourth slot is the counter. */
		json_t *b = json_object();
		json_object_set_new(b, "count", json_integer((json_int_t)(nobs - 3)));
		set_text(b, "tooltip", more.data);
		json_object_set_new(svc, "badges_more", b);
	}
	json_object_set_new(svc, "badges", badges);
	json_object_set_new(svc, "exposures", all);
	json_object_set_new(svc, "exposures_reported",
	                    json_boolean(r->exposure_observations != NULL));
	buf_release(&more);
	buf_release(&tip);
	json_decref(list);
}

static void add_networks(json_t *svc, const struct store_record *r)
{
	json_t *list = r->networks ? json_loads(r->networks, 0, NULL) : NULL;
	json_t *out = json_array();
	size_t i, j;
	json_t *n, *alias;
	json_array_foreach (list, i, n) {
		struct buf aliases;
		buf_init(&aliases, 0);
		json_array_foreach (json_object_get(n, "aliases"), j, alias)
			buf_addf(&aliases, "%s%s", j ? ", " : "", json_string_value(alias));
		json_t *o = json_object();
		set_text(o, "name", json_string_value(json_object_get(n, "name")));
		set_text(o, "aliases_text", aliases.data);
		json_array_append_new(out, o);
		buf_release(&aliases);
	}
	json_object_set_new(svc, "networks", out);
	json_object_set_new(svc, "networks_reported", json_boolean(r->networks != NULL));
	json_decref(list);
}

/* Has list (lines, each between newlines) the line `line`? */
static int has_line(const struct buf *list, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = list->data; (p = strstr(p, line)); p++)
		if ((p == list->data || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* Published "cport/proto -> [ip:]hport" (0.0.0.0 omitted), then exposed-only "(exposed)". */
static void add_ports(json_t *svc, const struct store_record *r)
{
	json_t *pub = r->published_ports ? json_loads(r->published_ports, 0, NULL) : NULL;
	json_t *exp = r->exposed_ports ? json_loads(r->exposed_ports, 0, NULL) : NULL;
	json_t *out = json_array();
	struct buf t, shown, published;
	buf_init(&t, 0);
	buf_init(&shown, 0);
	buf_init(&published, 0);
	size_t i;
	json_t *p;
	json_array_foreach (pub, i, p) {
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		const char *ip = json_string_value(json_object_get(p, "host_ip"));
		json_int_t cport = json_integer_value(json_object_get(p, "container_port"));
		json_int_t hport = json_integer_value(json_object_get(p, "host_port"));
		proto = nonempty(proto) ? proto : "tcp";
		buf_addf(&published, "%lld/%s\n", (long long)cport, proto);
		buf_reset(&t);
		buf_addf(&t, "%lld/%s → ", (long long)cport, proto);
		if (nonempty(ip) && strcmp(ip, "0.0.0.0") && strcmp(ip, "::"))
			buf_addf(&t, strchr(ip, ':') ? "[%s]:" : "%s:", ip);
		buf_addf(&t, "%lld", (long long)hport);
		if (has_line(&shown, t.data))
			continue; /* the same binding on 0.0.0.0 and :: */
		buf_addf(&shown, "%s\n", t.data);
		json_t *o = json_object();
		set_text(o, "text", t.data);
		json_array_append_new(out, o);
	}
	json_array_foreach (exp, i, p) {
		const char *s = json_string_value(p);
		if (!s)
			continue;
		buf_reset(&t);
		buf_addf(&t, strchr(s, '/') ? "%s" : "%s/tcp", s);
		if (has_line(&published, t.data))
			continue; /* published already says it */
		buf_reset(&t);
		buf_addf(&t, "%s (exposed)", s);
		json_t *o = json_object();
		set_text(o, "text", t.data);
		json_array_append_new(out, o);
	}
	json_object_set_new(svc, "ports", out);
	json_object_set_new(svc, "ports_reported",
	                    json_boolean(r->published_ports != NULL || r->exposed_ports != NULL));
	buf_release(&t);
	buf_release(&shown);
	buf_release(&published);
	json_decref(pub);
	json_decref(exp);
}

/* "ghcr.io/linuxserver/sonarr:4.0"; Docker Hub's registry and "library/" are implied. */
static void image_text(const struct store_record *r, struct buf *out)
{
	if (!nonempty(r->image_name))
		return;
	if (nonempty(r->image_registry) && strcmp(r->image_registry, "docker.io"))
		buf_addf(out, "%s/", r->image_registry);
	if (nonempty(r->image_owner) && strcmp(r->image_owner, "library"))
		buf_addf(out, "%s/", r->image_owner);
	buf_adds(out, r->image_name);
	if (nonempty(r->image_tag))
		buf_addf(out, ":%s", r->image_tag);
}

json_t *render_model_markdown(const char *md)
{
	if (!nonempty(md))
		return NULL;
	/* cmark's safe default: raw HTML and unsafe URLs are dropped */
	char *html = cmark_markdown_to_html(md, strlen(md), CMARK_OPT_DEFAULT);
	json_t *v = html ? render_model_text(html) : NULL;
	free(html);
	return v;
}

static void add_notes(json_t *svc, const char *notes)
{
	json_t *html = render_model_markdown(notes);
	if (html)
		json_object_set_new(svc, "notes_html", html);
}

static void add_lower(struct buf *b, const char *s)
{
	if (!nonempty(s))
		return;
	if (b->len)
		buf_addc(b, ' ');
	for (; *s; s++)
		buf_addc(b, (char)tolower((unsigned char)*s));
}

/* --- widgets -------------------------------------------------------------- */

/* A sample value as text: integers without decimals, others with up to two. */
static void value_text(double v, const char *unit, char *out, size_t size)
{
	const char *sep = unit && *unit ? " " : "";
	if (v == (double)(long long)v && v > -1e15 && v < 1e15)
		snprintf(out, size, "%lld%s%s", (long long)v, sep, unit && *unit ? unit : "");
	else
		snprintf(out, size, "%.2f%s%s", v, sep, unit && *unit ? unit : "");
}

/* SVG polyline points for the kept values, in a 48 x 12 box; "" for fewer than 2. */
static void sparkline(const double *v, size_t n, struct buf *out)
{
	if (n < 2)
		return;
	double lo = v[0], hi = v[0];
	for (size_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t i = 0; i < n; i++) {
		double x = 48.0 * (double)i / (double)(n - 1);
		double y = hi > lo ? 11.0 - 10.0 * (v[i] - lo) / (hi - lo) : 6.0;
		buf_addf(out, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
}

static json_t *widget_views(const struct store_record *r, const struct render_env *env)
{
	json_t *out = json_array();
	const struct render_widget_value *v = NULL;
	size_t n = r->widget && env->widget_values
	               ? env->widget_values(r->id, r->widget, &v, env->widget_arg)
	               : 0;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		json_t *w = json_object();
		char text[64], ago[32];
		set_text(w, "label", v[i].label ? v[i].label : "");
		if (v[i].has_value) {
			value_text(v[i].value, v[i].unit, text, sizeof(text));
			render_age_text(env->now - v[i].at, ago, sizeof(ago));
			set_text(w, "value", text);
			set_text(w, "age_text", ago);
		} else {
			set_text(w, "value", "–");
			set_text(w, "age_text", "no value yet");
		}
		if (v[i].error)
			set_text(w, "error_text", v[i].error);
		json_object_set_new(w, "error", json_boolean(v[i].error != NULL));
		json_object_set_new(w, "stale", json_boolean(v[i].stale));
		buf_reset(&b);
		sparkline(v[i].history, v[i].nhistory, &b);
		if (b.len)
			set_text(w, "spark", b.data);
		json_array_append_new(out, w);
	}
	buf_release(&b);
	return out;
}

json_t *render_model_service(const struct store_record *r, const struct render_env *env)
{
	json_t *svc = json_object();
	struct buf b;
	buf_init(&b, 0);
	json_object_set_new(svc, "id", json_integer((json_int_t)r->id));
	set_text(svc, "name", r->container_name);
	set_text(svc, "host", r->host);
	set_text(svc, "stack", r->stack_name);
	set_text(svc, "group", r->group_name);
	image_text(r, &b);
	set_text(svc, "image", b.data);
	set_text(svc, "image_tag", r->image_tag);
	buf_reset(&b);
	if (env->live_known && r->container_id)
		buf_add(&b, r->container_id, strnlen(r->container_id, 12));
	set_text(svc, "container_id_short", b.data);

	const char *icon = nonempty(r->image_icon) && env->icon_file
	                       ? env->icon_file(r->image_icon, env->icon_arg)
	                       : NULL;
	if (icon) {
		buf_reset(&b);
		buf_addf(&b, "images/%s", icon);
		set_text(svc, "icon_src", b.data);
	}
	char initial[2] = {'?', '\0'};
	if (nonempty(r->container_name) && isalnum((unsigned char)r->container_name[0]))
		initial[0] = (char)toupper((unsigned char)r->container_name[0]);
	json_object_set_new(svc, "initial", json_string(initial));

	const char *href = render_url_is_http(r->internalurl)   ? r->internalurl
	                   : render_url_is_http(r->externalurl) ? r->externalurl
	                                                        : NULL;
	if (href)
		set_text(svc, "href", href);
	json_t *urls = json_array();
	json_array_append_new(urls, url_entry(r, 0, env));
	json_array_append_new(urls, url_entry(r, 1, env));
	json_object_set_new(svc, "urls", urls);
	json_object_set_new(svc, "docker", docker_status(r, env));
	add_exposures(svc, r);
	add_networks(svc, r);
	add_ports(svc, r);
	json_t *widgets = widget_views(r, env);
	int has_widgets = json_array_size(widgets) > 0;
	json_object_set_new(svc, "widgets", widgets);
	json_object_set_new(svc, "has_widgets", json_boolean(has_widgets));
	int headless = !render_has_url(r) &&
	               json_array_size(json_object_get(svc, "exposures")) == 0 && !has_widgets;
	json_object_set_new(svc, "headless", json_boolean(headless));
	json_object_set_new(svc, "is_static", json_boolean(r->is_static));
	json_object_set_new(svc, "is_dynamic", json_boolean(!r->is_static));
	add_notes(svc, r->notes);
	if (env->dozzle_url && env->live_known && nonempty(r->container_id)) {
		size_t n = strlen(env->dozzle_url);
		while (n && env->dozzle_url[n - 1] == '/')
			n--;
		buf_reset(&b);
		buf_add(&b, env->dozzle_url, n);
		buf_adds(&b, "/container/");
		buf_add(&b, r->container_id, strnlen(r->container_id, 12));
		if (render_url_is_http(b.data))
			set_text(svc, "dozzle_href", b.data);
	}
	buf_reset(&b);
	buf_addf(&b, "edit/%llu", (unsigned long long)r->id);
	set_text(svc, "edit_path", b.data);
	buf_reset(&b);
	add_lower(&b, r->container_name);
	add_lower(&b, r->group_name);
	add_lower(&b, r->stack_name);
	add_lower(&b, r->host);
	set_text(svc, "search", b.data);
	buf_release(&b);
	return svc;
}

uint64_t render_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t render_model_key(const struct store_record *r, const struct render_env *env)
{
	struct buf b;
	buf_init(&b, 0);
	store_record_encode(r, &b);
	if (r->widget) { /* values change without the record: they are part of the key */
		json_t *w = widget_views(r, env);
		char *text = json_dumps(w, JSON_COMPACT);
		buf_adds(&b, text ? text : "");
		free(text);
		json_decref(w);
	}
	struct docker_view dv;
	docker_fill(r, env, &dv);
	buf_addf(&b, "|%s|%s|%s|%s|%d|%s|%" PRIu64 "|", dv.cls, dv.text, dv.tip, dv.age,
	         env->live_known, env->dozzle_url ? env->dozzle_url : "", r->id);
	for (int dir = 0; dir < 2; dir++) {
		struct url_view uv;
		url_fill(r, dir, env, &uv);
		buf_addf(&b, "|%s|%s|%s", uv.cls, uv.text, uv.tip);
	}
	const char *icon = nonempty(r->image_icon) && env->icon_file
	                       ? env->icon_file(r->image_icon, env->icon_arg)
	                       : NULL;
	buf_adds(&b, icon ? icon : "");
	uint64_t h = render_hash(RENDER_HASH_SEED, b.data, b.len);
	buf_release(&b);
	return h;
}

/* --- buckets -------------------------------------------------------------- */

struct group_info {
	const char *name;
	const char *icon;
	int has_prio;
	int64_t prio;
};

/* One service's place in one grouping, while the order is being worked out. */
struct item {
	const char *key; /* trimmed bucket value; klen 0 = the "none" bucket */
	size_t klen;
	const struct group_info *group;
	size_t idx;
};

struct render_order {
	size_t n;
	const struct store_record *services;
	/* per grouping: bucket labels/icons by rank, and each service's bucket rank */
	char **labels[RENDER_NGROUP_BY];
	char **icons[RENDER_NGROUP_BY];
	size_t nbuckets[RENDER_NGROUP_BY];
	size_t *bucket_of[RENDER_NGROUP_BY];
	/* per grouping x (0 = by priority then name, 1 = by name): every service in page order */
	size_t *sorted[RENDER_NGROUP_BY][2];
	size_t *name_rank; /* services by name, case-insensitive, then index */
};

static int cmp_group_info(const void *a, const void *b)
{
	return strcmp(((const struct group_info *)a)->name, ((const struct group_info *)b)->name);
}

static int cmp_ci_len(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = strncasecmp(a, b, n);
	if (c)
		return c;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, n);
}

/* Bucket order: none last; groups by priority (unset last); then the value, case-insensitive. */
static int cmp_bucket(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	if (!a->klen != !b->klen)
		return !a->klen ? 1 : -1;
	int ap = a->group && a->group->has_prio, bp = b->group && b->group->has_prio;
	if (ap != bp)
		return ap ? -1 : 1;
	if (ap && a->group->prio != b->group->prio)
		return a->group->prio < b->group->prio ? -1 : 1;
	int c = cmp_ci_len(a->key, a->klen, b->key, b->klen);
	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_name(const void *pa, const void *pb, void *arg)
{
	const struct store_record *v = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcasecmp(v[a].container_name ? v[a].container_name : "",
	                   v[b].container_name ? v[b].container_name : "");
	if (c)
		return c;
	return a < b ? -1 : a > b;
}

struct sort_ctx {
	const struct render_order *o;
	int g, by_name;
};

/* Page order: bucket rank, then (unless by name) sort_priority (unset = 9999), then name. */
static int cmp_page(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct render_order *o = c->o;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	if (o->bucket_of[c->g][a] != o->bucket_of[c->g][b])
		return o->bucket_of[c->g][a] < o->bucket_of[c->g][b] ? -1 : 1;
	if (!c->by_name) {
		const struct store_record *ra = &o->services[a], *rb = &o->services[b];
		int64_t pa2 = ra->sort_priority.set ? ra->sort_priority.value : 9999;
		int64_t pb2 = rb->sort_priority.set ? rb->sort_priority.value : 9999;
		if (pa2 != pb2)
			return pa2 < pb2 ? -1 : 1;
	}
	return o->name_rank[a] < o->name_rank[b] ? -1 : o->name_rank[a] > o->name_rank[b];
}

static void trim(const char *s, const char **out, size_t *len)
{
	if (!s)
		s = "";
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	*out = s;
	*len = n;
}

/* Rank the distinct bucket values of grouping g and label them. */
static void rank_buckets(struct render_order *o, int g, const struct group_info *gi, size_t ng)
{
	static const char *const none_label[RENDER_NGROUP_BY] = {"Ungrouped", "Unstacked",
	                                                         "Unknown host"};
	size_t n = o->n;
	struct item *items = xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		const struct store_record *r = &o->services[i];
		const char *v = g == RENDER_BY_GROUP   ? r->group_name
		                : g == RENDER_BY_STACK ? r->stack_name
		                                       : r->host;
		trim(v, &items[i].key, &items[i].klen);
		items[i].idx = i;
		if (g == RENDER_BY_GROUP && items[i].klen && ng) {
			char *name = xstrndup(items[i].key, items[i].klen);
			struct group_info probe = {.name = name};
			items[i].group = bsearch(&probe, gi, ng, sizeof(*gi), cmp_group_info);
			free(name);
		}
	}
	qsort(items, n, sizeof(*items), cmp_bucket);
	o->bucket_of[g] = xcalloc(n ? n : 1, sizeof(size_t));
	o->labels[g] = xcalloc(n + 1, sizeof(char *));
	o->icons[g] = xcalloc(n + 1, sizeof(char *));
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (!i || items[i].klen != items[i - 1].klen ||
		    memcmp(items[i].key, items[i - 1].key, items[i].klen)) {
			o->labels[g][nb] = items[i].klen ? xstrndup(items[i].key, items[i].klen)
			                                 : xstrdup(none_label[g]);
			if (items[i].group && items[i].group->icon && *items[i].group->icon)
				o->icons[g][nb] = xstrdup(items[i].group->icon);
			nb++;
		}
		o->bucket_of[g][items[i].idx] = nb - 1;
	}
	o->nbuckets[g] = nb;
	free(items);
}

struct render_order *render_order_new(const struct store_record *services, size_t n,
                                      const json_t *groups)
{
	struct render_order *o = xcalloc(1, sizeof(*o));
	o->n = n;
	o->services = services;
	size_t ng = json_array_size(groups);
	struct group_info *gi = xcalloc(ng ? ng : 1, sizeof(*gi));
	for (size_t i = 0; i < ng; i++) {
		const json_t *grp = json_array_get(groups, i);
		const json_t *prio = json_object_get(grp, "sort_priority");
		gi[i].name = json_string_value(json_object_get(grp, "name"));
		gi[i].icon = json_string_value(json_object_get(grp, "icon"));
		gi[i].has_prio = json_is_integer(prio);
		gi[i].prio = json_integer_value(prio);
		if (!gi[i].name)
			gi[i].name = "";
	}
	qsort(gi, ng, sizeof(*gi), cmp_group_info);
	size_t *by_name = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		by_name[i] = i;
	qsort_r(by_name, n, sizeof(size_t), cmp_name, (void *)services);
	o->name_rank = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		o->name_rank[by_name[i]] = i;
	free(by_name);
	for (int g = 0; g < RENDER_NGROUP_BY; g++) {
		rank_buckets(o, g, gi, ng);
		for (int k = 0; k < 2; k++) {
			size_t *v = xcalloc(n ? n : 1, sizeof(size_t));
			for (size_t i = 0; i < n; i++)
				v[i] = i;
			struct sort_ctx c = {o, g, k};
			qsort_r(v, n, sizeof(size_t), cmp_page, &c);
			o->sorted[g][k] = v;
		}
	}
	free(gi);
	return o;
}

void render_order_free(struct render_order *o)
{
	if (!o)
		return;
	for (int g = 0; g < RENDER_NGROUP_BY; g++) {
		for (size_t b = 0; b < o->nbuckets[g]; b++) {
			free(o->labels[g][b]);
			free(o->icons[g][b]);
		}
		free(o->labels[g]);
		free(o->icons[g]);
		free(o->bucket_of[g]);
		free(o->sorted[g][0]);
		free(o->sorted[g][1]);
	}
	free(o->name_rank);
	free(o);
}

void render_model_buckets(const struct render_order *o, struct render_page p,
                          struct render_bucket **out, size_t *nout)
{
	int g = p.group_by;
	const size_t *order = o->sorted[g][p.view == RENDER_VIEW_COMPACT];
	struct render_bucket *b = NULL;
	size_t nb = 0, cap = 0, last = (size_t)-1;
	size_t *items = xmalloc((o->n ? o->n : 1) * sizeof(size_t)); /* shared by the buckets */
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++) {
		size_t idx = order[i];
		if (!p.show_urlless && !render_has_url(&o->services[idx]))
			continue;
		size_t rank = o->bucket_of[g][idx];
		if (rank != last) {
			if (nb == cap) {
				cap = cap ? cap * 2 : 16;
				b = xrealloc(b, cap * sizeof(*b));
			}
			b[nb].label = o->labels[g][rank];
			b[nb].icon = o->icons[g][rank];
			b[nb].items = items + k;
			b[nb].n = 0;
			nb++;
			last = rank;
		}
		items[k++] = idx;
		b[nb - 1].n++;
	}
	if (!nb)
		free(items);
	*out = b;
	*nout = nb;
}

void render_buckets_free(struct render_bucket *b, size_t n)
{
	if (b && n)
		free(b[0].items); /* the shared array starts at the first bucket */
	free(b);
}
