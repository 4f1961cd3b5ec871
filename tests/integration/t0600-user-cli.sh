#!/bin/bash
test_description='user: add, passwd, del and list web UI accounts from the command line'
. "$(dirname "$0")/lib.sh"

LMDB=$DAEMON_CONFIG/services.lmdb
command -v mdb_dump >/dev/null 2>&1 && test_set_prereq MDB_DUMP

# The stored password hash of user $1 (from the users database), on stdout.
stored_hash () {
	mdb_dump -p -s users "$LMDB" | grep -A1 "^ $1\$" | tail -n 1 |
		sed 's/\\\\/\\/g' | jq -r .hash
}

test_expect_success 'list on a fresh config is an empty array' '
	"$PORTOLAN" user list >out &&
	test_jq "type == \"array\" and length == 0" out
'

test_expect_success 'add: the first user defaults to admin' '
	echo "alices-password" | "$PORTOLAN" user add alice >out &&
	grep -x "added user '\''alice'\'' (admin)" out &&
	"$PORTOLAN" user list >list &&
	test_jq "length == 1 and .[0].name == \"alice\" and .[0].role == \"admin\"" list &&
	test_jq ".[0].must_change_password == false and .[0].last_login == 0" list &&
	test_jq ".[0].created > 1600000000" list
'

test_expect_success 'add: later users default to viewer; --role and --role= work' '
	echo "bobs-password" | "$PORTOLAN" user add bob >out &&
	grep -x "added user '\''bob'\'' (viewer)" out &&
	echo "carols-password" | "$PORTOLAN" user add --role=admin carol &&
	echo "daves-password" | "$PORTOLAN" user add dave --role viewer &&
	"$PORTOLAN" user list >list &&
	test_jq "[.[].name] == [\"alice\", \"bob\", \"carol\", \"dave\"]" list &&
	test_jq "[.[].role] == [\"admin\", \"viewer\", \"admin\", \"viewer\"]" list &&
	test_jq "all(.[]; keys == [\"created\", \"last_login\", \"must_change_password\", \"name\", \"role\"])" list
'

test_expect_success 'add: a password line may end in CRLF' '
	printf "erins-password\r\n" | "$PORTOLAN" user add erin &&
	"$PORTOLAN" user list >list &&
	test_jq "any(.[]; .name == \"erin\")" list
'

test_expect_success 'add: a taken name fails with a message and exit 1' '
	"$PORTOLAN" user list >before &&
	echo "another-password" | test_expect_code 1 "$PORTOLAN" user add alice >out 2>err &&
	grep -x "user add: user '\''alice'\'' already exists" err &&
	test ! -s out &&
	"$PORTOLAN" user list >after &&
	test_cmp before after
'

test_expect_success 'add: a bad role, name or password is refused, naming the field' '
	"$PORTOLAN" user list >before &&
	echo "franks-password" | test_expect_code 1 "$PORTOLAN" user add frank --role boss 2>err &&
	grep -x "user add: role: must be '\''admin'\'' or '\''viewer'\''" err &&
	echo "franks-password" | test_expect_code 1 "$PORTOLAN" user add Frank 2>err &&
	grep "^user add: name: must be 1 to 64 characters" err &&
	echo "franks-password" | test_expect_code 1 "$PORTOLAN" user add .frank 2>err &&
	grep "^user add: name: " err &&
	echo "short" | test_expect_code 1 "$PORTOLAN" user add frank 2>err &&
	grep -x "user add: password: must be at least 8 characters" err &&
	head -c 2000 /dev/zero | tr "\0" x | test_expect_code 1 "$PORTOLAN" user add frank 2>err &&
	grep -x "user add: password: must be at most 1024 bytes" err &&
	test_expect_code 1 "$PORTOLAN" user add frank </dev/null 2>err &&
	grep -x "user add: no password on standard input" err &&
	"$PORTOLAN" user list >after &&
	test_cmp before after
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 "$PORTOLAN" user 2>err && grep "^usage: portolan user add" err &&
	test_expect_code 2 "$PORTOLAN" user frob bob 2>err &&
	test_expect_code 2 "$PORTOLAN" user add 2>err &&
	test_expect_code 2 "$PORTOLAN" user del a b 2>err &&
	test_expect_code 2 "$PORTOLAN" user list extra 2>err &&
	test_expect_code 2 "$PORTOLAN" user passwd bob --role admin 2>err &&
	"$PORTOLAN" user --help >out && grep "^usage: portolan user add" out &&
	"$PORTOLAN" --help >out && grep "^  user " out
'

