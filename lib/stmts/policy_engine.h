/* Statements of lib/policies/ (the engine and the policy kinds): X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_POLICY_ENGINE_H
#define CU_STMTS_POLICY_ENGINE_H

#define CU_DB_STMTS_POLICY_ENGINE(X)

#endif
