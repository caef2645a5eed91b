/*
 * The prompt stage (promptstage, ak-stage-prompt): shows the stage's prompt fields and keeps
 * the checked answers in the plan context under "prompt_data", merged with what earlier
 * stages put there (authentik's PromptStageView).
 *
 * Initial values, as authentik computes them: the field's key already in prompt_data (an
 * invitation's fixed_data, an earlier prompt), else the field's initial_value. authentik
 * evaluates initial_value (and placeholder) as Python when *_expression is set; custos does not
 * run Python, and reads such a field as a reference to the user the flow is about (the pending
 * user, else the logged-in one): "user.username", "user.name", "user.email", "user.uuid" or
 * "user.attributes.<dotted path>", optionally after "return " — which covers what the default
 * user settings flow asks for. Any other expression renders empty (and is logged).
 *
 * Choices of radio-button-group and dropdown fields: prompt_data["<field_key>__choices"] when
 * an earlier stage set it (a list of strings or of {"label", "value"}), else the placeholder
 * as the one choice — authentik's rule without expressions.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "crypto.h"
#include "db.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "policies/engine.h"
#include "server.h"
#include "stages/prompt.h"
#include "stages/stages.h"

#define CHOICES_SUFFIX "__choices"

struct prompt_def {
	const char *pd_key;
	const char *pd_label;
	const char *pd_type;
	const char *pd_placeholder;
	const char *pd_initial;
	const char *pd_sub_text;
	long long pd_order;
	int pd_required;
	int pd_placeholder_expr;
	int pd_initial_expr;
	/* computed for this request */
	const char **pd_choices;
	size_t pd_nchoices;
	struct json_object *pd_choices_json; /* [{"label", "value"}] or NULL */
	const char *pd_current;              /* the initial value shown, "" when none */
};

/* The user expressions refer to, with its attributes loaded on first use. */
struct prompt_user {
	const struct cu_user *pu_user;
	struct json_object *pu_attributes;
	int pu_loaded;
};

static int
is_true(const char *v)
{
	return v != NULL && strcmp(v, "t") == 0;
}

/* Text of a context value as a form shows it: strings as they are, the rest as JSON. */
static const char *
value_text(struct json_object *v)
{
	if (v == NULL)
		return "";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return cu_json_text(v, NULL);
}

static struct json_object *
prompt_data(struct cu_flow_exec *fx)
{
	struct json_object *pd = cu_flow_ctx_get(fx, "prompt_data");

	return pd != NULL && json_object_is_type(pd, json_type_object) ? pd : NULL;
}

/* The value at a dotted path in obj, or NULL. */
static struct json_object *
json_path(struct cu_arena *a, struct json_object *obj, const char *path)
{
	char *copy = cu_arena_strdup(a, path), *p = copy;

	while (obj != NULL && p != NULL) {
		char *dot = strchr(p, '.');
		struct json_object *next = NULL;

		if (dot != NULL)
			*dot = '\0';
		if (!json_object_is_type(obj, json_type_object) ||
		    !json_object_object_get_ex(obj, p, &next))
			return NULL;
		obj = next;
		p = dot != NULL ? dot + 1 : NULL;
	}
	return obj;
}

/* An expression field's value (see the top of the file); "" when it names nothing known. */
static const char *
user_reference(struct cu_flow_exec *fx, struct prompt_user *pu, const char *expr)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_user *u = pu->pu_user;
	const char *e = expr;
	size_t n;

	while (*e == ' ' || *e == '\t' || *e == '\n' || *e == '\r')
		e++;
	if (strncmp(e, "return ", 7) == 0)
		e += 7;
	while (*e == ' ')
		e++;
	n = strlen(e);
	while (n > 0 &&
	       (e[n - 1] == ' ' || e[n - 1] == '\n' || e[n - 1] == '\r' || e[n - 1] == '\t'))
		n--;
	e = cu_arena_strndup(cx->cx_arena, e, n);
	if (strncmp(e, "user.", 5) != 0) {
		cu_log(CU_LOG_WARNING, "prompt_expression_unsupported",
		       CU_LS("stage", fx->fx_stage_name));
		return "";
	}
	if (u == NULL)
		return "";
	e += 5;
	if (strcmp(e, "username") == 0)
		return u->us_username != NULL ? u->us_username : "";
	if (strcmp(e, "name") == 0)
		return u->us_name != NULL ? u->us_name : "";
	if (strcmp(e, "email") == 0)
		return u->us_email != NULL ? u->us_email : "";
	if (strcmp(e, "uuid") == 0)
		return u->us_uuid != NULL ? u->us_uuid : "";
	if (strncmp(e, "attributes.", 11) == 0 && e[11] != '\0') {
		if (!pu->pu_loaded) {
			PGresult *res = NULL;
			const char *text;

			pu->pu_loaded = 1;
			if (cu_db_exec(cx->cx_db, cx->cx_arena, &res,
			               CU_DB_STMT_PROMPT_USER_ATTRIBUTES, 1,
			               &u->us_id_text) == CU_OK &&
			    PQntuples(res) == 1 && (text = cu_db_value(res, 0, 0)) != NULL &&
			    cu_json_parse(cx->cx_arena, text, strlen(text), &pu->pu_attributes) !=
			        CU_OK)
				pu->pu_attributes = NULL;
		}
		return value_text(json_path(cx->cx_arena, pu->pu_attributes, e + 11));
	}
	cu_log(CU_LOG_WARNING, "prompt_expression_unsupported", CU_LS("stage", fx->fx_stage_name));
	return "";
}

