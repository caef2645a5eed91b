#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "mem.h"

extern char **environ;

#define CFG_MAX_KEY 128  /* a dotted key, from the file or the environment */
#define CFG_MAX_DEPTH 16 /* nested YAML mappings */
#define CFG_INT_MAX INT_MAX

enum cfg_type {
	CFG_STR,
	CFG_INT,
	CFG_BOOL,
	CFG_DOUBLE,
};

struct cfg_key {
	const char *ck_name;
	enum cfg_type ck_type;
	size_t ck_off;
	const char *ck_default; /* text, parsed like any other source so defaults are checked too */
	long long ck_imin, ck_imax;
	double ck_dmin, ck_dmax;
	int ck_secret;                  /* wiped before free */
	int (*ck_check)(const char *v); /* extra check of a string value, 0 when valid */
};

/* Each macro refuses to compile when the member's type does not match the key's type. */
#define CFG_OFF(m, type)                                                                           \
	(offsetof(struct cu_config, m) + 0 * sizeof(&((struct cu_config *)0)->m == (type *)0))
#define K_STR(name, m, def, check) name, CFG_STR, CFG_OFF(m, char *), def, 0, 0, 0, 0, 0, check
#define K_SECRET(name, m, def) name, CFG_STR, CFG_OFF(m, char *), def, 0, 0, 0, 0, 1, NULL
#define K_INT(name, m, def, lo, hi) name, CFG_INT, CFG_OFF(m, int), def, lo, hi, 0, 0, 0, NULL
#define K_BOOL(name, m, def) name, CFG_BOOL, CFG_OFF(m, int), def, 0, 1, 0, 0, 0, NULL
#define K_DOUBLE(name, m, def, lo, hi)                                                             \
	name, CFG_DOUBLE, CFG_OFF(m, double), def, 0, 0, lo, hi, 0, NULL

static int cfg_check_log_level(const char *v);
static int cfg_check_sslmode(const char *v);
static int cfg_check_session_attrs(const char *v);
static void cfg_alias(char **key, char **alias);

/*
 * Every key, its type, where it lands and its default; adding a key is one line here and one
 * member in struct cu_config. Defaults are authentik's (authentik/lib/default.yml) except:
 * postgresql.sslmode is "prefer", libpq's own default and what authentik passes when the key is
 * unset, because "verify-ca" (authentik's documented value) fails against the plain-TCP
 * PostgreSQL of a one-machine install; target_session_attrs is empty (libpq's "any").
 */
