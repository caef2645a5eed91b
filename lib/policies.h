/*
 * Policies and their bindings. This module holds the tables' logic that other parts call; the
 * full engine (expression policies in Lua, flows) builds on it. A binding ties a policy, a
 * group or a user to a target: any policy binding model (an application, a notification rule,
 * later flows and stages), with order, negate, enabled, timeout and failure_result.
 */
#ifndef CU_POLICIES_H
#define CU_POLICIES_H

#include "arena.h"
#include "db.h"

struct json_object;

/*
 * Whether the bindings of target pass for an audit event, as authentik decides which
 * notification rules an event triggers: engine mode "any", and no bindings means no (its
 * empty_result is false). event is the Event as the API shows it ({"action", "app",
 * "context": {"model": {"app", "model_name", ...}}, "client_ip", "user": {"pk", ...}}).
 * A group binding passes when the event's user is in that group (or its children's parents),
 * a user binding when it is that user; an event-matcher policy when every field it sets
 * matches. negate inverts a binding's result; disabled bindings are skipped.
 * Returns 1 (passes), 0 (does not), -1 (PostgreSQL unavailable).
 */
int cu_policies_event_passes(struct cu_db *db, struct cu_arena *a, const char *target,
                             struct json_object *event) __attribute__((warn_unused_result));

/*
 * Whether an event-matcher policy with these fields (each NULL when the policy does not set it)
 * matches event (borrowed; the same shape as above): every field it sets must equal the event's
 * action, app, client_ip, or "<context.model.app>.<context.model.model_name>" for model. A
 * policy that sets none matches every event, as in authentik; a NULL event matches nothing.
 * Returns 1 or 0; pure, no database.
 */
int cu_policies_event_matcher_matches(const char *action, const char *app, const char *model,
                                      const char *client_ip, struct json_object *event);

#endif
