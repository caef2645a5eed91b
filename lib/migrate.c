#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "log.h"
#include "mem.h"

#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_SIZE (4 * 1024 * 1024)

struct migration {
	int mg_version;
	char mg_name[256];
};

static const char create_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " version integer PRIMARY KEY,"
                                   " name text NOT NULL,"
                                   " applied_at timestamptz NOT NULL DEFAULT now())";

/* "0001_init.sql" -> 1; -1 for any other shape. */
static int
parse_name(const char *name)
{
	size_t i, n = strlen(name);
	int v = 0;

	if (n < 10 || n >= sizeof(((struct migration *)0)->mg_name) ||
	    strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	for (i = 5; i < n - 4; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
	}
	return v > 0 ? v : -1;
}

static int
cmp_migration(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->mg_version > y->mg_version) - (x->mg_version < y->mg_version);
}

static int
list_dir(const char *dir, struct migration **out, size_t *nout, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct migration *m = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (d == NULL) {
		snprintf(err, errlen, "cannot open migrations folder %s: %s", dir, strerror(errno));
		return -1;
	}
	m = cu_calloc(MIGRATE_MAX_FILES, sizeof(*m));
	while ((de = readdir(d)) != NULL) {
		int v;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".sql") == NULL)
			continue;
		v = parse_name(de->d_name);
		if (v < 0) {
			snprintf(err, errlen, "migration file name %.200s is not NNNN_name.sql",
			         de->d_name);
			goto out;
		}
		if (n == MIGRATE_MAX_FILES) {
			snprintf(err, errlen, "more than %d migrations", MIGRATE_MAX_FILES);
			goto out;
		}
		m[n].mg_version = v;
		snprintf(m[n].mg_name, sizeof(m[n].mg_name), "%s", de->d_name);
		n++;
	}
	qsort(m, n, sizeof(*m), cmp_migration);
	for (i = 1; i < n; i++) {
		if (m[i].mg_version == m[i - 1].mg_version) {
			snprintf(err, errlen, "two migrations share version %04d: %s and %s",
			         m[i].mg_version, m[i - 1].mg_name, m[i].mg_name);
			goto out;
		}
	}
	*out = m;
	*nout = n;
	m = NULL;
	rc = 0;
out:
	cu_free(m);
	closedir(d);
	return rc;
}

static int
read_file(const char *dir, const char *name, struct cu_buf *b, char *err, size_t errlen)
{
	char path[4096];
	int fd = -1, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		char *w = cu_buf_prepare(b, 65536);
		ssize_t r;

		if (w == NULL) {
			snprintf(err, errlen, "%s is larger than %d bytes", name, MIGRATE_MAX_SIZE);
			goto out;
		}
		r = read(fd, w, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		cu_buf_commit(b, (size_t)r);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Locks, makes sure the bookkeeping table exists, and reads which versions are applied. */
static int
prepare(struct cu_db *db, struct cu_arena *a, PGresult **applied, char *err, size_t errlen)
{
	const char *key[] = {CU_MIGRATE_LOCK_KEY};

	if (cu_db_exec(db, a, NULL, CU_DB_STMT_MIGRATION_LOCK, 1, key) != CU_OK) {
		snprintf(err, errlen, "cannot reach PostgreSQL to take the migration lock");
		return -1;
	}
	if (cu_db_exec_script(db, create_table, err, errlen) != CU_OK)
		return -1;
	if (cu_db_exec(db, a, applied, CU_DB_STMT_MIGRATION_APPLIED, 0, NULL) != CU_OK) {
		snprintf(err, errlen, "cannot read schema_migrations");
		return -1;
	}
	return 0;
}

static int
is_applied(const PGresult *res, int version)
{
	int r;

	for (r = 0; r < PQntuples(res); r++) {
		const char *v = cu_db_value(res, r, 0);

		if (v != NULL && strtol(v, NULL, 10) == version)
			return 1;
	}
	return 0;
}

int
cu_migrate_run(struct cu_db *db, const char *dir, int *applied, char *err, size_t errlen)
{
	struct cu_arena a;
	struct migration *m = NULL;
	struct cu_buf sql;
	PGresult *done = NULL;
	size_t n = 0, i;
	int rc = -1, locked = 0;
	const char *key[] = {CU_MIGRATE_LOCK_KEY};

	*applied = 0;
	cu_arena_init(&a);
	cu_buf_init(&sql, MIGRATE_MAX_SIZE);
	if (list_dir(dir, &m, &n, err, errlen) != 0)
		goto out;
	if (prepare(db, &a, &done, err, errlen) != 0)
		goto out;
	locked = 1;
	for (i = 0; i < n; i++) {
		char vbuf[16], dberr[512];
		const char *params[2];

		if (is_applied(done, m[i].mg_version))
			continue;
		cu_buf_clear(&sql);
		if (read_file(dir, m[i].mg_name, &sql, err, errlen) != 0)
			goto out;
		if (cu_db_begin(db) != CU_OK) {
			snprintf(err, errlen, "cannot begin a transaction for %s", m[i].mg_name);
			goto out;
		}
		if (cu_db_exec_script(db, sql.bf_ptr ? sql.bf_ptr : "", dberr, sizeof(dberr)) !=
		    CU_OK) {
			cu_db_rollback(db);
			snprintf(err, errlen, "migration %s failed, nothing of it was applied: %s",
			         m[i].mg_name, dberr);
			goto out;
		}
		snprintf(vbuf, sizeof(vbuf), "%d", m[i].mg_version);
		params[0] = vbuf;
		params[1] = m[i].mg_name;
		if (cu_db_exec(db, &a, NULL, CU_DB_STMT_MIGRATION_RECORD, 2, params) != CU_OK ||
		    cu_db_commit(db) != CU_OK) {
			cu_db_rollback(db);
			snprintf(err, errlen, "cannot record migration %s", m[i].mg_name);
			goto out;
		}
		cu_log(CU_LOG_INFO, "migration_applied", CU_LS("file", m[i].mg_name));
		(*applied)++;
	}
	rc = 0;
out:
	if (locked && cu_db_exec(db, &a, NULL, CU_DB_STMT_MIGRATION_UNLOCK, 1, key) != CU_OK)
		cu_log_msg(CU_LOG_WARNING, "migration_unlock", "lock released with the session");
	cu_buf_free(&sql);
	cu_free(m);
	cu_arena_free(&a);
	return rc;
}

int
cu_migrate_status(struct cu_db *db, const char *dir, int fd, char *err, size_t errlen)
{
	struct cu_arena a;
	struct migration *m = NULL;
	PGresult *done = NULL;
	size_t n = 0, i;
	int rc = -1, locked = 0;
	const char *key[] = {CU_MIGRATE_LOCK_KEY};

	cu_arena_init(&a);
	if (list_dir(dir, &m, &n, err, errlen) != 0)
		goto out;
	if (prepare(db, &a, &done, err, errlen) != 0)
		goto out;
	locked = 1;
	for (i = 0; i < n; i++)
		dprintf(fd, "%-8s %s\n", is_applied(done, m[i].mg_version) ? "applied" : "pending",
		        m[i].mg_name);
	rc = 0;
out:
	if (locked && cu_db_exec(db, &a, NULL, CU_DB_STMT_MIGRATION_UNLOCK, 1, key) != CU_OK)
		cu_log_msg(CU_LOG_WARNING, "migration_unlock", "lock released with the session");
	cu_free(m);
	cu_arena_free(&a);
	return rc;
}
