#!/bin/bash
test_description='STD-compatible backups: export, import, the daily job, the UI

`portolan export --format std` and `import --format std` round-trip an
inventory; STD'"'"'s nightly and manual backups (tests/fixtures/std-backup,
built from the documented key list) import with an exact per-record
report (static lock, scope static, records without identity); an invalid
file names file:line and changes nothing; the daily job (run now through
POST /api/v1/backups) writes <date>-std_backup.yml, prunes old daily files
only, and that file restores into an empty install to the same
inventory; a restore is one commit "restore from <file>" by its user; the
UI downloads, saves, restores from a server file and from an upload with
CSRF, viewers get 403; no secret reaches a backup, a log, git or a page.'
. "$(dirname "$0")/lib.sh"
. "$REPO/tests/integration/lib-ui.sh"

unset DASHBOARD_PUBLIC
export API_TOKEN=t0700-token-SECRET-zyxwvutsrq
export BACKUP_DAYS_TO_KEEP=3
AUTH="Authorization: Bearer $API_TOKEN"
STD=$FIXTURES/std-backup
INV=$DAEMON_CONFIG/inventory
BK=$DAEMON_CONFIG/backups
WIDGET_KEYS="WIDGET-KEY-nightly-SECRET-4242 WIDGET-KEY-manual-SECRET-7777"

# The inventory fields STD's format carries, by identity: what a restore must reproduce.
inventory () {
	"$PORTOLAN" --config "$1" export |
	jq -S 'map(del(.id, .exposure_observations, .notifier_reported_group_name,
		.notifier_reported_sort_priority, .notes, .health_check_timeout,
		.image_icon_source)) | sort_by(.host, .container_name)'
}

# state CONFIG: everything an import could change (inventory, HEAD).
state () {
	"$PORTOLAN" --config "$1" export &&
	git -C "$1/inventory" rev-parse -q --verify HEAD || echo "no commits"
}

mirror_synced () {
	curl -sSf "$BASE_URL/healthz" | jq -e ".journal_lag == 0" >/dev/null
}

commits () {
	git -C "$INV" rev-list --count HEAD
}

# --- the CLI and the STD fixtures -------------------------------------------

