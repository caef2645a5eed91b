/*
 * Admin models under "Flows and Stages": flows (with their stage bindings in order and their
 * policy bindings), prompts and invitations.
 */
import { register } from '../registry.js';
import { renderForm } from '../form.js';
import { renderPolicyBindings, policyEngineModeField } from '../bindings.js';
import { api, apiAll } from '../../common/api.js';
import { h, clear, toast, openDialog, confirmDialog, copyButton, spinner, fmtDate } from '../../common/dom.js';
import { flowRef } from '../refs.js';

const NAV = 'Flows and Stages';

export const DESIGNATIONS = [
	['authentication', 'Authentication'],
	['authorization', 'Authorization'],
	['invalidation', 'Invalidation'],
	['enrollment', 'Enrollment'],
	['unenrollment', 'Unenrollment'],
	['recovery', 'Recovery'],
	['stage_configuration', 'Stage configuration'],
];

const AUTHENTICATION = [
	['none', 'No requirement'],
	['require_authenticated', 'Require an authenticated user'],
	['require_unauthenticated', 'Require no authenticated user'],
	['require_superuser', 'Require a superuser'],
	['require_redirect', 'Require being redirected from another flow'],
	['require_outpost', 'Require an outpost'],
];

const DENIED_ACTIONS = [
	['message_continue', 'Show a message, or continue to the "next" URL when there is one'],
	['message', 'Show a message'],
	['continue', 'Continue to the "next" URL, or show a message'],
];

const LAYOUTS = [
	['stacked', 'Stacked'],
	['content_left', 'Content left'],
	['content_right', 'Content right'],
	['sidebar_left', 'Sidebar left'],
	['sidebar_right', 'Sidebar right'],
	['sidebar_left_frame_background', 'Sidebar left, frame background'],
	['sidebar_right_frame_background', 'Sidebar right, frame background'],
];

const INVALID_RESPONSE_ACTIONS = [
	['retry', 'Retry: show the stage again'],
	['restart', 'Restart the flow from the beginning'],
	['restart_with_context', 'Restart the flow, keeping the context'],
];

const label = (choices, v) => (choices.find(([k]) => k === v) || [v, v])[1];


const flowLink = (slug) => `/if/flow/${encodeURIComponent(slug)}/`;

/* A read-only text box holding a value to copy, selected when focused. */
function valueBox(id, label, value) {
	return h('div', { class: 'cu-field' },
		h('label', { for: id }, label),
		h('input', { id, type: 'text', class: 'cu-input', readonly: true, value, spellcheck: 'false', onFocus: (ev) => ev.target.select() }));
}

/* --- stage bindings of a flow ---------------------------------------------------------------- */

const STAGE_REF = {
	endpoint: 'stages/all/', value: 'pk', search: true,
	label: (r) => `${r.name} (${r.verbose_name || 'Stage'})`,
};

function bindingFields(creating) {
	return [
		creating ? { name: 'stage', label: 'Stage', type: 'ref', required: true, ref: STAGE_REF } : null,
		{ name: 'order', label: 'Order', type: 'number', required: true, help: 'Stages run from the lowest order up.' },
		{ name: 'evaluate_on_plan', label: 'Evaluate when the flow is planned', type: 'bool', default: false,
			help: 'Evaluate this binding\'s policies when the flow starts, with the request as it was then.' },
		{ name: 're_evaluate_policies', label: 'Evaluate when the stage is reached', type: 'bool', default: true,
			help: 'Evaluate this binding\'s policies again just before the stage runs.' },
		policyEngineModeField(),
		{ name: 'invalid_response_action', label: 'Invalid response action', type: 'select', default: 'retry',
			choices: INVALID_RESPONSE_ACTIONS, help: 'What happens when the user sends something the stage does not accept.' },
	].filter(Boolean);
}

