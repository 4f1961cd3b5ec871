/*
 * The exposure synthesizer (spec/register.md, "Exposure synthesizer") and
 * the exposure settings it reads. Part of the merge module (merge.h).
 */
#include "merge.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* Case-insensitive lookup: layer names come from labels typed by people. */
static const char *lookup_dir(const json_t *map, const char *layer)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)map, key, v) {
		if (!strcasecmp(key, layer) && json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

const char *store_exposure_direction(const json_t *exposure, const char *host, const char *layer)
{
	if (!exposure)
		return "neither";
	const json_t *hosts = json_object_get(exposure, "hosts");
	const json_t *per_host = host ? json_object_get(hosts, host) : NULL;
	const char *dir = per_host ? lookup_dir(per_host, layer) : NULL;
	if (!dir)
		dir = lookup_dir(json_object_get(exposure, "layers"), layer);
	return dir ? dir : "neither";
}

static const char *str_member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Path prefix without leading/trailing slashes: "" means none. */
static void trimmed_prefix(const json_t *obs, const char **start, size_t *len)
{
	const char *p = str_member(obs, "path_prefix");
	while (*p == '/')
		p++;
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	*start = p;
	*len = n;
}

/* 1 when observation a ranks before b: TLS, then no prefix, then layer name. */
static int ranks_before(const json_t *a, const json_t *b)
{
	int tls_a = json_is_true(json_object_get(a, "tls"));
	int tls_b = json_is_true(json_object_get(b, "tls"));
	if (tls_a != tls_b)
		return tls_a;
	const char *pa, *pb;
	size_t la, lb;
	trimmed_prefix(a, &pa, &la);
	trimmed_prefix(b, &pb, &lb);
	if ((la == 0) != (lb == 0))
		return la == 0;
	return strcasecmp(str_member(a, "layer"), str_member(b, "layer")) < 0;
}

/*
 * Is s a host[:port] a URL can be built on: a DNS name or IPv4 address
 * (letters, digits, '.', '-', '_'), or a bracketed IPv6 address, then an
 * optional numeric port? Anything else ("javascript:alert(1)", "a/b")
 * would make a URL that means something other than the observation.
 */
static int hostname_ok(const char *s)
{
	const char *p = s;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return 0;
		if (*p++ != ']' || p == s + 2)
			return 0;
	} else {
		for (; *p && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
				return 0;
		if (p == s)
			return 0;
	}
	if (*p == ':') {
		if (!p[1])
			return 0;
		for (p++; *p; p++)
			if (!isdigit((unsigned char)*p))
				return 0;
	}
	return *p == '\0';
}

/* The URL an observation stands for, or NULL when it would not be a valid one. */
static char *observation_url(const json_t *o)
{
	const char *p;
	size_t n;
	if (!hostname_ok(str_member(o, "hostname")))
		return NULL;
	trimmed_prefix(o, &p, &n);
	struct buf b;
	buf_init(&b, 0);
	buf_addf(&b, "%s://%s/", json_is_true(json_object_get(o, "tls")) ? "https" : "http",
	         str_member(o, "hostname"));
	if (n)
		buf_addf(&b, "%.*s/", (int)n, p);
	char *url = buf_detach(&b, NULL);
	/* A label typo (a space, a control byte) must not produce a URL the repo refuses. */
	if (!store_url_is_http(url) || strlen(url) > STORE_MAX_STRING) {
		free(url);
		return NULL;
	}
	return url;
}

/* The URL of the best candidate observation for one direction, or NULL. */
static char *winner_url(const json_t *obs, const json_t *exposure, const char *host,
                        const char *direction)
{
	const json_t *best = NULL;
	char *best_url = NULL;
	size_t i;
	json_t *o;
	json_array_foreach ((json_t *)obs, i, o) {
		if (!*str_member(o, "hostname"))
			continue;
		if (strcmp(store_exposure_direction(exposure, host, str_member(o, "layer")),
		           direction))
			continue;
		/* Strictly better only, so ties keep payload order. */
		if (best && !ranks_before(o, best))
			continue;
		char *url = observation_url(o);
		if (!url)
			continue;
		free(best_url);
		best = o;
		best_url = url;
	}
	return best_url;
}

static void synthesize_one(char **url, int *source, const json_t *obs, const json_t *exposure,
                           const char *host, const char *direction)
{
	if (*source > STORE_SRC_SYNTHESIZED)
		return;
	char *winner = obs ? winner_url(obs, exposure, host, direction) : NULL;
	free(*url);
	*url = winner;
	*source = winner ? STORE_SRC_SYNTHESIZED : STORE_SRC_NONE;
}

/* With no layer mapped anywhere every layer is "neither": nothing can win. */
static int maps_nothing(const json_t *exposure)
{
	return !exposure || (!json_object_size(json_object_get(exposure, "layers")) &&
	                     !json_object_size(json_object_get(exposure, "hosts")));
}

void store_synthesize(struct store_record *rec, const json_t *exposure)
{
	if (rec->internalurl_source > STORE_SRC_SYNTHESIZED &&
	    rec->externalurl_source > STORE_SRC_SYNTHESIZED)
		return;
	json_t *obs = rec->exposure_observations && !maps_nothing(exposure)
	                  ? json_loads(rec->exposure_observations, 0, NULL)
	                  : NULL;
	synthesize_one(&rec->internalurl, &rec->internalurl_source, obs, exposure, rec->host,
	               "internal");
	synthesize_one(&rec->externalurl, &rec->externalurl_source, obs, exposure, rec->host,
	               "external");
	json_decref(obs);
}

static int valid_direction(const json_t *v)
{
	const char *s = json_string_value(v);
	return s && (!strcmp(s, "internal") || !strcmp(s, "external") || !strcmp(s, "neither"));
}

/* Copy a {layer: direction} map, reporting bad entries at loc. */
static json_t *validate_layer_map(const json_t *map, const json_t *loc, struct store_verr *v)
{
	if (!json_is_object(map)) {
		store_verr_add(v, loc, "dict_type", "Input should be a valid dictionary");
		return NULL;
	}
	json_t *out = json_object();
	const char *layer;
	json_t *dir;
	json_object_foreach ((json_t *)map, layer, dir) {
		json_t *l = store_loc_key(loc, layer);
		if (!*layer || strlen(layer) > STORE_MAX_NAME)
			store_verr_add(v, l, "value_error", "layer name must be 1-255 bytes");
		else if (!valid_direction(dir))
			store_verr_add(v, l, "enum",
			               "Input should be 'internal', 'external' or 'neither'");
		else
			json_object_set(out, layer, dir);
		json_decref(l);
	}
	return out;
}

int store_exposure_validate(const json_t *in, json_t **out, struct store_verr *v)
{
	if (!json_is_object(in)) {
		store_verr_add(v, NULL, "dict_type", "Input should be a valid dictionary");
		return ERR_INVAL;
	}
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)in, key, val) {
		if (strcmp(key, "layers") && strcmp(key, "hosts")) {
			json_t *l = store_loc_key(NULL, key);
			store_verr_unknown(v, l);
			json_decref(l);
		}
	}
	json_t *loc = store_loc_key(NULL, "layers");
	const json_t *layers_in = json_object_get(in, "layers");
	json_t *layers = layers_in ? validate_layer_map(layers_in, loc, v) : json_object();
	json_decref(loc);
	json_t *hosts = json_object();
	loc = store_loc_key(NULL, "hosts");
	const json_t *hosts_in = json_object_get(in, "hosts");
	if (hosts_in && !json_is_object(hosts_in))
		store_verr_add(v, loc, "dict_type", "Input should be a valid dictionary");
	const char *host;
	json_t *map;
	json_object_foreach ((json_t *)(json_is_object(hosts_in) ? hosts_in : NULL), host, map) {
		json_t *l = store_loc_key(loc, host);
		json_t *m = validate_layer_map(map, l, v);
		if (m)
			json_object_set_new(hosts, host, m);
		json_decref(l);
	}
	json_decref(loc);
	if (store_verr_any(v)) {
		json_decref(layers);
		json_decref(hosts);
		return ERR_INVAL;
	}
	*out = json_pack("{s:o,s:o}", "layers", layers ? layers : json_object(), "hosts", hosts);
	return 0;
}
