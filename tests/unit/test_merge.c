/*
 * The merge rules of spec/register.md ("Merge rules", "Exposure
 * synthesizer", "URL provenance") on in-memory records: store_merge_register,
 * store_synthesize, store_exposure_direction, store_exposure_validate and
 * store_derive_icon. JSON literals are written with single quotes for
 * readability and converted before parsing.
 * Run one case: ./test_merge.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/err.h"
#include "../../store/merge.h"
#include "../../store/payload.h"
#include "../../store/record.h"
#include "../../store/validate.h"

#define T0 1700000000
#define T1 1700000100

/* The identity every register below uses. */
#define ID "'host':'docker01','container_name':'nginx'"

struct fx {
	struct store_record rec;
	json_t *exposure;
	struct store_merge_ctx ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	store_record_init(&f->rec);
	f->rec.id = 7;
	f->ctx.exposure = NULL;
	f->ctx.ownership = STORE_USER_WINS;
	f->ctx.now = T0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_record_release(&f->rec);
	json_decref(f->exposure);
	free(f);
	return 0;
}

/* JSON text with ' for ", parsed; new reference. */
static json_t *q(const char *text)
{
	char *s = strdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	json_error_t je;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("bad JSON in test: %s: %s", s, je.text);
	free(s);
	return j;
}

/* Canonical compact text of a single-quoted JSON literal (malloc'd). */
static char *qtext(const char *text)
{
	json_t *j = q(text);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

/* Validate a register body and merge it into f->rec; returns the status. */
static int reg(struct fx *f, int exists, const char *text)
{
	struct store_payload p;
	struct store_verr v;
	store_verr_init(&v);
	json_t *body = q(text);
	int rc = store_payload_from_json(&p, body, &v);
	json_decref(body);
	if (rc) {
		char *d = json_dumps(v.details, 0);
		fail_msg("payload rejected: %s", d);
	}
	store_verr_release(&v);
	int st = store_merge_register(&f->rec, exists, &p, &f->ctx);
	store_payload_release(&p);
	return st;
}

static void create(struct fx *f, const char *text)
{
	assert_int_equal(reg(f, 0, text), STORE_MERGE_CREATED);
}

static void set_exposure(struct fx *f, const char *text)
{
	json_decref(f->exposure);
	f->exposure = q(text);
	f->ctx.exposure = f->exposure;
}

/* Put observations (single-quoted JSON) straight into the record. */
static void set_obs(struct fx *f, const char *text)
{
	free(f->rec.exposure_observations);
	f->rec.exposure_observations = qtext(text);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
}

#define assert_str(got, want)                                                                      \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!w_)                                                                           \
			assert_null(g_);                                                           \
		else if (!g_)                                                                      \
			fail_msg("%s is NULL, want '%s'", #got, w_);                               \
		else                                                                               \
			assert_string_equal(g_, w_);                                               \
	} while (0)

/* Field holds the canonical form of the single-quoted JSON literal want. */
static void assert_json_text(const char *got, const char *want)
{
	char *w = qtext(want);
	assert_str(got, w);
	free(w);
}

/* ------------------------------------------------------------------ */
/* New entries                                                         */
/* ------------------------------------------------------------------ */

static void new_entry_stores_every_given_field(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'container_id':'abc123','stack_name':'web','docker_status':'running',"
	          "'started_at':'2025-01-02T03:04:05Z','timestamp':'2025-01-02T03:04:06Z',"
	          "'internalurl':'http://nas:8080/','externalurl':'https://nginx.example/',"
	          "'internal_health_check_enabled':true,'external_health_check_enabled':'yes',"
	          "'image_name':'nginx:1.27.3','image_icon':'nginx-icon','group_name':'Web',"
	          "'sort_priority':5,'networks':[{'name':'proxy','aliases':['web']}],"
	          "'exposed_ports':['80/tcp'],'published_ports':[{'container_port':80,"
	          "'protocol':'tcp','host_ip':'0.0.0.0','host_port':8080}],"
	          "'exposure_observations':[{'layer':'traefik','hostname':'nginx.lan'}]}");
	struct store_record *r = &f->rec;
	assert_int_equal(r->id, 7);
	assert_str(r->host, "docker01");
	assert_str(r->container_name, "nginx");
	assert_str(r->container_id, "abc123");
	assert_str(r->stack_name, "web");
	assert_str(r->docker_status, "running");
	assert_str(r->started_at, "2025-01-02T03:04:05Z");
	assert_str(r->internalurl, "http://nas:8080/");
	assert_str(r->externalurl, "https://nginx.example/");
	assert_int_equal(r->internal_health_check_enabled, 1);
	assert_int_equal(r->external_health_check_enabled, 1);
	assert_str(r->image_registry, "docker.io");
	assert_str(r->image_owner, "library");
	assert_str(r->image_name, "nginx");
	assert_str(r->image_tag, "1.27.3");
	assert_null(r->image_digest);
	assert_str(r->image_icon, "nginx-icon");
	assert_int_equal(r->image_icon_source, STORE_ICON_NOTIFIER);
	assert_str(r->group_name, "Web");
	assert_true(r->sort_priority.set);
	assert_int_equal(r->sort_priority.value, 5);
	assert_str(r->notifier_reported_group_name, "Web");
	assert_true(r->notifier_reported_sort_priority.set);
	assert_int_equal(r->notifier_reported_sort_priority.value, 5);
	assert_json_text(r->networks, "[{'name':'proxy','aliases':['web']}]");
	assert_json_text(r->exposed_ports, "['80/tcp']");
	assert_json_text(r->published_ports, "[{'container_port':80,'protocol':'tcp',"
	                                     "'host_ip':'0.0.0.0','host_port':8080}]");
	assert_json_text(r->exposure_observations,
	                 "[{'layer':'traefik','hostname':'nginx.lan','tls':false,"
	                 "'path_prefix':null,'auth':null,'details':null}]");
	assert_null(r->notes);
	assert_int_equal(r->last_api_update, T0);
	assert_int_equal(r->last_updated, T0);
}

