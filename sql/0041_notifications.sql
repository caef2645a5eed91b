-- Notification rules, transports and notifications (authentik_events). A rule is a policy
-- binding target: it registers its pbm_uuid in policy_binding_models (sql/0040_policies.sql)
-- with that migration's trigger function, so its bindings go when the rule goes.

CREATE TABLE notification_transports (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE,
	mode text NOT NULL DEFAULT 'local'
		CHECK (mode IN ('local', 'webhook', 'webhook_slack', 'email')),
	webhook_url text NOT NULL DEFAULT '',
	-- Property mappings need the Lua engine; until then only null is accepted.
	webhook_mapping_body uuid,
	webhook_mapping_headers uuid,
	email_subject_prefix text NOT NULL DEFAULT 'authentik Notification: ',
	email_template text NOT NULL DEFAULT 'email/event_notification',
	send_once boolean NOT NULL DEFAULT false
);

CREATE TABLE notification_rules (
	pbm_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE,
	severity text NOT NULL DEFAULT 'notice' CHECK (severity IN ('notice', 'warning', 'alert')),
	destination_group uuid REFERENCES groups (uuid) ON DELETE SET NULL,
	destination_event_user boolean NOT NULL DEFAULT false
);
CREATE INDEX notification_rules_group ON notification_rules (destination_group);

CREATE TRIGGER notification_rules_pbm_insert AFTER INSERT ON notification_rules
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('pbm_uuid');
CREATE TRIGGER notification_rules_pbm_delete AFTER DELETE ON notification_rules
	FOR EACH ROW EXECUTE FUNCTION policy_binding_models_register('pbm_uuid');

CREATE TABLE notification_rule_transports (
	rule uuid NOT NULL REFERENCES notification_rules (pbm_uuid) ON DELETE CASCADE,
	transport uuid NOT NULL REFERENCES notification_transports (uuid) ON DELETE CASCADE,
	PRIMARY KEY (rule, transport)
);
CREATE INDEX notification_rule_transports_transport ON notification_rule_transports (transport);

CREATE TABLE notifications (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	severity text NOT NULL CHECK (severity IN ('notice', 'warning', 'alert')),
	body text NOT NULL,
	hyperlink text CHECK (length(hyperlink) <= 4096),
	hyperlink_label text,
	created timestamptz NOT NULL DEFAULT now(),
	event uuid REFERENCES events (event_uuid) ON DELETE SET NULL,
	seen boolean NOT NULL DEFAULT false,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX notifications_user ON notifications (user_id, seen, created);
CREATE INDEX notifications_event ON notifications (event);

INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_events', 'notificationrule', 'add_notificationrule', 'Can add Notification Rule'),
	('authentik_events', 'notificationrule', 'change_notificationrule',
	 'Can change Notification Rule'),
	('authentik_events', 'notificationrule', 'delete_notificationrule',
	 'Can delete Notification Rule'),
	('authentik_events', 'notificationrule', 'view_notificationrule', 'Can view Notification Rule'),
	('authentik_events', 'notificationtransport', 'add_notificationtransport',
	 'Can add Notification Transport'),
	('authentik_events', 'notificationtransport', 'change_notificationtransport',
	 'Can change Notification Transport'),
	('authentik_events', 'notificationtransport', 'delete_notificationtransport',
	 'Can delete Notification Transport'),
	('authentik_events', 'notificationtransport', 'view_notificationtransport',
	 'Can view Notification Transport'),
	('authentik_events', 'notification', 'add_notification', 'Can add Notification'),
	('authentik_events', 'notification', 'change_notification', 'Can change Notification'),
	('authentik_events', 'notification', 'delete_notification', 'Can delete Notification'),
	('authentik_events', 'notification', 'view_notification', 'Can view Notification')
ON CONFLICT (app_label, codename) DO NOTHING;
