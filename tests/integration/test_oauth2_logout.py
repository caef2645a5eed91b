"""RP-initiated logout at /application/o/<slug>/end-session/: the provider's invalidation flow
runs, then the browser goes to the post_logout_redirect_uri only when it is a registered
logout URI; an id_token_hint must be the provider's own (alg=none, HS256 keyed with the public
key, another key and another audience are refused)."""
import base64
import json
import re
import time
import urllib.parse as urlparse

import pytest
import requests
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws
from jwcrypto import jwt as jc_jwt

from conftest import (oauth2_access_row, oauth2_app, oauth2_browser, oauth2_keypair,
                      oauth2_private_jwk, sql)

LOGGED_OUT = "https://rp.example.test/logged-out"
CB = "https://rp.example.test/cb"


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


class Rp:
    """A provider with an RSA key, a registered callback and a registered logout URI."""

    def __init__(self, base, admin, kind="rsa", **fields):
        self.base = base
        self.kp = oauth2_keypair(admin, kind)
        fields.setdefault("redirect_uris", [CB, ("strict", LOGGED_OUT, "logout")])
        self.app = oauth2_app(signing_key=self.kp, **fields)
        self.key = oauth2_private_jwk(admin, self.kp)
        jwks = requests.get("%s/application/o/%s/jwks/" % (base, self.app["slug"])).json()
        self.kid = jwks["keys"][0]["kid"]
        self.alg = jwks["keys"][0]["alg"]
        self.url = "%s/application/o/%s/end-session/" % (base, self.app["slug"])

    def id_token(self, key=None, alg=None, kid=None, **claims):
        c = {"iss": "%s/application/o/%s/" % (self.base, self.app["slug"]), "sub": "someone",
             "aud": self.app["client_id"], "iat": int(time.time()),
             "exp": int(time.time()) + 300}
        c.update(claims)
        t = jc_jwt.JWT(header={"alg": alg or self.alg, "kid": kid or self.kid}, claims=c)
        t.make_signed_token(key or self.key)
        return t.serialize()


class Browser:
    def __init__(self, base):
        self.base = base
        self.s, self.uid, self.username = oauth2_browser(base)

    def headers(self):
        csrf = self.s.cookies.get("authentik_csrf")
        return {"X-authentik-CSRF": csrf} if csrf else {}

    def logout(self, url, method="GET", **params):
        """The end-session request, then the flow interface's run of the flow it starts:
        (the end-session response, the last challenge)."""
        if method == "GET":
            r = self.s.get(url, params=params, allow_redirects=False)
        else:
            r = self.s.post(url, data=params, allow_redirects=False)
        if r.status_code != 302:
            return r, None
        loc = urlparse.urlsplit(r.headers["Location"])
        m = re.match(r"^/if/flow/([^/]+)/$", loc.path)
        assert m, r.headers["Location"]
        api = "%s/api/v3/flows/executor/%s/?query=%s" % (self.base, m.group(1),
                                                          urlparse.quote(loc.query, safe=""))
        ch = self.s.get(api, headers=self.headers()).json()
        return r, ch

    def session_uuid(self):
        tok = self.s.cookies.get("authentik_session")
        payload = tok.split(".")[1]
        sid = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
        rows = sql("SELECT uuid::text FROM sessions WHERE session_key = %s", sid)
        return rows[0][0] if rows else None

    def me(self):
        r = self.s.get(self.base + "/api/v3/core/users/me/")
        return r.json()["user"]["username"] if r.status_code == 200 else None


@pytest.fixture
def rp(base, admin):
    return Rp(base, admin)


def test_registered_logout_uri_with_state(base, rp):
    b = Browser(base)
    r, ch = b.logout(rp.url, id_token_hint=rp.id_token(), post_logout_redirect_uri=LOGGED_OUT,
                     state="bye 1&x")
    assert r.status_code == 302, r.text
    assert ch["component"] == "xak-flow-redirect", ch
    to = urlparse.urlsplit(ch["to"])
    assert "%s://%s%s" % (to.scheme, to.netloc, to.path) == LOGGED_OUT
    assert urlparse.parse_qs(to.query) == {"state": ["bye 1&x"]}
    # The provider's invalidation flow logs out of the application, not out of custos.
    assert b.me() == b.username


def test_logout_uri_with_a_query_and_post(lighttpd, admin):
    uri = LOGGED_OUT + "?from=rp"
    rp = Rp(lighttpd, admin, redirect_uris=[CB, ("strict", uri, "logout")])
    b = Browser(lighttpd)
    r, ch = b.logout(rp.url, method="POST", id_token_hint=rp.id_token(),
                     post_logout_redirect_uri=uri, state="s2")
    assert ch["component"] == "xak-flow-redirect", (r.status_code, r.text, ch)
    assert ch["to"] == uri + "&state=s2"