async function renderStageBindings(el, flow, ctx) {
	const status = h('p', { class: 'cu-muted', role: 'status' });
	const body = h('div');
	let rows = [];

	const load = async () => {
		clear(body).append(spinner());
		try {
			rows = await apiAll('flows/bindings/', { target: flow.pk, ordering: 'order' });
		} catch (e) {
			clear(body).append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
			return;
		}
		rows.sort((a, b) => (a.order - b.order) || String(a.pk).localeCompare(String(b.pk)));
		clear(body);
		status.textContent = `${rows.length} stage${rows.length === 1 ? '' : 's'} bound`;
		if (!rows.length) {
			body.append(h('p', { class: 'cu-empty' }, 'No stages are bound to this flow yet.'));
			return;
		}
		body.append(h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table' },
			h('caption', { class: 'cu-offscreen' }, `Stages of ${flow.name}`),
			h('thead', null, h('tr', null,
				h('th', { scope: 'col' }, 'Order'),
				h('th', { scope: 'col' }, 'Stage'),
				h('th', { scope: 'col' }, 'Kind'),
				h('th', { scope: 'col' }, 'Evaluation'),
				h('th', { scope: 'col' }, 'Actions'))),
			h('tbody', null, rows.map((b, i) => {
				const st = b.stage_obj || {};
				const name = st.name || b.stage;
				const evals = [b.evaluate_on_plan ? 'on plan' : null, b.re_evaluate_policies ? 'when reached' : null].filter(Boolean).join(', ');
				const small = (text, aria, onClick, extra = {}) => h('button', {
					type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', 'aria-label': aria, onClick, ...extra,
				}, text);
				return h('tr', null,
					h('td', null, String(b.order)),
					h('td', null, h('a', { href: `#/stages/all/${encodeURIComponent(st.pk || b.stage)}` }, name)),
					h('td', null, st.verbose_name || ''),
					h('td', null, evals || '—'),
					h('td', { class: 'cu-row-actions' },
						small('Up', `Move ${name} up`, () => move(i, -1), { disabled: i === 0 }), ' ',
						small('Down', `Move ${name} down`, () => move(i, 1), { disabled: i === rows.length - 1 }), ' ',
						small('Edit', `Edit the binding of ${name}`, () => openForm(b)), ' ',
						small('Policy bindings', `Policy bindings of ${name}`, () => openPolicies(b, name)), ' ',
						h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small', 'aria-label': `Remove ${name} from this flow`, onClick: () => remove(b, name) }, 'Remove')));
			})))));
	};

	const openForm = (binding) => {
		const creating = !binding;
		const box = h('div');
		const next = rows.reduce((m, b) => Math.max(m, Number(b.order) || 0), 0) + 10;
		let d = null;
		renderForm(box, bindingFields(creating), creating ? { order: next } : binding, {
			mode: creating ? 'create' : 'edit',
			submitLabel: creating ? 'Bind' : 'Save',
			onCancel: () => d && d.close(),
			submit: async (values) => {
				if (creating) {
					const res = await api('POST', 'flows/bindings/', { body: { ...values, target: flow.pk } });
					toast(`Bound stage ${(res && res.stage_obj && res.stage_obj.name) || ''} at order ${res ? res.order : values.order}`);
				} else {
					if (Object.keys(values).length)
						await api('PATCH', `flows/bindings/${encodeURIComponent(binding.pk)}/`, { body: values });
					toast('Saved');
				}
				d.close();
				await load();
			},
		});
		d = openDialog(creating ? 'Bind existing stage' : `Edit binding of ${(binding.stage_obj || {}).name || 'stage'}`, box);
	};

	/* Swap the orders of two neighbouring bindings; equal orders are pulled apart by one. */
	const move = async (i, dir) => {
		const a = rows[i];
		const b = rows[i + dir];
		if (!a || !b)
			return;
		let newA = b.order;
		let newB = a.order;
		if (newA === newB) {
			newA = dir < 0 ? b.order - 1 : b.order + 1;
			newB = b.order;
		}
		const patch = (x, order) => api('PATCH', `flows/bindings/${encodeURIComponent(x.pk)}/`, { body: { order } });
		try {
			if (a.stage === b.stage) {
				/* (target, stage, order) is unique: park one binding on a free order first */
				const free = rows.reduce((m, r) => Math.max(m, Number(r.order) || 0), 0) + 1;
				await patch(a, free);
				await patch(b, newB);
				await patch(a, newA);
			} else {
				await patch(a, newA);
				await patch(b, newB);
			}
			toast(`Moved ${(a.stage_obj || {}).name || 'stage'} ${dir < 0 ? 'up' : 'down'}`);
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
		await load();
		const btn = body.querySelector(`button[aria-label="Move ${CSS.escape((a.stage_obj || {}).name || a.stage)} ${dir < 0 ? 'up' : 'down'}"]`);
		if (btn && !btn.disabled)
			btn.focus();
	};

	const remove = async (b, name) => {
		if (!(await confirmDialog('Remove stage binding', `Remove ${name} (order ${b.order}) from ${flow.name}? The stage itself is kept.`, { confirmLabel: 'Remove' })))
			return;
		try {
			await api('DELETE', `flows/bindings/${encodeURIComponent(b.pk)}/`);
			toast(`Removed ${name} from the flow`);
		} catch (e) {
			toast(e.detail || e.message, 'error');
		}
		await load();
	};

	const openPolicies = (b, name) => {
		const box = h('div');
		openDialog(`Policy bindings of ${name} in ${flow.name}`, box, { wide: true });
		renderPolicyBindings(box, b.pk, ctx);
	};

	clear(el).append(h('section', { 'aria-labelledby': 'cu-flow-stages-h' },
		h('h2', { id: 'cu-flow-stages-h' }, 'Stage Bindings'),
		h('p', { class: 'cu-help' }, 'The stages this flow runs, from the lowest order up. Policies bound to a stage binding decide whether that stage runs.'),
		h('div', { class: 'cu-toolbar' },
			h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => openForm(null) }, 'Bind existing stage'),
			h('a', { class: 'cu-btn cu-btn-secondary', href: '#/stages/all/new' }, 'Create stage')),
		status, body));
	await load();
}

