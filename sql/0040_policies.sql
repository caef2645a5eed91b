-- Policies, event matcher policies and policy bindings (authentik_policies).
--
-- authentik binds to any PolicyBindingModel through a table every binding target inherits
-- from; custos keeps that table as policy_binding_models, and each target table registers its
-- primary key there with triggers (applications below; notification rules in their own
-- migration), so that a binding's target is a real foreign key and goes with its target.

CREATE TABLE policy_binding_models (
	pbm_uuid uuid PRIMARY KEY
);

-- The trigger function a target table registers with; its argument names the table's key
-- column: FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('uuid'), for AFTER INSERT
-- and AFTER DELETE.
CREATE FUNCTION policy_binding_models_register() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO policy_binding_models (pbm_uuid)
		VALUES ((to_jsonb(NEW) ->> TG_ARGV[0])::uuid) ON CONFLICT DO NOTHING;
		RETURN NEW;
	END IF;
	DELETE FROM policy_binding_models WHERE pbm_uuid = (to_jsonb(OLD) ->> TG_ARGV[0])::uuid;
	RETURN OLD;
END
$$;

CREATE TRIGGER applications_pbm_insert AFTER INSERT ON applications
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('uuid');
CREATE TRIGGER applications_pbm_delete AFTER DELETE ON applications
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('uuid');

INSERT INTO policy_binding_models (pbm_uuid) SELECT uuid FROM applications ON CONFLICT DO NOTHING;

-- type is the model name of the policy's kind ('eventmatcherpolicy'); its fields are in the
-- table of that kind, keyed by the same uuid.
CREATE TABLE policies (
	policy_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE,
	execution_logging boolean NOT NULL DEFAULT false,
	type text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_matcher_policies (
	policy_uuid uuid PRIMARY KEY REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	action text,
	client_ip text,
	app text,
	model text
);

CREATE TABLE policy_bindings (
	policy_binding_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	policy uuid REFERENCES policies (policy_uuid) ON DELETE CASCADE,
	group_uuid uuid REFERENCES groups (uuid) ON DELETE CASCADE,
	user_id bigint REFERENCES users (id) ON DELETE CASCADE,
	target uuid NOT NULL REFERENCES policy_binding_models (pbm_uuid) ON DELETE CASCADE,
	negate boolean NOT NULL DEFAULT false,
	enabled boolean NOT NULL DEFAULT true,
	"order" integer NOT NULL,
	timeout integer NOT NULL DEFAULT 30 CHECK (timeout >= 0),
	failure_result boolean NOT NULL DEFAULT false,
	CHECK (num_nonnulls(policy, group_uuid, user_id) = 1),
	-- authentik's unique_together: NULL policies (group and user bindings) never collide.
	UNIQUE (policy, target, "order")
);
CREATE INDEX policy_bindings_target ON policy_bindings (target, "order");
CREATE INDEX policy_bindings_group ON policy_bindings (group_uuid);
CREATE INDEX policy_bindings_user ON policy_bindings (user_id);

INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_policies', 'policy', 'view_policy', 'Can view Policy'),
	('authentik_policies', 'policy', 'delete_policy', 'Can delete Policy'),
	('authentik_policies', 'policybinding', 'add_policybinding', 'Can add Policy Binding'),
	('authentik_policies', 'policybinding', 'change_policybinding', 'Can change Policy Binding'),
	('authentik_policies', 'policybinding', 'delete_policybinding', 'Can delete Policy Binding'),
	('authentik_policies', 'policybinding', 'view_policybinding', 'Can view Policy Binding'),
	('authentik_policies_event_matcher', 'eventmatcherpolicy', 'add_eventmatcherpolicy',
	 'Can add Event Matcher Policy'),
	('authentik_policies_event_matcher', 'eventmatcherpolicy', 'change_eventmatcherpolicy',
	 'Can change Event Matcher Policy'),
	('authentik_policies_event_matcher', 'eventmatcherpolicy', 'delete_eventmatcherpolicy',
	 'Can delete Event Matcher Policy'),
	('authentik_policies_event_matcher', 'eventmatcherpolicy', 'view_eventmatcherpolicy',
	 'Can view Event Matcher Policy')
ON CONFLICT (app_label, codename) DO NOTHING;
