#!/bin/bash
test_description='widgets in the daemon: configure, sample, show, keep the key secret

A service gets a widget with PATCH "widget"; the sampler reads the
stand-in *arr server (tests/fixtures/widgets/arr.py); values reach
GET /api/v1/services/<id>/widget and the pages; a failing sample keeps
the last value, marked stale, with the error; bad input is refused naming
the field; "widget": null removes it all. The API key is never in the
inventory repo, a backup, the log, a page or an API answer.'
. "$(dirname "$0")/lib.sh"

# debug: the sampler's own lines go to the log too, so the key checks below cover them
export API_TOKEN=t0920-token-abcdefghijklmnop WIDGET_TIMEOUT=2 LOG_LEVEL=debug
AUTH="Authorization: Bearer $API_TOKEN"
KEY=sonarr-key-0123456789abcdef
INV=$DAEMON_CONFIG/inventory
SITE=$DAEMON_CONFIG/site

patch () { # ID BODY: the status code, the body in out
	curl -sS -o out -w "%{http_code}" -X PATCH -H "$AUTH" -d "$2" "$BASE_URL/api/v1/services/$1"
}

widget () {
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services/1/widget"
}

test_expect_success PYTHON3 'setup: the stand-in, the daemon, a service' '
	python3 "$FIXTURES/widgets/arr.py" "$TRASH/arr.port" >>"$TRASH/arr.log" 2>&1 &
	arr_pid=$! &&
	wait_for "test -s \"$TRASH/arr.port\"" &&
	ARR=http://127.0.0.1:$(cat "$TRASH/arr.port") &&
	start_daemon &&
	curl -sf -H "$AUTH" -d "{\"host\": \"h1\", \"container_name\": \"sonarr\", \"image_name\": \"linuxserver/sonarr:4\"}" "$BASE_URL/api/v1/register" >/dev/null
'

test_expect_success 'PATCH "widget" configures it; the values arrive' '
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"api_key\": \"$KEY\", \"fields\": [\"wanted\", \"queued\"]}}")" = 200 &&
	test_jq ".widget == {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"fields\": [\"wanted\", \"queued\"]}" out &&
	wait_for "widget | jq -e \".fields.wanted.value == 17\"" 10 &&
	widget >w.json &&
	test_jq ".widget.api_key_set == true and .fields.queued.value == 3 and .fields.series.value == 4" w.json &&
	test_jq ".fields.wanted.stale == false and .fields.wanted.error == null" w.json &&
	test_jq ".history.wanted | length == 1 and .[0][1] == 17" w.json
'

test_expect_success 'the pages show the chosen fields: table, drawer' '
	wait_for "grep -q \"Wanted <b>17</b>\" \"$SITE/index.html\"" 10 &&
	grep -q "Queued <b>3</b>" "$SITE/index.html" &&
	! grep -q "Series <b>" "$SITE/index.html" &&
	# pages are written one after the other: wait for this one too
	wait_for "grep -q \"<span>Wanted</span><b>17</b>\" \"$SITE/tiled-group.html\"" 10 &&
	grep -q "class=\"ib wb\"" "$SITE/tiled-group.html"
'

test_expect_success 'the configuration is inventory: in the YAML, never the key' '
	wait_for "grep -q \"^widget:\" \"$INV/services/h1/sonarr.yml\"" &&
	grep -q "^  type: sonarr$" "$INV/services/h1/sonarr.yml" &&
	! grep -q "api_key" "$INV/services/h1/sonarr.yml"
'

test_expect_success 'a failing sample keeps the last value, stale, with the error' '
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/500/sonarr\", \"fields\": [\"wanted\", \"queued\"]}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.stale == true\"" 10 &&
	widget >w.json &&
	test_jq ".fields.wanted.value == 17 and .fields.wanted.error.class == \"http\"" w.json &&
	test_jq ".widget.api_key_set == true" w.json &&
	wait_for "grep -q \"class=\\\"wv ws\\\"\" \"$SITE/index.html\"" 10 &&
	grep -q "aria-label=\"sample failed\"" "$SITE/index.html" &&
	grep -q "http: " "$SITE/index.html"
