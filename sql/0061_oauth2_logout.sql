-- The OAuth2 grants of ended sessions and inactive users, and OpenID Connect Back-Channel
-- Logout 1.0 (authentik's user_session_deleted_oauth_backchannel_logout_and_tokens_removal and
-- user_deactivated signals).
--
-- A session row goes however it goes (the logout stage, the API, a deactivated or deleted user,
-- the expiry cleanup). In that same transaction each provider with logout_method 'backchannel'
-- and a logout_uri, whose access tokens carry the session, gets one
-- send_backchannel_logout_request task (worker/oauth2_actor.c). The task carries what the
-- logout token needs (iss, sub, sid as the tokens were issued: their stored claims), read now
-- because the tokens go with the session: its codes and access tokens are deleted. Refresh and
-- device tokens outlive the session, as authentik's do (offline access), and only lose the link
-- to it.

-- The stored claims as jsonb, NULL for text that is not JSON: a damaged row must not make the
-- session undeletable, that is, the user unable to log out.
CREATE FUNCTION oauth2_claims_jsonb(claims text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN claims::jsonb;
EXCEPTION WHEN others THEN
	RETURN NULL;
END
$$;

CREATE FUNCTION sessions_oauth2_logout() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO tasks (actor_name, args, rel_obj_app_label, rel_obj_model, rel_obj_id,
	                   description)
	SELECT 'authentik.providers.oauth2.tasks.send_backchannel_logout_request',
	       jsonb_strip_nulls(jsonb_build_object(
	           'provider_pk', g.provider_id, 'iss', g.iss, 'sub', g.sub, 'sid', g.sid,
	           'session_uuid', OLD.uuid, 'user_id', OLD.user_id)),
	       'authentik_providers_oauth2', 'oauth2provider', g.provider_id::text,
	       'Send a back-channel logout request to the registered client'
	FROM (
		-- One request per provider, with the newest token's claims.
		SELECT DISTINCT ON (t.provider_id) t.provider_id, c ->> 'iss' AS iss,
		       c ->> 'sub' AS sub, c ->> 'sid' AS sid
		FROM oauth2_access_tokens t
		JOIN oauth2_providers p ON p.provider_id = t.provider_id
		CROSS JOIN LATERAL oauth2_claims_jsonb(t.claims) c
		WHERE t.session_uuid = OLD.uuid
		  AND p.logout_method = 'backchannel' AND p.logout_uri <> ''
		  AND jsonb_typeof(c -> 'iss') = 'string'
		  AND (jsonb_typeof(c -> 'sub') = 'string' OR jsonb_typeof(c -> 'sid') = 'string')
		ORDER BY t.provider_id, t.id DESC
	) g;
	DELETE FROM oauth2_access_tokens WHERE session_uuid = OLD.uuid;
	DELETE FROM oauth2_authorization_codes WHERE session_uuid = OLD.uuid;
	UPDATE oauth2_refresh_tokens SET session_uuid = NULL WHERE session_uuid = OLD.uuid;
	UPDATE oauth2_device_tokens SET session_uuid = NULL WHERE session_uuid = OLD.uuid;
	RETURN NULL;
END
$$;
-- Only a logged-in session can hold grants; the anonymous one a login replaces costs nothing.
CREATE TRIGGER sessions_oauth2_logout AFTER DELETE ON sessions
	FOR EACH ROW WHEN (OLD.user_id IS NOT NULL) EXECUTE FUNCTION sessions_oauth2_logout();

-- A deactivated user's grants all go, with or without a session. Named after
-- users_deactivated (sql/0050_flows.sql) so that it runs after it: the sessions end first and
-- their back-channel logouts are written while the access tokens still exist.
CREATE FUNCTION users_oauth2_revoke() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM oauth2_access_tokens WHERE user_id = NEW.id;
	DELETE FROM oauth2_refresh_tokens WHERE user_id = NEW.id;
	DELETE FROM oauth2_device_tokens WHERE user_id = NEW.id;
	-- Not in authentik: an unexchanged code would otherwise still mint tokens later.
	DELETE FROM oauth2_authorization_codes WHERE user_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_deactivated_oauth2 AFTER UPDATE OF is_active ON users
	FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
	EXECUTE FUNCTION users_oauth2_revoke();

-- The expiry cleanup of the grants (worker/oauth2_actor.c), beside clean_expired_models.
INSERT INTO task_schedules (identifier, actor_name, crontab, description) VALUES
	('oauth2_clean_expired', 'custos.providers.oauth2.tasks.clean_expired_grants',
	 '4-59/5 * * * *', 'Remove expired OAuth2 authorization codes, tokens and device codes')
	ON CONFLICT (identifier) DO NOTHING;
