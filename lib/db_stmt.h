/*
 * Every runtime SQL statement, declared once (STYLE rule 12). X(NAME, nparams, "SQL") makes
 * CU_DB_STMT_NAME; db.c prepares each on first use per connection under the name "cu_NAME".
 * Group statements by module, in the module's order in DESIGN.md.
 */
#ifndef CU_DB_STMT_H
#define CU_DB_STMT_H

/* Each module's statements live in lib/stmts/<module>.h as CU_DB_STMTS_<MODULE>(X). */
#include "stmts/auth.h"
#include "stmts/bootstrap.h"
#include "stmts/sessions.h"
#include "stmts/tasks.h"
#include "stmts/policies.h"
#include "stmts/notifications.h"
#include "stmts/users.h"
#include "stmts/groups.h"
#include "stmts/tokens.h"
#include "stmts/applications.h"
#include "stmts/brands.h"
#include "stmts/certs.h"
#include "stmts/events.h"
#include "stmts/rbac.h"
#include "stmts/flows.h"
#include "stmts/stages_auth.h"
#include "stmts/stages_data.h"
#include "stmts/policy_engine.h"
#include "stmts/flows_api.h"
#include "stmts/stages_api.h"
#include "stmts/providers_api.h"
#include "stmts/oauth2.h"
#include "stmts/oauth2_authorize.h"
#include "stmts/oauth2_endpoints.h"
#include "stmts/oauth2_worker.h"
#include "stmts/saml.h"
#include "stmts/files.h"

#define CU_DB_STMTS(X)                                                                             \
	X(PING, 0, "SELECT 1")                                                                     \
	/* migrate */                                                                              \
	X(MIGRATION_LOCK, 1, "SELECT pg_advisory_lock($1::bigint)")                                \
	X(MIGRATION_UNLOCK, 1, "SELECT pg_advisory_unlock($1::bigint)")                            \
	X(MIGRATION_APPLIED, 0, "SELECT version, name FROM schema_migrations ORDER BY version")    \
	X(MIGRATION_RECORD, 2, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")    \
	CU_DB_STMTS_AUTH(X)                                                                        \
	CU_DB_STMTS_BOOTSTRAP(X)                                                                   \
	CU_DB_STMTS_SESSIONS(X)                                                                    \
	CU_DB_STMTS_TASKS(X)                                                                       \
	CU_DB_STMTS_POLICIES(X)                                                                    \
	CU_DB_STMTS_NOTIFICATIONS(X)                                                               \
	CU_DB_STMTS_USERS(X)                                                                       \
	CU_DB_STMTS_GROUPS(X)                                                                      \
	CU_DB_STMTS_TOKENS(X)                                                                      \
	CU_DB_STMTS_APPLICATIONS(X)                                                                \
	CU_DB_STMTS_BRANDS(X)                                                                      \
	CU_DB_STMTS_CERTS(X)                                                                       \
	CU_DB_STMTS_EVENTS(X)                                                                      \
	CU_DB_STMTS_RBAC(X)                                                                        \
	CU_DB_STMTS_FLOWS(X)                                                                       \
	CU_DB_STMTS_STAGES_AUTH(X)                                                                 \
	CU_DB_STMTS_STAGES_DATA(X)                                                                 \
	CU_DB_STMTS_POLICY_ENGINE(X)                                                               \
	CU_DB_STMTS_FLOWS_API(X)                                                                   \
	CU_DB_STMTS_STAGES_API(X)                                                                  \
	CU_DB_STMTS_PROVIDERS_API(X)                                                               \
	CU_DB_STMTS_OAUTH2(X)                                                                      \
	CU_DB_STMTS_OAUTH2_AUTHORIZE(X)                                                            \
	CU_DB_STMTS_OAUTH2_ENDPOINTS(X)                                                            \
	CU_DB_STMTS_OAUTH2_WORKER(X)                                                               \
	CU_DB_STMTS_SAML(X)                                                                        \
	CU_DB_STMTS_FILES(X)

#ifdef __cppcheck__
/* cppcheck cannot expand the nested table macros; it checks the code against this stand-in. */
enum cu_db_stmt { CU_DB_STMT__MAX = 512 };
#else
enum cu_db_stmt {
#define CU_DB_STMT_ENUM_(name, nparams, sql) CU_DB_STMT_##name,
	CU_DB_STMTS(CU_DB_STMT_ENUM_)
#undef CU_DB_STMT_ENUM_
	    CU_DB_STMT__MAX
};

#endif

#endif
