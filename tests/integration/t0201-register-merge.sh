#!/bin/bash
test_description='register API over HTTP: statuses, merge rules, static lock, ownership, images, git, operator routes

Golden cases for spec/register.md ("Response", "Merge rules", image
reference parsing) against a real `portolan serve`, checking the reply,
the stored record and the inventory repo.'
. "$(dirname "$0")/lib.sh"
. "$FIXTURES/register/helpers.sh"

test_expect_success 'start the daemon' '
	use_configured_token &&
	start_daemon
'

# --- created / unchanged / updated and git ----------------------------------

test_expect_success 'a new entry: 200 created, every given field stored' '
	cat >full.json <<-\EOF &&
	{"host": "alpha", "container_name": "web", "container_id": "abc123", "stack_name": "site",
	 "docker_status": "running", "started_at": "2025-01-01T00:00:00Z",
	 "internalurl": "http://web.lan/", "externalurl": "https://web.example.com/",
	 "internal_health_check_enabled": true, "external_health_check_enabled": "no",
	 "image_name": "nginx:1.27", "image_icon": "nginx", "group_name": "Web", "sort_priority": 5,
	 "networks": [{"name": "front", "aliases": ["web"]}], "exposed_ports": ["80/tcp"],
	 "published_ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}],
	 "timestamp": "2025-01-01T00:00:01Z"}
	EOF
	register full.json && status_is 200 &&
	test_jq ".status == \"created\" and .id > 0 and .is_static == false and .notes == null" body &&
	test_jq ".host == \"alpha\" and .container_name == \"web\" and .container_id == \"abc123\"" body &&
	test_jq ".stack_name == \"site\" and .docker_status == \"running\" and .started_at == \"2025-01-01T00:00:00Z\"" body &&
	test_jq ".internalurl == \"http://web.lan/\" and .internalurl_source == \"explicit_label\"" body &&
	test_jq ".externalurl == \"https://web.example.com/\" and .externalurl_source == \"explicit_label\"" body &&
	test_jq ".internal_health_check_enabled == true and .external_health_check_enabled == false" body &&
	test_jq ".image_registry == \"docker.io\" and .image_owner == \"library\" and .image_name == \"nginx\" and .image_tag == \"1.27\" and .image_digest == null" body &&
	test_jq ".image_icon == \"nginx\" and .group_name == \"Web\" and .sort_priority == 5" body &&
	test_jq ".notifier_reported_group_name == \"Web\" and .notifier_reported_sort_priority == 5" body &&
	test_jq ".networks == [{\"name\": \"front\", \"aliases\": [\"web\"]}] and .exposed_ports == [\"80/tcp\"]" body &&
	test_jq ".published_ports == [{\"container_port\": 80, \"protocol\": \"tcp\", \"host_ip\": \"0.0.0.0\", \"host_port\": 8080}]" body &&
	test_jq "(.last_api_update | $ISO_Z) and (.last_updated | $ISO_Z)" body &&
	test_jq "has(\"timestamp\") | not" body &&
	WEB=$(jq .id body) &&
	jq -S "del(.status)" body >expect && stored "$WEB" && jq -S . stored >actual &&
	test_cmp expect actual
'

test_expect_success 'the creation is one commit by notifier@alpha' '
	wait_mirror &&
	git -C "$INV" log -1 --format="%an <%ae>|%s" >actual &&
	echo "notifier@alpha <notifier@alpha>|register alpha/web: created" >expect &&
	test_cmp expect actual &&
	test_path_is_file "$INV/services/alpha/web.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'the same payload again: unchanged, no commit' '
	head_before=$(git -C "$INV" rev-parse HEAD) &&
	register full.json && status_is 200 &&
	test_jq ".status == \"unchanged\" and .id == $WEB" body &&
	jq -S "del(.status, .last_api_update)" body >actual &&
	jq -S "del(.last_api_update)" stored >expect && test_cmp expect actual &&
	wait_mirror &&
	test "$(git -C "$INV" rev-parse HEAD)" = "$head_before"
