"""The password stage (ak-stage-password): backends, failed attempts, audit, rehash on login."""
import hashlib
import json
import secrets

import argon2

from conftest import (FlowClient, create_user, login_flow_make, login_hash, login_user, sql)

PASSWORD = "correct horse battery"
CURRENT = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


def pw_flow(config=None, tail=("consentstage", {"mode": "always_require"})):
    """identification -> password (config) -> a stage that stops and shows itself, so that the
    plan (and its context) is still there to look at after the password stage."""
    stages = [("identificationstage", {}), ("passwordstage", config or {})]
    if tail:
        stages.append(tail)
    return login_flow_make(stages)


def default_recovery_url():
    """What a host no brand names gets: the default brand's recovery flow, if any."""
    rows = sql("SELECT f.slug FROM brands b JOIN flows f ON f.flow_uuid = b.flow_recovery "
               "WHERE b.\"default\"")
    return "/if/flow/%s/" % rows[0][0] if rows else ""


def start(base, slug, typed, **kw):
    fc = FlowClient(base, slug, **kw)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": typed})
    assert c["component"] == "ak-stage-password", c
    return fc, c


def answer(fc, password):
    return fc.post({"component": "ak-stage-password", "password": password})


def test_challenge_shape(lighttpd):
    _, name = login_user()
    slug, _ = pw_flow()
    _, c = start(lighttpd, slug, name, host="nobrand-%s.test" % secrets.token_hex(4))
    assert c["pending_user"] == name
    assert c["pending_user_avatar"]
    assert c["allow_show_password"] is False
    assert c["recovery_url"] == default_recovery_url()
    assert "flow_info" in c and "response_errors" not in c
    slug, _ = pw_flow({"allow_show_password": True})
    _, c = start(lighttpd, slug, name)
    assert c["allow_show_password"] is True


def test_recovery_url_from_brand(lighttpd):
    _, name = login_user()
    recovery, _ = login_flow_make([], designation="recovery")
    domain = "pw-%s.test" % secrets.token_hex(4)
    sql("INSERT INTO brands (domain, flow_recovery) SELECT %s, flow_uuid FROM flows WHERE slug = %s",
        domain, recovery)
    try:
        slug, _ = pw_flow()
        for host in (domain, "login." + domain + ":8443"):
            _, c = start(lighttpd, slug, name, host=host)
            assert c["recovery_url"] == "/if/flow/%s/" % recovery, host
        # Another host is not this brand's.
        _, c = start(lighttpd, slug, name, host="other-" + domain)
        assert c["recovery_url"] == default_recovery_url()
    finally:
        sql("DELETE FROM brands WHERE domain = %s", domain)


def test_right_password(lighttpd):
    uid, name = login_user()
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    c = answer(fc, PASSWORD)
    assert c["component"] == "ak-stage-consent"
    ctx = fc.plan()["context"]
    assert ctx["pending_user"] == uid
    assert ctx["auth_method"] == "password"
    assert ctx["auth_method_args"] == {}
    assert ctx["user_backend"] == "authentik.core.auth.InbuiltBackend"


def test_login_end_to_end(lighttpd):
    """identification, password and user_login: the session is signed in as the user."""
    _, name = login_user()
    slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                               ("userloginstage", {})])
    fc, _ = start(lighttpd, slug, name)
    c = answer(fc, PASSWORD)
    assert c == {"component": "xak-flow-redirect", "to": "/"}
    assert fc.me() == name


