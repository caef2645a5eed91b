/* Statements of lib/api/stages.c: X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_STAGES_API_H
#define CU_STMTS_STAGES_API_H

#include "stmts/applications.h"
#include "stmts/flows_api.h"
#include "stmts/users.h"

/*
 * A stage's serialisation depends on its kind (component, names, the kind's fields and their
 * defaults). lib/api/stages.c keeps that in one table and hands it to SQL as a JSON object
 * keyed by stages.type: {"identificationstage": {"component": ..., "verbose_name": ...,
 * "verbose_name_plural": ..., "meta_model_name": ..., "fields": {field: default}, "order":
 * [field, ...]}}. M is the SQL expression of that object; in a statement it is a parameter.
 * Objects are built as json, not jsonb, so that their keys keep authentik's order.
 */

/* The flows the stage aliased s is bound into. */
#define STAGES_API_FLOW_SET                                                                        \
	"(SELECT coalesce(json_agg(" FLOWS_API_FLOW_SET " ORDER BY fs.slug), '[]') FROM flows "    \
	"fs WHERE fs.flow_uuid IN (SELECT sb.target FROM flow_stage_bindings sb WHERE sb.stage = " \
	"s.stage_uuid))"

/* A prompt stage's prompts and validation policies. */
#define STAGES_API_PROMPT_FIELDS                                                                   \
	"(SELECT coalesce(json_agg(psf.prompt ORDER BY psf.prompt), '[]') FROM "                   \
	"prompt_stage_fields psf WHERE psf.stage = s.stage_uuid)"
#define STAGES_API_PROMPT_POLICIES                                                                 \
	"(SELECT coalesce(json_agg(psv.policy ORDER BY psv.policy), '[]') FROM "                   \
	"prompt_stage_validation_policies psv WHERE psv.stage = s.stage_uuid)"

/* Stage (authentik's StageSerializer) of the row aliased s. */
#define CU_SQL_STAGE(M)                                                                                 \
	"json_build_object('pk', s.stage_uuid, 'name', s.name, 'component', coalesce((" M               \
	") -> s.type ->> 'component', ''), 'verbose_name', coalesce((" M                                \
	") -> s.type ->> 'verbose_name', 'Stage'), 'verbose_name_plural', coalesce((" M                 \
	") -> s.type ->> 'verbose_name_plural', 'Stages'), 'meta_model_name', coalesce((" M             \
	") -> s.type ->> 'meta_model_name', 'authentik_flows.stage'), 'flow_set', " STAGES_API_FLOW_SET \
	")"

/* The kind's own serialiser: Stage, then each field of the kind (stored, else its default) in
 * the kind's order. Only declared fields show: neither write-only secrets nor internal keys. */
#define CU_SQL_STAGE_FULL(M)                                                                                        \
	"(SELECT json_object_agg(x.k, x.v ORDER BY x.o) FROM (SELECT b.key AS k, b.value AS v, "                    \
	"b.n AS o FROM json_each(" CU_SQL_STAGE(                                                                    \
	    M) ") WITH ORDINALITY AS b(key, value, n) UNION "                                                       \
	       "ALL SELECT f.name, coalesce(s.config -> f.name, (" M ") -> s.type -> 'fields' -> "                  \
	       "f.name)::json, 100 + f.n FROM jsonb_array_elements_text(coalesce((" M                               \
	       ") -> s.type -> "                                                                                    \
	       "'order', '[]')) WITH ORDINALITY AS f(name, n) UNION ALL SELECT 'fields', " STAGES_API_PROMPT_FIELDS \
	       ", 1000 WHERE s.type = 'promptstage' UNION ALL SELECT "                                              \
	       "'validation_policies', " STAGES_API_PROMPT_POLICIES ", 1001 WHERE s.type = "                        \
	       "'promptstage') x)"

/* What an audit diff compares: the name and the stored fields, secrets left out. */
#define STAGES_API_SNAPSHOT                                                                        \
	"(jsonb_build_object('name', s.name) || (s.config - 'password') || CASE WHEN s.type = "    \
	"'promptstage' THEN jsonb_build_object('fields', " STAGES_API_PROMPT_FIELDS ", "           \
	"'validation_policies', " STAGES_API_PROMPT_POLICIES ") ELSE '{}' END)::text"

