// Browser tests of the admin interface (/if/admin/) against a running stack (see run.sh): akadmin
// logs in through the flow interface, makes a user, a group, an OAuth2 provider and an
// application through the screens, binds the group, and finds each in PostgreSQL and in the
// event log; the new user sees the application, revokes a session, and is kept out of the admin
// until its role may use it. Then every screen is walked and photographed, and the weight of the
// first load is measured.
//
// Pages get the strict Content-Security-Policy of harness.mjs; a script error, a CSP violation
// or a server string run as script fails the test it happens in.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import {
	RUN, XSS, TIMEOUT, sql, makeRunner, assert, newPage, checkPage, shot, login,
	setPassword, loggedIn, userReady, adminShows,
} from './harness.mjs';

const { test, run } = makeRunner();
const DESKTOP = { width: 1280, height: 900 };
const ADMIN_PASSWORD = `Admin-${randomBytes(8).toString('hex')}`;
const USER_PASSWORD = `Ember-Quartz-${randomBytes(6).toString('hex')}`;

// What the tests make, by name; each later test uses what the earlier ones made.
const made = {
	user: `bt-admin-user-${RUN}`,
	group: `bt-admin-group-${RUN}`,
	provider: `bt-admin-provider-${RUN}`,
	app: `bt-admin-app-${RUN}`,
	appSlug: `bt-admin-app-${RUN}`,
	otherGroup: `bt-admin-other-${RUN}`,
	otherApp: `bt-admin-hidden-${RUN}`,
	policy: `bt-admin-policy-${RUN}`,
	userId: null,
};

function setup() {
	setPassword('akadmin', ADMIN_PASSWORD);
}

const nav = (page) => page.getByRole('navigation', { name: 'Admin navigation' });

// Opens a screen from the sidebar, as a user does, and waits for its heading.
async function open(page, link, heading = link) {
	await nav(page).getByRole('link', { name: link, exact: true }).click();
	await adminShows(page, heading, link);
}

async function adminLogin(t, viewport = DESKTOP) {
	const page = await loggedIn(t, 'akadmin', ADMIN_PASSWORD, '/if/admin/', viewport);
	await adminShows(page, 'Overview', 'dashboard');
	return page;
}

function dialog(page, name) {
	return page.getByRole('dialog', { name });
}

// Picks one row in a searching picker (a combobox with a listbox of results).
async function pick(scope, label, text) {
	const box = scope.getByRole('combobox', { name: label });
	await box.fill(text);
	await scope.getByRole('option', { name: new RegExp(text) }).first().click();
}

// Chooses the option of a select whose text names it, once the choices have loaded.
async function chooseOption(select, text) {
	const option = select.locator('option', { hasText: text }).first();
	await option.waitFor({ state: 'attached' });
	await select.selectOption(await option.getAttribute('value'));
}

function needs(key) {
	assert(made[key], `this test needs the ${key} an earlier test makes`);
	return made[key];
}

// --- 1. log in and see the dashboard ----------------------------------------------------------------

test('akadmin logs in through the flow and sees the dashboard', async (t) => {
	const page = await newPage(t, DESKTOP);
	await login(page, 'akadmin', ADMIN_PASSWORD, '/if/admin/');
	await page.waitForURL((u) => u.pathname === '/if/admin/');
	await adminShows(page, 'Overview', 'dashboard');
	assert(await nav(page).isVisible(), 'no admin navigation');
	const logins = page.getByRole('region', { name: 'Logins' });
	await logins.locator('svg.cu-chart, table').first().waitFor({ state: 'attached' });
	const caption = await logins.locator('table caption').innerText();
	assert(/Logins and failed logins per day/.test(caption), `the chart's table reads "${caption}"`);
	const events = page.getByRole('region', { name: 'Recent events' });
	await events.getByRole('link', { name: 'All events' }).waitFor();
	const rows = await events.locator('tbody tr').count();
	assert(rows > 0, 'no recent events on the dashboard (akadmin just logged in)');
	const text = await events.innerText();
	assert(/login/.test(text), `recent events do not show the login: ${text.slice(0, 300)}`);
	await page.waitForFunction(() => /^Overview - \S/.test(document.title));
	await checkPage(page, 'dashboard');
	await shot(page, 'admin-dashboard');
});

// --- 2. create a user, a group, a provider, an application, a binding -----------------------

