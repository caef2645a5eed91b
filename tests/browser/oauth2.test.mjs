// The OAuth2 provider in a real browser against a running stack (see run.sh for the
// environment): an authorization URL opened in Chromium logs the user in through /if/flow/ and
// ends at the client's redirect URI, which this test answers itself (context.route) on a
// loopback address nothing listens on; form_post posts itself there; the consent screen and the
// device code pages render and work; a redirect URI that is not registered gets an error page.
//
// As in flow.test.mjs: every /if/ page gets a strict Content-Security-Policy (with the client's
// origin as a form-action, as a deployment using form_post would allow), the width is 360 px,
// and a payload that ran anywhere (this origin or the client's) fails the test.
import { createHash, createHmac, randomBytes } from 'node:crypto';

import {
	BASE, XSS, sql, djangoHash, makeRunner, assert, newPage as harnessPage, waitFor, shot,
} from './harness.mjs';

const WIDTH = 360;

// The client: a loopback address with nothing listening; the test answers for it.
const RP = 'http://127.0.0.1:9';
const CB = `${RP}/cb`;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	`connect-src 'self'; form-action 'self' ${RP}; base-uri 'none'; frame-ancestors 'none'`;
const { test, run } = makeRunner({ name: 'oauth2' });

const RUN = randomBytes(4).toString('hex');
const PASSWORD = `Correct-${randomBytes(6).toString('hex')}`;
const USERNAME = `bt-oauth-${RUN}`;

function createUser() {
	return sql(`INSERT INTO users (username, name, email, type, path, password)
		VALUES (:'u', :'u', :'e', 'internal', 'users', :'p') RETURNING id;`,
	{ u: USERNAME, e: `${USERNAME}@example.com`, p: djangoHash(PASSWORD) })[0];
}

// An OAuth2 provider (HS256 with its client secret) bound to a new application.
function createApp(flow, name) {
	const clientId = randomBytes(16).toString('hex');
	const secret = randomBytes(24).toString('hex');
	const pid = sql(`INSERT INTO providers (name, type, authorization_flow, invalidation_flow)
		SELECT :'name', 'oauth2provider', (SELECT flow_uuid FROM flows WHERE slug = :'flow'),
		(SELECT flow_uuid FROM flows WHERE slug = 'default-provider-invalidation-flow') RETURNING id;`,
	{ name, flow })[0];
	sql(`INSERT INTO oauth2_providers (provider_id, client_id, client_secret, redirect_uris)
		VALUES (:'pid', :'cid', :'secret', (:'uris')::jsonb);
		INSERT INTO provider_property_mappings (provider_id, pm_uuid) SELECT :'pid', pm_uuid
		FROM property_mappings WHERE type = 'scopemapping' AND managed IS NOT NULL
		AND scope_name IN ('openid', 'email', 'profile');
		INSERT INTO applications (name, slug, provider_id) VALUES (:'name', :'slug', :'pid');`,
	{ pid, cid: clientId, secret, slug: `bt-oauth-${randomBytes(4).toString('hex')}`, name,
		uris: JSON.stringify([{ matching_mode: 'strict', url: CB, redirect_uri_type: 'authorization' }]) });
	return { pid, clientId, secret, name };
}

function codeRow(code) {
	const digest = createHash('sha256').update(code).digest('hex');
	const rows = sql(`SELECT user_id || ' ' || redirect_uri || ' ' || coalesce(code_challenge_method, '-')
		FROM oauth2_authorization_codes WHERE code_digest = :'d';`, { d: digest });
	return rows.length ? rows[0].split(' ') : null;
}

// --- pages ---------------------------------------------------------------------------------

