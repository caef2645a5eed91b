/* Statements of the prompt, user_write, invitation and email stages: X(NAME, nparams, "SQL")
 * entries. */
#ifndef CU_STMTS_STAGES_DATA_H
#define CU_STMTS_STAGES_DATA_H

#define CU_DB_STMTS_STAGES_DATA(X)                                                                 \
	/* prompt: the stage's fields in showing order, one query */                               \
	X(PROMPT_FIELDS, 1,                                                                        \
	  "SELECT p.field_key, p.label, p.type, p.required, p.placeholder, p.initial_value, "      \
	  "p.sub_text, p.\"order\", p.placeholder_expression, p.initial_value_expression "         \
	  "FROM prompt_stage_fields f JOIN prompts p ON p.prompt_uuid = f.prompt "                 \
	  "WHERE f.stage = $1::uuid ORDER BY p.\"order\", p.name")                                 \
	X(PROMPT_POLICIES, 1,                                                                      \
	  "SELECT policy::text FROM prompt_stage_validation_policies WHERE stage = $1::uuid "      \
	  "ORDER BY policy")                                                                       \
	X(PROMPT_USERNAME_TAKEN, 2,                                                                \
	  "SELECT 1 FROM users WHERE username = $1 AND id <> coalesce($2::bigint, -1)")            \
	X(PROMPT_USER_ATTRIBUTES, 1, "SELECT attributes::text FROM users WHERE id = $1::bigint")   \
	/* user_write */                                                                           \
	X(USER_WRITE_LOCK, 1,                                                                      \
	  "SELECT id, uuid::text, username, name, email, attributes::text, is_active "             \
	  "FROM users WHERE id = $1::bigint FOR UPDATE")                                           \
	X(USER_WRITE_BY_USERNAME, 1, "SELECT id FROM users WHERE username = $1")                   \
	X(USER_WRITE_INSERT, 8,                                                                    \
	  "INSERT INTO users (username, name, email, is_active, path, type, attributes, "          \
	  "password, password_change_date) VALUES ($1, $2, $3, $4::boolean, $5, $6, $7::jsonb, "   \
	  "coalesce($8, ''), now()) RETURNING id, uuid::text")                                     \
	X(USER_WRITE_UPDATE, 6,                                                                    \
	  "UPDATE users SET username = $2, name = $3, email = $4, attributes = $5::jsonb, "        \
	  "password = coalesce($6, password), password_change_date = CASE WHEN $6 IS NULL "        \
	  "THEN password_change_date ELSE now() END, last_updated = now() WHERE id = $1::bigint")  \
	X(USER_WRITE_GROUPS, 2,                                                                    \
	  "INSERT INTO group_users (group_uuid, user_id) SELECT g.uuid, $2::bigint FROM groups g " \
	  "WHERE g.uuid = ANY ($1::uuid[]) ON CONFLICT DO NOTHING")                                \
	/* invitation: read and, when single use, delete in one statement, so that of two          \
	 * requests racing for one invitation only one gets a row */                               \
	X(INVITATION_TAKE, 2,                                                                      \
	  "WITH inv AS (SELECT invite_uuid, name, fixed_data, single_use FROM invitations "        \
	  "WHERE invite_uuid = $1::uuid AND (flow IS NULL OR flow = $2::uuid) "                    \
	  "AND NOT (expiring AND expires IS NOT NULL AND expires <= now()) FOR UPDATE), "          \
	  "gone AS (DELETE FROM invitations i USING inv WHERE i.invite_uuid = inv.invite_uuid "    \
	  "AND inv.single_use RETURNING i.invite_uuid) "                                           \
	  "SELECT invite_uuid::text, name, fixed_data::text, single_use FROM inv")                 \
	/* email: the pending user whatever is_active says (an account waiting for its             \
	 * confirmation is inactive) */                                                            \
	X(EMAIL_USER, 1,                                                                           \
	  "SELECT id, uuid::text, username, name, email, is_active FROM users "                    \
	  "WHERE id = $1::bigint")                                                                 \
	/* email: whether the link's host $1 (lower case, no port) is a brand's domain or under    \
	 * one, and whether any brand has a real domain name at all */                             \
	X(EMAIL_LINK_HOST, 1,                                                                      \
	  "SELECT EXISTS (SELECT 1 FROM brands WHERE $1 = lower(domain) OR right($1, "             \
	  "length(domain) + 1) = '.' || lower(domain)), EXISTS (SELECT 1 FROM brands WHERE "       \
	  "domain ~ '^[A-Za-z0-9-]+([.][A-Za-z0-9-]+)+$')")                                        \
	X(EMAIL_ACTIVATE, 1,                                                                       \
	  "UPDATE users SET is_active = true, last_updated = now() WHERE id = $1::bigint "         \
	  "AND NOT is_active")

#endif
