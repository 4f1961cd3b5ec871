# shellcheck shell=bash disable=SC2034
# Shell test library for the integration tests, in the style of git's t/.
#
# A test script sets test_description, sources this file, declares tests
# and ends with test_done:
#
#	#!/bin/bash
#	test_description='register: a new entry is created'
#	. "$(dirname "$0")/lib.sh"
#
#	test_expect_success 'daemon starts' '
#		start_daemon
#	'
#	test_expect_success 'healthz answers' '
#		curl -sf "$BASE_URL/healthz" >out &&
#		test_jq ".status == \"ok\"" out
#	'
#	test_done
#
# Output is TAP for prove. A test body is a string eval'ed in the script's
# own shell (not a subshell, so it can start a daemon or set variables for
# later tests); it fails when its last command fails, so chain every command
# with &&. Its stdout and stderr are captured and shown as "# " comments
# only when it fails, or always with -v / TEST_VERBOSE=1. After each test
# the working directory is reset to $TRASH.
#
# Options (or environment): -v/--verbose (TEST_VERBOSE=1), -i/--immediate
# stop at the first failure (TEST_IMMEDIATE=1), -x/--trace run bodies under
# set -x (TEST_TRACE=1), -k/--keep keep the temp dir (TEST_KEEP=1),
# -h/--help print test_description.
#
# Variables a test can use:
#	TRASH		fresh temp dir, the cwd and $HOME; removed at exit
#			unless TEST_KEEP=1
#	REPO		the repository root
#	PORTOLAN	the binary: ${PORTOLAN_BIN:-$REPO/build/portolan}
#	EXAMPLES	$REPO/examples
#	FIXTURES	$REPO/tests/fixtures
#	TEST_DIRECTORY	tests/integration (absolute)
#	DAEMON_CONFIG	$TRASH/config, the daemon's --config dir; also
#			exported as PORTOLAN_CONFIG for CLI commands
#	DAEMON_LOG	the daemon's stdout and stderr (outside $TRASH)
#	PORT, BASE_URL, DAEMON_PID  set by start_daemon

if test -z "${BASH_VERSION-}"; then
	echo "lib.sh: needs bash" >&2
	exit 1
fi

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || exit 1
REPO=$(cd "$TEST_DIRECTORY/../.." && pwd) || exit 1
PORTOLAN=${PORTOLAN_BIN:-$REPO/build/portolan}
EXAMPLES=$REPO/examples
FIXTURES=$REPO/tests/fixtures

while test $# -gt 0; do
	case $1 in
	-v | --verbose) TEST_VERBOSE=1 ;;
	-i | --immediate) TEST_IMMEDIATE=1 ;;
	-x | --trace) TEST_TRACE=1 ;;
	-k | --keep) TEST_KEEP=1 ;;
	-h | --help)
		printf '%s\n' "${test_description-}"
		exit 0
		;;
	*)
		echo "$0: unknown option '$1'" >&2
		exit 1
		;;
	esac
	shift
done

if test -z "${test_description-}"; then
	echo "BUG: $0 did not set test_description before sourcing lib.sh" >&2
	exit 1
fi

# Nothing from the caller's environment may change a result: locale, time
# zone, umask, proxies for 127.0.0.1, git identity and configuration,
# portolan's own settings (PORTOLAN_*, but PORTOLAN_BIN; STD's API_TOKEN
# and REGISTER_FIELD_OWNERSHIP).
export LC_ALL=C LANG=C TZ=UTC
umask 022
unset CDPATH XDG_CONFIG_HOME XDG_DATA_HOME EMAIL
# Every setting portolan reads from the environment: a developer's own must not leak in.
unset API_TOKEN REGISTER_FIELD_OWNERSHIP LISTEN SITE_DIR STALE_AFTER LOG_LEVEL \
	BACKUP_PATH BACKUP_DAYS_TO_KEEP BACKUP_TIME URL_HEALTHCHECK_INTERVAL HEALTHCHECK_TIMEOUT HEALTHCHECK_CONCURRENCY WIDGET_BACKGROUND_RELOAD \
	WIDGET_VALUE_RETENTION_DAYS WIDGET_TIMEOUT USER_SESSION_LENGTH STD_DOZZLE_URL FLASK_SECRET_KEY \
	ICON_RETRY_AFTER ICON_FETCH_TIMEOUT HOOK_TIMEOUT
