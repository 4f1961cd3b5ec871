/*
 * Tests for daemon/settings.c: precedence (environment > settings.yml >
 * default) with the source reported, every invalid value warned about and
 * replaced, the generated API token and secret key (mode 0600, reused,
 * never shown), settings.example.yml, and LISTEN parsing. Each case works
 * in a fresh mkdtemp config dir with a fake environment.
 * Run one case: ./test_settings.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/fileio.h"
#include "../../common/log.h"
#include "../../common/xalloc.h"
#include "../../daemon/settings.h"
#include "../../store/merge.h"
#include "../../store/yaml.h"
#include "../../common/banned.h"

#define MAXENV 16

/* The fake environment settings_load sees: name/value pairs, NULL-terminated. */
static const char *env[2 * MAXENV + 1];

static const char *fake_getenv(const char *name)
{
	for (size_t i = 0; env[i]; i += 2)
		if (!strcmp(env[i], name))
			return env[i + 1];
	return NULL;
}

static void setenv_fake(const char *name, const char *value)
{
	size_t i = 0;
	while (env[i] && strcmp(env[i], name))
		i += 2;
	assert_true(i < 2 * MAXENV);
	env[i] = name;
	env[i + 1] = value;
}

struct fx {
	char tmp[64];
	char *config;
	struct settings *s;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-settings.XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	f->config = xasprintf("%s/config", f->tmp);
	memset(env, 0, sizeof(env));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	settings_free(f->s);
	fileio_remove_tree(f->tmp, NULL);
	free(f->config);
	free(f);
	return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct err e = {0};
	assert_int_equal(fileio_write_atomic(path, text, strlen(text), NULL, &e), 0);
	free(path);
}

