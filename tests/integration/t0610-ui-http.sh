#!/bin/bash
test_description='web UI over HTTP: login, password change, sessions, CSRF, add/edit/delete forms

A real `portolan serve` driven with curl and cookie jars, as a browser
would: the first admin (admin / changeme123) must change its password,
forms carry the session'"'"'s CSRF token, viewers only read, and a session
ends on logout, password change, user deletion or after
USER_SESSION_LENGTH minutes unused. Four daemons: the main one, one with
DASHBOARD_PUBLIC=true, a fresh one for the login lockout, and one with
USER_SESSION_LENGTH=1 started first and checked last (its session must
sit unused for more than a minute).'
. "$(dirname "$0")/lib.sh"
. "$REPO/tests/integration/lib-ui.sh"

# The UI tests log in: only the public-mode test sets it again.
unset DASHBOARD_PUBLIC
export API_TOKEN=t0610-token-abcdefghijklmnop
AUTH="Authorization: Bearer $API_TOKEN"
INV=$DAEMON_CONFIG/inventory
EXP_CONFIG=$TRASH/expiry-config
LOCK_CONFIG=$TRASH/lockout-config
# The expiry daemon runs beside the others: stop it too when the script ends.
EXP_PID=
_t0610_exit () {
	local rc=$?
	if test -n "$EXP_PID"; then
		kill -TERM "$EXP_PID" 2>/dev/null
		wait "$EXP_PID" 2>/dev/null
	fi
	(exit $rc)
	_test_exit_trap
}
trap _t0610_exit EXIT

# jar_session JAR: the session cookie the jar holds (empty: none).
jar_session () {
	awk '$6 == "portolan_session" { print $7 }' "$1"
}

# session_cookie: the reply's Set-Cookie for the session, in ./cookie.
session_cookie () {
	header Set-Cookie | grep "^portolan_session=" >cookie &&
	test "$(wc -l <cookie)" = 1
}

# mangled TOKEN: a token as long as TOKEN that differs in its last character.
mangled () {
	case $1 in
	*0) echo "${1%?}1" ;;
	*) echo "${1%?}0" ;;
	esac
}

# page_csrf [FILE]: the first csrf_token a page's forms carry.
page_csrf () {
	sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "${1-body}" | head -n 1
}

# is_rejected JAR: the jar's session no longer opens the dashboard.
is_rejected () {
	http "$1" GET / && status_is 303 && location_is "/login?next=/"
}

# field_block NAME [FILE]: the <div class="fld"> of form field NAME.
field_block () {
	awk -v f="name=\"$1\"" 'BEGIN { RS = "</div>" } index($0, f) { print; exit }' "${2-body}"
}

# field_error NAME MESSAGE: the page marks field NAME (has-err) with MESSAGE
# in its <small class="fe">, and no other field.
field_error () {
	field_block "$1" >block &&
	grep -q "class=\"fld[^\"]*has-err" block &&
	grep -qF "$2</small>" block &&
	grep -q "<small class=\"fe\"" block &&
	test "$(grep -c has-err body)" = 1 || {
		echo "field_error: field $1 is not marked with '$2'; its block:" >&2
		cat block >&2
		return 1
	}
}

# input_value NAME VALUE: the page's input NAME shows VALUE (as HTML).
input_value () {
	grep -qF "name=\"$1\" value=\"$2\"" body || {
		echo "input_value: no input $1 with value=\"$2\":" >&2
		grep -F "name=\"$1\"" body >&2
		return 1
	}
}

services () {
	curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services"
}

# stored ID: the service as the API returns it, in ./stored.
stored () {
	curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services/$1" >stored
}

mirror_synced () {
	curl -sSf "$BASE_URL/healthz" | jq -e ".journal_lag == 0" >/dev/null
}

# snapshot FILE: every service and the git HEAD, once the mirror is idle.
snapshot () {
	wait_for mirror_synced 5 &&
	{ services | jq -S . && git -C "$INV" rev-parse HEAD; } >"$1"
}

# last_commit AUTHOR SUBJECT-PATTERN: the inventory's newest commit matches.
last_commit () {
	case $(git -C "$INV" log -1 --format="%an|%s" 2>/dev/null) in
	"$1|"$2) return 0 ;;
	esac
	return 1
}

# The fields of a complete add form for web01/wiki, checkboxes as a browser
# sends them: the hidden "false", then "true" when checked.
WIKI=(host=web01 container_name=wiki stack_name=docs internalurl=http://10.0.0.5:8080/
	externalurl=https://wiki.example.com/
	internal_health_check_enabled=false internal_health_check_enabled=true
	external_health_check_enabled=false
	health_check_timeout=7 group_name=Docs sort_priority=3 image_icon=wiki
	is_static=false is_static=true "notes=Some *notes* & <b>x</b>")

# form_with NAME=VALUE...: WIKI's fields with these values instead, in FIELDS.
form_with () {
	local f kv
	FIELDS=()
	for f in "${WIKI[@]}"; do
		for kv in "$@"; do
			test "${kv%%=*}" != "${f%%=*}" || f=$kv
		done
		FIELDS+=("$f")
	done
}

