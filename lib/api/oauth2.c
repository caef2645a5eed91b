/*
 * /api/v3/oauth2/ as authentik's AccessTokenViewSet, RefreshTokenViewSet and
 * AuthorizationCodeViewSet (authentik/providers/oauth2/api/tokens.py): grants by integer id.
 *
 * Who sees a grant: its user, and whoever holds the kind's view permission (on the model, or on
 * that grant). authentik shows a non-superuser only its own grants; custos lets the view
 * permission widen that as it does for every other resource. Deleting a grant revokes it (the
 * token endpoints find nothing any more) and needs the kind's delete permission, as authentik's
 * ObjectPermissions ask: seeing one's own grant is not enough. Grants are internally managed
 * models, which authentik's audit log leaves out, and so does custos.
 *
 * Nothing here shows what the client holds: the tables keep only digests, and the JSON leaves
 * them out; a grant's provider is shown without its client secret.
 */
#include "api/oauth2.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "server.h"

#define GRANT_APP "authentik_providers_oauth2."

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct cu_api_sort token_sorts[] = {
    {"provider", "t.provider_id"},
    {"expires", "t.expires"},
    {"pk", "t.id"},
    {"id", "t.id"},
    {"user", "t.user_id"},
    {"revoked", "t.revoked"},
    {"auth_time", "t.auth_time"},
};

static const struct cu_api_sort code_sorts[] = {
    {"provider", "t.provider_id"}, {"expires", "t.expires"},     {"pk", "t.id"}, {"id", "t.id"},
    {"user", "t.user_id"},         {"auth_time", "t.auth_time"},
};

static const struct cu_api_filter grant_filters[] = {
    {"user", CU_API_F_INT, "t.user_id = $%d::bigint"},
    {"provider", CU_API_F_INT, "t.provider_id = $%d::bigint"},
};

/* One kind of grant: its list, statements and permissions. */
struct grant_kind {
	struct cu_api_list gk_list;
	enum cu_db_stmt gk_get;
	enum cu_db_stmt gk_delete;
	const char *gk_view;
	const char *gk_delete_perm;
};

#define GRANT_LIST(row, from, model, sorts)                                                        \
	{                                                                                          \
		.al_row = row, .al_from = from, .al_pk = "t.id::text",                             \
		.al_view_perm = GRANT_APP "view_" model, .al_search = NULL, .al_sorts = sorts,     \
		.al_nsorts = NITEMS(sorts), .al_default_sort = "provider,expires",                 \
		.al_tiebreak = "t.id", .al_filters = grant_filters,                                \
		.al_nfilters = NITEMS(grant_filters), .al_owner = "t.user_id",                     \
	}

static const struct grant_kind access_tokens = {
    GRANT_LIST(CU_SQL_OAUTH2_ACCESS_TOKEN, CU_SQL_OAUTH2_ACCESS_TOKEN_FROM, "accesstoken",
               token_sorts),
    CU_DB_STMT_OAUTH2_API_ACCESS_TOKEN_GET,
    CU_DB_STMT_OAUTH2_API_ACCESS_TOKEN_DELETE,
    GRANT_APP "view_accesstoken",
    GRANT_APP "delete_accesstoken",
};

static const struct grant_kind refresh_tokens = {
    GRANT_LIST(CU_SQL_OAUTH2_REFRESH_TOKEN, CU_SQL_OAUTH2_REFRESH_TOKEN_FROM, "refreshtoken",
               token_sorts),
    CU_DB_STMT_OAUTH2_API_REFRESH_TOKEN_GET,
    CU_DB_STMT_OAUTH2_API_REFRESH_TOKEN_DELETE,
    GRANT_APP "view_refreshtoken",
    GRANT_APP "delete_refreshtoken",
};

static const struct grant_kind codes = {
    GRANT_LIST(CU_SQL_OAUTH2_CODE, CU_SQL_OAUTH2_CODE_FROM, "authorizationcode", code_sorts),
    CU_DB_STMT_OAUTH2_API_CODE_GET,
    CU_DB_STMT_OAUTH2_API_CODE_DELETE,
    GRANT_APP "view_authorizationcode",
    GRANT_APP "delete_authorizationcode",
};

/*
 * The grant of the path when the caller may see it: its user, or a holder of the view
 * permission. Returns the result (column 0 the JSON, 1 the id), or NULL having answered: 404
 * for a grant it may not see, as for one that does not exist.
 */
static PGresult *
grant_find(struct cu_ctx *cx, const struct grant_kind *k)
{
	const char *id = cu_ctx_param(cx, "id");
	PGresult *res = NULL;
	enum cu_err err;
	size_t i;
	int ok;

	for (i = 0; id != NULL && isdigit((unsigned char)id[i]); i++)
		;
	if (id == NULL || i == 0 || id[i] != '\0' || i > 18) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, k->gk_get, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return NULL;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	if (strtoll(cu_db_value(res, 0, 2), NULL, 10) == cx->cx_user->us_id)
		return res;
	ok = cu_auth_has_perm(cx, cx->cx_user, k->gk_view, cu_db_value(res, 0, 1));
	if (ok < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return NULL;
	}
	if (!ok) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	return res;
}

static void
grant_list(struct cu_ctx *cx, const struct grant_kind *k)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &k->gk_list, NULL, 0);
}

static void
grant_get(struct cu_ctx *cx, const struct grant_kind *k)
{
	PGresult *res;

	if (cu_api_login(cx) != 0 || (res = grant_find(cx, k)) == NULL)
		return;
	cu_api_send_row(cx, 200, res);
}

static void
grant_delete(struct cu_ctx *cx, const struct grant_kind *k)
{
	const char *id;
	PGresult *res, *del = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (res = grant_find(cx, k)) == NULL)
		return;
	id = cu_db_value(res, 0, 1);
	if (cu_api_require(cx, k->gk_delete_perm, id) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &del, k->gk_delete, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

void
cu_api_oauth2_access_tokens_list(struct cu_ctx *cx)
{
	grant_list(cx, &access_tokens);
}

void
cu_api_oauth2_access_tokens_get(struct cu_ctx *cx)
{
	grant_get(cx, &access_tokens);
}

void
cu_api_oauth2_access_tokens_delete(struct cu_ctx *cx)
{
	grant_delete(cx, &access_tokens);
}

void
cu_api_oauth2_refresh_tokens_list(struct cu_ctx *cx)
{
	grant_list(cx, &refresh_tokens);
}

void
cu_api_oauth2_refresh_tokens_get(struct cu_ctx *cx)
{
	grant_get(cx, &refresh_tokens);
}

void
cu_api_oauth2_refresh_tokens_delete(struct cu_ctx *cx)
{
	grant_delete(cx, &refresh_tokens);
}

void
cu_api_oauth2_codes_list(struct cu_ctx *cx)
{
	grant_list(cx, &codes);
}

void
cu_api_oauth2_codes_get(struct cu_ctx *cx)
{
	grant_get(cx, &codes);
}

void
cu_api_oauth2_codes_delete(struct cu_ctx *cx)
{
	grant_delete(cx, &codes);
}