static char *read_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct buf b;
	struct err e = {0};
	buf_init(&b, 0);
	int rc = fileio_read(path, &b, &e);
	free(path);
	if (rc) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int file_mode(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int rc = stat(path, &st);
	free(path);
	return rc < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* Load f->config (replacing f->s) and return it; the load must succeed. */
static struct settings *load(struct fx *f)
{
	struct err e = {0};
	settings_free(f->s);
	f->s = NULL;
	int rc = settings_load(&f->s, f->config, fake_getenv, &e);
	if (rc)
		fail_msg("settings_load: %s", e.msg);
	return f->s;
}

static void assert_warned(const struct settings *s, const char *needle)
{
	for (size_t i = 0; i < s->nwarnings; i++)
		if (strstr(s->warnings[i], needle))
			return;
	for (size_t i = 0; i < s->nwarnings; i++)
		print_message("warning: %s\n", s->warnings[i]);
	fail_msg("no warning contains '%s'", needle);
}

static void assert_no_warnings(const struct settings *s)
{
	for (size_t i = 0; i < s->nwarnings; i++)
		print_message("warning: %s\n", s->warnings[i]);
	assert_int_equal(s->nwarnings, 0);
}

/* ---- defaults and generated secrets ---- */

static void defaults_when_nothing_is_set(void **state)
{
	struct fx *f = *state;
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_null(s->dozzle_url);
	char *backups = xasprintf("%s/backups", f->config);
	char *site = xasprintf("%s/site", f->config);
	assert_string_equal(s->backup_path, backups);
	assert_string_equal(s->site_dir, site);
	free(backups);
	free(site);
	assert_int_equal(s->backup_days_to_keep, 7);
	assert_int_equal(s->url_healthcheck_interval, 300);
	assert_int_equal(s->widget_background_reload, 900);
	assert_int_equal(s->widget_value_retention_days, 30);
	assert_int_equal(s->register_field_ownership, STORE_USER_WINS);
	assert_int_equal(s->user_session_length, 120);
	assert_string_equal(s->listen, "127.0.0.1:8815");
	assert_int_equal(s->stale_after, 300);
	assert_int_equal(s->log_level, LOG_INFO);
	assert_int_equal(s->dashboard_public, 0);
	assert_string_equal(s->config_dir, f->config);
	for (int k = 0; k < SETTINGS_NKEYS; k++)
		assert_int_equal(s->source[k], SETTINGS_DEFAULT);
}

static void token_generated_once_with_mode_0600(void **state)
{
	struct fx *f = *state;
	struct settings *s = load(f);
	assert_int_equal(s->api_token_generated, 1);
	assert_int_equal(strlen(s->api_token), 64);
	assert_int_equal(strspn(s->api_token, "0123456789abcdef"), 64);
	assert_int_equal(file_mode(f->config, "api_token"), 0600);
	assert_int_equal(file_mode(f->config, "secret_key"), 0600);
	char *kept = read_file(f->config, "api_token");
	char *line = xasprintf("%s\n", s->api_token);
	assert_string_equal(kept, line);
	free(kept);
	free(line);
	assert_string_not_equal(s->api_token, s->secret_key);
}

static void token_and_secret_reused_on_later_loads(void **state)
{
	struct fx *f = *state;
	struct settings *s = load(f);
	char *token = xstrdup(s->api_token), *secret = xstrdup(s->secret_key);
	s = load(f);
	assert_int_equal(s->api_token_generated, 0);
	assert_int_equal(s->secret_key_generated, 0);
	assert_string_equal(s->api_token, token);
	assert_string_equal(s->secret_key, secret);
	assert_int_equal(s->source[SETTINGS_API_TOKEN], SETTINGS_DEFAULT);
	assert_no_warnings(s);
	free(token);
	free(secret);
}

static void token_file_mode_tightened(void **state)
{
	struct fx *f = *state;
	load(f);
	char *path = xasprintf("%s/api_token", f->config);
	assert_int_equal(chmod(path, 0644), 0);
	free(path);
	struct settings *s = load(f);
	assert_int_equal(file_mode(f->config, "api_token"), 0600);
	assert_warned(s, "mode is now 0600");
}

static void broken_token_file_replaced(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "api_token", "has a space\n");
	struct settings *s = load(f);
	assert_int_equal(s->api_token_generated, 1);
	assert_int_equal(strlen(s->api_token), 64);
	assert_warned(s, "does not hold a valid api_token");
}

static void configured_token_writes_no_file(void **state)
{
	struct fx *f = *state;
	setenv_fake("API_TOKEN", "supersecrettoken");
	setenv_fake("FLASK_SECRET_KEY", "change me");
	struct settings *s = load(f);
	assert_string_equal(s->api_token, "supersecrettoken");
	assert_string_equal(s->secret_key, "change me");
	assert_int_equal(s->api_token_generated, 0);
	assert_int_equal(s->source[SETTINGS_API_TOKEN], SETTINGS_ENV);
	assert_int_equal(s->source[SETTINGS_SECRET_KEY], SETTINGS_ENV);
	assert_int_equal(file_mode(f->config, "api_token"), -1);
	assert_int_equal(file_mode(f->config, "secret_key"), -1);
}

static void config_dir_created(void **state)
{
	struct fx *f = *state;
	free(f->config);
	f->config = xasprintf("%s/a/b/config", f->tmp);
	load(f);
	assert_int_not_equal(file_mode(f->config, "settings.example.yml"), -1);
}

static void config_dir_that_cannot_be_created_fails(void **state)
{
	struct fx *f = *state;
	write_file(f->tmp, "file", "x");
	free(f->config);
	f->config = xasprintf("%s/file/config", f->tmp);
	struct err e = {0};
	assert_int_equal(settings_load(&f->s, f->config, fake_getenv, &e), ERR_IO);
	assert_null(f->s);
}

/* ---- precedence ---- */