# form-fields.py PAGE ACTION [NAME=VALUE...]: what a browser submits for the
# form with that action: NAME=VALUE pairs, NUL-terminated, with the given
# ones replacing the page's values.
cat >"$TRASH/form-fields.py" <<\EOF
import html.parser, sys

class Form(html.parser.HTMLParser):
    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.fields, self.area = action, False, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif self.inside and tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "file", "reset"):
                self.fields.append([a["name"], a.get("value") or ""])
        elif self.inside and tag == "textarea" and a.get("name"):
            self.area = [a["name"], ""]
            self.fields.append(self.area)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.area = None

    def handle_data(self, data):
        if self.area is not None:
            self.area[1] += data

form = Form(sys.argv[2])
with open(sys.argv[1], encoding="utf-8") as f:
    form.feed(f.read())
for arg in sys.argv[3:]:
    name, value = arg.split("=", 1)
    for field in form.fields:
        if field[0] == name:
            field[1] = value
if not form.fields:
    sys.exit("form-fields.py: no form with action " + sys.argv[2])
for name, value in form.fields:
    sys.stdout.write(name + "=" + value + "\0")
EOF

# --- a session that must expire: started first, checked last -------------------

test_expect_success 'USER_SESSION_LENGTH=1: a daemon whose sessions last a minute' '
	mkdir -p "$EXP_CONFIG" &&
	printf "expirypass1\n" | "$PORTOLAN" --config "$EXP_CONFIG" user add exp1 &&
	DAEMON_CONFIG=$EXP_CONFIG USER_SESSION_LENGTH=1 start_daemon &&
	EXP_PID=$DAEMON_PID EXP_URL=$BASE_URL && DAEMON_PID= &&
	curl -sSf -H "$AUTH" "$EXP_URL/api/v1/settings" >settings &&
	test_jq ".user_session_length.value == 1" settings &&
	login exp1 expirypass1 && location_is / &&
	mv exp1.jar "$TRASH/expiry.jar" &&
	http "$TRASH/expiry.jar" GET / && status_is 200 &&
	# the last use of the session: it must be unused 60 s after this
	EXP_T0=$(date +%s)
'

# --- first start, logging in ------------------------------------------------------