test_expect_success 'STD nightly backup: exact report, one commit by the user' '
	"$PORTOLAN" --config std import --format std --author alice "$STD/nightly.yml" >out &&
	cat >expect <<-EOF &&
	restore from nightly.yml: 5 restored (5 created, 0 updated, 0 unchanged), 2 skipped
	nightly.yml:1: docker01/jellyfin: created
	nightly.yml:38: docker01/nginx-proxy: created
	nightly.yml:66: nas/homeassistant: created
	nightly.yml:94: -/lost-and-found: skipped: no host
	nightly.yml:122: docker02/-: skipped: no container_name
	nightly.yml:126: docker02/redis: created
	nightly.yml:163: docker02/postgres: created
	warning: $STD/nightly.yml:191:21: unknown key '"'"'favourite_colour'"'"' ignored
	1 commit(s)
	EOF
	test_cmp expect out &&
	test "$(git -C std/inventory log --format="%an|%s")" = "alice|restore from nightly.yml" &&
	git -C std/inventory log -1 --format=%b >body &&
	grep -qx "restore from nightly.yml: docker01/jellyfin: created" body &&
	"$PORTOLAN" --config std export >std.json &&
	test_jq "length == 5" std.json &&
	test_jq ".[] | select(.container_name == \"jellyfin\") | .group_name == null and
		.sort_priority == 5 and .internalurl_source == \"explicit_label\" and
		.externalurl_source == \"ui_edit\" and .image_tag == \"10.10.3\" and
		.networks == [{\"name\": \"media_default\", \"aliases\": [\"jellyfin\"]}] and
		.published_ports[0].host_port == 8096 and .container_id == null" std.json &&
	test_jq ".[] | select(.container_name == \"homeassistant\") | .sort_priority == 10 and
		.internal_health_check_enabled == true and .external_health_check_enabled == false and
		.internalurl_source == null and .image_registry == \"ghcr.io\"" std.json &&
	test_jq ".[] | select(.container_name == \"nginx-proxy\") | .is_static == true" std.json
'

test_expect_success 'STD manual backup, scope all: the static entry is locked, group_name restored' '
	"$PORTOLAN" --config std import --format std --author alice "$STD/manual.yml" >out &&
	cat >expect <<-EOF &&
	restore from manual.yml: 4 restored (2 created, 2 updated, 0 unchanged), 1 skipped
	manual.yml:1: docker01/jellyfin: updated
	manual.yml:39: docker01/nginx-proxy: skipped: locked
	manual.yml:68: edge/traefik: created
	manual.yml:105: docker02/redis: updated
	manual.yml:143: docker01/portainer: created
	1 commit(s)
	EOF
	test_cmp expect out &&
	test "$(git -C std/inventory log -1 --format="%an|%s")" = "alice|restore from manual.yml" &&
	"$PORTOLAN" --config std export >std.json &&
	test_jq ".[] | select(.container_name == \"jellyfin\") | .group_name == \"Media\" and
		.externalurl == \"https://media.example.com/\"" std.json &&
	test_jq ".[] | select(.container_name == \"nginx-proxy\") | .internalurl == null and
		.group_name == null and .is_static == true" std.json &&
	test_jq ".[] | select(.container_name == \"postgres\") | .sort_priority == 20" std.json &&
	test_jq ".[] | select(.container_name == \"redis\") | .group_name == \"Databases\"" std.json
'

test_expect_success 'STD manual backup, scope static: only static records' '
	"$PORTOLAN" --config static import --format std --scope static --author bob \
		"$STD/manual.yml" >out &&
	cat >expect <<-EOF &&
	restore from manual.yml: 1 restored (1 created, 0 updated, 0 unchanged), 4 skipped
	manual.yml:1: docker01/jellyfin: skipped: not static (scope static)
	manual.yml:39: docker01/nginx-proxy: skipped: not static (scope static)
	manual.yml:68: edge/traefik: created
	manual.yml:105: docker02/redis: skipped: not static (scope static)
	manual.yml:143: docker01/portainer: skipped: not static (scope static)
	1 commit(s)
	EOF
	test_cmp expect out &&
	"$PORTOLAN" --config static export | jq -e "map(.container_name) == [\"traefik\"]" &&
	# one record: the subject is its own line (several share the prefix: see below)
	test "$(git -C static/inventory log --format="%an|%s")" = \
		"bob|restore from manual.yml: edge/traefik: created" &&
	test_expect_code 2 "$PORTOLAN" --config static import --format std --scope some "$STD/manual.yml"
'

test_expect_success 'an invalid backup: file:line, exit 1, nothing changed' '
	state std >before &&
	for f in bad-yaml:3 not-a-list:1 bad-url:9 bad-port:9; do
		test_expect_code 1 "$PORTOLAN" --config std import --format std "$STD/${f%:*}.yml" \
			>out 2>err &&
		grep -q "^import: $STD/${f%:*}.yml:${f#*:}:[0-9]*: " err &&
		grep -q "nothing imported" err && test ! -s out || return 1
	done &&
	"$PORTOLAN" --config std import --format std "$STD/bad-url.yml" 2>&1 |
		grep -q "bad-url.yml:9:[0-9]*: internalurl: URL should be an absolute http" &&
	"$PORTOLAN" --config std import --format std "$STD/bad-port.yml" 2>&1 |
		grep -q "bad-port.yml:9:[0-9]*: published_ports\[0\].host_port: " &&
	state std >after &&
	test_cmp before after
'

test_expect_success 'CLI round trip: export --format std into an empty config, same inventory' '
	"$PORTOLAN" import "$EXAMPLES/payloads" >/dev/null &&
	"$PORTOLAN" import --format std --author alice "$STD/nightly.yml" >/dev/null &&
	"$PORTOLAN" export --format std >all.yml &&
	test "$(grep -c "^- stack_name: " all.yml)" = 205 &&
	"$PORTOLAN" --config copy import --format std all.yml >out &&
	grep -q "^restore from all.yml: 205 restored (205 created, 0 updated, 0 unchanged), 0 skipped$" out &&
	inventory "$DAEMON_CONFIG" >expect &&
	inventory copy >actual &&
	test_cmp expect actual &&
	test_jq "length == 205" actual &&
	# and the same bytes once live state (not restored) is set aside
	live="^  (container_id|last_updated|last_api_update|docker_status|started_at|.*_health_check_(status|update)): " &&
	"$PORTOLAN" --config copy export --format std | grep -Ev "$live" >copy.yml &&
	grep -Ev "$live" all.yml >orig.yml &&
	test_cmp orig.yml copy.yml
'

test_expect_success 'the std export keeps STD'"'"'s key order and has no secret' '
	awk "/^- /{n++} n==1" all.yml | sed -n "s/^[- ] \([a-z_]*\):.*/\1/p" >keys &&
	cat >expect <<-EOF &&
	stack_name
	host
	container_name
	container_id
	internalurl
	externalurl
	last_updated
	last_api_update
	docker_status
	internal_health_check_enabled
	internal_health_check_status
	internal_health_check_update
	external_health_check_enabled
	external_health_check_status
	external_health_check_update
	image_registry
	image_owner
	image_name
	image_tag
	started_at
	image_icon
	is_static
	sort_priority
	networks
	exposed_ports
	published_ports
	internalurl_source
	externalurl_source
	group_name
	EOF
	test_cmp expect keys &&
	# a widget block where a service has one, never its key
	grep -q "^    widget_name: redis$" all.yml &&
	! grep -q "widget_api_key" all.yml &&
	! grep -q "SECRET" all.yml
'

# --- the daemon: the daily job ----------------------------------------------

test_expect_success 'start the daemon with an admin and a viewer' '
	printf "Boss-pw-t0700\n" | "$PORTOLAN" user add boss --role admin &&
	printf "Viewer-pw-t0700\n" | "$PORTOLAN" user add watcher --role viewer &&
	start_daemon &&
	login boss Boss-pw-t0700 && CSRF=$(csrf_of boss.jar) &&
	login watcher Viewer-pw-t0700 && VCSRF=$(csrf_of watcher.jar)
'

test_expect_success 'the daily job writes <date>-std_backup.yml and prunes only old daily files' '
	mkdir -p "$BK" &&
	for d in 1 2 3 10 400; do
		echo "[]" >"$BK/$(date -d "-$d days" +%F)-std_backup.yml" || return 1
	done &&
	echo keep >"$BK/notes.txt" &&
	echo keep >"$BK/2000-01-01-std_backup.yml.orig" &&
	echo "[]" >"$BK/service_backup_all_20000101_000000.yaml" &&
	curl -sSf -X POST -H "$AUTH" "$BASE_URL/api/v1/backups" >run.json &&
	TODAY=$(date +%F)-std_backup.yml &&
	test_jq ".file == \"$TODAY\" and .services == 205" run.json &&
	test -s "$BK/$TODAY" &&
	(cd "$BK" && ls) >actual &&
	cat >expect <<-EOF &&
	2000-01-01-std_backup.yml.orig
	$(date -d "-2 days" +%F)-std_backup.yml
	$(date -d "-1 days" +%F)-std_backup.yml
	$TODAY
	notes.txt
	service_backup_all_20000101_000000.yaml
	EOF
	sort expect >expect.sorted && sort actual >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	grep -q "backup: wrote .*$TODAY. (205 services)" "$DAEMON_CONFIG/portolan.log" &&
	curl -sSf -H "$AUTH" "$BASE_URL/api/v1/backups" |
		jq -e ".files[0].name == \"$TODAY\" and (.files | length) == 4" &&
	curl -sSf "$BASE_URL/metrics" | grep -q "^portolan_backup_runs_total{outcome=\"ok\"} [1-9]" &&
	curl -sSf "$BASE_URL/metrics" | grep -q "^portolan_backup_last_success_timestamp_seconds [1-9]" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$BASE_URL/api/v1/backups")" = 401
'

test_expect_success 'the daily file restores into an empty install to the same inventory' '
	"$PORTOLAN" --config fresh import --format std "$BK/$TODAY" >out &&
	grep -q "205 restored (205 created" out &&
	inventory "$DAEMON_CONFIG" >expect &&
	inventory fresh >actual &&
	test_cmp expect actual
'

# --- the daemon: the UI -----------------------------------------------------

test_expect_success 'UI: the Inventory tab lists the server files; download is an attachment' '
	http boss.jar GET "/settings?tab=inventory" && status_is 200 &&
	grep -qF "<code>$TODAY</code>" body &&
	grep -qF "action=\"/settings/inventory/backup/upload\" enctype=\"multipart/form-data\"" body &&
	! grep -qF "notes.txt" body &&
	http boss.jar GET /settings/inventory/backup && status_is 200 &&
	header Content-Type | grep -qx "application/x-yaml" &&
	header Content-Disposition |
		grep -Eqx "attachment; filename=\"service_backup_all_[0-9]{8}_[0-9]{6}\.yaml\"" &&
	cp body download.yml &&
	"$PORTOLAN" --config dl import --format std download.yml >/dev/null &&
	inventory dl >actual && inventory "$DAEMON_CONFIG" >expect && test_cmp expect actual
'

test_expect_success 'UI: save a backup on the server (CSRF needed)' '
	rm "$BK/$TODAY" &&
	post_form boss.jar /settings/inventory/backup/save x=1 && status_is 403 &&
	test_path_is_missing "$BK/$TODAY" &&
	post_form boss.jar /settings/inventory/backup/save "csrf_token=$CSRF" && status_is 303 &&
	test "$(header Location)" = "/settings?tab=inventory&done=backup_saved" &&
	test -s "$BK/$TODAY"
'

test_expect_success 'UI: restore from a server file is one commit by the user, with a report' '
	id=$(curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services" |
		jq -e ".[] | select(.host == \"docker01\" and .container_name == \"jellyfin\") | .id") &&
	pg=$(curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services" |
		jq -e ".[] | select(.host == \"docker02\" and .container_name == \"postgres\") | .id") &&
	for i in $id $pg; do
		curl -sSf -X PATCH -H "$AUTH" -d "{\"group_name\": \"Changed\", \"sort_priority\": 99}" \
			"$BASE_URL/api/v1/services/$i" >/dev/null || return 1
	done &&
	wait_for mirror_synced && before=$(commits) &&
	post_form boss.jar /settings/inventory/backup/restore "csrf_token=$CSRF" "file=$TODAY" scope=all &&
	status_is 200 &&
	grep -qF "Restored from $TODAY" body &&
	grep -qF "205 restored (0 created, 2 updated, 203 unchanged), 0 skipped." body &&
	grep -qE "^<tr><td>[0-9]+</td><td>docker01/jellyfin</td><td>updated</td><td></td></tr>$" body &&
	curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services/$id" |
		jq -e ".group_name == null and .sort_priority == 5" &&
	wait_for mirror_synced &&
	test "$(commits)" = $((before + 1)) &&
	test "$(git -C "$INV" log -1 --format="%an|%s")" = "boss|restore from $TODAY" &&
	git -C "$INV" log -1 --format=%b >msg &&
	grep -qx "restore from $TODAY: docker01/jellyfin: group_name Changed -> (none), sort_priority 99 -> 5" msg
'

test_expect_success 'UI: a server file name from the list only; nothing changes otherwise' '
	state "$DAEMON_CONFIG" >before &&
	for f in ../../etc/passwd notes.txt "/$TODAY" "../backups/$TODAY" "$TODAY/" ""; do
		post_form boss.jar /settings/inventory/backup/restore "csrf_token=$CSRF" "file=$f" \
			scope=all && status_is 400 || return 1
	done &&
	post_form boss.jar /settings/inventory/backup/restore "csrf_token=$CSRF" \
		file=2001-01-01-std_backup.yml scope=all && status_is 404 &&
	post_form boss.jar /settings/inventory/backup/restore "csrf_token=$CSRF" "file=$TODAY" \
		scope=most && status_is 400 &&
	post_form boss.jar /settings/inventory/backup/restore "file=$TODAY" scope=all &&
	status_is 403 &&
	state "$DAEMON_CONFIG" >after && test_cmp before after
'

test_expect_success 'UI: upload a backup (multipart), scope static, with a report' '
	before=$(commits) &&
	http boss.jar POST /settings/inventory/backup/upload -F "csrf_token=$CSRF" -F scope=static \
		-F "file=@$STD/manual.yml;filename=manual.yml" &&
	status_is 200 &&
	grep -qF "Restored from manual.yml" body &&
	grep -qF "1 restored (0 created, 1 updated, 0 unchanged), 4 skipped." body &&
	grep -qF "<tr><td>1</td><td>docker01/jellyfin</td><td>skipped</td><td>not static (scope static)</td></tr>" body &&
	grep -qF "<tr><td>68</td><td>edge/traefik</td><td>updated</td><td></td></tr>" body &&
	wait_for mirror_synced &&
	test "$(commits)" = $((before + 1)) &&
	git -C "$INV" log -1 --format="%an|%s" | grep -q "^boss|restore from manual.yml: edge/traefik: .*is_static false -> true" &&
	curl -sSf -H "$AUTH" "$BASE_URL/api/v1/services" |
		jq -e ".[] | select(.host == \"edge\" and .container_name == \"traefik\") | .is_static and .group_name == \"Infra\""
'

test_expect_success 'UI: a bad upload changes nothing (file:line, CSRF, size, viewer)' '
	state "$DAEMON_CONFIG" >before &&
	http boss.jar POST /settings/inventory/backup/upload -F "csrf_token=$CSRF" -F scope=all \
		-F "file=@$STD/bad-url.yml" &&
	status_is 400 && grep -qF "bad-url.yml:9:" body && grep -qF "internalurl: URL should be" body &&
	# a file name that is not ASCII is shown with ? for its bytes
	http boss.jar POST /settings/inventory/backup/upload -F "csrf_token=$CSRF" -F scope=all \
		-F "file=@$STD/bad-url.yml;filename=$(printf "caf\303\251\001.yml")" &&
	status_is 400 && grep -qF "Nothing was restored: caf???.yml:9:16: internalurl" body &&
	http boss.jar POST /settings/inventory/backup/upload -F scope=all -F "file=@$STD/manual.yml" &&
	status_is 403 &&
	http boss.jar POST /settings/inventory/backup/upload -F "csrf_token=$CSRF" -F scope=all &&
	status_is 400 &&
	head -c 1100000 /dev/zero | tr "\0" "#" >big.yml &&
	http boss.jar POST /settings/inventory/backup/upload -F "csrf_token=$CSRF" -F scope=all \
		-F "file=@big.yml" &&
	status_is 413 &&
	http boss.jar POST /settings/inventory/backup/upload -H "Content-Type: multipart/form-data; boundary=xx" \
		--data-binary "--xx\r\nbroken" &&
	status_is 400 &&
	http watcher.jar POST /settings/inventory/backup/upload -F "csrf_token=$VCSRF" -F scope=all \
		-F "file=@$STD/manual.yml" &&
	status_is 403 &&
	post_form watcher.jar /settings/inventory/backup/restore "csrf_token=$VCSRF" "file=$TODAY" \
		scope=all && status_is 403 &&
	post_form watcher.jar /settings/inventory/backup/save "csrf_token=$VCSRF" && status_is 403 &&
	http watcher.jar GET /settings/inventory/backup && status_is 403 &&
	http - GET /settings/inventory/backup && status_is 303 &&
	state "$DAEMON_CONFIG" >after && test_cmp before after
'

test_expect_success 'no secret in backups, logs, git or pages' '
	http boss.jar GET "/settings?tab=inventory" && cp body page.html &&
	stop_daemon &&
	git -C "$INV" log -p --all >git.log &&
	git -C std/inventory log -p --all >>git.log &&
	places="$BK $DAEMON_CONFIG/portolan.log $DAEMON_LOG git.log $DAEMON_CONFIG/site page.html
		all.yml download.yml std/inventory $INV" &&
	for p in $places; do
		test -e "$p" || { echo "missing $p" >&2; return 1; }
	done &&
	for s in $API_TOKEN $WIDGET_KEYS; do
		! grep -rqF "$s" $places || { echo "found $s" >&2; return 1; }
	done &&
	# the check itself works: the fixtures do hold the keys
	grep -qF "WIDGET-KEY-manual-SECRET-7777" "$STD/manual.yml"
'

test_done
