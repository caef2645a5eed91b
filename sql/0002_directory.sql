-- Directory, RBAC, tokens, applications, brands, certificate key pairs and audit events.
-- Field names follow authentik's API; user ids are integers as authentik's are.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
	id bigserial PRIMARY KEY,
	uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	username text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 150),
	name text NOT NULL DEFAULT '',
	email text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
	is_active boolean NOT NULL DEFAULT true,
	type text NOT NULL DEFAULT 'internal'
		CHECK (type IN ('internal', 'external', 'service_account', 'internal_service_account')),
	path text NOT NULL DEFAULT 'users',
	attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
	-- Encoded hash (lib/password.h); '' or a leading '!' is unusable.
	password text NOT NULL DEFAULT '',
	password_change_date timestamptz NOT NULL DEFAULT now(),
	last_login timestamptz,
	date_joined timestamptz NOT NULL DEFAULT now(),
	last_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_path ON users (path text_pattern_ops);
CREATE INDEX users_type ON users (type);
CREATE INDEX users_name ON users (name);
CREATE INDEX users_date_joined ON users (date_joined);
CREATE INDEX users_last_login ON users (last_login);
CREATE INDEX users_last_updated ON users (last_updated);
-- search= matches username, name and email anywhere in the text.
CREATE INDEX users_search ON users USING gin ((username || ' ' || name || ' ' || email) gin_trgm_ops);

CREATE TABLE groups (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	num_pk bigserial NOT NULL UNIQUE,
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	is_superuser boolean NOT NULL DEFAULT false,
	attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object')
);

-- A group may have several parents (authentik 2025.12 and later).
CREATE TABLE group_parents (
	group_uuid uuid NOT NULL REFERENCES groups (uuid) ON DELETE CASCADE,
	parent_uuid uuid NOT NULL REFERENCES groups (uuid) ON DELETE CASCADE,
	PRIMARY KEY (group_uuid, parent_uuid),
	CHECK (group_uuid <> parent_uuid)
);
CREATE INDEX group_parents_parent ON group_parents (parent_uuid);

CREATE TABLE group_users (
	group_uuid uuid NOT NULL REFERENCES groups (uuid) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_uuid, user_id)
);
CREATE INDEX group_users_user ON group_users (user_id);

CREATE TABLE roles (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	managed text UNIQUE
);

CREATE TABLE role_groups (
	role_uuid uuid NOT NULL REFERENCES roles (uuid) ON DELETE CASCADE,
	group_uuid uuid NOT NULL REFERENCES groups (uuid) ON DELETE CASCADE,
	PRIMARY KEY (role_uuid, group_uuid)
);
CREATE INDEX role_groups_group ON role_groups (group_uuid);

CREATE TABLE role_users (
	role_uuid uuid NOT NULL REFERENCES roles (uuid) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (role_uuid, user_id)
);
CREATE INDEX role_users_user ON role_users (user_id);

-- Permissions as authentik names them: "<app_label>.<codename>", e.g. authentik_core.view_user.
CREATE TABLE permissions (
	id serial PRIMARY KEY,
	app_label text NOT NULL,
	model text NOT NULL,
	codename text NOT NULL,
	name text NOT NULL,
	UNIQUE (app_label, codename)
);

-- A role's permission on a whole model (object_pk '') or on one object.
CREATE TABLE role_permissions (
	role_uuid uuid NOT NULL REFERENCES roles (uuid) ON DELETE CASCADE,
	permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
	object_pk text NOT NULL DEFAULT '',
	PRIMARY KEY (role_uuid, permission_id, object_pk)
);
CREATE INDEX role_permissions_lookup ON role_permissions (permission_id, object_pk);

CREATE TABLE tokens (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	identifier text NOT NULL UNIQUE CHECK (length(identifier) BETWEEN 1 AND 255),
	-- The key itself (shown by view_key) and its SHA-256, the only thing a lookup by key uses.
	key text NOT NULL,
	key_digest text NOT NULL UNIQUE,
	intent text NOT NULL DEFAULT 'verification'
		CHECK (intent IN ('verification', 'api', 'recovery', 'app_password')),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	description text NOT NULL DEFAULT '',
	expiring boolean NOT NULL DEFAULT true,
	expires timestamptz,
	managed text UNIQUE
);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_expires ON tokens (expires) WHERE expiring;

