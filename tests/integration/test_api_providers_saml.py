"""/api/v3/providers/saml/: SAML providers as authentik's API has them (fields, defaults,
validation, permissions, events), their metadata, creating one from an SP's metadata (a real one
from python3-onelogin-saml2, and hostile ones), the user preview, and how providers/all/ and
applications show them."""
import base64
import json
import os
import secrets
import subprocess
import tempfile
import urllib.parse
import zlib

import requests

from conftest import (Api, SAML_SP, create_user, data_flow_uuid, events_for, oauth2_keypair,
                      oauth2_uid, oidc_user_browser, saml_app, saml_keypair, saml_login,
                      saml_sp_request, saml_sp_settings, sql, statements_of)

AUTHZ = "default-provider-authorization-implicit-consent"
INVALIDATION = "default-provider-invalidation-flow"
PERM = "authentik_providers_saml.%s_samlprovider"

BASE_FIELDS = {
    "pk", "name", "authentication_flow", "authorization_flow", "invalidation_flow",
    "property_mappings", "component", "assigned_application_slug", "assigned_application_name",
    "assigned_backchannel_application_slug", "assigned_backchannel_application_name",
    "verbose_name", "verbose_name_plural", "meta_model_name"}
SAML_FIELDS = BASE_FIELDS | {
    "acs_url", "sls_url", "audience", "issuer", "assertion_valid_not_before",
    "assertion_valid_not_on_or_after", "session_valid_not_on_or_after", "name_id_mapping",
    "authn_context_class_ref_mapping", "digest_algorithm", "signature_algorithm", "signing_kp",
    "verification_kp", "encryption_kp", "sign_assertion", "sign_response", "sign_logout_request",
    "sign_logout_response", "sp_binding", "sls_binding", "logout_method", "default_relay_state",
    "default_name_id_policy", "url_download_metadata", "url_sso_post", "url_sso_redirect",
    "url_sso_init", "url_slo_post", "url_slo_redirect"}

DSIG = "http://www.w3.org/2000/09/xmldsig#"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = MORE + "rsa-sha256"
ECDSA_SHA256 = MORE + "ecdsa-sha256"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def name(prefix="saml"):
    return "%s-%s" % (prefix, secrets.token_hex(5))


def body(**fields):
    b = {"name": fields.pop("name", name()), "authorization_flow": data_flow_uuid(AUTHZ),
         "invalidation_flow": data_flow_uuid(INVALIDATION), "acs_url": "https://sp.example/acs"}
    b.update(fields)
    return b


def make(admin, **fields):
    r = admin.post("providers/saml/", body(**fields))
    assert r.status_code == 201, r.text
    return r.json()


def make_app(admin, provider, **fields):
    b = {"name": "App " + secrets.token_hex(3), "slug": name("app"), "provider": provider}
    b.update(fields)
    r = admin.post("core/applications/", b)
    assert r.status_code == 201, r.text
    return r.json()


def saml_pm(managed):
    return sql("SELECT pm_uuid::text FROM property_mappings WHERE managed = %s",
               "goauthentik.io/providers/saml/" + managed)[0][0]


def managed_saml_mappings():
    return sorted(x for (x,) in sql(
        "SELECT pm_uuid::text FROM property_mappings WHERE type = 'samlpropertymapping' "
        "AND managed IS NOT NULL"))


def scope_pm():
    return sql("SELECT pm_uuid::text FROM property_mappings WHERE managed = %s",
               "goauthentik.io/providers/oauth2/scope-email")[0][0]


def new_mapping(admin, saml_name, expression, friendly_name=None):
    r = admin.post("propertymappings/provider/saml/", {
        "name": name("pm"), "saml_name": saml_name, "expression": expression,
        "friendly_name": friendly_name})
    assert r.status_code == 201, r.text
    return r.json()["pk"]


def cert_only_keypair(admin, kind="rsa"):
    full = oauth2_keypair(admin, kind)
    pem = admin.get("crypto/certificatekeypairs/%s/view_certificate/" % full).json()["data"]
    r = admin.post("crypto/certificatekeypairs/", {"name": name("cert"), "certificate_data": pem})
    assert r.status_code == 201, r.text
    return r.json()["pk"]


def base_of(admin):
    return admin.base[:-len("/api/v3")]


def counts():
    return sql("SELECT (SELECT count(*) FROM providers), (SELECT count(*) FROM saml_providers), "
               "(SELECT count(*) FROM certificate_key_pairs), (SELECT count(*) FROM events)")[0]


def all_event_text():
    return "\n".join(json.dumps(c) for (c,) in sql("SELECT context FROM events"))


# --- CRUD -----------------------------------------------------------------------------------


def test_create_defaults_shape_and_get(admin):
    b = body()
    r = admin.post("providers/saml/", b)
    assert r.status_code == 201, r.text
    p = r.json()
    assert set(p) == SAML_FIELDS
    assert isinstance(p["pk"], int) and p["name"] == b["name"]
    assert (p["component"], p["verbose_name"], p["verbose_name_plural"], p["meta_model_name"]) == (
        "ak-provider-saml-form", "SAML Provider", "SAML Providers",
        "authentik_providers_saml.samlprovider")
    assert p["assigned_application_slug"] is None and p["assigned_application_name"] is None
    assert p["assigned_backchannel_application_slug"] is None
    assert p["authentication_flow"] is None and p["property_mappings"] == []
    assert (p["authorization_flow"], p["invalidation_flow"]) == (b["authorization_flow"],
                                                                 b["invalidation_flow"])
    # authentik's model defaults.
    assert p["acs_url"] == "https://sp.example/acs"
    assert (p["sls_url"], p["audience"], p["issuer"], p["default_relay_state"]) == (
        "", "", "authentik", "")
    assert (p["assertion_valid_not_before"], p["assertion_valid_not_on_or_after"],
            p["session_valid_not_on_or_after"]) == ("minutes=-5", "minutes=5", "minutes=86400")
    assert p["name_id_mapping"] is None and p["authn_context_class_ref_mapping"] is None
    assert (p["digest_algorithm"], p["signature_algorithm"]) == (SHA256, RSA_SHA256)
    assert p["signing_kp"] is None and p["verification_kp"] is None and p["encryption_kp"] is None
    assert (p["sign_assertion"], p["sign_response"], p["sign_logout_request"],
            p["sign_logout_response"]) == (True, False, False, False)
    assert (p["sp_binding"], p["sls_binding"], p["logout_method"]) == (
        "redirect", "redirect", "frontchannel_iframe")
    assert p["default_name_id_policy"] == UNSPECIFIED
    # No application: the endpoints do not exist ("-"), the metadata is the API's download.
    base = base_of(admin)
    assert p["url_download_metadata"] == "%s/api/v3/providers/saml/%d/metadata/?download" % (
        base, p["pk"])
    for k in ("url_sso_post", "url_sso_redirect", "url_sso_init", "url_slo_post",
              "url_slo_redirect"):
        assert p[k] == "-", k
    got = admin.get("providers/saml/%d/" % p["pk"])
    assert got.status_code == 200 and got.json() == p
    # The other kind's endpoints do not see it, nor it theirs.
    assert admin.get("providers/oauth2/%d/" % p["pk"]).status_code == 404


