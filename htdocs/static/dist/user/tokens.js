/*
 * Settings → "Tokens and app passwords": the user's own API tokens and app passwords
 * (core/tokens/), creating one (its key is shown once, right after), and deleting.
 */
import { api, apiList } from '../common/api.js';
import { h, clear, fmtDate, toast, confirmDialog, openDialog, copyButton } from '../common/dom.js';
import { errorBox, loading, table } from './ui.js';

const ENDPOINT = 'core/tokens/';
const INTENTS = { api: 'API token', app_password: 'App password' };
/* The same, inside a sentence. */
const lower = (kind) => (kind === 'App password' ? 'app password' : kind);

function itemUrl(t, suffix = '') {
	return `${ENDPOINT}${encodeURIComponent(t.identifier)}/${suffix}`;
}

/* 'YYYY-MM-DDTHH:MM' in local time, for datetime-local inputs. */
function localInput(d) {
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

let fieldSeq = 0;

/* A labelled input with a place for its errors. */
function field(label, input, help) {
	const id = input.id || `cu-token-f${++fieldSeq}`;
	input.id = id;
	const err = h('p', { class: 'cu-field-error', id: `${id}-error`, hidden: true });
	const helpNode = help ? h('p', { class: 'cu-help', id: `${id}-help` }, help) : null;
	if (helpNode)
		input.setAttribute('aria-describedby', `${id}-help`);
	const wrap = h('div', { class: 'cu-field' },
		input.type === 'checkbox'
			? h('div', { class: 'cu-check-row' }, input, h('label', { for: id }, label))
			: [h('label', { for: id }, label), input],
		helpNode, err);
	return {
		wrap, input,
		setError(msgs) {
			if (msgs && msgs.length) {
				err.textContent = msgs.join(' ');
				err.hidden = false;
				input.setAttribute('aria-invalid', 'true');
				input.setAttribute('aria-describedby', [helpNode ? `${id}-help` : '', `${id}-error`].filter(Boolean).join(' '));
			} else {
				err.textContent = '';
				err.hidden = true;
				input.removeAttribute('aria-invalid');
				if (helpNode)
					input.setAttribute('aria-describedby', `${id}-help`);
				else
					input.removeAttribute('aria-describedby');
			}
		},
	};
}

/* After a token is created: its key, once, with a copy button. */
async function showKey(token, kind) {
	let key;
	try {
		const data = await api('GET', itemUrl(token, 'view_key/'));
		key = data && data.key;
	} catch (e) {
		toast(`The ${lower(kind)} was created, but its key could not be read: ${e.message}`, 'error');
		return;
	}
	const input = h('input', { type: 'text', id: 'cu-token-key', class: 'cu-input cu-mono', readonly: true, value: key || '' });
	const done = h('button', { type: 'button', class: 'cu-btn cu-btn-primary' }, 'Done');
	const body = h('div', null,
		h('p', { class: 'cu-alert cu-alert-warn', role: 'note' },
			`Copy the ${lower(kind)} now: it will not be shown again.`),
		h('div', { class: 'cu-field' }, h('label', { for: 'cu-token-key' }, kind), h('div', { class: 'cu-key-row' }, input, copyButton(() => input.value))),
		h('div', { class: 'cu-actions' }, done));
	const d = openDialog(`${kind} created`, body);
	done.addEventListener('click', () => d.close());
	input.focus();
	input.select();
}

function createDialog(intent, ctx, onCreated) {
	const kind = INTENTS[intent];
	const identifier = field('Identifier', h('input', { type: 'text', class: 'cu-input', required: true, autocomplete: 'off', maxlength: '255' }),
		'A unique name for it, used in its URL.');
	const description = field('Description', h('input', { type: 'text', class: 'cu-input', autocomplete: 'off' }));
	const expiring = field('Expires', h('input', { type: 'checkbox', class: 'cu-check', checked: true }),
		intent === 'api' ? 'The server sets the expiry date of an API token.' : null);
	/* An app password may live a day at most; start a little short of that. */
	const expires = field('Expiry date', h('input', { type: 'datetime-local', class: 'cu-input',
		value: localInput(new Date(Date.now() + 23 * 3600 * 1000)) }), 'In your local time.');
	const alert = h('div', { class: 'cu-alert cu-alert-error', role: 'alert', hidden: true });
	const submit = h('button', { type: 'submit', class: 'cu-btn cu-btn-primary' }, 'Create');
	const cancel = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary' }, 'Cancel');
	const fields = { identifier, description, expiring, expires };
	const sync = () => { expires.wrap.hidden = intent === 'api' || !expiring.input.checked; };
	expiring.input.addEventListener('change', sync);
	sync();
	const form = h('form', { class: 'cu-form', novalidate: true },
		alert, identifier.wrap, description.wrap, expiring.wrap, expires.wrap,
		h('div', { class: 'cu-actions' }, cancel, submit));
	const d = openDialog(intent === 'api' ? 'Create token' : 'Create app password', form);
	cancel.addEventListener('click', () => d.close());
	identifier.input.focus();

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		for (const f of Object.values(fields))
			f.setError(null);
		alert.hidden = true;
		const id = identifier.input.value.trim();
		if (!id) {
			identifier.setError(['This field is required.']);
			identifier.input.focus();
			return;
		}
		const body = { identifier: id, intent, description: description.input.value, expiring: expiring.input.checked };
		if (intent !== 'api' && expiring.input.checked && expires.input.value) {
			const when = new Date(expires.input.value);
			if (Number.isNaN(when.getTime())) {
				expires.setError(['Enter a valid date and time.']);
				expires.input.focus();
				return;
			}
			body.expires = when.toISOString();
		}
		submit.disabled = true;
		try {
			const token = await api('POST', ENDPOINT, { body });
			d.close();
			toast(`Created ${lower(kind)} ${token.identifier}`);
			await showKey(token, kind);
			onCreated();
		} catch (e) {
			let shown = false;
			const other = [];
			for (const [name, msgs] of Object.entries(e.fields || {})) {
				if (fields[name]) {
					fields[name].setError(msgs);
					shown = true;
				} else {
					other.push(`${name}: ${msgs.join(' ')}`);
				}
			}
			const top = [...(e.nonField || []), ...other];
			if (!shown && !top.length)
				top.push(e.message);
			if (top.length) {
				alert.textContent = top.join(' ');
				alert.hidden = false;
			}
			const bad = form.querySelector('[aria-invalid="true"]');
			if (bad)
				bad.focus();
		} finally {
			submit.disabled = false;
		}
	});
}

