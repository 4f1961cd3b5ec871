// First contentful paint of one page in headless Chromium, for
// bench/site_browser.sh: each load in a fresh context (a first visit: no
// cache), the median of N loads after one uncounted warm-up load. Fails if any request leaves the page's
// origin.
//
// usage: node fcp.mjs --url URL [--runs 5] [--width 1280]
// Prints "fcp_ms_median=… fcp_ms_all=… requests=… offorigin=…" on one line;
// exit status 1 if a request left the origin or no paint was measured.

import { launch, parseArgs } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
if (!opts.url) {
	console.error('usage: node fcp.mjs --url URL [--runs 5] [--width 1280]');
	process.exit(2);
}
const runs = Number(opts.runs || 5);
const width = Number(opts.width || 1280);
const origin = new URL(opts.url).origin;

const { browser, close } = await launch();
const fcps = [];
let requests = 0;
const offorigin = [];
try {
	// one load first, not counted: the browser's own start-up is no part of the page
	for (let i = -1; i < runs; i++) {
		const context = await browser.newContext({ viewport: { width, height: 900 } });
		const page = await context.newPage();
		page.on('request', (req) => {
			if (i >= 0) requests++;
			const u = new URL(req.url());
			if (u.origin !== origin || u.hostname !== '127.0.0.1') offorigin.push(req.url());
		});
		await page.goto(opts.url, { waitUntil: 'load' });
		const fcp = await page.evaluate(() => new Promise((resolve) => {
			const now = performance.getEntriesByName('first-contentful-paint');
			if (now.length) return resolve(now[0].startTime);
			new PerformanceObserver((list) => {
				const e = list.getEntriesByName('first-contentful-paint');
				if (e.length) resolve(e[0].startTime);
			}).observe({ type: 'paint', buffered: true });
			setTimeout(() => resolve(null), 5000);
		}));
		if (i >= 0 && fcp !== null) fcps.push(fcp);
		await context.close();
	}
} finally {
	await close();
}
const sorted = [...fcps].sort((a, b) => a - b);
const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
console.log(`fcp_ms_median=${Math.round(median)} fcp_ms_all=${fcps.map((x) => Math.round(x)).join(',')} ` +
	`requests=${requests} offorigin=${offorigin.length}`);
for (const u of new Set(offorigin)) console.log(`FAIL request left the origin: ${u}`);
if (offorigin.length || fcps.length !== runs) process.exitCode = 1;
