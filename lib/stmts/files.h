/* Statements of lib/api/files.c: media files (sql/0080_admin_interface.sql). */
#ifndef CU_STMTS_FILES_H
#define CU_STMTS_FILES_H

/* authentik's FileListSerializer for every file (not paginated); $1 a substring of the name in
 * any case, or NULL. Names hold only [A-Za-z0-9._/-], so the URL needs no escaping. */
#define FILES_LIST_SQL                                                                             \
	"SELECT coalesce(json_agg(json_build_object('name', f.name, 'mime_type', f.mime, 'url', "  \
	"'/media/public/' || f.name, 'themed_urls', NULL) ORDER BY f.name), '[]')::text FROM "     \
	"media_files f WHERE $1::text IS NULL OR strpos(lower(f.name), lower($1)) > 0"

/* One file to serve: mime, digest, then the content unless $2 (the request's If-None-Match, or
 * NULL) names the digest or is "*", and 't' when it does. Digests are hex, so a quoted digest
 * found in the header is one of its entity tags (weak or not). */
#define FILES_SERVE_SQL                                                                            \
	"SELECT f.mime, f.digest, CASE WHEN m.hit THEN NULL ELSE f.data END, m.hit FROM "          \
	"media_files f, LATERAL (SELECT coalesce(btrim($2::text) = '*' OR strpos($2::text, '\"' "  \
	"|| f.digest || '\"') > 0, false) AS hit) m WHERE f.name = $1"

#define CU_DB_STMTS_FILES(X)                                                                       \
	X(FILES_LIST, 1, FILES_LIST_SQL)                                                           \
	/* $3 is the content in bytea's hex text form; no row back when the name is taken. */      \
	X(FILES_INSERT, 3,                                                                         \
	  "INSERT INTO media_files (name, mime, data) VALUES ($1, $2, $3::bytea) ON CONFLICT "     \
	  "(name) DO NOTHING RETURNING name")                                                      \
	X(FILES_DELETE, 1, "DELETE FROM media_files WHERE name = $1 RETURNING mime")               \
	X(FILES_SERVE, 2, FILES_SERVE_SQL)

#endif
