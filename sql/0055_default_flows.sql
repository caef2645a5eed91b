-- The default flows, with authentik's slugs, names, titles and stage names (its blueprints
-- default/flow-*.yaml, and example/flows-recovery-email-verification.yaml and
-- flows-enrollment-email-verification.yaml for recovery and enrollment), the default brand's
-- links to them, and the guard that lets initial-setup run once.
--
-- Where authentik's blueprints differ from what is here, on purpose:
-- - No MFA validation stage in default-authentication-flow, and none of the Python expression
--   policies that only serve MFA or passwordless logins (password-optional,
--   authenticator-validate-optional) or a restored recovery (skip-if-restored: a resumed
--   recovery link continues its parked plan past the email stage). The user settings checks
--   are here, written in Lua as custos expressions are.
-- - The user settings prompts carry no initial value expression: the prompt stage fills a
--   settings flow's fields from the user's own by field key.
-- - initial-setup writes akadmin through its own user write stage (target_username, a custos
--   extension) instead of a prefill policy, and is closed by a trigger on users below instead
--   of a policy that edits the flow.

-- Stage configs use authentik's field names; absent fields take authentik's defaults.
INSERT INTO stages (name, type, config) VALUES
	('default-authentication-identification', 'identificationstage',
	 '{"user_fields": ["email", "username"]}'),
	('default-authentication-password', 'passwordstage',
	 '{"backends": ["authentik.core.auth.InbuiltBackend",
	   "authentik.sources.kerberos.auth.KerberosBackend",
	   "authentik.sources.ldap.auth.LDAPBackend", "authentik.core.auth.TokenBackend"]}'),
	('default-authentication-login', 'userloginstage', '{}'),
	('default-invalidation-logout', 'userlogoutstage', '{}'),
	('default-provider-authorization-consent', 'consentstage',
	 '{"mode": "expiring", "consent_expire_in": "weeks=4"}'),
	('default-user-settings', 'promptstage', '{}'),
	('default-user-settings-write', 'userwritestage', '{"user_creation_mode": "never_create"}'),
	('default-password-change-prompt', 'promptstage', '{}'),
	('default-password-change-write', 'userwritestage',
	 '{"user_creation_mode": "never_create"}'),
	('default-recovery-identification', 'identificationstage',
	 '{"user_fields": ["email", "username"]}'),
	('default-recovery-email', 'emailstage',
	 '{"use_global_settings": true, "host": "localhost", "port": 25, "username": "",
	   "use_tls": false, "use_ssl": false, "timeout": 10,
	   "from_address": "system@authentik.local", "token_expiry": "minutes=30",
	   "subject": "authentik", "template": "email/password_reset.html",
	   "activate_user_on_success": true, "recovery_max_attempts": 5,
	   "recovery_cache_timeout": "minutes=5"}'),
	('Change your password', 'promptstage', '{}'),
	('default-recovery-user-write', 'userwritestage', '{"user_creation_mode": "never_create"}'),
	('default-recovery-user-login', 'userloginstage', '{}'),
	('default-enrollment-prompt-first', 'promptstage', '{}'),
	('default-enrollment-prompt-second', 'promptstage', '{}'),
	('default-enrollment-user-write', 'userwritestage',
	 '{"create_users_as_inactive": true, "user_creation_mode": "always_create"}'),
	('default-enrollment-email-verification', 'emailstage',
	 '{"use_global_settings": true, "template": "email/account_confirmation.html",
	   "activate_user_on_success": true}'),
	('default-enrollment-user-login', 'userloginstage', '{}'),
	('stage-default-oobe-password', 'promptstage', '{}'),
	-- authentik writes with default-password-change-write after a policy made akadmin the
	-- pending user; here the stage itself names its user.
	('default-oobe-write', 'userwritestage',
	 '{"user_creation_mode": "never_create", "target_username": "akadmin"}')
ON CONFLICT (name) DO NOTHING;

