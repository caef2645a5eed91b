"""/api/v3/rbac/: roles, the permissions that exist, and assigning them to roles; assignments
change what users may do at once."""
import secrets
import uuid

import pytest

from conftest import Api, create_user, events_for, sql

ROLES = "rbac/roles/"
PERMS = "rbac/permissions/"
ABR = "rbac/permissions/assigned_by_roles/"
CRYPTO = "crypto/certificatekeypairs/"


def new_role(admin, name=None):
    r = admin.post(ROLES, json={"name": name or "role-" + secrets.token_hex(4)})
    assert r.status_code == 201, r.text
    return r.json()


def new_pair(admin):
    r = admin.post(CRYPTO + "generate/", json={"common_name": "kp-" + secrets.token_hex(4),
                                               "validity_days": 3, "alg": "ecdsa"})
    assert r.status_code == 200, r.text
    return r.json()["pk"]


def perm_id(app, codename):
    return sql("SELECT id FROM permissions WHERE app_label = %s AND codename = %s", app, codename)[0][0]


# --- roles ---------------------------------------------------------------------------------

def test_role_crud_and_events(admin):
    name = "role-" + secrets.token_hex(4)
    r = admin.post(ROLES, json={"name": name, "pk": str(uuid.uuid4()), "extra": 1})
    assert r.status_code == 201
    o = r.json()
    assert set(o) == {"pk", "name"} and o["name"] == name
    pk = o["pk"]
    assert admin.get(ROLES + pk + "/").json() == o
    assert len(events_for("role", pk, "model_created")) == 1
    r = admin.patch(ROLES + pk + "/", json={"name": name + "-2"})
    assert r.status_code == 200 and r.json()["name"] == name + "-2"
    assert events_for("role", pk, "model_updated")[-1][0]["diff"] == {"name": {"previous": name, "new": name + "-2"}}
    r = admin.put(ROLES + pk + "/", json={"name": name + "-3"})
    assert r.status_code == 200 and r.json()["name"] == name + "-3"
    assert admin.put(ROLES + pk + "/", json={}).status_code == 400
    assert admin.delete(ROLES + pk + "/").status_code == 204
    assert admin.get(ROLES + pk + "/").status_code == 404
    assert len(events_for("role", pk, "model_deleted")) == 1


@pytest.mark.parametrize("body,msg", [
    ({}, "This field is required."),
    ({"name": ""}, "This field may not be blank."),
    ({"name": 3}, "Not a valid string."),
    ({"name": None}, "This field may not be null."),
])
def test_role_validation(admin, body, msg):
    r = admin.post(ROLES, json=body)
    assert r.status_code == 400 and r.json() == {"name": [msg]}


def test_role_duplicate(admin):
    a = new_role(admin)
    b = new_role(admin)
    r = admin.post(ROLES, json={"name": a["name"]})
    assert r.status_code == 400 and r.json() == {"name": ["Role with this name already exists."]}
    r = admin.patch(ROLES + b["pk"] + "/", json={"name": a["name"]})
    assert r.status_code == 400 and r.json() == {"name": ["Role with this name already exists."]}
    assert admin.get(ROLES + b["pk"] + "/").json()["name"] == b["name"]


