#!/bin/bash
test_description='widget definitions: portolan widget check and widget test

check: the built-ins are valid; bad definitions are reported as
file:line:col. test: each *arr and Overseerr widget against a stand-in
(tests/fixtures/widgets/arr.py) answering with bodies shaped like the
services documented APIs, with exact values, requests shared by fields
made once, the key as a header or a query parameter, the json widget, a
per-install override, and the error cases: 401, 500, a hang (timeout),
malformed JSON, a missing member, nobody listening.'
. "$(dirname "$0")/lib.sh"

ARR_PY=$FIXTURES/widgets/arr.py

# key SERVICE: the API key the stand-in wants for SERVICE.
key () {
	echo "$1-key-0123456789abcdef"
}

# wtest SERVICE [MODE] [KEY] [ARGS...]: portolan widget test against the stand-in.
wtest () {
	local svc=$1 mode=${2:+$2/} k=${3-$(key "$1")}
	shift 3 2>/dev/null || shift $#
	"$PORTOLAN" widget test "$svc" "$ARR/$mode$svc" $k "$@"
}

requests () {
	curl -sSf --max-time 5 "$ARR/__requests"
}

test_expect_success PYTHON3 'start the stand-in' '
	python3 "$ARR_PY" "$TRASH/arr.port" >>"$TRASH/arr.log" 2>&1 &
	arr_pid=$! &&
	wait_for "test -s \"$TRASH/arr.port\"" &&
	ARR=http://127.0.0.1:$(cat "$TRASH/arr.port")
'

test_expect_success 'check: the built-in widgets are valid' '
	"$PORTOLAN" widget check "$REPO/widgets" >out 2>err &&
	! test -s err &&
	test "$(grep -c ": ok$" out)" = 7
'

test_expect_success 'list: the built-ins, sorted' '
	"$PORTOLAN" widget list >out &&
	cut -d" " -f1 out >names &&
	printf "%s\n" bazarr json overseerr prowlarr radarr sonarr syncthing >expect &&
	test_cmp expect names
'

# bad NAME 'yaml': a widget dir $TRASH/bad/NAME with that widget.yml.
bad () {
	mkdir -p "$TRASH/bad/$1" &&
	printf "%s\n" "$2" >"$TRASH/bad/$1/widget.yml" &&
	echo "# help" >"$TRASH/bad/$1/README.md"
}

test_expect_success 'check: each problem of a bad definition as file:line:col' '
	bad w1 "name: w1