static void new_entry_urls_get_explicit_label(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internalurl':'http://a/','externalurl':'https://b/'}");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void new_entry_without_urls_has_no_source(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	assert_null(f->rec.internalurl);
	assert_null(f->rec.externalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_NONE);
}

static void new_entry_is_not_static(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	assert_int_equal(f->rec.is_static, 0);
}

static void new_entry_icon_derived_from_image_name(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_name':'lscr.io/linuxserver/sonarr:latest'}");
	assert_str(f->rec.image_icon, "sonarr");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_DERIVED);
	assert_str(f->rec.image_registry, "lscr.io");
	assert_str(f->rec.image_owner, "linuxserver");
	assert_str(f->rec.image_tag, "latest");
}

static void new_entry_icon_derived_from_container_name(void **state)
{
	struct fx *f = *state;
	create(f, "{'host':'docker01','container_name':'My Media App'}");
	assert_str(f->rec.image_icon, "my-media-app");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_DERIVED);
}

static void new_entry_with_digest_keeps_it_apart(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_name':'ghcr.io/o/n:1.2@sha256:"
	          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}");
	assert_str(f->rec.image_registry, "ghcr.io");
	assert_str(f->rec.image_owner, "o");
	assert_str(f->rec.image_name, "n");
	assert_str(f->rec.image_tag, "1.2");
	assert_str(f->rec.image_digest,
	           "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

/* ------------------------------------------------------------------ */
/* Static entries and status                                           */
/* ------------------------------------------------------------------ */

static void static_entry_skipped_and_unchanged(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'docker_status':'running','image_name':'nginx:1.27'}");
	f->rec.is_static = 1;
	struct store_record before;
	store_record_copy(&before, &f->rec);
	f->ctx.now = T1;
	int st = reg(f, 1,
	             "{" ID ",'docker_status':'exited','image_name':'nginx:1.28',"
	             "'internalurl':'http://x/','group_name':'G','networks':null}");
	int same = store_record_equal(&before, &f->rec, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_record_release(&before);
	assert_int_equal(st, STORE_MERGE_SKIPPED);
	assert_true(same);
	assert_int_equal(f->rec.last_api_update, T0);
}

static void status_created_for_new_entry(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reg(f, 0, "{" ID "}"), STORE_MERGE_CREATED);
}

static void status_updated_when_a_field_changes(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_name':'nginx:1.27.3'}");
	f->ctx.now = T1;
	assert_int_equal(reg(f, 1, "{" ID ",'image_name':'nginx:1.27.4'}"), STORE_MERGE_UPDATED);
	assert_int_equal(f->rec.last_updated, T1);
}

static void status_updated_when_only_live_state_changes(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'docker_status':'running'}");
	assert_int_equal(reg(f, 1, "{" ID ",'docker_status':'exited'}"), STORE_MERGE_UPDATED);
}

static void reregister_identical_payload_is_unchanged(void **state)
{
	struct fx *f = *state;
	const char *payload =
	    "{" ID ",'container_id':'abc','stack_name':'web','docker_status':'running',"
	    "'started_at':'s','internalurl':'http://a/','internal_health_check_enabled':true,"
	    "'image_name':'nginx:1.27','group_name':'Web','sort_priority':3,"
	    "'networks':[{'name':'n'}],'exposed_ports':['80/tcp'],'published_ports':[],"
	    "'exposure_observations':[{'layer':'traefik','hostname':'h.example','tls':true}]}";
	set_exposure(f, "{'layers':{'traefik':'external'},'hosts':{}}");
	create(f, payload);
	struct store_record before;
	store_record_copy(&before, &f->rec);
	f->ctx.now = T1;
	int st = reg(f, 1, payload);
	before.last_api_update = T1;
	int same = store_record_equal(&before, &f->rec, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_record_release(&before);
	assert_int_equal(st, STORE_MERGE_UNCHANGED);
	assert_true(same);
}

static void last_api_update_is_now_on_update(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'docker_status':'running'}");
	f->ctx.now = T1;
	reg(f, 1, "{" ID ",'docker_status':'exited'}");
	assert_int_equal(f->rec.last_api_update, T1);
}

static void last_api_update_is_now_when_unchanged(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	f->ctx.now = T1;
	assert_int_equal(reg(f, 1, "{" ID "}"), STORE_MERGE_UNCHANGED);
	assert_int_equal(f->rec.last_api_update, T1);
}

/* ------------------------------------------------------------------ */
/* Live strings and the image                                          */
/* ------------------------------------------------------------------ */

#define LIVE_V1                                                                                    \
	"{" ID ",'container_id':'c1','stack_name':'s1','docker_status':'running',"                 \
	"'started_at':'t1','image_name':'nginx:1.27.3'}"

static void assert_live_v1(const struct store_record *r)
{
	assert_str(r->container_id, "c1");
	assert_str(r->stack_name, "s1");
	assert_str(r->docker_status, "running");
	assert_str(r->started_at, "t1");
	assert_str(r->image_name, "nginx");
	assert_str(r->image_tag, "1.27.3");
}

static void live_strings_replaced_by_nonempty_values(void **state)
{
	struct fx *f = *state;
	create(f, LIVE_V1);
	reg(f, 1,
	    "{" ID ",'container_id':'c2','stack_name':'s2','docker_status':'exited',"
	    "'started_at':'t2','image_name':'ghcr.io/o/caddy:2'}");
	assert_str(f->rec.container_id, "c2");
	assert_str(f->rec.stack_name, "s2");
	assert_str(f->rec.docker_status, "exited");
	assert_str(f->rec.started_at, "t2");
	assert_str(f->rec.image_registry, "ghcr.io");
	assert_str(f->rec.image_owner, "o");
	assert_str(f->rec.image_name, "caddy");
	assert_str(f->rec.image_tag, "2");
}

static void live_strings_kept_on_empty_string(void **state)
{
	struct fx *f = *state;
	create(f, LIVE_V1);
	reg(f, 1,
	    "{" ID ",'container_id':'','stack_name':'','docker_status':'',"
	    "'started_at':'','image_name':''}");
	assert_live_v1(&f->rec);
}