def test_role_malformed_json(admin):
    r = admin.post(ROLES, data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    role = new_role(admin)
    r = admin.post(ROLES + role["pk"] + "/add_user/", data="nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post(ABR + role["pk"] + "/assign/", data="[", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_role_verbatim(admin):
    name = "r'); DELETE FROM roles; -- ü" + secrets.token_hex(3)
    o = new_role(admin, name)
    assert admin.get(ROLES + o["pk"] + "/").json()["name"] == name


def test_managed_role_refused(admin):
    o = new_role(admin)
    sql("UPDATE roles SET managed = %s WHERE uuid = %s", "goauthentik.io/rbac/" + o["pk"], o["pk"])
    r = admin.patch(ROLES + o["pk"] + "/", json={"name": "changed"})
    assert r.status_code == 403
    assert admin.delete(ROLES + o["pk"] + "/").status_code == 403
    assert admin.get(ROLES + o["pk"] + "/").json()["name"] == o["name"]


def test_role_permissions(admin, as_user):
    o = new_role(admin)
    other = new_role(admin)
    nobody, _ = as_user()
    assert nobody.get(ROLES + o["pk"] + "/").status_code == 403
    assert nobody.post(ROLES, json={"name": "x" + secrets.token_hex(3)}).status_code == 403
    assert nobody.patch(ROLES + o["pk"] + "/", json={"name": "y"}).status_code == 403
    assert nobody.delete(ROLES + o["pk"] + "/").status_code == 403
    assert nobody.get(ROLES).json()["results"] == []
    adder, _ = as_user(perms=["authentik_rbac.add_role"])
    assert adder.post(ROLES, json={"name": "x" + secrets.token_hex(3)}).status_code == 201
    one, _ = as_user(object_perms=[("authentik_rbac.view_role", o["pk"]), ("authentik_rbac.change_role", o["pk"]),
                                   ("authentik_rbac.delete_role", o["pk"])])
    assert one.get(ROLES + o["pk"] + "/").status_code == 200
    assert one.get(ROLES + other["pk"] + "/").status_code == 403
    assert [x["pk"] for x in one.get(ROLES).json()["results"]] == [o["pk"]]
    assert one.patch(ROLES + other["pk"] + "/", json={"name": "z"}).status_code == 403
    assert one.patch(ROLES + o["pk"] + "/", json={"name": o["name"] + "-1"}).status_code == 200
    assert one.delete(ROLES + other["pk"] + "/").status_code == 403
    assert one.delete(ROLES + o["pk"] + "/").status_code == 204


def test_roles_list_filters(admin):
    tag = secrets.token_hex(4)
    a = new_role(admin, "a-" + tag)
    b = new_role(admin, "b-" + tag)
    c = new_role(admin, "c-" + tag)
    sql("UPDATE roles SET managed = %s WHERE uuid = %s", "m-" + tag, c["pk"])
    names = lambda **p: [x["name"] for x in admin.get(ROLES, params=dict(p, search=tag)).json()["results"]]
    assert names() == ["a-" + tag, "b-" + tag, "c-" + tag]
    assert names(ordering="-name") == ["c-" + tag, "b-" + tag, "a-" + tag]
    assert names(name="b-" + tag) == ["b-" + tag]
    assert names(managed="m-" + tag) == ["c-" + tag]
    assert names(managed__isnull="true") == ["a-" + tag, "b-" + tag]
    uid, _ = create_user()
    sql("INSERT INTO role_users (role_uuid, user_id) VALUES (%s, %s)", a["pk"], uid)
    g = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid", "g-" + tag)[0][0]
    parent = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid", "gp-" + tag)[0][0]
    sql("INSERT INTO group_parents (group_uuid, parent_uuid) VALUES (%s, %s)", g, parent)
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g, uid)
    sql("INSERT INTO role_groups (role_uuid, group_uuid) VALUES (%s, %s)", b["pk"], parent)
    assert names(users=uid) == ["a-" + tag]
    assert names(users=uid, inherited="true") == ["a-" + tag, "b-" + tag]
    assert names(groups=str(parent)) == ["b-" + tag]
    assert names(groups=str(g)) == []
    assert names(groups=str(g), inherited="true") == ["b-" + tag]
    assert admin.get(ROLES, params={"users": "x"}).status_code == 400
    assert admin.get(ROLES, params={"groups": "x"}).status_code == 400


def test_add_remove_user(admin, as_user):
    role = new_role(admin)
    uid, key = create_user()
    r = admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid})
    assert r.status_code == 204
    assert sql("SELECT count(*) FROM role_users WHERE role_uuid = %s AND user_id = %s", role["pk"], uid)[0][0] == 1
    assert events_for("role", role["pk"], "model_updated")[-1][0]["diff"] == {"users": {"add": [uid]}}
    assert admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid}).status_code == 204  # idempotent
    r = admin.post(ROLES + role["pk"] + "/remove_user/", json={"pk": uid})
    assert r.status_code == 204
    assert sql("SELECT count(*) FROM role_users WHERE role_uuid = %s AND user_id = %s", role["pk"], uid)[0][0] == 0
    assert events_for("role", role["pk"], "model_updated")[-1][0]["diff"] == {"users": {"remove": [uid]}}
    assert admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": 999999999}).status_code == 404
    assert admin.post(ROLES + str(uuid.uuid4()) + "/add_user/", json={"pk": uid}).status_code == 404
    r = admin.post(ROLES + role["pk"] + "/add_user/", json={})
    assert r.status_code == 400 and r.json() == {"pk": ["This field is required."]}
    r = admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": "1"})
    assert r.status_code == 400 and "pk" in r.json()

    # change_role on that role, and the user must be visible (view_user)
    changer, _ = as_user(object_perms=[("authentik_rbac.change_role", role["pk"])])
    assert changer.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid}).status_code == 404
    changer2, _ = as_user(object_perms=[("authentik_rbac.change_role", role["pk"]),
                                        ("authentik_core.view_user", uid)])
    assert changer2.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid}).status_code == 204
    other = new_role(admin)
    assert changer2.post(ROLES + other["pk"] + "/add_user/", json={"pk": uid}).status_code == 403
    nobody, _ = as_user()
    assert nobody.post(ROLES + role["pk"] + "/remove_user/", json={"pk": uid}).status_code == 403


