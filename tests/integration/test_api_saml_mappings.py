"""/api/v3/propertymappings/provider/saml/: SAML property mappings (Lua expressions giving an
Attribute's values) as authentik's API has them, how propertymappings/all/ shows them, and what
a change does to the providers using them."""
import json
import secrets

from conftest import Api, create_user, data_flow_uuid, events_for, saml_app, sql

SAML_FIELDS = {"pk", "managed", "name", "expression", "component", "verbose_name",
               "verbose_name_plural", "meta_model_name", "saml_name", "friendly_name"}
MAPPING_FIELDS = SAML_FIELDS - {"saml_name", "friendly_name"}
PERM = "authentik_providers_saml.%s_samlpropertymapping"
PATH = "propertymappings/provider/saml/"


def name(prefix="sm"):
    return "%s-%s" % (prefix, secrets.token_hex(5))


def make(admin, **fields):
    b = {"name": fields.pop("name", name()), "saml_name": fields.pop("saml_name", name("urn:a")),
         "expression": fields.pop("expression", "return request.user.username")}
    b.update(fields)
    r = admin.post(PATH, b)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_shape_get_and_event(admin):
    m = make(admin, friendly_name="mail")
    assert set(m) == SAML_FIELDS
    assert m["managed"] is None and m["friendly_name"] == "mail"
    assert (m["component"], m["verbose_name"], m["verbose_name_plural"], m["meta_model_name"]) == (
        "ak-property-mapping-provider-saml-form", "SAML Provider Property Mapping",
        "SAML Provider Property Mappings", "authentik_providers_saml.samlpropertymapping")
    assert admin.get(PATH + "%s/" % m["pk"]).json() == m
    # all/: PropertyMappingSerializer's fields with the kind's names.
    r = admin.get("propertymappings/all/%s/" % m["pk"])
    assert r.status_code == 200 and r.json() == {k: m[k] for k in MAPPING_FIELDS}
    ev = events_for("samlpropertymapping", m["pk"], "model_created")
    assert len(ev) == 1
    assert ev[0][0]["model"] == {"app": "authentik_providers_saml",
                                 "model_name": "samlpropertymapping", "pk": m["pk"],
                                 "name": m["name"]}
    assert ev[0][0]["diff"]["saml_name"] == {"previous": None, "new": m["saml_name"]}
    # friendly_name: null by default, blank kept as given.
    assert make(admin)["friendly_name"] is None
    assert make(admin, friendly_name="")["friendly_name"] == ""
    assert make(admin, friendly_name=None)["friendly_name"] is None
    # The scope mappings' endpoints do not see it, nor it theirs.
    assert admin.get("propertymappings/provider/scope/%s/" % m["pk"]).status_code == 404
    assert admin.patch("propertymappings/provider/scope/%s/" % m["pk"],
                       {"name": "x"}).status_code == 404
    scope = sql("SELECT pm_uuid::text FROM property_mappings WHERE type = 'scopemapping' "
                "LIMIT 1")[0][0]
    assert admin.get(PATH + "%s/" % scope).status_code == 404
    assert admin.delete(PATH + "%s/" % scope).status_code == 404


def test_default_mappings_listed(admin):
    r = admin.get(PATH, params={"managed__isnull": "false", "page_size": 100})
    managed = {x["managed"]: x for x in r.json()["results"]}
    assert managed["goauthentik.io/providers/saml/email"]["saml_name"] == \
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    assert managed["goauthentik.io/providers/saml/uid"]["saml_name"] == \
        "http://schemas.goauthentik.io/2021/02/saml/uid"
    assert managed["goauthentik.io/providers/saml/groups"]["saml_name"] == \
        "http://schemas.xmlsoap.org/claims/Group"
    assert {"upn", "name", "username", "ms-windowsaccountname"} <= {
        k.rsplit("/", 1)[1] for k in managed}
    assert all(set(x) == SAML_FIELDS for x in managed.values())
    assert all(x["meta_model_name"] == "authentik_providers_saml.samlpropertymapping"
               for x in managed.values())
    # Only SAML mappings, ordered by name.
    r = admin.get(PATH, params={"page_size": 100})
    rows = r.json()["results"]
    assert all(x["component"] == "ak-property-mapping-provider-saml-form" for x in rows)
    assert [x["name"] for x in rows] == sorted(x["name"] for x in rows)


