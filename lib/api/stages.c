/*
 * /api/v3/stages/ as authentik's StageViewSet and its kinds' viewsets
 * (authentik/flows/api/stages.py, authentik/stages/<kind>/api.py), PromptViewSet,
 * InvitationViewSet, and /api/v3/core/user_consent/ (UserConsentViewSet).
 *
 * Every stage is one row of stages: type names the kind, config holds the kind's fields by
 * their API names (sql/0050_flows.sql). One table below declares each kind's fields (type,
 * default, choices, what a reference names); the same handlers validate a body against it,
 * store the defaults merged with what was sent, and serialise the kind's fields with defaults
 * filled in for rows that lack some (the default flows store only what differs). A prompt
 * stage's prompts and validation policies live in their own tables, as authentik's many-to-many
 * fields do.
 */
#include "api/stages.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "mem.h"
#include "server.h"

#define STAGES_PREFIX "/api/v3/stages/"
#define PERM_VIEW_STAGE "authentik_flows.view_stage"
#define PERM_DELETE_STAGE "authentik_flows.delete_stage"
#define PROMPT_APP "authentik_stages_prompt"
#define INVITATION_APP "authentik_stages_invitation"
#define CONSENT_APP "authentik_stages_consent"

/* Text fields are bounded (authentik's are unbounded TextFields): long enough for any message,
 * template path or host, short enough that one body cannot bloat every plan that copies it. */
#define STAGE_MAX_TEXT 4096
/* References one body may name (a prompt stage's prompts, an identification's sources). */
#define STAGE_MAX_REFS 256
/* Fields one kind declares (identification has the most, 13). */
#define STAGE_MAX_FIELDS 16

enum field_type {
	FT_TEXT,     /* a string; FF_BLANK allows "" */
	FT_BOOL,     /* true or false */
	FT_INT,      /* a 32-bit integer */
	FT_UINT,     /* a 32-bit integer >= 0 */
	FT_CHOICE,   /* one of fd_choices */
	FT_CHOICES,  /* a list of fd_choices */
	FT_DURATION, /* authentik's "hours=1;minutes=2" */
	FT_EMAIL,    /* an e-mail address */
	FT_REF,      /* a UUID naming an fd_ref, or null */
	FT_REFS,     /* a list of UUIDs naming fd_refs */
};

#define FF_BLANK 0x1     /* FT_TEXT: "" allowed */
#define FF_SECRET 0x2    /* write-only: stored, never shown, not in audit diffs */
#define FF_REQUIRED 0x4  /* required on create and PUT */
#define FF_LINKED 0x8    /* FT_REFS kept in a table of its own, not in config */
#define FF_NONEMPTY 0x10 /* FT_REFS: an empty list is refused */

struct field {
	const char *fd_name;
	enum field_type fd_type;
	const char *fd_default; /* JSON text; NULL: no default (a required field) */
	int fd_flags;
	const char *const *fd_choices;
	/* FT_REF, FT_REFS: "flow", "group", "prompt", "policy", "source" or a stage type */
	const char *fd_ref;
};

struct kind;
typedef void kind_check_fn(const struct kind *k, struct cu_api_errors *e, struct json_object *eff);

