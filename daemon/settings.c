#include "settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/gitremote.h"
#include "../store/merge.h"
#include "../store/validate.h"
#include "../store/yaml.h"
#include "../common/banned.h"

#define SETTINGS_YAML_MAX   (1024 * 1024)
#define SETTINGS_SECRET_MAX 1024
#define SETTINGS_TEXT_MAX   4096
#define MASK                "********"
#define ICON_SOURCES_MAX    8

enum kind {
	K_TOKEN,  /* printable ASCII, no spaces: goes into an Authorization header */
	K_SECRET, /* any text without control characters */
	K_URL,    /* http(s) URL or unset */
	K_PATH,   /* relative to the config dir unless absolute */
	K_INT,
	K_BOOL,
	K_OWNERSHIP,
	K_LEVEL,
	K_LISTEN,
	K_CONFIG,       /* reported only: the dir settings_load was given */
	K_ICON_SOURCES, /* "none" or http(s) URL templates ending in {name}.svg|png|webp */
	K_GIT_REMOTE,   /* a path, file://, ssh:// or https:// (store_remote_check_url) */
	K_CLOCK,        /* "HH:MM", 00:00 to 23:59 */
};

struct desc {
	const char *key; /* settings.yml; the environment name is its upper case */
	const char *env;
	enum kind kind;
	size_t offset;
	int def_int;
	const char *def_str; /* K_PATH: relative to the config dir */
	int min, max;
	const char *comment; /* for settings.example.yml; lines split by \n */
};

#define OFF(f) offsetof(struct settings, f)