def test_wrong_password_is_audited_without_the_password(lighttpd):
    uid, name = login_user()
    slug, stages = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    secret = "wrong-" + secrets.token_hex(8)
    c = answer(fc, secret)
    assert c["component"] == "ak-stage-password"
    assert c["pending_user"] == name
    assert c["response_errors"] == {"password": [{"string": "Invalid password", "code": "invalid"}]}
    assert "auth_method" not in fc.plan()["context"]
    rows = sql("SELECT context, \"user\", host(client_ip), app FROM events "
               "WHERE action = 'login_failed' AND context ->> 'username' = %s", name)
    assert len(rows) == 1
    ctx, user, ip, app = rows[0]
    assert ip == fc.ip
    assert user["username"] == "AnonymousUser"
    assert ctx["stage"] == {"pk": stages[1].replace("-", ""), "app": "authentik_stages_password",
                            "model_name": "passwordstage",
                            "name": "%s-1-passwordstage" % slug}
    assert "password" not in ctx
    assert secret not in json.dumps(rows[0])
    # The audit API shows it too.
    admin_uid, key = create_user(superuser=True)
    r = fc.s.get(fc.base + "/api/v3/events/events/?action=login_failed&page_size=100",
                 headers={"Authorization": "Bearer " + key})
    assert r.status_code == 200
    assert any(e["context"].get("username") == name for e in r.json()["results"])


def test_failed_attempts_cancel(lighttpd):
    _, name = login_user()
    slug, _ = pw_flow({"failed_attempts_before_cancel": 3})
    fc, _ = start(lighttpd, slug, name)
    for _ in range(2):
        assert answer(fc, "nope")["component"] == "ak-stage-password"
    c = answer(fc, "nope")
    assert c["component"] == "ak-stage-access-denied"
    assert c["error_message"] == "Invalid password"
    # The plan is gone: the flow starts over, and even the right password needs a new start.
    assert fc.get()["component"] == "ak-stage-identification"
    assert len(sql("SELECT 1 FROM events WHERE action = 'login_failed' AND "
                   "context ->> 'username' = %s", name)) == 3


def test_default_is_five_attempts(lighttpd):
    _, name = login_user()
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    for _ in range(4):
        assert answer(fc, "nope")["component"] == "ak-stage-password"
    assert answer(fc, "nope")["component"] == "ak-stage-access-denied"


def test_missing_blank_and_odd_passwords(lighttpd):
    _, name = login_user()
    slug, _ = pw_flow({"failed_attempts_before_cancel": 2})
    fc, _ = start(lighttpd, slug, name)
    for body, field_error in (({}, ("This field is required.", "required")),
                              ({"password": None}, ("This field is required.", "required")),
                              ({"password": ""}, ("This field may not be blank.", "blank")),
                              ({"password": 12345}, ("Not a valid string.", "invalid")),
                              ({"password": [PASSWORD]}, ("Not a valid string.", "invalid"))):
        c = fc.post(dict(body, component="ak-stage-password"))
        assert c["component"] == "ak-stage-password", body
        assert c["response_errors"] == {
            "password": [{"string": field_error[0], "code": field_error[1]}]}, body
    # None of those was a try: the right password still works.
    assert answer(fc, PASSWORD)["component"] == "ak-stage-consent"


def test_over_long_password(lighttpd):
    uid, name = login_user(password="x" * 5000)
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    c = answer(fc, "x" * 5000)
    assert c["response_errors"]["password"][0]["string"] == "Invalid password"


def test_unusable_password(lighttpd):
    uid, name = login_user()
    sql("UPDATE users SET password = '!' || password WHERE id = %s", uid)
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    assert answer(fc, PASSWORD)["response_errors"]["password"][0]["code"] == "invalid"
    assert answer(fc, "!")["response_errors"]["password"][0]["code"] == "invalid"


def test_deactivated_after_identification(lighttpd):
    uid, name = login_user()
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    c = answer(fc, PASSWORD)
    assert c["component"] != "ak-stage-consent"
    assert "auth_method" not in (fc.plan() or {}).get("context", {})


def test_no_pending_user(lighttpd):
    slug, _ = login_flow_make([("passwordstage", {})])
    fc = FlowClient(lighttpd, slug)
    assert fc.get()["component"] == "ak-stage-password"
    c = answer(fc, PASSWORD)
    assert c["component"] == "ak-stage-access-denied"


def make_app_password(uid, intent="app_password", expires_sql="now() + interval '1 hour'"):
    key = secrets.token_urlsafe(40)
    ident = "ap-" + secrets.token_hex(5)
    sql("INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring, expires) "
        "VALUES (%s, %s, %s, %s, %s, true, " + expires_sql + ")",
        ident, key, hashlib.sha256(key.encode()).hexdigest(), intent, uid)
    return ident, key


