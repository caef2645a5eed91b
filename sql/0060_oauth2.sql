-- Providers and the OAuth 2.0 / OpenID Connect provider (authentik_core.Provider,
-- authentik_core.PropertyMapping, authentik_providers_oauth2).
--
-- authentik's providers share an integer primary key from one base table, each kind adding a
-- table of its own fields keyed by the same id; property mappings likewise (uuid keys). custos
-- keeps that shape: providers + oauth2_providers, property_mappings (the scope mapping's own
-- field, scope_name, sits in the base table with the other kinds' fields as nullable columns).

CREATE TABLE providers (
	id serial PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	-- The model name of the kind: 'oauth2provider' (later 'samlprovider', ...).
	type text NOT NULL,
	authentication_flow uuid REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	-- authentik deletes a provider with its authorization flow.
	authorization_flow uuid NOT NULL REFERENCES flows (flow_uuid) ON DELETE CASCADE,
	invalidation_flow uuid REFERENCES flows (flow_uuid) ON DELETE SET NULL,
	-- Bumped by every change to the provider, its kind's row, its mappings, its signing key and
	-- its application (triggers below): what a responder's cached copy is checked against.
	serial bigint NOT NULL DEFAULT 1,
	created timestamptz NOT NULL DEFAULT now(),
	last_updated timestamptz NOT NULL DEFAULT now()
);

-- Applications bind one provider; a provider's application goes with neither.
UPDATE applications SET provider_id = NULL WHERE provider_id IS NOT NULL;
ALTER TABLE applications ADD CONSTRAINT applications_provider_fk
	FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE SET NULL;

CREATE TABLE property_mappings (
	pm_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL UNIQUE CHECK (length(name) >= 1),
	-- 'scopemapping' (later 'samlpropertymapping', ...).
	type text NOT NULL,
	-- Lua 5.4, run sandboxed (lib/policies/expression.h): returns the claims (a table).
	expression text NOT NULL,
	managed text UNIQUE,
	-- scopemapping
	scope_name text,
	description text NOT NULL DEFAULT '',
	created timestamptz NOT NULL DEFAULT now(),
	last_updated timestamptz NOT NULL DEFAULT now(),
	CHECK (type <> 'scopemapping' OR (scope_name IS NOT NULL AND length(scope_name) >= 1))
);
CREATE INDEX property_mappings_type ON property_mappings (type, name);

CREATE TABLE provider_property_mappings (
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	pm_uuid uuid NOT NULL REFERENCES property_mappings (pm_uuid) ON DELETE CASCADE,
	PRIMARY KEY (provider_id, pm_uuid)
);
CREATE INDEX provider_property_mappings_pm ON provider_property_mappings (pm_uuid);

CREATE TABLE oauth2_providers (
	provider_id integer PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
	client_type text NOT NULL DEFAULT 'confidential'
		CHECK (client_type IN ('confidential', 'public')),
	client_id text NOT NULL UNIQUE CHECK (length(client_id) BETWEEN 1 AND 255),
	client_secret text NOT NULL DEFAULT '',
	-- [{"matching_mode": "strict"|"regex", "url": s, "redirect_uri_type": "authorization"|"logout"}]
	redirect_uris jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(redirect_uris) = 'array'),
	-- authentik's duration strings ("minutes=1"), read with cu_config_timedelta().
	access_code_validity text NOT NULL DEFAULT 'minutes=1',
	access_token_validity text NOT NULL DEFAULT 'hours=1',
	refresh_token_validity text NOT NULL DEFAULT 'days=30',
	refresh_token_threshold text NOT NULL DEFAULT 'seconds=0',
	include_claims_in_id_token boolean NOT NULL DEFAULT true,
	signing_key uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	encryption_key uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	sub_mode text NOT NULL DEFAULT 'hashed_user_id'
		CHECK (sub_mode IN ('hashed_user_id', 'user_id', 'user_uuid', 'user_username',
		                    'user_email', 'user_upn')),
	issuer_mode text NOT NULL DEFAULT 'per_provider'
		CHECK (issuer_mode IN ('global', 'per_provider')),
	logout_uri text NOT NULL DEFAULT '',
	logout_method text NOT NULL DEFAULT 'backchannel'
		CHECK (logout_method IN ('backchannel', 'frontchannel')),
	-- custos's addition: refuse authorization requests without PKCE (S256 or plain).
	pkce_required boolean NOT NULL DEFAULT false
);

