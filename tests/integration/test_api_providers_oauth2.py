"""/api/v3/providers/oauth2/ and /api/v3/providers/all/: OAuth2 providers as authentik's API
has them (fields, defaults, validation, permissions, events), their setup URLs and user preview,
and what an application shows of its provider."""
import json
import re
import secrets
import time

from conftest import (Api, create_user, data_flow_uuid, events_for, oauth2_app, oauth2_keypair,
                      sql, statements_of)

AUTHZ = "default-provider-authorization-implicit-consent"
INVALIDATION = "default-provider-invalidation-flow"

OAUTH2_FIELDS = {
    "pk", "name", "authentication_flow", "authorization_flow", "invalidation_flow",
    "property_mappings", "component", "assigned_application_slug", "assigned_application_name",
    "assigned_backchannel_application_slug", "assigned_backchannel_application_name",
    "verbose_name", "verbose_name_plural", "meta_model_name", "client_type", "client_id",
    "client_secret", "access_code_validity", "access_token_validity", "refresh_token_validity",
    "refresh_token_threshold", "include_claims_in_id_token", "signing_key", "encryption_key",
    "redirect_uris", "logout_uri", "logout_method", "sub_mode", "issuer_mode",
    "jwt_federation_sources", "jwt_federation_providers", "pkce_required"}
PROVIDER_FIELDS = {
    "pk", "name", "authentication_flow", "authorization_flow", "invalidation_flow",
    "property_mappings", "component", "assigned_application_slug", "assigned_application_name",
    "assigned_backchannel_application_slug", "assigned_backchannel_application_name",
    "verbose_name", "verbose_name_plural", "meta_model_name"}
MASK = "********************"


def name(prefix="prov"):
    return "%s-%s" % (prefix, secrets.token_hex(5))


def body(**fields):
    b = {"name": fields.pop("name", name()), "authorization_flow": data_flow_uuid(AUTHZ),
         "invalidation_flow": data_flow_uuid(INVALIDATION),
         "redirect_uris": [{"matching_mode": "strict", "url": "https://rp.example/cb"}]}
    b.update(fields)
    return b


def make(admin, **fields):
    r = admin.post("providers/oauth2/", body(**fields))
    assert r.status_code == 201, r.text
    return r.json()


def scope_pk(scope):
    return sql("SELECT pm_uuid::text FROM property_mappings WHERE managed = %s",
               "goauthentik.io/providers/oauth2/scope-" + scope)[0][0]


def make_app(admin, provider, **fields):
    b = {"name": "App " + secrets.token_hex(3), "slug": name("app"), "provider": provider}
    b.update(fields)
    r = admin.post("core/applications/", b)
    assert r.status_code == 201, r.text
    return r.json()


def cert_only_keypair(admin):
    """A key pair holding a certificate and no private key."""
    full = oauth2_keypair(admin, "rsa")
    pem = admin.get("crypto/certificatekeypairs/%s/view_certificate/" % full).json()["data"]
    r = admin.post("crypto/certificatekeypairs/", {"name": name("cert"), "certificate_data": pem})
    assert r.status_code == 201, r.text
    return r.json()["pk"]


def all_event_text():
    return "\n".join(json.dumps(c) for (c,) in sql("SELECT context FROM events"))


def test_create_defaults_shape_and_get(admin):
    b = body()
    r = admin.post("providers/oauth2/", b)
    assert r.status_code == 201, r.text
    p = r.json()
    assert set(p) == OAUTH2_FIELDS
    assert isinstance(p["pk"], int) and p["name"] == b["name"]
    assert p["component"] == "ak-provider-oauth2-form"
    assert p["verbose_name"] == "OAuth2/OpenID Provider"
    assert p["verbose_name_plural"] == "OAuth2/OpenID Providers"
    assert p["meta_model_name"] == "authentik_providers_oauth2.oauth2provider"
    assert p["assigned_application_slug"] is None and p["assigned_application_name"] is None
    assert p["assigned_backchannel_application_slug"] is None
    assert p["assigned_backchannel_application_name"] is None
    assert (p["authorization_flow"], p["invalidation_flow"]) == (b["authorization_flow"],
                                                                 b["invalidation_flow"])
    assert p["authentication_flow"] is None and p["property_mappings"] == []
    # authentik's generate_id() and generate_client_secret(): random letters and digits.
    assert re.fullmatch(r"[A-Za-z0-9]{40}", p["client_id"])
    assert re.fullmatch(r"[A-Za-z0-9]{128}", p["client_secret"])
    assert p["client_type"] == "confidential"
    assert (p["access_code_validity"], p["access_token_validity"], p["refresh_token_validity"],
            p["refresh_token_threshold"]) == ("minutes=1", "hours=1", "days=30", "seconds=0")
    assert p["include_claims_in_id_token"] is True and p["pkce_required"] is False
    assert p["signing_key"] is None and p["encryption_key"] is None
    assert p["redirect_uris"] == [{"matching_mode": "strict", "url": "https://rp.example/cb",
                                   "redirect_uri_type": "authorization"}]
    assert (p["logout_uri"], p["logout_method"], p["sub_mode"], p["issuer_mode"]) == (
        "", "backchannel", "hashed_user_id", "per_provider")
    assert p["jwt_federation_sources"] == [] and p["jwt_federation_providers"] == []
    assert admin.get("providers/oauth2/%d/" % p["pk"]).json() == p
    # Two providers never share generated credentials.
    q = make(admin)
    assert q["client_id"] != p["client_id"] and q["client_secret"] != p["client_secret"]


