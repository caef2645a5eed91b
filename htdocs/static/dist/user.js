/*
 * custos user interface (a first page): who is signed in, from GET /api/v3/core/users/me/ with
 * the session cookie, and a way out. Server strings are set as text only.
 */
(function () {
	'use strict';

	var DEFAULT_AVATAR = '/static/dist/assets/images/user_default.png';

	function text(tag, value, className) {
		var node = document.createElement(tag);
		node.textContent = value === null || value === undefined ? '' : String(value);
		if (className)
			node.className = className;
		return node;
	}

	function safeImage(u) {
		var parsed;
		if (typeof u !== 'string' || u === '' || u.length > 1024 * 1024)
			return null;
		if (/^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(u))
			return u;
		try {
			parsed = new URL(u, window.location.href);
		} catch (e) {
			return null;
		}
		return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
	}

	function show(body, nodes) {
		while (body.firstChild)
			body.removeChild(body.firstChild);
		nodes.forEach(function (n) {
			body.appendChild(n);
		});
	}

	function signedOut(body) {
		var p = document.createElement('p');
		var a = document.createElement('a');
		var logout = document.getElementById('ak-logout');
		a.href = '/flows/-/default/authentication/?next=' + encodeURIComponent('/if/user/');
		a.id = 'ak-login-link';
		a.textContent = 'Log in';
		p.appendChild(document.createTextNode('You are not logged in. '));
		p.appendChild(a);
		if (logout)
			logout.closest('.ak-flow-footer').hidden = true;
		show(body, [p]);
	}

	function signedIn(body, u) {
		var card = document.createElement('div');
		var img = document.createElement('img');
		var dl = document.createElement('dl');
		card.className = 'ak-user-card';
		card.id = 'ak-user-card';
		img.alt = '';
		img.width = 48;
		img.height = 48;
		img.src = safeImage(u.avatar) || DEFAULT_AVATAR;
		[['Name', u.name], ['Username', u.username], ['Email', u.email]].forEach(function (row) {
			if (row[1] === undefined || row[1] === null || row[1] === '')
				return;
			dl.appendChild(text('dt', row[0]));
			dl.appendChild(text('dd', row[1], 'ak-user-' + row[0].toLowerCase()));
		});
		card.appendChild(img);
		card.appendChild(dl);
		show(body, [text('p', 'Signed in as ' + (u.name || u.username) + '.', 'ak-user-greeting'), card]);
	}

	/* The brand's logo and title, as on the flow pages; the defaults stay when it fails. */
	async function brand() {
		var resp, b, logo = document.getElementById('ak-brand-logo'), src;
		try {
			resp = await fetch('/api/v3/core/brands/current/', { credentials: 'same-origin',
				headers: { Accept: 'application/json' } });
			if (!resp.ok)
				return;
			b = await resp.json();
		} catch (e) {
			return;
		}
		if (!b || typeof b !== 'object')
			return;
		src = safeImage(b.branding_logo);
		if (src && logo)
			logo.src = src;
		if (typeof b.branding_title === 'string' && b.branding_title !== '') {
			if (logo)
				logo.alt = b.branding_title;
			document.title = 'My account - ' + b.branding_title;
		}
	}

	async function start() {
		var section = document.getElementById('ak-user');
		var body = document.getElementById('ak-user-body');
		var resp, data;
		brand();
		try {
			resp = await fetch('/api/v3/core/users/me/', { credentials: 'same-origin',
				headers: { Accept: 'application/json' }, cache: 'no-store' });
			if (resp.status === 401 || resp.status === 403) {
				signedOut(body);
				return;
			}
			if (!resp.ok)
				throw new Error('HTTP ' + resp.status);
			data = await resp.json();
			if (!data || typeof data !== 'object' || !data.user || typeof data.user !== 'object')
				throw new Error('unreadable answer');
			signedIn(body, data.user);
		} catch (e) {
			var box = text('div', 'Your account could not be loaded (' + e.message + '). Try again later.',
			    'ak-alert ak-alert-danger');
			box.setAttribute('role', 'alert');
			show(body, [box]);
		} finally {
			section.setAttribute('aria-busy', 'false');
		}
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
}());
