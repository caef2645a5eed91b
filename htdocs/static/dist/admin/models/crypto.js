/*
 * Admin screens for certificate-key pairs (crypto/certificatekeypairs/): import (PEM) or
 * generate a self-signed pair, edit, download the certificate and private key, and the
 * certificate's details and fingerprints.
 */
import { register, navigate } from '../registry.js';
import { api } from '../../common/api.js';
import { renderForm } from '../form.js';
import { h, clear, safeUrl, fmtDate, copyButton, toast, openDialog } from '../../common/dom.js';

const ENDPOINT = 'crypto/certificatekeypairs/';

function expiryCell(row) {
	if (!row.cert_expiry)
		return h('span', { class: 'cu-muted' }, '–');
	const expired = new Date(row.cert_expiry).getTime() < Date.now();
	return h('span', null, h('time', { datetime: row.cert_expiry }, fmtDate(row.cert_expiry)),
		expired ? [' ', h('span', { class: 'cu-badge cu-badge-danger' }, 'Expired')] : null);
}

/* Download through a link, so the browser saves the attachment the API sends. */
function download(url) {
	const href = safeUrl(url);
	if (!href)
		return;
	const a = h('a', { href, download: '', class: 'cu-offscreen' }, 'Download');
	document.body.appendChild(a);
	a.click();
	a.remove();
}

function labelled(node, name) {
	node.setAttribute('aria-label', name);
	return node;
}

/* Long hex that may wrap anywhere on a narrow screen. */
function breakable(text) {
	const c = h('code', null, text);
	c.style.wordBreak = 'break-all';
	return c;
}

function certUrl(row, what) {
	return `/api/v3/${ENDPOINT}${encodeURIComponent(row.pk)}/${what}/?download`;
}

function details(el, row) {
	const item = (label, value, copyText) => [
		h('dt', null, label),
		h('dd', null, value === null || value === undefined || value === '' ? h('span', { class: 'cu-muted' }, '–') : value,
			copyText ? [' ', labelled(copyButton(copyText, 'Copy'), `Copy ${label}`)] : null),
	];
	const links = h('p', { class: 'cu-actions' },
		h('a', { class: 'cu-btn cu-btn-secondary', href: safeUrl(certUrl(row, 'view_certificate')), download: '' }, 'Download certificate'),
		row.private_key_available
			? h('a', { class: 'cu-btn cu-btn-secondary', href: safeUrl(certUrl(row, 'view_private_key')), download: '' }, 'Download private key')
			: null);
	clear(el).append(h('dl', { class: 'cu-summary' },
		item('Subject', row.cert_subject),
		item('Expiry', row.cert_expiry ? expiryCell(row) : null),
		item('Key type', row.key_type ? String(row.key_type).toUpperCase() : null),
		item('Private key', row.private_key_available ? 'Available' : 'Not available'),
		item('SHA-256 fingerprint', row.fingerprint_sha256 ? breakable(row.fingerprint_sha256) : null, row.fingerprint_sha256),
		item('SHA-1 fingerprint', row.fingerprint_sha1 ? breakable(row.fingerprint_sha1) : null, row.fingerprint_sha1),
		item('Managed', row.managed)), links);
}

/* A new self-signed certificate and key, made by the server. */
function generate() {
	const box = h('div');
	let d = null;
	renderForm(box, [
		{ name: 'common_name', label: 'Common name', type: 'text', required: true, help: 'Also the name of the new certificate-key pair.' },
		{ name: 'subject_alt_name', label: 'Subject alternative names', type: 'text', help: 'DNS names, separated by commas.' },
		{ name: 'validity_days', label: 'Validity (days)', type: 'number', required: true, default: 365 },
		{ name: 'alg', label: 'Key algorithm', type: 'select', required: true, default: 'rsa', choices: [['rsa', 'RSA'], ['ecdsa', 'ECDSA']] },
	], {}, {
		submitLabel: 'Generate',
		onCancel: () => d.close(),
		submit: async (values) => {
			const res = await api('POST', `${ENDPOINT}generate/`, { body: values });
			toast(`Generated certificate-key pair ${res && res.name ? res.name : values.common_name}`);
			d.close();
			if (res && res.pk)
				navigate(`#/crypto/certificatekeypairs/${encodeURIComponent(res.pk)}`);
			return res;
		},
	});
	d = openDialog('Generate certificate-key pair', box);
}

const PEM_HELP = 'PEM text, beginning with -----BEGIN CERTIFICATE-----.';

register({
	id: 'crypto/certificatekeypairs',
	nav: 'System', order: 30,
	title: 'Certificates', singular: 'Certificate-Key Pair',
	endpoint: ENDPOINT,
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'cert_subject', label: 'Subject', sort: 'cert_subject' },
		{ key: 'cert_expiry', label: 'Expiry', sort: 'cert_expiry', render: expiryCell },
		{ key: 'key_type', label: 'Key type', sort: 'key_type', render: (row) => (row.key_type ? String(row.key_type).toUpperCase() : '–') },
		{ key: 'private_key_available', label: 'Private key',
			render: (row) => (row.private_key_available ? h('span', { class: 'cu-badge cu-badge-ok' }, 'Yes') : h('span', { class: 'cu-badge' }, 'No')) },
	],
	filters: [
		{ key: 'has_key', label: 'With private key', type: 'bool' },
	],
	/* Create is the import of an existing pair; "Generate" (in the toolbar) makes a new one. */
	createFields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'certificate_data', label: 'Certificate', type: 'textarea', required: true, rows: 8, help: PEM_HELP },
		{ name: 'key_data', label: 'Private key', type: 'textarea', writeOnly: true, rows: 8,
			help: 'Optional PEM private key; needed for signing. It is stored encrypted and never shown here.' },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'certificate_data', label: 'Certificate', type: 'textarea', writeOnly: true, rows: 8,
			help: `Leave empty to keep the current certificate. ${PEM_HELP}` },
		{ name: 'key_data', label: 'Private key', type: 'textarea', writeOnly: true, rows: 8,
			help: 'Leave empty to keep the current private key.' },
	],
	listExtras: () => h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: generate }, 'Generate'),
	actions: [
		{ label: 'Download certificate', run: async (row) => download(certUrl(row, 'view_certificate')) },
		{ label: 'Download private key', when: (row) => !!row.private_key_available, run: async (row) => download(certUrl(row, 'view_private_key')) },
	],
	tabs: [
		{ label: 'Details', render: async (el, row) => details(el, row) },
	],
});
