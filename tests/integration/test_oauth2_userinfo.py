"""The UserInfo endpoint: the claims of the token's provider's mappings for the token's scopes,
for the token's user; every way a token can be bad is a 401 with a Bearer challenge."""
import requests

from conftest import create_user, oauth2_access_row, oauth2_app, sql

USERINFO = "/application/o/userinfo/"


def _user(**fields):
    uid, _ = create_user(**fields)
    return uid, sql("SELECT username, email, name FROM users WHERE id = %s", uid)[0]


def _get(base, token, **kw):
    return requests.get(base + USERINFO, headers={"Authorization": "Bearer " + token}, **kw)


def _challenge(r):
    h = r.headers.get("WWW-Authenticate", "")
    assert h.startswith("Bearer "), h
    return h


def test_claims_of_the_tokens_scopes(base):
    app = oauth2_app(scopes=("openid", "email", "profile"))
    uid, (username, email, name) = _user(name="Ada Lovelace")
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid", "g-" + username)[0][0]
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", group, uid)
    token = oauth2_access_row(app, uid, scopes=("openid", "email", "profile"),
                              claims={"sub": "the-sub", "nonce": "n-1"})
    r = _get(base, token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    c = r.json()
    assert c["sub"] == "the-sub"
    assert c["email"] == email and c["email_verified"] is False
    assert c["name"] == "Ada Lovelace" and c["given_name"] == "Ada Lovelace"
    assert c["preferred_username"] == username and c["nickname"] == username
    assert c["groups"] == ["g-" + username]
    assert c["nonce"] == "n-1"
    # POST works the same, with the header or with the form's access_token.
    r = requests.post(base + USERINFO, headers={"Authorization": "Bearer " + token})
    assert r.status_code == 200 and r.json() == c
    r = requests.post(base + USERINFO, data={"access_token": token})
    assert r.status_code == 200 and r.json() == c


def test_only_the_scopes_granted(lighttpd):
    app = oauth2_app(scopes=("openid", "email", "profile"))
    uid, (username, email, _) = _user()
    c = _get(lighttpd, oauth2_access_row(app, uid, scopes=("openid", "email"))).json()
    assert c["email"] == email
    assert "preferred_username" not in c and "name" not in c


def test_the_tokens_provider_decides(lighttpd):
    """userinfo serves every provider: the token's provider's mappings make the claims, so a
    scope the token holds but its provider has no mapping for gives nothing."""
    narrow = oauth2_app(scopes=("openid", "email"))
    uid, (username, email, _) = _user()
    c = _get(lighttpd, oauth2_access_row(narrow, uid, scopes=("openid", "email", "profile"))).json()
    assert c["email"] == email and "preferred_username" not in c


def test_missing_and_malformed(lighttpd):
    r = requests.get(lighttpd + USERINFO)
    assert r.status_code == 401
    assert 'error="invalid_token"' in _challenge(r)
    r = requests.get(lighttpd + USERINFO, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 400 and 'error="invalid_request"' in _challenge(r)
    r = requests.get(lighttpd + USERINFO, headers={"Authorization": "Bearer a b"})
    assert r.status_code == 400
    # Two ways at once (RFC 6750 §2) is refused.
    app = oauth2_app()
    uid, _ = _user()
    token = oauth2_access_row(app, uid)
    r = requests.post(lighttpd + USERINFO, headers={"Authorization": "Bearer " + token},
                      data={"access_token": token})
    assert r.status_code == 400
    # The query string is not a way (tokens there end up in access logs).
    r = requests.get(lighttpd + USERINFO, params={"access_token": token})
    assert r.status_code == 401


def test_bad_tokens_are_401(lighttpd):
    app = oauth2_app()
    uid, _ = _user()
    inactive_uid, _ = _user()
    sql("UPDATE users SET is_active = false WHERE id = %s", inactive_uid)
    other = oauth2_app()
    cases = {
        "unknown": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        "expired": oauth2_access_row(app, uid, expires_in=-5),
        "revoked": oauth2_access_row(app, uid, revoked=True),
        "inactive user": oauth2_access_row(app, inactive_uid),
        # A row of app's provider whose JWT names another client as its audience.
        "other audience": oauth2_access_row(app, uid, claims={"aud": other["client_id"]}),
    }
    for what, token in cases.items():
        r = _get(lighttpd, token)
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert 'error="invalid_token"' in _challenge(r), what
    # Longer than any JWT custos accepts: refused unread.
    r = requests.post(lighttpd + USERINFO, data={"access_token": "a." * 8500 + "b"})
    assert r.status_code == 401 and 'error="invalid_token"' in _challenge(r)
    # The same user's good token still works.
    assert _get(lighttpd, oauth2_access_row(app, uid)).status_code == 200


def test_audience_list_must_hold_the_client(lighttpd):
    app = oauth2_app()
    other = oauth2_app()
    uid, _ = _user()
    ok = oauth2_access_row(app, uid, claims={"aud": [other["client_id"], app["client_id"]]})
    assert _get(lighttpd, ok).status_code == 200
    bad = oauth2_access_row(app, uid, claims={"aud": [other["client_id"]]})
    assert _get(lighttpd, bad).status_code == 401


def test_without_openid_scope(lighttpd):
    app = oauth2_app()
    uid, _ = _user()
    r = _get(lighttpd, oauth2_access_row(app, uid, scopes=("email",)))
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in _challenge(r)


def test_revoked_after_issue(lighttpd):
    app = oauth2_app()
    uid, _ = _user()
    token = oauth2_access_row(app, uid)
    assert _get(lighttpd, token).status_code == 200
    sql("UPDATE oauth2_access_tokens SET revoked = true WHERE provider_id = %s AND user_id = %s",
        app["provider_id"], uid)
    assert _get(lighttpd, token).status_code == 401


def test_cors_for_the_tokens_provider(lighttpd):
    app = oauth2_app(redirect_uris=("https://spa.example.test/cb",))
    uid, _ = _user()
    token = oauth2_access_row(app, uid)
    r = requests.get(lighttpd + USERINFO, headers={"Authorization": "Bearer " + token,
                                                   "Origin": "https://spa.example.test"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "https://spa.example.test"
    r = requests.get(lighttpd + USERINFO, headers={"Authorization": "Bearer " + token,
                                                   "Origin": "https://evil.example.test"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_client_credentials_token(lighttpd):
    """A token from the token endpoint itself (client_credentials: the provider's service
    account) works at userinfo."""
    app = oauth2_app(scopes=("openid", "profile"))
    r = requests.post(lighttpd + "/application/o/token/", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "openid profile"})
    assert r.status_code == 200, r.text
    c = _get(lighttpd, r.json()["access_token"]).json()
    assert c["preferred_username"] == "ak-%s-client_credentials" % app["name"]
