/*
 * Admin registry: model descriptors and custom pages register themselves here at import time;
 * the shell builds the sidebar and routes from what is registered, after checking each model's
 * endpoint against the API schema.
 */
import { api, apiList, apiAll, me } from '../common/api.js';
import { toast, openDialog, confirmDialog } from '../common/dom.js';

const modelList = [];
const pageList = [];
const byId = new Map();

export function register(model) {
	if (!model || !model.id || !model.endpoint) {
		console.error('register(): a model needs id and endpoint', model);
		return;
	}
	const m = {
		pk: 'pk', create: true, edit: true, remove: true, search: false,
		columns: [], filters: [], fields: [], actions: [], tabs: [], order: 100,
		...model,
	};
	if (byId.has(m.id)) {
		const i = modelList.indexOf(byId.get(m.id));
		modelList.splice(i, 1);
	}
	byId.set(m.id, m);
	modelList.push(m);
}

export function registerPage(page) {
	if (!page || typeof page.render !== 'function' || page.route === undefined) {
		console.error('registerPage(): a page needs route and render', page);
		return;
	}
	const i = pageList.findIndex((p) => p.route === page.route);
	if (i >= 0)
		pageList.splice(i, 1);
	pageList.push({ order: 100, ...page });
}

export function models() {
	return modelList.filter((m) => !m.hidden);
}

export function pages() {
	return pageList.slice();
}

export function modelById(id) {
	const m = byId.get(id);
	return m && !m.hidden ? m : undefined;
}

/* The OpenAPI path of a descriptor endpoint ('core/users/' -> '/core/users/'). */
function schemaPath(endpoint) {
	let p = endpoint.replace(/^\/api\/v3/, '');
	if (!p.startsWith('/'))
		p = '/' + p;
	return p;
}

/* Find the item path of a list path: '/core/users/' -> '/core/users/{id}/' under any name. */
function itemPath(paths, listPath) {
	for (const p of Object.keys(paths))
		if (p.startsWith(listPath) && /^\{[^/}]+\}\/$/.test(p.slice(listPath.length)))
			return paths[p];
	return null;
}

/* Apply the schema rule: hide models whose endpoint is absent; turn off create/edit/remove when the
 * path lacks post/patch/delete. Polymorphic models are judged by their kinds' endpoints. */
export function applySchema(schema) {
	const paths = schema && schema.paths;
	if (!paths || typeof paths !== 'object')
		return;
	const has = (op) => op && typeof op === 'object';
	for (const m of modelList) {
		const list = paths[schemaPath(m.endpoint)];
		if (!list) {
			m.hidden = true;
			continue;
		}
		if (m.kinds && m.kinds.length) {
			m.kinds = m.kinds.filter((k) => !k.endpoint || paths[schemaPath(k.endpoint)]);
			for (const k of m.kinds) {
				const kl = paths[schemaPath(k.endpoint || m.endpoint)];
				const ki = itemPath(paths, schemaPath(k.endpoint || m.endpoint));
				k.canCreate = has(kl && kl.post);
				k.canEdit = has(ki && (ki.patch || ki.put));
				k.canRemove = has(ki && ki.delete);
			}
			if (!m.kinds.some((k) => k.canCreate))
				m.create = false;
			continue;
		}
		const item = itemPath(paths, schemaPath(m.endpoint));
		if (!has(list.post))
			m.create = false;
		if (!has(item && item.patch))
			m.edit = false;
		if (!has(item && item.delete))
			m.remove = false;
	}
}

/* The kind of a row of a polymorphic model (or undefined). */
export function kindFor(model, row) {
	if (!model.kinds || !model.kinds.length || !row)
		return undefined;
	const key = typeof model.kindOf === 'function' ? model.kindOf(row) : undefined;
	return model.kinds.find((k) => k.key === key);
}

/* The API path of one object: its kind's endpoint (polymorphic models) or the model's, plus pk. */
export function itemEndpoint(model, row, kind) {
	const k = kind || kindFor(model, row);
	const base = (k && k.endpoint) || model.endpoint;
	const pk = typeof row === 'object' && row !== null ? row[model.pk || 'pk'] : row;
	return base + encodeURIComponent(String(pk)) + '/';
}

/* A descriptor's display name of a row. */
export function displayOf(model, row) {
	if (!row)
		return '';
	if (typeof model.display === 'function') {
		const d = model.display(row);
		if (d !== undefined && d !== null && d !== '')
			return String(d);
	}
	return String(row.name ?? row.username ?? row.title ?? row.slug ?? row[model.pk || 'pk'] ?? '');
}

/* Move to an admin route: navigate('#/core/users/5') or navigate('core/users/5'). */
export function navigate(hash) {
	const target = String(hash || '').replace(/^#?\/?/, '#/');
	if (location.hash === target)
		window.dispatchEvent(new HashChangeEvent('hashchange'));
	else
		location.hash = target;
}

let currentReload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
export function setReload(fn) {
	currentReload = fn;
}

/* The ctx given to actions, tabs and pages. */
export function makeCtx(model, reload) {
	return {
		api, apiList, apiAll, toast, openDialog, confirmDialog, me, navigate, model,
		reload: reload || (() => currentReload()),
	};
}
