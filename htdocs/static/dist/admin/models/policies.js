/*
 * Admin screens for policies (every kind, listed together from policies/all/): create and edit
 * per kind, a test run against a chosen user, where each policy is bound, and the reputation
 * scores the reputation policy reads. Also the keyboard handling of code fields: Tab inserts a
 * tab; Escape, then Tab, leaves the field.
 */
import { register, registerPage } from '../registry.js';
import { api, apiList } from '../../common/api.js';
import { h, clear, openDialog, spinner } from '../../common/dom.js';
import { renderForm } from '../form.js';
import { renderList } from '../list.js';
import { userRef } from '../refs.js';

/* The event matcher's choices, as the API accepts them (lib/api/policies.c). */
const EVENT_ACTIONS = [
	'login', 'login_failed', 'logout', 'user_write', 'suspicious_request', 'password_set',
	'secret_view', 'secret_rotate', 'invitation_used', 'authorize_application', 'source_linked',
	'impersonation_started', 'impersonation_ended', 'flow_execution', 'policy_execution',
	'policy_exception', 'property_mapping_exception', 'system_task_execution',
	'system_task_exception', 'system_exception', 'configuration_error', 'configuration_warning',
	'model_created', 'model_updated', 'model_deleted', 'email_sent', 'update_available',
	'export_ready', 'review_initiated', 'review_overdue', 'review_attested', 'review_completed',
	'custom_',
];
const EVENT_APPS = [
	'authentik.commands', 'authentik.tenants', 'authentik.tasks', 'authentik.admin', 'authentik.api',
	'authentik.core', 'authentik.crypto', 'authentik.endpoints',
	'authentik.endpoints.connectors.agent', 'authentik.enterprise', 'authentik.events',
	'authentik.admin.files', 'authentik.flows', 'authentik.outposts', 'authentik.policies.dummy',
	'authentik.policies.event_matcher', 'authentik.policies.expiry', 'authentik.policies.expression',
	'authentik.policies.geoip', 'authentik.policies.password', 'authentik.policies.reputation',
	'authentik.policies', 'authentik.providers.ldap', 'authentik.providers.oauth2',
	'authentik.providers.proxy', 'authentik.providers.rac', 'authentik.providers.radius',
	'authentik.providers.saml', 'authentik.providers.scim', 'authentik.rbac', 'authentik.recovery',
	'authentik.sources.kerberos', 'authentik.sources.ldap', 'authentik.sources.oauth',
	'authentik.sources.plex', 'authentik.sources.saml', 'authentik.sources.scim',
	'authentik.sources.telegram', 'authentik.stages.authenticator',
	'authentik.stages.authenticator_duo', 'authentik.stages.authenticator_email',
	'authentik.stages.authenticator_sms', 'authentik.stages.authenticator_static',
	'authentik.stages.authenticator_totp', 'authentik.stages.authenticator_validate',
	'authentik.stages.authenticator_webauthn', 'authentik.stages.captcha', 'authentik.stages.consent',
	'authentik.stages.deny', 'authentik.stages.dummy', 'authentik.stages.email',
	'authentik.stages.identification', 'authentik.stages.invitation', 'authentik.stages.password',
	'authentik.stages.prompt', 'authentik.stages.redirect', 'authentik.stages.user_delete',
	'authentik.stages.user_login', 'authentik.stages.user_logout', 'authentik.stages.user_write',
	'authentik.tasks.schedules', 'authentik.brands', 'authentik.blueprints',
	'authentik.enterprise.audit', 'authentik.enterprise.endpoints.connectors.agent',
	'authentik.enterprise.endpoints.connectors.fleet', 'authentik.enterprise.lifecycle',
	'authentik.enterprise.policies.unique_password',
	'authentik.enterprise.providers.google_workspace',
	'authentik.enterprise.providers.microsoft_entra', 'authentik.enterprise.providers.radius',
	'authentik.enterprise.providers.scim', 'authentik.enterprise.providers.ssf',
	'authentik.enterprise.providers.ws_federation', 'authentik.enterprise.reports',
	'authentik.enterprise.search', 'authentik.enterprise.stages.authenticator_endpoint_gdtc',
	'authentik.enterprise.stages.mtls', 'authentik.enterprise.stages.source',
];
const EVENT_MODELS = [
	'authentik_tenants.domain', 'authentik_core.group', 'authentik_core.user',
	'authentik_core.application', 'authentik_core.applicationentitlement', 'authentik_core.token',
	'authentik_crypto.certificatekeypair', 'authentik_endpoints.deviceuserbinding',
	'authentik_endpoints.deviceaccessgroup', 'authentik_endpoints.endpointstage',
	'authentik_endpoints_connectors_agent.agentconnector',
	'authentik_endpoints_connectors_agent.agentdeviceuserbinding',
	'authentik_endpoints_connectors_agent.enrollmenttoken', 'authentik_enterprise.license',
	'authentik_events.event', 'authentik_events.notificationtransport',
	'authentik_events.notification', 'authentik_events.notificationrule',
	'authentik_events.notificationwebhookmapping', 'authentik_flows.flow',
	'authentik_flows.flowstagebinding', 'authentik_outposts.dockerserviceconnection',
	'authentik_outposts.kubernetesserviceconnection', 'authentik_outposts.outpost',
	'authentik_policies_dummy.dummypolicy', 'authentik_policies_event_matcher.eventmatcherpolicy',
	'authentik_policies_expiry.passwordexpirypolicy',
	'authentik_policies_expression.expressionpolicy', 'authentik_policies_geoip.geoippolicy',
	'authentik_policies_password.passwordpolicy', 'authentik_policies_reputation.reputationpolicy',
	'authentik_policies.policybinding', 'authentik_providers_ldap.ldapprovider',
	'authentik_providers_oauth2.scopemapping', 'authentik_providers_oauth2.oauth2provider',
	'authentik_providers_proxy.proxyprovider', 'authentik_providers_rac.racprovider',
	'authentik_providers_rac.endpoint', 'authentik_providers_rac.racpropertymapping',
	'authentik_providers_radius.radiusprovider',
	'authentik_providers_radius.radiusproviderpropertymapping',
	'authentik_providers_saml.samlprovider', 'authentik_providers_saml.samlpropertymapping',
	'authentik_providers_scim.scimprovider', 'authentik_providers_scim.scimmapping',
	'authentik_rbac.role', 'authentik_rbac.initialpermissions',
	'authentik_sources_kerberos.kerberossource',
	'authentik_sources_kerberos.kerberossourcepropertymapping',
	'authentik_sources_kerberos.userkerberossourceconnection',
	'authentik_sources_kerberos.groupkerberossourceconnection', 'authentik_sources_ldap.ldapsource',
	'authentik_sources_ldap.ldapsourcepropertymapping',
	'authentik_sources_ldap.userldapsourceconnection',
	'authentik_sources_ldap.groupldapsourceconnection', 'authentik_sources_oauth.oauthsource',
	'authentik_sources_oauth.oauthsourcepropertymapping',
	'authentik_sources_oauth.useroauthsourceconnection',
	'authentik_sources_oauth.groupoauthsourceconnection', 'authentik_sources_plex.plexsource',
	'authentik_sources_plex.plexsourcepropertymapping',
	'authentik_sources_plex.userplexsourceconnection',
	'authentik_sources_plex.groupplexsourceconnection', 'authentik_sources_saml.samlsource',
	'authentik_sources_saml.samlsourcepropertymapping',
	'authentik_sources_saml.usersamlsourceconnection',
	'authentik_sources_saml.groupsamlsourceconnection', 'authentik_sources_scim.scimsource',
	'authentik_sources_scim.scimsourcepropertymapping', 'authentik_sources_telegram.telegramsource',
	'authentik_sources_telegram.telegramsourcepropertymapping',
	'authentik_sources_telegram.usertelegramsourceconnection',
	'authentik_sources_telegram.grouptelegramsourceconnection',
	'authentik_stages_authenticator_duo.authenticatorduostage',
	'authentik_stages_authenticator_duo.duodevice',
	'authentik_stages_authenticator_email.authenticatoremailstage',
	'authentik_stages_authenticator_email.emaildevice',
	'authentik_stages_authenticator_sms.authenticatorsmsstage',
	'authentik_stages_authenticator_sms.smsdevice',
	'authentik_stages_authenticator_static.authenticatorstaticstage',
	'authentik_stages_authenticator_static.staticdevice',
	'authentik_stages_authenticator_totp.authenticatortotpstage',
	'authentik_stages_authenticator_totp.totpdevice',
	'authentik_stages_authenticator_validate.authenticatorvalidatestage',
	'authentik_stages_authenticator_webauthn.authenticatorwebauthnstage',
	'authentik_stages_authenticator_webauthn.webauthndevice', 'authentik_stages_captcha.captchastage',
	'authentik_stages_consent.consentstage', 'authentik_stages_deny.denystage',
	'authentik_stages_dummy.dummystage', 'authentik_stages_email.emailstage',
	'authentik_stages_identification.identificationstage',
	'authentik_stages_invitation.invitationstage', 'authentik_stages_invitation.invitation',
	'authentik_stages_password.passwordstage', 'authentik_stages_prompt.prompt',
	'authentik_stages_prompt.promptstage', 'authentik_stages_redirect.redirectstage',
	'authentik_stages_user_delete.userdeletestage', 'authentik_stages_user_login.userloginstage',
	'authentik_stages_user_logout.userlogoutstage', 'authentik_stages_user_write.userwritestage',
	'authentik_tasks_schedules.schedule', 'authentik_brands.brand',
	'authentik_blueprints.blueprintinstance', 'authentik_endpoints_connectors_fleet.fleetconnector',
	'authentik_lifecycle.lifecyclerule', 'authentik_lifecycle.lifecycleiteration',
	'authentik_lifecycle.review', 'authentik_policies_unique_password.uniquepasswordpolicy',
	'authentik_providers_google_workspace.googleworkspaceprovider',
	'authentik_providers_google_workspace.googleworkspaceprovidermapping',
	'authentik_providers_microsoft_entra.microsoftentraprovider',
	'authentik_providers_microsoft_entra.microsoftentraprovidermapping',
	'authentik_providers_ssf.ssfprovider', 'authentik_providers_ws_federation.wsfederationprovider',
	'authentik_reports.dataexport',
	'authentik_stages_authenticator_endpoint_gdtc.authenticatorendpointgdtcstage',
	'authentik_stages_mtls.mutualtlsstage', 'authentik_stages_source.sourcestage',
];

