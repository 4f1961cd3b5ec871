#!/bin/bash
test_description='portolan render: golden pages, unchanged re-render, .gz siblings, errors'
. "$(dirname "$0")/lib.sh"

INV=$DAEMON_CONFIG/inventory
GOLDEN=$FIXTURES/site/golden
# UPDATE_GOLDEN=1 rewrites the golden pages from this run (review the diff).

test_expect_success 'a fixed inventory: payloads, a hand-written note and groups' '
	"$PORTOLAN" import "$FIXTURES/site/payloads" >out &&
	grep "imported 11 payloads" out &&
	sed -i "s|^notes: null$|notes: \"**Gateway** for the lab. <script>alert(1)</script> [docs](https://docs.example.com) [x](javascript:alert(2))\"|" \
		"$INV/services/edge/gateway.yml" &&
	grep -q "^notes: \"\*\*Gateway" "$INV/services/edge/gateway.yml" &&
	cat >"$INV/groups.yml" <<-\EOT &&
	- name: Media
	  icon: null
	  sort_priority: 2
	- name: Infrastructure
	  icon: null
	  sort_priority: 1
	EOT
	"$PORTOLAN" check "$INV"
'

test_expect_success 'render writes all 18 pages, each with a .gz, and the assets' '
	"$PORTOLAN" render --repo "$INV" --out site >out &&
	grep "rendered 11 services into site: 18 pages written, 0 unchanged" out &&
	for v in table tiled compact; do
		for g in group stack host; do
			for u in "" -urls; do
				f=site/$v-$g$u.html
				test "$f" = site/table-group.html && f=site/index.html
				test -s "$f" && test -s "$f.gz" || { echo "missing $f"; return 1; }
				gzip -dc "$f.gz" | cmp - "$f" || return 1
			done
		done
	done &&
	test "$(ls site/*.html | wc -l)" -eq 18 &&
	test -s site/assets/style.css && test -s site/assets/app.js && test -s site/assets/icons.svg &&
	test -s site/assets/LICENSE-tabler-icons
'

for page in index.html tiled-stack.html compact-host.html; do
	test_expect_success "golden page $page" '
		if test -n "$UPDATE_GOLDEN"; then
			mkdir -p "$GOLDEN" && cp "site/'$page'" "$GOLDEN/'$page'"
		fi &&
		test_cmp "$GOLDEN/'$page'" "site/'$page'"
	'
done

