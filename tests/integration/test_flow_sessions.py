"""Flow sessions: the plan kept in PostgreSQL with a copy in Redis, a flow surviving Redis going
away, and sessions ending when their user is deactivated."""
import json
import time

from conftest import sql, stack
from test_flow_executor import Browser, make_flow, make_user, set_plan_context


def plan_row(b):
    return sql("SELECT flow_plan, flow_plan_rev FROM sessions WHERE session_key = %s",
               b.sid()["sid"])[0]


def redis_copy(b):
    from conftest import redis_cli
    return redis_cli("GET", "custos:plan:" + b.sid()["sid"]).strip()


def test_plan_in_postgresql_and_redis(base):
    slug, flow, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug, query="next=%2Fx%2F")
    b.get()
    plan, rev = plan_row(b)
    assert plan["flow"] == flow and plan["slug"] == slug and plan["index"] == 0
    assert plan["query"] == "next=%2Fx%2F"
    assert [s["name"] for s in plan["stages"]] == [slug + "-0", slug + "-1"]
    copy = redis_copy(b)
    assert copy.startswith("%d:" % rev)
    assert json.loads(copy.split(":", 1)[1])["flow"] == flow
    b.post({"component": "ak-stage-dummy"})
    plan2, rev2 = plan_row(b)
    assert plan2["index"] == 1 and rev2 > rev
    assert redis_copy(b).startswith("%d:" % rev2)


def test_stale_redis_copy_is_not_believed(base):
    slug, _, _, _ = make_flow([("dummystage", {}), ("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    stale = redis_copy(b)
    b.post({"component": "ak-stage-dummy"})
    from conftest import redis_cli
    # Put the old copy back, as a Redis that missed the last write would hold it.
    redis_cli("SET", "custos:plan:" + b.sid()["sid"], stale)
    assert b.get().json()["name"] == slug + "-1"


def test_plan_survives_redis_outage(base):
    slug, _, _, _ = make_flow([("dummystage", {})] * 4)
    b = Browser(base, slug)
    assert b.get().json()["name"] == slug + "-0"
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    res = stack("redis-stop")
    assert res.returncode == 0, res.stderr
    try:
        assert b.get().json()["name"] == slug + "-1"
        assert b.post({"component": "ak-stage-dummy"}).status_code == 302
        assert b.get().json()["name"] == slug + "-2"
        # A new visitor can start a flow without Redis too.
        assert Browser(base, slug).get().json()["name"] == slug + "-0"
    finally:
        res = stack("redis-start")
        assert res.returncode == 0, res.stderr
    # Back with Redis (empty or holding an older copy): PostgreSQL's plan is the one.
    assert b.get().json()["name"] == slug + "-2"
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    assert b.post({"component": "ak-stage-dummy"}).json()["component"] == "xak-flow-redirect"


def test_deactivating_a_user_ends_sessions(base, admin):
    uid, username, _ = make_user()
    slug, _, _, _ = make_flow([("dummystage", {}), ("userloginstage", {})])
    browsers = []
    for _ in range(2):
        b = Browser(base, slug)
        b.get()
        set_plan_context(b, pending_user=uid)
        b.post({"component": "ak-stage-dummy"}, follow=True)
        assert b.me() == username
        browsers.append(b)
    r = admin.patch("core/users/%d/" % uid, json={"is_active": False})
    assert r.status_code == 200, r.text
    for b in browsers:
        assert b.me() is None
    assert not sql("SELECT 1 FROM sessions WHERE user_id = %s", uid)


def test_anonymous_cookie_is_not_an_api_login(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, slug)
    b.get()
    assert b.sid()["authenticated"] is False
    assert b.me() is None


def test_session_row_for_anonymous_visitor(base):
    slug, _, _, _ = make_flow([("dummystage", {})])
    b = Browser(base, slug)
    b.s.headers["User-Agent"] = ("custos-test/1.0 " + "é" * 600).encode()
    b.get()
    row = sql("SELECT user_id, extract(epoch FROM expires - now()), last_user_agent, "
              "host(last_ip) FROM sessions WHERE session_key = %s", b.sid()["sid"])[0]
    assert row[0] is None
    assert 86400 - 60 < row[1] <= 86400
    assert row[2].startswith("custos-test/1.0 ") and len(row[2].encode()) <= 512
    assert row[3] == "127.0.0.1"
    assert len(b.sid()["sid"]) >= 32
    # Cut on a character boundary, still UTF-8.
    assert row[2].endswith("é")
    # A user agent that is not UTF-8 is not kept, and costs the visitor nothing.
    b2 = Browser(base, slug)
    b2.s.headers["User-Agent"] = "caf\xe9".encode("latin-1")
    assert b2.get().json()["component"] == "ak-stage-dummy"
    assert sql("SELECT last_user_agent FROM sessions WHERE session_key = %s",
               b2.sid()["sid"])[0][0] == ""


def test_postgresql_outage_is_503_then_the_flow_goes_on(base):
    slug, _, _, _ = make_flow([("dummystage", {})] * 3)
    b = Browser(base, slug)
    b.get()
    assert b.post({"component": "ak-stage-dummy"}).status_code == 302
    res = stack("pg-stop")
    assert res.returncode == 0, res.stderr
    try:
        r = b.get()
        assert r.status_code == 503 and "detail" in r.json()
        r = b.post({"component": "ak-stage-dummy"})
        assert r.status_code == 503
    finally:
        res = stack("pg-start")
        assert res.returncode == 0, res.stderr
    for _ in range(50):
        r = b.get()
        if r.status_code == 200:
            break
        time.sleep(0.1)
    assert r.json()["name"] == slug + "-1"


def _login_again(base, session, username, password="correct horse battery"):
    """Logs username in on session's browser through a flow that asks for the password even
    when someone is logged in (not an authentication flow, which would end at once)."""
    from conftest import FlowClient, login_flow_make
    slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                               ("userloginstage", {})], designation="authorization")
    fc = FlowClient(base, slug)
    fc.s = session
    fc.get()
    fc.post({"component": "ak-stage-identification", "uid_field": username})
    ch = fc.post({"component": "ak-stage-password", "password": password})
    assert ch["component"] == "xak-flow-redirect", ch
    return fc


def test_logging_in_again_keeps_the_session_but_not_its_key(lighttpd):
    """The same user logging in again (a re-authentication) gets a new cookie key, but the
    session stays the same one for what hangs on it: OAuth2 grants stay, no back-channel
    logout is queued. Another user logging in on top of it ends it."""
    from conftest import login_user, oauth2_browser, sql
    s, uid, username = oauth2_browser(lighttpd)
    key1 = s.cookies.get("authentik_session")
    uuid1 = sql("SELECT uuid::text FROM sessions WHERE user_id = %s", uid)
    assert len(uuid1) == 1
    tasks_before = sql("SELECT count(*) FROM tasks WHERE actor_name LIKE '%%backchannel%%'")[0][0]
    _login_again(lighttpd, s, username)
    assert s.cookies.get("authentik_session") != key1
    assert sql("SELECT uuid::text FROM sessions WHERE user_id = %s", uid) == uuid1
    assert sql("SELECT count(*) FROM tasks WHERE actor_name LIKE '%%backchannel%%'")[0][0] == \
        tasks_before
    # Another user on the same browser: the first user's session ends.
    _, other = login_user()
    _login_again(lighttpd, s, other)
    assert sql("SELECT count(*) FROM sessions WHERE user_id = %s", uid)[0][0] == 0