#define YAML_SOME                                                                                  \
	"api_token: from-yaml\n"                                                                   \
	"std_dozzle_url: http://dozzle.lan:8080\n"                                                 \
	"url_healthcheck_interval: 600\n"                                                          \
	"register_field_ownership: notifier_wins\n"                                                \
	"listen: \":9000\"\n"                                                                      \
	"dashboard_public: yes\n"                                                                  \
	"log_level: debug\n"                                                                       \
	"backup_path: /srv/backups\n"

static void yaml_beats_default(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", YAML_SOME);
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_string_equal(s->api_token, "from-yaml");
	assert_string_equal(s->dozzle_url, "http://dozzle.lan:8080");
	assert_int_equal(s->url_healthcheck_interval, 600);
	assert_int_equal(s->register_field_ownership, STORE_NOTIFIER_WINS);
	assert_string_equal(s->listen, ":9000");
	assert_int_equal(s->dashboard_public, 1);
	assert_int_equal(s->log_level, LOG_DEBUG);
	assert_string_equal(s->backup_path, "/srv/backups");
	assert_int_equal(s->source[SETTINGS_API_TOKEN], SETTINGS_YAML);
	assert_int_equal(s->source[SETTINGS_DOZZLE_URL], SETTINGS_YAML);
	assert_int_equal(s->source[SETTINGS_URL_HEALTHCHECK_INTERVAL], SETTINGS_YAML);
	assert_int_equal(s->source[SETTINGS_LISTEN], SETTINGS_YAML);
	assert_int_equal(s->source[SETTINGS_BACKUP_DAYS_TO_KEEP], SETTINGS_DEFAULT);
	assert_int_equal(s->api_token_generated, 0);
	assert_int_equal(file_mode(f->config, "api_token"), -1);
}

static void env_beats_yaml(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", YAML_SOME);
	setenv_fake("API_TOKEN", "from-env");
	setenv_fake("URL_HEALTHCHECK_INTERVAL", "45");
	setenv_fake("REGISTER_FIELD_OWNERSHIP", "user_wins");
	setenv_fake("LISTEN", "[::1]:8815");
	setenv_fake("DASHBOARD_PUBLIC", "off");
	setenv_fake("BACKUP_DAYS_TO_KEEP", "14");
	setenv_fake("BACKUP_TIME", "23:59");
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_string_equal(s->backup_time, "23:59");
	assert_string_equal(s->api_token, "from-env");
	assert_int_equal(s->url_healthcheck_interval, 45);
	assert_int_equal(s->register_field_ownership, STORE_USER_WINS);
	assert_string_equal(s->listen, "[::1]:8815");
	assert_int_equal(s->dashboard_public, 0);
	assert_int_equal(s->backup_days_to_keep, 14);
	assert_int_equal(s->source[SETTINGS_API_TOKEN], SETTINGS_ENV);
	assert_int_equal(s->source[SETTINGS_URL_HEALTHCHECK_INTERVAL], SETTINGS_ENV);
	assert_int_equal(s->source[SETTINGS_BACKUP_DAYS_TO_KEEP], SETTINGS_ENV);
	/* Not in the environment: settings.yml still applies. */
	assert_string_equal(s->dozzle_url, "http://dozzle.lan:8080");
	assert_int_equal(s->source[SETTINGS_DOZZLE_URL], SETTINGS_YAML);
	assert_int_equal(s->log_level, LOG_DEBUG);
	assert_int_equal(s->source[SETTINGS_LOG_LEVEL], SETTINGS_YAML);
}

static void empty_env_and_yaml_null_count_as_unset(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", "stale_after: 60\nstd_dozzle_url:\nlisten: ~\n");
	setenv_fake("STALE_AFTER", "");
	setenv_fake("STD_DOZZLE_URL", "");
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_int_equal(s->stale_after, 60);
	assert_int_equal(s->source[SETTINGS_STALE_AFTER], SETTINGS_YAML);
	assert_null(s->dozzle_url);
	assert_int_equal(s->source[SETTINGS_DOZZLE_URL], SETTINGS_DEFAULT);
	assert_string_equal(s->listen, "127.0.0.1:8815");
}

