"""/api/v3/core/users/: authentik's users API."""
import hashlib
import json
import secrets
import threading
import urllib.parse

import argon2
import pytest

from conftest import FlowClient, create_user, events_for, login_flow_make, login_user, sql

U = "core/users/"


def mk(admin, **kw):
    body = {"username": "u-" + secrets.token_hex(6), "name": "N"}
    body.update(kw)
    r = admin.post(U, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def install_id():
    return str(sql("SELECT install_id FROM custos_install")[0][0])


# --- reading ---------------------------------------------------------------------------------

def test_list_shape_and_fields(admin):
    u = mk(admin, email="x@example.com", attributes={"a": 1})
    r = admin.get(U, params={"username": u["username"]})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"pagination", "results", "autocomplete"}
    assert body["pagination"]["count"] == 1
    row = body["results"][0]
    for f in ("pk", "username", "name", "is_active", "last_login", "date_joined", "is_superuser",
              "groups", "groups_obj", "roles", "roles_obj", "email", "avatar", "attributes", "uid",
              "path", "type", "uuid", "password_change_date", "last_updated"):
        assert f in row, f
    assert "password" not in row
    assert row["avatar"].startswith("data:image/svg+xml;base64,")
    assert row["date_joined"].endswith("Z")
    assert row["uid"] == hashlib.sha256(("%d-%s" % (row["pk"], install_id())).encode()).hexdigest()


def test_include_groups_false(admin):
    u = mk(admin)
    row = admin.get(U, params={"username": u["username"], "include_groups": "false"}).json()["results"][0]
    assert row["groups_obj"] is None and row["groups"] == []
    assert admin.get(U + "%d/" % u["pk"]).json()["groups_obj"] == []


def test_get_and_404(admin):
    u = mk(admin)
    assert admin.get(U + "%d/" % u["pk"]).json()["username"] == u["username"]
    assert admin.get(U + "999999999/").status_code == 404
    assert admin.get(U + "abc/").status_code == 404


def test_unauthenticated(lighttpd):
    import requests
    r = requests.get(lighttpd + "/api/v3/" + U)
    assert r.status_code == 401


def test_view_permission(admin, as_user):
    a = mk(admin)
    b = mk(admin)
    api, _ = as_user()
    assert api.get(U + "%d/" % a["pk"]).status_code == 403
    assert api.get(U).json()["pagination"]["count"] == 0
    api, _ = as_user(object_perms=[("authentik_core.view_user", a["pk"])])
    assert api.get(U + "%d/" % a["pk"]).status_code == 200
    assert api.get(U + "%d/" % b["pk"]).status_code == 403
    assert [x["pk"] for x in api.get(U).json()["results"]] == [a["pk"]]
    api, _ = as_user(perms=["authentik_core.view_user"])
    assert api.get(U + "%d/" % b["pk"]).status_code == 200


def test_filters(admin):
    g = admin.post("core/groups/", json={"name": "fg-" + secrets.token_hex(5)}).json()
    t = secrets.token_hex(4)
    u = mk(admin, email="filter-%s@example.org" % t, path="flt%s/deep" % t, type="external", groups=[g["pk"]],
           attributes={"team": "blue", "n": 2})
    q = lambda **p: admin.get(U, params=p)
    assert [x["pk"] for x in q(email="filter-%s@example.org" % t).json()["results"]] == [u["pk"]]
    assert [x["pk"] for x in q(path_startswith="flt%s/" % t).json()["results"]] == [u["pk"]]
    assert [x["pk"] for x in q(groups_by_pk=g["pk"]).json()["results"]] == [u["pk"]]
    assert [x["pk"] for x in q(groups_by_name=g["name"]).json()["results"]] == [u["pk"]]
    assert [x["pk"] for x in q(uuid=u["uuid"]).json()["results"]] == [u["pk"]]
    assert u["pk"] in [x["pk"] for x in q(type=["external", "service_account"], page_size=100).json()["results"]]
    assert [x["pk"] for x in q(attributes=json.dumps({"team": "blue"}), path="flt%s/deep" % t).json()["results"]] == [u["pk"]]
    assert q(attributes=json.dumps({"team": "red"}), path="flt%s/deep" % t).json()["pagination"]["count"] == 0
    assert q(attributes="[1]").status_code == 400
    assert q(attributes="{nope").status_code == 400
    assert q(type="robot").status_code == 400
    assert q(groups_by_pk="not-a-uuid").status_code == 400
    assert q(date_joined__gt="yesterday").status_code == 400
    assert q(date_joined__gt="2000-01-01T00:00:00Z", path="flt%s/deep" % t).json()["pagination"]["count"] == 1
    assert q(date_joined__lt="2000-01-01", path="flt%s/deep" % t).json()["pagination"]["count"] == 0
    assert q(is_active="maybe").status_code == 400
    assert q(search=u["username"][2:10]).json()["pagination"]["count"] >= 1


