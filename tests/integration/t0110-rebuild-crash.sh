#!/bin/bash
test_description='rebuild from the repo, hand edits, and kill -9 during an import'
. "$(dirname "$0")/lib.sh"

INV=$DAEMON_CONFIG/inventory

test_expect_success 'setup: import the examples' '
	"$PORTOLAN" import "$EXAMPLES/payloads" >/dev/null &&
	"$PORTOLAN" export >export.json &&
	test "$(jq length export.json)" -eq 200
'

test_expect_success 'export holds inventory fields only, no live state' '
	test_jq "all(.[]; has(\"docker_status\") | not)" export.json &&
	test_jq "all(.[]; has(\"id\") and has(\"host\") and has(\"image_tag\"))" export.json
'

test_expect_success 'delete LMDB, rebuild: export is identical' '
	rm -rf "$DAEMON_CONFIG/services.lmdb" &&
	"$PORTOLAN" rebuild >out &&
	grep "rebuilt 200 services" out &&
	"$PORTOLAN" export >again.json &&
	test_cmp export.json again.json
'

test_expect_success 'delete LMDB: any command rebuilds it by itself' '
	rm -rf "$DAEMON_CONFIG/services.lmdb" &&
	"$PORTOLAN" export >again.json 2>err &&
	test_cmp export.json again.json &&
	grep "rebuilt the store" err
'

test_expect_success 'ids survive a rebuild, so new services never reuse one' '
	max=$(jq "map(.id) | max" export.json) &&
	echo "{\"host\": \"new\", \"container_name\": \"svc\"}" >new.json &&
	"$PORTOLAN" import new.json >/dev/null &&
	"$PORTOLAN" export | jq -e "map(select(.host == \"new\"))[0].id > $max"
'

test_expect_success 'a valid hand edit is applied by rebuild' '
	f=$INV/services/docker01/sonarr.yml &&
	sed -i "s/^group_name: .*/group_name: Hand Edited/" "$f" &&
	git -C "$INV" -c user.name=Op -c user.email=op@example.invalid commit -qam "hand edit" &&
	"$PORTOLAN" check >out &&
	"$PORTOLAN" rebuild &&
	"$PORTOLAN" export |
		jq -e "map(select(.container_name == \"sonarr\" and .host == \"docker01\"))[0].group_name == \"Hand Edited\""
'

test_expect_success 'an invalid hand edit: file:line:col, exit 1, nothing applied' '
	"$PORTOLAN" export >before.json &&
	f=$INV/services/docker01/sonarr.yml &&
	sed -i "s/^sort_priority: .*/sort_priority: high/" "$f" &&
	line=$(grep -n "^sort_priority:" "$f" | cut -d: -f1) &&
	test_must_fail "$PORTOLAN" check 2>err &&
	grep "^services/docker01/sonarr.yml:$line:16: " err &&
	test_must_fail "$PORTOLAN" rebuild 2>err &&
	grep "^services/docker01/sonarr.yml:$line:" err &&
	"$PORTOLAN" export >after.json &&
	test_cmp before.json after.json &&
	git -C "$INV" checkout -q -- services
'

test_expect_success 'a file moved by hand is put back at its canonical path' '
	git -C "$INV" mv services/docker01/sonarr.yml services/docker01/renamed.yml &&
	git -C "$INV" -c user.name=Op -c user.email=op@example.invalid commit -qm move &&
	"$PORTOLAN" rebuild &&
	test -f "$INV/services/docker01/sonarr.yml" &&
	! test -e "$INV/services/docker01/renamed.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

# 5,000 distinct payloads from the 200 examples.
make_big_import () {
	python3 - "$EXAMPLES/payloads" >big.json <<-\PY
	import json, os, sys
	d = sys.argv[1]
	base = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d)) if f.endswith(".json")]
	out = []
	for i in range(5000):
	    p = dict(base[i % len(base)])
	    p["container_name"] = "%s-%04d" % (p["container_name"], i)
	    out.append(p)
	json.dump(out, sys.stdout)
	PY
}

# Kill an import after $1 seconds, then check that the next start converges.
crash_and_check () {
	rm -rf crash && mkdir crash || return 1
	# Its own statement: "a && b &" would background the whole list.
	"$PORTOLAN" --config crash import big.json >/dev/null 2>&1 &
	pid=$!
	sleep "$1"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	"$PORTOLAN" --config crash export >lmdb.json &&
	git -C crash/inventory fsck --strict 2>&1 &&
	test -z "$(git -C crash/inventory status --porcelain)" &&
	mkdir -p fromrepo && rm -rf fromrepo/* &&
	cp -r crash/inventory fromrepo/inventory &&
	"$PORTOLAN" --config fromrepo export >repo.json 2>/dev/null &&
	test_cmp lmdb.json repo.json &&
	"$PORTOLAN" --config crash import big.json >/dev/null &&
	"$PORTOLAN" --config crash export >final.json &&
	test "$(jq length final.json)" -eq 5000 &&
	test "$(find crash/inventory/services -name "*.yml" | wc -l)" -eq 5000
}

test_expect_success 'setup: 5,000 payloads' '
	make_big_import && test "$(jq length big.json)" -eq 5000
'

for delay in 0.05 0.2 0.4 0.7 1.0; do
	test_expect_success "kill -9 after ${delay}s: LMDB and repo agree, fsck clean" "
		crash_and_check $delay
	"
done

test_done
