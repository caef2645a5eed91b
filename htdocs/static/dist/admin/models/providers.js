/*
 * Admin screens for providers (OAuth2/OpenID and SAML, listed together from providers/all/)
 * with their setup URLs, SAML metadata and metadata import, and for property mappings (scope
 * and SAML mappings) with a test run against a chosen user.
 */
import { register, navigate } from '../registry.js';
import { api } from '../../common/api.js';
import { h, clear, safeUrl, toast, openDialog, copyButton } from '../../common/dom.js';
import { renderForm, fieldInput } from '../form.js';
import { userRef, flowRef, keypairRef } from '../refs.js';

const scopeMappingsRef = { endpoint: 'propertymappings/provider/scope/', value: 'pk', search: false, label: (m) => `${m.name} (${m.scope_name})` };
const samlMappingsRef = { endpoint: 'propertymappings/provider/saml/', value: 'pk', search: false, label: (m) => `${m.name} (${m.saml_name})` };

const DURATION_HELP = 'A duration such as hours=1;minutes=30 (weeks, days, hours, minutes, seconds).';

/* The fields every provider kind has. */
function baseFields(mappingsRef) {
	return [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'authorization_flow', label: 'Authorization flow', type: 'ref', required: true, ref: flowRef('authorization'),
			help: 'The flow run when a user is sent to this provider to authorize.' },
		{ name: 'invalidation_flow', label: 'Invalidation flow', type: 'ref', required: true, ref: flowRef('invalidation'),
			help: 'The flow run when the user logs out of the application.' },
		{ name: 'authentication_flow', label: 'Authentication flow', type: 'ref', nullable: true, ref: flowRef('authentication'),
			help: 'Used for users who are not logged in yet; empty for the brand\'s default.' },
		{ name: 'property_mappings', label: 'Property mappings', type: 'refs', ref: mappingsRef },
	];
}

const REDIRECT_HELP = 'A JSON list of {"matching_mode": "strict" | "regex", "url": "..."}; add "redirect_uri_type": "logout" for post-logout URIs.';

const oauth2Fields = [
	...baseFields(scopeMappingsRef),
	{ name: 'client_type', label: 'Client type', type: 'select', default: 'confidential', required: true,
		choices: [['confidential', 'Confidential: can keep a secret'], ['public', 'Public: cannot keep a secret (SPA, mobile)']] },
	{ name: 'client_id', label: 'Client ID', type: 'text', help: 'Generated when left empty.' },
	{ name: 'client_secret', label: 'Client secret', type: 'text', help: 'Generated when left empty.', visible: (v) => v.client_type !== 'public' },
	{ name: 'redirect_uris', label: 'Redirect URIs', type: 'json', rows: 5, default: [], help: REDIRECT_HELP },
	{ name: 'signing_key', label: 'Signing key', type: 'ref', nullable: true, ref: keypairRef(true),
		help: 'Tokens are signed with this key pair; empty signs with the client secret (HS256).' },
	{ name: 'encryption_key', label: 'Encryption key', type: 'ref', nullable: true, ref: keypairRef(false),
		help: 'When set, ID tokens are encrypted with this key pair.' },
	{ name: 'access_code_validity', label: 'Access code validity', type: 'text', default: 'minutes=1', help: DURATION_HELP },
	{ name: 'access_token_validity', label: 'Access token validity', type: 'text', default: 'hours=1', help: DURATION_HELP },
	{ name: 'refresh_token_validity', label: 'Refresh token validity', type: 'text', default: 'days=30', help: DURATION_HELP },
	{ name: 'refresh_token_threshold', label: 'Refresh token threshold', type: 'text', default: 'seconds=0',
		help: 'A refresh token is renewed when less than this remains of its validity.' },
	{ name: 'sub_mode', label: 'Subject mode', type: 'select', default: 'hashed_user_id', required: true, choices: [
		['hashed_user_id', 'Hashed user ID'], ['user_id', 'User ID'], ['user_uuid', 'User UUID'],
		['user_username', 'Username'], ['user_email', 'Email'], ['user_upn', 'UPN']] },
	{ name: 'include_claims_in_id_token', label: 'Include claims in the ID token', type: 'bool', default: true },
	{ name: 'issuer_mode', label: 'Issuer mode', type: 'select', default: 'per_provider', required: true, choices: [
		['per_provider', 'Each provider has its own issuer, by application slug'], ['global', 'One issuer for every provider']] },
	{ name: 'pkce_required', label: 'Require PKCE', type: 'bool', default: false },
	{ name: 'logout_uri', label: 'Logout URI', type: 'text', help: 'Where the client is told about a logout.' },
	{ name: 'logout_method', label: 'Logout method', type: 'select', default: 'backchannel', required: true,
		choices: [['backchannel', 'Back-channel'], ['frontchannel', 'Front-channel']] },
	{ name: 'jwt_federation_providers', label: 'Federated OAuth2 providers', type: 'refs',
		ref: { endpoint: 'providers/oauth2/', value: 'pk', search: false, label: (p) => p.name },
		help: 'JWTs issued by these providers are accepted by this one.' },
];

