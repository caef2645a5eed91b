"""Attacks on the OAuth2 / OpenID Connect endpoints that the other test files do not try: tokens
of one kind presented as another, client authentication edge cases, header injection through
state, cross-origin reads of the token endpoint, and device user code entropy."""
import base64
import hashlib
import secrets
import urllib.parse as urlparse

import requests

from conftest import create_user, oauth2_app, oauth2_code_row, oauth2_token_url, sql

REDIRECT = "https://rp.example/cb"


def _post(base, data, auth=None, headers=None):
    return requests.post(oauth2_token_url(base), data=data, auth=auth, headers=headers or {},
                         allow_redirects=False)


def _error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text


def _exchange(base, app, uid):
    code = oauth2_code_row(app, uid)
    r = _post(base, {"grant_type": "authorization_code", "code": code,
                     "redirect_uri": REDIRECT}, auth=(app["client_id"], app["client_secret"]))
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["access_token"] and tok["id_token"] and tok["refresh_token"]
    return tok


def test_tokens_are_not_interchangeable(lighttpd):
    """An ID token or a refresh token is no access token, an access token no refresh token,
    and none of them is a code."""
    app = oauth2_app()
    uid, _ = create_user()
    tok = _exchange(lighttpd, app, uid)
    userinfo = lighttpd + "/application/o/userinfo/"
    for what in ("id_token", "refresh_token"):
        r = requests.get(userinfo, headers={"Authorization": "Bearer " + tok[what]})
        assert r.status_code == 401, (what, r.status_code, r.text)
    assert requests.get(userinfo, headers={
        "Authorization": "Bearer " + tok["access_token"]}).status_code == 200
    creds = (app["client_id"], app["client_secret"])
    r = requests.post(lighttpd + "/application/o/introspect/", data={"token": tok["id_token"]},
                      auth=creds)
    assert r.status_code == 200 and r.json() == {"active": False}, r.text
    for what in ("access_token", "id_token"):
        _error(_post(lighttpd, {"grant_type": "refresh_token", "refresh_token": tok[what]},
                     auth=creds), 400, "invalid_grant")
    for what in ("access_token", "refresh_token"):
        _error(_post(lighttpd, {"grant_type": "authorization_code", "code": tok[what],
                                "redirect_uri": REDIRECT}, auth=creds), 400, "invalid_grant")
    # The refresh token was not spent by any of that.
    r = _post(lighttpd, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]},
              auth=creds)
    assert r.status_code == 200, r.text


def test_basic_header_edge_cases(lighttpd):
    app = oauth2_app()
    data = {"grant_type": "client_credentials", "scope": "openid"}
    for raw in (app["client_id"].encode(),                          # no colon
                (app["client_id"] + ":" + app["client_secret"] + "%00").encode(),
                (app["client_id"] + ":").encode(),                  # empty secret
                (":" + app["client_secret"]).encode()):             # empty client_id
        h = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        r = _post(lighttpd, data, headers=h)
        assert r.status_code in (400, 401), (raw, r.status_code, r.text)
        assert "access_token" not in r.text
    # Basic for one client, client_id of another in the form.
    other = oauth2_app()
    r = _post(lighttpd, dict(data, client_id=other["client_id"]),
              auth=(app["client_id"], app["client_secret"]))
    _error(r, 400, "invalid_request")


def test_confidential_client_with_empty_secret(lighttpd):
    """A confidential client whose stored secret is empty is never authenticated by an empty
    one: not at client_credentials, not at the code exchange."""
    app = oauth2_app(client_secret="")
    uid, _ = create_user()
    code = oauth2_code_row(app, uid)
    for secret in ("", None):
        data = {"grant_type": "client_credentials", "client_id": app["client_id"]}
        if secret is not None:
            data["client_secret"] = secret
        _error(_post(lighttpd, data), 401, "invalid_client")
        data = {"grant_type": "authorization_code", "client_id": app["client_id"],
                "code": code, "redirect_uri": REDIRECT}
        if secret is not None:
            data["client_secret"] = secret
        _error(_post(lighttpd, data), 401, "invalid_client")
    _error(_post(lighttpd, {"grant_type": "client_credentials"},
                 auth=(app["client_id"], "")), 401, "invalid_client")


def test_crlf_in_state_stays_in_the_query(lighttpd):
    app = oauth2_app()
    state = "s\r\nSet-Cookie: pwned=1\r\nX-Injected: 1"
    # In a form body: the router refuses control characters in the URL itself.
    r = requests.post(lighttpd + "/application/o/authorize/", allow_redirects=False, data={
        "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "bogus",
        "state": state})
    assert r.status_code == 302, r.text
    assert "X-Injected" not in r.headers and "pwned" not in r.headers.get("Set-Cookie", "")
    loc = r.headers["Location"]
    assert "\r" not in loc and "\n" not in loc
    assert urlparse.parse_qs(urlparse.urlsplit(loc).query)["state"] == [state]


