/*
 * Admin screens for applications (core/applications/, by slug): list, create, edit, icon
 * upload to the media store, an access check for a chosen user, and the application's policy,
 * group and user bindings.
 */
import { register } from '../registry.js';
import { api } from '../../common/api.js';
import { h, clear, safeUrl, toast, openDialog } from '../../common/dom.js';
import { renderForm } from '../form.js';
import { renderPolicyBindings, policyEngineModeField } from '../bindings.js';
import { userRef } from '../refs.js';

const ICON_DIR = 'application-icons/';
const ICON_TYPES = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/svg+xml': 'svg', 'image/x-icon': 'ico', 'image/vnd.microsoft.icon': 'ico' };

function iconUrl(row) {
	return safeUrl(row.meta_icon_url || row.meta_icon || '');
}

function iconCell(row) {
	const src = iconUrl(row);
	return src ? h('img', { class: 'cu-app-icon', src, alt: '', width: 24, height: 24, loading: 'lazy' }) : '';
}

function providerLabel(p) {
	return p ? `${p.name} (${p.verbose_name || 'Provider'})` : '';
}

/* The extension an icon is stored under: the file's own, else one for its type. */
function iconExt(file) {
	const m = /\.([A-Za-z0-9]{1,5})$/.exec(file.name || '');
	if (m)
		return m[1].toLowerCase();
	return ICON_TYPES[file.type] || 'png';
}

async function uploadFile(file, name) {
	const form = new FormData();
	form.append('file', file);
	form.append('name', name);
	form.append('usage', 'media');
	return api('POST', 'admin/file/', { form });
}

/* Upload (replacing a file of the same name) and answer the stored file's URL. */
async function storeIcon(file, name) {
	let res;
	try {
		res = await uploadFile(file, name);
	} catch (e) {
		if (e.status !== 400 || !e.fields || !e.fields.name)
			throw e;
		await api('DELETE', 'admin/file/', { query: { name, usage: 'media' } });
		res = await uploadFile(file, name);
	}
	if (res && typeof res === 'object' && res.url)
		return res.url;
	const found = await api('GET', 'admin/file/', { query: { search: name, usage: 'media' } });
	const list = Array.isArray(found) ? found : (found && found.results) || [];
	const item = list.find((f) => f.name === name);
	if (!item || !item.url)
		throw new Error('The file was uploaded but its URL could not be found.');
	return item.url;
}

function uploadIcon(row, ctx) {
	const fileId = 'cu-app-icon-file';
	const input = h('input', { id: fileId, type: 'file', accept: 'image/*', class: 'cu-input', 'aria-describedby': `${fileId}-err` });
	const err = h('div', { id: `${fileId}-err`, class: 'cu-field-error', role: 'alert', hidden: true });
	const submit = h('button', { type: 'submit', class: 'cu-btn cu-btn-primary' }, 'Upload');
	const current = iconUrl(row);
	let d = null;
	const form = h('form', { class: 'cu-form', novalidate: true },
		current ? h('p', null, 'Current icon: ', h('img', { class: 'cu-app-icon', src: current, alt: '', width: 32, height: 32 })) : null,
		h('div', { class: 'cu-field' }, h('label', { for: fileId }, 'Icon file'), input, err),
		h('div', { class: 'cu-actions' },
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => d.close() }, 'Cancel'),
			submit));
	const fail = (msg) => {
		err.textContent = msg;
		err.hidden = false;
		input.setAttribute('aria-invalid', 'true');
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		input.removeAttribute('aria-invalid');
		const file = input.files && input.files[0];
		if (!file) {
			fail('Choose an image file.');
			return;
		}
		submit.disabled = true;
		try {
			const url = await storeIcon(file, `${ICON_DIR}${row.slug}.${iconExt(file)}`);
			await api('PATCH', `core/applications/${encodeURIComponent(row.slug)}/`, { body: { meta_icon: url } });
			toast('Icon uploaded');
			d.close();
			ctx.reload();
		} catch (e) {
			const msgs = e.fields ? Object.values(e.fields).flat() : [];
			fail(msgs.length ? msgs.join(' ') : (e.detail || e.message));
		} finally {
			submit.disabled = false;
		}
	});
	d = openDialog('Upload icon', form);
}

