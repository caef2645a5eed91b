// Browser tests of the user interface (/if/user/) on its own, against a running stack (see
// run.sh): a plain user made with psql searches its applications, sees hostile application data
// as text, reads and clears notifications, makes and deletes a token and an app password,
// revokes a consent, changes its password through the password-change flow, and gets around by
// keyboard. Pages get the strict Content-Security-Policy of harness.mjs.
import { randomBytes } from 'node:crypto';

import {
	RUN, XSS, sql, createUser, makeRunner, assert, newPage, checkPage, shot, login,
	loggedIn, userReady,
} from './harness.mjs';

const { test, run } = makeRunner();
const DESKTOP = { width: 1280, height: 900 };
const USERNAME = `bt-user-${RUN}`;
const NAME = `Ursula ${XSS}`;
let password = `Lantern-Orbit-${randomBytes(6).toString('hex')}`;
const JS_URL = 'javascript:window.__xss=1';
const APPS = {
	alpha: { name: `bt-lib-alpha-${RUN}`, launch: 'https://alpha.example/', description: `Alpha wiki ${RUN}` },
	beta: { name: `bt-lib-beta-${RUN}`, launch: 'https://beta.example/', publisher: `Beta Corp ${RUN}` },
	evil: { name: `bt-lib-evil-${RUN} ${XSS}`, slug: `bt-lib-evil-${RUN}`, launch: JS_URL, icon: JS_URL },
};
let userId = null;

function setup() {
	userId = createUser(USERNAME, password, { name: NAME });
	for (const app of Object.values(APPS)) {
		sql(`INSERT INTO applications (name, slug, meta_launch_url, meta_icon, meta_description, meta_publisher)
			VALUES (:'n', :'s', :'l', :'i', :'d', :'p');`,
		    { n: app.name, s: app.slug || app.name, l: app.launch, i: app.icon || '', d: app.description || '',
		      p: app.publisher || '' });
	}
}

const asUser = (t, viewport = DESKTOP) => loggedIn(t, USERNAME, password, '/if/user/', viewport);

async function settingsTab(page, tab) {
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
	await userReady(page);
	await page.getByRole('tab', { name: tab, exact: true }).click();
	const panel = page.getByRole('tabpanel');
	await panel.getByRole('heading', { level: 2, name: tab, exact: true }).waitFor();
	await panel.getByText('Loading…').waitFor({ state: 'detached' });
	return panel;
}

