#include "templates.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

/* A template file larger than this is refused rather than cut. */
#define TPL_MAX_FILE (256 * 1024)
/* What one rendered part may grow to: a template at its limit plus generous values. */
#define TPL_MAX_OUTPUT (4 * 1024 * 1024)
#define TPL_MAX_NAME 200
#define TPL_MAX_KEY 64
#define TPL_SUBJECT_PREFIX "Subject: "

/*
 * The built-in templates. Each text starts with its "Subject: " line, parsed like a file's.
 * HTML mail clients ignore <style> blocks, so the styles are inline.
 */
struct tpl_builtin {
	const char *tb_name;
	const char *tb_text;
	const char *tb_html;
};

#define TPL_HTML_HEAD                                                                              \
	"<!DOCTYPE html>\n"                                                                        \
	"<html>\n"                                                                                 \
	"<head><meta charset=\"utf-8\"><meta name=\"viewport\" "                                   \
	"content=\"width=device-width\"></head>\n"                                                 \
	"<body style=\"margin:0;padding:24px;background:#f4f4f5;font-family:Helvetica,Arial,"      \
	"sans-serif;color:#18181b;\">\n"                                                           \
	"<div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:6px;"         \
	"padding:32px;\">\n"

#define TPL_HTML_FOOT                                                                              \
	"</div>\n"                                                                                 \
	"</body>\n"                                                                                \
	"</html>\n"

#define TPL_BUTTON(label)                                                                          \
	"<p style=\"margin:24px 0;\"><a href=\"{{ url }}\" style=\"display:inline-block;"          \
	"padding:12px 20px;background:#2563eb;color:#ffffff;text-decoration:none;"                 \
	"border-radius:4px;font-weight:bold;\">" label "</a></p>\n"                                \
	"<p style=\"font-size:13px;color:#52525b;\">If the button does not work, open this "       \
	"address: <br><a href=\"{{ url }}\" style=\"color:#2563eb;word-break:break-all;\">"        \
	"{{ url }}</a></p>\n"

static const struct tpl_builtin tpl_builtins[] = {
    {
        "email/account_confirmation",
        "Subject: Confirm your account\n"
        "\n"
        "Hello {{ user_name }},\n"
        "\n"
        "please confirm your account by opening this address:\n"
        "\n"
        "{{ url }}\n"
        "\n"
        "The link is valid until {{ expires }}.\n"
        "If you did not create an account, you can ignore this message.\n",
        TPL_HTML_HEAD "<h1 style=\"font-size:20px;margin:0 0 16px;\">Confirm your account</h1>\n"
                      "<p>Hello {{ user_name }},</p>\n"
                      "<p>please confirm your account.</p>\n" TPL_BUTTON(
                          "Confirm account") "<p style=\"font-size:13px;color:#52525b;\">The "
                                             "link is valid until {{ expires }}. If you did not "
                                             "create an account, you can ignore this "
                                             "message.</p>\n" TPL_HTML_FOOT,
    },
    {
        "email/password_reset",
        "Subject: Reset your password\n"
        "\n"
        "Hello {{ user_name }},\n"
        "\n"
        "someone asked to reset the password of your account. To choose a new one, open:\n"
        "\n"
        "{{ url }}\n"
        "\n"
        "The link is valid until {{ expires }}.\n"
        "If you did not ask for this, you can ignore this message: your password stays as "
        "it is.\n",
        TPL_HTML_HEAD
        "<h1 style=\"font-size:20px;margin:0 0 16px;\">Reset your password</h1>\n"
        "<p>Hello {{ user_name }},</p>\n"
        "<p>someone asked to reset the password of your account.</p>\n" TPL_BUTTON(
            "Choose a new password") "<p style=\"font-size:13px;color:#52525b;\">The link is "
                                     "valid until {{ expires }}. If you did not ask for this, "
                                     "you can ignore this message: your password stays as it "
                                     "is.</p>\n" TPL_HTML_FOOT,
    },
    {
        "email/event_notification",
        "Subject: {{ title }}\n"
        "\n"
        "{{ title }}\n"
        "\n"
        "{{ body }}\n"
        "\n"
        "{{ url }}\n",
        TPL_HTML_HEAD "<h1 style=\"font-size:20px;margin:0 0 16px;\">{{ title }}</h1>\n"
                      "<p style=\"white-space:pre-wrap;\">{{ body }}</p>\n"
                      "<p><a href=\"{{ url }}\" style=\"color:#2563eb;\">{{ url }}</a></p>\n"
                      "" TPL_HTML_FOOT,
    },
    {
        "email/setup",
        "Subject: custos test email\n"
        "\n"
        "Hello {{ user_name }},\n"
        "\n"
        "this is a test message. If you can read it, custos can send email.\n",
        TPL_HTML_HEAD "<h1 style=\"font-size:20px;margin:0 0 16px;\">custos test email</h1>\n"
                      "<p>Hello {{ user_name }},</p>\n"
                      "<p>this is a test message. If you can read it, custos can send "
                      "email.</p>\n" TPL_HTML_FOOT,
    },
    {
        "email/email_otp",
        "Subject: Your sign-in code\n"
        "\n"
        "Hello {{ user_name }},\n"
        "\n"
        "your sign-in code is: {{ code }}\n"
        "\n"
        "It is valid until {{ expires }}. Never share this code with anyone.\n",
        TPL_HTML_HEAD "<h1 style=\"font-size:20px;margin:0 0 16px;\">Your sign-in code</h1>\n"
                      "<p>Hello {{ user_name }},</p>\n"
                      "<p>your sign-in code is:</p>\n"
                      "<p style=\"font-size:28px;font-weight:bold;letter-spacing:4px;"
                      "font-family:monospace;margin:16px 0;\">{{ code }}</p>\n"
                      "<p style=\"font-size:13px;color:#52525b;\">It is valid until "
                      "{{ expires }}. Never share this code with anyone.</p>\n" TPL_HTML_FOOT,
    },
};