INSERT INTO flows (slug, name, title, designation, authentication, denied_action) VALUES
	('default-authentication-flow', 'Welcome to authentik!', 'Welcome to authentik!',
	 'authentication', 'none', 'message_continue'),
	('default-invalidation-flow', 'Logout', 'Default Invalidation Flow', 'invalidation', 'none',
	 'message_continue'),
	('default-provider-authorization-explicit-consent', 'Authorize Application',
	 'Redirecting to %(app)s', 'authorization', 'require_authenticated', 'message_continue'),
	('default-provider-authorization-implicit-consent', 'Authorize Application',
	 'Redirecting to %(app)s', 'authorization', 'require_authenticated', 'message_continue'),
	('default-provider-invalidation-flow', 'Logged out of application',
	 'You''ve logged out of %(app)s.', 'invalidation', 'none', 'message_continue'),
	('default-user-settings-flow', 'User settings', 'Update your info', 'stage_configuration',
	 'require_authenticated', 'message_continue'),
	('default-password-change', 'Change Password', 'Change password', 'stage_configuration',
	 'require_authenticated', 'message_continue'),
	('default-recovery-flow', 'Default recovery flow', 'Reset your password', 'recovery',
	 'require_unauthenticated', 'message_continue'),
	('default-enrollment-flow', 'Default enrollment Flow', 'Welcome to authentik!',
	 'enrollment', 'require_unauthenticated', 'message_continue'),
	('initial-setup', 'default-oobe-setup', 'Welcome to authentik!', 'stage_configuration',
	 'none', 'message_continue')
ON CONFLICT (slug) DO NOTHING;

-- The password stage offers the password change flow to users who must set a new one.
UPDATE stages SET config = config || jsonb_build_object('configure_flow',
	(SELECT flow_uuid FROM flows WHERE slug = 'default-password-change'))
WHERE name = 'default-authentication-password';

INSERT INTO prompts (name, field_key, label, type, required, placeholder, initial_value,
	"order") VALUES
	('default-user-settings-field-username', 'username', 'Username', 'username', true,
	 'Username', '', 200),
	('default-user-settings-field-name', 'name', 'Name', 'text', true, 'Name', '', 201),
	('default-user-settings-field-email', 'email', 'Email', 'email', true, 'Email', '', 202),
	('default-user-settings-field-locale', 'attributes.settings.locale', 'Locale', 'ak-locale',
	 true, 'Locale', '', 203),
	('default-password-change-field-password', 'password', 'Password', 'password', true,
	 'Password', '', 300),
	('default-password-change-field-password-repeat', 'password_repeat', 'Password (repeat)',
	 'password', true, 'Password (repeat)', '', 301),
	('default-recovery-field-password', 'password', 'Password', 'password', true, 'Password',
	 '', 0),
	('default-recovery-field-password-repeat', 'password_repeat', 'Password (repeat)',
	 'password', true, 'Password (repeat)', '', 1),
	('default-enrollment-field-username', 'username', 'Username', 'username', true, 'Username',
	 '', 0),
	('default-enrollment-field-password', 'password', 'Password', 'password', true, 'Password',
	 '', 0),
	('default-enrollment-field-password-repeat', 'password_repeat', 'Password (repeat)',
	 'password', true, 'Password (repeat)', '', 1),
	('default-enrollment-field-name', 'name', 'Name', 'text', true, 'Name', '', 0),
	('default-enrollment-field-email', 'email', 'Email', 'email', true, 'Email', '', 1),
	('initial-setup-field-header', 'oobe-header-text', 'oobe-header-text', 'static', true, '',
	 'Welcome to authentik! Please set a password and email address for the default admin '
	 'user, akadmin.', 100),
	('initial-setup-field-email', 'email', 'Email', 'email', true, 'Admin email', '', 101),
	('initial-setup-field-password', 'password', 'Password', 'password', true, 'Password', '',
	 300),
	('initial-setup-field-password-repeat', 'password_repeat', 'Password (repeat)', 'password',
	 true, 'Password (repeat)', '', 301)
ON CONFLICT (name) DO NOTHING;

