"""The identification stage (ak-stage-identification) through the flow executor."""
import secrets
import time

from conftest import FlowClient, login_flow_make, login_stage_make, login_user, sql

PASSWORD = "correct horse battery"


def ident_flow(config=None, designation="authentication", extra=()):
    """identification (config) -> password -> extra stages."""
    return login_flow_make([("identificationstage", config or {}),
                            ("passwordstage", {})] + list(extra), designation=designation)


def test_challenge_shape(lighttpd):
    slug, _ = ident_flow()
    c = FlowClient(lighttpd, slug).get()
    assert c["component"] == "ak-stage-identification"
    assert c["user_fields"] == ["email", "username"]
    assert c["password_fields"] is False
    assert c["allow_show_password"] is False
    assert c["flow_designation"] == "authentication"
    assert c["primary_action"] == "Log in"
    assert c["sources"] == []
    assert c["show_source_labels"] is False
    assert c["enable_remember_me"] is False
    assert c["captcha_stage"] is None
    assert c["passkey_challenge"] is None
    assert "flow_info" in c
    for k in ("enroll_url", "recovery_url", "passwordless_url", "application_pre",
              "pending_user", "pending_user_identifier", "response_errors"):
        assert k not in c, k


def test_challenge_config(lighttpd):
    enroll, _ = login_flow_make([], designation="enrollment")
    recovery, _ = login_flow_make([], designation="recovery")
    pwless, _ = login_flow_make([], designation="authentication")
    ids = {s: sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", s)[0][0]
           for s in (enroll, recovery, pwless)}
    pw = login_stage_make("passwordstage", {"allow_show_password": True})
    slug, _ = ident_flow({"user_fields": ["upn", "username"], "enrollment_flow": ids[enroll],
                          "recovery_flow": ids[recovery], "passwordless_flow": ids[pwless],
                          "password_stage": pw, "show_source_labels": True,
                          "enable_remember_me": True}, designation="recovery")
    c = FlowClient(lighttpd, slug, query="next=%2Fafter%2F").get()
    assert c["user_fields"] == ["username", "upn"]
    assert c["password_fields"] is True
    assert c["allow_show_password"] is True
    assert c["flow_designation"] == "recovery"
    assert c["primary_action"] == "Continue"
    assert c["show_source_labels"] is True
    assert c["enable_remember_me"] is True
    # The linked flows keep the page's query.
    assert c["enroll_url"] == "/if/flow/%s/?next=%%2Fafter%%2F" % enroll
    assert c["recovery_url"] == "/if/flow/%s/?next=%%2Fafter%%2F" % recovery
    assert c["passwordless_url"] == "/if/flow/%s/?next=%%2Fafter%%2F" % pwless


def test_challenge_dangling_references(lighttpd):
    """A config naming flows or a password stage that are gone (or are no uuids) links none."""
    gone = "00000000-0000-4000-8000-000000000000"
    slug, _ = ident_flow({"enrollment_flow": gone, "recovery_flow": "x' OR 1=1 --",
                          "password_stage": gone})
    c = FlowClient(lighttpd, slug).get()
    assert c["password_fields"] is False
    assert "enroll_url" not in c and "recovery_url" not in c


def test_known_user_by_username_and_email(lighttpd):
    uid, name = login_user(email="Ident.%s@Example.com" % secrets.token_hex(3))
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    slug, _ = ident_flow()
    for typed in (name, name.upper(), email.lower()):
        fc = FlowClient(lighttpd, slug)
        fc.get()
        r = fc.post({"component": "ak-stage-identification", "uid_field": typed}, follow=False)
        assert r.status_code == 302
        assert r.headers["Location"].startswith("/api/v3/flows/executor/%s/" % slug)
        c = fc.get()
        assert c["component"] == "ak-stage-password"
        assert c["pending_user"] == name
        ctx = fc.plan()["context"]
        assert ctx["pending_user"] == uid
        # A matched user is shown as the account (show_matched_user), not as typed.
        assert "pending_user_identifier" not in ctx


