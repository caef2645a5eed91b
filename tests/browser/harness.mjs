// What the browser tests share: the environment run.sh sets, PostgreSQL through psql, users
// with a password custos verifies, a small test runner, pages with a strict
// Content-Security-Policy that record every script error, and the keyboard login.
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const BASE = process.env.CU_BROWSER_BASE;
export const OUT = process.env.CU_BROWSER_OUT || 'build/test-output/browser';
export const CHROMIUM = process.env.CU_BROWSER_CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT = Number(process.env.CU_BROWSER_TIMEOUT_MS || 15000);
export const RUN = randomBytes(4).toString('hex');
export const XSS = '"><img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
// What a deployment may send for the interfaces (and the routers send at least as much).
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

if (!BASE) {
	console.error('browser: CU_BROWSER_BASE is not set; run tests/browser/run.sh STATE_DIR');
	process.exit(2);
}
mkdirSync(OUT, { recursive: true });

// --- PostgreSQL through psql: values go in as psql variables, quoted by psql (:'name') -----

export function sql(query, vars = {}) {
	const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];
	for (const [k, v] of Object.entries(vars))
		args.push('-v', `${k}=${v}`);
	const out = execFileSync('psql', args, { input: query, encoding: 'utf8', timeout: 30000 });
	return out.split('\n').filter((l) => l !== '');
}

// A password hash custos verifies (Django's pbkdf2_sha256 encoding, as a database taken over
// from authentik holds); the login then also goes through the upgrade to argon2id.
export function djangoHash(password) {
	const salt = randomBytes(12).toString('hex');
	const iterations = 20000;
	const dk = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
	return `pbkdf2_sha256$${iterations}$${salt}$${dk}`;
}

export function createUser(username, password, extra = {}) {
	const rows = sql(`INSERT INTO users (username, name, email, type, path, password)
		VALUES (:'u', :'n', :'e', 'internal', 'users', :'p') RETURNING id;`,
	    { u: username, n: extra.name || username, e: extra.email || `${username}@example.com`,
	      p: djangoHash(password) });
	return rows[0];
}

// --- a tiny runner ------------------------------------------------------------------------

export function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

export function slugOf(name) {
	return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

// name (optional) prefixes every result line, the summary and the failure screenshots.
export function makeRunner({ name } = {}) {
	const tag = name ? `${name}: ` : '';
	const tests = [];
	const test = (name, fn) => tests.push({ name, fn });
	// Runs the tests in order; a failed one leaves screenshots of its pages. Returns the exit
	// status: 0 all passed, 1 one failed.
	const run = async (setup) => {
		let failed = 0;
		try {
			if (setup)
				await setup();
		} catch (e) {
			console.error(`${name || 'browser'}: setup failed: ${e.message}`);
			return 1;
		}
		const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
			args: ['--no-sandbox', '--disable-dev-shm-usage'] });
		try {
			for (const tc of tests) {
				const t = { name: tc.name, slug: slugOf(tc.name), browser, pages: [], problems: [], log: [] };
				const started = Date.now();
				let error = null;
				try {
					await tc.fn(t);
				} catch (e) {
					error = e;
				}
				if (!error && t.problems.length > 0)
					error = new Error(t.problems.join('; '));
				if (error) {
					failed += 1;
					console.log(`not ok - ${tag}${tc.name}: ${error.message}`);
					for (const line of t.log)
						console.log(`    ${line}`);
					for (const [i, p] of t.pages.entries())
						await p.screenshot({ path: join(OUT, `${name ? `${name}-` : ''}${t.slug}-failed-${i}.png`), fullPage: true }).catch(() => {});
				} else {
					console.log(`ok - ${tag}${tc.name} (${Date.now() - started} ms)`);
				}
				for (const p of t.pages)
					await p.context().close().catch(() => {});
			}
		} finally {
			await browser.close();
		}
		console.log(`${name || 'browser'}: ${tests.length - failed} of ${tests.length} passed; screenshots in ${OUT}`);
		return failed ? 1 : 0;
	};
	return { test, run };
}