/* Columns: 0 the kind's serialisation, 1 uuid, 2 snapshot, 3 name, 4 type, 5 config. */
#define STAGES_API_SELECT(json)                                                                    \
	"SELECT " json "::text, s.stage_uuid, " STAGES_API_SNAPSHOT ", s.name, s.type, "           \
	"s.config::text FROM stages s WHERE s.stage_uuid = $1::uuid"

/* Prompt of the row aliased p, with the prompt stages that show it (M as above). */
#define CU_SQL_PROMPT(M)                                                                            \
	"json_build_object('pk', p.prompt_uuid, 'name', p.name, 'field_key', p.field_key, "         \
	"'label', p.label, 'type', p.type, 'required', p.required, 'placeholder', "                 \
	"p.placeholder, 'initial_value', p.initial_value, 'order', p.\"order\", "                   \
	"'prompt_stages_obj', (SELECT coalesce(json_agg(" CU_SQL_STAGE_FULL(                        \
	    M) " ORDER BY "                                                                         \
	       "s.name), '[]') FROM stages s WHERE s.stage_uuid IN (SELECT pf.stage FROM "          \
	       "prompt_stage_fields pf WHERE pf.prompt = p.prompt_uuid)), 'sub_text', p.sub_text, " \
	       "'placeholder_expression', p.placeholder_expression, 'initial_value_expression', "   \
	       "p.initial_value_expression)"

#define STAGES_API_PROMPT_SNAPSHOT                                                                 \
	"json_build_object('name', p.name, 'field_key', p.field_key, 'label', p.label, 'type', "   \
	"p.type, 'required', p.required, 'placeholder', p.placeholder, 'initial_value', "          \
	"p.initial_value, 'order', p.\"order\", 'sub_text', p.sub_text, "                          \
	"'placeholder_expression', p.placeholder_expression, 'initial_value_expression', "         \
	"p.initial_value_expression)::text"

/* Columns: 0 Prompt, 1 uuid, 2 snapshot, 3 name. */
#define STAGES_API_PROMPT_SELECT                                                                   \
	"SELECT " CU_SQL_PROMPT(                                                                   \
	    "$2::jsonb") "::text, p.prompt_uuid, " STAGES_API_PROMPT_SNAPSHOT                      \
	                 ", p.name FROM prompts p WHERE p.prompt_uuid = $1::uuid"

/* Invitation of the row aliased i, with its creator (PartialUser) and flow (Flow). */
#define STAGES_API_INVITATION_CREATOR                                                              \
	"(SELECT " CU_SQL_PARTIAL_USER " FROM users pu WHERE pu.id = i.created_by)"
#define STAGES_API_INVITATION_FLOW                                                                 \
	"(SELECT " CU_SQL_FLOW " FROM flows f WHERE f.flow_uuid = i.flow)::json"
#define STAGES_API_INVITATION_EXPIRES CU_SQL_TS("i.expires")
#define CU_SQL_INVITATION                                                                                  \
	"json_build_object('pk', i.invite_uuid, 'name', i.name, 'expires', " STAGES_API_INVITATION_EXPIRES \
	", 'fixed_data', i.fixed_data, 'created_by', " STAGES_API_INVITATION_CREATOR                       \
	", 'single_use', i.single_use, 'flow', i.flow, 'flow_obj', " STAGES_API_INVITATION_FLOW            \
	")::text"

#define STAGES_API_INVITATION_SNAPSHOT                                                             \
	"json_build_object('name', i.name, 'expires', " STAGES_API_INVITATION_EXPIRES              \
	", 'fixed_data', i.fixed_data, 'single_use', i.single_use, 'flow', i.flow)::text"

/* Columns: 0 Invitation, 1 uuid, 2 snapshot, 3 name. */
#define STAGES_API_INVITATION_SELECT                                                               \
	"SELECT " CU_SQL_INVITATION ", i.invite_uuid, " STAGES_API_INVITATION_SNAPSHOT ", i.name " \
	"FROM invitations i WHERE i.invite_uuid = $1::uuid"

/* UserConsent of the row aliased c, with its user and application in full. */
#define STAGES_API_CONSENT_USER                                                                    \
	"(SELECT " CU_SQL_USER("false", "false") " FROM users u WHERE u.id = c.user_id)::json"
#define STAGES_API_CONSENT_APP                                                                     \
	"(SELECT " CU_SQL_APPLICATION " FROM applications a WHERE a.uuid = c.application)::json"
