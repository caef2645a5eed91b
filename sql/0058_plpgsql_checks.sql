-- The superuser and permission checks run in every authenticated request. As SQL functions
-- with sub-selects they cannot be inlined, and PostgreSQL planned their bodies again at each
-- statement that called them; in PL/pgSQL the plans are kept for the connection's life.
CREATE OR REPLACE FUNCTION user_is_superuser(uid bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN EXISTS (
		SELECT 1 FROM groups WHERE is_superuser AND uuid IN (SELECT user_all_groups(uid))
	);
END
$$;

CREATE OR REPLACE FUNCTION user_has_perm(uid bigint, perm text, obj text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN user_is_superuser(uid) OR EXISTS (
		SELECT 1
		FROM role_permissions rp
		JOIN permissions p ON p.id = rp.permission_id
		WHERE p.app_label = split_part(perm, '.', 1)
		  AND p.codename = split_part(perm, '.', 2)
		  AND (rp.object_pk = '' OR rp.object_pk = obj)
		  AND rp.role_uuid IN (SELECT user_all_roles(uid))
	);
END
$$;
