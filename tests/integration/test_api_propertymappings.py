"""/api/v3/propertymappings/provider/scope/ and /api/v3/propertymappings/all/: scope mappings
(Lua expressions) as authentik's API has them, and what a change does to the providers using
them."""
import json
import secrets

from conftest import Api, create_user, events_for, oauth2_app, sql

SCOPE_FIELDS = {"pk", "managed", "name", "expression", "component", "verbose_name",
                "verbose_name_plural", "meta_model_name", "scope_name", "description"}
MAPPING_FIELDS = SCOPE_FIELDS - {"scope_name", "description"}
PERM = "authentik_providers_oauth2.%s_scopemapping"


def name(prefix="map"):
    return "%s-%s" % (prefix, secrets.token_hex(5))


def make(admin, **fields):
    b = {"name": fields.pop("name", name()), "scope_name": fields.pop("scope_name", name("sc")),
         "expression": fields.pop("expression", "return {answer = 42}")}
    b.update(fields)
    r = admin.post("propertymappings/provider/scope/", b)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_shape_get_and_event(admin):
    m = make(admin, description="Shown at consent")
    assert set(m) == SCOPE_FIELDS
    assert m["managed"] is None and m["description"] == "Shown at consent"
    assert m["component"] == "ak-property-mapping-provider-scope-form"
    assert (m["verbose_name"], m["verbose_name_plural"], m["meta_model_name"]) == (
        "Scope Mapping", "Scope Mappings", "authentik_providers_oauth2.scopemapping")
    assert admin.get("propertymappings/provider/scope/%s/" % m["pk"]).json() == m
    r = admin.get("propertymappings/all/%s/" % m["pk"])
    assert r.json() == {k: m[k] for k in MAPPING_FIELDS}
    ev = events_for("scopemapping", m["pk"], "model_created")
    assert len(ev) == 1
    assert ev[0][0]["model"] == {"app": "authentik_providers_oauth2", "model_name": "scopemapping",
                                 "pk": m["pk"], "name": m["name"]}
    assert ev[0][0]["diff"]["expression"] == {"previous": None, "new": "return {answer = 42}"}
    assert make(admin)["description"] == ""


def test_default_mappings_listed(admin):
    r = admin.get("propertymappings/provider/scope/", params={"managed__isnull": "false",
                                                              "page_size": 100})
    managed = {x["managed"]: x for x in r.json()["results"]}
    for scope in ("openid", "email", "profile", "offline_access"):
        m = managed["goauthentik.io/providers/oauth2/scope-" + scope]
        assert m["scope_name"] == scope
    assert managed["goauthentik.io/providers/oauth2/scope-authentik_api"]["scope_name"] == \
        "goauthentik.io/api"
    # Ordered by scope_name, then name.
    r = admin.get("propertymappings/provider/scope/", params={"page_size": 100})
    keys = [(x["scope_name"], x["name"]) for x in r.json()["results"]]
    assert keys == sorted(keys)


