"""custos as an OpenID Provider seen by third-party client libraries: Debian's python3-authlib
drives the grants (authorization code + PKCE, implicit, hybrid, refresh, client credentials)
and validates ID tokens with its own OIDC rules (CodeIDToken / ImplicitIDToken /
HybridIDToken), and python3-jwcrypto verifies every JWT custos hands out against the JWKS it
publishes and the issuer its discovery document names. The user logs in through the flow
executor as the flow interface would (conftest.OidcBrowser)."""
import base64
import hashlib
import json
import os
import secrets
import time
import urllib.parse as urlparse

import pytest
import requests

# The stack is plain http on loopback; authlib refuses that unless told.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey  # noqa: E402
from authlib.jose import jwt as authlib_jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken, HybridIDToken, ImplicitIDToken  # noqa: E402
from jwcrypto import jwk as jc_jwk  # noqa: E402
from jwcrypto import jwt as jc_jwt  # noqa: E402

from conftest import oauth2_app, oauth2_keypair, oidc_user_browser, sql  # noqa: E402

# A client's redirect URIs: no server answers them; the browser stops there.
CB = "http://127.0.0.1:9/cb"
LOGGED_OUT = "http://127.0.0.1:9/logged-out"
ALGS = {"rsa": "RS256", "ecdsa": "ES256"}


class Op:
    """The provider as a client finds it: discovery, then the JWKS it names."""

    def __init__(self, base, app, alg):
        self.app = app
        self.alg = alg
        self.client_id = app["client_id"]
        self.secret = app["client_secret"]
        r = requests.get("%s/application/o/%s/.well-known/openid-configuration" % (base, app["slug"]))
        assert r.status_code == 200, (r.status_code, r.text[:300])
        self.meta = r.json()
        self.issuer = self.meta["issuer"]
        self.authorize = self.meta["authorization_endpoint"]
        self.token = self.meta["token_endpoint"]
        self.userinfo = self.meta["userinfo_endpoint"]
        self.introspect = self.meta["introspection_endpoint"]
        self.revoke = self.meta["revocation_endpoint"]
        self.end_session = self.meta["end_session_endpoint"]
        self.device = self.meta.get("device_authorization_endpoint")
        r = requests.get(self.meta["jwks_uri"])
        assert r.status_code == 200, (r.status_code, r.text[:300])
        self.jwks_text = r.text
        self.jwks = jc_jwk.JWKSet.from_json(r.text)
        self.authlib_keys = JsonWebKey.import_key_set(json.loads(r.text))

    def verify(self, token, aud=None):
        """jwcrypto: the signature with the published key its kid names, the provider's alg,
        the issuer, the audience and the expiry. Returns the claims."""
        header = json.loads(_b64(token.split(".")[0]))
        assert header.get("alg") == self.alg, header
        assert header.get("kid") and self.jwks.get_key(header["kid"]) is not None, header
        t = jc_jwt.JWT(jwt=token, key=self.jwks, algs=[self.alg],
                       check_claims={"iss": self.issuer, "exp": None,
                                     "aud": aud or self.client_id})
        return json.loads(t.claims)

    def session(self, **kw):
        kw.setdefault("scope", "openid email profile")
        kw.setdefault("redirect_uri", CB)
        return OAuth2Session(self.client_id, self.secret, **kw)

    def id_token(self, token, cls, **params):
        """authlib's own OIDC validation of an ID token."""
        params.setdefault("client_id", self.client_id)
        claims = authlib_jwt.decode(token, self.authlib_keys, claims_cls=cls,
                                    claims_options={"iss": {"essential": True, "values": [self.issuer]},
                                                    "aud": {"essential": True, "values": [self.client_id]}},
                                    claims_params=params)
        claims.validate(leeway=5)
        return claims


