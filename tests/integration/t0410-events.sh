#!/bin/bash
test_description='serve: server-sent events on /api/v1/events

A subscriber gets retry and a comment, then an event "change" with the
journal seq after each durable write; subscribers that leave are
forgotten, 256 at most are served, and the daemon stops cleanly with
subscribers connected. TEST_LONG=1 also waits for a heartbeat (25 s).'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0410-token-abcdefghijklmnop
AUTH="Authorization: Bearer $API_TOKEN"
test "${TEST_LONG-}" = 1 && test_set_prereq LONG
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null &&
	test_set_prereq LOOPBACK_ALIASES

n=0
# register: one new service, durable when curl returns.
register () {
	n=$((n + 1))
	curl -sf -H "$AUTH" -d "{\"host\": \"ev\", \"container_name\": \"c$n\"}" \
		"$BASE_URL/api/v1/register" >/dev/null
}

subscribers () {
	curl -sf "$BASE_URL/metrics" | sed -n "s/^portolan_events_subscribers //p"
}

# subscribe FILE: a background curl writing the stream to FILE; its pid in $sub.
subscribe () {
	curl -sN "$BASE_URL/api/v1/events" >"$1" 2>/dev/null &
	sub=$!
	wait_for "grep -q \"^retry: 3000\" \"$1\""
}

test_expect_success 'start' '
	start_daemon
'

test_expect_success 'the stream: headers, retry, a first comment' '
	test_expect_code 28 curl -sN --max-time 1 -D hdr -o first "$BASE_URL/api/v1/events" &&
	head -n 1 hdr | grep "^HTTP/1.1 200" &&
	grep -i "^Content-Type: text/event-stream" hdr &&
	grep -i "^Cache-Control: no-store" hdr &&
	grep -i "^X-Accel-Buffering: no" hdr &&
	head -n 1 first | grep -x "retry: 3000" &&
	sed -n 2p first | grep "^:"
'

test_expect_success 'other methods: 405' '
	code=$(curl -s -o body -D hdr -w "%{http_code}" -X POST -d x "$BASE_URL/api/v1/events") &&
	test "$code" = 405 && grep -i "^Allow: GET" hdr
'

test_expect_success 'a write is announced as event "change" with its seq' '
	subscribe s1 &&
	test_when_finished "kill $sub; wait $sub || :" &&
	register &&
	wait_for "grep -q \"^event: change\" s1" &&
	grep -A1 "^event: change" s1 | sed -n "s/^data: //p" | head -n 1 >data &&
	test_jq ".seq | type == \"number\" and . >= 1" data &&
	grep "^id: [0-9][0-9]*$" s1 &&
	register &&
	wait_for "test \$(grep -c \"^event: change\" s1) -ge 2" &&
	grep -A1 "^event: change" s1 | sed -n "s/^data: //p" |
		jq -s -e "length >= 2 and .[0].seq < .[-1].seq" &&
	sed -n "s/^id: //p" s1 >ids && sort -n -c ids
'

test_expect_success 'every subscriber gets every event' '
	subscribe a && a=$sub && subscribe b && b=$sub &&
	test_when_finished "kill $a $b; wait $a $b || :" &&
	register &&
	wait_for "grep -q \"^event: change\" a && grep -q \"^event: change\" b" &&
	# render events may come and go around it: compare the change events
	grep -B1 "^event: change" a | grep "^id:" >ida &&
	grep -B1 "^event: change" b | grep "^id:" >idb &&
	test_cmp ida idb
'

test_expect_success 'subscribers that leave are forgotten; the daemon is fine' '
	wait_for "register && test \"\$(subscribers)\" = 0" &&
	subscribe gone && kill $sub && { wait $sub || :; } &&
	wait_for "register && test \"\$(subscribers)\" = 0" &&
	curl -sf "$BASE_URL/healthz" | jq -e ".status == \"ok\""
'

test_expect_success LOOPBACK_ALIASES 'at most 256 subscribers; then 503, and room again once they leave' '
	python3 - "$PORT" "$API_TOKEN" <<-\PY &&
	import json, socket, sys, urllib.error, urllib.request
	port, token = int(sys.argv[1]), sys.argv[2]
	def subscribe(src):
	    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
	    s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	    got = b""
	    while b"retry: 3000" not in got:
	        chunk = s.recv(4096)
	        assert chunk, "closed before the first event"
	        got += chunk
	    assert got.startswith(b"HTTP/1.1 200"), got
	    return s
	# The per-IP limit is 256 too: spread the clients over two addresses.
	subs = [subscribe("127.0.0.2" if i % 2 else "127.0.0.3") for i in range(256)]
	try:
	    urllib.request.urlopen("http://127.0.0.1:%d/api/v1/events" % port, timeout=5)
	    raise SystemExit("subscriber 257 was accepted")
	except urllib.error.HTTPError as e:
	    assert e.code == 503, e.code
	    assert "error" in json.loads(e.read())
	req = urllib.request.Request("http://127.0.0.1:%d/api/v1/register" % port,
	    data=json.dumps({"host": "ev", "container_name": "fanout"}).encode(),
	    headers={"Authorization": "Bearer " + token})
	urllib.request.urlopen(req, timeout=10).read()
	for s in subs:
	    got = b""
	    while b"event: change" not in got:
	        chunk = s.recv(4096)
	        assert chunk, "closed before the change event"
	        got += chunk
	    s.close()
	PY
	wait_for "register && test \"\$(subscribers)\" = 0" 20 &&
	subscribe again && kill $sub && { wait $sub || :; } &&
	test "$(head -n 1 again)" = "retry: 3000"
'

test_expect_success LONG 'a heartbeat comment every 25 s' '
	subscribe hb &&
	test_when_finished "kill $sub; wait $sub || :" &&
	wait_for "test \$(grep -c \"^:\" hb) -ge 2" 30
'

test_expect_success 'stop with subscribers connected: clean exit, streams end' '
	subscribe s2 && s2=$sub && subscribe s3 && s3=$sub &&
	begin=$SECONDS &&
	stop_daemon &&
	test $((SECONDS - begin)) -le 5 &&
	wait $s2 && wait $s3
'

test_done
