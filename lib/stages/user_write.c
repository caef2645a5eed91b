/*
 * The user write stage (userwritestage, no challenge): writes the plan's prompt_data into the
 * user the flow is about, or creates that user (authentik's UserWriteStageView).
 *
 * Which user, in this order:
 *  - user_creation_mode always_create: a new one;
 *  - the pending user of the plan (context "pending_user");
 *  - config "target_username" (a custos extension, for the initial-setup flow, which sets up
 *    the existing akadmin account from an anonymous session): that existing user, never a new
 *    one, and the flow is denied when there is no such user;
 *  - the logged-in user (authentik's setdefault of the pending user to request.user);
 *  - otherwise a new one, unless user_creation_mode is never_create (then the flow is denied).
 * A flow that requires authentication (the user settings flows) only ever writes to the
 * logged-in user: a pending user that is someone else ends the flow.
 *
 * Keys written: username, name, email, password (hashed, password_change_date set),
 * attributes (an object merged into attributes), attributes.a.b and attributes_a (a path in
 * attributes). Every other key is left alone, so that a prompt field cannot set is_active,
 * type, path or anything the flow's author did not mean to expose. The user, its group
 * memberships and the audit events are written in one transaction; a changed password also
 * ends the user's other sessions there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "db.h"
#include "events.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "sessions.h"
#include "stages/stages.h"

#define MSG_FAILED "Failed to update user. Please try again later."
#define MSG_NO_DATA "No Pending data."
#define MSG_NO_USER "No user found and can't create new user."
#define MSG_TAKEN "Failed to update user: the username is already taken."
#define MSG_NO_USERNAME "Failed to update user: no username was given."
#define CLEANSED "********************"
/* Group uuids from the plan context at most. */
#define MAX_GROUPS 64

/* What one write changes; strings arena-owned. */
struct uw_user {
	const char *uu_id; /* NULL until the row exists */
	const char *uu_uuid;
	const char *uu_username;
	const char *uu_name;
	const char *uu_email;
	struct json_object *uu_attributes;
	const char *uu_password_hash; /* NULL: unchanged */
	int uu_is_active;
};

/* The user id in context key, or 0. */
static long long
ctx_user_id(struct cu_flow_exec *fx, const char *key)
{
	struct json_object *v = cu_flow_ctx_get(fx, key);
	long long id = 0;

	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int))
		id = (long long)json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_string))
		id = strtoll(json_object_get_string(v), NULL, 10);
	return id > 0 ? id : 0;
}

/* Django's hidden settings filter: keys that look like secrets are not written to events. */
static int
sensitive_key(const char *k)
{
	static const char *const words[] = {"api",    "auth", "token",     "key",
	                                    "secret", "pass", "signature", "http_cookie"};
	size_t i, j, n = strlen(k);

	if (strcasecmp(k, "passing") == 0 || strcasecmp(k, "password_change_date") == 0 ||
	    strcasecmp(k, "auth_method") == 0 || strcasecmp(k, "auth_method_args") == 0)
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t w = strlen(words[i]);

		for (j = 0; j + w <= n; j++)
			if (strncasecmp(k + j, words[i], w) == 0)
				return 1;
	}
	return 0;
}

/* A copy of v for an event, secrets masked at any depth (new reference). */
static struct json_object *
cleanse(const char *key, struct json_object *v, int depth)
{
	if (v != NULL && json_object_is_type(v, json_type_object) && depth < 16) {
		struct json_object *o = json_object_new_object();

		json_object_object_foreach(v, k, c)
		{
			json_object_object_add(o, k, cleanse(k, c, depth + 1));
		}
		return o;
	}
	if (v != NULL && json_object_is_type(v, json_type_array) && depth < 16) {
		struct json_object *a = json_object_new_array();
		size_t i, n = json_object_array_length(v);

		for (i = 0; i < n; i++)
			json_object_array_add(
			    a, cleanse(key, json_object_array_get_idx(v, i), depth + 1));
		return a;
	}
	if (key != NULL && sensitive_key(key))
		return json_object_new_string(CLEANSED);
	return v != NULL ? json_object_get(v) : NULL;
}

