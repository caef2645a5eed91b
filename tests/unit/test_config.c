#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "bounds.h"
#include "log.h"
#include "mem.h"

/* Files made by a test, removed in teardown. */
static char tmp_paths[4][64];
static int tmp_count;
/* Log lines, read back to check warnings. */
static int log_fds[2] = {-1, -1};
static char log_buf[65536];
/* Environments for cu_config_load, which takes char *const * as execve does. */
static char *env_pool[512];
static size_t env_used;

static char *const *
env_make(const char *const *vars)
{
	char **start = &env_pool[env_used];

	for (; *vars != NULL; vars++) {
		assert_true(env_used < sizeof(env_pool) / sizeof(env_pool[0]) - 1);
		env_pool[env_used++] = cu_strdup(*vars);
	}
	env_pool[env_used++] = NULL;
	return start;
}

#define ENV(...) env_make((const char *const[]){__VA_ARGS__, NULL})

static int
setup(void **state)
{
	(void)state;
	tmp_count = 0;
	if (pipe(log_fds) != 0 || fcntl(log_fds[0], F_SETFL, O_NONBLOCK) != 0)
		return -1;
	cu_log_set_fd(log_fds[1]);
	cu_log_init("test", CU_LOG_INFO);
	return 0;
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < tmp_count; i++)
		unlink(tmp_paths[i]);
	for (; env_used > 0; env_used--)
		cu_free(env_pool[env_used - 1]);
	cu_log_set_fd(STDERR_FILENO);
	close(log_fds[0]);
	close(log_fds[1]);
	return 0;
}

static const char *
log_read(void)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(log_fds[0], log_buf + len, sizeof(log_buf) - 1 - len)) > 0)
		len += (size_t)n;
	log_buf[len] = '\0';
	return log_buf;
}

/* A new temporary file holding text; its path lives until teardown. */
static const char *
tmp_file(const char *text)
{
	char *path = tmp_paths[tmp_count++];
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof(tmp_paths[0]), "/tmp/custos-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_defaults(void **state)
{
	char *const *env = ENV("CUSTOS_SECRET_KEY=s3cret", "PATH=/usr/bin");
	struct cu_config c;
	char err[256];

	(void)state;
	assert_int_equal(cu_config_load(&c, NULL, env, err, sizeof(err)), 0);
	assert_string_equal(c.pg_host, "localhost");
	assert_string_equal(c.pg_port, "5432");
	assert_string_equal(c.pg_user, "authentik");
	assert_string_equal(c.pg_password, "");
	assert_string_equal(c.pg_name, "authentik");
	assert_string_equal(c.pg_sslmode, "prefer");
	assert_string_equal(c.pg_target_session_attrs, "");
	assert_string_equal(c.redis_host, "localhost");
	assert_int_equal(c.redis_port, 6379);
	assert_int_equal(c.redis_db, 0);
	assert_string_equal(c.redis_password, "");
	assert_string_equal(c.secret_key, "s3cret");
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.listen_http, "[::]:9000");
	assert_string_equal(c.cookie_domain, "");
	assert_int_equal(c.debug, 0);
	assert_string_equal(c.web_path, "/");
	assert_string_equal(c.email_host, "localhost");
	assert_int_equal(c.email_port, 25);
	assert_string_equal(c.email_username, "");
	assert_string_equal(c.email_password, "");
	assert_int_equal(c.email_use_tls, 0);
	assert_int_equal(c.email_use_ssl, 0);
	assert_int_equal(c.email_timeout, 10);
	assert_string_equal(c.email_from, "authentik@localhost");
	assert_string_equal(c.email_template_dir, "/templates");
	assert_int_equal(c.cache_timeout, 300);
	assert_int_equal(c.cache_timeout_flows, 300);
	assert_int_equal(c.cache_timeout_policies, 300);
	assert_int_equal(c.error_reporting_enabled, 0);
	assert_string_equal(c.error_reporting_environment, "customer");
	assert_int_equal(c.error_reporting_send_pii, 0);
	assert_true(c.error_reporting_sample_rate == 0.1);
	assert_string_equal(c.sessions_unauthenticated_age, "days=1");
	assert_string_equal(c.blueprints_dir, "/blueprints");
	assert_string_equal(c.cert_discovery_dir, "/certs");
	cu_config_free(&c);
	/* Freeing twice, or a zeroed struct, is harmless. */
	cu_config_free(&c);
}