test('create user, group, provider, application and binding through the screens', async (t) => {
	const page = await adminLogin(t);

	// The user, then its password.
	await open(page, 'Users');
	await page.getByRole('button', { name: 'Create', exact: true }).click();
	let d = dialog(page, 'Create User');
	await d.getByLabel('Username').fill(made.user);
	await d.getByRole('textbox', { name: 'Name', exact: true }).fill(`Test ${XSS}`);
	await d.getByLabel('Email').fill(`${made.user}@example.com`);
	await d.getByRole('button', { name: 'Create', exact: true }).click();
	await page.getByRole('heading', { level: 1, name: made.user }).waitFor();
	const urow = sql(`SELECT id, name, is_active, type FROM users WHERE username = :'u';`, { u: made.user });
	assert(urow.length === 1, `the user ${made.user} is not in PostgreSQL`);
	const [uid, uname, active, utype] = urow[0].split('|');
	assert(uname === `Test ${XSS}` && active === 't' && utype === 'internal', `the user row reads ${urow[0]}`);
	made.userId = uid;
	assert(new URL(page.url()).hash === `#/core/users/${uid}`, `after create the page is ${page.url()}`);

	await page.getByRole('button', { name: 'Set password' }).click();
	d = dialog(page, `Set password of ${made.user}`);
	await d.getByRole('textbox', { name: 'New password', exact: true }).fill(USER_PASSWORD);
	await d.getByLabel('Repeat the new password').fill(USER_PASSWORD);
	await d.getByRole('button', { name: 'Set password' }).click();
	await d.waitFor({ state: 'detached' });
	const pw = sql(`SELECT password FROM users WHERE id = :'id';`, { id: uid })[0] || '';
	assert(pw !== '' && !pw.includes(USER_PASSWORD), 'the password was not stored (hashed)');
	await checkPage(page, 'user detail');
	await shot(page, 'admin-user-detail');

	// The group and its member.
	await open(page, 'Groups');
	await page.getByRole('button', { name: 'Create', exact: true }).click();
	d = dialog(page, 'Create Group');
	await d.getByRole('textbox', { name: 'Name', exact: true }).fill(made.group);
	await d.getByRole('button', { name: 'Create', exact: true }).click();
	await page.getByRole('heading', { level: 1, name: made.group }).waitFor();
	assert(sql(`SELECT count(*) FROM groups WHERE name = :'g';`, { g: made.group })[0] === '1',
	    `the group ${made.group} is not in PostgreSQL`);
	await page.getByRole('tab', { name: 'Members' }).click();
	await page.getByRole('button', { name: 'Add member' }).click();
	d = dialog(page, `Add member to ${made.group}`);
	await pick(d, 'Users', made.user);
	await d.getByRole('list', { name: 'Selected Users' }).getByText(made.user).waitFor();
	await d.getByRole('button', { name: 'Add', exact: true }).click();
	await d.waitFor({ state: 'detached' });
	await page.getByRole('tabpanel').getByRole('link', { name: made.user }).waitFor();
	assert(sql(`SELECT count(*) FROM group_users gu JOIN groups g ON g.uuid = gu.group_uuid
		WHERE g.name = :'g' AND gu.user_id = :'id';`, { g: made.group, id: uid })[0] === '1',
	    'the membership is not in PostgreSQL');

	// The OAuth2 provider.
	await open(page, 'Providers');
	await page.getByRole('button', { name: 'Create', exact: true }).click();
	d = dialog(page, 'Create Provider');
	await d.getByRole('button', { name: /OAuth2\/OpenID Provider/ }).click();
	await d.getByRole('textbox', { name: 'Name', exact: true }).fill(made.provider);
	await chooseOption(d.getByLabel('Authorization flow'), 'default-provider-authorization-implicit-consent');
	await chooseOption(d.getByLabel('Invalidation flow'), 'default-provider-invalidation-flow');
	await d.getByLabel('Client type').selectOption('confidential');
	await d.getByLabel('Redirect URIs').fill(JSON.stringify([{ matching_mode: 'strict', url: 'https://rp.example/cb' }]));
	await d.getByRole('button', { name: 'Create', exact: true }).click();
	await page.getByRole('heading', { level: 1, name: made.provider }).waitFor();
	const prow = sql(`SELECT p.id, o.client_type, o.redirect_uris::text, o.client_id FROM providers p
		JOIN oauth2_providers o ON o.provider_id = p.id WHERE p.name = :'n';`, { n: made.provider });
	assert(prow.length === 1, `the provider ${made.provider} is not in PostgreSQL`);
	const [pid, ctype, uris, clientId] = prow[0].split('|');
	assert(ctype === 'confidential' && uris.includes('https://rp.example/cb') && clientId.length > 0,
	    `the provider row reads ${prow[0]}`);
	made.providerId = pid;

	// The application bound to the provider, and the group bound to the application.
	await open(page, 'Applications');
	await page.getByRole('button', { name: 'Create', exact: true }).click();
	d = dialog(page, 'Create Application');
	await d.getByRole('textbox', { name: 'Name', exact: true }).fill(made.app);
	await d.getByLabel('Slug').fill(made.appSlug);
	await pick(d, 'Provider', made.provider);
	await d.getByLabel('Launch URL').fill('https://rp.example/');
	await d.getByRole('button', { name: 'Create', exact: true }).click();
	await page.getByRole('heading', { level: 1, name: made.app }).waitFor();
	const arow = sql(`SELECT uuid, provider_id FROM applications WHERE slug = :'s';`, { s: made.appSlug });
	assert(arow.length === 1 && arow[0].split('|')[1] === pid, `the application row reads ${arow[0]}`);
	made.appUuid = arow[0].split('|')[0];

	await page.getByRole('tab', { name: 'Policy / Group / User Bindings' }).click();
	await page.getByText('Nothing is bound').waitFor();
	await page.getByRole('button', { name: 'Bind group' }).click();
	d = dialog(page, 'Bind group');
	await pick(d, 'Group', made.group);
	await d.getByRole('button', { name: 'Bind', exact: true }).click();
	await d.waitFor({ state: 'detached' });
	await page.getByRole('tabpanel').getByRole('cell', { name: `Group ${made.group}`, exact: true }).waitFor();
	const brow = sql(`SELECT count(*) FROM policy_bindings b JOIN groups g ON g.uuid = b.group_uuid
		WHERE g.name = :'g' AND b.target = :'t' AND b.enabled;`, { g: made.group, t: made.appUuid });
	assert(brow[0] === '1', 'the group binding is not in PostgreSQL');
	await checkPage(page, 'application bindings');
	await shot(page, 'admin-application-bindings');
});

