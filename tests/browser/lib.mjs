// Shared helpers for the headless Chromium checks of the rendered site
// (tests/integration/t0450-site-xss.sh, t0460-site-browser.sh,
// bench/site_browser.sh). Debian's /usr/bin/chromium driven by
// playwright-core: no browser download, no profile of the user's, no
// traffic anywhere but 127.0.0.1 (and file://).

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
];

// A browser on a fresh, throw-away profile (playwright makes a temp
// user-data-dir per launch and removes it on close). Returns { browser, close }.
export async function launch() {
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		timeout: 30000,
	});
	return {
		browser,
		async close() {
			await browser.close().catch(() => {});
		},
	};
}

// Is a request URL allowed: the page's own origin (http://127.0.0.1:port),
// file:// and data: (inline images); nothing that leaves the machine.
export function localUrl(u) {
	let url;
	try {
		url = new URL(u);
	} catch {
		return false;
	}
	if (url.protocol === 'file:' || url.protocol === 'data:' || url.protocol === 'about:') return true;
	return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '127.0.0.1';
}

// Failure collector: fail(msg) records, done() prints and sets the exit code.
export function reporter(name) {
	const problems = [];
	return {
		fail(msg) {
			problems.push(msg);
			console.log(`FAIL ${name}: ${msg}`);
		},
		note(msg) {
			console.log(`# ${name}: ${msg}`);
		},
		get failed() {
			return problems.length;
		},
		done() {
			if (problems.length) {
				console.log(`${name}: ${problems.length} problem(s)`);
				process.exitCode = 1;
			} else {
				console.log(`${name}: ok`);
			}
		},
	};
}

// Parse "--key value" and "--flag" arguments; the rest are positional.
export function parseArgs(argv) {
	const opts = { _: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith('--')) {
			const k = a.slice(2);
			if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) opts[k] = argv[++i];
			else opts[k] = true;
		} else {
			opts._.push(a);
		}
	}
	return opts;
}
