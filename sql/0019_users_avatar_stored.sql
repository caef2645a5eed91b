-- The initials avatar depends on the name alone: compute it when the name changes, not on every
-- read (a page of 100 users would otherwise render 100 SVGs per request).
ALTER TABLE users ADD COLUMN avatar text GENERATED ALWAYS AS (user_avatar(name, username)) STORED;