// --- 3. the audit trail -----------------------------------------------------------------------------

test('the event log lists the creation of each object', async (t) => {
	needs('appUuid');
	const page = await adminLogin(t);
	await open(page, 'Event Logs');
	await page.getByLabel('Action', { exact: true }).selectOption('model_created');
	await adminShows(page, 'Event Logs');
	const search = page.getByRole('searchbox', { name: 'Search Event Logs' });
	for (const [what, term] of [['user', made.user], ['group', made.group], ['provider', made.provider],
		['application', made.app], ['binding', made.appUuid]]) {
		await search.fill(term);
		await page.getByRole('button', { name: 'Search', exact: true }).click();
		await page.waitForFunction((q) => location.hash.includes(`search=${encodeURIComponent(q)}`), term);
		await adminShows(page, 'Event Logs');
		const rows = page.locator('main table.cu-table tbody tr.cu-row');
		await rows.first().waitFor({ timeout: TIMEOUT }).catch(() => {});
		const n = await rows.count();
		assert(n >= 1, `no model_created event found for the ${what} (${term})`);
		const text = await rows.first().innerText();
		assert(/Model Created/.test(text) && /akadmin/.test(text), `the ${what}'s event reads "${text}"`);
		if (what === 'user' || what === 'binding') {
			await rows.first().getByRole('link').first().click();
			await page.getByRole('heading', { level: 1, name: /Model Created by akadmin/ }).waitFor();
			const detail = await page.locator('main').innerText();
			assert(detail.includes(term), `the ${what}'s event detail does not name ${term}`);
			if (what === 'binding')
				assert(detail.includes('policybinding') && detail.includes(`group ${made.group}`),
				    `the binding's event detail does not name the binding of ${made.group}`);
			if (what === 'user') {
				await checkPage(page, 'event detail');
				await shot(page, 'admin-event-detail');
			}
			await page.goBack();
			await adminShows(page, 'Event Logs');
		}
	}
	await checkPage(page, 'events');
});

// --- 4. the new user's library ---------------------------------------------------------------------

