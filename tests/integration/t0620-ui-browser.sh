#!/bin/bash
test_description='web UI end to end in headless Chromium

A fresh daemon with logins on (no DASHBOARD_PUBLIC) and three services
registered through the API; tests/browser/ui.mjs drives one browser
through the story of a first start: / sends to /login; admin / changeme123
must first choose a new password (every page sends to /password); then the
table dashboard; a service added at /add shows on the tiled dashboard in
its group, moves when its group is edited, and goes when the admin deletes
it from its tile (popover, Confirm); logging out ends the session. A page
error, a CSP report, a console error or a failed request fails the step it
happened in. Screenshots of the edit and tiled pages into build/screenshots/.'
. "$(dirname "$0")/lib.sh"

BROWSER_DIR=$REPO/tests/browser
SHOTS=${SCREENSHOT_DIR:-$REPO/build/screenshots}

if ! command -v node >/dev/null 2>&1 || ! test -x "${CHROMIUM:-/usr/bin/chromium}" ||
	! test -d "$BROWSER_DIR/node_modules/playwright-core"; then
	skip_all='needs node, chromium and tests/browser/node_modules (tests/deps.sh installs them)'
	test_done
fi

# lib.sh opens the dashboards for the older tests; this one logs in.
unset DASHBOARD_PUBLIC
export API_TOKEN=ui-browser-token-8c1e5a
TOKEN=$API_TOKEN

# register HOST NAME GROUP: POST /api/v1/register with the token.
register () {
	jq -n --arg h "$1" --arg n "$2" --arg g "$3" \
		'{host: $h, container_name: $n, group_name: $g, docker_status: "running"}' >payload.json &&
	curl -sS --max-time 10 -o reply.json -w "%{http_code}\n" -X POST \
		-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
		--data-binary @payload.json "$BASE_URL/api/v1/register" >status &&
	{ grep -qx "20[01]" status || { echo "register $2: HTTP $(cat status)"; cat reply.json; false; }; }
}

services () {
	curl -sSf -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/services"
}

test_expect_success 'the daemon starts with logins on; three services are registered' '
	start_daemon &&
	curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" "$BASE_URL/" >first &&
	grep "^303 .*/login" first &&
	register docker01 e2e-seed-a Media &&
	register docker01 e2e-seed-b Media &&
	register docker01 e2e-seed-c Infrastructure &&
	services >list &&
	test_jq "[.[].container_name] | sort == [\"e2e-seed-a\", \"e2e-seed-b\", \"e2e-seed-c\"]" list
'

test_expect_success 'the story in Chromium: login, password, add, group, delete, logout' '
	mkdir -p "$SHOTS" &&
	rm -f "$SHOTS"/ui-*.png &&
	{ node "$BROWSER_DIR/ui.mjs" --base "$BASE_URL/" --token "$TOKEN" --out "$SHOTS" >results 2>&1; rc=$?; } &&
	cat results &&
	test "$rc" = 0 &&
	test "$(grep -c "^ui step [1-8]: ok" results)" = 8 &&
	grep -x "ui: ok" results &&
	test -s "$SHOTS/ui-edit.png" &&
	test -s "$SHOTS/ui-tiled.png" &&
	test_set_prereq UI_STORY
'

test_expect_success UI_STORY 'afterwards: the service is gone, the others stay, the password changed' '
	services >list &&
	test_jq "[.[].container_name] | sort == [\"e2e-seed-a\", \"e2e-seed-b\", \"e2e-seed-c\"]" list &&
	curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" \
		--data-urlencode username=admin --data-urlencode password=changeme123 \
		"$BASE_URL/login" >old &&
	grep "^401 " old &&
	curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" \
		--data-urlencode username=admin --data-urlencode password=e2e-new-password-7Qx \
		"$BASE_URL/login" >new &&
	grep "^303 .*/$" new
'

test_done
