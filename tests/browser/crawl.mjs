// Crawl a served site from its start page: follow every href and src of
// every HTML page (and url() in CSS), recursively, and fail for any
// internal link that does not answer 200. Links to other origins (the
// services' own URLs) and fragment-only links are not followed, but
// counted. Needs no browser: node's fetch.
//
// usage: node crawl.mjs URL
// Prints one FAIL line per broken link, then a summary; exit status 1 if
// any link was broken or fewer than 2 pages were found.

import { parseArgs, reporter } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
const start = opts._[0];
if (!start) {
	console.error('usage: node crawl.mjs URL');
	process.exit(2);
}
const r = reporter('crawl');
const origin = new URL(start).origin;

const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", equals: '=', colon: ':', sol: '/', num: '#', quest: '?' };
function decode(v) {
	return v
		.replace(/&#[xX]([0-9a-fA-F]+);?/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
		.replace(/&#([0-9]+);?/g, (_, d) => String.fromCodePoint(Number(d)))
		.replace(/&([A-Za-z]+);/g, (m, n) => (n in named ? named[n] : m));
}

// Every href/src/srcset value in an HTML document (comments dropped).
function htmlLinks(html) {
	const out = [];
	html = html.replace(/<!--[\s\S]*?-->/g, '');
	const tag = /<[A-Za-z][^\s/>]*((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
	const attr = /\s+([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g;
	for (const t of html.matchAll(tag)) {
		for (const a of t[1].matchAll(attr)) {
			const name = a[1].toLowerCase();
			if (!['href', 'src', 'xlink:href', 'srcset', 'poster', 'data'].includes(name) || a[2] === undefined) continue;
			let v = a[2].replace(/^(["'])([\s\S]*)\1$/, '$2');
			v = decode(v);
			if (name === 'srcset') v.split(',').forEach((c) => out.push(c.trim().split(/\s+/)[0]));
			else out.push(v);
		}
	}
	return out;
}

function cssLinks(css) {
	return Array.from(css.matchAll(/url\(\s*(["']?)([^"')]+)\1\s*\)/g), (m) => m[2]);
}

const seen = new Map(); // url -> status
const queue = [[start, '(start)']];
let pages = 0;
let external = 0;
let fragments = 0;
while (queue.length) {
	const [url, from] = queue.shift();
	if (seen.has(url)) continue;
	let res;
	try {
		res = await fetch(url, { redirect: 'manual' });
	} catch (e) {
		seen.set(url, 'error');
		r.fail(`${url} (linked from ${from}): ${e.message}`);
		continue;
	}
	seen.set(url, res.status);
	if (res.status !== 200) {
		r.fail(`${url} (linked from ${from}): HTTP ${res.status}`);
		await res.arrayBuffer().catch(() => {});
		continue;
	}
	const type = res.headers.get('content-type') || '';
	let links = [];
	if (type.startsWith('text/html')) {
		pages++;
		links = htmlLinks(await res.text());
	} else if (type.startsWith('text/css')) {
		links = cssLinks(await res.text());
	} else {
		await res.arrayBuffer();
	}
	for (const l of links) {
		if (l === '' || l.startsWith('#')) {
			fragments++;
			continue;
		}
		let u;
		try {
			u = new URL(l, url);
		} catch {
			// not a URL at all: cannot be fetched, so cannot be broken here
			external++;
			continue;
		}
		if (u.origin !== origin) {
			if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'data:')
				r.fail(`${url}: link with scheme ${u.protocol}: ${l}`);
			external++;
			continue;
		}
		u.hash = '';
		if (!seen.has(u.href)) queue.push([u.href, url]);
	}
}
const ok = [...seen.values()].filter((s) => s === 200).length;
console.log(`crawled ${seen.size} internal URLs (${ok} answered 200, ${pages} pages); ` +
	`${external} external and ${fragments} fragment-only links not followed`);
if (pages < 2) r.fail(`only ${pages} page(s) found from ${start}`);
r.done();
