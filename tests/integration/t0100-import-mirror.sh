#!/bin/bash
test_description='import: payloads become LMDB records, YAML files and git commits'
. "$(dirname "$0")/lib.sh"

INV=$DAEMON_CONFIG/inventory

test_expect_success 'import the 200 example payloads' '
	"$PORTOLAN" import "$EXAMPLES/payloads" >out &&
	grep "imported 200 payloads: 200 created" out &&
	test "$(find "$INV/services" -name "*.yml" | wc -l)" -eq 200
'

test_expect_success 'every payload has its file at services/<host>/<container>.yml' '
	jq -r "\"services/\" + .host + \"/\" + .container_name + \".yml\"" \
		"$EXAMPLES"/payloads/*.json | sort >expect &&
	(cd "$INV" && find services -name "*.yml" | sort) >actual &&
	test_cmp expect actual
'

test_expect_success 'commits are authored by the notifier of each host' '
	git -C "$INV" log --format="%an <%ae>" >authors &&
	sort -u authors >actual &&
	jq -r "\"notifier@\" + .host + \" <notifier@\" + .host + \">\"" "$EXAMPLES"/payloads/*.json |
		sort -u >expect &&
	test_cmp expect actual
'

test_expect_success 'commit messages name what changed' '
	git -C "$INV" log --format=%B >log &&
	grep -q "^register docker01/sonarr: created$" log &&
	test "$(git -C "$INV" rev-parse --abbrev-ref HEAD)" = main
'

test_expect_success 'the repo is clean and fsck-clean' '
	git -C "$INV" fsck --strict 2>&1 &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 're-importing the same payloads makes no commit' '
	git -C "$INV" rev-parse HEAD >before &&
	"$PORTOLAN" import "$EXAMPLES/payloads" >out &&
	grep "200 unchanged" out && grep "0 commit(s)" out &&
	git -C "$INV" rev-parse HEAD >after &&
	test_cmp before after
'

test_expect_success 'a changed image tag is one commit naming the change' '
	jq ".image_name = \"lscr.io/linuxserver/sonarr:4.0.9\"" \
		"$EXAMPLES"/payloads/*-docker01-sonarr.json >sonarr.json &&
	"$PORTOLAN" import sonarr.json >out &&
	grep "1 updated" out &&
	git -C "$INV" log -1 --format="%an|%s" >actual &&
	echo "notifier@docker01|register docker01/sonarr: image latest -> 4.0.9" >expect &&
	test_cmp expect actual &&
	grep -x "image_tag: \"4.0.9\"" "$INV/services/docker01/sonarr.yml"
'

test_expect_success 'a live-only change (docker status) makes no commit' '
	git -C "$INV" rev-parse HEAD >before &&
	jq ".docker_status = \"exited\" | .image_name = \"lscr.io/linuxserver/sonarr:4.0.9\"" \
		"$EXAMPLES"/payloads/*-docker01-sonarr.json >sonarr.json &&
	"$PORTOLAN" import sonarr.json >out &&
	grep "1 updated" out &&
	git -C "$INV" rev-parse HEAD >after &&
	test_cmp before after
'

test_expect_success 'import follows register_field_ownership from settings.yml' '
	jq ".group_name = \"Renamed\"" "$EXAMPLES"/payloads/*-docker01-sonarr.json >g.json &&
	"$PORTOLAN" import g.json >/dev/null &&
	grep -x "group_name: Media" "$INV/services/docker01/sonarr.yml" &&
	echo "register_field_ownership: notifier_wins" >"$DAEMON_CONFIG/settings.yml" &&
	test_when_finished "rm -f \"$DAEMON_CONFIG/settings.yml\"" &&
	"$PORTOLAN" import g.json >/dev/null &&
	grep -x "group_name: Renamed" "$INV/services/docker01/sonarr.yml" &&
	! test -e "$DAEMON_CONFIG/api_token"
'

test_expect_success 'an invalid payload is reported by file and field; nothing changes' '
	"$PORTOLAN" export >before.json &&
	echo "{\"host\": \"h\", \"container_name\": \"c\", \"sort_priority\": \"high\", \"networks\": [{\"name\": \"n\", \"bar\": 1}]}" >bad.json &&
	cp "$EXAMPLES"/payloads/001-*.json good.json &&
	test_must_fail "$PORTOLAN" import good.json bad.json 2>err &&
	grep "bad.json: sort_priority: " err &&
	grep "bad.json: networks\[0\].bar: " err &&
	grep "nothing imported" err &&
	"$PORTOLAN" export >after.json &&
	test_cmp before.json after.json
'

test_expect_success 'malformed JSON is reported with file:line:col' '
	printf "{\n  \"host\": \"h\",,\n}\n" >broken.json &&
	test_must_fail "$PORTOLAN" import broken.json 2>err &&
	grep "^broken.json:2:" err
'

test_expect_success 'an array file imports every element' '
	jq -s "[.[0], .[1]] | map(.host = \"lab\")" "$EXAMPLES"/payloads/00[12]-*.json >two.json &&
	"$PORTOLAN" import two.json >out &&
	grep "imported 2 payloads: 2 created" out &&
	test "$(find "$INV/services/lab" -name "*.yml" | wc -l)" -eq 2
'

test_expect_success 'names that are unsafe in paths get distinct, safe files' '
	printf "%s\n" "{\"host\": \"../etc\", \"container_name\": \"a/b\"}" \
		"{\"host\": \"..%%2Fetc\", \"container_name\": \"a%%2Fb\"}" | jq -s . >odd.json &&
	"$PORTOLAN" import odd.json >out &&
	grep "2 created" out &&
	test "$(find "$INV/services" -name "*.yml" | wc -l)" -eq 204 &&
	test -z "$(find "$DAEMON_CONFIG" -path "*/etc*" ! -path "$INV/services/*")"
'

test_done