/* Adds one choice (label, value) to d. */
static void
add_choice(struct cu_arena *a, struct prompt_def *d, const char *label, const char *value)
{
	struct json_object *c;

	if (d->pd_nchoices == CU_PROMPT_MAX_CHOICES)
		return;
	c = json_object_new_object();
	json_object_object_add(c, "label", json_object_new_string(label));
	json_object_object_add(c, "value", json_object_new_string(value));
	json_object_array_add(d->pd_choices_json, c);
	d->pd_choices[d->pd_nchoices++] = cu_arena_strdup(a, value);
}

static void
compute_choices(struct cu_flow_exec *fx, struct prompt_def *d, struct json_object *pd)
{
	struct cu_arena *a = fx->fx_cx->cx_arena;
	struct json_object *raw = NULL;
	const char *key = cu_arena_printf(a, "%s" CHOICES_SUFFIX, d->pd_key);

	d->pd_choices = cu_arena_zalloc(a, sizeof(*d->pd_choices) * CU_PROMPT_MAX_CHOICES);
	d->pd_choices_json = cu_json_array(a);
	if (pd != NULL && json_object_object_get_ex(pd, key, &raw) && raw != NULL &&
	    json_object_is_type(raw, json_type_array)) {
		size_t i, n = json_object_array_length(raw);

		for (i = 0; i < n; i++) {
			struct json_object *c = json_object_array_get_idx(raw, i), *l = NULL,
			                   *v = NULL;

			if (c != NULL && json_object_is_type(c, json_type_object)) {
				json_object_object_get_ex(c, "label", &l);
				json_object_object_get_ex(c, "value", &v);
				add_choice(a, d, value_text(l), value_text(v));
			} else {
				add_choice(a, d, value_text(c), value_text(c));
			}
		}
	} else if (raw != NULL) {
		add_choice(a, d, value_text(raw), value_text(raw));
	} else {
		add_choice(a, d, d->pd_placeholder, d->pd_placeholder);
	}
}

/* The fields of this stage with their choices and initial values; -1 when PostgreSQL fails. */
static int
load_fields(struct cu_flow_exec *fx, struct prompt_user *pu, struct prompt_def **out, size_t *nout)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *pd = prompt_data(fx);
	struct prompt_def *defs;
	PGresult *res = NULL;
	int i, n;

	pu->pu_user = fx->fx_pending_user != NULL ? fx->fx_pending_user : fx->fx_session_user;
	pu->pu_attributes = NULL;
	pu->pu_loaded = 0;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROMPT_FIELDS, 1,
	               &fx->fx_stage_uuid) != CU_OK)
		return -1;
	n = PQntuples(res);
	defs = cu_arena_zalloc(cx->cx_arena, sizeof(*defs) * (size_t)(n > 0 ? n : 1));
	for (i = 0; i < n; i++) {
		struct prompt_def *d = &defs[i];
		struct json_object *have = NULL;
		const char *cur;
		size_t k;

		d->pd_key = cu_db_value(res, i, 0);
		d->pd_label = cu_db_value(res, i, 1);
		d->pd_type = cu_db_value(res, i, 2);
		d->pd_required = is_true(cu_db_value(res, i, 3));
		d->pd_placeholder = cu_db_value(res, i, 4);
		d->pd_initial = cu_db_value(res, i, 5);
		d->pd_sub_text = cu_db_value(res, i, 6);
		d->pd_order = strtoll(cu_db_value(res, i, 7), NULL, 10);
		d->pd_placeholder_expr = is_true(cu_db_value(res, i, 8));
		d->pd_initial_expr = is_true(cu_db_value(res, i, 9));
		if (cu_prompt_type_choice(d->pd_type))
			compute_choices(fx, d, pd);
		/* What the user already gave wins over expressions: it is never evaluated. */
		if (pd != NULL && json_object_object_get_ex(pd, d->pd_key, &have))
			cur = value_text(have);
		else if (d->pd_initial_expr)
			cur = user_reference(fx, pu, d->pd_initial);
		else
			cur = d->pd_initial;
		if (d->pd_choices != NULL) {
			for (k = 0; k < d->pd_nchoices; k++)
				if (strcmp(d->pd_choices[k], cur) == 0)
					break;
			if (d->pd_nchoices == 0)
				cur = "";
			else if (k == d->pd_nchoices)
				cur = d->pd_choices[0];
		}
		d->pd_current = cur;
	}
	*out = defs;
	*nout = (size_t)n;
	return 0;
}

