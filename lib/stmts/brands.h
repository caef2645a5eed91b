/* Statements of the brands module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_BRANDS_H
#define CU_STMTS_BRANDS_H

/* Brand of the row aliased b. */
#define CU_SQL_BRAND                                                                               \
	"json_build_object('brand_uuid', b.brand_uuid, 'domain', b.domain, 'default', "            \
	"b.\"default\", 'branding_title', b.branding_title, 'branding_logo', b.branding_logo, "    \
	"'branding_favicon', b.branding_favicon, 'branding_custom_css', b.branding_custom_css, "   \
	"'branding_default_flow_background', b.branding_default_flow_background, "                 \
	"'flow_authentication', b.flow_authentication, 'flow_invalidation', "                      \
	"b.flow_invalidation, 'flow_recovery', b.flow_recovery, 'flow_unenrollment', "             \
	"b.flow_unenrollment, 'flow_user_settings', b.flow_user_settings, 'flow_device_code', "    \
	"b.flow_device_code, 'default_application', b.default_application, 'web_certificate', "    \
	"b.web_certificate, 'client_certificates', (SELECT coalesce(json_agg(c.kp_uuid ORDER BY "  \
	"c.kp_uuid), '[]') FROM brand_client_certificates c WHERE c.brand_uuid = b.brand_uuid), "  \
	"'attributes', b.attributes)::text"

/* Columns: 0 Brand, 1 uuid, 2 domain, 3 default. */
#define BRANDS_SELECT "SELECT " CU_SQL_BRAND ", b.brand_uuid, b.domain, b.\"default\" FROM brands b"

/* The columns a write sets, $2 .. $17, in the order brands.c passes them. */
#define BRANDS_COLUMNS                                                                             \
	"domain, \"default\", branding_title, branding_logo, branding_favicon, "                   \
	"branding_custom_css, branding_default_flow_background, flow_authentication, "             \
	"flow_invalidation, flow_recovery, flow_unenrollment, flow_user_settings, "                \
	"flow_device_code, default_application, web_certificate, attributes"
#define BRANDS_VALUES                                                                              \
	"$2, $3::boolean, $4, $5, $6, $7, $8, $9::uuid, $10::uuid, $11::uuid, $12::uuid, "         \
	"$13::uuid, $14::uuid, $15::uuid, $16::uuid, $17::jsonb"

/*
 * The brand for a request's host (authentik's get_brand_for_request): the longest domain equal
 * to the host or a suffix of it after a dot, case-insensitive; else the default brand.
 * Columns: 0 CurrentBrand without its constant fields, as a JSON text; flow_* are the flows'
 * slugs, left out where the brand names none.
 */
#define BRANDS_CURRENT                                                                             \
	"SELECT (json_build_object('matched_domain', b.domain, 'branding_title', "                 \
	"b.branding_title, 'branding_logo', b.branding_logo, 'branding_favicon', "                 \
	"b.branding_favicon, 'branding_custom_css', b.branding_custom_css, 'ui_theme', "           \
	"coalesce(b.attributes #>> '{settings,theme,base}', 'automatic'), 'default_locale', "      \
	"coalesce(b.attributes #>> '{settings,locale}', ''))::jsonb || jsonb_strip_nulls("         \
	"jsonb_build_object('flow_authentication', (SELECT slug FROM flows WHERE flow_uuid = "     \
	"b.flow_authentication), 'flow_invalidation', (SELECT slug FROM flows WHERE flow_uuid = "  \
	"b.flow_invalidation), 'flow_recovery', (SELECT slug FROM flows WHERE flow_uuid = "        \
	"b.flow_recovery), 'flow_unenrollment', (SELECT slug FROM flows WHERE flow_uuid = "        \
	"b.flow_unenrollment), 'flow_user_settings', (SELECT slug FROM flows WHERE flow_uuid = "   \
	"b.flow_user_settings), 'flow_device_code', (SELECT slug FROM flows WHERE flow_uuid = "    \
	"b.flow_device_code))))::text FROM brands b, "                                             \
	"(SELECT lower($1) AS h) q WHERE q.h = lower(b.domain) OR right(q.h, length(b.domain) + "  \
	"1) = '.' || lower(b.domain) OR b.\"default\" ORDER BY CASE WHEN q.h = lower(b.domain) "   \
	"OR right(q.h, length(b.domain) + 1) = '.' || lower(b.domain) THEN length(b.domain) "      \
	"ELSE -1 END DESC, b.\"default\" DESC LIMIT 1"

#define CU_DB_STMTS_BRANDS(X)                                                                      \
	X(BRANDS_GET, 1, BRANDS_SELECT " WHERE b.brand_uuid = $1::uuid")                           \
	X(BRANDS_LOCK, 1, BRANDS_SELECT " WHERE b.brand_uuid = $1::uuid FOR UPDATE")               \
	X(BRANDS_OTHER_DEFAULT, 1,                                                                 \
	  "SELECT 1 FROM brands WHERE \"default\" AND brand_uuid IS DISTINCT FROM $1::uuid")       \
	X(BRANDS_APPLICATION_EXISTS, 1, "SELECT 1 FROM applications WHERE uuid = $1::uuid")        \
	X(BRANDS_MISSING_CERT, 1,                                                                  \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "    \
	  "(SELECT 1 FROM certificate_key_pairs WHERE kp_uuid = x) ORDER BY n LIMIT 1")            \
	X(BRANDS_MISSING_FLOW, 1,                                                                  \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "    \
	  "(SELECT 1 FROM flows WHERE flow_uuid = x) ORDER BY n LIMIT 1")                          \
	X(BRANDS_INSERT, 17,                                                                       \
	  "INSERT INTO brands (brand_uuid, " BRANDS_COLUMNS                                        \
	  ") VALUES (coalesce($1::uuid, gen_random_uuid()), " BRANDS_VALUES                        \
	  ") RETURNING brand_uuid")                                                                \
	X(BRANDS_UPDATE, 17,                                                                       \
	  "UPDATE brands SET (" BRANDS_COLUMNS ") = (" BRANDS_VALUES ") WHERE brand_uuid = "       \
	  "$1::uuid")                                                                              \
	X(BRANDS_CLEAR_CERTS, 1,                                                                   \
	  "DELETE FROM brand_client_certificates WHERE brand_uuid = $1::uuid")                     \
	X(BRANDS_ADD_CERTS, 2,                                                                     \
	  "INSERT INTO brand_client_certificates (brand_uuid, kp_uuid) SELECT $1::uuid, x FROM "   \
	  "unnest($2::uuid[]) AS x ON CONFLICT DO NOTHING")                                        \
	X(BRANDS_DELETE, 1, "DELETE FROM brands WHERE brand_uuid = $1::uuid")                      \
	X(BRANDS_CURRENT, 1, BRANDS_CURRENT)

#endif