def test_validation(admin):
    r = admin.post("propertymappings/provider/scope/", {})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."],
                        "expression": ["This field is required."],
                        "scope_name": ["This field is required."]}
    base = {"name": name(), "scope_name": "s", "expression": "return {}"}
    cases = [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"expression": ""}, {"expression": ["This field may not be blank."]}),
        ({"scope_name": ""}, {"scope_name": ["This field may not be blank."]}),
        ({"scope_name": "two words"}, {"scope_name": ["Value must not contain spaces."]}),
        ({"managed": ""}, {"managed": ["This field may not be blank."]}),
        ({"description": None}, {"description": ["This field may not be null."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
        ({"scope_name": ["x"]}, {"scope_name": ["Not a valid string."]}),
    ]
    for extra, want in cases:
        r = admin.post("propertymappings/provider/scope/", dict(base, **extra))
        assert r.status_code == 400, extra
        assert r.json() == want, extra
    # Lua that does not compile: the compiler's message.
    r = admin.post("propertymappings/provider/scope/", dict(base, expression="return {"))
    assert r.status_code == 400 and list(r.json()) == ["expression"]
    assert r.json()["expression"][0]
    r = admin.post("propertymappings/provider/scope/", dict(base, expression="x" * (256 * 1024 + 1)))
    assert r.status_code == 400 and list(r.json()) == ["expression"]


def test_unique_name_and_managed(admin):
    m = make(admin, managed="custos.test/" + secrets.token_hex(4))
    r = admin.post("propertymappings/provider/scope/",
                   {"name": m["name"], "scope_name": "s", "expression": "return {}"})
    assert r.status_code == 400
    assert r.json() == {"name": ["Property Mapping with this name already exists."]}
    r = admin.post("propertymappings/provider/scope/",
                   {"name": name(), "scope_name": "s", "expression": "return {}",
                    "managed": m["managed"]})
    assert r.status_code == 400
    assert r.json() == {"managed": ["Property Mapping with this Managed by authentik already "
                                    "exists."]}


def test_update_put_patch_delete_events(admin):
    m = make(admin)
    r = admin.patch("propertymappings/provider/scope/%s/" % m["pk"],
                    {"expression": "return {answer = 43}", "pk": "ignored",
                     "component": "ignored"})
    assert r.status_code == 200 and r.json()["expression"] == "return {answer = 43}"
    assert r.json()["pk"] == m["pk"] and r.json()["name"] == m["name"]
    ev = events_for("scopemapping", m["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"expression": {"previous": "return {answer = 42}",
                                                "new": "return {answer = 43}"}}
    r = admin.put("propertymappings/provider/scope/%s/" % m["pk"], {"name": m["name"]})
    assert r.status_code == 400 and set(r.json()) == {"expression", "scope_name"}
    r = admin.put("propertymappings/provider/scope/%s/" % m["pk"],
                  {"name": m["name"], "scope_name": "other", "expression": "return {}"})
    assert r.status_code == 200 and r.json()["scope_name"] == "other"
    r = admin.patch("propertymappings/provider/scope/%s/" % m["pk"], {"expression": "return {"})
    assert r.status_code == 400
    assert admin.get("propertymappings/provider/scope/%s/" % m["pk"]).json()["expression"] == \
        "return {}"
    assert admin.delete("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 204
    assert admin.get("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 404
    ev = events_for("scopemapping", m["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["name"] == {"previous": m["name"], "new": None}


def test_managed_mappings_can_be_edited_and_deleted(admin):
    """authentik's ManagedModel only marks what an upgrade may put back."""
    m = make(admin, managed="custos.test/" + secrets.token_hex(4))
    r = admin.patch("propertymappings/provider/scope/%s/" % m["pk"], {"description": "edited"})
    assert r.status_code == 200 and r.json()["managed"] == m["managed"]
    r = admin.patch("propertymappings/provider/scope/%s/" % m["pk"], {"managed": None})
    assert r.status_code == 200 and r.json()["managed"] is None
    assert admin.delete("propertymappings/all/%s/" % m["pk"]).status_code == 204
    assert admin.get("propertymappings/all/%s/" % m["pk"]).status_code == 404
    assert events_for("scopemapping", m["pk"], "model_deleted")


def test_list_filters_search_and_all(admin):
    tag = secrets.token_hex(4)
    a = make(admin, name="m-%s-a" % tag, scope_name="sa-" + tag, managed="custos.test/a" + tag)
    b = make(admin, name="m-%s-b" % tag, scope_name="sb-" + tag)

    def names(path="propertymappings/provider/scope/", **params):
        params.setdefault("search", tag)
        r = admin.get(path, params=params)
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["results"]]

    assert names() == [a["name"], b["name"]]
    assert names(ordering="-name") == [b["name"], a["name"]]
    assert names(scope_name="sb-" + tag) == [b["name"]]
    assert names(name=a["name"]) == [a["name"]]
    assert names(managed="custos.test/a" + tag) == [a["name"]]
    assert names(managed=["custos.test/a" + tag, "nope"]) == [a["name"]]
    assert names(managed__isnull="true") == [b["name"]]
    assert names(search="sb-" + tag) == [b["name"]]  # scope_name is searched too
    assert names("propertymappings/all/") == [a["name"], b["name"]]
    assert names("propertymappings/all/", search="sb-" + tag) == []  # all/ searches names only
    assert names("propertymappings/all/", managed__isnull="false") == [a["name"]]
    r = admin.get("propertymappings/all/", params={"search": tag})
    assert [set(x) for x in r.json()["results"]] == [MAPPING_FIELDS, MAPPING_FIELDS]
    r = admin.get("propertymappings/all/types/")
    assert [t for t in r.json() if t["model_name"] == "scopemapping"] == [
                        {"name": "Scope Mapping",
                         "description": "Map an OAuth Scope to users properties",
                         "component": "ak-property-mapping-provider-scope-form",
                         "model_name": "scopemapping", "icon_url": None,
                         "requires_enterprise": False, "deprecated": False}]
    assert admin.get("propertymappings/all/not-a-uuid/").status_code == 404
    assert admin.get("propertymappings/provider/scope/%s/" %
                     "00000000-0000-4000-8000-000000000000").status_code == 404


def test_permissions(admin, as_user, lighttpd):
    m = make(admin)
    n = make(admin)
    assert Api(lighttpd, None).get("propertymappings/provider/scope/").status_code == 401
    nobody, _ = as_user()
    assert nobody.get("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 403
    assert nobody.post("propertymappings/provider/scope/",
                       {"name": name(), "scope_name": "s", "expression": "return {}"}
                       ).status_code == 403
    assert nobody.patch("propertymappings/provider/scope/%s/" % m["pk"],
                        {"description": "x"}).status_code == 403
    assert nobody.delete("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 403
    assert nobody.get("propertymappings/all/%s/" % m["pk"]).status_code == 403
    assert nobody.delete("propertymappings/all/%s/" % m["pk"]).status_code == 403
    assert nobody.get("propertymappings/provider/scope/").json()["results"] == []
    adder, _ = as_user(perms=[PERM % "add"])
    r = adder.post("propertymappings/provider/scope/",
                   {"name": name(), "scope_name": "s", "expression": "return {}"})
    assert r.status_code == 201
    obj, _ = as_user(object_perms=[(PERM % "view", m["pk"]), (PERM % "change", m["pk"]),
                                   (PERM % "delete", m["pk"])])
    r = obj.get("propertymappings/provider/scope/", params={"page_size": 100})
    assert [x["pk"] for x in r.json()["results"]] == [m["pk"]]
    assert obj.get("propertymappings/provider/scope/%s/" % n["pk"]).status_code == 403
    assert obj.patch("propertymappings/provider/scope/%s/" % n["pk"],
                     {"description": "x"}).status_code == 403
    assert obj.patch("propertymappings/provider/scope/%s/" % m["pk"],
                     {"description": "x"}).status_code == 200
    # all/ goes by authentik_core's property mapping permissions.
    assert obj.get("propertymappings/all/%s/" % m["pk"]).status_code == 403
    assert obj.delete("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 204
    core, _ = as_user(perms=["authentik_core.view_propertymapping",
                             "authentik_core.delete_propertymapping"])
    assert core.get("propertymappings/all/%s/" % n["pk"]).status_code == 200
    assert core.get("propertymappings/provider/scope/%s/" % n["pk"]).status_code == 403
    assert core.delete("propertymappings/all/%s/" % n["pk"]).status_code == 204


def test_a_change_reaches_the_providers(admin):
    """Editing a mapping is seen by the next request of every provider using it (the cached
    provider is checked against providers.serial); deleting it takes it off them."""
    app = oauth2_app(scopes=("openid",))
    m = make(admin, scope_name="custom", expression="return {flavour = 'vanilla'}")
    r = admin.patch("providers/oauth2/%d/" % app["provider_id"],
                    {"property_mappings": admin.get("providers/oauth2/%d/" % app["provider_id"])
                     .json()["property_mappings"] + [m["pk"]]})
    assert r.status_code == 200, r.text
    uid, _ = create_user()
    url = "providers/oauth2/%d/preview_user/" % app["provider_id"]
    assert admin.get(url, params={"for_user": uid}).json()["preview"]["flavour"] == "vanilla"
    admin.patch("propertymappings/provider/scope/%s/" % m["pk"],
                {"expression": "return {flavour = 'chocolate', user = request.user.username}"})
    pv = admin.get(url, params={"for_user": uid}).json()["preview"]
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    assert pv["flavour"] == "chocolate" and pv["user"] == username
    assert admin.delete("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 204
    p = admin.get("providers/oauth2/%d/" % app["provider_id"]).json()
    assert m["pk"] not in p["property_mappings"] and len(p["property_mappings"]) == 1
    assert "flavour" not in admin.get(url, params={"for_user": uid}).json()["preview"]


def test_test_runs_the_mapping_for_a_user(admin, as_user):
    uid, _ = create_user(email="t.user@example.com")
    m = make(admin, expression="return {email = request.user.email, n = 1.5, list = {1, 2}, "
                               "nested = {ok = true}, word = 'caf\u00e9'}")
    url = "propertymappings/all/%s/test/" % m["pk"]
    r = admin.post(url, {"user": uid})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["successful"] is True
    assert json.loads(out["result"]) == {"email": "t.user@example.com", "n": 1.5, "list": [1, 2],
                                         "nested": {"ok": True}, "word": "caf\u00e9"}
    # Python's json.dumps: ", " and ": " on one line, ASCII only; indented with format_result.
    assert "\n" not in out["result"] and '"email": "t.user@example.com"' in out["result"]
    assert "\\u00e9" in out["result"]
    r = admin.post(url, {"user": uid}, params={"format_result": "true"})
    assert r.json()["result"].startswith("{\n    \"") and r.json()["successful"] is True
    # A mapping that fails says why.
    bad = make(admin, expression="error('mapping broke')")
    r = admin.post("propertymappings/all/%s/test/" % bad["pk"], {"user": uid})
    assert r.json()["successful"] is False and "mapping broke" in r.json()["result"]
    # Without a user, request.user is nil, as authentik's None.
    r = admin.post(url, {})
    assert r.status_code == 200 and r.json()["successful"] is False
    empty = make(admin, expression="return {}")
    assert admin.post("propertymappings/all/%s/test/" % empty["pk"], {"user": uid}).json() == {
        "result": "{}", "successful": True}
    # Running a mapping takes its change permission, not view alone; and view_user on the user.
    viewer, _ = as_user(perms=[PERM % "view", "authentik_core.view_propertymapping",
                               "authentik_core.view_user"])
    assert viewer.post(url, {"user": uid}).status_code == 403
    changer, _ = as_user(object_perms=[(PERM % "change", m["pk"])])
    assert changer.post(url, {"user": uid}).status_code == 403
    assert changer.post(url, {}).status_code == 200
    allowed, _ = as_user(object_perms=[(PERM % "change", m["pk"]),
                                       ("authentik_core.view_user", uid)])
    r = allowed.post(url, {"user": uid})
    assert r.status_code == 200 and r.json()["successful"] is True
    # Body errors.
    assert admin.post(url, {"user": "x"}).json() == {
        "user": ["Incorrect type. Expected pk value, received str."]}
    assert admin.post(url, {"user": 987654321}).json() == {
        "user": ['Invalid pk "987654321" - object does not exist.']}
    assert admin.post(url, {"group": "nope"}).json() == {
        "group": ["\u201cnope\u201d is not a valid UUID."]}
    assert admin.post(url, {"group": "00000000-0000-4000-8000-000000000000"}).json() == {
        "group": ['Invalid pk "00000000-0000-4000-8000-000000000000" - object does not exist.']}
    assert admin.post(url, {"context": []}).json() == {
        "context": ['Expected a dictionary of items but got type "list".']}
    assert admin.post("propertymappings/all/%s/test/" %
                      "00000000-0000-4000-8000-000000000000", {}).status_code == 404
