"""/api/v3/core/tokens/: tokens by identifier; the key only through view_key/."""
import hashlib
import json
import secrets

import requests

from conftest import Api, ROUTERS, create_user, events_for, sql


def ident(prefix="t"):
    return prefix + "-" + secrets.token_hex(5)


def make_token(owner, intent="api", expiring=False, expires_sql="now() + interval '1 day'"):
    """A token straight in PostgreSQL; returns (identifier, key, uuid)."""
    key = secrets.token_hex(30)
    name = ident()
    rows = sql("INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring, expires) "
               "VALUES (%s, %s, %s, %s, %s, %s, " + expires_sql + ") RETURNING uuid::text",
               name, key, hashlib.sha256(key.encode()).hexdigest(), intent, owner, expiring)
    return name, key, rows[0][0]


def lighttpd_api(key):
    return Api("http://127.0.0.1:%s" % ROUTERS["lighttpd"], key)


def test_create_as_superuser_defaults(admin):
    name = ident()
    r = admin.post("core/tokens/", {"identifier": name, "description": "for CI"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["identifier"] == name and t["intent"] == "api" and t["description"] == "for CI"
    assert t["expiring"] is True and t["expires"].endswith("Z") and t["managed"] is None
    assert set(t) == {"pk", "managed", "identifier", "intent", "user", "user_obj", "description",
                      "expires", "expiring"}
    u = t["user_obj"]
    assert u["pk"] == t["user"] and "password" not in u and len(u["uid"]) == 64
    assert {"username", "name", "is_active", "groups", "roles", "avatar", "attributes", "path",
            "type", "uuid"} <= set(u)
    key, digest = sql("SELECT key, key_digest FROM tokens WHERE identifier = %s", name)[0]
    assert len(key) == 60 and key.isalnum()
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    # An API token's expiry is authentik's default, one day, whatever the body says.
    hours = sql("SELECT extract(epoch FROM expires - now()) / 3600 FROM tokens WHERE identifier = %s",
                name)[0][0]
    assert 23.9 < float(hours) <= 24


def test_key_never_in_outputs(admin):
    name = ident()
    r = admin.post("core/tokens/", {"identifier": name})
    assert r.status_code == 201
    key = sql("SELECT key FROM tokens WHERE identifier = %s", name)[0][0]
    assert key not in r.text
    for path in ("core/tokens/", "core/tokens/%s/" % name, "core/tokens/?search=" + name):
        r = admin.get(path)
        assert r.status_code == 200
        assert key not in r.text and '"key"' not in r.text
    r = admin.patch("core/tokens/%s/" % name, {"description": "d"})
    assert r.status_code == 200 and key not in r.text
    for action in ("model_created", "model_updated"):
        for ctx, _, _ in events_for("token", r.json()["pk"], action):
            assert key not in json.dumps(ctx)


def test_view_key_writes_secret_view(admin):
    name = ident()
    pk = admin.post("core/tokens/", {"identifier": name}).json()["pk"]
    r = admin.get("core/tokens/%s/view_key/" % name)
    assert r.status_code == 200
    key = sql("SELECT key FROM tokens WHERE identifier = %s", name)[0][0]
    assert r.json() == {"key": key}
    ev = sql("SELECT context, app FROM events WHERE action = 'secret_view' "
             "AND context -> 'secret' ->> 'pk' = %s", pk)
    assert len(ev) == 1
    assert ev[0][0]["secret"]["model_name"] == "token" and key not in json.dumps(ev[0][0])


def test_view_key_needs_permission(as_user, admin):
    owner, _ = create_user()
    name, key, uuid = make_token(owner)
    viewer, _ = as_user(perms=["authentik_core.view_token"])
    assert viewer.get("core/tokens/%s/view_key/" % name).status_code == 403
    allowed, _ = as_user(perms=["authentik_core.view_token"],
                         object_perms=[("authentik_core.view_token_key", uuid)])
    r = allowed.get("core/tokens/%s/view_key/" % name)
    assert r.status_code == 200 and r.json()["key"] == key
    assert allowed.get("core/tokens/nope-%s/view_key/" % secrets.token_hex(3)).status_code == 404


def test_created_api_token_authenticates(admin):
    name = ident()
    assert admin.post("core/tokens/", {"identifier": name}).status_code == 201
    key = admin.get("core/tokens/%s/view_key/" % name).json()["key"]
    r = lighttpd_api(key).get("core/tokens/%s/" % name)
    assert r.status_code == 200 and r.json()["identifier"] == name


def test_expired_and_app_password_tokens_do_not_authenticate():
    owner, _ = create_user(superuser=True)
    _, expired, _ = make_token(owner, expiring=True, expires_sql="now() - interval '1 minute'")
    assert lighttpd_api(expired).get("core/tokens/").status_code == 401
    _, app_pw, _ = make_token(owner, intent="app_password")
    assert lighttpd_api(app_pw).get("core/tokens/").status_code == 401
    _, good, _ = make_token(owner, expiring=True)
    assert lighttpd_api(good).get("core/tokens/").status_code == 200


def test_non_superuser_creates_own_token_and_may_view_its_key(as_user):
    other, _ = create_user()
    api, uid = as_user()
    name = ident()
    # The user field is forced to the requester for anyone but a superuser.
    r = api.post("core/tokens/", {"identifier": name, "user": other, "expiring": False})
    assert r.status_code == 201, r.text
    assert r.json()["user"] == uid and r.json()["expiring"] is True
    assert api.get("core/tokens/%s/" % name).status_code == 200
    r = api.get("core/tokens/%s/view_key/" % name)
    assert r.status_code == 200 and len(r.json()["key"]) == 60
    # Without change_token the owner may read but not change it; it may delete it, as
    # authentik's owner_field allows, but not another user's.
    assert api.patch("core/tokens/%s/" % name, {"description": "x"}).status_code == 403
    theirs, _, _ = make_token(other)
    assert api.delete("core/tokens/%s/" % theirs).status_code == 404
    assert sql("SELECT count(*) FROM tokens WHERE identifier = %s", theirs)[0][0] == 1
    assert api.delete("core/tokens/%s/" % name).status_code == 204
    assert api.get("core/tokens/%s/" % name).status_code == 404


def test_superuser_creates_for_another_user(admin):
    other, _ = create_user()
    r = admin.post("core/tokens/", {"identifier": ident(), "user": other, "expiring": False})
    assert r.status_code == 201 and r.json()["user"] == other and r.json()["expiring"] is False


def test_list_visibility(as_user, admin):
    owner, _ = create_user()
    mine_api, me = as_user()
    mine, _, _ = make_token(me)
    theirs, _, theirs_uuid = make_token(owner)
    names = [t["identifier"] for t in mine_api.get("core/tokens/?page_size=100").json()["results"]]
    assert mine in names and theirs not in names
    assert mine_api.get("core/tokens/%s/" % theirs).status_code == 404
    obj_api, _ = as_user(object_perms=[("authentik_core.view_token", theirs_uuid)])
    r = obj_api.get("core/tokens/")
    # Its own login token, and the one it holds view_token on.
    names = [t["identifier"] for t in r.json()["results"]]
    assert theirs in names and len(names) == 2 and mine not in names
    assert obj_api.get("core/tokens/%s/" % theirs).status_code == 200
    all_api, _ = as_user(perms=["authentik_core.view_token"])
    r = all_api.get("core/tokens/?identifier=" + theirs)
    assert r.json()["pagination"]["count"] == 1


def test_filters_search_ordering(admin):
    owner, _ = create_user()
    a = ident("fa")
    b = ident("fb")
    for n, d in ((a, "alpha"), (b, "beta")):
        assert admin.post("core/tokens/", {"identifier": n, "user": owner, "description": d,
                                           "intent": "app_password",
                                           "expires": None}).status_code == 201
    username = sql("SELECT username FROM users WHERE id = %s", owner)[0][0]
    r = admin.get("core/tokens/", params={"user__username": username, "ordering": "-identifier",
                                          "intent": "app_password"})
    assert [t["identifier"] for t in r.json()["results"]] == [b, a]
    r = admin.get("core/tokens/", params={"user__username": username, "description": "beta"})
    assert [t["identifier"] for t in r.json()["results"]] == [b]
    r = admin.get("core/tokens/", params={"search": a})
    assert [t["identifier"] for t in r.json()["results"]] == [a]
    r = admin.get("core/tokens/", params={"user__username": username, "intent": "api"})
    assert [t["identifier"] for t in r.json()["results"]] == ["tok-" + username]
    r = admin.get("core/tokens/", params={"user__username": username, "expiring": "true"})
    assert r.json()["pagination"]["count"] == 2
    r = admin.get("core/tokens/", params={"expires": "not a date"})
    assert r.status_code == 200 and r.json()["results"] == []
    assert admin.get("core/tokens/", params={"expiring": "maybe"}).status_code == 400


def test_validation_errors(admin):
    r = admin.post("core/tokens/", {})
    assert r.status_code == 400 and r.json() == {"identifier": ["This field is required."]}
    r = admin.post("core/tokens/", {"identifier": "bad slug!"})
    assert r.status_code == 400 and "slug" in r.json()["identifier"][0]
    r = admin.post("core/tokens/", {"identifier": "x" * 256})
    assert r.status_code == 400 and "identifier" in r.json()
    r = admin.post("core/tokens/", {"identifier": ident(), "intent": "recovery"})
    assert r.status_code == 400 and r.json() == {"intent": ["Invalid intent recovery"]}
    r = admin.post("core/tokens/", {"identifier": ident(), "intent": "bogus"})
    assert r.status_code == 400 and "intent" in r.json()
    r = admin.post("core/tokens/", {"identifier": ident(), "user": "1"})
    assert r.json() == {"user": ["Incorrect type. Expected pk value, received str."]}
    r = admin.post("core/tokens/", {"identifier": ident(), "user": 987654321})
    assert r.json() == {"user": ['Invalid pk "987654321" - object does not exist.']}
    r = admin.post("core/tokens/", {"identifier": ident(), "expiring": "yes"})
    assert r.status_code == 400 and "expiring" in r.json()
    r = admin.post("core/tokens/", {"identifier": ident(), "description": 5})
    assert r.status_code == 400 and "description" in r.json()
    for bad in ("tomorrow", "2024-13-45T00:00:00Z", 12):
        r = admin.post("core/tokens/", {"identifier": ident(), "intent": "app_password",
                                        "expires": bad})
        assert r.status_code == 400 and "expires" in r.json(), bad
    r = admin.post("core/tokens/", {"identifier": ident(), "intent": "app_password",
                                    "expires": "2999-01-01T00:00:00Z"})
    assert r.status_code == 400
    assert r.json()["expires"][0].startswith("Token expires exceeds maximum lifetime")


def test_duplicate_identifier(admin):
    name = ident()
    assert admin.post("core/tokens/", {"identifier": name}).status_code == 201
    r = admin.post("core/tokens/", {"identifier": name})
    assert r.status_code == 400
    assert r.json() == {"identifier": ["token with this identifier already exists."]}
    other = ident()
    assert admin.post("core/tokens/", {"identifier": other}).status_code == 201
    r = admin.patch("core/tokens/%s/" % other, {"identifier": name})
    assert r.status_code == 400 and "identifier" in r.json()


def test_malformed_and_wrong_bodies(admin):
    r = admin.post("core/tokens/", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post("core/tokens/", data="[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post("core/tokens/", data="identifier=x",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_sql_looking_strings_verbatim(admin):
    name = ident()
    desc = "'; DROP TABLE tokens; -- \"quoted\" \u00e9\u4e2d"
    r = admin.post("core/tokens/", {"identifier": name, "description": desc, "unknown": 1})
    assert r.status_code == 201 and r.json()["description"] == desc
    assert admin.get("core/tokens/%s/" % name).json()["description"] == desc
    r = admin.get("core/tokens/", params={"search": "'; DROP"})
    assert name in [t["identifier"] for t in r.json()["results"]]


def test_update_rules_and_events(admin):
    owner, _ = create_user()
    name = ident()
    r = admin.post("core/tokens/", {"identifier": name, "user": owner, "intent": "app_password"})
    pk = r.json()["pk"]
    assert events_for("token", pk, "model_created")
    r = admin.patch("core/tokens/%s/" % name, {"user": owner + 100000})
    assert r.status_code == 400
    r = admin.patch("core/tokens/%s/" % name, {"user": admin_id(admin)})
    assert r.status_code == 400 and r.json() == {"user": ["User cannot be changed"]}
    r = admin.patch("core/tokens/%s/" % name, {"description": "new", "pk": "ignored",
                                               "managed": "ignored"})
    assert r.status_code == 200 and r.json()["description"] == "new"
    assert r.json()["intent"] == "app_password" and r.json()["managed"] is None
    ev = events_for("token", pk, "model_updated")
    assert ev[-1][0]["diff"] == {"description": {"previous": "", "new": "new"}}
    r = admin.put("core/tokens/%s/" % name, {"description": "put"})
    assert r.status_code == 400 and r.json() == {"identifier": ["This field is required."]}
    new_name = ident()
    r = admin.put("core/tokens/%s/" % name, {"identifier": new_name, "description": "put"})
    assert r.status_code == 200 and r.json()["identifier"] == new_name
    assert admin.get("core/tokens/%s/" % name).status_code == 404
    assert admin.delete("core/tokens/%s/" % new_name).status_code == 204
    assert admin.get("core/tokens/%s/" % new_name).status_code == 404
    ev = events_for("token", pk, "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["identifier"]["previous"] == new_name


def admin_id(api):
    """The user id behind an Api client (its token's owner)."""
    key = api.s.headers["Authorization"].split()[1]
    return sql("SELECT user_id FROM tokens WHERE key_digest = %s",
               hashlib.sha256(key.encode()).hexdigest())[0][0]


def test_object_level_change_and_delete(as_user):
    owner, _ = create_user()
    name, _, uuid = make_token(owner)
    other, _, _ = make_token(owner)
    api, _ = as_user(object_perms=[("authentik_core.view_token", uuid),
                                   ("authentik_core.change_token", uuid),
                                   ("authentik_core.delete_token", uuid)])
    r = api.patch("core/tokens/%s/" % name, {"description": "obj"})
    assert r.status_code == 200 and r.json()["description"] == "obj"
    assert api.patch("core/tokens/%s/" % other, {"description": "x"}).status_code == 404
    assert api.delete("core/tokens/%s/" % name).status_code == 204


def test_set_key(admin, as_user):
    owner, _ = create_user()
    name, old, uuid = make_token(owner)
    new_key = "k" + secrets.token_hex(20)
    r = admin.post("core/tokens/%s/set_key/" % name, {"key": new_key})
    assert r.status_code == 204, r.text
    key, digest = sql("SELECT key, key_digest FROM tokens WHERE uuid = %s", uuid)[0]
    assert key == new_key and digest == hashlib.sha256(new_key.encode()).hexdigest()
    assert lighttpd_api(old).get("core/tokens/").status_code == 401
    ev = events_for("token", uuid, "model_updated")
    assert ev and new_key not in json.dumps(ev[-1][0])
    assert admin.post("core/tokens/%s/set_key/" % name, {}).json() == {
        "key": ["This field is required."]}
    assert admin.post("core/tokens/%s/set_key/" % name, {"key": ""}).status_code == 400
    assert admin.post("core/tokens/%s/set_key/" % name, {"key": 5}).status_code == 400
    viewer, _ = as_user(perms=["authentik_core.view_token"])
    assert viewer.post("core/tokens/%s/set_key/" % name, {"key": "abc"}).status_code == 403
    setter, _ = as_user(object_perms=[("authentik_core.view_token", uuid),
                                      ("authentik_core.set_token_key", uuid)])
    assert setter.post("core/tokens/%s/set_key/" % name,
                       {"key": secrets.token_hex(8)}).status_code == 204
    # A key another token holds is refused: keys are looked up by their digest.
    r = setter.post("core/tokens/%s/set_key/" % name, {"key": new_key})
    assert r.status_code == 204
    other, _, _ = make_token(owner)
    r = admin.post("core/tokens/%s/set_key/" % other, {"key": new_key})
    assert r.status_code == 400 and "key" in r.json()


def test_unauthenticated(lighttpd):
    api = Api(lighttpd, None)
    for r in (api.get("core/tokens/"), api.post("core/tokens/", {"identifier": "x"}),
              api.get("core/tokens/x/view_key/")):
        assert r.status_code == 401


def test_delete_needs_permission(as_user, admin):
    owner, _ = create_user()
    name, _, _ = make_token(owner)
    viewer, _ = as_user(perms=["authentik_core.view_token"])
    assert viewer.delete("core/tokens/%s/" % name).status_code == 403
    deleter, _ = as_user(perms=["authentik_core.view_token", "authentik_core.delete_token"])
    assert deleter.delete("core/tokens/%s/" % name).status_code == 204
