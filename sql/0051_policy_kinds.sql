-- The policy kinds beside the event matcher (authentik_policies_expression, _password,
-- _expiry, _reputation, _unique_password, _dummy): one table per kind keyed by the policy's
-- uuid, as event_matcher_policies is (sql/0040_policies.sql), and the password history the
-- unique password policy checks.

CREATE TABLE expression_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	-- Lua 5.4, run sandboxed by lib/policies/expression.c.
	expression text NOT NULL
);

CREATE TABLE password_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	password_field text NOT NULL DEFAULT 'password',
	amount_digits integer NOT NULL DEFAULT 0 CHECK (amount_digits >= 0),
	amount_uppercase integer NOT NULL DEFAULT 0 CHECK (amount_uppercase >= 0),
	amount_lowercase integer NOT NULL DEFAULT 0 CHECK (amount_lowercase >= 0),
	amount_symbols integer NOT NULL DEFAULT 0 CHECK (amount_symbols >= 0),
	length_min integer NOT NULL DEFAULT 0 CHECK (length_min >= 0),
	symbol_charset text NOT NULL DEFAULT '!\"#$%&''()*+,-./:;<=>?@[\]^_`{|}~ ',
	error_message text NOT NULL DEFAULT '',
	check_static_rules boolean NOT NULL DEFAULT true,
	check_have_i_been_pwned boolean NOT NULL DEFAULT false,
	hibp_allowed_count integer NOT NULL DEFAULT 0 CHECK (hibp_allowed_count >= 0),
	check_zxcvbn boolean NOT NULL DEFAULT false,
	zxcvbn_score_threshold integer NOT NULL DEFAULT 2 CHECK (zxcvbn_score_threshold >= 0)
);

CREATE TABLE password_expiry_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	days integer NOT NULL,
	deny_only boolean NOT NULL DEFAULT false
);

CREATE TABLE reputation_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	check_ip boolean NOT NULL DEFAULT true,
	check_username boolean NOT NULL DEFAULT true,
	threshold integer NOT NULL DEFAULT -5
);

CREATE TABLE unique_password_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	password_field text NOT NULL DEFAULT 'password',
	num_historical_passwords integer NOT NULL DEFAULT 1 CHECK (num_historical_passwords >= 0)
);

CREATE TABLE dummy_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	result boolean NOT NULL DEFAULT false,
	wait_min integer NOT NULL DEFAULT 5,
	wait_max integer NOT NULL DEFAULT 30
);