static const struct cfg_key cfg_keys[] = {
    {K_STR("postgresql.host", pg_host, "localhost", NULL)},
    {K_STR("postgresql.port", pg_port, "5432", NULL)},
    {K_STR("postgresql.user", pg_user, "authentik", NULL)},
    {K_SECRET("postgresql.password", pg_password, "")},
    {K_STR("postgresql.name", pg_name, "authentik", NULL)},
    {K_STR("postgresql.sslmode", pg_sslmode, "prefer", cfg_check_sslmode)},
    {K_STR("postgresql.target_session_attrs", pg_target_session_attrs, "",
           cfg_check_session_attrs)},
    {K_STR("redis.host", redis_host, "localhost", NULL)},
    {K_INT("redis.port", redis_port, "6379", 1, 65535)},
    {K_INT("redis.db", redis_db, "0", 0, CFG_INT_MAX)},
    {K_SECRET("redis.password", redis_password, "")},
    {K_SECRET("secret_key", secret_key, "")},
    {K_STR("log_level", log_level, "info", cfg_check_log_level)},
    {K_STR("listen.http", listen_http, "[::]:9000", NULL)},
    {K_STR("cookie_domain", cookie_domain, "", NULL)},
    {K_BOOL("debug", debug, "false")},
    {K_STR("web.path", web_path, "/", NULL)},
    {K_STR("email.host", email_host, "localhost", NULL)},
    {K_INT("email.port", email_port, "25", 1, 65535)},
    {K_STR("email.username", email_username, "", NULL)},
    {K_SECRET("email.password", email_password, "")},
    {K_BOOL("email.use_tls", email_use_tls, "false")},
    {K_BOOL("email.use_ssl", email_use_ssl, "false")},
    {K_INT("email.timeout", email_timeout, "10", 1, 86400)},
    {K_STR("email.from", email_from, "authentik@localhost", NULL)},
    {K_STR("email.template_dir", email_template_dir, "/templates", NULL)},
    {K_INT("cache.timeout", cache_timeout, "300", 0, CFG_INT_MAX)},
    {K_INT("cache.timeout_flows", cache_timeout_flows, "300", 0, CFG_INT_MAX)},
    {K_INT("cache.timeout_policies", cache_timeout_policies, "300", 0, CFG_INT_MAX)},
    {K_BOOL("error_reporting.enabled", error_reporting_enabled, "false")},
    {K_STR("error_reporting.environment", error_reporting_environment, "customer", NULL)},
    {K_BOOL("error_reporting.send_pii", error_reporting_send_pii, "false")},
    {K_DOUBLE("error_reporting.sample_rate", error_reporting_sample_rate, "0.1", 0.0, 1.0)},
    {K_STR("sessions.unauthenticated_age", sessions_unauthenticated_age, "days=1", NULL)},
    {K_STR("blueprints_dir", blueprints_dir, "/blueprints", NULL)},
    {K_STR("cert_discovery_dir", cert_discovery_dir, "/certs", NULL)},
    /* Peers whose X-Forwarded-For is believed; comma-separated CIDRs (authentik's default). */
    {K_STR("listen.trusted_proxy_cidrs", trusted_proxy_cidrs,
           "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fe80::/10,::1/128", NULL)},
    /* argon2id for new password hashes: OWASP's minimum, about 30 ms a hash on one core. */
    {K_INT("password.argon2_memory_kib", password_memory_kib, "19456", 8, 4194304)},
    {K_INT("password.argon2_time_cost", password_time_cost, "2", 1, 100)},
    {K_INT("password.argon2_parallelism", password_parallelism, "1", 1, 64)},
    /* custos-worker bootstrap: the first admin (authentik's AUTHENTIK_BOOTSTRAP_*). */
    {K_SECRET("bootstrap_password", bootstrap_password, "")},
    {K_SECRET("bootstrap_token", bootstrap_token, "")},
    {K_STR("bootstrap_email", bootstrap_email, "root@example.com", NULL)},
    /* How long a worker holds a task before another may take it over (authentik's
     * worker.task_default_time_limit, 10 minutes). */
    {K_INT("worker.task_lease_seconds", worker_task_lease_seconds, "600", 1, 86400)},
    /* CUSTOS_TEMPLATES_DIR and CUSTOS_CERTS_DIR: short names for the two folders above. */
    {K_STR("templates_dir", templates_dir, "", NULL)},
    {K_STR("certs_dir", certs_dir, "", NULL)},
    /* Reputation (authentik's reputation.expiry), and the score at which custos refuses a
     * login outright, before any password is checked. */
    {K_INT("reputation.expiry", reputation_expiry, "86400", 1, CFG_INT_MAX)},
    {K_INT("reputation.lockout_threshold", reputation_lockout, "-20", -1000000, -1)},
    /* Limits of one expression policy evaluation (Lua). */
    {K_INT("policies.expression_max_instructions", expression_max_instructions, "1000000", 1000,
           CFG_INT_MAX)},
    {K_INT("policies.expression_max_memory_kib", expression_max_memory_kib, "16384", 256, 1048576)},
    /* A login without a session_duration lasts until the browser closes; the server forgets
     * it after this long all the same. */
    {K_INT("sessions.browser_age_seconds", sessions_browser_age, "86400", 60, CFG_INT_MAX)},
    {K_STR("password.breached_list", password_breached_list, "", NULL)},
    /* A folder the OAuth2 responder writes each provider's JWKS into for the web server to
     * serve as a file (lib/providers/oauth2_meta.c); "" for none. */
    {K_STR("oauth2.publish_dir", oauth2_publish_dir, "", NULL)},
    /* How far a SAML request's IssueInstant may be from this host's clock, either way
     * (lib/providers/saml_sso.c, saml_slo.c). */
    {K_INT("saml.clock_skew_seconds", saml_clock_skew, "90", 0, 3600)},
};

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* State of one cu_config_load: the raw text of each key, later sources replacing earlier. */
struct cfg_loader {
	char *cl_raw[CFG_NKEYS]; /* owned; wiped before free since some are secrets */
	char *const *cl_envp;
	char *cl_err;
	size_t cl_errlen;
};