static void
test_secret_required(void **state)
{
	char *const *env = ENV("CUSTOS_POSTGRESQL__HOST=db");
	char *const *empty_env = ENV("CUSTOS_SECRET_KEY=");
	struct cu_config c;
	char err[256];

	(void)state;
	assert_int_equal(cu_config_load(&c, NULL, env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "secret_key"));
	assert_null(c.pg_host);
	assert_int_equal(cu_config_load(&c, NULL, empty_env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "secret_key"));
	/* No room for the reason is allowed too. */
	assert_int_equal(cu_config_load(&c, NULL, env, NULL, 0), -1);
}

static void
test_yaml_file(void **state)
{
	const char *path = tmp_file("# custos\n"
	                            "---\n"
	                            "secret_key: \"from file\"\n"
	                            "postgresql:\n"
	                            "    host: db.example   # trailing comment\n"
	                            "    port: '6432'\n"
	                            "    password: 'it''s'\n"
	                            "\n"
	                            "    name: \"c\\\"ustos\"\n"
	                            "redis:\n"
	                            "    port: 6380\n"
	                            "    db: 2\n"
	                            "error_reporting:\n"
	                            "    enabled: yes\n"
	                            "    sample_rate: 0.5\n"
	                            "email:\n"
	                            "    use_tls: ON\n"
	                            "    from: \"a#b@example.org\"\n"
	                            "log_level: debug\r\n"
	                            "debug: true\n"
	                            "web:\n"
	                            "    path: /auth/\n"
	                            "cookie_domain: ~\n");
	struct cu_config c;
	char err[256];

	(void)state;
	assert_int_equal(cu_config_load(&c, path, ENV(NULL), err, sizeof(err)), 0);
	assert_string_equal(c.secret_key, "from file");
	assert_string_equal(c.pg_host, "db.example");
	assert_string_equal(c.pg_port, "6432");
	assert_string_equal(c.pg_password, "it's");
	assert_string_equal(c.pg_name, "c\"ustos");
	assert_int_equal(c.redis_port, 6380);
	assert_int_equal(c.redis_db, 2);
	assert_int_equal(c.error_reporting_enabled, 1);
	assert_true(c.error_reporting_sample_rate == 0.5);
	assert_int_equal(c.email_use_tls, 1);
	assert_string_equal(c.email_from, "a#b@example.org");
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.debug, 1);
	assert_string_equal(c.web_path, "/auth/");
	assert_string_equal(c.cookie_domain, "");
	assert_string_equal(c.pg_user, "authentik");
	cu_config_free(&c);
}

static void
test_yaml_authentik_file(void **state)
{
	/* Parts of authentik's own default.yml that custos does not read must not stop a load. */
	const char *path = tmp_file("postgresql:\n"
	                            "  host: localhost\n"
	                            "  read_replicas: {}\n"
	                            "  test:\n"
	                            "    name: test_authentik\n"
	                            "footer_links:\n"
	                            "  - name: Documentation\n"
	                            "    href: https://goauthentik.io/docs/\n"
	                            "  - name: Website\n"
	                            "    href: https://goauthentik.io/\n"
	                            "outposts:\n"
	                            "- a\n"
	                            "- b\n"
	                            "notes: |\n"
	                            "  line one\n"
	                            "  line two\n"
	                            "secret_key: k\n");
	struct cu_config c;
	char err[256];

	(void)state;
	log_read();
	assert_int_equal(cu_config_load(&c, path, ENV(NULL), err, sizeof(err)), 0);
	assert_string_equal(c.secret_key, "k");
	log_read();
	assert_non_null(strstr(log_buf, "\"key\":\"postgresql.read_replicas\""));
	assert_non_null(strstr(log_buf, "\"key\":\"postgresql.test.name\""));
	assert_non_null(strstr(log_buf, "\"key\":\"footer_links\""));
	assert_non_null(strstr(log_buf, "\"key\":\"outposts\""));
	assert_non_null(strstr(log_buf, "\"key\":\"notes\""));
	assert_null(strstr(log_buf, "goauthentik.io"));
	cu_config_free(&c);
}

