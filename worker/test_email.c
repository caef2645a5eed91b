/*
 * custos-worker test_email TO: sends the email/setup template to TO with the email.*
 * configuration, the way authentik's "ak test_email" checks a mail setup.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "mail.h"
#include "templates.h"

extern char **environ;

int
cu_worker_test_email(int argc, char **argv)
{
	struct cu_config cfg;
	struct cu_rendered r = {NULL, NULL, NULL};
	struct cu_template_var vars[1];
	struct cu_mail m;
	char err[1024], detail[512];
	int rc = 2;

	if (argc != 1 || argv[0][0] == '\0' || argv[0][0] == '-') {
		fprintf(stderr, "usage: custos-worker test_email TO\n");
		return 2;
	}
	if (cu_config_load(&cfg, NULL, environ, err, sizeof(err)) != 0) {
		fprintf(stderr, "custos-worker: configuration: %s\n", err);
		return 1;
	}
	vars[0].tv_key = "user_name";
	vars[0].tv_value = argv[0];
	if (cu_templates_render(cfg.email_template_dir, "email/setup", vars,
	                        sizeof(vars) / sizeof(vars[0]), &r) != 0) {
		fprintf(stderr, "custos-worker: cannot render the template email/setup from %s\n",
		        cfg.email_template_dir);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.ml_to = argv[0];
	m.ml_subject = r.rd_subject;
	m.ml_text = r.rd_text;
	m.ml_html = r.rd_html;
	switch (cu_mail_send(&cfg, &m, detail, sizeof(detail))) {
	case CU_MAIL_SENT:
		printf("sent to %s\n", argv[0]);
		rc = 0;
		break;
	case CU_MAIL_TEMPORARY:
		fprintf(stderr, "custos-worker: not sent, try again later: %s\n", detail);
		rc = 1;
		break;
	case CU_MAIL_PERMANENT:
		fprintf(stderr, "custos-worker: not sent: %s\n", detail);
		rc = 2;
		break;
	}
out:
	cu_rendered_free(&r);
	cu_config_free(&cfg);
	return rc;
}
