/*
 * Admin model "Stages" under "Flows and Stages": every stage through stages/all/, each of the
 * twelve kinds created and edited through its own endpoint with its own fields.
 */
import { register } from '../registry.js';
import { h } from '../../common/dom.js';
import { flowRef, groupRef } from '../refs.js';

const NAV = 'Flows and Stages';

const DURATION_HELP = 'A duration such as "hours=1;minutes=30" (weeks, days, hours, minutes, seconds).';

const name = { name: 'name', label: 'Name', type: 'text', required: true };
const bool = (n, l, def, help) => ({ name: n, label: l, type: 'bool', default: def, help });
const text = (n, l, extra = {}) => ({ name: n, label: l, type: 'text', ...extra });
const select = (n, l, choices, extra = {}) => ({ name: n, label: l, type: 'select', choices, ...extra });
const flow = (n, l, designation, help) => ({ name: n, label: l, type: 'ref', nullable: true, ref: flowRef(designation), help });
const stageRef = (endpoint) => ({ endpoint, value: 'pk', search: true, label: (r) => r.name });

/* Multiple-choice fields go through a list input, one value a line, checked against these. */
const listOf = (n, l, values, extra = {}) => ({
	name: n, label: l, type: 'list', rows: values.length,
	help: `One a line, from: ${values.join(', ')}.`, ...extra,
});

