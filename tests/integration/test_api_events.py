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