static enum cu_stage_result
prompt_challenge(struct cu_flow_exec *fx)
{
	struct prompt_def *defs = NULL;
	struct prompt_user pu;
	struct json_object *ch, *fields;
	size_t i, n = 0;

	if (load_fields(fx, &pu, &defs, &n) != 0)
		return CU_STAGE_FAIL;
	ch = cu_flow_challenge(fx, "ak-stage-prompt");
	fields = json_object_new_array();
	for (i = 0; i < n; i++) {
		const struct prompt_def *d = &defs[i];
		struct json_object *f = json_object_new_object();
		const char *placeholder = d->pd_placeholder;

		/* A choice field's placeholder holds its choices, so it shows none. */
		if (d->pd_choices != NULL)
			placeholder = "";
		else if (d->pd_placeholder_expr)
			placeholder = user_reference(fx, &pu, d->pd_placeholder);
		cu_json_set_string(f, "field_key", d->pd_key);
		cu_json_set_string(f, "label", d->pd_label);
		cu_json_set_string(f, "type", d->pd_type);
		cu_json_set_bool(f, "required", d->pd_required);
		cu_json_set_string(f, "placeholder", placeholder);
		cu_json_set_string(f, "initial_value", d->pd_current);
		cu_json_set_int(f, "order", d->pd_order);
		cu_json_set_string(f, "sub_text", d->pd_sub_text);
		cu_json_set(f, "choices",
		            d->pd_choices_json != NULL ? json_object_get(d->pd_choices_json)
		                                       : NULL);
		json_object_array_add(fields, f);
	}
	cu_json_set(ch, "fields", fields);
	return CU_STAGE_CHALLENGE;
}

/* The id of the user whose own username a username field may keep; NULL for none. */
static const char *
self_id(struct cu_flow_exec *fx)
{
	if (fx->fx_pending_user != NULL)
		return fx->fx_pending_user->us_id_text;
	if (fx->fx_session_user != NULL)
		return fx->fx_session_user->us_id_text;
	return NULL;
}

/* The validation policies, run in mode "all" with the answers as prompt_data: 1 pass, 0 not
 * (messages recorded), -1 failure. */
static int
run_policies(struct cu_flow_exec *fx, struct json_object *attrs)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_policy_request rq;
	struct cu_policy_result pr;
	struct json_object *pctx;
	const char **uuids;
	PGresult *res = NULL;
	size_t i, n, nmsg;

	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROMPT_POLICIES, 1,
	               &fx->fx_stage_uuid) != CU_OK)
		return -1;
	n = (size_t)PQntuples(res);
	if (n == 0)
		return 1;
	uuids = cu_arena_alloc(cx->cx_arena, sizeof(*uuids) * n);
	for (i = 0; i < n; i++)
		uuids[i] = cu_db_value(res, (int)i, 0);
	/* The plan context as policies see it elsewhere, with prompt_data the new answers. */
	pctx = cu_json_object(cx->cx_arena);
	if (fx->fx_context != NULL) {
		json_object_object_foreach(fx->fx_context, k, v)
		{
			json_object_object_add(pctx, k, json_object_get(v));
		}
	}
	json_object_object_add(pctx, "prompt_data", json_object_get(attrs));
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = fx->fx_pending_user != NULL ? fx->fx_pending_user : fx->fx_session_user;
	rq.pr_context = pctx;
	if (cu_policy_engine_run_list(cx, (const char *const *)uuids, n, &rq, &pr) != CU_OK)
		return -1;
	if (pr.pr_passing)
		return 1;
	nmsg = pr.pr_messages != NULL ? json_object_array_length(pr.pr_messages) : 0;
	for (i = 0; i < nmsg; i++)
		(void)cu_flow_invalid(
		    fx, NULL, value_text(json_object_array_get_idx(pr.pr_messages, i)), "invalid");
	if (nmsg == 0)
		(void)cu_flow_invalid(fx, NULL, "The values could not be accepted.", "invalid");
	return 0;
}