# --- permissions ---------------------------------------------------------------------------

def test_permissions_list_and_get(as_user):
    api, _ = as_user()  # any authenticated user
    r = api.get(PERMS, params={"codename": "view_certificatekeypair_key"})
    assert r.status_code == 200
    res = r.json()["results"]
    assert len(res) == 1
    p = res[0]
    assert p == {"id": p["id"], "name": "View Certificate-Key pair's private key", "codename": "view_certificatekeypair_key",
                 "model": "certificatekeypair", "app_label": "authentik_crypto", "app_label_verbose": "authentik Crypto",
                 "model_verbose": "Certificate-Key Pair"}
    assert api.get(PERMS + str(p["id"]) + "/").json() == p
    assert api.get(PERMS + "999999/").status_code == 404
    assert api.get(PERMS + "abc/").status_code == 404
    r = api.get(PERMS, params={"content_type__app_label": "authentik_rbac", "content_type__model": "role",
                               "page_size": 100})
    assert {x["codename"] for x in r.json()["results"]} >= {"add_role", "assign_role_permissions"}
    assert all(x["model"] == "role" for x in r.json()["results"])
    r = api.get(PERMS, params={"search": "private key"})
    assert [x["codename"] for x in r.json()["results"]] == ["view_certificatekeypair_key"]
    names = [x["name"] for x in api.get(PERMS, params={"page_size": 100}).json()["results"]]
    assert names == sorted(names)
    assert Api(api.base[:-len("/api/v3")], None).get(PERMS).status_code == 401


def test_permissions_role_filter(admin):
    role = new_role(admin)
    r = admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["authentik_core.view_user",
                                                                        "authentik_rbac.view_role"]})
    assert r.status_code == 200
    pk = new_pair(admin)
    admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["view_certificatekeypair"],
                                                    "model": "authentik_crypto.certificatekeypair", "object_pk": pk})
    r = admin.get(PERMS, params={"role": role["pk"]})
    assert sorted(x["codename"] for x in r.json()["results"]) == ["view_role", "view_user"]
    assert admin.get(PERMS, params={"role": "x"}).status_code == 400


# --- assign / unassign / assigned_by_roles -------------------------------------------------