static void live_strings_kept_on_null(void **state)
{
	struct fx *f = *state;
	create(f, LIVE_V1);
	reg(f, 1,
	    "{" ID ",'container_id':null,'stack_name':null,'docker_status':null,"
	    "'started_at':null,'image_name':null}");
	assert_live_v1(&f->rec);
}

static void live_strings_kept_when_absent(void **state)
{
	struct fx *f = *state;
	create(f, LIVE_V1);
	reg(f, 1, "{" ID "}");
	assert_live_v1(&f->rec);
}

static void new_image_with_digest_only_drops_old_tag(void **state)
{
	struct fx *f = *state;
	create(f, LIVE_V1);
	reg(f, 1,
	    "{" ID ",'image_name':'nginx@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}");
	assert_null(f->rec.image_tag);
	assert_non_null(f->rec.image_digest);
}

/* ------------------------------------------------------------------ */
/* URL provenance                                                      */
/* ------------------------------------------------------------------ */

/* An existing entry whose internal URL has the given source. */
static void existing_with_url(struct fx *f, int source)
{
	create(f, "{" ID "}");
	set_str(&f->rec.internalurl, "http://old/");
	f->rec.internalurl_source = source;
}

static void register_url_overwrites_source_none(void **state)
{
	struct fx *f = *state;
	existing_with_url(f, STORE_SRC_NONE);
	reg(f, 1, "{" ID ",'internalurl':'http://new/'}");
	assert_str(f->rec.internalurl, "http://new/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void register_url_overwrites_synthesized(void **state)
{
	struct fx *f = *state;
	existing_with_url(f, STORE_SRC_SYNTHESIZED);
	reg(f, 1, "{" ID ",'internalurl':'http://new/'}");
	assert_str(f->rec.internalurl, "http://new/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void register_url_overwrites_explicit_label(void **state)
{
	struct fx *f = *state;
	existing_with_url(f, STORE_SRC_EXPLICIT_LABEL);
	reg(f, 1, "{" ID ",'internalurl':'http://new/'}");
	assert_str(f->rec.internalurl, "http://new/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void register_url_never_overwrites_ui_edit(void **state)
{
	struct fx *f = *state;
	existing_with_url(f, STORE_SRC_UI_EDIT);
	assert_int_equal(reg(f, 1, "{" ID ",'internalurl':'http://new/'}"), STORE_MERGE_UNCHANGED);
	assert_str(f->rec.internalurl, "http://old/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_UI_EDIT);
}

static void register_external_url_never_overwrites_ui_edit(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	set_str(&f->rec.externalurl, "https://mine/");
	f->rec.externalurl_source = STORE_SRC_UI_EDIT;
	reg(f, 1, "{" ID ",'externalurl':'https://label/'}");
	assert_str(f->rec.externalurl, "https://mine/");
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_UI_EDIT);
}

static void absent_url_clears_nothing(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internalurl':'http://a/','externalurl':'https://b/'}");
	reg(f, 1, "{" ID "}");
	assert_str(f->rec.internalurl, "http://a/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
	assert_str(f->rec.externalurl, "https://b/");
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void empty_url_clears_nothing(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internalurl':'http://a/','externalurl':'https://b/'}");
	reg(f, 1, "{" ID ",'internalurl':'','externalurl':''}");
	assert_str(f->rec.internalurl, "http://a/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
	assert_str(f->rec.externalurl, "https://b/");
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void null_url_clears_nothing(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internalurl':'http://a/'}");
	reg(f, 1, "{" ID ",'internalurl':null}");
	assert_str(f->rec.internalurl, "http://a/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

/* ------------------------------------------------------------------ */
/* Health flags                                                        */
/* ------------------------------------------------------------------ */

static void health_flags_replaced_by_bool(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internal_health_check_enabled':true,"
	          "'external_health_check_enabled':false}");
	reg(f, 1,
	    "{" ID ",'internal_health_check_enabled':'off',"
	    "'external_health_check_enabled':1}");
	assert_int_equal(f->rec.internal_health_check_enabled, 0);
	assert_int_equal(f->rec.external_health_check_enabled, 1);
}

static void health_flags_kept_on_null(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internal_health_check_enabled':true,"
	          "'external_health_check_enabled':true}");
	reg(f, 1,
	    "{" ID ",'internal_health_check_enabled':null,"
	    "'external_health_check_enabled':null}");
	assert_int_equal(f->rec.internal_health_check_enabled, 1);
	assert_int_equal(f->rec.external_health_check_enabled, 1);
}

static void health_flags_kept_when_absent(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'internal_health_check_enabled':true}");
	reg(f, 1, "{" ID "}");
	assert_int_equal(f->rec.internal_health_check_enabled, 1);
}

/* ------------------------------------------------------------------ */
/* Icons                                                               */
/* ------------------------------------------------------------------ */

static void payload_icon_replaces_derived_icon(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_name':'nginx'}");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_DERIVED);
	reg(f, 1, "{" ID ",'image_icon':'custom'}");
	assert_str(f->rec.image_icon, "custom");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_NOTIFIER);
}

static void payload_icon_replaces_notifier_icon(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_icon':'one'}");
	reg(f, 1, "{" ID ",'image_icon':'two'}");
	assert_str(f->rec.image_icon, "two");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_NOTIFIER);
}

static void payload_icon_never_replaces_ui_edit_icon(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	set_str(&f->rec.image_icon, "operator");
	f->rec.image_icon_source = STORE_ICON_UI_EDIT;
	reg(f, 1, "{" ID ",'image_icon':'notifier'}");
	assert_str(f->rec.image_icon, "operator");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_UI_EDIT);
}

static void no_icon_keeps_the_icon_already_set(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_name':'nginx'}");
	reg(f, 1, "{" ID ",'image_name':'caddy:2'}");
	assert_str(f->rec.image_icon, "nginx");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_DERIVED);
}

static void no_icon_keeps_a_notifier_icon(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'image_icon':'given'}");
	reg(f, 1, "{" ID ",'image_icon':null,'image_name':'caddy'}");
	assert_str(f->rec.image_icon, "given");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_NOTIFIER);
}

static void no_icon_derives_when_none_set(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	free(f->rec.image_icon);
	f->rec.image_icon = NULL;
	f->rec.image_icon_source = STORE_ICON_NONE;
	reg(f, 1, "{" ID ",'image_name':'lscr.io/linuxserver/sonarr:latest'}");
	assert_str(f->rec.image_icon, "sonarr");
	assert_int_equal(f->rec.image_icon_source, STORE_ICON_DERIVED);
}

static void derive_icon_prefers_image_name(void **state)
{
	(void)state;
	char *icon = store_derive_icon("Sonarr", "My App");
	assert_str(icon, "sonarr");
	free(icon);
}

static void derive_icon_falls_back_to_container_name(void **state)
{
	(void)state;
	char *icon = store_derive_icon("", "My Big App");
	assert_str(icon, "my-big-app");
	free(icon);
	icon = store_derive_icon(NULL, "Plex");
	assert_str(icon, "plex");
	free(icon);
}

static void derive_icon_of_nothing_is_null(void **state)
{
	(void)state;
	assert_null(store_derive_icon(NULL, NULL));
	assert_null(store_derive_icon("", ""));
}

/* ------------------------------------------------------------------ */
/* group_name and sort_priority ownership                              */
/* ------------------------------------------------------------------ */

/* An existing entry whose live group/priority an operator set to Mine/1. */
static void existing_with_group(struct fx *f)
{
	create(f, "{" ID ",'group_name':'Reported','sort_priority':9}");
	set_str(&f->rec.group_name, "Mine");
	f->rec.sort_priority.set = 1;
	f->rec.sort_priority.value = 1;
}

static void reported_group_and_priority_always_recorded(void **state)
{
	struct fx *f = *state;
	existing_with_group(f);
	reg(f, 1, "{" ID ",'group_name':'Media','sort_priority':'4'}");
	assert_str(f->rec.notifier_reported_group_name, "Media");
	assert_true(f->rec.notifier_reported_sort_priority.set);
	assert_int_equal(f->rec.notifier_reported_sort_priority.value, 4);
}

static void reported_group_recorded_under_notifier_wins(void **state)
{
	struct fx *f = *state;
	existing_with_group(f);
	f->ctx.ownership = STORE_NOTIFIER_WINS;
	reg(f, 1, "{" ID ",'group_name':'Media','sort_priority':4}");
	assert_str(f->rec.notifier_reported_group_name, "Media");
	assert_int_equal(f->rec.notifier_reported_sort_priority.value, 4);
}

static void user_wins_keeps_existing_live_values(void **state)
{
	struct fx *f = *state;
	existing_with_group(f);
	reg(f, 1, "{" ID ",'group_name':'Media','sort_priority':4}");
	assert_str(f->rec.group_name, "Mine");
	assert_true(f->rec.sort_priority.set);
	assert_int_equal(f->rec.sort_priority.value, 1);
}

static void user_wins_sets_unset_live_values(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "}");
	assert_null(f->rec.group_name);
	assert_false(f->rec.sort_priority.set);
	reg(f, 1, "{" ID ",'group_name':'Media','sort_priority':4}");
	assert_str(f->rec.group_name, "Media");
	assert_true(f->rec.sort_priority.set);
	assert_int_equal(f->rec.sort_priority.value, 4);
}

static void user_wins_null_keeps_live_values(void **state)
{
	struct fx *f = *state;
	existing_with_group(f);
	reg(f, 1, "{" ID ",'group_name':null,'sort_priority':null}");
	assert_str(f->rec.group_name, "Mine");
	assert_int_equal(f->rec.sort_priority.value, 1);
}

static void notifier_wins_replaces_live_values(void **state)
{
	struct fx *f = *state;
	existing_with_group(f);
	f->ctx.ownership = STORE_NOTIFIER_WINS;
	reg(f, 1, "{" ID ",'group_name':'Media','sort_priority':4}");
	assert_str(f->rec.group_name, "Media");
	assert_true(f->rec.sort_priority.set);
	assert_int_equal(f->rec.sort_priority.value, 4);
}

static void default_ownership_is_user_wins(void **state)
{
	(void)state;
	struct store_merge_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(ctx.ownership, STORE_USER_WINS);
}

/* ------------------------------------------------------------------ */
/* networks, exposed_ports, published_ports                            */
/* ------------------------------------------------------------------ */

#define LISTS_V1                                                                                   \
	"{" ID ",'networks':[{'name':'a'}],'exposed_ports':['80/tcp'],"                            \
	"'published_ports':[{'container_port':80,'protocol':'tcp','host_ip':'','host_port':80}]}"

static void lists_kept_when_absent(void **state)
{
	struct fx *f = *state;
	create(f, LISTS_V1);
	reg(f, 1, "{" ID "}");
	assert_json_text(f->rec.networks, "[{'name':'a','aliases':[]}]");
	assert_json_text(f->rec.exposed_ports, "['80/tcp']");
	assert_json_text(f->rec.published_ports, "[{'container_port':80,'protocol':'tcp',"
	                                         "'host_ip':'','host_port':80}]");
}

static void lists_cleared_by_null(void **state)
{
	struct fx *f = *state;
	create(f, LISTS_V1);
	reg(f, 1, "{" ID ",'networks':null,'exposed_ports':null,'published_ports':null}");
	assert_null(f->rec.networks);
	assert_null(f->rec.exposed_ports);
	assert_null(f->rec.published_ports);
}

static void lists_replaced_by_list(void **state)
{
	struct fx *f = *state;
	create(f, LISTS_V1);
	reg(f, 1,
	    "{" ID ",'networks':[{'name':'b','aliases':['x']}],'exposed_ports':[],"
	    "'published_ports':[]}");
	assert_json_text(f->rec.networks, "[{'name':'b','aliases':['x']}]");
	assert_json_text(f->rec.exposed_ports, "[]");
	assert_json_text(f->rec.published_ports, "[]");
}

/* ------------------------------------------------------------------ */
/* exposure_observations                                               */
/* ------------------------------------------------------------------ */

#define OBS_V1 "'exposure_observations':[{'layer':'traefik','hostname':'a.lan'}]"
#define OBS_V1_CANON                                                                               \
	"[{'layer':'traefik','hostname':'a.lan','tls':false,'path_prefix':null,'auth':null,"       \
	"'details':null}]"

static void observations_kept_when_absent(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "," OBS_V1 "}");
	reg(f, 1, "{" ID "}");
	assert_json_text(f->rec.exposure_observations, OBS_V1_CANON);
}

static void observations_kept_on_null(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "," OBS_V1 "}");
	reg(f, 1, "{" ID ",'exposure_observations':null}");
	assert_json_text(f->rec.exposure_observations, OBS_V1_CANON);
}

