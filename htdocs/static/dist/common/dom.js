/*
 * DOM helpers shared by the custos web interfaces: element building (text only, never HTML),
 * URL checking, date formatting, toasts and modal dialogs.
 */

const BOOL_ATTRS = new Set(['disabled', 'checked', 'required', 'readonly', 'hidden', 'multiple',
	'selected', 'open', 'autofocus', 'novalidate', 'inert']);
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate']);

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null)
				continue;
			if (k === 'class' || k === 'className') {
				el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
			} else if (k === 'dataset') {
				for (const [dk, dv] of Object.entries(v))
					if (dv !== undefined && dv !== null)
						el.dataset[dk] = dv;
			} else if (k.startsWith('on') && typeof v === 'function') {
				el.addEventListener(k.slice(2).toLowerCase(), v);
			} else if (k === 'for') {
				el.htmlFor = v;
			} else if (PROPS.has(k)) {
				el[k] = v;
			} else if (v === true) {
				el.setAttribute(k, '');
			} else if (v === false) {
				if (!BOOL_ATTRS.has(k) && k.startsWith('aria-'))
					el.setAttribute(k, 'false');
			} else {
				el.setAttribute(k, String(v));
			}
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false || c === true)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(node) {
	while (node && node.firstChild)
		node.removeChild(node.firstChild);
	return node;
}

/*
 * http(s) URLs, and same-origin relative ones; anything else (javascript:, data:, blob: ...) is
 * null. allowData also lets inline images through (png, jpeg, gif, webp and svg+xml): only for
 * an <img src> or an icon link, where an SVG is drawn as a picture and its script never runs;
 * never for an href a user can follow.
 */