static void icon_sources_parsed_and_checked(void **state)
{
	struct fx *f = *state;
	setenv_fake("ICON_SOURCES",
	            " http://127.0.0.1:9/svg/{name}.svg,https://cdn.example/p/{name}.png ");
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_string_equal(s->icon_sources,
	                    "http://127.0.0.1:9/svg/{name}.svg https://cdn.example/p/{name}.png");
	setenv_fake("ICON_SOURCES", "NONE");
	s = load(f);
	assert_string_equal(s->icon_sources, "none");
	/* Each of these falls back to the default with a warning that names the setting. */
	const char *bad[] = {"ftp://x/{name}.svg",     "http://x/{name}.gif",
	                     "http://x/icons.svg",     "http://x/{name}/{name}.svg",
	                     "file:///etc/{name}.png", "none http://x/{name}.svg"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		setenv_fake("ICON_SOURCES", bad[i]);
		s = load(f);
		assert_warned(s, "ICON_SOURCES");
		assert_int_equal(s->source[SETTINGS_ICON_SOURCES], SETTINGS_DEFAULT);
		assert_non_null(
		    strstr(s->icon_sources, "homarr-labs/dashboard-icons/svg/{name}.svg"));
	}
}

static void relative_paths_are_under_the_config_dir(void **state)
{
	struct fx *f = *state;
	setenv_fake("BACKUP_PATH", "bk");
	setenv_fake("SITE_DIR", "/var/www/portolan");
	struct settings *s = load(f);
	char *bk = xasprintf("%s/bk", f->config);
	assert_string_equal(s->backup_path, bk);
	assert_string_equal(s->site_dir, "/var/www/portolan");
	free(bk);
}

static void portolan_config_source(void **state)
{
	struct fx *f = *state;
	setenv_fake("PORTOLAN_CONFIG", f->config);
	struct settings *s = load(f);
	assert_int_equal(s->source[SETTINGS_PORTOLAN_CONFIG], SETTINGS_ENV);
	setenv_fake("PORTOLAN_CONFIG", "/elsewhere");
	s = load(f);
	assert_int_equal(s->source[SETTINGS_PORTOLAN_CONFIG], SETTINGS_DEFAULT);
	struct err e = {0};
	assert_int_equal(settings_override(s, "PORTOLAN_CONFIG", "/elsewhere", &e), ERR_INVAL);
	assert_int_equal(settings_override(s, "PORTOLAN_CONFIG", f->config, &e), 0);
	assert_int_equal(s->source[SETTINGS_PORTOLAN_CONFIG], SETTINGS_CLI);
}

static void bool_words(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *text;
		int value;
	} words[] = {{"true", 1},  {"TRUE", 1}, {"Yes", 1}, {"on", 1}, {"1", 1},
	             {"false", 0}, {"No", 0},   {"OFF", 0}, {"0", 0},  {" true ", 1}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		setenv_fake("DASHBOARD_PUBLIC", words[i].text);
		struct settings *s = load(f);
		assert_no_warnings(s);
		assert_int_equal(s->dashboard_public, words[i].value);
		assert_int_equal(s->source[SETTINGS_DASHBOARD_PUBLIC], SETTINGS_ENV);
	}
}

/* ---- invalid values ---- */

