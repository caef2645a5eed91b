"""The flow executor (/api/v3/flows/executor/<slug>/): authentik's GET/POST protocol, planning,
the denied actions, ?next= checks, flow tokens, and the flow redirects under /flows/."""
import hashlib
import json
import secrets
import threading
import urllib.parse

import pytest
import requests

from conftest import create_user, sql

EXEC = "/api/v3/flows/executor/"
PASSWORD = "correct horse battery staple"


def make_flow(stages, designation="authentication", authentication="none",
              denied_action="message_continue", title=None, slug=None, bindings=None):
    """A flow with stages [(type, config)] bound in order; returns (slug, flow uuid, stage
    uuids, binding uuids). bindings: per stage, extra binding columns."""
    slug = slug or "fx-" + secrets.token_hex(5)
    flow = sql("INSERT INTO flows (name, slug, title, designation, authentication, denied_action) "
               "VALUES (%s, %s, %s, %s, %s, %s) RETURNING flow_uuid::text", slug, slug,
               title if title is not None else "Flow " + slug, designation, authentication,
               denied_action)[0][0]
    stage_ids, binding_ids = [], []
    for i, (kind, config) in enumerate(stages):
        st = sql("INSERT INTO stages (name, type, config) VALUES (%s, %s, %s::jsonb) "
                 "RETURNING stage_uuid::text", "%s-%d" % (slug, i), kind, json.dumps(config))[0][0]
        extra = (bindings or {}).get(i, {})
        cols = ", ".join(['target', 'stage', '"order"'] + list(extra))
        marks = ", ".join(["%s"] * (3 + len(extra)))
        b = sql("INSERT INTO flow_stage_bindings (%s) VALUES (%s) RETURNING fsb_uuid::text"
                % (cols, marks), flow, st, (i + 1) * 10, *extra.values())[0][0]
        stage_ids.append(st)
        binding_ids.append(b)
    return slug, flow, stage_ids, binding_ids


def make_user(**fields):
    uid, key = create_user(**fields)
    return uid, sql("SELECT username FROM users WHERE id = %s", uid)[0][0], key


class Browser:
    """A browser on the executor: one cookie jar, the page's query string."""

    def __init__(self, base, slug, query=""):
        self.base = base.rstrip("/")
        self.slug = slug
        self.query = query
        self.s = requests.Session()

    def url(self, slug=None, query=None):
        q = self.query if query is None else query
        return "%s%s%s/?query=%s" % (self.base, EXEC, slug or self.slug,
                                     urllib.parse.quote(q, safe=""))

    def get(self, **kw):
        return self.s.get(self.url(**kw), allow_redirects=False)

    def csrf(self):
        """The X-authentik-CSRF header the interface sends, from the cookie."""
        v = self.s.cookies.get("authentik_csrf")
        return {"X-authentik-CSRF": v} if v else {}

    def post(self, body, raw=None, follow=False, csrf=True, **kw):
        h = self.csrf() if csrf else {}
        if raw is not None:
            h["Content-Type"] = "application/json"
            return self.s.post(self.url(**kw), data=raw, allow_redirects=follow, headers=h)
        return self.s.post(self.url(**kw), json=body, allow_redirects=follow, headers=h)

    def sid(self):
        import base64
        tok = self.s.cookies.get("authentik_session")
        p = tok.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))

    def me(self):
        r = self.s.get(self.base + "/api/v3/core/users/me/")
        return r.json()["user"]["username"] if r.status_code == 200 else None


def set_plan_context(b, **values):
    """Puts values into the session's plan context behind the executor's back (as a stage of
    another kind would have), dropping the Redis copy's validity by bumping the revision."""
    sql("UPDATE sessions SET flow_plan = jsonb_set(flow_plan, '{context}', "
        "(flow_plan -> 'context') || %s::jsonb), flow_plan_rev = flow_plan_rev + 1 "
        "WHERE session_key = %s", json.dumps(values), b.sid()["sid"])


# --- the basic protocol -------------------------------------------------------------------

