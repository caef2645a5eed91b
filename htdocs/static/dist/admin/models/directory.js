/*
 * Admin directory: users (core/users/) with password, recovery link (shown or mailed) and
 * activation actions and their groups, sessions and events; groups (core/groups/) with a paged
 * member list.
 */
import { api, apiList } from '../../common/api.js';
import { h, clear, toast, openDialog, confirmDialog, copyButton, fmtDate, fmtRelative } from '../../common/dom.js';
import { register, modelById } from '../registry.js';
import { renderList } from '../list.js';
import { renderForm } from '../form.js';
import { groupRef, userRef } from '../refs.js';

const USER_TYPES = [
	['internal', 'Internal'],
	['external', 'External'],
	['service_account', 'Service account'],
	['internal_service_account', 'Internal service account'],
];
const typeLabel = (t) => (USER_TYPES.find(([v]) => v === t) || [t, t])[1];
const when = (iso) => (iso ? h('time', { datetime: iso, title: fmtDate(iso) }, fmtRelative(iso)) : h('span', { class: 'cu-muted' }, 'Never'));
const yesNo = (b) => h('span', { class: b ? 'cu-badge cu-badge-ok' : 'cu-badge' }, b ? 'Yes' : 'No');


/* A small table of rows with fixed columns: [label, (row) => node]. */
function smallTable(rows, cols, empty) {
	if (!rows.length)
		return h('p', { class: 'cu-muted' }, empty);
	return h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table' },
		h('thead', null, h('tr', null, cols.map(([l]) => h('th', { scope: 'col' }, l)))),
		h('tbody', null, rows.map((r) => h('tr', null, cols.map(([, f]) => h('td', null, f(r))))))));
}

/* A paged list of plain rows from an endpoint, for tabs. */
function pagedPanel(el, { endpoint, query, columns, empty, rowActions }) {
	let page = 1;
	const box = h('div');
	const pager = h('nav', { class: 'cu-pager', 'aria-label': 'Pages' });
	el.append(box, pager);
	const load = async () => {
		try {
			const { pagination: p, results } = await apiList(endpoint, { ...query, page, page_size: 20 });
			clear(box);
			const cols = rowActions ? [...columns, ['Actions', (r) => rowActions(r, load)]] : columns;
			box.appendChild(smallTable(results, cols, empty));
			clear(pager);
			if (p.count > results.length || page > 1)
				pager.append(h('span', { class: 'cu-pager-info' }, `${p.start_index}–${p.end_index} of ${p.count}`),
					h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.previous, onClick: () => { page = p.previous; load(); } }, 'Previous'),
					h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.next, onClick: () => { page = p.next; load(); } }, 'Next'));
		} catch (e) {
			clear(box);
			box.appendChild(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
		}
	};
	load();
	return { reload: load };
}

function setPassword(row) {
	const body = h('div');
	const d = openDialog(`Set password of ${row.username}`, body);
	renderForm(body, [
		{ name: 'password', label: 'New password', type: 'password', required: true },
		{ name: 'password_repeat', label: 'Repeat the new password', type: 'password', required: true },
	], {}, {
		submitLabel: 'Set password',
		onCancel: () => d.close(),
		submit: async (v) => {
			if (v.password !== v.password_repeat) {
				const err = new Error('The passwords do not match.');
				err.fields = { password_repeat: ['The passwords do not match.'] };
				err.nonField = [];
				throw err;
			}
			await api('POST', `core/users/${encodeURIComponent(row.pk)}/set_password/`, { body: { password: v.password } });
			toast(`Password of ${row.username} set`);
			d.close();
		},
	});
}

