#!/bin/bash
test_description='hooks: post-commit and post-render in <config>/hooks/

The daemon runs post-commit <commit-id> after the mirror committed and
post-render <site-dir> after a render changed pages, the changed names on
stdin, in a minimal environment, cwd = the config dir, no inherited fds.
A hook that hangs is killed with its children at HOOK_TIMEOUT; runs
coalesce; a failing or chatty hook is logged (bounded) and harmless. The
samples in hooks/ work against local targets.'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0800-token-Zq8wJ3vX0pLm4Rt
AUTH="Authorization: Bearer $API_TOKEN"
HOOKS=$DAEMON_CONFIG/hooks
INV=$DAEMON_CONFIG/inventory
SITE=$DAEMON_CONFIG/site
LOGFILE=$DAEMON_CONFIG/portolan.log
SAMPLES=$REPO/hooks

command -v rsync >/dev/null 2>&1 && test_set_prereq RSYNC

# register JSON: POST it; prints the HTTP status.
register () {
	curl -s -o /dev/null -w '%{http_code}\n' -H "$AUTH" -d "$1" "$BASE_URL/api/v1/register"
}

# runs HOOK RESULT: portolan_hook_runs_total from /metrics.
runs () {
	curl -sf "$BASE_URL/metrics" |
		sed -n "s/^portolan_hook_runs_total{hook=\"$1\",result=\"$2\"} //p"
}

# The recorder: each run gets a numbered dir under $TRASH/runs/<hook>/
# with its argv, stdin, environment, cwd and open fds.
install_recorder () {
	write_script "$HOOKS/$1" /bin/sh <<-EOF
	d='$TRASH/runs/$1'
	mkdir -p "\$d"
	r="\$d/\$((\$(ls "\$d" | wc -l) + 1))"
	mkdir "\$r.tmp"
	printf '%s\n' "\$#" "\$@" >"\$r.tmp/args"
	cat >"\$r.tmp/stdin"
	env | sort >"\$r.tmp/env"
	pwd >"\$r.tmp/pwd"
	ls /proc/self/fd | sort -n >"\$r.tmp/fds"
	ls -l /proc/self/fd >"\$r.tmp/fds-long"
	mv "\$r.tmp" "\$r"
	EOF
}

