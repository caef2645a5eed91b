/*
 * Schema migrations: sql/NNNN_name.sql files applied in order, each once, each in its own
 * transaction, recorded in schema_migrations, under a PostgreSQL advisory lock so that two
 * processes starting together cannot race. A migration file must not hold BEGIN or COMMIT.
 */
#ifndef CU_MIGRATE_H
#define CU_MIGRATE_H

#include <stddef.h>

#include "db.h"

/* The advisory lock key: "custos" in ASCII. */
#define CU_MIGRATE_LOCK_KEY "109441445390451"

/*
 * Applies every migration in dir not applied yet. *applied gets how many ran. On failure
 * writes a one-line reason naming the file into err and returns -1; the failing migration
 * left nothing behind.
 */
int cu_migrate_run(struct cu_db *db, const char *dir, int *applied, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Applied versions and file names in dir, for "custos-worker migrate --status"; writes one line
 * per file to out ("applied" or "pending"). -1 on error with a reason in err. */
int cu_migrate_status(struct cu_db *db, const char *dir, int fd, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