async function recoveryLink(row) {
	let res;
	try {
		res = await api('POST', `core/users/${encodeURIComponent(row.pk)}/recovery/`, { body: {} });
	} catch (e) {
		openDialog('Recovery link', h('div', null,
			h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message),
			h('p', { class: 'cu-muted' }, 'A recovery link needs a recovery flow set on the current brand.')));
		return;
	}
	const link = (res && res.link) || '';
	const id = `recovery-${row.pk}`;
	openDialog('Recovery link', h('div', null,
		h('p', null, `Give this link to ${row.username}. It lets them set a new password, once, until it expires.`),
		h('label', { for: id, class: 'cu-label' }, 'Link'),
		h('div', { class: 'cu-linkbox' }, h('input', { id, class: 'cu-input cu-code', readonly: true, value: link, onFocus: (ev) => ev.target.select() }),
			copyButton(link, 'Copy link'))), { wide: true });
}

/* Mails the user a recovery link, with the subject and template of an email stage. */
function sendRecoveryLink(row) {
	const body = h('div');
	const d = openDialog(`Send recovery link to ${row.username}`, body);
	body.appendChild(h('p', { class: 'cu-muted' }, row.email
		? `The link goes to ${row.email}. It lets them set a new password, once, until it expires.`
		: `${row.username} has no email address: set one in the Edit tab first.`));
	renderForm(body, [
		{ name: 'email_stage', label: 'Email stage', type: 'ref', required: true,
			ref: { endpoint: 'stages/email/', search: false, query: { ordering: 'name' } },
			help: 'The mail takes this stage\'s subject and template.' },
		{ name: 'token_duration', label: 'Link valid for', type: 'text', placeholder: 'minutes=30',
			help: 'As hours=3;minutes=1. Default: 30 minutes.' },
	], {}, {
		submitLabel: 'Send link',
		onCancel: () => d.close(),
		submit: async (v) => {
			await api('POST', `core/users/${encodeURIComponent(row.pk)}/recovery_email/`, { body: v });
			toast(`Recovery link sent to ${row.email}`);
			d.close();
		},
	});
}

async function setActive(row, ctx, active) {
	if (!active && !(await confirmDialog(`Deactivate ${row.username}?`, 'A deactivated user can no longer log in; their sessions end.', { confirmLabel: 'Deactivate' })))
		return;
	await api('PATCH', `core/users/${encodeURIComponent(row.pk)}/`, { body: { is_active: active } });
	toast(active ? `Activated ${row.username}` : `Deactivated ${row.username}`);
	ctx.reload();
}

function createServiceAccount(onDone) {
	const body = h('div');
	const d = openDialog('Create service account', body);
	renderForm(body, [
		{ name: 'name', label: 'Username', type: 'text', required: true },
		{ name: 'create_group', label: 'Create a group of the same name', type: 'bool', default: false },
		{ name: 'expiring', label: 'Token expires', type: 'bool', default: true },
		{ name: 'expires', label: 'Expires on', type: 'datetime', help: 'Default: in 360 days.', visible: (v) => v.expiring !== false },
	], {}, {
		submitLabel: 'Create',
		onCancel: () => d.close(),
		submit: async (v) => {
			const res = await api('POST', 'core/users/service_account/', { body: v });
			clear(body);
			const id = 'sa-token';
			body.append(
				h('div', { class: 'cu-alert cu-alert-ok', role: 'status' }, `Created service account ${res.username}.`),
				h('p', null, 'Its token is shown only now; store it somewhere safe.'),
				h('label', { for: id, class: 'cu-label' }, 'Token'),
				h('div', { class: 'cu-linkbox' }, h('input', { id, class: 'cu-input cu-code', readonly: true, value: res.token || '' }), copyButton(res.token || '', 'Copy token')),
				h('div', { class: 'cu-actions' }, h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => d.close() }, 'Close')));
			body.querySelector('input').focus();
			if (onDone)
				onDone(res);
		},
	});
}

function userGroupsTab(el, row, ctx) {
	const groups = row.groups_obj || [];
	el.appendChild(smallTable(groups, [
		['Name', (g) => h('a', { href: `#/core/groups/${encodeURIComponent(g.pk)}` }, g.name)],
		['Superuser', (g) => yesNo(g.is_superuser)],
	], `${row.username} is in no group.`));
	el.appendChild(h('p', { class: 'cu-muted' }, 'Change the groups in the Edit tab.'));
	void ctx;
}