struct kind {
	const char *kd_path; /* under /api/v3/stages/ */
	const char *kd_app;  /* app label: authentik_stages_identification */
	const char *kd_type; /* model name, stages.type: identificationstage */
	const char *kd_component;
	const char *kd_verbose;
	const char *kd_verbose_plural;
	const char *kd_doc; /* the model's docstring: types/ shows it as the description */
	const struct field *kd_fields;
	size_t kd_nfields;
	kind_check_fn *kd_check; /* the serializer's validate(), or NULL */
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const user_fields_choices[] = {"email", "username", "upn", NULL};
static const char *const backends_choices[] = {
    "authentik.core.auth.InbuiltBackend", "authentik.core.auth.TokenBackend",
    "authentik.sources.ldap.auth.LDAPBackend", "authentik.sources.kerberos.auth.KerberosBackend",
    NULL};
static const char *const network_binding_choices[] = {"no_binding", "bind_asn", "bind_asn_network",
                                                      "bind_asn_network_ip", NULL};
static const char *const geoip_binding_choices[] = {
    "no_binding", "bind_continent", "bind_continent_country", "bind_continent_country_city", NULL};
static const char *const redirect_mode_choices[] = {"static", "flow", NULL};
static const char *const consent_mode_choices[] = {"always_require", "permanent", "expiring", NULL};
static const char *const user_creation_mode_choices[] = {"never_create", "create_when_required",
                                                         "always_create", NULL};
static const char *const user_type_choices[] = {"internal", "external", "service_account",
                                                "internal_service_account", NULL};
static const char *const email_template_choices[] = {
    "email/password_reset.html",     "email/account_confirmation.html", "email/email_otp.html",
    "email/event_notification.html", "email/invitation.html",           NULL};
/* Their labels, as email/templates/ shows them. */
static const char *const email_template_labels[] = {
    "Password Reset", "Account Confirmation", "Email OTP", "Event Notification", "Invitation"};

/* Defaults from authentik's models (authentik/stages/<kind>/models.py). */
static const struct field consent_fields[] = {
    {"mode", FT_CHOICE, "\"expiring\"", 0, consent_mode_choices, NULL},
    {"consent_expire_in", FT_DURATION, "\"weeks=4\"", 0, NULL, NULL},
};

static const struct field deny_fields[] = {
    {"deny_message", FT_TEXT, "\"\"", FF_BLANK, NULL, NULL},
};

static const struct field dummy_fields[] = {
    {"throw_error", FT_BOOL, "false", 0, NULL, NULL},
};

static const struct field email_fields[] = {
    {"use_global_settings", FT_BOOL, "false", 0, NULL, NULL},
    {"host", FT_TEXT, "\"localhost\"", 0, NULL, NULL},
    {"port", FT_INT, "25", 0, NULL, NULL},
    {"username", FT_TEXT, "\"\"", FF_BLANK, NULL, NULL},
    {"password", FT_TEXT, "\"\"", FF_BLANK | FF_SECRET, NULL, NULL},
    {"use_tls", FT_BOOL, "false", 0, NULL, NULL},
    {"use_ssl", FT_BOOL, "false", 0, NULL, NULL},
    {"timeout", FT_INT, "10", 0, NULL, NULL},
    {"from_address", FT_EMAIL, "\"system@authentik.local\"", 0, NULL, NULL},
    {"token_expiry", FT_DURATION, "\"minutes=30\"", 0, NULL, NULL},
    {"subject", FT_TEXT, "\"authentik\"", 0, NULL, NULL},
    {"template", FT_CHOICE, "\"email/password_reset.html\"", 0, email_template_choices, NULL},
    {"activate_user_on_success", FT_BOOL, "false", 0, NULL, NULL},
    {"recovery_max_attempts", FT_UINT, "5", 0, NULL, NULL},
    {"recovery_cache_timeout", FT_DURATION, "\"minutes=5\"", 0, NULL, NULL},
};

static const struct field identification_fields[] = {
    {"user_fields", FT_CHOICES, "[]", 0, user_fields_choices, NULL},
    {"password_stage", FT_REF, "null", 0, NULL, "passwordstage"},
    {"captcha_stage", FT_REF, "null", 0, NULL, "captchastage"},
    {"case_insensitive_matching", FT_BOOL, "true", 0, NULL, NULL},
    {"show_matched_user", FT_BOOL, "true", 0, NULL, NULL},
    {"enrollment_flow", FT_REF, "null", 0, NULL, "flow"},
    {"recovery_flow", FT_REF, "null", 0, NULL, "flow"},
    {"passwordless_flow", FT_REF, "null", 0, NULL, "flow"},
    {"sources", FT_REFS, "[]", 0, NULL, "source"},
    {"show_source_labels", FT_BOOL, "false", 0, NULL, NULL},
    {"pretend_user_exists", FT_BOOL, "true", 0, NULL, NULL},
    {"enable_remember_me", FT_BOOL, "false", 0, NULL, NULL},
    {"webauthn_stage", FT_REF, "null", 0, NULL, "authenticatorwebauthnstage"},
};

static const struct field invitation_fields[] = {
    {"continue_flow_without_invitation", FT_BOOL, "false", 0, NULL, NULL},
};

static const struct field password_fields[] = {
    {"backends", FT_CHOICES, NULL, FF_REQUIRED, backends_choices, NULL},
    {"configure_flow", FT_REF, "null", 0, NULL, "flow"},
    {"failed_attempts_before_cancel", FT_INT, "5", 0, NULL, NULL},
    {"allow_show_password", FT_BOOL, "false", 0, NULL, NULL},
};

static const struct field prompt_fields[] = {
    {"fields", FT_REFS, NULL, FF_REQUIRED | FF_LINKED | FF_NONEMPTY, NULL, "prompt"},
    {"validation_policies", FT_REFS, NULL, FF_LINKED, NULL, "policy"},
};

static const struct field redirect_fields[] = {
    {"keep_context", FT_BOOL, "true", 0, NULL, NULL},
    {"mode", FT_CHOICE, NULL, FF_REQUIRED, redirect_mode_choices, NULL},
    {"target_static", FT_TEXT, "\"\"", FF_BLANK, NULL, NULL},
    {"target_flow", FT_REF, "null", 0, NULL, "flow"},
};

static const struct field user_login_fields[] = {
    {"session_duration", FT_DURATION, "\"seconds=0\"", 0, NULL, NULL},
    {"terminate_other_sessions", FT_BOOL, "false", 0, NULL, NULL},
    {"remember_me_offset", FT_DURATION, "\"seconds=0\"", 0, NULL, NULL},
    {"network_binding", FT_CHOICE, "\"no_binding\"", 0, network_binding_choices, NULL},
    {"geoip_binding", FT_CHOICE, "\"no_binding\"", 0, geoip_binding_choices, NULL},
    {"remember_device", FT_DURATION, "\"days=30\"", 0, NULL, NULL},
};

static const struct field user_write_fields[] = {
    {"user_creation_mode", FT_CHOICE, "\"create_when_required\"", 0, user_creation_mode_choices,
     NULL},
    {"create_users_as_inactive", FT_BOOL, "false", 0, NULL, NULL},
    {"create_users_group", FT_REF, "null", 0, NULL, "group"},
    {"user_type", FT_CHOICE, "\"external\"", 0, user_type_choices, NULL},
    {"user_path_template", FT_TEXT, "\"\"", FF_BLANK, NULL, NULL},
};

static kind_check_fn identification_check, redirect_check;

/* In the order of their verbose names, the order of authentik's types/. */
static const struct kind kinds[] = {
    {"consent/", "authentik_stages_consent", "consentstage", "ak-stage-consent-form",
     "Consent Stage", "Consent Stages", "Prompt the user for confirmation.", consent_fields,
     NFIELDS(consent_fields), NULL},
    {"deny/", "authentik_stages_deny", "denystage", "ak-stage-deny-form", "Deny Stage",
     "Deny Stages", "Cancels the current flow.", deny_fields, NFIELDS(deny_fields), NULL},
    {"dummy/", "authentik_stages_dummy", "dummystage", "ak-stage-dummy-form", "Dummy Stage",
     "Dummy Stages", "Used for debugging.", dummy_fields, NFIELDS(dummy_fields), NULL},
    {"email/", "authentik_stages_email", "emailstage", "ak-stage-email-form", "Email Stage",
     "Email Stages", "Send an Email to the user with a token to confirm their Email address.",
     email_fields, NFIELDS(email_fields), NULL},
    {"identification/", "authentik_stages_identification", "identificationstage",
     "ak-stage-identification-form", "Identification Stage", "Identification Stages",
     "Identify the user for authentication.", identification_fields, NFIELDS(identification_fields),
     identification_check},
    {"invitation/stages/", "authentik_stages_invitation", "invitationstage",
     "ak-stage-invitation-form", "Invitation Stage", "Invitation Stages",
     "Simplify enrollment; allow users to use a single\n    link to create their user with "
     "pre-defined parameters.",
     invitation_fields, NFIELDS(invitation_fields), NULL},
    {"password/", "authentik_stages_password", "passwordstage", "ak-stage-password-form",
     "Password Stage", "Password Stages",
     "Prompt the user for their password, and validate it against the configured backends.",
     password_fields, NFIELDS(password_fields), NULL},
    {"prompt/stages/", "authentik_stages_prompt", "promptstage", "ak-stage-prompt-form",
     "Prompt Stage", "Prompt Stages", "Prompt the user to enter information.", prompt_fields,
     NFIELDS(prompt_fields), NULL},
    {"redirect/", "authentik_stages_redirect", "redirectstage", "ak-stage-redirect-form",
     "Redirect Stage", "Redirect Stages",
     "Redirect the user to another flow, potentially with all gathered context.", redirect_fields,
     NFIELDS(redirect_fields), redirect_check},
    {"user_login/", "authentik_stages_user_login", "userloginstage", "ak-stage-user-login-form",
     "User Login Stage", "User Login Stages", "Attach the pending user to the current session.",
     user_login_fields, NFIELDS(user_login_fields), NULL},
    {"user_logout/", "authentik_stages_user_logout", "userlogoutstage", "ak-stage-user-logout-form",
     "User Logout Stage", "User Logout Stages", "Ends the user's session.", NULL, 0, NULL},
    {"user_write/", "authentik_stages_user_write", "userwritestage", "ak-stage-user-write-form",
     "User Write Stage", "User Write Stages",
     "Write pending data into the pending user, or if no user exists,\n    create a new user "
     "with the data.",
     user_write_fields, NFIELDS(user_write_fields), NULL},
};

#define NKINDS NFIELDS(kinds)

/* ---- the kinds as SQL sees them ---- */

/* Parses a default of the table (constant, always valid JSON); arena-owned. */
static struct json_object *
default_value(struct cu_ctx *cx, const struct field *fd)
{
	struct json_object *v = NULL;

	if (fd->fd_default == NULL)
		return NULL;
	if (cu_json_parse(cx->cx_arena, fd->fd_default, strlen(fd->fd_default), &v) != CU_OK)
		cu_die("stage field default");
	return v == NULL ? NULL : json_object_get(v);
}

/* The kinds as CU_SQL_STAGE's M (lib/stmts/stages_api.h): JSON text, arena-owned. */
static const char *
kinds_meta(struct cu_ctx *cx)
{
	struct json_object *all = cu_json_object(cx->cx_arena);
	size_t i, j;

	for (i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];
		struct json_object *m = json_object_new_object();
		struct json_object *fields = json_object_new_object();
		struct json_object *order = json_object_new_array();

		if (k->kd_nfields > STAGE_MAX_FIELDS)
			cu_die("stage kind table: too many fields");
		cu_json_set_string(m, "component", k->kd_component);
		cu_json_set_string(m, "verbose_name", k->kd_verbose);
		cu_json_set_string(m, "verbose_name_plural", k->kd_verbose_plural);
		cu_json_set_string(m, "meta_model_name",
		                   cu_arena_printf(cx->cx_arena, "%s.%s", k->kd_app, k->kd_type));
		for (j = 0; j < k->kd_nfields; j++) {
			const struct field *fd = &k->kd_fields[j];

			if (fd->fd_flags & (FF_SECRET | FF_LINKED))
				continue;
			cu_json_set(fields, fd->fd_name, default_value(cx, fd));
			json_object_array_add(order, json_object_new_string(fd->fd_name));
		}
		cu_json_set(m, "fields", fields);
		cu_json_set(m, "order", order);
		cu_json_set(all, k->kd_type, m);
	}
	return cu_arena_strdup(cx->cx_arena, cu_json_text(all, NULL));
}

/*
 * s as a quoted SQL literal. Only for the constant kind table above, which a list's row
 * expression needs inline (a list's parameters are numbered by its filters); outside input
 * always travels as a parameter.
 */
static const char *
sql_literal(struct cu_ctx *cx, const char *s)
{
	size_t n = 2, i, o = 0;
	char *out;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 2 : 1;
	out = cu_arena_alloc(cx->cx_arena, n + 1);
	out[o++] = '\'';
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'')
			out[o++] = '\'';
		out[o++] = s[i];
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* FROM stages s with the kinds as cu_meta.m. */
static const char *
kinds_from(struct cu_ctx *cx)
{
	return cu_arena_printf(cx->cx_arena,
	                       "FROM stages s CROSS JOIN (SELECT %s::jsonb AS m) cu_meta",
	                       sql_literal(cx, kinds_meta(cx)));
}

/* The kind whose path the request is under, or NULL. */
static const struct kind *
kind_of_request(struct cu_ctx *cx)
{
	const char *path = cx->cx_req->rq_path;
	size_t i, n = strlen(STAGES_PREFIX);

	if (strncmp(path, STAGES_PREFIX, n) != 0)
		return NULL;
	for (i = 0; i < NKINDS; i++)
		if (strncmp(path + n, kinds[i].kd_path, strlen(kinds[i].kd_path)) == 0)
			return &kinds[i];
	return NULL;
}

static const struct kind *
kind_of_type(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < NKINDS; i++)
		if (strcmp(kinds[i].kd_type, type) == 0)
			return &kinds[i];
	return NULL;
}

static const char *
kind_perm(struct cu_ctx *cx, const struct kind *k, const char *verb)
{
	return cu_arena_printf(cx->cx_arena, "%s.%s_%s", k->kd_app, verb, k->kd_type);
}

/* ---- reading a body ---- */

/* The references a body names, checked together in one query once the body is read. */
struct refs {
	const char *rf_kind[STAGE_MAX_REFS];
	const char *rf_id[STAGE_MAX_REFS];
	const char *rf_field[STAGE_MAX_REFS];
	size_t rf_n;
};

/* A stage body read against its kind. */
struct stage_input {
	const char *si_name;
	struct json_object *si_eff; /* the config to store: defaults, stored, then sent fields */
	/* FF_LINKED lists sent, by field index, as PostgreSQL array literals (NULL: not sent) */
	const char *si_linked[STAGE_MAX_FIELDS];
	struct refs si_refs;
};

