/*
 * Policy bindings panel: the policies, groups and users bound to one target (an application, a
 * flow, a stage binding, a notification rule ...) through policies/bindings/, with bind, edit
 * and delete. Shared by every admin screen whose object is a policy binding target.
 */
import { api, apiList } from '../common/api.js';
import { h, clear, toast, openDialog, confirmDialog, spinner } from '../common/dom.js';
import { renderForm } from './form.js';
import { groupRef, userRef } from './refs.js';

const ENDPOINT = 'policies/bindings/';
const PAGE_SIZE = 20;

/* The policy_engine_mode field of applications, flows and ... (authentik's PolicyEngineMode). */
export function policyEngineModeField() {
	return {
		name: 'policy_engine_mode', label: 'Policy engine mode', type: 'select', default: 'any',
		choices: [['any', 'Any: one passing binding grants access'], ['all', 'All: every binding must pass']],
	};
}

/* What a binding binds: [kind label, name]. */
function boundTo(b) {
	if (b.policy)
		return ['Policy', b.policy_obj ? `${b.policy_obj.name} (${b.policy_obj.verbose_name || 'Policy'})` : b.policy];
	if (b.group)
		return ['Group', b.group_obj ? b.group_obj.name : b.group];
	if (b.user !== null && b.user !== undefined)
		return ['User', b.user_obj ? b.user_obj.username : String(b.user)];
	return ['-', ''];
}

function kindOf(b) {
	if (b.policy)
		return 'policy';
	if (b.group)
		return 'group';
	return 'user';
}

const PICKERS = {
	policy: {
		name: 'policy', label: 'Policy', type: 'ref', required: true,
		ref: { endpoint: 'policies/all/', value: 'pk', search: true, label: (r) => `${r.name} (${r.verbose_name || 'Policy'})` },
	},
	group: {
		name: 'group', label: 'Group', type: 'ref', required: true,
		ref: groupRef,
	},
	user: {
		name: 'user', label: 'User', type: 'ref', required: true,
		ref: userRef,
	},
};

function bindingFields(kind) {
	return [
		PICKERS[kind],
		{ name: 'order', label: 'Order', type: 'number', required: true, help: 'Bindings are evaluated from the lowest order up.' },
		{ name: 'enabled', label: 'Enabled', type: 'bool', default: true },
		{ name: 'negate', label: 'Negate result', type: 'bool', default: false, help: 'Pass when the binding fails, and fail when it passes.' },
		{ name: 'timeout', label: 'Timeout (seconds)', type: 'number', default: 30, help: 'How long the policy may run before it is stopped.' },
		{ name: 'failure_result', label: 'Pass when the policy fails to run', type: 'bool', default: false },
	];
}

/* Numbers as the API expects them: the user pk and order/timeout are integers. */
function clean(values) {
	const out = { ...values };
	for (const k of ['order', 'timeout', 'user'])
		if (out[k] !== undefined && out[k] !== null && out[k] !== '' && typeof out[k] !== 'number') {
			const n = Number(out[k]);
			if (Number.isFinite(n))
				out[k] = n;
		}
	return out;
}