static enum cu_stage_result
prompt_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct prompt_def *defs = NULL;
	struct prompt_user pu;
	struct json_object *attrs, *merged, *old;
	const char *pw[2] = {NULL, NULL};
	size_t i, n = 0, npw = 0;
	int bad = 0, rc;

	if (load_fields(fx, &pu, &defs, &n) != 0)
		return CU_STAGE_FAIL;
	attrs = cu_json_object(cx->cx_arena);
	for (i = 0; i < n; i++) {
		const struct prompt_def *d = &defs[i];
		struct cu_prompt_field f;
		struct cu_prompt_error err;
		struct json_object *v = NULL, *val = NULL;
		int present;

		if (cu_prompt_type_forced(d->pd_type))
			continue;
		present = json_object_object_get_ex(body, d->pd_key, &v);
		f.pf_key = d->pd_key;
		f.pf_type = d->pd_type;
		f.pf_required = d->pd_required;
		f.pf_default = d->pd_current[0] != '\0' ? d->pd_current : NULL;
		f.pf_choices = d->pd_choices;
		f.pf_nchoices = d->pd_nchoices;
		if (cu_prompt_value_check(cx->cx_arena, &f, present, v, &val, &err) != 0) {
			(void)cu_flow_invalid(fx, d->pd_key, err.pe_msg, err.pe_code);
			bad = 1;
			continue;
		}
		if (val == NULL)
			continue;
		if (strcmp(d->pd_type, "username") == 0 &&
		    json_object_is_type(val, json_type_string)) {
			const char *p[2] = {json_object_get_string(val), self_id(fx)};
			PGresult *res = NULL;

			if (cu_db_exec(cx->cx_db, cx->cx_arena, &res,
			               CU_DB_STMT_PROMPT_USERNAME_TAKEN, 2, p) != CU_OK)
				return CU_STAGE_FAIL;
			if (PQntuples(res) > 0) {
				(void)cu_flow_invalid(fx, d->pd_key, "Username is already taken.",
				                      "invalid");
				bad = 1;
				continue;
			}
		}
		json_object_object_add(attrs, d->pd_key, json_object_get(val));
	}
	if (bad)
		return CU_STAGE_INVALID;
	/* Static, hidden and read-only fields keep the value the stage gave them, whatever came
	 * back: a hidden field is data the flow set, not the browser. */
	for (i = 0; i < n; i++) {
		const struct prompt_def *d = &defs[i];
		const char *v = d->pd_current;

		if (!cu_prompt_type_forced(d->pd_type))
			continue;
		if (v[0] == '\0' &&
		    (strcmp(d->pd_type, "static") == 0 || strcmp(d->pd_type, "hidden") == 0))
			v = d->pd_placeholder;
		json_object_object_add(attrs, d->pd_key, json_object_new_string(v));
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = NULL;

		if (strcmp(defs[i].pd_type, "password") != 0)
			continue;
		if (npw < 2)
			pw[npw] = json_object_object_get_ex(attrs, defs[i].pd_key, &v) && v != NULL
			              ? json_object_get_string(v)
			              : "";
		npw++;
	}
	if (npw == 2 && !cu_crypto_ct_eq(pw[0], strlen(pw[0]), pw[1], strlen(pw[1])))
		return cu_flow_invalid(fx, NULL, "Passwords don't match.", "invalid");
	rc = run_policies(fx, attrs);
	if (rc < 0)
		return CU_STAGE_FAIL;
	if (rc == 0)
		return CU_STAGE_INVALID;
	merged = cu_json_object(cx->cx_arena);
	if ((old = prompt_data(fx)) != NULL) {
		json_object_object_foreach(old, k, v)
		{
			json_object_object_add(merged, k, json_object_get(v));
		}
	}
	json_object_object_foreach(attrs, k, v)
	{
		json_object_object_add(merged, k, json_object_get(v));
	}
	cu_flow_ctx_set(fx, "prompt_data", merged);
	return CU_STAGE_NEXT;
}

const struct cu_stage_type cu_stage_prompt = {"promptstage", "ak-stage-prompt", prompt_challenge,
                                              prompt_respond};
