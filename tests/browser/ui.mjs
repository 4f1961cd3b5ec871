// The web UI end to end in headless Chromium (tests/integration/t0620-ui-browser.sh):
// one browser, one session, the story an operator lives through on a fresh
// install.
//
// usage: node ui.mjs --base URL --token API_TOKEN [--out DIR]
//   --base   the daemon, e.g. http://127.0.0.1:PORT/ (with DASHBOARD_PUBLIC off)
//   --token  its API token: the script asks the API whether a delete happened
//   --out    screenshots of the edit and the tiled page (default: none)
//
// Steps (each one prints "ui step N: ok" or "FAIL ui step N (title): why";
// the first failure stops the story, as every step needs the one before):
//   1  / sends a stranger to /login, which has username, password, submit
//   2  admin / changeme123 lands on /password (forced change) with the
//      message; /add and / still send there
//   3  the /password form carries a CSRF token; changing the password lands
//      on / (the table dashboard), and /add opens
//   4  /add: host docker02, e2e-app, group Media, internal URL -> /edit/ID?saved=1, "Saved."
//   5  /tiled_dash: e2e-app's tile is in the "Media" bucket
//   6  /edit/ID: group Tools -> "Saved."; /tiled_dash: in "Tools", not in "Media"
//   7  the admin's delete control on the tile, its popover, Confirm: the
//      tile goes, the API no longer has the service, a reload does not show it
//   8  the header's "Log out" -> /login; / sends to /login again, and the old
//      session cookie no longer opens anything
// Throughout: a page error, a CSP report, a console error, a failed request
// or a request off the machine fails the step it happened in (but for the
// few listed in IGNORED below). Exit status 1 on any failure, 2 on usage.

import { launch, localUrl, parseArgs } from './lib.mjs';
import { mkdirSync } from 'node:fs';

const opts = parseArgs(process.argv.slice(2));
if (!opts.base || !opts.token || opts.token === true) {
	console.error('usage: node ui.mjs --base URL --token API_TOKEN [--out DIR]');
	process.exit(2);
}
const BASE = new URL(opts.base);
const at = (path) => new URL(path, BASE).href;
const NEW_PASSWORD = 'e2e-new-password-7Qx';
const WAIT = 10000; // the bound of every wait on the UI (ms)
const SERVICE = { host: 'docker02', name: 'e2e-app', url: 'http://10.1.2.3:8080' };

// What the browser may report without failing the story. Each entry: a
// test on the event and why it is harmless. Everything else fails the step.
const IGNORED = [
	{
		// app.js keeps an EventSource on api/v1/events for live refresh;
		// leaving the page (goto, a form post, a reload) cancels that
		// long-lived request, which Chromium reports as net::ERR_ABORTED.
		kind: 'requestfailed',
		test: (e) => /\/api\/v1\/events$/.test(e.url) && e.failure === 'net::ERR_ABORTED',
		why: 'the live-refresh EventSource is cancelled when the page is left',
	},
	{
		// app.js's delete needs only r.ok and never reads the body of the
		// DELETE reply; Chromium keeps such an unread fetch open until the
		// page is left and then reports it net::ERR_ABORTED (checked: an
		// unread GET of api/v1/me does the same, a read one finishes). Only
		// when the reply had come with a 2xx status (answered, below).
		kind: 'requestfailed',
		test: (e) => e.method === 'DELETE' && /\/api\/v1\/services\/\d+$/.test(e.url) &&
			e.failure === 'net::ERR_ABORTED' && answered.has(`${e.method} ${e.url}`),
		why: 'the unread body of a successful DELETE reply is dropped when the page is left',
	},
	{
		// Chromium asks for the page's icon (assets/favicon.svg) after the
		// load event, on its own; when the story moves on at once, the next
		// navigation cancels it. That the icon is served is checked: it
		// must have loaded at least once by the end (step 8).
		kind: 'requestfailed',
		test: (e) => e.method === 'GET' && new URL(e.url).pathname === '/assets/favicon.svg' && e.failure === 'net::ERR_ABORTED',
		why: 'the browser\'s own favicon fetch is cancelled by the next navigation',
	},
];
// "METHOD URL" of the requests that had a 2xx reply
const answered = new Set();