const humanize = (s) => (s.endsWith('_') ? `${s[0].toUpperCase()}${s.slice(1, -1).replace(/_/g, ' ')} (any)` : `${s[0].toUpperCase()}${s.slice(1).replace(/_/g, ' ')}`);

const CODE_HELP = 'Tab inserts a tab; press Escape, then Tab, to leave the field.';

/* ---- code fields: Tab inserts a tab, Escape then Tab moves on ---- */

function installCodeKeys() {
	if (document.documentElement.dataset.cuCodeKeys)
		return;
	document.documentElement.dataset.cuCodeKeys = '1';
	const released = new WeakSet();
	document.addEventListener('keydown', (ev) => {
		const t = ev.target;
		if (!(t instanceof HTMLTextAreaElement) || !t.closest('.cu-field-code') || t.readOnly || ev.defaultPrevented)
			return;
		if (ev.key === 'Escape') {
			/* the first Escape releases the field (and keeps a dialog open); a second one is the dialog's */
			if (!released.has(t)) {
				released.add(t);
				ev.preventDefault();
			}
			return;
		}
		if (ev.key !== 'Tab' || ev.ctrlKey || ev.altKey || ev.metaKey) {
			if (!['Shift', 'Tab'].includes(ev.key))
				released.delete(t);
			return;
		}
		if (released.has(t)) {
			released.delete(t);
			return;
		}
		ev.preventDefault();
		if (ev.shiftKey) {
			/* Shift+Tab takes one tab off the start of the line */
			const start = t.value.lastIndexOf('\n', t.selectionStart - 1) + 1;
			if (t.value[start] === '\t') {
				const pos = t.selectionStart;
				t.setRangeText('', start, start + 1, 'preserve');
				t.selectionStart = t.selectionEnd = Math.max(start, pos - 1);
				t.dispatchEvent(new Event('input', { bubbles: true }));
			}
			return;
		}
		if (!document.execCommand || !document.execCommand('insertText', false, '\t')) {
			t.setRangeText('\t', t.selectionStart, t.selectionEnd, 'end');
			t.dispatchEvent(new Event('input', { bubbles: true }));
		}
	});
	document.addEventListener('focusout', (ev) => {
		if (ev.target instanceof HTMLTextAreaElement)
			released.delete(ev.target);
	});
}

