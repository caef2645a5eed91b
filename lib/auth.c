#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "sessions.h"

void
cu_auth_key_digest(char out[65], const char *key, size_t len)
{
	uint8_t d[CU_SHA256_LEN];

	cu_crypto_sha256(d, key, len);
	cu_hex_encode(out, d, sizeof(d));
}

/* Columns: key, id, uuid, username, name, email, type, path, is_superuser. */
static struct cu_user *
user_from_row(struct cu_ctx *cx, PGresult *res)
{
	struct cu_user *u = cu_arena_zalloc(cx->cx_arena, sizeof(*u));
	const char *id = cu_db_value(res, 0, 1);

	u->us_id_text = id;
	u->us_id = strtoll(id, NULL, 10);
	u->us_uuid = cu_db_value(res, 0, 2);
	u->us_username = cu_db_value(res, 0, 3);
	u->us_name = cu_db_value(res, 0, 4);
	u->us_email = cu_db_value(res, 0, 5);
	u->us_type = cu_db_value(res, 0, 6);
	u->us_path = cu_db_value(res, 0, 7);
	u->us_is_superuser = strcmp(cu_db_value(res, 0, 8), "t") == 0;
	return u;
}

/* The user of the request's session cookie; *out NULL when there is none or it is not valid. */
static enum cu_err
session_user(struct cu_ctx *cx, struct cu_user **out)
{
	const char *sid = cu_sessions_cookie_sid(cx), *params[1];
	PGresult *res = NULL;
	enum cu_err err;

	if (sid == NULL)
		return CU_OK;
	params[0] = sid;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SESSIONS_USER, 1, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_OK;
	*out = user_from_row(cx, res);
	cx->cx_via_session = 1;
	return CU_OK;
}

enum cu_err
cu_auth_request(struct cu_ctx *cx, struct cu_user **out)
{
	const char *h = cu_http_header(cx->cx_req, "authorization");
	const char *key, *params[1];
	char digest[65];
	PGresult *res = NULL;
	enum cu_err err;
	size_t len;
	const char *stored;

	*out = NULL;
	cx->cx_via_session = 0;
	if (h == NULL)
		return session_user(cx, out);
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return CU_ERR_INVALID;
	key = h + 7;
	while (*key == ' ')
		key++;
	len = strlen(key);
	if (len == 0 || len > CU_AUTH_MAX_KEY)
		return CU_ERR_INVALID;
	cu_auth_key_digest(digest, key, len);
	params[0] = digest;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_AUTH_API_TOKEN, 1, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_INVALID;
	/* The digest found the row; the key itself must match too, compared in constant time. */
	stored = cu_db_value(res, 0, 0);
	if (!cu_crypto_ct_eq(stored, strlen(stored), key, len))
		return CU_ERR_INVALID;
	*out = user_from_row(cx, res);
	return CU_OK;
}

enum cu_err
cu_auth_load_user(struct cu_ctx *cx, long long id, struct cu_user **out)
{
	const char *params[1];
	PGresult *res = NULL;
	enum cu_err err;

	*out = NULL;
	params[0] = cu_arena_printf(cx->cx_arena, "%lld", id);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_AUTH_USER_BY_ID, 1, params);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	*out = user_from_row(cx, res);
	return CU_OK;
}

int
cu_auth_has_perm(struct cu_ctx *cx, const struct cu_user *user, const char *perm,
                 const char *object_pk)
{
	const char *params[3];
	PGresult *res = NULL;

	if (user == NULL)
		return 0;
	if (user->us_is_superuser)
		return 1;
	params[0] = user->us_id_text;
	params[1] = perm;
	params[2] = object_pk != NULL ? object_pk : "";
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_AUTH_HAS_PERM, 3, params) != CU_OK)
		return -1;
	return PQntuples(res) == 1 && strcmp(cu_db_value(res, 0, 0), "t") == 0;
}