/* How Python would print v in DRF's '"{input}" is not a valid choice.'. */
static const char *
py_str(struct json_object *v)
{
	if (v == NULL)
		return "None";
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "True" : "False";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return cu_json_text(v, NULL);
}

static int
in_choices(const char *s, const char *const *choices)
{
	size_t i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(s, choices[i]) == 0)
			return 1;
	return 0;
}

/* The key's value: 1 present (*v may be NULL for JSON null), 0 absent. */
static int
body_get(struct json_object *body, const char *key, struct json_object **v)
{
	*v = NULL;
	return json_object_object_get_ex(body, key, v);
}

static const char *
choice_msg(struct cu_ctx *cx, struct json_object *v)
{
	return cu_arena_printf(cx->cx_arena, "\"%.256s\" is not a valid choice.", py_str(v));
}

static const char *
not_list_msg(struct cu_ctx *cx, struct json_object *v)
{
	return cu_arena_printf(cx->cx_arena, "Expected a list of items but got type \"%s\".",
	                       cu_api_py_type(v));
}

/* DRF's error for a primary key that is no UUID string. */
static const char *
pk_msg(struct cu_ctx *cx, struct json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_string))
		return cu_arena_printf(cx->cx_arena,
		                       "\xe2\x80\x9c%.64s\xe2\x80\x9d is not a valid UUID.",
		                       json_object_get_string(v));
	return cu_arena_printf(cx->cx_arena, "Incorrect type. Expected pk value, received %s.",
	                       cu_api_py_type(v));
}

/* A UUID as stored: lower case, so that filters and comparisons see one spelling. */
static const char *
uuid_lower(struct cu_ctx *cx, const char *s)
{
	char *out = cu_arena_strdup(cx->cx_arena, s);
	size_t i;

	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

static int
ref_add(struct refs *r, const char *kind, const char *id, const char *field)
{
	if (r->rf_n >= STAGE_MAX_REFS)
		return -1;
	r->rf_kind[r->rf_n] = kind;
	r->rf_id[r->rf_n] = id;
	r->rf_field[r->rf_n] = field;
	r->rf_n++;
	return 0;
}

/* A top-level domain as Django's EmailValidator takes it: 2 to 63 letters or hyphens. */
static int
tld_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/*
 * Django's EmailValidator in shape: a local part of printable characters without spaces, "@",
 * and a domain of dot-separated labels (letters, digits, hyphens; not starting or ending with
 * a hyphen) ending in a top-level domain of letters, or "localhost".
 */
static int
valid_email(const char *s)
{
	const char *at = strrchr(s, '@'), *p, *label;

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) > 254)
		return 0;
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= ' ' || *p == '@' || *p == '"' || *p == '\\' || *p == '(' ||
		    *p == ')' || *p == ',' || *p == ':' || *p == ';' || *p == '<' || *p == '>' ||
		    *p == '[' || *p == ']' || (unsigned char)*p >= 0x7f)
			return 0;
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	if (strcmp(at + 1, "localhost") == 0)
		return 1;
	if (strchr(at + 1, '.') == NULL)
		return 0;
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-' || p - label > 63)
				return 0;
			if (*p == '\0')
				return tld_ok(label, (size_t)(p - label));
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return 0;
		}
	}
}

/* A list of choices; DRF's ListField reports each bad element under its index. */
static void
read_choices(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
             const struct field *fd, struct json_object *eff)
{
	struct json_object *v, *out, *errs = NULL;
	size_t i, n;

	if (!body_get(body, fd->fd_name, &v))
		return;
	if (v == NULL) {
		cu_api_error(e, fd->fd_name, "This field may not be null.");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		cu_api_error(e, fd->fd_name, not_list_msg(cx, v));
		return;
	}
	n = json_object_array_length(v);
	if (n > STAGE_MAX_REFS) {
		cu_api_error(e, fd->fd_name, "Ensure this field has no more than 256 elements.");
		return;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(v, i), *msgs;

		if (x != NULL && json_object_is_type(x, json_type_string) &&
		    in_choices(json_object_get_string(x), fd->fd_choices)) {
			json_object_array_add(out,
			                      json_object_new_string(json_object_get_string(x)));
			continue;
		}
		if (errs == NULL)
			errs = json_object_new_object();
		msgs = json_object_new_array();
		json_object_array_add(
		    msgs, json_object_new_string(x == NULL ? "This field may not be null."
		                                           : choice_msg(cx, x)));
		json_object_object_add(errs, cu_arena_printf(cx->cx_arena, "%zu", i), msgs);
	}
	if (errs != NULL) {
		json_object_put(out);
		json_object_object_add(e->ae_obj, fd->fd_name, errs);
		e->ae_count++;
		return;
	}
	cu_json_set(eff, fd->fd_name, out);
}

/* One reference: null, or a UUID naming an fd_ref (checked later, with the others). */
static void
read_ref(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
         const struct field *fd, struct stage_input *in)
{
	struct json_object *v;
	const char *id;

	if (!body_get(body, fd->fd_name, &v))
		return;
	if (v == NULL) {
		cu_json_set(in->si_eff, fd->fd_name, NULL);
		return;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    !cu_api_is_uuid(json_object_get_string(v))) {
		cu_api_error(e, fd->fd_name, pk_msg(cx, v));
		return;
	}
	id = uuid_lower(cx, json_object_get_string(v));
	if (ref_add(&in->si_refs, fd->fd_ref, id, fd->fd_name) != 0) {
		cu_api_error(e, fd->fd_name, "Too many references.");
		return;
	}
	cu_json_set_string(in->si_eff, fd->fd_name, id);
}

/* A list of references (a many-to-many field). */
static void
read_refs(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          const struct field *fd, size_t idx, struct stage_input *in)
{
	struct json_object *v, *out;
	const char **ids;
	size_t i, n;

	if (!body_get(body, fd->fd_name, &v))
		return;
	if (v == NULL) {
		cu_api_error(e, fd->fd_name, "This field may not be null.");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		cu_api_error(e, fd->fd_name, not_list_msg(cx, v));
		return;
	}
	n = json_object_array_length(v);
	if (n == 0 && (fd->fd_flags & FF_NONEMPTY)) {
		cu_api_error(e, fd->fd_name, "This list may not be empty.");
		return;
	}
	if (n > STAGE_MAX_REFS) {
		cu_api_error(e, fd->fd_name, "Ensure this field has no more than 256 elements.");
		return;
	}
	ids = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*ids));
	for (i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(v, i);

		if (x == NULL || !json_object_is_type(x, json_type_string) ||
		    !cu_api_is_uuid(json_object_get_string(x))) {
			cu_api_error(e, fd->fd_name, pk_msg(cx, x));
			return;
		}
		ids[i] = uuid_lower(cx, json_object_get_string(x));
		if (ref_add(&in->si_refs, fd->fd_ref, ids[i], fd->fd_name) != 0) {
			cu_api_error(e, fd->fd_name, "Too many references.");
			return;
		}
	}
	if (fd->fd_flags & FF_LINKED) {
		if (idx < STAGE_MAX_FIELDS)
			in->si_linked[idx] = cu_api_pg_array(cx, ids, n);
		return;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_string(ids[i]));
	cu_json_set(in->si_eff, fd->fd_name, out);
}

/* One field of the kind from body into in (errors into e). */
static void
read_field(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
           const struct field *fd, size_t idx, struct stage_input *in)
{
	struct json_object *v;
	const char *s = NULL;
	long long secs;
	int64_t n;
	int b;

	switch (fd->fd_type) {
	case FT_TEXT:
		if (cu_api_field_string(e, body, fd->fd_name, STAGE_MAX_TEXT,
		                        fd->fd_flags & FF_BLANK, 0, &s) > 0)
			cu_json_set_string(in->si_eff, fd->fd_name, s);
		return;
	case FT_BOOL:
		if (cu_api_field_bool(e, body, fd->fd_name, &b) > 0)
			cu_json_set_bool(in->si_eff, fd->fd_name, b);
		return;
	case FT_INT:
	case FT_UINT:
		if (cu_api_field_int(e, body, fd->fd_name,
		                     fd->fd_type == FT_UINT ? 0 : -2147483648LL, 2147483647LL,
		                     &n) > 0)
			cu_json_set_int(in->si_eff, fd->fd_name, n);
		return;
	case FT_CHOICE:
		if (!body_get(body, fd->fd_name, &v))
			return;
		if (v == NULL)
			cu_api_error(e, fd->fd_name, "This field may not be null.");
		else if (!json_object_is_type(v, json_type_string) ||
		         !in_choices(json_object_get_string(v), fd->fd_choices))
			cu_api_error(e, fd->fd_name, choice_msg(cx, v));
		else
			cu_json_set_string(in->si_eff, fd->fd_name, json_object_get_string(v));
		return;
	case FT_CHOICES:
		read_choices(cx, e, body, fd, in->si_eff);
		return;
	case FT_DURATION:
		if (cu_api_field_string(e, body, fd->fd_name, 256, 0, 0, &s) <= 0)
			return;
		if (cu_config_timedelta(s, &secs) != 0)
			cu_api_error(e, fd->fd_name,
			             cu_arena_printf(cx->cx_arena,
			                             "%s is not in the correct format of "
			                             "'hours=3;minutes=1'.",
			                             s));
		else
			cu_json_set_string(in->si_eff, fd->fd_name, s);
		return;
	case FT_EMAIL:
		if (cu_api_field_string(e, body, fd->fd_name, 254, 0, 0, &s) <= 0)
			return;
		if (!valid_email(s))
			cu_api_error(e, fd->fd_name, "Enter a valid email address.");
		else
			cu_json_set_string(in->si_eff, fd->fd_name, s);
		return;
	case FT_REF:
		read_ref(cx, e, body, fd, in);
		return;
	case FT_REFS:
		read_refs(cx, e, body, fd, idx, in);
		return;
	}
}

