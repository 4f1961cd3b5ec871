/*
 * The daemon's settings: STD's environment names and settings.yml keys
 * plus portolan's own. Each setting comes from the environment, else
 * <config>/settings.yml (keys are the lowercase environment names), else
 * its default; --listen style command-line overrides come last
 * (settings_override). A value that does not validate is never used and
 * never silently dropped: it is logged as a warning, kept in
 * s->warnings, and the next source down applies. Relative paths are
 * taken relative to the config dir; an environment variable set to the
 * empty string counts as unset, as does a null in settings.yml.
 *
 * A struct settings is immutable once loaded and owned by whoever loaded
 * it; a reload loads a new one and swaps the pointer. The API token and
 * the secret key are never empty: when not configured they are read from
 * (or generated into) <config>/api_token and <config>/secret_key, mode
 * 0600. They never appear in a warning, a log line or settings_to_json.
 */
#ifndef DAEMON_SETTINGS_H
#define DAEMON_SETTINGS_H

#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"

enum settings_source { SETTINGS_DEFAULT, SETTINGS_YAML, SETTINGS_ENV, SETTINGS_CLI };

/* One per setting, in the order settings_to_json and settings.example.yml list them. */
enum settings_key {
	SETTINGS_API_TOKEN,
	SETTINGS_DOZZLE_URL,
	SETTINGS_BACKUP_PATH,
	SETTINGS_BACKUP_DAYS_TO_KEEP,
	SETTINGS_BACKUP_TIME,
	SETTINGS_URL_HEALTHCHECK_INTERVAL,
	SETTINGS_HEALTHCHECK_TIMEOUT,
	SETTINGS_HEALTHCHECK_CONCURRENCY,
	SETTINGS_WIDGET_BACKGROUND_RELOAD,
	SETTINGS_WIDGET_TIMEOUT,
	SETTINGS_WIDGET_VALUE_RETENTION_DAYS,
	SETTINGS_REGISTER_FIELD_OWNERSHIP,
	SETTINGS_USER_SESSION_LENGTH,
	SETTINGS_SECRET_KEY,
	SETTINGS_PORTOLAN_CONFIG,
	SETTINGS_LISTEN,
	SETTINGS_SITE_DIR,
	SETTINGS_STALE_AFTER,
	SETTINGS_LOG_LEVEL,
	SETTINGS_DASHBOARD_PUBLIC,
	SETTINGS_ICON_SOURCES,
	SETTINGS_ICON_RETRY_AFTER,
	SETTINGS_ICON_FETCH_TIMEOUT,
	SETTINGS_GIT_REMOTE,
	SETTINGS_GIT_SYNC_INTERVAL,
	SETTINGS_GIT_SSH_KEY,
	SETTINGS_GIT_TOKEN,
	SETTINGS_HOOK_TIMEOUT,
	SETTINGS_NKEYS
};

