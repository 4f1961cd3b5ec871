#!/bin/bash
test_description='serve: URL health checks

The daemon checks every service URL whose check is enabled, right after
start-up and each URL_HEALTHCHECK_INTERVAL, against real servers on
loopback (tests/fixtures/health/server.py): 200, a redirect, a redirect
loop, 404, 500, a slow body over 64 KiB, a server that never answers, a
closed port and a self-signed HTTPS server. Results are in
GET /api/v1/health and /api/v1/services/<id>/health; a state change fires
an event "change", an unchanged result does not; 200 URLs are all checked
within the timeout (+1 s) of start-up; the daemon stops promptly with
checks in flight.'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0500-token-abcdefghijklmnop
export HEALTHCHECK_TIMEOUT=1
export URL_HEALTHCHECK_INTERVAL=10 # the smallest allowed
AUTH="Authorization: Bearer $API_TOKEN"
SERVER=$FIXTURES/health/server.py

command -v openssl >/dev/null 2>&1 && test_set_prereq OPENSSL

# start_server NAME [CERT KEY]: the fixture server; its port in $NAME_port.
start_server () {
	local name=$1
	shift
	python3 "$SERVER" "$TRASH/$name.port" "$@" >>"$TRASH/$name.log" 2>&1 &
	eval "${name}_pid=$!"
	wait_for "test -s \"$TRASH/$name.port\"" &&
	eval "${name}_port=\$(cat \"$TRASH/$name.port\")"
}

# register NAME URL [DIR]: a service h/NAME checking URL (DIR internal or external).
register () {
	local dir=${3:-internal}
	curl -sf -H "$AUTH" -d "{\"host\": \"h\", \"container_name\": \"$1\",
		\"${dir}url\": \"$2\", \"${dir}_health_check_enabled\": true}" \
		"$BASE_URL/api/v1/register" >/dev/null
}

health () {
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/health"
}

# result NAME [DIR]: the health JSON of h/NAME's DIR URL (default internal).
result () {
	health | jq -e --arg n "$1" --arg d "${2:-internal}" \
		'.services[] | select(.container_name == $n) | .[$d]'
}

# pass_settled: every result is from the pass that checked h/toggle last (within 2 s of it).
pass_settled () {
	health | jq -e '[.services[] | .internal, .external | select(. != null) |
		.checked_at | fromdateiso8601] as $all |
		(.services[] | select(.container_name == "toggle") | .internal.checked_at |
		fromdateiso8601) as $t | all($all[]; . >= $t - 2)'
}

change_events () {
	grep -c "^event: change" "$TRASH/events" || :
}

checks_total () {
	curl -sf "$BASE_URL/metrics" | sed -n "s/^portolan_health_checks_total //p"
}

test_expect_success PYTHON3 'fixture servers start (HTTP, HTTPS with a self-signed cert)' '
	start_server http &&
	if test_have_prereq OPENSSL; then
		openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
			-keyout key.pem -out cert.pem 2>/dev/null &&
		start_server https cert.pem key.pem &&
		test_set_prereq HTTPS
	fi &&
	curl -sf "http://127.0.0.1:$http_port/ok" &&
	closed_port=$(free_port)
'

test_expect_success PYTHON3 'the daemon starts; events are followed' '
	start_daemon &&
	{ curl -sN "$BASE_URL/api/v1/events" >"$TRASH/events" 2>/dev/null & } &&
	events_pid=$! &&
	wait_for "grep -q ^retry: \"$TRASH/events\""
'