def test_get_post_redirect_shapes(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})], title="Hello %(app)s")
    b = Browser(base, slug, query="next=%2Fsomewhere%3Fa%3D1")
    r = b.get()
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["component"] == "ak-stage-dummy"
    assert c["name"] == slug + "-0"
    fi = c["flow_info"]
    assert fi["title"] == "Hello "
    assert fi["layout"] == "stacked"
    assert fi["background"] == "/static/dist/assets/images/flow_background.jpg"
    assert fi["cancel_url"] == "/flows/-/cancel/?next=%2Fsomewhere%3Fa%3D1"
    assert "pending_user" not in c
    # A good answer: 302 back to the same executor URL, query kept.
    r = b.post({"component": "ak-stage-dummy"})
    assert r.status_code == 302
    assert r.headers["Location"] == EXEC + slug + "/?query=next%3D%252Fsomewhere%253Fa%253D1"
    c = b.s.get(b.base + r.headers["Location"], allow_redirects=False).json()
    assert c["component"] == "ak-stage-dummy" and c["name"] == slug + "-1"
    # The last answer ends the flow: xak-flow-redirect to next.
    r = b.post({"component": "ak-stage-dummy"})
    assert r.status_code == 200
    assert r.json() == {"component": "xak-flow-redirect", "to": "/somewhere?a=1"}
    # The plan is gone: a new GET starts over.
    assert b.get().json()["name"] == slug + "-0"


def test_post_follow_like_the_spa(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    r = b.post({"component": "ak-stage-dummy"}, follow=True)
    assert r.status_code == 200 and r.json()["name"] == slug + "-1"
    r = b.post({"component": "ak-stage-dummy"}, follow=True)
    assert r.json() == {"component": "xak-flow-redirect", "to": "/"}


def test_unknown_flow_is_404(base):
    r = requests.get(base + EXEC + "no-such-flow-" + secrets.token_hex(3) + "/?query=")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}


@pytest.mark.parametrize("body", [
    None, "", "null", "[]", "\"x\"", "{}", "{\"component\": 1}",
    "{\"component\": \"ak-stage-password\"}", "{not json", "{\"component\": \"ak-stage-dumm\"}",
])
def test_wrong_or_empty_answers_never_pass(base, body):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    assert b.get().json()["name"] == slug + "-0"
    r = b.post(None, raw=body if body is not None else b"")
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["component"] == "ak-stage-dummy" and c["name"] == slug + "-0"
    assert c["response_errors"]["non_field_errors"][0]["code"] == "invalid"
    # Still the first stage.
    assert b.get().json()["name"] == slug + "-0"


def test_form_body_is_not_an_answer(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    r = b.s.post(b.url(), data={"component": "ak-stage-dummy"}, allow_redirects=False)
    assert r.status_code == 200 and "response_errors" in r.json()
    # JSON sent as text/plain, as a cross-site form can: no answer either.
    r = b.s.post(b.url(), data='{"component": "ak-stage-dummy"}', allow_redirects=False,
                 headers={"Content-Type": "text/plain"})
    assert r.status_code == 200 and "response_errors" in r.json()
    assert b.get().json()["name"] == slug + "-0"
    r = b.s.post(b.url(), data='{"component": "ak-stage-dummy"}', allow_redirects=False,
                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 302


def test_logged_in_post_needs_csrf(base):
    b = logged_in_browser(base)
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})],
                              designation="enrollment")
    assert b.get(slug=slug).json()["name"] == slug + "-0"
    r = b.post({"component": "ak-stage-dummy"}, slug=slug, csrf=False)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing or incorrect."}
    r = b.s.post(b.url(slug=slug), json={"component": "ak-stage-dummy"},
                 headers={"X-authentik-CSRF": "A" * 32}, allow_redirects=False)
    assert r.status_code == 403
    assert b.get(slug=slug).json()["name"] == slug + "-0"
    assert b.post({"component": "ak-stage-dummy"}, slug=slug).status_code == 302


def test_ten_thousand_characters(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    r = b.post({"component": "ak-stage-dummy", "x": "A" * 10000})
    assert r.status_code == 302
    r = b.post({"component": "ak-stage-dummy" + "A" * 10000})
    assert r.status_code == 200 and "response_errors" in r.json()
    # A body past the route's bound is refused outright.
    r = b.post({"component": "ak-stage-dummy", "x": "A" * 70000})
    assert r.status_code == 413
    # A 10,000-character query passes the request's own bound: a clean refusal (Apache's
    # request-line limit answers 414 before the responder sees it).
    r = Browser(base, slug, query="next=/" + "a" * 10000).get()
    assert r.status_code in (413, 414)
    if r.status_code == 413:
        assert "detail" in r.json()
    # Within it, a 4,000-character next is longer than any next followed.
    one, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, one, query="next=/" + "a" * 4000)
    assert b.get().status_code == 200
    assert b.post({"component": "ak-stage-dummy"}, follow=True).json()["to"] == "/"