def test_token_endpoint_sends_no_cors_grant(lighttpd):
    """A page of any origin, even a registered one, cannot read a token answer with the
    browser's credentials."""
    app = oauth2_app()
    r = _post(lighttpd, {"grant_type": "client_credentials", "client_id": app["client_id"],
                         "client_secret": app["client_secret"]},
              headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") in (None, "")
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_device_user_codes_are_unpredictable(lighttpd):
    app = oauth2_app()
    codes = []
    for i in range(5):
        r = requests.post(lighttpd + "/application/o/device/",
                          data={"client_id": app["client_id"], "scope": "openid"},
                          headers={"X-Forwarded-For": "10.77.%d.%d" % (i, secrets.randbelow(250))})
        assert r.status_code == 200, r.text
        codes.append(r.json()["user_code"])
        assert len(r.json()["device_code"]) >= 40
    assert all(len(c) == 9 and c.isdigit() for c in codes), codes
    assert len(set(codes)) == len(codes)
    # The device code is stored only as its digest.
    assert not sql("SELECT 1 FROM oauth2_device_tokens WHERE device_code_digest = %s",
                   r.json()["device_code"])
    assert sql("SELECT 1 FROM oauth2_device_tokens WHERE device_code_digest = %s",
               hashlib.sha256(r.json()["device_code"].encode()).hexdigest())


def _approved_device_code(app, uid):
    code = secrets.token_urlsafe(36)
    sql("INSERT INTO oauth2_device_tokens (device_code_digest, user_code, provider_id, scope, "
        "expires, user_id) VALUES (%s, %s, %s, %s, now() + interval '10 minutes', %s)",
        hashlib.sha256(code.encode()).hexdigest(), "%09d" % secrets.randbelow(10 ** 9),
        app["provider_id"], ["openid", "offline_access"], uid)
    return code


def test_device_code_needs_a_confidential_clients_secret(lighttpd):
    """RFC 8628 §3.4: a confidential client authenticates when it polls. Anyone can start a
    device authorization with a confidential client's client_id; without this, a user phished
    into entering the code would hand that client's tokens to whoever started it."""
    app = oauth2_app()
    uid, _ = create_user()
    code = _approved_device_code(app, uid)
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    for secret in (None, "", "wrong"):
        data = {"grant_type": grant, "client_id": app["client_id"], "device_code": code}
        if secret is not None:
            data["client_secret"] = secret
        r = _post(lighttpd, data)
        _error(r, 401, "invalid_client")
        assert "access_token" not in r.text
    # Not spent by the refusals: the client with its secret gets the tokens.
    r = _post(lighttpd, {"grant_type": grant, "device_code": code},
              auth=(app["client_id"], app["client_secret"]))
    assert r.status_code == 200, r.text
    assert r.json()["access_token"] and r.json()["refresh_token"]
    # A public client has no secret to show: its client_id is enough.
    pub = oauth2_app(client_type="public")
    code = _approved_device_code(pub, uid)
    r = _post(lighttpd, {"grant_type": grant, "client_id": pub["client_id"], "device_code": code})
    assert r.status_code == 200, r.text


def test_user_code_guessing_is_throttled(lighttpd, device_code_flow):
    """RFC 8628 §5.1: a user code has about 30 bits, so guesses at it are limited per user; past
    the limit even a right code is refused, at the entry stage and through the link."""
    from test_oauth2_device import Browser, _authorize, _row
    app = oauth2_app()
    b = Browser(lighttpd)
    wrong = 0
    for _ in range(40):
        ch = b.enter("%09d" % secrets.randbelow(10 ** 9))
        errs = ch.get("response_errors", {}).get("code", [])
        assert errs, ch
        if errs[0]["code"] == "throttled":
            break
        assert errs[0]["code"] == "invalid", ch
        wrong += 1
    else:
        raise AssertionError("40 wrong user codes and no limit")
    assert 5 <= wrong < 40
    d = _authorize(lighttpd, app).json()
    ch = b.enter(d["user_code"])
    assert ch["response_errors"]["code"][0]["code"] == "throttled", ch
    r = b.open("/device?code=" + d["user_code"])
    assert r.status_code == 302
    ch = b.flow(r.headers["Location"])
    assert ch["component"] == "ak-provider-oauth2-device-code", ch
    assert _row(d["device_code"])[0] is None
    # Another user is not held back by this one's guesses.
    other = Browser(lighttpd)
    ch = other.enter(d["user_code"])
    assert "response_errors" not in ch, ch


def test_id_token_hint_parsing_edge_cases(lighttpd, admin):
    """Hints signed with the provider's own key that are still not its ID tokens: another kid
    (a path in it), a critical extension, a nested JWS as the payload, a JWE-shaped token."""
    import json
    import time
    from jwcrypto import jws as jc_jws
    from test_oauth2_logout import Rp
    rp = Rp(lighttpd, admin)
    claims = {"iss": "x", "sub": "someone", "aud": rp.app["client_id"],
              "exp": int(time.time()) + 300}

    def signed(header, payload):
        s = jc_jws.JWS(payload.encode())
        s.add_signature(rp.key, None, json.dumps(header))
        return s.serialize(compact=True)

    good = rp.id_token()
    cases = {
        "kid with a path": rp.id_token(kid="../../../../etc/passwd"),
        "crit": signed({"alg": rp.alg, "kid": rp.kid, "b64": True, "crit": ["b64"]},
                       json.dumps(claims)),
        "nested JWS": signed({"alg": rp.alg, "kid": rp.kid, "cty": "JWT"}, json.dumps(good)),
        "five parts": good + ".AAAA.AAAA",
        "padded": good + "=",
    }
    for what, hint in cases.items():
        r = requests.get(rp.url, params={"id_token_hint": hint}, allow_redirects=False)
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert "Location" not in r.headers, what
    r = requests.get(rp.url, params={"id_token_hint": good}, allow_redirects=False)
    assert r.status_code == 302, r.text
