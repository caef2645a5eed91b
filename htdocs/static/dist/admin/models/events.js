/*
 * Admin models under "Events": the event log (read-only), notification rules (policy binding
 * targets) and notification transports (with a test send).
 */
import { register } from '../registry.js';
import { renderPolicyBindings } from '../bindings.js';
import { api } from '../../common/api.js';
import { h, openDialog, toast, fmtDate, fmtRelative } from '../../common/dom.js';
import { groupRef } from '../refs.js';

const NAV = 'Events';

/* The actions events/events/actions/ lists; refreshed from the API when the module loads. */
const ACTIONS = [
	['login', 'Login'], ['login_failed', 'Login Failed'], ['logout', 'Logout'], ['user_write', 'User Write'],
	['suspicious_request', 'Suspicious Request'], ['password_set', 'Password Set'], ['secret_view', 'Secret View'],
	['secret_rotate', 'Secret Rotate'], ['invitation_used', 'Invite Used'], ['authorize_application', 'Authorize Application'],
	['source_linked', 'Source Linked'], ['impersonation_started', 'Impersonation Started'],
	['impersonation_ended', 'Impersonation Ended'], ['flow_execution', 'Flow Execution'],
	['policy_execution', 'Policy Execution'], ['policy_exception', 'Policy Exception'],
	['property_mapping_exception', 'Property Mapping Exception'], ['system_task_execution', 'System Task Execution'],
	['system_task_exception', 'System Task Exception'], ['system_exception', 'System Exception'],
	['configuration_error', 'Configuration Error'], ['configuration_warning', 'Configuration Warning'],
	['model_created', 'Model Created'], ['model_updated', 'Model Updated'], ['model_deleted', 'Model Deleted'],
	['email_sent', 'Email Sent'], ['update_available', 'Update Available'],
];

let actionsLoaded = null;
function loadActions() {
	if (!actionsLoaded) {
		actionsLoaded = api('GET', 'events/events/actions/').then((list) => {
			if (!Array.isArray(list) || !list.length)
				return;
			const fresh = list.filter((a) => a && a.component).map((a) => [a.component, a.name || a.component]);
			ACTIONS.splice(0, ACTIONS.length, ...fresh);
		}).catch(() => { actionsLoaded = null; });
	}
	return actionsLoaded;
}

/* The apps whose objects events name (context.model.app). */
const MODEL_APPS = ['authentik_core', 'authentik_brands', 'authentik_crypto', 'authentik_events', 'authentik_flows',
	'authentik_policies', 'authentik_providers_oauth2', 'authentik_providers_saml', 'authentik_rbac',
	'authentik_stages_consent', 'authentik_stages_deny', 'authentik_stages_dummy', 'authentik_stages_email',
	'authentik_stages_identification', 'authentik_stages_invitation', 'authentik_stages_password',
	'authentik_stages_prompt', 'authentik_stages_redirect', 'authentik_stages_user_login',
	'authentik_stages_user_logout', 'authentik_stages_user_write', 'authentik_tasks', 'authentik_tasks_schedules',
].map((a) => [a, a]);

const actionLabel = (a) => (ACTIONS.find(([k]) => k === a) || [a, a])[1];

function when(iso) {
	if (!iso)
		return '';
	return h('time', { datetime: iso, title: fmtDate(iso) }, fmtRelative(iso));
}

register({
	id: 'events/events',
	nav: NAV, order: 10,
	title: 'Event Logs', singular: 'Event',
	endpoint: 'events/events/',
	display: (row) => `${actionLabel(row.action)}${row.user && row.user.username ? ` by ${row.user.username}` : ''}`,
	search: true,
	ordering: '-created',
	create: false, edit: false, remove: false,
	columns: [
		{ key: 'action', label: 'Action', sort: 'action', render: (r) => actionLabel(r.action) },
		{ key: 'user', label: 'User', render: (r) => (r.user && r.user.username ? r.user.username : '') },
		{ key: 'app', label: 'App', sort: 'app' },
		{ key: 'client_ip', label: 'Client IP', sort: 'client_ip' },
		{ key: 'created', label: 'Created', sort: 'created', render: (r) => when(r.created) },
	],
	filters: [
		{ key: 'actions', label: 'Action', type: 'select', choices: ACTIONS },
		{ key: 'context_model_app', label: 'Object app', type: 'select', choices: MODEL_APPS },
		{ key: 'username', label: 'Username', type: 'text' },
		{ key: 'client_ip', label: 'Client IP', type: 'text' },
		{ key: 'context_model_name', label: 'Object model', type: 'text', placeholder: 'user' },
	],
	/* Shown read-only on the detail page; the JSON ones pretty-printed. */
	fields: [
		{ name: 'action', label: 'Action' },
		{ name: 'created', label: 'Created' },
		{ name: 'expires', label: 'Expires' },
		{ name: 'app', label: 'App' },
		{ name: 'client_ip', label: 'Client IP' },
		{ name: 'user', label: 'User', type: 'json' },
		{ name: 'context', label: 'Context', type: 'json' },
		{ name: 'brand', label: 'Brand', type: 'json' },
	],
});
loadActions();

