-- Flows, stages and their bindings (authentik_flows), with the tables the stages keep: prompts,
-- invitations, consents, flow tokens (email links) and the plan column of sessions.
--
-- A stage is one row of stages whatever its kind: type is the kind's model name
-- ('identificationstage', 'passwordstage', ...) and config holds the kind's own fields as
-- authentik's API names them; lib/stages/<kind>.c reads them, with authentik's defaults for
-- what is absent. (authentik keeps a table per kind; one jsonb column keeps a plan's snapshot of
-- a stage a single value, and a new kind a new file rather than a new table.)

CREATE TABLE flows (
	flow_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL CHECK (length(name) >= 1),
	slug text NOT NULL UNIQUE CHECK (slug ~ '^[-a-zA-Z0-9_]+$'),
	title text NOT NULL DEFAULT '',
	designation text NOT NULL CHECK (designation IN ('authentication', 'authorization',
		'invalidation', 'enrollment', 'unenrollment', 'recovery', 'stage_configuration')),
	authentication text NOT NULL DEFAULT 'none' CHECK (authentication IN ('none',
		'require_authenticated', 'require_unauthenticated', 'require_superuser',
		'require_redirect', 'require_outpost')),
	denied_action text NOT NULL DEFAULT 'message_continue'
		CHECK (denied_action IN ('message_continue', 'message', 'continue')),
	layout text NOT NULL DEFAULT 'stacked' CHECK (layout IN ('stacked', 'content_left',
		'content_right', 'sidebar_left', 'sidebar_right', 'sidebar_left_frame_background',
		'sidebar_right_frame_background')),
	background text NOT NULL DEFAULT '',
	policy_engine_mode text NOT NULL DEFAULT 'any' CHECK (policy_engine_mode IN ('all', 'any')),
	compatibility_mode boolean NOT NULL DEFAULT false,
	-- Bumped by every change to the flow, its bindings or their stages: a cached plan
	-- remembers the serial it was made from and is dropped when it differs.
	serial bigint NOT NULL DEFAULT 1
);
CREATE INDEX flows_designation ON flows (designation);

CREATE TRIGGER flows_pbm_insert AFTER INSERT ON flows
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('flow_uuid');
CREATE TRIGGER flows_pbm_delete AFTER DELETE ON flows
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('flow_uuid');

CREATE TABLE stages (
	stage_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	type text NOT NULL CHECK (type ~ '^[a-z_]+stage$'),
	config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object')
);
CREATE INDEX stages_type ON stages (type);

CREATE TABLE flow_stage_bindings (
	fsb_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	target uuid NOT NULL REFERENCES flows (flow_uuid) ON DELETE CASCADE,
	stage uuid NOT NULL REFERENCES stages (stage_uuid) ON DELETE CASCADE,
	"order" integer NOT NULL,
	evaluate_on_plan boolean NOT NULL DEFAULT false,
	re_evaluate_policies boolean NOT NULL DEFAULT true,
	policy_engine_mode text NOT NULL DEFAULT 'any' CHECK (policy_engine_mode IN ('all', 'any')),
	invalid_response_action text NOT NULL DEFAULT 'retry'
		CHECK (invalid_response_action IN ('retry', 'restart', 'restart_with_context')),
	UNIQUE (target, stage, "order")
);
CREATE INDEX flow_stage_bindings_target ON flow_stage_bindings (target, "order");
CREATE INDEX flow_stage_bindings_stage ON flow_stage_bindings (stage);

CREATE TRIGGER flow_stage_bindings_pbm_insert AFTER INSERT ON flow_stage_bindings
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('fsb_uuid');
CREATE TRIGGER flow_stage_bindings_pbm_delete AFTER DELETE ON flow_stage_bindings
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('fsb_uuid');

-- A change to a binding or a stage bumps the serial of every flow it is part of.
CREATE FUNCTION flows_bump_serial() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'flow_stage_bindings' THEN
		UPDATE flows SET serial = serial + 1
		WHERE flow_uuid IN (NEW.target, OLD.target);
	ELSIF TG_TABLE_NAME = 'stages' THEN
		UPDATE flows SET serial = serial + 1 WHERE flow_uuid IN
			(SELECT target FROM flow_stage_bindings
			 WHERE stage IN (NEW.stage_uuid, OLD.stage_uuid));
	ELSIF TG_TABLE_NAME = 'policy_bindings' THEN
		UPDATE flows SET serial = serial + 1 WHERE flow_uuid IN (NEW.target, OLD.target)
			OR flow_uuid IN (SELECT target FROM flow_stage_bindings
				WHERE fsb_uuid IN (NEW.target, OLD.target));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER flow_stage_bindings_serial AFTER INSERT OR UPDATE OR DELETE ON flow_stage_bindings
	FOR EACH ROW EXECUTE FUNCTION flows_bump_serial();
