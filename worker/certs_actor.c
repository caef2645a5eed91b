/*
 * authentik.crypto.tasks.certificate_discovery: imports the PEM certificates and keys found in
 * cert_discovery_dir (authentik's /certs), and updates the pairs whose files changed. A file
 * "NAME.pem" (or .crt, .key) makes the pair NAME; certbot's layout, a folder NAME holding
 * fullchain.pem and privkey.pem, makes the pair NAME too. Discovered pairs are managed
 * "goauthentik.io/crypto/discovered/NAME", as authentik marks them, and never touch a pair made
 * by hand.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "certs.h"
#include "crypto.h"
#include "log.h"
#include "mem.h"
#include "worker.h"

#define DISCOVERY_MAX_FILES 1000
#define DISCOVERY_MAX_DEPTH 4
#define DISCOVERY_MAX_FILE (1024 * 1024)
#define DISCOVERED_PREFIX "goauthentik.io/crypto/discovered/"

struct found {
	char fd_name[256];
	char *fd_cert; /* arena-owned PEM text */
	char *fd_key;
	int fd_cert_rank; /* fullchain.pem beats cert.pem beats anything else */
};

struct discovery {
	struct cu_worker_task *ds_task;
	struct found *ds_found;
	size_t ds_n;
	size_t ds_files;
};

