"""POST /application/o/token/: every grant, client authentication and the security rules of the
token endpoint, through authlib's OAuth2 client and raw requests, tokens checked with jwcrypto."""
import base64
import hashlib
import json
import secrets
import threading
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwk, jws, jwt

from conftest import (create_user, oauth2_add_mapping, oauth2_app, oauth2_app_password,
                      oauth2_bind_group, oauth2_code_row, oauth2_half_hash, oauth2_keypair,
                      oauth2_public_jwk, oauth2_token_url, oauth2_uid, oauth2_verify, sql)

REDIRECT = "https://rp.example/cb"


def post(base, data, auth=None, headers=None):
    return requests.post(oauth2_token_url(base), data=data, auth=auth, headers=headers or {})


def cc(base, app, scope="openid", **extra):
    data = {"grant_type": "client_credentials", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": scope}
    data.update(extra)
    return post(base, data)


def assert_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text
    assert "error_description" in r.json()
    assert r.headers.get("Cache-Control") == "no-store"


def session_for(app, **kw):
    return OAuth2Session(app["client_id"], app["client_secret"], **kw)


def access_row(token):
    rows = sql("SELECT user_id, revoked, array_to_json(scope)::text, provider_id, claims "
               "FROM oauth2_access_tokens WHERE token_digest = %s",
               hashlib.sha256(token.encode()).hexdigest())
    assert len(rows) == 1
    return rows[0]


def refresh_row(token):
    rows = sql("SELECT revoked, chain_id, array_to_json(scope)::text, user_id "
               "FROM oauth2_refresh_tokens WHERE token_digest = %s",
               hashlib.sha256(token.encode()).hexdigest())
    assert len(rows) == 1
    return rows[0]


def sa_of(app):
    rows = sql("SELECT id, type, is_active, path, name FROM users WHERE username = %s",
               "ak-%s-client_credentials" % app["name"])
    assert len(rows) == 1
    return rows[0]


# --- client_credentials with the provider's secret ------------------------------------------

@pytest.mark.parametrize("kind,alg", [("ecdsa", "ES256"), ("rsa", "RS256")])
def test_client_credentials_signed_tokens(lighttpd, admin, kind, alg):
    kp = oauth2_keypair(admin, kind)
    app = oauth2_app(signing_key=kp)
    s = session_for(app, scope="openid profile email")
    tok = s.fetch_token(oauth2_token_url(lighttpd), grant_type="client_credentials")
    assert tok["token_type"] == "Bearer"
    assert tok["expires_in"] == 3600
    assert tok["scope"] == "openid profile email"
    assert "refresh_token" not in tok
    key = oauth2_public_jwk(admin, kp, app, lighttpd)
    header, claims = oauth2_verify(tok["access_token"], key, alg)
    assert header["alg"] == alg and header["kid"]
    sa = sa_of(app)
    assert sa[1] == "service_account" and sa[2] is True
    assert sa[3] == "goauthentik.io/apps/%s" % app["slug"]
    assert claims["iss"] == "%s/application/o/%s/" % (lighttpd, app["slug"])
    assert claims["sub"] == oauth2_uid(sa[0])
    assert claims["aud"] == app["client_id"] and claims["azp"] == app["client_id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["acr"] == "goauthentik.io/providers/oauth2/default"
    assert claims["scope"] == "openid profile email"
    assert len(claims["uid"]) == 40 and len(claims["jti"]) == 40
    assert claims["preferred_username"] == "ak-%s-client_credentials" % app["name"]
    # authentik sends an ID token for the service account when openid was asked for.
    _, idc = oauth2_verify(tok["id_token"], key, alg)
    assert idc["sub"] == claims["sub"] and idc["aud"] == app["client_id"]
    assert idc["iss"] == claims["iss"] and "at_hash" in idc
    # Stored by the digest of the whole JWT, with authentik's login event beside it.
    user_id, revoked, scope, pid, stored = access_row(tok["access_token"])
    assert (user_id, revoked, pid) == (sa[0], False, app["provider_id"])
    assert json.loads(scope) == ["openid", "profile", "email"]
    assert json.loads(stored)["uid"] == claims["uid"]
    ev = sql("SELECT context, \"user\" FROM events WHERE action = 'login' AND "
             "\"user\" ->> 'username' = %s", "ak-%s-client_credentials" % app["name"])
    assert len(ev) == 1
    assert ev[0][0]["auth_method"] == "oauth_client_secret"
    assert ev[0][0]["application"]["pk"] == app["app_uuid"]
    assert ev[0][1]["pk"] == sa[0]


def test_client_credentials_hs256_without_key(lighttpd):
    app = oauth2_app()
    r = cc(lighttpd, app)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    header, claims = oauth2_verify(r.json()["access_token"], app["client_secret"], "HS256")
    assert header["alg"] == "HS256" and "kid" not in header
    with pytest.raises(Exception):
        oauth2_verify(r.json()["access_token"], b"not the secret", "HS256")


def test_client_secret_basic_and_post(lighttpd):
    app = oauth2_app()
    for method in ("client_secret_basic", "client_secret_post"):
        s = session_for(app, scope="openid", token_endpoint_auth_method=method)
        tok = s.fetch_token(oauth2_token_url(lighttpd), grant_type="client_credentials")
        assert tok["access_token"]
    # Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1).
    app2 = oauth2_app(client_secret="s3cret+with/odd chars%")
    from urllib.parse import quote_plus
    raw = "%s:%s" % (quote_plus(app2["client_id"]), quote_plus(app2["client_secret"]))
    r = post(lighttpd, {"grant_type": "client_credentials"},
             headers={"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()})
    assert r.status_code == 200, r.text


def test_a_second_request_served_from_the_cache_is_the_same(lighttpd):
    app = oauth2_app()
    first = cc(lighttpd, app, scope="openid profile").json()
    second = cc(lighttpd, app, scope="openid profile").json()
    a = oauth2_verify(first["access_token"], app["client_secret"])[1]
    b = oauth2_verify(second["access_token"], app["client_secret"])[1]
    assert a["sub"] == b["sub"] and a["uid"] != b["uid"] and a["jti"] != b["jti"]
    assert sql("SELECT count(*) FROM users WHERE username = %s",
               "ak-%s-client_credentials" % app["name"])[0][0] == 1


# --- client authentication ---------------------------------------------------------------

def test_wrong_secret_is_401_with_www_authenticate(lighttpd):
    app = oauth2_app()
    r = post(lighttpd, {"grant_type": "client_credentials"},
             auth=(app["client_id"], "wrong-secret"))
    assert_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"] == 'Basic realm="authentik"'
    r = post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                        "client_secret": "wrong-secret"})
    assert_error(r, 401, "invalid_client")
    # No secret at all, an unknown client, a malformed Basic header.
    assert_error(post(lighttpd, {"grant_type": "client_credentials",
                                 "client_id": app["client_id"]}), 401, "invalid_client")
    assert_error(post(lighttpd, {"grant_type": "client_credentials"},
                      auth=("no-such-client", "x")), 401, "invalid_client")
    assert_error(post(lighttpd, {"grant_type": "client_credentials"},
                      headers={"Authorization": "Basic %%%"}), 401, "invalid_client")
    # Wrong secrets never made tokens.
    assert sql("SELECT count(*) FROM oauth2_access_tokens WHERE provider_id = %s",
               app["provider_id"])[0][0] == 0


def test_wrong_secret_refused_at_code_and_refresh(lighttpd):
    uid, _ = create_user()
    app = oauth2_app()
    code = oauth2_code_row(app, uid)
    r = post(lighttpd, {"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT}, auth=(app["client_id"], "nope"))
    assert_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"] == 'Basic realm="authentik"'
    # The refused attempt did not use the code up.
    r = post(lighttpd, {"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT}, auth=(app["client_id"], app["client_secret"]))
    assert r.status_code == 200, r.text
    r2 = post(lighttpd, {"grant_type": "refresh_token",
                         "refresh_token": r.json()["refresh_token"]},
              auth=(app["client_id"], "nope"))
    assert_error(r2, 401, "invalid_client")


def test_malformed_requests(lighttpd):
    app = oauth2_app()
    url = oauth2_token_url(lighttpd)
    base = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    # A repeated parameter.
    r = requests.post(url, data=[("grant_type", "client_credentials"),
                                 ("grant_type", "client_credentials"),
                                 ("client_id", app["client_id"]),
                                 ("client_secret", app["client_secret"])])
    assert_error(r, 400, "invalid_request")
    r = requests.post(url, data=[("grant_type", "client_credentials"), ("scope", "openid"),
                                 ("scope", "profile"), ("client_id", app["client_id"]),
                                 ("client_secret", app["client_secret"])])
    assert_error(r, 400, "invalid_request")
    # Basic and client_secret at once.
    r = post(lighttpd, {"grant_type": "client_credentials",
                        "client_secret": app["client_secret"]},
             auth=(app["client_id"], app["client_secret"]))
    assert_error(r, 400, "invalid_request")
    assert_error(post(lighttpd, dict(base)), 400, "invalid_request")
    assert_error(post(lighttpd, dict(base, grant_type="implicit")), 400,
                 "unsupported_grant_type")
    r = requests.post(url, json=dict(base, grant_type="client_credentials"))
    assert_error(r, 400, "invalid_request")
    assert_error(post(lighttpd, dict(base, grant_type="client_credentials",
                                     scope="openid bad\"scope")), 400, "invalid_scope")
    assert_error(post(lighttpd, dict(base, grant_type="client_credentials",
                                     scope="x" * 5000)), 400, "invalid_request")
    assert_error(post(lighttpd, dict(base, grant_type="client_credentials",
                                     client_secret="s" * 17000)), 400, "invalid_request")


def test_scopes_clamped_to_the_providers_mappings(lighttpd):
    app = oauth2_app(scopes=("openid", "email"))
    r = cc(lighttpd, app, scope="openid profile email admin:all goauthentik.io/api")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "openid email"
    claims = oauth2_verify(body["access_token"], app["client_secret"])[1]
    assert claims["scope"] == "openid email"
    assert "preferred_username" not in claims and "email" in claims
    assert json.loads(access_row(body["access_token"])[2]) == ["openid", "email"]
    body = cc(lighttpd, app, scope="email").json()
    assert body["scope"] == "email"


# --- the cache never serves what changed --------------------------------------------------

def test_service_account_deactivated(lighttpd):
    app = oauth2_app()
    assert cc(lighttpd, app).status_code == 200
    sa = sa_of(app)
    sql("UPDATE users SET is_active = false WHERE id = %s", sa[0])
    assert_error(cc(lighttpd, app), 400, "invalid_grant")
    assert_error(cc(lighttpd, app), 400, "invalid_grant")
    sql("UPDATE users SET is_active = true WHERE id = %s", sa[0])
    assert cc(lighttpd, app).status_code == 200


def test_secret_rotation_and_deleted_provider(lighttpd):
    app = oauth2_app()
    assert cc(lighttpd, app).status_code == 200
    new = secrets.token_urlsafe(32)
    sql("UPDATE oauth2_providers SET client_secret = %s WHERE provider_id = %s", new,
        app["provider_id"])
    assert_error(cc(lighttpd, app), 401, "invalid_client")
    r = cc(lighttpd, dict(app, client_secret=new))
    assert r.status_code == 200, r.text
    # A token signed with the new secret (HS256).
    oauth2_verify(r.json()["access_token"], new, "HS256")
    sql("DELETE FROM providers WHERE id = %s", app["provider_id"])
    assert_error(cc(lighttpd, dict(app, client_secret=new)), 401, "invalid_client")


def test_application_policy_denial(lighttpd):
    app = oauth2_app()
    assert cc(lighttpd, app).status_code == 200
    sa = sa_of(app)
    group = oauth2_bind_group(app["app_uuid"])
    assert_error(cc(lighttpd, app), 400, "invalid_grant")
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", group, sa[0])
    assert cc(lighttpd, app).status_code == 200
    sql("DELETE FROM group_users WHERE group_uuid = %s", group)
    assert_error(cc(lighttpd, app), 400, "invalid_grant")
    sql("DELETE FROM policy_bindings WHERE target = %s", app["app_uuid"])
    assert cc(lighttpd, app).status_code == 200


def test_provider_without_application(lighttpd):
    app = oauth2_app()
    sql("DELETE FROM applications WHERE uuid = %s", app["app_uuid"])
    assert_error(cc(lighttpd, app), 400, "invalid_grant")


# --- client_credentials with an app password, and the password grant ------------------------

def test_username_and_app_password(lighttpd):
    uid, _ = create_user()
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    key = oauth2_app_password(uid)
    app = oauth2_app()
    r = post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                        "username": username, "password": key, "scope": "openid profile"})
    assert r.status_code == 200, r.text
    claims = oauth2_verify(r.json()["access_token"], app["client_secret"])[1]
    assert claims["sub"] == oauth2_uid(uid)
    assert claims["preferred_username"] == username
    ev = sql("SELECT context FROM events WHERE action = 'login' AND (\"user\" ->> 'pk')::bigint "
             "= %s ORDER BY created DESC LIMIT 1", uid)[0][0]
    assert ev["auth_method"] == "token" and ev["auth_method_args"]["identifier"]
    # authentik's password grant is the same form.
    s = session_for(app, scope="openid")
    tok = s.fetch_token(oauth2_token_url(lighttpd), username=username, password=key)
    assert oauth2_verify(tok["access_token"], app["client_secret"])[1]["sub"] == oauth2_uid(uid)
    # Base64 "user:password" as the client secret.
    creds = base64.b64encode(("%s:%s" % (username, key)).encode()).decode()
    r = post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                        "client_secret": creds})
    assert r.status_code == 200, r.text
    # Wrong password, an API token instead of an app password, an expired app password.
    for bad in ("wrong", oauth2_app_password(uid, intent="api"),
                oauth2_app_password(uid, expires_in=-60)):
        r = post(lighttpd, {"grant_type": "password", "client_id": app["client_id"],
                            "client_secret": app["client_secret"], "username": username,
                            "password": bad})
        assert_error(r, 400, "invalid_grant")
    # A wrong client secret beside a right app password is still a wrong secret.
    r = post(lighttpd, {"grant_type": "password", "client_id": app["client_id"],
                        "client_secret": "wrong", "username": username, "password": key})
    assert_error(r, 401, "invalid_client")
    # Inactive users are refused.
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    r = post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                        "username": username, "password": key})
    assert_error(r, 400, "invalid_grant")


