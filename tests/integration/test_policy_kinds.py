"""Policy kinds through the API (expression, password, password_expiry, reputation,
unique_password, dummy), each run through all/{pk}/test/ and through bindings on an
application (check_access), with the engine's modes, negation, failure results and timeouts."""
import secrets
import time

import pytest

from conftest import create_user, events_for, login_hash, redis_cli, sql

KINDS = {
    "expression": ("authentik_policies_expression", "expressionpolicy",
                   {"expression": "return true"}),
    "password": ("authentik_policies_password", "passwordpolicy", {}),
    "password_expiry": ("authentik_policies_expiry", "passwordexpirypolicy", {"days": 30}),
    "reputation": ("authentik_policies_reputation", "reputationpolicy", {}),
    "unique_password": ("authentik_policies_unique_password", "uniquepasswordpolicy", {}),
    "dummy": ("authentik_policies_dummy", "dummypolicy", {}),
}
BASE_FIELDS = {"pk", "name", "execution_logging", "component", "verbose_name",
               "verbose_name_plural", "meta_model_name", "bound_to"}


def name(prefix="pk"):
    return prefix + "-" + secrets.token_hex(5)


def make(admin, kind, **fields):
    body = {"name": name(kind)}
    body.update(KINDS[kind][2])
    body.update(fields)
    r = admin.post("policies/%s/" % kind, body)
    assert r.status_code == 201, r.text
    return r.json()


def test_policy(admin, policy, user, context=None):
    body = {"user": user}
    if context is not None:
        body["context"] = context
    r = admin.post("policies/all/%s/test/" % policy["pk"], body)
    assert r.status_code == 200, r.text
    return r.json()


test_policy.__test__ = False


def make_app(admin):
    r = admin.post("core/applications/", {"name": "App", "slug": name("app")})
    assert r.status_code == 201, r.text
    return r.json()


def bind(admin, target, order=0, **fields):
    body = {"target": target, "order": order}
    body.update(fields)
    r = admin.post("policies/bindings/", body)
    assert r.status_code == 201, r.text
    return r.json()


def check_access(admin, app, user=None):
    params = {"for_user": user} if user is not None else {}
    r = admin.get("core/applications/%s/check_access/" % app["slug"], params=params)
    assert r.status_code == 200, r.text
    return r.json()


def admin_id(admin):
    return admin.get("core/users/me/").json()["user"]["pk"]


# ---- CRUD of every kind ----

