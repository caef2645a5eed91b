/*
 * Admin models under "System": brands, background task schedules and tasks (with the workers
 * shown above the task list), and tokens (with viewing and setting the key).
 */
import { register, registerPage, modelById } from '../registry.js';
import { renderList } from '../list.js';
import { renderForm } from '../form.js';
import { api } from '../../common/api.js';
import { h, clear, toast, openDialog, copyButton, fmtDate, fmtRelative } from '../../common/dom.js';
import { applicationRef, flowRef, keypairRef, userRef } from '../refs.js';

const NAV = 'System';

function when(iso, empty = '') {
	if (!iso)
		return empty ? h('span', { class: 'cu-muted' }, empty) : '';
	return h('time', { datetime: iso, title: fmtDate(iso) }, fmtRelative(iso));
}

/* --- brands ---------------------------------------------------------------------------------- */

const brandFlow = (name, label, designation, help) => ({
	name, label, type: 'ref', nullable: true, ref: flowRef(designation), help,
});

register({
	id: 'core/brands',
	nav: NAV, order: 10,
	title: 'Brands', singular: 'Brand',
	endpoint: 'core/brands/',
	pk: 'brand_uuid',
	display: (row) => row.domain,
	search: true,
	ordering: 'domain',
	columns: [
		{ key: 'domain', label: 'Domain', sort: 'domain' },
		{ key: 'branding_title', label: 'Title', sort: 'branding_title' },
		{ key: 'default', label: 'Default', sort: 'default' },
	],
	filters: [
		{ key: 'default', label: 'Default', type: 'bool' },
	],
	fields: [
		{ name: 'domain', label: 'Domain', type: 'text', required: true,
			help: 'The host name this brand answers for; subdomains match too.' },
		{ name: 'default', label: 'Default brand', type: 'bool', default: false,
			help: 'Used when no other brand matches the host. Only one brand can be the default.' },
		{ name: 'branding_title', label: 'Title', type: 'text', default: 'authentik', help: 'Shown in page titles and headers.' },
		{ name: 'branding_logo', label: 'Logo', type: 'text', default: '/static/dist/assets/icons/icon_left_brand.svg' },
		{ name: 'branding_favicon', label: 'Favicon', type: 'text', default: '/static/dist/assets/icons/icon.png' },
		{ name: 'branding_default_flow_background', label: 'Default flow background', type: 'text',
			default: '/static/dist/assets/images/flow_background.jpg' },
		{ name: 'branding_custom_css', label: 'Custom CSS', type: 'code', rows: 6 },
		brandFlow('flow_authentication', 'Authentication flow', 'authentication', 'The flow that logs users in.'),
		brandFlow('flow_invalidation', 'Invalidation flow', 'invalidation', 'The flow that logs users out.'),
		brandFlow('flow_recovery', 'Recovery flow', 'recovery', 'Offered when a user forgot the password.'),
		brandFlow('flow_unenrollment', 'Unenrollment flow', 'unenrollment', 'Lets users delete their own account.'),
		brandFlow('flow_user_settings', 'User settings flow', 'stage_configuration', 'The flow users change their details with.'),
		brandFlow('flow_device_code', 'Device code flow', 'stage_configuration', 'The flow for the OAuth2 device code grant.'),
		{ name: 'default_application', label: 'Default application', type: 'ref', nullable: true,
			ref: applicationRef,
			help: 'Users without admin access are sent here after logging in, instead of the user interface.' },
		{ name: 'web_certificate', label: 'Web certificate', type: 'ref', nullable: true,
			ref: keypairRef(false) },
		{ name: 'client_certificates', label: 'Client certificates', type: 'refs',
			ref: keypairRef(false) },
		{ name: 'attributes', label: 'Attributes', type: 'json', default: {} },
	],
});

/* --- task schedules -------------------------------------------------------------------------- */

const STATUS = [['queued', 'Queued'], ['running', 'Running'], ['rejected', 'Rejected'], ['info', 'Successful'],
	['warning', 'Warning'], ['error', 'Error']];