'

test_expect_success 'last_api_update moves on every register, even unchanged' '
	stored "$WEB" && t0=$(jq -r .last_api_update stored) &&
	sleep 1.1 &&
	register full.json && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" && t1=$(jq -r .last_api_update stored) &&
	test "$t1" \> "$t0"
'

test_expect_success 'a live-only change (docker_status): updated, no commit' '
	head_before=$(git -C "$INV" rev-parse HEAD) &&
	jq ".docker_status = \"exited\" | .container_id = \"def456\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .docker_status == \"exited\" and .container_id == \"def456\"" body &&
	cp p.json full.json &&
	wait_mirror &&
	test "$(git -C "$INV" rev-parse HEAD)" = "$head_before"
'

test_expect_success 'a changed image tag: one commit by notifier@alpha naming it' '
	n0=$(commit_count) &&
	jq ".image_name = \"nginx:1.28\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .image_tag == \"1.28\"" body &&
	cp p.json full.json &&
	wait_mirror &&
	test "$(commit_count)" = $((n0 + 1)) &&
	git -C "$INV" log -1 --format="%an|%s" >actual &&
	echo "notifier@alpha|register alpha/web: image 1.27 -> 1.28" >expect &&
	test_cmp expect actual &&
	grep -F "1.28" "$INV/services/alpha/web.yml" &&
	test_must_fail grep -F "1.27" "$INV/services/alpha/web.yml"
'

test_expect_success 'same container name on another host is another service' '
	jq ".host = \"beta\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"created\" and .id != $WEB and .host == \"beta\"" body
'

# --- merge rules -------------------------------------------------------------

test_expect_success 'live strings and image_name: "", null or absent keep the value' '
	stored "$WEB" && jq -S "del(.last_api_update)" stored >expect &&
	jq ".container_id = \"\" | .stack_name = null | .docker_status = \"\" | .started_at = null | .image_name = \"\"" \
		full.json >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"unchanged\"" body &&
	jq "del(.container_id, .stack_name, .docker_status, .started_at, .image_name)" full.json >p.json &&
	register p.json && status_is 200 && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" && jq -S "del(.last_api_update)" stored >actual &&
	test_cmp expect actual
'

test_expect_success 'a non-empty live string replaces the stored one' '
	jq ".stack_name = \"site2\" | .started_at = \"2025-02-02T00:00:00Z\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .stack_name == \"site2\" and .started_at == \"2025-02-02T00:00:00Z\"" body &&
	cp p.json full.json
'

test_expect_success 'URLs: absent, "" or null clear nothing' '
	jq "del(.internalurl) | .externalurl = \"\"" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	jq ".internalurl = null | del(.externalurl)" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" &&
	test_jq ".internalurl == \"http://web.lan/\" and .internalurl_source == \"explicit_label\"" stored &&
	test_jq ".externalurl == \"https://web.example.com/\" and .externalurl_source == \"explicit_label\"" stored
'

test_expect_success 'a new explicit URL replaces an explicit one' '
	jq ".internalurl = \"http://web2.lan:8080/\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .internalurl == \"http://web2.lan:8080/\" and .internalurl_source == \"explicit_label\"" body &&
	cp p.json full.json
'

test_expect_success 'health flags: a bool replaces, null or absent keeps' '
	jq ".internal_health_check_enabled = null | del(.external_health_check_enabled)" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" &&
	test_jq ".internal_health_check_enabled == true and .external_health_check_enabled == false" stored &&
	jq ".internal_health_check_enabled = \"off\" | .external_health_check_enabled = 1" full.json >p.json &&
	register p.json && test_jq ".status == \"updated\"" body &&
	stored "$WEB" &&
	test_jq ".internal_health_check_enabled == false and .external_health_check_enabled == true" stored &&
	cp p.json full.json
'

