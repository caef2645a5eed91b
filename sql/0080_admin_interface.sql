-- The remaining system permissions authentik keeps on its rbac app (who may open the admin
-- interface, system settings, media files), and the media files themselves.
INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_rbac', 'systempermission', 'access_admin_interface', 'Can access admin interface'),
	('authentik_rbac', 'systempermission', 'view_system_settings', 'Can view system settings'),
	('authentik_rbac', 'systempermission', 'edit_system_settings', 'Can edit system settings'),
	('authentik_rbac', 'systempermission', 'view_media_files', 'Can view media files'),
	('authentik_rbac', 'systempermission', 'manage_media_files', 'Can manage media files');

-- Uploaded media (brand logos, application icons), served at /media/public/<name>. They live in
-- PostgreSQL rather than on a disk so that every node of a cluster serves the same files. The
-- type is the one found in the content at upload (lib/api/files.c), never the name's extension;
-- digest is the ETag.
CREATE TABLE media_files (
	name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 1024),
	mime text NOT NULL,
	data bytea NOT NULL,
	size integer GENERATED ALWAYS AS (length(data)) STORED,
	digest text GENERATED ALWAYS AS (encode(sha256(data), 'hex')) STORED,
	created timestamptz NOT NULL DEFAULT now()
);