def test_create_all_fields(admin):
    signing = oauth2_keypair(admin, "ecdsa")
    enc = cert_only_keypair(admin)
    other = make(admin)
    b = body(authentication_flow=data_flow_uuid("default-authentication-flow"),
             property_mappings=[scope_pk("openid"), scope_pk("email")],
             client_type="public", client_id=name("cid"), client_secret="s3cret",
             access_code_validity="minutes=2", access_token_validity="hours=2;minutes=30",
             refresh_token_validity="days=7", refresh_token_threshold="hours=1",
             include_claims_in_id_token=False, signing_key=signing, encryption_key=enc,
             redirect_uris=[{"matching_mode": "regex", "url": "https://.*\\.rp\\.example/cb",
                             "redirect_uri_type": "authorization"},
                            {"matching_mode": "strict", "url": "https://rp.example/bye",
                             "redirect_uri_type": "logout"}],
             logout_uri="https://rp.example/backchannel", logout_method="frontchannel",
             sub_mode="user_email", issuer_mode="global", jwt_federation_sources=[],
             jwt_federation_providers=[other["pk"]], pkce_required=True)
    r = admin.post("providers/oauth2/", b)
    assert r.status_code == 201, r.text
    p = r.json()
    for k, v in b.items():
        if k == "property_mappings":
            assert sorted(p[k]) == sorted(v)
        else:
            assert p[k] == v, k


