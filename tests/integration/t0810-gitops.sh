#!/bin/bash
test_description='GitOps: GIT_REMOTE push and fetch, outside commits merged

The daemon pushes the inventory repo to GIT_REMOTE (here a bare repo on
disk) after its commits and fetches every GIT_SYNC_INTERVAL seconds.
Commits found there, or made by hand in the inventory repo, are
validated whole and merged field by field: operator-owned fields from the
outside commit, notifier-observed ones from the daemon when both changed.
An invalid commit is refused with file:line and changes nothing;
uncommitted edits are never imported and never lost silently.'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0810-token-abcdefghijklmnop
AUTH="Authorization: Bearer $API_TOKEN"
REMOTE=$TRASH/remote.git
INV=$DAEMON_CONFIG/inventory
GIT="git -c user.name=Alice -c user.email=alice@example.com"

register () {
	curl -sf -H "$AUTH" -d "$1" "$BASE_URL/api/v1/register" >/dev/null
}

# service NAME: the service's JSON from the API
service () {
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" | jq -e ".[] | select(.container_name == \"$1\")"
}

field_is () { # NAME FIELD VALUE
	test "$(service "$1" | jq -r ".$2")" = "$3"
}

metric () {
	curl -sf "$BASE_URL/metrics" | sed -n "s/^$1 //p"
}

daemon_head () { git -C "$INV" rev-parse HEAD; }
remote_head () { git -C "$REMOTE" rev-parse main 2>/dev/null; }
in_sync () { test "$(daemon_head)" = "$(remote_head)"; }

test_expect_success 'setup: a bare remote and a daemon that pushes to it' '
	git init -q --bare "$REMOTE" &&
	export GIT_REMOTE=$REMOTE GIT_SYNC_INTERVAL=1 &&
	start_daemon &&
	register "{\"host\": \"docker01\", \"container_name\": \"web\", \"image_name\": \"nginx:1.27.3\"}" &&
	register "{\"host\": \"docker01\", \"container_name\": \"db\", \"image_name\": \"postgres:16.1\"}" &&
	register "{\"host\": \"docker02\", \"container_name\": \"cache\", \"image_name\": \"redis:7.2\"}" &&
	wait_for "git -C \"$INV\" ls-files | grep -q cache" &&
	wait_for in_sync 10 &&
	git clone -q -b main "$REMOTE" clone &&
	test_path_is_file clone/services/docker01/web.yml
'

test_expect_success 'a commit pushed from a second clone shows in the API, as a UI edit' '
	(cd clone &&
	 sed -i "s|^externalurl: null|externalurl: https://web.example.com|; s|^group_name: null|group_name: Web|" services/docker01/web.yml &&
	 $GIT commit -qam "web: public URL" &&
	 git push -q origin main) &&
	wait_for "field_is web externalurl https://web.example.com" 10 &&
	field_is web externalurl_source ui_edit &&
	field_is web group_name Web &&
	# the remote commit is a parent of the daemon history, which went back to the remote
	alice=$(git -C clone rev-parse HEAD) &&
	wait_for "git -C \"$INV\" merge-base --is-ancestor $alice HEAD" &&
	wait_for in_sync 10 &&
	git -C clone pull -q --ff-only &&
	git -C "$INV" log --format="%an %s" | grep -q "^Alice import docker01/web: " &&
	test "$(metric "portolan_git_imports_total{result=\"imported\"}")" -ge 1
'

test_expect_success 'both sides changed one service: operator fields from the commit, observed ones from the daemon' '
	# fetch only at start and when a push is refused, so the order below is certain
	stop_daemon &&
	GIT_SYNC_INTERVAL=3600 start_daemon &&
	wait_for in_sync 10 &&
	git -C clone pull -q --ff-only &&
	# the clone changes the URL (operator-owned) and the image tag (observed) and pushes
	sed -i "s|^internalurl: null|internalurl: http://10.0.0.5:5432|; s|^image_tag: \"16.1\"|image_tag: \"15.0\"|" clone/services/docker01/db.yml &&
	grep -q "^image_tag: \"15.0\"" clone/services/docker01/db.yml &&
	$GIT -C clone commit -qam "db: internal URL" &&
	git -C clone push -q origin main &&
	# meanwhile the notifier reports a new image: the daemon commits it, its push is refused
	register "{\"host\": \"docker01\", \"container_name\": \"db\", \"image_name\": \"postgres:16.4\"}" &&
	wait_for "field_is db internalurl http://10.0.0.5:5432" 15 &&
	field_is db image_tag 16.4 &&
	field_is db internalurl_source ui_edit &&
	wait_for in_sync 20 &&
	git -C "$INV" show HEAD:services/docker01/db.yml >db.yml &&
	grep -q "^internalurl: http://10.0.0.5:5432" db.yml &&
	grep -q "^image_tag: \"16.4\"" db.yml &&
	# the merge commit joins both histories
	git -C "$INV" merge-base --is-ancestor "$(git -C clone rev-parse HEAD)" HEAD &&
	stop_daemon &&
	start_daemon
'

test_expect_success 'an invalid commit is refused whole with file:line, nothing applied' '
	git -C clone pull -q --ff-only &&
	before=$(curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" | jq -S "[.[] | del(.last_updated)]") &&
	sed -i "s|^group_name: Web|group_name: Broken|" clone/services/docker01/web.yml &&
	printf "id: [unclosed\n" >clone/services/docker02/cache.yml &&
	$GIT -C clone commit -qam "broken" &&
	git -C clone push -q origin main &&
	wait_for "test \"\$(metric \"portolan_git_imports_total{result=\\\"refused\\\"}\")\" = 1" 10 &&
	grep -q "git import: services/docker02/cache.yml:[0-9]*:[0-9]*: " "$DAEMON_CONFIG/portolan.log" &&
	sleep 2 &&
	after=$(curl -sf -H "$AUTH" "$BASE_URL/api/v1/services" | jq -S "[.[] | del(.last_updated)]") &&
	test "$before" = "$after" &&
	field_is web group_name Web &&
	# still refused, not retried in a loop; our next commit cannot be pushed over it
	test "$(metric "portolan_git_imports_total{result=\"refused\"}")" = 1 &&
	register "{\"host\": \"docker02\", \"container_name\": \"cache\", \"image_name\": \"redis:7.3\"}" &&
	wait_for "test \"\$(metric \"portolan_git_sync_failing{op=\\\"push\\\"}\")\" -ge 1" 10 &&
	test "$(metric "portolan_git_imports_total{result=\"refused\"}")" = 1
'

test_expect_success 'the refusal is shown in Settings and /api/v1/git' '
	curl -sf -H "$AUTH" "$BASE_URL/api/v1/git" >git.json &&
	test_jq ".last_refusal.problems | test(\"^services/docker02/cache.yml:[0-9]+:[0-9]+: \")" git.json &&
	test_jq ".remote == \"$REMOTE\" and .fetch.failures == 0" git.json &&
	echo "ops-password-1" | "$PORTOLAN" user add ops --role admin >/dev/null &&
	curl -sf -c jar -o /dev/null --data-urlencode username=ops --data-urlencode password=ops-password-1 "$BASE_URL/login" &&
	curl -sf -b jar "$BASE_URL/settings" >settings.html &&
	grep -q "An outside commit was refused" settings.html &&
	grep -q "services/docker02/cache.yml:[0-9]*:[0-9]*: " settings.html &&
	grep -q "<code>$REMOTE</code>, fetched every 1 s" settings.html
'

test_expect_success 'a commit that fixes it is imported, the earlier changes with it' '
	git -C clone show HEAD~1:services/docker02/cache.yml >clone/services/docker02/cache.yml &&
	sed -i "s|^notes: null|notes: fixed|" clone/services/docker02/cache.yml &&
	$GIT -C clone commit -qam "fix cache.yml" &&
	git -C clone push -q origin main &&
	wait_for "field_is cache notes fixed" 10 &&
	field_is web group_name Broken &&
	wait_for in_sync 10
'

test_expect_success 'a commit made by hand in the inventory repo is imported' '
	sed -i "s|^notes: fixed|notes: by hand|" "$INV/services/docker02/cache.yml" &&
	git -C "$INV" -c user.name=Carol -c user.email=carol@example.com commit -qam "cache notes" &&
	wait_for "field_is cache notes \"by hand\"" 10 &&
	git -C "$INV" log --format="%an %s" | grep -q "^Carol cache notes" &&
	wait_for in_sync 10
'

test_expect_success 'by hand: a file renamed, one deleted, one added' '
	id=$(service web | jq .id) &&
	mkdir -p "$INV/services/docker04" &&
	sed "s|^id: .*|id: 9999|; s|^host: docker01|host: docker04|; s|^container_name: db|container_name: added|; s|^externalurl: .*|externalurl: https://added.example.com|; s|^externalurl_source: .*|externalurl_source: null|" \
		"$INV/services/docker01/db.yml" >"$INV/services/docker04/added.yml" &&
	git -C "$INV" mv services/docker01/web.yml services/docker01/www.yml &&
	sed -i "s|^container_name: web|container_name: www|" "$INV/services/docker01/www.yml" &&
	git -C "$INV" rm -q services/docker01/db.yml &&
	git -C "$INV" add services/docker04/added.yml services/docker01/www.yml &&
	git -C "$INV" -c user.name=Carol -c user.email=carol@example.com commit -qm "rename, delete, add" &&
	wait_for "service www" 10 &&
	test "$(service www | jq .id)" = "$id" &&
	field_is www externalurl https://web.example.com &&
	! service web &&
	! service db &&
	field_is added host docker04 &&
	field_is added internalurl http://10.0.0.5:5432 &&
	# written by hand: an operator'"'"'s URL, which no register may replace
	field_is added externalurl_source ui_edit &&
	wait_for in_sync 10
'

test_expect_success 'an uncommitted edit is not imported, and not lost when the file is rewritten' '
	sed -i "s|^notes: by hand|notes: not committed|" "$INV/services/docker02/cache.yml" &&
	wait_for "grep -q \"not committed (services/docker02/cache.yml)\" \"$DAEMON_CONFIG/portolan.log\"" 10 &&
	test "$(metric portolan_git_uncommitted)" = 1 &&
	field_is cache notes "by hand" &&
	register "{\"host\": \"docker02\", \"container_name\": \"cache\", \"image_name\": \"redis:7.4\"}" &&
	wait_for "git -C \"$INV\" show HEAD:services/docker02/cache.yml | grep -q 7.4" &&
	grep -q "services/docker02/cache.yml had uncommitted changes" "$DAEMON_CONFIG/portolan.log" &&
	grep -l "notes: not committed" "$INV"/.git/portolan-uncommitted/services%docker02%cache.yml.* &&
	grep -q "^notes: by hand" "$INV/services/docker02/cache.yml"
'

test_expect_success 'an edit staged by hand (git add) is not committed by the daemon' '
	in_sync || wait_for in_sync 10 &&
	sed -i "s|^notes: by hand|notes: staged only|" "$INV/services/docker02/cache.yml" &&
	git -C "$INV" add services/docker02/cache.yml &&
	register "{\"host\": \"docker01\", \"container_name\": \"www\", \"image_name\": \"nginx:1.28.0\"}" &&
	wait_for "git -C \"$INV\" show HEAD:services/docker01/www.yml | grep -q 1.28.0" &&
	git -C "$INV" show HEAD:services/docker02/cache.yml | grep -q "^notes: by hand" &&
	grep -q "^notes: staged only" "$INV/services/docker02/cache.yml" &&
	field_is cache notes "by hand" &&
	git -C "$INV" checkout -q HEAD -- services/docker02/cache.yml
'

test_expect_success 'a register is not delayed by the remote' '
	in_sync || wait_for in_sync 10 &&
	start=$(date +%s%N) &&
	register "{\"host\": \"docker03\", \"container_name\": \"fast\", \"image_name\": \"busybox:1\"}" &&
	end=$(date +%s%N) &&
	test $(( (end - start) / 1000000 )) -lt 2000 &&
	wait_for in_sync 10 &&
	stop_daemon
'

test_expect_success 'a remote that never answers blocks neither registers nor shutdown' '
	# a TCP server that accepts and stays silent: the TLS handshake waits forever
	port=$(free_port) || return 1
	python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", $port)); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
	silent=$! &&
	test_when_finished "kill $silent 2>/dev/null; true" &&
	wait_for "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null" &&
	GIT_REMOTE=https://127.0.0.1:$port/inv.git start_daemon &&
	for i in 1 2 3 4 5; do
		start=$(date +%s%N) &&
		register "{\"host\": \"docker03\", \"container_name\": \"fast\", \"image_name\": \"busybox:$i\"}" &&
		end=$(date +%s%N) &&
		test $(( (end - start) / 1000000 )) -lt 2000 || return 1
	done &&
	wait_for "git -C \"$INV\" show HEAD:services/docker03/fast.yml | grep -q \"image_tag: \\\"5\\\"\"" &&
	# the push really is stuck: nothing answered it
	curl -sf "$BASE_URL/api/v1/git" -H "$AUTH" | jq -e ".push.last_ok == null" &&
	stop_daemon &&
	grep -q "still running after 3 s" "$DAEMON_CONFIG/portolan.log"
'

test_expect_success 'a commit made by hand while the daemon was down is imported at start' '
	sed -i "s|^notes: by hand|notes: while down|" "$INV/services/docker02/cache.yml" &&
	git -C "$INV" -c user.name=Dave -c user.email=dave@example.com commit -qam "while down" &&
	start_daemon &&
	field_is cache notes "while down" &&
	grep -q "git import: $(git -C "$INV" rev-parse --short=7 HEAD~0 2>/dev/null | cut -c1-7)\\|git import: [0-9a-f]* by Dave (committed in the repo)" "$DAEMON_CONFIG/portolan.log" &&
	wait_for in_sync 10
'

test_expect_success 'the status is on /metrics and pushes keep working' '
	test "$(metric "portolan_git_sync_failing{op=\"push\"}")" = 0 &&
	test "$(metric "portolan_git_sync_failing{op=\"fetch\"}")" = 0 &&
	stop_daemon
'

test_expect_success 'an unreachable remote is retried with back-off and harms nothing' '
	export GIT_REMOTE=$TRASH/does-not-exist.git &&
	start_daemon &&
	register "{\"host\": \"docker03\", \"container_name\": \"offline\", \"image_name\": \"busybox:1\"}" &&
	wait_for "test \"\$(metric \"portolan_git_sync_failing{op=\\\"fetch\\\"}\")\" -ge 1" 10 &&
	field_is offline image_name busybox &&
	grep -q "git sync: fetch failed" "$DAEMON_CONFIG/portolan.log" &&
	stop_daemon
'

test_expect_success 'GIT_REMOTE must be a path, ssh:// or https:// without a password' '
	for bad in http://git.example/inv.git git://git.example/inv "https://u:secret@git.example/x.git" \
		"https://ghp_secret@git.example/x.git" relative/path; do
		GIT_REMOTE=$bad "$PORTOLAN" serve --config "$DAEMON_CONFIG" -n >out 2>&1
		test $? = 1 && grep -qi "git_remote" out || { cat out; return 1; }
		! grep -q secret out || return 1
	done
'

test_done