def test_create_all_fields(admin):
    signing = oauth2_keypair(admin, "ecdsa")
    verification = cert_only_keypair(admin)
    encryption = cert_only_keypair(admin)
    nid = new_mapping(admin, "nameid", "return request.user.username")
    acr = new_mapping(admin, "acr", "return 'urn:custos:acr'")
    b = body(authentication_flow=data_flow_uuid("default-authentication-flow"),
             property_mappings=[saml_pm("email"), saml_pm("username")],
             acs_url="http://sp:8080/saml/acs?x=1", sls_url="https://sp.example/sls",
             audience="https://sp.example/metadata", issuer="https://idp.example/entity",
             assertion_valid_not_before="minutes=-2", assertion_valid_not_on_or_after="minutes=3",
             session_valid_not_on_or_after="hours=8", name_id_mapping=nid,
             authn_context_class_ref_mapping=acr,
             digest_algorithm="http://www.w3.org/2001/04/xmlenc#sha512",
             signature_algorithm=MORE + "ecdsa-sha384", signing_kp=signing,
             verification_kp=verification, encryption_kp=encryption, sign_assertion=False,
             sign_response=True, sign_logout_request=True, sign_logout_response=True,
             sp_binding="post", sls_binding="post", logout_method="backchannel",
             default_relay_state="https://sp.example/home", default_name_id_policy=PERSISTENT)
    r = admin.post("providers/saml/", b)
    assert r.status_code == 201, r.text
    p = r.json()
    for k, v in b.items():
        if k == "property_mappings":
            assert sorted(p[k]) == sorted(v)
        else:
            assert p[k] == v, k
    assert admin.get("providers/saml/%d/" % p["pk"]).json() == p


def test_required_and_field_errors(admin):
    r = admin.post("providers/saml/", {})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."],
                        "authorization_flow": ["This field is required."],
                        "invalidation_flow": ["This field is required."],
                        "acs_url": ["This field is required."]}
    missing = "00000000-0000-4000-8000-0000000000%02d"
    cases = [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"authorization_flow": None}, {"authorization_flow": ["This field may not be null."]}),
        ({"authorization_flow": "nope"},
         {"authorization_flow": ["\u201cnope\u201d is not a valid UUID."]}),
        ({"invalidation_flow": missing % 1},
         {"invalidation_flow": ['Invalid pk "%s" - object does not exist.' % (missing % 1)]}),
        ({"acs_url": ""}, {"acs_url": ["This field may not be blank."]}),
        ({"acs_url": None}, {"acs_url": ["This field may not be null."]}),
        ({"acs_url": "sp.example/acs"}, {"acs_url": ["Enter a valid URL."]}),
        ({"acs_url": "/acs"}, {"acs_url": ["Enter a valid URL."]}),
        ({"acs_url": "javascript:alert(1)"}, {"acs_url": ["Enter a valid URL."]}),
        ({"acs_url": "ftp://sp.example/acs"}, {"acs_url": ["Enter a valid URL."]}),
        ({"acs_url": "https://user@sp.example/acs"}, {"acs_url": ["Enter a valid URL."]}),
        ({"acs_url": "https://sp.example/" + "a" * 2048},
         {"acs_url": ["Ensure this field has no more than 2048 characters."]}),
        ({"sls_url": "data:text/html,x"}, {"sls_url": ["Enter a valid URL."]}),
        ({"issuer": ""}, {"issuer": ["This field may not be blank."]}),
        ({"audience": 3}, {"audience": ["Not a valid string."]}),
        ({"assertion_valid_not_before": "soon"},
         {"assertion_valid_not_before": ["soon is not in the correct format of "
                                         "'hours=3;minutes=1'."]}),
        ({"session_valid_not_on_or_after": ""},
         {"session_valid_not_on_or_after": ["This field may not be blank."]}),
        ({"digest_algorithm": "md5"}, {"digest_algorithm": ['"md5" is not a valid choice.']}),
        ({"signature_algorithm": "rsa-sha256"},
         {"signature_algorithm": ['"rsa-sha256" is not a valid choice.']}),
        ({"sp_binding": "artifact"}, {"sp_binding": ['"artifact" is not a valid choice.']}),
        ({"sls_binding": None}, {"sls_binding": ["This field may not be null."]}),
        ({"logout_method": "carrier_pigeon"},
         {"logout_method": ['"carrier_pigeon" is not a valid choice.']}),
        ({"default_name_id_policy": "urn:x"},
         {"default_name_id_policy": ['"urn:x" is not a valid choice.']}),
        ({"sign_assertion": "yes"}, {"sign_assertion": ["Must be a valid boolean."]}),
        ({"property_mappings": "x"},
         {"property_mappings": ['Expected a list of items but got type "str".']}),
        ({"signing_kp": missing % 2},
         {"signing_kp": ['Invalid pk "%s" - object does not exist.' % (missing % 2)]}),
        ({"verification_kp": "x"}, {"verification_kp": ["\u201cx\u201d is not a valid UUID."]}),
        ({"name_id_mapping": missing % 3},
         {"name_id_mapping": ['Invalid pk "%s" - object does not exist.' % (missing % 3)]}),
    ]
    for extra, want in cases:
        r = admin.post("providers/saml/", body(**extra))
        assert r.status_code == 400, (extra, r.text)
        assert r.json() == want, extra
    # SAML mappings only: a scope mapping is no SAML mapping.
    sc = scope_pm()
    r = admin.post("providers/saml/", body(property_mappings=[saml_pm("email"), sc]))
    assert r.json() == {"property_mappings": ['Invalid pk "%s" - object does not exist.' % sc]}
    r = admin.post("providers/saml/", body(authn_context_class_ref_mapping=sc))
    assert r.json() == {"authn_context_class_ref_mapping": [
        'Invalid pk "%s" - object does not exist.' % sc]}
    # A signing key pair must hold a private key.
    no_key = cert_only_keypair(admin)
    r = admin.post("providers/saml/", body(signing_kp=no_key))
    assert r.json() == {"signing_kp": ['Invalid pk "%s" - object does not exist.' % no_key]}
    # Every field's error at once, nothing written.
    before = counts()[:2]
    r = admin.post("providers/saml/", body(name="", acs_url="x", sp_binding="y"))
    assert set(r.json()) == {"name", "acs_url", "sp_binding"}
    assert counts()[:2] == before