static const struct desc descs[SETTINGS_NKEYS] = {
    [SETTINGS_API_TOKEN] =
        {"api_token", "API_TOKEN", K_TOKEN, OFF(api_token), 0, NULL, 0, 0,
         "Bearer token for POST /api/v1/register and the other API calls that\n"
         "need one. When unset, portolan generates one at first start, keeps it\n"
         "in <config>/api_token (mode 0600) and prints it once."},
    [SETTINGS_DOZZLE_URL] = {"std_dozzle_url", "STD_DOZZLE_URL", K_URL, OFF(dozzle_url), 0, NULL, 0,
                             0,
                             "Link to a Dozzle instance for container logs (http:// or https://).\n"
                             "Unset: no log links."},
    [SETTINGS_BACKUP_PATH] = {"backup_path", "BACKUP_PATH", K_PATH, OFF(backup_path), 0, "backups",
                              0, 0,
                              "Where backups are written; a relative path is taken from the\n"
                              "config dir."},
    [SETTINGS_BACKUP_DAYS_TO_KEEP] = {"backup_days_to_keep", "BACKUP_DAYS_TO_KEEP", K_INT,
                                      OFF(backup_days_to_keep), 7, NULL, 1, 3650,
                                      "Days of backups to keep (1-3650)."},
    [SETTINGS_BACKUP_TIME] = {"backup_time", "BACKUP_TIME", K_CLOCK, OFF(backup_time), 0, "00:05",
                              0, 0,
                              "Local time (HH:MM, 24-hour) of the daily backup into\n"
                              "backup_path."},
    [SETTINGS_URL_HEALTHCHECK_INTERVAL] = {"url_healthcheck_interval", "URL_HEALTHCHECK_INTERVAL",
                                           K_INT, OFF(url_healthcheck_interval), 300, NULL, 10,
                                           86400,
                                           "Seconds between URL health check passes (10-86400)."},
    [SETTINGS_HEALTHCHECK_TIMEOUT] = {"healthcheck_timeout", "HEALTHCHECK_TIMEOUT", K_INT,
                                      OFF(healthcheck_timeout), 5, NULL, 1, 60,
                                      "Seconds a URL health check may take, to connect and in\n"
                                      "total (1-60)."},
    [SETTINGS_HEALTHCHECK_CONCURRENCY] = {"healthcheck_concurrency", "HEALTHCHECK_CONCURRENCY",
                                          K_INT, OFF(healthcheck_concurrency), 64, NULL, 1, 1024,
                                          "URL health checks in flight at once (1-1024)."},
    [SETTINGS_WIDGET_BACKGROUND_RELOAD] = {"widget_background_reload", "WIDGET_BACKGROUND_RELOAD",
                                           K_INT, OFF(widget_background_reload), 900, NULL, 30,
                                           86400,
                                           "Seconds between widget data refreshes (30-86400)."},
    [SETTINGS_WIDGET_TIMEOUT] = {"widget_timeout", "WIDGET_TIMEOUT", K_INT, OFF(widget_timeout), 10,
                                 NULL, 1, 60,
                                 "Seconds one widget request may take, to connect and in all\n"
                                 "(1-60)."},
    [SETTINGS_WIDGET_VALUE_RETENTION_DAYS] = {"widget_value_retention_days",
                                              "WIDGET_VALUE_RETENTION_DAYS", K_INT,
                                              OFF(widget_value_retention_days), 30, NULL, 1, 3650,
                                              "Days of widget values to keep (1-3650)."},
    [SETTINGS_REGISTER_FIELD_OWNERSHIP] =
        {"register_field_ownership", "REGISTER_FIELD_OWNERSHIP", K_OWNERSHIP,
         OFF(register_field_ownership), STORE_USER_WINS, NULL, 0, 0,
         "Who wins when a register call and an edit in the UI disagree\n"
         "on group_name or sort_priority: user_wins keeps the edit,\n"
         "notifier_wins overwrites it."},
    [SETTINGS_USER_SESSION_LENGTH] = {"user_session_length", "USER_SESSION_LENGTH", K_INT,
                                      OFF(user_session_length), 120, NULL, 1, 525600,
                                      "Minutes a web login lasts (1-525600)."},
    [SETTINGS_SECRET_KEY] = {"flask_secret_key", "FLASK_SECRET_KEY", K_SECRET, OFF(secret_key), 0,
                             NULL, 0, 0,
                             "Key that signs session cookies. When unset, portolan generates one\n"
                             "into <config>/secret_key (mode 0600) and keeps it."},
    [SETTINGS_PORTOLAN_CONFIG] =
        {"portolan_config", "PORTOLAN_CONFIG", K_CONFIG, OFF(config_dir), 0, NULL, 0, 0,
         "portolan_config, the config dir holding this file, is set with\n"
         "the PORTOLAN_CONFIG environment variable or --config, not here."},
    [SETTINGS_LISTEN] = {"listen", "LISTEN", K_LISTEN, OFF(listen), 0, "127.0.0.1:8815", 0, 0,
                         "Address of the HTTP server: ipv4:port, [ipv6]:port, localhost:port,\n"
                         "or :port for every IPv4 address (0.0.0.0)."},
    [SETTINGS_SITE_DIR] = {"site_dir", "SITE_DIR", K_PATH, OFF(site_dir), 0, "site", 0, 0,
                           "Where the static site is generated; a relative path is taken from\n"
                           "the config dir."},
    [SETTINGS_STALE_AFTER] = {"stale_after", "STALE_AFTER", K_INT, OFF(stale_after), 300, NULL, 10,
                              2678400,
                              "Seconds without a register after which a running container shows\n"
                              "as stale (10-2678400)."},
    [SETTINGS_LOG_LEVEL] = {"log_level", "LOG_LEVEL", K_LEVEL, OFF(log_level), LOG_INFO, NULL, 0, 0,
                            "debug, info, warn or error; debug logs one line per HTTP request."},
    [SETTINGS_DASHBOARD_PUBLIC] = {"dashboard_public", "DASHBOARD_PUBLIC", K_BOOL,
                                   OFF(dashboard_public), 0, NULL, 0, 0,
                                   "Serve the dashboard without a login (true or false)."},
    [SETTINGS_ICON_SOURCES] =
        {"icon_sources", "ICON_SOURCES", K_ICON_SOURCES, OFF(icon_sources), 0,
         "https://cdn.jsdelivr.net/gh/homarr-labs/dashboard-icons/svg/{name}.svg "
         "https://cdn.jsdelivr.net/gh/homarr-labs/dashboard-icons/png/{name}.png",
         0, 0,
         "Where missing service icons are fetched from, tried in order: http(s)\n"
         "URLs separated by spaces, each ending in {name}.svg, {name}.png or\n"
         "{name}.webp. none: never fetch (icons only from <config>/images/)."},
    [SETTINGS_ICON_RETRY_AFTER] = {"icon_retry_after", "ICON_RETRY_AFTER", K_INT,
                                   OFF(icon_retry_after), 86400, NULL, 1, 31536000,
                                   "Seconds before an icon that could not be fetched is tried\n"
                                   "again (1-31536000)."},
    [SETTINGS_ICON_FETCH_TIMEOUT] = {"icon_fetch_timeout", "ICON_FETCH_TIMEOUT", K_INT,
                                     OFF(icon_fetch_timeout), 10, NULL, 1, 120,
                                     "Seconds an icon download may take (1-120)."},
    [SETTINGS_GIT_REMOTE] = {"git_remote", "GIT_REMOTE", K_GIT_REMOTE, OFF(git_remote), 0, NULL, 0,
                             0,
                             "Remote the inventory repo is pushed to after each commit and\n"
                             "fetched from every git_sync_interval: an absolute path, file://,\n"
                             "ssh:// (key in git_ssh_key) or https:// (token in GIT_TOKEN).\n"
                             "Commits found there are merged into the inventory. Unset: none."},
    [SETTINGS_GIT_SYNC_INTERVAL] = {"git_sync_interval", "GIT_SYNC_INTERVAL", K_INT,
                                    OFF(git_sync_interval), 300, NULL, 1, 86400,
                                    "Seconds between fetches from git_remote, and between looks\n"
                                    "for commits made by hand in the inventory repo (1-86400)."},
    [SETTINGS_GIT_SSH_KEY] = {"git_ssh_key", "GIT_SSH_KEY", K_PATH, OFF(git_ssh_key), 0,
                              "ssh/id_ed25519", 0, 0,
                              "Private key for an ssh:// git_remote (its .pub beside it);\n"
                              "a relative path is taken from the config dir."},
    [SETTINGS_GIT_TOKEN] = {"git_token", "GIT_TOKEN", K_SECRET, OFF(git_token), 0, NULL, 0, 0,
                            "Token for an https:// git_remote (sent as the password of basic\n"
                            "auth). Best given in the environment; never logged or shown."},
    [SETTINGS_HOOK_TIMEOUT] = {"hook_timeout", "HOOK_TIMEOUT", K_INT, OFF(hook_timeout), 30, NULL,
                               1, 3600,
                               "Seconds a hook (<config>/hooks/post-commit, post-render) may run\n"
                               "before its process group is killed (1-3600)."},
};