INSERT INTO prompt_stage_fields (stage, prompt)
SELECT s.stage_uuid, p.prompt_uuid
FROM (VALUES
	('default-user-settings', 'default-user-settings-field-username'),
	('default-user-settings', 'default-user-settings-field-name'),
	('default-user-settings', 'default-user-settings-field-email'),
	('default-user-settings', 'default-user-settings-field-locale'),
	('default-password-change-prompt', 'default-password-change-field-password'),
	('default-password-change-prompt', 'default-password-change-field-password-repeat'),
	('Change your password', 'default-recovery-field-password'),
	('Change your password', 'default-recovery-field-password-repeat'),
	('default-enrollment-prompt-first', 'default-enrollment-field-username'),
	('default-enrollment-prompt-first', 'default-enrollment-field-password'),
	('default-enrollment-prompt-first', 'default-enrollment-field-password-repeat'),
	('default-enrollment-prompt-second', 'default-enrollment-field-name'),
	('default-enrollment-prompt-second', 'default-enrollment-field-email'),
	('stage-default-oobe-password', 'initial-setup-field-header'),
	('stage-default-oobe-password', 'initial-setup-field-email'),
	('stage-default-oobe-password', 'initial-setup-field-password'),
	('stage-default-oobe-password', 'initial-setup-field-password-repeat')
) AS v (stage, prompt)
JOIN stages s ON s.name = v.stage
JOIN prompts p ON p.name = v.prompt
ON CONFLICT DO NOTHING;

-- The password change flow's rules: 8 characters or more and a zxcvbn score of 2 or more.
INSERT INTO policies (name, type) VALUES ('default-password-change-password-policy',
	'passwordpolicy') ON CONFLICT (name) DO NOTHING;
INSERT INTO password_policies (policy_uuid, password_field, length_min, error_message,
	check_static_rules, check_zxcvbn, zxcvbn_score_threshold)
SELECT policy_uuid, 'password', 8, 'Password needs to be 8 characters or longer.', true, true, 2
FROM policies WHERE name = 'default-password-change-password-policy'
ON CONFLICT (policy_uuid) DO NOTHING;
INSERT INTO prompt_stage_validation_policies (stage, policy)
SELECT s.stage_uuid, p.policy_uuid FROM stages s, policies p
WHERE s.name = 'default-password-change-prompt'
	AND p.name = 'default-password-change-password-policy'
ON CONFLICT DO NOTHING;

-- The user settings flow's checks, authentik's default-user-settings-authorization in Lua: a
-- user may change their name but not their email address or username (authentik's defaults
-- default_user_change_name true, _email and _username false), unless the user's attributes
-- say otherwise, as authentik's group attributes can.
INSERT INTO policies (name, type) VALUES ('default-user-settings-authorization',
	'expressionpolicy') ON CONFLICT (name) DO NOTHING;
INSERT INTO expression_policies (policy_uuid, expression)
SELECT policy_uuid, $lua$local prompt_data = request.context["prompt_data"] or {}
local user = request.user
local attributes = user.attributes or {}

local function allowed(what, default)
    local v = attributes["goauthentik.io/user/can-change-" .. what]
    if v == nil then
        return default
    end
    return v == true
end

if not allowed("email", false) and prompt_data["email"] ~= user.email then
    ak_message("Not allowed to change email address.")
    return false
end
if not allowed("name", true) and prompt_data["name"] ~= user.name then
    ak_message("Not allowed to change name.")
    return false
end
if not allowed("username", false) and prompt_data["username"] ~= user.username then
    ak_message("Not allowed to change username.")
    return false
end
return true
$lua$
FROM policies WHERE name = 'default-user-settings-authorization'
ON CONFLICT (policy_uuid) DO NOTHING;
INSERT INTO prompt_stage_validation_policies (stage, policy)
SELECT s.stage_uuid, p.policy_uuid FROM stages s, policies p
WHERE s.name = 'default-user-settings' AND p.name = 'default-user-settings-authorization'
ON CONFLICT DO NOTHING;

INSERT INTO flow_stage_bindings (target, stage, "order", evaluate_on_plan, re_evaluate_policies,
	policy_engine_mode, invalid_response_action)
