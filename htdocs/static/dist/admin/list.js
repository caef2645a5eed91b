/*
 * Generic admin list: search, filters, sortable columns, paging through the API, row selection
 * with "Delete selected", and create (in a dialog; polymorphic models ask for the kind first).
 * The state (page, search, ordering, filters) lives in the hash query of a top-level list.
 */
import { api, apiList } from '../common/api.js';
import { h, clear, toast, openDialog, confirmDialog, fmtDate, spinner } from '../common/dom.js';
import { renderForm } from './form.js';
import { itemEndpoint, displayOf, navigate } from './registry.js';

const PAGE_SIZE = 20;

/* '#/core/users?search=al&page=2' -> URLSearchParams of the query part. */
export function hashQuery() {
	const hsh = location.hash || '';
	const i = hsh.indexOf('?');
	return new URLSearchParams(i >= 0 ? hsh.slice(i + 1) : '');
}

function hashRoute() {
	const hsh = (location.hash || '').replace(/^#\/?/, '');
	const i = hsh.indexOf('?');
	return i >= 0 ? hsh.slice(0, i) : hsh;
}

function getPath(row, key) {
	if (!key)
		return undefined;
	let v = row;
	for (const part of String(key).split('.')) {
		if (v === null || v === undefined)
			return undefined;
		v = v[part];
	}
	return v;
}

/* Default cell content of a value. */
export function cellValue(v) {
	if (v === null || v === undefined || v === '')
		return h('span', { class: 'cu-muted', 'aria-label': 'empty' }, '–');
	if (v === true)
		return h('span', { class: 'cu-badge cu-badge-ok' }, 'Yes');
	if (v === false)
		return h('span', { class: 'cu-badge' }, 'No');
	if (Array.isArray(v))
		return v.map((x) => (typeof x === 'object' && x ? (x.name ?? x.username ?? JSON.stringify(x)) : String(x))).join(', ');
	if (typeof v === 'object')
		return JSON.stringify(v);
	if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v))
		return h('time', { datetime: v }, fmtDate(v));
	return String(v);
}

function detailHash(model, row) {
	return `#/${model.id}/${encodeURIComponent(String(row[model.pk || 'pk']))}`;
}

/* The create flow inside a container: kind choice (polymorphic models), then the form. */
export function createFlow(body, model, { onCreated, onCancel, kind } = {}) {
	const kinds = (model.kinds || []).filter((k) => k.canCreate !== false && k.create !== false);
	const showForm = (k) => {
		clear(body);
		if (k)
			body.appendChild(h('p', { class: 'cu-muted' }, k.label));
		const fields = (k && (k.createFields || k.fields)) || model.createFields || model.fields || [];
		const endpoint = (k && k.endpoint) || model.endpoint;
		const transform = (k && k.transform) || model.transform;
		const f = renderForm(body, fields, k && k.initial ? k.initial : (model.initial || {}), {
			mode: 'create',
			submitLabel: 'Create',
			onCancel,
			submit: async (values) => {
				const payload = transform ? transform(values, null) : values;
				const created = await api('POST', endpoint, { body: payload });
				toast(`Created ${model.singular || model.title} ${created ? displayOf(model, created) : ''}`.trim());
				if (onCreated)
					onCreated(created, k);
			},
		});
		const first = f.form.querySelector('input:not([type=hidden]):not([disabled]), select, textarea');
		if (first)
			first.focus();
	};
	if (kinds.length && !kind) {
		clear(body);
		body.appendChild(h('p', null, `Choose the type of ${String(model.singular || model.title).toLowerCase()} to create.`));
		body.appendChild(h('ul', { class: 'cu-kinds' }, kinds.map((k) => h('li', null,
			h('button', { type: 'button', class: 'cu-kind', onClick: () => showForm(k) },
				h('strong', null, k.label), k.description ? h('span', { class: 'cu-muted' }, k.description) : null)))));
		if (onCancel)
			body.appendChild(h('div', { class: 'cu-actions' }, h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: onCancel }, 'Cancel')));
		const firstBtn = body.querySelector('button');
		if (firstBtn)
			firstBtn.focus();
	} else {
		showForm(kind ? kinds.find((k) => k.key === kind) || kinds[0] : kinds[0]);
	}
}

/* Create in a dialog. */
export function openCreate(model, { onCreated, kind } = {}) {
	const body = h('div', { class: 'cu-create' });
	const d = openDialog(`Create ${model.singular || model.title}`, body, { wide: true });
	createFlow(body, model, {
		kind,
		onCancel: () => d.close(),
		onCreated: (created, k) => {
			d.close();
			if (onCreated)
				onCreated(created, k);
		},
	});
	return d;
}