/* A parsed value: i for the int-like kinds, s (malloc'd) for the others. */
struct val {
	int i;
	char *s;
};

static int *int_field(struct settings *s, const struct desc *d)
{
	return (int *)((char *)s + d->offset);
}

static char **str_field(struct settings *s, const struct desc *d)
{
	return (char **)((char *)s + d->offset);
}

static int is_string_kind(enum kind k)
{
	return k == K_TOKEN || k == K_SECRET || k == K_URL || k == K_PATH || k == K_LISTEN ||
	       k == K_CONFIG || k == K_ICON_SOURCES || k == K_GIT_REMOTE || k == K_CLOCK;
}

static int is_hidden(enum kind k)
{
	return k == K_TOKEN || k == K_SECRET;
}

/* Whether a rejected value may be quoted back: not a secret, nor a URL that may hold one. */
static int may_echo(enum kind k)
{
	return !is_hidden(k) && k != K_GIT_REMOTE;
}

static void warn(struct settings *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct settings *s, const char *fmt, ...)
{
	struct buf b;
	buf_init(&b, 0);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	log_warn("%s", b.data);
	s->warnings = xrealloc(s->warnings, (s->nwarnings + 1) * sizeof(*s->warnings));
	s->warnings[s->nwarnings++] = buf_detach(&b, NULL);
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, dir, name);
}

static const char *trim(const char *text, char *tmp, size_t size)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' ||
	             text[n - 1] == '\r'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(tmp, text, n);
	tmp[n] = '\0';
	return tmp;
}

static int parse_int(const char *text, int min, int max, int *out)
{
	if (!*text)
		return -1;
	for (const char *p = *text == '-' || *text == '+' ? text + 1 : text; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_bool(const char *text, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(text, yes[i]) || !strcasecmp(text, no[i])) {
			*out = !strcasecmp(text, yes[i]);
			return 0;
		}
	}
	return -1;
}

static int check_text(const char *text, int allow_space, size_t max)
{
	size_t n = strlen(text);
	if (!n || n > max)
		return -1;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (!allow_space && (*p == ' ' || *p >= 0x80)))
			return -1;
	return 0;
}

/* One icon source: an http(s) URL whose path ends in {name}.svg|png|webp. */
static int icon_source_ok(const char *url, size_t n)
{
	static const char *const ends[] = {"{name}.svg", "{name}.png", "{name}.webp"};
	char *u = xstrndup(url, n);
	int ok = 0;
	for (size_t i = 0; i < 3 && !ok; i++) {
		size_t m = strlen(ends[i]);
		ok = n > m && !strcmp(u + n - m, ends[i]) && strstr(u, "{name}") == u + n - m;
	}
	/* A stand-in name: the template itself is not a URL until {name} is filled. */
	ok = ok && n <= 1024 && store_url_is_http(u);
	free(u);
	return ok;
}