CREATE TRIGGER stages_serial AFTER UPDATE OR DELETE ON stages
	FOR EACH ROW EXECUTE FUNCTION flows_bump_serial();
CREATE TRIGGER policy_bindings_flow_serial AFTER INSERT OR UPDATE OR DELETE ON policy_bindings
	FOR EACH ROW EXECUTE FUNCTION flows_bump_serial();
CREATE FUNCTION flows_touch_serial() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW IS DISTINCT FROM OLD AND NEW.serial = OLD.serial THEN
		NEW.serial := OLD.serial + 1;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER flows_serial BEFORE UPDATE ON flows
	FOR EACH ROW EXECUTE FUNCTION flows_touch_serial();

-- Brands name their default flows; the columns were plain uuids until flows existed.
UPDATE brands SET flow_authentication = NULL, flow_invalidation = NULL, flow_recovery = NULL,
	flow_unenrollment = NULL, flow_user_settings = NULL, flow_device_code = NULL;
ALTER TABLE brands
	ADD FOREIGN KEY (flow_authentication) REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	ADD FOREIGN KEY (flow_invalidation) REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	ADD FOREIGN KEY (flow_recovery) REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	ADD FOREIGN KEY (flow_unenrollment) REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	ADD FOREIGN KEY (flow_user_settings) REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	ADD FOREIGN KEY (flow_device_code) REFERENCES flows (flow_uuid) ON DELETE SET NULL;

-- Prompt fields (authentik_stages_prompt.Prompt) and the prompt stages that show them.
CREATE TABLE prompts (
	prompt_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	field_key text NOT NULL CHECK (length(field_key) BETWEEN 1 AND 255),
	label text NOT NULL DEFAULT '',
	type text NOT NULL CHECK (type IN ('text', 'text_area', 'text_read_only',
		'text_area_read_only', 'username', 'email', 'password', 'number', 'checkbox',
		'radio-button-group', 'dropdown', 'date', 'date-time', 'file', 'separator', 'hidden',
		'static', 'ak-locale')),
	required boolean NOT NULL DEFAULT true,
	placeholder text NOT NULL DEFAULT '',
	initial_value text NOT NULL DEFAULT '',
	sub_text text NOT NULL DEFAULT '',
	"order" integer NOT NULL DEFAULT 0,
	placeholder_expression boolean NOT NULL DEFAULT false,
	initial_value_expression boolean NOT NULL DEFAULT false
);

CREATE TABLE prompt_stage_fields (
	stage uuid NOT NULL REFERENCES stages (stage_uuid) ON DELETE CASCADE,
	prompt uuid NOT NULL REFERENCES prompts (prompt_uuid) ON DELETE CASCADE,
	PRIMARY KEY (stage, prompt)
);
CREATE INDEX prompt_stage_fields_prompt ON prompt_stage_fields (prompt);

CREATE TABLE prompt_stage_validation_policies (
	stage uuid NOT NULL REFERENCES stages (stage_uuid) ON DELETE CASCADE,
	policy uuid NOT NULL REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	PRIMARY KEY (stage, policy)
);

-- Invitations (authentik_stages_invitation.Invitation): the pk is the token in ?itoken=.
CREATE TABLE invitations (
	invite_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (name ~ '^[-a-zA-Z0-9_]+$'),
	expires timestamptz,
	expiring boolean NOT NULL DEFAULT true,
	fixed_data jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fixed_data) = 'object'),
	single_use boolean NOT NULL DEFAULT false,
	flow uuid REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	created_by bigint REFERENCES users (id) ON DELETE SET NULL
);

-- What a user agreed to share with an application (authentik_stages_consent.UserConsent).
CREATE TABLE user_consents (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	application uuid NOT NULL REFERENCES applications (uuid) ON DELETE CASCADE,
	permissions text NOT NULL DEFAULT '',
	expires timestamptz,
	expiring boolean NOT NULL DEFAULT true,
	UNIQUE (user_id, application, permissions)
);
CREATE INDEX user_consents_application ON user_consents (application);