def test_ordering_and_search(admin):
    ord_ = "ord" + secrets.token_hex(4)
    a = mk(admin, name="zz-order", path=ord_)
    b = mk(admin, name="aa-order", path=ord_)
    names = [x["name"] for x in admin.get(U, params={"path": ord_, "ordering": "name"}).json()["results"]]
    assert names == ["aa-order", "zz-order"]
    names = [x["name"] for x in admin.get(U, params={"path": ord_, "ordering": "-name"}).json()["results"]]
    assert names == ["zz-order", "aa-order"]
    # unknown ordering fields are ignored
    assert admin.get(U, params={"ordering": "password"}).status_code == 200
    r = admin.get(U, params={"search": "%", "path": ord_})
    assert r.json()["pagination"]["count"] == 0


def test_pagination(admin):
    pg5 = "pg5" + secrets.token_hex(4)
    for i in range(5):
        mk(admin, path=pg5)
    r = admin.get(U, params={"path": pg5, "page_size": 2}).json()["pagination"]
    assert (r["next"], r["previous"], r["count"], r["total_pages"]) == (2, 0, 5, 3)
    r = admin.get(U, params={"path": pg5, "page_size": 2, "page": 3}).json()["pagination"]
    assert (r["next"], r["previous"], r["start_index"], r["end_index"]) == (0, 2, 5, 5)
    assert admin.get(U, params={"path": pg5, "page_size": 2, "page": 4}).status_code == 404
    assert admin.get(U, params={"page": 0}).status_code == 404
    r = admin.get(U, params={"page_size": 1000})
    assert len(r.json()["results"]) <= 100


# --- writing ---------------------------------------------------------------------------------