static void invalid_env_values_fall_back_to_the_default(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name, *value;
		enum settings_key key;
		const char *using;
	} cases[] = {
	    {"LISTEN", "x", SETTINGS_LISTEN, "using default '127.0.0.1:8815'"},
	    {"LISTEN", "1.2.3.4:0", SETTINGS_LISTEN, "using default"},
	    {"BACKUP_DAYS_TO_KEEP", "0", SETTINGS_BACKUP_DAYS_TO_KEEP, "using default '7'"},
	    {"BACKUP_TIME", "24:00", SETTINGS_BACKUP_TIME, "using default '00:05'"},
	    {"BACKUP_TIME", "1:30", SETTINGS_BACKUP_TIME, "using default '00:05'"},
	    {"BACKUP_TIME", "12:60", SETTINGS_BACKUP_TIME, "using default '00:05'"},
	    {"URL_HEALTHCHECK_INTERVAL", "abc", SETTINGS_URL_HEALTHCHECK_INTERVAL,
	     "using default '300'"},
	    {"URL_HEALTHCHECK_INTERVAL", "99999999999", SETTINGS_URL_HEALTHCHECK_INTERVAL,
	     "using default '300'"},
	    {"WIDGET_BACKGROUND_RELOAD", "5", SETTINGS_WIDGET_BACKGROUND_RELOAD,
	     "using default '900'"},
	    {"WIDGET_VALUE_RETENTION_DAYS", "4000", SETTINGS_WIDGET_VALUE_RETENTION_DAYS,
	     "using default '30'"},
	    {"REGISTER_FIELD_OWNERSHIP", "bogus", SETTINGS_REGISTER_FIELD_OWNERSHIP,
	     "using default 'user_wins'"},
	    {"USER_SESSION_LENGTH", "-1", SETTINGS_USER_SESSION_LENGTH, "using default '120'"},
	    {"STD_DOZZLE_URL", "ftp://dozzle", SETTINGS_DOZZLE_URL, "leaving it unset"},
	    {"STALE_AFTER", "1.5", SETTINGS_STALE_AFTER, "using default '300'"},
	    {"LOG_LEVEL", "loud", SETTINGS_LOG_LEVEL, "using default 'info'"},
	    {"DASHBOARD_PUBLIC", "maybe", SETTINGS_DASHBOARD_PUBLIC, "using default 'false'"},
	    {"BACKUP_PATH", "a\nb", SETTINGS_BACKUP_PATH, "using default"},
	    {"SITE_DIR", "a\tb", SETTINGS_SITE_DIR, "using default"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(env, 0, sizeof(env));
		setenv_fake(cases[i].name, cases[i].value);
		struct settings *s = load(f);
		json_t *j = settings_to_json(s);
		const char *key = settings_key_name(cases[i].key);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(j, key), "source")),
		    "default");
		json_decref(j);
		assert_int_equal(s->nwarnings, 1);
		assert_warned(s, cases[i].name);
		assert_warned(s, "in the environment");
		assert_warned(s, cases[i].using);
		assert_int_equal(s->source[cases[i].key], SETTINGS_DEFAULT);
	}
	/* The values really are the defaults. */
	struct settings *s = f->s;
	assert_string_equal(s->listen, "127.0.0.1:8815");
}

static void invalid_env_value_falls_back_to_yaml(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", "url_healthcheck_interval: 600\n");
	setenv_fake("URL_HEALTHCHECK_INTERVAL", "10s");
	struct settings *s = load(f);
	assert_int_equal(s->url_healthcheck_interval, 600);
	assert_int_equal(s->source[SETTINGS_URL_HEALTHCHECK_INTERVAL], SETTINGS_YAML);
	assert_warned(s, "invalid URL_HEALTHCHECK_INTERVAL '10s' in the environment: must be a "
	                 "whole number from 10 to 86400; using '600' from settings.yml");
}

static void invalid_secrets_are_not_echoed(void **state)
{
	struct fx *f = *state;
	setenv_fake("API_TOKEN", "bad token value");
	setenv_fake("FLASK_SECRET_KEY", "bad\x01secret");
	struct settings *s = load(f);
	assert_int_equal(s->nwarnings, 2);
	assert_warned(s, "invalid API_TOKEN in the environment");
	assert_warned(s, "invalid FLASK_SECRET_KEY in the environment");
	for (size_t i = 0; i < s->nwarnings; i++) {
		assert_null(strstr(s->warnings[i], "bad token"));
		assert_null(strstr(s->warnings[i], "secret\x01"));
	}
	/* Fell back to generated values. */
	assert_int_equal(s->api_token_generated, 1);
	assert_int_equal(strlen(s->api_token), 64);
}

