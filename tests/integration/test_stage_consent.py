"""The consent stage (ak-stage-consent).

The application and the permissions asked for come from the plan context, where an OAuth or
SAML provider puts them; these tests put them there through the session's stored plan
(FlowClient.set_context) while the flow waits at the password stage.
"""
import datetime
import secrets

from conftest import FlowClient, login_flow_make, login_user, sql

PASSWORD = "correct horse battery"
OPENID = {"id": "openid", "name": "General profile"}
EMAIL = {"id": "email", "name": "Email address"}


def make_app():
    slug = "app-" + secrets.token_hex(4)
    return sql("INSERT INTO applications (name, slug) VALUES (%s, %s) RETURNING uuid::text",
               "App " + slug, slug)[0][0]


def consent_flow(config):
    return login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                            ("consentstage", config)])[0]


def run_to_consent(base, slug, name, **context):
    """identification and password, with context put into the plan on the way; returns the
    client and what the executor shows after the password."""
    fc = FlowClient(base, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": name})
    assert c["component"] == "ak-stage-password"
    if context:
        fc.set_context(**context)
    return fc, fc.post({"component": "ak-stage-password", "password": PASSWORD})


def consents(uid, app):
    return sql("SELECT permissions, expiring, expires, now() FROM user_consents "
               "WHERE user_id = %s AND application = %s", uid, app)


def test_challenge_without_application(lighttpd):
    """No application: asked every time, nothing stored, whatever the mode."""
    uid, name = login_user()
    slug = consent_flow({"mode": "permanent"})
    fc, c = run_to_consent(lighttpd, slug, name)
    assert c["component"] == "ak-stage-consent"
    assert c["permissions"] == [] and c["additional_permissions"] == []
    assert c["pending_user"] == name
    assert "header_text" not in c
    assert isinstance(c["token"], str) and len(c["token"]) >= 16
    done = fc.post({"component": "ak-stage-consent", "token": c["token"]})
    assert done == {"component": "xak-flow-redirect", "to": "/"}
    assert sql("SELECT count(*) FROM user_consents WHERE user_id = %s", uid)[0][0] == 0


def test_token_must_match(lighttpd):
    _, name = login_user()
    slug = consent_flow({"mode": "always_require"})
    fc, c = run_to_consent(lighttpd, slug, name)
    token = c["token"]
    for body, err in (({}, ("This field is required.", "required")),
                      ({"token": ""}, ("This field may not be blank.", "blank")),
                      ({"token": 1}, ("Not a valid string.", "invalid")),
                      ({"token": token + "x"},
                       ("Invalid consent token, re-showing prompt", "invalid")),
                      ({"token": token[:-1]},
                       ("Invalid consent token, re-showing prompt", "invalid"))):
        c = fc.post(dict(body, component="ak-stage-consent"))
        assert c["component"] == "ak-stage-consent", body
        assert c["response_errors"] == {"token": [{"string": err[0], "code": err[1]}]}, body
    # Each showing has a token of its own: an earlier one does not count.
    assert c["token"] != token
    c2 = fc.post({"component": "ak-stage-consent", "token": token})
    assert c2["component"] == "ak-stage-consent" and "response_errors" in c2
    assert fc.post({"component": "ak-stage-consent", "token": c2["token"]})["component"] == \
        "xak-flow-redirect"


def test_expiring(lighttpd):
    uid, name = login_user()
    app = make_app()
    slug = consent_flow({})  # mode expiring, consent_expire_in weeks=4 by default
    fc, c = run_to_consent(lighttpd, slug, name, application=app,
                           consent_permissions=[OPENID, EMAIL], consent_header="Share this?")
    assert c["component"] == "ak-stage-consent"
    assert c["header_text"] == "Share this?"
    assert c["permissions"] == [OPENID, EMAIL]
    assert c["additional_permissions"] == []
    assert fc.post({"component": "ak-stage-consent", "token": c["token"]})["component"] == \
        "xak-flow-redirect"
    [(perms, expiring, expires, now)] = consents(uid, app)
    assert perms == "openid email" and expiring is True
    assert abs((expires - now) - datetime.timedelta(weeks=4)) < datetime.timedelta(minutes=1)
    # Given once, not asked again while it lasts.
    _, c = run_to_consent(lighttpd, slug, name, application=app,
                          consent_permissions=[EMAIL])
    assert c == {"component": "xak-flow-redirect", "to": "/"}
    # Once it has run out, asked again.
    sql("UPDATE user_consents SET expires = now() - interval '1 second' WHERE user_id = %s", uid)
    _, c = run_to_consent(lighttpd, slug, name, application=app,
                          consent_permissions=[OPENID, EMAIL])
    assert c["component"] == "ak-stage-consent"
    assert c["permissions"] == [OPENID, EMAIL] and c["additional_permissions"] == []


def test_expire_in(lighttpd):
    uid, name = login_user()
    app = make_app()
    slug = consent_flow({"mode": "expiring", "consent_expire_in": "hours=1;minutes=30"})
    fc, c = run_to_consent(lighttpd, slug, name, application=app, consent_permissions=[OPENID])
    fc.post({"component": "ak-stage-consent", "token": c["token"]})
    [(_, _, expires, now)] = consents(uid, app)
    assert abs((expires - now) - datetime.timedelta(minutes=90)) < datetime.timedelta(minutes=1)


def test_permanent(lighttpd):
    uid, name = login_user()
    app = make_app()
    slug = consent_flow({"mode": "permanent"})
    fc, c = run_to_consent(lighttpd, slug, name, application=app, consent_permissions=[OPENID])
    fc.post({"component": "ak-stage-consent", "token": c["token"]})
    [(perms, expiring, expires, _)] = consents(uid, app)
    assert (perms, expiring, expires) == ("openid", False, None)
    _, c = run_to_consent(lighttpd, slug, name, application=app, consent_permissions=[OPENID])
    assert c["component"] == "xak-flow-redirect"
    # Another user, or another application, is not covered by it.
    _, other = login_user()
    _, c = run_to_consent(lighttpd, slug, other, application=app, consent_permissions=[OPENID])
    assert c["component"] == "ak-stage-consent"
    _, c = run_to_consent(lighttpd, slug, name, application=make_app(),
                          consent_permissions=[OPENID])
    assert c["component"] == "ak-stage-consent"


def test_always_require(lighttpd):
    uid, name = login_user()
    app = make_app()
    slug = consent_flow({"mode": "always_require"})
    for _ in range(2):
        fc, c = run_to_consent(lighttpd, slug, name, application=app,
                               consent_permissions=[OPENID])
        assert c["component"] == "ak-stage-consent"
        fc.post({"component": "ak-stage-consent", "token": c["token"]})
    assert consents(uid, app) == []


def test_new_permissions_are_additional(lighttpd):
    uid, name = login_user()
    app = make_app()
    slug = consent_flow({"mode": "permanent"})
    fc, c = run_to_consent(lighttpd, slug, name, application=app, consent_permissions=[OPENID])
    fc.post({"component": "ak-stage-consent", "token": c["token"]})
    fc, c = run_to_consent(lighttpd, slug, name, application=app,
                           consent_permissions=[OPENID, EMAIL])
    assert c["component"] == "ak-stage-consent"
    assert c["permissions"] == [OPENID]
    assert c["additional_permissions"] == [EMAIL]
    # A wrong token shows the same split again.
    c = fc.post({"component": "ak-stage-consent", "token": "nope"})
    assert c["permissions"] == [OPENID] and c["additional_permissions"] == [EMAIL]
    assert fc.post({"component": "ak-stage-consent", "token": c["token"]})["component"] == \
        "xak-flow-redirect"
    # One consent per user and application, now covering both.
    assert [r[0] for r in consents(uid, app)] == ["openid email"]


def test_anonymous_cannot_consent(lighttpd):
    app = make_app()
    slug, _ = login_flow_make([("consentstage", {"mode": "permanent"})])
    fc = FlowClient(lighttpd, slug)
    c = fc.get()
    assert c["component"] == "ak-stage-consent"
    fc.set_context(application=app, consent_permissions=[OPENID])
    c = fc.post({"component": "ak-stage-consent", "token": c["token"]})
    assert c["component"] == "ak-stage-access-denied"
    assert sql("SELECT count(*) FROM user_consents WHERE application = %s", app)[0][0] == 0