// Every href and src in the page uses http(s), a same-origin path, a fragment or data:image.
async function urlsAreSafe(page, what) {
	const bad = await page.evaluate(() => [...document.querySelectorAll('[href], [src]')]
		.map((e) => e.getAttribute('href') || e.getAttribute('src'))
		.filter((u) => !/^(https?:|\/|#|data:image\/)/i.test(u)));
	assert(bad.length === 0, `${what}: unsafe URLs in the page: ${bad.join(', ')}`);
}

test('library: who is logged in, search, hostile application data stays text', async (t) => {
	const page = await asUser(t);
	await userReady(page);
	const banner = await page.getByRole('banner').innerText();
	assert(banner.includes(`Ursula ${XSS}`), `the header does not show the name as text: "${banner}"`);
	assert(await page.getByRole('link', { name: 'Log out' }).getAttribute('href') === '/flows/-/default/invalidation/',
	    'no log out link');
	await page.getByRole('heading', { level: 1, name: 'My applications' }).waitFor();
	const alpha = page.getByRole('link', { name: APPS.alpha.name });
	await alpha.waitFor();
	assert(await alpha.getAttribute('href') === APPS.alpha.launch, `alpha links to ${await alpha.getAttribute('href')}`);

	// The hostile one: its name as text, no link, no icon from a javascript: URL.
	const evil = page.locator('li.cu-app-tile', { hasText: `bt-lib-evil-${RUN}` });
	await evil.waitFor();
	const evilText = await evil.innerText();
	assert(evilText.includes(XSS), `the hostile name is not shown as text: "${evilText}"`);
	assert(await evil.getByRole('link').count() === 0, 'an application with a javascript: launch URL is linked');
	assert(await evil.locator('img').count() === 0, 'an icon was made from a javascript: URL');
	assert(/No launch URL/.test(evilText), `the hostile tile reads "${evilText}"`);
	await urlsAreSafe(page, 'library');

	// Search over name, description and publisher.
	const search = page.getByRole('searchbox', { name: 'Search' });
	await search.fill(`Beta Corp ${RUN}`);
	await page.getByRole('link', { name: APPS.beta.name }).waitFor();
	assert(await page.getByRole('link', { name: APPS.alpha.name }).count() === 0, 'the search did not hide alpha');
	await page.getByText(/^1 of \d+ applications$/).waitFor();
	await search.fill(`Alpha wiki ${RUN}`);
	await alpha.waitFor();
	assert(await page.locator('li.cu-app-tile').count() === 1, 'a description search shows more than its application');
	await search.fill(`nothing-matches-${RUN}`);
	await page.getByText(`No applications match “nothing-matches-${RUN}”.`).waitFor();
	await search.fill('');
	await evil.waitFor();
	await checkPage(page, 'library');
	await shot(page, 'user-library-search');
});

test('notifications: the count, and mark as read', async (t) => {
	sql(`INSERT INTO notifications (severity, body, user_id, hyperlink, hyperlink_label, created)
		VALUES ('warning', :'b1', :'u', :'js', 'Do not follow', now() - interval '1 minute'),
		       ('notice', :'b2', :'u', 'https://docs.example/', 'Read more', now());`,
	    { b1: `First ${XSS}`, b2: `Second note ${RUN}`, u: userId, js: JS_URL });
	const page = await asUser(t);
	await userReady(page);
	const bell = page.getByRole('button', { name: 'Notifications, 2 unread' });
	await bell.waitFor();
	await bell.click();
	const drawer = page.getByRole('complementary', { name: 'Notifications' });
	await drawer.getByText(`Second note ${RUN}`).waitFor();
	const text = await drawer.innerText();
	assert(text.includes(`First ${XSS}`), `a notification body is not text: "${text}"`);
	assert(await drawer.getByRole('link', { name: 'Do not follow' }).count() === 0, 'a javascript: hyperlink was linked');
	assert(await drawer.getByRole('link', { name: 'Read more' }).getAttribute('href') === 'https://docs.example/',
	    'the notification link is missing');
	await checkPage(page, 'notifications');
	await shot(page, 'user-notifications');
	const item = drawer.locator('li', { hasText: `Second note ${RUN}` });
	await item.getByRole('button', { name: 'Mark as read' }).click();
	await page.getByRole('button', { name: 'Notifications, 1 unread' }).waitFor();
	const unseen = sql(`SELECT body FROM notifications WHERE user_id = :'u' AND NOT seen;`, { u: userId });
	assert(unseen.length === 1 && unseen[0].startsWith('First'), `unread after marking: ${unseen.join(', ')}`);
	await drawer.getByRole('button', { name: 'Mark all as read' }).click();
	await page.getByRole('button', { name: 'Notifications, none unread' }).waitFor();
	assert(sql(`SELECT count(*) FROM notifications WHERE user_id = :'u' AND NOT seen;`, { u: userId })[0] === '0',
	    'notifications left unread after "Mark all as read"');
});

test('tokens and app passwords: the key once, with a copy button; then delete', async (t) => {
	const page = await asUser(t);
	await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
	await userReady(page);
	let panel = await settingsTab(page, 'Tokens and app passwords');
	for (const [button, intent, kind, id] of [
		['Create token', 'api', 'API token', `bt-token-${RUN}`],
		['Create app password', 'app_password', 'App password', `bt-app-password-${RUN}`]]) {
		await panel.getByRole('button', { name: button, exact: true }).click();
		const form = page.getByRole('dialog', { name: button });
		await form.getByLabel('Identifier').fill(id);
		await form.getByLabel('Description').fill(`made by the browser test ${XSS}`);
		await form.getByRole('button', { name: 'Create', exact: true }).click();
		const shown = page.getByRole('dialog', { name: `${kind} created` });
		const keyBox = shown.getByRole('textbox', { name: kind });
		await keyBox.waitFor();
		const key = await keyBox.inputValue();
		const row = sql(`SELECT key, intent FROM tokens WHERE identifier = :'i' AND user_id = :'u';`, { i: id, u: userId });
		assert(row.length === 1 && row[0].split('|')[1] === intent, `the ${kind} is not in PostgreSQL: ${row}`);
		assert(key.length >= 16, `the key shown is "${key}"`);
		const stored = row[0].split('|')[0];
		assert(stored === '' || stored === key, 'the key shown is not the key stored');
		await shown.getByRole('button', { name: 'Copy' }).click();
		await shown.getByRole('button', { name: 'Copied' }).waitFor();
		assert(await page.evaluate(() => navigator.clipboard.readText()) === key, 'the copy button did not copy the key');
		await shot(page, `user-${intent}-created`);
		await shown.getByRole('button', { name: 'Done' }).click();
		await shown.waitFor({ state: 'detached' });
		panel = page.getByRole('tabpanel');
		await panel.getByRole('cell', { name: id, exact: true }).waitFor();
		const listed = await page.locator('body').innerText();
		assert(!listed.includes(key), `the ${kind}'s key is still on the page after the dialog`);
		assert(listed.includes(`made by the browser test ${XSS}`), 'the description is not shown as text');
		assert(!(await page.content()).includes(key), `the ${kind}'s key is in the page's DOM`);
	}
	await checkPage(page, 'tokens');
	await shot(page, 'user-tokens-list');
	for (const [kind, id] of [['API token', `bt-token-${RUN}`], ['app password', `bt-app-password-${RUN}`]]) {
		await panel.getByRole('button', { name: `Delete ${kind} ${id}` }).click();
		const confirm = page.getByRole('alertdialog', { name: `Delete ${kind}?` });
		await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
		await page.getByRole('tabpanel').getByRole('cell', { name: id, exact: true }).waitFor({ state: 'detached' });
		assert(sql(`SELECT count(*) FROM tokens WHERE identifier = :'i';`, { i: id })[0] === '0', `${id} is still in PostgreSQL`);
	}
});

test('consents: listed, and revoked', async (t) => {
	sql(`INSERT INTO user_consents (user_id, application, permissions, expiring)
		SELECT :'u', uuid, 'openid profile', false FROM applications WHERE slug = :'s';`,
	    { u: userId, s: APPS.alpha.name });
	const page = await asUser(t);
	await userReady(page);
	const panel = await settingsTab(page, 'Consents');
	const row = panel.getByRole('row', { name: new RegExp(APPS.alpha.name) });
	await row.waitFor();
	const text = await row.innerText();
	assert(/openid, profile/.test(text) && /Never/.test(text), `the consent reads "${text}"`);
	await checkPage(page, 'consents');
	await panel.getByRole('button', { name: `Revoke consent for ${APPS.alpha.name}` }).click();
	await page.getByRole('alertdialog', { name: 'Revoke consent?' }).getByRole('button', { name: 'Revoke', exact: true }).click();
	await page.getByRole('tabpanel').getByText('You have not given consent to any application.').waitFor();
	assert(sql(`SELECT count(*) FROM user_consents WHERE user_id = :'u';`, { u: userId })[0] === '0',
	    'the consent is still in PostgreSQL');
});

test('change password through the password-change flow, then log in with it', async (t) => {
	const page = await asUser(t);
	await userReady(page);
	const panel = await settingsTab(page, 'Password');
	const link = panel.getByRole('link', { name: 'Change password' });
	const href = await link.getAttribute('href');
	assert(/^\/(if\/flow|flows\/-\/configure)\/[^/]+\/\?next=/.test(href), `Change password leads to ${href}`);
	await link.click();
	await page.waitForSelector('#ak-flow[data-component="ak-stage-prompt"] #ak-flow-card[aria-busy="false"]');
	const fresh = `Harbor-Violet-${randomBytes(6).toString('hex')}`;
	await page.getByLabel(/^Password\s*\*?$/).fill(fresh);
	await page.getByLabel(/^Password \(repeat\)/).fill(fresh);
	await page.getByLabel(/^Password \(repeat\)/).press('Enter');
	await page.waitForURL((u) => u.pathname === '/if/user/');
	await userReady(page);
	await page.getByRole('heading', { level: 2, name: 'Password' }).waitFor();
	const old = password;
	password = fresh;

	// The new password logs in; the old one does not.
	const again = await asUser(t);
	await userReady(again);
	const me = await (await again.request.get('/api/v3/core/users/me/')).json();
	assert(me.user && me.user.username === USERNAME, 'the new password did not log in');
	const wrong = await newPage(t, DESKTOP);
	await login(wrong, USERNAME, old);
	await wrong.waitForSelector('#ak-flow[data-component="ak-stage-password"] #ak-flow-card[aria-busy="false"] [aria-invalid="true"]');
});

test('logged out: a way to log in', async (t) => {
	const page = await newPage(t, { width: 360, height: 780 });
	await page.goto('/if/user/#/settings');
	await userReady(page);
	await page.getByRole('heading', { level: 1, name: 'Not logged in' }).waitFor();
	const href = await page.getByRole('link', { name: 'Log in' }).getAttribute('href');
	assert(href === `/flows/-/default/authentication/?next=${encodeURIComponent('/if/user/#/settings')}`, `log in link ${href}`);
	assert(await page.getByRole('link', { name: 'Log out' }).count() === 0, 'Log out offered when logged out');
	await checkPage(page, 'logged out');
	await shot(page, 'user-logged-out-360');
});

test('keyboard: Tab reaches the nav and the settings tabs', async (t) => {
	const page = await asUser(t);
	await userReady(page);
	const focused = () => page.evaluate(() => {
		const e = document.activeElement;
		return { text: (e.textContent || '').trim(), role: e.getAttribute('role'), inNav: !!e.closest('nav'),
			tag: e.tagName };
	});
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	let reached = null;
	for (let i = 0; i < 25 && !reached; i++) {
		await page.keyboard.press('Tab');
		const f = await focused();
		if (f.inNav && f.text === 'Settings')
			reached = f;
	}
	assert(reached, 'Tab never reached the Settings link of the nav');
	await page.keyboard.press('Enter');
	await userReady(page);
	await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
	let tab = null;
	for (let i = 0; i < 10 && !tab; i++) {
		await page.keyboard.press('Tab');
		const f = await focused();
		if (f.role === 'tab')
			tab = f;
	}
	assert(tab && tab.text === 'Profile', `Tab did not reach the selected settings tab (${JSON.stringify(tab)})`);
	await page.keyboard.press('ArrowRight');
	const next = await focused();
	assert(next.role === 'tab' && next.text === 'Password', `ArrowRight moved to ${JSON.stringify(next)}`);
	await page.getByRole('tabpanel').getByRole('link', { name: 'Change password' }).waitFor();
	assert(await page.getByRole('tab', { name: 'Password', exact: true }).getAttribute('aria-selected') === 'true',
	    'the focused tab is not selected');
	assert(new URL(page.url()).hash === '#/settings/password', `the hash is ${new URL(page.url()).hash}`);
});

test('360 px and dark theme', async (t) => {
	const page = await asUser(t, { width: 360, height: 780 });
	await userReady(page);
	await page.getByRole('link', { name: APPS.alpha.name }).waitFor();
	await checkPage(page, 'library at 360 px');
	const toggle = page.getByRole('button', { name: 'Dark theme' });
	assert(await toggle.getAttribute('aria-pressed') === 'false', 'the page starts dark');
	await toggle.click();
	assert(await page.getAttribute('html', 'data-theme') === 'dark', 'the theme did not change');
	assert(await toggle.getAttribute('aria-pressed') === 'true', 'the toggle is not pressed');
	await shot(page, 'user-library-dark-360');
	await settingsTab(page, 'Sessions');
	await checkPage(page, 'settings at 360 px, dark');
	await shot(page, 'user-settings-dark-360');
	await page.reload();
	await userReady(page);
	assert(await page.getAttribute('html', 'data-theme') === 'dark', 'the dark theme was not kept');
	await page.setViewportSize(DESKTOP);
	await shot(page, 'user-settings-dark');
});

process.exitCode = await run(setup);