def test_throw_error_is_flow_error(base):
    slug, _, _, _ = make_flow([("dummystage", {"throw_error": True})])
    r = Browser(base, slug).get()
    assert r.status_code == 200
    c = r.json()
    assert c["component"] == "ak-stage-flow-error"
    assert c["request_id"] == r.headers["X-Request-Id"]


def test_empty_flow_ends_at_once(base):
    slug, _, _, _ = make_flow([])
    r = Browser(base, slug, query="next=/x/").get()
    assert r.json() == {"component": "xak-flow-redirect", "to": "/x/"}


def test_unknown_stage_kind_is_flow_error(base):
    slug, _, _, _ = make_flow([("nosuchkindstage", {})])
    assert Browser(base, slug).get().json()["component"] == "ak-stage-flow-error"


def test_plan_for_other_flow_is_dropped(base):
    a, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    c, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, a)
    b.get()
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    assert b.get().json()["name"] == a + "-1"
    assert b.get(slug=c).json()["name"] == c + "-0"
    # Back on the first flow: planned anew.
    assert b.get().json()["name"] == a + "-0"


def test_plan_is_a_snapshot(base):
    slug, flow, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    sql("DELETE FROM flow_stage_bindings WHERE target = %s", flow)
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    assert b.get().json()["name"] == slug + "-1"


# --- login ----------------------------------------------------------------------------------

def login_flow(base, uid, **login_config):
    """dummy → user_login, with the pending user put in the context after the first GET."""
    slug, _, _, _ = make_flow([("dummystage", {}), ("userloginstage", login_config)])
    b = Browser(base, slug)
    assert b.get().json()["component"] == "ak-stage-dummy"
    set_plan_context(b, pending_user=uid, auth_method="password")
    return b


def test_login_ends_with_redirect_and_new_session(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid)
    anon = b.sid()
    assert anon["authenticated"] is False and anon["sub"] == "anonymous"
    assert b.me() is None
    r = b.post({"component": "ak-stage-dummy"}, follow=True)
    assert r.json() == {"component": "xak-flow-redirect", "to": "/"}
    claims = b.sid()
    assert claims["authenticated"] is True
    assert claims["sid"] != anon["sid"]
    assert b.me() == username
    row = sql("SELECT user_id, host(last_ip), flow_plan, extract(epoch FROM expires - now()) "
              "FROM sessions WHERE session_key = %s", claims["sid"])
    assert row and row[0][0] == uid and row[0][1] == "127.0.0.1" and row[0][2] is None
    # A browser session: the server keeps it sessions.browser_age_seconds, the cookie has no
    # Max-Age.
    assert 86400 - 60 < row[0][3] <= 86400
    assert not sql("SELECT 1 FROM sessions WHERE session_key = %s", anon["sid"])
    assert sql("SELECT last_login IS NOT NULL FROM users WHERE id = %s", uid)[0][0]
    ev = sql("SELECT context ->> 'auth_method', \"user\" ->> 'username' FROM events "
             "WHERE action = 'login' AND \"user\" ->> 'pk' = %s", str(uid))
    assert ev == [("password", username)]


def test_login_cookie_is_a_browser_session(base):
    uid, _, _ = make_user()
    b = login_flow(base, uid)
    r = b.post({"component": "ak-stage-dummy"}, follow=False)
    r = b.s.get(b.base + r.headers["Location"], allow_redirects=False)
    cookie = [h for h in r.raw.headers.getlist("Set-Cookie")
              if h.startswith("authentik_session=")]
    assert cookie and "Max-Age" not in cookie[0] and "HttpOnly" in cookie[0]


def test_past_the_last_stage_ends_the_flow(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug, query="next=%2Fdone%2F")
    b.get()
    sql("UPDATE sessions SET flow_plan = jsonb_set(flow_plan, '{index}', '2'), "
        "flow_plan_rev = flow_plan_rev + 1 WHERE session_key = %s", b.sid()["sid"])
    assert b.get().json() == {"component": "xak-flow-redirect", "to": "/done/"}
    assert sql("SELECT flow_plan FROM sessions WHERE session_key = %s",
               b.sid()["sid"])[0][0] is None