'

test_expect_success 'a wrong key: auth error; a hang: timeout within WIDGET_TIMEOUT' '
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"api_key\": \"wrong-key-0000\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.error.class == \\\"auth\\\"\"" 10 &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/hang/sonarr\", \"api_key\": \"$KEY\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.error.class == \\\"timeout\\\"\"" 10 &&
	widget | jq -e ".fields.wanted.error.message | test(\"timed out after 2[0-9]{3} milliseconds\")" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.stale == false\"" 10
'

test_expect_success 'bad widget input: 400 naming the field, nothing changed' '
	widget >before.json &&
	for body in \
		"{\"widget\": {\"type\": \"nosuch\", \"url\": \"$ARR/sonarr\"}}:widget.type" \
		"{\"widget\": {\"type\": \"sonarr\", \"url\": \"ftp://x/\"}}:widget.url" \
		"{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"fields\": [\"nosuch\"]}}:widget.fields" \
		"{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"extra\": 1}}:widget.extra" \
		"{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"api_key\": \"has space\"}}:widget.api_key" \
		"{\"widget\": {\"api_key\": \"$KEY\"}}:widget.type" \
		"{\"widget\": {\"type\": \"json\", \"url\": \"$ARR\", \"fields\": [{\"key\": \"x\", \"label\": \"X\", \"url\": \"/a\", \"path\": \"no-dollar\"}]}}:widget.fields" \
		"{\"widget\": \"sonarr\"}:widget"; do
		want=${body##*:} && body=${body%:*} &&
		code=$(patch 1 "$body") &&
		{ test "$code" = 400 || { echo "$code for $body"; cat out; return 1; }; } &&
		jq -r ".details[].loc | join(\".\")" out | grep -qx "$want" || { echo "want $want: $body"; cat out; return 1; }
		! grep -q "has space" out && ! grep -q "$KEY" out || return 1
	done &&
	widget >after.json &&
	test "$(jq -S ".widget" before.json)" = "$(jq -S ".widget" after.json)"
'

test_expect_success 'another type or host drops the stored key; the same host keeps it' '
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/500/sonarr\"}}")" = 200 &&
	widget | jq -e ".widget.api_key_set == true" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"http://localhost:${ARR##*:}/sonarr\"}}")" = 200 &&
	widget | jq -e ".widget.api_key_set == false" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"radarr\", \"url\": \"$ARR/radarr\", \"api_key\": \"radarr-key-0123456789abcdef\"}}")" = 200 &&
	widget | jq -e ".widget.api_key_set == true" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\"}}")" = 200 &&
	widget | jq -e ".widget.api_key_set == false" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"api_key\": \"$KEY\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.stale == false\"" 10
'

test_expect_success 'a json field on another host is refused (the key would go there)' '
	test "$(patch 1 "{\"widget\": {\"type\": \"json\", \"url\": \"$ARR/sonarr\", \"fields\": [{\"key\": \"x\", \"label\": \"X\", \"url\": \"http://elsewhere.example/x\", \"path\": \"$.x\"}]}}")" = 400 &&
	jq -r ".details[].loc | join(\".\")" out | grep -qx "widget.fields.0.url"
'

test_expect_success 'a redirect is not followed: the key stays with the service' '
	rport=$(free_port) && qport=$(free_port) || return 1
	python3 -c "