-- What the API shows of each kind (authentik's component, verbose names, model name, and the
-- model's description in all/types/).
CREATE TABLE policy_kinds (
	type text PRIMARY KEY,
	component text NOT NULL,
	verbose_name text NOT NULL,
	verbose_name_plural text NOT NULL,
	meta_model_name text NOT NULL,
	description text NOT NULL,
	requires_enterprise boolean NOT NULL DEFAULT false,
	-- authentik lists debug-only kinds (the dummy policy) in all/types/ only in debug mode.
	debug_only boolean NOT NULL DEFAULT false
);
INSERT INTO policy_kinds VALUES
	('dummypolicy', 'ak-policy-dummy-form', 'Dummy Policy', 'Dummy Policies',
	 'authentik_policies_dummy.dummypolicy', 'Policy used for debugging the PolicyEngine. '
	 'Returns a fixed result, but takes a random time to process.', false, true),
	('eventmatcherpolicy', 'ak-policy-event-matcher-form', 'Event Matcher Policy',
	 'Event Matcher Policies', 'authentik_policies_event_matcher.eventmatcherpolicy',
	 'Passes when Event matches selected criteria.', false, false),
	('passwordexpirypolicy', 'ak-policy-password-expiry-form', 'Password Expiry Policy',
	 'Password Expiry Policies', 'authentik_policies_expiry.passwordexpirypolicy',
	 'If password change date is more than x days in the past, invalidate the user''s password '
	 'and show a notice', false, false),
	('expressionpolicy', 'ak-policy-expression-form', 'Expression Policy', 'Expression Policies',
	 'authentik_policies_expression.expressionpolicy',
	 'Execute arbitrary code to implement custom checks and validation.', false, false),
	('passwordpolicy', 'ak-policy-password-form', 'Password Policy', 'Password Policies',
	 'authentik_policies_password.passwordpolicy',
	 'Policy to make sure passwords have certain properties', false, false),
	('reputationpolicy', 'ak-policy-reputation-form', 'Reputation Policy', 'Reputation Policies',
	 'authentik_policies_reputation.reputationpolicy',
	 'Return true if request IP/target username''s score is below a certain threshold', false,
	 false),
	('uniquepasswordpolicy', 'ak-policy-password-uniqueness-form', 'Password Uniqueness Policy',
	 'Password Uniqueness Policies', 'authentik_policies_unique_password.uniquepasswordpolicy',
	 'This policy prevents users from reusing old passwords.', true, false);

-- A policy's own fields: its kind's row as JSON, without the key; {} for an unknown kind.
CREATE FUNCTION policy_fields(puuid uuid, ptype text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(CASE ptype
		WHEN 'expressionpolicy' THEN
			(SELECT to_jsonb(k) FROM expression_policies k WHERE k.policy_uuid = puuid)
		WHEN 'passwordpolicy' THEN
			(SELECT to_jsonb(k) FROM password_policies k WHERE k.policy_uuid = puuid)
		WHEN 'passwordexpirypolicy' THEN
			(SELECT to_jsonb(k) FROM password_expiry_policies k WHERE k.policy_uuid = puuid)
		WHEN 'reputationpolicy' THEN
			(SELECT to_jsonb(k) FROM reputation_policies k WHERE k.policy_uuid = puuid)
		WHEN 'uniquepasswordpolicy' THEN
			(SELECT to_jsonb(k) FROM unique_password_policies k WHERE k.policy_uuid = puuid)
		WHEN 'dummypolicy' THEN
			(SELECT to_jsonb(k) FROM dummy_policies k WHERE k.policy_uuid = puuid)
		WHEN 'eventmatcherpolicy' THEN
			(SELECT to_jsonb(k) FROM event_matcher_policies k WHERE k.policy_uuid = puuid)
	END, '{}') - 'policy_uuid'
$$;

-- The fields every policy shows for its kind (PolicySerializer's component, verbose_name,
-- verbose_name_plural, meta_model_name), with the base Policy's for an unknown kind.
CREATE FUNCTION policy_kind_meta(ptype text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT jsonb_build_object('component', k.component, 'verbose_name',
		k.verbose_name, 'verbose_name_plural', k.verbose_name_plural, 'meta_model_name',
		k.meta_model_name) FROM policy_kinds k WHERE k.type = ptype),
		'{"component": "", "verbose_name": "Policy", "verbose_name_plural": "Policies",
		  "meta_model_name": "authentik_policies.policy"}')
$$;

-- Hashes a user has had, newest last; the current one is recorded too, so "the last n
-- passwords" includes the password in use (authentik records the new hash on every change).
CREATE TABLE user_password_history (
	id bigserial PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	old_password text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX user_password_history_user ON user_password_history (user_id, created_at DESC);

-- Records a new usable hash while any unique password policy exists (no policy, no history
-- kept: authentik purges the table then) and keeps only as many rows per user as the largest
-- num_historical_passwords asks for, at most 100.
CREATE FUNCTION user_password_history_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	keep integer;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.password IS NOT DISTINCT FROM OLD.password THEN
		RETURN NULL;
	END IF;
	IF NEW.password = '' OR left(NEW.password, 1) = '!' THEN
		RETURN NULL;
	END IF;
	SELECT least(max(num_historical_passwords), 100) INTO keep FROM unique_password_policies;
	IF keep IS NULL OR keep < 1 THEN
		RETURN NULL;
	END IF;
	INSERT INTO user_password_history (user_id, old_password) VALUES (NEW.id, NEW.password);
	DELETE FROM user_password_history WHERE user_id = NEW.id AND id NOT IN
		(SELECT id FROM user_password_history WHERE user_id = NEW.id
		 ORDER BY created_at DESC, id DESC LIMIT keep);
	RETURN NULL;
END
$$;
CREATE TRIGGER users_password_history AFTER INSERT OR UPDATE OF password ON users
	FOR EACH ROW EXECUTE FUNCTION user_password_history_record();

-- Without any unique password policy the history is of no use: drop it (authentik's
-- check_and_purge_password_history).
CREATE FUNCTION user_password_history_purge() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM unique_password_policies) THEN
		DELETE FROM user_password_history;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER unique_password_policies_purge AFTER DELETE ON unique_password_policies
	FOR EACH STATEMENT EXECUTE FUNCTION user_password_history_purge();

-- A change to a policy bumps the serial of every flow it is bound to, directly or through one
-- of the flow's stage bindings, so a plan made with the old policy is not reused.
CREATE FUNCTION policies_bump_flow_serial() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	p uuid;
BEGIN
	IF TG_OP = 'DELETE' THEN
		p := OLD.policy_uuid;
	ELSE
		p := NEW.policy_uuid;
	END IF;
	UPDATE flows SET serial = serial + 1 WHERE flow_uuid IN
		(SELECT pb.target FROM policy_bindings pb WHERE pb.policy = p
		 UNION
		 SELECT fsb.target FROM flow_stage_bindings fsb
		 JOIN policy_bindings pb ON pb.target = fsb.fsb_uuid WHERE pb.policy = p);
	RETURN NULL;
END
$$;
CREATE TRIGGER policies_flow_serial AFTER UPDATE ON policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER expression_policies_flow_serial AFTER UPDATE ON expression_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER password_policies_flow_serial AFTER UPDATE ON password_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER password_expiry_policies_flow_serial AFTER UPDATE ON password_expiry_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER reputation_policies_flow_serial AFTER UPDATE ON reputation_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER unique_password_policies_flow_serial AFTER UPDATE ON unique_password_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER dummy_policies_flow_serial AFTER UPDATE ON dummy_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();
CREATE TRIGGER event_matcher_policies_flow_serial AFTER UPDATE ON event_matcher_policies
	FOR EACH ROW EXECUTE FUNCTION policies_bump_flow_serial();

INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_policies_expression', 'expressionpolicy', 'add_expressionpolicy',
	 'Can add Expression Policy'),
	('authentik_policies_expression', 'expressionpolicy', 'change_expressionpolicy',
	 'Can change Expression Policy'),
	('authentik_policies_expression', 'expressionpolicy', 'delete_expressionpolicy',
	 'Can delete Expression Policy'),
	('authentik_policies_expression', 'expressionpolicy', 'view_expressionpolicy',
	 'Can view Expression Policy'),
	('authentik_policies_password', 'passwordpolicy', 'add_passwordpolicy',
	 'Can add Password Policy'),
	('authentik_policies_password', 'passwordpolicy', 'change_passwordpolicy',
	 'Can change Password Policy'),
	('authentik_policies_password', 'passwordpolicy', 'delete_passwordpolicy',
	 'Can delete Password Policy'),
	('authentik_policies_password', 'passwordpolicy', 'view_passwordpolicy',
	 'Can view Password Policy'),
	('authentik_policies_expiry', 'passwordexpirypolicy', 'add_passwordexpirypolicy',
	 'Can add Password Expiry Policy'),
	('authentik_policies_expiry', 'passwordexpirypolicy', 'change_passwordexpirypolicy',
	 'Can change Password Expiry Policy'),
	('authentik_policies_expiry', 'passwordexpirypolicy', 'delete_passwordexpirypolicy',
	 'Can delete Password Expiry Policy'),
	('authentik_policies_expiry', 'passwordexpirypolicy', 'view_passwordexpirypolicy',
	 'Can view Password Expiry Policy'),
	('authentik_policies_reputation', 'reputationpolicy', 'add_reputationpolicy',
	 'Can add Reputation Policy'),
	('authentik_policies_reputation', 'reputationpolicy', 'change_reputationpolicy',
	 'Can change Reputation Policy'),
	('authentik_policies_reputation', 'reputationpolicy', 'delete_reputationpolicy',
	 'Can delete Reputation Policy'),
	('authentik_policies_reputation', 'reputationpolicy', 'view_reputationpolicy',
	 'Can view Reputation Policy'),
	('authentik_policies_reputation', 'reputation', 'add_reputation',
	 'Can add Reputation Score'),
	('authentik_policies_reputation', 'reputation', 'change_reputation',
	 'Can change Reputation Score'),
	('authentik_policies_reputation', 'reputation', 'delete_reputation',
	 'Can delete Reputation Score'),
	('authentik_policies_reputation', 'reputation', 'view_reputation',
	 'Can view Reputation Score'),
	('authentik_policies_unique_password', 'uniquepasswordpolicy',
	 'add_uniquepasswordpolicy', 'Can add Password Uniqueness Policy'),
	('authentik_policies_unique_password', 'uniquepasswordpolicy',
	 'change_uniquepasswordpolicy', 'Can change Password Uniqueness Policy'),
	('authentik_policies_unique_password', 'uniquepasswordpolicy',
	 'delete_uniquepasswordpolicy', 'Can delete Password Uniqueness Policy'),
	('authentik_policies_unique_password', 'uniquepasswordpolicy',
	 'view_uniquepasswordpolicy', 'Can view Password Uniqueness Policy'),
	('authentik_policies_dummy', 'dummypolicy', 'add_dummypolicy', 'Can add Dummy Policy'),
	('authentik_policies_dummy', 'dummypolicy', 'change_dummypolicy',
	 'Can change Dummy Policy'),
	('authentik_policies_dummy', 'dummypolicy', 'delete_dummypolicy',
	 'Can delete Dummy Policy'),
	('authentik_policies_dummy', 'dummypolicy', 'view_dummypolicy', 'Can view Dummy Policy')
ON CONFLICT (app_label, codename) DO NOTHING;
