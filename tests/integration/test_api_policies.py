"""/api/v3/policies/: event matcher policies, every policy together (all/), and bindings
(the other kinds: test_policy_kinds.py)."""
import secrets
import uuid

from conftest import create_user, events_for, sql

POLICY_FIELDS = {"pk", "name", "execution_logging", "component", "verbose_name",
                 "verbose_name_plural", "meta_model_name", "bound_to", "action", "client_ip",
                 "app", "model"}
BINDING_FIELDS = {"pk", "policy", "group", "user", "policy_obj", "group_obj", "user_obj",
                  "target", "negate", "enabled", "order", "timeout", "failure_result"}
EM = "authentik_policies_event_matcher.%s_eventmatcherpolicy"
PB = "authentik_policies.%s_policybinding"


def name(prefix="pol"):
    return prefix + "-" + secrets.token_hex(5)


def make_policy(admin, **fields):
    body = {"name": name(), "action": "login"}
    body.update(fields)
    r = admin.post("policies/event_matcher/", body)
    assert r.status_code == 201, r.text
    return r.json()


def make_app(admin):
    r = admin.post("core/applications/", {"name": "App", "slug": name("app")})
    assert r.status_code == 201, r.text
    return r.json()


def make_group(admin):
    r = admin.post("core/groups/", {"name": name("grp")})
    assert r.status_code == 201, r.text
    return r.json()


def make_binding(admin, target, **fields):
    body = {"target": target, "order": 0}
    body.update(fields)
    r = admin.post("policies/bindings/", body)
    assert r.status_code == 201, r.text
    return r.json()


# ---- event matcher ----