test('the new user sees the bound application and not the other one', async (t) => {
	needs('appUuid');
	// A second application, bound to a group the user is not in.
	sql(`INSERT INTO groups (name) VALUES (:'g');
		INSERT INTO applications (name, slug, meta_launch_url) VALUES (:'a', :'a', 'https://hidden.example/');
		INSERT INTO policy_bindings (group_uuid, target, "order")
		SELECT g.uuid, a.uuid, 0 FROM groups g, applications a WHERE g.name = :'g' AND a.slug = :'a';`,
	    { g: made.otherGroup, a: made.otherApp });
	const page = await loggedIn(t, made.user, USER_PASSWORD, '/if/user/', DESKTOP);
	await userReady(page);
	await page.getByRole('heading', { level: 1, name: 'My applications' }).waitFor();
	const tile = page.getByRole('link', { name: made.app });
	await tile.waitFor();
	assert(await tile.getAttribute('href') === 'https://rp.example/', `the tile links to ${await tile.getAttribute('href')}`);
	assert(await page.getByText(made.otherApp).count() === 0, 'an application bound to another group is shown');
	await checkPage(page, 'library');
});

// --- 5. revoke another session ----------------------------------------------------------------------

test('revoking the other session logs it out', async (t) => {
	const uid = needs('userId');
	sql(`DELETE FROM sessions WHERE user_id = :'id';`, { id: uid });
	const a = await loggedIn(t, made.user, USER_PASSWORD, '/if/user/', DESKTOP);
	const b = await loggedIn(t, made.user, USER_PASSWORD, '/if/user/', DESKTOP);
	await userReady(b);
	const before = await b.request.get('/api/v3/core/users/me/');
	assert(before.status() === 200, `the second session cannot use the API (${before.status()})`);
	await userReady(a);
	await a.getByRole('link', { name: 'Settings' }).click();
	await a.getByRole('tab', { name: 'Sessions' }).click();
	const revoke = a.getByRole('button', { name: /^Revoke session/ });
	await a.getByText('This session').waitFor();
	assert(await revoke.count() === 2, `${await revoke.count()} sessions listed, expected 2`);
	const other = a.getByRole('button', { name: /^Revoke session (?!.*this session)/ });
	await other.click();
	const confirm = a.getByRole('alertdialog', { name: 'Revoke session?' });
	await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
	await a.getByText('Session revoked').first().waitFor();
	await a.waitForFunction(() => document.querySelectorAll('button[aria-label^="Revoke session"]').length === 1);
	const after = await b.request.get('/api/v3/core/users/me/');
	assert(after.status() === 401 || after.status() === 403, `the revoked session still gets ${after.status()}`);
	const still = await a.request.get('/api/v3/core/users/me/');
	assert(still.status() === 200, `the session that revoked lost its own (${still.status()})`);
	await checkPage(a, 'sessions');
});

// --- 6. access to the admin interface --------------------------------------------------------------

test('a user without the permission is denied; with it the admin opens, the API still checks', async (t) => {
	const uid = needs('userId');
	const page = await loggedIn(t, made.user, USER_PASSWORD, '/if/user/', DESKTOP);
	await userReady(page);
	assert(await page.getByRole('link', { name: 'Admin interface' }).count() === 0, 'the user interface offers the admin');
	await page.goto('/if/admin/');
	await page.getByRole('heading', { level: 1, name: 'Access denied' }).waitFor();
	assert(await nav(page).count() === 0, 'the admin navigation is shown to a user without access');
	assert(await page.getByRole('link', { name: 'Go to the user interface' }).isVisible(), 'no way back');
	await checkPage(page, 'access denied');

	const role = `bt-admin-role-${RUN}`;
	sql(`INSERT INTO roles (name) VALUES (:'r');
		INSERT INTO role_users (role_uuid, user_id) SELECT uuid, :'id' FROM roles WHERE name = :'r';
		INSERT INTO role_permissions (role_uuid, permission_id)
		SELECT r.uuid, p.id FROM roles r, permissions p
		WHERE r.name = :'r' AND p.app_label = 'authentik_rbac' AND p.codename = 'access_admin_interface';`,
	    { r: role, id: uid });
	await page.reload();
	await nav(page).waitFor();
	// The list holds only what the user may see (nothing); an object and a create are refused.
	await nav(page).getByRole('link', { name: 'Users', exact: true }).click();
	await adminShows(page, 'Users', 'users list of a limited admin');
	await page.getByText('No objects yet.').waitFor();
	assert(await page.locator('main tbody tr.cu-row').count() === 0, 'users listed without the permission');
	const refused = /You do not have permission to perform this action/;
	await page.getByRole('button', { name: 'Create', exact: true }).click();
	const d = dialog(page, 'Create User');
	await d.getByLabel('Username').fill(`${made.user}-not-made`);
	await d.getByRole('button', { name: 'Create', exact: true }).click();
	const formAlert = d.getByRole('alert');
	await formAlert.filter({ hasText: refused }).waitFor();
	await shot(page, 'admin-limited-create-refused');
	await d.getByRole('button', { name: 'Cancel' }).click();
	assert(sql(`SELECT count(*) FROM users WHERE username = :'u';`, { u: `${made.user}-not-made` })[0] === '0',
	    'a user was made without the permission');
	const adminId = sql(`SELECT id FROM users WHERE username = 'akadmin';`)[0];
	await page.goto(`/if/admin/#/core/users/${adminId}`);
	const alert = page.locator('main').getByRole('alert');
	await alert.filter({ hasText: refused }).waitFor();
	assert(/Could not load User/.test(await page.locator('main h1').innerText()), 'the refused user page has no heading saying so');
	await checkPage(page, 'limited admin');
	await shot(page, 'admin-limited-users');
});