def test_algorithms_custos_does_not_sign_with_are_refused(admin):
    for alg, label in ((DSIG + "dsa-sha1", "dsa-sha1"), (MORE + "ecdsa-sha1", "ecdsa-sha1")):
        r = admin.post("providers/saml/", body(signature_algorithm=alg))
        assert r.status_code == 400, r.text
        (msg,) = r.json()["signature_algorithm"]
        assert alg in msg and "not supported" in msg and "RSA-SHA256" in msg, msg
    for alg in (DSIG + "rsa-sha1", RSA_SHA256, MORE + "rsa-sha384", MORE + "rsa-sha512"):
        assert make(admin, signature_algorithm=alg)["signature_algorithm"] == alg
    for alg in ("http://www.w3.org/2000/09/xmldsig#sha1", SHA256,
                "http://www.w3.org/2001/04/xmldsig-more#sha384",
                "http://www.w3.org/2001/04/xmlenc#sha512"):
        assert make(admin, digest_algorithm=alg)["digest_algorithm"] == alg


def test_whole_provider_checks(admin):
    rsa = oauth2_keypair(admin, "rsa")
    ec = oauth2_keypair(admin, "ecdsa")
    # authentik's validate: a signing key pair signs something.
    r = admin.post("providers/saml/", body(signing_kp=rsa, sign_assertion=False,
                                           sign_response=False))
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [
        "With a signing keypair selected, at least one of 'Sign assertion' and 'Sign Response' "
        "must be selected."]}
    p = make(admin, signing_kp=rsa, sign_assertion=False, sign_response=True)
    # Checked against the provider as it would be stored, not just the body.
    r = admin.patch("providers/saml/%d/" % p["pk"], {"sign_response": False})
    assert r.status_code == 400 and list(r.json()) == ["non_field_errors"]
    # The algorithm must fit the key.
    r = admin.post("providers/saml/", body(signing_kp=ec))
    assert r.status_code == 400
    assert r.json() == {"signature_algorithm": [
        "The signing key pair holds an EC key: choose an ECDSA signature algorithm."]}
    r = admin.patch("providers/saml/%d/" % p["pk"], {"signature_algorithm": ECDSA_SHA256})
    assert r.json() == {"signature_algorithm": [
        "The signing key pair holds an RSA key: choose an RSA signature algorithm."]}
    q = make(admin, signing_kp=ec, signature_algorithm=ECDSA_SHA256)
    assert q["signing_kp"] == ec
    # Encryption wraps the key with RSA-OAEP: an RSA certificate only.
    ec_cert = cert_only_keypair(admin, "ecdsa")
    r = admin.post("providers/saml/", body(encryption_kp=ec_cert))
    assert r.status_code == 400 and list(r.json()) == ["encryption_kp"]
    assert "RSA" in r.json()["encryption_kp"][0]
    assert make(admin, encryption_kp=cert_only_keypair(admin))["encryption_kp"]
    # A back-channel logout needs the POST binding: authentik falls back to the iframe.
    assert make(admin, logout_method="backchannel")["logout_method"] == "frontchannel_iframe"
    assert make(admin, logout_method="backchannel", sls_binding="post")["logout_method"] == \
        "backchannel"