def _b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _half_hash(value):
    """at_hash / c_hash for RS256 and ES256: the left half of the SHA-256, base64url."""
    h = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(h[:len(h) // 2]).rstrip(b"=").decode()


def _provider(admin, lighttpd, kind="rsa", **fields):
    kp = oauth2_keypair(admin, kind)
    fields.setdefault("redirect_uris", [CB, ("strict", LOGGED_OUT, "logout")])
    app = oauth2_app(signing_key=kp, **fields)
    return Op(lighttpd, app, ALGS[kind])


@pytest.fixture(params=["rsa", "ecdsa"])
def op(request, admin, lighttpd):
    return _provider(admin, lighttpd, request.param)


@pytest.fixture
def op_rsa(admin, lighttpd):
    return _provider(admin, lighttpd, "rsa")


def _code_login(op, lighttpd, scope="openid email profile", browser=None, **auth_kw):
    """Authorization code + PKCE S256 through authlib, the login driven through the executor.
    Returns (authlib session, token dict, nonce, browser, user id, username)."""
    if browser is None:
        browser, uid, username = oidc_user_browser(lighttpd)
    else:
        uid, username = None, browser.username
    client = op.session(scope=scope, code_challenge_method="S256")
    verifier = generate_token(64)
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize, code_verifier=verifier,
                                                 nonce=nonce, **auth_kw)
    kind, cb = browser.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb, browser.visited[-5:])
    assert "code=" in cb and "error=" not in cb, cb
    token = client.fetch_token(op.token, authorization_response=cb, state=state,
                               code_verifier=verifier)
    return client, token, nonce, browser, uid, username


# --- discovery and keys -------------------------------------------------------------------