let step = null; // { n, title, problems: [] } of the step running
const ignoredSeen = new Map(); // why -> count
function problem(msg) {
	if (step) step.problems.push(msg);
	else console.log(`FAIL ui (between steps): ${msg}`);
}
function browserEvent(e) {
	const ig = IGNORED.find((i) => i.kind === e.kind && i.test(e));
	if (ig) {
		ignoredSeen.set(ig.why, (ignoredSeen.get(ig.why) || 0) + 1);
		return;
	}
	problem(`${e.kind} on ${e.page}: ${e.text}`);
}

// A bound on the whole story, whatever hangs (each wait has its own, but
// page.evaluate and a response body have none).
const WATCHDOG = 120000;
setTimeout(() => {
	console.log(`FAIL ui step ${step ? `${step.n} (${step.title})` : '?'}: the story did not end within ${WATCHDOG / 1000} s`);
	process.exit(1);
}, WATCHDOG).unref();

const { browser, close } = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
context.setDefaultTimeout(WAIT);
context.setDefaultNavigationTimeout(WAIT);
const page = await context.newPage();
const here = () => {
	const u = new URL(page.url());
	return u.pathname + u.search;
};
page.on('pageerror', (err) => browserEvent({ kind: 'pageerror', page: here(), text: err.message }));
page.on('console', (m) => {
	const text = m.text();
	if (/Content.Security.Policy|Refused to/i.test(text))
		browserEvent({ kind: 'CSP', page: here(), text });
	else if (m.type() === 'error')
		browserEvent({ kind: 'console error', page: here(), text: `${text} (${m.location().url || '?'})` });
});
page.on('requestfailed', (req) => {
	const failure = req.failure()?.errorText || '?';
	browserEvent({ kind: 'requestfailed', page: here(), method: req.method(), url: req.url(), failure, text: `${req.method()} ${req.url()}: ${failure}` });
});
page.on('response', (res) => {
	if (res.status() >= 200 && res.status() < 300) answered.add(`${res.request().method()} ${res.url()}`);
	if (pending.has(res.request())) pending.get(res.request()).responded = true;
});

// Requests under way, so that the story leaves a page only once what the
// page asked for has come (app.js's api/v1/me, a live refresh): a
// navigation would cancel it, and that would be noise, or hide a problem.
// Never done, and not waited for: the EventSource, and app.js's DELETE
// once answered (its body is never read: see IGNORED).
const pending = new Map(); // request -> { responded }
let onSettle = null;
page.on('request', (req) => pending.set(req, { responded: false }));
for (const ev of ['requestfinished', 'requestfailed'])
	page.on(ev, (req) => {
		pending.delete(req);
		if (onSettle) onSettle();
	});
const unsettled = () =>
	[...pending].filter(([req, st]) => !(/\/api\/v1\/events$/.test(req.url()) || (req.method() === 'DELETE' && st.responded)));
async function settle() {
	if (!unsettled().length) return;
	let timer;
	try {
		await new Promise((resolve, reject) => {
			onSettle = () => unsettled().length || resolve();
			timer = setTimeout(() => reject(new StepFailure(`requests still under way after ${WAIT / 1000} s: ${unsettled().map(([r]) => `${r.method()} ${r.url()}`).join(', ')}`)), WAIT);
		});
	} finally {
		onSettle = null;
		clearTimeout(timer);
	}
}
page.on('request', (req) => {
	if (!localUrl(req.url())) browserEvent({ kind: 'request off the machine', page: here(), text: req.url() });
});

// ---- helpers ----------------------------------------------------------------

class StepFailure extends Error {}
function expect(cond, msg) {
	if (!cond) throw new StepFailure(msg);
}

// The page's path must be `path` (a string or a RegExp on path+query).
async function expectAt(path, what) {
	const ok = (u) => (typeof path === 'string' ? u.pathname === path : path.test(u.pathname + u.search));
	try {
		await page.waitForURL(ok, { timeout: WAIT, waitUntil: 'load' });
	} catch {
		throw new StepFailure(`${what}: at ${here()}, want ${path}; page says: ${await mainText()}`);
	}
}