def test_update_patch_put_delete_and_events(admin):
    p = make(admin, name=name("before"))
    ev = events_for("samlprovider", p["pk"], "model_created")
    assert len(ev) == 1
    ctx = ev[0][0]
    assert ctx["model"] == {"app": "authentik_providers_saml", "model_name": "samlprovider",
                            "pk": str(p["pk"]), "name": p["name"]}
    assert ctx["diff"]["acs_url"] == {"previous": None, "new": "https://sp.example/acs"}
    assert ctx["diff"]["sign_assertion"] == {"previous": None, "new": True}
    new_name = name("after")
    r = admin.patch("providers/saml/%d/" % p["pk"], {
        "name": new_name, "pk": 999, "component": "x", "url_sso_post": "https://evil.example/",
        "sp_binding": "post", "audience": "https://sp.example/metadata"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["pk"] == p["pk"] and got["name"] == new_name and got["url_sso_post"] == "-"
    assert got["component"] == "ak-provider-saml-form"
    assert events_for("samlprovider", p["pk"], "model_updated")[-1][0]["diff"] == {
        "name": {"previous": p["name"], "new": new_name},
        "sp_binding": {"previous": "redirect", "new": "post"},
        "audience": {"previous": "", "new": "https://sp.example/metadata"}}
    # PUT needs the required fields; the others keep their values.
    r = admin.put("providers/saml/%d/" % p["pk"], {"name": new_name})
    assert r.status_code == 400
    assert set(r.json()) == {"authorization_flow", "invalidation_flow", "acs_url"}
    r = admin.put("providers/saml/%d/" % p["pk"], body(name=new_name,
                                                       acs_url="https://sp2.example/acs"))
    assert r.status_code == 200, r.text
    assert r.json()["acs_url"] == "https://sp2.example/acs" and r.json()["sp_binding"] == "post"
    # Mappings replace, never add up.
    r = admin.patch("providers/saml/%d/" % p["pk"], {
        "property_mappings": [saml_pm("email"), saml_pm("name"), saml_pm("email")]})
    assert sorted(r.json()["property_mappings"]) == sorted([saml_pm("email"), saml_pm("name")])
    r = admin.patch("providers/saml/%d/" % p["pk"], {"property_mappings": [saml_pm("uid")]})
    assert r.json()["property_mappings"] == [saml_pm("uid")]
    assert admin.delete("providers/saml/%d/" % p["pk"]).status_code == 204
    assert admin.get("providers/saml/%d/" % p["pk"]).status_code == 404
    assert sql("SELECT count(*) FROM saml_providers WHERE provider_id = %s", p["pk"])[0][0] == 0
    ev = events_for("samlprovider", p["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["name"] == {"previous": new_name, "new": None}
    assert ev[0][0]["model"]["app"] == "authentik_providers_saml"


def test_events_hold_no_key_material(admin):
    kp, cert, key = saml_keypair(admin)
    p = make(admin, signing_kp=kp, verification_kp=cert_only_keypair(admin))
    admin.patch("providers/saml/%d/" % p["pk"], {"sign_response": True})
    admin.delete("providers/saml/%d/" % p["pk"])
    text = all_event_text()
    body_lines = [x for x in key.splitlines() if x and not x.startswith("-----")]
    assert body_lines and not any(x in text for x in body_lines)
    cert_lines = [x for x in cert.splitlines() if x and not x.startswith("-----")]
    assert not any(x in text for x in cert_lines)


def test_not_found_and_bad_ids(admin):
    for bad in ("0", "abc", "-1", "2147483648", "99999999999999999999", "1.5"):
        assert admin.get("providers/saml/%s/" % bad).status_code == 404, bad
        assert admin.patch("providers/saml/%s/" % bad, {"name": "x"}).status_code == 404
        assert admin.delete("providers/saml/%s/" % bad).status_code == 404
        assert admin.get("providers/saml/%s/metadata/" % bad).status_code == 404
        assert admin.get("providers/saml/%s/preview_user/" % bad).status_code == 404
    assert admin.get("providers/saml/2147483647/").status_code == 404
    # An OAuth2 provider's id is no SAML provider.
    r = admin.post("providers/oauth2/", {
        "name": name("o"), "authorization_flow": data_flow_uuid(AUTHZ),
        "invalidation_flow": data_flow_uuid(INVALIDATION), "redirect_uris": []})
    oid = r.json()["pk"]
    assert admin.get("providers/saml/%d/" % oid).status_code == 404
    assert admin.patch("providers/saml/%d/" % oid, {"name": "x"}).status_code == 404
    assert admin.delete("providers/saml/%d/" % oid).status_code == 404
    assert admin.get("providers/oauth2/%d/" % oid).status_code == 200


def test_unique_name_and_odd_values_verbatim(admin):
    p = make(admin)
    r = admin.post("providers/saml/", body(name=p["name"]))
    assert r.status_code == 400
    assert r.json() == {"name": ["provider with this name already exists."]}
    n = "s'); DROP TABLE providers; -- \u00e9\u6f22" + secrets.token_hex(2)
    q = make(admin, name=n, audience="urn:'\"<x>&", default_relay_state="a\u00e9b")
    got = admin.get("providers/saml/%d/" % q["pk"]).json()
    assert (got["name"], got["audience"], got["default_relay_state"]) == (
        n, "urn:'\"<x>&", "a\u00e9b")
    r = admin.post("providers/saml/", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert admin.post("providers/saml/", json=[1]).status_code == 400


def test_permissions_and_object_permissions(admin, as_user, lighttpd):
    p = make(admin)
    q = make(admin)
    assert Api(lighttpd, None).get("providers/saml/").status_code == 401
    assert Api(lighttpd, None).post("providers/saml/", body()).status_code == 401
    nobody, _ = as_user()
    assert nobody.get("providers/saml/%d/" % p["pk"]).status_code == 403
    assert nobody.post("providers/saml/", body()).status_code == 403
    assert nobody.patch("providers/saml/%d/" % p["pk"], {"name": "x"}).status_code == 403
    assert nobody.delete("providers/saml/%d/" % p["pk"]).status_code == 403
    assert nobody.get("providers/saml/%d/preview_user/" % p["pk"]).status_code == 403
    assert nobody.get("providers/saml/").json()["results"] == []
    # Another kind's permission is not this one's.
    oauth, _ = as_user(perms=["authentik_providers_oauth2.view_oauth2provider",
                              "authentik_providers_oauth2.add_oauth2provider"])
    assert oauth.get("providers/saml/%d/" % p["pk"]).status_code == 403
    assert oauth.post("providers/saml/", body()).status_code == 403
    adder, _ = as_user(perms=[PERM % "add"])
    assert adder.post("providers/saml/", body()).status_code == 201
    obj, _ = as_user(object_perms=[(PERM % "view", p["pk"]), (PERM % "change", p["pk"]),
                                   (PERM % "delete", p["pk"])])
    assert [x["pk"] for x in obj.get("providers/saml/").json()["results"]] == [p["pk"]]
    assert obj.get("providers/saml/%d/" % p["pk"]).status_code == 200
    assert obj.get("providers/saml/%d/" % q["pk"]).status_code == 403
    assert obj.patch("providers/saml/%d/" % q["pk"], {"name": name()}).status_code == 403
    assert obj.patch("providers/saml/%d/" % p["pk"], {"name": name()}).status_code == 200
    assert obj.delete("providers/saml/%d/" % q["pk"]).status_code == 403
    assert obj.delete("providers/saml/%d/" % p["pk"]).status_code == 204
    assert admin.get("providers/saml/%d/" % q["pk"]).status_code == 200


def test_list_filters_search_ordering_and_urls(admin):
    tag = secrets.token_hex(4)
    kp = oauth2_keypair(admin, "rsa")
    a = make(admin, name="zz-%s-a" % tag, sp_binding="post", signing_kp=kp,
             property_mappings=[saml_pm("email")], audience="urn:a:" + tag)
    b = make(admin, name="zz-%s-b" % tag, sign_assertion=False, issuer="urn:idp:" + tag,
             default_name_id_policy=EMAIL, assertion_valid_not_before="minutes=-1")
    app = make_app(admin, b["pk"])

    def names(**params):
        params.setdefault("search", tag)
        r = admin.get("providers/saml/", params=params)
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["results"]]

    assert names() == [a["name"], b["name"]]
    assert names(ordering="-name") == [b["name"], a["name"]]
    assert names(ordering="-pk") == [b["name"], a["name"]]
    assert names(name=a["name"]) == [a["name"]]
    assert names(sp_binding="post") == [a["name"]]
    assert names(signing_kp=kp) == [a["name"]]
    assert names(sign_assertion="false") == [b["name"]]
    assert names(issuer="urn:idp:" + tag) == [b["name"]]
    assert names(audience="urn:a:" + tag) == [a["name"]]
    assert names(default_name_id_policy=EMAIL) == [b["name"]]
    assert names(assertion_valid_not_before="minutes=-1") == [b["name"]]
    assert names(property_mappings=saml_pm("email")) == [a["name"]]
    assert names(authorization_flow=data_flow_uuid(AUTHZ)) == [a["name"], b["name"]]
    assert names(is_backchannel="true") == []
    assert names(is_backchannel="false") == [a["name"], b["name"]]
    assert admin.get("providers/saml/", params={"signing_kp": "x"}).status_code == 400
    r = admin.get("providers/saml/", params={"search": tag, "page_size": 1, "page": 2})
    assert r.json()["pagination"]["count"] == 2 and [x["name"] for x in r.json()["results"]] == [
        b["name"]]
    # List rows carry the same absolute URLs as the object, from the request's host.
    rows = {x["name"]: x for x in admin.get("providers/saml/", params={"search": tag}).json()[
        "results"]}
    assert set(rows[a["name"]]) == SAML_FIELDS
    assert rows[b["name"]] == admin.get("providers/saml/%d/" % b["pk"]).json()
    r = admin.get("providers/saml/", params={"search": tag}, headers={"Host": "idp.example:8443"})
    got = {x["name"]: x for x in r.json()["results"]}
    assert got[b["name"]]["url_sso_post"] == \
        "http://idp.example:8443/application/saml/%s/sso/binding/post/" % app["slug"]
    assert got[a["name"]]["url_download_metadata"] == \
        "http://idp.example:8443/api/v3/providers/saml/%d/metadata/?download" % a["pk"]
    assert got[a["name"]]["url_sso_post"] == "-"


def test_list_is_one_statement_per_page(admin):
    tag = secrets.token_hex(4)
    for i in range(40):
        saml_app(slug="scale-%s-%02d" % (tag, i))
    r = admin.get("providers/saml/", params={"search": "scale-" + tag, "page_size": 100})
    assert r.status_code == 200 and len(r.json()["results"]) == 40
    assert all(x["url_sso_init"].endswith("/sso/binding/init/") for x in r.json()["results"])
    assert all(len(x["property_mappings"]) == 7 for x in r.json()["results"])
    n = statements_of(lambda: admin.get("providers/saml/", params={"search": "scale-" + tag,
                                                                  "page_size": 100}))
    assert n < 20, n


def test_application_binding_urls_all_and_types(admin):
    p = make(admin)
    app = make_app(admin, p["pk"])
    base = base_of(admin)
    got = admin.get("providers/saml/%d/" % p["pk"]).json()
    assert (got["assigned_application_slug"], got["assigned_application_name"]) == (
        app["slug"], app["name"])
    pre = "%s/application/saml/%s/" % (base, app["slug"])
    assert got["url_download_metadata"] == pre + "metadata/"
    assert (got["url_sso_post"], got["url_sso_redirect"], got["url_sso_init"],
            got["url_slo_post"], got["url_slo_redirect"]) == (
        pre + "sso/binding/post/", pre + "sso/binding/redirect/", pre + "sso/binding/init/",
        pre + "slo/binding/post/", pre + "slo/binding/redirect/")
    # authentik's SAMLProvider.launch_url: the IdP-initiated path, relative.
    assert app["launch_url"] == "/application/saml/%s/sso/binding/init/" % app["slug"]
    assert app["provider_obj"]["component"] == "ak-provider-saml-form"
    assert app["provider_obj"]["meta_model_name"] == "authentik_providers_saml.samlprovider"
    # providers/all/: the Provider shape, with the kind's names.
    r = admin.get("providers/all/%d/" % p["pk"])
    assert r.status_code == 200 and set(r.json()) == BASE_FIELDS
    assert r.json() == {k: got[k] for k in BASE_FIELDS}
    assert (r.json()["verbose_name"], r.json()["verbose_name_plural"]) == (
        "SAML Provider", "SAML Providers")
    r = admin.get("providers/all/", params={"search": p["name"]})
    assert [x["component"] for x in r.json()["results"]] == ["ak-provider-saml-form"]
    types = admin.get("providers/all/types/").json()
    assert [t["name"] for t in types] == sorted(t["name"] for t in types)
    saml = {t["model_name"]: t for t in types if "saml" in t["component"]}
    assert saml == {
        "samlprovider": {"name": "SAML Provider",
                         "description": "SAML 2.0 Endpoint for applications which support SAML.",
                         "component": "ak-provider-saml-form", "model_name": "samlprovider",
                         "icon_url": "/static/authentik/sources/saml.png",
                         "requires_enterprise": False, "deprecated": False},
        "samlproviderimportmodel": {
            "name": "SAML Provider from Metadata",
            "description": "Create a SAML Provider by importing its Metadata.",
            "component": "ak-provider-saml-import-form", "model_name": "samlproviderimportmodel",
            "icon_url": "/static/authentik/sources/saml.png", "requires_enterprise": False,
            "deprecated": False}}
    # Deleting through all/ logs under the kind; the application stays without it.
    assert admin.delete("providers/all/%d/" % p["pk"]).status_code == 204
    ev = events_for("samlprovider", p["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_providers_saml"
    assert ev[0][0]["diff"]["acs_url"] == {"previous": "https://sp.example/acs", "new": None}
    a = admin.get("core/applications/%s/" % app["slug"]).json()
    assert a["provider"] is None and a["launch_url"] is None


def test_serial_bumped_by_api_writes(admin):
    p = make(admin)
    s0 = sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0]
    admin.patch("providers/saml/%d/" % p["pk"], {"acs_url": "https://sp.example/acs2"})
    s1 = sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0]
    assert s1 > s0
    admin.patch("providers/saml/%d/" % p["pk"], {"property_mappings": [saml_pm("email")]})
    assert sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0] > s1


# --- metadata ---------------------------------------------------------------------------------


def xmlsec_verify(xml, cert_pem):
    """xmlsec1 --verify of the EntityDescriptor's signature with the certificate alone."""
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "m.xml"), "w").write(xml)
        open(os.path.join(d, "c.pem"), "w").write(cert_pem)
        r = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", os.path.join(d, "c.pem"),
                            "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
                            os.path.join(d, "m.xml")], capture_output=True, text=True)
        return r.returncode == 0, r.stderr


