-- The SAML 2.0 identity provider (authentik_providers_saml): SAML providers beside the OAuth2
-- ones in the providers family (sql/0060_oauth2.sql), SAML property mappings in the shared
-- property_mappings table, the SAML sessions single logout needs, and the request IDs seen
-- (replay protection).

ALTER TABLE property_mappings
	ADD COLUMN saml_name text,
	ADD COLUMN friendly_name text,
	ADD CONSTRAINT property_mappings_saml_name
		CHECK (type <> 'samlpropertymapping' OR (saml_name IS NOT NULL AND length(saml_name) >= 1));

CREATE TABLE saml_providers (
	provider_id integer PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
	acs_url text NOT NULL CHECK (length(acs_url) >= 1),
	sp_binding text NOT NULL DEFAULT 'redirect' CHECK (sp_binding IN ('redirect', 'post')),
	audience text NOT NULL DEFAULT '',
	-- The IdP's EntityID.
	issuer text NOT NULL DEFAULT 'authentik',
	sls_url text NOT NULL DEFAULT '',
	sls_binding text NOT NULL DEFAULT 'redirect' CHECK (sls_binding IN ('redirect', 'post')),
	logout_method text NOT NULL DEFAULT 'frontchannel_iframe'
		CHECK (logout_method IN ('frontchannel_iframe', 'frontchannel_native', 'backchannel')),
	name_id_mapping uuid REFERENCES property_mappings (pm_uuid) ON DELETE SET NULL,
	authn_context_class_ref_mapping uuid REFERENCES property_mappings (pm_uuid) ON DELETE SET NULL,
	-- authentik's duration strings, read with cu_config_timedelta().
	assertion_valid_not_before text NOT NULL DEFAULT 'minutes=-5',
	assertion_valid_not_on_or_after text NOT NULL DEFAULT 'minutes=5',
	session_valid_not_on_or_after text NOT NULL DEFAULT 'minutes=86400',
	digest_algorithm text NOT NULL DEFAULT 'http://www.w3.org/2001/04/xmlenc#sha256',
	signature_algorithm text NOT NULL
		DEFAULT 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
	signing_kp uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	verification_kp uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	encryption_kp uuid REFERENCES certificate_key_pairs (kp_uuid) ON DELETE SET NULL,
	default_relay_state text NOT NULL DEFAULT '',
	default_name_id_policy text NOT NULL
		DEFAULT 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
	sign_assertion boolean NOT NULL DEFAULT true,
	sign_response boolean NOT NULL DEFAULT false,
	sign_logout_request boolean NOT NULL DEFAULT false,
	sign_logout_response boolean NOT NULL DEFAULT false
);

-- A login a SAML provider answered: what a LogoutRequest names (NameID, SessionIndex) and what
-- ends with the custos session (authentik's SAMLSession).
CREATE TABLE saml_sessions (
	saml_session_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_uuid uuid,
	session_index text NOT NULL,
	name_id text NOT NULL,
	name_id_format text NOT NULL DEFAULT '',
	expires timestamptz NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saml_sessions_session ON saml_sessions (session_uuid);
CREATE INDEX saml_sessions_expires ON saml_sessions (expires);
CREATE INDEX saml_sessions_index ON saml_sessions (provider_id, session_index);

-- Request IDs (AuthnRequest, LogoutRequest) already taken, kept until their validity window
-- ends: a replayed request is refused by the primary key.
CREATE TABLE saml_request_ids (
	provider_id integer NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	request_id text NOT NULL CHECK (length(request_id) BETWEEN 1 AND 256),
	expires timestamptz NOT NULL,
	PRIMARY KEY (provider_id, request_id)
);
CREATE INDEX saml_request_ids_expires ON saml_request_ids (expires);

-- A cached SAML provider goes stale with its row, as an OAuth2 one does.
CREATE TRIGGER saml_providers_serial AFTER INSERT OR UPDATE OR DELETE ON saml_providers
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial();

-- The key trigger of 0060 knows only OAuth2 providers' keys; SAML's three join it.
CREATE OR REPLACE FUNCTION providers_bump_serial_saml_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE providers SET serial = serial + 1 WHERE id IN (
		SELECT provider_id FROM saml_providers
		WHERE COALESCE(NEW.kp_uuid, OLD.kp_uuid) IN (signing_kp, verification_kp, encryption_kp));
	IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER certificate_key_pairs_saml_serial AFTER UPDATE OR DELETE ON certificate_key_pairs
	FOR EACH ROW EXECUTE FUNCTION providers_bump_serial_saml_keys();

-- authentik's default SAML mappings (blueprints/system/providers-saml.yaml), in Lua. A mapping
-- returns one value or a list of values (authentik's generator form).
INSERT INTO property_mappings (name, type, managed, saml_name, expression) VALUES
	('authentik default SAML Mapping: UPN', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/upn',
	 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
	 E'return request.user.attributes.upn or request.user.email\n'),
	('authentik default SAML Mapping: Name', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/name',
	 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
	 E'return request.user.name\n'),
	('authentik default SAML Mapping: Email', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/email',
	 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
	 E'return request.user.email\n'),
	('authentik default SAML Mapping: Username', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/username',
	 'http://schemas.goauthentik.io/2021/02/saml/username',
	 E'return request.user.username\n'),
	('authentik default SAML Mapping: User ID', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/uid',
	 'http://schemas.goauthentik.io/2021/02/saml/uid',
	 E'return request.user.pk\n'),
	('authentik default SAML Mapping: Groups', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/groups',
	 'http://schemas.xmlsoap.org/claims/Group',
	 E'local names = {}\nfor i, g in ipairs(request.user.groups) do names[i] = g.name end\nreturn names\n'),
	('authentik default SAML Mapping: WindowsAccountname (Username)', 'samlpropertymapping',
	 'goauthentik.io/providers/saml/ms-windowsaccountname',
	 'http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname',
	 E'return request.user.username\n');

INSERT INTO permission_apps (app_label, verbose_name) VALUES
	('authentik_providers_saml', 'authentik Providers.SAML')
	ON CONFLICT DO NOTHING;

INSERT INTO permission_models (app_label, model, verbose_name) VALUES
	('authentik_providers_saml', 'samlprovider', 'SAML Provider'),
	('authentik_providers_saml', 'samlpropertymapping', 'SAML Provider Property Mapping'),
	('authentik_providers_saml', 'samlsession', 'SAML Session')
	ON CONFLICT DO NOTHING;

INSERT INTO permissions (app_label, model, codename, name)
SELECT m.app_label, m.model, v || '_' || m.model, 'Can ' || v || ' ' || m.verbose_name
FROM permission_models m, unnest(ARRAY['add', 'change', 'delete', 'view']) v
WHERE m.app_label = 'authentik_providers_saml'
ON CONFLICT DO NOTHING;