function b64url(buf) {
	return Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// A page of harness.mjs whose client (RP) requests are answered here and recorded, and where a
// server string that runs as script is noticed wherever it runs.
async function newPage(t) {
	const page = await harnessPage(t, { csp: CSP });
	const context = page.context();
	const rp = [];
	await context.exposeBinding('__xssHit', () => t.problems.push('a server string ran as script'));
	await context.addInitScript(() => Object.defineProperty(window, '__xss', {
		set() {
			window.__xssHit();
		}
	}));
	await context.route(`${RP}/**`, (route) => {
		const req = route.request();
		rp.push({ url: req.url(), method: req.method(), body: req.postData() });
		return route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="rp">client</p>' });
	});
	return { page, rp };
}

async function checkWidth(page, what) {
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	assert(w <= WIDTH, `${what}: ${w} px wide at ${WIDTH} px`);
}

// The identification and password steps, with the keyboard.
async function logIn(page, appName) {
	await waitFor(page, 'ak-stage-identification');
	const text = await page.locator('#ak-flow-body').innerText();
	if (appName)
		assert(text.includes(`Log in to continue to ${appName}.`), `the login does not name the application: "${text}"`);
	await page.keyboard.type(USERNAME);
	await page.keyboard.press('Enter');
	await waitFor(page, 'ak-stage-password');
	await page.keyboard.type(PASSWORD);
	await page.keyboard.press('Enter');
}

function authorizeUrl(app, params) {
	const q = new URLSearchParams({ client_id: app.clientId, redirect_uri: CB, response_type: 'code',
		scope: 'openid email', state: `st-${randomBytes(4).toString('hex')}`, ...params });
	return `/application/o/authorize/?${q}`;
}

async function arrived(page, rp) {
	await page.waitForSelector('#rp');
	assert(rp.length === 1, `the client was called ${rp.length} times: ${JSON.stringify(rp)}`);
	return rp[0];
}

// --- the tests -------------------------------------------------------------------------------

let userId;
let implicitApp;
let explicitApp;

function setup() {
	userId = createUser();
	implicitApp = createApp('default-provider-authorization-implicit-consent', `Wiki ${RUN}`);
	explicitApp = createApp('default-provider-authorization-explicit-consent', `Mail ${RUN}`);
}

test('code flow: log in, and the code reaches the client', async (t) => {
	const { page, rp } = await newPage(t);
	const verifier = b64url(randomBytes(48));
	const challenge = b64url(createHash('sha256').update(verifier).digest());
	const nonce = `n-${RUN}`;
	const url = authorizeUrl(implicitApp, { code_challenge: challenge, code_challenge_method: 'S256', nonce });
	const state = new URL(url, BASE).searchParams.get('state');
	await page.goto(url);
	await page.waitForURL(/\/if\/flow\/default-authentication-flow\//);
	await checkWidth(page, 'login for the client');
	await shot(page, `oauth2-${t.slug}-login`);
	await logIn(page, implicitApp.name);
	const got = new URL((await arrived(page, rp)).url);
	assert(got.origin + got.pathname === CB, `the client got ${got}`);
	assert(got.searchParams.get('state') === state, `state came back as ${got.searchParams.get('state')}`);
	const code = got.searchParams.get('code');
	assert(code && [...got.searchParams.keys()].length === 2, `the client got ${got.search}`);
	const row = codeRow(code);
	assert(row && row[0] === userId && row[1] === CB && row[2] === 'S256', `code row ${row}`);
	// The client exchanges it; the ID token is signed with its secret (HS256) and carries the nonce.
	const r = await page.request.post('/application/o/token/', { form: { grant_type: 'authorization_code', code,
		redirect_uri: CB, client_id: implicitApp.clientId, client_secret: implicitApp.secret, code_verifier: verifier } });
	assert(r.status() === 200, `token endpoint: ${r.status()} ${await r.text()}`);
	const [h, p, s] = (await r.json()).id_token.split('.');
	const mac = b64url(createHmac('sha256', implicitApp.secret).update(`${h}.${p}`).digest());
	assert(mac === s, 'the ID token signature does not verify');
	const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
	assert(claims.nonce === nonce && claims.aud === implicitApp.clientId, `claims ${JSON.stringify(claims)}`);
	// The same code again: refused.
	const again = await page.request.post('/application/o/token/', { form: { grant_type: 'authorization_code', code,
		redirect_uri: CB, client_id: implicitApp.clientId, client_secret: implicitApp.secret, code_verifier: verifier } });
	assert(again.status() === 400, `a used code was accepted again (${again.status()})`);
});

test('form_post posts itself to the client with the values intact', async (t) => {
	const { page, rp } = await newPage(t);
	const state = `s ${XSS} & ünïcode`;
	await page.goto(authorizeUrl(implicitApp, { response_mode: 'form_post', state }));
	await logIn(page, implicitApp.name);
	const post = await arrived(page, rp);
	assert(post.method === 'POST' && post.url === CB, `the client got ${post.method} ${post.url}`);
	const form = new URLSearchParams(post.body);
	assert(form.get('state') === state, `state posted as ${form.get('state')}`);
	assert(form.get('code') && codeRow(form.get('code')), `no code posted: ${post.body}`);
	assert([...form.keys()].sort().join(',') === 'code,state', `posted ${post.body}`);
});

test('consent screen, then the code; not asked twice', async (t) => {
	const { page, rp } = await newPage(t);
	await page.goto(authorizeUrl(explicitApp, { scope: 'openid email profile' }));
	await logIn(page, explicitApp.name);
	await waitFor(page, 'ak-stage-consent');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(text.includes(`You're about to sign into ${explicitApp.name}.`), `consent reads "${text}"`);
	assert(text.includes('Email address') && text.includes('General Profile Information'), `consent reads "${text}"`);
	await checkWidth(page, 'consent');
	await shot(page, `oauth2-${t.slug}`);
	await page.getByRole('button', { name: 'Continue' }).click();
	const got = new URL((await arrived(page, rp)).url);
	assert(got.searchParams.get('code'), `the client got ${got}`);
	// Given once: the next authorization goes straight through.
	rp.length = 0;
	await page.goto(authorizeUrl(explicitApp, { scope: 'openid email' }));
	const again = new URL((await arrived(page, rp)).url);
	assert(again.searchParams.get('code'), `the second authorization ended at ${again}`);
});

test('an unregistered redirect URI gets an error page, not a redirect', async (t) => {
	const { page, rp } = await newPage(t);
	for (const uri of [`${RP}/other`, `${RP}@evil.example/cb`, 'javascript:window.__xss=1']) {
		const resp = await page.goto(authorizeUrl(implicitApp, { redirect_uri: uri, state: XSS }));
		assert(resp.status() === 400, `${uri}: status ${resp.status()}`);
		assert(new URL(page.url()).origin === new URL(BASE).origin, `${uri}: the browser went to ${page.url()}`);
		const text = await page.locator('body').innerText();
		assert(/Redirect URI Error/.test(text), `${uri}: the page reads "${text}"`);
	}
	const resp = await page.goto('/application/o/authorize/?client_id=nobody&redirect_uri=' + encodeURIComponent(CB));
	assert(resp.status() === 400 && /Client ID Error/.test(await page.locator('body').innerText()), 'unknown client');
	assert(rp.length === 0, `the client was called: ${JSON.stringify(rp)}`);
	await checkWidth(page, 'error page');
	await shot(page, `oauth2-${t.slug}`);
});

test('device code: the entry page, then the confirmation', async (t) => {
	const { page } = await newPage(t);
	const flow = `bt-device-${RUN}`;
	const flowUuid = sql(`INSERT INTO flows (name, slug, title, designation, authentication)
		VALUES (:'f', :'f', 'Device code', 'stage_configuration', 'require_authenticated') RETURNING flow_uuid;`,
	{ f: flow })[0];
	const before = sql(`SELECT brand_uuid || ' ' || coalesce(flow_device_code::text, '-') FROM brands WHERE "default";`);
	sql(`UPDATE brands SET flow_device_code = :'f' WHERE "default";`, { f: flowUuid });
	try {
		const r = await page.request.post('/application/o/device/', { form: { client_id: implicitApp.clientId,
			scope: 'openid email' } });
		assert(r.status() === 200, `device authorization: ${r.status()} ${await r.text()}`);
		const dev = await r.json();
		// Logged out, /device goes through the login first.
		await page.goto('/device');
		await logIn(page, null);
		await waitFor(page, 'ak-provider-oauth2-device-code');
		await checkWidth(page, 'device code');
		await shot(page, `oauth2-${t.slug}-entry`);
		await page.keyboard.type(dev.user_code);
		await page.keyboard.press('Enter');
		await waitFor(page, 'ak-provider-oauth2-device-code-finish');
		const text = await page.locator('#ak-flow-body').innerText();
		assert(/successfully authenticated your device/.test(text), `the finish page reads "${text}"`);
		await shot(page, `oauth2-${t.slug}-finish`);
		const digest = createHash('sha256').update(dev.device_code).digest('hex');
		const bound = sql(`SELECT user_id FROM oauth2_device_tokens WHERE device_code_digest = :'d';`, { d: digest });
		assert(bound[0] === userId, `the device token is bound to ${bound[0]}`);
	} finally {
		for (const line of before) {
			const [brand, old] = line.split(' ');
			sql(`UPDATE brands SET flow_device_code = NULLIF(:'o', '-')::uuid WHERE brand_uuid = :'b';`, { o: old, b: brand });
		}
	}
});

// --- run --------------------------------------------------------------------------------------

process.exitCode = await run(setup);