def test_metadata(admin, lighttpd):
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
    kp, cert, _ = saml_keypair(admin)
    p = make(admin, signing_kp=kp, issuer="https://idp.example/e-" + secrets.token_hex(3),
             name="meta \"quoted\"\r\n" + secrets.token_hex(3))
    # No application: authentik's 404.
    assert admin.get("providers/saml/%d/metadata/" % p["pk"]).status_code == 404
    app = make_app(admin, p["pk"])
    base = base_of(admin)
    r = admin.get("providers/saml/%d/metadata/" % p["pk"])
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"metadata", "download_url"}
    assert r.json()["download_url"] == "%s/application/saml/%s/metadata/" % (base, app["slug"])
    xml = r.json()["metadata"]
    idp = OneLogin_Saml2_IdPMetadataParser.parse(xml)["idp"]
    assert idp["entityId"] == p["issuer"]
    assert idp["singleSignOnService"]["url"] == \
        "%s/application/saml/%s/sso/binding/redirect/" % (base, app["slug"])
    assert "".join(idp["x509cert"].split()) == "".join(
        l for l in cert.splitlines() if not l.startswith("-----"))
    ok, err = xmlsec_verify(xml, cert)
    assert ok, err
    # Anyone may fetch it, as authentik allows (it is what the application publishes).
    anon = Api(lighttpd, None)
    r = anon.get("providers/saml/%d/metadata/" % p["pk"], params={"download": ""})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="') and cd.endswith('_authentik_meta.xml"')
    assert "\r" not in cd and '\\"' not in cd and cd.count('"') == 2
    assert OneLogin_Saml2_IdPMetadataParser.parse(r.text)["idp"]["entityId"] == p["issuer"]
    # force_binding keeps one binding's services.
    r = anon.get("providers/saml/%d/metadata/" % p["pk"], params={"force_binding": POST})
    assert r.status_code == 200
    assert POST in r.json()["metadata"] and REDIRECT not in r.json()["metadata"]
    # An unknown id, or an OAuth2 provider's, is 404 for anyone.
    assert anon.get("providers/saml/2147483647/metadata/").status_code == 404