const DIGESTS = [
	['http://www.w3.org/2000/09/xmldsig#sha1', 'SHA1'],
	['http://www.w3.org/2001/04/xmlenc#sha256', 'SHA256'],
	['http://www.w3.org/2001/04/xmldsig-more#sha384', 'SHA384'],
	['http://www.w3.org/2001/04/xmlenc#sha512', 'SHA512'],
];
const SIGNATURES = [
	['http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'RSA-SHA1'],
	['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'RSA-SHA256'],
	['http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', 'RSA-SHA384'],
	['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'RSA-SHA512'],
	['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'ECDSA-SHA256'],
	['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', 'ECDSA-SHA384'],
	['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', 'ECDSA-SHA512'],
];
const NAME_ID_POLICIES = [
	['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', 'Unspecified'],
	['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', 'Email address'],
	['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', 'Persistent'],
	['urn:oasis:names:tc:SAML:2.0:nameid-format:transient', 'Transient'],
	['urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName', 'X509 subject name'],
	['urn:oasis:names:tc:SAML:2.0:nameid-format:WindowsDomainQualifiedName', 'Windows domain qualified name'],
];
const BINDINGS = [['redirect', 'Redirect'], ['post', 'Post']];

const samlMappingRef = { ...samlMappingsRef };

const samlFields = [
	...baseFields(samlMappingsRef),
	{ name: 'acs_url', label: 'ACS URL', type: 'text', required: true, help: 'Where the service provider receives assertions.' },
	{ name: 'sp_binding', label: 'Service provider binding', type: 'select', default: 'redirect', required: true, choices: BINDINGS,
		help: 'How the response is sent back to the ACS URL.' },
	{ name: 'audience', label: 'Audience', type: 'text', help: 'Usually the service provider\'s entity ID.' },
	{ name: 'issuer', label: 'Issuer', type: 'text', default: 'authentik', help: 'The entity ID this provider issues as.' },
	{ name: 'sls_url', label: 'SLS URL', type: 'text', help: 'Single logout service of the service provider (optional).' },
	{ name: 'sls_binding', label: 'SLS binding', type: 'select', default: 'redirect', required: true, choices: BINDINGS },
	{ name: 'logout_method', label: 'Logout method', type: 'select', default: 'frontchannel_iframe', required: true, choices: [
		['frontchannel_iframe', 'Front-channel (iframe)'], ['frontchannel_native', 'Front-channel (native)'], ['backchannel', 'Back-channel (POST binding only)']] },
	{ name: 'default_relay_state', label: 'Default relay state', type: 'text', help: 'Sent with IdP-initiated logins.' },
	{ name: 'default_name_id_policy', label: 'Default NameID policy', type: 'select', required: true,
		default: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', choices: NAME_ID_POLICIES },
	{ name: 'name_id_mapping', label: 'NameID property mapping', type: 'ref', nullable: true, ref: samlMappingRef,
		help: 'Overrides the NameID sent; empty follows the NameID policy.' },
	{ name: 'authn_context_class_ref_mapping', label: 'AuthnContextClassRef property mapping', type: 'ref', nullable: true, ref: samlMappingRef },
	{ name: 'assertion_valid_not_before', label: 'Assertion valid not before', type: 'text', default: 'minutes=-5', help: DURATION_HELP },
	{ name: 'assertion_valid_not_on_or_after', label: 'Assertion valid not on or after', type: 'text', default: 'minutes=5', help: DURATION_HELP },
	{ name: 'session_valid_not_on_or_after', label: 'Session valid not on or after', type: 'text', default: 'minutes=86400', help: DURATION_HELP },
	{ name: 'digest_algorithm', label: 'Digest algorithm', type: 'select', required: true, default: DIGESTS[1][0], choices: DIGESTS },
	{ name: 'signature_algorithm', label: 'Signature algorithm', type: 'select', required: true, default: SIGNATURES[1][0], choices: SIGNATURES,
		help: 'Must fit the signing key: RSA keys sign with RSA, EC keys with ECDSA.' },
	{ name: 'signing_kp', label: 'Signing certificate', type: 'ref', nullable: true, ref: keypairRef(true) },
	{ name: 'verification_kp', label: 'Verification certificate', type: 'ref', nullable: true, ref: keypairRef(false),
		help: 'When set, requests from the service provider must be signed with this certificate.' },
	{ name: 'encryption_kp', label: 'Encryption certificate', type: 'ref', nullable: true, ref: keypairRef(false),
		help: 'When set, assertions are encrypted for this (RSA) certificate.' },
	{ name: 'sign_assertion', label: 'Sign assertions', type: 'bool', default: true },
	{ name: 'sign_response', label: 'Sign responses', type: 'bool', default: false },
	{ name: 'sign_logout_request', label: 'Sign logout requests', type: 'bool', default: false },
	{ name: 'sign_logout_response', label: 'Sign logout responses', type: 'bool', default: false },
];

function providerKind(row) {
	const c = `${row.component || ''} ${row.meta_model_name || ''}`;
	if (/oauth2/.test(c))
		return 'oauth2';
	if (/saml/.test(c))
		return 'saml';
	return 'oauth2';
}

/* A read-only row of a URL with a copy button. */
function urlRow(label, value) {
	const id = `cu-url-${label.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}`;
	/* the API answers "-" for the URLs of a provider no application uses yet */
	const shown = value === null || value === undefined || value === '' || value === '-' ? null : String(value);
	const copy = shown ? copyButton(shown, 'Copy') : null;
	if (copy)
		copy.setAttribute('aria-label', `Copy ${label}`);
	return h('div', { class: 'cu-field cu-url-row' },
		h('label', { for: id }, label),
		h('div', { class: 'cu-picker-row' },
			h('input', { id, class: 'cu-input cu-code', type: 'text', readonly: true, value: shown ?? 'Not available' }),
			copy));
}

async function setupUrls(el, row) {
	clear(el);
	let urls;
	try {
		urls = await api('GET', `providers/oauth2/${encodeURIComponent(row.pk)}/setup_urls/`);
	} catch (e) {
		el.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
		return;
	}
	el.append(h('h2', null, 'Setup URLs'),
		row.assigned_application_slug ? null : h('p', { class: 'cu-muted' }, 'Assign this provider to an application to get its issuer, provider info and logout URLs.'),
		urlRow('Client ID', row.client_id),
		urlRow('OpenID configuration issuer', urls.issuer),
		urlRow('Authorize URL', urls.authorize),
		urlRow('Token URL', urls.token),
		urlRow('Userinfo URL', urls.user_info),
		urlRow('OpenID configuration URL', urls.provider_info),
		urlRow('Logout URL', urls.logout),
		urlRow('JWKS URL', urls.jwks));
}

async function samlMetadata(el, row) {
	clear(el);
	const dl = safeUrl(`/api/v3/providers/saml/${encodeURIComponent(row.pk)}/metadata/?download`);
	el.append(h('h2', null, 'Metadata'));
	if (!row.assigned_application_slug) {
		el.append(h('p', { class: 'cu-muted' }, 'Metadata is available once an application uses this provider.'));
	} else {
		el.append(h('p', null, h('a', { class: 'cu-btn cu-btn-primary', href: dl, download: '' }, 'Download metadata')));
	}
	el.append(
		urlRow('Metadata URL', row.url_download_metadata),
		urlRow('SSO URL (POST)', row.url_sso_post),
		urlRow('SSO URL (Redirect)', row.url_sso_redirect),
		urlRow('SSO URL (IdP-initiated login)', row.url_sso_init),
		urlRow('SLO URL (POST)', row.url_slo_post),
		urlRow('SLO URL (Redirect)', row.url_slo_redirect));
	if (row.assigned_application_slug) {
		try {
			const md = await api('GET', `providers/saml/${encodeURIComponent(row.pk)}/metadata/`);
			const id = 'cu-saml-metadata-xml';
			el.append(h('div', { class: 'cu-field' },
				h('label', { for: id }, 'Metadata XML'),
				h('textarea', { id, class: 'cu-input cu-code', rows: 12, readonly: true, spellcheck: 'false', value: md.metadata || '' }),
				copyButton(md.metadata || '', 'Copy metadata')));
		} catch (e) {
			el.append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
		}
	}
}

function importSamlMetadata(reload) {
	const name = fieldInput({ name: 'name', label: 'Name', type: 'text', required: true });
	const authz = fieldInput({ name: 'authorization_flow', label: 'Authorization flow', type: 'ref', required: true, ref: flowRef('authorization') });
	const inval = fieldInput({ name: 'invalidation_flow', label: 'Invalidation flow', type: 'ref', required: true, ref: flowRef('invalidation') });
	const fileId = 'cu-saml-import-file';
	const file = h('input', { id: fileId, type: 'file', accept: '.xml,application/xml,text/xml', class: 'cu-input', 'aria-required': 'true' });
	const fileErr = h('div', { id: `${fileId}-err`, class: 'cu-field-error', hidden: true });
	const alert = h('div', { class: 'cu-alert cu-alert-error', role: 'alert', hidden: true });
	const submit = h('button', { type: 'submit', class: 'cu-btn cu-btn-primary' }, 'Import');
	let d = null;
	const setFileErr = (msgs) => {
		fileErr.textContent = (msgs || []).join(' ');
		fileErr.hidden = !fileErr.textContent;
		if (fileErr.hidden) {
			file.removeAttribute('aria-invalid');
			file.removeAttribute('aria-describedby');
		} else {
			file.setAttribute('aria-invalid', 'true');
			file.setAttribute('aria-describedby', fileErr.id);
		}
	};
	const form = h('form', { class: 'cu-form', novalidate: true },
		alert, name.node, authz.node, inval.node,
		h('div', { class: 'cu-field' }, h('label', { for: fileId }, 'Metadata file'), file, fileErr),
		h('div', { class: 'cu-actions' },
			h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => d.close() }, 'Cancel'),
			submit));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		alert.hidden = true;
		for (const f of [name, authz, inval])
			f.setError(null);
		setFileErr(null);
		const values = { name: name.get(), authorization_flow: authz.get(), invalidation_flow: inval.get() };
		let bad = false;
		for (const [k, f] of [['name', name], ['authorization_flow', authz], ['invalidation_flow', inval]])
			if (!values[k]) {
				f.setError(['This field is required.']);
				bad = true;
			}
		if (!file.files || !file.files[0]) {
			setFileErr(['Choose the service provider\'s metadata file.']);
			bad = true;
		}
		if (bad)
			return;
		const body = new FormData();
		body.append('name', values.name);
		body.append('authorization_flow', values.authorization_flow);
		body.append('invalidation_flow', values.invalidation_flow);
		body.append('file', file.files[0]);
		submit.disabled = true;
		try {
			const res = await api('POST', 'providers/saml/import_metadata/', { form: body });
			toast(`Imported SAML provider ${values.name}`);
			d.close();
			if (res && res.pk !== undefined)
				navigate(`#/providers/all/${encodeURIComponent(res.pk)}`);
			else if (reload)
				reload();
		} catch (e) {
			const other = [];
			for (const [k, msgs] of Object.entries(e.fields || {})) {
				const f = { name, authorization_flow: authz, invalidation_flow: inval }[k];
				if (f)
					f.setError(msgs);
				else if (k === 'file')
					setFileErr(msgs);
				else
					other.push(...msgs.map((m) => `${k}: ${m}`));
			}
			other.push(...(e.nonField || []));
			if (!Object.keys(e.fields || {}).length && !(e.nonField || []).length)
				other.push(e.detail || e.message);
			if (other.length) {
				clear(alert).append(...other.map((m) => h('p', null, m)));
				alert.hidden = false;
			}
		} finally {
			submit.disabled = false;
		}
	});
	d = openDialog('Import SAML metadata', form);
}

register({
	id: 'providers/all',
	nav: 'Applications', order: 20,
	title: 'Providers', singular: 'Provider',
	endpoint: 'providers/all/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'verbose_name', label: 'Type' },
		{ key: 'assigned_application_name', label: 'Application',
			render: (row) => row.assigned_application_name || h('span', { class: 'cu-muted' }, 'Not assigned') },
	],
	filters: [
		{ key: 'application__isnull', label: 'Without application', type: 'bool' },
	],
	kinds: [
		{ key: 'oauth2', label: 'OAuth2/OpenID Provider', endpoint: 'providers/oauth2/', fields: oauth2Fields,
			/* The API wants redirect_uris on create, even an empty list (which the form leaves out). */
			transform: (values, row) => (row ? values : { redirect_uris: [], ...values }),
			tabs: [{ label: 'Setup URLs', render: async (el, row) => setupUrls(el, row) }] },
		{ key: 'saml', label: 'SAML Provider', endpoint: 'providers/saml/', fields: samlFields,
			tabs: [{ label: 'Metadata', render: async (el, row) => samlMetadata(el, row) }] },
	],
	kindOf: providerKind,
	listExtras: (reload) => h('button', { type: 'button', class: 'cu-btn cu-btn-secondary', onClick: () => importSamlMetadata(reload) }, 'Import SAML metadata'),
});