export async function renderTokens(box, ctx) {
	const reload = () => renderTokens(box, ctx);
	clear(box);
	const createToken = h('button', { type: 'button', class: 'cu-btn cu-btn-primary' }, 'Create token');
	const createApp = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary' }, 'Create app password');
	createToken.addEventListener('click', () => createDialog('api', ctx, reload));
	createApp.addEventListener('click', () => createDialog('app_password', ctx, reload));
	const content = h('div', null, loading());
	box.append(h('h2', null, 'Tokens and app passwords'),
		h('p', null, 'API tokens let programs use the API as you; app passwords let applications that cannot use your normal login sign in as you.'),
		h('div', { class: 'cu-toolbar' }, createToken, createApp),
		content);

	let tokens;
	try {
		const { results } = await apiList(ENDPOINT, { user__username: ctx.user.username, ordering: 'identifier', page_size: 100 });
		tokens = results.filter((t) => INTENTS[t.intent] && !t.managed && (t.user === undefined || t.user === ctx.user.pk));
	} catch (e) {
		clear(content);
		content.append(errorBox(`Your tokens could not be loaded: ${e.message}`, reload));
		return;
	}
	if (!ctx.current())
		return;
	clear(content);
	if (!tokens.length) {
		content.append(h('p', { class: 'cu-user-note' }, 'You have no tokens or app passwords.'));
		return;
	}
	const rows = tokens.map((t) => {
		const kind = INTENTS[t.intent];
		const del = h('button', { type: 'button', class: 'cu-btn cu-btn-danger cu-btn-small',
			'aria-label': `Delete ${lower(kind)} ${t.identifier}` }, 'Delete');
		del.addEventListener('click', async () => {
			if (!await confirmDialog(`Delete ${lower(kind)}?`, `${t.identifier} will stop working at once.`))
				return;
			try {
				await api('DELETE', itemUrl(t));
				toast(`Deleted ${lower(kind)} ${t.identifier}`);
				reload();
			} catch (e) {
				toast(`Could not delete ${t.identifier}: ${e.message}`, 'error');
			}
		});
		return [
			h('span', { class: 'cu-mono' }, t.identifier),
			kind,
			t.description || '',
			t.expiring && t.expires ? fmtDate(t.expires) : 'Never',
			del,
		];
	});
	content.append(table('Your tokens and app passwords', ['Identifier', 'Type', 'Description', 'Expires', 'Actions'], rows));
}
