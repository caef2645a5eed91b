"""Token introspection (RFC 7662) and revocation (RFC 7009): a client learns about and revokes
only its own provider's tokens; authlib's client speaks to both."""
import os
import secrets

import pytest
import requests

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.integrations.requests_client import OAuth2Session  # noqa: E402

from conftest import (create_user, oauth2_access_row, oauth2_app,  # noqa: E402
                      oauth2_refresh_row, sql)

INTROSPECT = "/application/o/introspect/"
REVOKE = "/application/o/revoke/"
USERINFO = "/application/o/userinfo/"


def _introspect(base, app, token, **kw):
    return requests.post(base + INTROSPECT, auth=(app["client_id"], app["client_secret"]),
                         data={"token": token}, **kw)


def _active(base, app, token):
    r = _introspect(base, app, token)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def user():
    uid, _ = create_user()
    return uid


def test_access_token(base, user):
    app = oauth2_app()
    token = oauth2_access_row(app, user, scopes=("openid", "email"),
                              claims={"sub": "s-1", "nonce": "n"})
    r = _introspect(base, app, token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    info = r.json()
    assert info["active"] is True
    assert info["client_id"] == app["client_id"]
    assert info["scope"] == "openid email"
    assert info["sub"] == "s-1" and info["aud"] == app["client_id"]
    assert isinstance(info["exp"], int) and isinstance(info["iat"], int)


def test_through_authlib(lighttpd, user):
    app = oauth2_app()
    token = oauth2_access_row(app, user)
    client = OAuth2Session(app["client_id"], app["client_secret"])
    for method in ("client_secret_basic", "client_secret_post"):
        client = OAuth2Session(app["client_id"], app["client_secret"],
                               revocation_endpoint_auth_method=method)
        r = client.introspect_token(lighttpd + INTROSPECT, token=token)
        assert r.status_code == 200 and r.json()["active"] is True, (method, r.text)
    r = client.revoke_token(lighttpd + REVOKE, token=token, token_type_hint="access_token")
    assert r.status_code == 200, r.text
    assert client.introspect_token(lighttpd + INTROSPECT, token=token).json() == {"active": False}


def test_refresh_token(lighttpd, user):
    app = oauth2_app()
    token, _ = oauth2_refresh_row(app, user, scopes=("openid", "offline_access"),
                                  id_claims={"sub": "s-2"})
    info = _active(lighttpd, app, token)
    assert info["active"] is True and info["sub"] == "s-2"
    assert info["scope"] == "openid offline_access"
    exp = sql("SELECT extract(epoch FROM expires)::bigint FROM oauth2_refresh_tokens "
              "WHERE token_digest = encode(sha256(%s::bytea), 'hex')", token)[0][0]
    assert info["exp"] == exp  # the refresh token's own expiry, not its ID token's


def test_another_clients_token_is_inactive(lighttpd, user):
    mine = oauth2_app()
    theirs = oauth2_app()
    access = oauth2_access_row(theirs, user)
    refresh, _ = oauth2_refresh_row(theirs, user)
    assert _active(lighttpd, mine, access) == {"active": False}
    assert _active(lighttpd, mine, refresh) == {"active": False}
    assert _active(lighttpd, theirs, access)["active"] is True


def test_inactive_tokens(lighttpd, user):
    app = oauth2_app()
    inactive, _ = create_user()
    sql("UPDATE users SET is_active = false WHERE id = %s", inactive)
    for token in (oauth2_access_row(app, user, expires_in=-1),
                  oauth2_access_row(app, user, revoked=True),
                  oauth2_access_row(app, inactive),
                  oauth2_refresh_row(app, user, expires_in=-1)[0],
                  oauth2_refresh_row(app, user, revoked=True)[0],
                  oauth2_refresh_row(app, inactive)[0],
                  "no-such-token", "a.b.c"):
        assert _active(lighttpd, app, token) == {"active": False}, token


def test_client_authentication(lighttpd, user):
    app = oauth2_app()
    token = oauth2_access_row(app, user)
    r = requests.post(lighttpd + INTROSPECT, data={"token": token})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(lighttpd + INTROSPECT, auth=(app["client_id"], "wrong"),
                      data={"token": token})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in r.headers
    r = requests.post(lighttpd + INTROSPECT, data={
        "token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert r.status_code == 200 and r.json()["active"] is True
    # A public client learns nothing, as authentik answers.
    pub = oauth2_app(client_type="public")
    ptoken = oauth2_access_row(pub, user)
    r = requests.post(lighttpd + INTROSPECT, data={"token": ptoken, "client_id": pub["client_id"]})
    assert r.status_code in (200, 401)
    assert r.json().get("active") in (False, None)
    assert "sub" not in r.json()


def test_malformed_requests(lighttpd, user):
    app = oauth2_app()
    auth = (app["client_id"], app["client_secret"])
    for url in (INTROSPECT, REVOKE):
        r = requests.post(lighttpd + url, auth=auth, data={})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", url
        r = requests.post(lighttpd + url, auth=auth, data=[("token", "a"), ("token", "b")])
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", url
        r = requests.get(lighttpd + url)
        assert r.status_code in (404, 405), url


def test_revoke_access_token(lighttpd, user):
    app = oauth2_app()
    token = oauth2_access_row(app, user)
    other = oauth2_access_row(app, user)
    assert requests.get(lighttpd + USERINFO,
                        headers={"Authorization": "Bearer " + token}).status_code == 200
    r = requests.post(lighttpd + REVOKE, auth=(app["client_id"], app["client_secret"]),
                      data={"token": token})
    assert r.status_code == 200 and r.json() == {}
    assert _active(lighttpd, app, token) == {"active": False}
    assert requests.get(lighttpd + USERINFO,
                        headers={"Authorization": "Bearer " + token}).status_code == 401
    # Only that token.
    assert _active(lighttpd, app, other)["active"] is True


def test_revoke_refresh_token_takes_its_grant(lighttpd, user):
    app = oauth2_app()
    old, chain = oauth2_refresh_row(app, user, revoked=True)
    current, _ = oauth2_refresh_row(app, user, chain_id=chain)
    access = oauth2_access_row(app, user)
    sql("UPDATE oauth2_access_tokens SET refresh_chain_id = %s "
        "WHERE token_digest = encode(sha256(%s::bytea), 'hex')", chain, access)
    unrelated = oauth2_access_row(app, user)
    r = requests.post(lighttpd + REVOKE, auth=(app["client_id"], app["client_secret"]),
                      data={"token": current, "token_type_hint": "refresh_token"})
    assert r.status_code == 200
    assert _active(lighttpd, app, current) == {"active": False}
    assert _active(lighttpd, app, access) == {"active": False}
    assert _active(lighttpd, app, unrelated)["active"] is True
    assert sql("SELECT bool_and(revoked) FROM oauth2_refresh_tokens WHERE chain_id = %s",
               chain)[0][0] is True


def test_revoke_another_clients_token_does_nothing(lighttpd, user):
    mine = oauth2_app()
    theirs = oauth2_app()
    access = oauth2_access_row(theirs, user)
    refresh, _ = oauth2_refresh_row(theirs, user)
    for token in (access, refresh, secrets.token_urlsafe(48)):
        r = requests.post(lighttpd + REVOKE, auth=(mine["client_id"], mine["client_secret"]),
                          data={"token": token})
        assert r.status_code == 200 and r.json() == {}
    assert _active(lighttpd, theirs, access)["active"] is True
    assert _active(lighttpd, theirs, refresh)["active"] is True


def test_revoke_client_authentication(lighttpd, user):
    app = oauth2_app()
    token = oauth2_access_row(app, user)
    r = requests.post(lighttpd + REVOKE, auth=(app["client_id"], "wrong"), data={"token": token})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(lighttpd + REVOKE, data={"token": token})
    assert r.status_code == 401
    assert _active(lighttpd, app, token)["active"] is True
    # A public client revokes its own tokens with its client_id alone (RFC 7009 §2.1).
    pub = oauth2_app(client_type="public")
    ptoken = oauth2_access_row(pub, user)
    r = requests.post(lighttpd + REVOKE, data={"token": ptoken, "client_id": pub["client_id"]})
    assert r.status_code == 200
    assert sql("SELECT revoked FROM oauth2_access_tokens "
               "WHERE token_digest = encode(sha256(%s::bytea), 'hex')", ptoken)[0][0] is True