installCodeKeys();

/* ---- policies ---- */

const nameFields = [
	{ name: 'name', label: 'Name', type: 'text', required: true },
	{ name: 'execution_logging', label: 'Execution logging', type: 'bool', default: false,
		help: 'Log every run of this policy, not only its failures.' },
];

const KINDS = [
	{ key: 'expression', label: 'Expression Policy', endpoint: 'policies/expression/', description: 'Runs a Lua expression.', fields: [
		...nameFields,
		{ name: 'expression', label: 'Expression', type: 'code', required: true, rows: 14,
			help: `Lua; return true to pass. request.user is the user, ak_message("...") shows a message. ${CODE_HELP}` },
	] },
	{ key: 'password', label: 'Password Policy', endpoint: 'policies/password/', description: 'Checks a password against rules.', fields: [
		...nameFields,
		{ name: 'password_field', label: 'Password field', type: 'text', default: 'password', required: true,
			help: 'The prompt field that holds the password.' },
		{ name: 'error_message', label: 'Error message', type: 'text' },
		{ name: 'check_static_rules', label: 'Check static rules', type: 'bool', default: true },
		{ name: 'length_min', label: 'Minimum length', type: 'number', default: 0, visible: (v) => v.check_static_rules },
		{ name: 'amount_digits', label: 'Minimum digits', type: 'number', default: 0, visible: (v) => v.check_static_rules },
		{ name: 'amount_uppercase', label: 'Minimum uppercase letters', type: 'number', default: 0, visible: (v) => v.check_static_rules },
		{ name: 'amount_lowercase', label: 'Minimum lowercase letters', type: 'number', default: 0, visible: (v) => v.check_static_rules },
		{ name: 'amount_symbols', label: 'Minimum symbols', type: 'number', default: 0, visible: (v) => v.check_static_rules },
		{ name: 'symbol_charset', label: 'Symbols', type: 'text', default: '!\\"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ',
			visible: (v) => v.check_static_rules, help: 'The characters that count as symbols.' },
		{ name: 'check_have_i_been_pwned', label: 'Check against breached passwords', type: 'bool', default: false,
			help: 'Looks the password up in the server\'s list of breached passwords.' },
		{ name: 'hibp_allowed_count', label: 'Allowed breach count', type: 'number', default: 0, visible: (v) => v.check_have_i_been_pwned },
		{ name: 'check_zxcvbn', label: 'Check strength (zxcvbn)', type: 'bool', default: false },
		{ name: 'zxcvbn_score_threshold', label: 'Minimum strength score', type: 'number', default: 2, visible: (v) => v.check_zxcvbn,
			help: '0 (weakest) to 4 (strongest).' },
	] },
	{ key: 'password_expiry', label: 'Password Expiry Policy', endpoint: 'policies/password_expiry/', description: 'Fails when the password is older than a number of days.', fields: [
		...nameFields,
		{ name: 'days', label: 'Maximum age (days)', type: 'number', required: true },
		{ name: 'deny_only', label: 'Only deny', type: 'bool', default: false, help: 'Fail without marking the password unusable.' },
	] },
	{ key: 'reputation', label: 'Reputation Policy', endpoint: 'policies/reputation/', description: 'Fails when the IP or username has a low reputation.', fields: [
		...nameFields,
		{ name: 'check_ip', label: 'Check IP', type: 'bool', default: true },
		{ name: 'check_username', label: 'Check username', type: 'bool', default: true },
		{ name: 'threshold', label: 'Threshold', type: 'number', default: -5, help: 'The policy fails at or below this score.' },
	] },
	{ key: 'unique_password', label: 'Unique Password Policy', endpoint: 'policies/unique_password/', description: 'Refuses passwords the user had before.', fields: [
		...nameFields,
		{ name: 'password_field', label: 'Password field', type: 'text', default: 'password', required: true },
		{ name: 'num_historical_passwords', label: 'Number of previous passwords', type: 'number', default: 1 },
	] },
	{ key: 'dummy', label: 'Dummy Policy', endpoint: 'policies/dummy/', description: 'A fixed result after a random wait, for testing.', fields: [
		...nameFields,
		{ name: 'result', label: 'Result', type: 'bool', default: false, help: 'Pass when checked.' },
		{ name: 'wait_min', label: 'Minimum wait (seconds)', type: 'number', default: 5 },
		{ name: 'wait_max', label: 'Maximum wait (seconds)', type: 'number', default: 30 },
	] },
	{ key: 'event_matcher', label: 'Event Matcher Policy', endpoint: 'policies/event_matcher/', description: 'Passes when an event matches the criteria.', fields: [
		...nameFields,
		{ name: 'action', label: 'Action', type: 'select', nullable: true, choices: EVENT_ACTIONS.map((a) => [a, humanize(a)]) },
		{ name: 'client_ip', label: 'Client IP', type: 'text', nullable: true, help: 'Matches the event\'s client IP exactly.' },
		{ name: 'app', label: 'App', type: 'select', nullable: true, choices: EVENT_APPS.map((a) => [a, a]) },
		{ name: 'model', label: 'Model', type: 'select', nullable: true, choices: EVENT_MODELS.map((m) => [m, m]) },
	] },
];