def test_discovery_and_jwks(op, lighttpd):
    m = op.meta
    assert op.issuer == "%s/application/o/%s/" % (lighttpd, op.app["slug"])
    for k in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
              "introspection_endpoint", "revocation_endpoint", "end_session_endpoint"):
        assert m[k].startswith(lighttpd + "/"), (k, m[k])
    assert set(m["response_types_supported"]) >= {
        "code", "id_token", "id_token token", "code token", "code id_token", "code id_token token"}
    assert "S256" in m["code_challenge_methods_supported"]
    assert set(m["grant_types_supported"]) >= {"authorization_code", "refresh_token",
                                               "client_credentials"}
    assert op.alg in m["id_token_signing_alg_values_supported"]
    assert "none" not in m["id_token_signing_alg_values_supported"]
    assert set(m["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic",
                                                               "client_secret_post"}
    keys = json.loads(op.jwks_text)["keys"]
    assert len(keys) == 1, keys
    k = keys[0]
    assert k["use"] == "sig" and k["alg"] == op.alg and k["kid"]
    assert "d" not in k and "p" not in k, "a private part in the JWKS"
    if op.alg == "RS256":
        assert k["kty"] == "RSA" and k["n"] and k["e"]
    else:
        assert k["kty"] == "EC" and k["crv"] == "P-256" and k["x"] and k["y"]


# --- authorization code + PKCE ------------------------------------------------------------

def test_code_pkce_login(op, lighttpd):
    client, token, nonce, b, uid, username = _code_login(op, lighttpd)
    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token  # no offline_access asked
    idt = op.id_token(token["id_token"], CodeIDToken, nonce=nonce,
                      access_token=token["access_token"])
    assert idt["at_hash"] == _half_hash(token["access_token"])
    claims = op.verify(token["id_token"])
    assert claims["nonce"] == nonce
    assert claims["email"] == username + "@example.com"
    assert claims["preferred_username"] == username
    assert claims["acr"] == "goauthentik.io/providers/oauth2/default"
    assert claims["sid"] and claims["auth_time"] <= time.time() + 5
    access = op.verify(token["access_token"])
    assert access["sub"] == claims["sub"] and access["azp"] == op.client_id
    assert set(access["scope"].split()) == {"openid", "email", "profile"}

    # userinfo through authlib's session, GET and POST.
    r = client.get(op.userinfo)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["sub"] == claims["sub"] and info["email"] == claims["email"]
    assert info["preferred_username"] == username
    r = requests.post(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 200 and r.json()["sub"] == claims["sub"]


def test_code_pkce_public_client(admin, lighttpd):
    op = _provider(admin, lighttpd, "rsa", client_type="public")
    b, uid, username = oidc_user_browser(lighttpd)

    def authorize():
        client = OAuth2Session(op.client_id, None, scope="openid email", redirect_uri=CB,
                               code_challenge_method="S256", token_endpoint_auth_method="none")
        verifier = generate_token(64)
        uri, state = client.create_authorization_url(op.authorize, code_verifier=verifier)
        kind, cb = b.go(uri, stop_at=(CB,))
        assert kind == "stop", (kind, cb)
        return client, verifier, state, cb

    # A verifier that does not match the challenge is refused...
    client, verifier, state, cb = authorize()
    code = urlparse.parse_qs(urlparse.urlsplit(cb).query)["code"][0]
    r = requests.post(op.token, data={"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": CB, "client_id": op.client_id,
                                      "code_verifier": generate_token(64)})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # ...and so is no verifier at all for a code bound to a challenge.
    r = requests.post(op.token, data={"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": CB, "client_id": op.client_id})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text

    # The next authorization, in the same browser session (no second login), exchanged by
    # authlib with the right verifier and no secret.
    client, verifier, state, cb = authorize()
    assert sum(1 for c in b.challenges if c["component"] == "ak-stage-password") == 1
    token = client.fetch_token(op.token, authorization_response=cb, state=state,
                               code_verifier=verifier)
    op.id_token(token["id_token"], CodeIDToken, access_token=token["access_token"])
    assert op.verify(token["id_token"])["email"] == username + "@example.com"
    op.verify(token["access_token"])


def test_code_reuse_revokes_what_it_issued(op_rsa, lighttpd):
    op = op_rsa
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session(code_challenge_method="S256")
    verifier = generate_token(64)
    uri, state = client.create_authorization_url(op.authorize, code_verifier=verifier)
    kind, cb = b.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    token = client.fetch_token(op.token, authorization_response=cb, state=state,
                               code_verifier=verifier)
    op.verify(token["access_token"])
    assert requests.get(op.userinfo, headers={
        "Authorization": "Bearer " + token["access_token"]}).status_code == 200
    code = urlparse.parse_qs(urlparse.urlsplit(cb).query)["code"][0]
    r = requests.post(op.token, auth=(op.client_id, op.secret),
                      data={"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CB, "code_verifier": verifier})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = requests.get(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 401, (r.status_code, r.text)


def test_form_post_response_mode(op_rsa, lighttpd):
    op = op_rsa
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session()
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize, nonce=nonce,
                                                 response_mode="form_post")
    kind, form = b.go(uri, stop_at=(CB,))
    assert kind == "form", (kind, form)
    assert form["url"] == CB and form["attrs"]["state"] == state
    token = client.fetch_token(op.token, code=form["attrs"]["code"])
    op.id_token(token["id_token"], CodeIDToken, nonce=nonce, access_token=token["access_token"])
    op.verify(token["access_token"])


# --- implicit and hybrid ------------------------------------------------------------------

def test_implicit_id_token_token(op, lighttpd):
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session()
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize, response_type="id_token token",
                                                 nonce=nonce)
    kind, cb = b.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    frag = urlparse.parse_qs(urlparse.urlsplit(cb).fragment)
    assert not urlparse.urlsplit(cb).query, "implicit answers in the fragment only"
    token = client.token_from_fragment(cb, state=state)
    assert token["state"] == state and frag["token_type"][0].lower() == "bearer"
    assert "code" not in token
    idt = op.id_token(token["id_token"], ImplicitIDToken, nonce=nonce,
                      access_token=token["access_token"])
    assert idt["at_hash"] == _half_hash(token["access_token"])
    op.verify(token["id_token"])
    op.verify(token["access_token"])
    r = requests.get(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 200 and r.json()["preferred_username"] == username


def test_implicit_id_token_only(op_rsa, lighttpd):
    op = op_rsa
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session()
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize, response_type="id_token",
                                                 nonce=nonce)
    kind, cb = b.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    frag = dict(urlparse.parse_qsl(urlparse.urlsplit(cb).fragment))
    assert "access_token" not in frag and frag["state"] == state
    op.id_token(frag["id_token"], ImplicitIDToken, nonce=nonce)
    claims = op.verify(frag["id_token"])
    assert "at_hash" not in claims
    # With no access token, the user's claims travel in the ID token itself.
    assert claims["preferred_username"] == username


def test_implicit_without_nonce_is_refused(op_rsa, lighttpd):
    op = op_rsa
    b, uid, username = oidc_user_browser(lighttpd)
    q = urlparse.urlencode({"client_id": op.client_id, "redirect_uri": CB,
                            "response_type": "id_token token", "scope": "openid",
                            "state": "s1"})
    kind, cb = b.go(op.authorize + "?" + q, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    out = dict(urlparse.parse_qsl(urlparse.urlsplit(cb).fragment or urlparse.urlsplit(cb).query))
    assert out.get("error") == "invalid_request" and "access_token" not in out, cb


def test_hybrid_code_id_token(op, lighttpd):
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session()
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize, response_type="code id_token",
                                                 nonce=nonce)
    kind, cb = b.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    frag = dict(urlparse.parse_qsl(urlparse.urlsplit(cb).fragment))
    assert frag["state"] == state and frag["code"] and "access_token" not in frag
    idt = op.id_token(frag["id_token"], HybridIDToken, nonce=nonce, code=frag["code"])
    assert idt["c_hash"] == _half_hash(frag["code"])
    front = op.verify(frag["id_token"])
    # The code from the front channel is exchanged at the token endpoint as usual.
    token = client.fetch_token(op.token, code=frag["code"])
    back = op.verify(token["id_token"])
    assert back["sub"] == front["sub"] and back["nonce"] == nonce
    op.verify(token["access_token"])


def test_hybrid_code_id_token_token(op_rsa, lighttpd):
    op = op_rsa
    b, uid, username = oidc_user_browser(lighttpd)
    client = op.session()
    nonce = generate_token(24)
    uri, state = client.create_authorization_url(op.authorize,
                                                 response_type="code id_token token", nonce=nonce)
    kind, cb = b.go(uri, stop_at=(CB,))
    assert kind == "stop", (kind, cb)
    frag = dict(urlparse.parse_qsl(urlparse.urlsplit(cb).fragment))
    idt = op.id_token(frag["id_token"], HybridIDToken, nonce=nonce, code=frag["code"],
                      access_token=frag["access_token"])
    assert idt["c_hash"] == _half_hash(frag["code"])
    assert idt["at_hash"] == _half_hash(frag["access_token"])
    op.verify(frag["access_token"])
    token = client.fetch_token(op.token, code=frag["code"])
    op.verify(token["id_token"])


# --- refresh ------------------------------------------------------------------------------

def test_refresh_rotation(op, lighttpd):
    client, token, nonce, b, uid, username = _code_login(
        op, lighttpd, scope="openid email profile offline_access")
    first = op.verify(token["id_token"])
    rt1 = token["refresh_token"]
    assert rt1
    new = client.refresh_token(op.token, refresh_token=rt1)
    rt2 = new["refresh_token"]
    assert rt2 and rt2 != rt1 and new["access_token"] != token["access_token"]
    claims = op.verify(new["id_token"])
    assert claims["sub"] == first["sub"]
    op.id_token(new["id_token"], CodeIDToken, access_token=new["access_token"])
    op.verify(new["access_token"])
    assert requests.get(op.userinfo, headers={
        "Authorization": "Bearer " + new["access_token"]}).status_code == 200

    # The spent refresh token is refused...
    r = requests.post(op.token, auth=(op.client_id, op.secret),
                      data={"grant_type": "refresh_token", "refresh_token": rt1,
                            "scope": "openid email profile offline_access"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # ...and its reuse revoked the rest of the chain.
    r = requests.post(op.token, auth=(op.client_id, op.secret),
                      data={"grant_type": "refresh_token", "refresh_token": rt2,
                            "scope": "openid email profile offline_access"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text


def test_refresh_token_of_another_client_is_refused(op_rsa, admin, lighttpd):
    client, token, nonce, b, uid, username = _code_login(
        op_rsa, lighttpd, scope="openid offline_access")
    other = _provider(admin, lighttpd, "rsa")
    r = requests.post(other.token, auth=(other.client_id, other.secret),
                      data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                            "scope": "openid offline_access"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text


# --- client credentials -------------------------------------------------------------------

@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(op, auth_method):
    client = OAuth2Session(op.client_id, op.secret, scope="openid profile",
                           token_endpoint_auth_method=auth_method)
    token = client.fetch_token(op.token, grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer" and token["expires_in"] > 0
    access = op.verify(token["access_token"])
    assert access["azp"] == op.client_id
    if "id_token" in token:
        op.verify(token["id_token"])
    # The token's user is the provider's service account.
    r = requests.get(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == access["sub"]


def test_client_credentials_wrong_secret(op_rsa):
    op = op_rsa
    r = requests.post(op.token, auth=(op.client_id, op.secret + "x"),
                      data={"grant_type": "client_credentials", "scope": "openid"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic")
    r = requests.post(op.token, data={"grant_type": "client_credentials", "scope": "openid",
                                      "client_id": op.client_id, "client_secret": "nope"})
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client", r.text


# --- device authorization (RFC 8628) ------------------------------------------------------

@pytest.fixture
def device_flow():
    """A device-code flow for every brand (authentik answers /device with 404 without one):
    a flow with no stages of its own, set for this test and put back after."""
    slug = "device-" + secrets.token_hex(4)
    flow = sql("INSERT INTO flows (name, slug, title, designation, authentication) "
               "VALUES (%s, %s, %s, 'stage_configuration', 'require_authenticated') "
               "RETURNING flow_uuid::text", slug, slug, "Device code")[0][0]
    before = sql("SELECT brand_uuid::text, flow_device_code::text FROM brands")
    for brand, _ in before:
        sql("UPDATE brands SET flow_device_code = %s WHERE brand_uuid = %s", flow, brand)
    yield slug
    for brand, old in before:
        sql("UPDATE brands SET flow_device_code = %s WHERE brand_uuid = %s", old, brand)
    sql("DELETE FROM flows WHERE flow_uuid = %s", flow)


def test_device_flow(op, lighttpd, device_flow):
    assert op.device, op.meta
    r = requests.post(op.device, auth=(op.client_id, op.secret),
                      data={"scope": "openid email profile"})
    assert r.status_code == 200, r.text
    d = r.json()
    for k in ("device_code", "user_code", "verification_uri", "verification_uri_complete",
              "expires_in", "interval"):
        assert d.get(k), (k, d)
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": d["device_code"]}
    r = requests.post(op.token, auth=(op.client_id, op.secret), data=poll)
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending", r.text

    # The user opens the verification URI, logs in and enters the code.
    b, uid, username = oidc_user_browser(lighttpd)
    kind, page = b.go(d["verification_uri"], device_code=d["user_code"])
    comps = [c["component"] for c in b.challenges]
    assert "ak-provider-oauth2-device-code" in comps, (comps, kind, b.visited[-5:])
    assert kind == "end" and comps[-1] == "ak-provider-oauth2-device-code-finish", (kind, page)

    token = None
    for _ in range(3):
        r = requests.post(op.token, auth=(op.client_id, op.secret), data=poll)
        if r.status_code == 200:
            token = r.json()
            break
        # slow_down is fair: the test polls faster than the interval asks.
        assert r.json()["error"] in ("slow_down", "authorization_pending"), r.text
        time.sleep(d["interval"])
    assert token, r.text
    access = op.verify(token["access_token"])
    idt = op.verify(token["id_token"])
    assert idt["preferred_username"] == username and access["sub"] == idt["sub"]
    # The device code is spent.
    r = requests.post(op.token, auth=(op.client_id, op.secret), data=poll)
    assert r.status_code == 400 and r.json()["error"] in ("invalid_grant", "expired_token"), r.text


# --- introspection and revocation ---------------------------------------------------------

def test_introspection_and_revocation(op, admin, lighttpd):
    client, token, nonce, b, uid, username = _code_login(
        op, lighttpd, scope="openid email offline_access")
    access = op.verify(token["access_token"])
    r = client.introspect_token(op.introspect, token=token["access_token"])
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["active"] is True
    assert info["client_id"] == op.client_id and info["sub"] == access["sub"]
    assert set(info["scope"].split()) == {"openid", "email", "offline_access"}
    r = client.introspect_token(op.introspect, token=token["refresh_token"],
                                token_type_hint="refresh_token")
    assert r.status_code == 200 and r.json()["active"] is True, r.text

    # Another client learns nothing about this client's tokens.
    other = _provider(admin, lighttpd, "rsa")
    r = requests.post(other.introspect, auth=(other.client_id, other.secret),
                      data={"token": token["access_token"]})
    assert r.status_code == 200 and r.json() == {"active": False}, r.text
    # Without client authentication, no answer at all.
    r = requests.post(op.introspect, data={"token": token["access_token"]})
    assert r.status_code == 401, r.text

    # Revocation (RFC 7009) through authlib: the access token, then the refresh token.
    r = client.revoke_token(op.revoke, token=token["access_token"],
                            token_type_hint="access_token")
    assert r.status_code == 200, r.text
    r = client.introspect_token(op.introspect, token=token["access_token"])
    assert r.json() == {"active": False}, r.text
    r = requests.get(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 401
    r = client.revoke_token(op.revoke, token=token["refresh_token"])
    assert r.status_code == 200
    r = requests.post(op.token, auth=(op.client_id, op.secret),
                      data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                            "scope": "openid email offline_access"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # Revoking an unknown token is not an error (RFC 7009 §2.2).
    r = client.revoke_token(op.revoke, token=generate_token(48))
    assert r.status_code == 200


# --- end-session --------------------------------------------------------------------------

def test_end_session(op_rsa, lighttpd):
    op = op_rsa
    client, token, nonce, b, uid, username = _code_login(op, lighttpd)
    q = urlparse.urlencode({"id_token_hint": token["id_token"],
                            "post_logout_redirect_uri": LOGGED_OUT, "state": "bye-1"})
    kind, where = b.go(op.end_session + "?" + q, stop_at=(LOGGED_OUT,))
    assert kind == "stop", (kind, where, b.visited[-5:])
    assert dict(urlparse.parse_qsl(urlparse.urlsplit(where).query)).get("state") == "bye-1"
    # The provider's tokens of that session are gone.
    r = requests.get(op.userinfo, headers={"Authorization": "Bearer " + token["access_token"]})
    assert r.status_code == 401, r.text


def test_end_session_unregistered_redirect_is_not_followed(op_rsa, lighttpd):
    op = op_rsa
    client, token, nonce, b, uid, username = _code_login(op, lighttpd)
    evil = "http://127.0.0.1:9/evil"
    q = urlparse.urlencode({"id_token_hint": token["id_token"], "post_logout_redirect_uri": evil})
    kind, where = b.go(op.end_session + "?" + q, stop_at=(evil,))
    assert kind != "stop", where