def test_no_hint_and_expired_hint(lighttpd, rp):
    b = Browser(lighttpd)
    r, ch = b.logout(rp.url, post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT
    # An expired hint still names the relying party (the spec expects expired hints).
    expired = rp.id_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    r, ch = b.logout(rp.url, id_token_hint=expired, post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT


def test_forged_hints_are_refused(lighttpd, admin, rp):
    """alg=none, HS256 keyed with the public key, another key, another key type, another
    audience and a mangled signature: 400, nothing started, nowhere redirected."""
    pub_pem = rp.key.export_to_pem()  # the public part: what an attacker can have
    header = {"alg": "none", "kid": rp.kid}
    claims = {"iss": "x", "sub": "someone", "aud": rp.app["client_id"],
              "exp": int(time.time()) + 300}
    none_token = "%s.%s." % (_b64(header), _b64(claims))
    hs_key = jc_jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(pub_pem).rstrip(b"=").decode())
    s = jc_jws.JWS(json.dumps(claims).encode())
    s.add_signature(hs_key, None, json.dumps({"alg": "HS256", "kid": rp.kid}))
    hs_token = s.serialize(compact=True)
    other_key = jc_jwk.JWK.generate(kty="RSA", size=2048)
    ec_key = jc_jwk.JWK.generate(kty="EC", crv="P-256")
    other_rp = Rp(lighttpd, admin)
    good = rp.id_token()
    mangled = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    cases = {
        "alg none": none_token,
        "HS256 with the public key": hs_token,
        "another RSA key": rp.id_token(key=other_key),
        "an EC key": rp.id_token(key=ec_key, alg="ES256"),
        "another audience": rp.id_token(aud=other_rp.app["client_id"]),
        "no audience": rp.id_token(aud=[]),
        "another provider's token": other_rp.id_token(),
        "mangled": mangled,
        "garbage": "not-a-jwt",
    }
    b = Browser(lighttpd)
    for what, hint in cases.items():
        r, ch = b.logout(rp.url, id_token_hint=hint, post_logout_redirect_uri=LOGGED_OUT)
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert r.json()["error"] == "invalid_request", what
        assert "Location" not in r.headers, what
    # The good one still works.
    r, ch = b.logout(rp.url, id_token_hint=good, post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT


def test_hint_shared_key_other_audience(lighttpd, admin):
    """Two providers with one key pair: the other's ID token verifies with the key but is not
    for this client."""
    a = Rp(lighttpd, admin)
    b_app = oauth2_app(signing_key=a.kp)
    hint = a.id_token(aud=b_app["client_id"])
    b = Browser(lighttpd)
    r, _ = b.logout(a.url, id_token_hint=hint, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 400


def test_hs256_provider_hint(lighttpd):
    app = oauth2_app(redirect_uris=[CB, ("strict", LOGGED_OUT, "logout")])
    key = jc_jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(
        app["client_secret"].encode()).rstrip(b"=").decode())
    t = jc_jwt.JWT(header={"alg": "HS256"}, claims={
        "sub": "x", "aud": app["client_id"], "exp": int(time.time()) + 60})
    t.make_signed_token(key)
    url = "%s/application/o/%s/end-session/" % (lighttpd, app["slug"])
    b = Browser(lighttpd)
    r, ch = b.logout(url, id_token_hint=t.serialize(), post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT
    wrong = jc_jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(b"not the secret").decode())
    t = jc_jwt.JWT(header={"alg": "HS256"}, claims={"aud": app["client_id"]})
    t.make_signed_token(wrong)
    r, _ = b.logout(url, id_token_hint=t.serialize(), post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 400


def test_unregistered_redirects_are_not_followed(lighttpd, admin):
    rp = Rp(lighttpd, admin, redirect_uris=[
        CB, ("strict", LOGGED_OUT, "logout"),
        ("regex", "https://apps\\.example\\.test/bye/[a-z]+", "logout")])
    b = Browser(lighttpd)
    for uri in ("https://evil.example.test/", LOGGED_OUT + "/x", LOGGED_OUT + "?a=1",
                "https://rp.example.test/logged-out/../cb", "HTTPS://rp.example.test/logged-out",
                CB,  # registered, but for authorization, not logout
                "https://apps.example.test/bye/x/../../evil",
                "https://apps.example.test/bye/abc.evil.test"):
        r, ch = b.logout(rp.url, id_token_hint=rp.id_token(), post_logout_redirect_uri=uri,
                         state="s")
        assert r.status_code == 302, (uri, r.text)
        assert ch["component"] == "xak-flow-redirect", (uri, ch)
        assert ch["to"] == "/", (uri, ch)
    r, ch = b.logout(rp.url, post_logout_redirect_uri="https://apps.example.test/bye/abc")
    assert ch["to"] == "https://apps.example.test/bye/abc"


def test_dangerous_schemes_are_refused(lighttpd, rp):
    b = Browser(lighttpd)
    for uri in ("javascript:alert(1)", "data:text/html,x", " JavaScript:alert(1)"):
        r, _ = b.logout(rp.url, post_logout_redirect_uri=uri)
        assert r.status_code == 400, uri


def test_malformed_requests(lighttpd, rp):
    b = Browser(lighttpd)
    r = b.s.get(rp.url, params=[("state", "a"), ("state", "b")], allow_redirects=False)
    assert r.status_code == 400
    r, _ = b.logout(rp.url, client_id="someone-else", post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 400
    r, ch = b.logout(rp.url, client_id=rp.app["client_id"], post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT
    r = requests.get("%s/application/o/no-such-app-y/end-session/" % lighttpd,
                     allow_redirects=False)
    assert r.status_code == 404


def test_the_sessions_tokens_of_the_provider_end(lighttpd, admin, rp):
    b = Browser(lighttpd)
    sess = b.session_uuid()
    mine = oauth2_access_row(rp.app, b.uid, session_uuid=sess)
    elsewhere = oauth2_access_row(rp.app, b.uid)  # another session of the same user
    other_rp = oauth2_app()
    other = oauth2_access_row(other_rp, b.uid, session_uuid=sess)
    r, ch = b.logout(rp.url, post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT

    def live(token):
        return sql("SELECT count(*) FROM oauth2_access_tokens WHERE NOT revoked "
                   "AND token_digest = encode(sha256(%s::bytea), 'hex')", token)[0][0] == 1
    assert not live(mine)
    assert live(elsewhere) and live(other)
    r = requests.get(lighttpd + "/application/o/userinfo/",
                     headers={"Authorization": "Bearer " + mine})
    assert r.status_code == 401
    # No back-channel logout for a provider that has none.
    assert _logout_tasks(rp.app) == []


def _logout_tasks(app):
    return [a for (a,) in sql(
        "SELECT args FROM tasks WHERE rel_obj_id = %s AND actor_name = "
        "'authentik.providers.oauth2.tasks.send_backchannel_logout_request'",
        str(app["provider_id"]))]


def test_back_channel_provider_is_told(lighttpd, admin):
    """A provider with back-channel logout gets one logout request (the worker's task) naming
    the sub and sid the session's tokens carried; the session's own end later sends no second
    one."""
    rp = Rp(lighttpd, admin, logout_uri="https://rp.example.test/backchannel")
    b = Browser(lighttpd)
    sess = b.session_uuid()
    oauth2_access_row(rp.app, b.uid, session_uuid=sess,
                      claims={"sub": "the-sub", "sid": "the-sid"})
    r, ch = b.logout(rp.url, post_logout_redirect_uri=LOGGED_OUT)
    assert ch["to"] == LOGGED_OUT
    tasks = _logout_tasks(rp.app)
    assert len(tasks) == 1, tasks
    args = tasks[0]
    assert args["provider_pk"] == rp.app["provider_id"]
    assert args["sub"] == "the-sub" and args["sid"] == "the-sid"
    assert args["session_uuid"] == sess and args["user_id"] == b.uid
    sql("DELETE FROM sessions WHERE uuid = %s", sess)
    assert len(_logout_tasks(rp.app)) == 1


def test_brand_invalidation_flow_when_the_provider_has_none(lighttpd, rp):
    """Without an invalidation flow of its own the brand's runs (default-invalidation-flow
    logs the user out of custos), and the redirect still comes at its end."""
    sql("UPDATE providers SET invalidation_flow = NULL WHERE id = %s", rp.app["provider_id"])
    b = Browser(lighttpd)
    assert b.me() == b.username
    r, ch = b.logout(rp.url, post_logout_redirect_uri=LOGGED_OUT)
    assert r.status_code == 302
    assert "/if/flow/default-invalidation-flow/" in r.headers["Location"]
    assert ch["component"] == "xak-flow-redirect" and ch["to"] == LOGGED_OUT, ch
    assert b.me() is None