const statusBadge = (s) => {
	if (!s)
		return h('span', { class: 'cu-muted' }, 'Not run yet');
	const cls = s === 'error' || s === 'rejected' ? 'cu-badge cu-badge-danger' : s === 'warning' ? 'cu-badge cu-badge-danger'
		: s === 'info' ? 'cu-badge cu-badge-ok' : 'cu-badge';
	return h('span', { class: cls }, (STATUS.find(([k]) => k === s) || [s, s])[1]);
};
const shortActor = (a) => String(a || '').split('.').pop();

async function runNow(row, ctx) {
	await api('POST', `tasks/schedules/${encodeURIComponent(row.id)}/send/`);
	toast(`Started ${row.identifier || shortActor(row.actor_name)}; see Tasks for the result`);
	if (ctx && ctx.reload)
		ctx.reload();
}

async function setPaused(row, paused, ctx) {
	await api('PATCH', `tasks/schedules/${encodeURIComponent(row.id)}/`, { body: { paused } });
	toast(paused ? `Paused ${row.identifier}` : `Resumed ${row.identifier}`);
	if (ctx && ctx.reload)
		ctx.reload();
}

register({
	id: 'tasks/schedules',
	nav: NAV, order: 20,
	title: 'Schedules', singular: 'Schedule',
	endpoint: 'tasks/schedules/',
	pk: 'id',
	display: (row) => row.identifier || shortActor(row.actor_name),
	description: 'Background tasks that run on a timetable.',
	search: true,
	ordering: 'next_run',
	create: false, remove: false,
	columns: [
		{ key: 'identifier', label: 'Name', sort: 'identifier', render: (r) => h('span', null,
			h('strong', null, r.identifier || shortActor(r.actor_name)),
			r.description ? [h('br'), h('span', { class: 'cu-muted' }, r.description)] : null) },
		{ key: 'crontab', label: 'Schedule', sort: 'crontab', render: (r) => h('code', null, r.crontab) },
		{ key: 'paused', label: 'Paused', sort: 'paused' },
		{ key: 'next_run', label: 'Next run', sort: 'next_run', render: (r) => (r.paused ? h('span', { class: 'cu-muted' }, 'Paused') : when(r.next_run)) },
		{ key: 'last_task_status', label: 'Last status', render: (r) => statusBadge(r.last_task_status) },
	],
	filters: [
		{ key: 'paused', label: 'Paused', type: 'bool' },
	],
	fields: [
		{ name: 'crontab', label: 'Schedule (cron)', type: 'text', required: true,
			help: 'Minute, hour, day of month, month and day of week, e.g. "*/5 * * * *".' },
		{ name: 'paused', label: 'Paused', type: 'bool', default: false },
	],
	actions: [
		{ label: 'Run now', run: (row, ctx) => runNow(row, ctx) },
		{ label: 'Pause', when: (row) => !row.paused, run: (row, ctx) => setPaused(row, true, ctx) },
		{ label: 'Resume', when: (row) => row.paused, run: (row, ctx) => setPaused(row, false, ctx) },
	],
	tabs: [
		{ label: 'Tasks', render: (el, row) => {
			const tasks = modelById('tasks/tasks');
			if (!tasks) {
				el.append(h('p', { class: 'cu-muted' }, 'Tasks are not available.'));
				return;
			}
			renderList(el, tasks, { embedded: true, query: { actor_name: row.actor_name }, title: `Tasks of ${row.identifier}` });
		} },
	],
});

/* --- tasks ----------------------------------------------------------------------------------- */

function renderLogs(el, task) {
	const logs = [...(task.previous_logs || []), ...(task.logs || [])];
	clear(el);
	if (!logs.length) {
		el.append(h('p', { class: 'cu-empty' }, 'This task has logged nothing.'));
		return;
	}
	el.append(h('div', { class: 'cu-table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Task log' }, h('table', { class: 'cu-table' },
		h('caption', { class: 'cu-offscreen' }, 'Task log'),
		h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Level'), h('th', { scope: 'col' }, 'Message'))),
		h('tbody', null, logs.map((l) => h('tr', null,
			h('td', null, l.timestamp ? h('time', { datetime: l.timestamp }, fmtDate(l.timestamp)) : ''),
			h('td', null, statusBadge(l.log_level === 'info' ? 'info' : l.log_level)),
			h('td', null, String(l.event ?? ''),
				l.attributes && Object.keys(l.attributes).length ? h('pre', { class: 'cu-code' }, JSON.stringify(l.attributes, null, 2)) : null)))))));
}