def test_required_and_type_errors(admin):
    r = admin.post("providers/oauth2/", {})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."],
                        "authorization_flow": ["This field is required."],
                        "invalidation_flow": ["This field is required."],
                        "redirect_uris": ["This field is required."]}
    cases = [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": 5}, {"name": ["Not a valid string."]}),
        ({"authorization_flow": None}, {"authorization_flow": ["This field may not be null."]}),
        ({"invalidation_flow": None}, {"invalidation_flow": ["This field may not be null."]}),
        ({"authorization_flow": "nope"},
         {"authorization_flow": ["\u201cnope\u201d is not a valid UUID."]}),
        ({"authorization_flow": 3},
         {"authorization_flow": ["Incorrect type. Expected pk value, received int."]}),
        ({"authorization_flow": "00000000-0000-4000-8000-000000000000"},
         {"authorization_flow": ['Invalid pk "00000000-0000-4000-8000-000000000000" - object '
                                 'does not exist.']}),
        ({"authentication_flow": "00000000-0000-4000-8000-000000000001"},
         {"authentication_flow": ['Invalid pk "00000000-0000-4000-8000-000000000001" - object '
                                  'does not exist.']}),
        ({"client_type": "secret"}, {"client_type": ['"secret" is not a valid choice.']}),
        ({"sub_mode": "user_nickname"}, {"sub_mode": ['"user_nickname" is not a valid choice.']}),
        ({"issuer_mode": 1}, {"issuer_mode": ['"1" is not a valid choice.']}),
        ({"logout_method": "smoke"}, {"logout_method": ['"smoke" is not a valid choice.']}),
        ({"client_id": ""}, {"client_id": ["This field may not be blank."]}),
        ({"client_id": "x" * 256},
         {"client_id": ["Ensure this field has no more than 255 characters."]}),
        ({"client_secret": "x" * 256},
         {"client_secret": ["Ensure this field has no more than 255 characters."]}),
        ({"access_code_validity": "soon"},
         {"access_code_validity": ["soon is not in the correct format of 'hours=3;minutes=1'."]}),
        ({"refresh_token_threshold": "fortnights=2"},
         {"refresh_token_threshold": ["fortnights=2 is not in the correct format of "
                                      "'hours=3;minutes=1'."]}),
        ({"access_token_validity": ""}, {"access_token_validity": ["This field may not be blank."]}),
        ({"include_claims_in_id_token": "yes"},
         {"include_claims_in_id_token": ["Must be a valid boolean."]}),
        ({"pkce_required": None}, {"pkce_required": ["Must be a valid boolean."]}),
        ({"property_mappings": "x"},
         {"property_mappings": ['Expected a list of items but got type "str".']}),
        ({"property_mappings": None}, {"property_mappings": ["This field may not be null."]}),
        ({"property_mappings": ["zz"]}, {"property_mappings": ["\u201czz\u201d is not a valid UUID."]}),
        ({"property_mappings": ["00000000-0000-4000-8000-000000000002"]},
         {"property_mappings": ['Invalid pk "00000000-0000-4000-8000-000000000002" - object '
                                'does not exist.']}),
        ({"jwt_federation_sources": ["00000000-0000-4000-8000-000000000003"]},
         {"jwt_federation_sources": ['Invalid pk "00000000-0000-4000-8000-000000000003" - '
                                     'object does not exist.']}),
        ({"jwt_federation_providers": [2147483647]},
         {"jwt_federation_providers": ['Invalid pk "2147483647" - object does not exist.']}),
        ({"jwt_federation_providers": ["1"]},
         {"jwt_federation_providers": ["Incorrect type. Expected pk value, received str."]}),
        ({"signing_key": "00000000-0000-4000-8000-000000000004"},
         {"signing_key": ['Invalid pk "00000000-0000-4000-8000-000000000004" - object does not '
                          'exist.']}),
        ({"logout_uri": "not a url"}, {"logout_uri": ["Enter a valid URL."]}),
        ({"logout_uri": "javascript://x/%0Aalert(1)"}, {"logout_uri": ["Enter a valid URL."]}),
    ]
    for extra, want in cases:
        r = admin.post("providers/oauth2/", body(**extra))
        assert r.status_code == 400, (extra, r.text)
        assert r.json() == want, extra
    # Every field's error at once, nothing written.
    before = sql("SELECT count(*) FROM providers")[0][0]
    r = admin.post("providers/oauth2/", body(client_type="x", sub_mode="y", name=""))
    assert set(r.json()) == {"client_type", "sub_mode", "name"}
    assert sql("SELECT count(*) FROM providers")[0][0] == before


def test_redirect_uris_validation(admin):
    def err(uris):
        r = admin.post("providers/oauth2/", body(redirect_uris=uris))
        assert r.status_code == 400, r.text
        return r.json()["redirect_uris"]

    assert err("https://rp.example/cb") == ['Expected a list of items but got type "str".']
    assert err(None) == ["This field may not be null."]
    # DRF's ListSerializer: one error object per item, {} for the good ones.
    assert err([{"matching_mode": "strict", "url": "https://ok.example/"}, "x"]) == [
        {}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]
    assert err([{"url": "https://ok.example/"}]) == [
        {"matching_mode": ["This field is required."]}]
    assert err([{"matching_mode": "glob", "url": "https://ok.example/"}]) == [
        {"matching_mode": ['"glob" is not a valid choice.']}]
    assert err([{"matching_mode": "strict"}]) == [{"url": ["This field is required."]}]
    assert err([{"matching_mode": "strict", "url": ""}]) == [
        {"url": ["This field may not be blank."]}]
    assert err([{"matching_mode": "strict", "url": "https://ok.example/",
                 "redirect_uri_type": "post_logout"}]) == [
        {"redirect_uri_type": ['"post_logout" is not a valid choice.']}]
    # Strict URLs must be absolute http(s) URIs the authorization endpoint could redirect to.
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative/cb", "rp.example/cb",
                "https://user@rp.example/cb", "https://rp.example/cb#frag",
                "https://rp.example/c b", "ftp://rp.example/cb"):
        assert err([{"matching_mode": "strict", "url": bad}]) == [
            {"url": ["Enter a valid URL."]}], bad
    assert err([{"matching_mode": "strict", "url": "https://rp.example/" + "a" * 2048}]) == [
        {"url": ["Ensure this field has no more than 2048 characters."]}]
    # validate_redirect_uris: a regex must compile (POSIX extended, as custos matches it).
    assert err([{"matching_mode": "regex", "url": "https://(rp.example/cb"}]) == [
        "Invalid Regex Pattern: https://(rp.example/cb"]
    assert err([{"matching_mode": "regex", "url": "https://" + "a" * 1030}]) == [
        {"url": ["Ensure this field has no more than 1024 characters."]}]
    too_many = [{"matching_mode": "strict", "url": "https://rp.example/%d" % i}
                for i in range(65)]
    assert err(too_many) == ["Ensure this field has no more than 64 elements."]
    for good in ("http://localhost:8080/callback", "http://127.0.0.1/cb", "http://[::1]:3000/cb",
                 "https://app.example.com/oauth2/callback?x=1", "https://rp.example"):
        p = make(admin, redirect_uris=[{"matching_mode": "strict", "url": good}])
        assert p["redirect_uris"][0]["url"] == good
    # 64 is fine; order and defaults kept.
    ok = too_many[:64]
    p = make(admin, redirect_uris=ok)
    assert [u["url"] for u in p["redirect_uris"]] == [u["url"] for u in ok]
    assert {u["redirect_uri_type"] for u in p["redirect_uris"]} == {"authorization"}


