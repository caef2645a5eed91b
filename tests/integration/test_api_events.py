"""/api/v3/events/events/: the audit log, read-only."""
import json
import secrets
import uuid

import pytest

from conftest import Api, sql

BASE = "events/events/"
FIELDS = {"pk", "user", "action", "app", "context", "client_ip", "created", "expires", "brand"}


def add_event(action="custom_test", app="tests", context=None, user=None, client_ip="192.0.2.7", brand=None):
    """Inserts an event straight into PostgreSQL and returns its uuid."""
    return str(sql("INSERT INTO events (action, app, context, client_ip, \"user\", brand) "
                   "VALUES (%s, %s, %s::jsonb, %s::inet, %s::jsonb, %s::jsonb) RETURNING event_uuid",
                   action, app, json.dumps(context or {}), client_ip,
                   json.dumps(user or {"pk": 1, "username": "someone", "email": ""}),
                   json.dumps(brand or {}))[0][0])


@pytest.fixture
def tag():
    return "t" + secrets.token_hex(5)


def pks(r):
    assert r.status_code == 200, r.text
    return [e["pk"] for e in r.json()["results"]]


def test_get_fields(admin, tag):
    pk = add_event(app=tag, context={"k": "v", "n": [1, 2]}, user={"pk": 5, "username": tag, "email": "e@x"},
                   brand={"name": "b"})
    r = admin.get(BASE + pk + "/")
    assert r.status_code == 200
    o = r.json()
    assert set(o) == FIELDS
    assert o["pk"] == pk and o["action"] == "custom_test" and o["app"] == tag
    assert o["context"] == {"k": "v", "n": [1, 2]}
    assert o["user"] == {"pk": 5, "username": tag, "email": "e@x"}
    assert o["client_ip"] == "192.0.2.7" and o["brand"] == {"name": "b"}
    assert o["created"].endswith("Z") and o["expires"].endswith("Z") and "T" in o["created"]
    assert admin.get(BASE + pk.upper() + "/").status_code == 200


def test_get_not_found(admin):
    assert admin.get(BASE + str(uuid.uuid4()) + "/").status_code == 404
    assert admin.get(BASE + "nope/").status_code == 404


def test_requires_auth(lighttpd):
    anon = Api(lighttpd, None)
    assert anon.get(BASE).status_code == 401
    assert anon.get(BASE + "actions/").status_code == 401
    assert anon.get(BASE + str(uuid.uuid4()) + "/").status_code == 401


def test_read_only(admin):
    pk = add_event()
    assert admin.post(BASE, json={"action": "login"}).status_code == 405
    assert admin.put(BASE + pk + "/", json={"action": "login"}).status_code == 405
    assert admin.patch(BASE + pk + "/", json={"action": "login"}).status_code == 405
    assert admin.delete(BASE + pk + "/").status_code == 405
    assert sql("SELECT action FROM events WHERE event_uuid = %s", pk)[0][0] == "custom_test"


def test_permissions(as_user, admin, tag):
    mine = add_event(app=tag)
    other = add_event(app=tag)
    nobody, _ = as_user()
    assert nobody.get(BASE + mine + "/").status_code == 403
    assert pks(nobody.get(BASE, params={"search": tag})) == []
    viewer, _ = as_user(perms=["authentik_events.view_event"])
    assert viewer.get(BASE + mine + "/").status_code == 200
    assert set(pks(viewer.get(BASE, params={"search": tag}))) == {mine, other}
    one, _ = as_user(object_perms=[("authentik_events.view_event", mine)])
    assert one.get(BASE + mine + "/").status_code == 200
    assert one.get(BASE + other + "/").status_code == 403
    assert pks(one.get(BASE, params={"search": tag})) == [mine]
    # actions/ is open to any authenticated user
    assert nobody.get(BASE + "actions/").status_code == 200


def test_default_order_newest_first(admin, tag):
    a = add_event(app=tag)
    sql("UPDATE events SET created = created - interval '1 hour' WHERE event_uuid = %s", a)
    b = add_event(app=tag)
    assert pks(admin.get(BASE, params={"search": tag})) == [b, a]
    assert pks(admin.get(BASE, params={"search": tag, "ordering": "created"})) == [a, b]


def test_filters(admin, tag):
    u = "user-" + tag
    m = str(uuid.uuid4())
    e1 = add_event(action="login", app=tag, user={"pk": 1, "username": u, "email": ""}, client_ip="198.51.100.1")
    e2 = add_event(action="model_updated", app=tag,
                   context={"model": {"app": "authentik_core", "model_name": "user", "pk": m, "name": "x"}})
    e3 = add_event(action="login_failed", app=tag, context={"username": u}, brand={"name": "brand-" + tag})
    e4 = add_event(action="authorize_application", app=tag,
                   context={"authorized_application": {"pk": m.replace("-", "")}})
    e5 = add_event(action="model_deleted", app=tag,
                   context={"model": {"app": "authentik_crypto", "model_name": "certificatekeypair", "pk": 42}})
    q = lambda **p: set(pks(admin.get(BASE, params=dict(p, search=tag))))
    assert q(action="LOGIN") == {e1, e3}  # icontains
    assert q(username=u) == {e1, e3}
    assert q(client_ip="198.51.100.1") == {e1}
    assert q(context_model_pk=m) == {e2}
    assert q(context_model_pk=m.replace("-", "")) == {e2}
    assert q(context_model_pk="42") == {e5}
    assert q(context_model_name="user") == {e2}
    assert q(context_model_app="authentik_crypto") == {e5}
    assert q(context_authorized_app=m) == {e4}
    assert q(brand_name="brand-" + tag) == {e3}
    r = admin.get(BASE, params=[("search", tag), ("actions", "login"), ("actions", "model_updated")])
    assert set(pks(r)) == {e1, e2}
    assert q(client_ip="not-an-ip") == set()


