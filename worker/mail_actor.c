/*
 * authentik.stages.email.tasks.send_mail: args {"to", "to_name", "template", "subject",
 * "vars": {...}}. The mail goes out once: its Message-ID is recorded (committed) before the
 * SMTP conversation, and "sent" right after the server accepts it, so a run after a crash
 * either skips a mail the server took or sends it again under the same Message-ID, which a
 * receiving system recognises as the same message.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "mail.h"
#include "templates.h"
#include "worker.h"

#define MAIL_MAX_VARS 32

enum cu_worker_outcome
cu_worker_actor_send_mail(struct cu_worker_task *t)
{
	struct cu_template_var vars[MAIL_MAX_VARS];
	struct cu_rendered r = {NULL, NULL, NULL};
	struct json_object *jvars = NULL, *effect = NULL;
	const char *to = NULL, *to_name = NULL, *template = NULL, *subject = NULL, *state = NULL;
	const char *message_id = NULL;
	char detail[512], rnd[25], host[128];
	struct cu_mail m;
	enum cu_worker_outcome out = CU_WORKER_FAIL;
	size_t n = 0;

	if (cu_json_get_string(t->wt_args, "to", &to) != 0 ||
	    cu_json_get_string(t->wt_args, "template", &template) != 0) {
		t->wt_error = "send_mail needs \"to\" and \"template\"";
		return CU_WORKER_FAIL;
	}
	if (cu_json_get_string(t->wt_args, "to_name", &to_name) != 0)
		to_name = NULL;
	if (cu_json_get_string(t->wt_args, "subject", &subject) != 0)
		subject = NULL;
	if (cu_json_get_object(t->wt_args, "vars", &jvars) == 0) {
		json_object_object_foreach(jvars, k, v)
		{
			if (n == MAIL_MAX_VARS)
				break;
			vars[n].tv_key = k;
			vars[n].tv_value = json_object_is_type(v, json_type_string)
			                       ? json_object_get_string(v)
			                       : cu_json_text(v, NULL);
			n++;
		}
	}
	/* An earlier run may have got as far as the server. */
	if (t->wt_effect_text != NULL &&
	    cu_json_parse(t->wt_arena, t->wt_effect_text, strlen(t->wt_effect_text), &effect) ==
	        CU_OK &&
	    effect != NULL) {
		if (cu_json_get_string(effect, "state", &state) == 0 &&
		    strcmp(state, "sent") == 0) {
			t->wt_message = "Mail already sent by an earlier run";
			return CU_WORKER_DONE;
		}
		if (cu_json_get_string(effect, "message_id", &message_id) != 0)
			message_id = NULL;
	}
	if (message_id == NULL) {
		struct json_object *e = cu_json_object(t->wt_arena);
		const char *from = t->wt_cfg->email_from, *at = strrchr(from, '@');

		snprintf(host, sizeof(host), "%s", at != NULL ? at + 1 : "localhost");
		host[strcspn(host, "> ")] = '\0';
		cu_crypto_random_alnum(rnd, 24);
		message_id = cu_arena_printf(t->wt_arena, "<%s.%s@%s>", rnd, t->wt_id, host);
		cu_json_set_string(e, "message_id", message_id);
		cu_json_set_string(e, "state", "sending");
		if (cu_worker_record_effect(t, cu_json_text(e, NULL)) != 0) {
			t->wt_error = "cannot record the message id";
			return CU_WORKER_RETRY;
		}
	}
	if (cu_templates_render(t->wt_cfg->email_template_dir, template, vars, n, &r) != 0) {
		t->wt_error = cu_arena_printf(t->wt_arena, "no template %s", template);
		return CU_WORKER_FAIL;
	}
	memset(&m, 0, sizeof(m));
	m.ml_to = to;
	m.ml_to_name = to_name;
	m.ml_subject = subject != NULL ? subject : r.rd_subject;
	m.ml_text = r.rd_text;
	m.ml_html = r.rd_html;
	m.ml_message_id = message_id;
	switch (cu_mail_send(t->wt_cfg, &m, detail, sizeof(detail))) {
	case CU_MAIL_SENT: {
		struct json_object *e = cu_json_object(t->wt_arena);

		cu_json_set_string(e, "message_id", message_id);
		cu_json_set_string(e, "state", "sent");
		if (cu_worker_record_effect(t, cu_json_text(e, NULL)) != 0)
			cu_log(CU_LOG_WARNING, "mail_sent_unrecorded",
			       CU_LS("message_id", t->wt_id));
		t->wt_message = cu_arena_printf(t->wt_arena, "Mail sent: %s", detail);
		out = CU_WORKER_DONE;
		break;
	}
	case CU_MAIL_TEMPORARY:
		t->wt_error = cu_arena_printf(t->wt_arena, "SMTP: %s", detail);
		out = CU_WORKER_RETRY;
		break;
	case CU_MAIL_PERMANENT:
	default:
		t->wt_error = cu_arena_printf(t->wt_arena, "SMTP refused: %s", detail);
		out = CU_WORKER_FAIL;
		break;
	}
	cu_rendered_free(&r);
	return out;
}
