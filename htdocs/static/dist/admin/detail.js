/*
 * Generic admin detail page: heading, actions, Delete, and tabs: the edit form (or a read-only
 * summary) first, then the descriptor's own tabs. Also the full-page create route (#/<id>/new).
 */
import { api } from '../common/api.js';
import { h, clear, toast, confirmDialog, spinner } from '../common/dom.js';
import { renderForm } from './form.js';
import { cellValue, createFlow, hashQuery } from './list.js';
import { itemEndpoint, kindFor, displayOf, navigate, makeCtx } from './registry.js';

function focusHeading(el) {
	const h1 = el.querySelector('h1');
	if (h1) {
		h1.setAttribute('tabindex', '-1');
		h1.focus({ preventScroll: false });
	}
}

/* A tab's name in the hash query: its label in lower case, words joined by '-'. */
export function tabKey(label) {
	return String(label).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/* The detail page's current tab is kept as ?tab=<key> in the hash (none for the first tab), so
 * a reload after Save or an action comes back to it. replaceState: no new history entry and no
 * hashchange (which would render the page again). */
function writeTabHash(key) {
	const hsh = location.hash || '';
	const i = hsh.indexOf('?');
	const base = i >= 0 ? hsh.slice(0, i) : hsh;
	const q = new URLSearchParams(i >= 0 ? hsh.slice(i + 1) : '');
	if (key)
		q.set('tab', key);
	else
		q.delete('tab');
	const s = q.toString();
	const target = `${base}${s ? '?' + s : ''}`;
	if (target !== hsh)
		history.replaceState(history.state, '', target || '#/');
}

/* Accessible tabs: a tablist with arrow-key movement; panels rendered when first shown. */
export function renderTabs(el, tabs, { label = 'Sections', initial = 0, onChange } = {}) {
	const uid = `t${Math.random().toString(36).slice(2, 8)}`;
	const list = h('div', { class: 'cu-tabs', role: 'tablist', 'aria-label': label });
	const panels = h('div', { class: 'cu-tab-panels' });
	const rendered = new Set();
	const buttons = [];
	const panelEls = [];
	const select = (i, focus) => {
		buttons.forEach((b, j) => {
			b.setAttribute('aria-selected', j === i ? 'true' : 'false');
			b.tabIndex = j === i ? 0 : -1;
			panelEls[j].hidden = j !== i;
		});
		if (!rendered.has(i)) {
			rendered.add(i);
			Promise.resolve().then(() => tabs[i].render(panelEls[i])).catch((e) => {
				clear(panelEls[i]);
				panelEls[i].appendChild(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message || String(e)));
			});
		}
		if (focus)
			buttons[i].focus();
		if (onChange)
			onChange(i);
	};
	tabs.forEach((t, i) => {
		const b = h('button', { type: 'button', role: 'tab', id: `${uid}-tab-${i}`, 'aria-controls': `${uid}-panel-${i}`, class: 'cu-tab',
			onClick: () => select(i, false) }, t.label);
		b.addEventListener('keydown', (ev) => {
			let j = null;
			if (ev.key === 'ArrowRight')
				j = (i + 1) % tabs.length;
			else if (ev.key === 'ArrowLeft')
				j = (i - 1 + tabs.length) % tabs.length;
			else if (ev.key === 'Home')
				j = 0;
			else if (ev.key === 'End')
				j = tabs.length - 1;
			if (j !== null) {
				ev.preventDefault();
				select(j, true);
			}
		});
		buttons.push(b);
		list.appendChild(b);
		const p = h('div', { role: 'tabpanel', id: `${uid}-panel-${i}`, 'aria-labelledby': `${uid}-tab-${i}`, class: 'cu-tab-panel', tabindex: '0', hidden: true });
		panelEls.push(p);
		panels.appendChild(p);
	});
	if (tabs.length > 1)
		el.appendChild(list);
	el.appendChild(panels);
	select(Math.min(initial, tabs.length - 1), false);
	return { select };
}

/* A read-only summary of the fields of an object. */
function summary(fields, row) {
	return h('dl', { class: 'cu-summary' }, fields.filter((f) => !f.writeOnly).map((f) => [
		h('dt', null, f.label || f.name),
		h('dd', null, f.type === 'json' ? h('pre', { class: 'cu-code' }, JSON.stringify(row[f.name] ?? null, null, 2)) : cellValue(row[f.name])),
	]));
}

