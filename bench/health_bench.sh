#!/bin/bash
# URL health check benchmark (issue: URL health checks): one first pass over
# 1,000 URLs, 900 answering from a local server and 100 to a server that
# never answers, HEALTHCHECK_TIMEOUT=2 and the default concurrency (64).
# Reports the time from the daemon's start until every result is stored,
# and the CPU seconds (utime+stime from /proc) the pass cost: the health
# thread alone and the whole daemon (which also renders the site at
# start-up and commits the results).
# usage: health_bench.sh BUILD_DIR SCRATCH_DIR
set -e
BUILD=$1
DIR=$2
BIN=$BUILD/portolan
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=$HERE/../tests/fixtures/health/server.py
mkdir -p "$DIR"
rm -rf "$DIR/c" "$DIR/port"
export API_TOKEN=bench-token-0123456789abcdef
export HEALTHCHECK_TIMEOUT=2
export URL_HEALTHCHECK_INTERVAL=3600 # one pass only
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEALTHCHECK_CONCURRENCY
tck=$(getconf CLK_TCK)

python3 "$SERVER" "$DIR/port" >"$DIR/server.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; kill $pid 2>/dev/null; true' EXIT
until test -s "$DIR/port"; do sleep 0.02; done
sport=$(cat "$DIR/port")

python3 - "$DIR/seed.json" "$sport" <<'PY'
import json, sys
port = int(sys.argv[2])
out = [{"host": "bench%d" % (i % 4), "container_name": "svc-%05d" % i,
        "internal_health_check_enabled": True,
        "internalurl": "http://127.0.0.1:%d/%s?n=%d" % (port, "hang" if i % 10 == 9 else "ok", i)}
       for i in range(1000)]
json.dump(out, open(sys.argv[1], "w"))
PY
"$BIN" --config "$DIR/c" import "$DIR/seed.json" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# cpu_ticks FILE: utime+stime of a /proc .../stat file
cpu_ticks () {
	sed 's/.*) //' "$1" | awk '{print $12 + $13}'
}

t0=$(date +%s%N)
"$BIN" --config "$DIR/c" serve --listen 127.0.0.1:$port >"$DIR/serve.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.005; done
for task in /proc/$pid/task/*; do
	test "$(cat "$task/comm")" = health && htask=$task
done
until test "$(curl -sf "http://127.0.0.1:$port/metrics" |
	sed -n 's/^portolan_health_checks_total //p')" -ge 1000 2>/dev/null; do sleep 0.02; done
t1=$(date +%s%N)
until curl -sf -H "Authorization: Bearer $API_TOKEN" "http://127.0.0.1:$port/api/v1/health" |
	jq -e '[.services[].internal | select(. != null)] | length == 1000' >/dev/null; do sleep 0.02; done
t2=$(date +%s%N)
hcpu=$(cpu_ticks "$htask/stat")
dcpu=$(cpu_ticks "/proc/$pid/stat")
up=$(curl -sf -H "Authorization: Bearer $API_TOKEN" "http://127.0.0.1:$port/api/v1/health" |
	jq '[.services[].internal.state] | group_by(.) | map({(.[0]): length}) | add')
echo "health pass, 1,000 URLs (900 answering, 100 never; timeout 2 s, concurrency 64):"
echo "  all checks finished $(( (t1 - t0) / 1000000 )) ms after exec, all results stored $(( (t2 - t0) / 1000000 )) ms"
echo "  states: $(echo "$up" | jq -c .)"
echo "  CPU: health thread $(echo "scale=3; $hcpu / $tck" | bc) s, whole daemon $(echo "scale=3; $dcpu / $tck" | bc) s (includes start-up and the first site render)"
echo "  RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
t3=$(date +%s%N)
kill $pid; wait $pid || true
echo "  stop: $(( ($(date +%s%N) - t3) / 1000000 )) ms"
