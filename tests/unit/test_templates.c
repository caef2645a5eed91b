#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "templates.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const builtins[] = {
    "email/account_confirmation",
    "email/password_reset",
    "email/event_notification",
    "email/setup",
    "email/email_otp",
};

/* A scratch folder per test, removed with everything in it afterwards. */
struct tdir {
	char td_path[64];
};

static void
write_file(const char *dir, const char *rel, const char *content, size_t len)
{
	char path[512];
	int fd;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void
sub_dir(const char *dir, const char *rel)
{
	char path[512];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
}

static int
setup_dir(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	memcpy(t->td_path, "/tmp/custos-tpl.XXXXXX", sizeof("/tmp/custos-tpl.XXXXXX"));
	if (mkdtemp(t->td_path) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
rm_tree(const char *dir)
{
	pid_t pid;
	int status;

	/* rm -rf through exec, not a shell: the name is ours. */
	pid = fork();
	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct tdir *t = *state;

	rm_tree(t->td_path);
	free(t);
	return 0;
}

static void
test_builtins_render(void **state)
{
	static const struct cu_template_var vars[] = {
	    {"user_name", "Ada"},
	    {"url", "https://id.example.com/if/flow/x/?token=abc"},
	    {"expires", "2030-01-01 00:00 UTC"},
	    {"title", "Login from a new place"},
	    {"body", "Someone logged in."},
	    {"code", "123456"},
	};
	struct cu_rendered r;
	size_t i;

	(void)state;
	for (i = 0; i < N(builtins); i++) {
		assert_int_equal(cu_templates_render(NULL, builtins[i], vars, N(vars), &r), 0);
		assert_non_null(r.rd_subject);
		assert_non_null(r.rd_text);
		assert_non_null(r.rd_html);
		assert_true(strlen(r.rd_subject) > 0);
		assert_null(strchr(r.rd_subject, '\n'));
		/* The subject line is not part of the body, and nothing is left unexpanded. */
		assert_null(strstr(r.rd_text, "Subject:"));
		assert_null(strstr(r.rd_text, "{{"));
		assert_null(strstr(r.rd_html, "{{"));
		assert_non_null(strstr(r.rd_html, "<html>"));
		cu_rendered_free(&r);
		assert_null(r.rd_subject);
		assert_null(r.rd_text);
		assert_null(r.rd_html);
	}
	assert_int_equal(cu_templates_render(NULL, "email/password_reset", vars, N(vars), &r), 0);
	assert_string_equal(r.rd_subject, "Reset your password");
	assert_non_null(strstr(r.rd_text, "Hello Ada,"));
	assert_non_null(strstr(r.rd_text, "https://id.example.com/if/flow/x/?token=abc\n"));
	assert_non_null(strstr(r.rd_text, "2030-01-01 00:00 UTC"));
	assert_non_null(strstr(r.rd_html, "href=\"https://id.example.com/if/flow/x/?token=abc\""));
	cu_rendered_free(&r);
	/* authentik's name for the same template, as stage configs carry it. */
	assert_int_equal(cu_templates_render(NULL, "email/password_reset.html", vars, N(vars), &r),
	                 0);
	assert_string_equal(r.rd_subject, "Reset your password");
	cu_rendered_free(&r);
	assert_int_equal(cu_templates_render(NULL, "email/email_otp", vars, N(vars), &r), 0);
	assert_non_null(strstr(r.rd_text, "123456"));
	assert_non_null(strstr(r.rd_html, ">123456<"));
	cu_rendered_free(&r);
	assert_int_equal(cu_templates_render(NULL, "email/event_notification", vars, N(vars), &r),
	                 0);
	assert_string_equal(r.rd_subject, "Login from a new place");
	cu_rendered_free(&r);
}

static void
test_escaping(void **state)
{
	static const struct cu_template_var vars[] = {
	    {"user_name", "<b>Eve</b> & \"Mallory\" 'o'"},
	    {"url", "https://x.example/?a=1&b=2"},
	};
	struct cu_rendered r;

	(void)state;
	assert_int_equal(cu_templates_render(NULL, "email/password_reset", vars, N(vars), &r), 0);
	assert_non_null(
	    strstr(r.rd_html, "&lt;b&gt;Eve&lt;/b&gt; &amp; &quot;Mallory&quot; &#39;o&#39;"));
	assert_null(strstr(r.rd_html, "<b>Eve"));
	assert_non_null(strstr(r.rd_html, "href=\"https://x.example/?a=1&amp;b=2\""));
	/* The text part carries values as they are. */
	assert_non_null(strstr(r.rd_text, "Hello <b>Eve</b> & \"Mallory\" 'o',"));
	assert_non_null(strstr(r.rd_text, "https://x.example/?a=1&b=2"));
	cu_rendered_free(&r);
}

static void
test_raw_unknown_and_syntax(void **state)
{
	struct tdir *t = *state;
	static const struct cu_template_var vars[] = {
	    {"v", "<i>x</i>"},
	    {"empty", NULL},
	    {"a.b", "dotted"},
	};
	static const char txt[] =
	    "Subject: S {{v}}\n\nraw={{{ v }}} esc={{ v }} none=[{{ nope }}] "
	    "null=[{{ empty }}] dot={{a.b}} bad={{ v } open={{ half={{{ v }}\n";
	static const char html[] = "raw={{{v}}} esc={{  v  }} none=[{{nope}}] {{ not a key }}";
	struct cu_rendered r;

	sub_dir(t->td_path, "email");
	write_file(t->td_path, "email/custom.txt", txt, sizeof(txt) - 1);
	write_file(t->td_path, "email/custom.html", html, sizeof(html) - 1);
	assert_int_equal(cu_templates_render(t->td_path, "email/custom", vars, N(vars), &r), 0);
	assert_string_equal(r.rd_subject, "S <i>x</i>");
	assert_string_equal(r.rd_text, "raw=<i>x</i> esc=<i>x</i> none=[] null=[] dot=dotted "
	                               "bad={{ v } open={{ half={<i>x</i>\n");
	assert_string_equal(r.rd_html,
	                    "raw=<i>x</i> esc=&lt;i&gt;x&lt;/i&gt; none=[] {{ not a key }}");
	cu_rendered_free(&r);
}

static void
test_subject_line(void **state)
{
	struct tdir *t = *state;
	static const struct cu_template_var vars[] = {
	    {"who", "Ann\r\nBcc: evil@example.com"},
	};
	static const char mid[] = "Intro line\r\nSubject: Hi {{ who }}\r\n\r\nBody {{ who }}\r\n";
	static const char none[] = "No subject here\nSubject:without space\n";
	struct cu_rendered r;

	write_file(t->td_path, "mid.txt", mid, sizeof(mid) - 1);
	write_file(t->td_path, "none.txt", none, sizeof(none) - 1);
	assert_int_equal(cu_templates_render(t->td_path, "mid", vars, N(vars), &r), 0);
	/* A value cannot start a new header line in the subject. */
	assert_string_equal(r.rd_subject, "Hi Ann  Bcc: evil@example.com");
	assert_string_equal(r.rd_text, "Intro line\r\nBody Ann\r\nBcc: evil@example.com\r\n");
	/* No .html: a text-only template. */
	assert_null(r.rd_html);
	cu_rendered_free(&r);
	assert_int_equal(cu_templates_render(t->td_path, "none", NULL, 0, &r), 0);
	assert_string_equal(r.rd_subject, "");
	assert_string_equal(r.rd_text, none);
	cu_rendered_free(&r);
}

static void
test_override(void **state)
{
	struct tdir *t = *state;
	static const struct cu_template_var vars[] = {{"user_name", "Bo"}};
	static const char html[] = "<p>Ours, {{ user_name }}</p>";
	static const char txt[] = "Subject: Our own subject\n\nOurs, {{ user_name }}\n";
	struct cu_rendered r;

	sub_dir(t->td_path, "email");
	/* Only the HTML part overridden: the text part stays built in. */
	write_file(t->td_path, "email/setup.html", html, sizeof(html) - 1);
	assert_int_equal(cu_templates_render(t->td_path, "email/setup", vars, N(vars), &r), 0);
	assert_string_equal(r.rd_html, "<p>Ours, Bo</p>");
	assert_string_equal(r.rd_subject, "custos test email");
	cu_rendered_free(&r);
	write_file(t->td_path, "email/setup.txt", txt, sizeof(txt) - 1);
	assert_int_equal(cu_templates_render(t->td_path, "email/setup", vars, N(vars), &r), 0);
	assert_string_equal(r.rd_subject, "Our own subject");
	assert_string_equal(r.rd_text, "Ours, Bo\n");
	cu_rendered_free(&r);
	/* Other built-ins are untouched, and a missing folder means built-ins only. */
	assert_int_equal(cu_templates_render(t->td_path, "email/email_otp", vars, N(vars), &r), 0);
	assert_string_equal(r.rd_subject, "Your sign-in code");
	cu_rendered_free(&r);
	assert_int_equal(
	    cu_templates_render("/nonexistent/custos/templates", "email/setup", vars, 1, &r), 0);
	assert_string_equal(r.rd_subject, "custos test email");
	cu_rendered_free(&r);
	assert_int_equal(cu_templates_render("", "email/setup", vars, 1, &r), 0);
	cu_rendered_free(&r);
}

static void
test_refused(void **state)
{
	struct tdir *t = *state;
	static const char *const bad[] = {
	    "",
	    "/etc/passwd",
	    "../x",
	    "email/../email/setup",
	    "email/..",
	    "..",
	    "email//setup",
	    "email/setup/",
	    ".hidden",
	    "email/.setup",
	    "email\\setup",
	    "email/set up",
	    "email/setup\n",
	    "no-such-template",
	    "email/no_such",
	};
	char big[300];
	struct cu_rendered r = {NULL, NULL, NULL};
	size_t i;

	for (i = 0; i < N(bad); i++) {
		assert_int_equal(cu_templates_render(t->td_path, bad[i], NULL, 0, &r), -1);
		assert_null(r.rd_subject);
		assert_null(r.rd_text);
		assert_null(r.rd_html);
	}
	assert_int_equal(cu_templates_render(NULL, NULL, NULL, 0, &r), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cu_templates_render(t->td_path, big, NULL, 0, &r), -1);
}

static void
test_refused_files(void **state)
{
	struct tdir *t = *state;
	char path[512], outside[600];
	struct cu_rendered r;
	char *huge;
	size_t hlen = 256 * 1024 + 1;

	sub_dir(t->td_path, "email");
	sub_dir(t->td_path, "inner");
	/* A symbolic link that leads out of the folder is refused, not followed. */
	assert_true((size_t)snprintf(outside, sizeof(outside), "%s/outside.txt", t->td_path) <
	            sizeof(outside));
	write_file(t->td_path, "outside.txt", "Subject: out\n", 13);
	assert_true((size_t)snprintf(path, sizeof(path), "%s/inner/link.txt", t->td_path) <
	            sizeof(path));
	assert_int_equal(symlink(outside, path), 0);
	{
		char dir[512];

		assert_true((size_t)snprintf(dir, sizeof(dir), "%s/inner", t->td_path) <
		            sizeof(dir));
		assert_int_equal(cu_templates_render(dir, "link", NULL, 0, &r), -1);
		/* A link inside the folder is fine. */
		assert_true((size_t)snprintf(path, sizeof(path), "%s/inner/ok.txt", t->td_path) <
		            sizeof(path));
		write_file(t->td_path, "inner/real.txt", "Subject: in\n", 12);
		assert_int_equal(symlink("real.txt", path), 0);
		assert_int_equal(cu_templates_render(dir, "ok", NULL, 0, &r), 0);
		assert_string_equal(r.rd_subject, "in");
		cu_rendered_free(&r);
	}
	/* A file over 256 KiB is refused, even for a built-in name. */
	huge = calloc(1, hlen);
	assert_non_null(huge);
	memset(huge, 'x', hlen);
	write_file(t->td_path, "email/setup.html", huge, hlen);
	assert_int_equal(cu_templates_render(t->td_path, "email/setup", NULL, 0, &r), -1);
	write_file(t->td_path, "email/setup.html", huge, hlen - 1);
	assert_int_equal(cu_templates_render(t->td_path, "email/setup", NULL, 0, &r), 0);
	assert_int_equal(strlen(r.rd_html), hlen - 1);
	cu_rendered_free(&r);
	free(huge);
	/* A folder where a file should be cannot be read. */
	sub_dir(t->td_path, "email/password_reset.txt");
	assert_int_equal(cu_templates_render(t->td_path, "email/password_reset", NULL, 0, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtins_render),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test_setup_teardown(test_raw_unknown_and_syntax, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_subject_line, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_override, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_refused, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_refused_files, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