def test_assign_object_permission_takes_effect(admin, as_user):
    a, b = new_pair(admin), new_pair(admin)
    role = new_role(admin)
    user_api, uid = as_user()
    assert admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid}).status_code == 204
    assert user_api.get(CRYPTO + a + "/").status_code == 403
    r = admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["authentik_crypto.view_certificatekeypair"],
                                                        "model": "authentik_crypto.certificatekeypair", "object_pk": a})
    assert r.status_code == 200, r.text
    ids = r.json()
    assert len(ids) == 1 and isinstance(ids[0]["id"], str)
    assert user_api.get(CRYPTO + a + "/").status_code == 200
    assert user_api.get(CRYPTO + b + "/").status_code == 403
    assert [x["pk"] for x in user_api.get(CRYPTO).json()["results"]] == [a]
    # assigning again gives the same id
    r2 = admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["view_certificatekeypair"],
                                                         "model": "authentik_crypto.certificatekeypair", "object_pk": a})
    assert r2.json() == ids
    ev = events_for("role", role["pk"], "model_updated")[-1][0]
    assert ev["diff"]["permissions"]["add"] == [{"permission": "view_certificatekeypair", "object_pk": a}]
    # unassign takes it away again
    r = admin.patch(ABR + role["pk"] + "/unassign/", json={"permissions": ["authentik_crypto.view_certificatekeypair"],
                                                           "model": "authentik_crypto.certificatekeypair", "object_pk": a})
    assert r.status_code == 204
    assert user_api.get(CRYPTO + a + "/").status_code == 403
    assert events_for("role", role["pk"], "model_updated")[-1][0]["diff"]["permissions"]["remove"]


def test_assign_global_permission_takes_effect(admin, as_user):
    a = new_pair(admin)
    role = new_role(admin)
    user_api, uid = as_user()
    admin.post(ROLES + role["pk"] + "/add_user/", json={"pk": uid})
    r = admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["authentik_crypto.view_certificatekeypair",
                                                                        "authentik_crypto.delete_certificatekeypair"]})
    assert r.status_code == 200 and len(r.json()) == 2
    assert user_api.get(CRYPTO + a + "/").status_code == 200
    assert user_api.delete(CRYPTO + a + "/").status_code == 204
    assert admin.patch(ABR + role["pk"] + "/unassign/",
                       json={"permissions": ["authentik_crypto.view_certificatekeypair"]}).status_code == 204
    assert user_api.get(CRYPTO + new_pair(admin) + "/").status_code == 403