/* ---- property mappings ---- */

function mappingKind(row) {
	const c = `${row.component || ''} ${row.meta_model_name || ''}`;
	return /saml/.test(c) ? 'saml' : 'scope';
}

const EXPRESSION_HELP = 'A Lua expression; request.user is the user the mapping runs for. Return a table (scope) or the attribute\'s value (SAML).';

function testMapping(row) {
	const box = h('div');
	const result = h('div', { class: 'cu-result', 'aria-live': 'polite' });
	renderForm(box, [
		{ name: 'user', label: 'User', type: 'ref', required: true, ref: userRef },
	], {}, {
		submitLabel: 'Test',
		submit: async (values) => {
			clear(result);
			const res = await api('POST', `propertymappings/all/${encodeURIComponent(row.pk)}/test/`, { query: { format_result: true }, body: { user: values.user } });
			const id = 'cu-mapping-test-result';
			result.append(
				h('div', { class: res.successful ? 'cu-alert cu-alert-ok' : 'cu-alert cu-alert-error' }, res.successful ? 'Successful' : 'Failed'),
				h('label', { for: id }, res.successful ? 'Result' : 'Error'),
				h('textarea', { id, class: 'cu-input cu-code', rows: 10, readonly: true, spellcheck: 'false', value: String(res.result ?? '') }));
			return res;
		},
	});
	box.append(result);
	openDialog(`Test ${row.name}`, box, { wide: true });
}