const KINDS = [
	{
		key: 'identification', model: 'identificationstage', label: 'Identification Stage', endpoint: 'stages/identification/',
		description: 'Asks for a username or email address and finds the user.',
		fields: [
			name,
			listOf('user_fields', 'User fields', ['username', 'email', 'upn'], { default: ['username', 'email'] }),
			{ name: 'password_stage', label: 'Password stage', type: 'ref', nullable: true, ref: stageRef('stages/password/'),
				help: 'Ask for the password on the same page.' },
			bool('case_insensitive_matching', 'Case-insensitive matching', true),
			bool('show_matched_user', 'Show the matched user', true, 'Show the username or email that was found on the next stage.'),
			bool('pretend_user_exists', 'Pretend the user exists', true, 'Carry on to the next stage even when no user matches, so that names cannot be probed.'),
			bool('enable_remember_me', 'Offer "Remember me"', false),
			bool('show_source_labels', 'Show source labels', false),
			flow('enrollment_flow', 'Enrollment flow', 'enrollment', 'Offered as "Sign up".'),
			flow('recovery_flow', 'Recovery flow', 'recovery', 'Offered as "Forgot username or password?".'),
			flow('passwordless_flow', 'Passwordless flow', 'authentication'),
		],
	},
	{
		key: 'password', model: 'passwordstage', label: 'Password Stage', endpoint: 'stages/password/',
		description: 'Checks the user\'s password.',
		fields: [
			name,
			listOf('backends', 'Backends', ['authentik.core.auth.InbuiltBackend', 'authentik.core.auth.TokenBackend',
				'authentik.sources.ldap.auth.LDAPBackend', 'authentik.sources.kerberos.auth.KerberosBackend'],
			{ required: true, default: ['authentik.core.auth.InbuiltBackend'] }),
			flow('configure_flow', 'Configuration flow', 'stage_configuration', 'The flow a user runs to change this password.'),
			{ name: 'failed_attempts_before_cancel', label: 'Failed attempts before the flow is cancelled', type: 'number', default: 5 },
			bool('allow_show_password', 'Allow showing the password', false),
		],
	},
	{
		key: 'user_login', model: 'userloginstage', label: 'User Login Stage', endpoint: 'stages/user_login/',
		description: 'Logs the pending user in.',
		fields: [
			name,
			text('session_duration', 'Session duration', { default: 'seconds=0', help: `${DURATION_HELP} "seconds=0": until the browser closes.` }),
			text('remember_me_offset', 'Remember me offset', { default: 'seconds=0', help: `Added to the session duration when the user chose "Remember me". ${DURATION_HELP}` }),
			text('remember_device', 'Remember device', { default: 'days=30', help: DURATION_HELP }),
			bool('terminate_other_sessions', 'Terminate other sessions', false),
			select('network_binding', 'Network binding', [['no_binding', 'No binding'], ['bind_asn', 'Same ASN'],
				['bind_asn_network', 'Same ASN and network'], ['bind_asn_network_ip', 'Same ASN, network and IP address']], { default: 'no_binding' }),
			select('geoip_binding', 'GeoIP binding', [['no_binding', 'No binding'], ['bind_continent', 'Same continent'],
				['bind_continent_country', 'Same continent and country'], ['bind_continent_country_city', 'Same continent, country and city']], { default: 'no_binding' }),
		],
	},
	{
		key: 'user_logout', model: 'userlogoutstage', label: 'User Logout Stage', endpoint: 'stages/user_logout/',
		description: 'Ends the user\'s session.',
		fields: [name],
	},
	{
		key: 'deny', model: 'denystage', label: 'Deny Stage', endpoint: 'stages/deny/',
		description: 'Stops the flow with a message.',
		fields: [name, { name: 'deny_message', label: 'Message', type: 'textarea', rows: 2 }],
	},
	{
		key: 'dummy', model: 'dummystage', label: 'Dummy Stage', endpoint: 'stages/dummy/',
		description: 'Does nothing; for testing flows.',
		fields: [name, bool('throw_error', 'Fail with an error', false)],
	},
	{
		key: 'redirect', model: 'redirectstage', label: 'Redirect Stage', endpoint: 'stages/redirect/',
		description: 'Sends the user to an address or to another flow.',
		fields: [
			name,
			select('mode', 'Mode', [['static', 'Static: a fixed address'], ['flow', 'Flow: another flow']], { required: true, default: 'static' }),
			text('target_static', 'Target URL', { visible: (v) => v.mode !== 'flow' }),
			{ ...flow('target_flow', 'Target flow'), visible: (v) => v.mode === 'flow' },
			bool('keep_context', 'Keep the flow context', true, 'Hand the gathered context to the target flow.'),
		],
	},
	{
		key: 'consent', model: 'consentstage', label: 'Consent Stage', endpoint: 'stages/consent/',
		description: 'Asks the user to agree before continuing.',
		fields: [
			name,
			select('mode', 'Mode', [['always_require', 'Always ask'], ['permanent', 'Remember the consent forever'],
				['expiring', 'Remember the consent for a while']], { default: 'expiring' }),
			text('consent_expire_in', 'Consent expires in', { default: 'weeks=4', help: DURATION_HELP, visible: (v) => v.mode === 'expiring' }),
		],
	},
	{
		key: 'prompt', model: 'promptstage', label: 'Prompt Stage', endpoint: 'stages/prompt/stages/',
		description: 'Shows a form of prompts.',
		fields: [
			name,
			{ name: 'fields', label: 'Prompts', type: 'refs', required: true,
				ref: { endpoint: 'stages/prompt/prompts/', value: 'pk', search: true, label: (r) => `${r.name} (${r.field_key})` } },
			{ name: 'validation_policies', label: 'Validation policies', type: 'refs',
				ref: { endpoint: 'policies/all/', value: 'pk', search: true, label: (r) => `${r.name} (${r.verbose_name || 'Policy'})` },
				help: 'Policies that check the answers; the form is shown again while one fails.' },
		],
	},
	{
		key: 'user_write', model: 'userwritestage', label: 'User Write Stage', endpoint: 'stages/user_write/',
		description: 'Writes the gathered data to the user, creating the user when needed.',
		fields: [
			name,
			select('user_creation_mode', 'User creation', [['never_create', 'Never create users'],
				['create_when_required', 'Create users when required'], ['always_create', 'Always create new users']], { default: 'create_when_required' }),
			bool('create_users_as_inactive', 'Create users as inactive', false),
			select('user_type', 'User type', [['internal', 'Internal'], ['external', 'External'],
				['service_account', 'Service account'], ['internal_service_account', 'Internal service account']], { default: 'external' }),
			{ name: 'create_users_group', label: 'Group for new users', type: 'ref', nullable: true,
				ref: groupRef },
			text('user_path_template', 'User path template', { help: 'The path of created users, e.g. "users/%(slug)s".' }),
		],
	},
	{
		key: 'invitation', model: 'invitationstage', label: 'Invitation Stage', endpoint: 'stages/invitation/stages/',
		description: 'Checks the invitation of the link and fills in its data.',
		fields: [
			name,
			bool('continue_flow_without_invitation', 'Continue without an invitation', false,
				'Let the flow go on when the link carries no invitation; otherwise it stops.'),
		],
	},
	{
		key: 'email', model: 'emailstage', label: 'Email Stage', endpoint: 'stages/email/',
		description: 'Sends an email with a link the user must follow.',
		fields: [
			name,
			bool('use_global_settings', 'Use the global email settings', false),
			text('host', 'SMTP host', { default: 'localhost', visible: (v) => !v.use_global_settings }),
			{ name: 'port', label: 'SMTP port', type: 'number', default: 25, visible: (v) => !v.use_global_settings },
			text('username', 'SMTP username', { visible: (v) => !v.use_global_settings }),
			{ name: 'password', label: 'SMTP password', type: 'password', writeOnly: true, visible: (v) => !v.use_global_settings,
				help: 'Left empty on edit: the stored password is kept.' },
			{ ...bool('use_tls', 'Use STARTTLS', false), visible: (v) => !v.use_global_settings },
			{ ...bool('use_ssl', 'Use TLS', false), visible: (v) => !v.use_global_settings },
			{ name: 'timeout', label: 'Timeout (seconds)', type: 'number', default: 10, visible: (v) => !v.use_global_settings },
			text('from_address', 'From address', { default: 'system@authentik.local', visible: (v) => !v.use_global_settings }),
			text('subject', 'Subject', { default: 'authentik' }),
			select('template', 'Template', [['email/password_reset.html', 'Password Reset'],
				['email/account_confirmation.html', 'Account Confirmation'], ['email/email_otp.html', 'Email OTP'],
				['email/event_notification.html', 'Event Notification'], ['email/invitation.html', 'Invitation']],
			{ default: 'email/password_reset.html' }),
			text('token_expiry', 'Link valid for', { default: 'minutes=30', help: DURATION_HELP }),
			bool('activate_user_on_success', 'Activate the user when the link is followed', false),
			{ name: 'recovery_max_attempts', label: 'Recovery attempts', type: 'number', default: 5 },
			text('recovery_cache_timeout', 'Recovery attempt window', { default: 'minutes=5', help: DURATION_HELP }),
		],
	},
];

const byModel = new Map(KINDS.map((k) => [k.model, k]));

function kindOf(row) {
	const model = String(row.meta_model_name || '').split('.').pop();
	const k = byModel.get(model);
	return k ? k.key : null;
}

register({
	id: 'stages/all',
	nav: NAV, order: 20,
	title: 'Stages', singular: 'Stage',
	endpoint: 'stages/all/',
	search: true,
	ordering: 'name',
	columns: [
		{ key: 'name', label: 'Name', sort: 'name' },
		{ key: 'kind', label: 'Kind', render: (r) => r.verbose_name || '' },
		{ key: 'flows', label: 'Flows', render: (r) => {
			const flows = r.flow_set || [];
			if (!flows.length)
				return h('span', { class: 'cu-muted' }, 'Not bound');
			return h('span', null, flows.map((f, i) => [i ? ', ' : null,
				h('a', { href: `#/flows/instances/${encodeURIComponent(f.slug)}` }, f.name)]));
		} },
	],
	kinds: KINDS.map(({ key, label, endpoint, fields, description }) => ({ key, label, endpoint, fields, description })),
	kindOf,
	fields: [name],
});