-- A plan parked for a link sent by mail (authentik's FlowToken): the link carries the key; a
-- lookup goes by its SHA-256. used is set in the same statement that takes it, so that a key
-- works once however many requests race for it.
CREATE TABLE flow_tokens (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	key_digest text NOT NULL UNIQUE,
	flow uuid NOT NULL REFERENCES flows (flow_uuid) ON DELETE CASCADE,
	user_id bigint REFERENCES users (id) ON DELETE CASCADE,
	plan jsonb NOT NULL,
	expires timestamptz NOT NULL,
	used timestamptz,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flow_tokens_expires ON flow_tokens (expires);
CREATE INDEX flow_tokens_user ON flow_tokens (user_id);

-- The plan of the flow a session is in (lib/flows.c); Redis holds a copy tagged with
-- flow_plan_rev, which every write of flow_plan bumps, so that a copy Redis kept through an
-- outage is never taken for the current plan.
ALTER TABLE sessions ADD COLUMN flow_plan jsonb,
	ADD COLUMN flow_plan_rev bigint NOT NULL DEFAULT 0;

-- The identification stage finds users by username, email or attributes.upn, case-folded by
-- default.
CREATE INDEX users_lower_username ON users (lower(username));
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX users_upn ON users ((attributes ->> 'upn'));
CREATE INDEX users_lower_upn ON users (lower(attributes ->> 'upn'));

-- Deactivating a user ends the user's sessions at once, as deleting one does by cascade.
CREATE FUNCTION users_end_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM sessions WHERE user_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_deactivated AFTER UPDATE OF is_active ON users
	FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
	EXECUTE FUNCTION users_end_sessions();

INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_flows', 'flow', 'add_flow', 'Can add Flow'),
	('authentik_flows', 'flow', 'change_flow', 'Can change Flow'),
	('authentik_flows', 'flow', 'delete_flow', 'Can delete Flow'),
	('authentik_flows', 'flow', 'view_flow', 'Can view Flow'),
	('authentik_flows', 'flow', 'export_flow', 'Can export Flow'),
	('authentik_flows', 'flow', 'inspect_flow', 'Can inspect a Flow''s execution'),
	('authentik_flows', 'flow', 'view_flow_cache', 'View Flow''s cache metrics'),
	('authentik_flows', 'flow', 'clear_flow_cache', 'Clear Flow''s cache metrics'),
	('authentik_flows', 'flowstagebinding', 'add_flowstagebinding', 'Can add Flow Stage Binding'),
	('authentik_flows', 'flowstagebinding', 'change_flowstagebinding', 'Can change Flow Stage Binding'),
	('authentik_flows', 'flowstagebinding', 'delete_flowstagebinding', 'Can delete Flow Stage Binding'),
	('authentik_flows', 'flowstagebinding', 'view_flowstagebinding', 'Can view Flow Stage Binding'),
	('authentik_flows', 'stage', 'view_stage', 'Can view Stage'),
	('authentik_flows', 'stage', 'delete_stage', 'Can delete Stage'),
	('authentik_stages_prompt', 'prompt', 'add_prompt', 'Can add Prompt'),
	('authentik_stages_prompt', 'prompt', 'change_prompt', 'Can change Prompt'),
	('authentik_stages_prompt', 'prompt', 'delete_prompt', 'Can delete Prompt'),
	('authentik_stages_prompt', 'prompt', 'view_prompt', 'Can view Prompt'),
	('authentik_stages_invitation', 'invitation', 'add_invitation', 'Can add Invitation'),
	('authentik_stages_invitation', 'invitation', 'change_invitation', 'Can change Invitation'),
	('authentik_stages_invitation', 'invitation', 'delete_invitation', 'Can delete Invitation'),
	('authentik_stages_invitation', 'invitation', 'view_invitation', 'Can view Invitation'),
	('authentik_stages_consent', 'userconsent', 'delete_userconsent', 'Can delete User Consent'),
	('authentik_stages_consent', 'userconsent', 'view_userconsent', 'Can view User Consent'),
	('authentik_core', 'authenticatedsession', 'delete_authenticatedsession',
	 'Can delete Authenticated Session'),
	('authentik_core', 'authenticatedsession', 'view_authenticatedsession',
	 'Can view Authenticated Session')
ON CONFLICT (app_label, codename) DO NOTHING;