register({
	id: 'propertymappings/all',
	nav: 'Applications', order: 30,
	title: 'Property Mappings', singular: 'Property Mapping',
	endpoint: 'propertymappings/all/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'verbose_name', label: 'Type' },
		{ key: 'managed', label: 'Managed', render: (row) => (row.managed ? 'Yes' : 'No') },
	],
	filters: [
		{ key: 'managed__isnull', label: 'Not managed', type: 'bool' },
	],
	kinds: [
		{ key: 'scope', label: 'Scope Mapping', endpoint: 'propertymappings/provider/scope/', fields: [
			{ name: 'name', label: 'Name', type: 'text', required: true },
			{ name: 'scope_name', label: 'Scope name', type: 'text', required: true, help: 'The scope a client asks for, e.g. profile (no spaces).' },
			{ name: 'description', label: 'Description', type: 'text', help: 'Shown to the user on the consent screen.' },
			{ name: 'expression', label: 'Expression', type: 'code', required: true, rows: 12, help: EXPRESSION_HELP },
		] },
		{ key: 'saml', label: 'SAML Provider Property Mapping', endpoint: 'propertymappings/provider/saml/', fields: [
			{ name: 'name', label: 'Name', type: 'text', required: true },
			{ name: 'saml_name', label: 'SAML attribute name', type: 'text', required: true },
			{ name: 'friendly_name', label: 'Friendly name', type: 'text', nullable: true },
			{ name: 'expression', label: 'Expression', type: 'code', required: true, rows: 12, help: EXPRESSION_HELP },
		] },
	],
	kindOf: mappingKind,
	actions: [
		{ label: 'Test', run: async (row) => testMapping(row) },
	],
});