// --- 7. policy test -----------------------------------------------------------------------------------

test('an expression policy passes its test', async (t) => {
	sql(`WITH p AS (INSERT INTO policies (name, type) VALUES (:'n', 'expressionpolicy') RETURNING policy_uuid)
		INSERT INTO expression_policies (policy_uuid, expression) SELECT policy_uuid, :'e' FROM p;`,
	    { n: made.policy, e: 'ak_message("hello from the test")\nreturn true' });
	const page = await adminLogin(t);
	await open(page, 'Policies');
	const search = page.getByRole('searchbox', { name: 'Search Policies' });
	await search.fill(made.policy);
	await search.press('Enter');
	await page.getByRole('link', { name: made.policy }).click();
	await page.getByRole('heading', { level: 1, name: made.policy }).waitFor();
	await page.getByRole('button', { name: 'Test', exact: true }).click();
	const d = dialog(page, `Test ${made.policy}`);
	await pick(d, 'User', 'akadmin');
	await d.getByRole('button', { name: 'Test', exact: true }).click();
	await d.getByText('Passing', { exact: true }).waitFor();
	const text = await d.innerText();
	assert(text.includes('hello from the test'), `the test result reads "${text.slice(0, 400)}"`);
	await shot(page, 'admin-policy-test');
});

// --- 8. every screen --------------------------------------------------------------------------------

const SCREENS = [
	['Users', 'admin-users'], ['Groups', 'admin-groups'], ['Applications', 'admin-applications'],
	['Providers', 'admin-providers'], ['Flows', 'admin-flows'], ['Stages', 'admin-stages'],
	['Policies', 'admin-policies'], ['Property Mappings', 'admin-property-mappings'],
	['Certificates', 'admin-certificates'], ['Brands', 'admin-brands'], ['Tokens', 'admin-tokens'],
	['Event Logs', 'admin-events'], ['Notification Rules', 'admin-notification-rules'],
	['Notification Transports', 'admin-transports'], ['Tasks', 'admin-system-tasks'], ['Roles', 'admin-roles'],
];