// The visible text of <main> (or the body), squeezed, for failure messages.
async function mainText() {
	try {
		const t = await page.evaluate(() => (document.querySelector('main') || document.body)?.innerText || '');
		return JSON.stringify(t.replace(/\s+/g, ' ').trim().slice(0, 400));
	} catch (e) {
		return `(no text: ${e.message.split('\n')[0]})`;
	}
}

async function goto(path) {
	await settle();
	return page.goto(at(path), { waitUntil: 'load' });
}

// Submit a form with its button (a navigation, like goto).
async function submit(button) {
	await settle();
	await button.click();
}

// Where the tile of service `id` is on a grouped page: the label of its
// bucket, null when there is no such tile.
const bucketOf = (id) =>
	page.evaluate((id) => {
		const t = document.getElementById('s-' + id);
		const bk = t && t.closest('details.bk');
		return t ? (bk ? bk.querySelector('.bl').textContent : '(no bucket)') : null;
	}, id);

// Names of the tiles in the bucket labelled `label`.
const tilesIn = (label) =>
	page.evaluate((label) => {
		const bk = Array.from(document.querySelectorAll('details.bk')).find((b) => b.querySelector('.bl').textContent === label);
		return bk ? Array.from(bk.querySelectorAll('article.t .tn'), (n) => n.textContent) : null;
	}, label);

// Open `path` until pred(page) holds, within WAIT: the site is re-rendered
// asynchronously after a change. Each load also waits a little on the page
// itself (its live refresh may bring the change without a reload).
async function loadUntil(path, pred, what) {
	const deadline = Date.now() + WAIT;
	let tries = 0;
	for (;;) {
		tries++;
		await goto(path);
		const left = deadline - Date.now();
		const slice = Math.max(100, Math.min(1000, left));
		try {
			await page.waitForFunction(pred.fn, pred.arg, { timeout: slice, polling: 50 });
			return tries;
		} catch {
			if (Date.now() >= deadline)
				throw new StepFailure(`${what}: not so on ${path} after ${tries} load(s) in ${WAIT / 1000} s; ${await pred.state()}`);
		}
	}
}

async function api(method, path) {
	const res = await fetch(at(path), { method, headers: { Authorization: `Bearer ${opts.token}` }, signal: AbortSignal.timeout(WAIT) });
	const text = await res.text();
	let body = null;
	try {
		body = JSON.parse(text);
	} catch {
		body = text;
	}
	return { status: res.status, body };
}

// The container names of every service the API has, sorted.
async function serviceNames() {
	const all = await api('GET', '/api/v1/services');
	if (all.status !== 200 || !Array.isArray(all.body))
		throw new StepFailure(`GET /api/v1/services: HTTP ${all.status} ${JSON.stringify(all.body).slice(0, 300)}`);
	return all.body.map((s) => s.container_name).sort();
}

async function screenshot(name) {
	if (!opts.out || opts.out === true) return;
	mkdirSync(opts.out, { recursive: true });
	const file = `${opts.out}/${name}.png`;
	await page.screenshot({ path: file, fullPage: true });
	console.log(`# ui: wrote ${file}`);
}

// ---- the story ----------------------------------------------------------------

let id = null; // the new service's id
let before = null; // container names the API lists once it is added
let failed = 0;
const t0 = Date.now();