static char *
read_small(struct cu_arena *a, int dirfd, const char *name)
{
	struct cu_buf b;
	char *out = NULL;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	cu_buf_init(&b, DISCOVERY_MAX_FILE);
	for (;;) {
		char *w = cu_buf_prepare(&b, 65536);
		ssize_t r;

		if (w == NULL)
			goto out; /* too large for a certificate */
		r = read(fd, w, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		cu_buf_commit(&b, (size_t)r);
	}
	out = cu_arena_strndup(a, b.bf_ptr ? b.bf_ptr : "", b.bf_len);
out:
	close(fd);
	cu_buf_free(&b);
	return out;
}

static struct found *
entry(struct discovery *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ds_n; i++)
		if (strcmp(d->ds_found[i].fd_name, name) == 0)
			return &d->ds_found[i];
	if (d->ds_n == DISCOVERY_MAX_FILES)
		return NULL;
	memset(&d->ds_found[d->ds_n], 0, sizeof(d->ds_found[0]));
	snprintf(d->ds_found[d->ds_n].fd_name, sizeof(d->ds_found[0].fd_name), "%s", name);
	return &d->ds_found[d->ds_n++];
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

static void
consider(struct discovery *d, int dirfd, const char *dirname, const char *file)
{
	struct cu_arena *a = d->ds_task->wt_arena;
	char name[256];
	const char *dot;
	char *text;
	struct found *f;
	int rank = 0;

	if (!has_suffix(file, ".pem") && !has_suffix(file, ".crt") && !has_suffix(file, ".cer") &&
	    !has_suffix(file, ".key"))
		return;
	if (++d->ds_files > DISCOVERY_MAX_FILES)
		return;
	if ((text = read_small(a, dirfd, file)) == NULL)
		return;
	if (strcmp(file, "fullchain.pem") == 0 || strcmp(file, "cert.pem") == 0 ||
	    strcmp(file, "chain.pem") == 0 || strcmp(file, "privkey.pem") == 0) {
		if (dirname == NULL)
			return;
		snprintf(name, sizeof(name), "%s", dirname);
		rank = strcmp(file, "fullchain.pem") == 0 ? 2 : strcmp(file, "cert.pem") == 0;
	} else {
		dot = strrchr(file, '.');
		snprintf(name, sizeof(name), "%.*s", (int)(dot - file), file);
	}
	if ((f = entry(d, name)) == NULL)
		return;
	if (strstr(text, "PRIVATE KEY-----") != NULL) {
		f->fd_key = text;
	} else if (strstr(text, "-----BEGIN CERTIFICATE-----") != NULL &&
	           strcmp(file, "chain.pem") != 0 &&
	           (f->fd_cert == NULL || rank > f->fd_cert_rank)) {
		f->fd_cert = text;
		f->fd_cert_rank = rank;
	}
}

static void
walk(struct discovery *d, int dirfd, const char *dirname, int depth)
{
	DIR *dir;
	struct dirent *de;
	int fd = dup(dirfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < DISCOVERY_MAX_DEPTH) {
			int sub = openat(dirfd, de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (sub >= 0) {
				walk(d, sub, de->d_name, depth + 1);
				close(sub);
			}
		} else if (S_ISREG(st.st_mode)) {
			consider(d, dirfd, dirname, de->d_name);
		}
	}
	closedir(dir);
}

/* Stores one discovered pair unless its files are what the pair already holds. */
static int
store(struct cu_worker_task *t, struct found *f)
{
	struct cu_arena *a = t->wt_arena;
	const char *managed = cu_arena_printf(a, DISCOVERED_PREFIX "%s", f->fd_name);
	struct cu_certs_info info;
	PGresult *res = NULL;
	const char *p[9], *key = NULL;
	char *sealed = NULL, *old_key = NULL;
	size_t old_len = 0;
	int changed = 1, rc = -1;

	if (cu_certs_inspect(f->fd_cert, strlen(f->fd_cert), &info) != 0) {
		cu_log(CU_LOG_WARNING, "discovery_bad_certificate", CU_LS("name", f->fd_name));
		return 0;
	}
	if (f->fd_key != NULL &&
	    cu_certs_key_matches(f->fd_cert, strlen(f->fd_cert), f->fd_key, strlen(f->fd_key)) == 1)
		key = f->fd_key;
	p[0] = managed;
	if (cu_db_exec(t->wt_db, a, &res, CU_DB_STMT_WORKER_DISCOVERED_GET, 1, p) != CU_OK)
		return -1;
	if (PQntuples(res) == 1 && strcmp(cu_db_value(res, 0, 1), f->fd_cert) == 0) {
		const char *s = cu_db_value(res, 0, 2);

		if (s == NULL && key == NULL) {
			changed = 0;
		} else if (s != NULL && key != NULL &&
		           cu_crypto_unseal(&old_key, &old_len, t->wt_cfg->secret_key, s) == 0) {
			changed = strcmp(old_key, key) != 0;
			cu_wipe(old_key, old_len);
			cu_free(old_key);
		}
	}
	if (!changed)
		return 0;
	if (key != NULL && cu_crypto_seal(&sealed, t->wt_cfg->secret_key, key, strlen(key)) != 0)
		return -1;
	p[1] = f->fd_name;
	p[2] = f->fd_cert;
	p[3] = sealed;
	p[4] = info.ci_fingerprint_sha256;
	p[5] = info.ci_fingerprint_sha1;
	p[6] = cu_arena_printf(a, "%lld", (long long)info.ci_not_after);
	p[7] = info.ci_subject;
	p[8] = info.ci_key_type;
	switch (cu_db_exec(t->wt_db, a, NULL, CU_DB_STMT_WORKER_DISCOVERED_UPSERT, 9, p)) {
	case CU_OK:
		rc = 1;
		break;
	case CU_ERR_INVALID:
		/* A pair made by hand has the name already: leave both alone, and say so. */
		cu_log(CU_LOG_WARNING, "discovery_name_taken", CU_LS("name", f->fd_name));
		rc = 0;
		break;
	default:
		rc = -1;
		break;
	}
	cu_free(sealed);
	return rc;
}

enum cu_worker_outcome
cu_worker_actor_certificate_discovery(struct cu_worker_task *t)
{
	struct discovery d;
	const char *dir = t->wt_cfg->cert_discovery_dir;
	int dirfd, updated = 0;
	size_t i;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		t->wt_message =
		    cu_arena_printf(t->wt_arena, "No folder %s: nothing to discover", dir);
		return CU_WORKER_DONE;
	}
	memset(&d, 0, sizeof(d));
	d.ds_task = t;
	d.ds_found = cu_arena_alloc(t->wt_arena, DISCOVERY_MAX_FILES * sizeof(*d.ds_found));
	walk(&d, dirfd, NULL, 0);
	close(dirfd);
	for (i = 0; i < d.ds_n; i++) {
		int r;

		if (d.ds_found[i].fd_cert == NULL)
			continue;
		r = store(t, &d.ds_found[i]);
		if (r < 0) {
			t->wt_error = "cannot store discovered certificates";
			return CU_WORKER_RETRY;
		}
		updated += r;
	}
	t->wt_message = cu_arena_printf(
	    t->wt_arena, "Discovered %zu certificates, %d new or changed", d.ds_n, updated);
	return CU_WORKER_DONE;
}
