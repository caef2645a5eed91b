/*
 * Outgoing mail over SMTP with libesmtp, configured by authentik's email.* keys (host, port,
 * username, password, use_tls = STARTTLS, use_ssl = implicit TLS, timeout, from). A message has
 * a text and an HTML part rendered from a template; see lib/templates.h.
 */
#ifndef CU_MAIL_H
#define CU_MAIL_H

#include <stddef.h>

#include "config.h"

struct cu_mail {
	const char *ml_to;         /* one address */
	const char *ml_to_name;    /* display name, may be NULL; non-ASCII is RFC 2047-encoded */
	const char *ml_subject;    /* UTF-8; RFC 2047-encoded when not plain ASCII */
	const char *ml_text;       /* text/plain part, UTF-8 */
	const char *ml_html;       /* text/html part, UTF-8; NULL for text only */
	const char *ml_message_id; /* "<...@host>", chosen by the caller so a retry can be told
	                            * apart from a new mail; NULL: generated */
};

enum cu_mail_result {
	CU_MAIL_SENT,      /* the server accepted the message */
	CU_MAIL_TEMPORARY, /* connection failure, timeout or a 4xx answer: try again later */
	CU_MAIL_PERMANENT, /* a 5xx answer or an invalid message: do not retry */
};

/*
 * Sends m through the server cfg names. The server's last answer (or the local error) is
 * written into detail (detaillen bytes) for the task's log. Never logs the password.
 */
enum cu_mail_result cu_mail_send(const struct cu_config *cfg, const struct cu_mail *m, char *detail,
                                 size_t detaillen) __attribute__((warn_unused_result));

#endif