DEFAULTS = {
    "password": {"password_field": "password", "amount_digits": 0, "amount_uppercase": 0,
                 "amount_lowercase": 0, "amount_symbols": 0, "length_min": 0,
                 "symbol_charset": "!\\\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ",
                 "error_message": "", "check_static_rules": True,
                 "check_have_i_been_pwned": False, "check_zxcvbn": False,
                 "hibp_allowed_count": 0, "zxcvbn_score_threshold": 2},
    "password_expiry": {"days": 30, "deny_only": False},
    "reputation": {"check_ip": True, "check_username": True, "threshold": -5},
    "unique_password": {"password_field": "password", "num_historical_passwords": 1},
    "dummy": {"result": False, "wait_min": 5, "wait_max": 30},
    "expression": {"expression": "return true"},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_crud(admin, kind):
    app_label, model, _ = KINDS[kind]
    p = make(admin, kind)
    assert set(p) == BASE_FIELDS | set(DEFAULTS[kind])
    for k, v in DEFAULTS[kind].items():
        assert p[k] == v, k
    assert p["meta_model_name"] == app_label + "." + model
    assert p["execution_logging"] is False and p["bound_to"] == 0
    path = "policies/%s/%s/" % (kind, p["pk"])
    assert admin.get(path).json() == p
    assert admin.get("policies/all/%s/" % p["pk"]).json() == p
    listed = admin.get("policies/%s/" % kind, params={"search": p["name"]}).json()["results"]
    assert [x["pk"] for x in listed] == [p["pk"]]
    # A policy of another kind is not found under this kind's path.
    other = "dummy" if kind != "dummy" else "reputation"
    assert admin.get("policies/%s/%s/" % (other, p["pk"])).status_code == 404
    ev = events_for(model, p["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == app_label
    # PATCH changes one field; the event has the diff.
    field = {"password": ("length_min", 12), "password_expiry": ("days", 7),
             "reputation": ("threshold", -20), "unique_password": ("num_historical_passwords", 5),
             "dummy": ("result", True), "expression": ("expression", "return false")}[kind]
    r = admin.patch(path, {field[0]: field[1]})
    assert r.status_code == 200, r.text
    assert r.json()[field[0]] == field[1]
    ev = events_for(model, p["pk"], "model_updated")
    assert ev[-1][0]["diff"][field[0]] == {"previous": DEFAULTS[kind][field[0]],
                                           "new": field[1]}
    # PUT needs the name (and the kind's required fields).
    r = admin.put(path, {})
    assert r.status_code == 400 and "name" in r.json()
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404
    assert len(events_for(model, p["pk"], "model_deleted")) == 1


def test_kind_validation(admin):
    r = admin.post("policies/password/", {"name": name(), "length_min": -1,
                                          "check_zxcvbn": "maybe"})
    assert r.status_code == 400
    assert set(r.json()) == {"length_min", "check_zxcvbn"}
    r = admin.post("policies/password_expiry/", {"name": name()})
    assert r.status_code == 400 and r.json() == {"days": ["This field is required."]}
    r = admin.post("policies/reputation/", {"name": name(), "check_ip": False,
                                            "check_username": False})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Either IP or Username must be checked"]}
    # authentik's Python expressions do not compile in Lua: refused at save, as authentik
    # refuses a syntax error.
    r = admin.post("policies/expression/", {"name": name(),
                                            "expression": "return ak_is_group_member("
                                                          "request.user, name=\"x\")"})
    assert r.status_code == 400 and "expression" in r.json()
    r = admin.post("policies/expression/", {"name": name(), "expression": ""})
    assert r.status_code == 400 and "expression" in r.json()
    p = make(admin, "dummy")
    r = admin.post("policies/dummy/", {"name": p["name"]})
    assert r.status_code == 400 and r.json() == {"name": ["Policy with this name already exists."]}
    # Bodies past the API's limit are refused before any parsing.
    r = admin.post("policies/expression/", {"name": name(), "expression": "x" * 300000})
    assert r.status_code == 413


def test_kind_permissions(admin, as_user):
    p = make(admin, "expression")
    path = "policies/expression/%s/" % p["pk"]
    api, _ = as_user()
    assert api.get("policies/expression/").json()["results"] == []
    assert api.get(path).status_code == 403
    assert api.post("policies/expression/", {"name": name(), "expression": "return 1"}
                    ).status_code == 403
    assert api.patch(path, {"expression": "return false"}).status_code == 403
    assert api.delete(path).status_code == 403
    api, _ = as_user(perms=["authentik_policies_expression.change_expressionpolicy"])
    assert api.patch(path, {"expression": "return false"}).status_code == 200
    assert api.delete(path).status_code == 403


# ---- the test action ----

def test_expression_through_test_action(admin):
    uid, _ = create_user()
    sql("UPDATE users SET attributes = '{\"dept\": \"ops\"}' WHERE id = %s", uid)
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    p = make(admin, "expression", expression=(
        "ak_message('hello ' .. request.user.username) ak_logger('dept', request.user.attributes.dept) "
        "return request.user.attributes.dept == 'ops' and context.flag == 'yes' and "
        "request.http_request.method == 'POST' and ak_client_ip == '127.0.0.1' and "
        "request.http_request.headers['user-agent']:find('python-requests', 1, true) == 1 and "
        "request.http_request.headers.authorization == nil"))
    res = test_policy(admin, p, uid, {"flag": "yes"})
    assert res["passing"] is True
    assert res["messages"] == ["hello " + username]
    assert any(x["event"] == "dept ops" for x in res["log_messages"])
    assert set(res["log_messages"][0]) == {"timestamp", "log_level", "logger", "event",
                                           "attributes"}
    assert test_policy(admin, p, uid, {"flag": "no"})["passing"] is False
    assert test_policy(admin, p, uid)["passing"] is False


def test_expression_helpers(admin):
    uid, _ = create_user()
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    g = admin.post("core/groups/", {"name": name("grp")}).json()
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g["pk"], uid)
    p = make(admin, "expression", expression=(
        "local u = ak_user_by{username = '%s'} "
        "return u ~= nil and u.pk == %d and ak_is_group_member(u, {name = '%s'}) and "
        "not ak_is_group_member(u, {name = 'no-such-group'}) and "
        "ak_user_by{username = 'no-such-user-x'} == nil and "
        "regex_match(u.email, '@example\\\\.com$') and "
        "regex_replace(u.username, '^u-', 'x-') == 'x-' .. u.username:sub(3)"
        % (username, uid, g["name"])))
    res = test_policy(admin, p, admin_id(admin))
    assert res["passing"] is True, res


def test_expression_limits(admin):
    """Runaway scripts are cut off: the answer is quick, the policy fails (failure_result)."""
    for src, why in [("while true do end", "instruction limit"),
                     ("local t = {} while true do t[#t + 1] = string.rep('x', 1048576) end",
                      "memory"),
                     ("while true do pcall(function() while true do end end) end",
                      "instruction limit"),
                     ("return string.rep('a', 20000):find(string.rep('a-', 8) .. 'b')",
                      "too complex")]:
        p = make(admin, "expression", expression=src)
        t0 = time.monotonic()
        res = test_policy(admin, p, admin_id(admin))
        assert time.monotonic() - t0 < 5
        assert res["passing"] is False
        assert any(why in m for m in res["messages"]), res
        # The test action is a debug run: no policy_exception event.
        assert sql("SELECT count(*) FROM events WHERE action = 'policy_exception' AND "
                   "context ->> 'policy_uuid' = %s", p["pk"])[0][0] == 0
    # The sandbox has no way out.
    p = make(admin, "expression", expression=(
        "return io == nil and os == nil and load == nil and require == nil and debug == nil"))
    assert test_policy(admin, p, admin_id(admin))["passing"] is True
    p = make(admin, "expression", expression="return os.execute('touch /tmp/pwned')")
    res = test_policy(admin, p, admin_id(admin))
    assert res["passing"] is False and any("os" in m for m in res["messages"])


def test_test_action_checks(admin, as_user):
    p = make(admin, "dummy", wait_min=0, wait_max=1)
    path = "policies/all/%s/test/" % p["pk"]
    r = admin.post(path, {})
    assert r.status_code == 400 and r.json() == {"user": ["This field is required."]}
    r = admin.post(path, {"user": "1"})
    assert r.status_code == 400
    assert r.json() == {"user": ["Incorrect type. Expected pk value, received str."]}
    r = admin.post(path, {"user": 999999999})
    assert r.status_code == 400
    assert r.json() == {"user": ['Invalid pk "999999999" - object does not exist.']}
    r = admin.post(path, {"user": admin_id(admin), "context": []})
    assert r.status_code == 400 and "context" in r.json()
    assert admin.post("policies/all/000/test/", {"user": 1}).status_code == 404
    # Without change_policy: 403; with it but not view_user on the tested user: 400.
    api, me = as_user()
    assert api.post(path, {"user": me}).status_code == 403
    api, me = as_user(object_perms=[("authentik_policies.change_policy", p["pk"])])
    other, _ = create_user()
    r = api.post(path, {"user": other})
    assert r.status_code == 400
    api, me = as_user(perms=["authentik_core.view_user"],
                      object_perms=[("authentik_policies.change_policy", p["pk"])])
    r = api.post(path, {"user": other})
    assert r.status_code == 200 and r.json()["messages"] == ["dummy"]


def test_test_action_needs_change_permission(admin, as_user):
    """Testing runs the policy with a context of the caller's choosing: reading it is not
    enough, changing it is (on the object or on every policy)."""
    p = make(admin, "expression", expression="return true")
    path = "policies/all/%s/test/" % p["pk"]
    view = "authentik_policies.view_policy"
    change = "authentik_policies.change_policy"
    for perms, object_perms in (([view], []), ([], [(view, p["pk"])])):
        api, me = as_user(perms=perms + ["authentik_core.view_user"], object_perms=object_perms)
        assert api.get("policies/all/%s/" % p["pk"]).status_code == 200
        r = api.post(path, {"user": me})
        assert r.status_code == 403, r.text
    for perms, object_perms in (([change], []), ([], [(change, p["pk"])])):
        api, me = as_user(perms=perms + ["authentik_core.view_user"], object_perms=object_perms)
        r = api.post(path, {"user": me})
        assert r.status_code == 200, r.text
        assert r.json()["passing"] is True
    # Editing the kind is editing the policy: its change permission is enough too.
    kind = "authentik_policies_expression.change_expressionpolicy"
    for perms, object_perms in (([kind], []), ([], [(kind, p["pk"])])):
        api, me = as_user(perms=perms + ["authentik_core.view_user"], object_perms=object_perms)
        r = api.post(path, {"user": me})
        assert r.status_code == 200, r.text
    # Another kind's change permission is not.
    other_kind = "authentik_policies_dummy.change_dummypolicy"
    api, me = as_user(perms=[other_kind, view, "authentik_core.view_user"])
    assert api.post(path, {"user": me}).status_code == 403
    # Another policy's change permission does not reach this one.
    q = make(admin, "dummy", wait_min=0, wait_max=1)
    api, me = as_user(perms=["authentik_core.view_user"], object_perms=[(change, q["pk"])])
    assert api.post(path, {"user": me}).status_code == 403


def test_password_policy(admin):
    uid, _ = create_user(name="Alice Smith")
    p = make(admin, "password", length_min=8, amount_digits=1, amount_uppercase=1,
             amount_symbols=1, error_message="Too simple.")
    ctx = lambda pw: {"prompt_data": {"password": pw}}
    assert test_policy(admin, p, uid, ctx("Abcdefg1!"))["passing"] is True
    for weak in ["Abcde1!", "abcdefg1!", "Abcdefgh!", "Abcdefgh1"]:
        res = test_policy(admin, p, uid, ctx(weak))
        assert res["passing"] is False and res["messages"] == ["Too simple."], weak
    # The field may also be at the context's top level; absent, it fails.
    assert test_policy(admin, p, uid, {"password": "Abcdefg1!"})["passing"] is True
    res = test_policy(admin, p, uid, {})
    assert res["passing"] is False and res["messages"] == ["Password not set in context"]
    z = make(admin, "password", check_static_rules=False, check_zxcvbn=True,
             zxcvbn_score_threshold=2)
    res = test_policy(admin, z, uid, ctx("password1"))
    assert res["passing"] is False and res["messages"] == ["Password is too weak."]
    assert test_policy(admin, z, uid, ctx("v8#Qm!x2Lr9@Tz"))["passing"] is True
    # A 60,000-character password is scored on its first 72 characters, quickly.
    t0 = time.monotonic()
    res = test_policy(admin, z, uid, ctx("a" * 60000))
    assert res["passing"] is False and time.monotonic() - t0 < 2


def test_password_expiry_policy(admin):
    uid, _ = create_user()
    sql("UPDATE users SET password = %s, password_change_date = now() - interval '10 days' "
        "WHERE id = %s", login_hash("secret-pw-1"), uid)
    deny = make(admin, "password_expiry", days=5, deny_only=True)
    res = test_policy(admin, deny, uid)
    assert res == {"passing": False, "messages": ["Password has expired."],
                   "log_messages": res["log_messages"]}
    assert test_policy(admin, make(admin, "password_expiry", days=11), uid)["passing"] is True
    expire = make(admin, "password_expiry", days=5)
    res = test_policy(admin, expire, uid)
    assert res["passing"] is False
    assert res["messages"] == ["Password expired 5 days ago. Please update your password."]
    # The test action writes nothing; a real evaluation (a binding) makes it unusable.
    assert sql("SELECT left(password, 1) FROM users WHERE id = %s", uid)[0][0] != "!"
    app = make_app(admin)
    bind(admin, app["pk"], policy=expire["pk"])
    assert check_access(admin, app, uid)["passing"] is False
    assert sql("SELECT left(password, 1) FROM users WHERE id = %s", uid)[0][0] == "!"


def test_reputation_policy(admin):
    uid, _ = create_user()
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    p = make(admin, "reputation", check_ip=False, threshold=-5)
    key = "custos:reputation:user:" + username
    try:
        # No score (0) is above -5: a reputation policy passes only for a bad reputation.
        assert test_policy(admin, p, uid)["passing"] is False
        redis_cli("SET", key, "-5")
        assert test_policy(admin, p, uid)["passing"] is True
        redis_cli("SET", key, "-4")
        assert test_policy(admin, p, uid)["passing"] is False
        # The scores list shows it; deleting it resets the user.
        redis_cli("SET", key, "-7")
        scores = admin.get("policies/reputation/scores/").json()["results"]
        mine = [s for s in scores if s["identifier"] == username]
        assert mine == [{"pk": "user:" + username, "identifier": username, "ip": None,
                         "ip_geo_data": {}, "ip_asn_data": {}, "score": -7, "updated": None}]
        r = admin.delete("policies/reputation/scores/user:%s/" % username)
        assert r.status_code == 204
        assert admin.delete("policies/reputation/scores/user:%s/" % username).status_code == 404
        assert admin.delete("policies/reputation/scores/nonsense/").status_code == 404
        assert test_policy(admin, p, uid)["passing"] is False
    finally:
        redis_cli("DEL", key)


def test_reputation_policy_by_ip(admin):
    """Scores per client address (every test client is 127.0.0.1; the key is restored)."""
    key = "custos:reputation:ip:127.0.0.1"
    saved = redis_cli("GET", key).strip()
    p = make(admin, "reputation", check_username=False, threshold=-500)
    both = make(admin, "reputation", threshold=-500)
    uid, _ = create_user()
    try:
        redis_cli("SET", key, "-900")
        assert test_policy(admin, p, uid)["passing"] is True
        # Both checked: the lower of the two sides.
        assert test_policy(admin, both, uid)["passing"] is True
        redis_cli("SET", key, "-100")
        assert test_policy(admin, p, uid)["passing"] is False
        ips = [s for s in admin.get("policies/reputation/scores/").json()["results"]
               if s["pk"] == "ip:127.0.0.1"]
        assert ips and ips[0]["ip"] == "127.0.0.1" and ips[0]["identifier"] == ""
    finally:
        if saved:
            redis_cli("SET", key, saved)
        else:
            redis_cli("DEL", key)


def test_reputation_scores_permissions(as_user):
    api, _ = as_user()
    assert api.get("policies/reputation/scores/").status_code == 403
    assert api.delete("policies/reputation/scores/user:x/").status_code == 403
    api, _ = as_user(perms=["authentik_policies_reputation.view_reputation"])
    assert api.get("policies/reputation/scores/").status_code == 200


def test_unique_password_policy(admin):
    p = make(admin, "unique_password", num_historical_passwords=2)
    uid, _ = create_user()
    for pw in ["first-pass-1", "second-pass-2", "third-pass-3"]:
        sql("UPDATE users SET password = %s WHERE id = %s", login_hash(pw), uid)
    # Unusable hashes are not history.
    sql("UPDATE users SET password = '!' || password WHERE id = %s", uid)
    sql("UPDATE users SET password = %s WHERE id = %s", login_hash("third-pass-3"), uid)
    ctx = lambda pw: {"prompt_data": {"password": pw}}
    res = test_policy(admin, p, uid, ctx("third-pass-3"))
    assert res["passing"] is False
    assert res["messages"] == ["This password has been used previously. Please choose a "
                               "different one."]
    assert test_policy(admin, p, uid, ctx("second-pass-2"))["passing"] is True  # 3rd newest
    assert test_policy(admin, p, uid, ctx("first-pass-1"))["passing"] is True
    assert test_policy(admin, p, uid, ctx("brand-new-4"))["passing"] is True
    res = test_policy(admin, p, uid, {})
    assert res["passing"] is False and res["messages"] == ["Password not set in context"]
    # The history keeps as many as the largest policy asks for.
    assert sql("SELECT count(*) FROM user_password_history WHERE user_id = %s", uid)[0][0] == 2


def test_dummy_policy(admin):
    p = make(admin, "dummy", result=True, wait_min=0, wait_max=1)
    res = test_policy(admin, p, admin_id(admin))
    assert res["passing"] is True and res["messages"] == ["dummy"]


# ---- the engine, through bindings on an application ----

def expr(admin, src):
    return make(admin, "expression", expression=src)


def test_engine_modes_and_negate(admin):
    me = admin_id(admin)
    yes, no = expr(admin, "return true"), expr(admin, "return false")
    app = make_app(admin)
    assert check_access(admin, app)["passing"] is True  # no bindings
    b = bind(admin, app["pk"], order=0, policy=no["pk"])
    assert check_access(admin, app)["passing"] is False
    bind(admin, app["pk"], order=1, policy=yes["pk"])
    assert check_access(admin, app)["passing"] is True  # any
    r = admin.patch("core/applications/%s/" % app["slug"], {"policy_engine_mode": "all"})
    assert r.status_code == 200, r.text
    assert check_access(admin, app)["passing"] is False
    admin.patch("policies/bindings/%s/" % b["pk"], {"negate": True})
    assert check_access(admin, app)["passing"] is True
    admin.patch("policies/bindings/%s/" % b["pk"], {"enabled": False, "negate": False})
    assert check_access(admin, app)["passing"] is True
    # User and group bindings.
    other, _ = create_user()
    app2 = make_app(admin)
    bind(admin, app2["pk"], user=other)
    assert check_access(admin, app2, other)["passing"] is True
    assert check_access(admin, app2, me)["passing"] is False
    g = admin.post("core/groups/", {"name": name("grp")}).json()
    app3 = make_app(admin)
    bind(admin, app3["pk"], group=g["pk"])
    assert check_access(admin, app3, other)["passing"] is False
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g["pk"], other)
    assert check_access(admin, app3, other)["passing"] is True


def test_engine_failure_result_and_events(admin):
    app = make_app(admin)
    # A policy saved before the Lua engine (authentik's Python): it cannot compile.
    pol = sql("INSERT INTO policies (name, type) VALUES (%s, 'expressionpolicy') "
              "RETURNING policy_uuid::text", name())[0][0]
    sql("INSERT INTO expression_policies VALUES (%s, %s)", pol,
        "return ak_is_group_member(request.user, name='x')")
    b = bind(admin, app["pk"], policy=pol)
    res = check_access(admin, app)
    assert res["passing"] is False and len(res["messages"]) == 1
    admin.patch("policies/bindings/%s/" % b["pk"], {"failure_result": True, "negate": True})
    assert check_access(admin, app)["passing"] is True  # failure_result is not negated
    ev = sql("SELECT context, app FROM events WHERE action = 'policy_exception' AND "
             "context ->> 'policy_uuid' = %s", pol)
    assert len(ev) == 2 and ev[0][1] == "authentik.policies.process"
    assert ev[0][0]["binding"]["pk"] == b["pk"] and "message" in ev[0][0]["exception"]
    # execution_logging records each run.
    logged = make(admin, "expression", expression="return true", execution_logging=True)
    app2 = make_app(admin)
    bind(admin, app2["pk"], policy=logged["pk"])
    check_access(admin, app2)
    ev = sql("SELECT context FROM events WHERE action = 'policy_execution' AND "
             "context ->> 'policy_uuid' = %s", logged["pk"])
    assert len(ev) == 1 and ev[0][0]["result"]["passing"] is True


def test_engine_timeout(admin):
    """A slow policy is cut at its binding's timeout and gives the failure result."""
    slow = make(admin, "dummy", result=True, wait_min=5, wait_max=6)
    app = make_app(admin)
    bind(admin, app["pk"], policy=slow["pk"], timeout=1)
    t0 = time.monotonic()
    res = check_access(admin, app)
    assert time.monotonic() - t0 < 4
    assert res["passing"] is False and res["messages"] == ["Policy timed out"]


def test_check_access_hides_messages_from_non_superusers(admin, as_user):
    app = make_app(admin)
    bind(admin, app["pk"], policy=expr(admin, "ak_message('secret reason') return false")["pk"])
    assert check_access(admin, app)["messages"] == ["secret reason"]
    api, me = as_user()
    r = api.get("core/applications/%s/check_access/" % app["slug"])
    assert r.status_code == 200
    assert r.json() == {"passing": False, "messages": [], "log_messages": []}


def test_policy_change_bumps_flow_serial(admin):
    slug = name("flow")
    flow = sql("INSERT INTO flows (name, slug, designation) VALUES ('F', %s, 'authentication') "
               "RETURNING flow_uuid::text, serial", slug)[0]
    p = make(admin, "expression", expression="return true")
    bind(admin, flow[0], policy=p["pk"])
    before = sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow[0])[0][0]
    assert admin.patch("policies/expression/%s/" % p["pk"],
                       {"expression": "return false"}).status_code == 200
    assert sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow[0])[0][0] > before