SELECT f.flow_uuid, s.stage_uuid, v.ord, v.on_plan, v.re_eval, 'any', 'retry'
FROM (VALUES
	('default-authentication-flow', 'default-authentication-identification', 10, false, true),
	('default-authentication-flow', 'default-authentication-password', 20, false, true),
	('default-authentication-flow', 'default-authentication-login', 100, false, true),
	('default-invalidation-flow', 'default-invalidation-logout', 0, false, true),
	('default-provider-authorization-explicit-consent',
	 'default-provider-authorization-consent', 0, false, true),
	('default-user-settings-flow', 'default-user-settings', 20, false, true),
	('default-user-settings-flow', 'default-user-settings-write', 100, false, true),
	('default-password-change', 'default-password-change-prompt', 0, false, true),
	('default-password-change', 'default-password-change-write', 1, false, true),
	('default-recovery-flow', 'default-recovery-identification', 10, true, true),
	('default-recovery-flow', 'default-recovery-email', 20, true, true),
	('default-recovery-flow', 'Change your password', 30, true, false),
	('default-recovery-flow', 'default-recovery-user-write', 40, true, false),
	('default-recovery-flow', 'default-recovery-user-login', 100, true, false),
	('default-enrollment-flow', 'default-enrollment-prompt-first', 10, false, true),
	('default-enrollment-flow', 'default-enrollment-prompt-second', 11, false, true),
	('default-enrollment-flow', 'default-enrollment-user-write', 20, false, true),
	('default-enrollment-flow', 'default-enrollment-email-verification', 30, false, true),
	('default-enrollment-flow', 'default-enrollment-user-login', 100, false, true),
	('initial-setup', 'stage-default-oobe-password', 10, true, false),
	('initial-setup', 'default-oobe-write', 20, false, true),
	('initial-setup', 'default-authentication-login', 100, true, false)
) AS v (flow, stage, ord, on_plan, re_eval)
JOIN flows f ON f.slug = v.flow
JOIN stages s ON s.name = v.stage
ON CONFLICT (target, stage, "order") DO NOTHING;

-- Brands point at the default flows where they name none.
UPDATE brands SET
	flow_authentication = coalesce(flow_authentication,
		(SELECT flow_uuid FROM flows WHERE slug = 'default-authentication-flow')),
	flow_invalidation = coalesce(flow_invalidation,
		(SELECT flow_uuid FROM flows WHERE slug = 'default-invalidation-flow')),
	flow_user_settings = coalesce(flow_user_settings,
		(SELECT flow_uuid FROM flows WHERE slug = 'default-user-settings-flow')),
	flow_recovery = coalesce(flow_recovery,
		(SELECT flow_uuid FROM flows WHERE slug = 'default-recovery-flow'))
WHERE flow_authentication IS NULL AND flow_invalidation IS NULL AND flow_recovery IS NULL
	AND flow_unenrollment IS NULL AND flow_user_settings IS NULL AND flow_device_code IS NULL;

-- initial-setup sets akadmin's first password, so anyone may run it only while akadmin has
-- none. The first usable password akadmin gets (from this flow, the API or the bootstrap), a
-- rename or the deletion of akadmin closes it to all but superusers, and nothing opens it
-- again: a later user named akadmin cannot be taken over through it.
CREATE FUNCTION users_close_initial_setup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF OLD.username <> 'akadmin' THEN
			RETURN NULL;
		END IF;
	ELSIF NOT (NEW.username = 'akadmin' AND NEW.password <> ''
	           AND left(NEW.password, 1) <> '!')
	      AND NOT (TG_OP = 'UPDATE' AND OLD.username = 'akadmin'
	               AND NEW.username <> 'akadmin') THEN
		RETURN NULL;
	END IF;
	UPDATE flows SET authentication = 'require_superuser'
	WHERE slug = 'initial-setup' AND authentication <> 'require_superuser';
	RETURN NULL;
END
$$;
CREATE TRIGGER users_initial_setup AFTER INSERT OR UPDATE OF password, username OR DELETE
	ON users FOR EACH ROW EXECUTE FUNCTION users_close_initial_setup();

-- An existing installation: open only on an empty directory (the bootstrap comes next) or
-- while akadmin still has no usable password.
UPDATE flows SET authentication = 'require_superuser'
WHERE slug = 'initial-setup' AND EXISTS (SELECT 1 FROM users)
	AND NOT EXISTS (SELECT 1 FROM users WHERE username = 'akadmin'
	                AND (password = '' OR left(password, 1) = '!'));
