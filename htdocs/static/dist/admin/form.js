/*
 * Generic admin form: one input per field descriptor (text, textarea, code, password, number,
 * bool, select, ref, refs, json, datetime, list), conditional fields, per-field API errors and
 * the create/edit submission rules (create: all non-empty values; edit: changed values only).
 */
import { api, apiAll, apiList } from '../common/api.js';
import { h, clear } from '../common/dom.js';

let seq = 0;
const nextId = (name) => `f-${String(name).replace(/[^A-Za-z0-9_-]/g, '_')}-${++seq}`;

function refLabel(ref, row) {
	if (!row)
		return '';
	if (ref.label)
		return String(ref.label(row));
	return String(row.name ?? row.username ?? row.title ?? row.slug ?? row[ref.value || 'pk'] ?? '');
}

function refValue(ref, row) {
	return row[ref.value || 'pk'];
}

function itemUrl(endpoint, v) {
	return endpoint + encodeURIComponent(String(v)) + '/';
}

/*
 * Look up one referenced object for its label; a failure leaves the raw value shown. A ref with
 * `filter` names the list filter that selects by the value (flows are addressed by slug, so a
 * flow pk is found through ?flow_uuid=), and the item GET is skipped. A ref with `lookup` (the
 * field its items are addressed by, e.g. 'slug' for applications) and no such filter is found
 * by reading the list (up to apiAll's limit).
 */
async function fetchRefRow(ref, v) {
	const key = ref.value || 'pk';
	const pick = (results) => results.find((r) => String(refValue(ref, r)) === String(v)) ||
		(ref.filter && results.length === 1 ? results[0] : null);
	if (ref.filter) {
		try {
			const { results } = await apiList(ref.endpoint, { [ref.filter]: v, page_size: 5 });
			return pick(results);
		} catch (e) {
			return null;
		}
	}
	if (ref.lookup ? ref.lookup === key : key === 'pk') {
		try {
			return await api('GET', itemUrl(ref.endpoint, v));
		} catch (e) { /* fall through */ }
	}
	try {
		const { results } = await apiList(ref.endpoint, { ...(ref.query || {}), [key]: v, page_size: 5 });
		const row = pick(results);
		if (row || !ref.lookup || ref.lookup === key)
			return row;
		return pick(await apiAll(ref.endpoint, ref.query || {}));
	} catch (e) {
		return null;
	}
}

