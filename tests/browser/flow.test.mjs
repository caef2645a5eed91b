// Browser tests of the flow interface against a running stack (see run.sh for the environment):
// real pages, real executor, real PostgreSQL; users and test flows are made with psql.
//
// Every page is served with a strict Content-Security-Policy added on the way in, so a page
// that needed inline script or style would fail here; every test runs at 360 px width and
// checks that nothing scrolls sideways; server strings carry an HTML payload that must show
// up as text and never run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import {
	BASE, sql, createUser, makeRunner, assert, newPage, waitFor, checkPage, shot, login,
} from './harness.mjs';

const REDIS_SOCKET = process.env.CU_BROWSER_REDIS_SOCKET || '';
// "name=port ..." for every router of the stack; each gets a smoke test of its own.
const ROUTERS = (process.env.CU_BROWSER_ROUTERS || '').split(/\s+/).filter(Boolean)
	.map((r) => r.split('='));
// Assigning window.__xss is what the payload does if it ever runs.
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
const { test, run } = makeRunner();

// --- PostgreSQL and Redis ------------------------------------------------------------------

function redisDel(key) {
	if (!REDIS_SOCKET)
		return;
	execFileSync('redis-cli', ['-s', REDIS_SOCKET, '--no-auth-warning', 'DEL', key],
	    { encoding: 'utf8', timeout: 10000 });
}

// A flow with its stages bound in order: stages = [{type, config, prompts?}].
function createFlow(slug, { title, designation, authentication = 'none', layout = 'stacked', stages }) {
	sql(`INSERT INTO flows (slug, name, title, designation, authentication, layout)
		VALUES (:'slug', :'slug', :'title', :'des', :'auth', :'layout');`,
	    { slug, title, des: designation, auth: authentication, layout });
	stages.forEach((st, i) => {
		const name = `${slug}-${i}-${st.type}`;
		sql(`INSERT INTO stages (name, type, config) VALUES (:'name', :'type', (:'config')::jsonb);
			INSERT INTO flow_stage_bindings (target, stage, "order")
			SELECT f.flow_uuid, s.stage_uuid, :'ord' FROM flows f, stages s
			WHERE f.slug = :'slug' AND s.name = :'name';`,
		    { name, type: st.type, config: JSON.stringify(st.config || {}), ord: String((i + 1) * 10), slug });
		(st.prompts || []).forEach((p, j) => {
			const pname = `${name}-p${j}`;
			sql(`INSERT INTO prompts (name, field_key, label, type, required, placeholder,
				initial_value, sub_text, "order")
				VALUES (:'pname', :'key', :'label', :'ptype', (:'req')::boolean, :'ph', :'init',
				:'sub', :'ord');
				INSERT INTO prompt_stage_fields (stage, prompt)
				SELECT s.stage_uuid, p.prompt_uuid FROM stages s, prompts p
				WHERE s.name = :'name' AND p.name = :'pname';`,
			    { pname, name, key: p.key, label: p.label, ptype: p.type,
			      req: p.required === false ? 'false' : 'true', ph: p.placeholder || '',
			      init: p.initial || '', sub: p.sub || '', ord: String(j) });
		});
	});
}

// The user page has loaded and its header names who is logged in (the name, else the username).
async function userPageShows(page, username) {
	await page.waitForSelector('main[aria-busy="false"]');
	const me = await (await page.request.get('/api/v3/core/users/me/')).json();
	assert(me.user && me.user.username === username, `logged in as ${me.user && me.user.username}, not ${username}`);
	const shown = me.user.name || me.user.username;
	const text = await page.getByRole('banner').innerText();
	assert(text.includes(shown), `the user page does not show who is logged in (${shown}): "${text}"`);
}

// --- the tests ------------------------------------------------------------------------------

const RUN = randomBytes(4).toString('hex');
const PASSWORD = `Correct-${randomBytes(6).toString('hex')}`;
let loginUser;

