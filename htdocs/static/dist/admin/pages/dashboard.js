/*
 * Admin overview: logins and failed logins of the last 7 days (an inline SVG bar chart with a
 * table alternative), recent events, system status and version, and worker and task health.
 */
import { api, apiList } from '../../common/api.js';
import { h, clear, fmtDate, fmtRelative, spinner } from '../../common/dom.js';
import { registerPage } from '../registry.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAYS = 7;

function svg(tag, attrs, ...children) {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {}))
		el.setAttribute(k, String(v));
	for (const c of children)
		if (c !== null && c !== undefined)
			el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
	return el;
}

function card(title, wide, ...body) {
	const id = `dash-${title.replace(/\W+/g, '-').toLowerCase()}`;
	return h('section', { class: wide ? 'cu-card cu-wide' : 'cu-card', 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

/* Run a panel's loader into its body, with a spinner and an error line. */
async function fill(body, load) {
	clear(body);
	body.appendChild(spinner());
	try {
		const node = await load();
		clear(body);
		body.append(node);
	} catch (e) {
		clear(body);
		body.appendChild(h('p', { class: 'cu-muted' }, e.status === 404 ? 'Unavailable.' : `Unavailable: ${e.detail || e.message}`));
	}
}

function lastDays() {
	const out = [];
	const now = new Date();
	for (let i = DAYS - 1; i >= 0; i--) {
		const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i));
		out.push(d.toISOString().slice(0, 10));
	}
	return out;
}

function perDay(rows) {
	const m = new Map();
	for (const r of Array.isArray(rows) ? rows : []) {
		const day = String(r.time || '').slice(0, 10);
		m.set(day, (m.get(day) || 0) + (Number(r.count) || 0));
	}
	return m;
}

function dayLabel(day) {
	const d = new Date(day + 'T12:00:00Z');
	return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });
}

function loginChart(days, ok, failed) {
	const W = 320;
	const H = 150;
	const top = 10;
	const bottom = 24;
	const left = 24;
	const max = Math.max(1, ...days.map((d) => Math.max(ok.get(d) || 0, failed.get(d) || 0)));
	const slot = (W - left) / days.length;
	const bw = Math.max(4, slot / 2 - 4);
	const y = (v) => top + (H - top - bottom) * (1 - v / max);
	const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'cu-chart', 'aria-hidden': 'true', focusable: 'false' },
		svg('line', { x1: left, x2: W, y1: H - bottom, y2: H - bottom, class: 'axis' }),
		svg('text', { x: 0, y: top + 8 }, String(max)),
		svg('text', { x: 0, y: H - bottom }, '0'));
	days.forEach((d, i) => {
		const x = left + i * slot + 2;
		const a = ok.get(d) || 0;
		const b = failed.get(d) || 0;
		chart.appendChild(svg('rect', { x, y: y(a), width: bw, height: H - bottom - y(a), class: 'bar-a' }, svg('title', null, `${d}: ${a} logins`)));
		chart.appendChild(svg('rect', { x: x + bw + 1, y: y(b), width: bw, height: H - bottom - y(b), class: 'bar-b' }, svg('title', null, `${d}: ${b} failed`)));
		chart.appendChild(svg('text', { x: x, y: H - 8 }, dayLabel(d)));
	});
	const table = h('table', { class: 'cu-offscreen' },
		h('caption', null, `Logins and failed logins per day, last ${DAYS} days`),
		h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Logins'), h('th', { scope: 'col' }, 'Failed logins'))),
		h('tbody', null, days.map((d) => h('tr', null, h('th', { scope: 'row' }, d), h('td', null, String(ok.get(d) || 0)), h('td', null, String(failed.get(d) || 0))))));
	const total = (m) => days.reduce((s, d) => s + (m.get(d) || 0), 0);
	return h('div', null,
		h('p', { class: 'cu-muted' }, `${total(ok)} ${total(ok) === 1 ? 'login' : 'logins'}, ${total(failed)} failed in the last ${DAYS} days`),
		chart,
		h('div', { class: 'cu-legend', 'aria-hidden': 'true' }, h('span', null, 'Logins'), h('span', { class: 'cu-legend-b' }, 'Failed logins')),
		table);
}

