"""/api/v3/core/brands/: brands by brand_uuid, and current/ for the request's host."""
import secrets
import uuid

import pytest
import requests

from conftest import Api, ROUTERS, events_for, sql


def domain():
    return "b%s.example" % secrets.token_hex(5)


def make_brand(admin, **fields):
    body = {"domain": fields.pop("domain", domain())}
    body.update(fields)
    r = admin.post("core/brands/", body)
    assert r.status_code == 201, r.text
    return r.json()


def make_cert():
    return sql("INSERT INTO certificate_key_pairs (name, certificate_data) VALUES (%s, '') "
               "RETURNING kp_uuid::text", "kp-" + secrets.token_hex(5))[0][0]


@pytest.fixture
def no_default_brand():
    """Takes default off every brand for the test, and gives it back."""
    rows = sql("SELECT brand_uuid::text FROM brands WHERE \"default\"")
    sql("UPDATE brands SET \"default\" = false WHERE \"default\"")
    yield
    sql("UPDATE brands SET \"default\" = false WHERE \"default\"")
    for (u,) in rows:
        sql("UPDATE brands SET \"default\" = true WHERE brand_uuid = %s", u)


FIELDS = {"brand_uuid", "domain", "default", "branding_title", "branding_logo", "branding_favicon",
          "branding_custom_css", "branding_default_flow_background", "flow_authentication",
          "flow_invalidation", "flow_recovery", "flow_unenrollment", "flow_user_settings",
          "flow_device_code", "default_application", "web_certificate", "client_certificates",
          "attributes"}


def make_flow(designation="authentication"):
    slug = "f-" + secrets.token_hex(5)
    return sql("INSERT INTO flows (name, slug, designation) VALUES (%s, %s, %s) "
               "RETURNING flow_uuid::text", slug, slug, designation)[0][0], slug


def test_create_defaults(admin):
    d = domain()
    r = admin.post("core/brands/", {"domain": d})
    assert r.status_code == 201, r.text
    b = r.json()
    assert set(b) == FIELDS
    assert b["domain"] == d and b["default"] is False and b["branding_title"] == "authentik"
    assert b["branding_logo"] == "/static/dist/assets/icons/icon_left_brand.svg"
    assert b["branding_favicon"] == "/static/dist/assets/icons/icon.png"
    assert b["branding_default_flow_background"] == "/static/dist/assets/images/flow_background.jpg"
    assert b["client_certificates"] == [] and b["attributes"] == {} and b["flow_recovery"] is None
    assert admin.get("core/brands/%s/" % b["brand_uuid"]).json() == b
    ev = events_for("brand", b["brand_uuid"], "model_created")
    assert len(ev) == 1 and ev[0][0]["diff"]["domain"] == {"previous": None, "new": d}
    assert ev[0][0]["model"]["name"] == "Brand " + d


def test_all_fields_and_references(admin):
    app = admin.post("core/applications/", {"name": "a", "slug": "a-" + secrets.token_hex(4)}).json()
    c1, c2 = make_cert(), make_cert()
    flow, _ = make_flow()
    b = make_brand(admin, branding_title="T", branding_custom_css="body{}",
                   flow_authentication=flow, default_application=app["pk"], web_certificate=c1,
                   client_certificates=[c1, c2], attributes={"settings": {"locale": "de"}})
    assert b["flow_authentication"] == flow and b["default_application"] == app["pk"]
    assert b["flow_invalidation"] is None
    assert b["web_certificate"] == c1 and sorted(b["client_certificates"]) == sorted([c1, c2])
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"client_certificates": [c2],
                                                         "web_certificate": None})
    assert r.status_code == 200
    assert r.json()["client_certificates"] == [c2] and r.json()["web_certificate"] is None
    missing = str(uuid.uuid4())
    for field, value in (("default_application", missing), ("web_certificate", missing),
                         ("client_certificates", [c1, missing]), ("flow_authentication", missing),
                         ("flow_invalidation", missing), ("flow_recovery", missing),
                         ("flow_unenrollment", missing), ("flow_user_settings", missing),
                         ("flow_device_code", missing)):
        r = admin.patch("core/brands/%s/" % b["brand_uuid"], {field: value})
        assert r.status_code == 400
        assert r.json() == {field: ['Invalid pk "%s" - object does not exist.' % missing]}
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"default_application": 5})
    assert r.json() == {"default_application": ["Incorrect type. Expected pk value, received int."]}
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"flow_recovery": "nope"})
    assert r.status_code == 400 and "flow_recovery" in r.json()
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"flow_recovery": 5})
    assert r.json() == {"flow_recovery": ["Incorrect type. Expected pk value, received int."]}
    # Nothing of a refused write stays; the flow it named is still there.
    assert admin.get("core/brands/%s/" % b["brand_uuid"]).json()["flow_authentication"] == flow
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"flow_authentication": None})
    assert r.status_code == 200 and r.json()["flow_authentication"] is None
    # A deleted flow leaves the brand pointing at nothing.
    rec, _ = make_flow("recovery")
    assert admin.patch("core/brands/%s/" % b["brand_uuid"],
                       {"flow_recovery": rec}).json()["flow_recovery"] == rec
    sql("DELETE FROM flows WHERE flow_uuid = %s", rec)
    assert admin.get("core/brands/%s/" % b["brand_uuid"]).json()["flow_recovery"] is None
    r = admin.get("core/brands/", params={"client_certificates": c2, "page_size": 100})
    assert b["brand_uuid"] in [x["brand_uuid"] for x in r.json()["results"]]


