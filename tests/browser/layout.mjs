// Layout and behaviour of the dashboard in headless Chromium, at a desktop
// (1280 px) and a phone (390 px) width (tests/integration/t0460-site-browser.sh).
//
// usage: node layout.mjs --base URL [--out DIR] CHECK...
// Runs each CHECK in one browser and prints "layout CHECK: ok" or its
// problems ("FAIL layout CHECK: ...", then "layout CHECK: N problem(s)"):
//   screenshots  full-page PNGs of the tiled and table views at both
//                widths, plus the open controls and open drawers,
//                into --out DIR
//   overflow     no page scrolls sideways at 390 px (nor at 1280)
//   controls     at 390 px the view links are folded behind one toggle;
//                at 1280 they show and the toggle does not
//   drawers      a tile's expand control opens its drawer; opening
//                another closes the first; Esc and an outside click close
//   filter       typing a name narrows the tiles and "N services"
//   nojs         with JavaScript off: drawers and buckets are <details>
//                that still open and close, the controls toggle works,
//                the filter (which needs JS) is not shown
// Every check also fails on a page error or a CSP report. Prints one FAIL
// line per problem; exit status 1 if there was any.

import { launch, localUrl, parseArgs, reporter } from './lib.mjs';
import { mkdirSync } from 'node:fs';

const opts = parseArgs(process.argv.slice(2));
if (!opts.base || !opts._.length) {
	console.error('usage: node layout.mjs --base URL [--out DIR] CHECK...');
	process.exit(2);
}
let r; // the current check's reporter
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
// every view, every grouping, URL-less on and off (not every combination)
const PAGES = ['index.html', 'tiled-group.html', 'compact-group.html',
	'tiled-host-urls.html', 'table-stack.html', 'compact-stack-urls.html'];

const { browser, close } = await launch();

async function open(viewport, path, contextOpts = {}) {
	const context = await browser.newContext({ viewport, ...contextOpts });
	const page = await context.newPage();
	page.on('pageerror', (e) => r.fail(`${path}: page error: ${e.message}`));
	page.on('console', (m) => {
		if (/Content.Security.Policy|Refused to/i.test(m.text())) r.fail(`${path}: CSP: ${m.text()}`);
	});
	page.on('request', (req) => {
		if (!localUrl(req.url())) r.fail(`${path}: request leaves the machine: ${req.url()}`);
	});
	const res = await page.goto(new URL(path, opts.base).href, { waitUntil: 'load' });
	if (res && res.status() !== 200) r.fail(`${path}: HTTP ${res.status()}`);
	return { context, page };
}

const openDrawers = (page) => page.evaluate(() => Array.from(document.querySelectorAll('details.dr[open]'), (d) => d.id));
const countText = (page) => page.locator('#cnt').innerText();

