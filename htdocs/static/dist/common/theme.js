/*
 * Brand (title, logo, favicon from core/brands/current/) and the light/dark theme switch.
 */
import { currentBrand } from './api.js';
import { h, safeUrl } from './dom.js';

const KEY = 'cu-theme';
export const DEFAULT_LOGO = '/static/dist/assets/icons/icon_left_brand.svg';

let brandTitle = 'custos';

export function brandTitleText() {
	return brandTitle;
}

export function setTitle(suffix) {
	document.title = suffix ? `${suffix} - ${brandTitle}` : brandTitle;
}

export async function applyBrand({ suffix } = {}) {
	let brand = {};
	try {
		brand = (await currentBrand()) || {};
	} catch (e) {
		brand = {};
	}
	if (brand.branding_title)
		brandTitle = String(brand.branding_title);
	setTitle(suffix);
	const fav = safeUrl(brand.branding_favicon, { allowData: true });
	if (fav) {
		let link = document.querySelector('link[rel~="icon"]');
		if (!link) {
			link = h('link', { rel: 'icon' });
			document.head.appendChild(link);
		}
		link.setAttribute('href', fav);
	}
	brand.logo = safeUrl(brand.branding_logo, { allowData: true }) || DEFAULT_LOGO;
	return brand;
}

function preferred() {
	let v = null;
	try {
		v = localStorage.getItem(KEY);
	} catch (e) {
		v = null;
	}
	if (v === 'light' || v === 'dark')
		return v;
	return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function initTheme() {
	document.documentElement.setAttribute('data-theme', preferred());
}

export function themeToggle() {
	const btn = h('button', { type: 'button', class: 'cu-btn cu-btn-plain cu-theme-toggle' });
	const sync = () => {
		const dark = document.documentElement.getAttribute('data-theme') === 'dark';
		btn.setAttribute('aria-pressed', dark ? 'true' : 'false');
		btn.replaceChildren(h('span', { 'aria-hidden': 'true' }, dark ? '☾' : '☀'), h('span', { class: 'cu-theme-label' }, 'Dark theme'));
		btn.setAttribute('aria-label', 'Dark theme');
	};
	btn.addEventListener('click', () => {
		const next = document.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark';
		document.documentElement.setAttribute('data-theme', next);
		try {
			localStorage.setItem(KEY, next);
		} catch (e) { /* private mode: theme just won't persist */ }
		sync();
	});
	sync();
	return btn;
}