# Tests talk only to loopback: no icon fetching from the public CDN unless a test points it at its own.
export ICON_SOURCES=none
# The dashboard tests read pages without logging in; the UI tests (t06xx) unset this.
export DASHBOARD_PUBLIC=true
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='127.0.0.1,localhost' no_proxy='127.0.0.1,localhost'
for _test_v in $(compgen -e); do
	case $_test_v in
	PORTOLAN_BIN) ;;
	GIT_* | PORTOLAN_*) unset "$_test_v" ;;
	esac
done
export GIT_CONFIG_NOSYSTEM=1

# Everything lives under one root: $TRASH is what tests see; the captured
# output and the daemon log sit beside it so a test's `ls` never meets them.
_test_root=$(mktemp -d "${TMPDIR:-/tmp}/portolan-$(basename "$0" .sh).XXXXXX") || {
	echo "$0: cannot create temp dir" >&2
	exit 1
}
TRASH=$_test_root/trash
DAEMON_CONFIG=$TRASH/config
DAEMON_LOG=$_test_root/daemon.log
_test_out=$_test_root/out
mkdir "$TRASH" || exit 1
export HOME=$TRASH
# A developer's own config dir must never be touched: CLI commands without
# --config default to the daemon's.
export PORTOLAN_CONFIG=$DAEMON_CONFIG
cd "$TRASH" || exit 1

test_count=0
test_failed=0
test_broken=0
test_fixed=0
_test_done_called=
_test_in_body=
_test_cleanups=()
_test_prereqs=" "
DAEMON_PID=

_test_exit_trap () {
	_test_rc=$?
	if test -n "$DAEMON_PID"; then
		stop_daemon >/dev/null 2>&1
	fi
	if test -z "$_test_done_called"; then
		echo "# $0 exited (status $_test_rc) without test_done"
		test "$_test_rc" != 0 || _test_rc=1
	fi
	cd / || :
	if test "${TEST_KEEP-}" = 1; then
		echo "# kept $_test_root"
	else
		rm -rf "$_test_root"
	fi
	exit "$_test_rc"
}
trap _test_exit_trap EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BUG () {
	echo "BUG in the test script: $*" >&2
	exit 1
}

# Prefix each line of stdin with "# " (a TAP comment).
_test_comment () {
	local line
	while IFS= read -r line || test -n "$line"; do
		printf '# %s\n' "$line"
	done
}

# Run $1 in this shell, output into $_test_out; returns its status.
_test_eval () {
	if test "${TEST_TRACE-}" = 1; then
		set -x
	fi
	eval "$1"
	{
		_test_eval_ret=$?
		set +x
	} 2>/dev/null
	return $_test_eval_ret
}

