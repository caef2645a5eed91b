"""Discovery (OpenID Connect Discovery, RFC 8414) and the JWKS of an OAuth2 provider, at
authentik's paths, through every router: the document authlib's metadata model accepts, URLs
from the request's scheme and Host, the provider's real algorithm and scopes, and keys that
verify what custos signs (jwcrypto)."""
import base64
import hashlib
import json
import os
import time

import pytest
import requests

# The stack is plain http on loopback; authlib's metadata model wants https unless told.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.oidc.discovery import OpenIDProviderMetadata  # noqa: E402
from jwcrypto import jwk as jc_jwk  # noqa: E402
from jwcrypto import jwt as jc_jwt  # noqa: E402

from conftest import STATE, oauth2_app, oauth2_keypair, sql  # noqa: E402

ALGS = {"rsa": "RS256", "ecdsa": "ES256"}


def _discovery(base, slug, **kw):
    return requests.get("%s/application/o/%s/.well-known/openid-configuration" % (base, slug),
                        allow_redirects=False, **kw)


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_discovery_document(base, admin, kind):
    kp = oauth2_keypair(admin, kind)
    app = oauth2_app(signing_key=kp, scopes=("openid", "email", "profile"))
    r = _discovery(base, app["slug"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    m = r.json()
    issuer = "%s/application/o/%s/" % (base, app["slug"])
    assert m["issuer"] == issuer
    o = base + "/application/o/"
    assert m["authorization_endpoint"] == o + "authorize/"
    assert m["token_endpoint"] == o + "token/"
    assert m["userinfo_endpoint"] == o + "userinfo/"
    assert m["introspection_endpoint"] == o + "introspect/"
    assert m["revocation_endpoint"] == o + "revoke/"
    assert m["device_authorization_endpoint"] == o + "device/"
    assert m["end_session_endpoint"] == issuer + "end-session/"
    assert m["jwks_uri"] == issuer + "jwks/"
    assert m["id_token_signing_alg_values_supported"] == [ALGS[kind]]
    assert m["response_types_supported"] == ["code", "id_token", "id_token token", "code token",
                                             "code id_token", "code id_token token"]
    assert m["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert m["grant_types_supported"] == [
        "authorization_code", "refresh_token", "implicit", "client_credentials", "password",
        "urn:ietf:params:oauth:grant-type:device_code"]
    assert m["subject_types_supported"] == ["public"]
    assert m["token_endpoint_auth_methods_supported"] == ["client_secret_post",
                                                          "client_secret_basic"]
    assert m["code_challenge_methods_supported"] == ["plain", "S256"]
    assert m["acr_values_supported"] == ["goauthentik.io/providers/oauth2/default"]
    assert sorted(m["scopes_supported"]) == ["email", "openid", "profile"]
    for claim in ("sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce",
                  "email", "email_verified", "name", "given_name", "preferred_username",
                  "nickname", "groups"):
        assert claim in m["claims_supported"], claim
    assert m["request_parameter_supported"] is False
    assert m["claims_parameter_supported"] is False
    for flag in ("backchannel_logout_supported", "backchannel_logout_session_supported",
                 "frontchannel_logout_supported", "frontchannel_logout_session_supported"):
        assert m[flag] is True
    # authlib's own model of the OpenID Provider metadata validates the whole document. OIDC
    # Discovery wants RS256 listed even by a provider that never uses it; custos, like
    # authentik, lists only the algorithm its tokens are signed with, so an ES256 provider's
    # document passes every check but that one.
    meta = OpenIDProviderMetadata(m)
    if kind == "rsa":
        meta.validate()
    else:
        for name in dir(meta):
            if name.startswith("validate_") and \
                    name != "validate_id_token_signing_alg_values_supported":
                getattr(meta, name)()


def test_discovery_scopes_are_the_providers_and_hs256(lighttpd):
    """A provider without a signing key signs with HS256; only its mapped scopes (and openid,
    always) are listed, and a mapping it lacks adds no claims."""
    app = oauth2_app(scopes=("email",))
    m = _discovery(lighttpd, app["slug"]).json()
    assert m["id_token_signing_alg_values_supported"] == ["HS256"]
    assert sorted(m["scopes_supported"]) == ["email", "openid"]
    assert "email" in m["claims_supported"]
    assert "preferred_username" not in m["claims_supported"]


def test_rfc8414_metadata_is_the_same_document(base):
    app = oauth2_app()
    a = _discovery(base, app["slug"])
    b = requests.get("%s/.well-known/oauth-authorization-server/application/o/%s/"
                     % (base, app["slug"]))
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert a.json() == b.json()


def test_issuer_redirects_to_discovery(base):
    app = oauth2_app()
    r = requests.get("%s/application/o/%s/" % (base, app["slug"]), allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].endswith(
        "/application/o/%s/.well-known/openid-configuration" % app["slug"])
    r = requests.get("%s/application/o/%s/" % (base, app["slug"]))
    assert r.status_code == 200 and r.json()["issuer"].endswith("/%s/" % app["slug"])


def test_unknown_slug_is_404(base):
    for path in ("/application/o/no-such-app-x/.well-known/openid-configuration",
                 "/application/o/no-such-app-x/jwks/",
                 "/.well-known/oauth-authorization-server/application/o/no-such-app-x/"):
        r = requests.get(base + path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("application/json")
        assert "detail" in r.json()


def test_provider_without_application_is_404(lighttpd):
    app = oauth2_app()
    sql("UPDATE applications SET provider_id = NULL WHERE uuid = %s", app["app_uuid"])
    assert _discovery(lighttpd, app["slug"]).status_code == 404
    assert requests.get("%s/application/o/%s/jwks/" % (lighttpd, app["slug"])).status_code == 404


def test_urls_follow_host_and_scheme(lighttpd):
    app = oauth2_app()
    m = _discovery(lighttpd, app["slug"], headers={"Host": "idp.example.test:8443"}).json()
    assert m["issuer"] == "http://idp.example.test:8443/application/o/%s/" % app["slug"]
    assert m["token_endpoint"] == "http://idp.example.test:8443/application/o/token/"
    # Another host's document is not served from the first one's cache entry.
    m = _discovery(lighttpd, app["slug"], headers={"Host": "other.example.test"}).json()
    assert m["issuer"] == "http://other.example.test/application/o/%s/" % app["slug"]
    # Behind a trusted proxy that terminates TLS.
    m = _discovery(lighttpd, app["slug"], headers={"Host": "idp.example.test",
                                                   "X-Forwarded-Proto": "https"}).json()
    assert m["issuer"] == "https://idp.example.test/application/o/%s/" % app["slug"]


def test_discovery_cors(lighttpd):
    app = oauth2_app(redirect_uris=("https://rp.example.test:8443/cb",
                                    ("regex", "https://other\\.example\\.test/.*")))
    r = _discovery(lighttpd, app["slug"], headers={"Origin": "https://rp.example.test:8443"})
    assert r.headers.get("Access-Control-Allow-Origin") == "https://rp.example.test:8443"
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    for origin in ("https://rp.example.test", "http://rp.example.test:8443",
                   "https://evil.example.test", "https://other.example.test", "null"):
        r = _discovery(lighttpd, app["slug"], headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in r.headers, origin


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_jwks(base, admin, kind):
    kp = oauth2_keypair(admin, kind)
    app = oauth2_app(signing_key=kp)
    r = requests.get("%s/application/o/%s/jwks/" % (base, app["slug"]))
    assert r.status_code == 200, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    keys = r.json()["keys"]
    assert len(keys) == 1
    k = keys[0]
    assert k["use"] == "sig" and k["alg"] == ALGS[kind] and k["kid"]
    for private in ("d", "p", "q", "dp", "dq", "qi"):
        assert private not in k
    if kind == "rsa":
        assert k["kty"] == "RSA" and k["n"] and k["e"]
    else:
        assert k["kty"] == "EC" and k["crv"] == "P-256" and k["x"] and k["y"]
    assert k["x5c"] and k["x5t"] and k["x5t#S256"]
    # The published key is the pair's public key (jwcrypto reads it back).
    pub = jc_jwk.JWK(**k)
    assert not pub.has_private
    # x5t#S256 is the SHA-256 of the certificate x5c carries.
    der = base64.b64decode(k["x5c"][0])
    assert k["x5t#S256"] == base64.urlsafe_b64encode(
        hashlib.sha256(der).digest()).rstrip(b"=").decode()


def test_jwks_of_hs256_provider_is_empty(lighttpd):
    app = oauth2_app()
    r = requests.get("%s/application/o/%s/jwks/" % (lighttpd, app["slug"]))
    assert r.status_code == 200 and r.json() == {"keys": []}


def test_jwks_with_encryption_key(lighttpd, admin):
    kp = oauth2_keypair(admin, "rsa")
    enc = oauth2_keypair(admin, "rsa")
    app = oauth2_app(signing_key=kp, encryption_key=enc)
    keys = requests.get("%s/application/o/%s/jwks/" % (lighttpd, app["slug"])).json()["keys"]
    assert [k["use"] for k in keys] == ["sig", "enc"]
    assert keys[1]["alg"] == "RSA-OAEP-256" and keys[1]["enc"] == "A256CBC-HS512"
    assert keys[0]["kid"] != keys[1]["kid"]


def test_documents_follow_a_key_change(lighttpd, admin):
    """The documents a process built are served for one second at most: a provider given a
    new signing key publishes it (and its algorithm) right after."""
    rsa = oauth2_keypair(admin, "rsa")
    ec = oauth2_keypair(admin, "ecdsa")
    app = oauth2_app(signing_key=rsa)
    url = "%s/application/o/%s/jwks/" % (lighttpd, app["slug"])
    assert requests.get(url).json()["keys"][0]["kty"] == "RSA"
    assert _discovery(lighttpd, app["slug"]).json()["id_token_signing_alg_values_supported"] == [
        "RS256"]
    sql("UPDATE oauth2_providers SET signing_key = %s WHERE provider_id = %s", ec,
        app["provider_id"])
    deadline = time.time() + 5
    while time.time() < deadline:
        kty = {requests.get(url).json()["keys"][0]["kty"] for _ in range(4)}
        alg = {_discovery(lighttpd, app["slug"]).json()[
            "id_token_signing_alg_values_supported"][0] for _ in range(4)}
        if kty == {"EC"} and alg == {"ES256"}:
            break
        time.sleep(0.2)
    assert kty == {"EC"} and alg == {"ES256"}, (kty, alg)
    # ... and well within the time: every process is current 1.5 s after the change.
    time.sleep(1.5)
    for _ in range(8):
        assert requests.get(url).json()["keys"][0]["kty"] == "EC"


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_published_keys_verify_issued_tokens(lighttpd, admin, kind):
    """A token from the token endpoint verifies with jwcrypto against the JWKS that discovery
    names, with the kid its header carries."""
    kp = oauth2_keypair(admin, kind)
    app = oauth2_app(signing_key=kp)
    m = _discovery(lighttpd, app["slug"]).json()
    r = requests.post(m["token_endpoint"], data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "openid"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    jwks = jc_jwk.JWKSet.from_json(requests.get(m["jwks_uri"]).text)
    t = jc_jwt.JWT(jwt=token, key=jwks, algs=[ALGS[kind]],
                   check_claims={"iss": m["issuer"], "aud": app["client_id"], "exp": None})
    assert json.loads(t.claims)["aud"] == app["client_id"]
    # A key of another pair does not verify it.
    other = oauth2_app(signing_key=oauth2_keypair(admin, kind))
    other_jwks = jc_jwk.JWKSet.from_json(
        requests.get("%s/application/o/%s/jwks/" % (lighttpd, other["slug"])).text)
    with pytest.raises(Exception):
        jc_jwt.JWT(jwt=token, key=other_jwks, algs=[ALGS[kind]])


def _published(slug):
    return os.path.join(STATE, "oidc", slug, "jwks.json")


def test_jwks_is_published_as_a_file(base, admin):
    """The responder writes the JWKS it builds into oauth2.publish_dir; the router then sends
    the file itself (a static response: ETag and Last-Modified, which the responder never
    sends), with the same body and headers."""
    kp = oauth2_keypair(admin, "ecdsa")
    app = oauth2_app(signing_key=kp)
    url = "%s/application/o/%s/jwks/" % (base, app["slug"])
    first = requests.get(url)
    assert first.status_code == 200
    assert "ETag" not in first.headers
    link = _published(app["slug"])
    deadline = time.time() + 3
    while not os.path.islink(link) and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.islink(link)
    pid, serial = sql("SELECT id, serial FROM providers WHERE id = %s", app["provider_id"])[0]
    assert os.readlink(link) == "jwks-%d-%d.json" % (pid, serial)
    with open(link) as f:
        assert json.load(f) == first.json()
    r = requests.get(url)
    assert r.status_code == 200 and "ETag" in r.headers, r.headers
    assert r.json() == first.json()
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Access-Control-Allow-Origin") == "*"


def test_published_jwks_follows_changes(lighttpd, admin):
    """A key change, an unbound application: the sweeper removes the stale file within a
    second or two and the router sends what the responder answers now."""
    rsa = oauth2_keypair(admin, "rsa")
    ec = oauth2_keypair(admin, "ecdsa")
    app = oauth2_app(signing_key=rsa)
    url = "%s/application/o/%s/jwks/" % (lighttpd, app["slug"])
    for _ in range(3):
        assert requests.get(url).json()["keys"][0]["kty"] == "RSA"
    assert "ETag" in requests.get(url).headers
    sql("UPDATE oauth2_providers SET signing_key = %s WHERE provider_id = %s", ec,
        app["provider_id"])
    deadline = time.time() + 6
    kty = None
    while time.time() < deadline:
        kty = requests.get(url).json()["keys"][0]["kty"]
        if kty == "EC":
            break
        time.sleep(0.2)
    assert kty == "EC"
    for _ in range(5):
        assert requests.get(url).json()["keys"][0]["kty"] == "EC"
    sql("UPDATE applications SET provider_id = NULL WHERE uuid = %s", app["app_uuid"])
    deadline = time.time() + 6
    while time.time() < deadline and requests.get(url).status_code != 404:
        time.sleep(0.2)
    assert requests.get(url).status_code == 404
    assert not os.path.exists(_published(app["slug"]))


def test_a_planted_file_is_not_served(lighttpd):
    """Only what the responder links is served: a plain file put in its place goes."""
    app = oauth2_app()
    url = "%s/application/o/%s/jwks/" % (lighttpd, app["slug"])
    assert requests.get(url).json() == {"keys": []}
    link = _published(app["slug"])
    deadline = time.time() + 3
    while not os.path.islink(link) and time.time() < deadline:
        time.sleep(0.1)
    os.unlink(link)
    with open(link, "w") as f:
        f.write('{"keys": [{"kty": "oct", "k": "planted"}]}')
    deadline = time.time() + 6
    while time.time() < deadline and os.path.exists(link) and not os.path.islink(link):
        time.sleep(0.2)
    assert requests.get(url).json() == {"keys": []}