export async function renderDetail(el, model, pk, ctx) {
	clear(el);
	const page = h('div', { class: 'cu-detail' });
	el.appendChild(page);
	page.appendChild(spinner());
	const reload = () => renderDetail(el, model, pk, ctx).then(() => {});
	const myCtx = { ...(ctx || makeCtx(model)), model, reload };

	let row;
	let kind;
	try {
		row = await api('GET', model.endpoint + encodeURIComponent(pk) + '/');
		kind = kindFor(model, row);
		if (kind && kind.endpoint && kind.endpoint !== model.endpoint)
			row = await api('GET', kind.endpoint + encodeURIComponent(pk) + '/');
	} catch (e) {
		clear(page);
		page.append(
			h('p', { class: 'cu-crumbs' }, h('a', { href: `#/${model.id}` }, model.title)),
			h('h1', { tabindex: '-1' }, e.status === 404 ? `${model.singular || model.title} not found` : `Could not load ${model.singular || model.title}`),
			h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
		focusHeading(page);
		return;
	}
	const name = displayOf(model, row);
	const canEdit = model.edit !== false && (!kind || kind.canEdit !== false) && (!kind || kind.edit !== false);
	const canRemove = model.remove !== false && (!kind || kind.canRemove !== false) && (!kind || kind.remove !== false);
	const fields = (kind && (kind.editFields || kind.fields)) || model.editFields || model.fields || [];
	const transform = (kind && kind.transform) || model.transform;

	const actions = (model.actions || []).concat((kind && kind.actions) || [])
		.filter((a) => !a.when || a.when(row));
	const actionBar = h('div', { class: 'cu-detail-actions' },
		actions.map((a) => {
			const b = h('button', { type: 'button', class: a.danger ? 'cu-btn cu-btn-danger' : 'cu-btn cu-btn-secondary', onClick: async () => {
				b.disabled = true;
				try {
					await a.run(row, myCtx);
				} catch (e) {
					toast(e.detail || e.message || String(e), 'error');
				} finally {
					b.disabled = false;
				}
			} }, a.label);
			return b;
		}),
		canRemove ? h('button', { type: 'button', class: 'cu-btn cu-btn-danger', onClick: async () => {
			const ok = await confirmDialog(`Delete ${model.singular || model.title}?`, `${model.singular || model.title} "${name}" will be deleted. This cannot be undone.`);
			if (!ok)
				return;
			try {
				await api('DELETE', itemEndpoint(model, row, kind));
				toast(`Deleted ${model.singular || model.title} ${name}`);
				navigate(`#/${model.id}`);
			} catch (e) {
				toast(`Could not delete: ${e.detail || e.message}`, 'error');
			}
		} }, 'Delete') : null);

	clear(page);
	page.append(
		h('p', { class: 'cu-crumbs' }, h('a', { href: `#/${model.id}` }, model.title), h('span', { 'aria-hidden': 'true' }, ' / '), kind ? kind.label : (model.singular || '')),
		h('div', { class: 'cu-page-head cu-detail-head' }, h('h1', { tabindex: '-1' }, name), actionBar));

	const tabs = [{
		label: canEdit ? 'Edit' : 'Details',
		render: (panel) => {
			if (!canEdit) {
				panel.appendChild(summary(fields, row));
				return;
			}
			renderForm(panel, fields, row, {
				mode: 'edit',
				submitLabel: 'Save',
				submit: async (values) => {
					if (!Object.keys(values).length) {
						toast('Nothing changed', 'info');
						return;
					}
					const payload = transform ? transform(values, row) : values;
					const saved = await api('PATCH', itemEndpoint(model, row, kind), { body: payload });
					toast('Saved');
					/* the object is addressed by what was just changed (a flow's slug, a token's
					 * identifier): its page has moved */
					const pkKey = model.pk || 'pk';
					if (saved && typeof saved === 'object' && saved[pkKey] !== undefined && saved[pkKey] !== null &&
						String(saved[pkKey]) !== String(pk)) {
						const q = hashQuery().toString();
						navigate(`#/${model.id}/${encodeURIComponent(String(saved[pkKey]))}${q ? '?' + q : ''}`);
						return;
					}
					await renderDetail(el, model, pk, ctx);
					focusHeading(el);
				},
			});
		},
	}];
	for (const t of (model.tabs || []).concat((kind && kind.tabs) || []))
		tabs.push({ label: t.label, render: (panel) => t.render(panel, row, myCtx) });
	const keys = tabs.map((t) => tabKey(t.label));
	const wanted = hashQuery().get('tab');
	const initial = wanted ? Math.max(0, keys.indexOf(wanted)) : 0;
	let shown = false; /* the first select() is the page's own, not the user's */
	renderTabs(page, tabs, { label: `${name} sections`, initial, onChange: (i) => {
		if (shown)
			writeTabHash(i > 0 ? keys[i] : null);
	} });
	shown = true;
}

/* #/<id>/new: the create form as a page. */
export function renderCreatePage(el, model) {
	clear(el);
	const body = h('div', { class: 'cu-create' });
	el.appendChild(h('div', { class: 'cu-detail' },
		h('p', { class: 'cu-crumbs' }, h('a', { href: `#/${model.id}` }, model.title)),
		h('h1', { tabindex: '-1' }, `Create ${model.singular || model.title}`),
		h('div', { class: 'cu-card' }, body)));
	createFlow(body, model, {
		onCancel: () => navigate(`#/${model.id}`),
		onCreated: (created) => {
			if (created && created[model.pk || 'pk'] !== undefined)
				navigate(`#/${model.id}/${encodeURIComponent(String(created[model.pk || 'pk']))}`);
			else
				navigate(`#/${model.id}`);
		},
	});
}
