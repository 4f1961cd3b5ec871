#!/bin/bash
test_description='site: layout and behaviour in headless Chromium

The daemon serves the site for the 200 example services; Chromium at
1280 px and 390 px: screenshots into build/screenshots/ (CI artifacts), no
sideways scrolling on a phone, the controls folded behind one toggle
there, one drawer open at a time (Esc and an outside click close it), the
free-text filter and its "N services", and drawers, buckets and the
controls toggle without JavaScript.'
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$REPO/tests/browser
SHOTS=${SCREENSHOT_DIR:-$REPO/build/screenshots}

if ! command -v node >/dev/null 2>&1 || ! test -x "${CHROMIUM:-/usr/bin/chromium}" ||
	! test -d "$BROWSER_DIR/node_modules/playwright-core"; then
	skip_all='needs node, chromium and tests/browser/node_modules (tests/deps.sh installs them)'
	test_done
fi

# result CHECK: the outcome of one check in the run below, its problems
# shown when it failed.
result () {
	grep -q "^layout $1: ok$" results && return 0
	grep "layout $1" results
	return 1
}

test_expect_success 'the daemon serves the site of the 200 example services' '
	"$PORTOLAN" import "$EXAMPLES/payloads" >/dev/null &&
	start_daemon &&
	wait_for "curl -sf -o /dev/null \"$BASE_URL/tiled-group.html\"" 20 &&
	curl -sf "$BASE_URL/index.html" >index.html &&
	grep -q "200 services" index.html
'

# One browser for every check (a launch per check would double the time);
# each test below reads its check's outcome.
test_expect_success 'run the checks in Chromium; screenshots into build/screenshots' '
	rm -f "$SHOTS"/*.png &&
	{ node "$BROWSER_DIR/layout.mjs" --base "$BASE_URL/" --out "$SHOTS" \
		screenshots overflow controls drawers filter nojs >results 2>&1; rc=$?; } &&
	cat results &&
	test "$(grep -c "^layout [a-z]*: \(ok\|[0-9]* problem(s)\)$" results)" -eq 6 &&
	result screenshots &&
	for f in tiled-1280 tiled-390 table-1280 table-390 controls-390 drawer-390 drawer-1280; do
		test -s "$SHOTS/$f.png" || { echo "missing $f.png"; return 1; }
	done
'

test_expect_success 'no page scrolls sideways at 390 px (nor at 1280)' '
	result overflow
'

test_expect_success 'at 390 px the controls fold behind one toggle; at 1280 they show' '
	result controls
'

test_expect_success 'a tile opens its drawer, another closes it, Esc and outside clicks too' '
	result drawers
'

test_expect_success 'typing a name narrows the tiles and "N services"' '
	result filter
'

test_expect_success 'without JavaScript: drawers, buckets and the toggle still work' '
	result nojs
'

test_done