def test_app_password(lighttpd):
    uid, name = login_user()
    other, _ = login_user()
    ident, key = make_app_password(uid)
    _, expired = make_app_password(uid, expires_sql="now() - interval '1 second'")
    _, api_key = make_app_password(uid, intent="api")
    _, others = make_app_password(other)
    slug, _ = pw_flow({"failed_attempts_before_cancel": 10})
    fc, _ = start(lighttpd, slug, name)
    for bad in (expired, api_key, others, key[:-1], key + "x"):
        c = answer(fc, bad)
        assert c["response_errors"]["password"][0]["string"] == "Invalid password"
    c = answer(fc, key)
    assert c["component"] == "ak-stage-consent"
    ctx = fc.plan()["context"]
    assert ctx["auth_method"] == "app_password"
    assert ctx["user_backend"] == "authentik.core.auth.TokenBackend"
    tok = sql("SELECT uuid::text FROM tokens WHERE identifier = %s", ident)[0][0]
    assert ctx["auth_method_args"] == {"token": {"pk": tok.replace("-", ""),
                                                 "app": "authentik_core",
                                                 "model_name": "token", "name": ident}}


def test_backends(lighttpd):
    uid, name = login_user()
    _, key = make_app_password(uid)
    inbuilt = "authentik.core.auth.InbuiltBackend"
    token = "authentik.core.auth.TokenBackend"
    for backends, good, bad in (([inbuilt], PASSWORD, key), ([token], key, PASSWORD),
                                ([], None, PASSWORD)):
        slug, _ = pw_flow({"backends": backends})
        fc, _ = start(lighttpd, slug, name)
        assert answer(fc, bad)["response_errors"]["password"][0]["code"] == "invalid", backends
        if good:
            assert answer(fc, good)["component"] == "ak-stage-consent", backends


def verify_current(encoded, password):
    assert encoded.startswith(CURRENT), encoded
    assert argon2.PasswordHasher().verify(encoded[len("argon2"):], password)


def test_rehash_pbkdf2(lighttpd):
    """A Django pbkdf2_sha256 hash works and becomes argon2id with the configured parameters."""
    uid, name = login_user(kind="pbkdf2_sha256")
    old, changed = sql("SELECT password, password_change_date FROM users WHERE id = %s", uid)[0]
    assert old.startswith("pbkdf2_sha256$")
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    assert answer(fc, PASSWORD)["component"] == "ak-stage-consent"
    new, changed2 = sql("SELECT password, password_change_date FROM users WHERE id = %s", uid)[0]
    assert new != old
    verify_current(new, PASSWORD)
    # The password did not change, only its hash.
    assert changed2 == changed
    # And the new hash logs in (and stays as it is).
    fc, _ = start(lighttpd, slug, name)
    assert answer(fc, PASSWORD)["component"] == "ak-stage-consent"
    assert sql("SELECT password FROM users WHERE id = %s", uid)[0][0] == new


def test_rehash_weak_argon2(lighttpd):
    uid, name = login_user()
    weak = login_hash(PASSWORD, time_cost=1, memory_cost=8192)
    sql("UPDATE users SET password = %s WHERE id = %s", weak, uid)
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    assert answer(fc, PASSWORD)["component"] == "ak-stage-consent"
    new = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    assert new != weak
    verify_current(new, PASSWORD)


def test_no_rehash_on_wrong_password_or_current_hash(lighttpd):
    uid, name = login_user(kind="pbkdf2_sha256")
    old = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    slug, _ = pw_flow()
    fc, _ = start(lighttpd, slug, name)
    answer(fc, "wrong")
    assert sql("SELECT password FROM users WHERE id = %s", uid)[0][0] == old
    uid, name = login_user()
    cur = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    fc, _ = start(lighttpd, slug, name)
    assert answer(fc, PASSWORD)["component"] == "ak-stage-consent"
    assert sql("SELECT password FROM users WHERE id = %s", uid)[0][0] == cur