/* Sets value (borrowed) at the dotted path in obj, making objects on the way. */
static void
set_path(struct cu_arena *a, struct json_object *obj, const char *path, struct json_object *value)
{
	char *copy = cu_arena_strdup(a, path), *p = copy, *dot;

	while ((dot = strchr(p, '.')) != NULL) {
		struct json_object *next = NULL;

		*dot = '\0';
		if (!json_object_object_get_ex(obj, p, &next) || next == NULL ||
		    !json_object_is_type(next, json_type_object)) {
			next = json_object_new_object();
			json_object_object_add(obj, p, next);
		}
		obj = next;
		p = dot + 1;
	}
	json_object_object_add(obj, p, value != NULL ? json_object_get(value) : NULL);
}

/* Applies prompt_data to u. -1 (logged) when the data cannot be written. */
static int
apply_data(struct cu_flow_exec *fx, struct json_object *data, struct uw_user *u,
           const char **password)
{
	struct cu_arena *a = fx->fx_cx->cx_arena;

	*password = NULL;
	json_object_object_foreach(data, k, v)
	{
		int is_str = v != NULL && json_object_is_type(v, json_type_string);

		if (strcmp(k, "password") == 0) {
			if (!is_str)
				goto bad;
			*password = json_object_get_string(v);
		} else if (strcmp(k, "username") == 0) {
			if (!is_str)
				goto bad;
			u->uu_username = json_object_get_string(v);
		} else if (strcmp(k, "name") == 0) {
			if (!is_str)
				goto bad;
			u->uu_name = json_object_get_string(v);
		} else if (strcmp(k, "email") == 0) {
			if (!is_str)
				goto bad;
			u->uu_email = json_object_get_string(v);
		} else if (strcmp(k, "attributes") == 0) {
			/* authentik refuses to replace the whole of attributes with a non-object.
			 */
			if (v == NULL || !json_object_is_type(v, json_type_object))
				goto bad;
			json_object_object_foreach(v, ak, av)
			{
				json_object_object_add(u->uu_attributes, ak,
				                       av != NULL ? json_object_get(av) : NULL);
			}
		} else if (strncmp(k, "attributes.", 11) == 0 ||
		           strncmp(k, "attributes_", 11) == 0) {
			if (k[11] == '\0')
				continue;
			set_path(a, u->uu_attributes, k + 11, v);
		}
		/* Everything else (component, groups, is_active, ...) is not the user's to set. */
	}
	return 0;
bad:
	cu_log(CU_LOG_WARNING, "user_write_refused", CU_LS("stage", fx->fx_stage_name),
	       CU_LS("reason", "a user field of the wrong type"));
	return -1;
}

