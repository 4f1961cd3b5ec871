#!/bin/bash
test_description='register API over HTTP: auth, body, schema, coercion, 404/405

Golden cases for spec/register.md ("Request", "Schema", "Response"),
driven with curl against a real `portolan serve`. Merge rules and the
operator routes are in t0201, the exposure synthesizer in t0202.'
. "$(dirname "$0")/lib.sh"
. "$FIXTURES/register/helpers.sh"

ERR_OBJ='{"error": "Request body must be a JSON object"}'

# --- auth -------------------------------------------------------------------

test_expect_success 'no API_TOKEN configured: start generates one (mode 0600)' '
	export LOG_LEVEL=debug &&
	start_daemon &&
	test_path_is_file "$DAEMON_CONFIG/api_token" &&
	test "$(stat -c %a "$DAEMON_CONFIG/api_token")" = 600 &&
	TOKEN=$(cat "$DAEMON_CONFIG/api_token") &&
	GENERATED=$TOKEN &&
	test ${#TOKEN} -ge 16 &&
	case $TOKEN in *[!A-Za-z0-9_.~+/=-]*) false ;; esac
'

test_expect_success 'the generated token is printed once, on stdout' '
	test "$(grep -cF -- "$TOKEN" "$DAEMON_LOG")" = 1
'

test_expect_success 'the generated token works' '
	api GET /api/v1/services && status_is 200 &&
	test_jq ". == []" body
'

test_expect_success 'no Authorization header: 401 Unauthorized' '
	call GET /api/v1/services && status_is 401 &&
	test_jq ". == {\"error\": \"Unauthorized\"}" body &&
	echo "{\"host\": \"a\", \"container_name\": \"b\"}" >p.json &&
	call POST /api/v1/register -H "Content-Type: application/json" --data-binary @p.json &&
	status_is 401 && test_jq ". == {\"error\": \"Unauthorized\"}" body
'

test_expect_success 'wrong, truncated, extended or empty tokens: 401' '
	for h in "Bearer wrong" "Bearer ${TOKEN%?}" "Bearer ${TOKEN}x" "Bearer x$TOKEN" \
		"Bearer " "Bearer" "$TOKEN" "Basic $TOKEN" "Token $TOKEN"; do
		call GET /api/v1/services -H "Authorization: $h" && status_is 401 &&
		test_jq ".error == \"Unauthorized\"" body || return 1
	done
'

test_expect_success '"Bearer None" is rejected (STD accepted it with no token set)' '
	call GET /api/v1/services -H "Authorization: Bearer None" && status_is 401 &&
	echo "{\"host\": \"none\", \"container_name\": \"c\"}" >p.json &&
	call POST /api/v1/register -H "Authorization: Bearer None" --data-binary @p.json &&
	status_is 401 &&
	api GET "/api/v1/services?host=none" && test_jq ". == []" body
'