static void observations_cleared_by_empty_list(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID "," OBS_V1 "}");
	assert_int_equal(reg(f, 1, "{" ID ",'exposure_observations':[]}"), STORE_MERGE_UPDATED);
	assert_json_text(f->rec.exposure_observations,
	                 "[]"); /* cleared, and reads back as [] like the other lists */
}

static void observations_replaced_wholesale(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'a.lan'},"
	          "{'layer':'dockflare','hostname':'b.example','tls':true}]}");
	reg(f, 1,
	    "{" ID ",'exposure_observations':[{'layer':'caddy','hostname':'c.lan',"
	    "'path_prefix':'/x','auth':'basic','details':{'k':1}}]}");
	assert_json_text(f->rec.exposure_observations,
	                 "[{'layer':'caddy','hostname':'c.lan','tls':false,'path_prefix':'/x',"
	                 "'auth':'basic','details':{'k':1}}]");
}

static void observations_with_empty_layer_dropped(void **state)
{
	struct fx *f = *state;
	create(f, "{" ID ",'exposure_observations':[{'layer':'','hostname':'x.lan'},"
	          "{'layer':'traefik','hostname':'a.lan'}]}");
	assert_json_text(f->rec.exposure_observations, OBS_V1_CANON);
}

/* ------------------------------------------------------------------ */
/* Synthesizer: directions                                             */
/* ------------------------------------------------------------------ */