test_expect_success 'networks/exposed_ports/published_ports: absent keeps' '
	jq "del(.networks, .exposed_ports, .published_ports)" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" &&
	test_jq ".networks == [{\"name\": \"front\", \"aliases\": [\"web\"]}] and .exposed_ports == [\"80/tcp\"] and (.published_ports | length) == 1" stored
'

test_expect_success 'lists: a list replaces, null clears, [] is an empty list' '
	jq ".networks = [{\"name\": \"back\"}] | .exposed_ports = null | .published_ports = []" full.json >p.json &&
	register p.json && test_jq ".status == \"updated\"" body &&
	stored "$WEB" &&
	test_jq ".networks == [{\"name\": \"back\", \"aliases\": []}]" stored &&
	test_jq ".exposed_ports == null and .published_ports == []" stored &&
	cp p.json full.json
'

test_expect_success 'exposure_observations: a list is stored' '
	cat >obs.json <<-\EOF &&
	[{"layer": "traefik", "hostname": "web.lan"},
	 {"layer": "dockflare", "hostname": "web.example.com", "tls": true,
	  "auth": "cloudflare_access:staff", "details": {"tunnel": "t1"}}]
	EOF
	jq --slurpfile o obs.json ".exposure_observations = \$o[0]" full.json >p.json &&
	register p.json && test_jq ".status == \"updated\"" body &&
	stored "$WEB" &&
	test_jq "(.exposure_observations | length) == 2" stored &&
	test_jq ".exposure_observations[1] == {\"layer\": \"dockflare\", \"hostname\": \"web.example.com\", \"tls\": true, \"path_prefix\": null, \"auth\": \"cloudflare_access:staff\", \"details\": {\"tunnel\": \"t1\"}}" stored &&
	cp p.json full.json
'

test_expect_success 'exposure_observations: absent or null keeps them' '
	jq "del(.exposure_observations)" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	jq ".exposure_observations = null" full.json >p.json &&
	register p.json && test_jq ".status == \"unchanged\"" body &&
	stored "$WEB" && test_jq "(.exposure_observations | length) == 2" stored
'

test_expect_success 'exposure_observations: a list replaces wholesale; empty layers dropped' '
	jq ".exposure_observations = [{\"layer\": \"\", \"hostname\": \"x.lan\"}, {\"layer\": \"caddy\", \"hostname\": \"c.lan\"}]" \
		full.json >p.json &&
	register p.json && test_jq ".status == \"updated\"" body &&
	stored "$WEB" &&
	test_jq "[.exposure_observations[].layer] == [\"caddy\"]" stored
'

test_expect_success 'exposure_observations: [] clears them' '
	jq ".exposure_observations = []" full.json >p.json &&
	register p.json && test_jq ".status == \"updated\"" body &&
	stored "$WEB" && test_jq "(.exposure_observations // []) == []" stored &&
	cp p.json full.json
'

# --- icons -------------------------------------------------------------------

test_expect_success 'image_icon: a payload icon replaces a notifier icon' '
	jq ".image_icon = \"nginx-alt\"" full.json >p.json &&
	register p.json && test_jq ".status == \"updated\" and .image_icon == \"nginx-alt\"" body &&
	cp p.json full.json
'

test_expect_success 'image_icon: an operator choice is never overwritten by a register' '
	echo "{\"image_icon\": \"my-icon\"}" >e.json &&
	patch "$WEB" e.json && status_is 200 && test_jq ".image_icon == \"my-icon\"" body &&
	jq ".image_icon = \"theirs\"" full.json >p.json &&
	register p.json && status_is 200 && test_jq ".image_icon == \"my-icon\"" body &&
	jq "del(.image_icon)" full.json >p.json &&
	register p.json && status_is 200 && test_jq ".image_icon == \"my-icon\"" body &&
	stored "$WEB" && test_jq ".image_icon == \"my-icon\"" stored
'