function kv(pairs) {
	return h('dl', { class: 'cu-kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

async function loadLogins() {
	const q = (action) => api('GET', 'events/events/volume/', { query: { action, history_days: DAYS } });
	const [ok, failed] = await Promise.all([q('login'), q('login_failed')]);
	return loginChart(lastDays(), perDay(ok), perDay(failed));
}

async function loadEvents() {
	const { results } = await apiList('events/events/', { ordering: '-created', page_size: 10 });
	if (!results.length)
		return h('p', { class: 'cu-muted' }, 'No events yet.');
	return h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table cu-small-table' },
		h('thead', null, h('tr', null, ['Action', 'User', 'App', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
		h('tbody', null, results.map((ev) => h('tr', null,
			h('td', null, ev.action || ''),
			h('td', null, (ev.user && ev.user.username) || ''),
			h('td', null, ev.app || ''),
			h('td', null, h('time', { datetime: ev.created || '', title: fmtDate(ev.created) }, fmtRelative(ev.created))))))),
	h('p', null, h('a', { href: '#/events/events' }, 'All events')));
}

async function loadSystem() {
	const [sys, ver] = await Promise.allSettled([api('GET', 'admin/system/'), api('GET', 'admin/version/')]);
	if (sys.status === 'rejected' && ver.status === 'rejected')
		throw sys.reason;
	const s = sys.status === 'fulfilled' ? sys.value || {} : {};
	const v = ver.status === 'fulfilled' ? ver.value || {} : {};
	const rt = s.runtime || {};
	return kv([
		['Version', v.version_current],
		['Build', v.build_hash],
		['Host', s.http_host],
		['Secure connection', s.http_is_secure === undefined ? '' : (s.http_is_secure ? 'Yes' : 'No')],
		['Server time', s.server_time ? fmtDate(s.server_time) : ''],
		['Platform', [rt.platform, rt.architecture].filter(Boolean).join(' ')],
		['Environment', rt.environment],
		['OpenSSL', rt.openssl_version],
		['FIPS', rt.openssl_fips_enabled === undefined ? '' : (rt.openssl_fips_enabled ? 'Enabled' : 'Disabled')],
	]);
}

async function loadWorkers() {
	const [workers, status, schedules] = await Promise.allSettled([
		api('GET', 'tasks/workers'),
		api('GET', 'tasks/tasks/status/'),
		apiList('tasks/schedules/', { page_size: 100 }),
	]);
	const out = h('div');
	if (workers.status === 'fulfilled') {
		const list = Array.isArray(workers.value) ? workers.value : [];
		const stale = list.filter((w) => w.version_matching === false).length;
		out.append(h('p', null, h('span', { class: 'cu-stat' }, String(list.length)), ' ', list.length === 1 ? 'worker connected' : 'workers connected'));
		if (stale)
			out.append(h('p', { class: 'cu-alert cu-alert-warn' }, `${stale} running a different version`));
		if (!list.length)
			out.append(h('p', { class: 'cu-alert cu-alert-warn' }, 'No worker has reported in the last minute; background tasks will not run.'));
	} else {
		out.append(h('p', { class: 'cu-muted' }, 'Workers: unavailable.'));
	}
	if (status.status === 'fulfilled' && status.value) {
		const st = status.value;
		out.append(h('h3', null, 'Tasks'), kv([
			['Queued', String(st.queued ?? 0)], ['Running', String(st.running ?? 0)],
			['Succeeded', String(st.info ?? 0)], ['Warnings', String(st.warning ?? 0)],
			['Errors', String((st.error ?? 0) + (st.rejected ?? 0))],
		]));
	}
	if (schedules.status === 'fulfilled') {
		const rows = schedules.value.results;
		const bad = rows.filter((r) => ['error', 'rejected'].includes(r.last_task_status));
		const paused = rows.filter((r) => r.paused).length;
		out.append(h('h3', null, 'Schedules'),
			h('p', null, `${rows.length} schedules, ${paused} paused, ${bad.length} whose last run failed.`));
		if (bad.length)
			out.append(h('ul', null, bad.map((r) => h('li', null, r.description || r.uid || r.actor_name))));
	}
	return out;
}

async function render(el) {
	const panels = [
		['Logins', loadLogins],
		['System status', loadSystem],
		['Workers and tasks', loadWorkers],
		['Recent events', loadEvents, true],
	].map(([title, load, wide]) => {
		const body = h('div');
		return { node: card(title, wide, body), body, load };
	});
	el.append(h('div', { class: 'cu-page-head' }, h('h1', { tabindex: '-1' }, 'Overview')),
		h('div', { class: 'cu-grid' }, panels.map((p) => p.node)));
	await Promise.all(panels.map((p) => fill(p.body, p.load)));
}

registerPage({ route: 'administration/overview', title: 'Overview', nav: 'Dashboards', order: 1, render });
registerPage({ route: '', title: 'Overview', render });