def test_validation(admin):
    r = admin.post(PATH, {})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."],
                        "expression": ["This field is required."],
                        "saml_name": ["This field is required."]}
    ok = {"name": name(), "saml_name": "urn:x", "expression": "return 1"}
    cases = [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"saml_name": ""}, {"saml_name": ["This field may not be blank."]}),
        ({"saml_name": None}, {"saml_name": ["This field may not be null."]}),
        ({"saml_name": 5}, {"saml_name": ["Not a valid string."]}),
        ({"friendly_name": 5}, {"friendly_name": ["Not a valid string."]}),
        ({"expression": ""}, {"expression": ["This field may not be blank."]}),
        ({"managed": ""}, {"managed": ["This field may not be blank."]}),
        ({"saml_name": "x" * 5000},
         {"saml_name": ["Ensure this field has no more than 4096 characters."]}),
    ]
    for extra, want in cases:
        b = dict(ok, name=name())
        b.update(extra)
        r = admin.post(PATH, b)
        assert r.status_code == 400, (extra, r.text)
        assert r.json() == want, extra
    # The expression must compile.
    r = admin.post(PATH, dict(ok, expression="return (("))
    assert r.status_code == 400 and list(r.json()) == ["expression"]
    # Unique names and managed keys, across the kinds.
    m = make(admin, managed="custos.test/" + secrets.token_hex(4))
    r = admin.post(PATH, dict(ok, name=m["name"]))
    assert r.json() == {"name": ["Property Mapping with this name already exists."]}
    r = admin.post(PATH, dict(ok, name=name(), managed=m["managed"]))
    assert r.json() == {"managed": ["Property Mapping with this Managed by authentik already "
                                    "exists."]}
    scope = sql("SELECT name FROM property_mappings WHERE type = 'scopemapping' LIMIT 1")[0][0]
    r = admin.post(PATH, dict(ok, name=scope))
    assert r.status_code == 400 and list(r.json()) == ["name"]
    # Odd values verbatim.
    n = "m'); DROP TABLE property_mappings; -- \u00e9" + secrets.token_hex(2)
    got = make(admin, name=n, saml_name="urn:\"<x>&'", friendly_name="\u6f22")
    assert (got["name"], got["saml_name"], got["friendly_name"]) == (n, "urn:\"<x>&'", "\u6f22")