function sessionsTab(el, row) {
	pagedPanel(el, {
		endpoint: 'core/authenticated_sessions/',
		query: { user__username: row.username, ordering: '-last_used' },
		empty: 'No active sessions.',
		columns: [
			['Last used', (s) => when(s.last_used)],
			['IP address', (s) => s.last_ip || ''],
			['Browser', (s) => {
				const ua = s.user_agent || {};
				const b = ua.user_agent && ua.user_agent.family;
				const os = ua.os && ua.os.family;
				return [b, os].filter((x) => x && x !== 'Other').join(' on ') || s.last_user_agent || '';
			}],
			['Expires', (s) => (s.expires ? fmtDate(s.expires) : 'At browser close')],
		],
		rowActions: (s, reload) => h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small', onClick: async () => {
			if (!(await confirmDialog('Revoke session?', 'The device using this session will be logged out.', { confirmLabel: 'Revoke' })))
				return;
			try {
				await api('DELETE', `core/authenticated_sessions/${encodeURIComponent(s.uuid)}/`);
				toast('Session revoked');
				reload();
			} catch (e) {
				toast(e.detail || e.message, 'error');
			}
		} }, s.current ? 'Revoke (this session)' : 'Revoke'),
	});
}

function eventsTab(el, row) {
	pagedPanel(el, {
		endpoint: 'events/events/',
		query: { username: row.username, ordering: '-created' },
		empty: 'No events for this user.',
		columns: [
			['Action', (e) => e.action || ''],
			['App', (e) => e.app || ''],
			['Client IP', (e) => e.client_ip || ''],
			['When', (e) => when(e.created)],
		],
	});
}

register({
	id: 'core/users',
	nav: 'Directory', order: 10,
	title: 'Users', singular: 'User',
	endpoint: 'core/users/',
	display: (u) => u.username,
	search: true,
	ordering: 'username',
	columns: [
		{ key: 'username', label: 'Username', sort: 'username' },
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'is_active', label: 'Active', sort: 'is_active', render: (u) => yesNo(u.is_active) },
		{ key: 'last_login', label: 'Last login', sort: 'last_login', render: (u) => when(u.last_login) },
		{ key: 'type', label: 'Type', sort: 'type', render: (u) => typeLabel(u.type) },
	],
	filters: [
		{ key: 'is_active', label: 'Active', type: 'bool' },
		{ key: 'type', label: 'Type', type: 'select', choices: USER_TYPES },
	],
	fields: [
		{ name: 'username', label: 'Username', type: 'text', required: true, help: 'The name the user logs in with.' },
		{ name: 'name', label: 'Name', type: 'text', help: 'The display name.' },
		{ name: 'email', label: 'Email', type: 'text', placeholder: 'user@example.com' },
		{ name: 'is_active', label: 'Active', type: 'bool', default: true, help: 'An inactive user cannot log in.' },
		{ name: 'path', label: 'Path', type: 'text', default: 'users', help: 'Folder-like path for organizing users.' },
		{ name: 'type', label: 'Type', type: 'select', choices: USER_TYPES.slice(0, 3), default: 'internal', required: true },
		{ name: 'groups', label: 'Groups', type: 'refs', ref: groupRef },
		{ name: 'attributes', label: 'Attributes', type: 'json', default: {}, help: 'A JSON object of custom attributes.' },
	],
	actions: [
		{ label: 'Set password', when: (u) => u.type !== 'internal_service_account', run: (u) => setPassword(u) },
		{ label: 'Create recovery link', when: (u) => u.type !== 'internal_service_account', run: (u) => recoveryLink(u) },
		{ label: 'Send recovery link', when: (u) => u.type !== 'internal_service_account', run: (u) => sendRecoveryLink(u) },
		{ label: 'Deactivate', when: (u) => u.is_active, run: (u, ctx) => setActive(u, ctx, false) },
		{ label: 'Activate', when: (u) => !u.is_active, run: (u, ctx) => setActive(u, ctx, true) },
	],
	tabs: [
		{ label: 'Groups', render: userGroupsTab },
		{ label: 'Sessions', render: sessionsTab },
		{ label: 'Events', render: eventsTab },
	],
	listExtras: (reload) => h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => createServiceAccount(reload) }, 'Create service account'),
});

