#!/bin/bash
test_description='widget definitions: the syncthing widget against a real Syncthing

Starts Debian'"'"'s syncthing on loopback with a generated home (GUI over
http on a free port, a known API key, no relays, discovery, NAT, upgrades
or usage reports) and three folders, two holding files, one whose id needs
URL-encoding. portolan widget test syncthing must print what Syncthing'"'"'s
own REST API reports: /rest/config/folders, then /rest/db/status for each.'
. "$(dirname "$0")/lib.sh"

KEY=t0910-syncthing-key-abcdef0123456789
if command -v syncthing >/dev/null 2>&1; then
	test_set_prereq SYNCTHING
else
	skip_all='syncthing is not installed (tests/deps.sh installs it)'
	test_done
fi

st () {
	curl -sSf --max-time 5 -H "X-API-Key: $KEY" "$@"
}

# The four values from Syncthing itself, as the widget prints them (sizes
# in MiB, rounded half to even like STD's Python round()).
expected () {
	st "$ST/rest/config/folders" >folders.json &&
	jq -r ".[].id" folders.json >ids &&
	: >status.all &&
	while read -r id; do
		st -G "$ST/rest/db/status" --data-urlencode "folder=$id" >>status.all || return 1
	done <ids &&
	python3 - folders.json status.all <<-\EOF
	import json, sys
	folders = json.load(open(sys.argv[1]))
	dec, text, st = json.JSONDecoder(), open(sys.argv[2]).read(), []
	i = 0
	while i < len(text):
	    if text[i].isspace():
	        i += 1
	        continue
	    o, i = dec.raw_decode(text, i)
	    st.append(o)
	mib = 1024 * 1024
	print("total_folders: %d" % len(folders))
	print("folders_syncing: %d" % sum(1 for s in st if s["needBytes"] > 0))
	print("remaining_mb: %d MiB" % round(sum(s["needBytes"] for s in st) / mib))
	print("total_mb: %d MiB" % round(sum(s["globalBytes"] for s in st) / mib))
	EOF
}

# idle: every folder scanned and idle.
idle () {
	st "$ST/rest/config/folders" | jq -r ".[].id" >ids.idle &&
	test -s ids.idle &&
	while read -r id; do
		st -G "$ST/rest/db/status" --data-urlencode "folder=$id" |
			jq -e ".state == \"idle\" and .globalFiles == .localFiles" >/dev/null || return 1
	done <ids.idle
}

test_expect_success SYNCTHING 'a generated home, loopback only' '
	syncthing generate --home "$TRASH/st" --no-default-folder >gen.log 2>&1 &&
	gui=$(free_port) && listen=$(free_port) &&
	sed -i \
		-e "s|<address>127.0.0.1:8384</address>|<address>127.0.0.1:$gui</address>|" \
		-e "s|<apikey>.*</apikey>|<apikey>$KEY</apikey>|" \
		-e "s|<listenAddress>default</listenAddress>|<listenAddress>tcp://127.0.0.1:$listen</listenAddress>|" \
		-e "s|<globalAnnounceEnabled>true<|<globalAnnounceEnabled>false<|" \
		-e "s|<localAnnounceEnabled>true<|<localAnnounceEnabled>false<|" \
		-e "s|<relaysEnabled>true<|<relaysEnabled>false<|" \
		-e "s|<natEnabled>true<|<natEnabled>false<|" \
		-e "s|<startBrowser>true<|<startBrowser>false<|" \
		-e "s|<urAccepted>0<|<urAccepted>-1<|" \
		-e "s|<autoUpgradeIntervalH>[0-9]*<|<autoUpgradeIntervalH>0<|" \
		"$TRASH/st/config.xml" &&
	grep -q "<apikey>$KEY</apikey>" "$TRASH/st/config.xml" &&
	ST=http://127.0.0.1:$gui
'

test_expect_success SYNCTHING 'start syncthing on loopback' '
	STNOUPGRADE=1 syncthing serve --home "$TRASH/st" --no-browser --no-restart \
		>"$TRASH/st.log" 2>&1 &
	st_pid=$! &&
	wait_for "st \"$ST/rest/system/ping\"" 30
'

test_expect_success SYNCTHING 'three folders, two with files' '
	mkdir -p data/photos data/docs data/empty &&
	head -c 2700000 /dev/urandom >data/photos/a.bin &&
	head -c 1100000 /dev/urandom >data/photos/b.bin &&
	head -c 600000 /dev/urandom >data/docs/c.txt &&
	for f in "photos:Photos" "docs+notes:Docs" "empty:Empty"; do
		id=${f%%:*} label=${f#*:} &&
		dir=$TRASH/data/${id%%+*} &&
		st -X POST -H "Content-Type: application/json" \
			-d "{\"id\": \"$id\", \"label\": \"$label\", \"path\": \"$dir\", \"fsWatcherEnabled\": false}" \
			"$ST/rest/config/folders" || return 1
	done &&
	wait_for idle 30 &&
	st "$ST/rest/config/folders" | jq -e "length == 3"
'

test_expect_success SYNCTHING 'portolan widget test syncthing equals Syncthing'"'"'s own numbers' '
	expected >expect &&
	"$PORTOLAN" widget test syncthing "$ST" "$KEY" >out &&
	expected >expect.after &&
	test_cmp expect expect.after &&
	test_cmp expect out &&
	grep -Fx "total_folders: 3" out &&
	grep -Fx "total_mb: 4 MiB" out
'

test_expect_success SYNCTHING 'a wrong key: every field an auth error' '
	test_must_fail "$PORTOLAN" widget test syncthing "$ST" wrong-key >out &&
	test $(grep -c ": error (auth): HTTP 403" out) = 4
'

test_expect_success SYNCTHING 'stop syncthing' '
	kill "$st_pid" &&
	wait_for "! kill -0 $st_pid" 20
'

test_done
