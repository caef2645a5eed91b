#include "bootstrap.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "certs.h"
#include "crypto.h"
#include "log.h"
#include "mem.h"
#include "password.h"

static int
make_cert(struct cu_db *db, struct cu_arena *a, const struct cu_config *cfg, char *err,
          size_t errlen)
{
	const char *name[] = {CU_BOOTSTRAP_CERT};
	char *cert = NULL, *key = NULL, *sealed = NULL;
	struct cu_certs_info info;
	PGresult *res = NULL;
	const char *params[8];
	int rc = -1;

	if (cu_db_exec(db, a, &res, CU_DB_STMT_BOOTSTRAP_HAS_CERT, 1, name) != CU_OK) {
		snprintf(err, errlen, "cannot read certificate key pairs");
		return -1;
	}
	if (PQntuples(res) > 0)
		return 0;
	if (cu_certs_generate(CU_CERTS_RSA, "authentik default certificate", NULL, 365, &cert,
	                      &key) != 0 ||
	    cu_certs_inspect(cert, strlen(cert), &info) != 0 ||
	    cu_crypto_seal(&sealed, cfg->secret_key, key, strlen(key)) != 0) {
		snprintf(err, errlen, "cannot generate the self-signed certificate");
		goto out;
	}
	params[0] = CU_BOOTSTRAP_CERT;
	params[1] = cert;
	params[2] = sealed;
	params[3] = info.ci_fingerprint_sha256;
	params[4] = info.ci_fingerprint_sha1;
	params[5] = cu_arena_printf(a, "%lld", (long long)info.ci_not_after);
	params[6] = info.ci_subject;
	params[7] = info.ci_key_type;
	if (cu_db_exec(db, a, NULL, CU_DB_STMT_BOOTSTRAP_CERT, 8, params) != CU_OK) {
		snprintf(err, errlen, "cannot store the self-signed certificate");
		goto out;
	}
	rc = 0;
out:
	if (key != NULL) {
		cu_wipe(key, strlen(key));
		cu_free(key);
	}
	cu_free(cert);
	cu_free(sealed);
	return rc;
}

int
cu_bootstrap_run(struct cu_db *db, const struct cu_config *cfg, int no_password,
                 struct cu_bootstrap_result *r, char *err, size_t errlen)
{
	struct cu_arena a;
	struct cu_password_params pp;
	char hash[CU_PASSWORD_MAX_ENCODED], digest[65];
	const char *params[4];
	const char *group = NULL, *uid = NULL;
	PGresult *res = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	hash[0] = '\0';
	cu_arena_init(&a);
	if (cu_db_begin(db) != CU_OK ||
	    cu_db_exec(db, &a, NULL, CU_DB_STMT_BOOTSTRAP_LOCK, 0, NULL) != CU_OK) {
		snprintf(err, errlen, "cannot reach PostgreSQL");
		goto out;
	}
	params[0] = CU_BOOTSTRAP_GROUP;
	if (cu_db_exec(db, &a, &res, CU_DB_STMT_BOOTSTRAP_ADMIN_GROUP, 1, params) != CU_OK ||
	    PQntuples(res) < 1) {
		snprintf(err, errlen, "cannot create the group %s", CU_BOOTSTRAP_GROUP);
		goto out;
	}
	group = cu_db_value(res, 0, 0);

	params[0] = CU_BOOTSTRAP_USER;
	if (cu_db_exec(db, &a, &res, CU_DB_STMT_BOOTSTRAP_FIND_USER, 1, params) != CU_OK) {
		snprintf(err, errlen, "cannot read users");
		goto out;
	}
	if (PQntuples(res) > 0) {
		uid = cu_db_value(res, 0, 0);
	} else {
		const char *pw = cfg->bootstrap_password;

		if (no_password) {
			snprintf(hash, sizeof(hash), "!");
		} else {
			if (pw == NULL || pw[0] == '\0') {
				/* 24 characters of [A-Za-z0-9]: about 143 bits. */
				cu_crypto_random_alnum(r->br_password, 24);
				pw = r->br_password;
			}
			pp.pp_memory_kib = (uint32_t)cfg->password_memory_kib;
			pp.pp_time_cost = (uint32_t)cfg->password_time_cost;
			pp.pp_parallelism = (uint32_t)cfg->password_parallelism;
			if (cu_password_hash(hash, sizeof(hash), pw, strlen(pw), &pp) != 0) {
				snprintf(err, errlen, "cannot hash the admin password");
				goto out;
			}
		}
		params[0] = CU_BOOTSTRAP_USER;
		params[1] = "authentik Default Admin";
		params[2] = cfg->bootstrap_email;
		params[3] = hash;
		if (cu_db_exec(db, &a, &res, CU_DB_STMT_BOOTSTRAP_CREATE_USER, 4, params) !=
		    CU_OK) {
			snprintf(err, errlen, "cannot create %s", CU_BOOTSTRAP_USER);
			goto out;
		}
		uid = cu_db_value(res, 0, 0);
		params[0] = group;
		params[1] = uid;
		if (cu_db_exec(db, &a, NULL, CU_DB_STMT_BOOTSTRAP_JOIN_GROUP, 2, params) != CU_OK) {
			snprintf(err, errlen, "cannot add %s to %s", CU_BOOTSTRAP_USER,
			         CU_BOOTSTRAP_GROUP);
			goto out;
		}
		r->br_user_created = 1;
	}

	if (cfg->bootstrap_token != NULL && cfg->bootstrap_token[0] != '\0') {
		cu_auth_key_digest(digest, cfg->bootstrap_token, strlen(cfg->bootstrap_token));
		params[0] = CU_BOOTSTRAP_TOKEN_ID;
		params[1] = cfg->bootstrap_token;
		params[2] = digest;
		params[3] = uid;
		if (cu_db_exec(db, &a, &res, CU_DB_STMT_BOOTSTRAP_TOKEN, 4, params) != CU_OK) {
			snprintf(err, errlen, "cannot create the bootstrap token");
			goto out;
		}
		r->br_token_created = strcmp(PQcmdTuples(res), "1") == 0;
	}
	if (cu_db_exec(db, &a, NULL, CU_DB_STMT_BOOTSTRAP_BRAND, 0, NULL) != CU_OK) {
		snprintf(err, errlen, "cannot create the default brand");
		goto out;
	}
	if (make_cert(db, &a, cfg, err, errlen) != 0)
		goto out;
	if (cu_db_commit(db) != CU_OK) {
		snprintf(err, errlen, "cannot commit the bootstrap");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		cu_db_rollback(db);
		cu_wipe(r->br_password, sizeof(r->br_password));
		r->br_password[0] = '\0';
	}
	cu_wipe(hash, sizeof(hash));
	cu_arena_free(&a);
	return rc;
}