def test_only_one_default(admin, no_default_brand):
    a = make_brand(admin, default=True)
    r = admin.post("core/brands/", {"domain": domain(), "default": True})
    assert r.status_code == 400
    assert r.json() == {"default": ["Only a single brand can be set as default."]}
    b = make_brand(admin)
    r = admin.patch("core/brands/%s/" % b["brand_uuid"], {"default": True})
    assert r.status_code == 400 and "default" in r.json()
    # The default brand itself may say so again.
    r = admin.patch("core/brands/%s/" % a["brand_uuid"], {"default": True, "branding_title": "D"})
    assert r.status_code == 200 and r.json()["branding_title"] == "D"
    ev = events_for("brand", a["brand_uuid"], "model_updated")
    assert ev[-1][0]["diff"] == {"branding_title": {"previous": "authentik", "new": "D"}}
    assert ev[-1][0]["model"]["name"] == "Default brand"
    assert admin.delete("core/brands/%s/" % a["brand_uuid"]).status_code == 204


def test_validation_and_duplicates(admin):
    r = admin.post("core/brands/", {})
    assert r.status_code == 400 and r.json() == {"domain": ["This field is required."]}
    r = admin.post("core/brands/", {"domain": ""})
    assert r.json() == {"domain": ["This field may not be blank."]}
    r = admin.post("core/brands/", {"domain": domain(), "branding_title": ""})
    assert r.json() == {"branding_title": ["This field may not be blank."]}
    r = admin.post("core/brands/", {"domain": domain(), "attributes": [1]})
    assert r.status_code == 400 and "attributes" in r.json()
    r = admin.post("core/brands/", {"domain": 5, "default": "yes"})
    assert r.status_code == 400 and set(r.json()) == {"domain", "default"}
    r = admin.post("core/brands/", {"domain": domain(), "client_certificates": "x"})
    assert r.status_code == 400 and "client_certificates" in r.json()
    b = make_brand(admin)
    r = admin.post("core/brands/", {"domain": b["domain"]})
    assert r.status_code == 400 and r.json() == {"domain": ["This field must be unique."]}
    c = make_brand(admin)
    r = admin.put("core/brands/%s/" % c["brand_uuid"], {"domain": b["domain"]})
    assert r.status_code == 400 and "domain" in r.json()
    r = admin.put("core/brands/%s/" % c["brand_uuid"], {"branding_title": "x"})
    assert r.json() == {"domain": ["This field is required."]}
    r = admin.post("core/brands/", data="{]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_permissions(admin, as_user):
    a = make_brand(admin)
    b = make_brand(admin)
    nobody, _ = as_user()
    assert nobody.get("core/brands/%s/" % a["brand_uuid"]).status_code == 403
    assert nobody.post("core/brands/", {"domain": domain()}).status_code == 403
    assert nobody.patch("core/brands/%s/" % a["brand_uuid"], {"branding_title": "x"}).status_code == 403
    assert nobody.delete("core/brands/%s/" % a["brand_uuid"]).status_code == 403
    assert nobody.get("core/brands/").json()["results"] == []
    adder, _ = as_user(perms=["authentik_brands.add_brand"])
    assert adder.post("core/brands/", {"domain": domain()}).status_code == 201
    obj, _ = as_user(object_perms=[("authentik_brands.view_brand", a["brand_uuid"]),
                                   ("authentik_brands.change_brand", a["brand_uuid"]),
                                   ("authentik_brands.delete_brand", a["brand_uuid"])])
    r = obj.get("core/brands/")
    assert [x["brand_uuid"] for x in r.json()["results"]] == [a["brand_uuid"]]
    assert obj.get("core/brands/%s/" % b["brand_uuid"]).status_code == 403
    assert obj.patch("core/brands/%s/" % a["brand_uuid"], {"branding_title": "o"}).status_code == 200
    assert obj.patch("core/brands/%s/" % b["brand_uuid"], {"branding_title": "o"}).status_code == 403
    assert obj.delete("core/brands/%s/" % b["brand_uuid"]).status_code == 403
    assert obj.delete("core/brands/%s/" % a["brand_uuid"]).status_code == 204
    ev = events_for("brand", a["brand_uuid"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["domain"]["previous"] == a["domain"]
    assert admin.get("core/brands/%s/" % a["brand_uuid"]).status_code == 404
    assert admin.get("core/brands/not-a-uuid/").status_code == 404


def test_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    x = make_brand(admin, domain="x%s.example" % tag, branding_title="Zeta " + tag)
    y = make_brand(admin, domain="y%s.example" % tag, branding_title="Alpha " + tag)
    r = admin.get("core/brands/", params={"search": tag})
    assert [b["domain"] for b in r.json()["results"]] == [x["domain"], y["domain"]]
    r = admin.get("core/brands/", params={"search": tag, "ordering": "branding_title"})
    assert [b["domain"] for b in r.json()["results"]] == [y["domain"], x["domain"]]
    r = admin.get("core/brands/", params={"domain": x["domain"]})
    assert [b["brand_uuid"] for b in r.json()["results"]] == [x["brand_uuid"]]
    r = admin.get("core/brands/", params={"brand_uuid": y["brand_uuid"]})
    assert r.json()["pagination"]["count"] == 1
    assert admin.get("core/brands/", params={"brand_uuid": "zzz"}).status_code == 400
    r = admin.get("core/brands/", params={"search": tag, "default": "false"})
    assert r.json()["pagination"]["count"] == 2


def current(host):
    return requests.get("http://127.0.0.1:%s/api/v3/core/brands/current/" % ROUTERS["lighttpd"],
                        headers={"Host": host})


def test_current_matching(admin, no_default_brand):
    tag = secrets.token_hex(4)
    base = make_brand(admin, domain="%s.example" % tag, branding_title="base",
                      attributes={"settings": {"locale": "fr", "theme": {"base": "dark"}}})
    sub = make_brand(admin, domain="sub.%s.example" % tag, branding_title="sub")
    r = current("%s.example" % tag)
    assert r.status_code == 200
    c = r.json()
    assert c["matched_domain"] == base["domain"] and c["branding_title"] == "base"
    assert c["default_locale"] == "fr" and c["ui_theme"] == "dark"
    assert c["ui_footer_links"] == [] and c["branding_logo_themed_urls"] is None
    assert set(c["flags"]) == {"enterprise_audit_include_expanded_diff",
                               "policies_buffered_access_view", "flows_continuous_login",
                               "flows_refresh_others"}
    assert not {k for k in c if k.startswith("flow_")}
    assert current("x.%s.example" % tag).json()["matched_domain"] == base["domain"]
    assert current("A.SUB.%s.example" % tag).json()["matched_domain"] == sub["domain"]
    # Only whole labels match: "evil<domain>" is not a subdomain.
    assert current("evil%s.example" % tag).json()["matched_domain"] == "fallback"
    fb = current("nothing.invalid").json()
    assert fb["matched_domain"] == "fallback" and fb["branding_title"] == "authentik"
    assert fb["ui_theme"] == "automatic" and fb["default_locale"] == ""
    d = make_brand(admin, default=True, branding_title="the default")
    assert current("nothing.invalid").json()["branding_title"] == "the default"
    assert current("%s.example" % tag).json()["matched_domain"] == base["domain"]
    admin.delete("core/brands/%s/" % d["brand_uuid"])


def test_current_flow_slugs(admin):
    auth, auth_slug = make_flow()
    settings, settings_slug = make_flow("stage_configuration")
    b = make_brand(admin, flow_authentication=auth, flow_user_settings=settings)
    c = current(b["domain"]).json()
    assert c["flow_authentication"] == auth_slug and c["flow_user_settings"] == settings_slug
    assert {k for k in c if k.startswith("flow_")} == {"flow_authentication",
                                                        "flow_user_settings"}


def test_default_brand_uses_default_flows(lighttpd):
    """The brand the bootstrap made points at the default flows, as authentik's does."""
    rows = sql("SELECT f1.slug, f2.slug, f3.slug, f4.slug FROM brands b "
               "JOIN flows f1 ON f1.flow_uuid = b.flow_authentication "
               "JOIN flows f2 ON f2.flow_uuid = b.flow_invalidation "
               "JOIN flows f3 ON f3.flow_uuid = b.flow_user_settings "
               "JOIN flows f4 ON f4.flow_uuid = b.flow_recovery "
               "WHERE b.domain = 'authentik-default'")
    assert rows == [("default-authentication-flow", "default-invalidation-flow",
                     "default-user-settings-flow", "default-recovery-flow")]
    c = current("authentik-default").json()
    assert c["flow_authentication"] == "default-authentication-flow"
    assert c["flow_invalidation"] == "default-invalidation-flow"
    assert c["flow_user_settings"] == "default-user-settings-flow"
    assert c["flow_recovery"] == "default-recovery-flow"
    assert "flow_unenrollment" not in c and "flow_device_code" not in c


def test_current_is_public(lighttpd):
    r = Api(lighttpd, None).get("core/brands/current/")
    assert r.status_code == 200 and "branding_title" in r.json()
    assert Api(lighttpd, None).get("core/brands/").status_code == 401


def test_strings_verbatim(admin):
    css = "body { content: '\"; DROP TABLE brands; --'; } /* \u00e4\u00f6\u00fc \u2603 */"
    b = make_brand(admin, branding_custom_css=css, branding_title="O'Brien \"Co\"")
    got = admin.get("core/brands/%s/" % b["brand_uuid"]).json()
    assert got["branding_custom_css"] == css and got["branding_title"] == "O'Brien \"Co\""
    assert current(b["domain"]).json()["branding_custom_css"] == css
