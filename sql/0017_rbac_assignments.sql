-- RBAC API: an id for each permission a role holds (authentik's RoleModelPermission and
-- RoleObjectPermission ids, which assign/ answers and assigned_by_roles/ lists), and the
-- human-readable app and model names that /rbac/permissions/ shows.

ALTER TABLE role_permissions ADD COLUMN id bigserial NOT NULL;
CREATE UNIQUE INDEX role_permissions_id ON role_permissions (id);
CREATE INDEX role_permissions_role ON role_permissions (role_uuid);

-- authentik's AppConfig.verbose_name per app label; later migrations add their own apps.
CREATE TABLE permission_apps (
	app_label text PRIMARY KEY,
	verbose_name text NOT NULL
);

-- A model's verbose_name; a permission of a model missing here shows "app_label.model", as
-- authentik does for a model it cannot look up.
CREATE TABLE permission_models (
	app_label text NOT NULL,
	model text NOT NULL,
	verbose_name text NOT NULL,
	PRIMARY KEY (app_label, model)
);

INSERT INTO permission_apps (app_label, verbose_name) VALUES
	('authentik_core', 'authentik Core'),
	('authentik_brands', 'authentik Brands'),
	('authentik_crypto', 'authentik Crypto'),
	('authentik_events', 'authentik Events'),
	('authentik_rbac', 'authentik RBAC');

INSERT INTO permission_models (app_label, model, verbose_name) VALUES
	('authentik_core', 'user', 'User'),
	('authentik_core', 'group', 'Group'),
	('authentik_core', 'token', 'Token'),
	('authentik_core', 'application', 'Application'),
	('authentik_brands', 'brand', 'Brand'),
	('authentik_crypto', 'certificatekeypair', 'Certificate-Key Pair'),
	('authentik_events', 'event', 'Event'),
	('authentik_rbac', 'role', 'Role'),
	('authentik_rbac', 'systempermission', 'System permission');
