/* portolan dashboard: progressive enhancement only; everything readable works
   without this file. */
(() => {
	'use strict';

	const d = document;
	const $ = (s, r = d) => r.querySelector(s);
	const $$ = (s, r = d) => Array.from(r.querySelectorAll(s));
	const ITEM = '[data-search]';
	const KEY = 'portolan.q';

	/* Only a page the daemon serves to a logged-in admin may edit: it says so at /api/v1/me. */
	let me = null;
	function canEdit() {
		return !!(me && me.can_edit && me.csrf_token);
	}

	/* ---- reveal what needs JS ---- */
	function enhance(root) {
		$$('.wb', root).forEach((b) => { b.hidden = false; });
		/* service links: a new tab (without JS: the same) */
		$$('a[href^="http" i]', root).forEach((a) => {
			a.target = '_blank';
			a.rel = 'noreferrer';
		});
		if (canEdit()) $$('.t, tr[id]', root).forEach(addControls);
	}

	/* Edit; delete unless static (a lock). Admin-only: from page.html's <template>s. */
	const nameOf = (item) => {
		const n = $('.tn, .nm', item);
		return n ? n.lastChild.textContent : '';
	};

	function addControls(item) {
		const dr = $('details.dr', item);
		const row = dr ? dr.parentElement : item.lastElementChild;
		const put = (box, tpl, at) => {
			const f = $(tpl).content.cloneNode(true);
			if ($('.lk', item)) $('.act-del', f).remove();
			$('.act-edit', f).href = 'edit/' + item.id.slice(2);
			$$('[aria-label]', f).forEach((x) => x.setAttribute('aria-label', x.title + ' ' + nameOf(item)));
			box.insertBefore(f, at);
		};
		put(row, '#ctl-i', $(':scope > .lk', row) || dr);
		if (!dr) return;
		let da = $('.da', dr);
		if (!da) $('.dc', dr).append((da = el('div', 'da')));
		put(da, '#ctl-t', da.firstChild);
	}

	/* ---- free-text filter ---- */
	const q = $('#q');
	const cnt = $('#cnt');
	const plural = (n) => (n === 1 ? '1 service' : n + ' services');

	function applyFilter() {
		const terms = (q ? q.value : '').toLowerCase().split(/\s+/).filter(Boolean);
		let total = 0;
		$$('.bk').forEach((b) => {
			let n = 0;
			$$(ITEM, b).forEach((el) => {
				const s = el.dataset.search || '';
				const show = terms.every((t) => s.includes(t));
				el.hidden = !show;
				if (show) n++;
			});
			b.hidden = n === 0;
			const c = $('.bn', b);
			if (c) c.textContent = String(n);
			total += n;
		});
		if (cnt) cnt.textContent = plural(total);
		const nm = $('.nomatch');
		if (nm) nm.hidden = !(terms.length && !total && $$('.bk').length);
	}

	if (q) {
		q.hidden = false;
		try { q.value = sessionStorage.getItem(KEY) || ''; } catch (e) { /* storage blocked */ }
		q.addEventListener('input', () => {
			try { sessionStorage.setItem(KEY, q.value); } catch (e) { /* storage blocked */ }
			applyFilter();
		});
		if (q.value) applyFilter();
		d.addEventListener('keydown', (e) => {
			if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey &&
			    !e.target.closest('input, textarea, [contenteditable]')) {
				e.preventDefault();
				q.focus();
				q.select();
			}
		});
	}

	/* ---- drawers: one open at a time, widget-only mode ---- */
	const drawers = () => $$('details.dr[open]');

	function closeDrawers(except) {
		drawers().forEach((dr) => {
			if (dr !== except) dr.open = false;
		});
	}

	/* toggle does not bubble: listen in the capture phase. */
	d.addEventListener('toggle', (e) => {
		const dr = e.target;
		if (!(dr instanceof HTMLDetailsElement) || !dr.classList.contains('dr')) return;
		if (dr.open) closeDrawers(dr);
		else dr.classList.remove('wo');
		syncWidgetButton(dr);
	}, true);

	function syncWidgetButton(dr) {
		const item = dr.closest(ITEM);
		const b = item && $('.wb', item);
		if (b) b.setAttribute('aria-expanded', String(dr.open && dr.classList.contains('wo')));
	}

	function onWidgetButton(b) {
		const t = b.closest(ITEM);
		const dr = t && $('details.dr', t);
		if (!dr) return;
		if (dr.open && dr.classList.contains('wo')) {
			dr.open = false;
		} else {
			dr.classList.add('wo');
			dr.open = true;
			syncWidgetButton(dr);
		}
	}

	function onSummary(e, dr) {
		if (dr.open && dr.classList.contains('wo')) {
			/* widget-only -> full, in place */
			e.preventDefault();
			dr.classList.remove('wo');
			syncWidgetButton(dr);
		} else if (!dr.open) {
			dr.classList.remove('wo');
		}
	}

	/* ---- delete popover (only when canEdit()) ---- */
	let pop = null;

	function closePop(focusBack) {
		if (!pop) return;
		const owner = pop.previousElementSibling;
		pop.remove();
		pop = null;
		if (focusBack && owner) owner.focus();
	}

	function el(tag, cls, text) {
		const x = d.createElement(tag);
		if (cls) x.className = cls;
		if (text) x.textContent = text;
		return x;
	}

	function openPop(btn) {
		closePop(false);
		const item = btn.closest(ITEM);
		const name = nameOf(item);
		pop = el('div', 'pop');
		pop.setAttribute('role', 'dialog');
		pop.setAttribute('aria-label', 'Delete ' + name);
		const p = el('p', '', 'Delete ' + name + '?');
		const row = el('div');
		const no = el('button', 'btn', 'Cancel');
		const yes = el('button', 'btn danger', 'Confirm');
		no.type = yes.type = 'button';
		no.addEventListener('click', () => closePop(true));
		yes.addEventListener('click', () => {
			yes.disabled = true;
			fetch('api/v1/services/' + item.id.slice(2), {
				method: 'DELETE',
				credentials: 'same-origin',
				headers: { 'X-CSRF-Token': me.csrf_token },
			})
				.then((r) => {
					if (!r.ok) throw new Error('HTTP ' + r.status);
					closePop(false);
					item.remove();
					applyFilter();
				})
				.catch((err) => {
					yes.disabled = false;
					const old = pop && $('.err', pop);
					if (old) old.remove();
					if (pop) p.append(el('span', 'err', ' Failed: ' + err.message));
				});
		});
		row.append(no, yes);
		pop.append(p, row);
		btn.after(pop);
		no.focus();
	}

	/* ---- clicks: one delegated listener ---- */
	d.addEventListener('click', (e) => {
		const t = e.target instanceof Element ? e.target : null;
		if (!t) return;
		let keep = t.closest('details.dr');

		const wb = t.closest('.wb');
		if (wb) {
			const item = wb.closest(ITEM);
			keep = item && $('details.dr', item);
			onWidgetButton(wb);
		}
		const sum = t.closest('details.dr > summary');
		if (sum) onSummary(e, sum.parentElement);

		if (pop && !pop.contains(t)) closePop(false);
		const del = t.closest('.act-del');
		if (del && canEdit()) openPop(del);

		closeDrawers(keep);
	});

	d.addEventListener('keydown', (e) => {
		if (e.key !== 'Escape') return;
		if (pop) {
			closePop(true);
			return;
		}
		const open = drawers();
		if (!open.length) return;
		const back = open[0].contains(d.activeElement) ? $('summary', open[0]) : null;
		closeDrawers(null);
		if (back) back.focus();
	});

	/* ---- live refresh: only when the daemon serves the page ---- */
	let busy = false;
	let again = false;

	async function refresh() {
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		try {
			const r = await fetch(location.href, { cache: 'no-cache', credentials: 'same-origin' });
			if (r.ok) swapMain(new DOMParser().parseFromString(await r.text(), 'text/html'));
		} catch (err) {
			/* keep the page as it is */
		}
		busy = false;
		if (again) {
			again = false;
			refresh();
		}
	}

	function swapMain(doc) {
		const m = $('main');
		const nm = doc.querySelector('main');
		if (!m || !nm) return;
		const state = new Map($$('details[id]', m).map((x) => [x.id, [x.open, x.classList.contains('wo')]]));
		m.className = nm.className;
		m.replaceChildren(...Array.from(nm.childNodes).map((n) => d.adoptNode(n)));
		$$('details[id]', m).forEach((x) => {
			const s = state.get(x.id);
			if (!s) return;
			x.classList.toggle('wo', s[1]);
			x.open = s[0];
		});
		enhance(m);
		applyFilter();
	}

	function live() {
		if (!/^https?:$/.test(location.protocol) || !('EventSource' in window)) return;
		let es;
		try {
			es = new EventSource('api/v1/events');
		} catch (err) {
			return;
		}
		let opened = false;
		let fails = 0;
		const badge = $('#live');
		es.addEventListener('open', () => {
			opened = true;
			fails = 0;
			if (badge) badge.hidden = false;
		});
		es.addEventListener('error', () => {
			if (badge) badge.hidden = true;
			/* no endpoint: stop at once; a restarting daemon: a few retries */
			if (!opened || ++fails > 5) es.close();
		});
		es.addEventListener('render', refresh);
	}

	enhance(d);
	/* Only after a login to the daemon (its portolan_ui cookie): a copy of the site stays read-only. */
	if (/(^|;\s*)portolan_ui=1/.test(d.cookie))
		fetch('api/v1/me', { credentials: 'same-origin' })
			.then((r) => (r.ok ? r.json() : null))
			.then((m) => {
				me = m;
				if (canEdit()) $$('.t, tr[id]').forEach(addControls);
			})
			.catch(() => {});
	live();
})();
