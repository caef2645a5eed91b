/* Statements of the applications module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_APPLICATIONS_H
#define CU_STMTS_APPLICATIONS_H

#include "stmts/providers_api.h"

/*
 * Application of the row aliased a. provider_obj is its provider as authentik's
 * ProviderSerializer shows it; no provider is a backchannel one yet, so the backchannel lists
 * are empty. launch_url is meta_launch_url when set, else the provider's (an OAuth2 provider's
 * first authorization redirect URI without its path); authentik also formats %(field)s from the
 * user, which custos does not yet.
 */
#define CU_SQL_APPLICATION                                                                         \
	"json_build_object('pk', a.uuid, 'name', a.name, 'slug', a.slug, 'provider', "             \
	"a.provider_id, 'provider_obj', " CU_SQL_APPLICATION_PROVIDER_OBJ ", "                     \
	"'backchannel_providers', '[]'::json, 'backchannel_providers_obj', '[]'::json, "           \
	"'launch_url', " CU_SQL_APPLICATION_LAUNCH_URL ", 'open_in_new_tab', a.open_in_new_tab, "  \
	"'meta_launch_url', a.meta_launch_url, 'meta_icon', a.meta_icon, 'meta_icon_url', "        \
	"nullif(a.meta_icon, ''), 'meta_icon_themed_urls', NULL::json, 'meta_description', "       \
	"a.meta_description, 'meta_publisher', a.meta_publisher, 'policy_engine_mode', "           \
	"a.policy_engine_mode, 'group', a.\"group\")::text"

/* The writable fields, as a write reads them back and an audit diff compares them. */
#define APPLICATIONS_SNAPSHOT                                                                      \
	"json_build_object('name', a.name, 'slug', a.slug, 'provider', a.provider_id, "            \
	"'open_in_new_tab', a.open_in_new_tab, 'meta_launch_url', a.meta_launch_url, "             \
	"'meta_icon', a.meta_icon, 'meta_description', a.meta_description, 'meta_publisher', "     \
	"a.meta_publisher, 'policy_engine_mode', a.policy_engine_mode, 'group', a.\"group\")::text"

/* Columns: 0 Application, 1 uuid, 2 snapshot, 3 name. */
#define APPLICATIONS_SELECT                                                                        \
	"SELECT " CU_SQL_APPLICATION ", a.uuid, " APPLICATIONS_SNAPSHOT ", a.name FROM "           \
	"applications a"

#define CU_DB_STMTS_APPLICATIONS(X)                                                                \
	X(APPLICATIONS_GET, 1, APPLICATIONS_SELECT " WHERE a.slug = $1")                           \
	X(APPLICATIONS_LOCK, 1, APPLICATIONS_SELECT " WHERE a.slug = $1 FOR UPDATE")               \
	X(APPLICATIONS_GET_UUID, 1, APPLICATIONS_SELECT " WHERE a.uuid = $1::uuid")                \
	X(APPLICATIONS_INSERT, 10,                                                                 \
	  "INSERT INTO applications (name, slug, provider_id, open_in_new_tab, meta_launch_url, "  \
	  "meta_icon, meta_description, meta_publisher, policy_engine_mode, \"group\") VALUES "    \
	  "($1, $2, $3::integer, $4::boolean, $5, $6, $7, $8, $9, $10) RETURNING uuid")            \
	X(APPLICATIONS_UPDATE, 11,                                                                 \
	  "UPDATE applications SET name = $2, slug = $3, provider_id = $4::integer, "              \
	  "open_in_new_tab = $5::boolean, meta_launch_url = $6, meta_icon = $7, meta_description " \
	  "= $8, meta_publisher = $9, policy_engine_mode = $10, \"group\" = $11 WHERE uuid = "     \
	  "$1::uuid")                                                                              \
	X(APPLICATIONS_DELETE, 1, "DELETE FROM applications WHERE uuid = $1::uuid")                \
	X(APPLICATIONS_USER_ACTIVE, 1, "SELECT is_active FROM users WHERE id = $1::bigint")        \
	X(APPLICATIONS_FOR_USER, 2,                                                                \
	  "SELECT is_active FROM users WHERE id = $1::bigint AND user_has_perm($2::bigint, "       \
	  "'authentik_core.view_user_applications', id::text)")

#endif