/* The body's name and kind fields over in->si_eff; required ones checked when required. The
 * references are checked, and the kind's validate() run, by the caller. */
static void
read_stage(struct cu_ctx *cx, const struct kind *k, struct cu_api_errors *e,
           struct json_object *body, int required, struct stage_input *in)
{
	size_t i;

	if (required && !json_object_object_get_ex(body, "name", NULL))
		cu_api_error(e, "name", "This field is required.");
	(void)cu_api_field_string(e, body, "name", STAGE_MAX_TEXT, 0, 0, &in->si_name);
	for (i = 0; i < k->kd_nfields; i++) {
		const struct field *fd = &k->kd_fields[i];

		if (required && (fd->fd_flags & FF_REQUIRED) &&
		    !json_object_object_get_ex(body, fd->fd_name, NULL)) {
			cu_api_error(e, fd->fd_name, "This field is required.");
			continue;
		}
		read_field(cx, e, body, fd, i, in);
	}
}

/* The length of eff's array under key (0 when absent or no array). */
static size_t
eff_len(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_array))
		return 0;
	return json_object_array_length(v);
}

static const char *
eff_str(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* IdentificationStageSerializer.validate. */
static void
identification_check(const struct kind *k, struct cu_api_errors *e, struct json_object *eff)
{
	(void)k;
	if (eff_len(eff, "user_fields") < 1 && eff_len(eff, "sources") < 1)
		cu_api_error(e, NULL,
		             "When no user fields are selected, at least one source must be "
		             "selected");
}

/* RedirectStageSerializer.validate, over the stored fields and the sent ones together. */
static void
redirect_check(const struct kind *k, struct cu_api_errors *e, struct json_object *eff)
{
	const char *mode = eff_str(eff, "mode"), *target = eff_str(eff, "target_static");

	(void)k;
	if (mode != NULL && strcmp(mode, "static") == 0 && (target == NULL || target[0] == '\0'))
		cu_api_error(e, NULL, "Target URL should be present when mode is Static.");
	if (mode != NULL && strcmp(mode, "flow") == 0 && eff_str(eff, "target_flow") == NULL)
		cu_api_error(e, NULL, "Target Flow should be present when mode is Flow.");
}

/* The defaults of k's stored fields, a new object for a stage's config. */
static struct json_object *
kind_defaults(struct cu_ctx *cx, const struct kind *k)
{
	struct json_object *eff = cu_json_object(cx->cx_arena);
	size_t i;

	for (i = 0; i < k->kd_nfields; i++) {
		const struct field *fd = &k->kd_fields[i];

		if ((fd->fd_flags & FF_LINKED) || fd->fd_default == NULL)
			continue;
		cu_json_set(eff, fd->fd_name, default_value(cx, fd));
	}
	return eff;
}

int
cu_api_stages_read_body(struct cu_ctx *cx, const char *type, struct json_object *body,
                        struct json_object **config, struct json_object **errors)
{
	const struct kind *k = kind_of_type(type);
	struct stage_input in;
	struct cu_api_errors e;

	*config = NULL;
	*errors = NULL;
	if (k == NULL)
		return -1;
	memset(&in, 0, sizeof(in));
	in.si_eff = kind_defaults(cx, k);
	cu_api_errors_init(&e, cx);
	read_stage(cx, k, &e, body, 1, &in);
	if (!cu_api_errors_any(&e) && k->kd_check != NULL)
		k->kd_check(k, &e, in.si_eff);
	if (cu_api_errors_any(&e)) {
		*errors = e.ae_obj;
		return 1;
	}
	*config = in.si_eff;
	return 0;
}

/*
 * Inside the transaction: every reference in->si_refs names an object of its kind. 0 checked
 * (missing ones recorded in e as DRF's PrimaryKeyRelatedField does, the first per field), -1
 * having rolled back and answered.
 */
static int
check_refs(struct cu_ctx *cx, struct cu_api_errors *e, const struct refs *r)
{
	const char *params[2];
	PGresult *res = NULL;
	enum cu_err err;
	int i;

	if (r->rf_n == 0)
		return 0;
	params[0] = cu_api_pg_array(cx, r->rf_kind, r->rf_n);
	params[1] = cu_api_pg_array(cx, r->rf_id, r->rf_n);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_API_REFS_MISSING, 2,
	                 params);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	for (i = 0; i < PQntuples(res); i++) {
		long long n = strtoll(cu_db_value(res, i, 0), NULL, 10);

		if (n < 1 || (size_t)n > r->rf_n ||
		    json_object_object_get_ex(e->ae_obj, r->rf_field[n - 1], NULL))
			continue;
		cu_api_error(e, r->rf_field[n - 1],
		             cu_arena_printf(cx->cx_arena,
		                             "Invalid pk \"%s\" - object does not exist.",
		                             r->rf_id[n - 1]));
	}
	return 0;
}

/* ---- loading, writing back ---- */

/* One object a statement loaded; columns 0 its JSON, 1 pk, 2 snapshot, 3 name, then (stages)
 * 4 type and 5 config, (consents) 4 the owner's user id. */
struct row {
	PGresult *rw_res;
	const char *rw_pk;
	const char *rw_snapshot;
	const char *rw_name;
	const char *rw_col4;
	const char *rw_col5;
};

/* Runs st for key (and extra as $2 when not NULL): 0 with *r loaded, or -1 having answered
 * (404 for no row, 503). */
static int
row_exec(struct cu_ctx *cx, enum cu_db_stmt st, const char *key, const char *extra, struct row *r)
{
	const char *params[2] = {key, extra};
	PGresult *res = NULL;
	enum cu_err err;

	memset(r, 0, sizeof(*r));
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, extra != NULL ? 2 : 1, params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	r->rw_res = res;
	r->rw_pk = cu_db_value(res, 0, 1);
	r->rw_snapshot = cu_db_value(res, 0, 2);
	r->rw_name = cu_db_value(res, 0, 3);
	r->rw_col4 = PQnfields(res) > 4 ? cu_db_value(res, 0, 4) : NULL;
	r->rw_col5 = PQnfields(res) > 5 ? cu_db_value(res, 0, 5) : NULL;
	return 0;
}

/* The path parameter as a key: a UUID (ints 0) or a decimal id (ints 1); NULL having
 * answered 404. */
static const char *
path_key(struct cu_ctx *cx, const char *param, int ints)
{
	const char *key = cu_ctx_param(cx, param);
	size_t i;

	if (key != NULL && !ints && cu_api_is_uuid(key))
		return key;
	if (key != NULL && ints && key[0] != '\0' && strlen(key) <= 18) {
		for (i = 0; key[i] != '\0' && isdigit((unsigned char)key[i]); i++)
			;
		if (key[i] == '\0')
			return key;
	}
	cu_ctx_error(cx, 404, "Not found.");
	return NULL;
}

static struct json_object *
parse_snapshot(struct cu_ctx *cx, const char *text)
{
	struct json_object *o = NULL;

	if (text == NULL || cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK)
		return NULL;
	return o;
}

/* Reads back the written object, logs its event with the diff, commits and answers. */
static void
finish_write(struct cu_ctx *cx, enum cu_db_stmt st, const char *extra, int status,
             const char *action, const char *app, const char *model, const char *pk,
             struct json_object *before)
{
	struct json_object *after;
	enum cu_err err = CU_ERR_INTERNAL;
	struct row r;

