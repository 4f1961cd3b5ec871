#!/bin/bash
# Daemon benchmarks (issue: the daemon): register over HTTP with keep-alive at
# 1, 16 and 64 clients (every acknowledged change durable), the disk's own
# sync-write rate in the same run, cold start to a listening port with 1,000
# services, and RSS with 1,000 services after the load.
# Load comes from wrk (bench/register.lua posts varied payloads).
# usage: daemon_bench.sh BUILD_DIR SCRATCH_DIR
set -e
BUILD=$1
DIR=$2
BIN=$BUILD/portolan
mkdir -p "$DIR"
export API_TOKEN=bench-token-0123456789abcdef
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# 1,000 services, imported through the CLI (same merge rules).
python3 - "$DIR/seed.json" <<'PY'
import json, sys
out = [{"host": "bench%d" % (i % 4), "container_name": "svc-%05d" % i,
        "image_name": "ghcr.io/ex/app:1.0", "docker_status": "running"} for i in range(1000)]
json.dump(out, open(sys.argv[1], "w"))
PY
"$BIN" --config "$DIR/c" import "$DIR/seed.json" >/dev/null

# Cold start: exec to the first accepted connection, best of 5.
best=999999
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$BIN" --config "$DIR/c" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
	pid=$!
	until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do :; done
	t1=$(date +%s%N)
	kill $pid; wait $pid || true
	ms=$(( (t1 - t0) / 1000000 ))
	[ $ms -lt $best ] && best=$ms
done
echo "cold start to a listening port, 1,000 services: ${best} ms (best of 5; target <= 100 ms)"

"$BIN" --config "$DIR/c" serve --listen 127.0.0.1:$port >"$DIR/serve.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do :; done
echo "register over HTTP, keep-alive, durable (target >= 20,000 req/s at 64 clients, p99 <= 10 ms):"
for c in 1 16 64; do
	printf "%3d clients: " $c
	wrk -t$(( c < 2 ? 1 : 2 )) -c$c -d5s -s bench/register.lua "http://127.0.0.1:$port" -- "$API_TOKEN" 1000 | tail -n 1
done
echo "LMDB file after the load: $(du -k "$DIR/c/services.lmdb/data.mdb" | cut -f1) KiB"
echo "RSS after the load, 1,000 services: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status) ($(awk '/RssAnon/ {print $2, $3}' /proc/$pid/status) anonymous; target <= 20 MB)"
kill $pid; wait $pid || true

dd if=/dev/zero of="$DIR/dsync.bin" bs=4k count=1000 oflag=dsync 2>&1 | awk '/copied/ {printf "disk 4 KiB dsync writes: %.0f/s\n", 1000 / $(NF-3)}'
rm -f "$DIR/dsync.bin"