function toLocalInput(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return '';
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

class FieldError extends Error {}

/* A searching picker: a combobox input with a listbox of results, for one or many values. */
function searchPicker(field, id, multiple, onChange) {
	const ref = field.ref;
	const listId = id + '-list';
	let selected = []; /* [{value, label}] */
	let results = [];
	let active = -1;
	let timer = null;
	let reqSeq = 0;
	const chips = h('ul', { class: 'cu-chips', 'aria-label': `Selected ${field.label || field.name}` });
	const input = h('input', {
		id, type: 'text', class: 'cu-input', role: 'combobox', autocomplete: 'off',
		'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
		placeholder: field.placeholder || 'Type to search…',
	});
	const list = h('ul', { id: listId, class: 'cu-picker-list', role: 'listbox', hidden: true });
	const status = h('span', { class: 'cu-offscreen', 'aria-live': 'polite' });

	const renderChips = () => {
		clear(chips);
		if (!multiple) {
			input.value = selected[0] ? selected[0].label : '';
			return;
		}
		for (const s of selected)
			chips.appendChild(h('li', { class: 'cu-chip' }, s.label,
				h('button', { type: 'button', class: 'cu-chip-x', 'aria-label': `Remove ${s.label}`,
					onClick: () => { selected = selected.filter((x) => x !== s); renderChips(); onChange(); input.focus(); } }, '×')));
	};
	const close = () => {
		list.hidden = true;
		input.setAttribute('aria-expanded', 'false');
		input.removeAttribute('aria-activedescendant');
		active = -1;
	};
	const highlight = (i) => {
		active = i;
		[...list.children].forEach((li, j) => li.setAttribute('aria-selected', j === i ? 'true' : 'false'));
		if (i >= 0 && list.children[i]) {
			input.setAttribute('aria-activedescendant', list.children[i].id);
			list.children[i].scrollIntoView({ block: 'nearest' });
		}
	};
	const choose = (row) => {
		const item = { value: refValue(ref, row), label: refLabel(ref, row) };
		if (multiple) {
			if (!selected.some((s) => String(s.value) === String(item.value)))
				selected.push(item);
			input.value = '';
		} else {
			selected = [item];
		}
		renderChips();
		close();
		onChange();
	};
	const search = async () => {
		const my = ++reqSeq;
		const term = multiple ? input.value.trim() : (selected[0] && input.value === selected[0].label ? '' : input.value.trim());
		try {
			const { results: rows, pagination } = await apiList(ref.endpoint, { ...(ref.query || {}), search: term, page_size: 20 });
			if (my !== reqSeq)
				return;
			results = rows;
			clear(list);
			rows.forEach((row, i) => {
				const taken = multiple && selected.some((s) => String(s.value) === String(refValue(ref, row)));
				list.appendChild(h('li', { id: `${listId}-${i}`, role: 'option', class: taken ? 'cu-option cu-option-taken' : 'cu-option',
					'aria-selected': 'false', onMousedown: (ev) => { ev.preventDefault(); choose(row); } }, refLabel(ref, row)));
			});
			if (!rows.length)
				list.appendChild(h('li', { class: 'cu-option-empty', role: 'option', 'aria-disabled': 'true' }, 'No matches'));
			list.hidden = false;
			input.setAttribute('aria-expanded', 'true');
			status.textContent = `${pagination.count ?? rows.length} results`;
			active = -1;
		} catch (e) {
			status.textContent = e.detail || 'Search failed';
		}
	};
	input.addEventListener('input', () => {
		if (!multiple && selected.length && input.value !== selected[0].label) {
			selected = [];
			onChange();
		}
		clearTimeout(timer);
		timer = setTimeout(search, 200);
	});
	input.addEventListener('focus', () => { if (list.hidden) search(); });
	input.addEventListener('blur', () => setTimeout(() => { close(); if (!multiple) renderChips(); }, 100));
	input.addEventListener('keydown', (ev) => {
		if (ev.key === 'ArrowDown') {
			ev.preventDefault();
			if (list.hidden) { search(); return; }
			highlight(Math.min(active + 1, results.length - 1));
		} else if (ev.key === 'ArrowUp') {
			ev.preventDefault();
			highlight(Math.max(active - 1, 0));
		} else if (ev.key === 'Enter') {
			if (!list.hidden && active >= 0 && results[active]) {
				ev.preventDefault();
				choose(results[active]);
			} else if (!list.hidden) {
				ev.preventDefault();
			}
		} else if (ev.key === 'Escape' && !list.hidden) {
			ev.preventDefault();
			ev.stopPropagation();
			close();
		} else if (ev.key === 'Backspace' && multiple && input.value === '' && selected.length) {
			selected.pop();
			renderChips();
			onChange();
		}
	});
	const clearBtn = multiple ? null : h('button', { type: 'button', class: 'cu-btn cu-btn-plain cu-btn-small', 'aria-label': `Clear ${field.label || field.name}`,
		onClick: () => { selected = []; renderChips(); onChange(); input.focus(); } }, '×');
	const node = h('div', { class: 'cu-picker' }, chips, h('div', { class: 'cu-picker-row' }, input, clearBtn), list, status);
	return {
		node, input,
		get: () => (multiple ? selected.map((s) => s.value) : (selected[0] ? selected[0].value : null)),
		async set(v) {
			const vals = multiple ? (Array.isArray(v) ? v : []) : (v === null || v === undefined || v === '' ? [] : [v]);
			selected = vals.map((x) => (typeof x === 'object' && x !== null
				? { value: refValue(ref, x), label: refLabel(ref, x) }
				: { value: x, label: String(x) }));
			renderChips();
			await Promise.all(selected.map(async (s) => {
				if (s.label !== String(s.value))
					return;
				const row = await fetchRefRow(ref, s.value);
				if (row)
					s.label = refLabel(ref, row);
			}));
			renderChips();
		},
	};
}

export function fieldInput(field, value) {
	const id = nextId(field.name);
	const errId = id + '-err';
	const helpId = id + '-help';
	const type = field.type || 'text';
	const label = field.label || field.name;
	const err = h('div', { id: errId, class: 'cu-field-error', hidden: true });
	const help = field.help ? h('div', { id: helpId, class: 'cu-help' }, field.help) : null;
	let control; /* focusable element carrying aria-invalid */
	let get;
	let set;
	let body;
	const reqMark = field.required ? h('span', { class: 'cu-req', 'aria-hidden': 'true' }, ' *') : null;
	const changed = () => node.dispatchEvent(new Event('cu-change', { bubbles: true }));

	if (type === 'bool') {
		control = h('input', { id, type: 'checkbox', class: 'cu-check' });
		get = () => control.checked;
		set = (v) => { control.checked = !!v; };
		body = h('div', { class: 'cu-check-row' }, control, h('label', { for: id }, label));
	} else if (type === 'select' || (type === 'ref' && field.ref && !field.ref.search)) {
		control = h('select', { id, class: 'cu-input' });
		const isRef = type === 'ref';
		const empty = !field.required || field.nullable || isRef;
		const fill = (choices) => {
			const cur = control.value;
			clear(control);
			if (empty)
				control.appendChild(h('option', { value: '' }, field.required ? 'Choose…' : '—'));
			for (const [v, l] of choices)
				control.appendChild(h('option', { value: String(v) }, String(l)));
			control.value = cur;
		};
		let current = value;
		let types = new Map();
		const remember = (choices) => { for (const [v] of choices) types.set(String(v), v); };
		if (isRef) {
			fill([]);
			control.disabled = true;
			apiAll(field.ref.endpoint, field.ref.query || {}).then((rows) => {
				const ch = rows.map((r) => [refValue(field.ref, r), refLabel(field.ref, r)]);
				if (current !== null && current !== undefined && current !== '' && !ch.some(([v]) => String(v) === String(current)))
					ch.unshift([current, String(current)]);
				remember(ch);
				fill(ch);
				control.disabled = !!field._disabled;
				set(current);
			}).catch((e) => { control.disabled = false; err.hidden = false; err.textContent = `Could not load choices: ${e.detail || e.message}`; });
		} else {
			const ch = field.choices || [];
			remember(ch);
			fill(ch);
		}
		get = () => {
			const v = control.value;
			if (v === '')
				return field.nullable || isRef ? null : '';
			return types.has(v) ? types.get(v) : v;
		};
		set = (v) => {
			current = v;
			const s = v === null || v === undefined ? '' : String(v);
			if (s !== '' && ![...control.options].some((o) => o.value === s)) {
				control.appendChild(h('option', { value: s }, s));
				types.set(s, v);
			}
			control.value = s;
		};
		control.addEventListener('change', () => { current = get(); });
		body = [h('label', { for: id }, label, reqMark), control];
	} else if (type === 'ref' || type === 'refs') {
		if (type === 'refs' && field.ref && !field.ref.search) {
			/* a small set: checkboxes in a scrolling box */
			const box = h('div', { class: 'cu-checklist', role: 'group', 'aria-labelledby': id + '-lbl' });
			let current = Array.isArray(value) ? value.map((x) => (typeof x === 'object' && x ? refValue(field.ref, x) : x)) : [];
			const boxes = [];
			apiAll(field.ref.endpoint, field.ref.query || {}).then((rows) => {
				clear(box);
				boxes.length = 0;
				for (const r of rows) {
					const cid = nextId(field.name);
					const cb = h('input', { type: 'checkbox', id: cid, class: 'cu-check', checked: current.some((c) => String(c) === String(refValue(field.ref, r))) });
					cb._value = refValue(field.ref, r);
					boxes.push(cb);
					box.appendChild(h('div', { class: 'cu-check-row' }, cb, h('label', { for: cid }, refLabel(field.ref, r))));
				}
				if (!rows.length)
					box.appendChild(h('p', { class: 'cu-muted' }, 'Nothing to choose from.'));
			}).catch((e) => { box.textContent = `Could not load choices: ${e.detail || e.message}`; });
			box.appendChild(h('p', { class: 'cu-muted' }, 'Loading…'));
			box.addEventListener('change', () => { current = boxes.filter((b) => b.checked).map((b) => b._value); });
			control = box;
			get = () => (boxes.length ? boxes.filter((b) => b.checked).map((b) => b._value) : current.slice());
			set = (v) => {
				current = Array.isArray(v) ? v.map((x) => (typeof x === 'object' && x ? refValue(field.ref, x) : x)) : [];
				for (const b of boxes)
					b.checked = current.some((c) => String(c) === String(b._value));
			};
			body = [h('span', { id: id + '-lbl', class: 'cu-label' }, label, reqMark), box];
		} else {
			const picker = searchPicker(field, id, type === 'refs', changed);
			control = picker.input;
			get = picker.get;
			set = picker.set;
			body = [h('label', { for: id }, label, reqMark), picker.node];
		}
	} else {
		const multi = ['textarea', 'code', 'json', 'list'].includes(type);
		if (multi) {
			control = h('textarea', { id, class: type === 'code' || type === 'json' ? 'cu-input cu-code' : 'cu-input',
				rows: field.rows || (type === 'json' || type === 'code' ? 8 : 4), spellcheck: type === 'textarea' ? null : 'false' });
		} else {
			const itype = type === 'password' ? 'password' : type === 'number' ? 'number' : type === 'datetime' ? 'datetime-local' : 'text';
			control = h('input', { id, type: itype, class: 'cu-input', autocomplete: type === 'password' ? 'new-password' : 'off' });
			if (type === 'number' && field.step)
				control.step = field.step;
		}
		if (field.placeholder)
			control.placeholder = field.placeholder;
		if (type === 'json') {
			get = () => {
				const t = control.value.trim();
				if (t === '')
					return field.nullable ? null : {};
				try {
					return JSON.parse(t);
				} catch (e) {
					throw new FieldError('Enter valid JSON.');
				}
			};
			set = (v) => { control.value = v === undefined || v === null ? '' : JSON.stringify(v, null, 2); };
		} else if (type === 'list') {
			get = () => control.value.split('\n').map((s) => s.trim()).filter(Boolean);
			set = (v) => { control.value = Array.isArray(v) ? v.join('\n') : (v ?? ''); };
		} else if (type === 'number') {
			get = () => {
				if (control.value === '')
					return field.nullable ? null : '';
				const n = Number(control.value);
				if (Number.isNaN(n))
					throw new FieldError('Enter a number.');
				return n;
			};
			set = (v) => { control.value = v === null || v === undefined ? '' : String(v); };
		} else if (type === 'datetime') {
			get = () => {
				if (control.value === '')
					return field.nullable ? null : '';
				const d = new Date(control.value);
				if (Number.isNaN(d.getTime()))
					throw new FieldError('Enter a date and time.');
				return d.toISOString();
			};
			set = (v) => { control.value = toLocalInput(v); };
		} else {
			get = () => control.value;
			set = (v) => { control.value = v === null || v === undefined ? '' : String(v); };
		}
		body = [h('label', { for: id }, label, reqMark), control];
	}

	if (field.required && control.tagName !== 'DIV' && type !== 'bool')
		control.setAttribute('aria-required', 'true');
	const describedBy = [help ? helpId : null].filter(Boolean);
	if (describedBy.length)
		control.setAttribute('aria-describedby', describedBy.join(' '));
	const node = h('div', { class: `cu-field cu-field-${type}`, dataset: { field: field.name } }, body, help, err);
	control.addEventListener('input', changed);
	control.addEventListener('change', changed);

	const setError = (msgs) => {
		const list = (Array.isArray(msgs) ? msgs : msgs ? [msgs] : []).filter(Boolean);
		if (list.length) {
			err.textContent = list.join(' ');
			err.hidden = false;
			control.setAttribute('aria-invalid', 'true');
			control.setAttribute('aria-describedby', [...describedBy, errId].join(' '));
		} else {
			err.textContent = '';
			err.hidden = true;
			control.removeAttribute('aria-invalid');
			if (describedBy.length)
				control.setAttribute('aria-describedby', describedBy.join(' '));
			else
				control.removeAttribute('aria-describedby');
		}
	};
	const disable = (d) => {
		field._disabled = d;
		if ('disabled' in control)
			control.disabled = d;
		node.querySelectorAll('input, select, textarea, button').forEach((x) => { x.disabled = d; });
	};
	if (value !== undefined)
		set(value);
	else if (field.default !== undefined)
		set(typeof field.default === 'function' ? field.default() : field.default);
	else if (type === 'bool')
		set(false);
	return { node, get, set, setError, control, disable, focus: () => control.focus && control.focus() };
}

function isEmpty(v) {
	return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function same(a, b) {
	const norm = (v) => (v === undefined || v === '' ? null : v);
	return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/*
 * renderForm(el, fields, initial, {submit, submitLabel, mode, onCancel, cancelLabel})
 * submit receives the request body: for create every non-empty visible field (bools always), for
 * edit the changed fields only (writeOnly ones only when filled). Returns {form, setErrors, values}.
 */
export function renderForm(el, fields, initial, { submit, submitLabel, mode = 'create', onCancel, cancelLabel = 'Cancel' } = {}) {
	initial = initial || {};
	const active = fields.filter((f) => !(mode === 'edit' && f.createOnly) && !(mode === 'create' && f.editOnly));
	const alert = h('div', { class: 'cu-alert cu-alert-error', role: 'alert', hidden: true });
	const inputs = new Map();
	for (const f of active) {
		const start = f.writeOnly ? undefined : (mode === 'edit' || initial[f.name] !== undefined ? initial[f.name] : undefined);
		const fi = fieldInput(f, start);
		if (mode === 'edit' && f.readOnlyOnEdit)
			fi.disable(true);
		inputs.set(f.name, { field: f, fi });
	}
	const submitBtn = h('button', { type: 'submit', class: 'cu-btn cu-btn-primary' }, submitLabel || (mode === 'edit' ? 'Save' : 'Create'));
	const form = h('form', { class: 'cu-form', novalidate: true },
		alert,
		[...inputs.values()].map(({ fi }) => fi.node),
		h('div', { class: 'cu-actions' },
			onCancel ? h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: onCancel }, cancelLabel) : null,
			submitBtn));

	const raw = () => {
		const out = {};
		for (const [name, { fi }] of inputs) {
			try {
				out[name] = fi.get();
			} catch (e) {
				out[name] = undefined;
			}
		}
		return out;
	};
	const refreshVisibility = () => {
		const vals = { ...initial, ...raw() };
		for (const { field, fi } of inputs.values())
			if (typeof field.visible === 'function')
				fi.node.hidden = !field.visible(vals);
	};
	form.addEventListener('cu-change', refreshVisibility);
	refreshVisibility();

	const clearErrors = () => {
		alert.hidden = true;
		clear(alert);
		for (const { fi } of inputs.values())
			fi.setError(null);
	};
	const showAlert = (msgs) => {
		clear(alert);
		if (!msgs.length)
			return;
		alert.appendChild(msgs.length === 1 ? h('p', null, msgs[0]) : h('ul', null, msgs.map((m) => h('li', null, m))));
		alert.hidden = false;
	};
	const setErrors = (e) => {
		clearErrors();
		if (!e)
			return;
		const other = [];
		let firstBad = null;
		const fieldErrs = e.fields || {};
		for (const [name, msgs] of Object.entries(fieldErrs)) {
			const entry = inputs.get(name);
			if (entry && !entry.fi.node.hidden) {
				entry.fi.setError(msgs);
				firstBad = firstBad || entry.fi;
			} else {
				const lbl = entry ? (entry.field.label || name) : name;
				other.push(...msgs.map((m) => `${lbl}: ${m}`));
			}
		}
		other.push(...(e.nonField || []));
		if (!Object.keys(fieldErrs).length && !(e.nonField || []).length)
			other.push(e.detail || e.message || 'The request failed.');
		showAlert(other);
		if (other.length)
			alert.scrollIntoView({ block: 'nearest' });
		else if (firstBad)
			firstBad.focus();
	};
	const collect = () => {
		const body = {};
		const bad = {};
		const vals = { ...initial, ...raw() };
		for (const [name, { field, fi }] of inputs) {
			if (fi.node.hidden || (mode === 'edit' && field.readOnlyOnEdit))
				continue;
			let v;
			try {
				v = fi.get();
			} catch (e) {
				bad[name] = [e.message];
				continue;
			}
			if (field.required && isEmpty(v) && field.type !== 'bool' && !(mode === 'edit' && field.writeOnly)) {
				bad[name] = ['This field is required.'];
				continue;
			}
			if (mode === 'edit') {
				if (field.writeOnly ? isEmpty(v) : same(v, initial[name]))
					continue;
				body[name] = v;
			} else if (field.type === 'bool' || !isEmpty(v) || (field.nullable && v === null && initial[name] !== undefined)) {
				body[name] = v;
			}
		}
		void vals;
		return { body, bad };
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearErrors();
		const { body, bad } = collect();
		if (Object.keys(bad).length) {
			setErrors({ fields: bad, nonField: [] });
			return;
		}
		if (!submit)
			return;
		submitBtn.disabled = true;
		form.setAttribute('aria-busy', 'true');
		try {
			await submit(body);
		} catch (e) {
			setErrors(e);
		} finally {
			submitBtn.disabled = false;
			form.removeAttribute('aria-busy');
		}
	});
	if (el)
		el.appendChild(form);
	return { form, setErrors, values: raw, inputs };
}
