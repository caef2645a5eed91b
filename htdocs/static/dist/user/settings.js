/*
 * "Settings" (#/settings/<section>): the user's profile, password, sessions, consents, and
 * tokens and app passwords, as tabs. The selected tab is kept in the hash.
 */
import { api, apiList, currentBrand } from '../common/api.js';
import { h, clear, safeUrl, fmtDate, toast, confirmDialog } from '../common/dom.js';
import { table, when, section } from './ui.js';
import { renderTokens } from './tokens.js';

const PASSWORD_FALLBACK = '/if/flow/default-password-change/';
const RETURN_TO = '/if/user/%23/settings';

const SECTIONS = [
	{ key: 'profile', label: 'Profile', render: renderProfile },
	{ key: 'password', label: 'Password', render: renderPassword },
	{ key: 'sessions', label: 'Sessions', render: renderSessions },
	{ key: 'consents', label: 'Consents', render: renderConsents },
	{ key: 'tokens', label: 'Tokens and app passwords', render: renderTokens },
];

/* --- Profile ------------------------------------------------------------------------------ */

async function renderProfile(box, ctx) {
	await section(box, async () => {
		const u = ctx.user;
		let brand = null;
		try {
			brand = await currentBrand();
		} catch (e) {
			brand = null;
		}
		const flow = brand && typeof brand.flow_user_settings === 'string' ? brand.flow_user_settings : '';
		const rows = [['Username', u.username], ['Name', u.name], ['Email', u.email]];
		return [
			h('h2', null, 'Profile'),
			h('dl', { class: 'cu-dl' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v || '—')])),
			flow
				? h('p', null, h('a', { class: 'cu-btn cu-btn-primary',
					href: `/if/flow/${encodeURIComponent(flow)}/?next=${RETURN_TO}` }, 'Edit profile'))
				: h('p', { class: 'cu-user-note' }, 'Your profile cannot be edited here: no user settings flow is configured for this brand.'),
		];
	});
}

/* --- Password ----------------------------------------------------------------------------- */

/* The password stage's configure_url from stages/all/user_settings/, or the default flow. */
async function passwordUrl() {
	let items = [];
	try {
		const data = await api('GET', 'stages/all/user_settings/');
		items = Array.isArray(data) ? data : (data && Array.isArray(data.results) ? data.results : []);
	} catch (e) {
		if (e.status !== 404)
			throw e;
	}
	const item = items.find((x) => x && x.component === 'ak-user-settings-password');
	const url = (item ? safeUrl(item.configure_url) : null) || safeUrl(PASSWORD_FALLBACK);
	const parsed = new URL(url);
	if (parsed.origin === window.location.origin && !parsed.searchParams.has('next'))
		parsed.searchParams.set('next', '/if/user/#/settings/password');
	return parsed.origin === window.location.origin ? parsed.pathname + parsed.search + parsed.hash : parsed.href;
}

async function renderPassword(box) {
	await section(box, async () => {
		const url = await passwordUrl();
		return [
			h('h2', null, 'Password'),
			h('p', null, 'Change the password you log in with.'),
			h('p', null, h('a', { class: 'cu-btn cu-btn-primary', href: url }, 'Change password')),
		];
	});
}

/* --- Sessions ----------------------------------------------------------------------------- */

function deviceText(s) {
	const ua = s.user_agent && typeof s.user_agent === 'object' ? s.user_agent : null;
	if (!ua)
		return s.last_user_agent || 'Unknown device';
	const browser = ua.user_agent && ua.user_agent.family ? [ua.user_agent.family, ua.user_agent.major].filter(Boolean).join(' ') : '';
	const os = ua.os && ua.os.family ? [ua.os.family, ua.os.major].filter(Boolean).join(' ') : '';
	const dev = ua.device && ua.device.family && ua.device.family !== 'Other' ? ua.device.family : '';
	let text = browser && os ? `${browser} on ${os}` : (browser || os);
	if (dev)
		text = text ? `${text} (${dev})` : dev;
	return text || s.last_user_agent || 'Unknown device';
}

