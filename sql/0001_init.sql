-- The installation itself. install_id identifies this installation (authentik keeps the same
-- value as authentik_install_id); user uids are derived from it.
CREATE TABLE custos_install (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	install_id uuid NOT NULL DEFAULT gen_random_uuid(),
	created timestamptz NOT NULL DEFAULT now()
);

INSERT INTO custos_install DEFAULT VALUES;