static void direction_from_per_host_setting(void **state)
{
	struct fx *f = *state;
	set_exposure(f,
	             "{'layers':{'traefik':'internal'},'hosts':{'edge':{'traefik':'external'}}}");
	assert_string_equal(store_exposure_direction(f->exposure, "edge", "traefik"), "external");
}

static void direction_from_global_setting_without_host_entry(void **state)
{
	struct fx *f = *state;
	set_exposure(f,
	             "{'layers':{'traefik':'internal'},'hosts':{'edge':{'traefik':'external'}}}");
	assert_string_equal(store_exposure_direction(f->exposure, "docker01", "traefik"),
	                    "internal");
}

static void direction_from_global_when_host_lacks_the_layer(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{'edge':{'caddy':'external'}}}");
	assert_string_equal(store_exposure_direction(f->exposure, "edge", "traefik"), "internal");
}

static void direction_neither_when_unset(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	assert_string_equal(store_exposure_direction(f->exposure, "docker01", "caddy"), "neither");
	assert_string_equal(store_exposure_direction(NULL, "docker01", "traefik"), "neither");
}

static void direction_layer_match_case_insensitive(void **state)
{
	struct fx *f = *state;
	set_exposure(f,
	             "{'layers':{'Traefik':'internal'},'hosts':{'edge':{'DOCKFLARE':'external'}}}");
	assert_string_equal(store_exposure_direction(f->exposure, "docker01", "traefik"),
	                    "internal");
	assert_string_equal(store_exposure_direction(f->exposure, "edge", "dockflare"), "external");
}

static void observation_layer_matches_setting_case_insensitively(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	set_obs(f, "[{'layer':'TraeFik','hostname':'a.lan','tls':false}]");
	store_synthesize(&f->rec, f->exposure);
	assert_str(f->rec.internalurl, "http://a.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
}

static void invalid_candidate_url_is_skipped(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	/* A typo'd hostname would outrank the valid one (TLS) but is no URL. */
	set_obs(f, "[{'layer':'traefik','hostname':'a b','tls':true},"
	           "{'layer':'traefik','hostname':'ok.lan','tls':false}]");
	store_synthesize(&f->rec, f->exposure);
	assert_str(f->rec.internalurl, "http://ok.lan/");
	set_obs(f, "[{'layer':'traefik','hostname':'a b','tls':true}]");
	store_synthesize(&f->rec, f->exposure);
	assert_null(f->rec.internalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
}

static void neither_layer_produces_no_url(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'neither'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	set_obs(f, "[{'layer':'traefik','hostname':'a.lan','tls':true},"
	           "{'layer':'caddy','hostname':'b.lan','tls':true}]");
	store_synthesize(&f->rec, f->exposure);
	assert_null(f->rec.internalurl);
	assert_null(f->rec.externalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_NONE);
}

static void per_host_override_changes_layer_direction(void **state)
{
	struct fx *f = *state;
	set_exposure(f,
	             "{'layers':{'traefik':'internal'},'hosts':{'edge':{'traefik':'external'}}}");
	set_obs(f, "[{'layer':'traefik','hostname':'app.example','tls':true}]");
	set_str(&f->rec.host, "docker01");
	store_synthesize(&f->rec, f->exposure);
	assert_str(f->rec.internalurl, "https://app.example/");
	assert_null(f->rec.externalurl);
	set_str(&f->rec.host, "edge");
	store_synthesize(&f->rec, f->exposure);
	assert_null(f->rec.internalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
	assert_str(f->rec.externalurl, "https://app.example/");
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_SYNTHESIZED);
}

static void each_direction_synthesized_independently(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal','dockflare':'external'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	set_obs(f, "[{'layer':'dockflare','hostname':'app.example','tls':true},"
	           "{'layer':'traefik','hostname':'app.lan','tls':false}]");
	store_synthesize(&f->rec, f->exposure);
	assert_str(f->rec.internalurl, "http://app.lan/");
	assert_str(f->rec.externalurl, "https://app.example/");
}

/* ------------------------------------------------------------------ */
/* Synthesizer: candidates and order                                   */
/* ------------------------------------------------------------------ */

/* Synthesize the internal URL of observations (all layers internal). */
static void synth_internal(struct fx *f, const char *obs)
{
	set_exposure(f, "{'layers':{'traefik':'internal','caddy':'internal','Alpha':'internal',"
	                "'beta':'internal','dockflare':'internal'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	set_obs(f, obs);
	store_synthesize(&f->rec, f->exposure);
}

static void candidate_needs_nonempty_hostname(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':null,'tls':true},"
	                  "{'layer':'traefik','hostname':'','tls':true},"
	                  "{'layer':'caddy','hostname':'b.lan','tls':false}]");
	assert_str(f->rec.internalurl, "http://b.lan/");
}

static void no_hostname_no_candidate(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':null,'tls':true}]");
	assert_null(f->rec.internalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
}

static void tls_ranks_first(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'caddy','hostname':'plain.lan','tls':false},"
	                  "{'layer':'traefik','hostname':'secure.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://secure.lan/");
}