static const struct tpl_builtin *
tpl_builtin_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tpl_builtins) / sizeof(tpl_builtins[0]); i++)
		if (strcmp(tpl_builtins[i].tb_name, name) == 0)
			return &tpl_builtins[i];
	return NULL;
}

/*
 * A name is a relative path of plain components: letters, digits, '_', '-', '.', and '/'
 * between components, with no component starting with '.' (so no "..", no hidden files).
 */
static int
tpl_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > TPL_MAX_NAME || name[0] == '/' || name[len - 1] == '/')
		return 0;
	if (strstr(name, "..") != NULL || strstr(name, "//") != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.' && (i == 0 || name[i - 1] == '/'))
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '/'))
			return 0;
	}
	return 1;
}

/*
 * Reads dir/name+ext into out (caller frees). 1 when read, 0 when the folder or the file does
 * not exist, -1 when it exists but cannot be used: unreadable, not a regular file, too large,
 * or resolving (through symbolic links) to somewhere outside dir.
 */
static int
tpl_read_file(const char *dir, const char *name, const char *ext, char **out)
{
	char path[PATH_MAX], realdir[PATH_MAX], realfile[PATH_MAX];
	struct cu_buf b;
	struct stat st;
	size_t dirlen;
	int fd = -1, rc = -1;

	*out = NULL;
	cu_buf_init(&b, TPL_MAX_FILE);
	if (realpath(dir, realdir) == NULL) {
		rc = (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
		goto out;
	}
	if (cu_buf_printf(&b, "%s/%s%s", realdir, name, ext) != 0 || b.bf_len >= sizeof(path))
		goto out;
	memcpy(path, b.bf_ptr, b.bf_len + 1);
	cu_buf_clear(&b);
	if (realpath(path, realfile) == NULL) {
		rc = (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
		goto out;
	}
	dirlen = strlen(realdir);
	if (strncmp(realfile, realdir, dirlen) != 0 ||
	    (realfile[dirlen] != '/' && strcmp(realdir, "/") != 0))
		goto out;
	fd = open(realfile, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TPL_MAX_FILE)
		goto out;
	for (;;) {
		char *p = cu_buf_prepare(&b, 8192);
		ssize_t n;

		if (p == NULL) {
			/* Grown past the limit since fstat; still one byte to tell. */
			char c;

			if (read(fd, &c, 1) == 0)
				break;
			goto out;
		}
		n = read(fd, p, 8192);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		cu_buf_commit(&b, (size_t)n);
	}
	if (cu_buf_puts(&b, "") != 0)
		goto out;
	*out = cu_buf_steal(&b, NULL);
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	cu_buf_free(&b);
	return rc;
}

enum tpl_mode {
	TPL_MODE_TEXT, /* {{ key }} as is */
	TPL_MODE_HTML, /* {{ key }} HTML-escaped */
	TPL_MODE_LINE, /* as is, with line breaks turned into spaces: a header line */
};

static const char *
tpl_lookup(const struct cu_template_var *vars, size_t nvars, const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (vars[i].tv_key != NULL && strlen(vars[i].tv_key) == keylen &&
		    memcmp(vars[i].tv_key, key, keylen) == 0)
			return vars[i].tv_value != NULL ? vars[i].tv_value : "";
	return "";
}

static int
tpl_put_value(struct cu_buf *b, const char *v, enum tpl_mode mode, int raw)
{
	size_t i, len = strlen(v);

	if (mode == TPL_MODE_LINE) {
		for (i = 0; i < len; i++)
			if (cu_buf_putc(b, (v[i] == '\r' || v[i] == '\n') ? ' ' : v[i]) != 0)
				return -1;
		return 0;
	}
	if (mode == TPL_MODE_HTML && !raw)
		return cu_buf_html_escape(b, v, len);
	return cu_buf_append(b, v, len);
}

/*
 * Parses a placeholder at s: "{{" or "{{{", optional spaces, a key of [A-Za-z0-9_.], optional
 * spaces, and the matching closing braces. Returns the bytes consumed, 0 when s is not one.
 */
static size_t
tpl_placeholder(const char *s, const char **key, size_t *keylen, int *raw)
{
	size_t i, start;
	int braces;

	if (s[0] != '{' || s[1] != '{')
		return 0;
	*raw = s[2] == '{';
	braces = *raw ? 3 : 2;
	i = (size_t)braces;
	while (s[i] == ' ')
		i++;
	start = i;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.')
		i++;
	if (i == start || i - start > TPL_MAX_KEY)
		return 0;
	*key = s + start;
	*keylen = i - start;
	while (s[i] == ' ')
		i++;
	if (strncmp(s + i, "}}}", (size_t)braces) != 0)
		return 0;
	return i + (size_t)braces;
}

/* Renders src with vars into a new string (caller frees); NULL past TPL_MAX_OUTPUT. */
static char *
tpl_expand(const char *src, size_t srclen, const struct cu_template_var *vars, size_t nvars,
           enum tpl_mode mode)
{
	struct cu_buf b;
	size_t i = 0;
	char *res = NULL;

	cu_buf_init(&b, TPL_MAX_OUTPUT);
	if (cu_buf_puts(&b, "") != 0)
		goto out;
	while (i < srclen) {
		const char *open = memchr(src + i, '{', srclen - i), *key = NULL;
		size_t n, keylen = 0, lit;
		int raw = 0;

		lit = open == NULL ? srclen - i : (size_t)(open - (src + i));
		if (mode == TPL_MODE_LINE) {
			size_t k;

			for (k = 0; k < lit; k++)
				if (cu_buf_putc(&b, (src[i + k] == '\r' || src[i + k] == '\n')
				                        ? ' '
				                        : src[i + k]) != 0)
					goto out;
		} else if (cu_buf_append(&b, src + i, lit) != 0) {
			goto out;
		}
		i += lit;
		if (open == NULL)
			break;
		n = tpl_placeholder(src + i, &key, &keylen, &raw);
		if (n == 0) {
			if (cu_buf_putc(&b, '{') != 0)
				goto out;
			i++;
			continue;
		}
		if (tpl_put_value(&b, tpl_lookup(vars, nvars, key, keylen), mode, raw) != 0)
			goto out;
		i += n;
	}
	res = cu_buf_steal(&b, NULL);
out:
	cu_buf_free(&b);
	return res;
}

/*
 * Splits the text template: the first line starting with "Subject: " is the subject, taken
 * out of the body together with one empty line right after it.
 */
static void
tpl_split_subject(const char *text, struct cu_str *subject, struct cu_str *before,
                  struct cu_str *after)
{
	const char *line = text, *end = text + strlen(text);

	subject->s_ptr = NULL;
	subject->s_len = 0;
	before->s_ptr = text;
	before->s_len = (size_t)(end - text);
	after->s_ptr = end;
	after->s_len = 0;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl != NULL ? nl : end;
		const char *next = nl != NULL ? nl + 1 : end;

		if (strncmp(line, TPL_SUBJECT_PREFIX, sizeof(TPL_SUBJECT_PREFIX) - 1) == 0) {
			subject->s_ptr = line + sizeof(TPL_SUBJECT_PREFIX) - 1;
			subject->s_len = (size_t)(eol - subject->s_ptr);
			if (subject->s_len > 0 && subject->s_ptr[subject->s_len - 1] == '\r')
				subject->s_len--;
			before->s_len = (size_t)(line - text);
			if (next < end && next[0] == '\n')
				next++;
			else if (next + 1 < end && next[0] == '\r' && next[1] == '\n')
				next += 2;
			after->s_ptr = next;
			after->s_len = (size_t)(end - next);
			return;
		}
		line = next;
	}
}

int
cu_templates_render(const char *dir, const char *name, const struct cu_template_var *vars,
                    size_t nvars, struct cu_rendered *out)
{
	const struct tpl_builtin *bi;
	char *ftext = NULL, *fhtml = NULL, *body = NULL, base[TPL_MAX_NAME + 1];
	const char *text, *html;
	struct cu_str subject, before, after;
	size_t len;
	int rc = -1;

	out->rd_subject = out->rd_text = out->rd_html = NULL;
	if (name == NULL || !tpl_name_ok(name))
		goto out;
	/* authentik names templates by their HTML file ("email/password_reset.html"); custos keeps
	 * a text and an HTML part under the name without the extension. */
	len = strlen(name);
	if (len > 5 && strcmp(name + len - 5, ".html") == 0) {
		memcpy(base, name, len - 5);
		base[len - 5] = '\0';
		name = base;
	}
	bi = tpl_builtin_find(name);
	if (dir != NULL && dir[0] != '\0') {
		if (tpl_read_file(dir, name, ".txt", &ftext) < 0)
			goto out;
		if (tpl_read_file(dir, name, ".html", &fhtml) < 0)
			goto out;
	}
	text = ftext != NULL ? ftext : (bi != NULL ? bi->tb_text : NULL);
	html = fhtml != NULL ? fhtml : (bi != NULL ? bi->tb_html : NULL);
	/* A template of our own needs its text part: every mail has one. */
	if (text == NULL)
		goto out;
	tpl_split_subject(text, &subject, &before, &after);
	if ((out->rd_subject = tpl_expand(subject.s_ptr != NULL ? subject.s_ptr : "", subject.s_len,
	                                  vars, nvars, TPL_MODE_LINE)) == NULL)
		goto out;
	body = cu_malloc(before.s_len + after.s_len + 1);
	memcpy(body, before.s_ptr, before.s_len);
	memcpy(body + before.s_len, after.s_ptr, after.s_len);
	body[before.s_len + after.s_len] = '\0';
	if ((out->rd_text =
	         tpl_expand(body, before.s_len + after.s_len, vars, nvars, TPL_MODE_TEXT)) == NULL)
		goto out;
	if (html != NULL &&
	    (out->rd_html = tpl_expand(html, strlen(html), vars, nvars, TPL_MODE_HTML)) == NULL)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		cu_rendered_free(out);
	cu_free(body);
	cu_free(fhtml);
	cu_free(ftext);
	return rc;
}

void
cu_rendered_free(struct cu_rendered *r)
{
	cu_free(r->rd_subject);
	cu_free(r->rd_text);
	cu_free(r->rd_html);
	r->rd_subject = r->rd_text = r->rd_html = NULL;
}
