#!/bin/bash
test_description='serve: concurrency, kill -9, signals, configuration check'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0210-token-abcdefghijklmnop
INV=$DAEMON_CONFIG/inventory
AUTH="Authorization: Bearer $API_TOKEN"

# 16 threads register 2,000 distinct services over keep-alive connections;
# prints each acknowledged (host/name) on stdout.
CLIENTS='
import http.client, json, sys, threading
port, token = int(sys.argv[1]), sys.argv[2]
acked, lock = [], threading.Lock()
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(k, 2000, 16):
        body = json.dumps({"host": "h%d" % (i % 7), "container_name": "c%04d" % i,
                           "image_name": "nginx:1.%d" % (i % 5), "docker_status": "running"})
        c.request("POST", "/api/v1/register", body, {"Authorization": "Bearer " + token})
        r = c.getresponse(); data = r.read()
        if r.status == 200 and json.loads(data)["status"] == "created":
            with lock: acked.append("h%d/c%04d" % (i % 7, i))
ts = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("\n".join(sorted(acked)))
'

test_expect_success 'serve -n checks the configuration' '
	"$PORTOLAN" serve -n >out && grep "configuration ok" out &&
	echo "url_healthcheck_interval: often" >"$DAEMON_CONFIG/settings.yml" &&
	test_must_fail "$PORTOLAN" serve -n >out 2>err &&
	grep "has problems" out && grep -i "url_healthcheck_interval" err &&
	rm "$DAEMON_CONFIG/settings.yml"
'

test_expect_success 'start' '
	start_daemon
'

test_expect_success '16 clients register 2,000 services at once: exactly 2,000, no duplicates' '
	python3 -c "$CLIENTS" "$PORT" "$API_TOKEN" >acked &&
	test "$(wc -l <acked)" -eq 2000 &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" >all.json &&
	test_jq "length == 2000" all.json &&
	test_jq "[.[] | .host + \"/\" + .container_name] | unique | length == 2000" all.json &&
	test_jq "[.[].id] | unique | length == 2000" all.json
'

test_expect_success 'kill -9, restart: every acknowledged service is there' '
	kill9_daemon &&
	start_daemon &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" |
		jq -r ".[] | .host + \"/\" + .container_name" | sort >present &&
	test_cmp acked present
'

test_expect_success 'after the restart the mirror converges: 2,000 files, clean repo' '
	wait_for "curl -sf $BASE_URL/healthz | jq -e \".journal_lag == 0\"" 20 &&
	test "$(find "$INV/services" -name "*.yml" | wc -l)" -eq 2000 &&
	git -C "$INV" fsck --strict 2>&1 &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'idle and slow clients do not block others' '
	python3 - "$PORT" "$BASE_URL" <<-\PY
	import socket, sys, time, urllib.request
	port = int(sys.argv[1])
	idle = []
	for i in range(50):
	    s = socket.create_connection(("127.0.0.1", port))
	    s.sendall(b"POST /api/v1/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
	    idle.append(s)
	t0 = time.time()
	for i in range(20):
	    urllib.request.urlopen(sys.argv[2] + "/healthz", timeout=2).read()
	assert time.time() - t0 < 2, "healthz slowed down by idle clients"
	PY
'

test_expect_success 'a body over 1 MiB is a 413 and changes nothing' '
	head -c 1100000 /dev/zero | tr "\0" "a" >big &&
	code=$(curl -s -o body -w "%{http_code}" -H "$AUTH" --data-binary @big "$BASE_URL/api/v1/register") &&
	test "$code" = 413 && test_jq ".error == \"Request body too large\"" body
'

test_expect_success 'a CLI import while the daemon serves registers: both land, repo sound' '
	python3 -c "import json; print(json.dumps([{\"host\": \"cli\", \"container_name\": \"c%03d\" % i} for i in range(300)]))" >cli.json &&
	{ python3 -c "$CLIENTS" "$PORT" "$API_TOKEN" >/dev/null & } &&
	clients=$! &&
	"$PORTOLAN" import cli.json >out &&
	wait $clients &&
	grep "300 created" out &&
	wait_for "curl -sf $BASE_URL/healthz | jq -e \".journal_lag == 0\"" 20 &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services?host=cli" | jq -e "length == 300" &&
	test "$(find "$INV/services/cli" -name "*.yml" | wc -l)" -eq 300 &&
	git -C "$INV" fsck --strict 2>&1 &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'SIGHUP reloads settings.yml' '
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/settings" >s1 &&
	test_jq ".stale_after.value == 300 and .stale_after.source == \"default\"" s1 &&
	echo "stale_after: 600" >"$DAEMON_CONFIG/settings.yml" &&
	kill -HUP "$DAEMON_PID" &&
	wait_for "curl -sf -H \"$AUTH\" $BASE_URL/api/v1/settings | jq -e \".stale_after.value == 600\"" &&
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/settings" >s2 &&
	test_jq ".stale_after.source == \"yaml\"" s2 &&
	test_jq ".api_token.value != \"$API_TOKEN\"" s2
'

test_expect_success 'clients that leave before their reply do not wedge the daemon' '
	python3 - "$PORT" "$API_TOKEN" <<-\PY
	import json, socket, sys
	port, token = int(sys.argv[1]), sys.argv[2]
	for k in range(20):
	    s = socket.create_connection(("127.0.0.1", port))
	    for i in range(10):
	        body = json.dumps({"host": "gone", "container_name": "c%d-%d" % (k, i)}).encode()
	        s.sendall(b"POST /api/v1/register HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
	                  token.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
	    s.close()
	PY
	curl -sf "$BASE_URL/healthz" >/dev/null
'

test_expect_success 'SIGTERM: in-flight work is committed to git, exit 0' '
	echo "{\"host\": \"late\", \"container_name\": \"one\"}" >late.json &&
	curl -sf -H "$AUTH" -d @late.json "$BASE_URL/api/v1/register" >/dev/null &&
	stop_daemon &&
	test -f "$INV/services/late/one.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'IPv6: listens on [::1]' '
	p6=$(free_port) &&
	{ "$PORTOLAN" serve --listen "[::1]:$p6" >v6.log 2>&1 & } &&
	pid6=$! &&
	test_when_finished "kill $pid6; wait $pid6" &&
	wait_for "curl -sf -g http://[::1]:$p6/healthz" &&
	curl -sf -g "http://[::1]:$p6/healthz" | jq -e ".status == \"ok\""
'

test_expect_success 'the token never appears in the log' '
	test -s "$DAEMON_CONFIG/portolan.log" &&
	! grep -F "$API_TOKEN" "$DAEMON_CONFIG/portolan.log"
'

test_done