static void invalid_yaml_value_warns_with_position(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml",
	           "backup_days_to_keep: 3\nlisten: nope\nstale_after: [1]\napi_token: 12345\n");
	struct settings *s = load(f);
	char *at = xasprintf("%s/settings.yml:2:9: invalid listen 'nope': must be", f->config);
	assert_warned(s, at);
	free(at);
	assert_warned(s, "settings.yml:3:14: invalid stale_after: must be a single value");
	assert_warned(s,
	              "settings.yml:4:12: invalid api_token: must be a string (put it in quotes)");
	assert_int_equal(s->nwarnings, 3);
	assert_int_equal(s->backup_days_to_keep, 3);
	assert_string_equal(s->listen, "127.0.0.1:8815");
	assert_int_equal(s->stale_after, 300);
	assert_int_equal(s->api_token_generated, 1);
}

static void unknown_yaml_keys_warn(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml",
	           "colour: blue\nurl_refresh_interval: 120\nAPI_TOKEN: abc\n"
	           "portolan_config: /x\nstale_after: 77\n");
	struct settings *s = load(f);
	assert_int_equal(s->nwarnings, 4);
	assert_warned(s, "settings.yml:1:1: unknown key 'colour'; ignoring it");
	assert_warned(s, "settings.yml:2:1: unknown key 'url_refresh_interval' (did you mean "
	                 "'url_healthcheck_interval'?)");
	assert_warned(s, "unknown key 'API_TOKEN' (keys are lower case)");
	assert_warned(s, "'portolan_config' cannot be set in settings.yml");
	assert_int_equal(s->stale_after, 77);
}

static void unparsable_yaml_is_ignored_with_position(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", "stale_after: 77\nlisten: [unclosed\n");
	struct settings *s = load(f);
	assert_int_equal(s->nwarnings, 1);
	char *prefix = xasprintf("%s/settings.yml:", f->config);
	assert_warned(s, prefix);
	free(prefix);
	assert_warned(s, "; ignoring '");
	assert_int_equal(s->stale_after, 300);
	assert_int_equal(s->source[SETTINGS_STALE_AFTER], SETTINGS_DEFAULT);
}

static void yaml_that_is_not_a_mapping_is_ignored(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", "- stale_after\n- 77\n");
	struct settings *s = load(f);
	assert_int_equal(s->nwarnings, 1);
	assert_warned(s, "settings.yml:1:1: settings must be a mapping");
}

static void empty_yaml_is_fine(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_mkdirs(f->config, NULL), 0);
	write_file(f->config, "settings.yml", "# nothing yet\n");
	assert_no_warnings(load(f));
}

/* ---- output ---- */

static void json_masks_secrets_and_reports_sources(void **state)
{
	struct fx *f = *state;
	setenv_fake("STALE_AFTER", "120");
	setenv_fake("FLASK_SECRET_KEY", "cookie-signing-key");
	struct settings *s = load(f);
	json_t *j = settings_to_json(s);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_null(strstr(text, s->api_token));
	assert_null(strstr(text, "cookie-signing-key"));
	assert_int_equal(json_object_size(j), SETTINGS_NKEYS);
	json_t *tok = json_object_get(j, "api_token");
	assert_string_equal(json_string_value(json_object_get(tok, "value")), "********");
	assert_string_equal(json_string_value(json_object_get(tok, "source")), "default");
	assert_string_equal(json_string_value(json_object_get(tok, "env")), "API_TOKEN");
	json_t *key = json_object_get(j, "flask_secret_key");
	assert_string_equal(json_string_value(json_object_get(key, "value")), "********");
	assert_string_equal(json_string_value(json_object_get(key, "source")), "env");
	json_t *stale = json_object_get(j, "stale_after");
	assert_int_equal(json_integer_value(json_object_get(stale, "value")), 120);
	assert_string_equal(json_string_value(json_object_get(stale, "source")), "env");
	assert_true(json_is_null(json_object_get(json_object_get(j, "std_dozzle_url"), "value")));
	assert_true(
	    json_is_false(json_object_get(json_object_get(j, "dashboard_public"), "value")));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "register_field_ownership"), "value")),
	                    "user_wins");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "log_level"), "value")), "info");
	free(text);
	json_decref(j);
}

