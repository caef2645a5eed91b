/*
 * custos flow interface: drives /api/v3/flows/executor/<slug>/ as authentik's flow SPA does.
 *
 * GET returns the current challenge; the answer is POSTed as JSON with its "component"; after a
 * good answer the executor replies 302 to itself and fetch follows it, so the body of every
 * call is the next challenge to render. Server strings reach the page only through
 * textContent, attribute values and URLs checked by safeUrl(): a flow title, a prompt label or
 * an error message is attacker-controlled in the worst case, and none of it is ever parsed as
 * HTML. No inline script or style, so a strict Content-Security-Policy can be applied.
 */
(function () {
	'use strict';

	var EXECUTOR = '/api/v3/flows/executor/';
	var BRAND_URL = '/api/v3/core/brands/current/';
	var DEFAULT_AVATAR = '/static/dist/assets/images/user_default.png';
	var DEFAULT_LOGO = '/static/dist/assets/icons/icon_left_brand.svg';
	var CSRF_COOKIE = 'authentik_csrf';
	var CSRF_HEADER = 'X-authentik-CSRF';
	var REMEMBER_KEY = 'custos-remember-me-username';
	/* Files are sent inline as data URLs; the executor bounds bodies far below this anyway, so
	 * refuse early with a message rather than upload megabytes only to be rejected. */
	var MAX_FILE_BYTES = 2 * 1024 * 1024;
	var MAX_URL_LENGTH = 8192;
	var LAYOUTS = ['stacked', 'content_left', 'content_right', 'sidebar_left', 'sidebar_right',
		'sidebar_left_frame_background', 'sidebar_right_frame_background'];
	var USER_FIELD_LABELS = { email: 'Email', upn: 'UPN', username: 'Username' };
	var LOCALES = [
		['en', 'English'], ['cs-CZ', 'Čeština'], ['de', 'Deutsch'], ['es', 'Español'],
		['fi', 'Suomi'], ['fr', 'Français'], ['it', 'Italiano'], ['ja', '日本語'],
		['ko', '한국어'], ['nl', 'Nederlands'], ['pl', 'Polski'], ['pt-BR', 'Português (Brasil)'],
		['ru', 'Русский'], ['tr', 'Türkçe'], ['zh-Hans', '简体中文'], ['zh-Hant', '繁體中文']
	];

	var state = {
		url: null,         /* the executor URL with ?query= */
		challenge: null,
		brandTitle: 'authentik',
		flowTitle: '',
		busy: false,
		claimed: null,     /* response_errors keys shown next to a field in this render */
		idSeq: 0
	};

	var ui = {};

	/* --- small DOM helpers ------------------------------------------------------------------ */

	/* Builds an element. attrs: "text" sets textContent, "className" the class; other keys are
	 * attributes (true → present, null/undefined/false → absent). Event-handler attributes are
	 * refused outright so that no server string can ever become code. */
	function el(tag, attrs, children) {
		var node = document.createElement(tag);
		var keys = attrs ? Object.keys(attrs) : [];
		var i, k, v;
		for (i = 0; i < keys.length; i++) {
			k = keys[i];
			v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (/^on/i.test(k) || k === 'style' || k === 'srcdoc')
				throw new Error('refused attribute ' + k);
			if (k === 'text')
				node.textContent = String(v);
			else if (k === 'className')
				node.className = v;
			else if (v === true)
				node.setAttribute(k, '');
			else
				node.setAttribute(k, String(v));
		}
		append(node, children);
		return node;
	}

	function append(node, children) {
		var i, c;
		if (!children)
			return node;
		for (i = 0; i < children.length; i++) {
			c = children[i];
			if (c === null || c === undefined || c === false)
				continue;
			node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
		}
		return node;
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	function nextId(prefix) {
		state.idSeq += 1;
		return prefix + '-' + state.idSeq;
	}

	function str(v) {
		return v === null || v === undefined ? '' : String(v);
	}

	function list(v) {
		return Array.isArray(v) ? v : [];
	}

	/* A URL the page may navigate to or link: http(s) only, resolved against this page, so
	 * "javascript:", "data:" and friends from the server are dropped. */
	function safeUrl(u) {
		var parsed;
		if (typeof u !== 'string' || u === '' || u.length > MAX_URL_LENGTH)
			return null;
		try {
			parsed = new URL(u, window.location.href);
		} catch (e) {
			return null;
		}
		if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
			return null;
		return parsed.href;
	}

	/* An image source: http(s), or an inline raster/SVG image (avatars are often data URLs;
	 * an <img> never runs script, whatever it holds). */
	function safeImage(u) {
		if (typeof u === 'string' && u.length <= 1024 * 1024 &&
		    /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(u))
			return u;
		return safeUrl(u);
	}

	function cookie(name) {
		var parts = document.cookie ? document.cookie.split(';') : [];
		var i, p, eq;
		for (i = 0; i < parts.length; i++) {
			p = parts[i].trim();
			eq = p.indexOf('=');
			if (eq > 0 && p.slice(0, eq) === name) {
				try {
					return decodeURIComponent(p.slice(eq + 1));
				} catch (e) {
					return p.slice(eq + 1);
				}
			}
		}
		return null;
	}

	function storageGet(key) {
		try {
			return window.localStorage.getItem(key);
		} catch (e) {
			return null;
		}
	}

	function storageSet(key, value) {
		try {
			if (value === null)
				window.localStorage.removeItem(key);
			else
				window.localStorage.setItem(key, value);
		} catch (e) {
			/* storage disabled: remembering the username is a convenience only */
		}
	}

	/* --- talking to the executor ------------------------------------------------------------ */

	function localError(message, detail) {
		return { component: 'ak-stage-flow-error', error: message, _local: true, _detail: detail };
	}

	/* One executor call; always resolves to a challenge object (a local flow-error one when the
	 * server could not be reached or did not answer with a challenge). */
	async function call(method, body) {
		var headers = { Accept: 'application/json' };
		var init = { method: method, headers: headers, credentials: 'same-origin',
			redirect: 'follow', cache: 'no-store' };
		var csrf = cookie(CSRF_COOKIE);
		var resp, data = null, type, detail;

		if (csrf)
			headers[CSRF_HEADER] = csrf;
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		try {
			resp = await fetch(state.url, init);
		} catch (e) {
			return localError('The server could not be reached. Check your connection and try again.');
		}
		type = resp.headers.get('Content-Type') || '';
		if (/json/i.test(type)) {
			try {
				data = await resp.json();
			} catch (e) {
				data = null;
			}
		}
		if (!resp.ok) {
			if (data && typeof data === 'object' && typeof data.component === 'string')
				return data;
			detail = data && typeof data === 'object' && typeof data.detail === 'string' ?
			    data.detail : null;
			if (resp.status === 404)
				return localError('This flow does not exist.', detail);
			return localError('The server answered with an error (HTTP ' + resp.status + ').', detail);
		}
		if (!data || typeof data !== 'object' || typeof data.component !== 'string')
			return localError('The server sent an answer this page cannot read.');
		return data;
	}

	async function submit(payload) {
		var next, typed;
		if (state.busy)
			return;
		typed = snapshot();
		setBusy(true);
		next = await call('POST', payload);
		render(next);
		/* The same step back with errors: keep what was typed (except secrets and files), as
		 * the server sends the fields again with their initial values only. */
		if (next.component === payload.component && next.response_errors)
			restore(typed);
	}

	function editable(input) {
		return !input.readOnly && input.type !== 'password' && input.type !== 'file' &&
		    input.type !== 'hidden' && !input.classList.contains('ak-hidden-username');
	}

	function snapshot() {
		var out = [], nodes = ui.body.querySelectorAll('input[name], textarea[name], select[name]');
		var i, n;
		for (i = 0; i < nodes.length; i++) {
			n = nodes[i];
			if (!editable(n))
				continue;
			if (n.type === 'checkbox' || n.type === 'radio')
				out.push({ name: n.name, type: n.type, value: n.value, checked: n.checked });
			else
				out.push({ name: n.name, type: n.type, value: n.value });
		}
		return out;
	}

	function restore(typed) {
		var nodes = ui.body.querySelectorAll('input[name], textarea[name], select[name]');
		var i, j, n, t;
		for (i = 0; i < nodes.length; i++) {
			n = nodes[i];
			if (!editable(n))
				continue;
			for (j = 0; j < typed.length; j++) {
				t = typed[j];
				if (t.name !== n.name || t.type !== n.type)
					continue;
				if (n.type === 'radio') {
					if (t.value === n.value)
						n.checked = t.checked;
				} else if (n.type === 'checkbox') {
					n.checked = t.checked;
				} else {
					n.value = t.value;
				}
			}
		}
	}

	function setBusy(busy) {
		var controls, i;
		state.busy = busy;
		ui.card.setAttribute('aria-busy', busy ? 'true' : 'false');
		controls = ui.body.querySelectorAll('button, input[type=submit]');
		for (i = 0; i < controls.length; i++)
			controls[i].disabled = busy;
	}

	/* --- errors ----------------------------------------------------------------------------- */

	function errorsOf(ch, key) {
		var e = ch.response_errors;
		if (!e || typeof e !== 'object' || Array.isArray(e))
			return [];
		return list(e[key]);
	}

	function errorText(e) {
		if (e && typeof e === 'object')
			return str(e.string || e.code);
		return str(e);
	}

	function errorList(id, errors) {
		var ul = el('ul', { id: id, className: 'ak-field-errors' });
		var i;
		for (i = 0; i < errors.length; i++)
			ul.appendChild(el('li', { text: errorText(errors[i]) }));
		return ul;
	}

	/* Errors that no field claimed (non_field_errors, or a key this page showed no input for)
	 * go on top of the form, so that nothing the server said is lost. */
	function topErrors(ch) {
		var e = ch.response_errors, keys, msgs = [], i, j, items, box;
		if (!e || typeof e !== 'object' || Array.isArray(e))
			return null;
		keys = Object.keys(e);
		for (i = 0; i < keys.length; i++) {
			if (keys[i] !== 'non_field_errors' && state.claimed[keys[i]])
				continue;
			items = list(e[keys[i]]);
			for (j = 0; j < items.length; j++) {
				msgs.push(keys[i] === 'non_field_errors' ? errorText(items[j]) :
				    keys[i] + ': ' + errorText(items[j]));
			}
		}
		if (msgs.length === 0)
			return null;
		box = el('div', { className: 'ak-alert ak-alert-danger', role: 'alert',
			id: 'ak-non-field-errors' });
		for (i = 0; i < msgs.length; i++)
			box.appendChild(el('p', { text: msgs[i] }));
		return box;
	}

	/* A labelled form group. control is what goes in the page (the input, or a wrapper
	 * holding it); input is the element the label, help and errors describe. */
	function group(ch, key, labelText, control, input, opts) {
		var o = opts || {};
		var wrap = el('div', { className: 'ak-form-group' });
		var describedBy = [];
		var errs = key ? errorsOf(ch, key) : [];
		var label;

		if (!input.id)
			input.id = nextId('ak-field');
		label = el('label', { for: input.id, className: 'ak-label' }, [labelText]);
		if (o.required)
			label.appendChild(el('span', { className: 'ak-required', 'aria-hidden': 'true', text: ' *' }));
		if (o.labelAfter) {
			wrap.classList.add('ak-form-check');
			append(wrap, [control, label]);
		} else {
			append(wrap, [label, control]);
		}
		if (o.help) {
			wrap.appendChild(el('p', { id: input.id + '-help', className: 'ak-help', text: o.help }));
			describedBy.push(input.id + '-help');
		}
		if (key)
			state.claimed[key] = true;
		if (errs.length > 0) {
			wrap.appendChild(errorList(input.id + '-errors', errs));
			describedBy.push(input.id + '-errors');
			input.setAttribute('aria-invalid', 'true');
		}
		if (describedBy.length > 0)
			input.setAttribute('aria-describedby', describedBy.join(' '));
		return wrap;
	}

	/* A password input, with a show/hide toggle when the stage allows it. */
	function passwordControl(id, name, autocomplete, allowShow) {
		var input = el('input', { id: id, name: name, type: 'password', autocomplete: autocomplete,
			className: 'ak-input', required: true, spellcheck: 'false' });
		var button, wrap;
		if (!allowShow)
			return { control: input, input: input };
		button = el('button', { type: 'button', className: 'ak-button ak-button-plain',
			'aria-controls': id, 'aria-pressed': 'false', text: 'Show password' });
		button.addEventListener('click', function () {
			var shown = input.type === 'password';
			input.type = shown ? 'text' : 'password';
			button.setAttribute('aria-pressed', shown ? 'true' : 'false');
			button.textContent = shown ? 'Hide password' : 'Show password';
			input.focus();
		});
		wrap = el('div', { className: 'ak-input-group' }, [input, button]);
		return { control: wrap, input: input };
	}

	function primaryButton(text, extra) {
		var attrs = { type: 'submit', className: 'ak-button ak-button-primary ak-button-block',
			text: text };
		var k;
		for (k in extra || {})
			attrs[k] = extra[k];
		return el('div', { className: 'ak-form-group ak-form-actions' }, [el('button', attrs)]);
	}

	/* A form for ch whose submit handler POSTs {"component": ..., ...collect(form, submitter)}. */
	function stageForm(ch, collect) {
		var form = el('form', { className: 'ak-form', method: 'post', action: '#' });
		form.addEventListener('submit', async function (ev) {
			var payload = { component: ch.component };
			var extra, k;
			ev.preventDefault();
			if (state.busy)
				return;
			try {
				extra = collect ? await collect(form, ev.submitter || null) : {};
			} catch (err) {
				showFormMessage(form, err && err.message ? err.message : String(err));
				return;
			}
			for (k in extra)
				payload[k] = extra[k];
			submit(payload);
		});
		return form;
	}

	function showFormMessage(form, message) {
		var old = form.querySelector('.ak-client-error');
		var box = el('div', { className: 'ak-alert ak-alert-danger ak-client-error', role: 'alert',
			text: message });
		if (old)
			old.remove();
		form.insertBefore(box, form.firstChild);
	}

	/* "akadmin [avatar] Not you?": who the flow is about. */
	function pendingUser(ch) {
		var avatar, cancel, row;
		if (typeof ch.pending_user !== 'string' || ch.pending_user === '')
			return null;
		avatar = el('img', { className: 'ak-avatar', alt: '', width: '32', height: '32',
			src: safeImage(ch.pending_user_avatar) || DEFAULT_AVATAR });
		row = el('div', { className: 'ak-pending-user' }, [
			avatar, el('span', { className: 'ak-pending-user-name', text: ch.pending_user })
		]);
		cancel = safeUrl(ch.flow_info && ch.flow_info.cancel_url);
		if (cancel)
			row.appendChild(el('a', { href: cancel, className: 'ak-pending-user-cancel', text: 'Not you?' }));
		return row;
	}

	function para(text, className) {
		return el('p', { className: className || null, text: text });
	}

	function link(href, text, className) {
		var u = safeUrl(href);
		if (!u)
			return null;
		return el('a', { href: u, className: className || null, text: text });
	}

	/* --- stage renderers: each fills ui.body (and ui.footer) ------------------------------- */

	function renderIdentification(ch) {
		var fields = list(ch.user_fields).filter(function (f) {
			return typeof f === 'string';
		}).slice().sort();
		var form = stageForm(ch, collectIdentification);
		var remembered = ch.enable_remember_me ? storageGet(REMEMBER_KEY) : null;
		var names, label, input, rememberBox, pw, sources, i, src, footer, enroll, recovery;

		if (typeof ch.application_pre === 'string' && ch.application_pre !== '')
			form.appendChild(para('Log in to continue to ' + ch.application_pre + '.'));
		if (ch.flow_designation === 'recovery')
			form.appendChild(para('Enter the email address or username associated with your account.'));
		if (fields.length === 0) {
			form.appendChild(para('Select one of the options below to continue.'));
		} else {
			names = fields.map(function (f) {
				return USER_FIELD_LABELS[f] || f;
			});
			label = formatOr(names);
			input = el('input', {
				id: 'ak-identifier-input', name: 'uid_field',
				type: fields.length === 1 && fields[0] === 'email' ? 'email' : 'text',
				autocomplete: 'username', spellcheck: 'false', autocapitalize: 'none',
				placeholder: label, className: 'ak-input', required: true, autofocus: true
			});
			input.value = remembered || str(ch.pending_user_identifier);
			form.appendChild(group(ch, 'uid_field', label, input, input, { required: true }));
			if (ch.enable_remember_me) {
				rememberBox = el('input', { type: 'checkbox', id: 'ak-remember-me',
					name: 'remember_me_local', className: 'ak-check' });
				rememberBox.checked = remembered !== null;
				form.appendChild(group(ch, null, 'Remember me on this device', rememberBox,
				    rememberBox, { labelAfter: true }));
			}
			if (ch.password_fields) {
				pw = passwordControl('ak-stage-identification-password', 'password',
				    'current-password', !!ch.allow_show_password);
				form.appendChild(group(ch, 'password', 'Password', pw.control, pw.input, { required: true }));
			}
			form.appendChild(primaryButton(str(ch.primary_action) || 'Log in'));
		}
		if (ch.passwordless_url)
			append(form, [link(ch.passwordless_url, 'Use a security key', 'ak-button ak-button-secondary ak-button-block')]);
		ui.body.appendChild(form);

		sources = list(ch.sources);
		if (sources.length > 0) {
			src = el('fieldset', { className: 'ak-sources' }, [
				el('legend', { className: 'ak-sr-only', text: 'Login sources' })
			]);
			for (i = 0; i < sources.length; i++)
				src.appendChild(sourceButton(sources[i], !!ch.show_source_labels));
			ui.body.appendChild(src);
		}

		enroll = ch.enroll_url ? link(ch.enroll_url, 'Sign up.', null) : null;
		recovery = ch.recovery_url ? link(ch.recovery_url, 'Forgot username or password?', null) : null;
		if (enroll || recovery) {
			footer = el('div', { className: 'ak-footer-band' });
			if (enroll)
				footer.appendChild(el('p', null, ['Need an account? ', enroll]));
			if (recovery)
				footer.appendChild(el('p', null, [recovery]));
			ui.footer.appendChild(footer);
		}
	}

	function collectIdentification(form) {
		var out = {};
		var uid = form.querySelector('#ak-identifier-input');
		var pw = form.querySelector('#ak-stage-identification-password');
		var remember = form.querySelector('#ak-remember-me');
		if (uid) {
			out.uid_field = uid.value;
			if (remember)
				storageSet(REMEMBER_KEY, remember.checked ? uid.value : null);
		}
		if (pw)
			out.password = pw.value;
		return out;
	}

	function formatOr(names) {
		try {
			return new Intl.ListFormat('en', { style: 'short', type: 'disjunction' }).format(names);
		} catch (e) {
			return names.join(' or ');
		}
	}

	/* A source's own challenge (usually xak-flow-redirect to the source's login) is rendered
	 * in place when its button is used, as authentik's page does. */
	function sourceButton(source, showLabel) {
		var name = str(source && source.name);
		var icon = safeImage(source && source.icon_url);
		var b = el('button', { type: 'button', className: 'ak-button ak-button-secondary ak-source',
			'aria-label': 'Continue with ' + name });
		if (icon)
			b.appendChild(el('img', { src: icon, alt: '', width: '20', height: '20' }));
		if (showLabel || !icon || source.promoted)
			b.appendChild(document.createTextNode(source.promoted ? 'Continue with ' + name : name));
		b.addEventListener('click', function () {
			if (source && source.challenge && typeof source.challenge.component === 'string')
				render(source.challenge);
		});
		return b;
	}

	function renderPassword(ch) {
		var form = stageForm(ch, function (f) {
			return { password: f.querySelector('#ak-stage-password-input').value };
		});
		var user = el('input', { type: 'text', name: 'username', autocomplete: 'username',
			className: 'ak-hidden-username', tabindex: '-1', 'aria-hidden': 'true', readonly: true });
		var pw = passwordControl('ak-stage-password-input', 'password', 'current-password',
		    !!ch.allow_show_password);
		var recovery;

		user.value = str(ch.pending_user);
		append(form, [pendingUser(ch), user]);
		pw.input.setAttribute('autofocus', '');
		form.appendChild(group(ch, 'password', 'Password', pw.control, pw.input, { required: true }));
		recovery = ch.recovery_url ? link(ch.recovery_url, 'Forgot password?', 'ak-forgot') : null;
		if (recovery)
			form.appendChild(el('div', { className: 'ak-form-group' }, [recovery]));
		form.appendChild(primaryButton('Continue'));
		ui.body.appendChild(form);
	}

	function permissionList(perms) {
		var ul = el('ul', { className: 'ak-permissions' });
		var i, p;
		for (i = 0; i < perms.length; i++) {
			p = perms[i];
			ul.appendChild(el('li', { text: p && typeof p === 'object' ? str(p.name || p.id) : str(p) }));
		}
		return ul;
	}

	function renderConsent(ch) {
		var perms = list(ch.permissions), extra = list(ch.additional_permissions);
		var form = stageForm(ch, function () {
			return { token: str(ch.token) };
		});
		var cancel = safeUrl(ch.flow_info && ch.flow_info.cancel_url);
		var actions;

		append(form, [pendingUser(ch)]);
		if (typeof ch.header_text === 'string' && ch.header_text !== '')
			form.appendChild(para(ch.header_text, 'ak-consent-header'));
		if (extra.length > 0) {
			if (perms.length > 0) {
				form.appendChild(para('Application already has access to the following permissions:'));
				form.appendChild(permissionList(perms));
			}
			form.appendChild(para('Application requires following new permissions:'));
			form.appendChild(permissionList(extra));
		} else if (perms.length > 0) {
			form.appendChild(para('Application requires following permissions:'));
			form.appendChild(permissionList(perms));
		}
		form.appendChild(el('input', { type: 'hidden', name: 'token', value: str(ch.token) }));
		actions = el('div', { className: 'ak-form-group ak-form-actions ak-actions-row' }, [
			el('button', { type: 'submit', className: 'ak-button ak-button-primary', autofocus: true,
				text: 'Continue' })
		]);
		if (cancel)
			actions.appendChild(el('a', { href: cancel, className: 'ak-button ak-button-secondary', text: 'Cancel' }));
		form.appendChild(actions);
		ui.body.appendChild(form);
	}

	/* --- prompt stage ----------------------------------------------------------------------- */

	function sortedPrompts(ch) {
		return list(ch.fields).filter(function (f) {
			return f && typeof f === 'object' && typeof f.field_key === 'string';
		}).map(function (f, i) {
			return { f: f, i: i };
		}).sort(function (a, b) {
			var oa = Number(a.f.order) || 0, ob = Number(b.f.order) || 0;
			return oa !== ob ? oa - ob : a.i - b.i;
		}).map(function (x) {
			return x.f;
		});
	}

	/* choices: strings, or {"label", "value"} objects; both become {label, value}. */
	function choicesOf(f) {
		return list(f.choices).map(function (c) {
			var v;
			if (c && typeof c === 'object') {
				v = str(c.value !== undefined && c.value !== null ? c.value : c.label);
				return { label: str(c.label !== undefined && c.label !== null ? c.label : v), value: v };
			}
			return { label: str(c), value: str(c) };
		});
	}

	/* A stored date or ISO 8601 date-time ("2024-05-01T10:00:00Z") in the form the date and
	 * datetime-local inputs take; anything else gives an empty field. */
	function localDate(v, withTime) {
		var m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?/.exec(str(v));
		if (!m)
			return '';
		if (!withTime)
			return m[1];
		return m[2] ? m[1] + 'T' + m[2] : m[1] + 'T00:00';
	}

	function textInput(id, f, type, autocomplete) {
		var input = el('input', { id: id, name: f.field_key, type: type, className: 'ak-input',
			placeholder: f.placeholder ? str(f.placeholder) : null, autocomplete: autocomplete,
			required: !!f.required });
		input.value = str(f.initial_value);
		return input;
	}

	/* One prompt field; returns the page element and registers how to read its value. */
	function promptField(ch, f, readers) {
		var id = nextId('ak-prompt');
		var key = f.field_key, type = str(f.type), help = f.sub_text ? str(f.sub_text) : null;
		var req = !!f.required, label = str(f.label) || key;
		var input, control, box, choices, i, opt, fs, radio, rid, pw, sel;

		switch (type) {
		case 'separator':
			return el('div', { className: 'ak-separator', role: 'separator' },
			    [f.initial_value ? el('span', { text: str(f.initial_value) }) : null]);
		case 'static':
			/* authentik renders this as HTML; here it is text, on purpose. */
			return el('p', { className: 'ak-static', text: str(f.initial_value) });
		case 'hidden':
			input = el('input', { type: 'hidden', name: key });
			input.value = str(f.initial_value);
			readers.push(function (out) {
				out[key] = input.value;
			});
			return input;
		case 'text_area':
		case 'text_area_read_only':
			input = el('textarea', { id: id, name: key, className: 'ak-input', rows: '4',
				placeholder: f.placeholder ? str(f.placeholder) : null, required: req,
				readonly: type === 'text_area_read_only' });
			input.value = str(f.initial_value);
			break;
		case 'text_read_only':
			input = textInput(id, f, 'text', 'off');
			input.readOnly = true;
			input.required = false;
			break;
		case 'username':
			input = textInput(id, f, 'text', 'username');
			input.setAttribute('autocapitalize', 'none');
			input.setAttribute('spellcheck', 'false');
			break;
		case 'email':
			input = textInput(id, f, 'email', 'email');
			break;
		case 'password':
			pw = passwordControl(id, key, 'new-password', false);
			pw.input.required = req;
			if (f.placeholder)
				pw.input.setAttribute('placeholder', str(f.placeholder));
			readers.push(function (out) {
				out[key] = pw.input.value;
			});
			return group(ch, key, label, pw.control, pw.input, { required: req, help: help });
		case 'number':
			input = textInput(id, f, 'number', 'off');
			readers.push(function (out) {
				var v = input.value, n = Number(v);
				if (v === '')
					return;
				out[key] = v.trim() !== '' && isFinite(n) ? n : v;
			});
			return group(ch, key, label, input, input, { required: req, help: help });
		case 'checkbox':
			input = el('input', { id: id, name: key, type: 'checkbox', className: 'ak-check', required: req });
			input.checked = f.initial_value === true || /^(true|on|1|yes)$/i.test(str(f.initial_value));
			readers.push(function (out) {
				out[key] = input.checked;
			});
			return group(ch, key, label, input, input, { required: req, help: help, labelAfter: true });
		case 'radio-button-group':
			choices = choicesOf(f);
			fs = el('fieldset', { className: 'ak-form-group ak-radio-group', id: id },
			    [el('legend', { className: 'ak-label' }, [label,
				req ? el('span', { className: 'ak-required', 'aria-hidden': 'true', text: ' *' }) : null])]);
			for (i = 0; i < choices.length; i++) {
				rid = id + '-' + i;
				radio = el('input', { type: 'radio', id: rid, name: key, className: 'ak-check', required: req });
				radio.value = choices[i].value;
				radio.checked = choices[i].value === str(f.initial_value);
				fs.appendChild(el('div', { className: 'ak-form-check' }, [radio,
					el('label', { for: rid, className: 'ak-label', text: choices[i].label })]));
			}
			state.claimed[key] = true;
			fieldsetExtras(ch, key, fs, id, help);
			readers.push(function (out) {
				var checked = fs.querySelector('input[type=radio]:checked');
				if (checked)
					out[key] = checked.value;
			});
			return fs;
		case 'dropdown':
		case 'ak-locale':
			input = el('select', { id: id, name: key, className: 'ak-input', required: req });
			if (type === 'ak-locale') {
				input.appendChild(el('option', { value: '', text: 'Auto-detect (based on your browser)' }));
				for (i = 0; i < LOCALES.length; i++)
					input.appendChild(el('option', { value: LOCALES[i][0], text: LOCALES[i][1] }));
			} else {
				choices = choicesOf(f);
				if (!req || str(f.initial_value) === '')
					input.appendChild(el('option', { value: '', text: str(f.placeholder) || '—' }));
				for (i = 0; i < choices.length; i++) {
					opt = el('option', { text: choices[i].label });
					opt.value = choices[i].value;
					input.appendChild(opt);
				}
			}
			input.value = str(f.initial_value);
			sel = input;
			readers.push(function (out) {
				out[key] = sel.value;
			});
			return group(ch, key, label, input, input, { required: req, help: help });
		case 'date':
			input = textInput(id, f, 'date', 'off');
			input.value = localDate(f.initial_value, false);
			break;
		case 'date-time':
			input = textInput(id, f, 'datetime-local', 'off');
			input.setAttribute('step', '1');
			input.value = localDate(f.initial_value, true);
			break;
		case 'file':
			input = el('input', { id: id, name: key, type: 'file', className: 'ak-input',
				required: req && !f.initial_value });
			control = input;
			if (f.initial_value) {
				control = el('div', null, [input,
					el('p', { className: 'ak-help', text: 'A file is already set; choose one to replace it.' })]);
			}
			readers.push(async function (out) {
				var file = input.files && input.files[0];
				if (!file)
					return;
				if (file.size > MAX_FILE_BYTES)
					throw new Error(label + ': the file is too large (at most ' +
					    Math.floor(MAX_FILE_BYTES / 1024) + ' KiB).');
				out[key] = await readDataUrl(file);
			});
			return group(ch, key, label, control, input, { required: input.required, help: help });
		default: /* text, and any type this page does not know: a plain text box */
			input = textInput(id, f, 'text', 'off');
			break;
		}
		box = input;
		readers.push(function (out) {
			out[key] = box.value;
		});
		return group(ch, key, label, input, input, { required: req && !input.readOnly, help: help });
	}

	function fieldsetExtras(ch, key, fs, id, help) {
		var errs = errorsOf(ch, key), ids = [];
		if (help) {
			fs.appendChild(el('p', { id: id + '-help', className: 'ak-help', text: help }));
			ids.push(id + '-help');
		}
		if (errs.length > 0) {
			fs.appendChild(errorList(id + '-errors', errs));
			ids.push(id + '-errors');
			fs.setAttribute('aria-invalid', 'true');
		}
		if (ids.length > 0)
			fs.setAttribute('aria-describedby', ids.join(' '));
	}

	function readDataUrl(file) {
		return new Promise(function (resolve, reject) {
			var r = new FileReader();
			r.onload = function () {
				resolve(String(r.result));
			};
			r.onerror = function () {
				reject(new Error('The file could not be read.'));
			};
			r.readAsDataURL(file);
		});
	}

	function renderPrompt(ch) {
		var readers = [];
		var form = stageForm(ch, async function () {
			var out = {}, i;
			for (i = 0; i < readers.length; i++)
				await readers[i](out);
			return out;
		});
		var fields = sortedPrompts(ch), i;
		for (i = 0; i < fields.length; i++)
			form.appendChild(promptField(ch, fields[i], readers));
		form.appendChild(primaryButton('Continue'));
		ui.body.appendChild(form);
	}

	/* --- the other components --------------------------------------------------------------- */

	function renderEmail(ch) {
		var form = stageForm(ch, null);
		append(form, [pendingUser(ch), para('Check your inbox for a verification email.'),
			primaryButton('Send email again.')]);
		ui.body.appendChild(form);
	}

	function renderAccessDenied(ch) {
		var box = el('div', { className: 'ak-alert ak-alert-danger', role: 'alert' }, [
			el('p', { className: 'ak-alert-title', text: 'Request has been denied.' })
		]);
		if (ch.error_message)
			box.appendChild(el('p', { className: 'ak-error-message', text: str(ch.error_message) }));
		append(ui.body, [pendingUser(ch), box]);
	}

	function renderUserLogin(ch) {
		var form = stageForm(ch, function (f, submitter) {
			return { remember_me: !!(submitter && submitter.value === 'yes') };
		});
		append(form, [pendingUser(ch), el('h2', { className: 'ak-subtitle', text: 'Stay signed in?' }),
			para('Select Yes to reduce the number of times you\'re asked to sign in.'),
			el('div', { className: 'ak-form-group ak-form-actions ak-actions-row' }, [
				el('button', { type: 'submit', value: 'yes', className: 'ak-button ak-button-primary',
					autofocus: true, text: 'Yes' }),
				el('button', { type: 'submit', value: 'no', className: 'ak-button ak-button-secondary', text: 'No' })
			])]);
		ui.body.appendChild(form);
	}

	function renderDummy(ch) {
		var form = stageForm(ch, null);
		if (ch.name)
			form.appendChild(para(str(ch.name), 'ak-stage-name'));
		form.appendChild(primaryButton('Continue', { autofocus: true }));
		ui.body.appendChild(form);
	}

	function renderAutosubmit(ch) {
		var url = safeUrl(ch.url);
		var attrs = ch.attrs && typeof ch.attrs === 'object' ? ch.attrs : {};
		var form, keys, i, input;
		if (!url) {
			renderFlowError(localError('The next step points to an address this page will not open.'));
			return;
		}
		form = el('form', { method: 'post', action: url, className: 'ak-form' });
		form.appendChild(para(str(ch.title) || 'Redirecting…'));
		keys = Object.keys(attrs);
		for (i = 0; i < keys.length; i++) {
			input = el('input', { type: 'hidden', name: keys[i] });
			input.value = str(attrs[keys[i]]);
			form.appendChild(input);
		}
		form.appendChild(primaryButton('Continue'));
		ui.body.appendChild(form);
		form.submit();
	}

	function renderRedirect(ch) {
		var to = safeUrl(ch.to);
		if (!to) {
			renderFlowError(localError('The flow ended with an address this page will not open.'));
			return;
		}
		append(ui.body, [para('Redirecting…', 'ak-loading'),
			el('p', null, [el('a', { href: to, text: 'Continue' })])]);
		window.location.assign(to);
	}

	function renderFlowError(ch) {
		var box = el('div', { className: 'ak-alert ak-alert-danger', role: 'alert' }, [
			el('p', { className: 'ak-alert-title', text: ch._local ? str(ch.error) : 'Whoops! Something went wrong.' })
		]);
		if (!ch._local && ch.error)
			box.appendChild(el('p', { className: 'ak-error-message', text: str(ch.error) }));
		if (ch._detail)
			box.appendChild(el('p', { className: 'ak-error-message', text: str(ch._detail) }));
		if (ch.request_id)
			box.appendChild(el('p', { className: 'ak-help', text: 'Request ID: ' + str(ch.request_id) }));
		ui.body.appendChild(box);
		if (ch.traceback)
			ui.body.appendChild(el('pre', { className: 'ak-traceback', text: str(ch.traceback) }));
		ui.body.appendChild(el('p', null, [el('a', { href: window.location.href, text: 'Try again' })]));
	}

	function renderSessionEnd(ch) {
		var app = str(ch.application_name);
		var links = el('div', { className: 'ak-form-group ak-links' });
		append(ui.body, [pendingUser(ch),
			para(app ? 'You\'ve logged out of ' + app + '.' : 'You\'ve logged out.'), links]);
		append(links, [link('/', 'Go back to overview', 'ak-button ak-button-secondary ak-button-block')]);
		if (ch.invalidation_flow_url)
			append(links, [link(ch.invalidation_flow_url, 'Log out of ' + (str(ch.brand_name) || 'this site'),
			    'ak-button ak-button-secondary ak-button-block')]);
		if (ch.application_launch_url && app)
			append(links, [link(ch.application_launch_url, 'Log back into ' + app,
			    'ak-button ak-button-primary ak-button-block')]);
	}

	function renderDeviceCode(ch) {
		var input = el('input', { id: 'ak-device-code', name: 'code', type: 'text', className: 'ak-input',
			autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', required: true,
			autofocus: true });
		var form = stageForm(ch, function () {
			return { code: input.value };
		});
		append(form, [para('Enter the code shown on your device.'),
			group(ch, 'code', 'Code', input, input, { required: true }), primaryButton('Continue')]);
		ui.body.appendChild(form);
	}

	function renderDeviceCodeFinish() {
		ui.body.appendChild(para('You\'ve successfully authenticated your device. You can close this page.'));
	}

	/* Server-rendered HTML is never put into this page; the step gets a plain message. */
	function renderShell() {
		ui.body.appendChild(para('This step cannot be shown on this page. Go back and try again, ' +
		    'or contact your administrator.'));
	}

	function renderUnknown(ch) {
		ui.body.appendChild(el('div', { className: 'ak-alert ak-alert-warning', role: 'alert' }, [
			el('p', { text: 'This step is not supported by this page.' }),
			el('p', { className: 'ak-help', text: 'Component: ' + str(ch.component).slice(0, 200) })
		]));
	}

	var RENDERERS = {
		'ak-stage-identification': renderIdentification,
		'ak-stage-password': renderPassword,
		'ak-stage-consent': renderConsent,
		'ak-stage-prompt': renderPrompt,
		'ak-stage-email': renderEmail,
		'ak-stage-access-denied': renderAccessDenied,
		'ak-stage-user-login': renderUserLogin,
		'ak-stage-dummy': renderDummy,
		'ak-stage-autosubmit': renderAutosubmit,
		'ak-stage-flow-error': renderFlowError,
		'ak-stage-session-end': renderSessionEnd,
		'ak-provider-oauth2-device-code': renderDeviceCode,
		'ak-provider-oauth2-device-code-finish': renderDeviceCodeFinish,
		'xak-flow-redirect': renderRedirect,
		'xak-flow-shell': renderShell
	};

	/* Components after which the flow is over or leaves this page: no cancel link. */
	var TERMINAL = { 'xak-flow-redirect': true, 'ak-stage-autosubmit': true, 'ak-stage-session-end': true,
		'ak-provider-oauth2-device-code-finish': true };

	/* --- page frame ------------------------------------------------------------------------- */

	function applyFlowInfo(fi) {
		var bg;
		if (!fi || typeof fi !== 'object')
			return;
		state.flowTitle = str(fi.title);
		ui.title.textContent = state.flowTitle;
		updateDocumentTitle();
		ui.root.setAttribute('data-layout', LAYOUTS.indexOf(fi.layout) >= 0 ? fi.layout : 'stacked');
		bg = safeImage(fi.background);
		if (bg) {
			if (ui.background.getAttribute('src') !== bg)
				ui.background.src = bg;
			ui.background.hidden = false;
		} else {
			ui.background.hidden = true;
			ui.background.removeAttribute('src');
		}
	}

	function updateDocumentTitle() {
		document.title = state.flowTitle ? state.flowTitle + ' - ' + state.brandTitle : state.brandTitle;
	}

	function renderFooter(ch) {
		var cancel;
		if (TERMINAL[ch.component])
			return;
		cancel = safeUrl(ch.flow_info && ch.flow_info.cancel_url);
		if (cancel && ch.component !== 'ak-stage-consent')
			ui.footer.appendChild(el('p', { className: 'ak-cancel' },
			    [el('a', { href: cancel, id: 'ak-flow-cancel', text: 'Cancel' })]));
	}

	function render(ch) {
		var renderer, errs, form;
		state.challenge = ch;
		state.claimed = {};
		if (ch.flow_info)
			applyFlowInfo(ch.flow_info);
		clear(ui.body);
		clear(ui.footer);
		ui.root.setAttribute('data-component', str(ch.component).slice(0, 100));
		renderer = Object.prototype.hasOwnProperty.call(RENDERERS, ch.component) ?
		    RENDERERS[ch.component] : renderUnknown;
		try {
			renderer(ch);
		} catch (e) {
			clear(ui.body);
			renderFlowError(localError('This step could not be shown.'));
		}
		errs = topErrors(ch);
		form = errs ? ui.body.querySelector('form') : null;
		if (form)
			form.insertBefore(errs, form.firstChild);
		else if (errs)
			ui.body.insertBefore(errs, ui.body.firstChild);
		renderFooter(ch);
		setBusy(false);
		focusFirst();
	}

	function focusFirst() {
		var target = ui.body.querySelector('[aria-invalid=true]') ||
		    ui.body.querySelector('[autofocus]') ||
		    ui.body.querySelector('input:not([type=hidden]):not([readonly]):not([tabindex="-1"]), select, textarea, button');
		if (target && typeof target.focus === 'function')
			target.focus();
	}

	async function loadBrand() {
		var resp, b, logo, icon;
		try {
			resp = await fetch(BRAND_URL, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
			if (!resp.ok)
				return;
			b = await resp.json();
		} catch (e) {
			return;
		}
		if (!b || typeof b !== 'object')
			return;
		if (typeof b.branding_title === 'string' && b.branding_title !== '') {
			state.brandTitle = b.branding_title;
			ui.logo.setAttribute('alt', b.branding_title);
			updateDocumentTitle();
		}
		logo = safeImage(b.branding_logo);
		if (logo && logo !== ui.logo.getAttribute('src'))
			ui.logo.src = logo;
		icon = safeImage(b.branding_favicon);
		if (icon && ui.favicon)
			ui.favicon.href = icon;
		footerLinks(list(b.ui_footer_links));
	}

	/* The brand's footer links ({name, href}), before "Powered by". */
	function footerLinks(links) {
		var i, a;
		if (!ui.brandFooter)
			return;
		for (i = 0; i < links.length && i < 20; i++) {
			if (!links[i] || typeof links[i] !== 'object')
				continue;
			a = link(links[i].href, str(links[i].name) || str(links[i].href), 'ak-footer-link');
			if (a)
				ui.brandFooter.parentNode.insertBefore(a, ui.brandFooter);
		}
	}

	function flowSlug() {
		var m = /^\/if\/flow\/([^/]+)/.exec(window.location.pathname);
		var slug;
		if (!m)
			return null;
		try {
			slug = decodeURIComponent(m[1]);
		} catch (e) {
			return null;
		}
		return /^[-a-zA-Z0-9_]{1,128}$/.test(slug) ? slug : null;
	}

	function start() {
		var slug;
		ui.root = document.getElementById('ak-flow');
		ui.card = document.getElementById('ak-flow-card');
		ui.title = document.getElementById('ak-flow-title');
		ui.body = document.getElementById('ak-flow-body');
		ui.footer = document.getElementById('ak-flow-footer');
		ui.logo = document.getElementById('ak-brand-logo');
		ui.background = document.getElementById('ak-flow-background');
		ui.favicon = document.querySelector('link[rel=icon]');
		ui.brandFooter = document.getElementById('ak-brand-footer');
		if (!ui.logo.getAttribute('src'))
			ui.logo.src = DEFAULT_LOGO;
		loadBrand();
		slug = flowSlug();
		if (!slug) {
			render(localError('This address does not name a flow.'));
			return;
		}
		state.url = EXECUTOR + encodeURIComponent(slug) + '/?query=' +
		    encodeURIComponent(window.location.search.substring(1));
		setBusy(true);
		call('GET').then(render);
		/* Coming back with the Back button to a page kept in memory (left by a redirect, say):
		 * what it shows may be stale, so ask the executor again. */
		window.addEventListener('pageshow', function (ev) {
			if (ev.persisted && !state.busy) {
				setBusy(true);
				call('GET').then(render);
			}
		});
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
}());