test_expect_success 'notes are Markdown through cmark, raw HTML and javascript: dropped' '
	grep -q "<strong>Gateway</strong>" site/tiled-group.html &&
	grep -q "href=\"https://docs.example.com\"" site/tiled-group.html &&
	! grep -q "<script>alert" site/tiled-group.html &&
	! grep -qi "javascript:" site/*.html
'

test_expect_success 'hiding URL-less services drops them and their empty buckets' '
	grep -q "mosquitto" site/index.html &&
	! grep -q "mosquitto" site/table-group-urls.html &&
	grep -o "<span class=\"bl\">[^<]*" site/table-stack.html | sed "s/.*>//" >all &&
	grep -o "<span class=\"bl\">[^<]*" site/table-stack-urls.html | sed "s/.*>//" >urls &&
	printf "edge\nhome\nmedia\nnextcloud\nproxy\nscrutiny\nUnstacked\n" >expect &&
	test_cmp expect all &&
	printf "edge\nhome\nmedia\nnextcloud\nscrutiny\n" >expect &&
	test_cmp expect urls
'

test_expect_success 'an unchanged inventory rewrites nothing (mtimes and bytes stay)' '
	find site -type f -printf "%p %T@ %s\n" | sort >before &&
	"$PORTOLAN" render --repo "$INV" --out site >out &&
	grep "0 pages written, 18 unchanged" out &&
	find site -type f -printf "%p %T@ %s\n" | sort >after &&
	test_cmp before after
'

test_expect_success 'one changed service rewrites only the pages that show it' '
	find site -name "*-urls.html*" -printf "%p %T@ %s\n" | sort >before &&
	# mosquitto has no URL: the nine pages that hide URL-less services stay
	sed -i "s|^stack_name: null$|stack_name: broker|" "$INV/services/pi4/mosquitto.yml" &&
	"$PORTOLAN" render --repo "$INV" --out site >out &&
	grep "9 pages written, 9 unchanged" out &&
	find site -name "*-urls.html*" -printf "%p %T@ %s\n" | sort >after &&
	test_cmp before after &&
	grep -q ">broker<" site/tiled-stack.html &&
	gzip -dc site/tiled-stack.html.gz | cmp - site/tiled-stack.html
'

test_expect_success 'templates from --templates override the built-in ones' '
	mkdir tpl &&
	printf "<tr data-x=\"custom\">{{name}}</tr>\n" >tpl/table-row.html &&
	"$PORTOLAN" render --repo "$INV" --out site2 --templates tpl >out &&
	grep -q "data-x=\"custom\">gateway</tr>" site2/index.html &&
	grep -q "data-x=\"custom\">gateway</tr>" site2/table-host.html &&
	! grep -q "data-x=\"custom\"" site2/tiled-group.html
'

test_expect_success 'a template error names the file and line and writes nothing' '
	mkdir bad &&
	printf "<li>\n{{#urls}}\n{{name}}\n" >bad/compact-item.html &&
	test_must_fail "$PORTOLAN" render --repo "$INV" --out site3 --templates bad 2>err &&
	grep "compact-item.html:2: unclosed section .urls." err &&
	! test -e site3
'

test_expect_success 'raw output of a non-_html name is refused' '
	mkdir raw &&
	printf "<li>{{{name}}}</li>\n" >raw/compact-item.html &&
	test_must_fail "$PORTOLAN" render --repo "$INV" --out site4 --templates raw 2>err &&
	grep "compact-item.html:1:.*_html" err
'

test_expect_success 'an invalid repo is reported with file:line and renders nothing' '
	cp -r "$INV" badrepo &&
	printf "id: nope\n" >badrepo/services/edge/gateway.yml &&
	test_must_fail "$PORTOLAN" render --repo badrepo --out site5 2>err &&
	grep "services/edge/gateway.yml:1:" err &&
	! test -e site5/index.html
'

test_expect_success 'control bytes in names cannot splice fragments into a page' '
	cat >ctl.json <<-\EOT &&
	{"host": "h\u0001", "container_name": "c1", "group_name": "g\u00010\u0002x",
	 "stack_name": "s\u00011\u0002", "internalurl": "http://a"}
	EOT
	echo "{\"host\": \"h2\", \"container_name\": \"c2\", \"internalurl\": \"http://b\"}" >ctl2.json &&
	"$PORTOLAN" --config ctl import ctl.json ctl2.json &&
	"$PORTOLAN" --config ctl render --out ctlsite >out &&
	for f in ctlsite/*.html; do
		! grep -q "$(printf "[\001\002]")" "$f" || { echo "control byte in $f"; return 1; }
		test "$(grep -o "id=\"s-[0-9]*\"" "$f" | wc -l)" -eq 2 || { echo "$f"; return 1; }
	done &&
	grep -q ">g0x<" ctlsite/index.html
'

test_expect_success 'bad options are usage errors' '
	test_expect_code 2 "$PORTOLAN" render --bogus 2>err &&
	grep "unknown option" err &&
	test_expect_code 2 "$PORTOLAN" render --out 2>err &&
	grep "needs a value" err &&
	SOURCE_DATE_EPOCH=yesterday test_must_fail "$PORTOLAN" render --repo "$INV" --out s6 2>err &&
	grep "SOURCE_DATE_EPOCH" err
'

test_expect_success 'service icons from --images are copied into the site' '
	mkdir img &&
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\"/>" >img/traefik.svg &&
	printf "\211PNG\r\n\032\n fake" >img/gateway.png &&
	printf "x" >img/.hidden.png &&
	"$PORTOLAN" render --repo "$INV" --out site7 --images img >out &&
	cmp img/traefik.svg site7/images/traefik.svg &&
	grep -q "src=\"images/traefik.svg\"" site7/index.html &&
	# a derived icon is a bare name: the first of .svg/.png/.webp/.ico found
	grep "^image_icon: gateway$" "$INV/services/edge/gateway.yml" &&
	cmp img/gateway.png site7/images/gateway.png &&
	grep -q "src=\"images/gateway.png\"" site7/index.html &&
	test "$(ls site7/images | wc -l)" -eq 2
'

test_done