test_expect_success 'image_icon: with none set, a register without one derives it' '
	echo "{\"image_icon\": \"\"}" >e.json &&
	patch "$WEB" e.json && status_is 200 && test_jq ".image_icon == null" body &&
	jq "del(.image_icon)" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".image_icon | type == \"string\" and length > 0" body &&
	echo "{\"host\": \"beta\", \"container_name\": \"Grafana\", \"image_name\": \"grafana/grafana:11.0\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"created\" and (.image_icon | type == \"string\" and length > 0)" body
'

# --- static lock -------------------------------------------------------------

test_expect_success 'PATCH is_static true locks the entry' '
	echo "{\"is_static\": true}" >e.json &&
	patch "$WEB" e.json && status_is 200 && test_jq ".is_static == true" body &&
	wait_mirror &&
	stored "$WEB" && cp stored locked.json &&
	head_before=$(git -C "$INV" rev-parse HEAD)
'

test_expect_success 'register on a static entry: 200 skipped, static lock' '
	jq ".image_name = \"nginx:1.29\" | .docker_status = \"dead\" | .group_name = \"Other\" | .internalurl = \"http://x.lan/\"" \
		full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ". == {\"status\": \"skipped\", \"reason\": \"static lock\"}" body
'

test_expect_success 'a skipped register changes nothing: record, live fields, git' '
	stored "$WEB" && test_cmp locked.json stored &&
	wait_mirror &&
	test "$(git -C "$INV" rev-parse HEAD)" = "$head_before"
'

test_expect_success 'a static entry still gets a 400 for a bad payload' '
	jq ".sort_priority = \"x\"" full.json >p.json &&
	register p.json && status_is 400 &&
	stored "$WEB" && test_cmp locked.json stored
'

test_expect_success 'unlocked again, the next register merges' '
	echo "{\"is_static\": false}" >e.json &&
	patch "$WEB" e.json && status_is 200 && test_jq ".is_static == false" body &&
	jq ".image_name = \"nginx:1.29\"" full.json >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .image_tag == \"1.29\"" body &&
	cp p.json full.json
'

# --- group_name / sort_priority ownership --------------------------------------

test_expect_success 'user_wins (default): notifier values fill unset live values' '
	echo "{\"host\": \"alpha\", \"container_name\": \"db\", \"group_name\": \"Data\", \"sort_priority\": 3}" >db.json &&
	register db.json && status_is 200 &&
	test_jq ".group_name == \"Data\" and .sort_priority == 3" body &&
	test_jq ".notifier_reported_group_name == \"Data\" and .notifier_reported_sort_priority == 3" body &&
	DB=$(jq .id body)
'

test_expect_success 'user_wins: a later notifier value does not replace a set live value' '
	echo "{\"host\": \"alpha\", \"container_name\": \"db\", \"group_name\": \"Data2\", \"sort_priority\": 4}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".group_name == \"Data\" and .sort_priority == 3" body &&
	test_jq ".notifier_reported_group_name == \"Data2\" and .notifier_reported_sort_priority == 4" body
'

test_expect_success 'user_wins: an operator value stays, the notifier value is recorded' '
	echo "{\"group_name\": \"Mine\", \"sort_priority\": 1}" >e.json &&
	patch "$DB" e.json && status_is 200 &&
	echo "{\"host\": \"alpha\", \"container_name\": \"db\", \"group_name\": \"Theirs\", \"sort_priority\": \"9\"}" >db.json &&
	register db.json && status_is 200 &&
	test_jq ".status == \"updated\" and .group_name == \"Mine\" and .sort_priority == 1" body &&
	stored "$DB" &&
	test_jq ".group_name == \"Mine\" and .sort_priority == 1" stored &&
	test_jq ".notifier_reported_group_name == \"Theirs\" and .notifier_reported_sort_priority == 9" stored
'

test_expect_success 'user_wins: a value the operator cleared is filled again' '
	echo "{\"group_name\": null, \"sort_priority\": null}" >e.json &&
	patch "$DB" e.json && status_is 200 &&
	test_jq ".group_name == null and .sort_priority == null" body &&
	register db.json && status_is 200 &&
	test_jq ".group_name == \"Theirs\" and .sort_priority == 9" body
'

