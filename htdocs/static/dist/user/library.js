/*
 * "My applications" (#/library): a tile for every application the user may access, as
 * core/applications/ lists them, with a search box over name, publisher and description.
 */
import { apiList } from '../common/api.js';
import { h, clear, safeUrl } from '../common/dom.js';

const PAGE_SIZE = 100;
const MAX_PAGES = 100;

/* Every page of core/applications/, following pagination.next. */
async function loadApplications() {
	const out = [];
	let page = 1;
	for (let i = 0; i < MAX_PAGES; i++) {
		const { pagination, results } = await apiList('core/applications/', { page, page_size: PAGE_SIZE, ordering: 'name' });
		out.push(...results);
		if (!results.length || !pagination.next)
			break;
		page = Number(pagination.next) || page + 1;
	}
	return out;
}

function letterAvatar(name) {
	const letter = (String(name || '?').trim().charAt(0) || '?').toUpperCase();
	return h('span', { class: 'cu-app-letter', 'aria-hidden': 'true' }, letter);
}

function appIcon(app) {
	const src = safeUrl(app.meta_icon_url || app.meta_icon, { allowData: true });
	if (!src)
		return letterAvatar(app.name);
	const img = h('img', { class: 'cu-app-icon', src, alt: '', loading: 'lazy' });
	img.addEventListener('error', () => img.replaceWith(letterAvatar(app.name)), { once: true });
	return img;
}

function appTile(app) {
	const launch = safeUrl(app.launch_url);
	const name = app.name || app.slug || '';
	const title = launch
		? h('a', Object.assign({ class: 'cu-app-link', href: launch },
			app.open_in_new_tab ? { target: '_blank', rel: 'noopener noreferrer' } : {}),
			name, app.open_in_new_tab ? h('span', { class: 'cu-offscreen' }, ' (opens in a new tab)') : null)
		: h('span', { class: 'cu-app-name' }, name);
	return h('li', { class: ['cu-app-tile', launch ? 'cu-app-launchable' : 'cu-app-nolaunch'] },
		h('div', { class: 'cu-app-figure' }, appIcon(app)),
		h('div', { class: 'cu-app-text' },
			h('h2', { class: 'cu-app-title' }, title),
			app.meta_publisher ? h('p', { class: 'cu-app-publisher' }, app.meta_publisher) : null,
			app.meta_description ? h('p', { class: 'cu-app-description' }, app.meta_description) : null,
			launch ? null : h('p', { class: 'cu-app-note' }, 'No launch URL')));
}

function matches(app, q) {
	if (!q)
		return true;
	return [app.name, app.meta_description, app.meta_publisher]
		.some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
}

export async function renderLibrary(el, ctx) {
	const search = h('input', { type: 'search', id: 'cu-app-search', class: 'cu-input', autocomplete: 'off', placeholder: 'Search applications' });
	const grid = h('ul', { class: 'cu-app-grid', 'aria-labelledby': 'cu-library-title' });
	const status = h('p', { class: 'cu-user-status', 'aria-live': 'polite' }, 'Loading…');
	el.append(h('section', { class: 'cu-user-page' },
		h('div', { class: 'cu-page-head' },
			h('h1', { id: 'cu-library-title' }, 'My applications'),
			h('div', { class: 'cu-app-search', role: 'search' },
				h('label', { for: 'cu-app-search' }, 'Search'), search)),
		status, grid));

	let apps;
	try {
		apps = await loadApplications();
	} catch (e) {
		status.setAttribute('role', 'alert');
		status.className = 'cu-alert cu-alert-error';
		status.textContent = `Your applications could not be loaded: ${e.message}`;
		search.disabled = true;
		return;
	}
	if (!ctx.current())
		return;

	const show = () => {
		const q = search.value.trim().toLowerCase();
		const shown = apps.filter((a) => matches(a, q));
		clear(grid);
		for (const app of shown)
			grid.append(appTile(app));
		if (!apps.length)
			status.textContent = 'No applications available.';
		else if (!shown.length)
			status.textContent = `No applications match “${search.value.trim()}”.`;
		else
			status.textContent = q ? `${shown.length} of ${apps.length} applications` : '';
	};
	search.addEventListener('input', show);
	search.disabled = apps.length === 0;
	show();
}
