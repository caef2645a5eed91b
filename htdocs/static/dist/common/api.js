/*
 * custos API client for the web interfaces: JSON over /api/v3/ with the session cookie, the CSRF
 * header on changing requests, and errors turned into ApiError with per-field messages.
 */

const BASE = '/api/v3/';
const CSRF_COOKIE = 'authentik_csrf';
const CSRF_HEADER = 'X-authentik-CSRF';

export class ApiError extends Error {
	constructor(status, detail, body) {
		super(detail || `Request failed (${status})`);
		this.name = 'ApiError';
		this.status = status;
		this.detail = detail || '';
		this.fields = {};
		this.nonField = [];
		this.body = body === undefined ? null : body;
	}
}

function cookie(name) {
	for (const part of document.cookie.split(';')) {
		const i = part.indexOf('=');
		if (i < 0)
			continue;
		if (part.slice(0, i).trim() === name)
			return decodeURIComponent(part.slice(i + 1).trim());
	}
	return '';
}

function buildUrl(path, query) {
	let url = path.startsWith('/') ? path : BASE + path;
	if (query) {
		const qs = new URLSearchParams();
		for (const [k, v] of Object.entries(query)) {
			if (v === undefined || v === null || v === '')
				continue;
			if (Array.isArray(v)) {
				for (const item of v)
					if (item !== undefined && item !== null && item !== '')
						qs.append(k, String(item));
			} else {
				qs.append(k, String(v));
			}
		}
		const s = qs.toString();
		if (s)
			url += (url.includes('?') ? '&' : '?') + s;
	}
	return url;
}

function asMessages(v) {
	if (v === null || v === undefined)
		return [];
	if (Array.isArray(v))
		return v.flatMap((x) => (typeof x === 'object' && x !== null ? asMessages(Object.values(x)) : [String(x)]));
	if (typeof v === 'object')
		return Object.entries(v).flatMap(([k, x]) => asMessages(x).map((m) => `${k}: ${m}`));
	return [String(v)];
}

function toError(status, body, text) {
	let detail = '';
	if (status === 401)
		detail = 'You are not logged in.';
	else if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.detail === 'string')
		detail = body.detail;
	const err = new ApiError(status, detail, body !== undefined ? body : text);
	if (body && typeof body === 'object' && !Array.isArray(body)) {
		for (const [k, v] of Object.entries(body)) {
			if (k === 'detail' || k === 'code')
				continue;
			if (k === 'non_field_errors')
				err.nonField.push(...asMessages(v));
			else
				err.fields[k] = asMessages(v);
		}
	} else if (Array.isArray(body)) {
		err.nonField.push(...asMessages(body));
	}
	if (!err.detail) {
		const first = err.nonField[0] || Object.entries(err.fields).map(([k, m]) => `${k}: ${m[0]}`)[0];
		err.detail = first || (status === 403 ? 'You do not have permission to do this.' :
			status === 404 ? 'Not found.' : `The request failed (HTTP ${status}).`);
		err.message = err.detail;
	}
	return err;
}

export async function api(method, path, { query, body, form } = {}) {
	method = (method || 'GET').toUpperCase();
	const headers = { Accept: 'application/json' };
	const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
	if (method !== 'GET' && method !== 'HEAD') {
		const token = cookie(CSRF_COOKIE);
		if (token)
			headers[CSRF_HEADER] = token;
	}
	if (form) {
		init.body = form;
	} else if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(buildUrl(path, query), init);
	} catch (e) {
		throw new ApiError(0, 'The server could not be reached.');
	}
	const text = res.status === 204 ? '' : await res.text().catch(() => '');
	let data = null;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = undefined;
		}
	}
	if (!res.ok)
		throw toError(res.status, data, text);
	return data === undefined ? text : data;
}

export async function apiList(path, params) {
	const data = await api('GET', path, { query: params });
	if (Array.isArray(data))
		return { pagination: { count: data.length, current: 1, total_pages: 1, start_index: data.length ? 1 : 0, end_index: data.length, next: 0, previous: 0 }, results: data };
	return { pagination: (data && data.pagination) || {}, results: (data && data.results) || [] };
}

export async function apiAll(path, params) {
	const out = [];
	for (let page = 1; page <= 10; page++) {
		const { pagination, results } = await apiList(path, { ...params, page, page_size: 100 });
		out.push(...results);
		if (!results.length || !pagination.next || out.length >= 1000)
			break;
	}
	return out.slice(0, 1000);
}

let mePromise = null;
export function me({ reload } = {}) {
	if (!mePromise || reload) {
		mePromise = api('GET', 'core/users/me/');
		mePromise.catch(() => { mePromise = null; });
	}
	return mePromise;
}

let brandPromise = null;
export function currentBrand() {
	if (!brandPromise) {
		brandPromise = api('GET', 'core/brands/current/');
		brandPromise.catch(() => { brandPromise = null; });
	}
	return brandPromise;
}

export function canAccessAdmin(meBody) {
	const user = (meBody && meBody.user) || {};
	if (user.is_superuser)
		return true;
	const perms = user.system_permissions || [];
	return Array.isArray(perms) && perms.some((p) => p === 'access_admin_interface' || String(p).endsWith('.access_admin_interface'));
}
