/*
 * Policy bindings decided for an audit event, as authentik's event_trigger_handler runs a
 * notification rule's bindings: engine mode "any", an empty result of false, the event's user
 * as the request's user. The bindings come in one query; each is decided here.
 */
#include "policies/event_matcher.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "policies/engine.h"
#include "policies/kinds.h"

/* The event's string field key, NULL when absent or not a string (authentik compares with
 * None then, which no set field equals). */
static const char *
event_text(struct json_object *obj, const char *key)
{
	const char *s = NULL;

	if (obj == NULL || cu_json_get_string(obj, key, &s) != 0)
		return NULL;
	return s;
}

static int
field_matches(const char *want, const char *have)
{
	return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

int
cu_policies_event_matcher_matches(const char *action, const char *app, const char *model,
                                  const char *client_ip, struct json_object *event)
{
	struct json_object *context = NULL, *m = NULL;

	if (event == NULL || !json_object_is_type(event, json_type_object))
		return 0;
	if (!field_matches(action, event_text(event, "action")) ||
	    !field_matches(app, event_text(event, "app")) ||
	    !field_matches(client_ip, event_text(event, "client_ip")))
		return 0;
	if (model != NULL) {
		const char *mapp, *mname;
		size_t alen;
		const char *dot;

		/* authentik formats "{app}.{model_name}" from context.model, with None for what
		 * is missing; "None" never names a model choice, so missing parts never match. */
		if (cu_json_get_object(event, "context", &context) != 0 ||
		    cu_json_get_object(context, "model", &m) != 0)
			return 0;
		mapp = event_text(m, "app");
		mname = event_text(m, "model_name");
		if (mapp == NULL || mname == NULL || (dot = strchr(model, '.')) == NULL)
			return 0;
		alen = (size_t)(dot - model);
		if (strlen(mapp) != alen || strncmp(model, mapp, alen) != 0 ||
		    strcmp(mname, dot + 1) != 0)
			return 0;
	}
	return 1;
}

/* The event's user pk as decimal text into buf, or NULL (anonymous, or not a user pk). */
static const char *
event_user_pk(struct json_object *event, char *buf, size_t len)
{
	struct json_object *user = NULL, *pk = NULL;
	const char *s = NULL;
	int64_t n;

	if (cu_json_get_object(event, "user", &user) != 0 ||
	    !json_object_object_get_ex(user, "pk", &pk) || pk == NULL)
		return NULL;
	if (cu_json_get_int(user, "pk", &n) == 0) {
		snprintf(buf, len, "%" PRId64, n);
		return buf;
	}
	if (cu_json_get_string(user, "pk", &s) == 0 && s[0] != '\0' && strlen(s) < len &&
	    strspn(s, "0123456789") == strlen(s)) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	return NULL;
}

int
cu_policies_event_passes(struct cu_db *db, struct cu_arena *a, const char *target,
                         struct json_object *event)
{
	char pkbuf[32];
	const char *params[2];
	PGresult *res = NULL;
	int r, rows;

	if (event == NULL || !json_object_is_type(event, json_type_object))
		return 0;
	params[0] = target;
	params[1] = event_user_pk(event, pkbuf, sizeof(pkbuf));
	if (cu_db_exec(db, a, &res, CU_DB_STMT_POLICIES_EVALUATE, 2, params) != CU_OK)
		return -1;
	rows = PQntuples(res);
	for (r = 0; r < rows; r++) {
		int negate = strcmp(cu_db_value(res, r, 0), "t") == 0;
		const char *type = cu_db_value(res, r, 1);
		const char *user_id = cu_db_value(res, r, 6);
		int passing = 0;

		if (type != NULL) {
			/* A policy binding: only event matchers decide on an event here
			 * (authentik's notification rules are bound to event matchers); other kinds
			 * do not pass. */
			if (strcmp(type, "eventmatcherpolicy") == 0)
				passing = cu_policies_event_matcher_matches(
				    cu_db_value(res, r, 2), cu_db_value(res, r, 3),
				    cu_db_value(res, r, 4), cu_db_value(res, r, 5), event);
		} else if (user_id != NULL) {
			passing = params[1] != NULL && strcmp(user_id, params[1]) == 0;
		} else if (strcmp(cu_db_value(res, r, 7), "t") == 0) {
			passing = strcmp(cu_db_value(res, r, 8), "t") == 0;
		}
		if (negate)
			passing = !passing;
		if (passing)
			return 1;
	}
	return 0;
}

/* In a request, authentik's EventMatcherPolicy looks at the context's "event"; without one
 * it does not pass. */
enum cu_policy_verdict
cu_policy_event_matcher_eval(struct cu_policy_eval *pe)
{
	struct json_object *ctx = pe->pe_rq != NULL ? pe->pe_rq->pr_context : NULL;
	struct json_object *event = NULL;

	if (ctx == NULL || cu_json_get_object(ctx, "event", &event) != 0)
		return CU_POLICY_FAIL;
	return cu_policies_event_matcher_matches(cu_policy_cfg_string(pe, "action", NULL),
	                                         cu_policy_cfg_string(pe, "app", NULL),
	                                         cu_policy_cfg_string(pe, "model", NULL),
	                                         cu_policy_cfg_string(pe, "client_ip", NULL), event)
	           ? CU_POLICY_PASS
	           : CU_POLICY_FAIL;
}