const MODEL_KIND = {
	expressionpolicy: 'expression', passwordpolicy: 'password', passwordexpirypolicy: 'password_expiry',
	reputationpolicy: 'reputation', uniquepasswordpolicy: 'unique_password', dummypolicy: 'dummy',
	eventmatcherpolicy: 'event_matcher',
};

function policyKind(row) {
	const model = String(row.meta_model_name || '').split('.').pop();
	if (MODEL_KIND[model])
		return MODEL_KIND[model];
	const c = String(row.component || '').replace(/^ak-policy-/, '').replace(/-form$/, '').replace(/-/g, '_');
	return c === 'expiry' ? 'password_expiry' : c;
}


function testPolicy(row) {
	const box = h('div');
	const result = h('div', { class: 'cu-result', 'aria-live': 'polite' });
	renderForm(box, [
		{ name: 'user', label: 'User', type: 'ref', required: true, ref: userRef },
		{ name: 'context', label: 'Context', type: 'json', nullable: true, rows: 5,
			help: 'Optional JSON object given to the policy as its request context.' },
	], {}, {
		submitLabel: 'Test',
		submit: async (values) => {
			clear(result);
			const body = { user: values.user };
			if (values.context)
				body.context = values.context;
			const res = await api('POST', `policies/all/${encodeURIComponent(row.pk)}/test/`, { body });
			const msgs = res.messages || [];
			const logs = res.log_messages || [];
			result.append(
				h('div', { class: res.passing ? 'cu-alert cu-alert-ok' : 'cu-alert cu-alert-error' }, res.passing ? 'Passing' : 'Not passing'),
				h('h3', null, 'Messages'),
				msgs.length ? h('ul', null, msgs.map((m) => h('li', null, typeof m === 'string' ? m : JSON.stringify(m)))) : h('p', { class: 'cu-muted' }, 'No messages.'),
				h('h3', null, 'Log messages'),
				logs.length ? h('ul', { class: 'cu-log' }, logs.map((l) => h('li', null,
					typeof l === 'object' && l ? [l.log_level ? h('span', { class: 'cu-badge' }, l.log_level) : null, ' ', l.event || '',
						l.attributes && Object.keys(l.attributes).length ? h('code', null, ` ${JSON.stringify(l.attributes)}`) : null] : String(l)))) : h('p', { class: 'cu-muted' }, 'No log messages.'));
			return res;
		},
	});
	box.append(result);
	openDialog(`Test ${row.name}`, box, { wide: true });
}