const checks = {
	async screenshots() {
		if (!opts.out) throw new Error('screenshots needs --out DIR');
		mkdirSync(opts.out, { recursive: true });
		for (const [name, path] of [['tiled', 'tiled-group.html'], ['table', 'index.html']]) {
			for (const vp of [DESKTOP, PHONE]) {
				const { context, page } = await open(vp, path);
				const file = `${opts.out}/${name}-${vp.width}.png`;
				await page.screenshot({ path: file, fullPage: true });
				r.note(`wrote ${file}`);
				await context.close();
			}
		}
		{
			const { context, page } = await open(PHONE, 'tiled-group.html');
			await page.locator('label.nav-b').click();
			await page.screenshot({ path: `${opts.out}/controls-390.png` });
			await page.locator('label.nav-b').click();
			await page.locator('details.dr > summary').nth(1).click();
			await page.screenshot({ path: `${opts.out}/drawer-390.png` });
			await context.close();
		}
		{
			const { context, page } = await open(DESKTOP, 'tiled-group.html');
			await page.locator('details.dr > summary').nth(5).click();
			await page.screenshot({ path: `${opts.out}/drawer-1280.png` });
			await context.close();
		}
		r.note(`screenshots in ${opts.out}`);
	},

	async overflow() {
		for (const vp of [PHONE, DESKTOP]) {
			const { context, page } = await open(vp, PAGES[0]);
			for (const path of PAGES) {
				if (path !== PAGES[0]) await page.goto(new URL(path, opts.base).href, { waitUntil: 'load' });
				const m = await page.evaluate(() => {
					const de = document.documentElement;
					let widest = null;
					if (de.scrollWidth > innerWidth) {
						// name the culprit: the deepest element sticking out
						for (const el of document.querySelectorAll('body *')) {
							const b = el.getBoundingClientRect();
							if (b.right > innerWidth + 0.5 && b.width > 0) widest = `<${el.localName} class="${el.className.baseVal ?? el.className}"> right=${Math.round(b.right)}`;
						}
					}
					return { sw: de.scrollWidth, iw: innerWidth, widest };
				});
				if (m.sw > m.iw) r.fail(`${path} at ${vp.width} px: scrollWidth ${m.sw} > ${m.iw}; e.g. ${m.widest}`);
				else r.note(`${path} at ${vp.width} px: scrollWidth ${m.sw} <= ${m.iw}`);
			}
			await context.close();
		}
	},

	async controls() {
		// visibility of each control link, in one round trip
		const shown = (page) => page.evaluate(() => Array.from(document.querySelectorAll('nav.ctl a'),
			(a) => [a.textContent.trim(), a.checkVisibility() && a.getBoundingClientRect().height > 0]));
		const phone = await open(PHONE, 'tiled-group.html');
		const desktop = await open(DESKTOP, 'tiled-group.html');
		for (const path of ['tiled-group.html', 'index.html', 'compact-group.html']) {
			{
				const { page } = phone;
				await page.goto(new URL(path, opts.base).href, { waitUntil: 'load' });
				let links = await shown(page);
				if (links.length < 7) r.fail(`${path}: ${links.length} control links, want views + groupings + URL-less (7)`);
				const toggles = page.locator('label.nav-b');
				if ((await toggles.count()) !== 1) r.fail(`${path}: ${await toggles.count()} toggles`);
				if (!(await toggles.first().isVisible())) r.fail(`${path} at 390 px: the controls toggle is not visible`);
				links.filter(([, v]) => v).forEach(([t]) => r.fail(`${path} at 390 px: "${t}" visible before the toggle`));
				await toggles.first().click();
				links = await shown(page);
				links.filter(([, v]) => !v).forEach(([t]) => r.fail(`${path} at 390 px: "${t}" still hidden after the toggle`));
				// and a view link works from there
				const target = page.locator('nav.ctl .seg a:not([aria-current])').first();
				const href = await target.getAttribute('href');
				await target.click();
				await page.waitForLoadState('load');
				if (!page.url().endsWith(href)) r.fail(`${path} at 390 px: clicking ${href} went to ${page.url()}`);
			}
			{
				const { page } = desktop;
				await page.goto(new URL(path, opts.base).href, { waitUntil: 'load' });
				(await shown(page)).filter(([, v]) => !v).forEach(([t]) => r.fail(`${path} at 1280 px: control "${t}" not visible`));
				if (await page.locator('label.nav-b').isVisible()) r.fail(`${path} at 1280 px: the controls toggle shows`);
				if (!(await page.locator('#q').isVisible())) r.fail(`${path} at 1280 px: the filter is not visible`);
			}
		}
		await phone.context.close();
		await desktop.context.close();
	},

	async drawers() {
		for (const vp of [DESKTOP, PHONE]) {
			const { context, page } = await open(vp, 'tiled-group.html');
			const sums = page.locator('details.dr > summary');
			const n = await sums.count();
			if (n < 100) r.fail(`only ${n} drawers`);
			const a = sums.nth(0);
			const b = sums.nth(n - 1); // far away: the first drawer's panel cannot cover it
			const idA = await a.evaluate((e) => e.parentElement.id);
			const idB = await b.evaluate((e) => e.parentElement.id);
			await a.click();
			let o = await openDrawers(page);
			if (o.join() !== idA) r.fail(`${vp.width} px: after clicking the first expand control, open: [${o}]`);
			if (!(await page.locator(`#${idA} .dc`).isVisible())) r.fail(`${vp.width} px: the first drawer's content is not visible`);
			await b.click();
			o = await openDrawers(page);
			if (o.join() !== idB) r.fail(`${vp.width} px: after opening a second drawer, open: [${o}] (want only ${idB})`);
			await page.keyboard.press('Escape');
			o = await openDrawers(page);
			if (o.length) r.fail(`${vp.width} px: Esc left open: [${o}]`);
			// the same control closes it again
			await a.click();
			await a.click();
			o = await openDrawers(page);
			if (o.length) r.fail(`${vp.width} px: a second click on the control left open: [${o}]`);
			// an outside click closes it
			await a.click();
			await page.locator('footer').click();
			o = await openDrawers(page);
			if (o.length) r.fail(`${vp.width} px: an outside click left open: [${o}]`);
			// the drawer shows what views.md lists
			await a.click();
			const text = await page.locator(`#${idA} .dc`).innerText();
			for (const label of ['Host', 'Stack', 'Docker', 'Networks', 'Ports', 'Exposure'])
				if (!text.includes(label)) r.fail(`${vp.width} px: the drawer has no "${label}"`);
			await context.close();
		}
	},

	async filter() {
		const { context, page } = await open(DESKTOP, 'tiled-group.html');
		const all = await countText(page);
		const total = Number(all.split(' ')[0]);
		if (!/^\d+ services$/.test(all) || total < 100) r.fail(`count before filtering: "${all}"`);
		const name = await page.locator('article[data-search] .tn').nth(3).innerText();
		const q = page.locator('#q');
		await q.click();
		await q.pressSequentially(name, { delay: 5 });
		const after = await countText(page);
		const n = Number(after.split(' ')[0]);
		const visible = await page.locator('article[data-search]:visible').count();
		if (!(n >= 1 && n < total)) r.fail(`typing "${name}": count "${after}", want 1..${total - 1}`);
		if (visible !== n) r.fail(`typing "${name}": "${after}" but ${visible} tiles visible`);
		if (!/^(1 service|\d+ services)$/.test(after)) r.fail(`count text "${after}"`);
		const names = await page.locator('article[data-search]:visible .tn').allInnerTexts();
		if (!names.includes(name)) r.fail(`typing "${name}": it is not among the visible tiles`);
		const hiddenBuckets = await page.locator('details.bk:not(:visible)').count();
		if (!hiddenBuckets) r.fail(`typing "${name}": no bucket was hidden`);
		r.note(`"${name}": ${all} -> ${after}`);
		await q.fill('no-such-service-zzz');
		if ((await countText(page)) !== '0 services') r.fail(`no match: count "${await countText(page)}"`);
		if (!(await page.locator('.nomatch').isVisible())) r.fail('no match: the "no service matches" line is hidden');
		await q.fill('');
		if ((await countText(page)) !== all) r.fail(`cleared: count "${await countText(page)}", want "${all}"`);
		// "/" focuses the filter
		await page.locator('footer').click();
		await page.keyboard.press('/');
		if (!(await q.evaluate((e) => e === document.activeElement))) r.fail('"/" does not focus the filter');
		await context.close();
	},

	async nojs() {
		for (const vp of [DESKTOP, PHONE]) {
			const { context, page } = await open(vp, 'tiled-group.html', { javaScriptEnabled: false });
			if (await page.locator('#q').isVisible()) r.fail(`${vp.width} px: the filter shows without JavaScript (it cannot work)`);
			const sums = page.locator('details.dr > summary');
			const a = sums.nth(0);
			const b = sums.nth((await sums.count()) - 1);
			const idA = await a.evaluate((e) => e.parentElement.id);
			await a.click();
			if (!(await page.locator(`#${idA}`).evaluate((d) => d.open))) r.fail(`${vp.width} px: the drawer does not open without JavaScript`);
			if (!(await page.locator(`#${idA} .dc`).isVisible())) r.fail(`${vp.width} px: the drawer content is not visible without JavaScript`);
			await a.click();
			if (await page.locator(`#${idA}`).evaluate((d) => d.open)) r.fail(`${vp.width} px: the drawer does not close without JavaScript`);
			await b.click();
			if ((await openDrawers(page)).length !== 1) r.fail(`${vp.width} px: the last drawer does not open without JavaScript`);
			const bucket = page.locator('details.bk > summary').first();
			await bucket.click();
			if (await bucket.evaluate((s) => s.parentElement.open)) r.fail(`${vp.width} px: a bucket does not collapse without JavaScript`);
			if (vp === PHONE) {
				const link = page.locator('nav.ctl a').first();
				if (await link.isVisible()) r.fail('390 px, no JS: the controls are not folded');
				await page.locator('label.nav-b').click();
				if (!(await link.isVisible())) r.fail('390 px, no JS: the toggle does not show the controls');
			}
			await context.close();
		}
	},
};

try {
	for (const check of opts._) {
		r = reporter(`layout ${check}`);
		try {
			if (!checks[check]) throw new Error(`unknown check ${check}`);
			await checks[check]();
		} catch (e) {
			r.fail(`${e.name}: ${e.message.split('\n')[0]}`);
		}
		r.done();
	}
} finally {
	await close();
}
