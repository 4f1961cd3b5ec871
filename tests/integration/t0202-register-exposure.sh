#!/bin/bash
test_description='register API over HTTP: exposure synthesizer, exposure settings, URL provenance

Golden cases for spec/register.md ("Exposure synthesizer", "URL
provenance", the exposure settings routes) against a real `portolan serve`.'
. "$(dirname "$0")/lib.sh"
. "$FIXTURES/register/helpers.sh"

# obs HOST NAME OBSERVATIONS-JSON [EXTRA-JQ]: register one container with
# those observations (and EXTRA-JQ applied to the payload).
obs () {
	jq -n --arg h "$1" --arg c "$2" --argjson o "$3" \
		"{host: \$h, container_name: \$c, exposure_observations: \$o} | ${4:-.}" >p.json &&
	register p.json && status_is 200
}

# urls IN IN_SOURCE EX EX_SOURCE [FILE]: the URLs and sources ("null" for null).
urls () {
	jq -c "[.internalurl, .internalurl_source, .externalurl, .externalurl_source]" "${5:-body}" >actual &&
	jq -cn --arg a "$1" --arg b "$2" --arg c "$3" --arg d "$4" \
		"[\$a, \$b, \$c, \$d] | map(if . == \"null\" then null else . end)" >expect &&
	test_cmp expect actual
}

put_exposure () {
	api PUT /api/v1/settings/exposure "$1"
}

test_expect_success 'start the daemon; exposure settings are empty' '
	use_configured_token &&
	start_daemon &&
	api GET /api/v1/settings/exposure && status_is 200 &&
	test_jq ". == {\"layers\": {}, \"hosts\": {}}" body
'

test_expect_success 'with no layer mapped, observations synthesize nothing' '
	obs early s0 "[{\"layer\": \"traefik\", \"hostname\": \"s0.lan\"}]" &&
	urls null null null null && S0=$(jq .id body)
'

test_expect_success 'PUT /api/v1/settings/exposure stores the maps' '
	cat >exposure.json <<-\EOF &&
	{"layers": {"traefik": "internal", "dockflare": "external", "zeta": "internal",
	            "alpha": "internal", "caddy": "neither"}}
	EOF
	put_exposure exposure.json && status_is 200 &&
	jq -S ". + {hosts: {}}" exposure.json >expect && jq -S . body >actual && test_cmp expect actual &&
	api GET /api/v1/settings/exposure && jq -S . body >actual && test_cmp expect actual
'

test_expect_success 'the PUT re-ran the synthesizer for existing services' '
	stored "$S0" && urls http://s0.lan/ synthesized null null stored
'

# --- the synthesizer -----------------------------------------------------------

test_expect_success 'an internal layer gives internalurl, an external one externalurl' '
	obs syn basic "[{\"layer\": \"traefik\", \"hostname\": \"app.lan\"},
		{\"layer\": \"dockflare\", \"hostname\": \"app.example.com\", \"tls\": true, \"auth\": \"cloudflare_access:staff\"}]" &&
	urls http://app.lan/ synthesized https://app.example.com/ synthesized &&
	stored "$(jq .id body)" && urls http://app.lan/ synthesized https://app.example.com/ synthesized stored
'

test_expect_success 'TLS first' '
	obs syn tls "[{\"layer\": \"traefik\", \"hostname\": \"plain.lan\"},
		{\"layer\": \"traefik\", \"hostname\": \"secure.lan\", \"tls\": true}]" &&
	urls https://secure.lan/ synthesized null null
'

test_expect_success 'tls takes the bool coercions' '
	obs syn tlsyes "[{\"layer\": \"traefik\", \"hostname\": \"y.lan\", \"tls\": \"yes\"}]" &&
	urls https://y.lan/ synthesized null null &&
	obs syn tlsno "[{\"layer\": \"traefik\", \"hostname\": \"n.lan\", \"tls\": \"0\"}]" &&
	urls http://n.lan/ synthesized null null
'

test_expect_success 'then no path prefix before a path prefix' '
	obs syn prefix "[{\"layer\": \"traefik\", \"hostname\": \"a.lan\", \"tls\": true, \"path_prefix\": \"/api\"},
		{\"layer\": \"traefik\", \"hostname\": \"b.lan\", \"tls\": true}]" &&
	urls https://b.lan/ synthesized null null
'

test_expect_success 'TLS outranks having no prefix' '
	obs syn tlsprefix "[{\"layer\": \"traefik\", \"hostname\": \"b.lan\"},
		{\"layer\": \"traefik\", \"hostname\": \"a.lan\", \"tls\": true, \"path_prefix\": \"/x\"}]" &&
	urls https://a.lan/x/ synthesized null null
'

test_expect_success 'then layer name, case-insensitive, ascending' '
	obs syn layer "[{\"layer\": \"Zeta\", \"hostname\": \"z.lan\"}, {\"layer\": \"alpha\", \"hostname\": \"a.lan\"}]" &&
	urls http://a.lan/ synthesized null null &&
	obs syn layer2 "[{\"layer\": \"traefik\", \"hostname\": \"t.lan\"}, {\"layer\": \"Alpha\", \"hostname\": \"a2.lan\"}]" &&
	urls http://a2.lan/ synthesized null null
'

test_expect_success 'then payload order' '
	obs syn order "[{\"layer\": \"traefik\", \"hostname\": \"first.lan\"}, {\"layer\": \"traefik\", \"hostname\": \"second.lan\"}]" &&
	urls http://first.lan/ synthesized null null &&
	obs syn order "[{\"layer\": \"traefik\", \"hostname\": \"second.lan\"}, {\"layer\": \"traefik\", \"hostname\": \"first.lan\"}]" &&
	test_jq ".status == \"updated\"" body &&
	urls http://second.lan/ synthesized null null
'

test_expect_success 'the path prefix is normalised: one leading /, a final /' '
	i=0 &&
	for p in api /api api/ /api/ //api//; do
		i=$((i + 1)) &&
		obs syn "norm$i" "[{\"layer\": \"traefik\", \"hostname\": \"h.lan\", \"path_prefix\": \"$p\"}]" &&
		urls http://h.lan/api/ synthesized null null || return 1
	done &&
	obs syn deep "[{\"layer\": \"traefik\", \"hostname\": \"h.lan\", \"path_prefix\": \"/a/b/\"}]" &&
	urls http://h.lan/a/b/ synthesized null null
'

test_expect_success 'an empty or null hostname is no candidate' '
	obs syn nohost "[{\"layer\": \"traefik\", \"hostname\": \"\", \"tls\": true},
		{\"layer\": \"traefik\", \"hostname\": null, \"tls\": true}, {\"layer\": \"traefik\", \"tls\": true},
		{\"layer\": \"traefik\", \"hostname\": \"ok.lan\", \"path_prefix\": \"/p\"}]" &&
	urls http://ok.lan/p/ synthesized null null &&
	obs syn nohost2 "[{\"layer\": \"traefik\", \"hostname\": \"\"}]" &&
	urls null null null null
'

test_expect_success 'an unmapped layer or one mapped to neither is no candidate' '
	obs syn neither "[{\"layer\": \"caddy\", \"hostname\": \"c.lan\", \"tls\": true},
		{\"layer\": \"nginx-proxy\", \"hostname\": \"n.lan\", \"tls\": true}]" &&
	urls null null null null
'

test_expect_success 'new observations re-synthesize; [] clears the synthesized URL' '
	obs syn moving "[{\"layer\": \"traefik\", \"hostname\": \"one.lan\"}]" &&
	urls http://one.lan/ synthesized null null && MOVING=$(jq .id body) &&
	obs syn moving "[{\"layer\": \"dockflare\", \"hostname\": \"two.example.com\", \"tls\": true}]" &&
	urls null null https://two.example.com/ synthesized &&
	obs syn moving "[]" &&
	urls null null null null &&
	stored "$MOVING" && urls null null null null stored
'

# --- per-host settings ----------------------------------------------------------

test_expect_success 'setup: the same traefik (TLS) and dockflare observations on three hosts' '
	for h in edge edge2 core; do
		obs "$h" proxy "[{\"layer\": \"traefik\", \"hostname\": \"$h.example.com\", \"tls\": true},
			{\"layer\": \"dockflare\", \"hostname\": \"cf-$h.example.com\"}]" &&
		urls "https://$h.example.com/" synthesized "http://cf-$h.example.com/" synthesized || return 1
	done &&
	api GET "/api/v1/services?host=edge" && EDGE=$(jq ".[0].id" body) &&
	api GET "/api/v1/services?host=edge2" && EDGE2=$(jq ".[0].id" body) &&
	api GET "/api/v1/services?host=core" && CORE=$(jq ".[0].id" body)
'

test_expect_success 'a per-host direction overrides the global one; the PUT re-synthesizes' '
	jq ". + {hosts: {edge: {traefik: \"external\"}, edge2: {traefik: \"neither\"}}}" exposure.json >hosts.json &&
	put_exposure hosts.json && status_is 200 &&
	test_jq ".hosts == {\"edge\": {\"traefik\": \"external\"}, \"edge2\": {\"traefik\": \"neither\"}}" body &&
	stored "$EDGE" && urls null null https://edge.example.com/ synthesized stored &&
	stored "$EDGE2" && urls null null http://cf-edge2.example.com/ synthesized stored &&
	stored "$CORE" && urls https://core.example.com/ synthesized http://cf-core.example.com/ synthesized stored
'

test_expect_success 'the re-synthesized URL reaches the inventory repo' '
	wait_mirror &&
	grep -F "https://edge.example.com/" "$INV/services/edge/proxy.yml" &&
	test_must_fail grep -F "http://cf-edge.example.com/" "$INV/services/edge/proxy.yml" &&
	test -z "$(git -C "$INV" status --porcelain)"
'

test_expect_success 'a register applies the per-host direction too' '
	obs edge proxy2 "[{\"layer\": \"traefik\", \"hostname\": \"p2.example.com\"}]" &&
	urls null null http://p2.example.com/ synthesized
'

test_expect_success 'a PUT replaces both maps' '
	put_exposure exposure.json && status_is 200 &&
	api GET /api/v1/settings/exposure && test_jq ".hosts == {}" body &&
	stored "$EDGE" && urls https://edge.example.com/ synthesized http://cf-edge.example.com/ synthesized stored
'

test_expect_success 'bad exposure settings: 400, nothing changes' '
	api GET /api/v1/settings/exposure && jq -S . body >settings.before &&
	stored "$CORE" && cp stored core.before &&
	for doc in "{\"layers\": {\"traefik\": \"sideways\"}}" "{\"layers\": [\"traefik\"]}" \
		"{\"hosts\": {\"edge\": \"external\"}}" "{\"hosts\": []}" \
		"{\"layers\": {\"traefik\": \"external\"}, \"foo\": {}}" "[]" "{\"layers\": {\"\": \"internal\"}}"; do
		printf "%s" "$doc" >bad.json &&
		put_exposure bad.json && status_is 400 &&
		test_jq ".error | type == \"string\"" body || return 1
	done &&
	printf "{\"layers\": {\"traefik\": \"external\"}, \"foo\": {}}" >bad.json &&
	put_exposure bad.json && test_jq ".unknown_keys == [\"foo\"]" body &&
	printf "{\"layers\": {\"traefik\": \"sideways\"}}" >bad.json &&
	put_exposure bad.json && test_jq "any(.details[]; .loc == [\"layers\", \"traefik\"])" body &&
	api GET /api/v1/settings/exposure && jq -S . body >actual && test_cmp settings.before actual &&
	stored "$CORE" && test_cmp core.before stored
'

# --- URL provenance ---------------------------------------------------------------

test_expect_success 'explicit outranks synthesized on a new entry' '
	obs prov p1 "[{\"layer\": \"traefik\", \"hostname\": \"syn.lan\"}]" ".internalurl = \"http://explicit.lan/\"" &&
	urls http://explicit.lan/ explicit_label null null && P1=$(jq .id body)
'

test_expect_success 'PATCH sets ui_edit over explicit' '
	echo "{\"internalurl\": \"http://op.lan/\"}" >e.json &&
	patch "$P1" e.json && status_is 200 && urls http://op.lan/ ui_edit null null &&
	stored "$P1" && urls http://op.lan/ ui_edit null null stored
'

test_expect_success 'a register never overwrites ui_edit (explicit or new observations)' '
	obs prov p1 "[{\"layer\": \"traefik\", \"hostname\": \"syn2.lan\", \"tls\": true}]" ".internalurl = \"http://explicit2.lan/\"" &&
	urls http://op.lan/ ui_edit null null &&
	stored "$P1" && urls http://op.lan/ ui_edit null null stored
'

test_expect_success 'PATCH "" clears: source null, the synthesizer resumes at once' '
	echo "{\"internalurl\": \"\"}" >e.json &&
	patch "$P1" e.json && status_is 200 &&
	urls https://syn2.lan/ synthesized null null &&
	stored "$P1" && urls https://syn2.lan/ synthesized null null stored
'

test_expect_success 'after the clear, registers keep synthesizing' '
	obs prov p1 "[{\"layer\": \"traefik\", \"hostname\": \"syn3.lan\"}]" &&
	urls http://syn3.lan/ synthesized null null
'

test_expect_success 'explicit overwrites synthesized' '
	obs prov p1 "[{\"layer\": \"traefik\", \"hostname\": \"syn3.lan\"}]" ".internalurl = \"http://explicit3.lan/\"" &&
	urls http://explicit3.lan/ explicit_label null null
'

test_expect_success 'synthesis never overwrites explicit: new observations, new settings' '
	obs prov p1 "[{\"layer\": \"traefik\", \"hostname\": \"syn4.lan\", \"tls\": true}]" &&
	urls http://explicit3.lan/ explicit_label null null &&
	jq ".layers.traefik = \"external\"" exposure.json >flip.json &&
	put_exposure flip.json && status_is 200 &&
	stored "$P1" && urls http://explicit3.lan/ explicit_label https://syn4.lan/ synthesized stored &&
	put_exposure exposure.json && status_is 200 &&
	stored "$P1" && urls http://explicit3.lan/ explicit_label null null stored
'

test_expect_success 'synthesized then PATCH: ui_edit survives registers and settings' '
	obs prov p2 "[{\"layer\": \"dockflare\", \"hostname\": \"p2.example.com\", \"tls\": true}]" &&
	urls null null https://p2.example.com/ synthesized && P2=$(jq .id body) &&
	echo "{\"externalurl\": \"https://mine.example.com/\"}" >e.json &&
	patch "$P2" e.json && status_is 200 && urls null null https://mine.example.com/ ui_edit &&
	obs prov p2 "[{\"layer\": \"dockflare\", \"hostname\": \"p2b.example.com\", \"tls\": true}]" ".externalurl = \"https://x.example.com/\"" &&
	urls null null https://mine.example.com/ ui_edit &&
	echo "{\"layers\": {}}" >none.json && put_exposure none.json && status_is 200 &&
	stored "$P2" && urls null null https://mine.example.com/ ui_edit stored &&
	put_exposure exposure.json && status_is 200
'

test_expect_success 'PATCH null clears too; with no candidate URL and source are null' '
	echo "{\"externalurl\": null}" >e.json &&
	patch "$P2" e.json && status_is 200 &&
	urls null null https://p2b.example.com/ synthesized &&
	obs prov p2 "[]" &&
	urls null null null null &&
	echo "{\"externalurl\": \"https://mine.example.com/\"}" >e.json &&
	patch "$P2" e.json && status_is 200 &&
	echo "{\"externalurl\": \"\"}" >e.json &&
	patch "$P2" e.json && status_is 200 && urls null null null null
'

test_expect_success 'explicit, then PATCH clears: the next explicit label applies again' '
	obs prov p3 "[]" ".externalurl = \"https://e1.example.com/\"" &&
	urls null null https://e1.example.com/ explicit_label && P3=$(jq .id body) &&
	echo "{\"externalurl\": \"\"}" >e.json &&
	patch "$P3" e.json && status_is 200 && urls null null null null &&
	obs prov p3 "[]" ".externalurl = \"https://e2.example.com/\"" &&
	urls null null https://e2.example.com/ explicit_label
'

test_expect_success 'emptying the layer map clears every synthesized URL, nothing else' '
	put_exposure none.json && status_is 200 &&
	stored "$CORE" && urls null null null null stored &&
	stored "$P1" && urls http://explicit3.lan/ explicit_label null null stored &&
	stored "$P3" && urls null null https://e2.example.com/ explicit_label stored &&
	put_exposure exposure.json && status_is 200 &&
	stored "$CORE" && urls https://core.example.com/ synthesized http://cf-core.example.com/ synthesized stored
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
