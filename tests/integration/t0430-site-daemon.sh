#!/bin/bash
test_description='serve: the daemon keeps site/ rendered and serves it

The render thread renders at start-up, after writes (debounced: a burst
of registrations causes a few renders), publishes a render event, reloads
templates on SIGHUP and recovers after kill -9.'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0430-token-abcdefghijklmnop
export STD_DOZZLE_URL=http://dozzle.lab:8080/
AUTH="Authorization: Bearer $API_TOKEN"
SITE=$DAEMON_CONFIG/site

register () {
	curl -sf -H "$AUTH" -d "$1" "$BASE_URL/api/v1/register" >/dev/null
}

renders () {
	curl -sf "$BASE_URL/metrics" | sed -n "s/^portolan_site_render_seconds_count //p"
}

test_expect_success 'start: the site is rendered from the store' '
	"$PORTOLAN" --config "$DAEMON_CONFIG" import "$FIXTURES/site/payloads" >/dev/null &&
	start_daemon &&
	wait_for "test -s \"$SITE/index.html.gz\"" &&
	curl -sf "$BASE_URL/" >index.html &&
	grep -q "sonarr" index.html &&
	cmp index.html "$SITE/index.html"
'

test_expect_success 'STD URLs serve the matching pages' '
	curl -sf "$BASE_URL/tiled_dash?group_by=host&show_urlless=false" >out &&
	cmp out "$SITE/tiled-host-urls.html" &&
	curl -sf "$BASE_URL/compact_dash?group_by=nonsense" >out &&
	cmp out "$SITE/compact-group.html"
'

test_expect_success 'live fields are shown: docker status and the Dozzle link' '
	register "{\"host\": \"docker09\", \"container_name\": \"logsy\", \"container_id\": \"abcdef0123456789abcdef\", \"docker_status\": \"running\", \"internalurl\": \"http://10.9.9.9:81\"}" &&
	wait_for "grep -q logsy \"$SITE/tiled-group.html\"" &&
	grep -q "href=\"http://dozzle.lab:8080/container/abcdef012345\"" "$SITE/tiled-group.html" &&
	! grep -q "8080//container" "$SITE/tiled-group.html"
'

test_expect_success 'a write reaches the pages and a render event follows' '
	curl -sN "$BASE_URL/api/v1/events" >events 2>/dev/null &
	sub=$! &&
	test_when_finished "kill $sub 2>/dev/null; true" &&
	wait_for "grep -q retry: events" &&
	register "{\"host\": \"docker09\", \"container_name\": \"freshly-added\", \"internalurl\": \"http://10.9.9.10\"}" &&
	wait_for "grep -q \"event: change\" events" &&
	seq=$(grep -A1 "^event: change" events | sed -n "s/^data: //p" | jq -s "map(.seq) | max") &&
	# the render event that covers this write: its seq is at least the write'"'"'s
	wait_for "grep -A1 \"^event: render\" events | sed -n \"s/^data: //p\" | jq -s -e \"map(select(.seq >= $seq)) | length > 0\"" &&
	grep -q freshly-added "$SITE/index.html" &&
	curl -sf "$BASE_URL/" | grep -q freshly-added
'

test_expect_success 'a burst of 2,000 registrations causes a handful of renders' '
	before=$(renders) && start=$(date +%s) &&
	seq 1 2000 | xargs -P 16 -I{} curl -sf -o /dev/null -H "$AUTH" \
		-d "{\"host\": \"burst\", \"container_name\": \"svc-{}\", \"docker_status\": \"running\"}" \
		"$BASE_URL/api/v1/register" &&
	# generous: under make asan a render of 2,000 services takes seconds
	wait_for "grep -q svc-2000 \"$SITE/compact-group.html\"" 30 &&
	wait_for "test \$(grep -o \"svc-[0-9]*<\" \"$SITE/compact-group.html\" | sort -u | wc -l) -eq 2000" 30 &&
	after=$(renders) && secs=$(( $(date +%s) - start + 1 )) &&
	echo "renders during the burst: $((after - before)) in ${secs}s" &&
	test $((after - before)) -ge 1 &&
	# one per debounce window (250 ms) at most, never one per registration
	test $((after - before)) -le $((secs * 4 + 2))
'

test_expect_success 'pages come gzipped to clients that accept it' '
	# the burst above may still be rendering: a page goes live before its .gz
	wait_for "test -s \"$SITE/tiled-group.html.gz\"" &&
	curl -sf -H "Accept-Encoding: gzip" -D headers -o body.gz "$BASE_URL/tiled_dash" &&
	grep -qi "^content-encoding: gzip" headers &&
	gzip -dc body.gz | cmp - "$SITE/tiled-group.html"
'

test_expect_success 'SIGHUP reloads the templates from <config>/templates' '
	mkdir -p "$DAEMON_CONFIG/templates" &&
	printf "<li class=\"custom-item\">{{name}}</li>\n" >"$DAEMON_CONFIG/templates/compact-item.html" &&
	kill -HUP $DAEMON_PID &&
	wait_for "grep -q custom-item \"$SITE/compact-group.html\"" &&
	grep -q "templates reloaded" "$DAEMON_LOG"
'

test_expect_success 'a broken template on SIGHUP keeps the current ones' '
	printf "<li>{{#urls}}\n" >"$DAEMON_CONFIG/templates/compact-item.html" &&
	kill -HUP $DAEMON_PID &&
	wait_for "grep -q \"compact-item.html:1: unclosed section\" \"$DAEMON_LOG\"" &&
	register "{\"host\": \"docker09\", \"container_name\": \"after-bad-template\"}" &&
	wait_for "grep -q after-bad-template \"$SITE/compact-group.html\"" &&
	grep -q "custom-item\">after-bad-template" "$SITE/compact-group.html"
'

test_expect_success 'after kill -9 the daemon renders again by itself' '
	rm "$DAEMON_CONFIG/templates/compact-item.html" &&
	kill9_daemon &&
	mkdir -p "$SITE/.tmp" && echo litter >"$SITE/.tmp/123.1.tmp" &&
	rm "$SITE/tiled-stack.html" &&
	start_daemon &&
	wait_for "test -s \"$SITE/tiled-stack.html\"" &&
	! test -e "$SITE/.tmp/123.1.tmp" &&
	wait_for "! grep -q custom-item \"$SITE/compact-group.html\"" &&
	stop_daemon
'

test_done
