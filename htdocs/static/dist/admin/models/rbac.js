/*
 * Admin models under "Directory" for role-based access: roles (their users and the permissions
 * assigned to them, model-wide or on one object) and the permissions that exist (read-only).
 */
import { register } from '../registry.js';
import { renderForm } from '../form.js';
import { api, apiAll, apiList } from '../../common/api.js';
import { h, clear, toast, openDialog, confirmDialog, spinner } from '../../common/dom.js';
import { userRef } from '../refs.js';

const NAV = 'Directory';

const permName = (p) => `${p.app_label}.${p.codename}`;
const modelName = (p) => `${p.app_label}.${p.model}`;

const errorBox = (e) => h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message);
const smallBtn = (text, aria, onClick, danger) => h('button', {
	type: 'button', class: danger ? 'cu-btn cu-btn-danger cu-btn-small' : 'cu-btn cu-btn-secondary cu-btn-small', 'aria-label': aria, onClick,
}, text);

/* --- the users of a role --------------------------------------------------------------------- */

async function renderRoleUsers(el, role) {
	const status = h('p', { class: 'cu-muted', role: 'status' });
	const body = h('div');

	const load = async () => {
		clear(body).append(spinner());
		let users;
		try {
			users = await apiAll('core/users/', { roles_by_pk: role.pk, include_groups: false, ordering: 'username' });
		} catch (e) {
			clear(body).append(errorBox(e));
			return;
		}
		clear(body);
		status.textContent = `${users.length} user${users.length === 1 ? '' : 's'}`;
		if (!users.length) {
			body.append(h('p', { class: 'cu-empty' }, 'No user has this role.'));
			return;
		}
		body.append(h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table' },
			h('caption', { class: 'cu-offscreen' }, `Users with the role ${role.name}`),
			h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Username'), h('th', { scope: 'col' }, 'Name'),
				h('th', { scope: 'col' }, 'Active'), h('th', { scope: 'col' }, 'Actions'))),
			h('tbody', null, users.map((u) => h('tr', null,
				h('td', null, h('a', { href: `#/core/users/${encodeURIComponent(u.pk)}` }, u.username)),
				h('td', null, u.name || ''),
				h('td', null, u.is_active ? 'Yes' : 'No'),
				h('td', { class: 'cu-row-actions' }, smallBtn('Remove', `Remove ${u.username} from the role`, () => remove(u), true))))))));
	};

	const remove = async (u) => {
		if (!(await confirmDialog('Remove user from role', `Take the role ${role.name} away from ${u.username}?`, { confirmLabel: 'Remove' })))
			return;
		try {
			await api('POST', `rbac/roles/${encodeURIComponent(role.pk)}/remove_user/`, { body: { pk: u.pk } });
			toast(`Removed ${u.username} from ${role.name}`);
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
		await load();
	};

	const add = () => {
		const box = h('div');
		let d = null;
		renderForm(box, [{ name: 'user', label: 'User', type: 'ref', required: true,
			ref: userRef }], {}, {
			mode: 'create', submitLabel: 'Add', onCancel: () => d && d.close(),
			submit: async (values) => {
				await api('POST', `rbac/roles/${encodeURIComponent(role.pk)}/add_user/`, { body: { pk: Number(values.user) } });
				toast(`Added the user to ${role.name}`);
				d.close();
				await load();
			},
		});
		d = openDialog(`Add user to ${role.name}`, box);
	};

	clear(el).append(h('section', { 'aria-labelledby': 'cu-role-users-h' },
		h('h2', { id: 'cu-role-users-h' }, 'Users'),
		h('div', { class: 'cu-toolbar' }, h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: add }, 'Add user')),
		status, body));
	await load();
}

/* --- the permissions of a role --------------------------------------------------------------- */

/* Every permission once per page load: for the model choices and for naming picked ids. */
let allPerms = null;
function permissions() {
	if (!allPerms) {
		allPerms = apiAll('rbac/permissions/', { ordering: 'app_label' });
		allPerms.catch(() => { allPerms = null; });
	}
	return allPerms;
}

