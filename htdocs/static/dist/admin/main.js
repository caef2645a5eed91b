/*
 * custos admin interface shell: checks who is logged in and whether they may use the admin,
 * loads the model and page modules, builds the header and grouped sidebar, and routes
 * '#/<route>?<query>' to pages, lists, create forms and detail pages.
 */
import { api, me, canAccessAdmin } from '../common/api.js';
import { h, clear, toast, safeUrl } from '../common/dom.js';
import { applyBrand, initTheme, themeToggle, setTitle, DEFAULT_LOGO } from '../common/theme.js';
import { models, pages, modelById, applySchema, makeCtx, setReload } from './registry.js';
import { renderList } from './list.js';
import { renderDetail, renderCreatePage } from './detail.js';
import moduleList from './models/index.js';

const SECTIONS = ['Dashboards', 'Applications', 'Events', 'Customization', 'Flows and Stages', 'Directory', 'System'];
const LOGIN = '/flows/-/default/authentication/?next=';
const LOGOUT = '/flows/-/default/invalidation/';

initTheme();

const app = document.getElementById('cu-app');

function toLogin() {
	location.assign(LOGIN + encodeURIComponent(location.pathname + location.hash));
}

function denied(brand, user) {
	clear(app);
	setTitle('Access denied');
	const main = h('main', { id: 'cu-main', class: 'cu-denied' },
		h('div', { class: 'cu-card' },
			brand.logo ? h('img', { src: brand.logo, alt: brand.branding_title || 'custos', class: 'cu-denied-logo' }) : null,
			h('h1', { tabindex: '-1' }, 'Access denied'),
			h('p', null, user && user.username
				? `The account ${user.username} may not use the admin interface.`
				: 'Your account may not use the admin interface.'),
			h('p', null, h('a', { href: '/if/user/', class: 'cu-btn cu-btn-primary' }, 'Go to the user interface'))));
	app.appendChild(main);
	app.removeAttribute('aria-busy');
	main.querySelector('h1').focus();
}

/* The user's avatar next to the name (users/me gives an image URL, often an inline SVG); none
 * when it is not an image URL we load or fails to load. */
function avatarOf(user) {
	const src = safeUrl(user.avatar, { allowData: true });
	if (!src)
		return null;
	const img = h('img', { class: 'cu-avatar', src, alt: '', width: 28, height: 28 });
	img.addEventListener('error', () => img.remove(), { once: true });
	return img;
}

async function loadModules() {
	const base = new URL('./models/', import.meta.url);
	const results = await Promise.allSettled(moduleList.map((p) => import(new URL(p, base).href)));
	results.forEach((r, i) => {
		if (r.status === 'rejected')
			console.error(`admin: could not load ${moduleList[i]}:`, r.reason);
	});
}

async function loadSchema() {
	try {
		applySchema(await api('GET', 'schema/', { query: { format: 'json' } }));
	} catch (e) {
		console.warn('admin: no API schema; showing every model', e);
	}
}

/* '#/core/users/5?x=1' -> {route: 'core/users/5', query: URLSearchParams} */
function parseHash() {
	const raw = (location.hash || '').replace(/^#\/?/, '');
	const i = raw.indexOf('?');
	return { route: decodeURI(i >= 0 ? raw.slice(0, i) : raw).replace(/\/+$/, ''), query: new URLSearchParams(i >= 0 ? raw.slice(i + 1) : '') };
}

/* Resolve a route to {kind: 'page'|'list'|'detail'|'new', ...}: pages first, then the longest model id. */
function resolve(route) {
	const page = pages().find((p) => p.route === route);
	if (page)
		return { kind: 'page', page };
	const ms = models().slice().sort((a, b) => b.id.length - a.id.length);
	for (const m of ms) {
		if (route === m.id)
			return { kind: 'list', model: m };
		if (route.startsWith(m.id + '/')) {
			const rest = route.slice(m.id.length + 1);
			if (rest.includes('/'))
				continue;
			if (rest === 'new')
				return m.create !== false ? { kind: 'new', model: m } : { kind: 'list', model: m };
			return { kind: 'detail', model: m, pk: decodeURIComponent(rest) };
		}
	}
	return null;
}

function navEntries() {
	const items = [];
	for (const p of pages())
		if (p.nav && p.title)
			items.push({ section: p.nav, order: p.order ?? 100, title: p.navTitle || p.title, route: p.route === '' ? (p.alias || p.route) : p.route });
	for (const m of models())
		if (m.nav !== false && m.nav)
			items.push({ section: m.nav, order: m.order ?? 100, title: m.navTitle || m.title, route: m.id });
	/* one nav entry per route */
	const seen = new Set();
	return items.filter((it) => (seen.has(it.route) ? false : (seen.add(it.route), true)));
}

function buildNav(nav) {
	const entries = navEntries();
	const sections = SECTIONS.concat([...new Set(entries.map((e) => e.section))].filter((s) => !SECTIONS.includes(s)));
	const links = [];
	for (const s of sections) {
		const its = entries.filter((e) => e.section === s).sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
		if (!its.length)
			continue;
		const id = `nav-${s.replace(/\W+/g, '-').toLowerCase()}`;
		nav.appendChild(h('div', { class: 'cu-nav-section' },
			h('h2', { id, class: 'cu-nav-title' }, s),
			h('ul', { 'aria-labelledby': id }, its.map((it) => {
				const a = h('a', { href: `#/${it.route}`, class: 'cu-nav-link', dataset: { route: it.route } }, it.title);
				links.push(a);
				return h('li', null, a);
			}))));
	}
	return links;
}

async function start() {
	let meBody;
	try {
		meBody = await me();
	} catch (e) {
		if (e.status === 401 || e.status === 403) {
			toLogin();
			return;
		}
		clear(app);
		app.appendChild(h('main', { id: 'cu-main', class: 'cu-denied' }, h('div', { class: 'cu-card' },
			h('h1', null, 'The admin interface could not start'),
			h('p', null, e.detail || e.message),
			h('p', null, h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => location.reload() }, 'Try again')))));
		app.removeAttribute('aria-busy');
		return;
	}
	const brandPromise = applyBrand({ suffix: 'Admin interface' });
	const user = (meBody && meBody.user) || {};
	if (!user.pk && !user.username) {
		toLogin();
		return;
	}
	if (!canAccessAdmin(meBody)) {
		denied(await brandPromise, user);
		return;
	}
	const [brand] = await Promise.all([brandPromise, loadModules()]);
	await loadSchema();

	const main = h('main', { id: 'cu-main', class: 'cu-main', tabindex: '-1' });
	const nav = h('nav', { id: 'cu-nav', class: 'cu-sidebar', 'aria-label': 'Admin navigation' });
	const menuBtn = h('button', { type: 'button', class: 'cu-btn cu-btn-plain cu-menu-btn', 'aria-expanded': 'false', 'aria-controls': 'cu-nav' }, 'Menu');
	const setMenu = (open) => {
		app.classList.toggle('cu-nav-open', open);
		menuBtn.setAttribute('aria-expanded', open ? 'true' : 'false');
	};
	menuBtn.addEventListener('click', () => setMenu(!app.classList.contains('cu-nav-open')));
	const scrim = h('div', { class: 'cu-scrim', 'aria-hidden': 'true', onClick: () => setMenu(false) });
	document.addEventListener('keydown', (ev) => {
		if (ev.key === 'Escape' && app.classList.contains('cu-nav-open') && !document.querySelector('dialog[open]')) {
			setMenu(false);
			menuBtn.focus();
		}
	});
	const header = h('header', { class: 'cu-header' },
		menuBtn,
		h('a', { href: '#/', class: 'cu-brand' },
			h('img', { src: brand.logo, alt: brand.branding_title || 'custos', class: String(brand.logo).endsWith(DEFAULT_LOGO) ? 'cu-brand-logo cu-brand-default' : 'cu-brand-logo' })),
		h('span', { class: 'cu-header-title' }, 'Admin interface'),
		h('div', { class: 'cu-header-end' },
			themeToggle(),
			h('a', { href: '/if/user/', class: 'cu-header-link' }, 'User interface'),
			avatarOf(user),
			h('span', { class: 'cu-user', title: user.username || '' }, user.name || user.username || ''),
			h('a', { href: LOGOUT, class: 'cu-header-link' }, 'Log out')));
	clear(app);
	app.append(h('a', { href: '#cu-main', class: 'cu-skip', onClick: (ev) => { ev.preventDefault(); main.focus(); } }, 'Skip to content'),
		header, h('div', { class: 'cu-body' }, nav, scrim, main));
	app.removeAttribute('aria-busy');
	const links = buildNav(nav);
	/* on narrow screens the header's account links live at the end of the menu */
	nav.appendChild(h('div', { class: 'cu-nav-section cu-nav-account' },
		h('h2', { id: 'nav-account', class: 'cu-nav-title' }, user.username || 'Account'),
		h('ul', { 'aria-labelledby': 'nav-account' },
			h('li', null, h('a', { href: '/if/user/', class: 'cu-nav-link' }, 'User interface')),
			h('li', null, h('a', { href: LOGOUT, class: 'cu-nav-link' }, 'Log out')))));

	let renderSeq = 0;
	let lastRoute = null;
	const route = async () => {
		const my = ++renderSeq;
		const { route: r, query } = parseHash();
		setMenu(false);
		const found = resolve(r);
		for (const a of links) {
			const cur = found && (a.dataset.route === r || (found.model && a.dataset.route === found.model.id) ||
				(found.page && (a.dataset.route === found.page.route || (found.page.route === '' && a.dataset.route === found.page.alias))));
			if (cur)
				a.setAttribute('aria-current', 'page');
			else
				a.removeAttribute('aria-current');
		}
		const routeChanged = r !== lastRoute;
		lastRoute = r;
		clear(main);
		let title = 'Not found';
		try {
			if (!found) {
				main.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'There is no page at this address. '),
					h('p', null, h('a', { href: '#/' }, 'Go to the overview')));
			} else if (found.kind === 'page') {
				title = found.page.title;
				await found.page.render(main, Object.fromEntries(query), makeCtx(null));
			} else if (found.kind === 'list') {
				title = found.model.title;
				renderList(main, found.model, {});
			} else if (found.kind === 'new') {
				title = `Create ${found.model.singular || found.model.title}`;
				renderCreatePage(main, found.model);
			} else {
				title = found.model.singular || found.model.title;
				await renderDetail(main, found.model, found.pk, makeCtx(found.model));
				const h1 = main.querySelector('h1');
				if (h1 && h1.textContent)
					title = `${h1.textContent} - ${found.model.singular || found.model.title}`;
			}
		} catch (e) {
			console.error(e);
			if (my === renderSeq) {
				clear(main);
				main.append(h('h1', { tabindex: '-1' }, 'Something went wrong'),
					h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message || String(e)));
			}
		}
		if (my !== renderSeq)
			return;
		setTitle(title);
		if (routeChanged || !main.contains(document.activeElement)) {
			const h1 = main.querySelector('h1');
			if (h1) {
				if (!h1.hasAttribute('tabindex'))
					h1.setAttribute('tabindex', '-1');
				h1.focus();
			} else {
				main.focus();
			}
		}
	};
	setReload(route);
	window.addEventListener('hashchange', route);
	window.addEventListener('unhandledrejection', (ev) => {
		const e = ev.reason;
		if (e && e.status === 401)
			toLogin();
		else if (e && e.name === 'ApiError')
			toast(e.detail || e.message, 'error');
	});
	route();
}

start();