def test_update_put_patch_delete_events(admin):
    m = make(admin, friendly_name="one")
    r = admin.patch(PATH + "%s/" % m["pk"], {"friendly_name": None, "saml_name": "urn:two",
                                             "pk": "00000000-0000-4000-8000-000000000000",
                                             "component": "x"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["pk"] == m["pk"] and got["friendly_name"] is None and got["saml_name"] == "urn:two"
    assert got["component"] == "ak-property-mapping-provider-saml-form"
    assert events_for("samlpropertymapping", m["pk"], "model_updated")[-1][0]["diff"] == {
        "saml_name": {"previous": m["saml_name"], "new": "urn:two"},
        "friendly_name": {"previous": "one", "new": None}}
    r = admin.put(PATH + "%s/" % m["pk"], {"name": m["name"]})
    assert r.status_code == 400 and set(r.json()) == {"expression", "saml_name"}
    r = admin.put(PATH + "%s/" % m["pk"], {"name": m["name"], "saml_name": "urn:three",
                                           "expression": "return 3"})
    assert r.status_code == 200 and r.json()["saml_name"] == "urn:three"
    assert r.json()["friendly_name"] is None
    assert admin.delete(PATH + "%s/" % m["pk"]).status_code == 204
    assert admin.get(PATH + "%s/" % m["pk"]).status_code == 404
    ev = events_for("samlpropertymapping", m["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_providers_saml"
    assert ev[0][0]["diff"]["saml_name"] == {"previous": "urn:three", "new": None}
    # Through all/ too, logged under the kind.
    n = make(admin)
    assert admin.delete("propertymappings/all/%s/" % n["pk"]).status_code == 204
    ev = events_for("samlpropertymapping", n["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["model_name"] == "samlpropertymapping"


def test_list_filters_search_all_and_types(admin):
    tag = secrets.token_hex(4)
    a = make(admin, name="m-%s-a" % tag, saml_name="urn:a:" + tag, friendly_name="fa" + tag,
             managed="custos.test/a" + tag)
    b = make(admin, name="m-%s-b" % tag, saml_name="urn:b:" + tag)

    def names(path=PATH, **params):
        params.setdefault("search", tag)
        r = admin.get(path, params=params)
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["results"]]

    assert names() == [a["name"], b["name"]]
    assert names(ordering="-name") == [b["name"], a["name"]]
    assert names(saml_name="urn:b:" + tag) == [b["name"]]
    assert names(friendly_name="fa" + tag) == [a["name"]]
    assert names(name=a["name"]) == [a["name"]]
    assert names(managed="custos.test/a" + tag) == [a["name"]]
    assert names(managed__isnull="true") == [b["name"]]
    assert names(search="urn:b:" + tag) == []  # the name only is searched
    assert names("propertymappings/provider/scope/") == []
    assert names("propertymappings/all/") == [a["name"], b["name"]]
    r = admin.get("propertymappings/all/", params={"search": tag})
    assert [set(x) for x in r.json()["results"]] == [MAPPING_FIELDS, MAPPING_FIELDS]
    assert {x["component"] for x in r.json()["results"]} == {
        "ak-property-mapping-provider-saml-form"}
    types = admin.get("propertymappings/all/types/").json()
    assert [t["name"] for t in types] == sorted(t["name"] for t in types)
    assert [t for t in types if t["model_name"] == "samlpropertymapping"] == [{
        "name": "SAML Provider Property Mapping",
        "description": "Map User/Group attribute to SAML Attribute, which can be used by the "
                       "Service Provider",
        "component": "ak-property-mapping-provider-saml-form",
        "model_name": "samlpropertymapping", "icon_url": None, "requires_enterprise": False,
        "deprecated": False}]


def test_permissions(admin, as_user, lighttpd):
    m = make(admin)
    other = make(admin)
    assert Api(lighttpd, None).get(PATH).status_code == 401
    nobody, _ = as_user()
    assert nobody.get(PATH + "%s/" % m["pk"]).status_code == 403
    assert nobody.post(PATH, {"name": name(), "saml_name": "x", "expression": "return 1"}
                       ).status_code == 403
    assert nobody.get(PATH).json()["results"] == []
    scope_only, _ = as_user(perms=["authentik_providers_oauth2.view_scopemapping",
                                   "authentik_providers_oauth2.add_scopemapping"])
    assert scope_only.get(PATH + "%s/" % m["pk"]).status_code == 403
    assert scope_only.get(PATH).json()["results"] == []
    adder, _ = as_user(perms=[PERM % "add"])
    r = adder.post(PATH, {"name": name(), "saml_name": "x", "expression": "return 1"})
    assert r.status_code == 201
    obj, _ = as_user(object_perms=[(PERM % "view", m["pk"]), (PERM % "change", m["pk"]),
                                   (PERM % "delete", m["pk"])])
    assert [x["pk"] for x in obj.get(PATH).json()["results"]] == [m["pk"]]
    assert obj.get(PATH + "%s/" % other["pk"]).status_code == 403
    assert obj.patch(PATH + "%s/" % other["pk"], {"name": name()}).status_code == 403
    assert obj.patch(PATH + "%s/" % m["pk"], {"name": name()}).status_code == 200
    assert obj.delete(PATH + "%s/" % other["pk"]).status_code == 403
    assert obj.delete(PATH + "%s/" % m["pk"]).status_code == 204
    # Running a mapping is as much as editing it: the kind's change permission.
    uid, _ = create_user()
    viewer, _ = as_user(object_perms=[(PERM % "view", other["pk"])],
                        perms=["authentik_core.view_user"])
    r = viewer.post("propertymappings/all/%s/test/" % other["pk"], {"user": uid})
    assert r.status_code == 403
    changer, _ = as_user(object_perms=[(PERM % "change", other["pk"])],
                         perms=["authentik_core.view_user"])
    r = changer.post("propertymappings/all/%s/test/" % other["pk"], {"user": uid})
    assert r.status_code == 200 and r.json()["successful"] is True


def test_test_runs_a_saml_mapping(admin):
    uid, _ = create_user(email="t.est@example.com")
    m = make(admin, expression="return {request.user.email, 'x'}")
    r = admin.post("propertymappings/all/%s/test/" % m["pk"], {"user": uid})
    assert r.status_code == 200
    assert r.json() == {"result": '["t.est@example.com", "x"]', "successful": True}
    bad = make(admin, expression="error('nope')")
    r = admin.post("propertymappings/all/%s/test/" % bad["pk"], {"user": uid})
    assert r.status_code == 200 and r.json()["successful"] is False
    assert "nope" in r.json()["result"]


def test_a_change_reaches_the_providers(admin):
    m = make(admin, saml_name="urn:custos:team", expression="return 'red'", friendly_name="team")
    app = saml_app(mappings=False)
    pid = app["provider_id"]
    r = admin.patch("providers/saml/%d/" % pid, {"property_mappings": [m["pk"]]})
    assert r.status_code == 200, r.text

    def preview():
        r = admin.get("providers/saml/%d/preview_user/" % pid)
        assert r.status_code == 200, r.text
        return r.json()["preview"]["attributes"]

    assert preview() == [{"Value": ["red"], "FriendlyName": "team", "Name": "urn:custos:team"}]
    s0 = sql("SELECT serial FROM providers WHERE id = %s", pid)[0][0]
    admin.patch(PATH + "%s/" % m["pk"], {"expression": "return 'blue'", "friendly_name": None})
    assert sql("SELECT serial FROM providers WHERE id = %s", pid)[0][0] > s0
    assert preview() == [{"Value": ["blue"], "Name": "urn:custos:team"}]
    # Deleting the mapping takes it off the provider.
    assert admin.delete(PATH + "%s/" % m["pk"]).status_code == 204
    assert preview() == []
    assert admin.get("providers/saml/%d/" % pid).json()["property_mappings"] == []
    # A NameID mapping deleted leaves the provider without one (SET NULL).
    n = make(admin)
    admin.patch("providers/saml/%d/" % pid, {"name_id_mapping": n["pk"]})
    admin.delete(PATH + "%s/" % n["pk"])
    assert admin.get("providers/saml/%d/" % pid).json()["name_id_mapping"] is None
