-- The pending user of the session's plan, kept beside the plan by the statements that write it,
-- so that one lookup per executor request brings the session, its user and the pending user.
-- No foreign key: a lookup joins active users only, and a deleted user simply matches nothing.
ALTER TABLE sessions ADD COLUMN pending_user_id bigint;