static void example_lists_every_key_and_parses(void **state)
{
	struct fx *f = *state;
	load(f);
	char *text = read_file(f->config, "settings.example.yml");
	assert_non_null(text);
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		assert_non_null(strstr(text, settings_key_name((enum settings_key)k)));
		assert_non_null(strstr(text, settings_env_name((enum settings_key)k)));
	}
	json_t *doc = NULL;
	struct err e = {0};
	if (store_yaml_parse_json(&doc, text, strlen(text), "settings.example.yml", &e))
		fail_msg("%s", e.msg);
	assert_true(json_is_object(doc));
	assert_int_equal(json_integer_value(json_object_get(doc, "url_healthcheck_interval")), 300);
	assert_string_equal(json_string_value(json_object_get(doc, "listen")), "127.0.0.1:8815");
	assert_null(json_object_get(doc, "api_token"));
	json_decref(doc);

	/* Used as settings.yml it is valid and changes nothing. */
	write_file(f->config, "settings.yml", text);
	struct settings *s = load(f);
	assert_no_warnings(s);
	assert_int_equal(s->source[SETTINGS_LISTEN], SETTINGS_YAML);
	assert_string_equal(s->listen, "127.0.0.1:8815");
	char *backups = xasprintf("%s/backups", f->config);
	assert_string_equal(s->backup_path, backups);
	free(backups);
	assert_int_equal(s->widget_background_reload, 900);
	free(text);
}

static void example_is_the_same_whatever_the_settings(void **state)
{
	struct fx *f = *state;
	load(f);
	char *before = read_file(f->config, "settings.example.yml");
	setenv_fake("LISTEN", ":1234");
	setenv_fake("STALE_AFTER", "999");
	load(f);
	char *after = read_file(f->config, "settings.example.yml");
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void secrets_never_logged(void **state)
{
	struct fx *f = *state;
	char *log_path = xasprintf("%s/test.log", f->tmp);
	assert_int_equal(log_open_file(log_path, 1 << 20, 1), 0);
	log_set_level(LOG_DEBUG);
	setenv_fake("FLASK_SECRET_KEY", "bad\x02"
	                                "cookie");
	struct settings *s = load(f);
	log_close_file();
	log_set_level(LOG_ERROR);
	assert_int_equal(s->api_token_generated, 1);
	char *logged = read_file(f->tmp, "test.log");
	assert_non_null(logged);
	assert_non_null(strstr(logged, "generated a new api_token"));
	assert_non_null(strstr(logged, "invalid FLASK_SECRET_KEY"));
	assert_null(strstr(logged, s->api_token));
	assert_null(strstr(logged, s->secret_key));
	assert_null(strstr(logged, "cookie"));
	free(logged);
	free(log_path);
}

/* ---- overrides and LISTEN ---- */

static void override_from_the_command_line(void **state)
{
	struct fx *f = *state;
	setenv_fake("LISTEN", "127.0.0.1:9000");
	struct settings *s = load(f);
	struct err e = {0};
	assert_int_equal(settings_override(s, "LISTEN", "0.0.0.0:80", &e), 0);
	assert_string_equal(s->listen, "0.0.0.0:80");
	assert_int_equal(s->source[SETTINGS_LISTEN], SETTINGS_CLI);
	assert_int_equal(settings_override(s, "listen", "1.2.3.4:70000", &e), ERR_INVAL);
	assert_non_null(strstr(e.msg, "invalid listen '1.2.3.4:70000'"));
	assert_string_equal(s->listen, "0.0.0.0:80");
	assert_int_equal(settings_override(s, "NOPE", "1", &e), ERR_NOTFOUND);
	assert_int_equal(settings_override(s, "api_token", "bad token", &e), ERR_INVAL);
	assert_null(strstr(e.msg, "bad token"));
	json_t *j = settings_to_json(s);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "listen"), "source")), "cli");
	json_decref(j);
}