// A page in a fresh context (its own cookies). The interface documents get `csp`; the API and
// assets pass through untouched. Script errors, CSP violations and unexpected dialogs are
// recorded as the test's problems.
export async function newPage(t, { width = 360, height = 780, base = BASE, csp = CSP } = {}) {
	const context = await t.browser.newContext({ viewport: { width, height }, baseURL: base,
		locale: 'en-US' });
	context.setDefaultTimeout(TIMEOUT);
	if (csp) {
		await context.route(/\/if\/[^?#]*(\?[^#]*)?$/, async (route) => {
			if (route.request().resourceType() !== 'document')
				return route.continue();
			const resp = await route.fetch({ maxRedirects: 0 });
			return route.fulfill({ response: resp,
				headers: { ...resp.headers(), 'content-security-policy': csp } });
		});
	}
	const page = await context.newPage();
	page.on('pageerror', (e) => t.problems.push(`uncaught error in the page: ${e.message}`));
	page.on('console', (m) => {
		const text = m.text();
		if (/Content Security Policy/i.test(text))
			t.problems.push(`CSP violation: ${text}`);
		else if (m.type() === 'error')
			t.log.push(`console: ${text}`);
	});
	page.on('dialog', (d) => {
		t.problems.push(`unexpected dialog: ${d.message()}`);
		d.dismiss().catch(() => {});
	});
	t.pages.push(page);
	return page;
}

// Waits until the flow page shows component (and is not waiting for the server).
export async function waitFor(page, component) {
	try {
		await page.waitForSelector(`#ak-flow[data-component="${component}"] #ak-flow-card[aria-busy="false"]`);
	} catch (e) {
		const shown = await page.evaluate(() => {
			const root = document.getElementById('ak-flow');
			const body = document.getElementById('ak-flow-body');
			return root ? `${root.dataset.component}: ${body ? body.innerText.slice(0, 300) : ''}` : document.title;
		}).catch(() => '(page gone)');
		throw new Error(`expected ${component} at ${page.url()}, the page shows ${shown}`);
	}
}

// No server string ran as script and nothing is wider than the viewport.
export async function checkPage(page, what) {
	const width = page.viewportSize().width;
	const state = await page.evaluate(() => ({
		xss: window.__xss === 1,
		scroll: document.documentElement.scrollWidth,
		focus: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null
	}));
	assert(!state.xss, `${what}: a server string ran as script`);
	assert(state.scroll <= width, `${what}: the page is ${state.scroll} px wide at ${width} px`);
	return state;
}

export async function shot(page, name) {
	await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

// Logs in through default-authentication-flow with the keyboard only.
export async function login(page, username, password, next) {
	const q = next ? `?next=${encodeURIComponent(next)}` : '';
	await page.goto(`/if/flow/default-authentication-flow/${q}`);
	await waitFor(page, 'ak-stage-identification');
	const st = await checkPage(page, 'identification');
	assert(st.focus === 'ak-identifier-input', `the username field is not focused (${st.focus})`);
	await page.keyboard.type(username);
	await page.keyboard.press('Enter');
	await waitFor(page, 'ak-stage-password');
	const st2 = await checkPage(page, 'password');
	assert(st2.focus === 'ak-stage-password-input', `the password field is not focused (${st2.focus})`);
	await page.keyboard.type(password);
	await page.keyboard.press('Enter');
}

// --- the admin and user interfaces ---------------------------------------------------------

// Sets the password of an existing user; fails when there is no such user.
export function setPassword(username, password) {
	const rows = sql(`UPDATE users SET password = :'p', is_active = true WHERE username = :'u' RETURNING id;`,
	    { u: username, p: djangoHash(password) });
	assert(rows.length === 1, `there is no user ${username} to set the password of`);
	return rows[0];
}

// A page in a fresh context, logged in through the flow interface and landed on next.
export async function loggedIn(t, username, password, next, opts = {}) {
	const page = await newPage(t, opts);
	await login(page, username, password, next);
	if (next)
		await page.waitForURL((u) => u.pathname === next.split(/[?#]/)[0]);
	return page;
}

// The user interface has rendered its page (its main landmark is no longer busy).
export async function userReady(page) {
	await page.waitForSelector('main#cu-main[aria-busy="false"]');
}

// The admin page shows this h1 and no failed load or error page.
export async function adminShows(page, title, what = title) {
	const main = page.locator('main#cu-main');
	const h1 = main.getByRole('heading', { level: 1 });
	await h1.filter({ hasText: title }).first().waitFor();
	await main.locator('[aria-busy="true"], .cu-spinner').first().waitFor({ state: 'detached', timeout: TIMEOUT }).catch(() => {});
	const heading = (await h1.first().innerText()).trim();
	assert(!/^(Not found|Something went wrong)$/.test(heading), `${what}: the page shows "${heading}"`);
	const errors = await main.locator('.cu-alert-error:visible').allInnerTexts();
	assert(errors.length === 0, `${what}: the page shows an error: ${errors.join(' | ')}`);
}
