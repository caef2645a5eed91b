-- Lists order by a field and then by id, so that pages never overlap; an index on (field, id)
-- serves that order in both directions and any page, where one on the field alone leaves
-- PostgreSQL sorting every row. They replace the single-column indexes, which they cover.
CREATE INDEX users_username_id ON users (username, id);
CREATE INDEX users_name_id ON users (name, id);
CREATE INDEX users_email_id ON users (email, id);
CREATE INDEX users_date_joined_id ON users (date_joined, id);
CREATE INDEX users_last_login_id ON users (last_login, id);
CREATE INDEX users_last_updated_id ON users (last_updated, id);
DROP INDEX users_name;
DROP INDEX users_email;
DROP INDEX users_date_joined;
DROP INDEX users_last_login;
DROP INDEX users_last_updated;
-- The audit log is the table that grows without bound; its list is newest first.
CREATE INDEX events_created_uuid ON events (created, event_uuid);
DROP INDEX events_created;