def test_references_keys_and_mappings(admin):
    no_key = cert_only_keypair(admin)
    # A signing key must be able to sign: one without a private key is not offered.
    r = admin.post("providers/oauth2/", body(signing_key=no_key))
    assert r.json() == {"signing_key": ['Invalid pk "%s" - object does not exist.' % no_key]}
    # Encryption needs only the certificate.
    p = make(admin, encryption_key=no_key, signing_key=None)
    assert p["encryption_key"] == no_key and p["signing_key"] is None
    rsa = oauth2_keypair(admin, "rsa")
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"signing_key": rsa.upper()})
    assert r.status_code == 200 and r.json()["signing_key"] == rsa
    # Mappings replace, never add up; a duplicate counts once.
    m = [scope_pk("openid"), scope_pk("profile")]
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"property_mappings": m + m[:1]})
    assert sorted(r.json()["property_mappings"]) == sorted(m)
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"property_mappings": [scope_pk("email")]})
    assert r.json()["property_mappings"] == [scope_pk("email")]
    assert sql("SELECT count(*) FROM provider_property_mappings WHERE provider_id = %s",
               p["pk"])[0][0] == 1
    # Trusted providers: OAuth2 providers only, itself included.
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"jwt_federation_providers": [p["pk"]]})
    assert r.status_code == 200 and r.json()["jwt_federation_providers"] == [p["pk"]]
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"jwt_federation_providers": []})
    assert r.json()["jwt_federation_providers"] == []
    # Deleting a key pair leaves the provider without it (ON DELETE SET NULL).
    assert admin.delete("crypto/certificatekeypairs/%s/" % rsa).status_code == 204
    assert admin.get("providers/oauth2/%d/" % p["pk"]).json()["signing_key"] is None


def test_unique_name_and_client_id(admin):
    p = make(admin, client_id="cid-" + secrets.token_hex(4))
    r = admin.post("providers/oauth2/", body(name=p["name"]))
    assert r.status_code == 400
    assert r.json() == {"name": ["provider with this name already exists."]}
    r = admin.post("providers/oauth2/", body(client_id=p["client_id"]))
    assert r.status_code == 400
    assert r.json() == {"client_id": ["OAuth2/OpenID Provider with this Client ID already exists."]}
    q = make(admin)
    r = admin.patch("providers/oauth2/%d/" % q["pk"], {"client_id": p["client_id"]})
    assert r.status_code == 400 and list(r.json()) == ["client_id"]
    assert admin.get("providers/oauth2/%d/" % q["pk"]).json()["client_id"] == q["client_id"]