struct settings {
	char *api_token;         /* API_TOKEN; never empty */
	int api_token_generated; /* 1 when this load created it: the caller prints it once */
	char *dozzle_url;        /* STD_DOZZLE_URL, http(s); NULL = unset */
	char *backup_path;       /* BACKUP_PATH, default <config>/backups */
	int backup_days_to_keep; /* BACKUP_DAYS_TO_KEEP, 7, 1..3650 */
	char *backup_time;       /* BACKUP_TIME, "HH:MM" local time of the daily backup, "00:05" */
	int url_healthcheck_interval; /* URL_HEALTHCHECK_INTERVAL, seconds, 300, 10..86400 */
	int healthcheck_timeout;      /* HEALTHCHECK_TIMEOUT, seconds, 5, 1..60 */
	int healthcheck_concurrency;  /* HEALTHCHECK_CONCURRENCY, checks in flight, 64, 1..1024 */
	int widget_background_reload; /* WIDGET_BACKGROUND_RELOAD, seconds, 900, 30..86400 */
	int widget_timeout;           /* WIDGET_TIMEOUT, seconds per request, 10, 1..60 */
	int widget_value_retention_days; /* WIDGET_VALUE_RETENTION_DAYS, 30, 1..3650 */
	int register_field_ownership;    /* REGISTER_FIELD_OWNERSHIP, enum store_ownership */
	int user_session_length;         /* USER_SESSION_LENGTH, minutes, 120, 1..525600 */
	char *secret_key;                /* FLASK_SECRET_KEY; never empty */
	int secret_key_generated;        /* 1 when this load created it */
	char *config_dir;                /* PORTOLAN_CONFIG: the dir settings_load was given */
	char *listen;                    /* LISTEN, "127.0.0.1:8815" (see settings_parse_listen) */
	char *site_dir;                  /* SITE_DIR, default <config>/site */
	int stale_after;                 /* STALE_AFTER, seconds, 300, 10..2678400 */
	int log_level;                   /* LOG_LEVEL, enum log_level, info */
	int dashboard_public;            /* DASHBOARD_PUBLIC, 0 */
	char *
	    icon_sources; /* ICON_SOURCES: URL templates, one space between; "none" = no fetching */
	int icon_retry_after;   /* ICON_RETRY_AFTER, seconds before a failed icon is tried again,
	                           86400 */
	int icon_fetch_timeout; /* ICON_FETCH_TIMEOUT, seconds, 10, 1..120 */
	char *git_remote;       /* GIT_REMOTE; NULL = no remote */
	int git_sync_interval;  /* GIT_SYNC_INTERVAL, seconds, 300, 1..86400 */
	char *git_ssh_key;      /* GIT_SSH_KEY, default <config>/ssh/id_ed25519 */
	char *git_token;        /* GIT_TOKEN; NULL = none; never shown */
	int hook_timeout;       /* HOOK_TIMEOUT, seconds a hook may run, 30, 1..3600 */

	enum settings_source source[SETTINGS_NKEYS];
	char **warnings; /* every problem found while loading, as logged */
	size_t nwarnings;
};

/*
 * Load the settings for config_dir (created if missing): defaults, then
 * <config>/settings.yml, then the environment through getenv_fn (NULL =
 * getenv). Problems with values, keys or the whole settings.yml are
 * warnings (file:line:col for the file), not errors. Writes
 * <config>/settings.example.yml (every key, its default, a comment) and,
 * when needed, the api_token and secret_key files. ERR_IO when the
 * config dir or one of those files cannot be created or read.
 */
int settings_load(struct settings **out, const char *config_dir,
                  const char *(*getenv_fn)(const char *), struct err *e);
/*
 * Like settings_load, but writes nothing: no secrets are generated (so
 * api_token/secret_key may be NULL) and no example file is written. For
 * CLI commands that only read settings (the daemon still prints a token it
 * generates on its first start).
 */
int settings_read(struct settings **out, const char *config_dir,
                  const char *(*getenv_fn)(const char *), struct err *e);
/* Free s and everything it holds; NULL is fine. */
void settings_free(struct settings *s);

/*
 * Set one setting (environment name or settings.yml key) from the command
 * line, source SETTINGS_CLI. Unlike the other sources an invalid value is
 * an error: ERR_INVAL (s unchanged), ERR_NOTFOUND for an unknown name.
 * PORTOLAN_CONFIG only accepts s->config_dir (it records --config).
 */
int settings_override(struct settings *s, const char *name, const char *value, struct err *e);

/*
 * {"api_token": {"value": "********", "source": "default", "env": "API_TOKEN"}, ...}
 * for every setting in enum order, keyed by its settings.yml name; the API
 * token and secret key are masked; an unset value is null. New reference.
 */
json_t *settings_to_json(const struct settings *s);

/* "default", "yaml", "env" or "cli". */
const char *settings_source_name(enum settings_source src);
/* The settings.yml key ("api_token") and the environment name ("API_TOKEN") of a setting. */
const char *settings_key_name(enum settings_key k);
const char *settings_env_name(enum settings_key k);

/*
 * Split a LISTEN value into the IP address to bind and the port:
 * "1.2.3.4:port", "[ipv6]:port", "localhost:port" (127.0.0.1) or ":port"
 * (0.0.0.0); port 1..65535. Returns 0 with *host (malloc'd, never NULL)
 * and *port set, or ERR_INVAL (-1) when malformed.
 */
int settings_parse_listen(const char *listen, char **host, int *port);

/* "HH:MM" (24-hour, 2 digits each) to minutes after midnight in *minutes (optional); -1 if not. */
int settings_parse_clock(const char *text, int *minutes);

#endif
