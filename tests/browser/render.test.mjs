// The flow page's renderers, one component at a time: the page and its assets come from
// htdocs/ through a small static server started here (with a strict Content-Security-Policy);
// the executor's answers are fixed challenges, including the ones no stage of custos sends yet
// (xak-flow-shell, ak-stage-autosubmit, ak-stage-session-end, unknown components) and hostile
// ones: HTML in every string, javascript: in every URL. flow.test.mjs is the end-to-end half.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const HTDOCS = normalize(process.env.CU_BROWSER_HTDOCS || join(HERE, '..', '..', 'htdocs'));
const OUT = process.env.CU_BROWSER_OUT || join(HERE, '..', '..', 'build', 'test-output', 'browser');
const CHROMIUM = process.env.CU_BROWSER_CHROMIUM || '/usr/bin/chromium';
const WIDTH = 360;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
const JS_URL = 'javascript:window.__xss=1';
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css',
	svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg' };

mkdirSync(OUT, { recursive: true });

// --- htdocs over HTTP, with the routers' rewrite of /if/<interface>/... to its index.html ---

function serve() {
	const server = createServer(async (req, res) => {
		const url = new URL(req.url, 'http://localhost');
		let path = url.pathname;
		const m = /^\/if\/(flow|user)\/[^.]*$/.exec(path);
		if (m)
			path = `/if/${m[1]}/index.html`;
		const file = normalize(join(HTDOCS, path));
		if (!file.startsWith(HTDOCS + '/')) {
			res.writeHead(403).end();
			return;
		}
		try {
			const body = await readFile(file);
			res.writeHead(200, { 'Content-Type': TYPES[file.split('.').pop()] || 'application/octet-stream',
				'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
			res.end(body);
		} catch (e) {
			res.writeHead(404).end();
		}
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// --- runner -----------------------------------------------------------------------------------

const tests = [];
function test(name, fn) {
	tests.push({ name, fn });
}

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

const FLOW_INFO = { title: `Title ${XSS}`, background: '/static/dist/assets/images/flow_background.jpg',
	cancel_url: '/flows/-/cancel/?next=%2F', layout: 'stacked' };

// Opens /if/flow/test-flow/ with the executor answering challenges in turn (the last one
// repeats); returns the page and what it sent to the executor.
async function open(t, challenges, { query = '', brand = null, cookies = [] } = {}) {
	const context = await t.browser.newContext({ viewport: { width: WIDTH, height: 780 }, baseURL: t.base });
	context.setDefaultTimeout(10000);
	if (cookies.length)
		await context.addCookies(cookies.map((c) => ({ ...c, url: t.base })));
	const sent = [];
	const list = Array.isArray(challenges) ? challenges : [challenges];
	let i = 0;
	await context.route('**/api/v3/flows/executor/**', async (route) => {
		const req = route.request();
		sent.push({ method: req.method(), url: req.url(), headers: req.headers(),
			body: req.method() === 'POST' ? req.postDataJSON() : null });
		const ch = list[Math.min(i, list.length - 1)];
		i += 1;
		if (typeof ch === 'function')
			return ch(route);
		return route.fulfill({ json: ch });
	});
	await context.route('**/api/v3/core/brands/current/', (route) => route.fulfill({ json: brand ||
		{ branding_title: `Brand ${XSS}`, branding_logo: '/static/dist/assets/icons/icon_left_brand.svg' } }));
	const page = await context.newPage();
	page.on('pageerror', (e) => t.problems.push(`uncaught error in the page: ${e.message}`));
	page.on('console', (m) => {
		if (/Content Security Policy/i.test(m.text()))
			t.problems.push(`CSP violation: ${m.text()}`);
	});
	t.pages.push(page);
	await page.goto(`/if/flow/test-flow/${query}`);
	await settle(page);
	return { page, sent };
}

async function settle(page) {
	await page.waitForSelector('#ak-flow-card[aria-busy="false"]');
}

async function bodyText(page) {
	return page.locator('#ak-flow-body').innerText();
}

async function safe(page, what) {
	const st = await page.evaluate(() => ({
		xss: window.__xss === 1,
		injected: document.querySelectorAll('#ak-flow img[src="x"], #ak-flow script').length,
		width: document.documentElement.scrollWidth
	}));
	assert(!st.xss, `${what}: a server string ran as script`);
	assert(st.injected === 0, `${what}: server HTML became elements`);
	assert(st.width <= WIDTH, `${what}: ${st.width} px wide at ${WIDTH} px`);
}

// Every href and src in the page: none may use a scheme other than http(s) or data:image.
async function urlsAreSafe(page, what) {
	const bad = await page.evaluate(() => [...document.querySelectorAll('[href], [src], form[action]')]
		.map((e) => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
		.filter((u) => !/^(https?:|\/|#|data:image\/)/i.test(u)));
	assert(bad.length === 0, `${what}: unsafe URLs in the page: ${bad.join(', ')}`);
}

// --- the tests --------------------------------------------------------------------------------

test('the executor is called as authentik does', async (t) => {
	const { page, sent } = await open(t, [
		{ component: 'ak-stage-dummy', flow_info: FLOW_INFO, name: 'dummy' },
		{ component: 'xak-flow-redirect', to: '/if/flow/test-flow/?done=1' }
	], { query: '?next=%2Fapp%2F%3Fa%3D1&foo=b%20c', cookies: [{ name: 'authentik_csrf', value: 'csrf-value-123' }] });
	assert(sent[0].method === 'GET', 'the first call is not a GET');
	const q = new URL(sent[0].url).searchParams.get('query');
	assert(q === 'next=%2Fapp%2F%3Fa%3D1&foo=b%20c', `query sent as ${q}`);
	assert(new URL(sent[0].url).pathname === '/api/v3/flows/executor/test-flow/', `executor path ${sent[0].url}`);
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.waitForURL(/done=1/);
	const post = sent.find((s) => s.method === 'POST');
	assert(post && post.body.component === 'ak-stage-dummy', `posted ${JSON.stringify(post && post.body)}`);
	assert(post.headers['x-authentik-csrf'] === 'csrf-value-123', `CSRF header ${post.headers['x-authentik-csrf']}`);
	assert(/application\/json/.test(post.headers['content-type']), `content type ${post.headers['content-type']}`);
});

test('hostile strings stay text in every component', async (t) => {
	const perms = [{ id: 'a', name: `Read ${XSS}` }];
	const all = [
		{ component: 'ak-stage-identification', user_fields: ['username'], password_fields: true,
			primary_action: `Go ${XSS}`, flow_designation: 'authentication', application_pre: `App ${XSS}`,
			pending_user_identifier: `"><svg onload=window.__xss=1>`,
			sources: [{ name: `Src ${XSS}`, icon_url: JS_URL, promoted: false, challenge: null }],
			response_errors: { uid_field: [{ string: `Bad ${XSS}`, code: 'x' }],
				non_field_errors: [{ string: `Top ${XSS}`, code: 'x' }], other: [{ string: `Other ${XSS}`, code: 'x' }] } },
		{ component: 'ak-stage-password', pending_user: `User ${XSS}`, pending_user_avatar: JS_URL,
			recovery_url: JS_URL, response_errors: { password: [{ string: `Wrong ${XSS}`, code: 'x' }] } },
		{ component: 'ak-stage-consent', pending_user: 'u', header_text: `Header ${XSS}`, permissions: perms,
			additional_permissions: [{ id: 'b', name: `Write ${XSS}` }], token: `"tok'${XSS}` },
		{ component: 'ak-stage-prompt', fields: [
			{ field_key: 'a', label: `Label ${XSS}`, type: 'text', required: true, placeholder: `"${XSS}`,
				initial_value: `"${XSS}`, order: 0, sub_text: `Sub ${XSS}` },
			{ field_key: 's', label: 's', type: 'static', required: false, placeholder: '', initial_value: XSS, order: 1 },
			{ field_key: 'r', label: `Radio ${XSS}`, type: 'radio-button-group', required: true, placeholder: '',
				initial_value: '', order: 2, choices: [{ label: `Choice ${XSS}`, value: 'v' }, XSS] },
			{ field_key: 'd', label: 'Drop', type: 'dropdown', required: false, placeholder: '', initial_value: '',
				order: 3, choices: [XSS] }] },
		{ component: 'ak-stage-access-denied', pending_user: 'u', error_message: `Denied ${XSS}` },
		{ component: 'ak-stage-flow-error', request_id: `id ${XSS}`, error: `Err ${XSS}`, traceback: `Tb ${XSS}` },
		{ component: 'ak-stage-dummy', name: `Dummy ${XSS}` },
		{ component: 'ak-stage-session-end', pending_user: 'u', application_name: `App ${XSS}`,
			application_launch_url: JS_URL, invalidation_flow_url: JS_URL, brand_name: `Brand ${XSS}` },
		{ component: 'ak-stage-email', pending_user: 'u' },
		{ component: 'ak-stage-user-login', pending_user: `U ${XSS}` },
		{ component: `ak-${XSS}` }
	];
	for (const ch of all) {
		const { page } = await open(t, { ...ch, flow_info: { ...FLOW_INFO, cancel_url: JS_URL, background: JS_URL } });
		const shown = await page.locator('#ak-flow').getAttribute('data-component');
		assert(shown === ch.component.slice(0, 100), `${ch.component} shown as ${shown}`);
		await safe(page, ch.component);
		await urlsAreSafe(page, ch.component);
		const text = await page.locator('#ak-flow').innerText();
		if (ch.component !== 'ak-stage-email' && ch.component !== 'ak-stage-identification')
			assert(text.includes('<img src=x') || text.includes('not supported'),
			    `${ch.component}: the payload is not shown as text`);
		assert(await page.locator('#ak-flow-background').isHidden(), `${ch.component}: a javascript: background was used`);
		const name = /^[a-z-]+$/.test(ch.component) ? ch.component : 'unknown-component';
		await page.screenshot({ path: join(OUT, `render-${name}.png`), fullPage: true });
		await page.context().close();
	}
});

test('identification shows every error, each in its place', async (t) => {
	const { page } = await open(t, { component: 'ak-stage-identification', flow_info: FLOW_INFO,
		user_fields: ['email', 'username', 'upn'], password_fields: true, primary_action: 'Log in',
		flow_designation: 'authentication',
		response_errors: { uid_field: [{ string: 'No such user', code: 'invalid' }],
			password: [{ string: 'Wrong password', code: 'invalid' }],
			non_field_errors: [{ string: 'Too many attempts', code: 'x' }],
			captcha_token: [{ string: 'Captcha failed', code: 'x' }] } });
	const label = await page.locator('label[for="ak-identifier-input"]').innerText();
	assert(/^Email, UPN, or Username/.test(label), `label "${label}"`);
	for (const [id, msg] of [['ak-identifier-input', 'No such user'], ['ak-stage-identification-password', 'Wrong password']]) {
		const ids = (await page.getAttribute(`#${id}`, 'aria-describedby') || '').split(' ');
		const texts = await Promise.all(ids.map((i) => page.locator(`#${i}`).innerText()));
		assert(texts.some((x) => x.includes(msg)), `#${id} is not described by "${msg}"`);
		assert(await page.getAttribute(`#${id}`, 'aria-invalid') === 'true', `#${id} not marked invalid`);
	}
	const top = await page.locator('#ak-non-field-errors').innerText();
	assert(top.includes('Too many attempts') && top.includes('Captcha failed'), `top errors "${top}"`);
	const focused = await page.evaluate(() => document.activeElement.id);
	assert(focused === 'ak-identifier-input', `focus on ${focused} after errors`);
});

test('xak-flow-shell never shows its HTML', async (t) => {
	const { page } = await open(t, { component: 'xak-flow-shell', flow_info: FLOW_INFO,
		body: `<form action="https://evil.example/"><input name="password"></form>${XSS}` });
	await safe(page, 'shell');
	const text = await bodyText(page);
	assert(/cannot be shown/.test(text) && !text.includes('evil'), `shell shows "${text}"`);
	assert(await page.locator('#ak-flow-body input, #ak-flow-body form').count() === 0, 'the shell body became a form');
});

test('autosubmit posts its attributes to its URL', async (t) => {
	let posted = null;
	const context = await t.browser.newContext({ baseURL: t.base });
	await context.route('**/api/v3/flows/executor/**', (route) => route.fulfill({ json: {
		component: 'ak-stage-autosubmit', flow_info: FLOW_INFO, title: 'Posting',
		url: '/application/saml/test/sso/binding/post/', attrs: { SAMLResponse: 'PHNhbWw+', RelayState: 'a&b="c"' } } }));
	await context.route('**/api/v3/core/brands/current/', (route) => route.fulfill({ json: {} }));
	await context.route('**/application/saml/test/sso/binding/post/', (route) => {
		posted = route.request().postData();
		return route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="arrived">arrived</p>' });
	});
	const page = await context.newPage();
	t.pages.push(page);
	await page.goto('/if/flow/test-flow/');
	await page.waitForSelector('#arrived');
	const form = new URLSearchParams(posted);
	assert(form.get('SAMLResponse') === 'PHNhbWw+' && form.get('RelayState') === 'a&b="c"', `posted ${posted}`);
});

test('autosubmit and redirect refuse javascript: targets', async (t) => {
	for (const ch of [{ component: 'ak-stage-autosubmit', url: JS_URL, attrs: { a: 'b' } },
		{ component: 'xak-flow-redirect', to: JS_URL }, { component: 'xak-flow-redirect', to: 'data:text/html,x' }]) {
		const { page } = await open(t, { ...ch, flow_info: FLOW_INFO });
		await safe(page, ch.component);
		assert(/will not open/.test(await bodyText(page)), `${ch.component} to ${ch.to || ch.url} not refused`);
		assert(new URL(page.url()).pathname === '/if/flow/test-flow/', `${ch.component} left the page`);
		await page.context().close();
	}
});

test('session end offers its links', async (t) => {
	const { page } = await open(t, { component: 'ak-stage-session-end', flow_info: FLOW_INFO,
		pending_user: 'u', application_name: 'Wiki', application_launch_url: 'https://wiki.example/',
		invalidation_flow_url: '/if/flow/default-invalidation-flow/', brand_name: 'custos' });
	const text = await bodyText(page);
	assert(text.includes("You've logged out of Wiki."), `session end reads "${text}"`);
	const launch = await page.getByRole('link', { name: 'Log back into Wiki' }).getAttribute('href');
	const out = await page.getByRole('link', { name: 'Log out of custos' }).getAttribute('href');
	assert(launch === 'https://wiki.example/', `launch link ${launch}`);
	assert(new URL(out).pathname === '/if/flow/default-invalidation-flow/', `logout link ${out}`);
	assert(await page.locator('#ak-flow-cancel').count() === 0, 'a finished flow offers Cancel');
});

test('a source button runs its own challenge', async (t) => {
	const { page } = await open(t, { component: 'ak-stage-identification', flow_info: FLOW_INFO,
		user_fields: [], password_fields: false, primary_action: 'Log in', flow_designation: 'authentication',
		show_source_labels: true,
		sources: [{ name: 'Upstream', icon_url: '/static/dist/assets/icons/icon.png', promoted: false,
			challenge: { component: 'xak-flow-redirect', to: '/if/flow/test-flow/?source=1' } }] });
	assert(/Select one of the options below/.test(await bodyText(page)), 'no hint without user fields');
	await page.getByRole('button', { name: 'Continue with Upstream' }).click();
	await page.waitForURL(/source=1/);
});

test('server failures are explained', async (t) => {
	for (const [status, body, expect] of [
		[502, '<html>Bad Gateway</html>', /HTTP 502/],
		[404, '{"detail": "Not found."}', /does not exist/],
		[200, '{"no": "component"}', /cannot read/],
		[200, 'not json at all', /cannot read/]]) {
		const { page } = await open(t, (route) => route.fulfill({ status, body,
			contentType: body.startsWith('{') ? 'application/json' : 'text/html' }));
		const text = await bodyText(page);
		assert(expect.test(text), `HTTP ${status} ${body} shows "${text}"`);
		await page.context().close();
	}
});

test('the form is usable with the keyboard at 360 px', async (t) => {
	const { page, sent } = await open(t, [{ component: 'ak-stage-prompt', flow_info: FLOW_INFO, fields: [
		{ field_key: 'first', label: 'First', type: 'text', required: true, placeholder: '', initial_value: '', order: 0 },
		{ field_key: 'agree', label: 'Agree', type: 'checkbox', required: false, placeholder: '', initial_value: '', order: 1 }] },
	{ component: 'ak-stage-dummy', flow_info: FLOW_INFO, name: 'next' }]);
	await page.keyboard.type('hello');
	await page.keyboard.press('Tab');
	await page.keyboard.press('Space');
	await page.keyboard.press('Shift+Tab');
	await page.keyboard.press('Enter');
	await page.waitForSelector('#ak-flow[data-component="ak-stage-dummy"]');
	const post = sent.find((s) => s.method === 'POST');
	assert(post.body.first === 'hello' && post.body.agree === true, `posted ${JSON.stringify(post.body)}`);
	await safe(page, 'keyboard');
});

test('prompt initial values fill the fields', async (t) => {
	const f = (field_key, type, initial_value, extra = {}) => ({ field_key, label: field_key, type,
		required: false, placeholder: '', initial_value, order: 0, ...extra });
	const { page, sent } = await open(t, [{ component: 'ak-stage-prompt', flow_info: FLOW_INFO, fields: [
		f('born', 'date', '1990-05-17'), f('when', 'date-time', '2030-01-02T03:04:05Z'),
		f('agree', 'checkbox', 'True'), f('size', 'dropdown', 'M', { choices: ['S', 'M', 'L'] }),
		f('colour', 'radio-button-group', 'green', { choices: [{ label: 'Red', value: 'red' }, { label: 'Green', value: 'green' }] }),
		f('ro', 'text_read_only', 'fixed'), f('hid', 'hidden', 'h'), f('lang', 'ak-locale', 'fr')] },
	{ component: 'ak-stage-dummy', flow_info: FLOW_INFO, name: 'n' }]);
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.waitForSelector('#ak-flow[data-component="ak-stage-dummy"]');
	const body = sent.find((x) => x.method === 'POST').body;
	const want = { born: '1990-05-17', when: '2030-01-02T03:04:05', agree: true, size: 'M', colour: 'green',
		ro: 'fixed', hid: 'h', lang: 'fr' };
	for (const [k, v] of Object.entries(want))
		assert(body[k] === v, `${k} posted as ${JSON.stringify(body[k])}, expected ${JSON.stringify(v)}`);
});

test('the brand: title, logo, favicon and footer links', async (t) => {
	const { page } = await open(t, { component: 'ak-stage-dummy', flow_info: { ...FLOW_INFO, title: 'Flow' }, name: 'n' },
		{ brand: { branding_title: 'Acme', branding_logo: '/static/dist/assets/images/user_default.png',
			branding_favicon: JS_URL, ui_footer_links: [{ name: 'Help', href: 'https://help.example/' },
				{ name: `Bad ${XSS}`, href: JS_URL }] } });
	await page.waitForFunction(() => document.title === 'Flow - Acme');
	const logo = await page.getAttribute('#ak-brand-logo', 'src');
	assert(logo.endsWith('/static/dist/assets/images/user_default.png'), `logo ${logo}`);
	assert(await page.getAttribute('#ak-brand-logo', 'alt') === 'Acme', 'the logo has no brand alt text');
	const help = await page.getByRole('link', { name: 'Help' }).getAttribute('href');
	assert(help === 'https://help.example/', `footer link ${help}`);
	assert(await page.getByRole('link', { name: /Bad/ }).count() === 0, 'a javascript: footer link was shown');
	await urlsAreSafe(page, 'brand');
});

test('password step: who, avatar, show password, forgot password', async (t) => {
	const { page, sent } = await open(t, [{ component: 'ak-stage-password', flow_info: FLOW_INFO,
		pending_user: 'akadmin', pending_user_avatar: '/static/dist/assets/images/user_default.png',
		recovery_url: '/if/flow/default-recovery-flow/', allow_show_password: true },
	{ component: 'ak-stage-dummy', flow_info: FLOW_INFO, name: 'n' }]);
	assert(await page.locator('.ak-pending-user-name').innerText() === 'akadmin', 'pending user not shown');
	const avatar = await page.getAttribute('.ak-avatar', 'src');
	assert(avatar.endsWith('/static/dist/assets/images/user_default.png'), `avatar ${avatar}`);
	await page.waitForFunction(() => document.querySelector('.ak-avatar').complete);
	assert(await page.evaluate(() => document.querySelector('.ak-avatar').naturalWidth) > 0, 'the avatar did not load');
	const forgot = await page.getByRole('link', { name: 'Forgot password?' }).getAttribute('href');
	assert(new URL(forgot).pathname === '/if/flow/default-recovery-flow/', `forgot link ${forgot}`);
	await page.keyboard.type('pw');
	await page.getByRole('button', { name: 'Show password' }).click();
	assert(await page.getAttribute('#ak-stage-password-input', 'type') === 'text', 'show password did nothing');
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.waitForSelector('#ak-flow[data-component="ak-stage-dummy"]');
	const body = sent.find((x) => x.method === 'POST').body;
	assert(JSON.stringify(body) === '{"component":"ak-stage-password","password":"pw"}', `posted ${JSON.stringify(body)}`);
});

test('consent, email and user-login answers', async (t) => {
	const cases = [
		[{ component: 'ak-stage-consent', pending_user: 'u', header_text: 'Wiki wants', token: 'tok-123',
			permissions: [{ id: 'openid', name: 'Your identity' }], additional_permissions: [] },
		'Continue', { component: 'ak-stage-consent', token: 'tok-123' }, /requires following permissions:\s*Your identity/],
		[{ component: 'ak-stage-email' }, 'Send email again.', { component: 'ak-stage-email' }, /Check your inbox/],
		[{ component: 'ak-stage-user-login', pending_user: 'u' }, 'No',
			{ component: 'ak-stage-user-login', remember_me: false }, /Stay signed in\?/]];
	for (const [ch, button, want, text] of cases) {
		const { page, sent } = await open(t, [{ ...ch, flow_info: FLOW_INFO },
			{ component: 'ak-stage-dummy', flow_info: FLOW_INFO, name: 'n' }]);
		assert(text.test(await bodyText(page)), `${ch.component} reads "${await bodyText(page)}"`);
		await page.getByRole('button', { name: button, exact: true }).click();
		await page.waitForSelector('#ak-flow[data-component="ak-stage-dummy"]');
		const body = sent.find((x) => x.method === 'POST').body;
		assert(JSON.stringify(body) === JSON.stringify(want), `${ch.component} posted ${JSON.stringify(body)}`);
		await page.context().close();
	}
});

test('device code entry', async (t) => {
	const { page, sent } = await open(t, [{ component: 'ak-provider-oauth2-device-code', flow_info: FLOW_INFO },
		{ component: 'ak-provider-oauth2-device-code-finish', flow_info: FLOW_INFO }]);
	await page.keyboard.type('ABCD-1234');
	await page.keyboard.press('Enter');
	await page.waitForSelector('#ak-flow[data-component="ak-provider-oauth2-device-code-finish"]');
	const body = sent.find((x) => x.method === 'POST').body;
	assert(body.code === 'ABCD-1234', `posted ${JSON.stringify(body)}`);
	assert(/successfully authenticated your device/.test(await bodyText(page)), 'no confirmation shown');
});

test('the user page: who is logged in, or a way to log in', async (t) => {
	for (const [status, me] of [[200, { user: { pk: 7, username: 'ada', name: `Ada ${XSS}`, email: 'ada@example.com', avatar: JS_URL } }],
		[403, { detail: 'Authentication credentials were not provided.' }]]) {
		const context = await t.browser.newContext({ viewport: { width: WIDTH, height: 780 }, baseURL: t.base });
		await context.route('**/api/v3/core/users/me/', (route) => route.fulfill({ status, json: me }));
		await context.route('**/api/v3/core/brands/current/', (route) => route.fulfill({ json: { branding_title: 'Acme' } }));
		const page = await context.newPage();
		t.pages.push(page);
		page.on('pageerror', (e) => t.problems.push(`uncaught error in the page: ${e.message}`));
		// The profile shows the email; the header, who is logged in.
		await page.goto(status === 200 ? '/if/user/#/settings/profile' : '/if/user/');
		await page.waitForSelector('main[aria-busy="false"]');
		const header = await page.getByRole('banner').innerText();
		const text = `${header}\n${await page.getByRole('main').innerText()}`;
		const st = await page.evaluate(() => ({ xss: window.__xss === 1, img: document.querySelectorAll('img[src="x"]').length,
			width: document.documentElement.scrollWidth }));
		assert(!st.xss && st.img === 0 && st.width <= WIDTH, `user page unsafe: ${JSON.stringify(st)}`);
		if (status === 200) {
			assert(header.includes('Ada <img src=x'), `the header reads "${header}"`);
			assert(text.includes('ada@example.com'), `user page reads "${text}"`);
			const logout = await page.getByRole('link', { name: 'Log out' }).getAttribute('href');
			assert(logout === '/flows/-/default/invalidation/', `logout link ${logout}`);
			await urlsAreSafe(page, 'user page');
			await page.waitForFunction(() => document.title === 'My account - Acme');
		} else {
			const login = await page.getByRole('link', { name: 'Log in' }).getAttribute('href');
			assert(login === '/flows/-/default/authentication/?next=%2Fif%2Fuser%2F', `login link ${login}`);
			assert(await page.getByRole('link', { name: 'Log out' }).count() === 0, 'Log out offered when logged out');
		}
		await context.close();
	}
});

// --- OAuth2: the autosubmit form of form_post, the device code pages -----------------------------

test('autosubmit posts hostile values as values', async (t) => {
	let posted = null;
	const attrs = { code: 'c0de', state: `"><script>window.__xss=1</script>${XSS}`, 'na"me<b>': `'v' & "w"` };
	const context = await t.browser.newContext({ baseURL: t.base });
	// Whichever page the payload would run in (this one or the one posted to), it is noticed.
	await context.exposeBinding('__xssHit', () => t.problems.push('a value ran as script'));
	await context.addInitScript(() => Object.defineProperty(window, '__xss', { set() { window.__xssHit(); } }));
	t.pages.push(await context.newPage());
	const page = t.pages[t.pages.length - 1];
	page.on('pageerror', (e) => t.problems.push(`uncaught error in the page: ${e.message}`));
	await context.route('**/api/v3/flows/executor/**', (route) => route.fulfill({ json: {
		component: 'ak-stage-autosubmit', flow_info: FLOW_INFO, title: `Redirecting ${XSS}`,
		url: '/rp/callback?tenant=a', attrs } }));
	await context.route('**/api/v3/core/brands/current/', (route) => route.fulfill({ json: {} }));
	await context.route('**/rp/callback**', (route) => {
		posted = { url: route.request().url(), method: route.request().method(), body: route.request().postData() };
		return route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="arrived">arrived</p>' });
	});
	await page.goto('/if/flow/test-flow/');
	await page.waitForSelector('#arrived');
	assert(posted.method === 'POST' && new URL(posted.url).search === '?tenant=a', `posted to ${posted.method} ${posted.url}`);
	const form = new URLSearchParams(posted.body);
	assert([...form.keys()].length === 3, `posted ${posted.body}`);
	for (const [k, v] of Object.entries(attrs))
		assert(form.get(k) === v, `${k} posted as ${form.get(k)}`);
});

test('autosubmit shows its title as text and posts nowhere but http(s)', async (t) => {
	for (const url of ['data:text/html,<script>window.__xss=1</script>', 'vbscript:msgbox', 'JAVASCRIPT:window.__xss=1',
		'  javascript:window.__xss=1']) {
		const { page } = await open(t, { component: 'ak-stage-autosubmit', flow_info: FLOW_INFO, url,
			title: `T ${XSS}`, attrs: { a: XSS } });
		await safe(page, `autosubmit to ${url}`);
		assert(/will not open/.test(await bodyText(page)), `autosubmit to ${url} not refused`);
		assert(await page.locator('#ak-flow-body form').count() === 0, `a form was built for ${url}`);
		assert(new URL(page.url()).pathname === '/if/flow/test-flow/', `left the page for ${url}`);
		await page.context().close();
	}
	// A good one shows its title as text; its post is stopped here so that the page stays.
	let hit;
	const posted = new Promise((r) => { hit = r; });
	const context = await t.browser.newContext({ viewport: { width: WIDTH, height: 780 }, baseURL: t.base });
	const page = await context.newPage();
	t.pages.push(page);
	await context.route('**/api/v3/flows/executor/**', (route) => route.fulfill({ json: {
		component: 'ak-stage-autosubmit', flow_info: FLOW_INFO, title: `Off to ${XSS}`,
		url: '/rp/held', attrs: { a: 'b' } } }));
	await context.route('**/api/v3/core/brands/current/', (route) => route.fulfill({ json: {} }));
	await context.route('**/rp/held', (route) => {
		hit(route.request().method());
		return route.abort('aborted');
	});
	await page.goto('/if/flow/test-flow/');
	assert(await posted === 'POST', 'the form did not post itself');
	await page.waitForSelector('#ak-flow-body form');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(text.includes('Off to <img src=x'), `title shown as "${text}"`);
	assert(await page.locator('#ak-flow-cancel').count() === 0, 'a cancel link under an autosubmit');
	await safe(page, 'autosubmit');
});

test('device code entry shows its errors and sends the code', async (t) => {
	const { page, sent } = await open(t, [
		{ component: 'ak-provider-oauth2-device-code', flow_info: FLOW_INFO,
			response_errors: { code: [{ string: `Invalid code ${XSS}`, code: 'invalid' }] } },
		{ component: 'ak-provider-oauth2-device-code', flow_info: FLOW_INFO,
			response_errors: { code: [{ string: 'Still wrong', code: 'invalid' }] } }]);
	await safe(page, 'device code');
	const input = page.locator('#ak-device-code');
	assert(await input.getAttribute('aria-invalid') === 'true', 'the code field is not marked invalid');
	const ids = (await input.getAttribute('aria-describedby') || '').split(' ');
	const texts = await Promise.all(ids.map((i) => page.locator(`#${i}`).innerText()));
	assert(texts.some((x) => x.includes('Invalid code <img src=x')), `errors read ${JSON.stringify(texts)}`);
	assert(await page.evaluate(() => document.activeElement.id) === 'ak-device-code', 'the code field is not focused');
	const label = await page.locator('label[for="ak-device-code"]').innerText();
	assert(/Code/.test(label), `label "${label}"`);
	await input.fill(' wxyz-1234 ');
	await page.keyboard.press('Enter');
	await page.waitForFunction(() => /Still wrong/.test(document.getElementById('ak-flow-body').innerText));
	const body = sent.find((x) => x.method === 'POST').body;
	assert(JSON.stringify(body) === JSON.stringify({ component: 'ak-provider-oauth2-device-code', code: ' wxyz-1234 ' }),
	    `posted ${JSON.stringify(body)}`);
	await page.screenshot({ path: join(OUT, 'render-device-code-errors.png'), fullPage: true });
});

test('device code finish is the end of the flow', async (t) => {
	const { page } = await open(t, { component: 'ak-provider-oauth2-device-code-finish',
		flow_info: { ...FLOW_INFO, title: `Device ${XSS}` } });
	await safe(page, 'device code finish');
	assert(/successfully authenticated your device/.test(await bodyText(page)), 'no confirmation shown');
	assert(await page.locator('#ak-flow-body form, #ak-flow-body input').count() === 0, 'a form on the finish page');
	assert(await page.locator('#ak-flow-cancel').count() === 0, 'a cancel link after the flow ended');
	assert((await page.locator('#ak-flow-title').innerText()).includes('<img src=x'), 'the title is not text');
});

// --- run --------------------------------------------------------------------------------------

async function main() {
	const server = await serve();
	const base = `http://127.0.0.1:${server.address().port}`;
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-dev-shm-usage'] });
	let failed = 0;
	try {
		for (const tc of tests) {
			const t = { name: tc.name, browser, base, pages: [], problems: [] };
			let error = null;
			try {
				await tc.fn(t);
			} catch (e) {
				error = e;
			}
			if (!error && t.problems.length)
				error = new Error(t.problems.join('; '));
			console.log(error ? `not ok - render: ${tc.name}: ${error.message}` : `ok - render: ${tc.name}`);
			if (error)
				failed += 1;
			for (const p of t.pages)
				await p.context().close().catch(() => {});
		}
	} finally {
		await browser.close();
		server.close();
	}
	console.log(`render: ${tests.length - failed} of ${tests.length} passed`);
	return failed ? 1 : 0;
}

process.exitCode = await main();