def test_event_matcher_create_get_and_event(admin):
    n = name()
    r = admin.post("policies/event_matcher/", {"name": n, "action": "model_created",
                                               "app": "authentik.core",
                                               "model": "authentik_core.user",
                                               "client_ip": "10.0.0.1", "pk": "ignored",
                                               "bound_to": 9, "unknown": 1})
    assert r.status_code == 201, r.text
    p = r.json()
    assert set(p) == POLICY_FIELDS
    assert p["name"] == n and p["execution_logging"] is False and p["bound_to"] == 0
    assert p["component"] == "ak-policy-event-matcher-form"
    assert p["verbose_name"] == "Event Matcher Policy"
    assert p["verbose_name_plural"] == "Event Matcher Policies"
    assert p["meta_model_name"] == "authentik_policies_event_matcher.eventmatcherpolicy"
    assert (p["action"], p["app"], p["model"], p["client_ip"]) == (
        "model_created", "authentik.core", "authentik_core.user", "10.0.0.1")
    uuid.UUID(p["pk"])
    assert admin.get("policies/event_matcher/%s/" % p["pk"]).json() == p
    assert admin.get("policies/all/%s/" % p["pk"]).json() == p
    ev = events_for("eventmatcherpolicy", p["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_policies_event_matcher"
    assert ev[0][0]["diff"]["name"] == {"previous": None, "new": n}


def test_event_matcher_validation(admin):
    r = admin.post("policies/event_matcher/", {})
    assert r.status_code == 400 and r.json()["name"] == ["This field is required."]
    r = admin.post("policies/event_matcher/", {"name": name()})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["At least one criteria must be set."]}
    r = admin.post("policies/event_matcher/", {"name": name(), "action": None, "app": None,
                                               "model": None, "client_ip": None})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    for field, bad in (("action", "nope"), ("app", "authentik_nope"), ("model", "x.y"),
                       ("action", 5), ("client_ip", ""), ("client_ip", 5), ("name", ""),
                       ("name", ["x"]), ("execution_logging", "maybe")):
        r = admin.post("policies/event_matcher/", {"name": name(), "action": "login", field: bad})
        assert r.status_code == 400 and field in r.json(), (field, bad, r.text)
    p = make_policy(admin)
    r = admin.post("policies/event_matcher/", {"name": p["name"], "action": "login"})
    assert r.status_code == 400
    assert r.json() == {"name": ["Policy with this name already exists."]}
    r = admin.post("policies/event_matcher/", data="[1]",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_event_matcher_update_patch_put(admin):
    p = make_policy(admin, client_ip="1.2.3.4")
    r = admin.patch("policies/event_matcher/%s/" % p["pk"],
                    {"execution_logging": True, "app": "authentik.core", "action": None})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["execution_logging"] is True and q["app"] == "authentik.core"
    assert q["action"] is None and q["client_ip"] == "1.2.3.4" and q["name"] == p["name"]
    ev = events_for("eventmatcherpolicy", p["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"execution_logging": {"previous": False, "new": True},
                                 "app": {"previous": None, "new": "authentik.core"},
                                 "action": {"previous": "login", "new": None}}
    # PUT needs name; clearing every criterion is refused and leaves the row alone.
    r = admin.put("policies/event_matcher/%s/" % p["pk"], {"action": "logout"})
    assert r.status_code == 400 and r.json() == {"name": ["This field is required."]}
    r = admin.patch("policies/event_matcher/%s/" % p["pk"], {"app": None, "client_ip": None})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    assert admin.get("policies/event_matcher/%s/" % p["pk"]).json() == q
    other = make_policy(admin)
    r = admin.patch("policies/event_matcher/%s/" % p["pk"], {"name": other["name"]})
    assert r.status_code == 400 and "name" in r.json()
    odd = "'; DROP TABLE policies; -- \u00e9\u6f22 " + secrets.token_hex(3)
    r = admin.put("policies/event_matcher/%s/" % p["pk"], {"name": odd, "model": "authentik_core.group"})
    assert r.status_code == 200 and r.json()["name"] == odd
    assert r.json()["model"] == "authentik_core.group" and r.json()["app"] == "authentik.core"


def test_event_matcher_delete_and_404(admin):
    p = make_policy(admin)
    app = make_app(admin)
    b = make_binding(admin, app["pk"], policy=p["pk"])
    assert admin.delete("policies/event_matcher/%s/" % p["pk"]).status_code == 204
    assert admin.get("policies/event_matcher/%s/" % p["pk"]).status_code == 404
    assert admin.get("policies/bindings/%s/" % b["pk"]).status_code == 404
    assert len(events_for("eventmatcherpolicy", p["pk"], "model_deleted")) == 1
    for path in ("policies/event_matcher/%s/" % uuid.uuid4(), "policies/event_matcher/nope/",
                 "policies/all/%s/" % uuid.uuid4(), "policies/all/nope/"):
        assert admin.get(path).status_code == 404
        assert admin.delete(path).status_code == 404


def test_event_matcher_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    a = make_policy(admin, name="a-" + tag, action="logout", app="authentik.core")
    b = make_policy(admin, name="b-" + tag, action="login", client_ip="9.9.9.9")
    r = admin.get("policies/event_matcher/", params={"search": tag})
    body = r.json()
    assert set(body) == {"pagination", "results", "autocomplete"}
    assert [x["pk"] for x in body["results"]] == [a["pk"], b["pk"]]
    r = admin.get("policies/event_matcher/", params={"search": tag, "ordering": "-name"})
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"], a["pk"]]
    for params, want in (({"action": "logout"}, a), ({"client_ip": "9.9.9.9"}, b),
                         ({"app": "authentik.core"}, a), ({"name": "b-" + tag}, b),
                         ({"policy_uuid": a["pk"]}, a)):
        params["search"] = tag
        assert [x["pk"] for x in admin.get("policies/event_matcher/", params=params)
                .json()["results"]] == [want["pk"]], params
    assert admin.get("policies/event_matcher/", params={"policy_uuid": "x"}).status_code == 400


def test_event_matcher_permissions(admin, as_user):
    p = make_policy(admin)
    path = "policies/event_matcher/%s/" % p["pk"]
    api, _ = as_user()
    assert api.get("policies/event_matcher/").json()["results"] == []
    assert api.get(path).status_code == 403
    assert api.post("policies/event_matcher/", {"name": name(), "action": "login"}).status_code == 403
    assert api.patch(path, {"action": "logout"}).status_code == 403
    assert api.delete(path).status_code == 403
    api, _ = as_user(perms=[EM % "add"])
    assert api.post("policies/event_matcher/", {"name": name(), "action": "login"}).status_code == 201
    api, _ = as_user(object_perms=[(EM % "view", p["pk"]), (EM % "change", p["pk"]),
                                   (EM % "delete", p["pk"])])
    assert [x["pk"] for x in api.get("policies/event_matcher/").json()["results"]] == [p["pk"]]
    assert api.get(path).status_code == 200
    other = make_policy(admin)
    assert api.get("policies/event_matcher/%s/" % other["pk"]).status_code == 403
    assert api.patch("policies/event_matcher/%s/" % other["pk"], {}).status_code == 403
    assert api.patch(path, {"action": "logout"}).status_code == 200
    assert api.delete(path).status_code == 204
    assert Api_anon(admin).get("policies/event_matcher/").status_code == 401


def Api_anon(admin):
    from conftest import Api
    return Api(admin.base[:-len("/api/v3")], None)


# ---- all/ ----

def test_all_list_get_types_delete(admin):
    tag = secrets.token_hex(4)
    p = make_policy(admin, name="all-" + tag)
    q = make_policy(admin, name="all2-" + tag)
    app = make_app(admin)
    make_binding(admin, app["pk"], policy=p["pk"])
    r = admin.get("policies/all/", params={"search": tag})
    res = r.json()["results"]
    assert [x["pk"] for x in res] == [p["pk"], q["pk"]]
    assert set(res[0]) == POLICY_FIELDS and res[0]["bound_to"] == 1 and res[1]["bound_to"] == 0
    r = admin.get("policies/all/", params={"search": tag, "bindings__isnull": "true"})
    assert [x["pk"] for x in r.json()["results"]] == [q["pk"]]
    r = admin.get("policies/all/", params={"search": tag, "bindings__isnull": "false"})
    assert [x["pk"] for x in r.json()["results"]] == [p["pk"]]
    r = admin.get("policies/all/", params={"search": tag, "promptstage__isnull": "false"})
    assert r.json()["results"] == []
    assert admin.get("policies/all/", params={"bindings__isnull": "x"}).status_code == 400
    t = admin.get("policies/all/types/")
    assert t.status_code == 200
    types = t.json()
    assert [x["model_name"] for x in types] == [
        "eventmatcherpolicy", "expressionpolicy", "passwordexpirypolicy", "passwordpolicy",
        "uniquepasswordpolicy", "reputationpolicy"]
    assert types[0] == {"name": "Event Matcher Policy",
                        "description": "Passes when Event matches selected criteria.",
                        "component": "ak-policy-event-matcher-form",
                        "model_name": "eventmatcherpolicy", "requires_enterprise": False,
                        "deprecated": False}
    assert [x["requires_enterprise"] for x in types] == [False, False, False, False, True, False]
    assert admin.delete("policies/all/%s/" % p["pk"]).status_code == 204
    assert admin.get("policies/all/%s/" % p["pk"]).status_code == 404
    ev = events_for("eventmatcherpolicy", p["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_policies_event_matcher"
    assert sql("SELECT count(*) FROM policy_bindings WHERE policy = %s", p["pk"])[0][0] == 0


def test_all_permissions(admin, as_user):
    p = make_policy(admin)
    path = "policies/all/%s/" % p["pk"]
    api, _ = as_user()
    assert api.get("policies/all/").json()["results"] == []
    assert api.get(path).status_code == 403
    assert api.delete(path).status_code == 403
    assert api.get("policies/all/types/").status_code == 200
    api, _ = as_user(object_perms=[("authentik_policies.view_policy", p["pk"])])
    assert [x["pk"] for x in api.get("policies/all/").json()["results"]] == [p["pk"]]
    assert api.get(path).status_code == 200
    assert api.delete(path).status_code == 403
    api, _ = as_user(perms=["authentik_policies.delete_policy"])
    assert api.delete(path).status_code == 204
    assert Api_anon(admin).get("policies/all/types/").status_code == 401


# ---- bindings ----

def test_binding_create_shapes_and_event(admin):
    app = make_app(admin)
    p = make_policy(admin)
    g = make_group(admin)
    uid, _ = create_user()
    b = make_binding(admin, app["pk"], policy=p["pk"], order=5, pk="ignored", policy_obj=1)
    assert set(b) == BINDING_FIELDS
    assert (b["policy"], b["group"], b["user"], b["target"], b["order"]) == (
        p["pk"], None, None, app["pk"], 5)
    assert (b["negate"], b["enabled"], b["timeout"], b["failure_result"]) == (False, True, 30, False)
    assert b["policy_obj"]["pk"] == p["pk"] and b["policy_obj"]["bound_to"] == 1
    assert b["policy_obj"]["action"] == "login" and b["group_obj"] is None and b["user_obj"] is None
    assert admin.get("policies/bindings/%s/" % b["pk"]).json() == b
    bg = make_binding(admin, app["pk"], group=g["pk"], order=6, negate=True, timeout=0,
                      failure_result=True, enabled=False)
    assert bg["group_obj"] == {"pk": g["pk"], "num_pk": g["num_pk"], "name": g["name"],
                               "is_superuser": False, "attributes": {}}
    assert (bg["negate"], bg["enabled"], bg["timeout"], bg["failure_result"]) == (True, False, 0, True)
    bu = make_binding(admin, app["pk"], user=uid, order=7)
    assert bu["user_obj"]["pk"] == uid and set(bu["user_obj"]) == {
        "pk", "username", "name", "is_active", "last_login", "email", "attributes", "uid"}
    assert "password" not in str(bu)
    ev = events_for("policybinding", b["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_policies"
    assert ev[0][0]["diff"]["target"] == {"previous": None, "new": app["pk"]}


def test_binding_validation(admin):
    app = make_app(admin)
    p = make_policy(admin)
    g = make_group(admin)
    r = admin.post("policies/bindings/", {})
    assert r.status_code == 400
    assert r.json() == {"target": ["This field is required."], "order": ["This field is required."]}
    r = admin.post("policies/bindings/", {"target": app["pk"], "order": 0})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["One of 'policy', 'group' or 'user' must be set."]}
    r = admin.post("policies/bindings/", {"target": app["pk"], "order": 0, "policy": p["pk"],
                                          "group": g["pk"]})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Only one of 'policy', 'group' or 'user' can be set."]}
    missing = str(uuid.uuid4())
    r = admin.post("policies/bindings/", {"target": missing, "order": 0, "policy": p["pk"]})
    assert r.status_code == 400
    assert r.json() == {"target": ['Invalid pk "%s" - object does not exist.' % missing]}
    for field, bad in (("policy", missing), ("group", missing), ("user", 2 ** 40),
                       ("policy", "x"), ("user", "x"), ("target", 5), ("order", "x"),
                       ("order", 2 ** 31), ("timeout", -1), ("negate", "x"), ("group", 5)):
        body = {"target": app["pk"], "order": 0, "policy": p["pk"]}
        body[field] = bad
        r = admin.post("policies/bindings/", body)
        assert r.status_code == 400 and field in r.json(), (field, bad, r.text)
    make_binding(admin, app["pk"], policy=p["pk"], order=1)
    r = admin.post("policies/bindings/", {"target": app["pk"], "order": 1, "policy": p["pk"]})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["The fields policy, target, order must make a unique set."]}
    # Group bindings at the same order do not collide (policy is null), as in authentik.
    make_binding(admin, app["pk"], group=g["pk"], order=1)
    make_binding(admin, app["pk"], group=g["pk"], order=1)
    assert sql("SELECT count(*) FROM policy_bindings WHERE target = %s", app["pk"])[0][0] == 3


def test_binding_update_and_delete(admin):
    app = make_app(admin)
    p = make_policy(admin)
    g = make_group(admin)
    b = make_binding(admin, app["pk"], policy=p["pk"])
    path = "policies/bindings/%s/" % b["pk"]
    r = admin.patch(path, {"enabled": False, "order": 3})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["order"] == 3
    ev = events_for("policybinding", b["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"enabled": {"previous": True, "new": False},
                                 "order": {"previous": 0, "new": 3}}
    r = admin.patch(path, {"policy": None, "group": g["pk"]})
    assert r.status_code == 200 and r.json()["group_obj"]["pk"] == g["pk"]
    assert r.json()["policy"] is None and r.json()["policy_obj"] is None
    r = admin.patch(path, {"policy": p["pk"]})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    r = admin.put(path, {"group": g["pk"]})
    assert r.status_code == 400 and set(r.json()) == {"target", "order"}
    r = admin.patch(path, {"target": str(uuid.uuid4())})
    assert r.status_code == 400 and "target" in r.json()
    assert admin.get(path).json()["order"] == 3
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404
    assert admin.delete(path).status_code == 404
    assert len(events_for("policybinding", b["pk"], "model_deleted")) == 1
    assert admin.get("policies/bindings/nope/").status_code == 404


def test_binding_goes_with_target_group_user(admin):
    app = make_app(admin)
    g = make_group(admin)
    p = make_policy(admin)
    b1 = make_binding(admin, app["pk"], policy=p["pk"])
    b2 = make_binding(admin, app["pk"], group=g["pk"], order=1)
    other = make_app(admin)
    b3 = make_binding(admin, other["pk"], group=g["pk"])
    assert admin.delete("core/groups/%s/" % g["pk"]).status_code == 204
    assert admin.get("policies/bindings/%s/" % b2["pk"]).status_code == 404
    assert admin.get("policies/bindings/%s/" % b3["pk"]).status_code == 404
    assert admin.delete("core/applications/%s/" % app["slug"]).status_code == 204
    assert admin.get("policies/bindings/%s/" % b1["pk"]).status_code == 404
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", app["pk"])[0][0] == 0
    # The policy stays; only its binding went.
    assert admin.get("policies/event_matcher/%s/" % p["pk"]).json()["bound_to"] == 0


def test_binding_list_filters_ordering(admin):
    app = make_app(admin)
    app2 = make_app(admin)
    p = make_policy(admin, name=name("flt"))
    g = make_group(admin)
    b1 = make_binding(admin, app["pk"], policy=p["pk"], order=2)
    b2 = make_binding(admin, app["pk"], group=g["pk"], order=1, enabled=False, timeout=5)
    b3 = make_binding(admin, app2["pk"], group=g["pk"], order=0)

    def pks(**params):
        r = admin.get("policies/bindings/", params=params)
        assert r.status_code == 200, r.text
        return [x["pk"] for x in r.json()["results"]]

    assert pks(target=app["pk"]) == [b2["pk"], b1["pk"]]
    assert pks(target=app["pk"], ordering="-order") == [b1["pk"], b2["pk"]]
    assert pks(target=app["pk"], policy=p["pk"]) == [b1["pk"]]
    assert pks(target=app["pk"], policy__isnull="true") == [b2["pk"]]
    assert pks(target=app["pk"], enabled="false") == [b2["pk"]]
    assert pks(target=app["pk"], timeout=5) == [b2["pk"]]
    assert pks(target=app["pk"], order=2) == [b1["pk"]]
    assert set(pks(target_in=[app["pk"], app2["pk"]], page_size=100)) == {b1["pk"], b2["pk"], b3["pk"]}
    assert pks(search=p["name"]) == [b1["pk"]]
    assert admin.get("policies/bindings/", params={"target_in": "x"}).status_code == 400
    assert admin.get("policies/bindings/", params={"target": "x"}).status_code == 400
    assert admin.get("policies/bindings/", params={"order": "x"}).status_code == 400


def test_binding_permissions(admin, as_user):
    app = make_app(admin)
    p = make_policy(admin)
    b = make_binding(admin, app["pk"], policy=p["pk"])
    path = "policies/bindings/%s/" % b["pk"]
    api, _ = as_user()
    assert api.get("policies/bindings/").json()["results"] == []
    assert api.get(path).status_code == 403
    assert api.post("policies/bindings/", {"target": app["pk"], "order": 9,
                                           "policy": p["pk"]}).status_code == 403
    assert api.patch(path, {"order": 4}).status_code == 403
    assert api.delete(path).status_code == 403
    api, _ = as_user(perms=[PB % "add"])
    assert api.post("policies/bindings/", {"target": app["pk"], "order": 9,
                                           "policy": p["pk"]}).status_code == 201
    api, _ = as_user(object_perms=[(PB % "view", b["pk"]), (PB % "change", b["pk"]),
                                   (PB % "delete", b["pk"])])
    assert [x["pk"] for x in api.get("policies/bindings/").json()["results"]] == [b["pk"]]
    assert api.get(path).status_code == 200
    assert api.patch(path, {"order": 4}).status_code == 200
    assert api.delete(path).status_code == 204
    assert Api_anon(admin).get("policies/bindings/").status_code == 401


def test_all_and_bindings_show_each_kind(admin):
    """all/ and a binding's policy_obj serialise a policy by its own kind."""
    tag = secrets.token_hex(4)
    r = admin.post("policies/expression/", {"name": "kind-expr-" + tag,
                                            "expression": "return true"})
    assert r.status_code == 201, r.text
    e = r.json()
    r = admin.post("policies/password_expiry/", {"name": "kind-exp-" + tag, "days": 3})
    assert r.status_code == 201, r.text
    x = r.json()
    res = admin.get("policies/all/", params={"search": tag}).json()["results"]
    assert [p["pk"] for p in res] == [x["pk"], e["pk"]]
    assert res[0]["component"] == "ak-policy-password-expiry-form" and res[0]["days"] == 3
    assert res[1]["expression"] == "return true"
    assert res[1]["meta_model_name"] == "authentik_policies_expression.expressionpolicy"
    app = make_app(admin)
    b = make_binding(admin, app["pk"], policy=e["pk"])
    assert b["policy_obj"]["expression"] == "return true"
    assert b["policy_obj"]["verbose_name"] == "Expression Policy"
    # Deleting through all/ names the kind in the event.
    assert admin.delete("policies/all/%s/" % x["pk"]).status_code == 204
    ev = events_for("passwordexpirypolicy", x["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_policies_expiry"