/* Where the policy is bound: a read-only, paged table. */
async function policyBindings(el, row) {
	let page = 1;
	const body = h('div');
	clear(el).append(h('h2', null, 'Bindings'), body);
	const load = async () => {
		clear(body).append(spinner());
		let data;
		try {
			data = await apiList('policies/bindings/', { policy: row.pk, ordering: 'target', page, page_size: 20 });
		} catch (e) {
			clear(body).append(h('div', { class: 'cu-alert cu-alert-error', role: 'alert' }, e.detail || e.message));
			return;
		}
		const p = data.pagination || {};
		clear(body);
		if (!data.results.length) {
			body.append(h('p', { class: 'cu-empty' }, 'This policy is not bound to anything.'));
			return;
		}
		body.append(h('div', { class: 'cu-table-wrap' }, h('table', { class: 'cu-table' },
			h('thead', null, h('tr', null, ['Target', 'Order', 'Enabled', 'Negate', 'Timeout'].map((t) => h('th', { scope: 'col' }, t)))),
			h('tbody', null, data.results.map((b) => h('tr', null,
				h('td', null, h('code', null, String(b.target))),
				h('td', null, String(b.order)),
				h('td', null, b.enabled ? 'Yes' : 'No'),
				h('td', null, b.negate ? 'Yes' : 'No'),
				h('td', null, `${b.timeout} s`)))))));
		if ((p.total_pages || 1) > 1)
			body.append(h('div', { class: 'cu-pager' },
				h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.previous, onClick: () => { page -= 1; load(); } }, 'Previous'),
				h('span', null, ` ${p.start_index}–${p.end_index} of ${p.count} `),
				h('button', { type: 'button', class: 'cu-btn cu-btn-secondary cu-btn-small', disabled: !p.next, onClick: () => { page += 1; load(); } }, 'Next')));
	};
	await load();
}