CREATE TABLE oauth2_provider_federation (
	provider_id integer NOT NULL REFERENCES oauth2_providers (provider_id) ON DELETE CASCADE,
	trusted_provider integer NOT NULL REFERENCES oauth2_providers (provider_id) ON DELETE CASCADE,
	PRIMARY KEY (provider_id, trusted_provider)
);

-- Grants. A secret a client holds is never stored: codes and refresh tokens are random and
-- found by their SHA-256 (hex); an access token (a JWT) by the SHA-256 of the whole JWT.
-- Every grant keeps its scope, its user and the session it came from (sid in the ID token).

CREATE TABLE oauth2_authorization_codes (
	id bigserial PRIMARY KEY,
	code_digest text NOT NULL UNIQUE,
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_uuid uuid,
	expires timestamptz NOT NULL,
	scope text[] NOT NULL DEFAULT '{}',
	redirect_uri text NOT NULL,
	nonce text,
	code_challenge text,
	code_challenge_method text CHECK (code_challenge_method IN ('plain', 'S256')),
	auth_time timestamptz NOT NULL DEFAULT now(),
	amr text[] NOT NULL DEFAULT '{}',
	-- Set by the one statement that takes the code; a second taker finds it set and revokes what
	-- the first one issued (RFC 6749 §4.1.2).
	used timestamptz,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth2_authorization_codes_expires ON oauth2_authorization_codes (expires);
CREATE INDEX oauth2_authorization_codes_user ON oauth2_authorization_codes (user_id);

CREATE TABLE oauth2_refresh_tokens (
	id bigserial PRIMARY KEY,
	token_digest text NOT NULL UNIQUE,
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_uuid uuid,
	expires timestamptz NOT NULL,
	scope text[] NOT NULL DEFAULT '{}',
	revoked boolean NOT NULL DEFAULT false,
	-- The first token of a rotation chain (its own id for the first); reuse of a rotated token
	-- revokes the whole chain.
	chain_id bigint,
	-- The code it was issued for, if any (a reused code revokes it).
	code_id bigint REFERENCES oauth2_authorization_codes (id) ON DELETE SET NULL,
	auth_time timestamptz NOT NULL DEFAULT now(),
	amr text[] NOT NULL DEFAULT '{}',
	-- The ID token's claims as issued, JSON (authentik's id_token field).
	id_token text NOT NULL DEFAULT '',
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth2_refresh_tokens_expires ON oauth2_refresh_tokens (expires);
CREATE INDEX oauth2_refresh_tokens_user ON oauth2_refresh_tokens (user_id);
CREATE INDEX oauth2_refresh_tokens_chain ON oauth2_refresh_tokens (chain_id);
CREATE INDEX oauth2_refresh_tokens_code ON oauth2_refresh_tokens (code_id);

CREATE TABLE oauth2_access_tokens (
	id bigserial PRIMARY KEY,
	token_digest text NOT NULL UNIQUE,
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_uuid uuid,
	expires timestamptz NOT NULL,
	scope text[] NOT NULL DEFAULT '{}',
	revoked boolean NOT NULL DEFAULT false,
	code_id bigint REFERENCES oauth2_authorization_codes (id) ON DELETE SET NULL,
	refresh_chain_id bigint,
	auth_time timestamptz NOT NULL DEFAULT now(),
	-- The access token's own claims, JSON, for introspection and the API's id_token field.
	claims text NOT NULL DEFAULT '{}',
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth2_access_tokens_expires ON oauth2_access_tokens (expires);
CREATE INDEX oauth2_access_tokens_user ON oauth2_access_tokens (user_id);
CREATE INDEX oauth2_access_tokens_code ON oauth2_access_tokens (code_id);
CREATE INDEX oauth2_access_tokens_chain ON oauth2_access_tokens (refresh_chain_id);

-- RFC 8628 device authorization: the client polls with device_code (found by its digest); the
-- user types user_code, which a flow binds to the user once the provider's authorization flow
-- has run.
CREATE TABLE oauth2_device_tokens (
	id bigserial PRIMARY KEY,
	device_code_digest text NOT NULL UNIQUE,
	user_code text NOT NULL UNIQUE,
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	user_id bigint REFERENCES users (id) ON DELETE CASCADE,
	session_uuid uuid,
	scope text[] NOT NULL DEFAULT '{}',
	expires timestamptz NOT NULL,
	-- When the token endpoint last answered a poll (slow_down).
	last_poll timestamptz,
	used timestamptz,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth2_device_tokens_expires ON oauth2_device_tokens (expires);

-- Back-channel logout: the worker posts a logout token to each provider's logout_uri for the
-- grants of an ended session. The session's grants are found by session_uuid.
CREATE INDEX oauth2_access_tokens_session ON oauth2_access_tokens (session_uuid);
CREATE INDEX oauth2_refresh_tokens_session ON oauth2_refresh_tokens (session_uuid);

-- The serial: any change a responder's cached provider depends on bumps it.
CREATE FUNCTION providers_bump_serial() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	pid integer;
BEGIN
	IF TG_TABLE_NAME = 'providers' THEN
		IF TG_OP = 'UPDATE' THEN
			NEW.serial := OLD.serial + 1;
			NEW.last_updated := now();
		END IF;
		RETURN NEW;
	ELSIF TG_TABLE_NAME = 'certificate_key_pairs' THEN
		UPDATE providers SET serial = serial + 1 WHERE id IN (
			SELECT provider_id FROM oauth2_providers
			WHERE signing_key = COALESCE(NEW.kp_uuid, OLD.kp_uuid)
			   OR encryption_key = COALESCE(NEW.kp_uuid, OLD.kp_uuid));
	ELSIF TG_TABLE_NAME = 'property_mappings' THEN
		UPDATE providers SET serial = serial + 1 WHERE id IN (
			SELECT provider_id FROM provider_property_mappings
			WHERE pm_uuid = COALESCE(NEW.pm_uuid, OLD.pm_uuid));
	ELSIF TG_TABLE_NAME = 'applications' THEN
		UPDATE providers SET serial = serial + 1
		WHERE id IN (OLD.provider_id, NEW.provider_id);
	ELSE
		-- oauth2_providers, provider_property_mappings: keyed by provider_id.
		IF TG_OP = 'DELETE' THEN pid := OLD.provider_id; ELSE pid := NEW.provider_id; END IF;
		UPDATE providers SET serial = serial + 1 WHERE id = pid;
		IF TG_OP = 'UPDATE' AND OLD.provider_id <> NEW.provider_id THEN
			UPDATE providers SET serial = serial + 1 WHERE id = OLD.provider_id;
		END IF;
	END IF;
	IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER providers_serial BEFORE UPDATE ON providers
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();
CREATE TRIGGER oauth2_providers_serial AFTER INSERT OR UPDATE OR DELETE ON oauth2_providers
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();
CREATE TRIGGER provider_property_mappings_serial
	AFTER INSERT OR UPDATE OR DELETE ON provider_property_mappings
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();
CREATE TRIGGER property_mappings_serial AFTER UPDATE OR DELETE ON property_mappings
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();
CREATE TRIGGER certificate_key_pairs_provider_serial AFTER UPDATE OR DELETE ON certificate_key_pairs
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();
CREATE TRIGGER applications_provider_serial AFTER INSERT OR UPDATE OR DELETE ON applications
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();

-- authentik's default scope mappings (blueprints/system/providers-oauth2.yaml), in Lua.
INSERT INTO property_mappings (name, type, managed, scope_name, description, expression) VALUES
	('authentik default OAuth Mapping: OpenID ''openid''', 'scopemapping',
	 'goauthentik.io/providers/oauth2/scope-openid', 'openid', '',
	 E'-- Required by OpenID Connect; the scope by itself gives no information.\nreturn {}\n'),
	('authentik default OAuth Mapping: OpenID ''email''', 'scopemapping',
	 'goauthentik.io/providers/oauth2/scope-email', 'email', 'Email address',
	 E'return {\n  email = request.user.email,\n  email_verified = false,\n}\n'),
	('authentik default OAuth Mapping: OpenID ''profile''', 'scopemapping',
	 'goauthentik.io/providers/oauth2/scope-profile', 'profile', 'General Profile Information',
	 E'-- custos keeps one full name, so it is the given name too.\n' ||
	 E'local groups = {}\nfor i, g in ipairs(request.user.groups) do groups[i] = g.name end\n' ||
	 E'return {\n  name = request.user.name,\n  given_name = request.user.name,\n' ||
	 E'  preferred_username = request.user.username,\n  nickname = request.user.username,\n' ||
	 E'  groups = groups,\n}\n'),
	('authentik default OAuth Mapping: OpenID ''offline_access''', 'scopemapping',
	 'goauthentik.io/providers/oauth2/scope-offline_access', 'offline_access',
	 'Access to request new tokens without interaction',
	 E'-- Lets the application get new tokens without the user.\nreturn {}\n'),
	('authentik default OAuth Mapping: authentik API access', 'scopemapping',
	 'goauthentik.io/providers/oauth2/scope-authentik_api', 'goauthentik.io/api',
	 'authentik API Access on behalf of your user',
	 E'-- Lets the access token be used as a Bearer token on the API.\nreturn {}\n');

INSERT INTO permission_apps (app_label, verbose_name) VALUES
	('authentik_providers_oauth2', 'authentik Providers.OAuth2')
	ON CONFLICT DO NOTHING;

INSERT INTO permission_models (app_label, model, verbose_name) VALUES
	('authentik_core', 'provider', 'Provider'),
	('authentik_core', 'propertymapping', 'Property Mapping'),
	('authentik_providers_oauth2', 'oauth2provider', 'OAuth2/OpenID Provider'),
	('authentik_providers_oauth2', 'scopemapping', 'Scope Mapping'),
	('authentik_providers_oauth2', 'authorizationcode', 'Authorization Code'),
	('authentik_providers_oauth2', 'accesstoken', 'OAuth2 Access Token'),
	('authentik_providers_oauth2', 'refreshtoken', 'OAuth2 Refresh Token'),
	('authentik_providers_oauth2', 'devicetoken', 'Device Token')
	ON CONFLICT DO NOTHING;

INSERT INTO permissions (app_label, model, codename, name)
SELECT m.app_label, m.model, v || '_' || m.model,
       'Can ' || v || ' ' || m.verbose_name
FROM permission_models m, unnest(ARRAY['add', 'change', 'delete', 'view']) v
WHERE (m.app_label, m.model) IN (
	('authentik_core', 'provider'), ('authentik_core', 'propertymapping'),
	('authentik_providers_oauth2', 'oauth2provider'),
	('authentik_providers_oauth2', 'scopemapping'),
	('authentik_providers_oauth2', 'authorizationcode'),
	('authentik_providers_oauth2', 'accesstoken'),
	('authentik_providers_oauth2', 'refreshtoken'),
	('authentik_providers_oauth2', 'devicetoken'))
ON CONFLICT DO NOTHING;