description: d
colour: red
api_key: {header: X-Api-Key}
requests:
  a: {path: /x, foreach: nope}
  b: {path: no-slash}
  c: {path: \"/y/{now-7x}\"}
fields:
  - {key: one, label: One, request: a, value: \"totalRecords\"}
  - {key: one, label: Two, request: zz, reduce: median}
  - {key: three, label: 3, request: c, value: \$.a, divide: 0}" &&
	test_must_fail "$PORTOLAN" widget check "$TRASH/bad/w1" 2>err &&
	f=$TRASH/bad/w1/widget.yml &&
	grep -F "$f:3:9: unknown key '"'"'colour'"'"'" err &&
	grep -F "$f:6:26: foreach: no request called '"'"'nope'"'"'" err &&
	grep -F "$f:7:13: path: must start with" err &&
	grep -F "$f:8:13: path: unknown computed value" err &&
	grep -F "$f:10:47: value: bad JSON path" err &&
	grep -F "$f:11:11: duplicate field key '"'"'one'"'"'" err &&
	grep -F "$f:11:37: request: no request called '"'"'zz'"'"'" err &&
	grep -F "$f:11:49: unknown reduction '"'"'median'"'"'" err &&
	grep -F "$f:12:60: divide: expected a number greater than 0" err &&
	grep -F "$f:12:25: label: expected a string" err &&
	grep -F "$f:7:6: request '"'"'b'"'"' is used by no field" err &&
	test $(wc -l <err) = 11
'

test_expect_success 'check: YAML syntax, missing members, name, README' '
	bad w2 "name: w2
description: [unclosed" &&
	bad w3 "description: d
fields: []" &&
	bad w4 "name: other
description: d
requests: {a: {path: /a}}
fields: [{key: k, label: K, request: a}]" &&
	mkdir -p "$TRASH/bad/w5" && cp "$TRASH/bad/w4/widget.yml" "$TRASH/bad/w5/" &&
	sed -i "s/name: other/name: w5/" "$TRASH/bad/w5/widget.yml" &&
	test_must_fail "$PORTOLAN" widget check "$TRASH/bad" >out 2>err &&
	grep -E "^$TRASH/bad/w2/widget.yml:[0-9]+:[0-9]+: " err &&
	grep -F "$TRASH/bad/w3/widget.yml:1:1: missing required key '"'"'name'"'"'" err &&
	grep -F "$TRASH/bad/w3/widget.yml:1:1: missing required key '"'"'requests'"'"'" err &&
	grep -F "$TRASH/bad/w4/widget.yml:1:7: name '"'"'other'"'"' differs from its directory" err &&
	grep -F "$TRASH/bad/w5/README.md: missing README.md" err &&
	! grep -F "w1" out
'

test_expect_success 'check: a directory without widgets' '
	mkdir empty &&
	test_must_fail "$PORTOLAN" widget check empty 2>err &&
	grep "empty: no widget.yml" err
'

test_expect_success 'sonarr: wanted, queued, series' '
	wtest sonarr >out &&
	printf "%s\n" "wanted: 17" "queued: 3" "series: 4" >expect &&
	test_cmp expect out
'

test_expect_success 'radarr: wanted, queued, movies' '
	wtest radarr >out &&
	printf "%s\n" "wanted: 5" "queued: 2" "movies: 6" >expect &&
	test_cmp expect out
'

test_expect_success 'bazarr: the badge counters, key in X-API-KEY' '
	wtest bazarr >out &&
	printf "%s\n" "missing_movies: 7" "missing_episodes: 12" "bad_provider: 1" >expect &&
	test_cmp expect out
'

test_expect_success 'prowlarr: 7-day sums over the indexers, startDate 7 days back' '
	curl -sSf -X POST "$ARR/__reset" &&
	wtest prowlarr >out &&
	printf "%s\n" "grabs_7d: 15" "failed_grabs_7d: 3" "queries_7d: 200" \
		"failed_queries_7d: 4" >expect &&
	test_cmp expect out &&
	requests >log &&
	test_jq "length == 1" log &&
	start=$(jq -r ".[0].query" log | sed "s/^startDate=//; s/%3A/:/g") &&
	want=$(date -u -d "7 days ago" +%s) &&
	got=$(date -u -d "$start" +%s) &&
	test $((want - got)) -ge 0 && test $((want - got)) -le 5
'

test_expect_success 'overseerr: four fields, two requests (shared ones made once)' '
	curl -sSf -X POST "$ARR/__reset" &&
	wtest overseerr >out &&
	printf "%s\n" "request_pending: 2" "request_movie: 6" "request_tv: 3" "issues_open: 3" >expect &&
	test_cmp expect out &&
	requests >log &&
	test_jq "length == 2 and ([.[].path] | sort) == [\"/api/v1/issue/count\", \"/api/v1/request/count\"]" log &&
	test_jq "all(.[]; .key == \"$(key overseerr)\")" log
'

for svc in sonarr radarr bazarr prowlarr overseerr; do
	test_expect_success "$svc: a wrong key is an auth error on every field" '
		test_must_fail wtest '$svc' "" wrong-key >out &&
		test $(grep -c ": error (auth): HTTP 401" out) = $(wc -l <out) &&
		! grep -F wrong-key out
	'
	test_expect_success "$svc: 500 is an http error" '
		test_must_fail wtest '$svc' 500 >out &&
		test $(grep -c ": error (http): HTTP 500$" out) = $(wc -l <out)
	'
	test_expect_success "$svc: malformed JSON" '
		test_must_fail wtest '$svc' badjson >out &&
		test $(grep -c ": error (json): malformed JSON" out) = $(wc -l <out)
	'
done

test_expect_success 'a hang is a timeout' '
	test_must_fail wtest radarr hang "$(key radarr)" --timeout 1 >out &&
	printf "%s\n" wanted queued movies >keys &&
	cut -d: -f1 out >got && test_cmp keys got &&
	test $(grep -c ": error (timeout): " out) = 3
'

test_expect_success 'a missing member fails its field only' '
	test_must_fail wtest sonarr missing >out &&
	grep -F "wanted: error (missing): \$.totalRecords: no member '"'"'totalRecords'"'"'" out &&
	grep -F "series: error (missing): \$ is not an array" out &&
	test_must_fail wtest overseerr missing >out &&
	grep -F "request_pending: error (missing)" out &&
	grep -Fx "request_movie: 6" out && grep -Fx "request_tv: 3" out &&
	grep -F "issues_open: error (missing)" out &&
	test_must_fail wtest bazarr missing >out &&
	grep -F "missing_movies: error (missing)" out && grep -Fx "missing_episodes: 12" out &&
	test_must_fail wtest prowlarr missing >out &&
	grep -F "grabs_7d: error (missing): \$.indexers: item 1 has no member" out &&
	grep -Fx "failed_grabs_7d: 3" out
'

test_expect_success 'nobody listening is a connect error' '
	port=$(free_port) &&
	test_must_fail "$PORTOLAN" widget test sonarr "http://127.0.0.1:$port" k >out &&
	test $(grep -c ": error (connect): " out) = 3
'

test_expect_success 'only http(s) URLs; unknown widgets' '
	test_expect_code 2 "$PORTOLAN" widget test sonarr "file:///etc/passwd" k 2>err &&
	grep "not an http(s) URL" err &&
	test_must_fail "$PORTOLAN" widget test nosuch "$ARR" 2>err &&
	grep "no widget called '"'"'nosuch'"'"'" err
'

test_expect_success 'the key from stdin' '
	key sonarr | wtest sonarr "" - >out &&
	grep -Fx "series: 4" out
'

test_expect_success 'an override in <config>/widgets: the key as a query parameter' '
	mkdir -p "$DAEMON_CONFIG/widgets/sonarr" &&
	cat >"$DAEMON_CONFIG/widgets/sonarr/widget.yml" <<-\EOF &&
	name: sonarr
	description: Sonarr, key in the query
	api_key: {query: apikey}
	requests:
	  queue: {path: /api/v3/queue, query: {page: 1, pageSize: 1}}
	fields:
	  - {key: queued, label: Queued, request: queue, value: $.totalRecords}
	EOF
	echo "# mine" >"$DAEMON_CONFIG/widgets/sonarr/README.md" &&
	curl -sSf -X POST "$ARR/__reset" &&
	wtest sonarr >out &&
	echo "queued: 3" >expect && test_cmp expect out &&
	requests >log &&
	test_jq ".[0].key == null and .[0].query == \"page=1&pageSize=1&apikey=$(key sonarr)\"" log
'

test_expect_success 'an invalid override is reported and the built-in stays' '
	mkdir -p "$DAEMON_CONFIG/widgets/radarr" &&
	printf "name: radarr\ndescription: 5\nfields: x\n" >"$DAEMON_CONFIG/widgets/radarr/widget.yml" &&
	echo "# x" >"$DAEMON_CONFIG/widgets/radarr/README.md" &&
	wtest radarr >out 2>err &&
	grep -F "$DAEMON_CONFIG/widgets/radarr/widget.yml:1:1: missing required key" err &&
	grep -Fx "movies: 6" out
'

test_expect_success 'json: the operator fields, shared URL, reduce' '
	cfg="{\"key_query\": \"apikey\", \"fields\": [
		{\"key\": \"queued\", \"label\": \"Queued\", \"url\": \"/api/v3/queue\", \"path\": \"\$.totalRecords\"},
		{\"key\": \"sizeleft\", \"label\": \"Left\", \"unit\": \"B\", \"url\": \"/api/v3/queue\",
		 \"path\": \"\$.records[*].sizeleft\", \"reduce\": \"sum\"},
		{\"key\": \"n\", \"label\": \"N\", \"url\": \"/api/v3/series\", \"path\": \"\$\", \"reduce\": \"length\"}]}" &&
	curl -sSf -X POST "$ARR/__reset" &&
	"$PORTOLAN" widget test json "$ARR/sonarr" "$(key sonarr)" --config-json "$cfg" >out &&
	printf "%s\n" "queued: 3" "sizeleft: 1610612736 B" "n: 4" >expect &&
	test_cmp expect out &&
	requests >log && test_jq "length == 2" log
'

test_expect_success 'json: a bad config is one config error' '
	test_must_fail "$PORTOLAN" widget test json "$ARR/sonarr" k \
		--config-json "{\"fields\": [{\"key\": \"a\", \"url\": \"x\"}]}" >out &&
	grep -E "^config: error \(config\): config: fields\[0\]" out
'

test_expect_success 'stop the stand-in' '
	kill "$arr_pid"
'

test_done