	if (row_exec(cx, st, pk, extra, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if ((after = parse_snapshot(cx, r.rw_snapshot)) != NULL)
		err = cu_events_model(cx, action, app, model, pk, r.rw_name,
		                      cu_api_json_diff(cx, before, after, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, status, r.rw_res);
}

/* Deletes the locked object r, logs model_deleted, commits and answers 204. */
static void
finish_delete(struct cu_ctx *cx, enum cu_db_stmt del, const char *app, const char *model,
              const struct row *r)
{
	struct json_object *before = parse_snapshot(cx, r->rw_snapshot);
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, del, 1, &r->rw_pk);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", app, model, r->rw_pk, r->rw_name,
		                      cu_api_json_diff(cx, before, NULL, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

static int
begin(struct cu_ctx *cx)
{
	enum cu_err err = cu_db_begin(cx->cx_db);

	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	return 0;
}

/* ---- stages ---- */

/*
 * The stage of the path, of kind k (NULL: any kind), then perm on it (verb of the kind's
 * permissions, or for any kind perm_any): 0, or -1 having answered.
 */
static int
stage_find(struct cu_ctx *cx, const struct kind *k, enum cu_db_stmt st, const char *verb,
           const char *perm_any, const char *meta, struct row *r)
{
	const char *key = path_key(cx, "stage_uuid", 0);

	if (key == NULL || row_exec(cx, st, key, meta, r) != 0)
		return -1;
	if (k != NULL && (r->rw_col4 == NULL || strcmp(r->rw_col4, k->kd_type) != 0)) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return cu_api_require(cx, k != NULL ? kind_perm(cx, k, verb) : perm_any, r->rw_pk);
}

/* Replaces a prompt stage's linked lists that the body sent: 0, or -1 having answered. */
static int
write_linked(struct cu_ctx *cx, const struct kind *k, const char *pk, const struct stage_input *in)
{
	static const enum cu_db_stmt drop[] = {CU_DB_STMT_STAGES_API_FIELDS_DROP,
	                                       CU_DB_STMT_STAGES_API_POLICIES_DROP};
	static const enum cu_db_stmt add[] = {CU_DB_STMT_STAGES_API_FIELDS_ADD,
	                                      CU_DB_STMT_STAGES_API_POLICIES_ADD};
	size_t i;

	for (i = 0; i < k->kd_nfields && i < STAGE_MAX_FIELDS; i++) {
		const struct field *fd = &k->kd_fields[i];
		const char *params[2] = {pk, in->si_linked[i]};
		enum cu_err err;
		size_t t;

		if (!(fd->fd_flags & FF_LINKED) || in->si_linked[i] == NULL)
			continue;
		t = strcmp(fd->fd_ref, "prompt") == 0 ? 0 : 1;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, drop[t], 2, params);
		if (err == CU_OK)
			err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, add[t], 2, params);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
	}
	return 0;
}

/* Runs the insert or update; a taken name answers DRF's unique error. 0, or -1 having rolled
 * back and answered. */
static int
stage_exec(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, const char **params,
           PGresult **res)
{
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, 3, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(*res)) {
		cu_api_reject(cx, e, "name", "stage with this name already exists.");
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

static int
kind_or_404(struct cu_ctx *cx, const struct kind **k)
{
	*k = kind_of_request(cx);
	if (*k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return 0;
}

void
cu_api_stages_kind_list(struct cu_ctx *cx)
{
	static const struct cu_api_sort sorts[] = {
	    {"name", "s.name"}, {"pk", "s.stage_uuid"}, {"stage_uuid", "s.stage_uuid"}};
	struct cu_api_filter *filters;
	struct cu_api_cond cond;
	struct cu_api_list l;
	const struct kind *k;
	size_t i, n = 0;

	if (cu_api_login(cx) != 0 || kind_or_404(cx, &k) != 0)
		return;
	filters = cu_arena_alloc(cx->cx_arena, (k->kd_nfields + 3) * sizeof(*filters));
	filters[n++] = (struct cu_api_filter){"name", CU_API_F_TEXT, "s.name = $%d"};
	filters[n++] =
	    (struct cu_api_filter){"stage_uuid", CU_API_F_UUID, "s.stage_uuid = $%d::uuid"};
	if (strcmp(k->kd_type, "invitationstage") == 0)
		filters[n++] = (struct cu_api_filter){
		    "no_flows", CU_API_F_BOOL,
		    "(NOT EXISTS (SELECT 1 FROM flow_stage_bindings nb WHERE nb.stage = "
		    "s.stage_uuid)) = $%d::boolean"};
	for (i = 0; i < k->kd_nfields; i++) {
		const struct field *fd = &k->kd_fields[i];
		/* The stored value, else the kind's default (from the row's meta). */
		const char *value = cu_arena_printf(
		    cx->cx_arena,
		    "coalesce(s.config ->> '%s', cu_meta.m -> s.type -> 'fields' ->> '%s')",
		    fd->fd_name, fd->fd_name);
		enum cu_api_filter_type t = CU_API_F_TEXT;
		const char *sql = NULL;

		if (fd->fd_flags & FF_SECRET)
			continue;
		switch (fd->fd_type) {
		case FT_BOOL:
			t = CU_API_F_BOOL;
			break;
		case FT_INT:
		case FT_UINT:
			t = CU_API_F_INT;
			break;
		case FT_REF:
			t = CU_API_F_UUID;
			sql = cu_arena_printf(cx->cx_arena, "%s = lower($%%d)", value);
			break;
		case FT_REFS:
			if (!(fd->fd_flags & FF_LINKED))
				continue;
			t = CU_API_F_UUID;
			sql =
			    strcmp(fd->fd_ref, "prompt") == 0
			        ? "EXISTS (SELECT 1 FROM prompt_stage_fields xf WHERE xf.stage = "
			          "s.stage_uuid AND xf.prompt = $%d::uuid)"
			        : "EXISTS (SELECT 1 FROM prompt_stage_validation_policies xv WHERE "
			          "xv.stage = s.stage_uuid AND xv.policy = $%d::uuid)";
			break;
		case FT_CHOICES:
			continue;
		default:
			break;
		}
		filters[n++] = (struct cu_api_filter){
		    fd->fd_name, t,
		    sql != NULL ? sql : cu_arena_printf(cx->cx_arena, "%s = $%%d", value)};
	}
	memset(&l, 0, sizeof(l));
	l.al_row = "(" CU_SQL_STAGE_FULL("cu_meta.m") ")::text";
	l.al_from = kinds_from(cx);
	l.al_pk = "s.stage_uuid::text";
	l.al_view_perm = kind_perm(cx, k, "view");
	l.al_search = "s.name ILIKE $%d";
	l.al_sorts = sorts;
	l.al_nsorts = NFIELDS(sorts);
	l.al_default_sort = "name";
	l.al_tiebreak = "s.stage_uuid";
	l.al_filters = filters;
	l.al_nfilters = n;
	cond = (struct cu_api_cond){"s.type = $%d", k->kd_type};
	cu_api_list_send(cx, &l, &cond, 1);
}

void
cu_api_stages_kind_get(struct cu_ctx *cx)
{
	const struct kind *k;
	struct row r;

	if (cu_api_login(cx) != 0 || kind_or_404(cx, &k) != 0 ||
	    stage_find(cx, k, CU_DB_STMT_STAGES_API_GET, "view", NULL, kinds_meta(cx), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_stages_kind_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct stage_input in;
	struct cu_api_errors e;
	const char *params[3];
	PGresult *res = NULL;
	const struct kind *k;
	const char *pk;

	if (cu_api_login(cx) != 0 || kind_or_404(cx, &k) != 0 ||
	    cu_api_require(cx, kind_perm(cx, k, "add"), NULL) != 0 || cu_api_body(cx, &body) != 0)
		return;
	memset(&in, 0, sizeof(in));
	in.si_eff = kind_defaults(cx, k);
	cu_api_errors_init(&e, cx);
	read_stage(cx, k, &e, body, 1, &in);
	if (begin(cx) != 0 || check_refs(cx, &e, &in.si_refs) != 0)
		return;
	if (!cu_api_errors_any(&e) && k->kd_check != NULL)
		k->kd_check(k, &e, in.si_eff);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = in.si_name;
	params[1] = k->kd_type;
	params[2] = cu_json_text(in.si_eff, NULL);
	if (stage_exec(cx, &e, CU_DB_STMT_STAGES_API_INSERT, params, &res) != 0)
		return;
	pk = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (write_linked(cx, k, pk, &in) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_GET, kinds_meta(cx), 201, "model_created", k->kd_app,
	             k->kd_type, pk, NULL);
}

void
cu_api_stages_kind_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *stored;
	const char *meta = NULL, *params[3];
	struct stage_input in;
	struct cu_api_errors e;
	PGresult *res = NULL;
	const struct kind *k;
	struct row r;

	if (cu_api_login(cx) != 0 || kind_or_404(cx, &k) != 0)
		return;
	meta = kinds_meta(cx);
	if (stage_find(cx, k, CU_DB_STMT_STAGES_API_GET, "change", NULL, meta, &r) != 0 ||
	    cu_api_body(cx, &body) != 0 || begin(cx) != 0)
		return;
	/* Again under the lock: the stage may have changed or gone since. */
	if (stage_find(cx, k, CU_DB_STMT_STAGES_API_LOCK, "change", NULL, meta, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = parse_snapshot(cx, r.rw_snapshot);
	stored = parse_snapshot(cx, r.rw_col5);
	if (before == NULL || stored == NULL || !json_object_is_type(stored, json_type_object)) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The stage");
		return;
	}
	memset(&in, 0, sizeof(in));
	in.si_eff = kind_defaults(cx, k);
	json_object_object_foreach(stored, key, val)
	{
		cu_json_set(in.si_eff, key, json_object_get(val));
	}
	in.si_name = r.rw_name;
	cu_api_errors_init(&e, cx);
	read_stage(cx, k, &e, body, cx->cx_req->rq_method == CU_HTTP_PUT, &in);
	if (in.si_name == NULL)
		in.si_name = r.rw_name;
	if (check_refs(cx, &e, &in.si_refs) != 0)
		return;
	if (!cu_api_errors_any(&e) && k->kd_check != NULL)
		k->kd_check(k, &e, in.si_eff);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	params[1] = in.si_name;
	params[2] = cu_json_text(in.si_eff, NULL);
	if (stage_exec(cx, &e, CU_DB_STMT_STAGES_API_UPDATE, params, &res) != 0 ||
	    write_linked(cx, k, r.rw_pk, &in) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_GET, meta, 200, "model_updated", k->kd_app,
	             k->kd_type, r.rw_pk, before);
}

/* Deletes the stage of the path (of kind k, or any): the event names its own kind. */
static void
stage_delete(struct cu_ctx *cx, const struct kind *k)
{
	const char *meta = kinds_meta(cx);
	const struct kind *own;
	struct row r;

	if (stage_find(cx, k, CU_DB_STMT_STAGES_API_GET_BASE, "delete", PERM_DELETE_STAGE, meta,
	               &r) != 0 ||
	    begin(cx) != 0)
		return;
	if (stage_find(cx, k, CU_DB_STMT_STAGES_API_LOCK_BASE, "delete", PERM_DELETE_STAGE, meta,
	               &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	own = kind_of_type(r.rw_col4);
	finish_delete(cx, CU_DB_STMT_STAGES_API_DELETE,
	              own != NULL ? own->kd_app : "authentik_flows",
	              own != NULL ? own->kd_type : "stage", &r);
}

void
cu_api_stages_kind_delete(struct cu_ctx *cx)
{
	const struct kind *k;

	if (cu_api_login(cx) != 0 || kind_or_404(cx, &k) != 0)
		return;
	stage_delete(cx, k);
}

/* ---- all/ ---- */

void
cu_api_stages_all_list(struct cu_ctx *cx)
{
	static const struct cu_api_sort sorts[] = {
	    {"name", "s.name"}, {"pk", "s.stage_uuid"}, {"stage_uuid", "s.stage_uuid"}};
	static const struct cu_api_filter filters[] = {{"name", CU_API_F_TEXT, "s.name = $%d"}};
	struct cu_api_list l;

	if (cu_api_login(cx) != 0)
		return;
	memset(&l, 0, sizeof(l));
	l.al_row = "(" CU_SQL_STAGE("cu_meta.m") ")::text";
	l.al_from = kinds_from(cx);
	l.al_pk = "s.stage_uuid::text";
	l.al_view_perm = PERM_VIEW_STAGE;
	l.al_search = "s.name ILIKE $%d";
	l.al_sorts = sorts;
	l.al_nsorts = NFIELDS(sorts);
	l.al_default_sort = "name";
	l.al_tiebreak = "s.stage_uuid";
	l.al_filters = filters;
	l.al_nfilters = NFIELDS(filters);
	cu_api_list_send(cx, &l, NULL, 0);
}

void
cu_api_stages_all_types(struct cu_ctx *cx)
{
	struct json_object *arr;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	arr = cu_json_array(cx->cx_arena);
	for (i = 0; i < NKINDS; i++) {
		struct json_object *t = json_object_new_object();

		cu_json_set_string(t, "name", kinds[i].kd_verbose);
		cu_json_set_string(t, "description", kinds[i].kd_doc);
		cu_json_set_string(t, "component", kinds[i].kd_component);
		cu_json_set_string(t, "model_name", kinds[i].kd_type);
		cu_json_set(t, "icon_url", NULL);
		cu_json_set_bool(t, "requires_enterprise", 0);
		cu_json_set_bool(t, "deprecated", 0);
		json_object_array_add(arr, t);
	}
	cu_ctx_json(cx, 200, arr);
}

/*
 * The settings pages stages offer their users, as authentik's ui_user_settings: a password
 * stage with a configure flow offers a password change. authentik lists them without asking
 * the configure flow's policies (the user interface shows what exists); /flows/-/configure/
 * answers 404 to a user the flow does not apply to, as authentik's ConfigureFlowInitView does.
 */
static const struct {
	const char *us_type;
	const char *us_component;
} user_settings_kinds[] = {
    {"passwordstage", "ak-user-settings-password"},
};

void
cu_api_stages_all_user_settings(struct cu_ctx *cx)
{
	struct json_object *arr;
	const struct kind *k;
	PGresult *res = NULL;
	enum cu_err err;
	int i, n;
	size_t j;

	if (cu_api_login(cx) != 0)
		return;
	err =
	    cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_API_USER_SETTINGS, 0, NULL);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	arr = cu_json_array(cx->cx_arena);
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		const char *uuid = cu_db_value(res, i, 0), *type = cu_db_value(res, i, 1);
		struct json_object *o;

		for (j = 0; j < NFIELDS(user_settings_kinds); j++)
			if (strcmp(user_settings_kinds[j].us_type, type) == 0)
				break;
		if (j == NFIELDS(user_settings_kinds) || (k = kind_of_type(type)) == NULL)
			continue;
		/* authentik's key order: the stage's own two, then what the viewset adds. */
		o = json_object_new_object();
		cu_json_set_string(o, "title", k->kd_verbose);
		cu_json_set_string(o, "component", user_settings_kinds[j].us_component);
		cu_json_set_string(o, "object_uid", uuid);
		cu_json_set_string(o, "configure_url",
		                   cu_arena_printf(cx->cx_arena, "/flows/-/configure/%s/", uuid));
		json_object_array_add(arr, o);
	}
	cu_ctx_json(cx, 200, arr);
}

void
cu_api_stages_all_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 || stage_find(cx, NULL, CU_DB_STMT_STAGES_API_GET_BASE, NULL,
	                                        PERM_VIEW_STAGE, kinds_meta(cx), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_stages_all_delete(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	stage_delete(cx, NULL);
}

void
cu_api_stages_email_templates(struct cu_ctx *cx)
{
	struct json_object *arr;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	arr = cu_json_array(cx->cx_arena);
	for (i = 0; email_template_choices[i] != NULL; i++) {
		struct json_object *t = json_object_new_object();

		cu_json_set_string(t, "name", email_template_choices[i]);
		cu_json_set_string(t, "description", email_template_labels[i]);
		cu_json_set_string(t, "component", "");
		cu_json_set_string(t, "model_name", "");
		cu_json_set_bool(t, "requires_enterprise", 0);
		cu_json_set_bool(t, "deprecated", 0);
		json_object_array_add(arr, t);
	}
	cu_ctx_json(cx, 200, arr);
}

/* ---- prompt/prompts/ ---- */

static const char *const prompt_types[] = {"text",
                                           "text_area",
                                           "text_read_only",
                                           "text_area_read_only",
                                           "username",
                                           "email",
                                           "password",
                                           "number",
                                           "checkbox",
                                           "radio-button-group",
                                           "dropdown",
                                           "date",
                                           "date-time",
                                           "file",
                                           "separator",
                                           "hidden",
                                           "static",
                                           "ak-locale",
                                           NULL};

/* Overlays the body's fields on eff and checks them, as PromptSerializer. */
static void
prompt_read(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, int required,
            struct json_object *eff)
{
	static const char *const required_keys[] = {"name", "field_key", "label", "type", NULL};
	static const char *const texts[] = {"placeholder", "initial_value", "sub_text", NULL};
	static const char *const bools[] = {"required", "placeholder_expression",
	                                    "initial_value_expression", NULL};
	struct json_object *v;
	const char *s = NULL;
	size_t i;
	int64_t n;
	int b;

	for (i = 0; required && required_keys[i] != NULL; i++)
		if (!json_object_object_get_ex(body, required_keys[i], NULL))
			cu_api_error(e, required_keys[i], "This field is required.");
	if (cu_api_field_string(e, body, "name", STAGE_MAX_TEXT, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_string(e, body, "field_key", 255, 0, 0, &s) > 0)
		cu_json_set_string(eff, "field_key", s);
	if (cu_api_field_string(e, body, "label", STAGE_MAX_TEXT, 0, 0, &s) > 0)
		cu_json_set_string(eff, "label", s);
	if (body_get(body, "type", &v)) {
		if (v == NULL)
			cu_api_error(e, "type", "This field may not be null.");
		else if (!json_object_is_type(v, json_type_string) ||
		         !in_choices(json_object_get_string(v), prompt_types))
			cu_api_error(e, "type", choice_msg(cx, v));
		else
			cu_json_set_string(eff, "type", json_object_get_string(v));
	}
	for (i = 0; texts[i] != NULL; i++)
		if (cu_api_field_string(e, body, texts[i], STAGE_MAX_TEXT, 1, 0, &s) > 0)
			cu_json_set_string(eff, texts[i], s);
	for (i = 0; bools[i] != NULL; i++)
		if (cu_api_field_bool(e, body, bools[i], &b) > 0)
			cu_json_set_bool(eff, bools[i], b);
	if (cu_api_field_int(e, body, "order", -2147483648LL, 2147483647LL, &n) > 0)
		cu_json_set_int(eff, "order", n);
}

/* name .. initial_value_expression from eff into p[0..10]. */
static void
prompt_params(struct json_object *eff, const char **p)
{
	static const char *const keys[] = {"name",
	                                   "field_key",
	                                   "label",
	                                   "type",
	                                   "required",
	                                   "placeholder",
	                                   "initial_value",
	                                   "order",
	                                   "sub_text",
	                                   "placeholder_expression",
	                                   "initial_value_expression"};
	size_t i;

	for (i = 0; i < NFIELDS(keys); i++) {
		struct json_object *v = NULL;

		p[i] = json_object_object_get_ex(eff, keys[i], &v) && v != NULL
		           ? json_object_get_string(v)
		           : NULL;
	}
}

static int
prompt_exec(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, int n,
            const char **params, PGresult **res)
{
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, n, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(*res)) {
		cu_api_reject(cx, e, "name", "prompt with this name already exists.");
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

static int
prompt_find(struct cu_ctx *cx, enum cu_db_stmt st, const char *perm, const char *meta,
            struct row *r)
{
	const char *key = path_key(cx, "prompt_uuid", 0);

	if (key == NULL || row_exec(cx, st, key, meta, r) != 0)
		return -1;
	return cu_api_require(cx, perm, r->rw_pk);
}

void
cu_api_stages_prompts_list(struct cu_ctx *cx)
{
	static const struct cu_api_sort sorts[] = {{"field_key", "p.field_key"},
	                                           {"name", "p.name"},
	                                           {"label", "p.label"},
	                                           {"type", "p.type"},
	                                           {"order", "p.\"order\""},
	                                           {"pk", "p.prompt_uuid"},
	                                           {"prompt_uuid", "p.prompt_uuid"}};
	static const struct cu_api_filter filters[] = {
	    {"field_key", CU_API_F_TEXT, "p.field_key = $%d"},
	    {"name", CU_API_F_TEXT, "p.name = $%d"},
	    {"label", CU_API_F_TEXT, "p.label = $%d"},
	    {"type", CU_API_F_TEXT, "p.type = $%d"},
	    {"placeholder", CU_API_F_TEXT, "p.placeholder = $%d"}};
	struct cu_api_list l;

	if (cu_api_login(cx) != 0)
		return;
	memset(&l, 0, sizeof(l));
	l.al_row = "(" CU_SQL_PROMPT("cu_meta.m") ")::text";
	l.al_from = cu_arena_printf(cx->cx_arena,
	                            "FROM prompts p CROSS JOIN (SELECT %s::jsonb AS m) cu_meta",
	                            sql_literal(cx, kinds_meta(cx)));
	l.al_pk = "p.prompt_uuid::text";
	l.al_view_perm = PROMPT_APP ".view_prompt";
	l.al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[p.field_key, p.name, p.label, p.type, "
	              "p.placeholder]) AS f WHERE f ILIKE $%d)";
	l.al_sorts = sorts;
	l.al_nsorts = NFIELDS(sorts);
	l.al_default_sort = "field_key";
	l.al_tiebreak = "p.prompt_uuid";
	l.al_filters = filters;
	l.al_nfilters = NFIELDS(filters);
	cu_api_list_send(cx, &l, NULL, 0);
}

void
cu_api_stages_prompts_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    prompt_find(cx, CU_DB_STMT_STAGES_API_PROMPT_GET, PROMPT_APP ".view_prompt",
	                kinds_meta(cx), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_stages_prompts_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[11];
	PGresult *res = NULL;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PROMPT_APP ".add_prompt", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "required", 1);
	cu_json_set_string(eff, "placeholder", "");
	cu_json_set_string(eff, "initial_value", "");
	cu_json_set_int(eff, "order", 0);
	cu_json_set_string(eff, "sub_text", "");
	cu_json_set_bool(eff, "placeholder_expression", 0);
	cu_json_set_bool(eff, "initial_value_expression", 0);
	prompt_read(cx, &e, body, 1, eff);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	prompt_params(eff, params);
	if (begin(cx) != 0 ||
	    prompt_exec(cx, &e, CU_DB_STMT_STAGES_API_PROMPT_INSERT, 11, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_PROMPT_GET, kinds_meta(cx), 201, "model_created",
	             PROMPT_APP, "prompt", cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0)),
	             NULL);
}

void
cu_api_stages_prompts_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff;
	const char *meta = kinds_meta(cx);
	struct cu_api_errors e;
	const char *params[12];
	PGresult *res = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    prompt_find(cx, CU_DB_STMT_STAGES_API_PROMPT_GET, PROMPT_APP ".change_prompt", meta,
	                &r) != 0 ||
	    cu_api_body(cx, &body) != 0 || begin(cx) != 0)
		return;
	if (prompt_find(cx, CU_DB_STMT_STAGES_API_PROMPT_LOCK, PROMPT_APP ".change_prompt", meta,
	                &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = parse_snapshot(cx, r.rw_snapshot);
	eff = parse_snapshot(cx, r.rw_snapshot);
	if (before == NULL || eff == NULL) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The prompt");
		return;
	}
	cu_api_errors_init(&e, cx);
	prompt_read(cx, &e, body, cx->cx_req->rq_method == CU_HTTP_PUT, eff);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	prompt_params(eff, params + 1);
	if (prompt_exec(cx, &e, CU_DB_STMT_STAGES_API_PROMPT_UPDATE, 12, params, &res) != 0 ||
	    prompt_exec(cx, &e, CU_DB_STMT_STAGES_API_PROMPT_TOUCH, 1, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_PROMPT_GET, meta, 200, "model_updated", PROMPT_APP,
	             "prompt", r.rw_pk, before);
}

void
cu_api_stages_prompts_delete(struct cu_ctx *cx)
{
	const char *meta = kinds_meta(cx);
	enum cu_err err;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    prompt_find(cx, CU_DB_STMT_STAGES_API_PROMPT_GET, PROMPT_APP ".delete_prompt", meta,
	                &r) != 0 ||
	    begin(cx) != 0)
		return;
	if (prompt_find(cx, CU_DB_STMT_STAGES_API_PROMPT_LOCK, PROMPT_APP ".delete_prompt", meta,
	                &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	/* The stages that showed it change: their flows' plans must be made again. */
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_STAGES_API_PROMPT_TOUCH, 1,
	                 &r.rw_pk);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	finish_delete(cx, CU_DB_STMT_STAGES_API_PROMPT_DELETE, PROMPT_APP, "prompt", &r);
}

/* ---- invitation/invitations/ ---- */

static int
is_slug(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

#define DATETIME_FORMAT_MSG                                                                        \
	"Datetime has wrong format. Use one of these formats instead: "                            \
	"YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."

/* Overlays the body's fields on eff and checks them, as InvitationSerializer; a flow named is
 * added to refs. */
static void
invitation_read(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, int required,
                struct json_object *eff, struct refs *refs)
{
	struct json_object *v, *obj = NULL;
	const char *s = NULL;
	int has_tz, b;

	if (required && !json_object_object_get_ex(body, "name", NULL))
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_string(e, body, "name", STAGE_MAX_TEXT, 0, 0, &s) > 0) {
		if (!is_slug(s))
			cu_api_error(
			    e, "name",
			    "Enter a valid \xe2\x80\x9cslug\xe2\x80\x9d consisting of letters, "
			    "numbers, underscores or hyphens.");
		else
			cu_json_set_string(eff, "name", s);
	}
	if (body_get(body, "expires", &v)) {
		if (v == NULL)
			cu_json_set(eff, "expires", NULL);
		else if (!json_object_is_type(v, json_type_string) ||
		         !cu_api_is_datetime(json_object_get_string(v), &has_tz))
			cu_api_error(e, "expires", DATETIME_FORMAT_MSG);
		else if (!has_tz)
			cu_json_set_string(
			    eff, "expires",
			    cu_arena_printf(cx->cx_arena, "%s%s", json_object_get_string(v),
			                    strlen(json_object_get_string(v)) == 10 ? "T00:00:00+00"
			                                                            : "+00"));
		else
			cu_json_set_string(eff, "expires", json_object_get_string(v));
	}
	/* authentik's JSONDictField. */
	if (body_get(body, "fixed_data", &obj)) {
		if (obj == NULL)
			cu_api_error(e, "fixed_data", "This field may not be null.");
		else if (!json_object_is_type(obj, json_type_object))
			cu_api_error(
			    e, "fixed_data",
			    "Value must be a dictionary, and not have any duplicate keys.");
		else
			cu_json_set(eff, "fixed_data", json_object_get(obj));
	}
	if (cu_api_field_bool(e, body, "single_use", &b) > 0)
		cu_json_set_bool(eff, "single_use", b);
	if (body_get(body, "flow", &v)) {
		if (v == NULL) {
			cu_json_set(eff, "flow", NULL);
		} else if (!json_object_is_type(v, json_type_string) ||
		           !cu_api_is_uuid(json_object_get_string(v))) {
			cu_api_error(e, "flow", pk_msg(cx, v));
		} else {
			s = uuid_lower(cx, json_object_get_string(v));
			cu_json_set_string(eff, "flow", s);
			(void)ref_add(refs, "flow", s, "flow");
		}
	}
}

/* name, expires, fixed_data, single_use, flow from eff into p[0..4]. */
static void
invitation_params(struct json_object *eff, const char **p)
{
	struct json_object *v = NULL;

	p[0] = eff_str(eff, "name");
	p[1] = eff_str(eff, "expires");
	p[2] = json_object_object_get_ex(eff, "fixed_data", &v) && v != NULL ? cu_json_text(v, NULL)
	                                                                     : "{}";
	p[3] = json_object_object_get_ex(eff, "single_use", &v) && json_object_get_boolean(v)
	           ? "true"
	           : "false";
	p[4] = eff_str(eff, "flow");
}

static int
invitation_exec(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, const char **params,
                PGresult **res)
{
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, 6, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(*res)) {
		cu_api_reject(cx, e, "name", "invitation with this name already exists.");
		return -1;
	}
	/* The shape check lets through dates that do not exist (a 13th month): PostgreSQL
	 * refuses them, and expires is the one value it parses. */
	if (err == CU_ERR_INVALID) {
		cu_api_reject(cx, e, "expires", DATETIME_FORMAT_MSG);
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

static int
invitation_find(struct cu_ctx *cx, enum cu_db_stmt st, const char *perm, struct row *r)
{
	const char *key = path_key(cx, "invite_uuid", 0);

	if (key == NULL || row_exec(cx, st, key, NULL, r) != 0)
		return -1;
	return cu_api_require(cx, perm, r->rw_pk);
}

void
cu_api_stages_invitations_list(struct cu_ctx *cx)
{
	static const struct cu_api_sort sorts[] = {{"expires", "i.expires"},
	                                           {"name", "i.name"},
	                                           {"pk", "i.invite_uuid"},
	                                           {"invite_uuid", "i.invite_uuid"}};
	static const struct cu_api_filter filters[] = {
	    {"name", CU_API_F_TEXT, "i.name = $%d"},
	    {"created_by__username", CU_API_F_TEXT,
	     "EXISTS (SELECT 1 FROM users cb WHERE cb.id = i.created_by AND cb.username = $%d)"},
	    {"flow__slug", CU_API_F_TEXT,
	     "EXISTS (SELECT 1 FROM flows fs WHERE fs.flow_uuid = i.flow AND fs.slug = $%d)"}};
	static const struct cu_api_list l = {
	    .al_row = CU_SQL_INVITATION,
	    .al_from = "FROM invitations i",
	    .al_pk = "i.invite_uuid::text",
	    .al_view_perm = INVITATION_APP ".view_invitation",
	    .al_search = "EXISTS (SELECT 1 FROM (SELECT $%d::text AS q) sq WHERE i.name ILIKE sq.q "
	                 "OR EXISTS (SELECT 1 FROM users su WHERE su.id = i.created_by AND "
	                 "su.username ILIKE sq.q) OR EXISTS (SELECT 1 FROM flows sf WHERE "
	                 "sf.flow_uuid = i.flow AND sf.slug ILIKE sq.q))",
	    .al_sorts = sorts,
	    .al_nsorts = NFIELDS(sorts),
	    .al_default_sort = "-expires",
	    .al_tiebreak = "i.invite_uuid",
	    .al_filters = filters,
	    .al_nfilters = NFIELDS(filters),
	};

	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &l, NULL, 0);
}

void
cu_api_stages_invitations_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 || invitation_find(cx, CU_DB_STMT_STAGES_API_INVITATION_GET,
	                                             INVITATION_APP ".view_invitation", &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_stages_invitations_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	struct refs refs;
	const char *params[6];
	PGresult *res = NULL;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, INVITATION_APP ".add_invitation", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	memset(&refs, 0, sizeof(refs));
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	cu_json_set(eff, "expires", NULL);
	cu_json_set(eff, "fixed_data", json_object_new_object());
	cu_json_set_bool(eff, "single_use", 0);
	cu_json_set(eff, "flow", NULL);
	invitation_read(cx, &e, body, 1, eff, &refs);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (begin(cx) != 0 || check_refs(cx, &e, &refs) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	invitation_params(eff, params);
	/* authentik's perform_create: the invitation is the caller's. */
	params[5] = cx->cx_user->us_id_text;
	if (invitation_exec(cx, &e, CU_DB_STMT_STAGES_API_INVITATION_INSERT, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_INVITATION_GET, NULL, 201, "model_created",
	             INVITATION_APP, "invitation",
	             cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0)), NULL);
}

void
cu_api_stages_invitations_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff;
	struct cu_api_errors e;
	struct refs refs;
	const char *params[6];
	PGresult *res = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    invitation_find(cx, CU_DB_STMT_STAGES_API_INVITATION_GET,
	                    INVITATION_APP ".change_invitation", &r) != 0 ||
	    cu_api_body(cx, &body) != 0 || begin(cx) != 0)
		return;
	if (invitation_find(cx, CU_DB_STMT_STAGES_API_INVITATION_LOCK,
	                    INVITATION_APP ".change_invitation", &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = parse_snapshot(cx, r.rw_snapshot);
	eff = parse_snapshot(cx, r.rw_snapshot);
	if (before == NULL || eff == NULL) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The invitation");
		return;
	}
	memset(&refs, 0, sizeof(refs));
	cu_api_errors_init(&e, cx);
	invitation_read(cx, &e, body, cx->cx_req->rq_method == CU_HTTP_PUT, eff, &refs);
	if (!cu_api_errors_any(&e) && check_refs(cx, &e, &refs) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	invitation_params(eff, params + 1);
	if (invitation_exec(cx, &e, CU_DB_STMT_STAGES_API_INVITATION_UPDATE, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_STAGES_API_INVITATION_GET, NULL, 200, "model_updated",
	             INVITATION_APP, "invitation", r.rw_pk, before);
}

void
cu_api_stages_invitations_delete(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    invitation_find(cx, CU_DB_STMT_STAGES_API_INVITATION_GET,
	                    INVITATION_APP ".delete_invitation", &r) != 0 ||
	    begin(cx) != 0)
		return;
	if (invitation_find(cx, CU_DB_STMT_STAGES_API_INVITATION_LOCK,
	                    INVITATION_APP ".delete_invitation", &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	finish_delete(cx, CU_DB_STMT_STAGES_API_INVITATION_DELETE, INVITATION_APP, "invitation",
	              &r);
}

/* ---- /core/user_consent/ ---- */

/*
 * authentik's UserConsentViewSet has owner_field "user": a user sees and deletes its own
 * consents; view_userconsent / delete_userconsent (on the model or the object) cover others'.
 * 0 allowed; -1 having answered (404 for one the user may not see, 403 for one it may see but
 * not delete, 503).
 */
static int
consent_find(struct cu_ctx *cx, enum cu_db_stmt st, int del, struct row *r)
{
	const char *key = path_key(cx, "id", 1);
	int ok;

	if (key == NULL || row_exec(cx, st, key, NULL, r) != 0)
		return -1;
	if (r->rw_col4 != NULL && strcmp(r->rw_col4, cx->cx_user->us_id_text) == 0)
		return 0;
	ok = cu_auth_has_perm(cx, cx->cx_user, CONSENT_APP ".view_userconsent", r->rw_pk);
	if (ok < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return -1;
	}
	if (!ok) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return del ? cu_api_require(cx, CONSENT_APP ".delete_userconsent", r->rw_pk) : 0;
}

void
cu_api_stages_consents_list(struct cu_ctx *cx)
{
	static const struct cu_api_sort sorts[] = {{"application", "c.application"},
	                                           {"expires", "c.expires"},
	                                           {"pk", "c.id"},
	                                           {"id", "c.id"}};
	static const struct cu_api_filter filters[] = {
	    {"user", CU_API_F_INT, "c.user_id = $%d::bigint"},
	    {"application", CU_API_F_UUID, "c.application = $%d::uuid"}};
	static const struct cu_api_list l = {
	    .al_row = CU_SQL_USER_CONSENT,
	    .al_from = "FROM user_consents c",
	    .al_pk = "c.id::text",
	    .al_view_perm = CONSENT_APP ".view_userconsent",
	    .al_search = "EXISTS (SELECT 1 FROM users su WHERE su.id = c.user_id AND su.username "
	                 "ILIKE $%d)",
	    .al_sorts = sorts,
	    .al_nsorts = NFIELDS(sorts),
	    .al_default_sort = "application,expires",
	    .al_tiebreak = "c.id",
	    .al_filters = filters,
	    .al_nfilters = NFIELDS(filters),
	    .al_owner = "c.user_id",
	};

	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &l, NULL, 0);
}

void
cu_api_stages_consents_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    consent_find(cx, CU_DB_STMT_STAGES_API_CONSENT_GET, 0, &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_stages_consents_delete(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    consent_find(cx, CU_DB_STMT_STAGES_API_CONSENT_GET, 1, &r) != 0 || begin(cx) != 0)
		return;
	if (consent_find(cx, CU_DB_STMT_STAGES_API_CONSENT_LOCK, 1, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	finish_delete(cx, CU_DB_STMT_STAGES_API_CONSENT_DELETE, CONSENT_APP, "userconsent", &r);
}