test_expect_success PYTHON3 'each kind of URL gets its result' '
	H=http://127.0.0.1:$http_port &&
	register ok "$H/ok" &&
	register redirect "$H/redirect" &&
	register loop "$H/loop" &&
	register notfound "$H/notfound" &&
	register error "$H/error" &&
	register big "$H/big" &&
	register hang "$H/hang" &&
	register refused "http://127.0.0.1:$closed_port/" &&
	register toggle "$H/toggle" &&
	register outside "$H/ok?n=external" external &&
	curl -sf -H "$AUTH" -d "{\"host\": \"h\", \"container_name\": \"unchecked\",
		\"internalurl\": \"$H/ok?n=unchecked\", \"internal_health_check_enabled\": false}" \
		"$BASE_URL/api/v1/register" >/dev/null &&
	wait_for "health | jq -e \"[.services[] | select(.container_name != \\\"unchecked\\\") |
		.internal // .external | select(. != null)] | length == 10\"" 8 &&
	health >all.json &&
	test_jq "[.services[] | select(.container_name == \"ok\") | .internal |
		.state == \"up\" and .status == 200 and .error == null and .url == \"$H/ok\"] == [true]" all.json &&
	result redirect | test_jq ".state == \"up\" and .status == 200" &&
	result loop | test_jq ".state == \"down\" and .error == \"too_many_redirects\" and (.message | length > 0)" &&
	result notfound | test_jq ".state == \"down\" and .status == 404 and .error == null" &&
	result error | test_jq ".state == \"down\" and .status == 500" &&
	result big | test_jq ".state == \"up\" and .status == 200 and .ms < 1000" &&
	result hang | test_jq ".state == \"down\" and .error == \"timeout\" and .ms >= 900" &&
	result refused | test_jq ".state == \"down\" and .error == \"refused\"" &&
	result outside external | test_jq ".state == \"up\" and .status == 200" &&
	result outside | test_jq ". == null" &&
	test_jq "[.services[] | select(.container_name == \"unchecked\") |
		.internal == null and .external == null] == [true]" all.json
'

test_expect_success HTTPS 'a self-signed certificate: tls, degraded' '
	register tls "https://localhost:$https_port/ok" &&
	wait_for "result tls" 8 &&
	result tls | test_jq ".state == \"degraded\" and .error == \"tls\" and .status == null"
'

# tile NAME: the start of NAME's tile in the tiled page (its pills come first).
tile () {
	grep -o "data-search=\"$1 .\{0,700\}" "$DAEMON_CONFIG/site/tiled-group.html"
}

test_expect_success PYTHON3 'the pages colour the pills: 200 green, 404 red, with the code' '
	wait_for "tile ok | grep -q \"pl ok\"" 15 &&
	tile ok | grep -q "<b>200</b>" &&
	wait_for "tile notfound | grep -q \"pl bad\"" 15 &&
	tile notfound | grep -q "<b>404</b>"
'

test_expect_success PYTHON3 'one service: results with their history; unknown id is 404' '
	id=$(health | jq -e ".services[] | select(.container_name == \"notfound\") | .id") &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services/$id/health" >one.json &&
	test_jq ".internal.state == \"down\" and (.internal.history | length >= 1) and
		.internal.history[-1].status == 404 and .external == null" one.json &&
	health | test_jq "all(.services[].internal; . == null or (has(\"history\") | not))" &&
	code=$(curl -s -o nf.json -w "%{http_code}" -H "$AUTH" "$BASE_URL/api/v1/services/999999/health") &&
	test "$code" = 404 && test_jq ".error | type == \"string\"" nf.json &&
	code=$(curl -s -o /dev/null -w "%{http_code}" "$BASE_URL/api/v1/health") &&
	test "$code" = 401 &&
	code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "$AUTH" "$BASE_URL/api/v1/health") &&
	test "$code" = 405
'

test_expect_success PYTHON3 'a state change fires an event "change"; unchanged results do not' '
	wait_for "test \$(curl -sf -H \"$AUTH\" \"$BASE_URL/healthz\" | jq .journal_lag) = 0" &&
	result toggle | test_jq ".state == \"up\"" &&
	before_checks=$(checks_total) && before_events=$(change_events) &&
	curl -sf "http://127.0.0.1:$http_port/set?code=503" &&
	# the next pass (at most URL_HEALTHCHECK_INTERVAL away) sees it
	wait_for "result toggle | jq -e \".state == \\\"down\\\" and .status == 503\"" 15 &&
	# the whole pass is in: every result within 2 s of the toggle'"'"'s
	n=$(health | jq "[.services[] | .internal, .external | select(. != null)] | length") &&
	wait_for "test \$(checks_total) -ge $((before_checks + n))" &&
	wait_for pass_settled &&
	after_checks=$(checks_total) &&
	echo "checks: $before_checks -> $after_checks, change events: $before_events -> $(change_events)" &&
	# a whole pass of results went in, and only the toggle changed state
	test $((after_checks - before_checks)) -ge 10 &&
	test "$(change_events)" = $((before_events + 1))
