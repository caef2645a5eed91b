/*
 * Notifications of the logged-in user (events/notifications/, the owner's own): the header bell
 * with the unread count and its drawer, and the #/notifications page for all of them.
 */
import { api, apiList } from '../common/api.js';
import { h, clear, safeUrl, fmtDate, fmtRelative, toast } from '../common/dom.js';

const ENDPOINT = 'events/notifications/';
const DRAWER_ID = 'cu-notifications-drawer';
const POLL_MS = 60000;
const PAGE_SIZE = 20;

const SEVERITY = { notice: 'Notice', warning: 'Warning', alert: 'Alert' };

function itemUrl(n) {
	return `${ENDPOINT}${encodeURIComponent(n.pk)}/`;
}

export async function markRead(n) {
	try {
		await api('PATCH', itemUrl(n), { body: { seen: true } });
		toast('Marked as read');
		return true;
	} catch (e) {
		toast(`Could not mark the notification as read: ${e.message}`, 'error');
		return false;
	}
}

export async function markAllRead() {
	try {
		await api('POST', `${ENDPOINT}mark_all_seen/`);
		toast('All notifications marked as read');
		return true;
	} catch (e) {
		toast(`Could not mark the notifications as read: ${e.message}`, 'error');
		return false;
	}
}

/* One notification as a list item; onRead runs after a successful "Mark as read". */
export function notificationItem(n, onRead) {
	const sev = SEVERITY[n.severity] || n.severity || '';
	const link = safeUrl(n.hyperlink);
	const action = n.event && typeof n.event === 'object' ? n.event.action : '';
	const btn = n.seen ? null : h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small' }, 'Mark as read');
	if (btn) {
		btn.addEventListener('click', async () => {
			btn.disabled = true;
			if (await markRead(n))
				await onRead(n);
			else
				btn.disabled = false;
		});
	}
	return h('li', { class: ['cu-note', n.seen ? 'cu-note-seen' : 'cu-note-unseen', `cu-note-${n.severity || 'notice'}`] },
		h('div', { class: 'cu-note-meta' },
			sev ? h('span', { class: 'cu-note-severity' }, sev) : null,
			action ? h('span', { class: 'cu-note-action' }, action) : null,
			h('time', { datetime: n.created || '', title: fmtDate(n.created) }, fmtRelative(n.created)),
			n.seen ? null : h('span', { class: 'cu-offscreen' }, '(unread)')),
		h('p', { class: 'cu-note-body' }, n.body || ''),
		link ? h('p', null, h('a', { href: link }, n.hyperlink_label || n.hyperlink)) : null,
		btn ? h('div', { class: 'cu-note-actions' }, btn) : null);
}

const SVG = 'http://www.w3.org/2000/svg';