function membersTab(el, group, ctx) {
	const users = modelById('core/users');
	const box = h('div');
	const addBtn = h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => addMember() }, 'Add member');
	el.append(h('div', { class: 'cu-toolbar' }, h('div', { class: 'cu-toolbar-end' }, addBtn)), box);
	const groupUrl = `core/groups/${encodeURIComponent(group.pk)}/`;
	let list;
	const remove = (u) => h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small', onClick: async () => {
		if (!(await confirmDialog(`Remove ${u.username}?`, `${u.username} will no longer be a member of ${group.name}.`, { confirmLabel: 'Remove' })))
			return;
		try {
			await api('POST', groupUrl + 'remove_user/', { body: { pk: u.pk } });
			toast(`Removed ${u.username} from ${group.name}`);
			list.reload();
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
	} }, 'Remove');
	const model = users || { id: 'core/users', title: 'Users', singular: 'User', endpoint: 'core/users/', pk: 'pk', display: (u) => u.username,
		columns: [{ key: 'username', label: 'Username' }, { key: 'name', label: 'Name' }] };
	list = renderList(box, model, {
		embedded: true, title: 'Members', query: { groups_by_pk: group.pk }, create: false, remove: false,
		columns: [
			{ key: 'username', label: 'Username', sort: 'username' },
			{ key: 'name', label: 'Name', sort: 'name' },
			{ key: 'is_active', label: 'Active', render: (u) => yesNo(u.is_active) },
			{ key: 'last_login', label: 'Last login', render: (u) => when(u.last_login) },
		],
		actionsFor: remove,
	});
	function addMember() {
		const body = h('div');
		const d = openDialog(`Add member to ${group.name}`, body);
		renderForm(body, [{ name: 'users', label: 'Users', type: 'refs', ref: userRef, required: true }], {}, {
			submitLabel: 'Add',
			onCancel: () => d.close(),
			submit: async (v) => {
				for (const pk of v.users || [])
					await api('POST', groupUrl + 'add_user/', { body: { pk } });
				toast(`Added ${(v.users || []).length} member(s) to ${group.name}`);
				d.close();
				list.reload();
			},
		});
	}
	void ctx;
}

register({
	id: 'core/groups',
	nav: 'Directory', order: 20,
	title: 'Groups', singular: 'Group',
	endpoint: 'core/groups/',
	display: (g) => g.name,
	search: true,
	ordering: 'name',
	query: { include_users: 'false', include_parents: 'true' },
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'parents', label: 'Parent', render: (g) => (g.parents_obj && g.parents_obj.length ? g.parents_obj.map((p) => p.name).join(', ')
			: (g.parents && g.parents.length ? `${g.parents.length} parent${g.parents.length > 1 ? 's' : ''}` : h('span', { class: 'cu-muted' }, '–'))) },
		{ key: 'is_superuser', label: 'Superuser', sort: 'is_superuser', render: (g) => yesNo(g.is_superuser) },
		{ key: 'users', label: 'Members', render: (g) => String(Array.isArray(g.users) ? g.users.length : (g.num_users ?? '')) },
	],
	filters: [{ key: 'is_superuser', label: 'Superuser', type: 'bool' }],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'parents', label: 'Parents', type: 'refs', ref: groupRef, help: 'Members of this group also get the roles and superuser status of its parents.' },
		{ name: 'is_superuser', label: 'Superuser', type: 'bool', default: false, help: 'Members get every permission.' },
		{ name: 'roles', label: 'Roles', type: 'refs', ref: { endpoint: 'rbac/roles/', value: 'pk', label: (r) => r.name, search: true } },
		{ name: 'attributes', label: 'Attributes', type: 'json', default: {} },
	],
	tabs: [{ label: 'Members', render: membersTab }],
});
