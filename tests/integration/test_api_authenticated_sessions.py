"""/api/v3/core/authenticated_sessions/: logged-in sessions; owners and admins list and end them."""
import secrets
import string

import requests

from conftest import Api, create_user, sql
from test_api_session import cookie

CSRF_CHARS = string.ascii_lowercase + string.ascii_uppercase + string.digits

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
WINDOWS_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/120.0.6099.130 Safari/537.36")
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36")
MAC_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
              "like Gecko) Version/17.2 Safari/605.1.15")

FIELDS = {"uuid", "current", "user_agent", "geo_ip", "asn", "user", "last_ip", "last_user_agent",
          "last_used", "expires"}


def session_for(uid, ua="", ip="192.0.2.7", expires="now() + interval '1 hour'"):
    """A logged-in session row; returns (session key, uuid)."""
    sid = secrets.token_hex(20)
    (u,), = sql("INSERT INTO sessions (session_key, user_id, expires, last_ip, last_user_agent) "
                "VALUES (%s, %s, " + expires + ", %s, %s) RETURNING uuid::text",
                sid, uid, ip, ua)
    return sid, u


def browser(lighttpd, sid):
    """A requests.Session logged in by the session cookie, with a CSRF secret to echo."""
    s = requests.Session()
    csrf = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
    s.cookies.set("authentik_session", cookie(sid))
    s.cookies.set("authentik_csrf", csrf)
    s.headers["X-authentik-CSRF"] = csrf
    api = Api(lighttpd, None)
    api.s = s
    return api


def test_owner_lists_own_sessions(lighttpd, as_user):
    me, uid = as_user()
    other, other_uid = as_user()
    s1, u1 = session_for(uid, FIREFOX)
    s2, u2 = session_for(uid, IPHONE, ip="2001:db8::5")
    _, expired = session_for(uid, expires="now() - interval '1 second'")
    _, theirs = session_for(other_uid)
    # An anonymous session (a flow in progress) is no authenticated session.
    sql("INSERT INTO sessions (session_key, expires) VALUES (%s, now() + interval '1 hour')",
        secrets.token_hex(20))
    r = me.get("core/authenticated_sessions/")
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    assert sorted(x["uuid"] for x in rows) == sorted([u1, u2])
    assert all(set(x) == FIELDS for x in rows)
    one = [x for x in rows if x["uuid"] == u2][0]
    assert one["user"] == uid and one["last_ip"] == "2001:db8::5"
    assert one["last_user_agent"] == IPHONE and one["current"] is False
    assert one["geo_ip"] is None and one["asn"] is None
    assert one["expires"] and one["last_used"]
    assert me.get("core/authenticated_sessions/%s/" % u1).json()["uuid"] == u1
    assert me.get("core/authenticated_sessions/%s/" % theirs).status_code == 403
    assert me.get("core/authenticated_sessions/%s/" % expired).status_code == 404
    assert me.get("core/authenticated_sessions/not-a-uuid/").status_code == 404
    assert Api(lighttpd, None).get("core/authenticated_sessions/").status_code == 401


def test_user_agent_described(admin, as_user):
    _, uid = as_user()
    cases = {
        FIREFOX: ({"family": "Firefox", "major": "115", "minor": "0", "patch": None},
                  {"family": "Linux", "major": None}, {"family": "Other", "brand": None}),
        IPHONE: ({"family": "Mobile Safari", "major": "17", "minor": "1", "patch": None},
                 {"family": "iOS", "major": "17", "minor": "1", "patch": "2"},
                 {"family": "iPhone", "brand": "Apple", "model": "iPhone"}),
        WINDOWS_CHROME: ({"family": "Chrome", "major": "120", "minor": "0", "patch": "6099"},
                         {"family": "Windows", "major": "10"}, {"family": "Other"}),
        ANDROID_CHROME: ({"family": "Chrome Mobile", "major": "120"},
                         {"family": "Android", "major": "14", "minor": None},
                         {"family": "Generic Smartphone", "brand": "Generic"}),
        MAC_SAFARI: ({"family": "Safari", "major": "17", "minor": "2"},
                     {"family": "Mac OS X", "major": "10", "minor": "15", "patch": "7"},
                     {"family": "Mac", "brand": "Apple", "model": "Mac"}),
        "": ({"family": "Other", "major": None}, {"family": "Other", "major": None},
             {"family": "Other", "brand": None, "model": None}),
        "x" * 10000: ({"family": "Other"}, {"family": "Other"}, {"family": "Other"}),
        "\u2603 Firefox/1.2.3.4 \u00e4": ({"family": "Firefox", "major": "1", "minor": "2",
                                          "patch": "3"}, {"family": "Other"}, {"family": "Other"}),
    }
    uuids = {session_for(uid, ua)[1]: ua for ua in cases}
    for u, ua in uuids.items():
        got = admin.get("core/authenticated_sessions/%s/" % u).json()["user_agent"]
        browser_, os_, device = cases[ua]
        assert got["string"] == ua
        assert set(got) == {"device", "os", "user_agent", "string"}
        assert set(got["os"]) == {"family", "major", "minor", "patch", "patch_minor"}
        assert set(got["user_agent"]) == {"family", "major", "minor", "patch"}
        assert set(got["device"]) == {"brand", "family", "model"}
        for part, want in (("user_agent", browser_), ("os", os_), ("device", device)):
            for k, v in want.items():
                assert got[part][k] == v, (ua[:60], part, k, got[part])
    # The list describes them the same way.
    r = admin.get("core/authenticated_sessions/", params={"user__username":
                                                          sql("SELECT username FROM users WHERE id = %s", uid)[0][0],
                                                          "page_size": 100})
    listed = {x["uuid"]: x["user_agent"]["user_agent"]["family"] for x in r.json()["results"]}
    assert listed[[u for u, ua in uuids.items() if ua == IPHONE][0]] == "Mobile Safari"