/* --- notification rules ---------------------------------------------------------------------- */

const SEVERITIES = [['notice', 'Notice'], ['warning', 'Warning'], ['alert', 'Alert']];

register({
	id: 'events/rules',
	nav: NAV, order: 20,
	title: 'Notification Rules', singular: 'Notification Rule',
	endpoint: 'events/rules/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'severity', label: 'Severity', sort: 'severity', render: (r) => (SEVERITIES.find(([k]) => k === r.severity) || [0, r.severity])[1] },
		{ key: 'destination_group', label: 'Sent to', render: (r) => [
			r.destination_group_obj ? `group ${r.destination_group_obj.name}` : null,
			r.destination_event_user ? 'the event\'s user' : null,
		].filter(Boolean).join(' and ') || h('span', { class: 'cu-muted' }, 'Nobody') },
		{ key: 'transports', label: 'Transports', render: (r) => String((r.transports || []).length) },
	],
	filters: [
		{ key: 'severity', label: 'Severity', type: 'select', choices: SEVERITIES },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'transports', label: 'Transports', type: 'refs',
			ref: { endpoint: 'events/transports/', value: 'pk', search: true, label: (r) => `${r.name} (${r.mode_verbose || r.mode})` },
			help: 'How notifications are delivered. Without a transport, nothing is sent.' },
		{ name: 'severity', label: 'Severity', type: 'select', default: 'notice', choices: SEVERITIES },
		{ name: 'destination_group', label: 'Send to group', type: 'ref', nullable: true,
			ref: groupRef },
		{ name: 'destination_event_user', label: 'Send to the event\'s user', type: 'bool', default: false,
			help: 'Also notify the user the event is about.' },
	],
	tabs: [
		{ label: 'Policy / Group / User Bindings', render: (el, row, ctx) => renderPolicyBindings(el, row.pk, ctx, {
			title: 'Policy / Group / User Bindings',
		}) },
	],
});

/* --- notification transports ----------------------------------------------------------------- */

const MODES = [
	['local', 'Local notifications (shown in the user interface)'],
	['webhook', 'Generic webhook'],
	['webhook_slack', 'Slack webhook (Slack/Discord)'],
	['email', 'Email'],
];
const isWebhook = (v) => v.mode === 'webhook' || v.mode === 'webhook_slack';

function testResult(row, ok, lines) {
	const body = h('div', null,
		h('div', { class: ok ? 'cu-alert cu-alert-ok' : 'cu-alert cu-alert-error', role: ok ? 'status' : 'alert' },
			ok ? `A test notification went out through ${row.name}.` : `Sending through ${row.name} failed.`),
		lines.length ? h('pre', { class: 'cu-code', tabindex: '0', 'aria-label': 'Result' }, lines.join('\n')) : null);
	openDialog('Test notification', body);
}

register({
	id: 'events/transports',
	nav: NAV, order: 30,
	title: 'Notification Transports', singular: 'Notification Transport',
	endpoint: 'events/transports/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'mode', label: 'Mode', sort: 'mode', render: (r) => r.mode_verbose || r.mode },
		{ key: 'webhook_url', label: 'Webhook URL', render: (r) => r.webhook_url || '' },
		{ key: 'send_once', label: 'Send once', render: (r) => (r.send_once ? 'Yes' : 'No') },
	],
	filters: [
		{ key: 'mode', label: 'Mode', type: 'select', choices: MODES },
	],
	fields: [
		{ name: 'name', label: 'Name', type: 'text', required: true },
		{ name: 'mode', label: 'Mode', type: 'select', required: true, default: 'local', choices: MODES },
		{ name: 'webhook_url', label: 'Webhook URL', type: 'text', placeholder: 'https://', visible: isWebhook,
			help: 'The notification is POSTed here as JSON.' },
		{ name: 'email_subject_prefix', label: 'Subject prefix', type: 'text', default: 'authentik Notification: ',
			visible: (v) => v.mode === 'email' },
		{ name: 'email_template', label: 'Email template', type: 'text', default: 'email/event_notification',
			visible: (v) => v.mode === 'email' },
		{ name: 'send_once', label: 'Send once', type: 'bool', default: false,
			help: 'Send a notification only once per user, not again for every matching event.' },
	],
	actions: [
		{
			label: 'Send test notification',
			run: async (row) => {
				try {
					const res = await api('POST', `events/transports/${encodeURIComponent(row.pk)}/test/`);
					const msgs = (res && Array.isArray(res.messages)) ? res.messages.map(String) : [];
					toast(`Test notification sent through ${row.name}`);
					testResult(row, true, msgs);
				} catch (e) {
					const why = typeof e.body === 'string' && e.body ? [e.body] : [e.detail || e.message];
					toast(`Test notification failed: ${why[0]}`, 'error');
					testResult(row, false, why);
				}
			},
		},
	],
});