@pytest.mark.parametrize("body,field", [
    ({}, "permissions"),
    ({"permissions": "authentik_core.view_user"}, "permissions"),
    ({"permissions": [1]}, "permissions"),
    ({"permissions": [""]}, "permissions"),
    ({"permissions": ["view_user"]}, "permissions"),
    ({"permissions": ["authentik_core.no_such_perm"]}, "permissions"),
    ({"permissions": ["nope.view_user"]}, "permissions"),
    ({"permissions": ["view_user"], "model": "authentik_core.user"}, "non_field_errors"),
    ({"permissions": ["view_user"], "object_pk": "1"}, "non_field_errors"),
    ({"permissions": ["view_user"], "model": "foo.bar", "object_pk": "1"}, "model"),
    ({"permissions": ["view_user"], "model": "authentik_nothing.thing", "object_pk": "1"}, "model"),
    ({"permissions": ["view_role"], "model": "authentik_core.user", "object_pk": "1"}, "permissions"),
    ({"permissions": ["authentik_rbac.view_role"], "model": "authentik_core.user", "object_pk": "1"}, "permissions"),
    ({"permissions": ["view_user"], "model": 5, "object_pk": "1"}, "model"),
])
def test_assign_validation(admin, body, field):
    role = new_role(admin)
    r = admin.post(ABR + role["pk"] + "/assign/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json(), r.text
    r = admin.patch(ABR + role["pk"] + "/unassign/", json=body)
    assert r.status_code == 400
    assert sql("SELECT count(*) FROM role_permissions WHERE role_uuid = %s", role["pk"])[0][0] == 0


def test_assign_all_or_nothing(admin):
    role = new_role(admin)
    r = admin.post(ABR + role["pk"] + "/assign/", json={"permissions": ["authentik_core.view_user",
                                                                        "authentik_core.bogus"]})
    assert r.status_code == 400
    assert sql("SELECT count(*) FROM role_permissions WHERE role_uuid = %s", role["pk"])[0][0] == 0


def test_assign_permissions_required(admin, as_user):
    role = new_role(admin)
    other = new_role(admin)
    body = {"permissions": ["authentik_core.view_user"]}
    nobody, _ = as_user()
    assert nobody.post(ABR + role["pk"] + "/assign/", json=body).status_code == 403
    assert nobody.patch(ABR + role["pk"] + "/unassign/", json=body).status_code == 403
    assigner, _ = as_user(object_perms=[("authentik_rbac.assign_role_permissions", role["pk"])])
    assert assigner.post(ABR + role["pk"] + "/assign/", json=body).status_code == 200
    assert assigner.post(ABR + other["pk"] + "/assign/", json=body).status_code == 403
    assert assigner.patch(ABR + role["pk"] + "/unassign/", json=body).status_code == 403
    unassigner, _ = as_user(perms=["authentik_rbac.unassign_role_permissions"])
    assert unassigner.patch(ABR + role["pk"] + "/unassign/", json=body).status_code == 204
    assert admin.post(ABR + str(uuid.uuid4()) + "/assign/", json=body).status_code == 404


def test_assigned_by_roles(admin, as_user):
    a, b = new_pair(admin), new_pair(admin)
    tag = secrets.token_hex(4)
    obj_role = new_role(admin, "obj-" + tag)
    model_role = new_role(admin, "model-" + tag)
    new_role(admin, "none-" + tag)
    r = admin.post(ABR + obj_role["pk"] + "/assign/", json={"permissions": ["view_certificatekeypair"],
                                                            "model": "authentik_crypto.certificatekeypair", "object_pk": a})
    obj_id = int(r.json()[0]["id"])
    r = admin.post(ABR + model_role["pk"] + "/assign/", json={"permissions": ["authentik_crypto.change_certificatekeypair"]})
    model_id = int(r.json()[0]["id"])
    q = lambda **p: admin.get(ABR, params=dict(p, search=tag))
    r = q(model="authentik_crypto.certificatekeypair", object_pk=a)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["name"] for x in res] == ["model-" + tag, "obj-" + tag]
    assert res[1] == {"role_pk": obj_role["pk"], "name": "obj-" + tag, "model_permissions": [],
                      "object_permissions": [{"id": obj_id, "codename": "view_certificatekeypair",
                                              "model": "certificatekeypair", "app_label": "authentik_crypto",
                                              "object_pk": a, "name": "Can view Certificate-Key Pair"}]}
    assert res[0]["model_permissions"] == [{"id": model_id, "codename": "change_certificatekeypair",
                                            "model": "certificatekeypair", "app_label": "authentik_crypto",
                                            "name": "Can change Certificate-Key Pair"}]
    assert [x["name"] for x in q(model="authentik_crypto.certificatekeypair", object_pk=b).json()["results"]] == \
        ["model-" + tag]
    assert [x["name"] for x in q(model="authentik_crypto.certificatekeypair").json()["results"]] == ["model-" + tag]
    assert q(model="authentik_core.user").json()["results"] == []
    r = admin.get(ABR)
    assert r.status_code == 400 and r.json() == {"model": ["This field is required."]}
    assert admin.get(ABR, params={"model": "x"}).status_code == 400
    # visibility follows view_role
    viewer, _ = as_user(object_perms=[("authentik_rbac.view_role", obj_role["pk"])])
    r = viewer.get(ABR, params={"model": "authentik_crypto.certificatekeypair", "object_pk": a, "search": tag})
    assert [x["name"] for x in r.json()["results"]] == ["obj-" + tag]
    nobody, _ = as_user()
    r = nobody.get(ABR, params={"model": "authentik_crypto.certificatekeypair", "object_pk": a})
    assert r.json()["results"] == []


def test_assigned_by_roles_requires_auth(lighttpd):
    assert Api(lighttpd, None).get(ABR, params={"model": "authentik_core.user"}).status_code == 401