test_expect_success 'user_wins: no group in the payload records null, keeps the live one' '
	echo "{\"host\": \"alpha\", \"container_name\": \"db\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".group_name == \"Theirs\" and .sort_priority == 9" body &&
	test_jq ".notifier_reported_group_name == null and .notifier_reported_sort_priority == null" body
'

test_expect_success 'restart with REGISTER_FIELD_OWNERSHIP=notifier_wins' '
	stop_daemon &&
	export REGISTER_FIELD_OWNERSHIP=notifier_wins &&
	start_daemon &&
	api GET /api/v1/settings && status_is 200 &&
	test_jq ".register_field_ownership.source == \"env\" and .register_field_ownership.value == \"notifier_wins\"" body
'

test_expect_success 'notifier_wins: the notifier value replaces the operator one' '
	echo "{\"group_name\": \"Mine2\", \"sort_priority\": 2}" >e.json &&
	patch "$DB" e.json && status_is 200 && test_jq ".group_name == \"Mine2\"" body &&
	echo "{\"host\": \"alpha\", \"container_name\": \"db\", \"group_name\": \"Fleet\", \"sort_priority\": 7}" >db.json &&
	register db.json && status_is 200 &&
	test_jq ".group_name == \"Fleet\" and .sort_priority == 7" body &&
	test_jq ".notifier_reported_group_name == \"Fleet\" and .notifier_reported_sort_priority == 7" body &&
	stored "$DB" && test_jq ".group_name == \"Fleet\" and .sort_priority == 7" stored
'

test_expect_success 'notifier_wins: an absent group keeps the live value, records null' '
	echo "{\"host\": \"alpha\", \"container_name\": \"db\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".group_name == \"Fleet\" and .sort_priority == 7" body &&
	test_jq ".notifier_reported_group_name == null and .notifier_reported_sort_priority == null" body
'

test_expect_success 'notifier_wins does not reach past the static lock' '
	echo "{\"is_static\": true}" >e.json &&
	patch "$DB" e.json && status_is 200 &&
	stored "$DB" && cp stored before.json &&
	register db.json && status_is 200 && test_jq ".status == \"skipped\"" body &&
	stored "$DB" && test_cmp before.json stored
'

# --- image references ----------------------------------------------------------

test_expect_success 'image references are split into registry/owner/name/tag/digest' '
	d=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef &&
	i=0 &&
	while read -r ref reg owner name tag digest; do
		i=$((i + 1)) &&
		echo "{\"host\": \"imgs\", \"container_name\": \"c$i\", \"image_name\": \"${ref/DIGEST/$d}\"}" >p.json &&
		register p.json && status_is 200 &&
		jq -c "[.image_registry, .image_owner, .image_name, .image_tag, .image_digest]" body >actual &&
		jq -cn --arg r "$reg" --arg o "$owner" --arg n "$name" --arg t "$tag" \
			--arg g "${digest/DIGEST/$d}" \
			"[\$r, \$o, \$n, \$t, \$g] | map(if . == \"null\" then null else . end)" >expect &&
		test_cmp expect actual &&
		stored "$(jq .id body)" &&
		jq -c "[.image_registry, .image_owner, .image_name, .image_tag, .image_digest]" stored >actual &&
		test_cmp expect actual || return 1
	done <<-\EOF
	nginx docker.io library nginx latest null
	nginx:1.27 docker.io library nginx 1.27 null
	library/nginx docker.io library nginx latest null
	linuxserver/sonarr:4.0.9 docker.io linuxserver sonarr 4.0.9 null
	ghcr.io/o/n:tag ghcr.io o n tag null
	registry:5000/o/n:tag registry:5000 o n tag null
	r.example/a/b/c/d:tag r.example a/b/c d tag null
	nginx@DIGEST docker.io library nginx null DIGEST
	ghcr.io/o/n:1.2@DIGEST ghcr.io o n 1.2 DIGEST
	EOF
'