/* One open mapping while reading YAML. */
struct cfg_level {
	char cv_name[CFG_MAX_KEY + 1];
	int cv_indent;
	int cv_child_indent; /* -1 until its first child */
};

static int
cfg_check_log_level(const char *v)
{
	enum cu_log_level l;

	return cu_log_level_parse(v, &l);
}

static int
cfg_one_of(const char *v, const char *const *set)
{
	for (; *set != NULL; set++) {
		if (strcmp(v, *set) == 0)
			return 0;
	}
	return -1;
}

static int
cfg_check_sslmode(const char *v)
{
	static const char *const modes[] = {
	    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL,
	};

	return cfg_one_of(v, modes);
}

static int
cfg_check_session_attrs(const char *v)
{
	static const char *const attrs[] = {
	    "", "any", "read-write", "read-only", "primary", "standby", "prefer-standby", NULL,
	};

	return cfg_one_of(v, attrs);
}

static int cfg_fail(struct cfg_loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cfg_fail(struct cfg_loader *ld, const char *fmt, ...)
{
	va_list ap;

	if (ld->cl_err != NULL && ld->cl_errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(ld->cl_err, ld->cl_errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
cfg_free_str(char **p)
{
	if (*p != NULL) {
		cu_wipe(*p, strlen(*p));
		cu_free(*p);
		*p = NULL;
	}
}

static const struct cfg_key *
cfg_find(const char *key, size_t len, size_t *idx)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++) {
		if (strlen(cfg_keys[i].ck_name) == len &&
		    memcmp(cfg_keys[i].ck_name, key, len) == 0) {
			*idx = i;
			return &cfg_keys[i];
		}
	}
	return NULL;
}

/* A mapping with no children that only groups known keys ("postgresql:" alone) is harmless. */
static int
cfg_is_prefix(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++) {
		if (strncmp(cfg_keys[i].ck_name, key, len) == 0 && cfg_keys[i].ck_name[len] == '.')
			return 1;
	}
	return 0;
}

static const char *
cfg_getenv(char *const *envp, const char *name, size_t len)
{
	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

static void
cfg_warn_unknown(const char *key, size_t len, const char *source, int line)
{
	char k[CFG_MAX_KEY + 1];

	if (len > CFG_MAX_KEY)
		len = CFG_MAX_KEY;
	memcpy(k, key, len);
	k[len] = '\0';
	if (line > 0)
		cu_log(CU_LOG_WARNING, "config_unknown_key", CU_LS("key", k),
		       CU_LS("source", source), CU_LI("line", line));
	else
		cu_log(CU_LOG_WARNING, "config_unknown_key", CU_LS("key", k),
		       CU_LS("source", source));
}

/* Records the raw text of key from source; an unknown key is reported and otherwise ignored. */
static int
cfg_set_raw(struct cfg_loader *ld, const char *key, size_t keylen, const char *val, size_t vallen,
            const char *source, int line)
{
	const struct cfg_key *k;
	size_t idx;

	k = cfg_find(key, keylen, &idx);
	if (k == NULL) {
		cfg_warn_unknown(key, keylen, source, line);
		return 0;
	}
	if (vallen > CU_CONFIG_MAX_VALUE)
		return cfg_fail(ld, "config: %s: value longer than %d bytes", k->ck_name,
		                CU_CONFIG_MAX_VALUE);
	if (memchr(val, '\0', vallen) != NULL)
		return cfg_fail(ld, "config: %s: value holds a NUL byte", k->ck_name);
	cfg_free_str(&ld->cl_raw[idx]);
	ld->cl_raw[idx] = cu_strndup(val, vallen);
	return 0;
}

/*
 * Reads a whole file of at most max bytes into a new NUL-terminated buffer (caller wipes and
 * frees). A non-regular file is refused: a config path pointing at a FIFO must not hang start.
 */
static int
cfg_read_file(const char *path, size_t max, char **data, size_t *len, const char **why)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	int fd = -1, rc = -1;

	*data = NULL;
	*len = 0;
	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	buf = cu_malloc(max + 2);
	for (;;) {
		ssize_t n = read(fd, buf + have, max + 1 - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			*why = "too large";
			goto out;
		}
	}
	buf[have] = '\0';
	if (memchr(buf, '\0', have) != NULL) {
		*why = "holds a NUL byte";
		goto out;
	}
	*data = buf;
	*len = have;
	buf = NULL;
	rc = 0;
out:
	if (rc != 0 && *why == NULL)
		*why = strerror(errno);
	if (buf != NULL) {
		cu_wipe(buf, max + 2);
		cu_free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
cfg_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The scalar in [p, end): "double quoted" (with \\ \" \/ \n \r \t \0 escapes), 'single quoted'
 * ('' is a quote), or bare up to a " #" comment with trailing blanks dropped. out has room for
 * end - p + 1 bytes. In YAML a bare ~ or null is an empty value.
 */
static int
cfg_scalar(const char *p, const char *end, int yaml, char *out, size_t *outlen, const char **why)
{
	size_t n = 0;
	char q;

	if (p < end && (*p == '"' || *p == '\'')) {
		q = *p++;
		for (;;) {
			if (p == end) {
				*why = "unterminated quoted value";
				return -1;
			}
			if (*p == q) {
				if (q == '\'' && p + 1 < end && p[1] == '\'') {
					out[n++] = '\'';
					p += 2;
					continue;
				}
				p++;
				break;
			}
			if (q == '"' && *p == '\\') {
				if (++p == end) {
					*why = "unterminated quoted value";
					return -1;
				}
				switch (*p) {
				case '\\':
				case '"':
				case '/':
					out[n++] = *p;
					break;
				case 'n':
					out[n++] = '\n';
					break;
				case 'r':
					out[n++] = '\r';
					break;
				case 't':
					out[n++] = '\t';
					break;
				default:
					*why = "unsupported escape in quoted value";
					return -1;
				}
				p++;
				continue;
			}
			out[n++] = *p++;
		}
		while (p < end && cfg_is_space(*p))
			p++;
		if (p < end && *p != '#') {
			*why = "text after a quoted value";
			return -1;
		}
	} else {
		const char *e = p;

		while (e < end && !(*e == '#' && e > p && cfg_is_space(e[-1])))
			e++;
		while (e > p && cfg_is_space(e[-1]))
			e--;
		n = (size_t)(e - p);
		memcpy(out, p, n);
		if (yaml && ((n == 1 && out[0] == '~') || (n == 4 && memcmp(out, "null", 4) == 0)))
			n = 0;
	}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

static int
cfg_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* The dotted key of name under the open mappings levels[0..depth). */
static int
cfg_join(const struct cfg_level *levels, int depth, const char *name, size_t len, char *out)
{
	size_t n = 0, l;
	int i;

	for (i = 0; i < depth; i++) {
		l = strlen(levels[i].cv_name);
		if (n + l + 1 > CFG_MAX_KEY)
			return -1;
		memcpy(out + n, levels[i].cv_name, l);
		n += l;
		out[n++] = '.';
	}
	if (n + len > CFG_MAX_KEY)
		return -1;
	memcpy(out + n, name, len);
	out[n + len] = '\0';
	return 0;
}

/* Closes the innermost mapping; one that never had a child is an empty value, as in YAML. */
static int
cfg_pop(struct cfg_loader *ld, struct cfg_level *levels, int *depth, int line)
{
	struct cfg_level *top = &levels[*depth - 1];
	char key[CFG_MAX_KEY + 1];
	size_t len;
	int rc = 0;

	if (top->cv_child_indent < 0 &&
	    cfg_join(levels, *depth - 1, top->cv_name, strlen(top->cv_name), key) == 0) {
		len = strlen(key);
		if (!cfg_is_prefix(key, len))
			rc = cfg_set_raw(ld, key, len, "", 0, "file", line);
	}
	(*depth)--;
	return rc;
}

/*
 * The config file: YAML with nested mappings of scalars, or "dotted.key = value" lines; both
 * may be mixed. Sequences and block scalars are refused for known keys and skipped for others,
 * so an authentik config file with footer_links still loads.
 */
static int
cfg_parse(struct cfg_loader *ld, const char *text, size_t textlen, const char *path)
{
	struct cfg_level levels[CFG_MAX_DEPTH];
	char key[CFG_MAX_KEY + 1];
	const char *cur = text, *end = text + textlen;
	char *val = NULL;
	int depth = 0, root_indent = -1, skip_indent = -2, line = 0, rc = -1;

	val = cu_malloc(textlen + 1);
	/* Some editors start a UTF-8 file with a byte order mark. */
	if (textlen >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		cur += 3;
	while (cur < end) {
		const char *eol = memchr(cur, '\n', (size_t)(end - cur));
		const char *p = cur, *le, *name, *sep;
		size_t namelen, vlen;
		const char *why = NULL;
		int indent = 0, *child_indent, is_seq, known;

		if (eol == NULL)
			eol = end;
		le = eol;
		cur = eol < end ? eol + 1 : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		while (p < le && *p == ' ') {
			p++;
			indent++;
		}
		if (p == le || *p == '#')
			continue;
		if (*p == '\t') {
			cfg_fail(ld, "config: %s line %d: tab in indentation", path, line);
			goto out;
		}
		is_seq = *p == '-' && (p + 1 == le || cfg_is_space(p[1]));
		/* Inside a skipped sequence or block scalar: deeper lines, and items of a sequence
		 * written at its key's own indentation. */
		if (skip_indent > -2 && (indent > skip_indent || (is_seq && indent == skip_indent)))
			continue;
		skip_indent = -2;
		if (indent == 0 && le - p >= 3 &&
		    (memcmp(p, "---", 3) == 0 || memcmp(p, "...", 3) == 0) &&
		    (le - p == 3 || cfg_is_space(p[3])))
			continue;

		/* "key:" followed by "- item" at the same indentation is a sequence too. */
		if (is_seq && depth > 0 && levels[depth - 1].cv_child_indent < 0 &&
		    indent == levels[depth - 1].cv_indent)
			indent++;
		while (depth > 0 && indent <= levels[depth - 1].cv_indent) {
			if (cfg_pop(ld, levels, &depth, line) != 0)
				goto out;
		}
		child_indent = depth > 0 ? &levels[depth - 1].cv_child_indent : &root_indent;
		if (*child_indent < 0)
			*child_indent = indent;
		else if (indent != *child_indent) {
			cfg_fail(ld, "config: %s line %d: inconsistent indentation", path, line);
			goto out;
		}

		if (is_seq) {
			if (depth == 0) {
				cfg_fail(ld, "config: %s line %d: the file must be a mapping", path,
				         line);
				goto out;
			}
			if (cfg_join(levels, depth - 1, levels[depth - 1].cv_name,
			             strlen(levels[depth - 1].cv_name), key) != 0) {
				cfg_fail(ld, "config: %s line %d: key too long", path, line);
				goto out;
			}
			if (cfg_find(key, strlen(key), &(size_t){0}) != NULL) {
				cfg_fail(ld, "config: %s line %d: %s: lists are not supported",
				         path, line, key);
				goto out;
			}
			cfg_warn_unknown(key, strlen(key), "file", line);
			skip_indent = levels[depth - 1].cv_indent;
			continue;
		}

		name = p;
		while (p < le && cfg_key_char(*p))
			p++;
		namelen = (size_t)(p - name);
		while (p < le && cfg_is_space(*p))
			p++;
		sep = p;
		if (namelen == 0 || p == le || (*p != ':' && *p != '=') ||
		    (*p == ':' && p + 1 < le && !cfg_is_space(p[1]))) {
			cfg_fail(ld,
			         "config: %s line %d: expected \"key: value\" or \"key = value\"",
			         path, line);
			goto out;
		}
		p++;
		while (p < le && cfg_is_space(*p))
			p++;
		if (cfg_join(levels, depth, name, namelen, key) != 0) {
			cfg_fail(ld, "config: %s line %d: key too long", path, line);
			goto out;
		}
		known = cfg_find(key, strlen(key), &(size_t){0}) != NULL;

		if (*sep == ':' && (p == le || *p == '#')) {
			if (depth == CFG_MAX_DEPTH) {
				cfg_fail(ld, "config: %s line %d: nested too deeply", path, line);
				goto out;
			}
			memcpy(levels[depth].cv_name, name, namelen);
			levels[depth].cv_name[namelen] = '\0';
			levels[depth].cv_indent = indent;
			levels[depth].cv_child_indent = -1;
			depth++;
			continue;
		}
		if (*sep == ':' && (*p == '|' || *p == '>')) {
			if (known) {
				cfg_fail(ld,
				         "config: %s line %d: %s: block scalars are not supported",
				         path, line, key);
				goto out;
			}
			cfg_warn_unknown(key, strlen(key), "file", line);
			skip_indent = indent;
			continue;
		}
		if (cfg_scalar(p, le, *sep == ':', val, &vlen, &why) != 0) {
			cfg_fail(ld, "config: %s line %d: %s", path, line, why);
			goto out;
		}
		if (cfg_set_raw(ld, key, strlen(key), val, vlen, "file", line) != 0)
			goto out;
	}
	while (depth > 0) {
		if (cfg_pop(ld, levels, &depth, line) != 0)
			goto out;
	}
	rc = 0;
out:
	cu_wipe(val, textlen + 1);
	cu_free(val);
	return rc;
}

/* CUSTOS_POSTGRESQL__HOST=x is postgresql.host = x. */
static int
cfg_env(struct cfg_loader *ld)
{
	static const char prefix[] = "CUSTOS_";
	char *const *e;

	for (e = ld->cl_envp; *e != NULL; e++) {
		const char *name = *e + sizeof(prefix) - 1, *eq;
		char key[CFG_MAX_KEY + 1];
		size_t n = 0;

		if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(name, '=');
		if (eq == NULL || ((size_t)(eq - name) == 6 && memcmp(name, "CONFIG", 6) == 0))
			continue;
		while (name < eq && n < CFG_MAX_KEY) {
			if (name[0] == '_' && name + 1 < eq && name[1] == '_') {
				key[n++] = '.';
				name += 2;
			} else {
				char c = *name++;

				key[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
			}
		}
		if (name < eq) {
			cfg_warn_unknown(key, n, "env", 0);
			continue;
		}
		if (cfg_set_raw(ld, key, n, eq + 1, strlen(eq + 1), "env", 0) != 0)
			return -1;
	}
	return 0;
}

/* "env://VAR?default" and "file:///path?default", as authentik reads them; *out is owned. */
static int
cfg_resolve(struct cfg_loader *ld, const struct cfg_key *k, const char *raw, char **out)
{
	const char *ref, *q, *dflt, *why = NULL;
	char *data = NULL;
	size_t len;

	*out = NULL;
	if (strncmp(raw, "env://", 6) == 0) {
		ref = raw + 6;
		q = strchr(ref, '?');
		dflt = q != NULL ? q + 1 : "";
		len = q != NULL ? (size_t)(q - ref) : strlen(ref);
		if (len == 0)
			return cfg_fail(ld, "config: %s: env:// names no variable", k->ck_name);
		ref = cfg_getenv(ld->cl_envp, ref, len);
		*out = cu_strdup(ref != NULL ? ref : dflt);
	} else if (strncmp(raw, "file://", 7) == 0) {
		char path[CU_CONFIG_MAX_VALUE + 1];

		ref = raw + 7;
		q = strchr(ref, '?');
		len = q != NULL ? (size_t)(q - ref) : strlen(ref);
		if (len == 0 || len >= sizeof(path) || ref[0] != '/')
			return cfg_fail(ld, "config: %s: file:// needs an absolute path",
			                k->ck_name);
		memcpy(path, ref, len);
		path[len] = '\0';
		/* Two bytes more than a value may hold, for the trailing newline dropped below. */
		if (cfg_read_file(path, CU_CONFIG_MAX_VALUE + 2, &data, &len, &why) != 0) {
			if (q == NULL)
				return cfg_fail(ld, "config: %s: cannot read %s: %s", k->ck_name,
				                path, why);
			cu_log(CU_LOG_WARNING, "config_file_value_default",
			       CU_LS("key", k->ck_name), CU_LS("path", path), CU_LS("error", why));
			*out = cu_strdup(q + 1);
		} else {
			if (len > 0 && data[len - 1] == '\n') {
				data[--len] = '\0';
				if (len > 0 && data[len - 1] == '\r')
					data[--len] = '\0';
			}
			*out = data;
		}
	} else {
		*out = cu_strdup(raw);
	}
	if (strlen(*out) > CU_CONFIG_MAX_VALUE) {
		cfg_free_str(out);
		return cfg_fail(ld, "config: %s: value longer than %d bytes", k->ck_name,
		                CU_CONFIG_MAX_VALUE);
	}
	return 0;
}

static int
cfg_parse_int(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
	}
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

static int
cfg_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
cfg_parse_double(const char *s, double *out)
{
	const char *p;
	char *end;

	/* Plain decimal notation only: strtod would also take "nan", "inf" and hex floats. */
	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' ||
		      *p == 'e' || *p == 'E'))
			return -1;
	}
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && *end == '\0' && isfinite(*out) ? 0 : -1;
}

static int
cfg_store(struct cfg_loader *ld, struct cu_config *cfg, const struct cfg_key *k, char **val)
{
	char *field = (char *)cfg + k->ck_off;
	long long ll;
	double d;
	int b;

	switch (k->ck_type) {
	case CFG_STR:
		if (k->ck_check != NULL && k->ck_check(*val) != 0)
			return cfg_fail(ld, "config: %s: invalid value", k->ck_name);
		*(char **)(void *)field = *val;
		*val = NULL;
		return 0;
	case CFG_INT:
		if (cfg_parse_int(*val, &ll) != 0 || ll < k->ck_imin || ll > k->ck_imax)
			return cfg_fail(ld, "config: %s: expected an integer from %lld to %lld",
			                k->ck_name, k->ck_imin, k->ck_imax);
		*(int *)(void *)field = (int)ll;
		return 0;
	case CFG_BOOL:
		if (cfg_parse_bool(*val, &b) != 0)
			return cfg_fail(ld, "config: %s: expected true or false", k->ck_name);
		*(int *)(void *)field = b;
		return 0;
	case CFG_DOUBLE:
		if (cfg_parse_double(*val, &d) != 0 || d < k->ck_dmin || d > k->ck_dmax)
			return cfg_fail(ld, "config: %s: expected a number from %g to %g",
			                k->ck_name, k->ck_dmin, k->ck_dmax);
		*(double *)(void *)field = d;
		return 0;
	}
	return cfg_fail(ld, "config: %s: bad key type", k->ck_name);
}

int
cu_config_load(struct cu_config *cfg, const char *path, char *const *envp, char *err, size_t errlen)
{
	struct cfg_loader ld = {
	    .cl_envp = envp != NULL ? envp : environ, .cl_err = err, .cl_errlen = errlen};
	char *text = NULL, *val = NULL;
	const char *why = NULL;
	size_t len = 0, i;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (i = 0; i < CFG_NKEYS; i++)
		ld.cl_raw[i] = cu_strdup(cfg_keys[i].ck_default);

	if (path == NULL) {
		path = cfg_getenv(ld.cl_envp, "CUSTOS_CONFIG", 13);
		if (path != NULL && path[0] == '\0')
			path = NULL;
	}
	if (path != NULL) {
		if (cfg_read_file(path, CU_CONFIG_MAX_FILE, &text, &len, &why) != 0) {
			cfg_fail(&ld, "config: cannot read %s: %s", path, why);
			goto out;
		}
		if (cfg_parse(&ld, text, len, path) != 0)
			goto out;
	}
	if (cfg_env(&ld) != 0)
		goto out;

	for (i = 0; i < CFG_NKEYS; i++) {
		if (cfg_resolve(&ld, &cfg_keys[i], ld.cl_raw[i], &val) != 0)
			goto out;
		if (cfg_store(&ld, cfg, &cfg_keys[i], &val) != 0)
			goto out;
		cfg_free_str(&val);
	}
	if (cfg->secret_key == NULL || cfg->secret_key[0] == '\0') {
		cfg_fail(&ld, "config: secret_key is required (set CUSTOS_SECRET_KEY)");
		goto out;
	}
	/* The short names the container world uses (authentik's /templates and /certs mounts):
	 * when set they stand for the long keys. */
	cfg_alias(&cfg->email_template_dir, &cfg->templates_dir);
	cfg_alias(&cfg->cert_discovery_dir, &cfg->certs_dir);
	rc = 0;
out:
	cfg_free_str(&val);
	if (text != NULL) {
		cu_wipe(text, len);
		cu_free(text);
	}
	for (i = 0; i < CFG_NKEYS; i++)
		cfg_free_str(&ld.cl_raw[i]);
	if (rc != 0)
		cu_config_free(cfg);
	return rc;
}

/* Moves a non-empty *alias over *key. */
static void
cfg_alias(char **key, char **alias)
{
	if (*alias == NULL || (*alias)[0] == '\0')
		return;
	cfg_free_str(key);
	*key = cu_strdup(*alias);
}

void
cu_config_free(struct cu_config *cfg)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++) {
		if (cfg_keys[i].ck_type == CFG_STR)
			cfg_free_str((char **)(void *)((char *)cfg + cfg_keys[i].ck_off));
	}
	memset(cfg, 0, sizeof(*cfg));
}

/* Appends " name='value'" with \ and ' escaped as libpq reads them; counts only when dst is
 * NULL, so the string is sized before it holds a password and never reallocated after. */
static size_t
cfg_conn_param(char *dst, size_t pos, const char *name, const char *val)
{
	size_t n = strlen(name);
	const char *v;

	if (pos > 0) {
		if (dst != NULL)
			dst[pos] = ' ';
		pos++;
	}
	if (dst != NULL)
		memcpy(dst + pos, name, n);
	pos += n;
	if (dst != NULL) {
		dst[pos] = '=';
		dst[pos + 1] = '\'';
	}
	pos += 2;
	for (v = val != NULL ? val : ""; *v != '\0'; v++) {
		if (*v == '\\' || *v == '\'') {
			if (dst != NULL)
				dst[pos] = '\\';
			pos++;
		}
		if (dst != NULL)
			dst[pos] = *v;
		pos++;
	}
	if (dst != NULL)
		dst[pos] = '\'';
	return pos + 1;
}

static size_t
cfg_conninfo(char *dst, const struct cu_config *cfg)
{
	size_t n = 0;

	n = cfg_conn_param(dst, n, "host", cfg->pg_host);
	n = cfg_conn_param(dst, n, "port", cfg->pg_port);
	n = cfg_conn_param(dst, n, "dbname", cfg->pg_name);
	n = cfg_conn_param(dst, n, "user", cfg->pg_user);
	n = cfg_conn_param(dst, n, "password", cfg->pg_password);
	n = cfg_conn_param(dst, n, "sslmode", cfg->pg_sslmode);
	n = cfg_conn_param(dst, n, "connect_timeout", "3");
	n = cfg_conn_param(dst, n, "application_name", "custos");
	if (cfg->pg_target_session_attrs != NULL && cfg->pg_target_session_attrs[0] != '\0')
		n = cfg_conn_param(dst, n, "target_session_attrs", cfg->pg_target_session_attrs);
	return n;
}

char *
cu_config_pg_conninfo(const struct cu_config *cfg)
{
	size_t n = cfg_conninfo(NULL, cfg);
	char *s = cu_malloc(n + 1);

	if (cfg_conninfo(s, cfg) != n)
		cu_die("conninfo length changed");
	s[n] = '\0';
	return s;
}

int
cu_config_timedelta(const char *s, long long *seconds)
{
	static const struct {
		const char *name;
		double factor;
	} units[] = {{"weeks", 604800},         {"days", 86400}, {"hours", 3600},
	             {"minutes", 60},           {"seconds", 1},  {"milliseconds", 0.001},
	             {"microseconds", 0.000001}};
	double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		const char *eq = strchr(p, '='), *end;
		char *num_end;
		double v;
		size_t i, n;

		if (eq == NULL)
			return -1;
		n = (size_t)(eq - p);
		while (n > 0 && p[0] == ' ')
			p++, n--;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == n && strncmp(units[i].name, p, n) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || eq[1] == '\0' || eq[1] == '-' ||
		    eq[1] == '+' || eq[1] == ' ')
			return -1;
		errno = 0;
		v = strtod(eq + 1, &num_end);
		if (errno != 0 || num_end == eq + 1 || !(v >= 0) || v > 1e12)
			return -1;
		total += v * units[i].factor;
		end = num_end;
		if (*end == ';')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	if (total > 9.2e15)
		return -1;
	*seconds = (long long)total;
	return 0;
}
