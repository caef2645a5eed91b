/*
 * Mail templates: built-in ones compiled in, overridden or added by files in the templates
 * folder (config email.template_dir, or CUSTOS_TEMPLATES_DIR), as authentik's /templates does.
 * A template is a pair NAME.html and NAME.txt; the first line of the .txt that starts with
 * "Subject: " is the subject. Placeholders are {{ key }} (HTML-escaped in .html) and
 * {{{ key }}} (as is); unknown keys render empty.
 * Built-in names: email/account_confirmation, email/password_reset, email/event_notification,
 * email/setup (test mail), email/email_otp.
 */
#ifndef CU_TEMPLATES_H
#define CU_TEMPLATES_H

#include <stddef.h>

struct cu_template_var {
	const char *tv_key;
	const char *tv_value;
};

struct cu_rendered {
	char *rd_subject; /* caller frees all three with cu_rendered_free */
	char *rd_text;
	char *rd_html;
};

/* Renders template name with vars; dir may be NULL (built-ins only). -1 when no such template
 * or a file cannot be read; the folder is read at each call (worker side, not per request). */
int cu_templates_render(const char *dir, const char *name, const struct cu_template_var *vars,
                        size_t nvars, struct cu_rendered *out) __attribute__((warn_unused_result));
void cu_rendered_free(struct cu_rendered *r);

#endif