function permTable(caption, rows, { object, onUnassign }) {
	return h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table' },
		h('caption', { class: 'cu-offscreen' }, caption),
		h('thead', null, h('tr', null,
			h('th', { scope: 'col' }, 'Permission'),
			h('th', { scope: 'col' }, 'Codename'),
			object ? h('th', { scope: 'col' }, 'Object') : null,
			h('th', { scope: 'col' }, 'Actions'))),
		h('tbody', null, rows.map((p) => h('tr', null,
			h('td', null, p.name),
			h('td', null, h('code', null, permName(p))),
			object ? h('td', null, h('code', null, `${modelName(p)} ${p.object_pk}`)) : null,
			h('td', { class: 'cu-row-actions' }, smallBtn('Unassign', `Unassign ${p.name}${object ? ` on ${p.object_pk}` : ''}`, () => onUnassign(p), true)))))));
}

async function renderRolePermissions(el, role) {
	const modelBody = h('div');
	const objectBody = h('div');
	const modelSelect = h('select', { id: 'cu-role-perm-model', class: 'cu-input' }, h('option', { value: '' }, '—'));
	let lastModel = '';

	const unassign = async (p, object) => {
		const what = object ? `${p.name} on ${modelName(p)} ${p.object_pk}` : p.name;
		if (!(await confirmDialog('Unassign permission', `Take "${what}" away from ${role.name}?`, { confirmLabel: 'Unassign' })))
			return;
		const body = object ? { permissions: [permName(p)], model: modelName(p), object_pk: p.object_pk } : { permissions: [permName(p)] };
		try {
			await api('PATCH', `rbac/permissions/assigned_by_roles/${encodeURIComponent(role.pk)}/unassign/`, { body });
			toast(`Unassigned ${p.name}`);
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
		await load();
	};

	/* Object permissions come with the role's row of assigned_by_roles/, which wants a model the
	 * role holds some permission of: one of its model-wide ones, or the model chosen below. */
	const loadObjects = async (model) => {
		clear(objectBody);
		if (!model) {
			objectBody.append(h('p', { class: 'cu-muted' }, 'Choose a model to look for permissions on single objects.'));
			return;
		}
		objectBody.append(spinner());
		try {
			const { results } = await apiList('rbac/permissions/assigned_by_roles/', { model, search: role.name, page_size: 100 });
			const mine = results.find((r) => String(r.role_pk) === String(role.pk));
			const rows = mine ? mine.object_permissions || [] : [];
			clear(objectBody);
			if (!rows.length) {
				objectBody.append(h('p', { class: 'cu-empty' }, `No permissions on single objects of ${model}.`));
				return;
			}
			objectBody.append(permTable(`Object permissions of ${role.name}`, rows, { object: true, onUnassign: (p) => unassign(p, true) }));
		} catch (e) {
			clear(objectBody).append(errorBox(e));
		}
	};

	const load = async () => {
		clear(modelBody).append(spinner());
		let rows;
		try {
			rows = await apiAll('rbac/permissions/', { role: role.pk, ordering: 'app_label' });
		} catch (e) {
			clear(modelBody).append(errorBox(e));
			return;
		}
		clear(modelBody);
		if (!rows.length)
			modelBody.append(h('p', { class: 'cu-empty' }, 'No model-wide permissions.'));
		else
			modelBody.append(permTable(`Model-wide permissions of ${role.name}`, rows, { object: false, onUnassign: (p) => unassign(p, false) }));
		if (!lastModel && rows.length)
			lastModel = modelName(rows[0]);
		if (lastModel && [...modelSelect.options].some((o) => o.value === lastModel))
			modelSelect.value = lastModel;
		await loadObjects(lastModel);
	};

	const assign = () => {
		const box = h('div');
		let d = null;
		renderForm(box, [
			{ name: 'permissions', label: 'Permissions', type: 'refs', required: true,
				ref: { endpoint: 'rbac/permissions/', value: 'id', search: true, label: (p) => `${p.name} (${permName(p)})` } },
			{ name: 'object_pk', label: 'Object ID', type: 'text',
				help: 'Empty: the permissions hold for every object of their model. Otherwise only for the object with this ID (its pk, UUID or slug as the API names it).' },
		], {}, {
			mode: 'create', submitLabel: 'Assign', onCancel: () => d && d.close(),
			submit: async (values) => {
				const all = await permissions();
				const picked = (values.permissions || []).map((id) => all.find((p) => String(p.id) === String(id))).filter(Boolean);
				const objectPk = (values.object_pk || '').trim();
				const groups = new Map();
				for (const p of picked) {
					const key = objectPk ? modelName(p) : '';
					if (!groups.has(key))
						groups.set(key, []);
					groups.get(key).push(permName(p));
				}
				for (const [model, names] of groups) {
					const body = model ? { permissions: names, model, object_pk: objectPk } : { permissions: names };
					await api('POST', `rbac/permissions/assigned_by_roles/${encodeURIComponent(role.pk)}/assign/`, { body });
				}
				toast(`Assigned ${picked.length} permission${picked.length === 1 ? '' : 's'} to ${role.name}`);
				if (objectPk && picked.length)
					lastModel = modelName(picked[0]);
				d.close();
				await load();
			},
		});
		d = openDialog(`Assign permissions to ${role.name}`, box, { wide: true });
	};

	modelSelect.addEventListener('change', () => {
		lastModel = modelSelect.value;
		loadObjects(lastModel);
	});
	clear(el).append(h('section', { 'aria-labelledby': 'cu-role-perms-h' },
		h('h2', { id: 'cu-role-perms-h' }, 'Permissions'),
		h('div', { class: 'cu-toolbar' }, h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: assign }, 'Assign')),
		h('h3', null, 'Model-wide'), modelBody,
		h('h3', null, 'On single objects'),
		h('div', { class: 'cu-field' }, h('label', { for: 'cu-role-perm-model' }, 'Model'), modelSelect),
		objectBody));
	permissions().then((all) => {
		const seen = new Map();
		for (const p of all)
			if (!seen.has(modelName(p)))
				seen.set(modelName(p), p.model_verbose && p.model_verbose !== modelName(p) ? `${p.model_verbose} (${modelName(p)})` : modelName(p));
		for (const [v, l] of [...seen].sort((a, b) => a[1].localeCompare(b[1])))
			modelSelect.append(h('option', { value: v }, l));
		if (lastModel)
			modelSelect.value = lastModel;
	}).catch(() => {});
	await load();
}

register({
	id: 'rbac/roles',
	nav: NAV, order: 40,
	title: 'Roles', singular: 'Role',
	endpoint: 'rbac/roles/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
	],
	tabs: [
		{ label: 'Users', render: (el, row) => renderRoleUsers(el, row) },
		{ label: 'Permissions', render: (el, row) => renderRolePermissions(el, row) },
	],
});

register({
	id: 'rbac/permissions',
	nav: NAV, order: 50,
	title: 'Permissions', singular: 'Permission',
	endpoint: 'rbac/permissions/',
	pk: 'id',
	search: true,
	ordering: 'name',
	create: false, edit: false, remove: false,
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'codename', label: 'Codename', sort: 'codename', render: (r) => h('code', null, permName(r)) },
		{ key: 'model_verbose', label: 'Model', sort: 'model' },
		{ key: 'app_label_verbose', label: 'App', sort: 'app_label' },
	],
	fields: [
		{ name: 'name', label: 'Name' },
		{ name: 'codename', label: 'Codename' },
		{ name: 'app_label', label: 'App label' },
		{ name: 'app_label_verbose', label: 'App' },
		{ name: 'model', label: 'Model name' },
		{ name: 'model_verbose', label: 'Model' },
	],
});
