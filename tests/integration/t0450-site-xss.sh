#!/bin/bash
test_description='site: hostile inventory data renders inert

The corpus in tests/fixtures/xss is what a rogue notifier or a careless
operator could put into the inventory: register payloads (ok-*.json must be
accepted, bad-url-*.json refused by the validator) and hand-written
inventory files (Markdown notes with raw HTML and script links, hostile
group names and icons, exposure directions that synthesize URLs from
hostile hostnames). The rendered pages are scanned as text, then opened in
headless Chromium from file:// and from the daemon (which sends a CSP):
no dialog may open, no script URL, event handler, style attribute or
second <script> may appear, and no request may leave 127.0.0.1.'
. "$(dirname "$0")/lib.sh"

XSS=$FIXTURES/xss
BROWSER_DIR=$REPO/tests/browser
SITE=$TRASH/site
HOSTILE='<script>alert(1)</script>'

if command -v node >/dev/null 2>&1 && test -x "${CHROMIUM:-/usr/bin/chromium}" &&
	test -d "$BROWSER_DIR/node_modules/playwright-core"; then
	test_set_prereq BROWSER
fi

# scan-html MODE FILE...: tokenize every tag of the pages (comments
# dropped) and print one line per problem; MODE is
#   urls      an href/src/action/... whose scheme is not http(s) after
#             entity decoding (javascript:, vbscript:, data:, ...)
#   handlers  an on*= attribute
#   style     a style= attribute, a <style> element
#   elements  a <script> other than the one "assets/app.js?v=<hash>" defer,
#             a frame, object, embed, base, form or meta http-equiv
#   stray     a "<" + letter that is no well-formed tag (a browser would
#             still parse it: unescaped text)
# and on stderr "N tags" per file (so an empty scan cannot pass).
cat >"$TRASH/scan-html" <<'EOF'
#!/usr/bin/perl
use strict;
use warnings;

my $mode = shift or die "usage: scan-html MODE FILE...\n";
my %named = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'", colon => ':',
	Tab => "\t", NewLine => "\n", sol => '/', lpar => '(', rpar => ')', period => '.',
	num => '#', excl => '!', equals => '=', nbsp => "\xa0");
my %urlattr = map { $_ => 1 } qw(href src xlink:href action formaction data poster
	background cite ping srcset codebase manifest longdesc);
my %badtag = map { $_ => 1 } qw(iframe frame frameset object embed applet base form portal);

sub decode {
	my $v = shift;
	$v =~ s/&#[xX]([0-9a-fA-F]+);?/chr(hex $1)/ge;
	$v =~ s/&#([0-9]+);?/chr($1)/ge;
	$v =~ s/&([A-Za-z]+);/exists $named{$1} ? $named{$1} : "&$1;"/ge;
	return $v;
}

my $problems = 0;
sub problem { print "$_[0]: $_[1]\n"; $problems++; }