def test_runaway_expression_on_a_login_flow(admin, lighttpd):
    """A flow guarded by a script that never ends, or allocates without end, still answers at
    once: the policy is cut off, fails, and the flow is denied; the same responders then log the
    next user in as usual."""
    from conftest import FlowClient, login_flow_make, login_user

    for src in ["while true do end",
                "local t = {} while true do t[#t + 1] = string.rep('x', 1048576) end"]:
        p = make(admin, "expression", expression=src)
        slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                                   ("userloginstage", {})])
        flow = admin.get("flows/instances/%s/" % slug).json()["pk"]
        r = admin.post("policies/bindings/", {"policy": p["pk"], "target": flow, "order": 0})
        assert r.status_code == 201, r.text
        t0 = time.monotonic()
        c = FlowClient(lighttpd, slug).get()
        assert time.monotonic() - t0 < 5
        assert c["component"] == "ak-stage-access-denied"
        assert sql("SELECT count(*) FROM events WHERE action = 'policy_exception' AND "
                   "context ->> 'policy_uuid' = %s", p["pk"])[0][0] >= 1
    uid, username = login_user()
    slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                               ("userloginstage", {})])
    fc = FlowClient(lighttpd, slug)
    fc.get()
    fc.post({"component": "ak-stage-identification", "uid_field": username})
    end = fc.post({"component": "ak-stage-password", "password": "correct horse battery"})
    assert end["component"] == "xak-flow-redirect"