# --- import_metadata --------------------------------------------------------------------------


def sp_metadata(entity="https://sp.example/metadata", acs=SAML_SP + "/acs", acs_binding=POST,
                sls=SAML_SP + "/sls", sls_binding=REDIRECT, name_id=EMAIL, cert=None, key=None,
                **security):
    """An SP's metadata as python3-onelogin-saml2 writes it."""
    from onelogin.saml2.settings import OneLogin_Saml2_Settings
    sp = {"entityId": entity,
          "assertionConsumerService": {"url": acs, "binding": acs_binding},
          "NameIDFormat": name_id}
    if sls:
        sp["singleLogoutService"] = {"url": sls, "binding": sls_binding}
    if cert:
        sp["x509cert"] = cert
        sp["privateKey"] = key
    sec = {"authnRequestsSigned": False, "wantAssertionsSigned": False}
    sec.update(security)
    settings = OneLogin_Saml2_Settings({
        "strict": True, "sp": sp, "security": sec,
        "idp": {"entityId": "https://idp.example/", "singleSignOnService": {
            "url": "https://idp.example/sso", "binding": REDIRECT}}}, sp_validation_only=True)
    return settings.get_sp_metadata()


def sp_keypair():
    """A certificate and key the SP holds (never given to custos but the certificate)."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        d + "/k.pem", "-out", d + "/c.pem", "-days", "3", "-subj",
                        "/CN=sp.example"], check=True, capture_output=True)
        return open(d + "/c.pem").read(), open(d + "/k.pem").read()


def import_form(admin, xml, name_=None, authz=AUTHZ, inval=INVALIDATION, filename="sp.xml",
                **extra):
    data = {"name": name_ if name_ is not None else name("imp")}
    if authz:
        data["authorization_flow"] = data_flow_uuid(authz)
    if inval:
        data["invalidation_flow"] = data_flow_uuid(inval)
    data.update(extra)
    # Always multipart, as a browser's form sends it: plain fields are parts without a filename.
    files = [(k, (None, v)) for k, v in data.items()]
    if xml is not None:
        files.append(("file", (filename, xml, "text/xml")))
    return admin.s.post(admin.url("providers/saml/import_metadata/"), files=files)


def cert_body(pem):
    return "".join(l for l in pem.splitlines() if not l.startswith("-----"))


def test_import_onelogin_metadata(admin):
    cert, key = sp_keypair()
    xml = sp_metadata(cert=cert, key=key)
    assert b'AuthnRequestsSigned="false"' in xml
    n = name("imp")
    before = counts()
    r = import_form(admin, xml, name_=n)
    assert r.status_code == 201, r.text
    p = r.json()
    assert set(p) == SAML_FIELDS and p["name"] == n
    assert (p["acs_url"], p["sp_binding"], p["audience"]) == (
        SAML_SP + "/acs", "post", "https://sp.example/metadata")
    assert (p["sls_url"], p["sls_binding"]) == (SAML_SP + "/sls", "redirect")
    assert p["default_name_id_policy"] == EMAIL
    assert (p["authorization_flow"], p["invalidation_flow"]) == (data_flow_uuid(AUTHZ),
                                                                 data_flow_uuid(INVALIDATION))
    assert sorted(p["property_mappings"]) == managed_saml_mappings()
    # The SP's signing certificate is the verification key pair, certificate only, although the
    # metadata says its requests are not signed: importing never turns the check off.
    vk = p["verification_kp"]
    assert vk is not None
    row = sql("SELECT name, certificate_data, key_data_sealed FROM certificate_key_pairs "
              "WHERE kp_uuid = %s", vk)[0]
    assert row[0] == "Provider %s - SAML Signing Certificate" % n
    assert cert_body(row[1]) == cert_body(cert) and row[2] is None
    # Responses are signed with a key pair that can sign.
    assert p["signing_kp"] is not None and p["sign_assertion"] is True
    assert sql("SELECT key_data_sealed IS NOT NULL FROM certificate_key_pairs WHERE kp_uuid = %s",
               p["signing_kp"])[0][0]
    assert p["encryption_kp"] is None
    after = counts()
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 1, 1)
    assert events_for("samlprovider", p["pk"], "model_created")
    assert events_for("certificatekeypair", vk, "model_created")
    assert admin.get("providers/saml/%d/" % p["pk"]).json() == p
    # An SP that wants encrypted assertions: its encryption certificate too.
    r = import_form(admin, sp_metadata(entity="https://sp2.example/md", cert=cert, key=key,
                                       wantAssertionsEncrypted=True, authnRequestsSigned=True))
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["encryption_kp"] is not None and q["verification_kp"] is not None
    assert q["encryption_kp"] != q["verification_kp"]
    # Without a certificate: nothing to verify with, nothing stored.
    before = counts()
    r = import_form(admin, sp_metadata(entity="https://sp3.example/md", acs_binding=REDIRECT,
                                       sls=None, name_id=PERSISTENT))
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["verification_kp"] is None and s["sp_binding"] == "redirect" and s["sls_url"] == ""
    assert s["default_name_id_policy"] == PERSISTENT
    assert counts()[2] == before[2]


def authn_request(issuer, acs, dest):
    rid = "_" + secrets.token_hex(16)
    return rid, ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                 'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" '
                 'IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" '
                 'ProtocolBinding="%s"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>' % (
                     rid, __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      __import__("time").gmtime()),
                     dest, acs, POST, issuer))


def redirect_query(xml, key=None):
    """The Redirect binding's query, signed with key (a PEM RSA key) when given."""
    deflated = zlib.compress(xml.encode())[2:-4]
    q = "SAMLRequest=" + urllib.parse.quote_plus(base64.b64encode(deflated).decode())
    if key is None:
        return q
    q += "&SigAlg=" + urllib.parse.quote_plus(RSA_SHA256)
    with tempfile.TemporaryDirectory() as d:
        open(d + "/k.pem", "w").write(key)
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", d + "/k.pem"],
                             input=q.encode(), capture_output=True, check=True).stdout
    return q + "&Signature=" + urllib.parse.quote_plus(base64.b64encode(sig).decode())