export async function renderPolicyBindings(el, targetPk, ctx, { title = 'Policy / Group / User Bindings' } = {}) {
	let page = 1;
	let maxOrder = -10;
	const status = h('div', { role: 'status', class: 'cu-muted' });
	const body = h('div', { class: 'cu-bindings-body' });
	const headingId = `cu-bindings-${Math.random().toString(36).slice(2, 9)}`;

	const openForm = (kind, binding) => {
		const editing = !!binding;
		const box = h('div');
		const initial = editing ? { ...binding } : { order: maxOrder + 10, enabled: true, negate: false, timeout: 30, failure_result: false };
		let d = null;
		renderForm(box, bindingFields(kind), initial, {
			mode: editing ? 'edit' : 'create',
			submitLabel: editing ? 'Save' : 'Bind',
			onCancel: () => d && d.close(),
			submit: async (values) => {
				const v = clean(values);
				let res;
				if (editing) {
					res = await api('PATCH', `${ENDPOINT}${encodeURIComponent(binding.pk)}/`, { body: v });
					toast('Saved');
				} else {
					res = await api('POST', ENDPOINT, { body: { ...v, target: targetPk } });
					toast(`Bound ${boundTo(res || {})[1] || kind}`);
				}
				if (d)
					d.close();
				await load();
				return res;
			},
		});
		const labels = { policy: 'Bind existing policy', group: 'Bind group', user: 'Bind user' };
		d = openDialog(editing ? 'Edit binding' : labels[kind], box);
	};

	const remove = async (b) => {
		const [kind, name] = boundTo(b);
		if (!(await confirmDialog('Delete binding', `Remove the binding of ${kind.toLowerCase()} ${name} (order ${b.order})?`)))
			return;
		try {
			await api('DELETE', `${ENDPOINT}${encodeURIComponent(b.pk)}/`);
			toast('Binding deleted');
			await load();
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
	};

	const load = async () => {
		clear(body).append(spinner());
		let data;
		try {
			data = await apiList(ENDPOINT, { target: targetPk, ordering: 'order', page, page_size: PAGE_SIZE });
		} catch (e) {
			clear(body).append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
			return;
		}
		const rows = data.results;
		const p = data.pagination || {};
		maxOrder = rows.reduce((m, b) => Math.max(m, Number(b.order) || 0), maxOrder);
		clear(body);
		if (!rows.length && page === 1) {
			body.append(h('p', { class: 'cu-empty' }, 'Nothing is bound. Without bindings, everyone passes.'));
			status.textContent = '';
			return;
		}
		const table = h('table', { class: 'cu-table' },
			h('caption', { class: 'cu-offscreen' }, title),
			h('thead', null, h('tr', null,
				h('th', { scope: 'col' }, 'Order'),
				h('th', { scope: 'col' }, 'Binds'),
				h('th', { scope: 'col' }, 'Enabled'),
				h('th', { scope: 'col' }, 'Negate'),
				h('th', { scope: 'col' }, 'Timeout'),
				h('th', { scope: 'col' }, 'Actions'))),
			h('tbody', null, rows.map((b) => {
				const [kind, name] = boundTo(b);
				return h('tr', null,
					h('td', null, String(b.order)),
					h('td', null, h('span', { class: 'cu-badge' }, kind), ' ', name),
					h('td', null, b.enabled ? 'Yes' : 'No'),
					h('td', null, b.negate ? 'Yes' : 'No'),
					h('td', null, `${b.timeout} s`),
					h('td', { class: 'cu-row-actions' },
						h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', 'aria-label': `Edit binding ${b.order} ${name}`, onClick: () => openForm(kindOf(b), b) }, 'Edit'),
						' ',
						h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small', 'aria-label': `Delete binding ${b.order} ${name}`, onClick: () => remove(b) }, 'Delete')));
			})));
		body.append(h('div', { class: 'cu-table-wrap' }, table));
		if ((p.total_pages || 1) > 1) {
			body.append(h('div', { class: 'cu-pager' },
				h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.previous, onClick: () => { page -= 1; load(); } }, 'Previous'),
				h('span', null, ` ${p.start_index}–${p.end_index} of ${p.count} `),
				h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.next, onClick: () => { page += 1; load(); } }, 'Next')));
		}
		status.textContent = `${p.count ?? rows.length} binding${(p.count ?? rows.length) === 1 ? '' : 's'}`;
	};

	clear(el).append(h('section', { class: 'cu-bindings', 'aria-labelledby': headingId },
		h('h2', { id: headingId }, title),
		h('div', { class: 'cu-toolbar' },
			h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => openForm('policy') }, 'Bind existing policy'),
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => openForm('group') }, 'Bind group'),
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => openForm('user') }, 'Bind user')),
		status,
		body));
	await load();
}