function bellIcon() {
	const svg = document.createElementNS(SVG, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('width', '20');
	svg.setAttribute('height', '20');
	svg.setAttribute('aria-hidden', 'true');
	svg.setAttribute('focusable', 'false');
	svg.setAttribute('class', 'cu-bell-icon');
	const path = document.createElementNS(SVG, 'path');
	path.setAttribute('fill', 'currentColor');
	path.setAttribute('d', 'M12 2a1.5 1.5 0 0 0-1.5 1.5v.7A6 6 0 0 0 6 10v4.5L4 17v1h16v-1l-2-2.5V10a6 6 0 0 0-4.5-5.8v-.7A1.5 1.5 0 0 0 12 2zm-2.2 17.5a2.2 2.2 0 0 0 4.4 0z');
	svg.appendChild(path);
	return svg;
}

/* The bell button in the header and the drawer it opens. */
export class NotificationBell {
	constructor(user) {
		this.user = user;
		this.count = 0;
		this.open = false;
		this.badge = h('span', { class: 'cu-bell-count', 'aria-hidden': 'true', hidden: true }, '');
		this.button = h('button', {
			type: 'button', class: 'cu-btn cu-btn-plain cu-bell',
			'aria-expanded': 'false', 'aria-controls': DRAWER_ID, 'aria-label': 'Notifications',
		}, bellIcon(), this.badge);
		this.button.addEventListener('click', () => (this.open ? this.close() : this.show()));
		this.list = h('ul', { class: 'cu-note-list' });
		this.status = h('p', { class: 'cu-drawer-status' });
		this.markAll = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small' }, 'Mark all as read');
		this.markAll.addEventListener('click', async () => {
			this.markAll.disabled = true;
			if (await markAllRead())
				await this.refresh({ list: true });
			this.markAll.disabled = false;
		});
		this.heading = h('h2', { id: `${DRAWER_ID}-title`, tabindex: '-1' }, 'Notifications');
		const closeBtn = h('button', { type: 'button', class: 'cu-btn cu-btn-plain', 'aria-label': 'Close notifications' }, '×');
		closeBtn.addEventListener('click', () => this.close());
		this.drawer = h('aside', { id: DRAWER_ID, class: 'cu-drawer', 'aria-labelledby': `${DRAWER_ID}-title`, hidden: true },
			h('div', { class: 'cu-drawer-head' }, this.heading, closeBtn),
			h('div', { class: 'cu-drawer-tools' }, this.markAll,
				h('a', { href: '#/notifications', class: 'cu-drawer-all' }, 'All notifications')),
			this.status, this.list);
		document.addEventListener('keydown', (ev) => {
			if (ev.key === 'Escape' && this.open && !document.querySelector('dialog[open]')) {
				ev.preventDefault();
				this.close({ restoreFocus: this.drawer.contains(document.activeElement) || document.activeElement === document.body });
			}
		});
		document.addEventListener('click', (ev) => {
			if (this.open && ev.target.isConnected && !this.drawer.contains(ev.target) && !this.button.contains(ev.target))
				this.close({ restoreFocus: false });
		});
		this.timer = setInterval(() => {
			if (document.visibilityState === 'visible')
				this.refresh({ list: this.open });
		}, POLL_MS);
		this.listeners = new Set();
	}

	/* Page views that show notifications register here to be told of changes. */
	onChange(fn) {
		this.listeners.add(fn);
		return () => this.listeners.delete(fn);
	}

	setCount(n) {
		this.count = n;
		this.badge.textContent = n > 99 ? '99+' : String(n);
		this.badge.hidden = n === 0;
		this.button.setAttribute('aria-label', n === 0 ? 'Notifications, none unread' :
			`Notifications, ${n} unread`);
		this.button.classList.toggle('cu-bell-unread', n > 0);
	}

	async refresh({ list = false } = {}) {
		const query = { seen: 'false', user: this.user.pk, ordering: '-created', page_size: list ? 50 : 1 };
		try {
			const { pagination, results } = await apiList(ENDPOINT, query);
			this.setCount(Number(pagination.count) || results.length);
			if (list)
				this.fill(results);
		} catch (e) {
			if (list) {
				clear(this.list);
				this.status.textContent = `Notifications could not be loaded: ${e.message}`;
				this.status.setAttribute('role', 'alert');
			}
		}
		for (const fn of this.listeners)
			fn();
	}

	fill(results) {
		clear(this.list);
		this.status.removeAttribute('role');
		this.status.textContent = results.length ? '' : 'No unread notifications.';
		this.markAll.disabled = results.length === 0;
		for (const n of results)
			this.list.append(notificationItem(n, async () => {
				await this.refresh({ list: true });
				/* the item and its button are gone: keep focus inside the drawer */
				if (this.open && !this.drawer.contains(document.activeElement))
					this.heading.focus();
			}));
	}

	async show() {
		this.open = true;
		this.drawer.hidden = false;
		this.button.setAttribute('aria-expanded', 'true');
		this.status.textContent = 'Loading…';
		this.heading.focus();
		await this.refresh({ list: true });
	}

	close({ restoreFocus = true } = {}) {
		if (!this.open)
			return;
		this.open = false;
		this.drawer.hidden = true;
		this.button.setAttribute('aria-expanded', 'false');
		if (restoreFocus)
			this.button.focus();
	}
}

/* #/notifications: every notification, newest first, a page at a time. */
export async function renderNotificationsPage(el, ctx) {
	let page = 1;
	const list = h('ul', { class: 'cu-note-list cu-note-page' });
	const status = h('p', { class: 'cu-user-status', 'aria-live': 'polite' });
	const prev = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary' }, 'Previous');
	const next = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary' }, 'Next');
	const markAll = h('button', { type: 'button', class: 'cu-btn cu-btn-secondary' }, 'Mark all as read');
	const onlyUnread = h('input', { type: 'checkbox', id: 'cu-notes-unread', class: 'cu-check' });
	const pager = h('div', { class: 'cu-pager' }, prev, next);

	const load = async () => {
		status.removeAttribute('role');
		status.textContent = 'Loading…';
		try {
			const { pagination, results } = await apiList(ENDPOINT, {
				user: ctx.user.pk, ordering: '-created', page, page_size: PAGE_SIZE,
				seen: onlyUnread.checked ? 'false' : undefined,
			});
			if (!ctx.current())
				return;
			clear(list);
			for (const n of results)
				list.append(notificationItem(n, async () => {
					await load();
					if (ctx.bell)
						ctx.bell.refresh();
				}));
			const count = Number(pagination.count) || 0;
			status.textContent = results.length === 0 ? 'No notifications.' :
				`${pagination.start_index || 1}–${pagination.end_index || results.length} of ${count}`;
			prev.disabled = !pagination.previous;
			next.disabled = !pagination.next;
			pager.hidden = !pagination.previous && !pagination.next;
		} catch (e) {
			clear(list);
			status.setAttribute('role', 'alert');
			status.textContent = `Notifications could not be loaded: ${e.message}`;
		}
	};
	prev.addEventListener('click', () => { page = Math.max(1, page - 1); load(); });
	next.addEventListener('click', () => { page += 1; load(); });
	onlyUnread.addEventListener('change', () => { page = 1; load(); });
	markAll.addEventListener('click', async () => {
		markAll.disabled = true;
		if (await markAllRead()) {
			await load();
			if (ctx.bell)
				ctx.bell.refresh();
		}
		markAll.disabled = false;
	});

	el.append(h('section', { class: 'cu-user-page' },
		h('h1', null, 'Notifications'),
		h('div', { class: 'cu-toolbar' }, markAll,
			h('div', { class: 'cu-check-row' }, onlyUnread, h('label', { for: 'cu-notes-unread' }, 'Unread only'))),
		status, list, pager));
	await load();
}