def test_imported_provider_refuses_unsigned_requests(admin):
    """AuthnRequestsSigned="false" in the metadata does not matter: the imported provider has
    a verification key pair, so an unsigned AuthnRequest is refused and a signed one accepted."""
    cert, key = sp_keypair()
    r = import_form(admin, sp_metadata(cert=cert, key=key, authnRequestsSigned=False))
    assert r.status_code == 201, r.text
    p = r.json()
    app = make_app(admin, p["pk"])
    url = base_of(admin) + "/application/saml/%s/sso/binding/redirect/" % app["slug"]
    _, xml = authn_request("https://sp.example/metadata", SAML_SP + "/acs", url)
    unsigned = requests.get(url + "?" + redirect_query(xml), allow_redirects=False)
    assert unsigned.status_code >= 400, unsigned.status_code
    assert "sign" in unsigned.text.lower()
    assert SAML_SP not in unsigned.headers.get("Location", "")
    _, xml = authn_request("https://sp.example/metadata", SAML_SP + "/acs", url)
    signed = requests.get(url + "?" + redirect_query(xml, key), allow_redirects=False)
    assert signed.status_code == 302, (signed.status_code, signed.text[:300])


def test_imported_provider_logs_in_with_onelogin(admin, lighttpd):
    """The provider made from the SP's metadata is one the SP library logs in with, its IdP
    settings read from custos's metadata alone: a signed AuthnRequest (Redirect binding), the
    Response checked strictly (signature, audience, destination, InResponseTo)."""
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    cert, key = sp_keypair()
    r = import_form(admin, sp_metadata(cert=cert, key=key, name_id=UNSPECIFIED))
    assert r.status_code == 201, r.text
    app = make_app(admin, r.json()["pk"])
    settings = saml_sp_settings(lighttpd, app, cert, key, authnRequestsSigned=True)
    browser, uid, username = oidc_user_browser(lighttpd)
    auth = OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings)
    url = auth.login(return_to="relay-1")
    rid = auth.get_last_request_id()
    kind, ch = saml_login(browser, url)
    assert kind == "form", (kind, ch)
    sp = OneLogin_Saml2_Auth(saml_sp_request(post=ch["attrs"]), settings)
    sp.process_response(request_id=rid)
    assert sp.get_errors() == [], (sp.get_errors(), sp.get_last_error_reason())
    assert sp.is_authenticated() and sp.get_nameid() == oauth2_uid(uid)
    attrs = sp.get_attributes()
    assert attrs["http://schemas.goauthentik.io/2021/02/saml/username"] == [username]