CREATE TABLE certificate_key_pairs (
	kp_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	certificate_data text NOT NULL,
	-- PEM sealed with a key derived from secret_key (cu_crypto_seal); NULL without a key.
	key_data_sealed text,
	fingerprint_sha256 text,
	fingerprint_sha1 text,
	cert_expiry timestamptz,
	cert_subject text,
	key_type text,
	managed text UNIQUE,
	created timestamptz NOT NULL DEFAULT now(),
	last_updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE applications (
	uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL CHECK (length(name) >= 1),
	slug text NOT NULL UNIQUE CHECK (slug ~ '^[-a-zA-Z0-9_]+$'),
	provider_id integer UNIQUE,
	open_in_new_tab boolean NOT NULL DEFAULT false,
	meta_launch_url text NOT NULL DEFAULT '',
	meta_icon text NOT NULL DEFAULT '',
	meta_description text NOT NULL DEFAULT '',
	meta_publisher text NOT NULL DEFAULT '',
	policy_engine_mode text NOT NULL DEFAULT 'any' CHECK (policy_engine_mode IN ('all', 'any')),
	"group" text NOT NULL DEFAULT ''
);
CREATE INDEX applications_name ON applications (name);

CREATE TABLE brands (
	brand_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	domain text NOT NULL UNIQUE CHECK (length(domain) >= 1),
	"default" boolean NOT NULL DEFAULT false,
	branding_title text NOT NULL DEFAULT 'authentik',
	branding_logo text NOT NULL DEFAULT '/static/dist/assets/icons/icon_left_brand.svg',
	branding_favicon text NOT NULL DEFAULT '/static/dist/assets/icons/icon.png',
	branding_custom_css text NOT NULL DEFAULT '',
	branding_default_flow_background text NOT NULL DEFAULT '/static/dist/assets/images/flow_background.jpg',
	-- Flows arrive with the flow engine; until then these hold the uuid as given.
	flow_authentication uuid,
	flow_invalidation uuid,
	flow_recovery uuid,
	flow_unenrollment uuid,
	flow_user_settings uuid,
	flow_device_code uuid,
	default_application uuid REFERENCES applications (uuid) ON DELETE SET NULL,
	web_certificate uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object')
);
-- At most one default brand.
CREATE UNIQUE INDEX brands_one_default ON brands ("default") WHERE "default";

CREATE TABLE brand_client_certificates (
	brand_uuid uuid NOT NULL REFERENCES brands (brand_uuid) ON DELETE CASCADE,
	kp_uuid uuid NOT NULL REFERENCES certificate_key_pairs (kp_uuid) ON DELETE CASCADE,
	PRIMARY KEY (brand_uuid, kp_uuid)
);

CREATE TABLE events (
	event_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	action text NOT NULL,
	app text NOT NULL DEFAULT '',
	context jsonb NOT NULL DEFAULT '{}',
	client_ip inet,
	-- A snapshot: {"pk", "username", "email"}, kept when the user is gone.
	"user" jsonb NOT NULL DEFAULT '{}',
	brand jsonb NOT NULL DEFAULT '{}',
	created timestamptz NOT NULL DEFAULT now(),
	expires timestamptz NOT NULL DEFAULT now() + interval '365 days'
);
CREATE INDEX events_created ON events (created);
CREATE INDEX events_action ON events (action, created);
CREATE INDEX events_username ON events (("user" ->> 'username'), created);
CREATE INDEX events_expires ON events (expires);

-- Every group a user is in, directly or through parents (authentik's all_groups()).
CREATE FUNCTION user_all_groups(uid bigint) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE g(uuid) AS (
		SELECT group_uuid FROM group_users WHERE user_id = uid
		UNION
		SELECT p.parent_uuid FROM group_parents p JOIN g ON p.group_uuid = g.uuid
	)
	SELECT uuid FROM g
$$;

CREATE FUNCTION user_is_superuser(uid bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (
		SELECT 1 FROM groups WHERE is_superuser AND uuid IN (SELECT user_all_groups(uid))
	)
$$;

-- Every role a user holds, directly or through any of its groups.
CREATE FUNCTION user_all_roles(uid bigint) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
	SELECT role_uuid FROM role_users WHERE user_id = uid
	UNION
	SELECT role_uuid FROM role_groups WHERE group_uuid IN (SELECT user_all_groups(uid))
$$;

-- perm is "<app_label>.<codename>"; object_pk '' asks for the model-level permission, any
-- other value is satisfied by the model-level one or by one on that object. Superusers hold
-- every permission.
CREATE FUNCTION user_has_perm(uid bigint, perm text, obj text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT user_is_superuser(uid) OR EXISTS (
		SELECT 1
		FROM role_permissions rp
		JOIN permissions p ON p.id = rp.permission_id
		WHERE p.app_label = split_part(perm, '.', 1)
		  AND p.codename = split_part(perm, '.', 2)
		  AND (rp.object_pk = '' OR rp.object_pk = obj)
		  AND rp.role_uuid IN (SELECT user_all_roles(uid))
	)
$$;

-- The objects a user holds perm on one by one (for lists filtered by object permissions).
CREATE FUNCTION user_perm_objects(uid bigint, perm text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	SELECT rp.object_pk
	FROM role_permissions rp
	JOIN permissions p ON p.id = rp.permission_id
	WHERE p.app_label = split_part(perm, '.', 1)
	  AND p.codename = split_part(perm, '.', 2)
	  AND rp.object_pk <> ''
	  AND rp.role_uuid IN (SELECT user_all_roles(uid))
$$;
