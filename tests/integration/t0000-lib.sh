#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC1091,SC2317

test_description='the test library tests itself

Every helper of lib.sh, and the harness failing when a test fails: tiny
scripts run in a subprocess and their TAP output is compared line by line.
The daemon helpers run against a stand-in daemon written in python3.'

. "$(dirname "$0")/lib.sh"

now_ms () {
	echo $((${EPOCHREALTIME//[.,]/} / 1000))
}

# write_sub_test NAME 'script': NAME.sh, sourcing lib.sh, then the script.
write_sub_test () {
	{
		echo "#!/bin/bash"
		echo "test_description='sub test $1'"
		echo ". '$TEST_DIRECTORY/lib.sh'"
		printf '%s\n' "$2"
	} >"$1.sh" && chmod +x "$1.sh"
}

# run_sub_test NAME [options]: run NAME.sh free of the caller's TEST_*
# settings, stdout in NAME.out, stderr in NAME.err; returns its status.
run_sub_test () {
	local name=$1
	shift
	env -u TEST_VERBOSE -u TEST_KEEP -u TEST_IMMEDIATE -u TEST_TRACE \
		OUTER="$TRASH" "./$name.sh" "$@" >"$name.out" 2>"$name.err"
}

# A stand-in for "portolan serve": answers /healthz, exits 0 on SIGTERM,
# records its arguments, and with --fail exits at once.
write_fake_portolan () {
	write_script "$TRASH/fake-portolan" "/usr/bin/env python3" <<'EOF'
import http.server
import signal
import sys

args = sys.argv[1:]
with open(sys.argv[0] + ".args", "a") as f:
    f.write(" ".join(args) + "\n")
if "--fail" in args:
    print("fake: cannot start", flush=True)
    sys.exit(3)
host, port = args[args.index("--listen") + 1].rsplit(":", 1)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer((host, int(port)), Handler)
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
print("fake: listening on", host, port, flush=True)
server.serve_forever()
EOF
}

failing_script=$(cat <<'EOF'
test_expect_success 'passes' 'echo hidden-output'
test_expect_success 'last command fails' 'echo some-output && false'
test_expect_success 'chain fails early' 'false && echo not-reached'
test_expect_success 'cleanup runs after a failure' 'test_when_finished "touch $OUTER/cleanup-ran" && false'
test_expect_success 'a failing cleanup fails the test' 'test_when_finished false && true'
test_expect_success 'later tests still run' 'echo "$TRASH" >"$OUTER/sub-trash"'
test_done
EOF
)

passing_script=$(cat <<'EOF'
test_set_prereq HAVE_IT
test_expect_success 'plain' 'echo shown-when-verbose'
test_expect_success HAVE_IT 'with a prereq' 'true'
test_expect_success MISSING 'skipped' 'false'
test_expect_success !MISSING,HAVE_IT 'negated prereq' 'true'
test_expect_failure 'known breakage' 'false'
test_expect_success 'title with # in it' 'echo "$TRASH" >"$OUTER/sub-trash"'
test_done
EOF
)

env_script=$(cat <<'EOF'
test_expect_success 'clean' '
	test -z "${GIT_AUTHOR_NAME+set}${GIT_COMMITTER_EMAIL+set}${GIT_DIR+set}" &&
	test -z "${API_TOKEN+set}${REGISTER_FIELD_OWNERSHIP+set}${PORTOLAN_LISTEN+set}" &&
	test "$PORTOLAN_CONFIG" = "$TRASH/config" &&
	test "$PORTOLAN_BIN" = /bin/true &&
	test "$PORTOLAN" = /bin/true &&
	test "$HOME" = "$TRASH"
'
test_done
EOF
)

leftover_script=$(cat <<'EOF'
PORTOLAN=$OUTER/fake-portolan
test_expect_success 'start' 'start_daemon && echo $DAEMON_PID >"$OUTER/sub-pid"'
test_done
EOF
)

test_expect_success 'a test passes; $TRASH starts empty and is the cwd' '
	test -z "$(ls -A)" &&
	test "$PWD" = "$TRASH"
'

test_expect_success 'the environment is hermetic' '
	test "$HOME" = "$TRASH" &&
	test "$GIT_CONFIG_NOSYSTEM" = 1 &&
	test -z "$(git config --list)" &&
	test "$EXAMPLES" = "$REPO/examples" &&
	test_path_is_dir "$EXAMPLES/payloads" &&
	test_path_is_file "$REPO/Makefile" &&
	test "$PORTOLAN" = "${PORTOLAN_BIN:-$REPO/build/portolan}" &&
	test "$DAEMON_CONFIG" = "$TRASH/config" &&
	test "$PORTOLAN_CONFIG" = "$DAEMON_CONFIG"
'

test_expect_success 'git identity, GIT_* and portolan settings from the caller are cleared' '
	write_sub_test env "$env_script" &&
	GIT_AUTHOR_NAME=someone GIT_COMMITTER_EMAIL=a@b.example GIT_DIR=/nonexistent \
	API_TOKEN=secret REGISTER_FIELD_OWNERSHIP=notifier_wins \
	PORTOLAN_CONFIG=/nonexistent PORTOLAN_LISTEN=0.0.0.0:1 PORTOLAN_BIN=/bin/true \
		run_sub_test env &&
	grep "^ok 1 - clean" env.out
'

test_expect_success 'a test that changes directory' '
	mkdir elsewhere &&
	cd elsewhere
'

test_expect_success 'the next test starts in $TRASH again' '
	test "$PWD" = "$TRASH"
'

test_expect_success 'test_must_fail accepts a failing command' '
	test_must_fail false &&
	test_must_fail sh -c "exit 3"
'

test_expect_success 'test_must_fail rejects success, signals and unknown commands' '
	! test_must_fail true 2>err &&
	grep "command succeeded" err &&
	! test_must_fail sh -c "kill -KILL \$\$" 2>err &&
	grep "died by signal 9" err &&
	! test_must_fail no-such-command-portolan 2>err &&
	grep "command not found" err
'

test_expect_success 'test_expect_code' '
	test_expect_code 3 sh -c "exit 3" &&
	! test_expect_code 0 false 2>err &&
	grep "wanted exit 0, got 1" err
'

test_expect_success 'test_cmp accepts equal files' '
	printf "a\nb\n" >expect &&
	printf "a\nb\n" >actual &&
	test_cmp expect actual
'

test_expect_success 'test_cmp rejects different files and prints the diff' '
	echo a >expect &&
	echo b >actual &&
	test_must_fail test_cmp expect actual >diff &&
	grep "^-a" diff &&
	grep "^+b" diff
'

test_expect_success 'test_jq' '
	echo "{\"a\": 1}" >doc.json &&
	test_jq ".a == 1" doc.json &&
	test_jq ".a == 1" <doc.json &&
	test_must_fail test_jq ".a == 2" doc.json 2>err &&
	grep "filter is not true" err
'

test_expect_success 'test_path_is_*' '
	touch f && mkdir d &&
	test_path_is_file f &&
	test_path_is_dir d &&
	test_path_is_missing nothing &&
	test_must_fail test_path_is_file d 2>/dev/null &&
	test_must_fail test_path_is_missing f 2>/dev/null
'

test_expect_success 'test_when_finished registers cleanups' '
	test_when_finished "echo first >>order" &&
	test_when_finished "echo second >>order; rm -f marker" &&
	touch marker &&
	test_path_is_missing order
'

test_expect_success 'they ran after that test, last registered first' '
	printf "second\nfirst\n" >expect &&
	test_cmp expect order &&
	test_path_is_missing marker
'

test_expect_success 'a failing test reports not ok and the script exits 1' '
	write_sub_test failing "$failing_script" &&
	test_expect_code 1 run_sub_test failing &&
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - last command fails
	#	echo some-output && false
	# --- output:
	# some-output
	not ok 3 - chain fails early
	#	false && echo not-reached
	not ok 4 - cleanup runs after a failure
	#	test_when_finished "touch $OUTER/cleanup-ran" && false
	not ok 5 - a failing cleanup fails the test
	#	test_when_finished false && true
	# --- output:
	# test_when_finished: cleanup failed: false
	ok 6 - later tests still run
	# failed 4 among 6 test(s)
	1..6
	EOF
	test_cmp expect failing.out &&
	test_path_is_file cleanup-ran &&
	test_path_is_missing "$(cat sub-trash)"
'

test_expect_success '--immediate stops at the first failure' '
	test_expect_code 1 run_sub_test failing --immediate &&
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - last command fails
	#	echo some-output && false
	# --- output:
	# some-output
	# stopping at the first failure (--immediate)
	# failed 1 among 2 test(s)
	1..2
	EOF
	test_cmp expect failing.out
'

test_expect_success 'prereqs, known breakages; a passing script exits 0' '
	write_sub_test passing "$passing_script" &&
	run_sub_test passing &&
	cat >expect <<-\EOF &&
	ok 1 - plain
	ok 2 - with a prereq
	ok 3 # skip skipped (missing MISSING)
	ok 4 - negated prereq
	not ok 5 - known breakage # TODO known breakage
	ok 6 - title with \# in it
	# still have 1 known breakage(s)
	# passed all 6 test(s)
	1..6
	EOF
	test_cmp expect passing.out &&
	test_must_fail grep shown-when-verbose passing.out
'

test_expect_success '-v shows the output of passing tests too' '
	run_sub_test passing -v &&
	grep "^# shown-when-verbose\$" passing.out
'

test_expect_success '--keep keeps the temp dir' '
	run_sub_test passing --keep &&
	kept=$(cat sub-trash) &&
	test_path_is_dir "$kept" &&
	rm -rf "$(dirname "$kept")"
'

test_expect_success 'a script that ends without test_done fails' '
	write_sub_test nodone "test_expect_success fine true" &&
	test_must_fail run_sub_test nodone &&
	grep "without test_done" nodone.out
'

test_expect_success 'test_when_finished outside a test is a bug' '
	write_sub_test outside "test_when_finished true" &&
	test_must_fail run_sub_test outside &&
	grep "^BUG" outside.err
'

test_expect_success 'a script without test_description is a bug' '
	write_script nodesc <<-EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_done
	EOF
	test_must_fail ./nodesc 2>err &&
	grep "did not set test_description" err
'

test_expect_success 'free_port returns a port nobody listens on' '
	port=$(free_port) &&
	case $port in "" | *[!0-9]*) false ;; esac &&
	test "$port" -gt 0 &&
	test "$port" -lt 65536 &&
	test_must_fail bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
'

test_expect_success 'wait_for returns at once when the command succeeds' '
	t0=$(now_ms) &&
	wait_for true 5 &&
	test $(($(now_ms) - t0)) -lt 1000
'

test_expect_success 'wait_for polls until the command succeeds' '
	{ sleep 0.3 && touch ready; } &
	bg=$! &&
	wait_for "test -f ready" 5 &&
	wait $bg
'

test_expect_success 'wait_for times out on false within its timeout' '
	t0=$(now_ms) &&
	test_must_fail wait_for false 0.5 2>err &&
	elapsed=$(($(now_ms) - t0)) &&
	test "$elapsed" -ge 500 &&
	test "$elapsed" -lt 3000 &&
	grep "timed out after 0.5s: false" err
'

test_expect_success PYTHON3 'start_daemon runs $PORTOLAN serve, waits for /healthz' '
	write_fake_portolan &&
	PORTOLAN=$TRASH/fake-portolan &&
	start_daemon --extra &&
	test -n "$DAEMON_PID" &&
	test "$BASE_URL" = "http://127.0.0.1:$PORT" &&
	curl -sf "$BASE_URL/healthz" >actual &&
	echo ok >expect &&
	test_cmp expect actual &&
	echo "serve --config $TRASH/config --listen 127.0.0.1:$PORT --extra" >expect &&
	test_cmp expect fake-portolan.args &&
	test_path_is_dir "$DAEMON_CONFIG" &&
	grep "fake: listening" "$DAEMON_LOG"
'

test_expect_success PYTHON3 'stop_daemon stops it cleanly' '
	pid=$DAEMON_PID &&
	stop_daemon &&
	test -z "$DAEMON_PID" &&
	test_must_fail kill -0 "$pid" 2>/dev/null &&
	test_must_fail stop_daemon 2>/dev/null
'

test_expect_success PYTHON3 'kill9_daemon kills it' '
	start_daemon &&
	pid=$DAEMON_PID &&
	kill9_daemon &&
	test -z "$DAEMON_PID" &&
	test_must_fail kill -0 "$pid" 2>/dev/null &&
	test_must_fail curl -sf "$BASE_URL/healthz"
'

test_expect_success PYTHON3 'start_daemon fails at once, with the log, when the daemon dies' '
	t0=$(now_ms) &&
	test_must_fail start_daemon --fail 2>err &&
	test $(($(now_ms) - t0)) -lt 5000 &&
	grep "exited with status 3" err &&
	grep "fake: cannot start" err &&
	test -z "$DAEMON_PID"
'

test_expect_success PYTHON3 'a daemon left running is stopped when the script exits' '
	write_sub_test leftover "$leftover_script" &&
	run_sub_test leftover &&
	grep "^ok 1 - start" leftover.out &&
	test_must_fail kill -0 "$(cat sub-pid)" 2>/dev/null
'

test_done