register({
	id: 'policies/all',
	nav: 'Customization', order: 10,
	title: 'Policies', singular: 'Policy',
	endpoint: 'policies/all/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'verbose_name', label: 'Type' },
		{ key: 'bound_to', label: 'Bound to', render: (row) => (row.bound_to
			? `${row.bound_to} object${row.bound_to === 1 ? '' : 's'}`
			: h('span', { class: 'cu-badge cu-badge-danger' }, 'Not bound')) },
	],
	filters: [
		{ key: 'bindings__isnull', label: 'Not bound', type: 'bool' },
	],
	kinds: KINDS,
	kindOf: policyKind,
	actions: [
		{ label: 'Test', run: async (row) => testPolicy(row) },
	],
	tabs: [
		{ label: 'Bindings', render: async (el, row) => policyBindings(el, row) },
	],
});

/* ---- reputation scores: a list with delete, no detail page (the API has none) ---- */

const scores = {
	id: 'policies/reputation/scores',
	title: 'Reputation Scores', singular: 'Reputation Score',
	endpoint: 'policies/reputation/scores/',
	display: (row) => (row.identifier ? `user ${row.identifier}` : `IP ${row.ip}`),
	create: false, edit: false, remove: true,
	columns: [
		{ key: 'identifier', label: 'Identifier', render: (row) => row.identifier || h('span', { class: 'cu-muted' }, '–') },
		{ key: 'ip', label: 'IP' },
		{ key: 'score', label: 'Score' },
		{ key: 'updated', label: 'Updated' },
	],
};

registerPage({
	route: 'policies/reputation/scores',
	title: 'Reputation Scores',
	nav: 'Customization', order: 11,
	render: async (el) => {
		renderList(el, scores, { onOpen: () => {} });
	},
});