static void tls_outranks_missing_path_prefix(void **state)
{
	struct fx *f = *state;
	synth_internal(
	    f, "[{'layer':'caddy','hostname':'plain.lan','tls':false},"
	       "{'layer':'traefik','hostname':'secure.lan','tls':true,'path_prefix':'/app'}]");
	assert_str(f->rec.internalurl, "https://secure.lan/app/");
}

static void no_path_prefix_ranks_before_prefix(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'caddy','hostname':'p.lan','tls':true,'path_prefix':'/x'},"
	                  "{'layer':'traefik','hostname':'root.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://root.lan/");
}

static void slash_prefix_counts_as_no_prefix(void **state)
{
	struct fx *f = *state;
	synth_internal(f,
	               "[{'layer':'caddy','hostname':'p.lan','tls':true,'path_prefix':'/x'},"
	               "{'layer':'traefik','hostname':'root.lan','tls':true,'path_prefix':'/'}]");
	assert_str(f->rec.internalurl, "https://root.lan/");
}

static void layer_name_ascending(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'t.lan','tls':true},"
	                  "{'layer':'caddy','hostname':'c.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://c.lan/");
}

static void layer_name_order_case_insensitive(void **state)
{
	struct fx *f = *state;
	/* strcmp would rank "Beta" before "alpha"; case-insensitively alpha comes first. */
	synth_internal(f, "[{'layer':'Beta','hostname':'b.lan','tls':true},"
	                  "{'layer':'alpha','hostname':'a.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://a.lan/");
	synth_internal(f, "[{'layer':'alpha','hostname':'a.lan','tls':true},"
	                  "{'layer':'Beta','hostname':'b.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://a.lan/");
}

static void uppercase_layer_sorts_case_insensitively(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal','caddy':'internal'},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	/* strcmp would rank "TRAEFIK" before "caddy". */
	set_obs(f, "[{'layer':'TRAEFIK','hostname':'t.lan','tls':true},"
	           "{'layer':'caddy','hostname':'c.lan','tls':true}]");
	store_synthesize(&f->rec, f->exposure);
	assert_str(f->rec.internalurl, "https://c.lan/");
}

static void hostile_hostnames_synthesize_nothing(void **state)
{
	struct fx *f = *state;
	/* Each would make a URL meaning something else than the observation. */
	synth_internal(f, "[{'layer':'traefik','hostname':'javascript:alert(1)','tls':true},"
	                  "{'layer':'traefik','hostname':'a/b','tls':true},"
	                  "{'layer':'traefik','hostname':'x.lan:','tls':true},"
	                  "{'layer':'traefik','hostname':'[zz]','tls':true},"
	                  "{'layer':'traefik','hostname':'\\u0022><b>','tls':true}]");
	assert_null(f->rec.internalurl);
	synth_internal(f, "[{'layer':'traefik','hostname':'javascript:alert(1)','tls':true},"
	                  "{'layer':'traefik','hostname':'ok-host_1.lan:8443','tls':false}]");
	assert_str(f->rec.internalurl, "http://ok-host_1.lan:8443/");
	synth_internal(f, "[{'layer':'traefik','hostname':'[fd00::1]:80','tls':true}]");
	assert_str(f->rec.internalurl, "https://[fd00::1]:80/");
}

static void ties_keep_payload_order(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'first.lan','tls':true},"
	                  "{'layer':'traefik','hostname':'second.lan','tls':true},"
	                  "{'layer':'Traefik','hostname':'third.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://first.lan/");
}

/* ------------------------------------------------------------------ */
/* Synthesizer: URL building and what it may write                     */
/* ------------------------------------------------------------------ */

static void url_https_for_tls(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://h.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
}

static void url_http_without_tls(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h.lan','tls':false}]");
	assert_str(f->rec.internalurl, "http://h.lan/");
}

static void url_prefix_without_leading_slash(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h','tls':true,'path_prefix':'app/'}]");
	assert_str(f->rec.internalurl, "https://h/app/");
}

static void url_prefix_with_leading_slash(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h','tls':true,'path_prefix':'/app'}]");
	assert_str(f->rec.internalurl, "https://h/app/");
}

static void url_prefix_slash_only_is_no_prefix(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h','tls':true,'path_prefix':'/'}]");
	assert_str(f->rec.internalurl, "https://h/");
}

static void url_nested_prefix(void **state)
{
	struct fx *f = *state;
	synth_internal(f, "[{'layer':'traefik','hostname':'h','tls':false,"
	                  "'path_prefix':'/a/b/'}]");
	assert_str(f->rec.internalurl, "http://h/a/b/");
}

static void synthesizer_overwrites_synthesized_url(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.internalurl, "https://old.lan/");
	f->rec.internalurl_source = STORE_SRC_SYNTHESIZED;
	synth_internal(f, "[{'layer':'traefik','hostname':'new.lan','tls':true}]");
	assert_str(f->rec.internalurl, "https://new.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
}

