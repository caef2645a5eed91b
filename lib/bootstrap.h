/*
 * The first start: the akadmin user in the "authentik Admins" superuser group, an API token
 * when bootstrap_token is set, the default brand and a self-signed certificate key pair. As
 * authentik's bootstrap blueprint, it only ever creates: a second run changes nothing.
 */
#ifndef CU_BOOTSTRAP_H
#define CU_BOOTSTRAP_H

#include <stddef.h>

#include "config.h"
#include "db.h"

#define CU_BOOTSTRAP_USER "akadmin"
#define CU_BOOTSTRAP_GROUP "authentik Admins"
#define CU_BOOTSTRAP_TOKEN_ID "authentik-bootstrap-token"
#define CU_BOOTSTRAP_CERT "authentik Self-signed Certificate"

struct cu_bootstrap_result {
	int br_user_created;
	int br_token_created;
	/* A password generated for akadmin, to show once; "" when none was generated. */
	char br_password[40];
};

/*
 * Runs the bootstrap in one transaction under an advisory lock. no_password leaves akadmin
 * without a usable password (for the initial-setup flow). -1 with a reason in err.
 */
int cu_bootstrap_run(struct cu_db *db, const struct cu_config *cfg, int no_password,
                     struct cu_bootstrap_result *res, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