async function renderSessions(box, ctx) {
	const reload = () => renderSessions(box, ctx);
	await section(box, async () => {
		const { results } = await apiList('core/authenticated_sessions/', {
			user__username: ctx.user.username, ordering: '-last_used', page_size: 100,
		});
		const mine = results.filter((s) => s.user === undefined || s.user === ctx.user.pk);
		const rows = mine.map((s) => {
			const device = deviceText(s);
			const btn = h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small',
				'aria-label': `Revoke session ${device}${s.current ? ' (this session)' : ''}` }, 'Revoke');
			btn.addEventListener('click', async () => {
				const text = s.current
					? 'This is the session you are using now: you will be logged out.'
					: `The session of ${device} (${s.last_ip || 'unknown address'}) will be ended.`;
				if (!await confirmDialog('Revoke session?', text, { confirmLabel: 'Revoke' }))
					return;
				try {
					await api('DELETE', `core/authenticated_sessions/${encodeURIComponent(s.uuid)}/`);
					toast('Session revoked');
					if (s.current) {
						window.location.reload();
						return;
					}
					reload();
				} catch (e) {
					toast(`Could not revoke the session: ${e.message}`, 'error');
				}
			});
			return [
				h('span', null, h('span', { class: 'cu-session-device', title: s.last_user_agent || '' }, device),
					s.current ? h('span', { class: 'cu-badge cu-badge-current' }, 'This session') : null),
				s.last_ip || '',
				when(s.last_used),
				s.expires ? fmtDate(s.expires) : 'Never',
				btn,
			];
		});
		return [
			h('h2', null, 'Sessions'),
			h('p', null, 'Where you are logged in. Revoking a session logs that device out.'),
			mine.length
				? table('Your sessions', ['Device', 'IP address', 'Last used', 'Expires', 'Actions'], rows)
				: h('p', { class: 'cu-user-note' }, 'No sessions.'),
		];
	});
}

/* --- Consents ----------------------------------------------------------------------------- */

function permissionsText(p) {
	if (Array.isArray(p))
		return p.join(', ');
	if (typeof p === 'string')
		return p.split(/\s+/).filter(Boolean).join(', ');
	return '';
}

async function renderConsents(box, ctx) {
	const reload = () => renderConsents(box, ctx);
	await section(box, async () => {
		const { results } = await apiList('core/user_consent/', { user: ctx.user.pk, page_size: 100 });
		const rows = results.map((c) => {
			const app = c.application && typeof c.application === 'object' ? c.application : {};
			const name = app.name || app.slug || 'Application';
			const btn = h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small',
				'aria-label': `Revoke consent for ${name}` }, 'Revoke');
			btn.addEventListener('click', async () => {
				if (!await confirmDialog('Revoke consent?', `${name} will ask for your consent again the next time you use it.`, { confirmLabel: 'Revoke' }))
					return;
				try {
					await api('DELETE', `core/user_consent/${encodeURIComponent(c.pk)}/`);
					toast(`Consent for ${name} revoked`);
					reload();
				} catch (e) {
					toast(`Could not revoke the consent: ${e.message}`, 'error');
				}
			});
			return [name, permissionsText(c.permissions) || '—', c.expiring === false || !c.expires ? 'Never' : fmtDate(c.expires), btn];
		});
		return [
			h('h2', null, 'Consents'),
			h('p', null, 'Applications you have allowed to use your account.'),
			results.length
				? table('Your consents', ['Application', 'Permissions', 'Expires', 'Actions'], rows)
				: h('p', { class: 'cu-user-note' }, 'You have not given consent to any application.'),
		];
	});
}

/* --- the page ----------------------------------------------------------------------------- */

export async function renderSettings(el, ctx) {
	const wanted = ctx.rest[0];
	let current = SECTIONS.find((s) => s.key === wanted) || SECTIONS[0];
	const panel = h('div', { class: 'cu-tabpanel', role: 'tabpanel', id: 'cu-settings-panel', tabindex: '0' });
	const tabs = SECTIONS.map((s) => h('button', {
		type: 'button', role: 'tab', id: `cu-tab-${s.key}`, class: 'cu-tab',
		'aria-controls': 'cu-settings-panel',
	}, s.label));
	let seq = 0;

	const select = async (s, { focus = false, push = true } = {}) => {
		current = s;
		tabs.forEach((t, i) => {
			const on = SECTIONS[i] === s;
			t.setAttribute('aria-selected', on ? 'true' : 'false');
			t.tabIndex = on ? 0 : -1;
		});
		panel.setAttribute('aria-labelledby', `cu-tab-${s.key}`);
		if (focus)
			tabs[SECTIONS.indexOf(s)].focus();
		if (push)
			history.replaceState(null, '', `#/settings/${s.key}`);
		const mine = ++seq;
		clear(panel);
		const box = h('div');
		panel.append(box);
		await s.render(box, { ...ctx, current: () => ctx.current() && mine === seq });
	};

	tabs.forEach((t, i) => {
		t.addEventListener('click', () => select(SECTIONS[i]));
		t.addEventListener('keydown', (ev) => {
			let j = null;
			if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown')
				j = (i + 1) % SECTIONS.length;
			else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp')
				j = (i - 1 + SECTIONS.length) % SECTIONS.length;
			else if (ev.key === 'Home')
				j = 0;
			else if (ev.key === 'End')
				j = SECTIONS.length - 1;
			if (j === null)
				return;
			ev.preventDefault();
			select(SECTIONS[j], { focus: true });
		});
	});

	el.append(h('section', { class: 'cu-user-page' },
		h('h1', null, 'Settings'),
		h('div', { class: 'cu-tabs', role: 'tablist', 'aria-label': 'Settings sections' }, tabs),
		panel));
	await select(current, { push: false });
}