function setup() {
	const have = sql(`SELECT count(*) FROM flows WHERE slug IN
		('default-authentication-flow', 'default-invalidation-flow');`);
	assert(have[0] === '2', 'the default authentication and invalidation flows are missing ' +
	    '(sql/0055_default_flows.sql not applied?)');
	loginUser = `bt-${RUN}`;
	createUser(loginUser, PASSWORD, { name: `Browser ${XSS}` });
}

test('password login lands where next says', async (t) => {
	const page = await newPage(t);
	await login(page, loginUser, PASSWORD, '/if/user/?from=login');
	await page.waitForURL(/\/if\/user\/\?from=login$/);
	await userPageShows(page, loginUser);
	await checkPage(page, 'user page');
	const name = await page.getByRole('banner').innerText();
	assert(name.includes('<img src=x'), `the user's name is not shown as text: "${name}"`);
	await shot(page, t.slug);
});

test('brand and flow info from the server', async (t) => {
	const page = await newPage(t);
	await page.goto('/if/flow/default-authentication-flow/');
	await waitFor(page, 'ak-stage-identification');
	const label = await page.locator('label[for="ak-identifier-input"]').innerText();
	assert(/Email or Username/.test(label), `user field label is "${label}"`);
	const title = await page.locator('#ak-flow-title').innerText();
	assert(title.length > 0, 'no flow title shown');
	const brand = await (await page.request.get('/api/v3/core/brands/current/')).json();
	const logo = await page.locator('#ak-brand-logo').getAttribute('src');
	assert(logo === new URL(brand.branding_logo, BASE).href, `logo ${logo}, brand says ${brand.branding_logo}`);
	const docTitle = await page.title();
	assert(docTitle.includes(brand.branding_title), `document title "${docTitle}" lacks the brand title`);
	// flow_info.background is shown, and loads.
	await page.waitForFunction(() => {
		const img = document.getElementById('ak-flow-background');
		return img && !img.hidden && img.complete;
	});
	const bg = await page.evaluate(() => {
		const img = document.getElementById('ak-flow-background');
		return { src: img.getAttribute('src'), w: img.naturalWidth };
	});
	assert(bg.src && bg.w > 0, `the flow background ${bg.src} did not load`);
	const button = await page.locator('#ak-flow-body button[type=submit]').innerText();
	assert(button.trim() === 'Log in', `primary action is "${button}"`);
	await shot(page, t.slug);
});

