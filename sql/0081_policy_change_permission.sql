-- The base Policy model's add and change permissions, as authentik has them: a role may hold
-- change_policy to edit (and test) policies of every kind.
INSERT INTO permissions (app_label, model, codename, name) VALUES
	('authentik_policies', 'policy', 'add_policy', 'Can add Policy'),
	('authentik_policies', 'policy', 'change_policy', 'Can change Policy')
ON CONFLICT (app_label, codename) DO NOTHING;