test_expect_success 'every /api/ route wants the token, even unknown ones' '
	for r in "GET /api/v1/settings" "GET /api/v1/settings/exposure" \
		"PUT /api/v1/settings/exposure" "GET /api/v1/services/1" "DELETE /api/v1/services/1" \
		"PATCH /api/v1/services/1" "GET /api/v1/nope"; do
		call ${r% *} ${r#* } && status_is 401 || return 1
	done
'

test_expect_success 'a restart keeps the generated token and does not print it again' '
	stop_daemon &&
	start_daemon &&
	test "$(cat "$DAEMON_CONFIG/api_token")" = "$GENERATED" &&
	api GET /api/v1/services && status_is 200 &&
	test "$(grep -cF -- "$TOKEN" "$DAEMON_LOG")" = 1
'

test_expect_success 'a configured API_TOKEN replaces the generated one' '
	stop_daemon &&
	export API_TOKEN=configured-token-Zq8w3LmV2xK9 &&
	start_daemon &&
	TOKEN=$API_TOKEN &&
	api GET /api/v1/services && status_is 200 &&
	call GET /api/v1/services -H "Authorization: Bearer $GENERATED" && status_is 401 &&
	test "$(grep -cF -- "$GENERATED" "$DAEMON_LOG")" = 1 &&
	test_must_fail grep -F -- "$API_TOKEN" "$DAEMON_LOG"
'

test_expect_success 'GET /api/v1/settings masks the token' '
	api GET /api/v1/settings && status_is 200 &&
	test_jq ".api_token.source == \"env\"" body &&
	test_must_fail grep -F -- "$TOKEN" body &&
	test_must_fail grep -F -- "$GENERATED" body
'

# --- body -------------------------------------------------------------------

test_expect_success 'setup: a baseline service' '
	echo "{\"host\": \"base\", \"container_name\": \"web\", \"image_name\": \"nginx:1.27\"}" >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"created\"" body &&
	BASE_ID=$(jq .id body) && stored "$BASE_ID" && cp stored base.before
'

test_expect_success 'body not JSON: 400 "Request body must be a JSON object"' '
	printf "{\"host\": \"a\", " >p.json &&
	register p.json && status_is 400 && test_jq ". == $ERR_OBJ" body &&
	printf "host=a&container_name=b" >p.json &&
	register p.json && status_is 400 && test_jq ". == $ERR_OBJ" body
'

test_expect_success 'body an array or a scalar: 400, same error' '
	for doc in "[]" "[{\"host\": \"a\", \"container_name\": \"b\"}]" 42 "\"str\"" null true; do
		printf "%s" "$doc" >p.json &&
		register p.json && status_is 400 && test_jq ". == $ERR_OBJ" body || return 1
	done
'

test_expect_success 'empty body: 400, same error' '
	: >p.json &&
	register p.json && status_is 400 && test_jq ". == $ERR_OBJ" body &&
	call POST /api/v1/register -H "Authorization: Bearer $TOKEN" && status_is 400 &&
	test_jq ". == $ERR_OBJ" body
'

test_expect_success 'a body of exactly 1 MiB is accepted' '
	printf "{\"host\": \"big\", \"container_name\": \"exact\"}" >big.json &&
	head -c $((1048576 - $(wc -c <big.json))) /dev/zero | tr "\0" " " >>big.json &&
	test "$(wc -c <big.json)" = 1048576 &&
	register big.json && status_is 200 && test_jq ".status == \"created\"" body
'

test_expect_success 'a body over 1 MiB: 413, nothing stored' '
	printf "{\"host\": \"big\", \"container_name\": \"over\"}" >big.json &&
	head -c $((1048577 - $(wc -c <big.json))) /dev/zero | tr "\0" " " >>big.json &&
	register big.json && status_is 413 && test_jq ".error | type == \"string\"" body &&
	api GET "/api/v1/services?host=big" && test_jq "map(.container_name) == [\"exact\"]" body
'

test_expect_success 'a chunked body over 1 MiB (no Content-Length): 413' '
	printf "{\"host\": \"big\", \"container_name\": \"chunked\", \"notes\": \"" >big.json &&
	head -c 2000000 /dev/zero | tr "\0" x >>big.json && printf "\"}" >>big.json &&
	call POST /api/v1/register -H "Authorization: Bearer $TOKEN" -H "Expect:" \
		-H "Transfer-Encoding: chunked" --data-binary @big.json &&
	status_is 413 &&
	api GET "/api/v1/services?host=big" && test_jq "map(.container_name) == [\"exact\"]" body
'

test_expect_success 'cleanup: drop the 1 MiB service' '
	api GET "/api/v1/services?host=big" && id=$(jq ".[0].id" body) &&
	api DELETE "/api/v1/services/$id" && status_is 200 &&
	api GET "/api/v1/services?host=big" && test_jq ". == []" body
'

# --- schema: required keys, strings, limits ---------------------------------

test_expect_success 'host and container_name are required' '
	echo "{\"container_name\": \"c\"}" >p.json &&
	bad_register p.json missing "[\"host\"]" &&
	echo "{\"host\": \"h\"}" >p.json &&
	bad_register p.json missing "[\"container_name\"]" &&
	echo "{}" >p.json &&
	register p.json && status_is 400 &&
	test_jq "[.details[].loc] | sort == [[\"container_name\"], [\"host\"]]" body &&
	test_jq "has(\"unknown_keys\") | not" body
'

test_expect_success 'host "" or null: 400' '
	echo "{\"host\": \"\", \"container_name\": \"c\"}" >p.json &&
	bad_register p.json string_too_short "[\"host\"]" &&
	echo "{\"host\": null, \"container_name\": \"c\"}" >p.json &&
	register p.json && status_is 400 &&
	test_jq "any(.details[]; .loc == [\"host\"])" body
'

test_expect_success 'host or container_name of 256 bytes: 400 string_too_long' '
	long=$(printf "%0256d" 0 | tr 0 h) &&
	echo "{\"host\": \"$long\", \"container_name\": \"c\"}" >p.json &&
	bad_register p.json string_too_long "[\"host\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"$long\"}" >p.json &&
	bad_register p.json string_too_long "[\"container_name\"]"
'

test_expect_success 'a host of 255 bytes is accepted' '
	long=$(printf "%0255d" 0 | tr 0 h) &&
	echo "{\"host\": \"$long\", \"container_name\": \"c\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"created\" and (.host | length) == 255" body &&
	stored "$(jq .id body)" && test_jq "(.host | length) == 255" stored
'

test_expect_success 'other strings: at most 4096 bytes' '
	s4096=$(printf "%04096d" 0 | tr 0 s) &&
	echo "{\"host\": \"lim\", \"container_name\": \"c\", \"docker_status\": \"$s4096\"}" >p.json &&
	register p.json && status_is 200 && test_jq "(.docker_status | length) == 4096" body &&
	echo "{\"host\": \"lim\", \"container_name\": \"c\", \"docker_status\": \"${s4096}s\"}" >p.json &&
	bad_register p.json string_too_long "[\"docker_status\"]" &&
	u=http://x.lan/$(printf "%04084d" 0) && test ${#u} = 4097 &&
	echo "{\"host\": \"lim\", \"container_name\": \"c\", \"internalurl\": \"$u\"}" >p.json &&
	bad_register p.json string_too_long "[\"internalurl\"]" &&
	echo "{\"host\": \"lim\", \"container_name\": \"c\", \"networks\": [{\"name\": \"${s4096}s\"}]}" >p.json &&
	bad_register p.json string_too_long "[\"networks\", 0, \"name\"]"
'

test_expect_success 'strings given numbers, bools, lists, objects: 400 string_type' '
	for kv in "\"container_id\": 123" "\"stack_name\": true" "\"image_name\": [\"nginx\"]" \
		"\"group_name\": {\"a\": 1}" "\"docker_status\": 1.5" "\"started_at\": 0" \
		"\"image_icon\": 7" "\"timestamp\": 1700000000"; do
		echo "{\"host\": \"h\", \"container_name\": \"c\", $kv}" >p.json &&
		key=${kv%%\":*} && key=${key#\"} &&
		bad_register p.json string_type "[\"$key\"]" || return 1
	done &&
	echo "{\"host\": 5, \"container_name\": \"c\"}" >p.json &&
	bad_register p.json string_type "[\"host\"]" &&
	echo "{\"host\": \"h\", \"container_name\": false}" >p.json &&
	bad_register p.json string_type "[\"container_name\"]"
'

test_expect_success 'URLs must be http(s): 400 url_scheme' '
	for u in "ftp://example.com/" "javascript:alert(1)" "example.com" "/relative" \
		"http://" "https:///path" "file:///etc/passwd"; do
		echo "{\"host\": \"h\", \"container_name\": \"c\", \"externalurl\": \"$u\"}" >p.json &&
		bad_register p.json url_scheme "[\"externalurl\"]" || return 1
	done &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"internalurl\": 80}" >p.json &&
	bad_register p.json string_type "[\"internalurl\"]"
'

test_expect_success 'http, https (any case), "" and null URLs are accepted' '
	cat >p.json <<-\EOF &&
	{"host": "urls", "container_name": "c", "internalurl": "HTTP://in.lan:8080/x?y=1",
	 "externalurl": "https://app.example.com/"}
	EOF
	register p.json && status_is 200 &&
	test_jq ".internalurl == \"HTTP://in.lan:8080/x?y=1\" and .externalurl == \"https://app.example.com/\"" body &&
	test_jq ".internalurl_source == \"explicit_label\" and .externalurl_source == \"explicit_label\"" body &&
	echo "{\"host\": \"urls\", \"container_name\": \"d\", \"internalurl\": \"\", \"externalurl\": null}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".internalurl == null and .internalurl_source == null and .externalurl == null" body
'

# --- coercion ---------------------------------------------------------------

test_expect_success 'bool fields take bools, 0/1 and the STD strings, any case' '
	while read -r given want; do
		echo "{\"host\": \"co\", \"container_name\": \"b\", \"internal_health_check_enabled\": $given, \"external_health_check_enabled\": $given}" >p.json &&
		register p.json && status_is 200 &&
		test_jq ".internal_health_check_enabled == $want and .external_health_check_enabled == $want" body &&
		stored "$(jq .id body)" &&
		test_jq ".internal_health_check_enabled == $want" stored || return 1
	done <<-\EOF
	true true
	false false
	1 true
	0 false
	1.0 true
	"yes" true
	"off" false
	"T" true
	"f" false
	"Y" true
	"n" false
	"On" true
	"NO" false
	"TRUE" true
	"False" false
	"1" true
	"0" false
	EOF
'

test_expect_success 'bool fields reject other values: 400 bool_parsing' '
	for given in 2 -1 0.5 "\"maybe\"" "\"\"" "\"2\"" "\"enabled\"" "[]" "{}"; do
		echo "{\"host\": \"co\", \"container_name\": \"b\", \"internal_health_check_enabled\": $given}" >p.json &&
		bad_register p.json bool_parsing "[\"internal_health_check_enabled\"]" || return 1
	done
'

test_expect_success 'int fields take integers, integral floats and numeric strings' '
	while read -r given want; do
		echo "{\"host\": \"co\", \"container_name\": \"i$want\", \"sort_priority\": $given}" >p.json &&
		register p.json && status_is 200 &&
		test_jq ".sort_priority == $want and .notifier_reported_sort_priority == $want" body &&
		stored "$(jq .id body)" && test_jq ".sort_priority == $want" stored || return 1
	done <<-\EOF
	10 10
	"11" 11
	12.0 12
	"-3" -3
	0 0
	EOF
'

test_expect_success 'int fields reject the rest: 400 int_parsing' '
	for given in "\"x\"" 10.5 "\"10.5\"" "\"\"" "\"1e3x\"" true "[1]"; do
		echo "{\"host\": \"co\", \"container_name\": \"bad\", \"sort_priority\": $given}" >p.json &&
		bad_register p.json int_parsing "[\"sort_priority\"]" || return 1
	done &&
	api GET "/api/v1/services?host=co" && test_jq "all(.[]; .container_name != \"bad\")" body
'

test_expect_success 'nested ints coerce too; a bad one is reported with its full path' '
	cat >p.json <<-\EOF &&
	{"host": "co", "container_name": "ports", "published_ports": [
	  {"container_port": "80", "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080.0}]}
	EOF
	register p.json && status_is 200 &&
	test_jq ".published_ports == [{\"container_port\": 80, \"protocol\": \"tcp\", \"host_ip\": \"0.0.0.0\", \"host_port\": 8080}]" body &&
	cat >p.json <<-\EOF &&
	{"host": "co", "container_name": "ports", "published_ports": [
	  {"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": "http"}]}
	EOF
	bad_register p.json int_parsing "[\"published_ports\", 0, \"host_port\"]"
'

test_expect_success 'list fields: wrong shapes are 400 with their path' '
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"networks\": {\"name\": \"n\"}}" >p.json &&
	bad_register p.json list_type "[\"networks\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"networks\": [\"n\"]}" >p.json &&
	bad_register p.json dict_type "[\"networks\", 0]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"networks\": [{\"aliases\": []}]}" >p.json &&
	bad_register p.json missing "[\"networks\", 0, \"name\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"exposed_ports\": [5173]}" >p.json &&
	bad_register p.json string_type "[\"exposed_ports\", 0]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"published_ports\": [{\"container_port\": 80, \"protocol\": \"tcp\", \"host_port\": 80}]}" >p.json &&
	bad_register p.json missing "[\"published_ports\", 0, \"host_ip\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"exposure_observations\": [{\"hostname\": \"a\"}]}" >p.json &&
	bad_register p.json missing "[\"exposure_observations\", 0, \"layer\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"exposure_observations\": [{\"layer\": \"t\", \"details\": \"x\"}]}" >p.json &&
	bad_register p.json dict_type "[\"exposure_observations\", 0, \"details\"]" &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"exposure_observations\": [{\"layer\": \"t\", \"tls\": \"maybe\"}]}" >p.json &&
	bad_register p.json bool_parsing "[\"exposure_observations\", 0, \"tls\"]"
'

test_expect_success 'list items are stored in canonical form (defaults filled in)' '
	cat >p.json <<-\EOF &&
	{"host": "co", "container_name": "canon",
	 "networks": [{"name": "web"}, {"name": "db", "aliases": ["pg", "postgres"]}],
	 "exposed_ports": ["5173/tcp"],
	 "exposure_observations": [{"layer": "traefik", "hostname": "a.lan", "tls": "yes"}]}
	EOF
	register p.json && status_is 200 && stored "$(jq .id body)" &&
	test_jq ".networks == [{\"name\": \"web\", \"aliases\": []}, {\"name\": \"db\", \"aliases\": [\"pg\", \"postgres\"]}]" stored &&
	test_jq ".exposed_ports == [\"5173/tcp\"]" stored &&
	test_jq ".exposure_observations == [{\"layer\": \"traefik\", \"hostname\": \"a.lan\", \"tls\": true, \"path_prefix\": null, \"auth\": null, \"details\": null}]" stored
'

test_expect_success 'every optional key takes null' '
	cat >p.json <<-\EOF &&
	{"host": "co", "container_name": "nulls", "container_id": null, "stack_name": null,
	 "docker_status": null, "started_at": null, "timestamp": null, "internalurl": null,
	 "externalurl": null, "internal_health_check_enabled": null,
	 "external_health_check_enabled": null, "image_name": null, "image_icon": null,
	 "group_name": null, "sort_priority": null, "networks": null, "exposed_ports": null,
	 "published_ports": null, "exposure_observations": null}
	EOF
	register p.json && status_is 200 && test_jq ".status == \"created\"" body
'

test_expect_success 'timestamp is accepted and ignored' '
	echo "{\"host\": \"co\", \"container_name\": \"ts\", \"timestamp\": \"2024-01-01T00:00:00Z\"}" >p.json &&
	register p.json && status_is 200 && test_jq "has(\"timestamp\") | not" body &&
	echo "{\"host\": \"co\", \"container_name\": \"ts\", \"timestamp\": \"2025-06-01T00:00:00Z\"}" >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"unchanged\"" body
'

# --- unknown keys -----------------------------------------------------------

test_expect_success 'an unknown top-level key: 400 extra_forbidden, unknown_keys' '
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"foo\": 1}" >p.json &&
	bad_register p.json extra_forbidden "[\"foo\"]" &&
	test_jq ".unknown_keys == [\"foo\"]" body &&
	test_jq ".details | length == 1" body
'

test_expect_success 'unknown nested keys are named by their full path' '
	cat >p.json <<-\EOF &&
	{"host": "h", "container_name": "c",
	 "networks": [{"name": "n", "bar": 1}],
	 "published_ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "", "host_port": 80},
	                     {"container_port": 81, "protocol": "tcp", "host_ip": "", "host_port": 81, "zzz": true}],
	 "exposure_observations": [{"layer": "traefik", "x": null}]}
	EOF
	register p.json && status_is 400 &&
	test_jq ".unknown_keys | sort == [\"exposure_observations[0].x\", \"networks[0].bar\", \"published_ports[1].zzz\"]" body &&
	test_jq "[.details[] | select(.type == \"extra_forbidden\") | .loc] | sort == [[\"exposure_observations\", 0, \"x\"], [\"networks\", 0, \"bar\"], [\"published_ports\", 1, \"zzz\"]]" body &&
	test_jq ".details | length == 3" body
'

test_expect_success 'STD key names that portolan does not take are unknown too' '
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"is_static\": true, \"id\": 1, \"notes\": \"n\"}" >p.json &&
	register p.json && status_is 400 &&
	test_jq ".unknown_keys | sort == [\"id\", \"is_static\", \"notes\"]" body
'

test_expect_success 'unknown_keys is absent when no key is unknown' '
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"sort_priority\": \"x\"}" >p.json &&
	register p.json && status_is 400 &&
	test_jq "has(\"unknown_keys\") | not" body
'

test_expect_success 'several problems at once: one detail each' '
	cat >p.json <<-\EOF &&
	{"container_name": "c", "sort_priority": "x", "internalurl": "ftp://a",
	 "internal_health_check_enabled": "maybe", "image_name": 5,
	 "networks": [{"name": "n", "bar": 1}], "foo": 1}
	EOF
	register p.json && status_is 400 &&
	test_jq ".error == \"Invalid register payload\"" body &&
	test_jq "[.details[] | [.loc, .type]] | sort == ([
		[[\"host\"], \"missing\"], [[\"sort_priority\"], \"int_parsing\"],
		[[\"internalurl\"], \"url_scheme\"], [[\"internal_health_check_enabled\"], \"bool_parsing\"],
		[[\"image_name\"], \"string_type\"], [[\"networks\", 0, \"bar\"], \"extra_forbidden\"],
		[[\"foo\"], \"extra_forbidden\"]] | sort)" body &&
	test_jq ".unknown_keys | sort == [\"foo\", \"networks[0].bar\"]" body
'

test_expect_success 'nothing was written by any 4xx above' '
	stored "$BASE_ID" && test_cmp base.before stored &&
	api GET /api/v1/services &&
	test_jq "map(select(.host == \"h\" or .host == \"a\" or .host == \"none\" or .host == \"\")) == []" body
'

test_expect_success '4xx on an existing entry leaves it and git untouched' '
	snapshot before &&
	echo "{\"host\": \"base\", \"container_name\": \"web\", \"image_name\": \"nginx:1.28\", \"foo\": 1}" >p.json &&
	register p.json && status_is 400 &&
	echo "{\"host\": \"base\", \"container_name\": \"web\", \"image_name\": \"nginx:1.28\", \"sort_priority\": 1.5}" >p.json &&
	register p.json && status_is 400 &&
	printf "{\"host\": \"base\", \"container_name\": \"web\", \"image_name\": \"nginx:1.28\"" >p.json &&
	register p.json && status_is 400 &&
	call POST /api/v1/register -H "Authorization: Bearer wrong" --data-binary @p.json &&
	status_is 401 &&
	snapshot after &&
	test_cmp before after
'

# --- routes -----------------------------------------------------------------

test_expect_success 'unknown routes: 404 JSON' '
	for p in /nope /api/v1/nope /api/v1/services/abc /api/v1/services/0 /api/v1/services/1/x \
		/api/v2/register /api/v1/register/; do
		api GET "$p" && status_is 404 && test_jq ".error | type == \"string\"" body &&
		grep -qi "^content-type: application/json" headers || return 1
	done
'

test_expect_success 'a wrong method: 405 with an Allow header' '
	while read -r method path allow; do
		api "$method" "$path" && status_is 405 &&
		test_jq ".error | type == \"string\"" body &&
		tr -d "\r" <headers | grep -i "^allow: " >allow &&
		test "$(sed "s/^[Aa]llow: //" allow)" = "$allow" || return 1
	done <<-\EOF
	GET /api/v1/register POST
	PUT /api/v1/register POST
	DELETE /api/v1/services GET, POST
	PUT /api/v1/services/1 GET, PATCH, DELETE
	POST /api/v1/services/1 GET, PATCH, DELETE
	DELETE /api/v1/settings/exposure GET, PUT
	POST /healthz GET, HEAD
	EOF
'

test_expect_success 'GET /api/v1/services/<id> of no service: 404 JSON' '
	api GET /api/v1/services/999999 && status_is 404 &&
	test_jq ".error | type == \"string\"" body
'

# --- logs and secrets -------------------------------------------------------

test_expect_success 'the log records registrations but never a token' '
	test_path_is_file "$DAEMON_CONFIG/portolan.log" &&
	grep -q "register base/web" "$DAEMON_CONFIG/portolan.log" &&
	test_must_fail grep -F -- "$TOKEN" "$DAEMON_CONFIG/portolan.log" &&
	test_must_fail grep -F -- "$GENERATED" "$DAEMON_CONFIG/portolan.log"
'

test_expect_success 'no token anywhere in the config dir but api_token' '
	wait_mirror &&
	grep -rlF -- "$GENERATED" "$DAEMON_CONFIG" >files &&
	echo "$DAEMON_CONFIG/api_token" >expect && test_cmp expect files &&
	test_must_fail grep -rlF -- "$TOKEN" "$DAEMON_CONFIG" &&
	git -C "$INV" log -p --all >history &&
	test_must_fail grep -F -e "$TOKEN" -e "$GENERATED" history
'

# --- name limits vs the git mirror (last: a failure here wedges the mirror) --

test_expect_success 'a container_name of 255 bytes is stored and mirrored' '
	long=$(printf "%0255d" 0 | tr 0 c) &&
	echo "{\"host\": \"lim\", \"container_name\": \"$long\"}" >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"created\"" body &&
	wait_mirror &&
	git -C "$INV" log -1 --format=%s >subject &&
	grep -F "register lim/$long: created" subject &&
	grep -rlF -- "$long" "$INV/services/lim" >files &&
	test "$(wc -l <files)" = 1
'

test_expect_success 'a non-ASCII host that triples when encoded is mirrored' '
	host=$(for i in $(seq 120); do printf "\303\251"; done) &&
	test "$(printf %s "$host" | wc -c)" = 240 &&
	jq -n --arg h "$host" "{host: \$h, container_name: \"c\"}" >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"created\"" body &&
	wait_mirror &&
	git -C "$INV" log -1 --format=%s >subject &&
	grep -F "register $host/c: created" subject &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'the mirror keeps committing after a 255-byte name' '
	echo "{\"host\": \"lim\", \"container_name\": \"after\"}" >p.json &&
	register p.json && status_is 200 && wait_mirror &&
	test_path_is_file "$INV/services/lim/after.yml"
'

test_expect_success 'the daemon stops cleanly' '
	stop_daemon
'

test_done
