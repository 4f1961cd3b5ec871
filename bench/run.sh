#!/bin/sh
# make bench: every benchmark, one after the other, in a scratch dir.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/portolan-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
echo "== store (LMDB apply, git mirror, rebuild) =="
"$BUILD/bench/store_bench" "$scratch/store"
if [ -x "$BUILD/bench/git_bench" ]; then
	echo "== git (raw commits) =="
	"$BUILD/bench/git_bench" "$scratch/git" || true
fi
echo "== widget values (500 widgets x 4 fields x 30 days at 15 min: size, round, read, prune) =="
"$BUILD/bench/widget_bench" "$scratch/widgets"
echo "== daemon (register over HTTP, cold start, RSS) =="
./bench/daemon_bench.sh "$BUILD" "$scratch/daemon"
echo "== static site (render, re-render after one change, page sizes) =="
"$BUILD/bench/render_bench" "$scratch/render"
if [ -x bench/site_browser.sh ]; then
	echo "== static site in Chromium (gzipped size, first contentful paint) =="
	./bench/site_browser.sh "$BUILD" "$scratch/browser"
fi
echo "== URL health checks (1,000 URLs, 100 never answering) =="
./bench/health_bench.sh "$BUILD" "$scratch/health"
echo "== web UI pages (1,000 services, one logged-in admin) =="
./bench/ui_bench.sh "$BUILD" "$scratch/ui"
echo "== GitOps (outside commit of 100 services at 1,000; registers while pushing) =="
./bench/gitsync_bench.sh "$BUILD" "$scratch/gitsync"
echo "== widget sampling (500 widgets, 50 never answering) =="
./bench/widget_sampling.sh "$BUILD" "$scratch/widget-sampling"