/*
 * renderList(el, model, {query, onOpen, embedded, columns, actionsFor, title, createLabel})
 * query: fixed API parameters (e.g. a parent filter); the user's state is kept in the hash query
 * for a top-level list and in memory for an embedded one. Returns {reload()}.
 * A descriptor may add toolbar buttons with listExtras(reload) -> Node (top-level lists only).
 */
export function renderList(el, model, { query, onOpen, embedded, columns, actionsFor, title, create, remove } = {}) {
	const cols = columns || model.columns || [];
	const filters = model.filters || [];
	const canCreate = create !== undefined ? create : model.create !== false;
	const canRemove = remove !== undefined ? remove : model.remove !== false;
	const route = embedded ? null : hashRoute();
	const state = { page: 1, search: '', ordering: model.ordering || '', page_size: PAGE_SIZE, filters: {} };
	if (!embedded) {
		const q = hashQuery();
		state.page = Math.max(1, parseInt(q.get('page') || '1', 10) || 1);
		state.search = q.get('search') || '';
		state.ordering = q.get('ordering') || state.ordering;
		const ps = parseInt(q.get('page_size') || '', 10);
		if (ps > 0 && ps <= 100)
			state.page_size = ps;
		for (const f of filters)
			if (q.has(f.key))
				state.filters[f.key] = q.get(f.key);
	}
	const selected = new Map();
	let rows = [];
	let seq = 0;

	const open = (row) => {
		if (onOpen)
			onOpen(row);
		else
			navigate(detailHash(model, row));
	};

	const writeHash = (push) => {
		if (embedded)
			return;
		const q = new URLSearchParams();
		if (state.search)
			q.set('search', state.search);
		if (state.ordering && state.ordering !== (model.ordering || ''))
			q.set('ordering', state.ordering);
		for (const [k, v] of Object.entries(state.filters))
			if (v !== '' && v !== undefined)
				q.set(k, v);
		if (state.page > 1)
			q.set('page', String(state.page));
		if (state.page_size !== PAGE_SIZE)
			q.set('page_size', String(state.page_size));
		const s = q.toString();
		const target = `#/${route}${s ? '?' + s : ''}`;
		if (target !== location.hash)
			history[push ? 'pushState' : 'replaceState'](null, '', target);
	};

	/* toolbar */
	const uid = `l${Math.random().toString(36).slice(2, 8)}`;
	const searchInput = h('input', { id: `${uid}-q`, type: 'search', class: 'cu-input', value: state.search, placeholder: 'Search…' });
	const searchForm = model.search ? h('form', { class: 'cu-search', role: 'search', onSubmit: (ev) => {
		ev.preventDefault();
		state.search = searchInput.value.trim();
		state.page = 1;
		writeHash(true);
		load();
	} }, h('label', { for: `${uid}-q`, class: 'cu-offscreen' }, `Search ${model.title}`), searchInput,
	h('button', { type: 'submit', class: 'cu-btn cu-btn-secondary' }, 'Search')) : null;

	const applyFilter = (key, value) => {
		if ((state.filters[key] || '') === value)
			return;
		state.filters[key] = value;
		state.page = 1;
		writeHash(true);
		load();
	};
	const filterNodes = filters.map((f) => {
		const id = `${uid}-f-${f.key}`;
		if (f.type === 'text') {
			/* applied on Enter or when the field loses a changed value */
			const input = h('input', { id, type: 'text', class: 'cu-input cu-input-small cu-filter-text', value: state.filters[f.key] || '',
				placeholder: f.placeholder || null, autocomplete: 'off', spellcheck: 'false' });
			input.addEventListener('keydown', (ev) => {
				if (ev.key === 'Enter') {
					ev.preventDefault();
					applyFilter(f.key, input.value.trim());
				}
			});
			input.addEventListener('change', () => applyFilter(f.key, input.value.trim()));
			return h('div', { class: 'cu-filter' }, h('label', { for: id }, f.label || f.key), input);
		}
		const choices = f.type === 'bool' ? [['true', 'Yes'], ['false', 'No']] : (f.choices || []);
		const sel = h('select', { id, class: 'cu-input cu-input-small', onChange: () => {
			state.filters[f.key] = sel.value;
			state.page = 1;
			writeHash(true);
			load();
		} }, h('option', { value: '' }, 'Any'), choices.map(([v, l]) => h('option', { value: String(v) }, l)));
		sel.value = state.filters[f.key] || '';
		return h('div', { class: 'cu-filter' }, h('label', { for: id }, f.label || f.key), sel);
	});

	const deleteBtn = canRemove ? h('button', { type: 'button', class: 'cu-btn cu-btn-danger', disabled: true, onClick: () => deleteSelected() }, 'Delete selected') : null;
	const createBtn = canCreate ? h('button', { type: 'button', class: 'cu-btn cu-btn-primary', onClick: () => openCreate(model, {
		onCreated: (created) => {
			if (!embedded && created && created[model.pk || 'pk'] !== undefined)
				navigate(detailHash(model, created));
			else
				load();
		},
	}) }, 'Create') : null;
	const refreshBtn = h('button', { type: 'button', class: 'cu-btn cu-btn-plain', onClick: () => load() }, 'Refresh');

	const status = h('div', { class: 'cu-list-status', role: 'status', 'aria-live': 'polite' });
	const table = h('table', { class: 'cu-table' });
	const tableWrap = h('div', { class: 'cu-table-wrap', tabindex: '0', role: 'region', 'aria-label': `${title || model.title} table` }, table);
	const pager = h('nav', { class: 'cu-pager', 'aria-label': `${title || model.title} pages` });

	clear(el);
	const headingId = `${uid}-h`;
	const section = h('section', { class: embedded ? 'cu-list cu-list-embedded' : 'cu-list', 'aria-labelledby': embedded ? null : headingId },
		embedded ? null : h('div', { class: 'cu-page-head' }, h('h1', { id: headingId, tabindex: '-1' }, title || model.title),
			model.description ? h('p', { class: 'cu-muted' }, model.description) : null),
		h('div', { class: 'cu-toolbar' }, searchForm, filterNodes, h('div', { class: 'cu-toolbar-end' }, refreshBtn,
			!embedded && typeof model.listExtras === 'function' ? model.listExtras(() => load()) : null, deleteBtn, createBtn)),
		status, tableWrap, pager);
	el.appendChild(section);

	const sortState = (c) => {
		const key = c.sort === true ? c.key : c.sort;
		if (!key)
			return null;
		if (state.ordering === key)
			return 'ascending';
		if (state.ordering === '-' + key)
			return 'descending';
		return 'none';
	};

	const updateDeleteBtn = () => {
		if (deleteBtn) {
			deleteBtn.disabled = selected.size === 0;
			deleteBtn.textContent = selected.size ? `Delete selected (${selected.size})` : 'Delete selected';
		}
	};

	const renderTable = () => {
		clear(table);
		const allBox = canRemove ? h('input', { type: 'checkbox', class: 'cu-check', 'aria-label': 'Select all on this page',
			checked: rows.length > 0 && rows.every((r) => selected.has(String(r[model.pk || 'pk']))),
			onChange: () => {
				for (const r of rows) {
					if (allBox.checked)
						selected.set(String(r[model.pk || 'pk']), r);
					else
						selected.delete(String(r[model.pk || 'pk']));
				}
				renderTable();
				updateDeleteBtn();
			} }) : null;
		table.appendChild(h('thead', null, h('tr', null,
			canRemove ? h('th', { class: 'cu-col-check', scope: 'col' }, allBox) : null,
			cols.map((c) => {
				const s = sortState(c);
				if (!s)
					return h('th', { scope: 'col' }, c.label);
				const key = c.sort === true ? c.key : c.sort;
				return h('th', { scope: 'col', 'aria-sort': s },
					h('button', { type: 'button', class: 'cu-sort', onClick: () => {
						state.ordering = s === 'ascending' ? '-' + key : key;
						state.page = 1;
						writeHash(true);
						load();
					} }, c.label, h('span', { class: 'cu-sort-mark', 'aria-hidden': 'true' }, s === 'ascending' ? ' ▲' : s === 'descending' ? ' ▼' : ' ↕')));
			}),
			actionsFor ? h('th', { scope: 'col' }, 'Actions') : null)));
		const tbody = h('tbody');
		if (!rows.length) {
			tbody.appendChild(h('tr', null, h('td', { colspan: String(cols.length + (canRemove ? 1 : 0) + (actionsFor ? 1 : 0)), class: 'cu-empty' },
				state.search || Object.values(state.filters).some(Boolean) ? 'No objects match.' : 'No objects yet.')));
		}
		for (const row of rows) {
			const key = String(row[model.pk || 'pk']);
			const label = displayOf(model, row);
			const tr = h('tr', { class: 'cu-row' });
			if (canRemove) {
				const cb = h('input', { type: 'checkbox', class: 'cu-check', 'aria-label': `Select ${label}`, checked: selected.has(key), onChange: () => {
					if (cb.checked)
						selected.set(key, row);
					else
						selected.delete(key);
					updateDeleteBtn();
					if (allBox)
						allBox.checked = rows.every((r) => selected.has(String(r[model.pk || 'pk'])));
				} });
				tr.appendChild(h('td', { class: 'cu-col-check' }, cb));
			}
			cols.forEach((c, i) => {
				let content = c.render ? c.render(row) : cellValue(getPath(row, c.key));
				if (i === 0 && !(content instanceof Element && (content.tagName === 'A' || content.querySelector('a')))) {
					const a = h('a', { href: onOpen ? '#' : detailHash(model, row), class: 'cu-row-link' }, content);
					if (onOpen)
						a.addEventListener('click', (ev) => { ev.preventDefault(); open(row); });
					content = a;
				}
				tr.appendChild(h(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : null, content));
			});
			if (actionsFor)
				tr.appendChild(h('td', { class: 'cu-row-actions' }, actionsFor(row)));
			tr.addEventListener('click', (ev) => {
				if (ev.target.closest('a, button, input, select, textarea, label'))
					return;
				if (window.getSelection && String(window.getSelection()).length)
					return;
				open(row);
			});
			tbody.appendChild(tr);
		}
		table.appendChild(tbody);
	};

	const renderPager = (p) => {
		clear(pager);
		const count = p.count ?? rows.length;
		const start = p.start_index ?? (rows.length ? 1 : 0);
		const end = p.end_index ?? rows.length;
		const go = (page) => {
			state.page = page;
			writeHash(true);
			load().then(() => tableWrap.focus());
		};
		pager.append(
			h('span', { class: 'cu-pager-info' }, count ? `${start}–${end} of ${count}` : '0 of 0'),
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.previous, onClick: () => go(p.previous) }, 'Previous'),
			h('span', { class: 'cu-pager-page' }, `Page ${p.current || state.page} of ${p.total_pages || 1}`),
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.next, onClick: () => go(p.next) }, 'Next'));
	};

	async function load() {
		const my = ++seq;
		section.setAttribute('aria-busy', 'true');
		clear(status);
		if (!rows.length)
			status.appendChild(spinner());
		const params = { ...(model.query || {}), ...(query || {}), page: state.page, page_size: state.page_size };
		if (state.ordering)
			params.ordering = state.ordering;
		if (state.search)
			params.search = state.search;
		for (const [k, v] of Object.entries(state.filters))
			if (v !== '' && v !== undefined)
				params[k] = v;
		try {
			const { pagination, results } = await apiList(model.endpoint, params);
			if (my !== seq)
				return;
			/* a page beyond the end (after deletes): go to the last page */
			if (!results.length && state.page > 1 && pagination.total_pages && state.page > pagination.total_pages) {
				state.page = pagination.total_pages;
				writeHash(false);
				return load();
			}
			rows = results;
			clear(status);
			renderTable();
			renderPager(pagination);
			updateDeleteBtn();
		} catch (e) {
			if (my !== seq)
				return;
			clear(status);
			status.appendChild(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, `Could not load ${model.title}: ${e.detail || e.message}`));
			rows = [];
			renderTable();
			clear(pager);
		} finally {
			if (my === seq)
				section.removeAttribute('aria-busy');
		}
	}

	async function deleteSelected() {
		const items = [...selected.values()];
		if (!items.length)
			return;
		const names = items.slice(0, 10).map((r) => displayOf(model, r));
		const more = items.length > 10 ? [`…and ${items.length - 10} more`] : [];
		const ok = await confirmDialog(`Delete ${items.length} ${items.length === 1 ? (model.singular || model.title) : model.title}?`,
			[h('p', null, 'These objects will be deleted:'), h('ul', null, [...names, ...more].map((n) => h('li', null, n))),
				h('p', null, 'This cannot be undone.')]);
		if (!ok)
			return;
		const failures = [];
		for (const row of items) {
			try {
				await api('DELETE', itemEndpoint(model, row));
				selected.delete(String(row[model.pk || 'pk']));
			} catch (e) {
				failures.push(`${displayOf(model, row)}: ${e.detail || e.message}`);
			}
		}
		const done = items.length - failures.length;
		if (done)
			toast(`Deleted ${done} ${done === 1 ? (model.singular || model.title) : model.title}`);
		if (failures.length)
			toast(`Could not delete ${failures.join('; ')}`, 'error');
		updateDeleteBtn();
		await load();
	}

	load();
	return { reload: load, element: section };
}
