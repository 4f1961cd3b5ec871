// Open every page of a rendered site in headless Chromium and fail when any
// script runs that the site did not ship: a dialog (the hostile corpus in
// tests/fixtures/xss calls alert()), a page error, a CSP violation, a
// javascript:/vbscript:/data: URL, an on*= or style= attribute, a second
// <script>, a frame or form, a popup, or a request that leaves 127.0.0.1.
// Nothing is injected into the pages; they are exercised as a person
// would: every drawer is opened, links, badges and tooltips are hovered,
// the filter is typed into, Esc closes.
//
// usage: node xss.mjs --base URL [--csp] [--text STRING] [--svg PATH] [--jobs N]
//                      [--drawers N] [--clean-console] PAGE...
//   --base   the site's root, ending in / (http://127.0.0.1:PORT/ or file:///…/)
//   --csp    the server must send a CSP with script-src 'self' on every page
//   --text   every page must show this string as text (proof that the
//            hostile names are escaped, not dropped)
//   --jobs   pages checked at once (default 1)
//   --drawers  open at most this many drawers per page (default all)
//   --clean-console  any console error fails (default: only CSP reports)
//   --svg    also open this site path (a hostile SVG icon) as a document:
//            with the server's CSP its script must not run
// Prints one FAIL line per problem; exit status 1 if there was any.

import { launch, localUrl, parseArgs, reporter } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2));
if (!opts.base || (!opts._.length && !opts.svg)) {
	console.error('usage: node xss.mjs --base URL [--csp] [--text STRING] [--svg PATH] [--jobs N] [--drawers N] [--clean-console] PAGE...');
	process.exit(2);
}
const r = reporter(`xss ${opts.base.startsWith('file:') ? 'file://' : 'http'}`);

// Runs in the page: everything the DOM must not contain.
function domCheck(text) {
	const bad = [];
	const notes = [];
	const URL_ATTRS = ['href', 'src', 'xlink:href', 'action', 'formaction', 'data', 'poster',
		'background', 'cite', 'ping', 'srcset', 'codebase', 'manifest', 'longdesc'];
	const scripts = Array.from(document.querySelectorAll('script'));
	if (scripts.length !== 1) bad.push(`${scripts.length} <script> elements, want 1`);
	for (const s of scripts) {
		const src = s.getAttribute('src') || '';
		if (!/^assets\/app\.js\?v=[0-9a-f]+$/.test(src) || s.textContent.trim() !== '')
			bad.push(`unexpected script: src="${src}" text="${s.textContent.slice(0, 80)}"`);
	}
	const forbidden = 'iframe, frame, frameset, object, embed, applet, base, form, style, ' +
		'meta[http-equiv], portal, link:not([rel~="stylesheet"]):not([rel~="icon"])';
	for (const el of document.querySelectorAll(forbidden))
		bad.push(`forbidden element <${el.localName}>: ${el.outerHTML.slice(0, 120)}`);
	for (const el of document.querySelectorAll('*')) {
		for (const a of Array.from(el.attributes)) {
			const n = a.name.toLowerCase();
			if (n.startsWith('on')) bad.push(`<${el.localName} ${n}="${a.value.slice(0, 60)}">`);
			if (n === 'style' || n === 'srcdoc') bad.push(`<${el.localName} ${n}="${a.value.slice(0, 60)}">`);
			if (!URL_ATTRS.includes(n)) continue;
			const v = a.value;
			if (/javascript:|vbscript:|data:/i.test(v.replace(/[\s\u0000-\u001f]+/g, ''))) {
				let proto = '';
				try { proto = new URL(v, document.baseURI).protocol; } catch { /* invalid */ }
				// "http://javascript:alert(1)/" is an (invalid) http URL, not a script URL
				if (!/^https?:/i.test(v.trim()) || proto === 'javascript:' || proto === 'vbscript:' || proto === 'data:')
					bad.push(`<${el.localName} ${n}="${v.slice(0, 80)}">`);
				else
					notes.push(`harmless but odd: <${el.localName} ${n}="${v.slice(0, 80)}">`);
				continue;
			}
			if (v === '' || v.startsWith('#')) continue;
			let url;
			try {
				url = new URL(v, document.baseURI);
			} catch {
				notes.push(`not a valid URL: <${el.localName} ${n}="${v.slice(0, 80)}">`);
				continue;
			}
			if (!['http:', 'https:', 'file:'].includes(url.protocol))
				bad.push(`<${el.localName} ${n}="${v.slice(0, 80)}"> resolves to ${url.protocol}`);
		}
	}
	if (text && !document.body.textContent.includes(text))
		bad.push(`the text ${JSON.stringify(text)} is not shown (escaped away or dropped?)`);
	return { bad, notes };
}

// Runs in the page: synthetic pointer and focus events on everything that
// has a title, a link or a tooltip-ish role (inline handlers would fire).
function pokeAll() {
	let n = 0;
	for (const el of document.querySelectorAll('[title], a, summary, img, .bg, .pl, .st, code, b, span')) {
		for (const type of ['mouseover', 'mouseenter', 'mousemove', 'focus', 'mouseout'])
			el.dispatchEvent(new MouseEvent(type, { bubbles: true }));
		n++;
	}
	return n;
}

