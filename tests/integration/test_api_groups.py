"""/api/v3/core/groups/: authentik's groups API."""
import json
import secrets

from conftest import events_for, sql

G = "core/groups/"


def name():
    return "g-" + secrets.token_hex(5)


def mkg(admin, **kw):
    body = {"name": name()}
    body.update(kw)
    r = admin.post(G, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def mku(admin):
    r = admin.post("core/users/", json={"username": "gu-" + secrets.token_hex(5), "name": "x"})
    assert r.status_code == 201
    return r.json()


def test_create_get_list(admin):
    u = mku(admin)
    g = mkg(admin, users=[u["pk"]], attributes={"a": "b"})
    for f in ("pk", "num_pk", "name", "is_superuser", "parents", "parents_obj", "users", "users_obj",
              "attributes", "roles", "roles_obj", "inherited_roles_obj", "children", "children_obj"):
        assert f in g, f
    assert g["users"] == [u["pk"]] and g["users_obj"][0]["username"] == u["username"]
    assert g["parents_obj"] is None and g["children_obj"] is None
    assert events_for("group", g["pk"], "model_created")
    r = admin.get(G, params={"name": g["name"], "include_users": "false", "include_parents": "true"})
    row = r.json()["results"][0]
    assert row["users_obj"] is None and row["parents_obj"] == []
    assert admin.get(G + g["pk"] + "/").json()["name"] == g["name"]
    assert admin.get(G + "00000000-0000-0000-0000-000000000000/").status_code == 404
    assert admin.get(G + "nope/").status_code == 404


def test_filters_search(admin):
    u = mku(admin)
    g = mkg(admin, users=[u["pk"]], attributes={"k": 1})
    q = lambda **p: admin.get(G, params=p)
    assert [x["pk"] for x in q(members_by_pk=u["pk"]).json()["results"]] == [g["pk"]]
    assert [x["pk"] for x in q(members_by_username=u["username"]).json()["results"]] == [g["pk"]]
    assert [x["pk"] for x in q(search=g["name"]).json()["results"]] == [g["pk"]]
    assert g["pk"] in [x["pk"] for x in q(attributes=json.dumps({"k": 1}), page_size=100).json()["results"]]
    assert q(attributes="x").status_code == 400
    assert q(members_by_pk="abc").status_code == 400
    assert q(is_superuser="nah").status_code == 400


def test_permissions(admin, as_user):
    g = mkg(admin)
    h = mkg(admin)
    api, _ = as_user()
    assert api.get(G + g["pk"] + "/").status_code == 403
    assert api.post(G, json={"name": name()}).status_code == 403
    assert api.patch(G + g["pk"] + "/", json={"name": name()}).status_code == 403
    assert api.delete(G + g["pk"] + "/").status_code == 403
    api, _ = as_user(object_perms=[("authentik_core.view_group", g["pk"]),
                                   ("authentik_core.change_group", g["pk"])])
    assert api.get(G + g["pk"] + "/").status_code == 200
    assert api.get(G + h["pk"] + "/").status_code == 403
    assert [x["pk"] for x in api.get(G).json()["results"]] == [g["pk"]]
    assert api.patch(G + g["pk"] + "/", json={"attributes": {"z": 1}}).status_code == 200
    assert api.patch(G + h["pk"] + "/", json={"attributes": {"z": 1}}).status_code == 403


def test_superuser_flag_needs_permission(admin, as_user):
    api, _ = as_user(perms=["authentik_core.add_group", "authentik_core.change_group"])
    r = api.post(G, json={"name": name(), "is_superuser": True})
    assert r.status_code == 400 and r.json() == {"is_superuser": ["User does not have permission to set superuser status to True."]}
    g = api.post(G, json={"name": name(), "is_superuser": False}).json()
    assert api.patch(G + g["pk"] + "/", json={"is_superuser": True}).status_code == 400
    api2, _ = as_user(perms=["authentik_core.change_group"],
                      object_perms=[("authentik_core.enable_group_superuser", g["pk"])])
    assert api2.patch(G + g["pk"] + "/", json={"is_superuser": True}).status_code == 200
    assert api2.patch(G + g["pk"] + "/", json={"is_superuser": False}).status_code == 400


def test_validation_and_cycles(admin):
    g = mkg(admin)
    assert admin.post(G, json={}).json() == {"name": ["This field is required."]}
    assert admin.post(G, json={"name": ""}).status_code == 400
    r = admin.post(G, json={"name": g["name"]})
    assert r.status_code == 400 and r.json() == {"name": ["Group with this name already exists."]}
    r = admin.post(G, json={"name": name(), "users": ["a"], "parents": [1], "attributes": "x"})
    assert r.status_code == 400 and set(r.json()) == {"users", "parents", "attributes"}
    r = admin.post(G, json={"name": name(), "users": [999999999]})
    assert r.status_code == 400 and "does not exist" in r.json()["users"][0]
    child = mkg(admin, parents=[g["pk"]])
    grandchild = mkg(admin, parents=[child["pk"]])
    assert admin.patch(G + g["pk"] + "/", json={"parents": [grandchild["pk"]]}).status_code == 400
    assert admin.patch(G + g["pk"] + "/", json={"parents": [g["pk"]]}).status_code == 400
    got = admin.get(G + g["pk"] + "/", params={"include_children": "true"}).json()
    assert got["children"] == [child["pk"]] and got["children_obj"][0]["name"] == child["name"]
    evil = "'; DELETE FROM groups; --"
    e = mkg(admin, name=evil + secrets.token_hex(3))
    assert admin.get(G + e["pk"] + "/").json()["name"].startswith(evil)
    r = admin.patch(G + g["pk"] + "/", json={"attributes": {"big": "b" * (1024 * 1024 - 100)}})
    assert r.status_code == 200


def test_update_diff_and_delete(admin):
    g = mkg(admin)
    new = name()
    assert admin.patch(G + g["pk"] + "/", json={"name": new}).status_code == 200
    ev = events_for("group", g["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"name": {"previous": g["name"], "new": new}}
    assert admin.put(G + g["pk"] + "/", json={}).status_code == 400
    assert admin.delete(G + g["pk"] + "/").status_code == 204
    assert admin.delete(G + g["pk"] + "/").status_code == 404
    assert events_for("group", g["pk"], "model_deleted")


def test_add_remove_user(admin, as_user):
    g = mkg(admin)
    u = mku(admin)
    api, _ = as_user(perms=["authentik_core.view_user"])
    assert api.post(G + g["pk"] + "/add_user/", json={"pk": u["pk"]}).status_code == 403
    api, _ = as_user(perms=["authentik_core.view_user"],
                     object_perms=[("authentik_core.add_user_to_group", g["pk"]),
                                   ("authentik_core.remove_user_from_group", g["pk"])])
    assert api.post(G + g["pk"] + "/add_user/", json={"pk": u["pk"]}).status_code == 204
    assert sql("SELECT 1 FROM group_users WHERE group_uuid = %s AND user_id = %s", g["pk"], u["pk"])
    assert api.post(G + g["pk"] + "/add_user/", json={"pk": 999999999}).status_code == 404
    assert api.post(G + g["pk"] + "/add_user/", json={}).status_code == 400
    assert api.post(G + g["pk"] + "/add_user/", json={"pk": "x"}).status_code == 400
    assert api.post(G + g["pk"] + "/remove_user/", json={"pk": u["pk"]}).status_code == 204
    assert not sql("SELECT 1 FROM group_users WHERE group_uuid = %s AND user_id = %s", g["pk"], u["pk"])
    other = mkg(admin)
    assert api.post(G + other["pk"] + "/add_user/", json={"pk": u["pk"]}).status_code == 403
    # a user the requester cannot view is not found
    api, _ = as_user(object_perms=[("authentik_core.add_user_to_group", g["pk"])])
    assert api.post(G + g["pk"] + "/add_user/", json={"pk": u["pk"]}).status_code == 404
    assert admin.post(G + "00000000-0000-0000-0000-000000000000/add_user/", json={"pk": u["pk"]}).status_code == 404