static void
test_kv_file_and_env_override(void **state)
{
	const char *path = tmp_file("\xef\xbb\xbf# key = value form\n"
	                            "secret_key = kv-secret\n"
	                            "postgresql.host = filehost\n"
	                            "postgresql.user: fileuser\n"
	                            "redis.host = /run/redis.sock\n"
	                            "email.timeout = 30\n"
	                            "listen.http = \"[::1]:9100\"\n");
	char env_config[128];
	struct cu_config c;
	char err[256];

	(void)state;
	/* The file comes from $CUSTOS_CONFIG in envp when no path is given. */
	snprintf(env_config, sizeof(env_config), "CUSTOS_CONFIG=%s", path);
	assert_int_equal(
	    cu_config_load(&c, NULL,
	                   ENV(env_config, "CUSTOS_POSTGRESQL__HOST=envhost",
	                       "CUSTOS_EMAIL__USE_SSL=1", "CUSTOS_ERROR_REPORTING__SAMPLE_RATE=1"),
	                   err, sizeof(err)),
	    0);
	assert_string_equal(c.secret_key, "kv-secret");
	assert_string_equal(c.pg_host, "envhost");
	assert_string_equal(c.pg_user, "fileuser");
	assert_string_equal(c.redis_host, "/run/redis.sock");
	assert_int_equal(c.email_timeout, 30);
	assert_int_equal(c.email_use_ssl, 1);
	assert_true(c.error_reporting_sample_rate == 1.0);
	assert_string_equal(c.listen_http, "[::1]:9100");
	cu_config_free(&c);
	/* CUSTOS_CONFIG itself is no key. */
	assert_null(strstr(log_read(), "\"key\":\"config\""));
}

static void
test_env_and_file_references(void **state)
{
	const char *secret = tmp_file("from-a-file\n");
	const char *pw = tmp_file("pa\nss\n\n");
	char s_ref[128], p_ref[128];
	struct cu_config c;
	char err[256];

	(void)state;
	snprintf(s_ref, sizeof(s_ref), "CUSTOS_SECRET_KEY=file://%s", secret);
	snprintf(p_ref, sizeof(p_ref), "CUSTOS_POSTGRESQL__PASSWORD=file://%s?unused", pw);
	assert_int_equal(
	    cu_config_load(&c, NULL,
	                   ENV(s_ref, p_ref, "CUSTOS_REDIS__PASSWORD=env://REDIS_PW",
	                       "REDIS_PW=r3dis",
	                       "CUSTOS_REDIS__HOST=env://MISSING_VAR?fallback-host",
	                       "CUSTOS_EMAIL__USERNAME=env://MISSING_VAR",
	                       "CUSTOS_EMAIL__PASSWORD=file:///nonexistent/custos/pw?dflt",
	                       "CUSTOS_REDIS__PORT=env://REDIS_PORT", "REDIS_PORT=7000"),
	                   err, sizeof(err)),
	    0);
	assert_string_equal(c.secret_key, "from-a-file");
	/* Only one trailing newline goes. */
	assert_string_equal(c.pg_password, "pa\nss\n");
	assert_string_equal(c.redis_password, "r3dis");
	assert_string_equal(c.redis_host, "fallback-host");
	assert_string_equal(c.email_username, "");
	assert_string_equal(c.email_password, "dflt");
	assert_int_equal(c.redis_port, 7000);
	cu_config_free(&c);

	/* An unreadable file with no default is an error naming the key. */
	assert_int_equal(cu_config_load(&c, NULL, ENV("CUSTOS_SECRET_KEY=file:///nonexistent/x"),
	                                err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "secret_key"));
	assert_non_null(strstr(err, "/nonexistent/x"));
}