/* --- flows ----------------------------------------------------------------------------------- */

const flowFields = [
	{ name: 'name', label: 'Name', type: 'text', required: true },
	{ name: 'title', label: 'Title', type: 'text', required: true, help: 'Shown to the user above the flow.' },
	{ name: 'slug', label: 'Slug', type: 'text', required: true, help: 'Letters, numbers, "-" and "_"; the flow\'s address is /if/flow/<slug>/.' },
	{ name: 'designation', label: 'Designation', type: 'select', required: true, choices: DESIGNATIONS,
		help: 'What the flow is for; brands, providers and stages pick flows by designation.' },
	{ name: 'authentication', label: 'Authentication', type: 'select', default: 'none', choices: AUTHENTICATION,
		help: 'Who may start the flow.' },
	{ name: 'denied_action', label: 'Denied action', type: 'select', default: 'message_continue', choices: DENIED_ACTIONS,
		help: 'What happens when the flow\'s policies deny access.' },
	policyEngineModeField(),
	{ name: 'layout', label: 'Layout', type: 'select', default: 'stacked', choices: LAYOUTS },
	{ name: 'background', label: 'Background', type: 'text', placeholder: '/static/dist/assets/images/flow_background.jpg',
		help: 'URL of the background image; empty for the brand\'s default.' },
	{ name: 'compatibility_mode', label: 'Compatibility mode', type: 'bool', default: false,
		help: 'Adjusts the interface for password managers and browsers with limited support.' },
];

register({
	id: 'flows/instances',
	nav: NAV, order: 10,
	title: 'Flows', singular: 'Flow',
	endpoint: 'flows/instances/',
	pk: 'slug',
	search: true,
	ordering: 'slug',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'slug', label: 'Slug', sort: 'slug', render: (r) => h('code', null, r.slug) },
		{ key: 'designation', label: 'Designation', sort: 'designation', render: (r) => label(DESIGNATIONS, r.designation) },
		{ key: 'title', label: 'Title', sort: 'title' },
	],
	filters: [
		{ key: 'designation', label: 'Designation', type: 'select', choices: DESIGNATIONS },
	],
	fields: flowFields,
	actions: [
		{
			label: 'Execute',
			run: async (row) => {
				window.open(flowLink(row.slug), '_blank', 'noopener');
			},
		},
		{
			label: 'Copy flow link',
			run: async (row) => {
				const url = new URL(flowLink(row.slug), window.location.origin).href;
				openDialog(`Link to ${row.name}`, h('div', null,
					h('p', null, 'Users start the flow at this address:'),
					valueBox('cu-flow-link', 'Flow link', url),
					h('div', { class: 'cu-actions' }, copyButton(url, 'Copy link'))));
			},
		},
	],
	tabs: [
		{ label: 'Stage Bindings', render: (el, row, ctx) => renderStageBindings(el, row, ctx) },
		{ label: 'Policy / Group / User Bindings', render: (el, row, ctx) => renderPolicyBindings(el, row.pk, ctx) },
	],
});

/* --- prompts --------------------------------------------------------------------------------- */

export const PROMPT_TYPES = [
	['text', 'Text'],
	['text_area', 'Text area'],
	['text_read_only', 'Text (read-only)'],
	['text_area_read_only', 'Text area (read-only)'],
	['username', 'Username'],
	['email', 'Email'],
	['password', 'Password'],
	['number', 'Number'],
	['checkbox', 'Checkbox'],
	['radio-button-group', 'Radio button group'],
	['dropdown', 'Dropdown'],
	['date', 'Date'],
	['date-time', 'Date and time'],
	['file', 'File'],
	['separator', 'Separator'],
	['hidden', 'Hidden'],
	['static', 'Static text'],
	['ak-locale', 'Locale'],
];