// Move the real mouse over the centre of every visible match of sel
// inside root that is on screen (one round trip to find them).
async function hoverAll(page, root, sel, max) {
	const points = await page.evaluate(([root, sel, max]) => {
		const out = [];
		const r = document.querySelector(root);
		if (!r) return out;
		for (const el of r.querySelectorAll(sel)) {
			const b = el.getBoundingClientRect();
			if (b.width > 0 && b.height > 0 && b.bottom > 0 && b.top < innerHeight && b.right > 0 && b.left < innerWidth)
				out.push([b.left + b.width / 2, b.top + b.height / 2]);
		}
		return out.slice(0, max);
	}, [root, sel, max]);
	for (const [x, y] of points) await page.mouse.move(x, y);
}

// Check pages from the queue, one after the other, in one tab.
async function worker(context, queue) {
	const page = await context.newPage();
	let where = '';
	page.on('dialog', async (d) => {
		r.fail(`${where}: a ${d.type()} dialog opened: ${JSON.stringify(d.message())}`);
		await d.dismiss().catch(() => {});
	});
	page.on('pageerror', (e) => r.fail(`${where}: page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warning') return;
		if (/Content.Security.Policy|Refused to/i.test(m.text()))
			r.fail(`${where}: CSP violation: ${m.text()}`);
		else if (m.type() === 'error' && opts['clean-console'])
			r.fail(`${where}: console error: ${m.text()}`);
		else if (m.type() === 'error')
			r.note(`${where}: console error: ${m.text()}`);
	});
	page.on('request', (req) => {
		if (!localUrl(req.url())) r.fail(`${where}: request leaves the machine: ${req.url()}`);
	});
	page.on('response', (res) => {
		if (res.status() >= 400) r.note(`${where}: HTTP ${res.status()} for ${res.url()}`);
	});
	for (let path; (path = queue.shift()) !== undefined;) {
		const url = new URL(path, opts.base).href;
		where = path;
		const t0 = Date.now();
		const resp = await page.goto(url, { waitUntil: 'load' });
		if (opts.csp) {
			const csp = resp && (await resp.headerValue('content-security-policy'));
			if (!csp || !/script-src 'self'/.test(csp)) r.fail(`${where}: no CSP with script-src 'self' (${csp})`);
		}
		if (resp && resp.status && resp.status() !== 200 && !url.startsWith('file:'))
			r.fail(`${where}: HTTP ${resp.status()}`);

		let res = await page.evaluate(domCheck, opts.text || '');
		res.bad.forEach((b) => r.fail(`${where}: ${b}`));
		[...new Set(res.notes)].forEach((b) => r.note(`${where}: ${b}`));

		// A person: hover what is on screen, open each drawer, read, Esc.
		await hoverAll(page, 'body', '.bg, .pl, .st, a[href], summary', 10);
		const drawers = (await page.locator('details.dr > summary').all()).slice(0, Number(opts.drawers || Infinity));
		for (const s of drawers) {
			await s.click();
			const id = await s.evaluate((e) => e.parentElement.id);
			await hoverAll(page, `#${id}`, '[title], a[href], .nt *', 2);
			await page.keyboard.press('Escape');
		}
		// every <details> open at once (the no-JS way), then poke everything
		await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
		const poked = await page.evaluate(pokeAll);
		const q = page.locator('#q');
		if (await q.isVisible()) {
			await q.fill('<script>alert(1)</script>');
			await q.fill('" onmouseover="alert(1)');
			await q.fill('');
		}
		await page.waitForTimeout(50); // let any late handler fire
		res = await page.evaluate(domCheck, opts.text || '');
		res.bad.forEach((b) => r.fail(`${where} (after interaction): ${b}`));
		r.note(`${where}: ${drawers.length} drawers opened, ${poked} elements poked, ${Date.now() - t0} ms`);
	}
	await page.close();
}

const { browser, close } = await launch();
try {
	// A context (a window of its own: tabs in the background would not get
	// frames) per job, a few at once: most time goes to waiting for frames.
	async function newContext() {
		const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
		context.on('page', async (p) => {
			if (await p.opener()) r.fail(`a popup opened: ${p.url()}`);
		});
		await context.route('**/*', (route) => {
			const u = route.request().url();
			if (localUrl(u)) return route.continue();
			r.fail(`request leaves the machine: ${u}`);
			return route.abort();
		});
		return context;
	}
	const queue = [...opts._];
	const jobs = Math.min(Math.max(1, Number(opts.jobs || 1)), queue.length);
	await Promise.all(Array.from({ length: jobs }, async () => {
		const context = await newContext();
		await worker(context, queue);
		await context.close();
	}));
	const context = await newContext();

	// A hostile SVG icon opened as a document: the server's CSP must keep
	// its inline script and onload handler from running.
	if (opts.svg) {
		const page = await context.newPage();
		let csp = 0;
		page.on('dialog', async (d) => {
			r.fail(`${opts.svg}: a ${d.type()} dialog opened: the icon's script ran`);
			await d.dismiss().catch(() => {});
		});
		page.on('console', (m) => {
			if (/Content.Security.Policy|Refused to/i.test(m.text())) csp++;
		});
		const resp = await page.goto(new URL(opts.svg, opts.base).href, { waitUntil: 'load' });
		if (!resp || resp.status() !== 200) r.fail(`${opts.svg}: HTTP ${resp && resp.status()}`);
		await page.waitForTimeout(100);
		if (!csp) r.fail(`${opts.svg}: expected CSP to refuse the icon's script, saw no report`);
		else r.note(`${opts.svg}: CSP refused ${csp} script(s) in the icon, as it should`);
		await page.close();
	}
	await context.close();
} finally {
	await close();
}
r.done();