/* "none", or URL templates split on spaces/commas; the canonical text, or NULL when invalid. */
static char *parse_icon_sources(const char *text)
{
	const char *sep = " \t\r\n,";
	size_t skip = strspn(text, sep), len = strcspn(text + skip, sep);
	if (!strncasecmp(text + skip, "none", 4) && len == 4 &&
	    !text[skip + 4 + strspn(text + skip + 4, sep)])
		return xstrdup("none");
	struct buf b;
	buf_init(&b, 0);
	int count = 0;
	for (const char *p = text + strspn(text, sep); *p; p += strspn(p, sep)) {
		size_t n = strcspn(p, sep);
		if (++count > ICON_SOURCES_MAX || !icon_source_ok(p, n)) {
			buf_release(&b);
			return NULL;
		}
		buf_addf(&b, "%s%.*s", b.len ? " " : "", (int)n, p);
		p += n;
	}
	if (!count) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/*
 * Validate text for d. Returns 0 with *out set, or -1 with why (a phrase
 * for the warning) filled in.
 */
static int parse_value(const struct desc *d, const char *config_dir, const char *text,
                       struct val *out, char *why, size_t why_size)
{
	char tmp[256];
	const char *t = trim(text, tmp, sizeof(tmp));
	out->i = 0;
	out->s = NULL;
	switch (d->kind) {
	case K_TOKEN:
		if (!check_text(text, 0, SETTINGS_SECRET_MAX))
			return out->s = xstrdup(text), 0;
		snprintf(why, why_size, "must be 1 to %d printable ASCII characters without spaces",
		         SETTINGS_SECRET_MAX);
		return -1;
	case K_SECRET:
		if (!check_text(text, 1, SETTINGS_SECRET_MAX))
			return out->s = xstrdup(text), 0;
		snprintf(why, why_size, "must be 1 to %d characters without control characters",
		         SETTINGS_SECRET_MAX);
		return -1;
	case K_URL:
		if (strlen(t) <= 2048 && store_url_is_http(t))
			return out->s = xstrdup(t), 0;
		snprintf(why, why_size, "must be an http:// or https:// URL");
		return -1;
	case K_GIT_REMOTE: {
		struct err e = {0};
		if (strlen(t) <= 2048 && !store_remote_check_url(t, &e))
			return out->s = xstrdup(t), 0;
		snprintf(why, why_size, "%.150s", e.msg);
		return -1;
	}
	case K_PATH:
		if (!check_text(text, 1, SETTINGS_TEXT_MAX)) {
			out->s = text[0] == '/' ? xstrdup(text) : join_path(config_dir, text);
			return 0;
		}
		snprintf(why, why_size, "must be a path without control characters");
		return -1;
	case K_ICON_SOURCES:
		if ((out->s = parse_icon_sources(text)))
			return 0;
		snprintf(
		    why, why_size,
		    "must be none or up to %d http(s) URLs ending in {name}.svg, {name}.png or "
		    "{name}.webp, separated by spaces",
		    ICON_SOURCES_MAX);
		return -1;
	case K_INT:
		if (!parse_int(t, d->min, d->max, &out->i))
			return 0;
		snprintf(why, why_size, "must be a whole number from %d to %d", d->min, d->max);
		return -1;
	case K_BOOL:
		if (!parse_bool(t, &out->i))
			return 0;
		snprintf(why, why_size, "must be true/false, yes/no, on/off or 1/0");
		return -1;
	case K_OWNERSHIP:
		if (!strcasecmp(t, "user_wins") || !strcasecmp(t, "notifier_wins")) {
			out->i = strcasecmp(t, "user_wins") ? STORE_NOTIFIER_WINS : STORE_USER_WINS;
			return 0;
		}
		snprintf(why, why_size, "must be user_wins or notifier_wins");
		return -1;
	case K_LEVEL:
		if ((out->i = log_level_parse(t)) >= 0)
			return 0;
		snprintf(why, why_size, "must be debug, info, warn or error");
		return -1;
	case K_LISTEN: {
		char *host = NULL;
		int port;
		if (!settings_parse_listen(t, &host, &port)) {
			free(host);
			return out->s = xstrdup(t), 0;
		}
		snprintf(why, why_size,
		         "must be ipv4:port, [ipv6]:port, localhost:port or :port, with a "
		         "port from 1 to 65535");
		return -1;
	}
	case K_CLOCK:
		if (!settings_parse_clock(t, NULL))
			return out->s = xstrdup(t), 0;
		snprintf(why, why_size, "must be a time of day HH:MM (00:00 to 23:59)");
		return -1;
	case K_CONFIG:
		break;
	}
	snprintf(why, why_size, "cannot be set here");
	return -1;
}

int settings_parse_clock(const char *text, int *minutes)
{
	if (strlen(text) != 5 || text[2] != ':' || strspn(text, "0123456789:") != 5 ||
	    text[0] == ':' || text[1] == ':' || text[3] == ':' || text[4] == ':')
		return -1;
	int h = (text[0] - '0') * 10 + (text[1] - '0'), m = (text[3] - '0') * 10 + (text[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	if (minutes)
		*minutes = h * 60 + m;
	return 0;
}

static void set_value(struct settings *s, enum settings_key k, struct val v,
                      enum settings_source src)
{
	const struct desc *d = &descs[k];
	if (is_string_kind(d->kind)) {
		char **f = str_field(s, d);
		if (*f && is_hidden(d->kind))
			sodium_memzero(*f, strlen(*f));
		free(*f);
		*f = v.s;
	} else {
		*int_field(s, d) = v.i;
	}
	s->source[k] = src;
}

/* The value as text for messages and the example file; NULL when unset. */
static char *value_text(const struct settings *s, enum settings_key k)
{
	const struct desc *d = &descs[k];
	const void *base = s;
	if (is_string_kind(d->kind)) {
		const char *v = *(char *const *)((const char *)base + d->offset);
		return v ? xstrdup(v) : NULL;
	}
	int i = *(const int *)((const char *)base + d->offset);
	switch (d->kind) {
	case K_BOOL:
		return xstrdup(i ? "true" : "false");
	case K_OWNERSHIP:
		return xstrdup(i == STORE_NOTIFIER_WINS ? "notifier_wins" : "user_wins");
	case K_LEVEL:
		return xstrdup(log_level_name(i));
	default:
		return xasprintf("%d", i);
	}
}

/* What a rejected value gives way to, e.g. "using default '300'". */
static char *fallback_text(const struct settings *s, enum settings_key k)
{
	const struct desc *d = &descs[k];
	if (is_hidden(d->kind))
		return xstrdup(s->source[k] == SETTINGS_YAML
		                   ? "using the one from settings.yml"
		                   : "using the one kept in the config dir");
	char *v = value_text(s, k);
	char *r;
	if (!v)
		r = xstrdup("leaving it unset");
	else if (s->source[k] == SETTINGS_YAML)
		r = xasprintf("using '%s' from settings.yml", v);
	else
		r = xasprintf("using default '%s'", v);
	free(v);
	return r;
}

static void set_defaults(struct settings *s)
{
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		const struct desc *d = &descs[k];
		struct val v = {d->def_int, NULL};
		if (d->kind == K_CONFIG)
			continue;
		if (d->kind == K_PATH)
			v.s = join_path(s->config_dir, d->def_str);
		else if (d->def_str)
			v.s = xstrdup(d->def_str);
		set_value(s, k, v, SETTINGS_DEFAULT);
	}
}

static const struct desc *find_desc(const char *name, enum settings_key *k)
{
	for (int i = 0; i < SETTINGS_NKEYS; i++) {
		if (!strcmp(name, descs[i].key) || !strcmp(name, descs[i].env)) {
			*k = (enum settings_key)i;
			return &descs[i];
		}
	}
	return NULL;
}

/* ---- settings.yml ---- */

/* The YAML value as text; NULL with why set when it cannot be one. */
static char *yaml_text(const struct desc *d, const json_t *v, const char **why)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_array(v) || json_is_object(v)) {
		*why = "must be a single value, not a list or a mapping";
		return NULL;
	}
	if (is_string_kind(d->kind)) {
		/* 0123 or 1e3 would lose what was written: make the user quote it. */
		*why = "must be a string (put it in quotes)";
		return NULL;
	}
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return xasprintf("%g", json_real_value(v));
}

