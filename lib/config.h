/*
 * Configuration, parsed once at start into an immutable struct (STYLE rule 16).
 *
 * Sources, later ones winning: built-in defaults; the file named by CUSTOS_CONFIG (YAML with
 * nested mappings of scalars, or key=value lines with dotted keys); the environment, where
 * CUSTOS_POSTGRESQL__HOST is postgresql.host. Key names follow authentik's where one exists.
 * Values may be "env://VAR?default" or "file:///path?default", as authentik allows.
 */
#ifndef CU_CONFIG_H
#define CU_CONFIG_H

#include <stddef.h>

struct cu_config {
	/* postgresql.* */
	char *pg_host; /* a host name, an address, a unix socket folder, or a comma list */
	char *pg_port;
	char *pg_user;
	char *pg_password;
	char *pg_name;
	char *pg_sslmode;
	char *pg_target_session_attrs; /* "read-write" for failover across hosts */
	/* redis.* */
	char *redis_host; /* a host, or a unix socket path when it starts with '/' */
	int redis_port;
	int redis_db;
	char *redis_password;
	/* the rest */
	char *secret_key;
	char *log_level;
	char *listen_http;
	char *cookie_domain;
	int debug;
	char *web_path;
	char *email_host;
	int email_port;
	char *email_username;
	char *email_password;
	int email_use_tls;
	int email_use_ssl;
	int email_timeout;
	char *email_from;
	char *email_template_dir;
	int cache_timeout;
	int cache_timeout_flows;
	int cache_timeout_policies;
	int error_reporting_enabled;
	char *error_reporting_environment;
	int error_reporting_send_pii;
	double error_reporting_sample_rate;
	char *sessions_unauthenticated_age;
	char *blueprints_dir;
	char *cert_discovery_dir;
	char *trusted_proxy_cidrs; /* listen.trusted_proxy_cidrs, comma-separated */
	int password_memory_kib;
	int password_time_cost;
	int password_parallelism;
	char *bootstrap_password;
	char *bootstrap_token;
	char *bootstrap_email;
	int worker_task_lease_seconds;
	char *templates_dir;             /* alias of email.template_dir when set */
	char *certs_dir;                 /* alias of cert_discovery_dir when set */
	int reputation_expiry;           /* seconds a reputation score is kept */
	int reputation_lockout;          /* at or below this score, logins are refused */
	int expression_max_instructions; /* Lua instructions one expression policy may run */
	int expression_max_memory_kib;   /* memory one expression policy may hold */
	int sessions_browser_age;        /* server-side life of a browser session, seconds */
	char *password_breached_list;    /* a file of breached passwords, one a line; "" none */
	char *oauth2_publish_dir;        /* where JWKS documents are published; "" none */
	int saml_clock_skew;             /* seconds a SAML IssueInstant may be off */
};

/*
 * authentik's duration strings ("weeks=4", "days=1;hours=2", "seconds=0"): units weeks, days,
 * hours, minutes, seconds, milliseconds, microseconds, each a non-negative number, joined by
 * ';'. 0 with *seconds set (fractions rounded down), or -1 for anything else.
 */
int cu_config_timedelta(const char *s, long long *seconds) __attribute__((warn_unused_result));

/*
 * Loads defaults, then the file at path (NULL: $CUSTOS_CONFIG, or none), then envp (NULL:
 * environ). On error writes a one-line reason into err (errlen bytes) and returns -1.
 * Unknown CUSTOS_* variables and file keys are logged as warnings, not errors.
 * The result is freed with cu_config_free().
 */
int cu_config_load(struct cu_config *cfg, const char *path, char *const *envp, char *err,
                   size_t errlen) __attribute__((warn_unused_result));
void cu_config_free(struct cu_config *cfg);

/* The libpq connection string for cfg (caller frees), every value quoted. */
char *cu_config_pg_conninfo(const struct cu_config *cfg);

#endif
