#!/bin/bash
# Web UI page times (issue: the web UI; target <= 5 ms per page at 1,000
# services): the daemon with 1,000 services, one logged-in admin, and each
# UI page requested sequentially over keep-alive by wrk (one connection), so
# the latency is the page's render time plus loopback HTTP. The inventory
# repo gets 300 commits first, so the history pages have something to walk.
# usage: ui_bench.sh BUILD_DIR SCRATCH_DIR
set -e
BUILD=$1
DIR=$2
BIN=$BUILD/portolan
mkdir -p "$DIR"
export API_TOKEN=bench-token-0123456789abcdef ICON_SOURCES=none
unset DASHBOARD_PUBLIC
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$DIR/seed.json" <<'PY'
import json, sys
out = [{"host": "bench%d" % (i % 4), "container_name": "svc-%05d" % i,
        "image_name": "ghcr.io/ex/app:1.0", "docker_status": "running",
        "group_name": "group-%d" % (i % 20), "internalurl": "http://10.0.%d.%d/" % (i // 250, i % 250),
        "networks": [{"name": "net%d" % (i % 3), "aliases": []}],
        "published_ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8000 + i}]}
       for i in range(1000)]
json.dump(out, open(sys.argv[1], "w"))
PY
"$BIN" --config "$DIR/c" import "$DIR/seed.json" >/dev/null
# A history to walk: 300 more commits, every third one touching svc-00500.
for i in $(seq 1 300); do
	n=$(( i % 3 == 0 ? 500 : 500 + i ))
	printf '{"host": "bench%d", "container_name": "svc-%05d", "image_name": "ghcr.io/ex/app:1.%d"}' \
		$((n % 4)) $n $i >"$DIR/one.json"
	"$BIN" --config "$DIR/c" import "$DIR/one.json" >/dev/null
done
printf 'benchpass1\n' | "$BIN" --config "$DIR/c" user add bench --role admin >/dev/null
"$BIN" --config "$DIR/c" serve --listen 127.0.0.1:$port >"$DIR/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
base=http://127.0.0.1:$port
until curl -sf "$base/healthz" >/dev/null; do sleep 0.05; done
curl -sf -c "$DIR/jar" -o /dev/null -d 'username=bench&password=benchpass1' "$base/login"
cookie=$(awk '$6 == "portolan_session" {print "portolan_session=" $7}' "$DIR/jar")
echo "UI pages at 1,000 services, one client, keep-alive (target <= 5 ms each):"
for page in /login /add /edit/500 /edit/500/history "/settings?tab=info" "/settings?tab=groups" "/settings?tab=exposure" "/settings?tab=users" "/settings?tab=inventory" /dbdump; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$page")
	printf "  %-24s HTTP %s  " "$page" "$code"
	wrk -t1 -c1 -d3s --latency -H "Cookie: $cookie" "$base$page" |
		awk '/^    Latency/ {avg=$2} /^     50%/ {p50=$2} /^     99%/ {p99=$2} /Requests\/sec/ {rps=$2}
		     END {printf "avg %s  p50 %s  p99 %s  (%s pages/s)\n", avg, p50, p99, rps}'
done