def test_update_patch_put_and_events(admin):
    p = make(admin, name=name("before"))
    ev = events_for("oauth2provider", p["pk"], "model_created")
    assert len(ev) == 1
    ctx = ev[0][0]
    assert ctx["model"] == {"app": "authentik_providers_oauth2", "model_name": "oauth2provider",
                            "pk": str(p["pk"]), "name": p["name"]}
    assert ctx["diff"]["name"] == {"previous": None, "new": p["name"]}
    assert ctx["diff"]["client_secret"] == {"previous": None, "new": MASK}
    new_name = name("after")
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"name": new_name, "pk": 999,
                                                       "component": "x", "client_type": "public"})
    assert r.status_code == 200, r.text
    assert r.json()["pk"] == p["pk"] and r.json()["name"] == new_name
    assert r.json()["component"] == "ak-provider-oauth2-form"
    ev = events_for("oauth2provider", p["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"name": {"previous": p["name"], "new": new_name},
                                 "client_type": {"previous": "confidential", "new": "public"}}
    # A new secret is stored, shown to the provider's viewers, and never logged.
    secret = "S" + secrets.token_hex(30)
    r = admin.patch("providers/oauth2/%d/" % p["pk"], {"client_secret": secret})
    assert r.status_code == 200 and r.json()["client_secret"] == secret
    assert events_for("oauth2provider", p["pk"], "model_updated")[-1][0]["diff"] == {}
    # PUT needs the required fields; others keep their values.
    r = admin.put("providers/oauth2/%d/" % p["pk"], {"name": new_name})
    assert r.status_code == 400
    assert set(r.json()) == {"authorization_flow", "invalidation_flow", "redirect_uris"}
    r = admin.put("providers/oauth2/%d/" % p["pk"], body(name=new_name, redirect_uris=[]))
    assert r.status_code == 200 and r.json()["redirect_uris"] == []
    assert r.json()["client_secret"] == secret and r.json()["client_type"] == "public"
    assert admin.delete("providers/oauth2/%d/" % p["pk"]).status_code == 204
    assert admin.get("providers/oauth2/%d/" % p["pk"]).status_code == 404
    ev = events_for("oauth2provider", p["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["name"] == {"previous": new_name, "new": None}
    assert ev[0][0]["diff"]["client_secret"] == {"previous": MASK, "new": None}
    text = all_event_text()
    assert secret not in text and p["client_secret"] not in text


def test_not_found_and_bad_ids(admin):
    for bad in ("0", "abc", "-1", "2147483648", "99999999999999999999", "1.5"):
        assert admin.get("providers/oauth2/%s/" % bad).status_code == 404, bad
        assert admin.patch("providers/oauth2/%s/" % bad, {"name": "x"}).status_code == 404
        assert admin.delete("providers/all/%s/" % bad).status_code == 404
    assert admin.get("providers/oauth2/2147483647/").status_code == 404
    assert admin.get("providers/oauth2/2147483647/setup_urls/").status_code == 404


def test_permissions_and_object_permissions(admin, as_user, lighttpd):
    p = make(admin)
    q = make(admin)
    assert Api(lighttpd, None).get("providers/oauth2/").status_code == 401
    nobody, _ = as_user()
    assert nobody.get("providers/oauth2/%d/" % p["pk"]).status_code == 403
    assert nobody.post("providers/oauth2/", body()).status_code == 403
    assert nobody.patch("providers/oauth2/%d/" % p["pk"], {"name": "x"}).status_code == 403
    assert nobody.delete("providers/oauth2/%d/" % p["pk"]).status_code == 403
    assert nobody.get("providers/oauth2/%d/setup_urls/" % p["pk"]).status_code == 403
    assert nobody.get("providers/oauth2/%d/preview_user/" % p["pk"]).status_code == 403
    assert nobody.get("providers/oauth2/").json()["results"] == []
    assert nobody.get("providers/all/").json()["results"] == []
    adder, _ = as_user(perms=["authentik_providers_oauth2.add_oauth2provider"])
    assert adder.post("providers/oauth2/", body()).status_code == 201
    obj, _ = as_user(object_perms=[("authentik_providers_oauth2.view_oauth2provider", p["pk"]),
                                   ("authentik_providers_oauth2.change_oauth2provider", p["pk"]),
                                   ("authentik_providers_oauth2.delete_oauth2provider", p["pk"])])
    assert [x["pk"] for x in obj.get("providers/oauth2/").json()["results"]] == [p["pk"]]
    assert obj.get("providers/oauth2/%d/" % p["pk"]).status_code == 200
    assert obj.get("providers/oauth2/%d/" % q["pk"]).status_code == 403
    assert obj.patch("providers/oauth2/%d/" % q["pk"], {"name": name()}).status_code == 403
    assert obj.patch("providers/oauth2/%d/" % p["pk"], {"name": name()}).status_code == 200
    assert obj.delete("providers/oauth2/%d/" % q["pk"]).status_code == 403
    assert obj.delete("providers/oauth2/%d/" % p["pk"]).status_code == 204
    # all/ goes by authentik_core's provider permissions.
    viewer, _ = as_user(perms=["authentik_core.view_provider"])
    assert viewer.get("providers/all/%d/" % q["pk"]).status_code == 200
    assert viewer.get("providers/oauth2/%d/" % q["pk"]).status_code == 403
    assert viewer.delete("providers/all/%d/" % q["pk"]).status_code == 403
    deleter, _ = as_user(object_perms=[("authentik_core.view_provider", q["pk"]),
                                       ("authentik_core.delete_provider", q["pk"])])
    assert deleter.delete("providers/all/%d/" % q["pk"]).status_code == 204
    assert events_for("oauth2provider", q["pk"], "model_deleted")


def test_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    key = oauth2_keypair(admin, "rsa")
    a = make(admin, name="zz-%s-a" % tag, client_type="public", sub_mode="user_id",
             property_mappings=[scope_pk("email")], signing_key=key)
    b = make(admin, name="zz-%s-b" % tag, issuer_mode="global", include_claims_in_id_token=False,
             access_code_validity="minutes=5")
    app = make_app(admin, b["pk"])

    def names(**params):
        params.setdefault("search", tag)
        r = admin.get("providers/oauth2/", params=params)
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["results"]]

    assert names() == [a["name"], b["name"]]
    assert names(ordering="-name") == [b["name"], a["name"]]
    assert names(ordering="-pk") == [b["name"], a["name"]]
    assert names(name=a["name"]) == [a["name"]]
    assert names(client_type="public") == [a["name"]]
    assert names(client_id=b["client_id"]) == [b["name"]]
    assert names(sub_mode="user_id") == [a["name"]]
    assert names(issuer_mode="global") == [b["name"]]
    assert names(include_claims_in_id_token="false") == [b["name"]]
    assert names(access_code_validity="minutes=5") == [b["name"]]
    assert names(signing_key=key) == [a["name"]]
    assert names(application=app["pk"]) == [b["name"]]
    assert names(property_mappings=scope_pk("email")) == [a["name"]]
    assert names(property_mappings=[scope_pk("email"), scope_pk("openid")]) == [a["name"]]
    assert names(authorization_flow=data_flow_uuid(AUTHZ)) == [a["name"], b["name"]]
    r = admin.get("providers/oauth2/", params={"search": tag, "page_size": 1, "page": 2})
    assert r.json()["pagination"]["count"] == 2 and len(r.json()["results"]) == 1
    assert admin.get("providers/oauth2/", params={"signing_key": "x"}).status_code == 400
    # all/: the Provider shape, its own filters, search by application name too.
    r = admin.get("providers/all/", params={"search": tag})
    assert [set(x) for x in r.json()["results"]] == [PROVIDER_FIELDS, PROVIDER_FIELDS]
    r = admin.get("providers/all/", params={"search": app["name"]})
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"]]
    r = admin.get("providers/all/", params={"search": tag, "application__isnull": "true"})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]
    r = admin.get("providers/all/", params={"search": tag, "application__isnull": "false"})
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"]]
    r = admin.get("providers/all/", params={"search": tag, "backchannel": "true"})
    assert r.json()["results"] == []
    assert admin.get("providers/all/", params={"backchannel": "maybe"}).status_code == 400


def test_all_get_delete_types(admin):
    p = make(admin)
    r = admin.get("providers/all/%d/" % p["pk"])
    assert r.status_code == 200
    assert r.json() == {k: p[k] for k in PROVIDER_FIELDS}
    r = admin.get("providers/all/types/")
    assert [t for t in r.json() if t["model_name"] == "oauth2provider"] == [
                        {"name": "OAuth2/OpenID Provider",
                         "description": "OAuth2 Provider for generic OAuth and OpenID Connect "
                                        "Applications.",
                         "component": "ak-provider-oauth2-form", "model_name": "oauth2provider",
                         "icon_url": "/static/authentik/sources/openidconnect.svg",
                         "requires_enterprise": False, "deprecated": False}]
    app = make_app(admin, p["pk"])
    assert admin.delete("providers/all/%d/" % p["pk"]).status_code == 204
    assert admin.get("providers/oauth2/%d/" % p["pk"]).status_code == 404
    assert sql("SELECT count(*) FROM oauth2_providers WHERE provider_id = %s", p["pk"])[0][0] == 0
    # The application stays, without a provider.
    a = admin.get("core/applications/%s/" % app["slug"]).json()
    assert a["provider"] is None and a["provider_obj"] is None and a["launch_url"] is None
    ev = events_for("oauth2provider", p["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_providers_oauth2"


def test_application_binding_provider_obj_and_launch_url(admin):
    p = make(admin, redirect_uris=[
        {"matching_mode": "strict", "url": "https://bye.example/out", "redirect_uri_type": "logout"},
        {"matching_mode": "strict", "url": "https://Grafana.example:8443/login/generic_oauth?x=1"},
        {"matching_mode": "strict", "url": "https://second.example/cb"}])
    app = make_app(admin, p["pk"])
    assert app["provider"] == p["pk"]
    assert app["provider_obj"] == dict({k: p[k] for k in PROVIDER_FIELDS},
                                       assigned_application_slug=app["slug"],
                                       assigned_application_name=app["name"])
    # authentik's OAuth2Provider.launch_url: the first authorization URI, path dropped.
    assert app["launch_url"] == "https://Grafana.example:8443?x=1"
    got = admin.get("providers/oauth2/%d/" % p["pk"]).json()
    assert (got["assigned_application_slug"], got["assigned_application_name"]) == (
        app["slug"], app["name"])
    r = admin.patch("core/applications/%s/" % app["slug"], {"meta_launch_url": "https://own.example/"})
    assert r.json()["launch_url"] == "https://own.example/"
    r = admin.patch("core/applications/%s/" % app["slug"], {"meta_launch_url": ""})
    assert r.json()["launch_url"] == "https://Grafana.example:8443?x=1"
    q = make(admin, redirect_uris=[{"matching_mode": "regex", "url": "https://.*\\.rp\\.example/cb"}])
    r = admin.patch("core/applications/%s/" % app["slug"], {"provider": q["pk"]})
    assert r.status_code == 200 and r.json()["launch_url"] == "https://.*\\.rp\\.example"
    assert admin.get("providers/oauth2/%d/" % p["pk"]).json()["assigned_application_slug"] is None
    # One application per provider (authentik's OneToOneField).
    r = admin.post("core/applications/", {"name": "x", "slug": name("app"), "provider": q["pk"]})
    assert r.status_code == 400
    assert r.json() == {"provider": ["application with this provider already exists."]}
    r = admin.patch("core/applications/%s/" % app["slug"], {"provider": None})
    assert r.json()["provider"] is None and r.json()["provider_obj"] is None
    ev = events_for("application", app["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"provider": {"previous": q["pk"], "new": None}}
    no_uris = make(admin, redirect_uris=[])
    r = admin.patch("core/applications/%s/" % app["slug"], {"provider": no_uris["pk"]})
    assert r.json()["launch_url"] is None


def test_setup_urls(admin):
    p = make(admin)
    r = admin.get("providers/oauth2/%d/setup_urls/" % p["pk"])
    assert r.status_code == 200
    base = admin.base[:-len("/api/v3")]
    # No application yet: the per-provider issuer and the application's URLs do not exist.
    assert r.json() == {"issuer": None, "authorize": base + "/application/o/authorize/",
                        "token": base + "/application/o/token/",
                        "user_info": base + "/application/o/userinfo/",
                        "provider_info": None, "logout": None}
    app = make_app(admin, p["pk"])
    s = app["slug"]
    r = admin.get("providers/oauth2/%d/setup_urls/" % p["pk"])
    assert r.json() == {
        "issuer": base + "/application/o/%s/" % s,
        "authorize": base + "/application/o/authorize/", "token": base + "/application/o/token/",
        "user_info": base + "/application/o/userinfo/",
        "provider_info": base + "/application/o/%s/.well-known/openid-configuration" % s,
        "logout": base + "/application/o/%s/end-session/" % s,
        "jwks": base + "/application/o/%s/jwks/" % s}
    admin.patch("providers/oauth2/%d/" % p["pk"], {"issuer_mode": "global"})
    r = admin.get("providers/oauth2/%d/setup_urls/" % p["pk"],
                  headers={"Host": "idp.example:8443"})
    assert r.json()["issuer"] == "http://idp.example:8443/"
    assert r.json()["token"] == "http://idp.example:8443/application/o/token/"


def test_preview_user(admin, as_user):
    p = make(admin, property_mappings=[scope_pk("openid"), scope_pk("email"), scope_pk("profile")],
             sub_mode="user_username")
    app = make_app(admin, p["pk"])
    uid, _ = create_user(name="Pre View", email="pre.view@example.com")
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    r = admin.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 200, r.text
    pv = r.json()["preview"]
    assert pv["sub"] == username and pv["aud"] == p["client_id"]
    assert pv["iss"].endswith("/application/o/%s/" % app["slug"])
    assert pv["email"] == "pre.view@example.com" and pv["email_verified"] is False
    assert pv["preferred_username"] == username and pv["name"] == "Pre View"
    assert pv["acr"] == "goauthentik.io/providers/oauth2/default"
    assert pv["exp"] - pv["iat"] == 3600 and abs(pv["iat"] - time.time()) < 120
    # Without claims in the ID token the preview has none either (authentik's IDToken.new).
    admin.patch("providers/oauth2/%d/" % p["pk"], {"include_claims_in_id_token": False})
    pv = admin.get("providers/oauth2/%d/preview_user/" % p["pk"],
                   params={"for_user": uid}).json()["preview"]
    assert "email" not in pv and pv["sub"] == username
    # The caller by default.
    viewer, viewer_id = as_user(object_perms=[("authentik_providers_oauth2.view_oauth2provider",
                                               p["pk"])])
    r = viewer.get("providers/oauth2/%d/preview_user/" % p["pk"])
    assert r.status_code == 200
    assert r.json()["preview"]["sub"] == sql("SELECT username FROM users WHERE id = %s",
                                             viewer_id)[0][0]
    # Another user needs authentik_core.preview_user on that user.
    r = viewer.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    allowed, _ = as_user(object_perms=[("authentik_providers_oauth2.view_oauth2provider", p["pk"]),
                                       ("authentik_core.preview_user", uid)])
    r = allowed.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 200 and r.json()["preview"]["sub"] == username
    r = admin.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": "x1"})
    assert r.status_code == 400 and r.json() == {"for_user": "input must be numerical"}
    r = admin.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": 987654321})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    # Viewing the provider is needed first.
    peeker, _ = as_user(object_perms=[("authentik_core.preview_user", uid)])
    r = peeker.get("providers/oauth2/%d/preview_user/" % p["pk"], params={"for_user": uid})
    assert r.status_code == 403


def test_serial_bumped_by_api_writes(admin):
    p = make(admin)
    s0 = sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0]
    admin.patch("providers/oauth2/%d/" % p["pk"], {"access_token_validity": "minutes=5"})
    s1 = sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0]
    assert s1 > s0
    admin.patch("providers/oauth2/%d/" % p["pk"], {"property_mappings": [scope_pk("openid")]})
    assert sql("SELECT serial FROM providers WHERE id = %s", p["pk"])[0][0] > s1


def test_sql_looking_and_unicode_values_verbatim(admin):
    n = "p'); DROP TABLE providers; -- \u00e9\u6f22"
    p = make(admin, name=n + secrets.token_hex(2), client_id="c'\"\\" + secrets.token_hex(4))
    got = admin.get("providers/oauth2/%d/" % p["pk"]).json()
    assert got["name"] == p["name"] and got["client_id"] == p["client_id"]
    r = admin.post("providers/oauth2/", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post("providers/oauth2/", json=[1])
    assert r.status_code == 400


def test_lists_at_scale_are_one_statement_per_page(admin):
    tag = secrets.token_hex(4)
    apps = [oauth2_app(slug="scale-%s-%02d" % (tag, i)) for i in range(60)]
    r = admin.get("providers/oauth2/", params={"search": "scale-" + tag, "page_size": 100})
    assert r.status_code == 200 and len(r.json()["results"]) == 60
    assert {x["assigned_application_slug"] for x in r.json()["results"]} == {
        a["slug"] for a in apps}
    assert all(len(x["property_mappings"]) == 4 for x in r.json()["results"])
    # A page is a count and one query, whatever its size.
    n = statements_of(lambda: admin.get("providers/oauth2/",
                                        params={"search": "scale-" + tag, "page_size": 100}))
    assert n < 20, n
    r = admin.get("core/applications/", params={"search": "scale-" + tag, "page_size": 100,
                                                "superuser_full_list": "true"})
    assert len(r.json()["results"]) == 60
    assert all(x["provider_obj"]["pk"] == x["provider"] for x in r.json()["results"])
    assert all(x["launch_url"] == "https://rp.example" for x in r.json()["results"])
    n = statements_of(lambda: admin.get("core/applications/", params={
        "search": "scale-" + tag, "page_size": 100, "superuser_full_list": "true"}))
    assert n < 20, n
    n = statements_of(lambda: admin.get("providers/all/",
                                        params={"search": "scale-" + tag, "page_size": 100}))
    assert n < 20, n