register({
	id: 'stages/prompt/prompts',
	nav: NAV, order: 30,
	title: 'Prompts', singular: 'Prompt',
	endpoint: 'stages/prompt/prompts/',
	search: true,
	ordering: 'field_key',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'field_key', label: 'Field key', sort: 'field_key', render: (r) => h('code', null, r.field_key) },
		{ key: 'label', label: 'Label', sort: 'label' },
		{ key: 'type', label: 'Type', sort: 'type', render: (r) => label(PROMPT_TYPES, r.type) },
		{ key: 'order', label: 'Order', sort: 'order' },
		{ key: 'stages', label: 'Stages', render: (r) => (r.prompt_stages_obj || []).map((s) => s.name).join(', ') },
	],
	filters: [
		{ key: 'type', label: 'Type', type: 'select', choices: PROMPT_TYPES },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'field_key', label: 'Field key', type: 'text', required: true,
			help: 'Where the answer is stored in the flow context; "attributes.x" writes a user attribute.' },
		{ name: 'label', label: 'Label', type: 'text', required: true },
		{ name: 'type', label: 'Type', type: 'select', required: true, choices: PROMPT_TYPES },
		{ name: 'required', label: 'Required', type: 'bool', default: false },
		{ name: 'placeholder', label: 'Placeholder', type: 'textarea', rows: 2,
			help: 'For dropdowns and radio button groups: the choices.' },
		{ name: 'placeholder_expression', label: 'Placeholder is an expression', type: 'bool', default: false },
		{ name: 'initial_value', label: 'Initial value', type: 'textarea', rows: 2 },
		{ name: 'initial_value_expression', label: 'Initial value is an expression', type: 'bool', default: false },
		{ name: 'sub_text', label: 'Help text', type: 'textarea', rows: 2 },
		{ name: 'order', label: 'Order', type: 'number', default: 0 },
	],
});

/* --- invitations ----------------------------------------------------------------------------- */

function invitationLink(inv, slug) {
	return new URL(`${flowLink(slug)}?itoken=${encodeURIComponent(inv.pk)}`, window.location.origin).href;
}

async function renderInvitationLink(el, inv) {
	const out = h('div');
	const show = (slug) => {
		clear(out);
		if (!slug)
			return;
		const url = invitationLink(inv, slug);
		out.append(valueBox(`cu-invite-link-${inv.pk}`, 'Invitation link', url), h('div', { class: 'cu-actions' }, copyButton(url, 'Copy link')));
	};
	const section = h('section', { 'aria-labelledby': 'cu-invite-link-h' }, h('h2', { id: 'cu-invite-link-h' }, 'Invitation link'));
	clear(el).append(section);
	if (inv.flow_obj && inv.flow_obj.slug) {
		section.append(h('p', null, `Send this link to the person you invite; it starts the flow ${inv.flow_obj.name}.`), out);
		show(inv.flow_obj.slug);
		return;
	}
	/* No flow on the invitation: any enrollment flow with an invitation stage takes it. */
	section.append(h('p', null, 'This invitation is not tied to a flow. Choose the enrollment flow the link starts:'));
	const sel = h('select', { id: 'cu-invite-flow', class: 'cu-input' }, h('option', { value: '' }, '—'));
	section.append(h('div', { class: 'cu-field' }, h('label', { for: 'cu-invite-flow' }, 'Flow'), sel), out);
	sel.addEventListener('change', () => show(sel.value));
	try {
		const flows = await apiAll('flows/instances/', { designation: 'enrollment' });
		for (const f of flows)
			sel.append(h('option', { value: f.slug }, `${f.name} (${f.slug})`));
	} catch (e) {
		section.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
	}
}

register({
	id: 'stages/invitation/invitations',
	nav: NAV, order: 40,
	title: 'Invitations', singular: 'Invitation',
	endpoint: 'stages/invitation/invitations/',
	search: true,
	ordering: '-expires',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'flow', label: 'Flow', render: (r) => (r.flow_obj ? r.flow_obj.slug : '') },
		{ key: 'expires', label: 'Expires', sort: 'expires', render: (r) => (r.expires ? fmtDate(r.expires) : 'Never') },
		{ key: 'single_use', label: 'Single use', render: (r) => (r.single_use ? 'Yes' : 'No') },
		{ key: 'created_by', label: 'Created by', render: (r) => (r.created_by ? r.created_by.username : '') },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true, help: 'Letters, numbers, "-" and "_".' },
		{ name: 'flow', label: 'Flow', type: 'ref', nullable: true, ref: flowRef('enrollment'),
			help: 'The enrollment flow this invitation is for; empty: any flow with an invitation stage.' },
		{ name: 'expires', label: 'Expires', type: 'datetime', nullable: true, help: 'Empty: the invitation never expires.' },
		{ name: 'single_use', label: 'Single use', type: 'bool', default: false, help: 'Delete the invitation once it is used.' },
		{ name: 'fixed_data', label: 'Fixed data', type: 'json', default: {},
			help: 'A JSON object merged into the flow context; prompts with these field keys are filled in.' },
	],
	actions: [
		{
			label: 'Invitation link',
			run: async (row) => {
				const box = h('div');
				openDialog(`Link for ${row.name}`, box);
				await renderInvitationLink(box, row);
			},
		},
	],
	tabs: [
		{ label: 'Link', render: (el, row) => renderInvitationLink(el, row) },
	],
});