export function safeUrl(u, { allowData = false } = {}) {
	if (typeof u !== 'string' || u === '' || u.length > 1024 * 1024)
		return null;
	const s = u.trim();
	if (allowData && /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(s))
		return s;
	if (s.length > 8192)
		return null;
	let parsed;
	try {
		parsed = new URL(s, window.location.href);
	} catch (e) {
		return null;
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
		return null;
	/* relative URLs must stay on this origin; absolute http(s) ones may go anywhere */
	if (!/^[a-z][a-z0-9+.-]*:/i.test(s) && parsed.origin !== window.location.origin)
		return null;
	return parsed.href;
}

export function fmtDate(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return String(iso);
	return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
	['hour', 3600], ['minute', 60], ['second', 1]];
let rtf = null;
export function fmtRelative(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return String(iso);
	const diff = (d.getTime() - Date.now()) / 1000;
	if (Math.abs(diff) < 10)
		return 'just now';
	if (!rtf)
		rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
	for (const [unit, secs] of UNITS)
		if (Math.abs(diff) >= secs || unit === 'second')
			return rtf.format(Math.round(diff / secs), unit);
	return '';
}

/*
 * Toasts live in a polite live region. A modal <dialog> sits in the top layer and makes the rest
 * of the page inert, so each open dialog carries its own (empty until used) region and a toast
 * goes to the region of the topmost modal dialog; when that dialog closes, its toasts move back
 * to the page's region.
 */
let toastRegion = null;
const newToastRegion = () => h('div', { class: 'cu-toasts', role: 'status', 'aria-live': 'polite' });

function pageToasts() {
	if (!toastRegion || !toastRegion.isConnected) {
		toastRegion = newToastRegion();
		document.body.appendChild(toastRegion);
	}
	return toastRegion;
}

function topModal() {
	const open = [...document.querySelectorAll('dialog[open]')].filter((d) => {
		try {
			return d.matches(':modal');
		} catch (e) {
			return true;
		}
	});
	return open.length ? open[open.length - 1] : null;
}

function toastHost() {
	const dialog = topModal();
	if (!dialog)
		return pageToasts();
	let region = [...dialog.children].find((c) => c.classList.contains('cu-toasts'));
	if (!region) {
		region = newToastRegion();
		dialog.appendChild(region);
	}
	return region;
}

/* Before a dialog goes away: its toasts stay on screen in the next region down. */
function rehomeToasts(dialog) {
	const region = [...dialog.children].find((c) => c.classList.contains('cu-toasts'));
	if (!region || !region.firstChild)
		return;
	const items = [...region.children];
	region.remove();
	const host = toastHost();
	for (const item of items)
		host.appendChild(item);
}

export function toast(message, kind = 'success') {
	const item = h('div', { class: `cu-toast cu-toast-${kind}` },
		h('span', null, String(message)),
		h('button', { type: 'button', class: 'cu-toast-close', 'aria-label': 'Dismiss', onClick: () => item.remove() }, '×'));
	if (kind === 'error')
		item.setAttribute('role', 'alert');
	toastHost().appendChild(item);
	setTimeout(() => item.remove(), kind === 'error' ? 10000 : 5000);
	return item;
}

let dialogSeq = 0;
export function openDialog(title, bodyNode, { wide } = {}) {
	const id = `cu-dialog-title-${++dialogSeq}`;
	const previous = document.activeElement;
	const dialog = h('dialog', { class: wide ? 'cu-dialog cu-dialog-wide' : 'cu-dialog', 'aria-labelledby': id });
	const close = () => {
		if (dialog.open)
			dialog.close();
		rehomeToasts(dialog);
		dialog.remove();
		if (previous && previous.isConnected && typeof previous.focus === 'function')
			previous.focus();
	};
	dialog.append(
		h('div', { class: 'cu-dialog-head' },
			h('h2', { id }, title),
			h('button', { type: 'button', class: 'cu-btn cu-btn-plain cu-dialog-x', 'aria-label': 'Close', onClick: close }, '×')),
		h('div', { class: 'cu-dialog-body' }, bodyNode),
		newToastRegion());
	dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
	dialog.addEventListener('close', () => { if (dialog.isConnected) close(); });
	document.body.appendChild(dialog);
	dialog.showModal();
	const first = dialog.querySelector('.cu-dialog-body input:not([type=hidden]), .cu-dialog-body select, .cu-dialog-body textarea, .cu-dialog-body button');
	if (first)
		first.focus();
	return { dialog, close };
}

export function confirmDialog(title, text, { danger = true, confirmLabel = 'Delete' } = {}) {
	return new Promise((resolve) => {
		let done = false;
		const finish = (v) => {
			if (done)
				return;
			done = true;
			d.close();
			resolve(v);
		};
		const cancel = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => finish(false) }, 'Cancel');
		const ok = h('button', { type: 'button', class: danger ? 'cu-btn cu-btn-danger' : 'cu-btn cu-btn-primary', onClick: () => finish(true) }, confirmLabel);
		const body = h('div', null,
			(Array.isArray(text) ? text : [text]).map((t) => (t instanceof Node ? t : h('p', null, t))),
			h('div', { class: 'cu-actions' }, cancel, ok));
		const d = openDialog(title, body);
		d.dialog.setAttribute('role', 'alertdialog');
		d.dialog.addEventListener('close', () => finish(false));
		cancel.focus();
	});
}

export function copyButton(text, label = 'Copy') {
	const btn = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small' }, label);
	btn.addEventListener('click', async () => {
		const value = typeof text === 'function' ? text() : text;
		let ok = false;
		try {
			await navigator.clipboard.writeText(value);
			ok = true;
		} catch (e) {
			const ta = h('textarea', { class: 'cu-offscreen', readonly: true }, value);
			document.body.appendChild(ta);
			ta.select();
			try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
			ta.remove();
		}
		btn.textContent = ok ? 'Copied' : 'Copy failed';
		setTimeout(() => { btn.textContent = label; }, 2000);
		toast(ok ? 'Copied to clipboard' : 'Could not copy; select the text and copy it by hand.', ok ? 'info' : 'error');
	});
	return btn;
}

export function spinner() {
	return h('span', { class: 'cu-spinner', role: 'status' }, h('span', { class: 'cu-offscreen' }, 'Loading…'));
}