const steps = [
	['a stranger is sent to the login page', async () => {
		await goto('/');
		await expectAt('/login', 'opening /');
		expect(new URL(page.url()).searchParams.get('next') === '/', `the login URL ${here()} does not carry next=/`);
		for (const sel of ['input[name="username"]', 'input[name="password"][type="password"]', 'form[action="/login"] button[type="submit"]'])
			expect(await page.locator(sel).isVisible(), `the login page has no visible ${sel}`);
		// nothing of the UI shows before a login: no logout form, no page links
		expect((await page.locator('form.ui-out').count()) === 0, 'the login page shows a logout form');
	}],

	['the first-start account must change its password', async () => {
		await page.locator('input[name="username"]').fill('admin');
		await page.locator('input[name="password"]').fill('changeme123');
		await submit(page.locator('form[action="/login"] button[type="submit"]'));
		await expectAt('/password', 'logging in as admin / changeme123');
		const alert = (await page.locator('main [role="alert"]').allInnerTexts()).join(' ');
		expect(/choose a new (one|password)/i.test(alert), `/password: no message about choosing a new password (alerts: ${JSON.stringify(alert)})`);
		for (const sel of ['current_password', 'new_password', 'confirm_password'])
			expect(await page.locator(`input[name="${sel}"]`).isVisible(), `/password has no visible ${sel} field`);
		for (const path of ['/add', '/']) {
			await goto(path);
			await expectAt('/password', `opening ${path} before the password is changed`);
		}
	}],

	['changing the password opens the table dashboard', async () => {
		await page.locator('input[name="current_password"]').fill('changeme123');
		await page.locator('input[name="new_password"]').fill(NEW_PASSWORD);
		await page.locator('input[name="confirm_password"]').fill(NEW_PASSWORD);
		// the form must carry the session's CSRF token (the header's logout form has it too)
		const csrf = await page.locator('form[action="/password"] input[name="csrf_token"]').inputValue();
		const headerCsrf = await page.locator('form.ui-out input[name="csrf_token"]').inputValue();
		if (!csrf)
			step.problems.push(`the /password form's hidden csrf_token is empty (the header's logout form has ${headerCsrf ? 'one' : 'none either'})`);
		// the header's logout form has a submit button too: this form's own
		await submit(page.locator('form[action="/password"] button[type="submit"]'));
		await expectAt('/', 'changing the password');
		const cls = await page.locator('body').getAttribute('class');
		expect(/(^| )v-table( |$)/.test(cls), `/ is not the table view (body class "${cls}")`);
		const names = await page.locator('tr[id] .nm').allInnerTexts();
		expect(names.some((n) => n.includes('e2e-seed-a')), `the table does not list the registered services (rows: ${JSON.stringify(names)})`);
		// and the forced change is over: /add opens
		await goto('/add');
		await expectAt('/add', 'opening /add after the change');
	}],

	['adding a service', async () => {
		const form = page.locator('form.ui-edit');
		await form.locator('input[name="host"]').fill(SERVICE.host);
		await form.locator('input[name="container_name"]').fill(SERVICE.name);
		await form.locator('input[name="group_name"]').fill('Media');
		await form.locator('input[name="internalurl"]').fill(SERVICE.url);
		await submit(form.locator('button[type="submit"]'));
		await expectAt(/^\/edit\/\d+\?saved=1$/, 'saving the new service');
		id = new URL(page.url()).pathname.split('/')[2];
		const saved = (await page.locator('main [role="status"]').allInnerTexts()).join(' ');
		expect(saved.trim() === 'Saved.', `/edit/${id}?saved=1: status ${JSON.stringify(saved)}, want "Saved."`);
		const alerts = await page.locator('main [role="alert"]').allInnerTexts();
		expect(alerts.length === 0, `/edit/${id}: an error shows: ${JSON.stringify(alerts)}`);
		const values = {};
		for (const f of ['host', 'container_name', 'group_name', 'internalurl'])
			values[f] = await page.locator(`form.ui-edit input[name="${f}"]`).inputValue();
		expect(values.host === SERVICE.host && values.container_name === SERVICE.name && values.group_name === 'Media' && values.internalurl === SERVICE.url,
			`the edit page shows ${JSON.stringify(values)}`);
		const rec = await api('GET', `/api/v1/services/${id}`);
		expect(rec.status === 200 && rec.body.container_name === SERVICE.name && rec.body.group_name === 'Media',
			`GET /api/v1/services/${id}: HTTP ${rec.status} ${JSON.stringify(rec.body).slice(0, 300)}`);
		before = await serviceNames();
		await screenshot('ui-edit');
	}],

	['the tiled dashboard shows it in its group', async () => {
		const tries = await loadUntil('/tiled_dash', {
			fn: (id) => document.getElementById('s-' + id)?.closest('details.bk')?.querySelector('.bl')?.textContent === 'Media',
			arg: id,
			state: async () => `the tile is in ${JSON.stringify(await bucketOf(id))}`,
		}, `e2e-app's tile in the "Media" bucket`);
		console.log(`# ui: /tiled_dash showed e2e-app in Media after ${tries} load(s)`);
		expect(await page.locator('body').evaluate((b) => b.classList.contains('v-tiled')), '/tiled_dash is not the tiled view');
		const media = await tilesIn('Media');
		expect(media && media.includes('e2e-seed-a') && media.includes(SERVICE.name), `the Media bucket has ${JSON.stringify(media)}`);
	}],

	['moving it to another group', async () => {
		await goto(`/edit/${id}`);
		await expectAt(`/edit/${id}`, 'opening the edit page');
		expect(await page.locator('form.ui-edit input[name="group_name"]').inputValue() === 'Media', 'the edit page does not show group Media');
		await page.locator('form.ui-edit input[name="group_name"]').fill('Tools');
		await submit(page.locator('form.ui-edit button[type="submit"]'));
		await expectAt(new RegExp(`^/edit/${id}\\?saved=1$`), 'saving group Tools');
		const saved = (await page.locator('main [role="status"]').allInnerTexts()).join(' ');
		expect(saved.trim() === 'Saved.', `status ${JSON.stringify(saved)}, want "Saved."`);
		expect(await page.locator('form.ui-edit input[name="group_name"]').inputValue() === 'Tools', 'after saving, the group field does not say Tools');
		const tries = await loadUntil('/tiled_dash', {
			fn: (id) => document.getElementById('s-' + id)?.closest('details.bk')?.querySelector('.bl')?.textContent === 'Tools',
			arg: id,
			state: async () => `the tile is in ${JSON.stringify(await bucketOf(id))}`,
		}, `e2e-app's tile in the "Tools" bucket`);
		console.log(`# ui: /tiled_dash showed e2e-app in Tools after ${tries} load(s)`);
		const media = await tilesIn('Media');
		expect(media && !media.includes(SERVICE.name), `the Media bucket still has ${SERVICE.name}: ${JSON.stringify(media)}`);
		expect(media.includes('e2e-seed-a'), `the Media bucket lost its other services: ${JSON.stringify(media)}`);
		const same = await page.locator(`[id="s-${id}"]`).count();
		expect(same === 1, `${same} tiles with id s-${id}`);
	}],

	['the admin deletes it from its tile', async () => {
		const tile = page.locator(`article#s-${id}`);
		// app.js adds the controls once /api/v1/me says this session may edit
		const del = tile.locator(':scope > .ta > .act-del');
		try {
			await del.waitFor({ state: 'visible', timeout: WAIT });
		} catch {
			const me = await page.evaluate(() => fetch('api/v1/me').then((r) => r.status + ' ' + r.statusText));
			throw new StepFailure(`no visible delete control on the tile (api/v1/me: ${me}); tile: ${await tile.evaluate((t) => t.outerHTML.slice(0, 600))}`);
		}
		await screenshot('ui-tiled'); // with the admin's controls
		const edit = tile.locator(':scope > .ta > .act-edit');
		const href = await edit.getAttribute('href');
		expect(href === `edit/${id}`, `the tile's edit control links to ${href}`);
		const label = await del.getAttribute('aria-label');
		expect(label === `Delete ${SERVICE.name}`, `the delete control is labelled ${JSON.stringify(label)}`);
		// every tile has them (none is static)
		const tiles = await page.locator('article.t').count();
		const dels = await page.locator('article.t > .ta > .act-del').count();
		expect(dels === tiles && tiles === before.length, `${tiles} tiles, ${dels} delete controls, ${before.length} services`);
		await del.click();
		const pop = page.locator('.pop[role="dialog"]');
		await pop.waitFor({ state: 'visible' });
		const pops = await pop.count();
		expect(pops === 1, `${pops} popovers`);
		const ask = await pop.innerText();
		expect(ask.includes(`Delete ${SERVICE.name}?`), `the popover says ${JSON.stringify(ask)}`);
		expect(await tile.evaluate((t) => !!t.querySelector('.pop')), 'the popover is not beside the tile\'s control');
		const done = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `/api/v1/services/${id}`);
		await pop.getByRole('button', { name: 'Confirm', exact: true }).click();
		const res = await done;
		expect(res.status() >= 200 && res.status() < 300, `DELETE /api/v1/services/${id} answered HTTP ${res.status()}`);
		try {
			await tile.waitFor({ state: 'detached' });
		} catch {
			throw new StepFailure(`the tile is still there after Confirm; popover: ${await pop.innerText().catch(() => '(gone)')}`);
		}
		expect((await pop.count()) === 0, 'the popover stays after the delete');
		const gone = await api('GET', `/api/v1/services/${id}`);
		expect(gone.status === 404, `after the delete GET /api/v1/services/${id} answers HTTP ${gone.status}: ${JSON.stringify(gone.body).slice(0, 300)}`);
		const names = await serviceNames();
		const want = before.filter((n) => n !== SERVICE.name);
		expect(JSON.stringify(names) === JSON.stringify(want), `the API lists ${JSON.stringify(names)}, want ${JSON.stringify(want)}`);
		// and the rendered site follows
		await loadUntil('/tiled_dash', {
			fn: ([id, n]) => !document.getElementById('s-' + id) && document.querySelectorAll('article.t').length === n,
			arg: [id, want.length],
			state: async () => `tile in ${JSON.stringify(await bucketOf(id))}, ${await page.locator('article.t').count()} tiles`,
		}, 'the reloaded tiled page without e2e-app');
	}],

	['logging out', async () => {
		await goto('/add');
		await expectAt('/add', 'opening /add');
		const cookies = await context.cookies();
		const out = page.locator('header form.ui-out[action="/logout"]');
		expect((await out.getAttribute('method'))?.toLowerCase() === 'post', 'the logout form does not post');
		await submit(out.getByRole('button', { name: 'Log out' }));
		await expectAt('/login', 'logging out');
		await goto('/');
		await expectAt('/login', 'opening / after logging out');
		await goto('/add');
		await expectAt('/login', 'opening /add after logging out');
		// the session ended on the server too: its old cookie opens nothing
		expect(cookies.length > 0, 'there was no session cookie');
		await context.addCookies(cookies);
		await goto('/');
		await expectAt('/login', 'opening / with the cookie of the ended session');
		// (asked from node: a 401 inside the page would be a console error)
		const me = await fetch(at('/api/v1/me'), { headers: { Cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') }, signal: AbortSignal.timeout(WAIT) });
		const who = await me.text();
		let nobody = me.status === 401;
		if (me.status === 200) {
			// api/v1/me may answer anyone, then with user null
			try {
				const j = JSON.parse(who);
				nobody = j.user === null && !j.can_edit && !j.csrf_token;
			} catch {}
		}
		expect(nobody, `api/v1/me with the old cookie: HTTP ${me.status} ${who.slice(0, 200)}, want 401 or nobody`);
		// (the favicon's aborts are ignored above; it must have come once)
		expect([...answered].some((r) => r.startsWith('GET ') && new URL(r.slice(4)).pathname === '/assets/favicon.svg'), 'assets/favicon.svg never loaded');
	}],
];

try {
	for (let i = 0; i < steps.length; i++) {
		const [title, fn] = steps[i];
		step = { n: i + 1, title, problems: [] };
		const s0 = Date.now();
		try {
			await fn();
		} catch (e) {
			step.problems.push(e instanceof StepFailure ? e.message : `${e.name}: ${e.message.split('\n')[0]} (at ${here()})`);
		}
		const { problems } = step;
		step = null;
		if (problems.length) {
			for (const p of problems) console.log(`FAIL ui step ${i + 1} (${title}): ${p}`);
			failed++;
			await screenshot(`ui-fail-step${i + 1}`).catch(() => {});
			console.log(`# ui: the story stops at step ${i + 1}; page ${here()}: ${await mainText()}`);
			break;
		}
		console.log(`ui step ${i + 1}: ok - ${title} (${Date.now() - s0} ms)`);
	}
} finally {
	await close();
}
for (const [why, n] of ignoredSeen) console.log(`# ui: ignored ${n} x: ${why}`);
console.log(`# ui: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failed) {
	console.log('ui: failed');
	process.exitCode = 1;
} else {
	console.log('ui: ok');
}
