/*
 * Delivering a notification through a transport, shared by the worker's notification_transport
 * actor and the transports' test/ route: the bodies authentik's transports send (generic
 * webhook, Slack-compatible webhook, the send_mail task of the email transport) and the HTTP
 * POST, with libcurl.
 */
#ifndef CU_NOTIFY_H
#define CU_NOTIFY_H

#include <stddef.h>

#include "arena.h"

struct json_object;

/* One notification for one user, as authentik's Notification with its event and user. */
struct cu_notify_msg {
	const char *nm_severity;
	const char *nm_body;
	const char *nm_hyperlink;       /* may be NULL */
	const char *nm_hyperlink_label; /* may be NULL */
	const char *nm_username;        /* the recipient */
	const char *nm_email;
	const char *nm_name;
	int nm_superuser;
	struct json_object *nm_event; /* the Event as the API shows it, borrowed; may be NULL */
	const char *nm_transport;     /* the transport's name */
};

/* The generic webhook's JSON body (NotificationTransport.send_webhook), arena-owned text. */
const char *cu_notify_webhook_body(struct cu_arena *a, const struct cu_notify_msg *m);

/* The Slack-compatible body (send_webhook_slack), arena-owned text. */
const char *cu_notify_slack_body(struct cu_arena *a, const struct cu_notify_msg *m);

/* The args of the send_mail task the email transport writes (send_email), arena-owned JSON
 * text; NULL when the user has no email address (authentik discards the notification). */
const char *cu_notify_mail_args(struct cu_arena *a, const struct cu_notify_msg *m,
                                const char *subject_prefix, const char *template_name);

enum cu_notify_result {
	CU_NOTIFY_SENT,      /* a 2xx answer */
	CU_NOTIFY_TEMPORARY, /* no connection, a timeout, a TLS failure or a 5xx answer */
	CU_NOTIFY_PERMANENT, /* any other answer (4xx, an unfollowed 3xx) or an unusable URL */
};

#define CU_NOTIFY_TIMEOUT_S 10L
/* How much of an answer's body is kept for the task's log or the test route's messages. */
#define CU_NOTIFY_ANSWER_MAX 4096

/*
 * POSTs json to url (http or https only, TLS verified, no redirects, CU_NOTIFY_TIMEOUT_S).
 * *status receives the HTTP status (0 when there was no answer); answer (answerlen bytes,
 * NUL-terminated) the start of the answer's body, or what went wrong when there was none.
 */
enum cu_notify_result cu_notify_post(const char *url, const char *json, long *status, char *answer,
                                     size_t answerlen) __attribute__((warn_unused_result));
/* The same with body sent as content_type (a form for an OpenID back-channel logout token). */
enum cu_notify_result cu_notify_post_body(const char *url, const char *content_type,
                                          const char *body, long *status, char *answer,
                                          size_t answerlen) __attribute__((warn_unused_result));

#endif