static void synthesizer_never_writes_explicit_label_url(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.internalurl, "http://label/");
	f->rec.internalurl_source = STORE_SRC_EXPLICIT_LABEL;
	synth_internal(f, "[{'layer':'traefik','hostname':'new.lan','tls':true}]");
	assert_str(f->rec.internalurl, "http://label/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void synthesizer_never_writes_ui_edit_url(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.internalurl, "http://mine/");
	f->rec.internalurl_source = STORE_SRC_UI_EDIT;
	synth_internal(f, "[{'layer':'traefik','hostname':'new.lan','tls':true}]");
	assert_str(f->rec.internalurl, "http://mine/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_UI_EDIT);
}

static void no_winner_clears_synthesized_url_and_source(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.internalurl, "https://old.lan/");
	f->rec.internalurl_source = STORE_SRC_SYNTHESIZED;
	set_exposure(f, "{'layers':{},'hosts':{}}");
	set_str(&f->rec.host, "docker01");
	set_obs(f, "[{'layer':'traefik','hostname':'a.lan','tls':true}]");
	store_synthesize(&f->rec, f->exposure);
	assert_null(f->rec.internalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
}

static void no_observations_clears_synthesized_url(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.externalurl, "https://old.example/");
	f->rec.externalurl_source = STORE_SRC_SYNTHESIZED;
	set_str(&f->rec.host, "docker01");
	store_synthesize(&f->rec, NULL);
	assert_null(f->rec.externalurl);
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_NONE);
}

static void no_winner_keeps_explicit_label_url(void **state)
{
	struct fx *f = *state;
	set_str(&f->rec.internalurl, "http://label/");
	f->rec.internalurl_source = STORE_SRC_EXPLICIT_LABEL;
	set_str(&f->rec.host, "docker01");
	store_synthesize(&f->rec, NULL);
	assert_str(f->rec.internalurl, "http://label/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

/* ------------------------------------------------------------------ */
/* Synthesizer through register                                        */
/* ------------------------------------------------------------------ */

static void register_runs_synthesizer(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal','dockflare':'external'},'hosts':{}}");
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'},"
	          "{'layer':'dockflare','hostname':'n.example','tls':true}]}");
	assert_str(f->rec.internalurl, "http://n.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
	assert_str(f->rec.externalurl, "https://n.example/");
	assert_int_equal(f->rec.externalurl_source, STORE_SRC_SYNTHESIZED);
}

static void register_explicit_url_beats_synthesized(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	create(f, "{" ID ",'internalurl':'http://label/',"
	          "'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}");
	assert_str(f->rec.internalurl, "http://label/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
}

static void register_uses_per_host_direction(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},"
	                "'hosts':{'docker01':{'traefik':'external'}}}");
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.example',"
	          "'tls':true}]}");
	assert_null(f->rec.internalurl);
	assert_str(f->rec.externalurl, "https://n.example/");
}

static void register_without_observations_keeps_synthesized_url(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}");
	assert_int_equal(reg(f, 1, "{" ID ",'exposure_observations':null}"), STORE_MERGE_UNCHANGED);
	assert_str(f->rec.internalurl, "http://n.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
}

static void register_clearing_observations_clears_synthesized_url(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}");
	reg(f, 1, "{" ID ",'exposure_observations':[]}");
	assert_null(f->rec.internalurl);
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_NONE);
}

static void register_empty_url_leaves_synthesized_url(void **state)
{
	struct fx *f = *state;
	set_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	create(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}");
	reg(f, 1, "{" ID ",'internalurl':''}");
	assert_str(f->rec.internalurl, "http://n.lan/");
	assert_int_equal(f->rec.internalurl_source, STORE_SRC_SYNTHESIZED);
}

/* ------------------------------------------------------------------ */
/* store_exposure_validate                                             */
/* ------------------------------------------------------------------ */

struct vresult {
	int rc;
	json_t *out;
	struct store_verr v;
};

static void validate(struct vresult *r, const char *text)
{
	json_t *in = q(text);
	r->out = NULL;
	store_verr_init(&r->v);
	r->rc = store_exposure_validate(in, &r->out, &r->v);
	json_decref(in);
}

static void vresult_release(struct vresult *r)
{
	json_decref(r->out);
	store_verr_release(&r->v);
}

static int vhas(const struct vresult *r, const char *loc_text, const char *type)
{
	json_t *loc = q(loc_text);
	size_t i;
	json_t *d;
	int found = 0;
	json_array_foreach (r->v.details, i, d) {
		if (json_equal(json_object_get(d, "loc"), loc) &&
		    !strcmp(json_string_value(json_object_get(d, "type")), type))
			found = 1;
	}
	json_decref(loc);
	return found;
}

static void exposure_good_input_canonicalised(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{'hosts':{'edge':{'traefik':'external'}},'layers':{'traefik':'internal',"
	             "'dockflare':'neither'}}");
	json_t *want = q("{'layers':{'traefik':'internal','dockflare':'neither'},"
	                 "'hosts':{'edge':{'traefik':'external'}}}");
	int equal = r.out && json_equal(r.out, want);
	int any = store_verr_any(&r.v);
	int rc = r.rc;
	json_decref(want);
	vresult_release(&r);
	assert_int_equal(rc, 0);
	assert_false(any);
	assert_true(equal);
}

static void exposure_missing_maps_filled_in(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{}");
	json_t *want = q("{'layers':{},'hosts':{}}");
	int equal = r.out && json_equal(r.out, want);
	int rc = r.rc;
	json_decref(want);
	vresult_release(&r);
	assert_int_equal(rc, 0);
	assert_true(equal);
}

static void exposure_bad_direction_rejected(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{'layers':{'traefik':'public'},'hosts':{'edge':{'caddy':1}}}");
	int rc = r.rc, out_null = r.out == NULL;
	int a = vhas(&r, "['layers','traefik']", "enum");
	int b = vhas(&r, "['hosts','edge','caddy']", "enum");
	size_t n = json_array_size(r.v.details);
	vresult_release(&r);
	assert_int_equal(rc, ERR_INVAL);
	assert_true(out_null);
	assert_true(a);
	assert_true(b);
	assert_int_equal(n, 2);
}

static void exposure_unknown_key_rejected(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{'layers':{},'foo':{}}");
	int rc = r.rc;
	int a = vhas(&r, "['foo']", "extra_forbidden");
	int unknown = json_array_size(r.v.unknown_keys) == 1 &&
	              !strcmp(json_string_value(json_array_get(r.v.unknown_keys, 0)), "foo");
	vresult_release(&r);
	assert_int_equal(rc, ERR_INVAL);
	assert_true(a);
	assert_true(unknown);
}

static void exposure_non_object_rejected(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "['layers']");
	int rc = r.rc, a = vhas(&r, "[]", "dict_type");
	vresult_release(&r);
	assert_int_equal(rc, ERR_INVAL);
	assert_true(a);
}