# Run body $1 and then the cleanups it registered, LIFO; a cleanup that
# fails fails the test. Returns the combined status.
# No locals here: the body runs inside this function and bash scopes
# dynamically, so a local would capture the body's variable of that name.
_test_run () {
	_test_cleanups=()
	_test_in_body=1
	_test_subshell=$BASH_SUBSHELL
	_test_eval "$1" </dev/null >"$_test_out" 2>&1
	_test_status=$?
	_test_in_body=
	for ((_test_i = ${#_test_cleanups[@]} - 1; _test_i >= 0; _test_i--)); do
		_test_eval "${_test_cleanups[_test_i]}" </dev/null >>"$_test_out" 2>&1 || {
			echo "test_when_finished: cleanup failed: ${_test_cleanups[_test_i]}" \
				>>"$_test_out"
			_test_status=1
		}
	done
	_test_cleanups=()
	cd "$TRASH" || BUG "cannot return to $TRASH"
	return $_test_status
}

# TAP result line, then the body and its output when $2 says so.
_test_report () {
	local line=$1 show=$2 body=$3 l
	printf '%s\n' "$line"
	test "$show" = 1 || return 0
	while IFS= read -r l || test -n "$l"; do
		printf '#\t%s\n' "$l"
	done <<<"$body"
	if test -s "$_test_out"; then
		echo "# --- output:"
		_test_comment <"$_test_out"
	fi
}

# Prerequisites: test_expect_success NAME[,NAME...] 'title' 'body' skips the
# test unless every NAME was set with test_set_prereq (!NAME: must not be).
test_set_prereq () {
	_test_prereqs="$_test_prereqs$1 "
}

test_have_prereq () {
	local p list
	IFS=, read -ra list <<<"$1"
	for p in "${list[@]}"; do
		case $p in
		!*) case $_test_prereqs in *" ${p#!} "*) return 1 ;; esac ;;
		*) case $_test_prereqs in *" $p "*) ;; *) return 1 ;; esac ;;
		esac
	done
	return 0
}

# Shared by test_expect_success/failure: parse args, handle prereqs.
# Sets _test_title and _test_body; returns 1 when the test was skipped.
_test_start () {
	local fn=$1
	shift
	test -z "$_test_in_body" || BUG "$fn inside a test body"
	case $# in
	2) _test_pre= ;;
	3) _test_pre=$1; shift ;;
	*) BUG "$fn wants [PREREQ] 'title' 'body', got $# arguments" ;;
	esac
	test_count=$((test_count + 1))
	_test_title=${1//\#/\\#}
	_test_body=$2
	if test -n "$_test_pre" && ! test_have_prereq "$_test_pre"; then
		echo "ok $test_count # skip $_test_title (missing $_test_pre)"
		return 1
	fi
	return 0
}

test_expect_success () {
	_test_start test_expect_success "$@" || return 0
	if _test_run "$_test_body"; then
		_test_report "ok $test_count - $_test_title" "${TEST_VERBOSE-}" "$_test_body"
	else
		test_failed=$((test_failed + 1))
		_test_report "not ok $test_count - $_test_title" 1 "$_test_body"
		if test "${TEST_IMMEDIATE-}" = 1; then
			echo "# stopping at the first failure (--immediate)"
			test_done
		fi
	fi
}

# A known breakage: the body is expected to fail. Never fails the script.
test_expect_failure () {
	_test_start test_expect_failure "$@" || return 0
	if _test_run "$_test_body"; then
		test_fixed=$((test_fixed + 1))
		_test_report "ok $test_count - $_test_title # TODO known breakage vanished" \
			1 "$_test_body"
	else
		test_broken=$((test_broken + 1))
		_test_report "not ok $test_count - $_test_title # TODO known breakage" \
			"${TEST_VERBOSE-}" "$_test_body"
	fi
}

# Print the summary and the plan, exit 1 if any test failed. With
# skip_all='reason' set and no test run, the whole script is skipped.
test_done () {
	_test_done_called=1
	if test "$test_count" = 0 && test -n "${skip_all-}"; then
		echo "1..0 # SKIP $skip_all"
		exit 0
	fi
	test "$test_fixed" = 0 || echo "# $test_fixed known breakage(s) vanished; mark them test_expect_success"
	test "$test_broken" = 0 || echo "# still have $test_broken known breakage(s)"
	if test "$test_failed" = 0; then
		echo "# passed all $test_count test(s)"
	else
		echo "# failed $test_failed among $test_count test(s)"
	fi
	echo "1..$test_count"
	test "$test_failed" = 0 || exit 1
	exit 0
}

# Run cmd after the current test, pass or fail (LIFO). Only in a test body,
# and not in a subshell of it, where it could not reach the list.
test_when_finished () {
	test -n "$_test_in_body" || BUG "test_when_finished outside a test body"
	test "$BASH_SUBSHELL" = "$_test_subshell" ||
		BUG "test_when_finished does nothing in a subshell"
	_test_cleanups+=("$*")
}