test('every sidebar link shows its page; screenshots of the main screens', async (t) => {
	const page = await adminLogin(t);
	const links = await nav(page).locator('a.cu-nav-link[data-route]').evaluateAll((as) =>
		as.map((a) => ({ title: a.textContent.trim(), href: a.getAttribute('href') })));
	assert(links.length >= 20, `only ${links.length} sidebar links`);
	const shotOf = new Map(SCREENS);
	for (const name of shotOf.keys())
		assert(links.some((l) => l.title === name), `no sidebar link "${name}" (links: ${links.map((l) => l.title).join(', ')})`);
	for (const { title } of links) {
		await open(page, title, title);
		await checkPage(page, title);
		if (shotOf.has(title))
			await shot(page, shotOf.get(title));
	}

	// Detail pages.
	await open(page, 'Providers');
	if (made.provider && made.providerId) {
		await page.goto(`/if/admin/#/providers/all/${made.providerId}`);
		await page.getByRole('heading', { level: 1, name: made.provider }).waitFor();
		await page.getByRole('tab', { name: 'Setup URLs' }).click();
		const tokenUrl = page.getByRole('textbox', { name: 'Token URL' });
		await tokenUrl.waitFor();
		assert(/\/application\/o\/token\/$/.test(await tokenUrl.inputValue()), `token URL ${await tokenUrl.inputValue()}`);
		await checkPage(page, 'provider detail');
		await shot(page, 'admin-provider-setup-urls');
	}
	await page.goto('/if/admin/#/flows/instances/default-authentication-flow');
	await page.getByRole('heading', { level: 1 }).filter({ hasText: /\S/ }).first().waitFor();
	await page.getByRole('tab', { name: 'Stage Bindings' }).click();
	await page.getByRole('tabpanel').getByText('default-authentication-password').first().waitFor();
	await checkPage(page, 'flow detail');
	await shot(page, 'admin-flow-stage-bindings');
});

test('360 px: dashboard, users list, library and settings', async (t) => {
	const page = await adminLogin(t, { width: 360, height: 780 });
	await checkPage(page, 'dashboard at 360 px');
	await shot(page, 'admin-dashboard-360');
	const menu = page.getByRole('button', { name: 'Menu' });
	assert(await menu.isVisible(), 'no Menu button at 360 px');
	assert(!(await nav(page).getByRole('link', { name: 'Users', exact: true }).isVisible()), 'the sidebar is open at 360 px');
	await menu.click();
	await nav(page).getByRole('link', { name: 'Users', exact: true }).click();
	await adminShows(page, 'Users', 'users at 360 px');
	await checkPage(page, 'users at 360 px');
	await shot(page, 'admin-users-360');
});

test('user interface screenshots: library and every settings tab, desktop and 360 px', async (t) => {
	needs('userId');
	for (const viewport of [DESKTOP, { width: 360, height: 780 }]) {
		const suffix = viewport.width === 360 ? '-360' : '';
		const page = await loggedIn(t, made.user, USER_PASSWORD, '/if/user/', viewport);
		await userReady(page);
		await page.getByRole('link', { name: made.app }).waitFor();
		await checkPage(page, `library${suffix}`);
		await shot(page, `user-library${suffix}`);
		await page.getByRole('link', { name: 'Settings' }).click();
		await userReady(page);
		for (const tab of ['Profile', 'Password', 'Sessions', 'Consents', 'Tokens and app passwords']) {
			await page.getByRole('tab', { name: tab, exact: true }).click();
			await page.getByRole('tabpanel').getByRole('heading', { level: 2, name: tab, exact: true }).waitFor();
			await page.getByRole('tabpanel').getByText('Loading…').waitFor({ state: 'detached' });
			await checkPage(page, `settings ${tab}${suffix}`);
			await shot(page, `user-settings-${tab.split(' ')[0].toLowerCase()}${suffix}`);
		}
	}
});

// --- 9. page weight -------------------------------------------------------------------------------------

test('page weight of the first admin load', async (t) => {
	const first = await adminLogin(t);
	const cookies = await first.context().cookies();
	const page = await newPage(t, DESKTOP);
	await page.context().addCookies(cookies);
	const seen = [];
	page.on('response', (r) => {
		const type = r.request().resourceType();
		if (type === 'script' || type === 'stylesheet' || /\.(m?js|css)(\?|$)/.test(new URL(r.url()).pathname))
			seen.push(r);
	});
	await page.goto('/if/admin/');
	await adminShows(page, 'Overview', 'dashboard');
	await page.waitForLoadState('networkidle');
	let raw = 0;
	let gz = 0;
	const encodings = new Set();
	for (const r of seen) {
		const body = await r.body();
		raw += body.length;
		gz += gzipSync(body, { level: 9 }).length;
		encodings.add(r.headers()['content-encoding'] || 'identity');
	}
	const kib = (n) => (n / 1024).toFixed(1);
	console.log(`admin first load: ${seen.length} files, ${kib(raw)} KiB raw, ${kib(gz)} KiB gzip` +
		` (router content-encoding: ${[...encodings].join(', ')})`);
	assert(seen.length > 0, 'no JS or CSS loaded');
	assert(gz / 1024 < 300, `the first load is ${kib(gz)} KiB compressed, more than 300 KiB`);
});

process.exitCode = await run(setup);