def test_app_password_policy_denial(lighttpd):
    uid, _ = create_user()
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    key = oauth2_app_password(uid)
    app = oauth2_app()
    oauth2_bind_group(app["app_uuid"])
    r = post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                        "username": username, "password": key})
    assert_error(r, 400, "invalid_grant")


# --- client_assertion (RFC 7523) from a trusted provider ------------------------------------

def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _stored_assertion(app, uid, token):
    """Stores token as an access token of app (as if it had issued it)."""
    sql("INSERT INTO oauth2_access_tokens (token_digest, provider_id, user_id, expires, scope, "
        "claims) VALUES (%s, %s, %s, now() + interval '1 hour', '{openid}', '{}')",
        hashlib.sha256(token.encode()).hexdigest(), app["provider_id"], uid)
    return token


def test_client_assertion_from_trusted_provider(lighttpd, admin):
    kp = oauth2_keypair(admin, "rsa")
    issuer = oauth2_app(signing_key=kp)
    relying = oauth2_app()
    sql("INSERT INTO oauth2_provider_federation (provider_id, trusted_provider) VALUES (%s, %s)",
        relying["provider_id"], issuer["provider_id"])
    assertion = cc(lighttpd, issuer).json()["access_token"]
    sa = sa_of(issuer)
    data = {"grant_type": "client_credentials", "client_id": relying["client_id"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion, "scope": "openid"}
    r = post(lighttpd, data)
    assert r.status_code == 200, r.text
    claims = oauth2_verify(r.json()["access_token"], relying["client_secret"])[1]
    assert claims["sub"] == oauth2_uid(sa[0]) and claims["aud"] == relying["client_id"]
    ev = sql("SELECT context FROM events WHERE action = 'login' AND context ->> 'auth_method' = "
             "'jwt' AND context -> 'application' ->> 'pk' = %s", relying["app_uuid"])
    assert len(ev) == 1 and ev[0][0]["auth_method_args"]["provider"]["name"] == issuer["name"]
    # A provider that is not trusted, a wrong assertion type, a revoked token.
    other = oauth2_app()
    assert_error(post(lighttpd, dict(data, client_id=other["client_id"])), 400, "invalid_grant")
    assert_error(post(lighttpd, dict(data, client_assertion_type="urn:x")), 400,
                 "invalid_grant")
    sql("UPDATE oauth2_access_tokens SET revoked = true WHERE token_digest = %s",
        hashlib.sha256(assertion.encode()).hexdigest())
    assert_error(post(lighttpd, data), 400, "invalid_grant")


def test_client_assertion_forgeries_refused(lighttpd, admin):
    kp = oauth2_keypair(admin, "rsa")
    issuer = oauth2_app(signing_key=kp)
    relying = oauth2_app()
    sql("INSERT INTO oauth2_provider_federation (provider_id, trusted_provider) VALUES (%s, %s)",
        relying["provider_id"], issuer["provider_id"])
    uid, _ = create_user()
    r = admin.get("crypto/certificatekeypairs/%s/view_private_key/" % kp)
    assert r.status_code == 200, r.text
    private = jwk.JWK.from_pem(r.json()["data"].encode())
    cert = admin.get("crypto/certificatekeypairs/%s/view_certificate/" % kp).json()["data"]
    public_pem = jwk.JWK.from_pem(cert.encode()).export_to_pem()
    now = int(time.time())
    good = {"iss": "x", "sub": "s", "aud": issuer["client_id"], "iat": now, "exp": now + 300}
    # The kid custos names the key with, from a token it issued.
    kid = json.loads(base64.urlsafe_b64decode(
        cc(lighttpd, issuer).json()["access_token"].split(".")[0] + "=="))["kid"]

    def signed(claims, key=private, alg="RS256"):
        t = jwt.JWT(header={"alg": alg, "kid": kid}, claims=claims)
        t.make_signed_token(key)
        return t.serialize()

    def attempt(token):
        return post(lighttpd, {
            "grant_type": "client_credentials", "client_id": relying["client_id"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _stored_assertion(issuer, uid, token)})

    # The control: a well-signed, stored, live assertion for the right audience passes.
    assert attempt(signed(good)).status_code == 200
    # alg=none.
    none = "%s.%s." % (_b64({"alg": "none", "typ": "JWT"}), _b64(good))
    assert_error(attempt(none), 400, "invalid_grant")
    # HS256 keyed with the public key's PEM (algorithm confusion).
    hs_key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(public_pem).rstrip(b"=").decode())
    assert_error(attempt(signed(good, hs_key, "HS256")), 400, "invalid_grant")
    # A bad signature, an expired assertion, another audience, no exp.
    other_key = jwk.JWK.generate(kty="RSA", size=2048)
    assert_error(attempt(signed(good, other_key)), 400, "invalid_grant")
    assert_error(attempt(signed(dict(good, exp=now - 10))), 400, "invalid_grant")
    assert_error(attempt(signed(dict(good, aud="someone-else"))), 400, "invalid_grant")
    assert_error(attempt(signed({k: v for k, v in good.items() if k != "exp"})), 400,
                 "invalid_grant")
    # Not stored at all: unknown.
    r = post(lighttpd, {
        "grant_type": "client_credentials", "client_id": relying["client_id"],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed(dict(good, jti="never-stored"))})
    assert_error(r, 400, "invalid_grant")


# --- authorization_code -------------------------------------------------------------------

def code_post(base, app, code, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    data.update(extra)
    return post(base, data, auth=(app["client_id"], app["client_secret"]))


def test_code_exchange_with_authlib(lighttpd, admin):
    kp = oauth2_keypair(admin, "ecdsa")
    app = oauth2_app(signing_key=kp)
    uid, _ = create_user()
    sess = sql("INSERT INTO sessions (session_key, user_id, expires) VALUES (%s, %s, "
               "now() + interval '1 hour') RETURNING uuid::text", secrets.token_hex(20),
               uid)[0][0]
    code = oauth2_code_row(app, uid, nonce="n-0S6_WzA2Mj", session_uuid=sess, amr=("pwd",))
    s = session_for(app, redirect_uri=REDIRECT)
    tok = s.fetch_token(oauth2_token_url(lighttpd), code=code)
    assert tok["scope"] == "openid profile email offline_access"
    assert tok["refresh_token"] and len(tok["refresh_token"]) == 48
    key = oauth2_public_jwk(admin, kp, app, lighttpd)
    _, claims = oauth2_verify(tok["id_token"], key, "ES256")
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["c_hash"] == oauth2_half_hash(code)
    assert claims["at_hash"] == oauth2_half_hash(tok["access_token"])
    assert claims["sid"] == hashlib.sha256(sess.encode()).hexdigest()
    assert claims["amr"] == ["pwd"]
    assert claims["sub"] == oauth2_uid(uid)
    assert claims["email"] and claims["email_verified"] is False
    _, access = oauth2_verify(tok["access_token"], key, "ES256")
    assert access["nonce"] == "n-0S6_WzA2Mj" and access["azp"] == app["client_id"]
    row = access_row(tok["access_token"])
    assert row[0] == uid and row[1] is False
    assert refresh_row(tok["refresh_token"])[0] is False


def test_code_reuse_revokes_what_it_issued(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    first = code_post(lighttpd, app, code)
    assert first.status_code == 200, first.text
    assert_error(code_post(lighttpd, app, code), 400, "invalid_grant")
    assert access_row(first.json()["access_token"])[1] is True
    assert refresh_row(first.json()["refresh_token"])[0] is True
    ev = sql("SELECT context FROM events WHERE action = 'suspicious_request' AND "
             "(\"user\" ->> 'pk')::bigint = %s", uid)
    assert ev and "reused" in ev[0][0]["message"]


def test_code_reuse_revokes_refreshed_tokens_too(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    first = code_post(lighttpd, app, code).json()
    refreshed = post(lighttpd, {"grant_type": "refresh_token",
                                "refresh_token": first["refresh_token"]},
                     auth=(app["client_id"], app["client_secret"])).json()
    assert_error(code_post(lighttpd, app, code), 400, "invalid_grant")
    assert access_row(refreshed["access_token"])[1] is True
    assert refresh_row(refreshed["refresh_token"])[0] is True


def test_code_for_another_client(lighttpd):
    app, other = oauth2_app(), oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    assert_error(code_post(lighttpd, other, code), 400, "invalid_grant")
    # Refused, not spent: its own client still exchanges it.
    assert code_post(lighttpd, app, code).status_code == 200


def test_expired_code_and_redirect_uri(lighttpd):
    app = oauth2_app(redirect_uris=(REDIRECT, "https://rp.example/other"))
    uid, _ = create_user()
    assert_error(code_post(lighttpd, app, oauth2_code_row(app, uid, expires_in=-1)), 400,
                 "invalid_grant")
    code = oauth2_code_row(app, uid)
    for uri in ("https://rp.example/other", REDIRECT + "/", REDIRECT.upper(), None):
        extra = {"redirect_uri": uri} if uri else {"redirect_uri": ""}
        assert_error(code_post(lighttpd, app, code, **extra), 400, "invalid_grant")
    assert code_post(lighttpd, app, code).status_code == 200
    assert_error(code_post(lighttpd, app, "no-such-code"), 400, "invalid_grant")
    assert_error(code_post(lighttpd, app, ""), 400, "invalid_grant")


def _s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()


def test_pkce_both_directions(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    verifier = secrets.token_urlsafe(48)
    # S256: right verifier passes; wrong or missing fails (and does not spend the code).
    code = oauth2_code_row(app, uid, challenge=_s256(verifier), method="S256")
    assert_error(code_post(lighttpd, app, code), 400, "invalid_grant")
    assert_error(code_post(lighttpd, app, code, code_verifier=secrets.token_urlsafe(48)), 400,
                 "invalid_grant")
    # The challenge itself is not a verifier.
    assert_error(code_post(lighttpd, app, code, code_verifier=_s256(verifier)), 400,
                 "invalid_grant")
    assert code_post(lighttpd, app, code, code_verifier=verifier).status_code == 200
    # plain.
    code = oauth2_code_row(app, uid, challenge=verifier, method="plain")
    assert_error(code_post(lighttpd, app, code, code_verifier=verifier + "x"), 400,
                 "invalid_grant")
    assert code_post(lighttpd, app, code, code_verifier=verifier).status_code == 200
    # A verifier without a bound challenge is a downgrade.
    code = oauth2_code_row(app, uid)
    assert_error(code_post(lighttpd, app, code, code_verifier=verifier), 400, "invalid_grant")
    # RFC 7636 syntax: 43 to 128 characters of the unreserved set.
    short = "a" * 42
    code = oauth2_code_row(app, uid, challenge=short, method="plain")
    assert_error(code_post(lighttpd, app, code, code_verifier=short), 400, "invalid_grant")
    bad = "a" * 42 + "!"
    code = oauth2_code_row(app, uid, challenge=bad, method="plain")
    assert_error(code_post(lighttpd, app, code, code_verifier=bad), 400, "invalid_grant")


def test_pkce_required_by_the_provider(lighttpd):
    app = oauth2_app(pkce_required=True)
    uid, _ = create_user()
    assert_error(code_post(lighttpd, app, oauth2_code_row(app, uid)), 400, "invalid_grant")
    verifier = secrets.token_urlsafe(48)
    code = oauth2_code_row(app, uid, challenge=_s256(verifier), method="S256")
    assert code_post(lighttpd, app, code, code_verifier=verifier).status_code == 200


def test_public_client_code_with_pkce_through_authlib(lighttpd):
    app = oauth2_app(client_type="public")
    uid, _ = create_user()
    verifier = secrets.token_urlsafe(64)
    code = oauth2_code_row(app, uid, challenge=_s256(verifier), method="S256")
    s = OAuth2Session(app["client_id"], redirect_uri=REDIRECT,
                      token_endpoint_auth_method="none")
    tok = s.fetch_token(oauth2_token_url(lighttpd), code=code, code_verifier=verifier)
    assert oauth2_verify(tok["access_token"], app["client_secret"])[1]["sub"] == oauth2_uid(uid)


def test_code_race_has_one_winner(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    results = []
    barrier = threading.Barrier(10)

    def run():
        barrier.wait()
        results.append(code_post(lighttpd, app, code))

    threads = [threading.Thread(target=run) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] + [400] * 9
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)


def test_inactive_user_refused_at_code_exchange(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    # Deactivating deletes a user's codes (sql/0061); a code that exists anyway is refused.
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    code = oauth2_code_row(app, uid)
    assert_error(code_post(lighttpd, app, code), 400, "invalid_grant")
    sql("UPDATE users SET is_active = true WHERE id = %s", uid)
    assert code_post(lighttpd, app, code).status_code == 200


def test_policy_denial_at_code_exchange(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    group = oauth2_bind_group(app["app_uuid"])
    assert_error(code_post(lighttpd, app, code), 400, "invalid_grant")
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", group, uid)
    assert code_post(lighttpd, app, code).status_code == 200


# --- refresh_token ------------------------------------------------------------------------

def refresh_post(base, app, token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": token}
    data.update(extra)
    return post(base, data, auth=(app["client_id"], app["client_secret"]))


def test_refresh_rotation_with_authlib(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    first = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    s = session_for(app, token=first)
    new = s.refresh_token(oauth2_token_url(lighttpd))
    assert new["refresh_token"] != first["refresh_token"]
    assert new["access_token"] != first["access_token"]
    old = refresh_row(first["refresh_token"])
    cur = refresh_row(new["refresh_token"])
    assert old[0] is True and cur[0] is False and old[1] == cur[1]
    claims = oauth2_verify(new["access_token"], app["client_secret"])[1]
    assert claims["sub"] == oauth2_uid(uid)
    assert oauth2_verify(new["id_token"], app["client_secret"])[1]["at_hash"] == \
        oauth2_half_hash(new["access_token"])
    # The first access token is still good until it expires (rotation revokes refresh only).
    assert access_row(first["access_token"])[1] is False


def test_refresh_reuse_revokes_the_chain(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    t0 = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    t1 = refresh_post(lighttpd, app, t0["refresh_token"]).json()
    t2 = refresh_post(lighttpd, app, t1["refresh_token"]).json()
    assert refresh_row(t2["refresh_token"])[0] is False
    # The rotated t0 again: refused, and everything refreshed from it revoked.
    assert_error(refresh_post(lighttpd, app, t0["refresh_token"]), 400, "invalid_grant")
    assert refresh_row(t2["refresh_token"])[0] is True
    assert access_row(t1["access_token"])[1] is True
    assert access_row(t2["access_token"])[1] is True
    assert_error(refresh_post(lighttpd, app, t2["refresh_token"]), 400, "invalid_grant")
    ev = sql("SELECT context FROM events WHERE action = 'suspicious_request' AND "
             "(\"user\" ->> 'pk')::bigint = %s", uid)
    assert any("Revoked refresh token" in e[0]["message"] for e in ev)


def test_refresh_scopes_narrow_never_widen(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code = oauth2_code_row(app, uid, scopes=("openid", "profile", "offline_access"))
    t0 = code_post(lighttpd, app, code).json()
    assert_error(refresh_post(lighttpd, app, t0["refresh_token"],
                              scope="openid profile email offline_access"), 400,
                 "invalid_scope")
    assert_error(refresh_post(lighttpd, app, t0["refresh_token"], scope="openid profile"), 400,
                 "invalid_scope")
    # Refused requests spent nothing.
    r = refresh_post(lighttpd, app, t0["refresh_token"], scope="openid offline_access")
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "openid offline_access"
    claims = oauth2_verify(r.json()["access_token"], app["client_secret"])[1]
    assert "preferred_username" not in claims
    # The new refresh token keeps the scope granted (RFC 6749 §6).
    assert json.loads(refresh_row(r.json()["refresh_token"])[2]) == \
        ["openid", "profile", "offline_access"]
    # No scope: the granted one.
    r = refresh_post(lighttpd, app, r.json()["refresh_token"])
    assert r.json()["scope"] == "openid profile offline_access"


def test_refresh_threshold_keeps_the_token(lighttpd):
    app = oauth2_app(refresh_token_threshold="days=1", refresh_token_validity="days=30")
    uid, _ = create_user()
    t0 = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    r = refresh_post(lighttpd, app, t0["refresh_token"])
    assert r.status_code == 200 and "refresh_token" not in r.json()
    assert refresh_row(t0["refresh_token"])[0] is False
    # Within the threshold of its end it rotates.
    sql("UPDATE oauth2_refresh_tokens SET expires = now() + interval '1 hour' "
        "WHERE token_digest = %s", hashlib.sha256(t0["refresh_token"].encode()).hexdigest())
    r = refresh_post(lighttpd, app, t0["refresh_token"])
    assert r.status_code == 200 and r.json()["refresh_token"]
    assert refresh_row(t0["refresh_token"])[0] is True


def test_refresh_refusals(lighttpd):
    app, other = oauth2_app(), oauth2_app()
    uid, _ = create_user()
    t0 = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    # Another client's refresh token, an unknown one, an expired one.
    assert_error(refresh_post(lighttpd, other, t0["refresh_token"]), 400, "invalid_grant")
    assert_error(refresh_post(lighttpd, app, "x" * 48), 400, "invalid_grant")
    t1 = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    sql("UPDATE oauth2_refresh_tokens SET expires = now() - interval '1 second' "
        "WHERE token_digest = %s", hashlib.sha256(t1["refresh_token"].encode()).hexdigest())
    assert_error(refresh_post(lighttpd, app, t1["refresh_token"]), 400, "invalid_grant")
    # Policy denial.
    group = oauth2_bind_group(app["app_uuid"])
    assert_error(refresh_post(lighttpd, app, t0["refresh_token"]), 400, "invalid_grant")
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", group, uid)
    assert refresh_post(lighttpd, app, t0["refresh_token"]).status_code == 200


def test_inactive_user_refused_at_refresh(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    # Deactivating deletes a user's grants (sql/0061); a token that exists anyway is refused.
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    token = secrets.token_urlsafe(36)
    sql("INSERT INTO oauth2_refresh_tokens (token_digest, provider_id, user_id, expires, scope) "
        "VALUES (%s, %s, %s, now() + interval '1 day', '{openid,offline_access}')",
        hashlib.sha256(token.encode()).hexdigest(), app["provider_id"], uid)
    assert_error(refresh_post(lighttpd, app, token), 400, "invalid_grant")
    sql("UPDATE users SET is_active = true WHERE id = %s", uid)
    r = refresh_post(lighttpd, app, token)
    assert r.status_code == 200, r.text
    # A token whose chain_id was never set rotates into a chain of its own id.
    old_id = sql("SELECT id FROM oauth2_refresh_tokens WHERE token_digest = %s",
                 hashlib.sha256(token.encode()).hexdigest())[0][0]
    assert refresh_row(r.json()["refresh_token"])[1] == old_id


def test_refresh_needs_offline_access_to_be_issued(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    r = code_post(lighttpd, app, oauth2_code_row(app, uid, scopes=("openid", "profile")))
    assert r.status_code == 200 and "refresh_token" not in r.json()


def test_concurrent_refresh_one_wins(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    t0 = code_post(lighttpd, app, oauth2_code_row(app, uid)).json()
    results = []
    barrier = threading.Barrier(6)

    def run():
        barrier.wait()
        results.append(refresh_post(lighttpd, app, t0["refresh_token"]))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.status_code == 200 for r in results) >= 1
    assert all(r.status_code in (200, 400) for r in results)
    # Every token made from t0 went into one chain, and the reuse revoked it.
    if sum(r.status_code == 200 for r in results) > 1 or any(r.status_code == 400
                                                            for r in results):
        chain = refresh_row(t0["refresh_token"])[1]
        live = sql("SELECT count(*) FROM oauth2_refresh_tokens WHERE chain_id = %s AND NOT "
                   "revoked", chain)[0][0]
        assert live == 0


# --- device_code --------------------------------------------------------------------------

def device_row(app, scopes=("openid", "offline_access"), expires_in=600):
    code = secrets.token_urlsafe(36)
    rid = sql("INSERT INTO oauth2_device_tokens (device_code_digest, user_code, provider_id, "
              "scope, expires) VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s)) "
              "RETURNING id", hashlib.sha256(code.encode()).hexdigest(),
              secrets.token_hex(4).upper(), app["provider_id"], list(scopes), expires_in)[0][0]
    return code, rid


def device_post(base, app, code):
    return post(base, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                       "device_code": code}, auth=(app["client_id"], app["client_secret"]))


def test_device_code_polling(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code, rid = device_row(app)
    assert_error(device_post(lighttpd, app, code), 400, "authorization_pending")
    assert_error(device_post(lighttpd, app, code), 400, "slow_down")
    sql("UPDATE oauth2_device_tokens SET last_poll = now() - interval '6 seconds', "
        "user_id = %s WHERE id = %s", uid, rid)
    r = device_post(lighttpd, app, code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"] and body["scope"] == "openid offline_access"
    assert oauth2_verify(body["id_token"], app["client_secret"])[1]["sub"] == oauth2_uid(uid)
    # Single use.
    sql("UPDATE oauth2_device_tokens SET last_poll = now() - interval '6 seconds' "
        "WHERE id = %s", rid)
    assert_error(device_post(lighttpd, app, code), 400, "invalid_grant")
    assert_error(device_post(lighttpd, app, "unknown"), 400, "invalid_grant")


def test_device_code_expired_denied_inactive(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code, rid = device_row(app, expires_in=-5)
    assert_error(device_post(lighttpd, app, code), 400, "expired_token")
    code, rid = device_row(app)
    sql("UPDATE oauth2_device_tokens SET used = now() WHERE id = %s", rid)
    assert_error(device_post(lighttpd, app, code), 400, "access_denied")
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    code, rid = device_row(app)
    sql("UPDATE oauth2_device_tokens SET user_id = %s WHERE id = %s", uid, rid)
    assert_error(device_post(lighttpd, app, code), 400, "invalid_grant")
    sql("UPDATE users SET is_active = true WHERE id = %s", uid)
    sql("UPDATE oauth2_device_tokens SET last_poll = NULL WHERE id = %s", rid)
    assert device_post(lighttpd, app, code).status_code == 200
    # Another client's device code is unknown to this one.
    other = oauth2_app()
    code, rid = device_row(other)
    assert_error(device_post(lighttpd, app, code), 400, "invalid_grant")


def test_device_code_policy_denial(lighttpd):
    app = oauth2_app()
    uid, _ = create_user()
    code, rid = device_row(app)
    sql("UPDATE oauth2_device_tokens SET user_id = %s WHERE id = %s", uid, rid)
    oauth2_bind_group(app["app_uuid"])
    assert_error(device_post(lighttpd, app, code), 400, "access_denied")