def test_import_errors_and_hostile_metadata(admin):
    cert, key = sp_keypair()
    good = sp_metadata(cert=cert, key=key)
    before = counts()

    def refused(xml, **kw):
        r = import_form(admin, xml, **kw)
        assert r.status_code == 400, (r.status_code, r.text[:300])
        return r.json()

    # Fields, as SAMLProviderImportSerializer words them; all at once.
    r = admin.s.post(admin.url("providers/saml/import_metadata/"), files={"x": ("a", b"b")})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."],
                        "authorization_flow": ["This field is required."],
                        "invalidation_flow": ["This field is required."],
                        "file": ["No file was submitted."]}
    assert refused(good, name_="") == {"name": ["This field may not be blank."]}
    assert refused(None, file="not a file") == {
        "file": ["The submitted data was not a file. Check the encoding type on the form."]}
    assert refused(b"") == {"file": ["The submitted file is empty."]}
    # The flows must have the designation the form asks for.
    assert refused(good, authz="default-authentication-flow") == {"authorization_flow": [
        'Invalid pk "%s" - object does not exist.' % data_flow_uuid(
            "default-authentication-flow")]}
    assert refused(good, inval=AUTHZ) == {"invalidation_flow": [
        'Invalid pk "%s" - object does not exist.' % data_flow_uuid(AUTHZ)]}
    assert list(refused(good, authorization_flow="zz")) == ["authorization_flow"]
    # Not XML, not metadata, hostile: authentik's list of one message.
    assert refused(b"not xml at all") == ["Invalid XML Syntax"]
    assert refused(b"<a><b></a>") == ["Invalid XML Syntax"]
    xxe = (b'<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<md:EntityDescriptor xmlns:md="' + MD.encode() + b'" entityID="&x;">'
           b'<md:SPSSODescriptor protocolSupportEnumeration="x"><md:AssertionConsumerService '
           b'Binding="' + POST.encode() + b'" Location="https://sp.example/acs"/>'
           b'</md:SPSSODescriptor></md:EntityDescriptor>')
    (msg,) = refused(xxe)
    assert msg.startswith("Invalid XML Syntax") and "DOCTYPE" in msg
    lol = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
           + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % (
               (c,) + (c - 1,) * 10) for c in range(ord("b"), ord("k")))
           + b']><l>&j;</l>')
    (msg,) = refused(lol)
    assert "DOCTYPE" in msg
    (msg,) = refused(b"<x>" + b"a" * (1024 * 1024 + 10) + b"</x>")
    assert msg.startswith("Failed to import Metadata") or msg.startswith("Invalid XML")
    deep = b"<a>" * 200 + b"</a>" * 200
    assert len(refused(deep)) == 1
    assert refused(b'<md:EntitiesDescriptor xmlns:md="' + MD.encode() + b'"/>') == [
        "Failed to import Metadata: The metadata is not an EntityDescriptor."]
    idp_only = (b'<md:EntityDescriptor xmlns:md="' + MD.encode() + b'" entityID="https://i/">'
                b'<md:IDPSSODescriptor protocolSupportEnumeration="x"/></md:EntityDescriptor>')
    assert refused(idp_only) == ["Failed to import Metadata: no SPSSODescriptor objects found."]
    # An ACS the endpoints could never post to is not imported.
    (msg,) = refused(good.replace(b"https://sp.example/acs", b"javascript:alert(1)"))
    assert msg.startswith("Failed to import Metadata") and "AssertionConsumerService" in msg, msg
    # A broken certificate.
    broken = good.replace(cert_body(cert).encode(), cert_body(cert)[:400].encode())
    assert broken != good
    (msg,) = refused(broken)
    assert msg.startswith("Failed to import Metadata"), msg
    # Nothing of all that was written.
    assert counts()[:3] == before[:3]
    # A provider name already taken: 400, and the certificate stored first is rolled back.
    p = make(admin)
    before = counts()
    assert refused(good, name_=p["name"]) == {"name": ["provider with this name already exists."]}
    assert counts()[:3] == before[:3]
    # A body that is not multipart.
    r = admin.post("providers/saml/import_metadata/", {"name": "x"})
    assert r.status_code == 415
    r = admin.s.post(admin.url("providers/saml/import_metadata/"), data=b"--x\r\nbroken",
                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and r.json()["detail"].startswith("Multipart form parse error")
    r = admin.s.post(admin.url("providers/saml/import_metadata/"), data=b"abc",
                     headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400


def test_import_permissions(admin, as_user, lighttpd):
    cert, key = sp_keypair()
    xml = sp_metadata(cert=cert, key=key)
    assert import_form(Api(lighttpd, None), xml).status_code == 401
    only_saml, _ = as_user(perms=[PERM % "add"])
    assert import_form(only_saml, xml).status_code == 403
    only_crypto, _ = as_user(perms=["authentik_crypto.add_certificatekeypair"])
    assert import_form(only_crypto, xml).status_code == 403
    both, _ = as_user(perms=[PERM % "add", "authentik_crypto.add_certificatekeypair"])
    r = import_form(both, xml)
    assert r.status_code == 201, r.text


# --- preview_user -----------------------------------------------------------------------------


def test_preview_user(admin, as_user):
    fn = new_mapping(admin, "urn:custos:first", "return {'a', 'b'}", friendly_name="first")
    nil = new_mapping(admin, "urn:custos:nothing", "return nil")
    p = make(admin, property_mappings=[saml_pm("email"), saml_pm("username"), saml_pm("groups"),
                                       fn, nil])
    uid, _ = create_user(name="Pre View", email="pre.view@example.com")
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    r = admin.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 200, r.text
    pv = r.json()["preview"]
    assert set(pv) == {"attributes", "nameID"}
    # Ordered by SAML name; a mapping giving nothing is left out; FriendlyName only when set.
    assert pv["attributes"] == [
        {"Value": [username], "Name": "http://schemas.goauthentik.io/2021/02/saml/username"},
        {"Value": [], "Name": "http://schemas.xmlsoap.org/claims/Group"},
        {"Value": ["pre.view@example.com"],
         "Name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
        {"Value": ["a", "b"], "FriendlyName": "first", "Name": "urn:custos:first"}]
    assert [list(a) for a in pv["attributes"]][3] == ["Value", "FriendlyName", "Name"]
    # The NameID: the user's uid by default, the email for that policy, a mapping's value.
    assert pv["nameID"] == oauth2_uid(uid)
    admin.patch("providers/saml/%d/" % p["pk"], {"default_name_id_policy": EMAIL})
    pv = admin.get("providers/saml/%d/preview_user/" % p["pk"],
                   params={"for_user": uid}).json()["preview"]
    assert pv["nameID"] == "pre.view@example.com"
    nid = new_mapping(admin, "nid", "return 'id-' .. request.user.username")
    admin.patch("providers/saml/%d/" % p["pk"], {"name_id_mapping": nid})
    pv = admin.get("providers/saml/%d/preview_user/" % p["pk"],
                   params={"for_user": uid}).json()["preview"]
    assert pv["nameID"] == "id-" + username
    # The caller by default; another user needs preview_user on that user.
    viewer, viewer_id = as_user(object_perms=[(PERM % "view", p["pk"])])
    r = viewer.get("providers/saml/%d/preview_user/" % p["pk"])
    assert r.status_code == 200
    me = sql("SELECT username FROM users WHERE id = %s", viewer_id)[0][0]
    assert r.json()["preview"]["nameID"] == "id-" + me
    r = viewer.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    allowed, _ = as_user(object_perms=[(PERM % "view", p["pk"]),
                                       ("authentik_core.preview_user", uid)])
    r = allowed.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 200 and r.json()["preview"]["nameID"] == "id-" + username
    r = admin.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": "x1"})
    assert r.status_code == 400 and r.json() == {"for_user": "input must be numerical"}
    r = admin.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": 987654321})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    peeker, _ = as_user(object_perms=[("authentik_core.preview_user", uid)])
    r = peeker.get("providers/saml/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 403