static void
expect_error(const char *assignment, const char *key)
{
	char *const *env = ENV("CUSTOS_SECRET_KEY=k", assignment);
	struct cu_config c;
	char err[256];

	assert_int_equal(cu_config_load(&c, NULL, env, err, sizeof(err)), -1);
	if (strstr(err, key) == NULL)
		fail_msg("error \"%s\" does not name %s", err, key);
	assert_null(c.secret_key);
}

static void
test_bad_values(void **state)
{
	(void)state;
	expect_error("CUSTOS_REDIS__PORT=abc", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=70000", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=0", "redis.port");
	expect_error("CUSTOS_REDIS__PORT= 6379", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=6379 ", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=+6379", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=0x10", "redis.port");
	expect_error("CUSTOS_REDIS__PORT=", "redis.port");
	expect_error("CUSTOS_REDIS__DB=-1", "redis.db");
	expect_error("CUSTOS_REDIS__DB=99999999999999999999", "redis.db");
	expect_error("CUSTOS_DEBUG=maybe", "debug");
	expect_error("CUSTOS_DEBUG=", "debug");
	expect_error("CUSTOS_EMAIL__USE_TLS=2", "email.use_tls");
	expect_error("CUSTOS_ERROR_REPORTING__SAMPLE_RATE=2", "error_reporting.sample_rate");
	expect_error("CUSTOS_ERROR_REPORTING__SAMPLE_RATE=nan", "error_reporting.sample_rate");
	expect_error("CUSTOS_ERROR_REPORTING__SAMPLE_RATE=0x1p-2", "error_reporting.sample_rate");
	expect_error("CUSTOS_LOG_LEVEL=loud", "log_level");
	expect_error("CUSTOS_POSTGRESQL__SSLMODE=maybe", "postgresql.sslmode");
	expect_error("CUSTOS_POSTGRESQL__TARGET_SESSION_ATTRS=rw", "target_session_attrs");
	expect_error("CUSTOS_REDIS__HOST=env://", "redis.host");
	expect_error("CUSTOS_REDIS__HOST=file://relative", "redis.host");
}

static void
test_booleans(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "1", "yes", "Yes", "on", "ON"};
	static const char *const no[] = {"false", "False", "0", "no", "NO", "off", "Off"};
	struct cu_config c;
	char err[256], assign[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(assign, sizeof(assign), "CUSTOS_DEBUG=%s", yes[i]);
		assert_int_equal(
		    cu_config_load(&c, NULL, ENV("CUSTOS_SECRET_KEY=k", assign), err, sizeof(err)),
		    0);
		assert_int_equal(c.debug, 1);
		cu_config_free(&c);
		snprintf(assign, sizeof(assign), "CUSTOS_DEBUG=%s", no[i]);
		assert_int_equal(
		    cu_config_load(&c, NULL, ENV("CUSTOS_SECRET_KEY=k", assign), err, sizeof(err)),
		    0);
		assert_int_equal(c.debug, 0);
		cu_config_free(&c);
	}
}