function checkAccess(row) {
	const box = h('div');
	const result = h('div', { class: 'cu-result', 'aria-live': 'polite' });
	renderForm(box, [
		{ name: 'for_user', label: 'User', type: 'ref', required: true, ref: userRef },
	], {}, {
		submitLabel: 'Check',
		submit: async (values) => {
			clear(result);
			const res = await api('GET', `core/applications/${encodeURIComponent(row.slug)}/check_access/`, { query: { for_user: values.for_user } });
			const msgs = (res && res.messages) || [];
			result.append(
				h('div', { class: res && res.passing ? 'cu-alert cu-alert-ok' : 'cu-alert cu-alert-error' },
					res && res.passing ? 'Passing: the user may access this application.' : 'Not passing: the user may not access this application.'),
				msgs.length ? h('ul', null, msgs.map((m) => h('li', null, typeof m === 'string' ? m : JSON.stringify(m)))) : h('p', { class: 'cu-muted' }, 'No messages.'));
			return res;
		},
	});
	box.append(result);
	openDialog('Check access', box);
}

function overview(el, row) {
	const launch = safeUrl(row.launch_url || '');
	const icon = iconUrl(row);
	const dl = (label, value) => [h('dt', null, label), h('dd', null, value === '' || value === null || value === undefined ? '—' : value)];
	clear(el).append(h('dl', { class: 'cu-summary' },
		dl('Icon', icon ? h('img', { class: 'cu-app-icon', src: icon, alt: '', width: 48, height: 48 }) : ''),
		dl('Launch URL', launch ? h('a', { href: launch, target: '_blank', rel: 'noopener noreferrer' }, row.launch_url) : (row.launch_url || '')),
		dl('Provider', providerLabel(row.provider_obj)),
		dl('Group', row.group),
		dl('Publisher', row.meta_publisher),
		dl('Description', row.meta_description),
		dl('Policy engine mode', row.policy_engine_mode)));
}

register({
	id: 'core/applications',
	nav: 'Applications', order: 10,
	title: 'Applications', singular: 'Application',
	endpoint: 'core/applications/',
	pk: 'slug',
	/* Admins see every application, not only those their own policies let them use. */
	query: { superuser_full_list: true },
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'meta_icon', label: 'Icon', render: iconCell },
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'slug', label: 'Slug', sort: 'slug' },
		{ key: 'provider', label: 'Provider', sort: 'provider', render: (row) => (row.provider_obj ? row.provider_obj.name : '—') },
		{ key: 'group', label: 'Group', sort: 'group' },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'slug', label: 'Slug', type: 'text', required: true, help: 'Letters, digits, hyphens and underscores; used in URLs.' },
		{ name: 'group', label: 'Group', type: 'text', help: 'Applications with the same group are shown together.' },
		{ name: 'provider', label: 'Provider', type: 'ref', nullable: true,
			ref: { endpoint: 'providers/all/', value: 'pk', search: true, label: providerLabel } },
		policyEngineModeField(),
		{ name: 'meta_launch_url', label: 'Launch URL', type: 'text', help: 'Leave empty to use the provider\'s URL.' },
		{ name: 'open_in_new_tab', label: 'Open in new tab', type: 'bool' },
		{ name: 'meta_description', label: 'Description', type: 'textarea', rows: 3 },
		{ name: 'meta_publisher', label: 'Publisher', type: 'text' },
		{ name: 'meta_icon', label: 'Icon URL', type: 'text', help: 'An image URL; or use "Upload icon" on the application\'s page.' },
	],
	actions: [
		{ label: 'Upload icon', run: async (row, ctx) => uploadIcon(row, ctx) },
		{ label: 'Check access', run: async (row) => checkAccess(row) },
	],
	tabs: [
		{ label: 'Overview', render: async (el, row) => overview(el, row) },
		{ label: 'Policy / Group / User Bindings', render: async (el, row, ctx) => renderPolicyBindings(el, row.pk, ctx) },
	],
});
