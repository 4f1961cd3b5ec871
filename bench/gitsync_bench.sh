#!/bin/bash
# GitOps benchmarks (issue: backups, GitOps and hooks), 1,000 services:
# - fetch + merge + import of an outside commit touching 100 services
#   (target <= 1 s): pushed from a second clone to a bare remote on disk;
#   the daemon's own timings (fetch; plan = validate the whole version and
#   diff; apply through the writer) come from GET /api/v1/git, and the wall
#   time from the push to the API showing all 100 edits, which also waits
#   for the next fetch tick (GIT_SYNC_INTERVAL=1);
# - register latency over HTTP with and without a remote, in one run
#   (target: a push never delays a register reply).
# usage: gitsync_bench.sh BUILD_DIR SCRATCH_DIR
set -e
BUILD=$1
DIR=$2
BIN=$(realpath "$BUILD/portolan")
mkdir -p "$DIR"
export API_TOKEN=bench-token-0123456789abcdef ICON_SOURCES=none
AUTH="Authorization: Bearer $API_TOKEN"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$port

python3 - "$DIR/seed.json" <<'PY'
import json, sys
out = [{"host": "bench%d" % (i % 4), "container_name": "svc-%05d" % i,
        "image_name": "ghcr.io/ex/app:1.0", "docker_status": "running"} for i in range(1000)]
json.dump(out, open(sys.argv[1], "w"))
PY
"$BIN" --config "$DIR/c" import "$DIR/seed.json" >/dev/null
cp -a "$DIR/c" "$DIR/plain"

serve () { # CONFIG [ENV...]
	local config=$1
	shift
	env "$@" "$BIN" --config "$config" serve --listen 127.0.0.1:$port >"$config.out" 2>&1 &
	pid=$!
	until curl -sf "$URL/healthz" >/dev/null; do sleep 0.02; done
}

echo "register over HTTP, 16 clients, 5 s each (the same payloads; every one durable):"
serve "$DIR/plain"
printf "  no remote:            "
wrk -t2 -c16 -d5s -s bench/register.lua "$URL" -- "$API_TOKEN" 1000 | tail -n 1
kill $pid; wait $pid || true

git init -q --bare "$DIR/remote.git"
serve "$DIR/c" GIT_REMOTE="$DIR/remote.git" GIT_SYNC_INTERVAL=1
until [ "$(git -C "$DIR/c/inventory" rev-parse HEAD)" = "$(git -C "$DIR/remote.git" rev-parse main 2>/dev/null)" ]; do
	sleep 0.05
done
printf "  pushing to GIT_REMOTE: "
wrk -t2 -c16 -d5s -s bench/register.lua "$URL" -- "$API_TOKEN" 1000 | tail -n 1
pushes=$(curl -sf "$URL/metrics" | sed -n 's/^portolan_git_sync_total{op="push",result="ok"} //p')
echo "  (pushes made meanwhile: $pushes)"

# settled: every change committed and pushed, twice in a row a second apart
settled () {
	[ "$(curl -sf "$URL/metrics" | sed -n 's/^portolan_journal_lag //p')" = 0 ] &&
	[ "$(git -C "$DIR/c/inventory" rev-parse HEAD)" = "$(git -C "$DIR/remote.git" rev-parse main 2>/dev/null)" ]
}
until settled && sleep 1 && settled; do sleep 0.2; done
git clone -q -b main "$DIR/remote.git" "$DIR/clone"
echo "an outside commit touching 100 of 1,000 services (target: fetch + merge + import <= 1 s):"
for round in 1 2 3; do
	until settled && sleep 1 && settled; do sleep 0.2; done
	git -C "$DIR/clone" pull -q --ff-only
	(cd "$DIR/clone" &&
	 for f in $(ls services/bench0/*.yml | head -n 100); do
		name=$(basename "$f" .yml)
		sed -i "s|^externalurl: .*|externalurl: https://$name-r$round.bench.example|" "$f"
	 done &&
	 git -c user.name=Bench -c user.email=bench@example.com commit -qam "round $round: 100 URLs")
	want=$(git -C "$DIR/clone" rev-parse HEAD)
	t0=$(date +%s%N)
	git -C "$DIR/clone" push -q origin main
	until curl -sf -H "$AUTH" "$URL/api/v1/git" | jq -e ".last_import.commit == \"$want\"" >/dev/null; do
		sleep 0.01
	done
	t1=$(date +%s%N)
	n=$(curl -sf -H "$AUTH" "$URL/api/v1/services" | jq "[.[] | select(.externalurl // \"\" | endswith(\"-r$round.bench.example\"))] | length")
	curl -sf -H "$AUTH" "$URL/api/v1/git" | jq -r --arg wall $(( (t1 - t0) / 1000000 )) --arg n "$n" \
		'"  \(.last_import.changed) services changed: fetch \(.fetch.ms) ms + plan and import \(.last_import.ms) ms = \(.fetch.ms + .last_import.ms) ms; push to visible in the API \($wall) ms (incl. waiting for the 1 s fetch tick); \($n) of 100 edits visible"'
done
kill $pid; wait $pid || true
