/*
 * The event matcher policy, and notification rules' bindings decided for an audit event (the
 * worker's notification dispatch). Requests in flows and access checks go through
 * lib/policies/engine.h, which uses cu_policies_event_matcher_matches for this kind.
 */
#ifndef CU_POLICIES_EVENT_MATCHER_H
#define CU_POLICIES_EVENT_MATCHER_H

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