def test_create_validation(admin):
    assert admin.post(U, json={"name": "x"}).json() == {"username": ["This field is required."]}
    assert "username" in admin.post(U, json={"username": "", "name": "x"}).json()
    r = admin.post(U, json={"username": "a" * 151, "name": "x"})
    assert r.status_code == 400 and "150" in r.json()["username"][0]
    assert admin.post(U, json={"username": secrets.token_hex(75), "name": "x"}).status_code == 201
    r = admin.post(U, json={"username": 5, "name": "x", "is_active": "yes", "groups": "nope",
                            "attributes": [], "email": "bad", "path": "/x", "type": "robot"})
    assert r.status_code == 400
    assert set(r.json()) >= {"username", "is_active", "groups", "attributes", "email", "path", "type"}
    r = admin.post(U, json={"username": "isa-" + secrets.token_hex(5), "name": "x", "type": "internal_service_account"})
    assert r.status_code == 400 and "type" in r.json()
    r = admin.post(U, json={"username": "gx-" + secrets.token_hex(5), "name": "x", "groups": ["00000000-0000-0000-0000-000000000000"]})
    assert r.status_code == 400 and "does not exist" in r.json()["groups"][0]
    assert admin.post(U, data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert admin.post(U, data="[1]", headers={"Content-Type": "application/json"}).status_code == 400


def test_duplicate_username(admin):
    u = mk(admin)
    r = admin.post(U, json={"username": u["username"], "name": "x"})
    assert r.status_code == 400 and r.json() == {"username": ["This field must be unique."]}
    v = mk(admin)
    r = admin.patch(U + "%d/" % v["pk"], json={"username": u["username"]})
    assert r.status_code == 400 and "username" in r.json()


def test_verbatim_and_big(admin):
    evil = "x'); DROP TABLE users; -- \"é☃"
    u = mk(admin, name=evil, attributes={"q": evil})
    got = admin.get(U + "%d/" % u["pk"]).json()
    assert got["name"] == evil and got["attributes"]["q"] == evil
    big = {"blob": "a" * (1024 * 1024 - 100)}
    r = admin.patch(U + "%d/" % u["pk"], json={"attributes": big})
    assert r.status_code == 200 and len(r.json()["attributes"]["blob"]) == len(big["blob"])


def test_create_permissions(admin, as_user):
    api, _ = as_user()
    assert api.post(U, json={"username": "np-" + secrets.token_hex(5), "name": "x"}).status_code == 403
    api, _ = as_user(perms=["authentik_core.add_user"])
    r = api.post(U, json={"username": "yp-" + secrets.token_hex(5), "name": "x"})
    assert r.status_code == 201


def test_update_patch_put_and_events(admin, as_user):
    g = admin.post("core/groups/", json={"name": "ug-" + secrets.token_hex(5)}).json()
    u = mk(admin, groups=[g["pk"]])
    r = admin.patch(U + "%d/" % u["pk"], json={"name": "New", "pk": 12345, "uid": "x", "unknown": 1})
    assert r.status_code == 200 and r.json()["name"] == "New" and r.json()["pk"] == u["pk"]
    assert r.json()["groups"] == [g["pk"]]
    ev = events_for("user", u["pk"], "model_updated")
    assert ev and ev[-1][0]["diff"] == {"name": {"previous": "N", "new": "New"}}
    assert events_for("user", u["pk"], "model_created")
    # PUT without groups clears them (DRF's default=list), and needs username and name
    assert admin.put(U + "%d/" % u["pk"], json={"name": "x"}).status_code == 400
    r = admin.put(U + "%d/" % u["pk"], json={"username": u["username"], "name": "Put"})
    assert r.status_code == 200 and r.json()["groups"] == []
    api, _ = as_user(object_perms=[("authentik_core.change_user", u["pk"])])
    assert api.patch(U + "%d/" % u["pk"], json={"name": "obj"}).status_code == 200
    other = mk(admin)
    assert api.patch(U + "%d/" % other["pk"], json={"name": "obj"}).status_code == 403
    assert admin.patch(U + "999999999/", json={"name": "x"}).status_code == 404


def test_is_superuser_from_parent_group(admin):
    top = admin.post("core/groups/", json={"name": "su-top-" + secrets.token_hex(5), "is_superuser": True}).json()
    sub = admin.post("core/groups/", json={"name": "su-sub-" + secrets.token_hex(5), "parents": [top["pk"]]}).json()
    u = mk(admin, groups=[sub["pk"]])
    assert u["is_superuser"] is True


def test_internal_service_account_locked(admin):
    uid, _ = create_user(type="internal_service_account")
    r = admin.patch(U + "%d/" % uid, json={"name": "x"})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    u = mk(admin)
    assert admin.patch(U + "%d/" % u["pk"], json={"type": "internal_service_account"}).status_code == 400


def test_concurrent_patches(admin):
    u = mk(admin)
    codes = []

    def go(n):
        codes.append(admin.__class__(admin.base[:-len("/api/v3")], admin.s.headers["Authorization"][7:])
                     .patch(U + "%d/" % u["pk"], json={"name": "c%d" % n}).status_code)

    ts = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert codes == [200, 200]
    assert admin.get(U + "%d/" % u["pk"]).json()["name"] in ("c0", "c1")
    assert len(events_for("user", u["pk"], "model_updated")) == 2


def test_delete(admin, as_user):
    u = mk(admin)
    api, _ = as_user()
    assert api.delete(U + "%d/" % u["pk"]).status_code == 403
    api, _ = as_user(object_perms=[("authentik_core.delete_user", u["pk"])])
    assert api.delete(U + "%d/" % u["pk"]).status_code == 204
    assert admin.get(U + "%d/" % u["pk"]).status_code == 404
    assert admin.delete(U + "%d/" % u["pk"]).status_code == 404
    assert events_for("user", u["pk"], "model_deleted")


# --- actions ---------------------------------------------------------------------------------

def test_me(as_user):
    api, uid = as_user()
    r = api.get(U + "me/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"user"}
    assert body["user"]["pk"] == uid
    for f in ("username", "name", "is_active", "is_superuser", "groups", "roles", "email", "avatar",
              "uid", "settings", "type", "system_permissions"):
        assert f in body["user"], f


def test_set_password(admin, as_user):
    u = mk(admin)
    api, _ = as_user()
    assert api.post(U + "%d/set_password/" % u["pk"], json={"password": "pw"}).status_code == 403
    api, _ = as_user(object_perms=[("authentik_core.reset_user_password", u["pk"])])
    secret = "S3cret-pass-word-" + secrets.token_hex(6)
    before = sql("SELECT password_change_date FROM users WHERE id = %s", u["pk"])[0][0]
    assert api.post(U + "%d/set_password/" % u["pk"], json={"password": secret}).status_code == 204
    row = sql("SELECT password, password_change_date FROM users WHERE id = %s", u["pk"])[0]
    assert row[0].startswith("argon2$argon2id$") and row[1] > before
    ev = sql("SELECT context::text, \"user\" FROM events WHERE action = 'password_set' AND \"user\" ->> 'pk' = %s", str(u["pk"]))
    assert ev and secret not in ev[0][0]
    assert not sql("SELECT 1 FROM events WHERE context::text LIKE %s", "%" + secret + "%")
    assert api.post(U + "%d/set_password/" % u["pk"], json={}).status_code == 400
    assert api.post(U + "%d/set_password/" % u["pk"], json={"password": 1}).status_code == 400
    assert secret not in admin.get(U + "%d/" % u["pk"]).text


RECOVERY_FLOW = "default-recovery-flow"
RECOVERY_PASSWORD = "a passphrase from the recovery link"
NO_RECOVERY_FLOW = {"non_field_errors": ["No recovery flow set."]}


def flow_uuid(slug):
    return sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", slug)[0][0]


@pytest.fixture
def recovery_brand():
    """The brand of the host the tests reach the stack by (127.0.0.1), with the default recovery
    flow (identification, email, new password, user write, login); yields its uuid."""
    (pk,), = sql("INSERT INTO brands (domain, flow_recovery) VALUES ('127.0.0.1', %s) "
                 "RETURNING brand_uuid::text", flow_uuid(RECOVERY_FLOW))
    yield pk
    sql("DELETE FROM brands WHERE brand_uuid = %s", pk)


def recovery_written(uid):
    """(flow tokens of the user, tokens of the user: create_user gives each an API token)."""
    return (sql("SELECT count(*) FROM flow_tokens WHERE user_id = %s", uid)[0][0],
            sql("SELECT count(*) FROM tokens WHERE user_id = %s", uid)[0][0])


def link_key(lighttpd, slug, link):
    prefix = "%s/if/flow/%s/?flow_token=" % (lighttpd, slug)
    assert link.startswith(prefix), link
    return link[len(prefix):]


def test_recovery(admin, as_user, lighttpd, recovery_brand):
    u = mk(admin)
    api, _ = as_user()
    assert api.post(U + "%d/recovery/" % u["pk"], json={}).status_code == 403
    r = admin.post(U + "%d/recovery/" % u["pk"], json={})
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["link"]
    key = link_key(lighttpd, RECOVERY_FLOW, r.json()["link"])
    # A flow token for the recovery flow, valid for authentik's default 30 minutes, and no API
    # token: the link is only good for that flow.
    row = sql("SELECT user_id, flow::text, extract(epoch FROM expires - now()), used FROM "
              "flow_tokens WHERE key_digest = %s", hashlib.sha256(key.encode()).hexdigest())
    assert row and row[0][0] == u["pk"] and row[0][1] == flow_uuid(RECOVERY_FLOW)
    assert 29 * 60 < row[0][2] <= 30 * 60 and row[0][3] is None
    assert recovery_written(u["pk"]) == (1, 0)
    # Each request makes a link of its own.
    again = link_key(lighttpd, RECOVERY_FLOW,
                     admin.post(U + "%d/recovery/" % u["pk"], json={}).json()["link"])
    assert again != key and recovery_written(u["pk"]) == (2, 0)
    assert admin.post(U + "999999999/recovery/", json={}).status_code == 404


def test_recovery_link_sets_a_new_password(admin, lighttpd, recovery_brand):
    uid, username = login_user("the forgotten one")
    r = admin.post(U + "%d/recovery/" % uid, json={})
    assert r.status_code == 200, r.text
    link = r.json()["link"]
    query = urllib.parse.urlparse(link).query
    assert list(urllib.parse.parse_qs(query)) == ["flow_token"]

    # In a browser that never saw the flow, the link knows the user and stands for the
    # address: the flow starts at the new password.
    fc = FlowClient(lighttpd, RECOVERY_FLOW, query=query)
    ch = fc.get()
    assert ch["component"] == "ak-stage-prompt", ch
    assert fc.plan()["context"]["pending_user"] == uid
    ch = fc.post({"component": "ak-stage-prompt", "password": RECOVERY_PASSWORD,
                  "password_repeat": RECOVERY_PASSWORD})
    assert ch["component"] == "xak-flow-redirect", ch
    pw = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    assert argon2.PasswordHasher().verify(pw[len("argon2"):], RECOVERY_PASSWORD)
    assert fc.me() == username
    key = link_key(lighttpd, RECOVERY_FLOW, link)
    assert sql("SELECT used IS NOT NULL FROM flow_tokens WHERE key_digest = %s",
               hashlib.sha256(key.encode()).hexdigest())[0][0] is True

    # Once only: the same link in another browser starts the flow from its beginning, as
    # nobody in particular.
    other = FlowClient(lighttpd, RECOVERY_FLOW, query=query)
    ch = other.get()
    assert ch["component"] == "ak-stage-identification", ch
    assert (other.plan()["context"] or {}).get("pending_user") is None
    assert other.me() is None


def test_recovery_token_duration(admin, lighttpd, recovery_brand):
    uid, _ = create_user()
    _, api_tokens = recovery_written(uid)
    path = U + "%d/recovery/" % uid
    r = admin.post(path, json={"token_duration": "hours=2;minutes=30"})
    assert r.status_code == 200, r.text
    link_key(lighttpd, RECOVERY_FLOW, r.json()["link"])
    (left,), = sql("SELECT extract(epoch FROM expires - now()) FROM flow_tokens WHERE user_id = %s", uid)
    assert 149 * 60 < left <= 150 * 60
    for body, want in (
            ({"token_duration": "bad"},
             {"token_duration": ["bad is not in the correct format of 'hours=3;minutes=1'."]}),
            ({"token_duration": "weeks=1000000"},
             {"token_duration": ["Ensure the link expires before the year 10000."]}),
            ({"token_duration": 3}, {"token_duration": ["Not a valid string."]})):
        r = admin.post(path, json=body)
        assert (r.status_code, r.json()) == (400, want), r.text
    assert recovery_written(uid) == (1, api_tokens)


def test_recovery_without_recovery_flow_writes_nothing(admin, recovery_brand):
    uid, _ = create_user()
    before = recovery_written(uid)
    sql("UPDATE brands SET flow_recovery = NULL WHERE brand_uuid = %s", recovery_brand)
    r = admin.post(U + "%d/recovery/" % uid, json={})
    assert (r.status_code, r.json()) == (400, NO_RECOVERY_FLOW), r.text
    # Told before the duration is read, as authentik does.
    r = admin.post(U + "%d/recovery/" % uid, json={"token_duration": "bad"})
    assert (r.status_code, r.json()) == (400, NO_RECOVERY_FLOW), r.text
    assert recovery_written(uid) == before and before[0] == 0


def test_recovery_flow_not_applicable_writes_nothing(admin, recovery_brand):
    uid, _ = create_user()
    before = recovery_written(uid)
    # A flow only a signed-in browser may run cannot be started from a link.
    closed, _ = login_flow_make([("dummystage", {})], designation="recovery",
                                authentication="require_authenticated")
    sql("UPDATE brands SET flow_recovery = %s WHERE brand_uuid = %s", flow_uuid(closed),
        recovery_brand)
    r = admin.post(U + "%d/recovery/" % uid, json={})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Recovery flow not applicable to user"]}
    assert recovery_written(uid) == before and before[0] == 0


def test_paths(admin, as_user):
    p1 = "paths/" + secrets.token_hex(4)
    mk(admin, path=p1)
    r = admin.get(U + "paths/", params={"search": "u-"})
    assert r.status_code == 200 and p1 in r.json()["paths"]
    api, _ = as_user()
    assert api.get(U + "paths/").json() == {"paths": []}


def test_service_account(admin, as_user):
    name = "svc-" + secrets.token_hex(5)
    api, _ = as_user(perms=["authentik_core.add_user"])
    assert api.post(U + "service_account/", json={"name": name}).status_code == 403
    r = admin.post(U + "service_account/", json={"name": name, "create_group": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"username", "user_uid", "user_pk", "group_pk", "token"}
    u = admin.get(U + "%d/" % body["user_pk"]).json()
    assert u["type"] == "service_account" and u["path"] == "goauthentik.io/service-accounts"
    assert body["token"] not in admin.get(U + "%d/" % body["user_pk"]).text
    assert sql("SELECT intent FROM tokens WHERE key = %s", body["token"])[0][0] == "app_password"
    r = admin.post(U + "service_account/", json={"name": name})
    assert r.status_code == 400 and "name" in r.json()
    assert admin.post(U + "service_account/", json={}).status_code == 400
