/*
 * Every runtime SQL statement, declared once (STYLE rule 12). X(NAME, nparams, "SQL") makes
 * CU_DB_STMT_NAME; db.c prepares each on first use per connection under the name "cu_NAME".
 * Group statements by module, in the module's order in DESIGN.md.
 */
#ifndef CU_DB_STMT_H
#define CU_DB_STMT_H

#define CU_DB_STMTS(X)                                                                             \
	X(PING, 0, "SELECT 1")                                                                     \
	X(MIGRATION_LATEST, 0, "SELECT coalesce(max(version), 0) FROM schema_migrations")

enum cu_db_stmt {
#define CU_DB_STMT_ENUM_(name, nparams, sql) CU_DB_STMT_##name,
	CU_DB_STMTS(CU_DB_STMT_ENUM_)
#undef CU_DB_STMT_ENUM_
	CU_DB_STMT__MAX
};

#endif