static int
uuid_like(const char *s)
{
	size_t i, n = strlen(s);

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-'
		         : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

/* "{uuid,uuid}" of create_users_group and the context's "groups"; NULL when there are none. */
static const char *
group_list(struct cu_flow_exec *fx)
{
	struct cu_arena *a = fx->fx_cx->cx_arena;
	const char *g = cu_flow_cfg_string(fx, "create_users_group", NULL);
	struct json_object *ctx = cu_flow_ctx_get(fx, "groups");
	const char *out = NULL;
	size_t i, n;

	if (g != NULL && uuid_like(g))
		out = cu_arena_printf(a, "%s", g);
	if (ctx != NULL && json_object_is_type(ctx, json_type_array)) {
		n = json_object_array_length(ctx);
		for (i = 0; i < n && i < MAX_GROUPS; i++) {
			struct json_object *e = json_object_array_get_idx(ctx, i);
			const char *s;

			if (e == NULL || !json_object_is_type(e, json_type_string) ||
			    !uuid_like(s = json_object_get_string(e)))
				continue;
			out = out == NULL ? cu_arena_strdup(a, s)
			                  : cu_arena_printf(a, "%s,%s", out, s);
		}
	}
	return out == NULL ? NULL : cu_arena_printf(a, "{%s}", out);
}

static const char *
user_type(struct cu_flow_exec *fx)
{
	static const char *const types[] = {"internal", "external", "service_account"};
	const char *t = cu_flow_ctx_string(fx, "user_type");
	size_t i;

	if (t == NULL)
		t = cu_flow_cfg_string(fx, "user_type", "external");
	/* authentik never creates internal service accounts from a flow. */
	if (strcmp(t, "internal_service_account") == 0)
		return "service_account";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return types[i];
	return "external";
}

static const char *
user_path(struct cu_flow_exec *fx)
{
	const char *p = cu_flow_ctx_string(fx, "user_path");

	if (p == NULL)
		p = cu_flow_cfg_string(fx, "user_path_template", "");
	return p[0] == '\0' ? "users" : p;
}

/* Loads (and locks) the user with id into u; 1 found, 0 not, -1 failure. */
static int
lock_user(struct cu_ctx *cx, const char *id, struct uw_user *u)
{
	PGresult *res = NULL;
	const char *attrs;

	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USER_WRITE_LOCK, 1, &id) != CU_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	u->uu_id = cu_db_value(res, 0, 0);
	u->uu_uuid = cu_db_value(res, 0, 1);
	u->uu_username = cu_db_value(res, 0, 2);
	u->uu_name = cu_db_value(res, 0, 3);
	u->uu_email = cu_db_value(res, 0, 4);
	attrs = cu_db_value(res, 0, 5);
	u->uu_is_active = strcmp(cu_db_value(res, 0, 6), "t") == 0;
	if (cu_json_parse(cx->cx_arena, attrs, strlen(attrs), &u->uu_attributes) != CU_OK ||
	    u->uu_attributes == NULL || !json_object_is_type(u->uu_attributes, json_type_object))
		u->uu_attributes = cu_json_object(cx->cx_arena);
	return 1;
}

/* Events of the write, as the written user: user_write (the data, secrets masked, and
 * created) and password_set when the password changed. */
static enum cu_err
write_events(struct cu_flow_exec *fx, struct json_object *data, const struct uw_user *u,
             int created)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_user target, *self = cx->cx_user;
	struct json_object *ev;
	enum cu_err err;

	memset(&target, 0, sizeof(target));
	target.us_id = strtoll(u->uu_id, NULL, 10);
	target.us_id_text = u->uu_id;
	target.us_uuid = u->uu_uuid;
	target.us_username = u->uu_username;
	target.us_email = u->uu_email;
	ev = cu_json_adopt(cx->cx_arena, cleanse(NULL, data, 0));
	json_object_object_del(ev, "component");
	cu_json_set_bool(ev, "created", created);
	cx->cx_user = &target;
	err = cu_events_write(cx, "user_write", "authentik.stages.user_write", ev);
	if (err == CU_OK && u->uu_password_hash != NULL)
		err = cu_events_write(cx, "password_set", "authentik.events.signals", NULL);
	cx->cx_user = self;
	return err;
}

/* Plaintext passwords leave the plan once they are stored hashed. */
static void
drop_passwords(struct cu_flow_exec *fx, struct json_object *data)
{
	struct json_object *copy = cu_json_object(fx->fx_cx->cx_arena);
	int dropped = 0;

	json_object_object_foreach(data, k, v)
	{
		if (strncmp(k, "password", 8) == 0) {
			dropped = 1;
			continue;
		}
		json_object_object_add(copy, k, v != NULL ? json_object_get(v) : NULL);
	}
	if (dropped)
		cu_flow_ctx_set(fx, "prompt_data", copy);
}