import http.server, sys
class R(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302); self.send_header(\"Location\", \"http://127.0.0.1:$qport/x\"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((\"127.0.0.1\", $rport), R).serve_forever()
" &
	rpid=$!
	python3 -c "
import http.server
class Q(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(\"$TRASH/q.log\", \"a\").write(str(self.headers)); self.send_response(200); self.end_headers(); self.wfile.write(b\"{}\")
    def log_message(self, *a): pass
http.server.HTTPServer((\"127.0.0.1\", $qport), Q).serve_forever()
" &
	qpid=$! &&
	test_when_finished "kill $rpid $qpid 2>/dev/null; true" &&
	wait_for "curl -s -o /dev/null http://127.0.0.1:$rport/" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"http://127.0.0.1:$rport\", \"api_key\": \"$KEY\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.error.class == \\\"http\\\"\"" 10 &&
	! grep -q "$KEY" "$TRASH/q.log" 2>/dev/null &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\", \"api_key\": \"$KEY\"}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted.stale == false\"" 10
'

test_expect_success 'the json widget: fields written by the operator' '
	test "$(patch 1 "{\"widget\": {\"type\": \"json\", \"url\": \"$ARR/sonarr\", \"api_key\": \"$KEY\", \"fields\": [{\"key\": \"wanted_total\", \"label\": \"Missing\", \"url\": \"/api/v3/wanted/missing\", \"path\": \"$.totalRecords\", \"unit\": \"eps\"}]}}")" = 200 &&
	wait_for "widget | jq -e \".fields.wanted_total.value == 17\"" 10 &&
	wait_for "grep -q \"Missing <b>17 eps</b>\" \"$SITE/index.html\"" 10
'

test_expect_success 'the key is nowhere: repo, log, pages, API answers, backups' '
	printf "Boss-pw-t0920\n" | "$PORTOLAN" user add boss --role admin >/dev/null &&
	curl -sf -c jar -o /dev/null --data-urlencode username=boss --data-urlencode password=Boss-pw-t0920 "$BASE_URL/login" &&
	curl -sf -b jar "$BASE_URL/edit/1" >edit.html &&
	grep -q "A key is set" edit.html &&
	grep -q "<option value=\"sonarr\">" edit.html &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" >all.json &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services/1" >one.json &&
	widget >w.json &&
	curl -sf -b jar "$BASE_URL/dbdump" >dbdump.html &&
	"$PORTOLAN" export --format std >std.yml &&
	"$PORTOLAN" export >export.json &&
	git -C "$INV" log -p --all >git.log &&
	for f in edit.html all.json one.json w.json dbdump.html std.yml export.json git.log; do
		! grep -q "$KEY" "$f" || { echo "key in $f"; return 1; }
	done &&
	! grep -rq "$KEY" "$DAEMON_CONFIG" &&
	! grep -q "$KEY" "$DAEMON_LOG" &&
	! grep -q "wrong-key-0000" "$DAEMON_CONFIG/portolan.log"
'

test_expect_success 'values and the key survive a restart' '
	stop_daemon &&
	start_daemon &&
	widget | jq -e ".fields.wanted_total.value == 17 and .widget.api_key_set == true" &&
	curl -sf -H "$AUTH" "$BASE_URL/metrics" | grep -q "^portolan_widget_rounds_total [1-9]"
'

test_expect_success '"widget": null removes the configuration, the key and the values' '
	test "$(patch 1 "{\"widget\": null}")" = 200 &&
	test_jq ".widget == null" out &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "$AUTH" "$BASE_URL/api/v1/services/1/widget")" = 404 &&
	wait_for "! grep -q \"^widget:\" \"$INV/services/h1/sonarr.yml\" || grep -q \"^widget: null\" \"$INV/services/h1/sonarr.yml\"" &&
	test "$(patch 1 "{\"widget\": {\"type\": \"sonarr\", \"url\": \"$ARR/sonarr\"}}")" = 200 &&
	widget | jq -e ".widget.api_key_set == false"
'

test_expect_success 'a key file others can read stops the start' '
	stop_daemon &&
	chmod 644 "$DAEMON_CONFIG/widget_secret.key" &&
	test_must_fail "$PORTOLAN" serve --config "$DAEMON_CONFIG" --listen 127.0.0.1:1 >out 2>&1 &&
	grep -q "chmod 600" out &&
	chmod 600 "$DAEMON_CONFIG/widget_secret.key"
'

test_expect_success 'cleanup' '
	kill $arr_pid
'

test_done