def test_current_flag_and_self_logout(lighttpd):
    uid, _ = create_user()
    sid, u = session_for(uid, FIREFOX)
    _, other = session_for(uid, IPHONE)
    b = browser(lighttpd, sid)
    rows = {x["uuid"]: x["current"] for x in b.get("core/authenticated_sessions/").json()["results"]}
    assert rows == {u: True, other: False}
    assert b.get("core/authenticated_sessions/%s/" % u).json()["current"] is True
    # Ending another session of one's own: gone at once, this one stays.
    assert b.delete("core/authenticated_sessions/%s/" % other).status_code == 204
    assert sql("SELECT count(*) FROM sessions WHERE uuid = %s", other) == [(0,)]
    assert b.get("core/users/me/").status_code == 200
    # Ending this one logs the browser out on its next request.
    assert b.delete("core/authenticated_sessions/%s/" % u).status_code == 204
    assert b.get("core/users/me/").status_code == 401


def test_delete_ends_session_at_once(admin, lighttpd):
    uid, _ = create_user()
    sid, u = session_for(uid)
    b = browser(lighttpd, sid)
    assert b.get("core/users/me/").status_code == 200
    assert admin.delete("core/authenticated_sessions/%s/" % u).status_code == 204
    assert b.get("core/users/me/").status_code == 401
    assert admin.delete("core/authenticated_sessions/%s/" % u).status_code == 404
    # A cookie session must show its CSRF secret to delete, as every unsafe request.
    sid2, u2 = session_for(uid)
    s = requests.Session()
    s.cookies.set("authentik_session", cookie(sid2))
    r = s.delete(lighttpd + "/api/v3/core/authenticated_sessions/%s/" % u2)
    assert r.status_code == 403
    assert sql("SELECT count(*) FROM sessions WHERE uuid = %s", u2) == [(1,)]


def test_permissions(lighttpd, as_user):
    _, victim = as_user()
    _, u = session_for(victim)
    nobody, _ = as_user()
    assert nobody.get("core/authenticated_sessions/%s/" % u).status_code == 403
    assert nobody.delete("core/authenticated_sessions/%s/" % u).status_code == 403
    assert u not in [x["uuid"] for x in nobody.get("core/authenticated_sessions/").json()["results"]]
    viewer, _ = as_user(perms=["authentik_core.view_authenticatedsession"])
    r = viewer.get("core/authenticated_sessions/", params={"page_size": 100})
    assert r.status_code == 200
    assert viewer.get("core/authenticated_sessions/%s/" % u).status_code == 200
    assert viewer.delete("core/authenticated_sessions/%s/" % u).status_code == 403
    deleter, _ = as_user(object_perms=[("authentik_core.delete_authenticatedsession", u)])
    assert deleter.delete("core/authenticated_sessions/%s/" % u).status_code == 204
    assert sql("SELECT count(*) FROM sessions WHERE uuid = %s", u) == [(0,)]


def test_filters_search_ordering(admin, as_user):
    _, a = as_user()
    _, b = as_user()
    tag = secrets.token_hex(4)
    _, ua = session_for(a, "agent-a-" + tag, ip="198.51.100.1")
    _, ub = session_for(b, "agent-b-" + tag, ip="198.51.100.2")
    r = admin.get("core/authenticated_sessions/", params={"search": tag})
    assert sorted(x["uuid"] for x in r.json()["results"]) == sorted([ua, ub])
    r = admin.get("core/authenticated_sessions/", params={"session__last_ip": "198.51.100.2",
                                                          "search": tag})
    assert [x["uuid"] for x in r.json()["results"]] == [ub]
    r = admin.get("core/authenticated_sessions/",
                  params={"session__last_user_agent": "agent-a-" + tag})
    assert [x["uuid"] for x in r.json()["results"]] == [ua]
    r = admin.get("core/authenticated_sessions/", params={"search": tag, "ordering": "-last_ip"})
    assert [x["uuid"] for x in r.json()["results"]] == [ub, ua]