# last_run HOOK: the dir of its latest finished run (empty when none).
last_run () {
	local n
	n=$(find "$TRASH/runs/$1" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' 2>/dev/null | wc -l)
	test "$n" -gt 0 && echo "$TRASH/runs/$1/$n"
}

nruns () {
	find "$TRASH/runs/$1" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' 2>/dev/null | wc -l
}

test_expect_success 'setup: recording hooks, daemon started' '
	mkdir -p "$HOOKS" &&
	install_recorder post-commit &&
	install_recorder post-render &&
	start_daemon
'

test_expect_success 'the start-up render runs post-render with the site dir and every page' '
	wait_for "last_run post-render" &&
	r=$(last_run post-render) &&
	printf "1\n%s\n" "$SITE" >expect &&
	test_cmp expect "$r/args" &&
	grep -qx index.html "$r/stdin" &&
	grep -qx tiled-group.html "$r/stdin" &&
	test "$(wc -l <"$r/stdin")" = 18 &&
	echo "$DAEMON_CONFIG" >expect &&
	test_cmp expect "$r/pwd"
'

test_expect_success 'a register: post-commit gets the commit id and the changed file' '
	test "$(register "{\"host\": \"docker01\", \"container_name\": \"nginx\", \"image_name\": \"nginx:1.27.3\"}")" = 200 &&
	wait_for "last_run post-commit" &&
	r=$(last_run post-commit) &&
	head=$(git -C "$INV" rev-parse HEAD) &&
	printf "1\n%s\n" "$head" >expect &&
	test_cmp expect "$r/args" &&
	echo services/docker01/nginx.yml >expect &&
	test_cmp expect "$r/stdin" &&
	grep -qx "PORTOLAN_COMMIT=$head" "$r/env" &&
	grep -qx "PORTOLAN_TRUNCATED=0" "$r/env" &&
	test_path_is_file "$INV/services/docker01/nginx.yml"
'

test_expect_success 'post-render follows with the pages that changed' '
	wait_for "grep -l nginx \"$SITE/index.html\"" &&
	wait_for "test \$(nruns post-render) -ge 2" &&
	r=$(last_run post-render) &&
	grep -qx index.html "$r/stdin" &&
	! grep -v "\.html\$" "$r/stdin"
'

test_expect_success 'the environment is the documented one and holds no secret' '
	for hook in post-commit post-render; do
		r=$(last_run $hook) &&
		cut -d= -f1 "$r/env" >names &&
		{
			echo HOME && echo LANG && echo PATH &&
			if test $hook = post-commit; then echo PORTOLAN_COMMIT; fi &&
			echo PORTOLAN_CONFIG && echo PORTOLAN_HOOK && echo PORTOLAN_REPO &&
			echo PORTOLAN_SITE && echo PORTOLAN_TRUNCATED && echo PWD
		} >expect &&
		test_cmp expect names &&
		grep -qx "PATH=/usr/local/bin:/usr/bin:/bin" "$r/env" &&
		grep -qx "LANG=C.UTF-8" "$r/env" &&
		grep -qx "HOME=$HOME" "$r/env" &&
		grep -qx "PORTOLAN_HOOK=$hook" "$r/env" &&
		grep -qx "PORTOLAN_CONFIG=$DAEMON_CONFIG" "$r/env" &&
		grep -qx "PORTOLAN_REPO=$INV" "$r/env" &&
		grep -qx "PORTOLAN_SITE=$SITE" "$r/env" &&
		! grep -F "$API_TOKEN" "$r/env" || return 1
	done
'

test_expect_success 'a hook inherits no fd of the daemon (listening socket, LMDB, log)' '
	for hook in post-commit post-render; do
		r=$(last_run $hook) &&
		printf "0\n1\n2\n3\n" >expect &&
		test_cmp expect "$r/fds" &&
		! grep -E "socket:|services.lmdb|portolan.log" "$r/fds-long" || return 1
	done
'

test_expect_success 'a register that changes nothing runs no post-commit' '
	before=$(nruns post-commit) &&
	test "$(register "{\"host\": \"docker01\", \"container_name\": \"nginx\", \"image_name\": \"nginx:1.27.3\"}")" = 200 &&
	sleep 1 &&
	test "$(nruns post-commit)" = "$before" &&
	test "$(runs post-commit ok)" = "$before"
'

test_expect_success 'a failing hook is logged with its output and status, and harmless' '
	write_script "$HOOKS/post-commit" /bin/sh <<-\EOF &&
	echo "cannot reach the backup remote" >&2
	echo "second line on stdout"
	exit 3
	EOF
	test "$(register "{\"host\": \"docker01\", \"container_name\": \"redis\"}")" = 200 &&
	wait_for "grep -q \"hook .post-commit. failed: exit status 3\" \"$LOGFILE\"" &&
	grep -q "warn hook .post-commit. failed: exit status 3" "$LOGFILE" &&
	grep -q "hook .post-commit.: cannot reach the backup remote\$" "$LOGFILE" &&
	grep -q "hook .post-commit.: second line on stdout\$" "$LOGFILE" &&
	test "$(runs post-commit failed)" = 1 &&
	test "$(register "{\"host\": \"docker01\", \"container_name\": \"redis2\"}")" = 200 &&
	wait_for "test \"\$(runs post-commit failed)\" = 2" &&
	wait_for "git -C \"$INV\" cat-file -e HEAD:services/docker01/redis2.yml" &&
	curl -sf "$BASE_URL/healthz" | test_jq ".status == \"ok\" and .services == 3"
'

test_expect_success 'a hook printing 10 MB adds at most ~100 KB to the log' '
	write_script "$HOOKS/post-commit" /bin/sh <<-\EOF &&
	yes "this line is long enough to look like real output from a chatty hook" | head -c 10000000
	echo finished >&2
	EOF
	size0=$(stat -c %s "$LOGFILE") &&
	ok0=$(runs post-commit ok) &&
	test "$(register "{\"host\": \"docker01\", \"container_name\": \"chatty\"}")" = 200 &&
	wait_for "test \"\$(runs post-commit ok)\" = $((ok0 + 1))" 20 &&
	grep -q "hook .post-commit.: … output truncated" "$LOGFILE" &&
	size1=$(stat -c %s "$LOGFILE") &&
	echo "log grew by $((size1 - size0)) bytes" &&
	test $((size1 - size0)) -gt 20000 &&
	test $((size1 - size0)) -le 100000
'

test_expect_success 'HOOK_TIMEOUT=2: a hanging hook and its children are killed' '
	stop_daemon &&
	rm "$HOOKS/post-render" &&
	write_script "$HOOKS/post-commit" /bin/sh <<-EOF &&
	sleep 1000 &
	echo \$! >"$TRASH/child.pid"
	echo \$\$ >"$TRASH/leader.pid"
	sleep 1000
	EOF
	HOOK_TIMEOUT=2 start_daemon &&
	curl -sf "$BASE_URL/api/v1/settings" -H "$AUTH" | test_jq ".hook_timeout.value == 2" &&
	start=$(date +%s) &&
	test "$(register "{\"host\": \"docker02\", \"container_name\": \"sleepy\"}")" = 200 &&
	wait_for "test -s \"$TRASH/child.pid\" && test -s \"$TRASH/leader.pid\"" &&
	child=$(cat "$TRASH/child.pid") && leader=$(cat "$TRASH/leader.pid") &&
	_test_pid_alive "$child" && _test_pid_alive "$leader" &&
	wait_for "test \"\$(runs post-commit timeout)\" = 1" 10 &&
	secs=$(( $(date +%s) - start )) &&
	echo "killed after about $secs s" &&
	test "$secs" -ge 2 && test "$secs" -le 6 &&
	grep -q "hook .post-commit. timed out after 2 s" "$LOGFILE" &&
	wait_for "! _test_pid_alive $child && ! _test_pid_alive $leader" 3 &&
	rm "$HOOKS/post-commit" &&
	test "$(register "{\"host\": \"docker02\", \"container_name\": \"awake\"}")" = 200
'

test_expect_success '100 quick registers with a 1 s hook: a few runs, the last sees the final commit' '
	write_script "$HOOKS/post-commit" /bin/sh <<-EOF &&
	echo "\$1" >>"$TRASH/coalesce.runs"
	cat >>"$TRASH/coalesce.files"
	sleep 1
	EOF
	for i in $(seq 1 100); do
		curl -sf -o /dev/null -H "$AUTH" \
			-d "{\"host\": \"burst\", \"container_name\": \"svc-$i\"}" \
			"$BASE_URL/api/v1/register" || return 1
	done &&
	wait_for "curl -sf \"$BASE_URL/healthz\" | jq -e \".journal_lag == 0\"" &&
	wait_for "git -C \"$INV\" cat-file -e HEAD:services/burst/svc-100.yml" &&
	head=$(git -C "$INV" rev-parse HEAD) &&
	wait_for "test \"\$(tail -n 1 \"$TRASH/coalesce.runs\")\" = $head" 15 &&
	sleep 1.5 &&
	n=$(wc -l <"$TRASH/coalesce.runs") &&
	echo "100 registers: $n post-commit runs" &&
	test "$n" -ge 1 && test "$n" -le 10 &&
	test "$(tail -n 1 "$TRASH/coalesce.runs")" = "$head" &&
	test "$(grep -c "^services/burst/svc-[0-9]*\.yml\$" "$TRASH/coalesce.files")" = 100 &&
	test "$(sort -u "$TRASH/coalesce.files" | grep -c "^services/burst/")" = 100
'

test_expect_success 'a hook may be removed and added back without a restart' '
	rm "$HOOKS/post-commit" &&
	test "$(register "{\"host\": \"docker03\", \"container_name\": \"unhooked\"}")" = 200 &&
	wait_for "git -C \"$INV\" cat-file -e HEAD:services/docker03/unhooked.yml" &&
	rm -rf "$TRASH/runs/post-commit" &&
	install_recorder post-commit &&
	test "$(register "{\"host\": \"docker03\", \"container_name\": \"hooked\"}")" = 200 &&
	wait_for "last_run post-commit" &&
	echo services/docker03/hooked.yml >expect &&
	test_cmp expect "$(last_run post-commit)/stdin"
'

test_expect_success 'stop is clean with hooks installed' '
	stop_daemon
'

test_expect_success 'samples: sh -n' '
	for f in "$SAMPLES"/post-*; do
		sh -n "$f" && test -x "$f" || return 1
	done
'

test_expect_success RSYNC 'sample post-render.rsync publishes the site to a directory' '
	rm -f "$HOOKS/post-commit" &&
	sed "s|^: \"\${RSYNC_DEST:=.*|: \"\${RSYNC_DEST:=$TRASH/www/}\"|" \
		"$SAMPLES/post-render.rsync" >"$HOOKS/post-render" &&
	chmod +x "$HOOKS/post-render" &&
	grep -q "RSYNC_DEST:=$TRASH/www/" "$HOOKS/post-render" &&
	mkdir "$TRASH/www" &&
	unset HOOK_TIMEOUT &&
	start_daemon &&
	test "$(register "{\"host\": \"docker04\", \"container_name\": \"published\"}")" = 200 &&
	wait_for "grep -q published \"$TRASH/www/index.html\" 2>/dev/null" 15 &&
	wait_for "diff -r --exclude=.tmp \"$SITE\" \"$TRASH/www\"" &&
	test_path_is_missing "$TRASH/www/.tmp" &&
	stop_daemon
'

test_expect_success 'sample post-commit.git-push pushes the commit to a second remote' '
	rm -f "$HOOKS/post-render" &&
	git init -q --bare "$TRASH/backup.git" &&
	git -C "$INV" remote add backup "$TRASH/backup.git" &&
	cp "$SAMPLES/post-commit.git-push" "$HOOKS/post-commit" &&
	start_daemon &&
	test "$(register "{\"host\": \"docker04\", \"container_name\": \"pushed\"}")" = 200 &&
	wait_for "git -C \"$INV\" cat-file -e HEAD:services/docker04/pushed.yml" &&
	head=$(git -C "$INV" rev-parse HEAD) &&
	branch=$(git -C "$INV" symbolic-ref --short HEAD) &&
	wait_for "test \"\$(git -C \"$TRASH/backup.git\" rev-parse --verify -q refs/heads/$branch)\" = $head" &&
	stop_daemon
'

test_expect_success PYTHON3 'sample post-commit.webhook posts the change as JSON' '
	# not in an && list with the server below: that list would go to the background whole,
	# and $! would be a subshell, not the server
	cat >"$TRASH/webhook.py" <<-\PY || return 1
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def do_POST(self):
	        body = self.rfile.read(int(self.headers["Content-Length"]))
	        with open(sys.argv[2], "ab") as f:
	            f.write(body + b"\n")
	        self.send_response(200); self.end_headers()
	    def log_message(self, *a): pass
	s = http.server.HTTPServer(("127.0.0.1", 0), H)
	open(sys.argv[1], "w").write(str(s.server_address[1]))
	s.serve_forever()
	PY
	python3 "$TRASH/webhook.py" "$TRASH/webhook.port" "$TRASH/webhook.bodies" &
	web=$! &&
	test_when_finished "kill $web" &&
	wait_for "test -s \"$TRASH/webhook.port\"" &&
	sed "s|^: \"\${WEBHOOK_URL:=.*|: \"\${WEBHOOK_URL:=http://127.0.0.1:$(cat "$TRASH/webhook.port")/hook}\"|" \
		"$SAMPLES/post-commit.webhook" >"$HOOKS/post-commit" &&
	chmod +x "$HOOKS/post-commit" &&
	start_daemon &&
	test "$(register "{\"host\": \"docker05\", \"container_name\": \"announced\", \"image_name\": \"ghcr.io/x/announced:1.0\"}")" = 200 &&
	wait_for "test -s \"$TRASH/webhook.bodies\"" &&
	head=$(git -C "$INV" rev-parse HEAD) &&
	subject=$(git -C "$INV" log -1 --format=%s) &&
	head -n 1 "$TRASH/webhook.bodies" >body.json &&
	test_jq "(.text | contains(\"$(echo "$head" | cut -c1-12)\"))" body.json &&
	test_jq ".text | contains(\"- services/docker05/announced.yml\")" body.json &&
	jq -r .text body.json | grep -qF "$subject" &&
	stop_daemon
'

test_done
