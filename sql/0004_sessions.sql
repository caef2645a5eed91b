-- Server-side sessions, as authentik keeps them in its database. The cookie authentik_session
-- carries a signed JWT naming session_key (sid); nothing else of the session leaves the server.
CREATE TABLE sessions (
	session_key text PRIMARY KEY CHECK (length(session_key) BETWEEN 32 AND 128),
	-- NULL while the session is anonymous (a flow in progress).
	user_id bigint REFERENCES users (id) ON DELETE CASCADE,
	-- The AuthenticatedSession's pk, /api/v3/core/authenticated_sessions/{uuid}/.
	uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	data jsonb NOT NULL DEFAULT '{}',
	expires timestamptz NOT NULL,
	last_ip inet,
	last_user_agent text NOT NULL DEFAULT '',
	last_used timestamptz NOT NULL DEFAULT now(),
	created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);