test_expect_success 'a new digest for the same tag is an update and a commit' '
	n0=$(commit_count) &&
	echo "{\"host\": \"imgs\", \"container_name\": \"dig\", \"image_name\": \"nginx:1.27@sha256:aaaa\"}" >p.json &&
	register p.json && test_jq ".status == \"created\" and .image_digest == \"sha256:aaaa\"" body &&
	echo "{\"host\": \"imgs\", \"container_name\": \"dig\", \"image_name\": \"nginx:1.27@sha256:bbbb\"}" >p.json &&
	register p.json && test_jq ".status == \"updated\" and .image_tag == \"1.27\" and .image_digest == \"sha256:bbbb\"" body &&
	wait_mirror &&
	test "$(commit_count)" -gt "$n0" &&
	grep -F "sha256:bbbb" "$INV/services/imgs/dig.yml"
'

# --- operator routes: manual add, list filters, PATCH, DELETE ----------------

test_expect_success 'POST /api/v1/services adds a service: 201' '
	cat >p.json <<-\EOF &&
	{"host": "man", "container_name": "wiki", "group_name": "Docs", "stack_name": "kb",
	 "internalurl": "http://wiki.lan/", "sort_priority": "4", "notes": "by hand"}
	EOF
	api POST /api/v1/services p.json && status_is 201 &&
	test_jq ".id > 0 and .host == \"man\" and .container_name == \"wiki\" and .is_static == false" body &&
	test_jq ".group_name == \"Docs\" and .sort_priority == 4 and .notes == \"by hand\"" body &&
	test_jq ".internalurl == \"http://wiki.lan/\" and .internalurl_source == \"ui_edit\"" body &&
	MAN_ID=$(jq .id body) && stored "$MAN_ID" &&
	jq -S . body >expect && jq -S . stored >actual && test_cmp expect actual
'

test_expect_success 'POST /api/v1/services without host: 400 naming the field' '
	echo "{\"container_name\": \"x\"}" >p.json &&
	api POST /api/v1/services p.json && status_is 400 &&
	test_jq "any(.details[]; .loc == [\"host\"] and .type == \"missing\")" body &&
	echo "{\"host\": \"man\"}" >p.json &&
	api POST /api/v1/services p.json && status_is 400 &&
	test_jq "any(.details[]; .loc == [\"container_name\"])" body &&
	echo "{\"host\": \"man\", \"container_name\": \"x\", \"bogus\": 1}" >p.json &&
	api POST /api/v1/services p.json && status_is 400 &&
	test_jq ".unknown_keys == [\"bogus\"]" body &&
	api GET "/api/v1/services?host=man" && test_jq "length == 1" body
'

test_expect_success 'POST /api/v1/services of an existing service: 409' '
	snapshot before &&
	echo "{\"host\": \"man\", \"container_name\": \"wiki\"}" >p.json &&
	api POST /api/v1/services p.json && status_is 409 &&
	test_jq ".error | type == \"string\"" body &&
	snapshot after && test_cmp before after
'

test_expect_success 'the manual add is committed to git' '
	wait_mirror &&
	test_path_is_file "$INV/services/man/wiki.yml" &&
	git -C "$INV" log --format=%s -- services/man/wiki.yml >log &&
	test "$(wc -l <log)" = 1
'

test_expect_success 'a register then updates the manually added service' '
	echo "{\"host\": \"man\", \"container_name\": \"wiki\", \"docker_status\": \"running\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"updated\" and .id == $MAN_ID and .docker_status == \"running\"" body
'

test_expect_success 'setup: services in groups and stacks on two hosts' '
	for s in "f1 a G1 s1" "f1 b G2 s1" "f1 c G1 s2" "f2 a G1 s1"; do
		set -- $s &&
		echo "{\"host\": \"$1\", \"container_name\": \"$2\", \"group_name\": \"$3\", \"stack_name\": \"$4\"}" >p.json &&
		register p.json && status_is 200 || return 1
	done
'

