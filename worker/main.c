/*
 * custos-worker: the background worker and the admin command line.
 *   custos-worker migrate [--status] [--sql-dir DIR]
 *   custos-worker test_email TO
 *   custos-worker --help
 * Configuration comes from the environment and $CUSTOS_CONFIG, as for every custos program.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "commands.h"
#include "daemon.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "migrate.h"

#ifndef CU_SQL_DIR
#define CU_SQL_DIR "/usr/share/custos/sql"
#endif

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: custos-worker COMMAND [OPTIONS]\n"
	       "\n"
	       "commands:\n"
	       "  migrate [--sql-dir DIR]   apply the pending database migrations\n"
	       "  migrate --status          list migrations as applied or pending\n"
	       "  bootstrap [--no-password] create akadmin, the default brand and certificate\n"
	       "                            (CUSTOS_BOOTSTRAP_PASSWORD, _TOKEN, _EMAIL); a second\n"
	       "                            run changes nothing\n"
	       "  test_email TO             send the email/setup template to TO with the\n"
	       "                            email.* settings (exit 1: try again, 2: refused)\n"
	       "  run                       the background worker: tasks and schedules\n"
	       "  task list                 schedules and the latest task runs\n"
	       "  task run ACTOR [JSON]     queue a task now (e.g. "
	       "authentik.core.tasks.clean_expired_models)\n"
	       "  healthcheck               exit 0 when PostgreSQL answers\n"
	       "\n"
	       "Configuration: CUSTOS_* environment variables (CUSTOS_POSTGRESQL__HOST, ...)\n"
	       "and the file named by CUSTOS_CONFIG. SQL files default to " CU_SQL_DIR ".\n");
}

/* Loads the configuration and connects; -1 after saying why. */
static int
open_db(struct cu_config *cfg, struct cu_db *db)
{
	char err[1024];
	char *conninfo;

	if (cu_config_load(cfg, NULL, environ, err, sizeof(err)) != 0) {
		fprintf(stderr, "custos-worker: configuration: %s\n", err);
		return -1;
	}
	conninfo = cu_config_pg_conninfo(cfg);
	cu_db_init(db, conninfo);
	cu_wipe(conninfo, strlen(conninfo));
	cu_free(conninfo);
	if (cu_db_ensure(db) != CU_OK) {
		fprintf(stderr, "custos-worker: cannot connect to PostgreSQL at %s\n",
		        cfg->pg_host);
		cu_db_close(db);
		cu_config_free(cfg);
		return -1;
	}
	return 0;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct cu_config cfg;
	struct cu_db db;
	const char *dir = CU_SQL_DIR;
	char err[1024];
	int i, status = 0, applied = 0, rc = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--status") == 0) {
			status = 1;
		} else if (strcmp(argv[i], "--sql-dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (open_db(&cfg, &db) != 0)
		return 1;
	if (status) {
		if (cu_migrate_status(&db, dir, STDOUT_FILENO, err, sizeof(err)) != 0) {
			fprintf(stderr, "custos-worker: %s\n", err);
			goto out;
		}
	} else {
		if (cu_migrate_run(&db, dir, &applied, err, sizeof(err)) != 0) {
			fprintf(stderr, "custos-worker: %s\n", err);
			goto out;
		}
		printf("migrations: %d applied, schema up to date\n", applied);
	}
	rc = 0;
out:
	cu_db_close(&db);
	cu_config_free(&cfg);
	return rc;
}

static int
cmd_bootstrap(int argc, char **argv)
{
	struct cu_config cfg;
	struct cu_db db;
	struct cu_bootstrap_result r;
	char err[512];
	int i, no_password = 0, rc = 1;
	const char *listen;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--no-password") == 0) {
			no_password = 1;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (open_db(&cfg, &db) != 0)
		return 1;
	if (cu_bootstrap_run(&db, &cfg, no_password, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "custos-worker: bootstrap: %s\n", err);
		goto out;
	}
	listen = strncmp(cfg.listen_http, "[::]", 4) == 0 ? "127.0.0.1" : cfg.listen_http;
	if (r.br_user_created && r.br_password[0] != '\0') {
		/* The only time this password is shown: only its hash is stored. */
		printf("Log in as %s with the password %s (shown this once)\n", CU_BOOTSTRAP_USER,
		       r.br_password);
	} else if (r.br_user_created && no_password) {
		printf(
		    "%s has no password yet: set one in the initial-setup flow (/if/flow/initial-setup/)\n",
		    CU_BOOTSTRAP_USER);
	} else if (r.br_user_created) {
		printf("Log in as %s with the password from CUSTOS_BOOTSTRAP_PASSWORD\n",
		       CU_BOOTSTRAP_USER);
	}
	if (r.br_user_created)
		printf("at http://%s/\n", listen);
	if (r.br_token_created)
		printf("API token %s created from CUSTOS_BOOTSTRAP_TOKEN\n", CU_BOOTSTRAP_TOKEN_ID);
	cu_wipe(r.br_password, sizeof(r.br_password));
	rc = 0;
out:
	cu_db_close(&db);
	cu_config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	cu_log_init("worker", CU_LOG_INFO);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	if (strcmp(argv[1], "bootstrap") == 0)
		return cmd_bootstrap(argc - 2, argv + 2);
	if (strcmp(argv[1], "test_email") == 0)
		return cu_worker_test_email(argc - 2, argv + 2);
	if (strcmp(argv[1], "run") == 0)
		return cu_worker_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "task") == 0)
		return cu_worker_task(argc - 2, argv + 2);
	if (strcmp(argv[1], "healthcheck") == 0)
		return cu_worker_healthcheck(argc - 2, argv + 2);
	fprintf(stderr, "custos-worker: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