def test_search(admin, tag):
    e = add_event(context={"note": "needle-" + tag})
    assert pks(admin.get(BASE, params={"search": "needle-" + tag})) == [e]
    assert pks(admin.get(BASE, params={"search": "%' OR 1=1 --" + tag})) == []


def test_actions(admin):
    r = admin.get(BASE + "actions/")
    assert r.status_code == 200
    items = r.json()
    comps = [x["component"] for x in items]
    assert comps[0] == "login" and "secret_view" in comps and "model_created" in comps and comps[-1] == "custom_"
    assert len(comps) == 33
    login = items[0]
    assert login == {"name": "Login", "description": "", "component": "login", "model_name": "",
                     "requires_enterprise": False, "deprecated": False}
    assert {"name": "Invite Used", "component": "invitation_used"}.items() <= \
        [x for x in items if x["component"] == "invitation_used"][0].items()


def test_pagination(admin, tag):
    made = [add_event(app=tag) for _ in range(3)]
    r = admin.get(BASE, params={"search": tag, "page_size": 2})
    j = r.json()
    assert j["pagination"]["count"] == 3 and j["pagination"]["total_pages"] == 2 and len(j["results"]) == 2
    r2 = admin.get(BASE, params={"search": tag, "page_size": 2, "page": 2})
    assert len(r2.json()["results"]) == 1
    assert set(pks(r) + pks(r2)) == set(made)
    assert admin.get(BASE, params={"search": tag, "page": 9}).status_code == 404


# --- volume/: events per action per UTC day


def add_event_at(action, days_ago, user=None, client_ip="192.0.2.7", context=None):
    """An event created days_ago days before now (UTC noon of that day, so it never straddles a
    day boundary)."""
    return str(sql("INSERT INTO events (action, app, context, client_ip, \"user\", created) VALUES "
                   "(%s, 'tests', %s::jsonb, %s::inet, %s::jsonb, date_trunc('day', now() AT TIME "
                   "ZONE 'UTC') AT TIME ZONE 'UTC' - %s * interval '1 day' + interval '12 hours') "
                   "RETURNING event_uuid",
                   action, json.dumps(context or {}), client_ip,
                   json.dumps(user or {"pk": 1, "username": "someone", "email": ""}), days_ago)[0][0])


def utc_day(days_ago):
    return sql("SELECT to_char(date_trunc('day', now() AT TIME ZONE 'UTC') - %s * interval '1 day', "
               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", days_ago)[0][0]


def volume(api, **params):
    r = api.get(BASE + "volume/", params=params)
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)
    return [(v["action"], v["time"], v["count"]) for v in r.json()]


def test_volume_counts(admin, tag):
    a, b = "custom_" + tag + "_a", "custom_" + tag + "_b"
    # 12:00 UTC of today would be in the future before noon: today's events are made now.
    for _ in range(3):
        add_event(action=a)
    add_event_at(a, 1)
    add_event_at(a, 1)
    add_event_at(b, 1)
    add_event_at(a, 6)
    add_event_at(a, 7)
    add_event_at(a, 30)
    got = volume(admin, actions=[a, b])
    # Seven days by default: today and the six before it; ordered by time, then action.
    assert got == [(a, utc_day(6), 1), (a, utc_day(1), 2), (b, utc_day(1), 1), (a, utc_day(0), 3)]
    for v in admin.get(BASE + "volume/", params={"actions": a}).json():
        assert set(v) == {"action", "time", "count"} and isinstance(v["count"], int)
    assert volume(admin, actions=[a], history_days=1) == [(a, utc_day(0), 3)]
    assert volume(admin, actions=[a], history_days=8)[0] == (a, utc_day(7), 1)
    assert volume(admin, actions=[a], history_days=31)[0] == (a, utc_day(30), 1)
    # Held to 1..366; not a number is refused.
    assert volume(admin, actions=[a], history_days=0) == [(a, utc_day(0), 3)]
    assert volume(admin, actions=[a], history_days=-5) == [(a, utc_day(0), 3)]
    assert len(volume(admin, actions=[a], history_days=100000)) == 5
    r = admin.get(BASE + "volume/", params={"history_days": "x"})
    assert r.status_code == 400 and list(r.json()) == ["history_days"]


def test_volume_filters(admin, tag):
    act = "custom_" + tag
    add_event(action=act, user={"pk": 9, "username": tag, "email": ""}, client_ip="198.51.100.9")
    add_event(action=act, client_ip="198.51.100.10")
    add_event(action=act, context={"model": {"app": "authentik_core", "model_name": "user", "pk": 4}})
    today = utc_day(0)
    assert volume(admin, action=tag) == [(act, today, 3)]
    assert volume(admin, actions=act, username=tag) == [(act, today, 1)]
    assert volume(admin, actions=act, client_ip="198.51.100.10") == [(act, today, 1)]
    assert volume(admin, actions=act, context_model_name="user") == [(act, today, 1)]
    assert volume(admin, action=tag, search="198.51.100.9") == [(act, today, 1)]
    assert volume(admin, actions="custom_" + tag + "_none") == []


def test_volume_permissions(as_user, lighttpd, tag):
    act = "custom_" + tag
    mine = add_event(action=act)
    add_event(action=act)
    nobody, _ = as_user()
    assert volume(nobody, actions=act) == []
    viewer, _ = as_user(perms=["authentik_events.view_event"])
    assert volume(viewer, actions=act) == [(act, utc_day(0), 2)]
    one, _ = as_user(object_perms=[("authentik_events.view_event", mine)])
    assert volume(one, actions=act) == [(act, utc_day(0), 1)]
    assert Api(lighttpd, None).get(BASE + "volume/").status_code == 401