def test_show_matched_user_off_keeps_what_was_typed(lighttpd):
    uid, name = login_user()
    slug, _ = ident_flow({"show_matched_user": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": name.upper()})
    ctx = fc.plan()["context"]
    assert ctx["pending_user"] == uid
    assert ctx["pending_user_identifier"] == name.upper()
    # The next challenge shows what was typed, not the matched account's name.
    assert c["component"] == "ak-stage-password"
    assert c["pending_user"] == name.upper()


def test_case_sensitive_and_fields(lighttpd):
    uid, name = login_user()
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    # Case-sensitive matching: the upper-cased name is nobody (and fails without pretending).
    slug, _ = ident_flow({"case_insensitive_matching": False, "pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": name.upper()})
    assert c["component"] == "ak-stage-identification"
    assert c["response_errors"] == {
        "non_field_errors": [{"string": "Failed to authenticate.", "code": "invalid"}]}
    assert "pending_user" not in fc.plan()["context"]
    c = fc.post({"component": "ak-stage-identification", "uid_field": name})
    assert c["component"] == "ak-stage-password"
    # Only usernames count: the email is nobody.
    slug, _ = ident_flow({"user_fields": ["username"], "pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": email})
    assert c["response_errors"]["non_field_errors"][0]["string"] == "Failed to authenticate."
    # upn from the user's attributes.
    upn = "upn-%s@corp.example" % secrets.token_hex(3)
    sql("UPDATE users SET attributes = jsonb_build_object('upn', %s::text) WHERE id = %s", upn, uid)
    slug, _ = ident_flow({"user_fields": ["upn"], "pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": upn.upper()})
    assert c["component"] == "ak-stage-password" and c["pending_user"] == name


def test_inactive_user_is_nobody(lighttpd):
    uid, name = login_user()
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    slug, _ = ident_flow({"pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": name})
    assert c["response_errors"]["non_field_errors"][0]["string"] == "Failed to authenticate."


def test_unknown_user_pretend(lighttpd):
    """Unknown identifiers go on to the password stage, shown as typed, and fail there."""
    slug, _ = ident_flow()
    fc = FlowClient(lighttpd, slug)
    fc.get()
    nobody = "nobody-" + secrets.token_hex(4)
    r = fc.post({"component": "ak-stage-identification", "uid_field": nobody}, follow=False)
    assert r.status_code == 302
    c = fc.get()
    assert c["component"] == "ak-stage-password"
    assert c["pending_user"] == nobody
    ctx = fc.plan()["context"]
    assert ctx["pending_user_identifier"] == nobody
    assert "pending_user" not in ctx
    c = fc.post({"component": "ak-stage-password", "password": PASSWORD})
    assert c["component"] == "ak-stage-password"
    assert c["response_errors"] == {"password": [{"string": "Invalid password", "code": "invalid"}]}


def test_unknown_and_known_look_the_same(lighttpd):
    """An unknown and a known username give the same answers (up to the name typed)."""
    _, name = login_user()
    nobody = "nobody-" + secrets.token_hex(4)
    slug, _ = ident_flow()
    seen = {}
    for typed in (name, nobody):
        fc = FlowClient(lighttpd, slug)
        first = fc.get()
        t0 = time.monotonic()
        r = fc.post({"component": "ak-stage-identification", "uid_field": typed}, follow=False)
        t_ident = time.monotonic() - t0
        nxt = fc.get()
        t0 = time.monotonic()
        wrong = fc.post({"component": "ak-stage-password", "password": "wrong " + typed})
        t_pw = time.monotonic() - t0
        assert nxt["pending_user"] == typed and wrong["pending_user"] == typed
        for c in (nxt, wrong):
            c["pending_user"] = "<typed>"
        seen[typed] = (first, r.status_code, r.headers.get("Location"), r.text, nxt, wrong)
        print("identification %s: %.1f ms, wrong password: %.1f ms"
              % ("known" if typed == name else "unknown", t_ident * 1000, t_pw * 1000))
    assert seen[name] == seen[nobody]


def test_inline_password(lighttpd):
    uid, name = login_user()
    pw = login_stage_make("passwordstage", {})
    slug, _ = login_flow_make([("identificationstage", {"password_stage": pw}),
                               ("dummystage", {})])
    failed = {}
    for typed, password in ((name, "wrong"), ("nobody-" + secrets.token_hex(3), PASSWORD),
                            (name, None), (name, "")):
        fc = FlowClient(lighttpd, slug)
        fc.get()
        body = {"component": "ak-stage-identification", "uid_field": typed}
        if password is not None:
            body["password"] = password
        c = fc.post(body)
        assert c["component"] == "ak-stage-identification", typed
        failed[typed] = c["response_errors"]
        assert c["response_errors"] == {
            "non_field_errors": [{"string": "Failed to authenticate.", "code": "invalid"}]}
        assert "pending_user" not in fc.plan()["context"]
    # A wrong password of a known user is an audited failed login.
    ev = sql("SELECT context FROM events WHERE action = 'login_failed' AND context ->> 'username' = %s",
             name)
    assert ev and ev[0][0]["stage"]["model_name"] == "identificationstage"
    fc = FlowClient(lighttpd, slug)
    fc.get()
    r = fc.post({"component": "ak-stage-identification", "uid_field": name, "password": PASSWORD},
                follow=False)
    assert r.status_code == 302
    ctx = fc.plan()["context"]
    assert ctx["pending_user"] == uid
    assert ctx["auth_method"] == "password"


def test_bad_answers(lighttpd):
    slug, _ = ident_flow()
    fc = FlowClient(lighttpd, slug)
    fc.get()
    none = {"non_field_errors": [{"string": "No identification data provided.", "code": "invalid"}]}
    for body in ({}, {"uid_field": ""}, {"uid_field": None}):
        c = fc.post(dict(body, component="ak-stage-identification"))
        assert c["component"] == "ak-stage-identification"
        assert c["response_errors"] == none, body
    c = fc.post({"component": "ak-stage-identification", "uid_field": ["a"]})
    assert c["response_errors"]["uid_field"][0]["code"] == "invalid"
    c = fc.post({"component": "ak-stage-identification", "uid_field": "a" * 10000})
    assert c["response_errors"]["uid_field"][0]["code"] == "max_length"
    # Wrong component, not JSON, empty body: the challenge again, nothing moved on.
    c = fc.post({"component": "ak-stage-password", "uid_field": "x"})
    assert c["component"] == "ak-stage-identification" and "response_errors" in c
    for data in (b"uid_field=x", b"", b"[1]", b'"x"'):
        r = fc.s.post(fc.url(), data=data, headers={"Content-Type": "application/json"},
                      allow_redirects=False)
        assert r.status_code == 200, data
        assert r.json()["component"] == "ak-stage-identification", data
    assert "pending_user" not in fc.plan()["context"]


def test_over_long_identifier_is_not_looked_up(lighttpd):
    """A 10,000-character identifier fails before any lookup (which would have kept it as
    the pending identifier)."""
    slug, _ = ident_flow()
    fc = FlowClient(lighttpd, slug)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": "é" * 10000})
    assert c["response_errors"]["uid_field"][0]["code"] == "max_length"
    assert "pending_user_identifier" not in fc.plan()["context"]
    # Just under the limit is looked up (and, pretending, goes on).
    c = fc.post({"component": "ak-stage-identification", "uid_field": "a" * 1024})
    assert c["component"] == "ak-stage-password"


def test_sql_in_identifier_is_data(lighttpd):
    uid, name = login_user()
    slug, _ = ident_flow({"pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    fc.get()
    for typed in ("' OR '1'='1", name + "' --", "%", "_" * len(name)):
        c = fc.post({"component": "ak-stage-identification", "uid_field": typed})
        assert c["component"] == "ak-stage-identification", typed
        assert c["response_errors"]["non_field_errors"][0]["string"] == "Failed to authenticate."


def test_application_and_prefill(lighttpd):
    """The plan's application is named on the challenge; an identifier that failed is filled in
    again."""
    slug_app = "app-" + secrets.token_hex(4)
    app = sql("INSERT INTO applications (name, slug, meta_launch_url) VALUES (%s, %s, %s) "
              "RETURNING uuid::text", "App " + slug_app, slug_app, "https://app.example/")[0][0]
    slug, _ = ident_flow({"pretend_user_exists": False})
    fc = FlowClient(lighttpd, slug)
    assert "application_pre" not in fc.get()
    fc.set_context(application=app)
    c = fc.get()
    assert c["application_pre"] == "App " + slug_app
    assert c["application_pre_launch"] == "https://app.example/"
    nobody = "nobody-" + secrets.token_hex(3)
    c = fc.post({"component": "ak-stage-identification", "uid_field": nobody})
    assert c["response_errors"]["non_field_errors"][0]["string"] == "Failed to authenticate."
    assert c["pending_user_identifier"] == nobody
    assert c["application_pre"] == "App " + slug_app