static void
test_unknown_keys_warn(void **state)
{
	const char *path = tmp_file("secret_key: k\n"
	                            "postgresql:\n"
	                            "  hots: typo\n"
	                            "unknown_top = 1\n");
	char *const *env = ENV("CUSTOS_NOT_A_KEY=1", "CUSTOS_REDIS__HOSTNAME=x", "OTHER=1");
	struct cu_config c;
	char err[256];
	const char *logs;

	(void)state;
	log_read();
	assert_int_equal(cu_config_load(&c, path, env, err, sizeof(err)), 0);
	logs = log_read();
	assert_non_null(strstr(logs, "\"level\":\"warning\""));
	assert_non_null(strstr(logs, "\"event\":\"config_unknown_key\""));
	assert_non_null(strstr(logs, "\"key\":\"postgresql.hots\""));
	assert_non_null(strstr(logs, "\"key\":\"unknown_top\""));
	assert_non_null(strstr(logs, "\"key\":\"not_a_key\""));
	assert_non_null(strstr(logs, "\"key\":\"redis.hostname\""));
	assert_null(strstr(logs, "\"key\":\"other\""));
	/* Values are never logged: they may be secrets. */
	assert_null(strstr(logs, "typo"));
	cu_config_free(&c);
}

static void
expect_file_error(const char *text, const char *needle)
{
	const char *path = tmp_file(text);
	struct cu_config c;
	char err[256];

	assert_int_equal(cu_config_load(&c, path, ENV("CUSTOS_SECRET_KEY=k"), err, sizeof(err)),
	                 -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	tmp_count--;
	unlink(path);
}

static void
test_bad_files(void **state)
{
	struct cu_config c;
	char err[256];

	(void)state;
	expect_file_error("postgresql:\n  host: a\n   port: 1\n", "line 3");
	expect_file_error("postgresql:\n\thost: a\n", "tab");
	expect_file_error("just some words\n", "line 1");
	expect_file_error("a:b\n", "line 1");
	expect_file_error("host: \"unterminated\n", "unterminated");
	expect_file_error("host: 'x' y\n", "quoted");
	expect_file_error("- a\n", "mapping");
	expect_file_error("redis:\n  port: 70000\n", "redis.port");
	expect_file_error("postgresql:\n  host:\n    - a\n", "postgresql.host");
	expect_file_error("secret_key: |\n  abc\n", "secret_key");
	assert_int_equal(cu_config_load(&c, "/nonexistent/custos.yml", ENV("CUSTOS_SECRET_KEY=k"),
	                                err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "/nonexistent/custos.yml"));
}

static void
test_limits(void **state)
{
	char *big = cu_malloc(CU_CONFIG_MAX_FILE + 64);
	char *val = cu_malloc(CU_CONFIG_MAX_VALUE + 64);
	struct cu_config c;
	char err[256];
	size_t n;

	(void)state;
	/* A value one byte over the limit. */
	n = (size_t)snprintf(val, 32, "CUSTOS_SECRET_KEY=");
	memset(val + n, 'k', CU_CONFIG_MAX_VALUE + 1);
	val[n + CU_CONFIG_MAX_VALUE + 1] = '\0';
	assert_int_equal(cu_config_load(&c, NULL, ENV(val), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "secret_key"));
	/* Exactly at the limit is fine. */
	val[n + CU_CONFIG_MAX_VALUE] = '\0';
	assert_int_equal(cu_config_load(&c, NULL, ENV(val), err, sizeof(err)), 0);
	assert_int_equal(strlen(c.secret_key), CU_CONFIG_MAX_VALUE);
	cu_config_free(&c);

	/* A file over the limit, all comment. */
	memset(big, '#', CU_CONFIG_MAX_FILE + 1);
	big[CU_CONFIG_MAX_FILE + 1] = '\0';
	expect_file_error(big, "too large");
	cu_free(big);
	cu_free(val);
}

/* CUSTOS_TEMPLATES_DIR and CUSTOS_CERTS_DIR stand for the long keys when set. */
static void
test_folder_aliases(void **state)
{
	char *const *plain = ENV("CUSTOS_SECRET_KEY=k", "CUSTOS_EMAIL__TEMPLATE_DIR=/long");
	char *const *alias = ENV("CUSTOS_SECRET_KEY=k", "CUSTOS_EMAIL__TEMPLATE_DIR=/long",
	                         "CUSTOS_TEMPLATES_DIR=/short", "CUSTOS_CERTS_DIR=/c");
	struct cu_config c;
	char err[256];

	(void)state;
	assert_int_equal(cu_config_load(&c, NULL, plain, err, sizeof(err)), 0);
	assert_string_equal(c.email_template_dir, "/long");
	assert_string_equal(c.cert_discovery_dir, "/certs");
	cu_config_free(&c);
	assert_int_equal(cu_config_load(&c, NULL, alias, err, sizeof(err)), 0);
	assert_string_equal(c.email_template_dir, "/short");
	assert_string_equal(c.cert_discovery_dir, "/c");
	cu_config_free(&c);
}

static void
test_conninfo(void **state)
{
	char *const *env =
	    ENV("CUSTOS_SECRET_KEY=k", "CUSTOS_POSTGRESQL__HOST=db1,db2",
	        "CUSTOS_POSTGRESQL__PORT=5432,5433", "CUSTOS_POSTGRESQL__PASSWORD=it's a \\ pass",
	        "CUSTOS_POSTGRESQL__NAME=custos", "CUSTOS_POSTGRESQL__USER=o'neil");
	struct cu_config c;
	char err[256];
	char *ci;

	(void)state;
	assert_int_equal(cu_config_load(&c, NULL, env, err, sizeof(err)), 0);
	ci = cu_config_pg_conninfo(&c);
	assert_string_equal(ci,
	                    "host='db1,db2' port='5432,5433' dbname='custos' user='o\\'neil' "
	                    "password='it\\'s a \\\\ pass' sslmode='prefer' connect_timeout='3' "
	                    "application_name='custos'");
	cu_free(ci);
	cu_config_free(&c);

	assert_int_equal(cu_config_load(&c, NULL,
	                                ENV("CUSTOS_SECRET_KEY=k",
	                                    "CUSTOS_POSTGRESQL__TARGET_SESSION_ATTRS=read-write",
	                                    "CUSTOS_POSTGRESQL__SSLMODE=verify-full"),
	                                err, sizeof(err)),
	                 0);
	ci = cu_config_pg_conninfo(&c);
	assert_string_equal(ci, "host='localhost' port='5432' dbname='authentik' user='authentik' "
	                        "password='' sslmode='verify-full' connect_timeout='3' "
	                        "application_name='custos' target_session_attrs='read-write'");
	cu_free(ci);
	cu_config_free(&c);
}

static void
test_timedelta(void **state)
{
	long long v = -1;

	(void)state;
	assert_int_equal(cu_config_timedelta("seconds=0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cu_config_timedelta("weeks=4", &v), 0);
	assert_int_equal(v, 4 * 604800);
	assert_int_equal(cu_config_timedelta("days=1;hours=2", &v), 0);
	assert_int_equal(v, 86400 + 7200);
	assert_int_equal(cu_config_timedelta("minutes=30;", &v), 0);
	assert_int_equal(v, 1800);
	assert_int_equal(cu_config_timedelta("hours=1.5", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(cu_config_timedelta("milliseconds=2500", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cu_config_timedelta("", &v), -1);
	assert_int_equal(cu_config_timedelta("days", &v), -1);
	assert_int_equal(cu_config_timedelta("days=", &v), -1);
	assert_int_equal(cu_config_timedelta("days=-1", &v), -1);
	assert_int_equal(cu_config_timedelta("years=1", &v), -1);
	assert_int_equal(cu_config_timedelta("days=1x", &v), -1);
	assert_int_equal(cu_config_timedelta("days=nan", &v), -1);
	assert_int_equal(cu_config_timedelta("days=1e300", &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_yaml_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_yaml_authentik_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kv_file_and_env_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_and_file_references, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_keys_warn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_folder_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conninfo, setup, teardown),
	    cmocka_unit_test(test_timedelta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
