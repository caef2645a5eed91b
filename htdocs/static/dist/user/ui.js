/*
 * Small pieces the user interface's pages share: error boxes, loading text, tables, times and
 * sections that load, fail and retry.
 */
import { h, clear, fmtDate, fmtRelative } from '../common/dom.js';

export function errorBox(text, retry) {
	return h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, text,
		retry ? [' ', h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', onClick: retry }, 'Try again')] : null);
}

export function loading() {
	return h('p', { class: 'cu-user-status' }, 'Loading…');
}

/* A table inside a horizontally scrolling container; rows: arrays of cells (Node|string). */
export function table(caption, headers, rows) {
	return h('div', { class: 'cu-table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
		h('table', { class: 'cu-table' },
			h('caption', { class: 'cu-offscreen' }, caption),
			h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
			h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c) => h('td', null, c)))))));
}

export function when(iso) {
	if (!iso)
		return '';
	return h('time', { datetime: iso, title: fmtDate(iso) }, fmtRelative(iso));
}

/* Loads with fill(box) into box, showing "Loading…" first and an error with a retry after. */
export async function section(box, fill) {
	const run = async () => {
		clear(box);
		box.append(loading());
		try {
			const nodes = [await fill()].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false);
			clear(box);
			box.append(...nodes);
		} catch (e) {
			clear(box);
			box.append(errorBox(`This could not be loaded: ${e.message}`, run));
		}
	};
	await run();
}