static enum cu_stage_result
user_write_run(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *data = cu_flow_ctx_get(fx, "prompt_data");
	const char *mode = cu_flow_cfg_string(fx, "user_creation_mode", "create_when_required");
	const char *target = cu_flow_cfg_string(fx, "target_username", NULL);
	const char *password = NULL, *groups, *id_text = NULL;
	char hash[CU_PASSWORD_MAX_ENCODED];
	long long pending = ctx_user_id(fx, "pending_user");
	const struct cu_user *session = fx->fx_session_user;
	int create = 0, settings, found;
	struct uw_user u;
	PGresult *res = NULL;
	enum cu_err err;

	if (data == NULL || !json_object_is_type(data, json_type_object))
		return cu_flow_deny(fx, MSG_NO_DATA);
	memset(&u, 0, sizeof(u));
	settings = fx->fx_flow != NULL && fx->fx_flow->fl_authentication != NULL &&
	           strcmp(fx->fx_flow->fl_authentication, "require_authenticated") == 0 &&
	           session != NULL;
	if (strcmp(mode, "always_create") == 0) {
		create = 1;
	} else if (pending > 0) {
		id_text = cu_arena_printf(cx->cx_arena, "%lld", pending);
	} else if (target != NULL && target[0] != '\0') {
		if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USER_WRITE_BY_USERNAME, 1,
		               &target) != CU_OK)
			return CU_STAGE_FAIL;
		if (PQntuples(res) != 1)
			return cu_flow_deny(fx, MSG_NO_USER);
		id_text = cu_db_value(res, 0, 0);
	} else if (session != NULL) {
		id_text = session->us_id_text;
	} else if (strcmp(mode, "never_create") == 0) {
		return cu_flow_deny(fx, MSG_NO_USER);
	} else {
		create = 1;
	}
	if (settings && (create || strcmp(id_text, session->us_id_text) != 0)) {
		cu_log(CU_LOG_WARNING, "user_write_refused", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "not the logged-in user"));
		return cu_flow_deny(fx, MSG_FAILED);
	}

	/* A dry run finds the password (and refuses bad data) so that the slow part, hashing,
	 * happens before the transaction holds the row. */
	u.uu_attributes = cu_json_object(cx->cx_arena);
	if (apply_data(fx, data, &u, &password) != 0)
		return cu_flow_deny(fx, MSG_FAILED);
	memset(&u, 0, sizeof(u));
	if (password != NULL) {
		struct cu_password_params pp;

		pp.pp_memory_kib = (uint32_t)cx->cx_cfg->password_memory_kib;
		pp.pp_time_cost = (uint32_t)cx->cx_cfg->password_time_cost;
		pp.pp_parallelism = (uint32_t)cx->cx_cfg->password_parallelism;
		if (cu_password_hash(hash, sizeof(hash), password, strlen(password), &pp) != 0) {
			cu_log(CU_LOG_WARNING, "user_write_refused",
			       CU_LS("stage", fx->fx_stage_name),
			       CU_LS("reason", "the password cannot be hashed"));
			return cu_flow_deny(fx, MSG_FAILED);
		}
		u.uu_password_hash = hash;
	}

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		return CU_STAGE_FAIL;
	if (!create) {
		if ((found = lock_user(cx, id_text, &u)) < 0)
			goto fail;
		if (found == 0) {
			cu_db_rollback(cx->cx_db);
			return cu_flow_deny(fx, MSG_NO_USER);
		}
	} else {
		u.uu_username = "";
		u.uu_name = "";
		u.uu_email = "";
		u.uu_attributes = cu_json_object(cx->cx_arena);
		u.uu_is_active = !cu_flow_cfg_bool(fx, "create_users_as_inactive", 0);
	}
	if (apply_data(fx, data, &u, &password) != 0) {
		cu_db_rollback(cx->cx_db);
		return cu_flow_deny(fx, MSG_FAILED);
	}
	if (u.uu_username == NULL || u.uu_username[0] == '\0') {
		cu_db_rollback(cx->cx_db);
		cu_log(CU_LOG_WARNING, "user_write_refused", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "empty username"));
		return cu_flow_deny(fx, MSG_NO_USERNAME);
	}
	if (create) {
		const char *p[8] = {u.uu_username,
		                    u.uu_name,
		                    u.uu_email,
		                    u.uu_is_active ? "true" : "false",
		                    user_path(fx),
		                    user_type(fx),
		                    cu_json_text(u.uu_attributes, NULL),
		                    u.uu_password_hash};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USER_WRITE_INSERT, 8, p);
		if (err == CU_OK) {
			u.uu_id = cu_db_value(res, 0, 0);
			u.uu_uuid = cu_db_value(res, 0, 1);
		}
	} else {
		const char *p[6] = {u.uu_id,
		                    u.uu_username,
		                    u.uu_name,
		                    u.uu_email,
		                    cu_json_text(u.uu_attributes, NULL),
		                    u.uu_password_hash};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USER_WRITE_UPDATE, 6, p);
	}
	if (err == CU_ERR_INVALID) {
		int taken = res != NULL && cu_db_is_unique_violation(res);

		cu_db_rollback(cx->cx_db);
		cu_log(CU_LOG_WARNING, "user_write_refused", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", taken ? "username taken" : "a value the database refused"));
		return cu_flow_deny(fx, taken ? MSG_TAKEN : MSG_FAILED);
	}
	if (err != CU_OK)
		goto fail;
	if ((groups = group_list(fx)) != NULL) {
		const char *p[2] = {groups, u.uu_id};

		if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_USER_WRITE_GROUPS, 2, p) !=
		    CU_OK)
			goto fail;
	}
	/* A new password ends the user's other sessions, as Django's session hash check does in
	 * authentik; the session running this flow stays. */
	if (!create && u.uu_password_hash != NULL &&
	    cu_sessions_delete_others(cx, strtoll(u.uu_id, NULL, 10),
	                              fx->fx_session_key != NULL ? fx->fx_session_key : "") !=
	        CU_OK)
		goto fail;
	if (write_events(fx, data, &u, create) != CU_OK)
		goto fail;
	if (cu_db_commit(cx->cx_db) != CU_OK)
		goto fail;
	OPENSSL_cleanse(hash, sizeof(hash));

	if (create) {
		long long id = strtoll(u.uu_id, NULL, 10);

		/* An inactive account cannot be the loaded pending user; the id still names it
		 * for the stages after this one (an email confirmation activates it). */
		if (!u.uu_is_active || cu_flow_set_pending_user(fx, id) != CU_OK)
			cu_flow_ctx_set(fx, "pending_user",
			                cu_json_adopt(cx->cx_arena, json_object_new_int64(id)));
		cu_flow_ctx_set(fx, "user_created",
		                cu_json_adopt(cx->cx_arena, json_object_new_boolean(1)));
		cu_flow_ctx_set_string(fx, "user_backend", "authentik.core.auth.InbuiltBackend");
	} else if (pending <= 0 && u.uu_is_active) {
		/* The user written is the one the rest of the flow is about (authentik keeps it as
		 * the pending user). */
		if (cu_flow_set_pending_user(fx, strtoll(u.uu_id, NULL, 10)) != CU_OK)
			cu_log(CU_LOG_WARNING, "user_write_pending_user",
			       CU_LS("stage", fx->fx_stage_name));
	}
	drop_passwords(fx, data);
	return CU_STAGE_NEXT;
fail:
	cu_db_rollback(cx->cx_db);
	OPENSSL_cleanse(hash, sizeof(hash));
	return CU_STAGE_FAIL;
}

static enum cu_stage_result
user_write_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	/* Nothing to answer: a POST runs the write as a GET would. */
	return user_write_run(fx);
}

const struct cu_stage_type cu_stage_user_write = {"userwritestage", "ak-stage-user-write",
                                                  user_write_run, user_write_respond};