static void exposure_non_object_maps_rejected(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{'layers':'internal','hosts':{'edge':'external'}}");
	int rc = r.rc;
	int a = vhas(&r, "['layers']", "dict_type");
	int b = vhas(&r, "['hosts','edge']", "dict_type");
	vresult_release(&r);
	assert_int_equal(rc, ERR_INVAL);
	assert_true(a);
	assert_true(b);
}

static void exposure_hosts_not_an_object_rejected(void **state)
{
	(void)state;
	struct vresult r;
	validate(&r, "{'hosts':[]}");
	int rc = r.rc, a = vhas(&r, "['hosts']", "dict_type");
	vresult_release(&r);
	assert_int_equal(rc, ERR_INVAL);
	assert_true(a);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(new_entry_stores_every_given_field),
	    T(new_entry_urls_get_explicit_label),
	    T(new_entry_without_urls_has_no_source),
	    T(new_entry_is_not_static),
	    T(new_entry_icon_derived_from_image_name),
	    T(new_entry_icon_derived_from_container_name),
	    T(new_entry_with_digest_keeps_it_apart),
	    T(static_entry_skipped_and_unchanged),
	    T(status_created_for_new_entry),
	    T(status_updated_when_a_field_changes),
	    T(status_updated_when_only_live_state_changes),
	    T(reregister_identical_payload_is_unchanged),
	    T(last_api_update_is_now_on_update),
	    T(last_api_update_is_now_when_unchanged),
	    T(live_strings_replaced_by_nonempty_values),
	    T(live_strings_kept_on_empty_string),
	    T(live_strings_kept_on_null),
	    T(live_strings_kept_when_absent),
	    T(new_image_with_digest_only_drops_old_tag),
	    T(register_url_overwrites_source_none),
	    T(register_url_overwrites_synthesized),
	    T(register_url_overwrites_explicit_label),
	    T(register_url_never_overwrites_ui_edit),
	    T(register_external_url_never_overwrites_ui_edit),
	    T(absent_url_clears_nothing),
	    T(empty_url_clears_nothing),
	    T(null_url_clears_nothing),
	    T(health_flags_replaced_by_bool),
	    T(health_flags_kept_on_null),
	    T(health_flags_kept_when_absent),
	    T(payload_icon_replaces_derived_icon),
	    T(payload_icon_replaces_notifier_icon),
	    T(payload_icon_never_replaces_ui_edit_icon),
	    T(no_icon_keeps_the_icon_already_set),
	    T(no_icon_keeps_a_notifier_icon),
	    T(no_icon_derives_when_none_set),
	    T(derive_icon_prefers_image_name),
	    T(derive_icon_falls_back_to_container_name),
	    T(derive_icon_of_nothing_is_null),
	    T(reported_group_and_priority_always_recorded),
	    T(reported_group_recorded_under_notifier_wins),
	    T(user_wins_keeps_existing_live_values),
	    T(user_wins_sets_unset_live_values),
	    T(user_wins_null_keeps_live_values),
	    T(notifier_wins_replaces_live_values),
	    T(default_ownership_is_user_wins),
	    T(lists_kept_when_absent),
	    T(lists_cleared_by_null),
	    T(lists_replaced_by_list),
	    T(observations_kept_when_absent),
	    T(observations_kept_on_null),
	    T(observations_cleared_by_empty_list),
	    T(observations_replaced_wholesale),
	    T(observations_with_empty_layer_dropped),
	    T(direction_from_per_host_setting),
	    T(direction_from_global_setting_without_host_entry),
	    T(direction_from_global_when_host_lacks_the_layer),
	    T(direction_neither_when_unset),
	    T(direction_layer_match_case_insensitive),
	    T(observation_layer_matches_setting_case_insensitively),
	    T(invalid_candidate_url_is_skipped),
	    T(neither_layer_produces_no_url),
	    T(per_host_override_changes_layer_direction),
	    T(each_direction_synthesized_independently),
	    T(candidate_needs_nonempty_hostname),
	    T(no_hostname_no_candidate),
	    T(tls_ranks_first),
	    T(tls_outranks_missing_path_prefix),
	    T(no_path_prefix_ranks_before_prefix),
	    T(slash_prefix_counts_as_no_prefix),
	    T(layer_name_ascending),
	    T(layer_name_order_case_insensitive),
	    T(uppercase_layer_sorts_case_insensitively),
	    T(hostile_hostnames_synthesize_nothing),
	    T(ties_keep_payload_order),
	    T(url_https_for_tls),
	    T(url_http_without_tls),
	    T(url_prefix_without_leading_slash),
	    T(url_prefix_with_leading_slash),
	    T(url_prefix_slash_only_is_no_prefix),
	    T(url_nested_prefix),
	    T(synthesizer_overwrites_synthesized_url),
	    T(synthesizer_never_writes_explicit_label_url),
	    T(synthesizer_never_writes_ui_edit_url),
	    T(no_winner_clears_synthesized_url_and_source),
	    T(no_observations_clears_synthesized_url),
	    T(no_winner_keeps_explicit_label_url),
	    T(register_runs_synthesizer),
	    T(register_explicit_url_beats_synthesized),
	    T(register_uses_per_host_direction),
	    T(register_without_observations_keeps_synthesized_url),
	    T(register_clearing_observations_clears_synthesized_url),
	    T(register_empty_url_leaves_synthesized_url),
	    T(exposure_good_input_canonicalised),
	    T(exposure_missing_maps_filled_in),
	    T(exposure_bad_direction_rejected),
	    T(exposure_unknown_key_rejected),
	    T(exposure_non_object_rejected),
	    T(exposure_non_object_maps_rejected),
	    T(exposure_hosts_not_an_object_rejected),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