my $tagre = qr{<([A-Za-z][^\s/>]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*/?>};
for my $file (@ARGV) {
	open my $fh, '<', $file or die "$file: $!\n";
	my $html = do { local $/; <$fh> };
	close $fh;
	(my $page = $file) =~ s{.*/}{};
	$html =~ s/<!--.*?-->//gs;
	$html =~ s/^\s*<!doctype[^>]*>//i;
	my ($tags, $scripts) = (0, 0);
	while ($html =~ /$tagre/g) {
		my ($tag, $attrs) = (lc $1, $2);
		$tags++;
		my @attrs;
		while ($attrs =~ /\s+([^\s"'>\/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g) {
			my ($n, $v) = (lc $1, defined $2 ? $2 : '');
			$v =~ s/^(["'])(.*)\1$/$2/s;
			push @attrs, [$n, decode($v)];
		}
		my %a = map { $_->[0] => $_->[1] } @attrs;
		if ($mode eq 'urls') {
			for (@attrs) {
				my ($n, $v) = @$_;
				next unless $urlattr{$n};
				(my $u = $v) =~ s/[\t\n\r]//g;
				$u =~ s/^[\x00-\x20]+//;
				if ($u =~ /^([A-Za-z][A-Za-z0-9+.\-]*):/ && lc($1) ne 'http' && lc($1) ne 'https') {
					problem($page, "<$tag $n=\"$v\">");
				}
			}
		} elsif ($mode eq 'handlers') {
			problem($page, "<$tag $_->[0]=\"$_->[1]\">") for grep { $_->[0] =~ /^on/ } @attrs;
		} elsif ($mode eq 'style') {
			problem($page, "<$tag style=\"$a{style}\">") if exists $a{style};
			problem($page, "<style>") if $tag eq 'style';
		} elsif ($mode eq 'elements') {
			if ($tag eq 'script') {
				$scripts++;
				problem($page, "<script> that is not the app.js one: $attrs")
					unless defined $a{src} && $a{src} =~ m{^assets/app\.js\?v=[0-9a-f]+$} &&
					exists $a{defer} && @attrs == 2;
			}
			problem($page, "<$tag$attrs>") if $badtag{$tag};
			problem($page, "<meta$attrs>") if $tag eq 'meta' && exists $a{'http-equiv'};
			problem($page, "<$tag srcdoc>") if exists $a{srcdoc};
		}
	}
	problem($page, "$scripts <script> elements, want 1") if $mode eq 'elements' && $scripts != 1;
	if ($mode eq 'stray') {
		(my $rest = $html) =~ s/$tagre//g;
		$rest =~ s{</[A-Za-z][A-Za-z0-9-]*\s*>}{}g;
		while ($rest =~ /(.{0,40})(<[A-Za-z!?\/].{0,40})/g) {
			problem($page, "unescaped '<' in text: ...$1$2...");
		}
	}
	print STDERR "$page: $tags tags\n";
}
exit($problems ? 1 : 0);
EOF
chmod +x "$TRASH/scan-html"

test_expect_success 'the hand-written inventory (notes, groups, exposure) loads' '
	mkdir -p "$DAEMON_CONFIG/inventory" &&
	cp -R "$XSS/inventory/." "$DAEMON_CONFIG/inventory/" &&
	cp -R "$XSS/images" "$DAEMON_CONFIG/images" &&
	"$PORTOLAN" check &&
	"$PORTOLAN" rebuild >out &&
	grep "rebuilt 2 services" out
'

test_expect_success 'every ok-* payload is accepted (one import each)' '
	n=0 &&
	for f in "$XSS"/ok-*.json; do
		"$PORTOLAN" import "$f" >out 2>&1 || { cat out; return 1; }
		n=$((n + 1))
	done &&
	test "$n" -ge 6 &&
	"$PORTOLAN" export >all.json &&
	test_jq "length == $((n + 2))" all.json
'

test_expect_success 'the exposure directions synthesized URLs from hostile hostnames' '
	test_jq "map(select(.internalurl_source == \"synthesized\" or .externalurl_source == \"synthesized\")) | length >= 1" all.json
'

test_expect_success 'every script, data, file or relative URL payload is refused' '
	"$PORTOLAN" export >before.json &&
	n=0 &&
	for f in "$XSS"/bad-url-*.json; do
		test_must_fail "$PORTOLAN" import "$f" 2>err || return 1
		grep -q "url: URL should be an absolute http:// or https:// URL" err || { cat err; return 1; }
		n=$((n + 1))
	done &&
	test "$n" -ge 12 &&
	"$PORTOLAN" export >after.json &&
	test_cmp before.json after.json
'

test_expect_success 'an icon name that is not a plain file name is refused' '
	"$PORTOLAN" export >before.json &&
	for f in "$XSS"/bad-icon-*.json; do
		test_must_fail "$PORTOLAN" import "$f" 2>err || return 1
		grep -q "image_icon: Icon should be a file name" err || { cat err; return 1; }
	done &&
	"$PORTOLAN" export >after.json &&
	test_cmp before.json after.json
'

test_expect_success 'a script URL in an inventory file is refused by check' '
	mkdir -p badrepo/services/h &&
	for u in "javascript:alert(1)" "JaVaScRiPt:alert(1)" "data:text/html,x" "vbscript:x" " javascript:alert(1)"; do
		printf "id: 1\nhost: h\ncontainer_name: c\ninternalurl: \"%s\"\n" "$u" >badrepo/services/h/c.yml &&
		test_must_fail "$PORTOLAN" check badrepo 2>err >&2 || return 1
		grep -q "must be an http or https URL" err || { cat err; return 1; }
	done
'

test_expect_success 'render the corpus: 18 pages' '
	"$PORTOLAN" render --out "$SITE" >out 2>err &&
	grep "rendered 8 services" out &&
	(cd "$SITE" && ls *.html) >pages &&
	test "$(wc -l <pages)" -eq 18 &&
	# an SVG with a script in <config>/images is not copied into the site
	grep -q "icon .evil.svg.: svg contains .<script." err &&
	test_path_is_missing "$SITE/images/evil.svg"
'

test_expect_success 'no href/src/action has a scheme other than http(s)' '
	"$TRASH/scan-html" urls "$SITE"/*.html 2>tags &&
	test "$(wc -l <tags)" -eq 18 &&
	awk "\$2 < 100 { print \"too few tags:\", \$0; bad = 1 } END { exit bad }" tags
'

test_expect_success 'no on*= event handler attribute' '
	"$TRASH/scan-html" handlers "$SITE"/*.html 2>/dev/null
'

test_expect_success 'no style= attribute, no <style>' '
	"$TRASH/scan-html" style "$SITE"/*.html 2>/dev/null
'

test_expect_success 'one <script>, the external app.js; no frame, object, form, base' '
	"$TRASH/scan-html" elements "$SITE"/*.html 2>/dev/null &&
	for p in "$SITE"/*.html; do
		test "$(grep -oi "<script" "$p" | wc -l)" -eq 1 || { echo "$p"; return 1; }
	done
'

test_expect_success 'every < in text is escaped' '
	"$TRASH/scan-html" stray "$SITE"/*.html 2>/dev/null
'

test_expect_success 'the hostile strings are there, escaped (not dropped)' '
	grep -F "&lt;script&gt;alert(1)&lt;/script&gt;" "$SITE/index.html" &&
	grep -F "static &quot; onmouseover" "$SITE/tiled-group.html" &&
	grep -F "<!-- raw HTML omitted -->" "$SITE/tiled-group.html" &&
	grep -F "<a href=\"https://docs.example/runbook\">a real link</a>" "$SITE/tiled-group.html"
'

test_expect_success BROWSER 'file://: no payload runs in any page (Chromium)' '
	{ node "$BROWSER_DIR/xss.mjs" --base "file://$SITE/" --text "$HOSTILE" $(cat pages) >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0 &&
	grep -q "^xss file://: ok$" out
'

test_expect_success BROWSER 'daemon: serves the corpus site with a CSP' '
	echo "std_dozzle_url: \"http://dozzle.example:8080/\"" >"$DAEMON_CONFIG/settings.yml" &&
	start_daemon &&
	wait_for "curl -sf -o /dev/null \"$BASE_URL/index.html\"" 20 &&
	curl -sf -D headers -o /dev/null "$BASE_URL/tiled-group.html" &&
	grep -i "^content-security-policy:.*script-src .self." headers
'

test_expect_success BROWSER 'daemon: no payload runs in any page (Chromium, CSP)' '
	{ node "$BROWSER_DIR/xss.mjs" --base "$BASE_URL/" --csp --text "$HOSTILE" $(cat pages) >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0 &&
	grep -q "^xss http: ok$" out
'

# An icon is served from the site's origin: opened as a document, an SVG
# with a script runs there unless the response carries the CSP too.
test_expect_success BROWSER 'daemon: a hostile SVG icon opened directly is held by the CSP' '
	# portolan never copies it (above); a file someone put into the site by hand
	test_expect_code 22 curl -sf -o /dev/null "$BASE_URL/images/evil.svg" &&
	mkdir -p "$DAEMON_CONFIG/site/images" &&
	cp "$XSS/images/evil.svg" "$DAEMON_CONFIG/site/images/evil.svg" &&
	curl -sf -D headers -o /dev/null "$BASE_URL/images/evil.svg" &&
	cat headers &&
	{ node "$BROWSER_DIR/xss.mjs" --base "$BASE_URL/" --svg images/evil.svg >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0
'

# The commit author is "notifier@<host>"; git refuses < and > in an
# identity, so the mirror writes them as _ (a refused commit used to hold
# up every later change).
test_expect_success 'a host with < and > imports (and later imports still work)' '
	printf "{\"host\": \"h<b>\", \"container_name\": \"c\"}" >angle.json &&
	"$PORTOLAN" --config angle-cfg import angle.json &&
	git -C angle-cfg/inventory log -1 --format=%an >author &&
	echo "notifier@h_b_" >expect && test_cmp expect author &&
	"$PORTOLAN" --config angle-cfg import "$XSS/ok-url-angle.json" &&
	"$PORTOLAN" --config angle-cfg export >angle-all.json &&
	test_jq "length == 2" angle-all.json
'

test_done