test_expect_success 'GET /api/v1/services?host= ?group= ?stack= filter' '
	api GET "/api/v1/services?host=f1" && status_is 200 &&
	test_jq "map(.container_name) | sort == [\"a\", \"b\", \"c\"]" body &&
	api GET "/api/v1/services?group=G1" &&
	test_jq "map(.host + \"/\" + .container_name) | sort == [\"f1/a\", \"f1/c\", \"f2/a\"]" body &&
	api GET "/api/v1/services?stack=s1" &&
	test_jq "map(.host + \"/\" + .container_name) | sort == [\"f1/a\", \"f1/b\", \"f2/a\"]" body &&
	api GET "/api/v1/services?host=f1&group=G1&stack=s1" &&
	test_jq "map(.host + \"/\" + .container_name) == [\"f1/a\"]" body &&
	api GET "/api/v1/services?host=nosuch" && status_is 200 && test_jq ". == []" body
'

test_expect_success 'the list holds full records' '
	api GET "/api/v1/services?host=f2" &&
	test_jq "length == 1 and (.[0] | has(\"id\") and has(\"internalurl_source\") and has(\"is_static\") and has(\"last_api_update\"))" body
'

test_expect_success 'DELETE /api/v1/services/<id>: gone from the API and from git' '
	api GET "/api/v1/services?host=f2" && id=$(jq ".[0].id" body) &&
	wait_mirror && test_path_is_file "$INV/services/f2/a.yml" &&
	api DELETE "/api/v1/services/$id" && status_is 200 &&
	test_jq ".id == $id and .status == \"deleted\"" body &&
	api GET "/api/v1/services/$id" && status_is 404 &&
	api GET "/api/v1/services?host=f2" && test_jq ". == []" body &&
	wait_mirror && test_path_is_missing "$INV/services/f2/a.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'DELETE of no service: 404, nothing written' '
	snapshot before &&
	api DELETE /api/v1/services/999999 && status_is 404 &&
	test_jq ".error | type == \"string\"" body &&
	snapshot after && test_cmp before after
'

test_expect_success 'a deleted service registers again as created, with a new id' '
	echo "{\"host\": \"f2\", \"container_name\": \"a\"}" >p.json &&
	register p.json && status_is 200 &&
	test_jq ".status == \"created\" and .id != $id" body
'

test_expect_success 'PATCH of no service: 404; PATCH with an unknown key: 400' '
	echo "{\"notes\": \"x\"}" >p.json &&
	api PATCH /api/v1/services/999999 p.json && status_is 404 &&
	echo "{\"notez\": \"x\"}" >p.json &&
	api PATCH "/api/v1/services/$MAN_ID" p.json && status_is 400 &&
	test_jq ".unknown_keys == [\"notez\"]" body &&
	echo "[]" >p.json &&
	api PATCH "/api/v1/services/$MAN_ID" p.json && status_is 400 &&
	test_jq ". == {\"error\": \"Request body must be a JSON object\"}" body
'

test_expect_success 'PATCH renaming onto another service: 409, nothing written' '
	echo "{\"host\": \"man\", \"container_name\": \"other\"}" >p.json &&
	register p.json && status_is 200 && OTHER=$(jq .id body) &&
	snapshot before &&
	echo "{\"container_name\": \"wiki\"}" >e.json &&
	patch "$OTHER" e.json && status_is 409 &&
	test_jq ".error | type == \"string\"" body &&
	snapshot after && test_cmp before after
'

test_expect_success 'PATCH renaming: same id, the file moves in git' '
	echo "{\"container_name\": \"renamed\"}" >e.json &&
	patch "$OTHER" e.json && status_is 200 &&
	test_jq ".id == $OTHER and .container_name == \"renamed\"" body &&
	wait_mirror &&
	test_path_is_missing "$INV/services/man/other.yml" &&
	test_path_is_file "$INV/services/man/renamed.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'the repo is clean and fsck-clean' '
	wait_mirror &&
	git -C "$INV" fsck --strict 2>&1 &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'the daemon stops cleanly' '
	stop_daemon
'

test_done