test('wrong password shows the error next to the field', async (t) => {
	const page = await newPage(t);
	await page.goto('/if/flow/default-authentication-flow/');
	await waitFor(page, 'ak-stage-identification');
	await page.fill('#ak-identifier-input', loginUser);
	await page.click('#ak-flow-body button[type=submit]');
	await waitFor(page, 'ak-stage-password');
	const who = await page.locator('.ak-pending-user-name').innerText();
	assert(who === loginUser, `pending user shown as "${who}"`);
	await page.fill('#ak-stage-password-input', 'not-the-password');
	await page.keyboard.press('Enter');
	await page.waitForSelector('#ak-stage-password-input[aria-invalid="true"]');
	const describedBy = await page.getAttribute('#ak-stage-password-input', 'aria-describedby');
	assert(describedBy, 'the password field has no aria-describedby');
	const errId = describedBy.split(' ').find((id) => id.endsWith('-errors'));
	assert(errId, `aria-describedby "${describedBy}" names no error list`);
	const err = await page.locator(`#${errId}`).innerText();
	assert(err.trim().length > 0, 'the error list is empty');
	// The error sits inside the password field's own group.
	const sameGroup = await page.evaluate((id) => {
		const input = document.getElementById('ak-stage-password-input');
		return input.closest('.ak-form-group') === document.getElementById(id).closest('.ak-form-group');
	}, errId);
	assert(sameGroup, 'the error is not next to the password field');
	assert(/\/if\/flow\/default-authentication-flow\//.test(page.url()), 'left the flow page');
	const me = await page.request.get('/api/v3/core/users/me/');
	assert(me.status() === 403 || me.status() === 401, `logged in after a wrong password (${me.status()})`);
	await checkPage(page, 'wrong password');
	await shot(page, t.slug);
	// The right one still works from here.
	await page.fill('#ak-stage-password-input', PASSWORD);
	await page.keyboard.press('Enter');
	await page.waitForURL((u) => !u.pathname.startsWith('/if/flow/'));
});

test('enrollment with prompt fields', async (t) => {
	const slug = `bt-enroll-${RUN}`;
	const newUser = `bt-new-${RUN}`;
	const email = `${newUser}@example.com`;
	createFlow(slug, {
		title: `Join us ${XSS}`, designation: 'enrollment',
		stages: [
			{ type: 'promptstage', prompts: [
				{ key: 'intro', label: 'intro', type: 'static', initial: `Welcome ${XSS}` },
				{ key: 'username', label: 'Username', type: 'username', placeholder: 'Username' },
				{ key: 'name', label: `Name ${XSS}`, type: 'text', sub: `Your full name ${XSS}` },
				{ key: 'email', label: 'Email', type: 'email' },
				{ key: 'password', label: 'Password', type: 'password' },
				{ key: 'password_repeat', label: 'Password (repeat)', type: 'password' }
			] },
			{ type: 'userwritestage', config: { user_creation_mode: 'always_create' } },
			{ type: 'userloginstage', config: {} }
		]
	});
	const page = await newPage(t);
	await page.goto(`/if/flow/${slug}/?next=${encodeURIComponent('/if/user/?from=enroll')}`);
	await waitFor(page, 'ak-stage-prompt');
	const title = await page.locator('#ak-flow-title').innerText();
	assert(title.includes('<img src=x'), `flow title not shown as text: "${title}"`);
	const stat = await page.locator('.ak-static').innerText();
	assert(stat.includes('<script>'), `static field not shown as text: "${stat}"`);
	const nameLabel = await page.locator('label', { hasText: 'Name <img' }).count();
	assert(nameLabel === 1, 'the name label is not shown as text');
	const st = await checkPage(page, 'prompt');
	assert(st.focus && st.focus.startsWith('ak-prompt'), `the first field is not focused (${st.focus})`);

	// Every input has a label.
	const unlabelled = await page.evaluate(() => [...document.querySelectorAll(
	    '#ak-flow-body input:not([type=hidden]):not(.ak-hidden-username), #ak-flow-body select, #ak-flow-body textarea')]
	    .filter((i) => !i.labels || i.labels.length === 0).map((i) => i.name));
	assert(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(', ')}`);

	const field = (key) => page.locator(`[name="${key}"]`);
	await field('username').fill(newUser);
	await field('name').fill('New Browser User');
	await field('email').fill(email);
	await field('password').fill(PASSWORD);
	await field('password_repeat').fill(PASSWORD + 'x');
	await field('password_repeat').press('Enter');
	// The mismatch comes back as an error.
	await page.waitForSelector('#ak-flow-body .ak-field-errors, #ak-non-field-errors');
	const errText = await page.locator('#ak-flow-body .ak-field-errors, #ak-non-field-errors').first().innerText();
	assert(errText.trim().length > 0, 'the mismatch error is empty');
	await checkPage(page, 'prompt with errors');
	await shot(page, `${t.slug}-errors`);
	const created = sql(`SELECT count(*) FROM users WHERE username = :'u';`, { u: newUser });
	assert(created[0] === '0', 'a user was written although the passwords differ');

	// What was typed is still there, except the passwords.
	assert(await field('username').inputValue() === newUser, 'the username typed was lost');
	assert(await field('email').inputValue() === email, 'the email typed was lost');
	assert(await field('password').inputValue() === '', 'a password was kept in the form');
	await field('password').fill(PASSWORD);
	await field('password_repeat').fill(PASSWORD);
	await page.click('#ak-flow-body button[type=submit]:not([aria-controls])');
	await page.waitForURL(/\/if\/user\/\?from=enroll$/);
	await userPageShows(page, newUser);
	const row = sql(`SELECT email FROM users WHERE username = :'u';`, { u: newUser });
	assert(row[0] === email, `the new user's email is ${row[0]}`);
	await shot(page, t.slug);
});

test('consent screen', async (t) => {
	const slug = `bt-consent-${RUN}`;
	const app = sql(`INSERT INTO applications (name, slug) VALUES (:'n', :'s') RETURNING uuid;`,
	    { n: `Browser app ${XSS}`, s: `bt-app-${RUN}` })[0];
	createFlow(slug, {
		title: 'Authorize the application', designation: 'authorization',
		authentication: 'require_authenticated',
		stages: [
			{ type: 'dummystage', config: {} },
			{ type: 'consentstage', config: { mode: 'always_require' } }
		]
	});
	const page = await newPage(t);
	const target = `/if/flow/${slug}/?next=${encodeURIComponent('/if/user/?from=consent')}`;
	await login(page, loginUser, PASSWORD, target);
	await page.waitForURL((u) => u.pathname === `/if/flow/${slug}/`);
	await waitFor(page, 'ak-stage-dummy');
	// Applications put themselves into the plan when a provider starts a flow; no provider
	// does yet, so the test puts this one in the stored plan the way a provider would.
	const keys = sql(`UPDATE sessions SET flow_plan = jsonb_set(flow_plan, '{context,application}',
		to_jsonb((:'app')::text)), flow_plan_rev = flow_plan_rev + 1
		WHERE flow_plan ->> 'slug' = :'slug' RETURNING session_key;`, { app, slug });
	assert(keys.length === 1, `expected one session in ${slug}, found ${keys.length}`);
	redisDel(`custos:plan:${keys[0]}`);
	await page.click('#ak-flow-body button[type=submit]');
	await waitFor(page, 'ak-stage-consent');
	await checkPage(page, 'consent');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(text.includes(loginUser), 'the consent screen does not show who consents');
	const cont = page.getByRole('button', { name: 'Continue' });
	assert(await cont.isVisible(), 'no Continue button');
	const cancel = await page.getByRole('link', { name: 'Cancel' }).getAttribute('href');
	assert(cancel && new URL(cancel, BASE).pathname === '/flows/-/cancel/', `cancel link is ${cancel}`);
	await shot(page, t.slug);
	await cont.click();
	await page.waitForURL(/\/if\/user\/\?from=consent$/);
	await userPageShows(page, loginUser);
});

test('every prompt field type reaches the server', async (t) => {
	const slug = `bt-fields-${RUN}`;
	createFlow(slug, {
		title: 'All the fields', designation: 'stage_configuration', layout: 'sidebar_left',
		stages: [
			{ type: 'promptstage', prompts: [
				{ key: 'sep', label: 'sep', type: 'separator', initial: 'About you', required: false },
				{ key: 'text', label: 'Text', type: 'text' },
				{ key: 'area', label: 'Area', type: 'text_area' },
				{ key: 'ro', label: 'Read only', type: 'text_read_only', initial: 'fixed' },
				{ key: 'roarea', label: 'Read only area', type: 'text_area_read_only', initial: 'fixed too', required: false },
				{ key: 'user', label: 'Username', type: 'username' },
				{ key: 'mail', label: 'Email', type: 'email' },
				{ key: 'secret', label: 'Secret', type: 'password' },
				{ key: 'count', label: 'Count', type: 'number', sub: 'A whole number' },
				{ key: 'agree', label: 'I agree', type: 'checkbox' },
				{ key: 'colour', label: 'Colour', type: 'radio-button-group', placeholder: 'Blue' },
				{ key: 'size', label: 'Size', type: 'dropdown', placeholder: 'Large' },
				{ key: 'born', label: 'Born', type: 'date' },
				{ key: 'when', label: 'When', type: 'date-time' },
				{ key: 'avatar', label: 'Picture', type: 'file' },
				{ key: 'hid', label: 'hid', type: 'hidden', initial: 'kept' },
				{ key: 'note', label: 'note', type: 'static', initial: 'Static words', required: false },
				{ key: 'locale', label: 'Language', type: 'ak-locale' },
				{ key: 'optional', label: 'Optional', type: 'text', required: false }
			] },
			{ type: 'dummystage', config: {} }
		]
	});
	const page = await newPage(t);
	await page.goto(`/if/flow/${slug}/`);
	await waitFor(page, 'ak-stage-prompt');
	await checkPage(page, 'all fields');
	const layout = await page.getAttribute('#ak-flow', 'data-layout');
	assert(layout === 'sidebar_left', `the flow's layout is shown as ${layout}`);
	const field = (key) => page.locator(`[name="${key}"]`);
	assert(await field('ro').getAttribute('readonly') !== null, 'the read-only field is editable');
	assert(await page.locator('.ak-separator').innerText() === 'About you', 'the separator text is missing');
	assert(await page.locator('.ak-static').innerText() === 'Static words', 'the static text is missing');
	await field('text').fill('some text');
	await field('area').fill('line one\nline two');
	await field('user').fill(`bt-fields-${RUN}`);
	await field('mail').fill('fields@example.com');
	await field('secret').fill('s3cret-value');
	await field('count').fill('42');
	await page.getByLabel('I agree').check();
	await page.getByLabel('Blue').check();
	await field('size').selectOption('Large');
	await field('born').fill('1990-05-17');
	await field('when').fill('2030-01-02T03:04:05');
	await field('avatar').setInputFiles({ name: 'p.png', mimeType: 'image/png',
		buffer: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64') });
	await field('locale').selectOption('de');
	await shot(page, t.slug);
	await page.click('#ak-flow-body button[type=submit]:not([aria-controls])');
	await waitFor(page, 'ak-stage-dummy');
	const pd = JSON.parse(sql(`SELECT flow_plan -> 'context' -> 'prompt_data' FROM sessions
		WHERE flow_plan ->> 'slug' = :'slug';`, { slug })[0]);
	const expect = { text: 'some text', area: 'line one\nline two', ro: 'fixed', user: `bt-fields-${RUN}`,
		mail: 'fields@example.com', count: 42, agree: true, colour: 'Blue', size: 'Large',
		born: '1990-05-17', hid: 'kept', locale: 'de' };
	for (const [k, v] of Object.entries(expect))
		assert(pd[k] === v, `prompt_data.${k} is ${JSON.stringify(pd[k])}, expected ${JSON.stringify(v)}`);
	assert(typeof pd.when === 'string' && pd.when.startsWith('2030-01-02'), `prompt_data.when is ${pd.when}`);
	assert(typeof pd.avatar === 'string' && pd.avatar.startsWith('data:image/png;base64,'),
	    `prompt_data.avatar is ${String(pd.avatar).slice(0, 40)}`);
});

test('access denied shows the message as text', async (t) => {
	const slug = `bt-deny-${RUN}`;
	createFlow(slug, { title: 'Closed', designation: 'authentication',
		stages: [{ type: 'denystage', config: { deny_message: `Go away ${XSS}` } }] });
	const page = await newPage(t);
	await page.goto(`/if/flow/${slug}/`);
	await waitFor(page, 'ak-stage-access-denied');
	const text = await page.locator('#ak-flow-body [role=alert]').innerText();
	assert(text.includes('Request has been denied.') && text.includes('Go away <img src=x'),
	    `the denial reads "${text}"`);
	await checkPage(page, 'access denied');
	await shot(page, t.slug);
});

test('inline password, links and remember me', async (t) => {
	const slug = `bt-remember-${RUN}`;
	const pwStage = sql(`INSERT INTO stages (name, type, config) VALUES (:'n', 'passwordstage',
		'{"allow_show_password": true}') RETURNING stage_uuid;`, { n: `${slug}-inline-password` })[0];
	const flows = Object.fromEntries(sql(`SELECT slug || '=' || flow_uuid FROM flows
		WHERE slug IN ('default-enrollment-flow', 'default-recovery-flow');`).map((l) => l.split('=')));
	createFlow(slug, { title: 'Sign in', designation: 'authentication',
		stages: [
			{ type: 'identificationstage', config: { user_fields: ['username'], password_stage: pwStage,
				enrollment_flow: flows['default-enrollment-flow'], recovery_flow: flows['default-recovery-flow'] } },
			{ type: 'userloginstage', config: { remember_me_offset: 'days=30' } }
		] });
	const page = await newPage(t);
	await page.goto(`/if/flow/${slug}/?next=${encodeURIComponent('/if/user/')}`);
	await waitFor(page, 'ak-stage-identification');
	const label = await page.locator('label[for="ak-identifier-input"]').innerText();
	assert(/^Username/.test(label), `user field label is "${label}"`);
	const signUp = await page.getByRole('link', { name: 'Sign up.' }).getAttribute('href');
	assert(new URL(signUp).pathname === '/if/flow/default-enrollment-flow/', `sign-up link is ${signUp}`);
	const forgot = await page.getByRole('link', { name: 'Forgot username or password?' }).getAttribute('href');
	assert(new URL(forgot).pathname === '/if/flow/default-recovery-flow/', `recovery link is ${forgot}`);
	// The password is asked on the same page; show/hide works from the keyboard.
	await page.keyboard.type(loginUser);
	await page.keyboard.press('Tab');
	await page.keyboard.type(PASSWORD);
	const toggle = page.getByRole('button', { name: 'Show password' });
	await toggle.focus();
	await page.keyboard.press('Enter');
	assert(await page.getAttribute('#ak-stage-identification-password', 'type') === 'text', 'show password did nothing');
	await page.focus('#ak-stage-identification-password');
	await page.keyboard.press('Enter');
	await waitFor(page, 'ak-stage-user-login');
	await checkPage(page, 'user login');
	await shot(page, t.slug);
	await page.getByRole('button', { name: 'Yes' }).click();
	await page.waitForURL(/\/if\/user\/$/);
	await userPageShows(page, loginUser);
	const cookies = await page.context().cookies();
	const persistent = cookies.filter((c) => c.httpOnly && c.expires > Date.now() / 1000 + 20 * 86400);
	assert(persistent.length > 0, `no session cookie lasting 30 days: ${cookies.map((c) => `${c.name}:${c.expires}`).join(', ')}`);
});

test('logout', async (t) => {
	const page = await newPage(t);
	await login(page, loginUser, PASSWORD, '/if/user/');
	await page.waitForURL(/\/if\/user\/$/);
	await userPageShows(page, loginUser);
	await page.getByRole('link', { name: 'Log out' }).click();
	await page.waitForURL((u) => !u.pathname.startsWith('/if/flow/') && !u.pathname.startsWith('/flows/'));
	const me = await page.request.get('/api/v3/core/users/me/');
	assert(me.status() === 403 || me.status() === 401, `still logged in after logout (${me.status()})`);
	await page.goto('/if/user/');
	await page.waitForSelector('main[aria-busy="false"]');
	const text = await page.getByRole('main').innerText();
	assert(/not logged in/i.test(text), `the user page says "${text}" after logout`);
	await checkPage(page, 'logged out');
	await shot(page, t.slug);
});

test('unknown flow', async (t) => {
	const page = await newPage(t);
	await page.goto(`/if/flow/no-such-flow-${RUN}/`);
	await page.waitForSelector('#ak-flow-card[aria-busy="false"]');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(/does not exist|not found/i.test(text), `unknown flow shows "${text}"`);
	await checkPage(page, 'unknown flow');
	await shot(page, t.slug);
});

test('a redirect is followed only to a web address', async (t) => {
	const good = `bt-redirect-${RUN}`;
	const bad = `bt-redirect-js-${RUN}`;
	createFlow(good, { title: 'Away', designation: 'authentication',
		stages: [{ type: 'redirectstage', config: { mode: 'static', target_static: '/if/user/?from=redirect' } }] });
	createFlow(bad, { title: 'Away', designation: 'authentication',
		stages: [{ type: 'redirectstage', config: { mode: 'static', target_static: 'javascript:window.__xss=1' } }] });
	const page = await newPage(t);
	await page.goto(`/if/flow/${good}/`);
	await page.waitForURL(/\/if\/user\/\?from=redirect$/);
	await page.goto(`/if/flow/${bad}/`);
	await waitFor(page, 'xak-flow-redirect');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(/will not open/.test(text), `a javascript: redirect shows "${text}"`);
	assert(new URL(page.url()).pathname === `/if/flow/${bad}/`, `the page went to ${page.url()}`);
	await checkPage(page, 'javascript redirect');
	await shot(page, t.slug);
});

test('a failing stage shows the flow error with its request id', async (t) => {
	const slug = `bt-error-${RUN}`;
	createFlow(slug, { title: 'Broken', designation: 'authentication',
		stages: [{ type: 'dummystage', config: { throw_error: true } }] });
	const page = await newPage(t);
	await page.goto(`/if/flow/${slug}/`);
	await waitFor(page, 'ak-stage-flow-error');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(/Something went wrong/.test(text) && /Request ID: \S+/.test(text), `the error reads "${text}"`);
	await checkPage(page, 'flow error');
	await shot(page, t.slug);
});

test('recovery asks for the mail to be read', async (t) => {
	const page = await newPage(t);
	await page.goto('/if/flow/default-recovery-flow/');
	await waitFor(page, 'ak-stage-identification');
	const intro = await page.locator('#ak-flow-body').innerText();
	assert(/associated with your account/.test(intro), `recovery identification reads "${intro}"`);
	await page.keyboard.type(loginUser);
	await page.keyboard.press('Enter');
	await waitFor(page, 'ak-stage-email');
	const text = await page.locator('#ak-flow-body').innerText();
	assert(/Check your inbox/i.test(text), `the email step reads "${text}"`);
	await checkPage(page, 'email');
	await shot(page, t.slug);
});

test('not you? starts over, and one answer is sent once', async (t) => {
	const page = await newPage(t);
	let posts = 0;
	page.on('request', (r) => {
		if (r.method() === 'POST' && r.url().includes('/api/v3/flows/executor/'))
			posts += 1;
	});
	await page.goto(`/if/flow/default-authentication-flow/?next=${encodeURIComponent('/if/user/?from=notyou')}`);
	await waitFor(page, 'ak-stage-identification');
	await page.fill('#ak-identifier-input', loginUser);
	// A double submit (double click, Enter held down) must not post twice.
	await page.evaluate(() => {
		const form = document.querySelector('#ak-flow-body form');
		form.requestSubmit();
		form.requestSubmit();
	});
	await waitFor(page, 'ak-stage-password');
	assert(posts === 1, `${posts} POSTs for one answer`);
	await page.getByRole('link', { name: 'Not you?' }).click();
	await page.waitForURL(/\/if\/user\/\?from=notyou$/);
	await page.goto('/if/flow/default-authentication-flow/');
	await waitFor(page, 'ak-stage-identification');
});

for (const [router, port] of ROUTERS) {
	test(`the interfaces through ${router}`, async (t) => {
		const base = `http://127.0.0.1:${port}`;
		const page = await newPage(t, { base });
		await page.goto(`${base}/if/flow/default-authentication-flow/?next=%2Fif%2Fuser%2F`);
		await waitFor(page, 'ak-stage-identification');
		for (const [path, type] of [['/static/dist/flow.js', 'javascript'], ['/static/dist/flow.css', 'text/css'],
			['/static/dist/assets/icons/icon_left_brand.svg', 'image/svg+xml']]) {
			const r = await page.request.get(base + path);
			assert(r.ok() && (r.headers()['content-type'] || '').includes(type),
			    `${path}: ${r.status()} ${r.headers()['content-type']}`);
		}
		await page.goto(`${base}/if/user/`);
		await page.waitForSelector('main[aria-busy="false"]');
		assert(await page.getByRole('link', { name: 'Log in' }).isVisible(), 'the user page offers no login when logged out');
		await checkPage(page, router);
		await shot(page, t.slug);
	});
}

// --- run ----------------------------------------------------------------------------------

process.exitCode = await run(setup);