static void listen_parsing(void **state)
{
	(void)state;
	static const struct {
		const char *in, *host;
		int port;
	} good[] = {
	    {"127.0.0.1:8815", "127.0.0.1", 8815},
	    {"[::1]:8815", "::1", 8815},
	    {":8815", "0.0.0.0", 8815},
	    {"0.0.0.0:80", "0.0.0.0", 80},
	    {"localhost:1", "127.0.0.1", 1},
	    {"[::]:65535", "::", 65535},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *host = NULL;
		int port = 0;
		if (settings_parse_listen(good[i].in, &host, &port))
			fail_msg("'%s' rejected", good[i].in);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		free(host);
	}
	static const char *const bad[] = {
	    "x",        "1.2.3.4:0",    "1.2.3.4:70000",  "8815",      "",
	    ":",        "1.2.3.4:",     "::1:8815",       "[::1]8815", "[nope]:80",
	    "1.2.3:80", "999.1.1.1:80", "example.com:80", ":+80",      ":-1",
	    ":123456",  "1.2.3.4:80 ",  "[::1:80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *host = (char *)"untouched";
		int port = -7;
		if (settings_parse_listen(bad[i], &host, &port) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_string_equal(host, "untouched");
		assert_int_equal(port, -7);
	}
	char *host = NULL;
	int port;
	assert_int_equal(settings_parse_listen(NULL, &host, &port), -1);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(settings_source_name(SETTINGS_DEFAULT), "default");
	assert_string_equal(settings_source_name(SETTINGS_YAML), "yaml");
	assert_string_equal(settings_source_name(SETTINGS_ENV), "env");
	assert_string_equal(settings_source_name(SETTINGS_CLI), "cli");
	assert_string_equal(settings_key_name(SETTINGS_DOZZLE_URL), "std_dozzle_url");
	assert_string_equal(settings_env_name(SETTINGS_SECRET_KEY), "FLASK_SECRET_KEY");
	assert_null(settings_key_name(SETTINGS_NKEYS));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(defaults_when_nothing_is_set),
	    T(token_generated_once_with_mode_0600),
	    T(token_and_secret_reused_on_later_loads),
	    T(token_file_mode_tightened),
	    T(broken_token_file_replaced),
	    T(configured_token_writes_no_file),
	    T(config_dir_created),
	    T(config_dir_that_cannot_be_created_fails),
	    T(yaml_beats_default),
	    T(env_beats_yaml),
	    T(empty_env_and_yaml_null_count_as_unset),
	    T(icon_sources_parsed_and_checked),
	    T(relative_paths_are_under_the_config_dir),
	    T(portolan_config_source),
	    T(bool_words),
	    T(invalid_env_values_fall_back_to_the_default),
	    T(invalid_env_value_falls_back_to_yaml),
	    T(invalid_secrets_are_not_echoed),
	    T(invalid_yaml_value_warns_with_position),
	    T(unknown_yaml_keys_warn),
	    T(unparsable_yaml_is_ignored_with_position),
	    T(yaml_that_is_not_a_mapping_is_ignored),
	    T(empty_yaml_is_fine),
	    T(json_masks_secrets_and_reports_sources),
	    T(example_lists_every_key_and_parses),
	    T(example_is_the_same_whatever_the_settings),
	    T(secrets_never_logged),
	    T(override_from_the_command_line),
	    T(listen_parsing),
	    T(names),
	};
	/* Warnings are checked through s->warnings; keep the TAP output readable. */
	log_set_level(LOG_ERROR);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