const canRetry = (t) => t.state === 'rejected' || t.aggregated_status === 'error';

register({
	id: 'tasks/tasks',
	nav: false, /* listed through the "Tasks" page below, which adds the workers */
	title: 'Tasks', singular: 'Task',
	endpoint: 'tasks/tasks/',
	pk: 'message_id',
	display: (row) => row.description || shortActor(row.actor_name),
	search: true,
	ordering: '-mtime',
	create: false, edit: false, remove: false,
	columns: [
		{ key: 'actor_name', label: 'Task', sort: 'actor_name', render: (r) => h('span', null,
			h('strong', null, shortActor(r.actor_name)),
			r.description && r.description !== shortActor(r.actor_name) ? [h('br'), h('span', { class: 'cu-muted' }, r.description)] : null) },
		{ key: 'aggregated_status', label: 'Status', sort: 'aggregated_status', render: (r) => statusBadge(r.aggregated_status) },
		{ key: 'retries', label: 'Retries', sort: 'retries' },
		{ key: 'mtime', label: 'Last change', sort: 'mtime', render: (r) => when(r.mtime) },
		{ key: 'logs', label: 'Last message', render: (r) => {
			const last = (r.logs || [])[(r.logs || []).length - 1];
			return last ? String(last.event ?? '') : '';
		} },
	],
	filters: [
		{ key: 'state', label: 'State', type: 'select', choices: [['queued', 'Queued'], ['running', 'Running'], ['rejected', 'Rejected'], ['done', 'Done']] },
		{ key: 'aggregated_status', label: 'Status', type: 'select', choices: STATUS },
	],
	fields: [
		{ name: 'actor_name', label: 'Actor' },
		{ name: 'description', label: 'Description' },
		{ name: 'state', label: 'State' },
		{ name: 'aggregated_status', label: 'Status' },
		{ name: 'retries', label: 'Retries' },
		{ name: 'eta', label: 'Due' },
		{ name: 'mtime', label: 'Last change' },
		{ name: 'queue_name', label: 'Queue' },
		{ name: 'message_id', label: 'Message ID' },
	],
	actions: [
		{
			label: 'Retry', when: canRetry,
			run: async (row, ctx) => {
				await api('POST', `tasks/tasks/${encodeURIComponent(row.message_id)}/retry/`);
				toast(`Queued ${shortActor(row.actor_name)} again`);
				ctx.reload();
			},
		},
	],
	tabs: [
		{ label: 'Logs', render: (el, row) => renderLogs(el, row) },
	],
});

/* The workers and the task counts, above the task list. */
async function renderWorkers(el) {
	const box = h('section', { 'aria-labelledby': 'cu-workers-h' }, h('h2', { id: 'cu-workers-h' }, 'Workers'));
	el.append(box);
	try {
		const [workers, status] = await Promise.all([api('GET', 'tasks/workers'), api('GET', 'tasks/tasks/status/').catch(() => null)]);
		const list = Array.isArray(workers) ? workers : [];
		if (!list.length) {
			box.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, 'No worker is running: background tasks wait until one starts.'));
		} else {
			box.append(h('ul', null, list.map((w) => h('li', null,
				h('code', null, w.worker_id), ` version ${w.version}`,
				w.version_matching === false ? [' ', h('span', { class: 'cu-badge cu-badge-danger' }, 'version differs from the server')] : null))));
		}
		if (status && typeof status === 'object') {
			const parts = [['queued', 'queued'], ['running', 'running'], ['rejected', 'rejected'], ['info', 'successful'],
				['warning', 'with warnings'], ['error', 'failed']].map(([k, l]) => `${status[k] ?? 0} ${l}`);
			box.append(h('p', { class: 'cu-muted' }, `Tasks: ${parts.join(', ')}.`));
		}
	} catch (e) {
		box.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, `Could not load the workers: ${e.detail || e.message}`));
	}
}