# Succeed when "$@" fails normally: not when it succeeds, is not found or
# not executable, or dies from a signal.
test_must_fail () {
	"$@"
	local rc=$?
	if test $rc = 0; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif test $rc -gt 128; then
		echo "test_must_fail: died by signal $((rc - 128)): $*" >&2
		return 1
	elif test $rc = 127; then
		echo "test_must_fail: command not found: $*" >&2
		return 1
	elif test $rc = 126; then
		echo "test_must_fail: cannot execute: $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N cmd...: succeed when cmd exits with status N.
test_expect_code () {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	test "$rc" = "$want" && return 0
	echo "test_expect_code: wanted exit $want, got $rc: $*" >&2
	return 1
}

# test_cmp expected actual: diff -u, shown in the output on mismatch.
test_cmp () {
	test $# = 2 || BUG "test_cmp wants 2 arguments"
	diff -u "$1" "$2"
}

# test_jq 'filter' [file]: jq -e on the file (stdin without one); on
# failure show the filter and the document.
test_jq () {
	local doc=${2-/dev/stdin} tmp=$_test_root/jq.in
	cat "$doc" >"$tmp" || return 1
	if jq -e "$1" "$tmp" >/dev/null; then
		return 0
	fi
	echo "test_jq: filter is not true: $1" >&2
	echo "test_jq: document:" >&2
	cat "$tmp" >&2
	return 1
}

test_path_is_file () {
	test -f "$1" || { echo "test_path_is_file: not a file: '$1'" >&2; return 1; }
}

test_path_is_dir () {
	test -d "$1" || { echo "test_path_is_dir: not a directory: '$1'" >&2; return 1; }
}

test_path_is_missing () {
	if test -e "$1" || test -L "$1"; then
		echo "test_path_is_missing: exists: '$1'" >&2
		return 1
	fi
}

# write_script file [interpreter]: stdin becomes an executable script.
write_script () {
	{
		echo "#!${2-/bin/bash}"
		cat
	} >"$1" && chmod +x "$1"
}

# Now in microseconds, into _test_now (no fork with bash 5's EPOCHREALTIME).
_test_clock () {
	if test -n "${EPOCHREALTIME-}"; then
		_test_now=${EPOCHREALTIME//[.,]/}
	else
		_test_now=$(($(date +%s) * 1000000))
	fi
}

# Seconds ("10", "0.5") to microseconds on stdout; 1 if not a number.
_test_seconds_us () {
	local int frac
	case $1 in
	'' | *[!0-9.]* | *.*.* | .) return 1 ;;
	esac
	int=${1%%.*}
	frac=
	case $1 in *.*) frac=${1#*.} ;; esac
	frac=${frac}000000
	echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# wait_for 'cmd' [timeout_s]: run cmd (output discarded) every 20 ms until
# it succeeds; 1 after timeout_s seconds (default 10).
wait_for () {
	local _wf_cmd=$1 _wf_timeout=${2:-10} _wf_deadline
	_wf_deadline=$(_test_seconds_us "$_wf_timeout") ||
		BUG "wait_for: bad timeout '$_wf_timeout'"
	_test_clock
	_wf_deadline=$((_test_now + _wf_deadline))
	while :; do
		if eval "$_wf_cmd" </dev/null >/dev/null 2>&1; then
			return 0
		fi
		_test_clock
		if test "$_test_now" -ge "$_wf_deadline"; then
			echo "wait_for: timed out after ${_wf_timeout}s: $_wf_cmd" >&2
			return 1
		fi
		sleep 0.02
	done
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on, from the
# kernel (bind to port 0) when python3 is there.
free_port () {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
	fi
	local _fp_i _fp_port
	for ((_fp_i = 0; _fp_i < 200; _fp_i++)); do
		_fp_port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$_fp_port") 2>/dev/null; then
			echo "$_fp_port"
			return 0
		fi
	done
	echo "free_port: found no free port" >&2
	return 1
}

# True while pid $1 runs; a zombie (exited, not yet reaped) counts as gone.
_test_pid_alive () {
	kill -0 "$1" 2>/dev/null || return 1
	local st
	if test -r "/proc/$1/stat"; then
		st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	else
		st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	fi
	case $st in
	Z* | X* | '') return 1 ;;
	esac
	return 0
}

_test_daemon_ready () {
	curl -sf --max-time 2 -o /dev/null "$BASE_URL/healthz"
}

# start_daemon [args...]: run "$PORTOLAN" serve on a free port with
# $DAEMON_CONFIG, output appended to $DAEMON_LOG, and wait (up to
# DAEMON_TIMEOUT seconds, default 10) until /healthz answers. Sets PORT,
# BASE_URL and DAEMON_PID. Fails at once, showing the log, if the daemon
# exits first. One daemon at a time; it is stopped when the script exits.
start_daemon () {
	local timeout=${DAEMON_TIMEOUT:-10} deadline rc
	if test -n "$DAEMON_PID"; then
		echo "start_daemon: already running (pid $DAEMON_PID)" >&2
		return 1
	fi
	PORT=$(free_port) || return 1
	BASE_URL=http://127.0.0.1:$PORT
	mkdir -p "$DAEMON_CONFIG" || return 1
	echo "--- start_daemon: $PORTOLAN serve --config $DAEMON_CONFIG --listen 127.0.0.1:$PORT $*" >>"$DAEMON_LOG"
	"$PORTOLAN" serve --config "$DAEMON_CONFIG" --listen "127.0.0.1:$PORT" "$@" \
		</dev/null >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	deadline=$(_test_seconds_us "$timeout") || BUG "bad DAEMON_TIMEOUT '$timeout'"
	_test_clock
	deadline=$((_test_now + deadline))
	while ! _test_daemon_ready; do
		if ! _test_pid_alive "$DAEMON_PID"; then
			wait "$DAEMON_PID"
			rc=$?
			DAEMON_PID=
			echo "start_daemon: daemon exited with status $rc before it was ready; log:" >&2
			cat "$DAEMON_LOG" >&2
			return 1
		fi
		_test_clock
		if test "$_test_now" -ge "$deadline"; then
			echo "start_daemon: not ready after ${timeout}s; log:" >&2
			cat "$DAEMON_LOG" >&2
			kill9_daemon
			return 1
		fi
		sleep 0.02
	done
	return 0
}

# stop_daemon: SIGTERM, wait up to DAEMON_TIMEOUT seconds (then SIGKILL).
# Returns the daemon's exit status: 0 only for a clean shutdown.
stop_daemon () {
	local pid=$DAEMON_PID timeout=${DAEMON_TIMEOUT:-10} deadline rc
	if test -z "$pid"; then
		echo "stop_daemon: no daemon running" >&2
		return 1
	fi
	DAEMON_PID=
	kill -TERM "$pid" 2>/dev/null
	deadline=$(_test_seconds_us "$timeout") || BUG "bad DAEMON_TIMEOUT '$timeout'"
	_test_clock
	deadline=$((_test_now + deadline))
	while _test_pid_alive "$pid"; do
		_test_clock
		if test "$_test_now" -ge "$deadline"; then
			echo "stop_daemon: pid $pid still running ${timeout}s after SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		sleep 0.02
	done
	wait "$pid" 2>/dev/null
	rc=$?
	test "$rc" = 0 || echo "stop_daemon: daemon exited with status $rc" >&2
	return $rc
}

# kill9_daemon: SIGKILL, no chance to clean up (crash tests), then reap.
kill9_daemon () {
	local pid=$DAEMON_PID
	if test -z "$pid"; then
		echo "kill9_daemon: no daemon running" >&2
		return 1
	fi
	DAEMON_PID=
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3
test -x "$PORTOLAN" && test_set_prereq PORTOLAN
:
