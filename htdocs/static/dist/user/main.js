/*
 * custos user interface (/if/user/): who is logged in, the header (brand, notifications, theme,
 * admin link, log out) and a hash router over the pages: #/library (the default), #/settings,
 * #/notifications. A visitor who is not logged in gets a page saying so with a way to log in.
 */
import { me, canAccessAdmin } from '../common/api.js';
import { h, clear, safeUrl } from '../common/dom.js';
import { applyBrand, initTheme, themeToggle } from '../common/theme.js';
import { renderLibrary } from './library.js';
import { renderSettings } from './settings.js';
import { NotificationBell, renderNotificationsPage } from './notifications.js';

const DEFAULT_LOGO = '/static/dist/assets/icons/icon_left_brand.svg';
const LOGOUT_URL = '/flows/-/default/invalidation/';
const LOGIN_URL = '/flows/-/default/authentication/';

const ROUTES = [
	{ key: 'library', label: 'My applications', render: renderLibrary },
	{ key: 'settings', label: 'Settings', render: renderSettings },
	{ key: 'notifications', label: 'Notifications', render: renderNotificationsPage, hidden: true },
];

const state = {
	me: null,        // the body of core/users/me/
	brand: null,
	bell: null,
	nav: [],         // [route key, link]
	loggedOut: false,
	renderSeq: 0,
};

const main = () => document.getElementById('cu-main');
const header = () => document.getElementById('cu-header');

/* '#/settings/tokens?x=1' -> {route: 'settings', rest: ['tokens']} */
function parseHash() {
	const raw = window.location.hash || '';
	if (!raw.startsWith('#/'))
		return { route: 'library', rest: [] };
	const path = raw.slice(2).split('?')[0];
	const parts = path.split('/').filter(Boolean).map((p) => {
		try {
			return decodeURIComponent(p);
		} catch (e) {
			return p;
		}
	});
	return { route: parts[0] || 'library', rest: parts.slice(1) };
}

function brandBlock(brand) {
	const title = (brand && brand.branding_title) || 'custos';
	return h('a', { class: 'cu-user-brand', href: '#/library' },
		h('img', { class: 'cu-user-logo', src: (brand && brand.logo) || DEFAULT_LOGO, alt: '' }),
		h('span', { class: 'cu-user-brand-title' }, title));
}

function letterAvatar(user) {
	const letter = (String(user.name || user.username || '?').trim().charAt(0) || '?').toUpperCase();
	return h('span', { class: 'cu-user-avatar cu-user-letter', 'aria-hidden': 'true' }, letter);
}

/* The avatar (a letter when the server's is not an image URL we load) and the name. */
function userBlock(user) {
	const src = safeUrl(user.avatar, { allowData: true });
	let avatar = letterAvatar(user);
	if (src) {
		avatar = h('img', { class: 'cu-user-avatar', src, alt: '', width: 32, height: 32 });
		avatar.addEventListener('error', () => avatar.replaceWith(letterAvatar(user)), { once: true });
	}
	return h('span', { class: 'cu-user-who' }, avatar,
		h('span', { class: 'cu-user-name', title: user.username || '' }, user.name || user.username || ''));
}

function renderHeader(brand, body) {
	const el = header();
	clear(el);
	const user = body ? body.user || {} : null;
	const tools = h('div', { class: 'cu-user-tools' });
	if (user) {
		state.bell = new NotificationBell(user);
		tools.append(state.bell.button);
	}
	tools.append(themeToggle());
	if (user && canAccessAdmin(body))
		tools.append(h('a', { class: 'cu-btn cu-btn-secondary cu-user-admin', href: '/if/admin/' }, 'Admin interface'));
	if (user) {
		tools.append(userBlock(user),
			h('a', { class: 'cu-btn cu-btn-plain cu-user-logout', href: LOGOUT_URL }, 'Log out'));
	}
	el.append(h('div', { class: 'cu-user-bar' }, brandBlock(brand), tools));
	if (user) {
		state.nav = ROUTES.filter((r) => !r.hidden).map((r) => [r.key, h('a', { href: `#/${r.key}` }, r.label)]);
		el.append(h('nav', { class: 'cu-user-nav', 'aria-label': 'Main' },
			h('ul', null, state.nav.map(([, a]) => h('li', null, a)))));
		el.append(state.bell.drawer);
		state.bell.refresh();
	}
}

function markNav(key) {
	for (const [k, a] of state.nav) {
		if (k === key)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
}

function loginHref() {
	return `${LOGIN_URL}?next=${encodeURIComponent('/if/user/' + (window.location.hash || ''))}`;
}

function renderLoggedOut() {
	const el = main();
	clear(el);
	el.append(h('section', { class: 'cu-user-card cu-user-signedout' },
		h('h1', { tabindex: '-1' }, 'Not logged in'),
		h('p', null, 'You are not logged in. ',
			h('a', { class: 'cu-btn cu-btn-primary', href: loginHref() }, 'Log in'))));
	el.setAttribute('aria-busy', 'false');
}

function renderLoadError(err) {
	const el = main();
	clear(el);
	el.append(h('section', { class: 'cu-user-card' },
		h('h1', { tabindex: '-1' }, 'My account'),
		h('div', { class: 'cu-alert cu-alert-error', role: 'alert' },
			`Your account could not be loaded: ${err.message || err}`),
		h('p', null, h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => start() }, 'Try again'))));
	el.setAttribute('aria-busy', 'false');
}

async function route({ focus = true } = {}) {
	if (!state.me)
		return;
	const { route: key, rest } = parseHash();
	const r = ROUTES.find((x) => x.key === key) || ROUTES[0];
	const seq = ++state.renderSeq;
	const el = main();
	markNav(r.key);
	if (state.bell)
		state.bell.close({ restoreFocus: false });
	clear(el);
	el.setAttribute('aria-busy', 'true');
	const ctx = {
		me: state.me,
		user: state.me.user || {},
		brand: state.brand,
		bell: state.bell,
		rest,
		current: () => seq === state.renderSeq,
	};
	try {
		await r.render(el, ctx);
	} catch (e) {
		if (seq === state.renderSeq)
			el.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, `This page could not be shown: ${e.message || e}`));
	}
	if (seq !== state.renderSeq)
		return;
	el.setAttribute('aria-busy', 'false');
	if (focus) {
		const h1 = el.querySelector('h1');
		if (h1) {
			if (!h1.hasAttribute('tabindex'))
				h1.setAttribute('tabindex', '-1');
			h1.focus();
		}
	}
}

async function start() {
	const el = main();
	el.setAttribute('aria-busy', 'true');
	const brandP = applyBrand({ suffix: 'My account' });
	let body = null;
	try {
		body = await me({ reload: true });
		if (!body || typeof body !== 'object' || !body.user || typeof body.user !== 'object')
			throw new Error('the answer could not be read');
	} catch (e) {
		state.brand = await brandP;
		renderHeader(state.brand, null);
		state.loggedOut = e && (e.status === 401 || e.status === 403);
		if (state.loggedOut)
			renderLoggedOut();
		else
			renderLoadError(e);
		return;
	}
	state.me = body;
	state.brand = await brandP;
	renderHeader(state.brand, body);
	await route({ focus: false });
}

function boot() {
	initTheme();
	const skip = document.querySelector('.cu-skip');
	if (skip) {
		skip.addEventListener('click', (ev) => {
			ev.preventDefault();
			main().focus();
		});
	}
	window.addEventListener('hashchange', () => {
		if (!(window.location.hash || '').startsWith('#/') && window.location.hash)
			return;
		if (state.loggedOut)
			renderLoggedOut();
		else
			route();
	});
	start();
}

boot();