def test_session_fixation_old_key_is_dead(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid)
    old_cookie = b.s.cookies.get("authentik_session")
    b.post({"component": "ak-stage-dummy"}, follow=True)
    assert b.me() == username
    # Someone who planted the pre-login cookie gets nothing from it.
    other = requests.Session()
    other.cookies.set("authentik_session", old_cookie)
    assert other.get(base + "/api/v3/core/users/me/").status_code in (401, 403)


def test_replayed_post_after_the_end(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid)
    before = requests.Session()
    before.cookies = b.s.cookies.copy()
    assert b.post({"component": "ak-stage-dummy"}, follow=True).json()["component"] == \
        "xak-flow-redirect"
    sessions = sql("SELECT count(*) FROM sessions WHERE user_id = %s", uid)[0][0]
    # The same POST again with the cookies from before the login: that session is gone, the
    # flow starts over without a pending user, and nobody is logged in by it.
    r = before.post(b.url(), json={"component": "ak-stage-dummy"})
    c = r.json()
    assert c["component"] == "ak-stage-access-denied", (r.history, c)
    assert c["error_message"] == "No Pending user to login."
    assert before.get(base + "/api/v3/core/users/me/").status_code in (401, 403)
    assert sql("SELECT count(*) FROM sessions WHERE user_id = %s", uid)[0][0] == sessions
    # Again from the logged-in browser: an authentication flow has nothing left to do.
    r = b.post({"component": "ak-stage-dummy"})
    assert r.json() == {"component": "xak-flow-redirect", "to": "/"}
    assert sql("SELECT count(*) FROM sessions WHERE user_id = %s", uid)[0][0] == sessions


def test_user_login_without_pending_user_denies(base):
    slug, _, _, _ = make_flow([("userloginstage", {})])
    b = Browser(base, slug)
    c = b.get().json()
    assert c["component"] == "ak-stage-access-denied"
    assert c["error_message"] == "No Pending user to login."
    assert c["pending_user"] == ""
    assert c["pending_user_avatar"] == "/static/dist/assets/images/user_default.png"
    assert b.me() is None


def test_inactive_user_is_not_logged_in(base):
    uid, _, _ = make_user()
    b = login_flow(base, uid)
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    r = b.post({"component": "ak-stage-dummy"}, follow=True).json()
    assert r["component"] == "ak-stage-access-denied"
    assert b.me() is None
    assert not sql("SELECT 1 FROM sessions WHERE user_id = %s", uid)


def test_remember_me_challenge(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid, remember_me_offset="days=30", session_duration="hours=1")
    c = b.post({"component": "ak-stage-dummy"}, follow=True).json()
    assert c["component"] == "ak-stage-user-login"
    assert c["pending_user"] == username
    # remember_me is required.
    c = b.post({"component": "ak-stage-user-login"}).json()
    assert "remember_me" in c["response_errors"]
    r = b.post({"component": "ak-stage-user-login", "remember_me": True})
    assert r.json()["component"] == "xak-flow-redirect"
    cookie = [h for h in r.raw.headers.getlist("Set-Cookie") if h.startswith("authentik_session=")]
    assert cookie and "Max-Age=%d" % (3600 + 30 * 86400) in cookie[0]
    left = sql("SELECT extract(epoch FROM expires - now()) FROM sessions WHERE session_key = %s",
               b.sid()["sid"])[0][0]
    assert 3600 + 30 * 86400 - 60 < left <= 3600 + 30 * 86400


def test_terminate_other_sessions(base):
    uid, username, _ = make_user()
    first = login_flow(base, uid)
    first.post({"component": "ak-stage-dummy"}, follow=True)
    assert first.me() == username
    second = login_flow(base, uid, terminate_other_sessions=True)
    second.post({"component": "ak-stage-dummy"}, follow=True)
    assert second.me() == username
    assert first.me() is None


def test_authentication_flow_when_logged_in_ends_at_once(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid)
    b.post({"component": "ak-stage-dummy"}, follow=True)
    slug, _, _, _ = make_flow([("dummystage", {})])
    r = b.get(slug=slug, query="next=%2Fapp%2F").json()
    assert r == {"component": "xak-flow-redirect", "to": "/app/"}


def test_logout_stage(base):
    uid, username, _ = make_user()
    b = login_flow(base, uid)
    b.post({"component": "ak-stage-dummy"}, follow=True)
    assert b.me() == username
    logged_in = b.sid()["sid"]
    slug, _, _, _ = make_flow([("userlogoutstage", {}), ("dummystage", {})],
                              designation="invalidation")
    r = b.get(slug=slug)
    assert r.status_code == 302
    assert b.sid()["authenticated"] is False
    assert b.me() is None
    assert not sql("SELECT 1 FROM sessions WHERE session_key = %s", logged_in)
    # The flow goes on in the fresh anonymous session.
    assert b.s.get(b.base + r.headers["Location"]).json()["component"] == "ak-stage-dummy"
    assert sql("SELECT count(*) FROM events WHERE action = 'logout' AND \"user\" ->> 'pk' = %s",
               str(uid))[0][0] == 1


