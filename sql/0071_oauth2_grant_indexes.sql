-- The token endpoint writes a row of oauth2_access_tokens per token; the links most rows lack
-- (code, refresh chain, session: a client_credentials token has none of them) are indexed only
-- where set, so those inserts maintain three indexes fewer. Every lookup by these columns asks
-- for one value, never for NULL, so the partial indexes serve it.
DROP INDEX oauth2_access_tokens_code;
DROP INDEX oauth2_access_tokens_chain;
DROP INDEX oauth2_access_tokens_session;
DROP INDEX oauth2_refresh_tokens_code;
DROP INDEX oauth2_refresh_tokens_session;
CREATE INDEX oauth2_access_tokens_code ON oauth2_access_tokens (code_id)
	WHERE code_id IS NOT NULL;
CREATE INDEX oauth2_access_tokens_chain ON oauth2_access_tokens (refresh_chain_id)
	WHERE refresh_chain_id IS NOT NULL;
CREATE INDEX oauth2_access_tokens_session ON oauth2_access_tokens (session_uuid)
	WHERE session_uuid IS NOT NULL;
CREATE INDEX oauth2_refresh_tokens_code ON oauth2_refresh_tokens (code_id)
	WHERE code_id IS NOT NULL;
CREATE INDEX oauth2_refresh_tokens_session ON oauth2_refresh_tokens (session_uuid)
	WHERE session_uuid IS NOT NULL;