test_expect_success MDB_DUMP 'passwords are stored as argon2id hashes' '
	stored_hash bob >hash &&
	grep "^[$]argon2id[$]v=19[$]m=65536,t=2,p=1[$]" hash &&
	! grep "bobs-password" hash
'

test_expect_success MDB_DUMP 'passwd replaces the hash' '
	stored_hash bob >before &&
	echo "bobs-new-password" | "$PORTOLAN" user passwd bob >out &&
	grep "changed the password of '\''bob'\''" out &&
	stored_hash bob >after &&
	grep "^[$]argon2id[$]" after &&
	! test_cmp before after
'

test_expect_success 'passwd: unknown user, short password' '
	echo "zeds-password" | test_expect_code 1 "$PORTOLAN" user passwd zed 2>err &&
	grep -x "user passwd: no user '\''zed'\''" err &&
	echo "short" | test_expect_code 1 "$PORTOLAN" user passwd bob 2>err &&
	grep -x "user passwd: password: must be at least 8 characters" err
'

test_expect_success PYTHON3 'on a terminal the password is asked twice without echo' '
	cat >tty-answer.py <<-\EOF &&
	# tty-answer.py SECOND-ANSWER COMMAND...: run COMMAND on a terminal, answer
	# its prompts with typed-secret-1 and SECOND-ANSWER, print what it showed.
	import os, pty, select, signal, sys, time
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(sys.argv[2], sys.argv[2:])
	out = b""
	def drain(until):
	    global out
	    deadline = time.time() + 10
	    while until not in out and time.time() < deadline:
	        if not select.select([fd], [], [], 0.1)[0]:
	            continue
	        try:
	            data = os.read(fd, 1024)
	        except OSError:
	            return
	        if not data:
	            return
	        out += data
	    if until not in out:
	        os.kill(pid, signal.SIGKILL)
	drain(b"password for")
	os.write(fd, b"typed-secret-1\n")
	drain(b"retype")
	os.write(fd, sys.argv[1].encode() + b"\n")
	drain(b"<end of output>")
	sys.stdout.write(out.decode())
	sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
	EOF
	python3 tty-answer.py typed-secret-1 "$PORTOLAN" user passwd dave >out &&
	grep "new password for '\''dave'\''" out &&
	grep "changed the password" out &&
	! grep "typed-secret" out &&
	test_must_fail python3 tty-answer.py typed-secret-2 "$PORTOLAN" user passwd dave >out &&
	grep "the passwords do not match" out
'

test_expect_success 'del removes a user' '
	"$PORTOLAN" user del bob >out &&
	grep -x "deleted user '\''bob'\''" out &&
	"$PORTOLAN" user list >list &&
	test_jq "all(.[]; .name != \"bob\")" list &&
	test_expect_code 1 "$PORTOLAN" user del bob 2>err &&
	grep -x "user del: no user '\''bob'\''" err
'

test_expect_success 'the last admin cannot be deleted' '
	"$PORTOLAN" user del carol &&
	test_expect_code 1 "$PORTOLAN" user del alice 2>err &&
	grep -x "user del: cannot remove the last admin" err &&
	"$PORTOLAN" user list >list &&
	test_jq "any(.[]; .name == \"alice\" and .role == \"admin\")" list
'

test_expect_success 'no hash is ever printed, nor mirrored to git' '
	"$PORTOLAN" user list >list 2>&1 &&
	! grep -F "\$argon2" list &&
	! grep -F "hash" list &&
	"$PORTOLAN" export >export.json &&
	! grep -F "\$argon2" export.json &&
	! git -C "$DAEMON_CONFIG/inventory" log -p --all | grep -F "\$argon2" &&
	! grep -rF "\$argon2" "$DAEMON_CONFIG/inventory" --exclude-dir=.git
'

test_expect_success 'accounts survive a rebuild of the store from the repo' '
	"$PORTOLAN" user list >before &&
	"$PORTOLAN" import "$EXAMPLES/payloads" >/dev/null &&
	"$PORTOLAN" rebuild >/dev/null &&
	"$PORTOLAN" user list >after &&
	test_cmp before after
'

test_expect_success 'serve on a fresh config creates admin, once' '
	rm -rf "$DAEMON_CONFIG" &&
	start_daemon &&
	stop_daemon &&
	"$PORTOLAN" user list >list &&
	test_jq "length == 1 and .[0].name == \"admin\" and .[0].role == \"admin\"" list &&
	test_jq ".[0].must_change_password == true" list &&
	printf "password2\n" | "$PORTOLAN" user passwd admin &&
	start_daemon &&
	stop_daemon &&
	"$PORTOLAN" user list >list &&
	test_jq "length == 1 and .[0].must_change_password == false" list
'

test_done