static void unknown_key(struct settings *s, const struct store_yaml_doc *doc, const char *key)
{
	struct store_verr verr;
	struct err e;
	store_verr_init(&verr);
	json_t *loc = store_loc_key(NULL, key);
	store_verr_unknown(&verr, loc);
	store_yaml_doc_verr(doc, &verr, &e);
	const char *hint = "";
	char *lower = xstrdup(key);
	for (char *p = lower; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	enum settings_key k;
	if (!strcmp(key, "url_refresh_interval"))
		hint = " (did you mean 'url_healthcheck_interval'?)";
	else if (strcmp(lower, key) && find_desc(lower, &k))
		hint = " (keys are lower case)";
	warn(s, "%s%s; ignoring it", e.msg, hint);
	free(lower);
	json_decref(loc);
	store_verr_release(&verr);
}

static void yaml_entry(struct settings *s, const struct store_yaml_doc *doc, const char *key,
                       const json_t *v)
{
	enum settings_key k;
	const struct desc *d = find_desc(key, &k);
	if (!d || strcmp(key, d->key)) {
		unknown_key(s, doc, key);
		return;
	}
	if (json_is_null(v))
		return;
	json_t *loc = store_loc_key(NULL, key);
	struct err e;
	const char *why = NULL;
	char whybuf[160];
	char *text = d->kind == K_CONFIG ? NULL : yaml_text(d, v, &why);
	struct val val;
	if (d->kind == K_CONFIG) {
		store_yaml_doc_errf(doc, loc, &e, "'%s' cannot be set in settings.yml; ignoring it",
		                    key);
		warn(s, "%s", e.msg);
	} else if (text && !parse_value(d, s->config_dir, text, &val, whybuf, sizeof(whybuf))) {
		set_value(s, k, val, SETTINGS_YAML);
	} else {
		char *fb = fallback_text(s, k);
		if (text && may_echo(d->kind))
			store_yaml_doc_errf(doc, loc, &e, "invalid %s '%.100s': %s; %s", key, text,
			                    whybuf, fb);
		else
			store_yaml_doc_errf(doc, loc, &e, "invalid %s: %s; %s", key,
			                    text ? whybuf : why, fb);
		warn(s, "%s", e.msg);
		free(fb);
	}
	if (text && is_hidden(d->kind))
		sodium_memzero(text, strlen(text));
	free(text);
	json_decref(loc);
}

static void load_yaml(struct settings *s)
{
	char *path = join_path(s->config_dir, "settings.yml");
	struct buf b;
	struct err e;
	struct store_yaml_doc *doc = NULL;
	json_t *root = NULL;
	buf_init(&b, SETTINGS_YAML_MAX);
	int rc = fileio_read(path, &b, &e);
	if (rc == ERR_NOTFOUND)
		goto out;
	if (rc || store_yaml_doc_parse(&doc, b.data, b.len, path, &e) ||
	    store_yaml_doc_json(doc, &root, &e)) {
		warn(s, "%s; ignoring '%s'", e.msg, path);
		goto out;
	}
	if (json_is_null(root))
		goto out;
	if (!json_is_object(root)) {
		store_yaml_doc_errf(doc, NULL, &e, "settings must be a mapping of key: value");
		warn(s, "%s; ignoring '%s'", e.msg, path);
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach (root, key, v)
		yaml_entry(s, doc, key, v);
out:
	json_decref(root);
	store_yaml_doc_free(doc);
	sodium_memzero(b.data, b.alloc);
	buf_release(&b);
	free(path);
}

/* ---- environment ---- */

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

static void load_env(struct settings *s, const char *(*getenv_fn)(const char *))
{
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		const struct desc *d = &descs[k];
		const char *text = getenv_fn(d->env);
		if (!text || !*text)
			continue;
		if (d->kind == K_CONFIG) {
			if (!strcmp(text, s->config_dir))
				s->source[k] = SETTINGS_ENV;
			continue;
		}
		struct val v;
		char why[160];
		if (!parse_value(d, s->config_dir, text, &v, why, sizeof(why))) {
			set_value(s, k, v, SETTINGS_ENV);
			continue;
		}
		char *fb = fallback_text(s, k);
		if (!may_echo(d->kind))
			warn(s, "invalid %s in the environment: %s; %s", d->env, why, fb);
		else
			warn(s, "invalid %s '%.100s' in the environment: %s; %s", d->env, text, why,
			     fb);
		free(fb);
	}
}

/* ---- generated secrets ---- */

/* Write a file only its owner may read: temp (0600) + fsync + rename. */
static int write_private(const char *path, const char *data, struct err *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc = 0;
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(e, ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	if (n < 0 || (size_t)n != len || fchmod(fd, 0600) < 0 || fsync(fd) < 0) {
		rc = err_set(e, ERR_IO, "cannot write '%s': %s", tmp,
		             n < 0 ? strerror(errno) : "short write");
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = err_set(e, ERR_IO, "cannot rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

/* A fresh random secret: 32 bytes as 64 hex digits. */
static char *random_hex(struct err *e)
{
	if (sodium_init() < 0) {
		err_set(e, ERR_IO, "cannot initialise libsodium's random generator");
		return NULL;
	}
	unsigned char raw[32];
	char hex[2 * sizeof(raw) + 1];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	char *r = xstrdup(hex);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(hex, sizeof(hex));
	return r;
}

/* Read <config>/name; 0 with *out set, 1 when missing or unusable, ERR_IO. */
static int read_kept(struct settings *s, const char *path, enum settings_key k, char **out,
                     struct err *e)
{
	struct buf b;
	buf_init(&b, SETTINGS_SECRET_MAX + 64);
	int rc = fileio_read(path, &b, e);
	if (rc == ERR_NOTFOUND) {
		rc = 1;
		goto out;
	}
	if (rc == ERR_TOOBIG) {
		rc = 1;
		warn(s, "'%s' is too large to hold a %s; generating a new one", path, descs[k].key);
		goto out;
	}
	if (rc)
		goto out;
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	char why[160];
	struct val v;
	if (strlen(b.data) != b.len ||
	    parse_value(&descs[k], s->config_dir, b.data, &v, why, sizeof(why))) {
		warn(s, "'%s' does not hold a valid %s; generating a new one", path, descs[k].key);
		rc = 1;
		goto out;
	}
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		if (chmod(path, 0600) == 0)
			warn(s, "'%s' was readable by others; its mode is now 0600", path);
		else
			warn(s, "'%s' is readable by others and cannot be changed: %s", path,
			     strerror(errno));
	}
	*out = v.s;
out:
	sodium_memzero(b.data, b.alloc);
	buf_release(&b);
	return rc;
}

/* Fill an unconfigured secret from <config>/name, generating the file if needed. */
static int keep_secret(struct settings *s, enum settings_key k, const char *name, int *generated,
                       struct err *e)
{
	char *path = join_path(s->config_dir, name);
	char *value = NULL, *line = NULL;
	int rc = read_kept(s, path, k, &value, e);
	if (rc == 1) {
		rc = 0;
		if (!(value = random_hex(e))) {
			rc = ERR_IO;
			goto out;
		}
		line = xasprintf("%s\n", value);
		if ((rc = write_private(path, line, e)))
			goto out;
		*generated = 1;
		log_info("generated a new %s in '%s'", name, path);
	}
	if (!rc) {
		set_value(s, k, (struct val){0, value}, SETTINGS_DEFAULT);
		value = NULL;
	}
out:
	if (value)
		sodium_memzero(value, strlen(value));
	if (line)
		sodium_memzero(line, strlen(line));
	free(value);
	free(line);
	free(path);
	return rc;
}

/* ---- settings.example.yml ---- */

static void example_entry(struct buf *b, enum settings_key k)
{
	const struct desc *d = &descs[k];
	buf_adds(b, "\n");
	for (const char *p = d->comment; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		buf_addf(b, "# %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	if (d->kind == K_CONFIG) {
		buf_addf(b, "# Environment: %s.\n", d->env);
		return;
	}
	buf_addf(b, "# Environment: %s (wins over this file).\n", d->env);
	json_t *one = json_object();
	if (d->kind == K_PATH || d->kind == K_LISTEN || d->kind == K_ICON_SOURCES) {
		json_object_set_new(one, d->key, json_string(d->def_str));
	} else if (!is_string_kind(d->kind)) {
		/* The defaults, not s's values: this file documents, it does not echo. */
		struct settings dflt;
		memset(&dflt, 0, sizeof(dflt));
		*int_field(&dflt, d) = d->def_int;
		char *v = value_text(&dflt, k);
		if (d->kind == K_INT)
			json_object_set_new(one, d->key, json_integer(d->def_int));
		else if (d->kind == K_BOOL)
			json_object_set_new(one, d->key, json_boolean(d->def_int));
		else
			json_object_set_new(one, d->key, json_string(v));
		free(v);
	}
	if (json_object_size(one)) {
		store_yaml_emit_json(one, b);
	} else {
		buf_addf(b, "# %s:%s\n", d->key,
		         d->kind == K_URL ? " http://dozzle.example.com:8080" : "");
	}
	json_decref(one);
}

static void write_example(struct settings *s)
{
	struct buf b;
	struct err e;
	buf_init(&b, 0);
	buf_adds(&b, "# settings.example.yml: every portolan setting with its default.\n"
	             "# portolan rewrites this file at every start; edits here are lost.\n"
	             "# Copy the lines you want to change into settings.yml, in this same\n"
	             "# directory. The environment variable named beside each setting wins\n"
	             "# over settings.yml; an invalid value is logged and not used.\n");
	for (int k = 0; k < SETTINGS_NKEYS; k++)
		example_entry(&b, (enum settings_key)k);
	char *path = join_path(s->config_dir, "settings.example.yml");
	if (fileio_write_atomic(path, b.data, b.len, NULL, &e))
		warn(s, "%s", e.msg);
	free(path);
	buf_release(&b);
}

/* ---- the API ---- */

static int load(struct settings **out, const char *config_dir,
                const char *(*getenv_fn)(const char *), int write_files, struct err *e)
{
	struct settings *s = xcalloc(1, sizeof(*s));
	int rc = 0;
	s->config_dir = xstrdup(config_dir);
	if (write_files && (rc = fileio_mkdirs(config_dir, e)))
		goto out;
	set_defaults(s);
	load_yaml(s);
	load_env(s, getenv_fn ? getenv_fn : real_getenv);
	if (!write_files) {
		*out = s;
		return 0;
	}
	if (!s->api_token &&
	    (rc = keep_secret(s, SETTINGS_API_TOKEN, "api_token", &s->api_token_generated, e)))
		goto out;
	if (!s->secret_key &&
	    (rc = keep_secret(s, SETTINGS_SECRET_KEY, "secret_key", &s->secret_key_generated, e)))
		goto out;
	write_example(s);
	*out = s;
	s = NULL;
out:
	settings_free(s);
	return rc;
}

int settings_load(struct settings **out, const char *config_dir,
                  const char *(*getenv_fn)(const char *), struct err *e)
{
	return load(out, config_dir, getenv_fn, 1, e);
}

int settings_read(struct settings **out, const char *config_dir,
                  const char *(*getenv_fn)(const char *), struct err *e)
{
	return load(out, config_dir, getenv_fn, 0, e);
}

void settings_free(struct settings *s)
{
	if (!s)
		return;
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		if (!is_string_kind(descs[k].kind))
			continue;
		char **f = str_field(s, &descs[k]);
		if (*f && is_hidden(descs[k].kind))
			sodium_memzero(*f, strlen(*f));
		free(*f);
	}
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}

int settings_override(struct settings *s, const char *name, const char *value, struct err *e)
{
	enum settings_key k;
	const struct desc *d = find_desc(name, &k);
	if (!d)
		return err_set(e, ERR_NOTFOUND, "unknown setting '%s'", name);
	if (d->kind == K_CONFIG) {
		if (strcmp(value, s->config_dir))
			return err_set(e, ERR_INVAL, "the config dir is '%s', not '%s'",
			               s->config_dir, value);
		s->source[k] = SETTINGS_CLI;
		return 0;
	}
	struct val v;
	char why[160];
	if (parse_value(d, s->config_dir, value, &v, why, sizeof(why))) {
		if (!may_echo(d->kind))
			return err_set(e, ERR_INVAL, "invalid %s: %s", d->key, why);
		return err_set(e, ERR_INVAL, "invalid %s '%.100s': %s", d->key, value, why);
	}
	set_value(s, k, v, SETTINGS_CLI);
	if (k == SETTINGS_API_TOKEN)
		s->api_token_generated = 0;
	if (k == SETTINGS_SECRET_KEY)
		s->secret_key_generated = 0;
	return 0;
}

json_t *settings_to_json(const struct settings *s)
{
	json_t *o = json_object();
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		const struct desc *d = &descs[k];
		json_t *v;
		const void *base = s;
		int i =
		    is_string_kind(d->kind) ? 0 : *(const int *)((const char *)base + d->offset);
		if (is_hidden(d->kind)) {
			v = json_string(MASK);
		} else if (d->kind == K_INT) {
			v = json_integer(i);
		} else if (d->kind == K_BOOL) {
			v = json_boolean(i);
		} else {
			char *t = value_text(s, (enum settings_key)k);
			v = t ? json_string(t) : json_null();
			free(t);
		}
		json_object_set_new(o, d->key,
		                    json_pack("{s:o, s:s, s:s}", "value", v, "source",
		                              settings_source_name(s->source[k]), "env", d->env));
	}
	return o;
}

const char *settings_source_name(enum settings_source src)
{
	static const char *const names[] = {"default", "yaml", "env", "cli"};
	return (unsigned)src < 4 ? names[src] : "?";
}

const char *settings_key_name(enum settings_key k)
{
	return (unsigned)k < SETTINGS_NKEYS ? descs[k].key : NULL;
}

const char *settings_env_name(enum settings_key k)
{
	return (unsigned)k < SETTINGS_NKEYS ? descs[k].env : NULL;
}

int settings_parse_listen(const char *listen, char **host, int *port)
{
	const char *ports;
	char *h = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	if (!listen)
		return ERR_INVAL;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':')
			return ERR_INVAL;
		h = xstrndup(listen + 1, (size_t)(close - listen - 1));
		if (inet_pton(AF_INET6, h, &a6) != 1)
			goto bad;
		ports = close + 2;
	} else {
		const char *colon = strchr(listen, ':');
		if (!colon)
			return ERR_INVAL;
		if (colon == listen)
			h = xstrdup("0.0.0.0");
		else if ((size_t)(colon - listen) == 9 && !strncasecmp(listen, "localhost", 9))
			h = xstrdup("127.0.0.1");
		else
			h = xstrndup(listen, (size_t)(colon - listen));
		if (inet_pton(AF_INET, h, &a4) != 1)
			goto bad;
		ports = colon + 1;
	}
	size_t n = strspn(ports, "0123456789");
	int p = 0;
	if (!n || n > 5 || ports[n])
		goto bad;
	for (size_t i = 0; i < n; i++)
		p = p * 10 + (ports[i] - '0');
	if (p < 1 || p > 65535)
		goto bad;
	*host = h;
	*port = p;
	return 0;
bad:
	free(h);
	return ERR_INVAL;
}