registerPage({
	route: 'tasks/tasks',
	nav: NAV, order: 30,
	title: 'Tasks',
	render: async (el) => {
		const tasks = modelById('tasks/tasks');
		clear(el);
		if (!tasks) {
			el.append(h('h1', null, 'Tasks'), h('p', null, 'Tasks are not available.'));
			return;
		}
		const listBox = h('div');
		el.append(listBox);
		renderList(listBox, tasks, {});
		const workers = h('div');
		const head = listBox.querySelector('.cu-page-head');
		if (head)
			head.after(workers);
		else
			listBox.prepend(workers);
		await renderWorkers(workers);
	},
});

/* --- tokens ---------------------------------------------------------------------------------- */

const INTENTS = [['api', 'API token'], ['app_password', 'App password'], ['recovery', 'Recovery'], ['verification', 'Verification']];

function showKey(row, key) {
	openDialog(`Key of ${row.identifier}`, h('div', null,
		h('p', null, 'Treat this key like a password.'),
		h('div', { class: 'cu-field' }, h('label', { for: 'cu-token-key' }, 'Key'),
			h('input', { id: 'cu-token-key', type: 'text', class: 'cu-input cu-code', readonly: true, value: key, spellcheck: 'false',
				autocomplete: 'off', onFocus: (ev) => ev.target.select() })),
		h('div', { class: 'cu-actions' }, copyButton(key, 'Copy key'))));
}

register({
	id: 'core/tokens',
	nav: NAV, order: 40,
	title: 'Tokens', singular: 'Token',
	endpoint: 'core/tokens/',
	pk: 'identifier',
	display: (row) => row.identifier,
	search: true,
	ordering: 'identifier',
	columns: [
		{ key: 'identifier', label: 'Identifier', sort: 'identifier' },
		{ key: 'user', label: 'User', sort: 'user', render: (r) => (r.user_obj ? r.user_obj.username : String(r.user ?? '')) },
		{ key: 'intent', label: 'Intent', sort: 'intent', render: (r) => (INTENTS.find(([k]) => k === r.intent) || [r.intent, r.intent])[1] },
		{ key: 'expires', label: 'Expires', sort: 'expires', render: (r) => (r.expiring ? when(r.expires, 'Never') : h('span', { class: 'cu-muted' }, 'Never')) },
		{ key: 'description', label: 'Description' },
	],
	filters: [
		{ key: 'intent', label: 'Intent', type: 'select', choices: INTENTS },
		{ key: 'expiring', label: 'Expiring', type: 'bool' },
	],
	fields: [
		{ name: 'identifier', label: 'Identifier', type: 'text', required: true, help: 'Letters, numbers, "-" and "_"; names the token.' },
		{ name: 'intent', label: 'Intent', type: 'select', default: 'api', choices: INTENTS.slice(0, 2), readOnlyOnEdit: true,
			help: 'API tokens authenticate API requests; app passwords log in where a password is asked for.' },
		{ name: 'user', label: 'User', type: 'ref', ref: userRef,
			help: 'Empty: the token is yours.' },
		{ name: 'description', label: 'Description', type: 'text' },
		{ name: 'expiring', label: 'Expires', type: 'bool', default: true },
		{ name: 'expires', label: 'Expiry date', type: 'datetime', nullable: true, visible: (v) => v.expiring !== false,
			help: 'Empty: the default lifetime.' },
	],
	actions: [
		{
			label: 'View key',
			run: async (row) => {
				const res = await api('GET', `core/tokens/${encodeURIComponent(row.identifier)}/view_key/`);
				showKey(row, String((res && res.key) || ''));
			},
		},
		{
			label: 'Set key',
			run: async (row) => {
				const box = h('div');
				let d = null;
				renderForm(box, [{ name: 'key', label: 'New key', type: 'password', required: true,
					help: 'Replaces the token\'s key; whatever used the old key stops working.' }], {}, {
					mode: 'create', submitLabel: 'Set key', onCancel: () => d && d.close(),
					submit: async (values) => {
						await api('POST', `core/tokens/${encodeURIComponent(row.identifier)}/set_key/`, { body: { key: values.key } });
						toast(`Set the key of ${row.identifier}`);
						d.close();
					},
				});
				d = openDialog(`Set the key of ${row.identifier}`, box);
			},
		},
	],
});