# --- cookies ----------------------------------------------------------------------------------

def test_cookie_flags(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    r = requests.get(base + EXEC + slug + "/?query=")
    cookies = r.raw.headers.getlist("Set-Cookie")
    sess = [c for c in cookies if c.startswith("authentik_session=")]
    csrf = [c for c in cookies if c.startswith("authentik_csrf=")]
    assert len(sess) == 1 and len(csrf) == 1
    s = sess[0]
    assert "; Path=/" in s and "; HttpOnly" in s and "; SameSite=Lax" in s
    assert "Secure" not in s and "Max-Age=86400" in s
    assert "HttpOnly" not in csrf[0] and "SameSite=Lax" in csrf[0]
    # Over HTTPS (said by the router on loopback): Secure, SameSite=None.
    r = requests.get(base + EXEC + slug + "/?query=", headers={"X-Forwarded-Proto": "https"})
    s = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("authentik_session=")][0]
    assert "; Secure" in s and "SameSite=None" in s
    # A visitor with a session keeps it: no new cookie.
    b = Browser(base, slug)
    b.get()
    r = b.get()
    assert not [c for c in r.raw.headers.getlist("Set-Cookie")
                if c.startswith("authentik_session=")]


def test_expired_session_gets_a_new_one(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    old = b.sid()["sid"]
    sql("UPDATE sessions SET expires = now() - interval '1 second' WHERE session_key = %s", old)
    c = b.get().json()
    assert c["name"] == slug + "-0"
    assert b.sid()["sid"] != old


def test_forged_cookie_is_ignored(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    tok = b.s.cookies.get("authentik_session")
    h, p, sig = tok.split(".")
    forged = h + "." + p + "." + sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    r = requests.get(b.url(), headers={"Cookie": "authentik_session=" + forged})
    new = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("authentik_session=")]
    assert new and forged not in new[0] and tok not in new[0]


# --- requirements and denied actions --------------------------------------------------------

def logged_in_browser(base, superuser=False):
    uid, username, _ = make_user(superuser=superuser)
    b = login_flow(base, uid)
    b.post({"component": "ak-stage-dummy"}, follow=True)
    assert b.me() == username
    return b


@pytest.mark.parametrize("requirement,anon_ok,user_ok,super_ok", [
    ("none", True, True, True),
    ("require_authenticated", False, True, True),
    ("require_unauthenticated", True, False, False),
    ("require_superuser", False, False, True),
    ("require_redirect", False, False, False),
    ("require_outpost", False, False, False),
])
def test_authentication_requirements(base, requirement, anon_ok, user_ok, super_ok):
    slug, _, _, _ = make_flow([("dummystage", {})], designation="enrollment",
                              authentication=requirement, denied_action="message")
    for who, ok in (("anon", anon_ok), ("user", user_ok), ("super", super_ok)):
        if who == "anon":
            b = Browser(base, slug)
        else:
            b = logged_in_browser(base, superuser=(who == "super"))
        c = b.get(slug=slug).json()
        if ok:
            assert c["component"] == "ak-stage-dummy", (who, c)
        else:
            assert c["component"] == "ak-stage-access-denied", (who, c)
            assert c["error_message"] == "Flow does not apply to current user."


def test_denied_actions(base):
    for action, query, want in [
        ("message_continue", "next=%2Fok%2F", {"component": "xak-flow-redirect", "to": "/ok/"}),
        ("message_continue", "next=https%3A%2F%2Fevil.example%2F", "denied"),
        ("message_continue", "", "denied"),
        ("continue", "", {"component": "xak-flow-redirect", "to": "/"}),
        ("continue", "next=%2Fok%2F", {"component": "xak-flow-redirect", "to": "/ok/"}),
        ("message", "next=%2Fok%2F", "denied"),
    ]:
        slug, _, _, _ = make_flow([("dummystage", {})], designation="enrollment",
                                  authentication="require_authenticated", denied_action=action)
        c = Browser(base, slug, query=query).get().json()
        if want == "denied":
            assert c["component"] == "ak-stage-access-denied", (action, query, c)
        else:
            assert c == want, (action, query, c)


def test_deny_stage(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("denystage", {"deny_message": "Go away"}),
                               ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    c = b.post({"component": "ak-stage-dummy"}, follow=True).json()
    assert c["component"] == "ak-stage-access-denied" and c["error_message"] == "Go away"
    # The plan is gone with it.
    assert b.get().json()["name"] == slug + "-0"


def test_invalid_response_action_restart(base):
    uid, username, _ = make_user()
    slug, _, _, _ = make_flow(
        [("dummystage", {}), ("userloginstage", {"remember_me_offset": "days=1"})],
        bindings={1: {"invalid_response_action": "restart"}})
    b = Browser(base, slug)
    b.get()
    set_plan_context(b, pending_user=uid)
    c = b.post({"component": "ak-stage-dummy"}, follow=True).json()
    assert c["component"] == "ak-stage-user-login"
    # A wrong answer on a restart binding: a new plan, 302.
    r = b.post({"component": "ak-stage-user-login"})
    assert r.status_code == 302
    assert b.get().json()["name"] == slug + "-0"
    # restart_with_context keeps the pending user.
    slug2, _, _, _ = make_flow(
        [("dummystage", {}), ("userloginstage", {"remember_me_offset": "days=1"})],
        bindings={1: {"invalid_response_action": "restart_with_context"}})
    b = Browser(base, slug2)
    b.get()
    set_plan_context(b, pending_user=uid)
    b.post({"component": "ak-stage-dummy"}, follow=True)
    assert b.post({"component": "ak-stage-user-login"}).status_code == 302
    b.post({"component": "ak-stage-dummy"}, follow=True)
    r = b.post({"component": "ak-stage-user-login", "remember_me": False}).json()
    assert r["component"] == "xak-flow-redirect"
    assert b.me() == username


# --- next ------------------------------------------------------------------------------------

OPEN_REDIRECTS = [
    "//evil.example/", "/\\evil.example/", "\\\\evil.example", "https:evil.example",
    "https://evil.example/", "http://evil.example", "javascript:alert(1)", "/\t/evil.example",
    "/\n/evil.example", "/%2F%2Fevil.example", "/%2f/evil.example", "/%5Cevil.example",
    "/%5cevil.example", "/%252F%252Fevil.example", "/%09/evil.example", "//%5Cevil.example",
    "evil.example", "", "/ok\\..\\", "data:text/html,x", " /x", "/%00", "/%zz",
]


@pytest.mark.parametrize("nxt", OPEN_REDIRECTS)
def test_open_redirects_refused(base, nxt):
    slug, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, slug, query=urllib.parse.urlencode({"next": nxt}))
    b.get()
    r = b.post({"component": "ak-stage-dummy"}).json()
    assert r == {"component": "xak-flow-redirect", "to": "/"}, nxt


def test_next_under_application_launch_url(base):
    app = "app-" + secrets.token_hex(4)
    sql("INSERT INTO applications (name, slug, meta_launch_url) VALUES (%s, %s, %s)",
        app, app, "https://%s.example/portal" % app)
    slug, _, _, _ = make_flow([("dummystage", {})])
    for nxt, ok in [("https://%s.example/portal/page?x=1" % app, True),
                    ("https://%s.example/portal" % app, True),
                    ("https://%s.example/portalx" % app, False),
                    ("https://%s.example/portal@evil.example" % app, False),
                    ("https://%s.example.evil.example/portal" % app, False)]:
        b = Browser(base, slug, query=urllib.parse.urlencode({"next": nxt}))
        b.get()
        r = b.post({"component": "ak-stage-dummy"}).json()
        assert r["to"] == (nxt if ok else "/"), nxt


def test_context_redirect_wins(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, slug, query="next=%2Fnext%2F")
    b.get()
    set_plan_context(b, redirect="/from/context/")
    assert b.post({"component": "ak-stage-dummy"}).json()["to"] == "/from/context/"


# --- redirect stage -----------------------------------------------------------------------------

def test_redirect_stage_static(base):
    slug, _, _, _ = make_flow([("redirectstage", {"mode": "static",
                                                  "target_static": "https://example.com/x"})])
    c = Browser(base, slug).get().json()
    assert c == {"component": "xak-flow-redirect", "to": "https://example.com/x"}


def test_redirect_stage_flow_keeps_context(base):
    target, _, _, _ = make_flow([("dummystage", {})], designation="enrollment",
                                authentication="require_redirect")
    tuuid = sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", target)[0][0]
    slug, _, _, _ = make_flow([("dummystage", {}),
                               ("redirectstage", {"mode": "flow", "target_flow": tuuid,
                                                  "keep_context": True})])
    b = Browser(base, slug, query="next=%2Fafter%2F")
    b.get()
    set_plan_context(b, marker="kept")
    c = b.post({"component": "ak-stage-dummy"}, follow=True).json()
    assert c == {"component": "xak-flow-redirect",
                 "to": "/if/flow/%s/?next=%%2Fafter%%2F" % target}
    # The target flow (require_redirect) starts with the context.
    c = b.get(slug=target).json()
    assert c["component"] == "ak-stage-dummy"
    plan = sql("SELECT flow_plan FROM sessions WHERE session_key = %s", b.sid()["sid"])[0][0]
    assert plan["context"]["marker"] == "kept"
    assert plan["context"]["is_redirected"]
    # Opened directly, the same flow is denied.
    assert Browser(base, target).get().json()["component"] == "ak-stage-access-denied"


# --- flow tokens ------------------------------------------------------------------------------

def park(flow_uuid, plan, key, uid=None, expires="1 hour"):
    sql("INSERT INTO flow_tokens (key_digest, flow, user_id, plan, expires) "
        "VALUES (%s, %s, %s, %s::jsonb, now() + %s::interval)",
        hashlib.sha256(key.encode()).hexdigest(), flow_uuid, uid, json.dumps(plan), expires)


def parked_plan(slug, flow, stage_ids, bindings, index, context):
    return {"flow": flow, "slug": slug, "serial": 1, "query": "", "index": index,
            "context": context,
            "stages": [{"binding": bindings[i], "stage": stage_ids[i], "name": "%s-%d" % (slug, i),
                        "type": "dummystage", "config": {}, "re_evaluate": False,
                        "mode": "any", "invalid_response_action": "retry",
                        "has_policies": False} for i in range(len(stage_ids))]}


def test_flow_token_resumes_once(base):
    slug, flow, stages, bindings = make_flow([("dummystage", {})] * 3)
    key = secrets.token_urlsafe(30)
    park(flow, parked_plan(slug, flow, stages, bindings, 2, {"x": 1}), key)
    b = Browser(base, slug, query="flow_token=" + key)
    assert b.get().json()["name"] == slug + "-2"
    plan = sql("SELECT flow_plan FROM sessions WHERE session_key = %s", b.sid()["sid"])[0][0]
    assert plan["context"]["is_restored"] is True and plan["context"]["x"] == 1
    # The same link in another browser: a fresh plan, the token is spent.
    assert Browser(base, slug, query="flow_token=" + key).get().json()["name"] == slug + "-0"
    # The first browser keeps going with the query still carrying the token.
    assert b.get().json()["name"] == slug + "-2"


def test_flow_token_expired_or_other_flow(base):
    slug, flow, stages, bindings = make_flow([("dummystage", {})] * 2)
    other, oflow, _, _ = make_flow([("dummystage", {})])
    k1, k2 = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
    park(flow, parked_plan(slug, flow, stages, bindings, 1, {}), k1, expires="-1 second")
    park(oflow, parked_plan(slug, flow, stages, bindings, 1, {}), k2)
    assert Browser(base, slug, query="flow_token=" + k1).get().json()["name"] == slug + "-0"
    assert Browser(base, slug, query="flow_token=" + k2).get().json()["name"] == slug + "-0"


def test_flow_token_single_use_under_concurrency(base):
    slug, flow, stages, bindings = make_flow([("dummystage", {})] * 3)
    key = secrets.token_urlsafe(30)
    park(flow, parked_plan(slug, flow, stages, bindings, 2, {}), key)
    results = []
    lock = threading.Lock()

    def go():
        name = Browser(base, slug, query="flow_token=" + key).get().json().get("name")
        with lock:
            results.append(name)

    threads = [threading.Thread(target=go) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(slug + "-2") == 1, results
    assert results.count(slug + "-0") == 11


# --- /flows/ redirects --------------------------------------------------------------------------

def test_default_flow_redirects(base):
    auth, auuid, _, _ = make_flow([("dummystage", {})])
    inval, iuuid, _, _ = make_flow([("userlogoutstage", {})], designation="invalidation")
    domain = "b-%s.example" % secrets.token_hex(4)
    sql("INSERT INTO brands (domain, flow_authentication, flow_invalidation) VALUES (%s, %s, %s)",
        domain, auuid, iuuid)
    h = {"Host": domain + ":9000"}
    r = requests.get(base + "/flows/-/default/authentication/?next=%2Fx%2F", headers=h,
                     allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == "/if/flow/%s/?next=%%2Fx%%2F" % auth
    r = requests.get(base + "/flows/-/default/invalidation/", headers=h, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/if/flow/%s/" % inval


def test_default_flow_by_policy(base):
    """A brand without its own authentication flow: the first flow of that designation, by slug,
    whose policies let the visitor in."""
    uid, _, _ = make_user()
    tag = "0000-" + secrets.token_hex(4)
    denied, dflow, _, _ = make_flow([("dummystage", {})], slug=tag + "-a")
    allowed, _, _, _ = make_flow([("dummystage", {})], slug=tag + "-b")
    bind_user(dflow, uid)
    domain = "p-%s.example" % secrets.token_hex(4)
    sql("INSERT INTO brands (domain) VALUES (%s)", domain)
    try:
        r = requests.get(base + "/flows/-/default/authentication/", headers={"Host": domain},
                         allow_redirects=False)
        assert r.status_code == 302
        assert r.headers["Location"] == "/if/flow/%s/" % allowed
    finally:
        sql("DELETE FROM flows WHERE slug IN (%s, %s)", denied, allowed)
        sql("DELETE FROM brands WHERE domain = %s", domain)


def test_cancel(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    b.post({"component": "ak-stage-dummy"})
    assert b.get().json()["name"] == slug + "-1"
    r = b.s.get(base + "/flows/-/cancel/?next=%2Fback%2F", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/back/"
    assert b.get().json()["name"] == slug + "-0"
    r = b.s.get(base + "/flows/-/cancel/?next=%2F%2Fevil.example", allow_redirects=False)
    assert r.headers["Location"] == "/flows/-/default/invalidation/"


def test_flow_interface_page(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    r = requests.get(base + "/if/flow/%s/?next=%%2Fx" % slug)
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]


# --- policies -----------------------------------------------------------------------------------

def bind_user(target, uid, order=0, negate=False):
    sql("INSERT INTO policy_bindings (target, user_id, \"order\", negate) VALUES (%s, %s, %s, %s)",
        target, uid, order, negate)


def test_flow_policy_denies(base):
    uid, username, _ = make_user()
    slug, flow, _, _ = make_flow([("dummystage", {})], designation="enrollment",
                                 denied_action="message")
    bind_user(flow, uid)
    c = Browser(base, slug).get().json()
    assert c["component"] == "ak-stage-access-denied"
    b = logged_in_browser_for(base, uid, username)
    assert b.get(slug=slug).json()["component"] == "ak-stage-dummy"


def logged_in_browser_for(base, uid, username):
    b = login_flow(base, uid)
    b.post({"component": "ak-stage-dummy"}, follow=True)
    assert b.me() == username
    return b


def test_evaluate_on_plan_skips_stage(base):
    uid, _, _ = make_user()
    slug, _, _, bindings = make_flow(
        [("dummystage", {}), ("dummystage", {}), ("dummystage", {})],
        bindings={1: {"evaluate_on_plan": True, "re_evaluate_policies": False}})
    bind_user(bindings[1], uid)
    b = Browser(base, slug)
    assert b.get().json()["name"] == slug + "-0"
    plan = sql("SELECT flow_plan FROM sessions WHERE session_key = %s", b.sid()["sid"])[0][0]
    assert [s["name"] for s in plan["stages"]] == [slug + "-0", slug + "-2"]


def test_re_evaluate_just_before_the_stage(base):
    uid, _, _ = make_user()
    slug, _, _, bindings = make_flow(
        [("dummystage", {}), ("dummystage", {}), ("dummystage", {})],
        bindings={1: {"re_evaluate_policies": True}})
    bind_user(bindings[1], uid)
    # No pending user: the middle stage is skipped when its turn comes.
    b = Browser(base, slug)
    b.get()
    assert b.post({"component": "ak-stage-dummy"}, follow=True).json()["name"] == slug + "-2"
    # With the bound user pending by then, it is shown.
    b = Browser(base, slug)
    b.get()
    set_plan_context(b, pending_user=uid)
    assert b.post({"component": "ak-stage-dummy"}, follow=True).json()["name"] == slug + "-1"