#define STAGES_API_CONSENT_EXPIRES CU_SQL_TS("c.expires")
#define CU_SQL_USER_CONSENT                                                                        \
	"json_build_object('pk', c.id, 'expires', " STAGES_API_CONSENT_EXPIRES ", 'expiring', "    \
	"c.expiring, 'user', " STAGES_API_CONSENT_USER ", 'application', " STAGES_API_CONSENT_APP  \
	", 'permissions', c.permissions)::text"

/* Columns: 0 UserConsent, 1 id, 2 snapshot, 3 name, 4 owner's user id. */
#define STAGES_API_CONSENT_SELECT                                                                            \
	"SELECT " CU_SQL_USER_CONSENT ", c.id, json_build_object('user', c.user_id, "                        \
	"'application', c.application, 'permissions', c.permissions, 'expires', " STAGES_API_CONSENT_EXPIRES \
	")::text, (SELECT 'User Consent ' || a.name || ' by ' || "                                           \
	"u.username FROM applications a, users u WHERE a.uuid = c.application AND u.id = "                   \
	"c.user_id), c.user_id FROM user_consents c WHERE c.id = $1::bigint"

#define CU_DB_STMTS_STAGES_API(X)                                                                   \
	X(STAGES_API_GET, 2, STAGES_API_SELECT(CU_SQL_STAGE_FULL("$2::jsonb")))                     \
	X(STAGES_API_LOCK, 2, STAGES_API_SELECT(CU_SQL_STAGE_FULL("$2::jsonb")) " FOR UPDATE")      \
	X(STAGES_API_GET_BASE, 2, STAGES_API_SELECT(CU_SQL_STAGE("$2::jsonb")))                     \
	X(STAGES_API_LOCK_BASE, 2, STAGES_API_SELECT(CU_SQL_STAGE("$2::jsonb")) " FOR UPDATE")      \
	X(STAGES_API_INSERT, 3,                                                                     \
	  "INSERT INTO stages (name, type, config) VALUES ($1, $2, $3::jsonb) RETURNING "           \
	  "stage_uuid")                                                                             \
	X(STAGES_API_UPDATE, 3,                                                                     \
	  "UPDATE stages SET name = $2, config = $3::jsonb WHERE stage_uuid = $1::uuid")            \
	X(STAGES_API_DELETE, 1, "DELETE FROM stages WHERE stage_uuid = $1::uuid")                   \
	/* The ordinals (from 1) of the references that name nothing: $1 what each is ("flow",      \
	 * "group", "prompt", "policy", "source", or a stage type), $2 the ids. */                  \
	X(STAGES_API_REFS_MISSING, 2,                                                               \
	  "SELECT n FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS t(k, id, n) WHERE NOT "  \
	  "CASE k WHEN 'flow' THEN EXISTS (SELECT 1 FROM flows WHERE flow_uuid = id) WHEN "         \
	  "'group' THEN EXISTS (SELECT 1 FROM groups WHERE uuid = id) WHEN 'prompt' THEN EXISTS "   \
	  "(SELECT 1 FROM prompts WHERE prompt_uuid = id) WHEN 'policy' THEN EXISTS (SELECT 1 "     \
	  "FROM policies WHERE policy_uuid = id) WHEN 'source' THEN false ELSE EXISTS (SELECT 1 "   \
	  "FROM stages WHERE stage_uuid = id AND type = k) END ORDER BY n")                         \
	X(STAGES_API_FIELDS_DROP, 2,                                                                \
	  "DELETE FROM prompt_stage_fields WHERE stage = $1::uuid AND NOT (prompt = ANY "           \
	  "($2::uuid[]))")                                                                          \
	X(STAGES_API_FIELDS_ADD, 2,                                                                 \
	  "INSERT INTO prompt_stage_fields (stage, prompt) SELECT DISTINCT $1::uuid, x FROM "       \
	  "unnest($2::uuid[]) AS x ON CONFLICT DO NOTHING")                                         \
	X(STAGES_API_POLICIES_DROP, 2,                                                              \
	  "DELETE FROM prompt_stage_validation_policies WHERE stage = $1::uuid AND NOT (policy = "  \
	  "ANY ($2::uuid[]))")                                                                      \
	X(STAGES_API_POLICIES_ADD, 2,                                                               \
	  "INSERT INTO prompt_stage_validation_policies (stage, policy) SELECT DISTINCT "           \
	  "$1::uuid, x FROM unnest($2::uuid[]) AS x ON CONFLICT DO NOTHING")                        \
	X(STAGES_API_PROMPT_GET, 2, STAGES_API_PROMPT_SELECT)                                       \
	X(STAGES_API_PROMPT_LOCK, 2, STAGES_API_PROMPT_SELECT " FOR UPDATE")                        \
	X(STAGES_API_PROMPT_INSERT, 11,                                                             \
	  "INSERT INTO prompts (name, field_key, label, type, required, placeholder, "              \
	  "initial_value, \"order\", sub_text, placeholder_expression, initial_value_expression) "  \
	  "VALUES ($1, $2, $3, $4, $5::boolean, $6, $7, $8::integer, $9, $10::boolean, "            \
	  "$11::boolean) RETURNING prompt_uuid")                                                    \
	X(STAGES_API_PROMPT_UPDATE, 12,                                                             \
	  "UPDATE prompts SET name = $2, field_key = $3, label = $4, type = $5, required = "        \
	  "$6::boolean, placeholder = $7, initial_value = $8, \"order\" = $9::integer, sub_text = " \
	  "$10, placeholder_expression = $11::boolean, initial_value_expression = $12::boolean "    \
	  "WHERE prompt_uuid = $1::uuid")                                                           \
	X(STAGES_API_PROMPT_DELETE, 1, "DELETE FROM prompts WHERE prompt_uuid = $1::uuid")          \
	/* Editing a prompt changes the flows whose prompt stages show it. */                       \
	X(STAGES_API_PROMPT_TOUCH, 1,                                                               \
	  "UPDATE stages SET config = config WHERE stage_uuid IN (SELECT stage FROM "               \
	  "prompt_stage_fields WHERE prompt = $1::uuid)")                                           \
	X(STAGES_API_INVITATION_GET, 1, STAGES_API_INVITATION_SELECT)                               \
	X(STAGES_API_INVITATION_LOCK, 1, STAGES_API_INVITATION_SELECT " FOR UPDATE")                \
	X(STAGES_API_INVITATION_INSERT, 6,                                                          \
	  "INSERT INTO invitations (name, expires, fixed_data, single_use, flow, created_by) "      \
	  "VALUES ($1, $2::timestamptz, $3::jsonb, $4::boolean, $5::uuid, $6::bigint) RETURNING "   \
	  "invite_uuid")                                                                            \
	X(STAGES_API_INVITATION_UPDATE, 6,                                                          \
	  "UPDATE invitations SET name = $2, expires = $3::timestamptz, fixed_data = $4::jsonb, "   \
	  "single_use = $5::boolean, flow = $6::uuid WHERE invite_uuid = $1::uuid")                 \
	X(STAGES_API_INVITATION_DELETE, 1, "DELETE FROM invitations WHERE invite_uuid = $1::uuid")  \
	X(STAGES_API_CONSENT_GET, 1, STAGES_API_CONSENT_SELECT)                                     \
	X(STAGES_API_CONSENT_LOCK, 1, STAGES_API_CONSENT_SELECT " FOR UPDATE OF c")                 \
	X(STAGES_API_CONSENT_DELETE, 1, "DELETE FROM user_consents WHERE id = $1::bigint")          \
	/* Stages that offer users a settings page (stages/all/user_settings/): password stages     \
	 * whose configure_flow names a flow. Columns: 0 uuid, 1 type. */                           \
	X(STAGES_API_USER_SETTINGS, 0,                                                              \
	  "SELECT s.stage_uuid, s.type FROM stages s WHERE s.type = 'passwordstage' AND EXISTS "    \
	  "(SELECT 1 FROM flows f WHERE f.flow_uuid::text = s.config ->> 'configure_flow') ORDER "  \
	  "BY s.name, s.stage_uuid")                                                                \
	/* The configure flow of such a stage, for /flows/-/configure/{stage_uuid}/ (lib/flows.c).  \
	 * Columns: 0 the flow's slug. */                                                           \
	X(STAGES_API_CONFIGURE_FLOW, 1,                                                             \
	  "SELECT f.slug FROM stages s JOIN flows f ON f.flow_uuid::text = s.config ->> "           \
	  "'configure_flow' WHERE s.stage_uuid = $1::uuid AND s.type = 'passwordstage'")

#endif