test_expect_success 'first start creates admin (must change); GET /login is a form' '
	start_daemon &&
	grep -q "created the user '\''admin'\''" "$DAEMON_LOG" &&
	"$PORTOLAN" user list >users &&
	test_jq "[.[] | {name, role, must_change_password}] ==
		[{name: \"admin\", role: \"admin\", must_change_password: true}]" users &&
	http - GET "/login?next=/compact_dash" && status_is 200 &&
	header Content-Type | grep -q "^text/html" &&
	grep -q "<form[^>]* method=\"post\" action=\"/login\"" body &&
	grep -q "name=\"username\"" body &&
	grep -q "type=\"password\" name=\"password\"" body &&
	grep -q "<input type=\"hidden\" name=\"next\" value=\"/compact_dash\">" body
'

test_expect_success 'without a session: dashboards redirect to /login, assets are served' '
	http - GET / && status_is 303 && location_is "/login?next=/" &&
	http - GET /tiled_dash && status_is 303 && location_is "/login?next=/tiled_dash" &&
	http - GET /add && status_is 303 && location_is "/login?next=/add" &&
	http - GET /edit/1 && status_is 303 && location_is "/login?next=/edit/1" &&
	http - GET /assets/style.css && status_is 200 &&
	header Content-Type | grep -q "^text/css"
'

test_expect_success 'without a session: the API and the event stream answer 401' '
	http - GET /api/v1/services && status_is 401 &&
	test_jq ".error == \"Unauthorized\"" body &&
	http - GET /api/v1/health && status_is 401 &&
	http - GET /api/v1/events && status_is 401
'

test_expect_success 'a wrong password or an unknown user: 401, logged with the IP, never the password' '
	post_form bad.jar /login username=admin password=Wrong-pw-t0610-A next=/ &&
	status_is 401 && grep -q "wrong user name or password" body &&
	! header Set-Cookie | grep -q . &&
	input_value username admin &&
	post_form bad.jar /login username=nobody password=Wrong-pw-t0610-B next=/ &&
	status_is 401 && grep -q "wrong user name or password" body &&
	grep -q "failed login for '\''admin'\'' from 127.0.0.1" "$DAEMON_LOG" &&
	grep -q "failed login for '\''nobody'\'' from 127.0.0.1" "$DAEMON_LOG" &&
	! grep -F "Wrong-pw-t0610" "$DAEMON_LOG"
'

test_expect_success 'admin logs in: a 64-hex HttpOnly cookie, sent to /password' '
	login admin changeme123 /tiled_dash &&
	location_is /password &&
	session_cookie &&
	grep -Eqx "portolan_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax" cookie &&
	grep -q "login '\''admin'\'' from 127.0.0.1" "$DAEMON_LOG"
'

test_expect_success 'while the password must change: pages go to /password, the API says 403' '
	for p in / /tiled_dash /add /edit/1; do
		http admin.jar GET "$p" && status_is 303 && location_is /password || return 1
	done &&
	http admin.jar GET /api/v1/services && status_is 403 &&
	test_jq ".error | test(\"password\"; \"i\")" body &&
	http admin.jar DELETE /api/v1/services/1 && status_is 403 &&
	test_jq ".error | test(\"password\"; \"i\")" body &&
	http admin.jar GET /password && status_is 200 &&
	grep -q "still has its first password" body &&
	grep -q "name=\"current_password\"" body &&
	grep -q "name=\"new_password\"" body &&
	grep -q "name=\"confirm_password\"" body
'

# Found by this test once: the body template did not get the token.
test_expect_success 'the /password form carries the session CSRF token' '
	http admin.jar GET /password && status_is 200 &&
	token=$(page_csrf) && test ${#token} = 64 &&
	grep -A1 "action=\"/password\"" body >form &&
	grep -qF "<input type=\"hidden\" name=\"csrf_token\" value=\"$token\">" form
'

test_expect_success 'POST /password: each mistake is a 400 with the message at its field' '
	http admin.jar GET /password && CSRF=$(page_csrf) && test ${#CSRF} = 64 &&
	post_form admin.jar /password "csrf_token=$CSRF" current_password=not-the-password \
		new_password=Admin-pw-t0610-1 confirm_password=Admin-pw-t0610-1 &&
	status_is 400 && field_error current_password "This is not your current password." &&
	post_form admin.jar /password "csrf_token=$CSRF" current_password=changeme123 \
		new_password=short1 confirm_password=short1 &&
	status_is 400 && field_error new_password "at least 8 characters" &&
	post_form admin.jar /password "csrf_token=$CSRF" current_password=changeme123 \
		new_password=Admin-pw-t0610-1 confirm_password=Admin-pw-t0610-2 &&
	status_is 400 && field_error confirm_password "The two new passwords differ." &&
	post_form admin.jar /password "csrf_token=$CSRF" current_password=changeme123 \
		new_password=changeme123 confirm_password=changeme123 &&
	status_is 400 && field_error new_password "The new password must differ from the current one." &&
	! grep -q "changeme123\|Admin-pw-t0610\|short1" body &&
	http admin.jar GET / && status_is 303 && location_is /password
'

test_expect_success 'POST /password without or with a wrong csrf_token: 403, nothing changed' '
	post_form admin.jar /password current_password=changeme123 \
		new_password=Admin-pw-t0610-1 confirm_password=Admin-pw-t0610-1 &&
	status_is 403 && grep -q "security token" body &&
	post_form admin.jar /password csrf_token=$(printf "%064d" 0) current_password=changeme123 \
		new_password=Admin-pw-t0610-1 confirm_password=Admin-pw-t0610-1 &&
	status_is 403 &&
	"$PORTOLAN" user list >users &&
	test_jq ".[0].must_change_password == true" users &&
	http admin.jar GET / && status_is 303 && location_is /password
'

test_expect_success 'POST /password: a new cookie, every older session of the user ends' '
	cp admin.jar before.jar &&
	login admin changeme123 && mv admin.jar second.jar && cp before.jar admin.jar &&
	http admin.jar GET /password && CSRF=$(page_csrf) &&
	post_form admin.jar /password "csrf_token=$CSRF" current_password=changeme123 \
		new_password=Admin-pw-t0610-1 confirm_password=Admin-pw-t0610-1 &&
	status_is 303 && location_is / &&
	session_cookie &&
	grep -Eqx "portolan_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax" cookie &&
	old=$(jar_session before.jar) &&
	test ${#old} = 64 && ! grep -q "$old" cookie &&
	http admin.jar GET / && status_is 200 &&
	is_rejected before.jar &&
	is_rejected second.jar &&
	"$PORTOLAN" user list >users &&
	test_jq ".[0].must_change_password == false" users
'

test_expect_success 'login with the new password goes to next, a local path only' '
	post_form bad.jar /login username=admin password=changeme123 next=/ && status_is 401 &&
	login admin Admin-pw-t0610-1 /tiled_dash && location_is /tiled_dash &&
	login admin Admin-pw-t0610-1 "/compact_dash?group_by=host" &&
	location_is "/compact_dash?group_by=host" &&
	login admin Admin-pw-t0610-1 //evil.example/ && location_is / &&
	login admin Admin-pw-t0610-1 https://evil.example/ && location_is / &&
	login admin Admin-pw-t0610-1 "/\\evil.example" && location_is / &&
	http admin.jar GET "/login?next=/tiled_dash" && status_is 303 && location_is /tiled_dash
'

test_expect_success '/api/v1/me: the session user and its CSRF token; the Bearer token is "api"' '
	http admin.jar GET /api/v1/me && status_is 200 &&
	test_jq "keys == [\"can_edit\", \"csrf_token\", \"role\", \"user\"]" body &&
	test_jq ".user == \"admin\" and .role == \"admin\" and .can_edit == true" body &&
	test_jq ".csrf_token | test(\"^[0-9a-f]{64}\$\")" body &&
	CSRF=$(jq -r .csrf_token body) &&
	test "$(csrf_of admin.jar)" = "$CSRF" &&
	http - GET /api/v1/me -H "$AUTH" && status_is 200 &&
	test_jq ". == {\"user\": \"api\", \"role\": \"api\", \"can_edit\": true}" body
'

test_expect_success 'with a session the dashboards and the event stream are open' '
	http admin.jar GET / && status_is 200 &&
	header Content-Type | grep -q "^text/html" &&
	http admin.jar GET /tiled_dash && status_is 200 &&
	test_expect_code 28 curl -sS -N --max-time 1 -b admin.jar -o /dev/null -D headers \
		"$BASE_URL/api/v1/events" 2>/dev/null &&
	head -n 1 headers | grep -q " 200" &&
	header Content-Type | grep -q "^text/event-stream"
'

# --- adding, editing, deleting ---------------------------------------------------

test_expect_success 'GET /add: every field, and the session CSRF token in every form' '
	http admin.jar GET /add && status_is 200 &&
	for f in host container_name stack_name internalurl externalurl \
		internal_health_check_enabled external_health_check_enabled \
		health_check_timeout group_name sort_priority image_icon is_static notes; do
		grep -q "name=\"$f\"" body || return 1
	done &&
	grep -q "<input type=\"hidden\" name=\"is_static\" value=\"false\">" body &&
	grep -q "<input type=\"checkbox\" id=\"f-is_static\" name=\"is_static\" value=\"true\">" body &&
	test "$(grep -c "<form" body)" = "$(grep -c "name=\"csrf_token\"" body)" &&
	grep -o "name=\"csrf_token\" value=\"[^\"]*\"" body | sort -u >tokens &&
	echo "name=\"csrf_token\" value=\"$CSRF\"" >expect &&
	test_cmp expect tokens &&
	! grep -q "Reported by notifier" body
'

test_expect_success 'POST /add creates the service: API, YAML file, git author' '
	test "$(services | jq length)" = 0 &&
	post_form admin.jar /add "csrf_token=$CSRF" "${WIKI[@]}" &&
	status_is 303 &&
	WIKI_ID=$(header Location | sed -n "s,^/edit/\([0-9][0-9]*\)?saved=1\$,\1,p") &&
	test -n "$WIKI_ID" &&
	stored "$WIKI_ID" &&
	test_jq ".host == \"web01\" and .container_name == \"wiki\" and .stack_name == \"docs\"" stored &&
	test_jq ".internalurl == \"http://10.0.0.5:8080/\" and .internalurl_source == \"ui_edit\"" stored &&
	test_jq ".externalurl == \"https://wiki.example.com/\" and .externalurl_source == \"ui_edit\"" stored &&
	test_jq ".internal_health_check_enabled == true and .external_health_check_enabled == false" stored &&
	test_jq ".health_check_timeout == 7 and .group_name == \"Docs\" and .sort_priority == 3" stored &&
	test_jq ".image_icon == \"wiki\" and .is_static == true" stored &&
	test_jq ".notes == \"Some *notes* & <b>x</b>\"" stored &&
	services >list && test_jq "length == 1 and .[0].id == $WIKI_ID" list &&
	YAML=$INV/services/web01/wiki.yml &&
	wait_for "test -f \"$YAML\"" &&
	grep -qx "internalurl_source: ui_edit" "$YAML" &&
	grep -qx "group_name: Docs" "$YAML" &&
	grep -qx "health_check_timeout: 7" "$YAML" &&
	wait_for "last_commit admin \"add web01/wiki:*\""
'

test_expect_success 'GET /edit/<id>?saved=1: the values, "Edited in UI" badges, notes rendered safely' '
	http admin.jar GET "/edit/$WIKI_ID?saved=1" && status_is 200 &&
	grep -q "role=\"status\">Saved.<" body &&
	grep -q "action=\"/edit/$WIKI_ID\"" body &&
	input_value host web01 && input_value container_name wiki &&
	input_value internalurl http://10.0.0.5:8080/ && input_value sort_priority 3 &&
	grep -q "name=\"is_static\" value=\"true\" checked>" body &&
	grep -q "name=\"external_health_check_enabled\" value=\"true\">" body &&
	grep -qF ">Some *notes* &amp; &lt;b&gt;x&lt;/b&gt;</textarea>" body &&
	grep -qF "<em>notes</em>" body && ! grep -q "<b>x" body &&
	test "$(field_block internalurl | grep -c "class=\"bg\">Edited in UI<")" = 1 &&
	test "$(field_block externalurl | grep -c "class=\"bg\">Edited in UI<")" = 1 &&
	grep -q "Reported by notifier" body &&
	grep -q "<dt>Docker status</dt><dd class=\"nr\">Not reported</dd>" body &&
	grep -q "<form [^>]*action=\"/edit/$WIKI_ID/delete\"" body
'

# bad_add NAME VALUE SHOWN: POST /add with NAME=VALUE in a valid form: 400,
# the error at field NAME, and VALUE kept in the input (as SHOWN in HTML).
bad_add () {
	form_with container_name=broken "$1=$2" &&
	post_form admin.jar /add "csrf_token=$CSRF" "${FIELDS[@]}" &&
	status_is 400 &&
	header Content-Type | grep -q "^text/html" &&
	field_block "$1" >block &&
	grep -q "class=\"fld has-err\"" block &&
	grep -q "<small class=\"fe\" role=\"alert\">[^<][^<]*</small>" block &&
	test "$(grep -c has-err body)" = 1 &&
	input_value "$1" "$3" &&
	input_value container_name broken &&
	grep -qF ">Some *notes* &amp; &lt;b&gt;x&lt;/b&gt;</textarea>" body || {
		echo "bad_add $1=$2: not as expected" >&2
		return 1
	}
}

test_expect_success 'POST /add with a bad field: 400, the message at the field, values kept, nothing created' '
	snapshot before &&
	bad_add host "" "" &&
	bad_add internalurl "ftp://x/?a\"<b>&c" "ftp://x/?a&quot;&lt;b&gt;&amp;c" &&
	bad_add sort_priority abc abc &&
	bad_add health_check_timeout 99 99 &&
	bad_add image_icon ../x ../x &&
	snapshot after && test_cmp before after &&
	test_path_is_missing "$INV/services/web01/broken.yml"
'

test_expect_success 'a service from the notifier: URL badges, the "Reported by notifier" block' '
	echo "{\"layers\": {\"cf\": \"external\"}}" >exposure.json &&
	curl -sSf -X PUT -H "$AUTH" -H "Content-Type: application/json" \
		--data-binary @exposure.json "$BASE_URL/api/v1/settings/exposure" >/dev/null &&
	cat >register.json <<-\EOF &&
	{"host": "web01", "container_name": "api", "internalurl": "http://10.0.0.6:9000/",
	 "exposure_observations": [{"layer": "cf", "hostname": "api.example.com", "tls": true}],
	 "docker_status": "running", "group_name": "Apps"}
	EOF
	curl -sSf -H "$AUTH" -H "Content-Type: application/json" --data-binary @register.json \
		"$BASE_URL/api/v1/register" >reply &&
	API_ID=$(jq -e .id reply) &&
	stored "$API_ID" &&
	test_jq ".internalurl == \"http://10.0.0.6:9000/\" and .internalurl_source == \"explicit_label\"" stored &&
	test_jq ".externalurl == \"https://api.example.com/\" and .externalurl_source == \"synthesized\"" stored &&
	http admin.jar GET "/edit/$API_ID" && status_is 200 &&
	! grep -q "Saved." body &&
	field_block internalurl | grep -q "class=\"bg\">Explicit label<" &&
	field_block externalurl | grep -q "class=\"bg\">Synthesized<" &&
	grep -q "<dt>Docker status</dt><dd>running</dd>" body &&
	grep -q "<dt>Notifier-reported group</dt><dd>Apps</dd>" body &&
	grep -q "<dt>Networks</dt><dd class=\"nr\">Not reported</dd>" body &&
	grep -q "<dt>Published ports</dt><dd class=\"nr\">Not reported</dd>" body &&
	grep -q "Exposure observations</dt><dd>.*api.example.com" body &&
	grep -A1 "action=\"/edit/$API_ID/delete\"" body >form &&
	grep -qF "name=\"csrf_token\" value=\"$CSRF\"" form
'

test_expect_success PYTHON3 'POST /edit/<id> of the form with only the group changed keeps the URL sources' '
	stored "$API_ID" && mv stored before &&
	http admin.jar GET "/edit/$API_ID" &&
	mapfile -d "" fields < <(python3 "$TRASH/form-fields.py" body "/edit/$API_ID" group_name=Backend) &&
	test ${#fields[@]} -gt 10 &&
	post_form admin.jar "/edit/$API_ID" "${fields[@]}" &&
	status_is 303 && location_is "/edit/$API_ID?saved=1" &&
	stored "$API_ID" &&
	test_jq ".group_name == \"Backend\"" stored &&
	test_jq ".internalurl_source == \"explicit_label\" and .externalurl_source == \"synthesized\"" stored &&
	jq -S "del(.group_name, .last_updated)" before >expect &&
	jq -S "del(.group_name, .last_updated)" stored >actual &&
	test_cmp expect actual &&
	wait_for "last_commit admin \"edit web01/api:*\"" &&
	wait_for "grep -qx \"group_name: Backend\" \"$INV/services/web01/api.yml\""
'

test_expect_success 'the history page lists the file history with diffs; restore an older version' '
	wait_for mirror_synced &&
	http admin.jar GET "/edit/$API_ID" && status_is 200 &&
	grep -q "href=\"/edit/$API_ID/history\"" body &&
	http admin.jar GET "/edit/$API_ID/history" && status_is 200 &&
	# newest first: the group edit above, then the register that created it
	grep -o "· admin · edit web01/api:[^<]*" body | head -1 | grep -q "group_name" &&
	grep -q "^+group_name: Backend$" body &&
	commits=$(grep -o "name=\"commit\" value=\"[0-9a-f]*\"" body | sed "s/.*value=\"//; s/\"//") &&
	test -n "$commits" &&
	older=$(echo "$commits" | tail -1) &&
	post_form admin.jar "/edit/$API_ID/restore" "csrf_token=$CSRF" "commit=$older" &&
	status_is 303 && location_is "/edit/$API_ID?saved=1" &&
	stored "$API_ID" && test_jq ".group_name != \"Backend\"" stored &&
	test_jq ".internalurl_source == \"explicit_label\"" stored &&
	wait_for "last_commit admin \"edit web01/api:*\"" &&
	# a commit that is not one, and no token: refused, nothing changed
	stored "$API_ID" && mv stored before &&
	post_form admin.jar "/edit/$API_ID/restore" "csrf_token=$CSRF" commit=0123456789012345678901234567890123456789 &&
	status_is 400 &&
	post_form admin.jar "/edit/$API_ID/restore" "commit=$older" && status_is 403 &&
	stored "$API_ID" && test_cmp before stored
'

test_expect_success PYTHON3 'renaming onto another service of the host: 409 at container_name, nothing changed' '
	snapshot before &&
	http admin.jar GET "/edit/$API_ID" &&
	mapfile -d "" fields < <(python3 "$TRASH/form-fields.py" body "/edit/$API_ID" container_name=wiki) &&
	post_form admin.jar "/edit/$API_ID" "${fields[@]}" &&
	status_is 409 &&
	field_error container_name "Another service on this host already has this name." &&
	input_value container_name wiki &&
	snapshot after && test_cmp before after
'

# --- CSRF ------------------------------------------------------------------------

# no_csrf PATH NAME=VALUE...: POST the form without a csrf_token, then with
# wrong ones (zeros, one character off, one short, one long): 403 each time.
no_csrf () {
	local p=$1 bad
	shift
	post_form admin.jar "$p" "$@" && status_is 403 && grep -q "security token" body &&
	for bad in "$(printf "%064d" 0)" "$(mangled "$CSRF")" "${CSRF%?}" "${CSRF}0"; do
		post_form admin.jar "$p" "csrf_token=$bad" "$@" && status_is 403 || return 1
	done
}

test_expect_success 'every form posted without the right csrf_token: 403, nothing changed' '
	snapshot before &&
	form_with container_name=forged &&
	no_csrf /add "${FIELDS[@]}" &&
	no_csrf "/edit/$WIKI_ID" "${FIELDS[@]}" &&
	no_csrf "/edit/$WIKI_ID/delete" x=1 &&
	no_csrf /password current_password=Admin-pw-t0610-1 \
		new_password=Forged-pw-t0610 confirm_password=Forged-pw-t0610 &&
	no_csrf /logout x=1 &&
	snapshot after && test_cmp before after &&
	test "$(csrf_of admin.jar)" = "$CSRF" &&
	post_form bad.jar /login username=admin password=Forged-pw-t0610 next=/ && status_is 401
'

test_expect_success 'API writes with a session need X-CSRF-Token; the Bearer token needs none' '
	curl -sSf -H "$AUTH" -H "Content-Type: application/json" \
		-d "{\"host\": \"web02\", \"container_name\": \"tmp1\"}" "$BASE_URL/api/v1/services" >reply &&
	T1=$(jq -e .id reply) &&
	curl -sSf -H "$AUTH" -H "Content-Type: application/json" \
		-d "{\"host\": \"web02\", \"container_name\": \"tmp2\"}" "$BASE_URL/api/v1/services" >reply &&
	T2=$(jq -e .id reply) &&
	JSON="Content-Type: application/json" &&
	http admin.jar PATCH "/api/v1/services/$T1" -H "$JSON" -d "{\"group_name\": \"X\"}" &&
	status_is 403 && test_jq ".error | test(\"CSRF\")" body &&
	http admin.jar PATCH "/api/v1/services/$T1" -H "$JSON" -H "X-CSRF-Token: $(mangled "$CSRF")" \
		-d "{\"group_name\": \"X\"}" &&
	status_is 403 &&
	http admin.jar DELETE "/api/v1/services/$T1" && status_is 403 &&
	test_jq ".error | test(\"CSRF\")" body &&
	stored "$T1" && test_jq ".group_name == null" stored &&
	http admin.jar PATCH "/api/v1/services/$T1" -H "$JSON" -H "X-CSRF-Token: $CSRF" \
		-d "{\"group_name\": \"X\"}" &&
	status_is 200 && test_jq ".group_name == \"X\"" body &&
	wait_for "last_commit admin \"edit web02/tmp1:*\"" &&
	http admin.jar DELETE "/api/v1/services/$T1" -H "X-CSRF-Token: $CSRF" &&
	status_is 200 && test_jq ".status == \"deleted\"" body &&
	wait_for "last_commit admin \"delete web02/tmp1:*\"" &&
	http - DELETE "/api/v1/services/$T2" -H "$AUTH" && status_is 200 &&
	wait_for "last_commit api \"delete web02/tmp2:*\"" &&
	http - GET "/api/v1/services/$T1" -H "$AUTH" && status_is 404 &&
	http - GET "/api/v1/services/$T2" -H "$AUTH" && status_is 404
'

# --- security headers --------------------------------------------------------------

test_expect_success 'DNS rebinding: a loopback daemon answers only to loopback names (or a proxy)' '
	code () { curl -s -o /dev/null -w "%{http_code}" "$@"; } &&
	test "$(code -H "Host: evil.example:$PORT" "$BASE_URL/login")" = 421 &&
	test "$(code -H "Host: evil.example" -d username=admin -d password=x "$BASE_URL/login")" = 421 &&
	test "$(code -H "Host: localhost:$PORT" "$BASE_URL/login")" = 200 &&
	test "$(code -H "Host: [::1]:$PORT" "$BASE_URL/login")" = 200 &&
	test "$(code "$BASE_URL/login")" = 200 &&
	# a proxy in front sends its public name and says so
	test "$(code -H "Host: portolan.example" -H "X-Forwarded-For: 192.0.2.1" "$BASE_URL/login")" = 200
'

test_expect_success 'security headers on every kind of reply; UI pages run no inline script' '
	for req in "- /api/v1/me -H" "- /api/v1/nope -H" "- /healthz" "- /api/v1/services" \
		"- /login" "- /" "admin.jar /" "admin.jar /tiled_dash" "- /assets/style.css" \
		"admin.jar /nope" "admin.jar /add" "admin.jar /edit/$WIKI_ID" \
		"admin.jar /edit/999999" "admin.jar /password"; do
		set -- $req &&
		if test $# = 3; then
			http "$1" GET "$2" -H "$AUTH"
		else
			http "$1" GET "$2"
		fi &&
		grep -qix "X-Content-Type-Options: nosniff.\?" headers &&
		grep -qi "^Referrer-Policy: [a-z]" headers &&
		grep -qi "^Content-Security-Policy: .*frame-ancestors '\''none'\''" headers || {
			echo "missing security headers: $req" && cat status headers
			return 1
		}
	done &&
	http admin.jar GET /nope && status_is 404 &&
	http - GET /api/v1/nope -H "$AUTH" && status_is 404 &&
	for p in "- /login" "- /login?next=/add" "admin.jar /password" "admin.jar /add" \
		"admin.jar /edit/$WIKI_ID" "admin.jar /edit/$API_ID" "admin.jar /edit/999999"; do
		http ${p% *} GET "${p#* }" &&
		header Content-Type | grep -q "^text/html" &&
		header Content-Security-Policy >csp &&
		grep -q "script-src '\''self'\''" csp &&
		! grep -q "unsafe-inline" csp &&
		! grep -Eiq "<script([[:space:]][^>]*)?>[[:space:]]*[^<[:space:]]" body &&
		! grep -Ei "<script" body | grep -viq "<script [^>]*src=" &&
		! grep -Eiq "[[:space:]]on[a-z]+[[:space:]]*=" body || {
			echo "inline script or a weak CSP on $p:" && cat csp body
			return 1
		}
	done
'

# --- viewers ---------------------------------------------------------------------

test_expect_success 'a viewer added with the CLI while the daemon runs reads, but changes nothing' '
	printf "viewerpass1\n" | "$PORTOLAN" --config "$DAEMON_CONFIG" user add viewer1 --role viewer &&
	login viewer1 viewerpass1 && location_is / &&
	http viewer1.jar GET / && status_is 200 &&
	http viewer1.jar GET /api/v1/services && status_is 200 && test_jq "length == 2" body &&
	http viewer1.jar GET /api/v1/me && status_is 200 &&
	test_jq ".user == \"viewer1\" and .role == \"viewer\" and .can_edit == false" body &&
	VCSRF=$(jq -r .csrf_token body) && test "$VCSRF" != "$CSRF" &&
	snapshot before &&
	http viewer1.jar GET /add && status_is 403 && grep -q "can view, not change" body &&
	! grep -q "href=\"/add\"" body &&
	http viewer1.jar GET "/edit/$WIKI_ID" && status_is 403 &&
	form_with group_name=ByViewer &&
	post_form viewer1.jar "/edit/$WIKI_ID" "csrf_token=$VCSRF" "${FIELDS[@]}" && status_is 403 &&
	post_form viewer1.jar "/edit/$WIKI_ID/delete" "csrf_token=$VCSRF" && status_is 403 &&
	post_form viewer1.jar /add "csrf_token=$VCSRF" "${FIELDS[@]}" && status_is 403 &&
	http viewer1.jar DELETE "/api/v1/services/$WIKI_ID" -H "X-CSRF-Token: $VCSRF" &&
	status_is 403 && test_jq ".error | test(\"view\")" body &&
	http viewer1.jar PATCH "/api/v1/services/$WIKI_ID" -H "X-CSRF-Token: $VCSRF" \
		-H "Content-Type: application/json" -d "{\"group_name\": \"ByViewer\"}" &&
	status_is 403 &&
	snapshot after && test_cmp before after
'

test_expect_success 'deleting the viewer with the CLI ends its session at the next request' '
	http viewer1.jar GET /api/v1/me && status_is 200 && test_jq ".user == \"viewer1\"" body &&
	"$PORTOLAN" --config "$DAEMON_CONFIG" user del viewer1 &&
	is_rejected viewer1.jar &&
	http viewer1.jar GET /api/v1/services && status_is 401 &&
	! csrf_of viewer1.jar
'

# --- delete, logout --------------------------------------------------------------

test_expect_success 'POST /edit/<id>/delete: 303 to /, the service, its file and its commit' '
	post_form admin.jar "/edit/$WIKI_ID/delete" "csrf_token=$CSRF" &&
	status_is 303 && location_is / &&
	http - GET "/api/v1/services/$WIKI_ID" -H "$AUTH" && status_is 404 &&
	services >list && test_jq "map(.id) == [$API_ID]" list &&
	wait_for "test_path_is_missing \"$INV/services/web01/wiki.yml\"" &&
	wait_for "last_commit admin \"delete web01/wiki:*\"" &&
	http admin.jar GET "/edit/$WIKI_ID" && status_is 404
'

test_expect_success 'POST /logout: 303 to /login, the cookie cleared, the session ended' '
	cp admin.jar before.jar &&
	post_form admin.jar /logout "csrf_token=$CSRF" &&
	status_is 303 && location_is /login &&
	session_cookie &&
	grep -Eqx "portolan_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" cookie &&
	# (curl 7.88 may keep a cleared cookie when a reply clears two: no jar check)
	is_rejected admin.jar &&
	is_rejected before.jar &&
	http before.jar GET /api/v1/services && status_is 401 &&
	http before.jar GET /add && status_is 303 && location_is "/login?next=/add" &&
	grep -q "logout '\''admin'\''" "$DAEMON_LOG"
'

test_expect_success 'no password typed in this script ever reached the log' '
	for pw in Wrong-pw-t0610 Admin-pw-t0610 Forged-pw-t0610 \
		viewerpass1 expirypass1 not-the-password short1; do
		! grep -F -- "$pw" "$DAEMON_LOG" || return 1
	done
'

test_expect_success 'stop the main daemon' '
	stop_daemon
'

# --- DASHBOARD_PUBLIC --------------------------------------------------------------

test_expect_success 'DASHBOARD_PUBLIC=true: dashboards and events without a login, the rest still closed' '
	DASHBOARD_PUBLIC=true start_daemon &&
	http - GET / && status_is 200 &&
	http - GET /tiled_dash && status_is 200 &&
	test_expect_code 28 curl -sS -N --max-time 1 -o /dev/null -D headers \
		"$BASE_URL/api/v1/events" 2>/dev/null &&
	head -n 1 headers | grep -q " 200" &&
	http - GET /api/v1/services && status_is 401 &&
	http - GET /add && status_is 303 && location_is "/login?next=/add" &&
	stop_daemon
'

# --- lockout (a fresh daemon: a restart forgets the failures) ----------------------

test_expect_success '10 failed logins from one address: 429 with Retry-After, even for the right password' '
	DAEMON_CONFIG=$LOCK_CONFIG start_daemon &&
	for i in 1 2 3 4 5 6 7 8 9; do
		post_form lock.jar /login username=admin "password=Wrong-pw-t0610-$i" next=/ &&
		status_is 401 || return 1
	done &&
	# a good login in between (any account) does not wipe the count (found in review)
	post_form good.jar /login username=admin password=changeme123 next=/ && status_is 303 &&
	post_form lock.jar /login username=admin "password=Wrong-pw-t0610-10" next=/ &&
	status_is 401 &&
	grep -q "failed login for '\''admin'\'' from 127.0.0.1: address locked out for 15 minutes" "$DAEMON_LOG" &&
	post_form lock.jar /login username=admin password=changeme123 next=/ &&
	status_is 429 &&
	secs=$(header Retry-After) &&
	test "$secs" -ge 1 && test "$secs" -le 900 &&
	grep -q "too many failed logins" body &&
	! header Set-Cookie | grep -q . &&
	post_form lock.jar /login username=nobody password=whatever1 next=/ && status_is 429 &&
	# the current password on /password is guarded the same way
	http good.jar GET /password && status_is 200 && CSRF_G=$(page_csrf) &&
	post_form good.jar /password "csrf_token=$CSRF_G" current_password=changeme123 \
		new_password=Another-pw-t0610 confirm_password=Another-pw-t0610 &&
	status_is 429 && grep -q "too many wrong passwords" body &&
	# behind a proxy on this machine the client is the last X-Forwarded-For hop
	xlogin () {
		curl -s -o /dev/null -w "%{http_code}" -H "X-Forwarded-For: 198.51.100.1, $1" \
			--data-urlencode username=admin --data-urlencode "password=$2" "$BASE_URL/login"
	} &&
	test "$(xlogin 203.0.113.7 changeme123)" = 303 &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		test "$(xlogin 203.0.113.8 "Wrong-pw-t0610-x$i")" = 401 || return 1
	done &&
	test "$(xlogin 203.0.113.8 changeme123)" = 429 &&
	test "$(xlogin 203.0.113.9 changeme123)" = 303 &&
	grep -q "failed login for .admin. from 203.0.113.8" "$DAEMON_LOG" &&
	! grep -F "Wrong-pw-t0610" "$DAEMON_LOG" &&
	stop_daemon
'

# --- the expiry daemon's session, unused since the first test --------------------

test_expect_success 'a session unused for longer than USER_SESSION_LENGTH is rejected' '
	left=$((EXP_T0 + 65 - $(date +%s))) &&
	if test "$left" -gt 0; then
		echo "waiting ${left}s for the session to expire" && sleep "$left"
	fi &&
	BASE_URL=$EXP_URL &&
	is_rejected "$TRASH/expiry.jar" &&
	http "$TRASH/expiry.jar" GET /api/v1/services && status_is 401 &&
	login exp1 expirypass1 && http exp1.jar GET / && status_is 200 &&
	DAEMON_PID=$EXP_PID && EXP_PID= && stop_daemon
'

test_done