'

test_expect_success PYTHON3 'a failing URL logs once per state change, not once per pass' '
	test "$(grep -c "health check .*/notfound.: down" "$DAEMON_LOG")" = 1
'

test_expect_success PYTHON3 '200 URLs: all checked within the timeout + 1 s of start-up' '
	kill $events_pid && { wait $events_pid || :; } &&
	stop_daemon &&
	# 190 answer, 10 never do: the pass lasts about one timeout
	jq -n --arg h "http://127.0.0.1:$http_port" "[range(1; 201) | {host: \"many\",
		container_name: \"m\(.)\", internal_health_check_enabled: true,
		internalurl: (\$h + (if . % 20 == 0 then \"/hang\" else \"/ok\" end) + \"?n=\(.)\")}]" \
		>many.json &&
	"$PORTOLAN" --config "$DAEMON_CONFIG" import many.json &&
	_test_clock && start_us=$_test_now &&
	start_daemon &&
	wait_for "health | jq -e \"[.services[] | select(.host == \\\"many\\\" and .internal != null)] |
		length == 200\"" 5 &&
	_test_clock && elapsed_ms=$(((_test_now - start_us) / 1000)) &&
	echo "200 URLs checked ${elapsed_ms} ms after the daemon was started" &&
	test $elapsed_ms -le $(((HEALTHCHECK_TIMEOUT + 1) * 1000)) &&
	health | test_jq "[.services[] | select(.host == \"many\") | .internal.state] |
		(map(select(. == \"up\")) | length) == 190 and (map(select(. == \"down\")) | length) == 10"
'

test_expect_success PYTHON3 'the daemon stops promptly with checks in flight' '
	HEALTHCHECK_TIMEOUT=30 &&
	stop_daemon &&
	start_daemon &&
	wait_for "curl -sf \"$BASE_URL/metrics\" | grep -q \"^portolan_health_checks_in_flight [1-9]\"" &&
	_test_clock && t=$_test_now &&
	stop_daemon &&
	_test_clock && stop_ms=$(((_test_now - t) / 1000)) &&
	echo "stopped in ${stop_ms} ms" &&
	test $stop_ms -lt 2000
'

test_expect_success PYTHON3 'a service timeout wins over HEALTHCHECK_TIMEOUT; bad ones are refused' '
	HEALTHCHECK_TIMEOUT=30 &&
	start_daemon &&
	H=http://127.0.0.1:$http_port &&
	curl -sf -H "$AUTH" -d "{\"host\": \"h\", \"container_name\": \"quick\",
		\"internalurl\": \"$H/hang?n=quick\", \"internal_health_check_enabled\": false}" \
		"$BASE_URL/api/v1/register" >/dev/null &&
	id=$(curl -sf -H "$AUTH" "$BASE_URL/api/v1/services?host=h" |
		jq -e ".[] | select(.container_name == \"quick\") | .id") &&
	for bad in 0 61 \"x\"; do
		test_expect_code 22 curl -sf -o /dev/null -X PATCH -H "$AUTH" \
			-d "{\"health_check_timeout\": $bad}" "$BASE_URL/api/v1/services/$id" &&
		curl -s -X PATCH -H "$AUTH" -d "{\"health_check_timeout\": $bad}" \
			"$BASE_URL/api/v1/services/$id" |
			test_jq ".details[0].loc == [\"health_check_timeout\"]" || return 1
	done &&
	curl -sf -X PATCH -H "$AUTH" \
		-d "{\"health_check_timeout\": 1, \"internal_health_check_enabled\": true}" \
		"$BASE_URL/api/v1/services/$id" | test_jq ".health_check_timeout == 1" &&
	wait_for "grep -q \"^health_check_timeout: 1\$\" \"$DAEMON_CONFIG/inventory/services/h/quick.yml\"" &&
	wait_for "result quick | jq -e \".error == \\\"timeout\\\"\"" 10 &&
	result quick | test_jq ".ms >= 900 and .ms < 5000" &&
	stop_daemon
'

test_expect_success PYTHON3 'fixture servers stop' '
	kill $http_pid && { wait $http_pid || :; } &&
	if test -n "${https_pid-}"; then kill $https_pid && { wait $https_pid || :; }; fi
'

test_done
