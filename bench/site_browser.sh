#!/bin/bash
# Static site in a browser (issue: the static site): with 100 services
# (the first 100 example payloads), the tiled page's size as served
# gzipped (target <= 60 KB) and Chromium's first contentful paint for it
# from the daemon on 127.0.0.1, median of 5 first visits (target <=
# 300 ms); every request the page makes must stay on that origin.
# Needs node, /usr/bin/chromium and tests/browser/node_modules
# (tests/deps.sh installs them); says so and exits 0 without them.
# usage: site_browser.sh [BUILD_DIR [SCRATCH_DIR]]
set -e
cd "$(dirname "$0")/.."
BUILD=${1:-build}
if [ -n "$2" ]; then
	DIR=$2
	own=
else
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/portolan-site-browser.XXXXXX")
	own=$DIR
fi
BIN=$BUILD/portolan
BROWSER_DIR=tests/browser
if ! command -v node >/dev/null 2>&1 || ! test -x "${CHROMIUM:-/usr/bin/chromium}" ||
	! test -d "$BROWSER_DIR/node_modules/playwright-core"; then
	echo "skipped: needs node, chromium and $BROWSER_DIR/node_modules (run tests/deps.sh)"
	exit 0
fi
mkdir -p "$DIR/payloads"
CFG=$DIR/c
unset API_TOKEN LISTEN SITE_DIR STD_DOZZLE_URL

# 100 services: the first 100 example payloads.
find examples/payloads -name '*.json' | sort | head -n 100 | xargs cp -t "$DIR/payloads"
"$BIN" --config "$CFG" import "$DIR/payloads" >/dev/null
"$BIN" --config "$CFG" render --out "$DIR/site" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --config "$CFG" serve --listen "127.0.0.1:$port" >"$DIR/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; test -z "$own" || rm -rf "$own"' EXIT
url=http://127.0.0.1:$port/tiled-group.html
for _ in $(seq 1 500); do
	curl -sf -o /dev/null "$url" && break
	sleep 0.02
done

# What a browser downloads for the page: the daemon's gzip answer.
served=$(curl -sf -H 'Accept-Encoding: gzip' "$url" | wc -c)
cli=$(wc -c <"$DIR/site/tiled-group.html.gz")
echo "tiled page, 100 services, gzipped: $((served / 1024)) KB served by the daemon ($served bytes; 'portolan render' alone: $((cli / 1024)) KB) (target <= 60 KB)"

out=$(node "$BROWSER_DIR/fcp.mjs" --url "$url" --runs 5) || {
	echo "$out"
	exit 1
}
fcp=$(echo "$out" | sed -n 's/.*fcp_ms_median=\([0-9]*\).*/\1/p')
all=$(echo "$out" | sed -n 's/.*fcp_ms_all=\([0-9,]*\).*/\1/p')
reqs=$(echo "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
echo "tiled page, 100 services, first contentful paint in Chromium: ${fcp} ms (median of 5 first visits: $all; target <= 300 ms)"
echo "requests of the 5 loads: $reqs, all to 127.0.0.1:$port (page, CSS, JS, favicon, live-update stream)"
