-- The system permissions of /api/v3/admin/ (authentik keeps them on its rbac app).
INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_rbac', 'systempermission', 'view_system_info', 'Can view system info');
