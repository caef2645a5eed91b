"""The authorization endpoint, /application/o/authorize/: what it checks before it trusts the
redirect URI (an error page, never a redirect), the errors it sends to a trusted redirect URI
(RFC 6749 §4.1.2.1, in the response mode), the login and re-authentication round trips, the
application's policies, consent, and the fulfillment stage at the end of the authorization flow
(codes bound to the session and PKCE, implicit and hybrid tokens, form_post).

Logins go through the real flow executor (conftest.OidcBrowser answers the challenges as the
flow interface would); python3-authlib builds authorization URLs and exchanges codes;
python3-jwcrypto verifies every token against the provider's published JWKS."""
import base64
import hashlib
import html.parser
import json
import os
import secrets
import time
import urllib.parse as urlparse

import pytest
import requests

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from jwcrypto import jwk as jc_jwk  # noqa: E402
from jwcrypto import jwt as jc_jwt  # noqa: E402

from conftest import (OidcBrowser, oauth2_app, oauth2_keypair, oidc_user_browser,  # noqa: E402
                      sql)

AUTHZ = "/application/o/authorize/"
TOKEN = "/application/o/token/"
# Redirect URIs no server answers: the browser stops there.
CB = "http://127.0.0.1:9/cb"
EXPLICIT = "default-provider-authorization-explicit-consent"
EVIL_STATE = '"><script>window.__xss=1</script>&x=<b>'


# --- helpers -----------------------------------------------------------------------------------

def _digest(s):
    return hashlib.sha256(s.encode()).hexdigest()


def _s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _app(admin=None, kind=None, **kw):
    kw.setdefault("redirect_uris", [CB])
    if admin is not None and kind is not None:
        kw["signing_key"] = oauth2_keypair(admin, kind)
    return oauth2_app(**kw)


def _params(app, **kw):
    p = {"client_id": app["client_id"], "redirect_uri": CB, "response_type": "code",
         "scope": "openid email", "state": "st-" + secrets.token_hex(4)}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def _get(base, params, s=None):
    return (s or requests).get(base + AUTHZ, params=params, allow_redirects=False)


def _page(r, status=400, title=None):
    """An error page: HTML, the status, and no redirect anywhere."""
    assert r.status_code == status, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert r.headers.get("Cache-Control") == "no-store"
    if title:
        assert title in r.text, r.text[:500]
    return r.text


def _at_cb(r):
    """A 302 to the client's redirect URI: its query and fragment parameters."""
    assert r.status_code == 302, (r.status_code, r.text[:300])
    loc = r.headers["Location"]
    assert loc.startswith(CB), loc
    parts = urlparse.urlsplit(loc)
    return (dict(urlparse.parse_qsl(parts.query, keep_blank_values=True)),
            dict(urlparse.parse_qsl(parts.fragment, keep_blank_values=True)))


def _logged_in(base, **fields):
    """A browser that has logged in through the default authentication flow."""
    b, uid, username = oidc_user_browser(base, **fields)
    kind, r = b.go(base + "/if/flow/default-authentication-flow/?next=%2Fif%2Fuser%2F")
    assert kind == "page", (kind, r)
    assert b.s.cookies.get("authentik_session")
    return b, uid, username


def _session_row(uid):
    rows = sql("SELECT session_key, uuid::text, floor(extract(epoch FROM created))::bigint "
               "FROM sessions WHERE user_id = %s ORDER BY created DESC", uid)
    assert rows, "no session for the user"
    return rows[0]


def _code_row(code):
    rows = sql("SELECT user_id, redirect_uri, code_challenge, code_challenge_method, nonce, "
               "scope, session_uuid::text, floor(extract(epoch FROM auth_time))::bigint, "
               "provider_id FROM oauth2_authorization_codes WHERE code_digest = %s", _digest(code))
    assert len(rows) == 1, "no code row"
    return rows[0]


def _jwks(base, app):
    r = requests.get("%s/application/o/%s/jwks/" % (base, app["slug"]))
    assert r.status_code == 200, r.text
    return jc_jwk.JWKSet.from_json(r.text)


def _verify(base, app, token, alg="RS256"):
    """jwcrypto: signature with the published key, issuer, audience, expiry."""
    t = jc_jwt.JWT(jwt=token, key=_jwks(base, app), algs=[alg],
                   check_claims={"iss": "%s/application/o/%s/" % (base, app["slug"]),
                                 "aud": app["client_id"], "exp": None})
    return json.loads(t.claims)


def _half_hash(value):
    h = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(h[:16]).rstrip(b"=").decode()


def _go(b, base, params):
    """Runs an authorization request in browser b to its end at CB."""
    return b.go(base + AUTHZ + "?" + urlparse.urlencode(params), stop_at=(CB,))


def _cb_params(url):
    parts = urlparse.urlsplit(url)
    return (dict(urlparse.parse_qsl(parts.query, keep_blank_values=True)),
            dict(urlparse.parse_qsl(parts.fragment, keep_blank_values=True)))


class _Inputs(html.parser.HTMLParser):
    """The forms and hidden inputs of a page, decoded as a browser would."""

    def __init__(self):
        super().__init__()
        self.actions, self.fields, self.scripts = [], {}, []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.actions.append(a.get("action"))
        if tag == "input":
            self.fields[a.get("name")] = a.get("value")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


# --- the whole way: authlib + PKCE S256, login through the executor, token exchange -----------

@pytest.mark.parametrize("kind,alg", [("rsa", "RS256"), ("ecdsa", "ES256")])
def test_code_pkce_end_to_end(lighttpd, admin, kind, alg):
    app = _app(admin, kind)
    b, uid, username = oidc_user_browser(lighttpd)
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="openid email profile",
                           redirect_uri=CB, code_challenge_method="S256")
    verifier, nonce = generate_token(64), generate_token(24)
    uri, state = client.create_authorization_url(lighttpd + AUTHZ, code_verifier=verifier,
                                                 nonce=nonce)
    kind_, cb = b.go(uri, stop_at=(CB,))
    assert kind_ == "stop", (kind_, cb, b.visited[-5:])
    # No session: the browser logged in on the way, told which application it was for.
    idents = [c for c in b.challenges if c["component"] == "ak-stage-identification"]
    assert len(idents) == 1 and idents[0].get("application_pre") == app["name"], idents
    q, frag = _cb_params(cb)
    assert frag == {} and q["state"] == state and set(q) == {"code", "state"}, cb
    code = q["code"]
    row = _code_row(code)
    key, sess_uuid, login = _session_row(uid)
    assert row[0] == uid and row[1] == CB and row[8] == app["provider_id"]
    assert row[2] == _s256(verifier) and row[3] == "S256" and row[4] == nonce
    assert sorted(row[5]) == ["email", "openid", "profile"]
    # Bound to the session it came from, auth_time its login.
    assert row[6] == sess_uuid and row[7] == login

    token = client.fetch_token(lighttpd + TOKEN, authorization_response=cb, code_verifier=verifier)
    claims = _verify(lighttpd, app, token["id_token"], alg)
    assert claims["nonce"] == nonce and claims["auth_time"] == login
    assert claims["email"].startswith(username) and claims["sid"]
    assert claims["acr"] == "goauthentik.io/providers/oauth2/default"
    assert claims.get("amr") == ["pwd"], claims
    access = _verify(lighttpd, app, token["access_token"], alg)
    assert access["azp"] == app["client_id"] and access["sub"] == claims["sub"]

    # authentik's authorize_application event.
    ev = sql("SELECT context, \"user\" ->> 'username' FROM events WHERE action = "
             "'authorize_application' AND context -> 'authorized_application' ->> 'pk' = %s",
             app["app_uuid"].replace("-", ""))
    assert len(ev) == 1 and ev[0][1] == username, ev
    ctx = ev[0][0]
    assert ctx["authorized_application"]["model_name"] == "application"
    assert ctx["authorized_application"]["name"] == app["name"]
    assert ctx["scopes"] == "openid email profile" and len(ctx["flow"]) == 32


def test_state_and_existing_query_kept(lighttpd):
    cb = CB + "?tenant=a%20b"
    app = _app(redirect_uris=[cb])
    b, uid, _ = _logged_in(lighttpd)
    state = "a b&c=d/é?#%%~" + secrets.token_hex(2)
    kind, url = b.go(lighttpd + AUTHZ + "?" + urlparse.urlencode(
        _params(app, redirect_uri=cb, state=state)), stop_at=(CB,))
    assert kind == "stop", (kind, url)
    q, _ = _cb_params(url)
    assert q["state"] == state and q["tenant"] == "a b" and q["code"], url


def test_post_authorize_and_any_word_order(lighttpd, admin):
    """POST with a form body works as GET; response_type words may come in any order."""
    app = _app(admin, "rsa")
    b, uid, _ = _logged_in(lighttpd)
    p = _params(app, response_type="id_token code", nonce="n-" + secrets.token_hex(4))
    r = b.s.post(lighttpd + AUTHZ, data=p, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/if/flow/"), r.text[:300]
    kind, url = b.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(CB,))
    assert kind == "stop"
    q, frag = _cb_params(url)
    # Hybrid: the fragment by default.
    assert q == {} and frag["code"] and frag["id_token"] and frag["state"] == p["state"]
    claims = _verify(lighttpd, app, frag["id_token"])
    assert claims["c_hash"] == _half_hash(frag["code"]) and claims["nonce"] == p["nonce"]


# --- before the redirect URI is trusted: a page, never a redirect ------------------------------

def test_unknown_client_gets_a_page(lighttpd):
    for cid in ("no-such-client-" + secrets.token_hex(4), "", "x" * 300):
        r = _get(lighttpd, {"client_id": cid, "redirect_uri": "https://evil.example/cb",
                            "response_type": "code", "state": "s"})
        _page(r, 400, "Client ID Error")
    r = _get(lighttpd, {"redirect_uri": "https://evil.example/cb", "response_type": "code"})
    _page(r, 400, "Client ID Error")
    # No parameters at all: not found, as authentik.
    _page(_get(lighttpd, {}), 404)


def test_repeated_client_or_redirect_uri_gets_a_page(lighttpd):
    app = _app()
    r = requests.get(lighttpd + AUTHZ, allow_redirects=False, params=[
        ("client_id", app["client_id"]), ("client_id", app["client_id"]),
        ("redirect_uri", CB), ("response_type", "code")])
    _page(r, 400, "Client ID Error")
    r = requests.get(lighttpd + AUTHZ, allow_redirects=False, params=[
        ("client_id", app["client_id"]), ("redirect_uri", CB), ("redirect_uri", CB),
        ("response_type", "code")])
    _page(r, 400, "Redirect URI Error")


def test_missing_redirect_uri_gets_a_page(lighttpd):
    # authentik refuses a request without redirect_uri even when one URI is registered.
    app = _app()
    _page(_get(lighttpd, _params(app, redirect_uri=None)), 400, "Redirect URI Error")
    # A provider with no registered URI takes none (authentik would register the first).
    app2 = _app(redirect_uris=[])
    _page(_get(lighttpd, _params(app2)), 400, "Redirect URI Error")
    assert sql("SELECT redirect_uris FROM oauth2_providers WHERE provider_id = %s",
               app2["provider_id"])[0][0] == []


STRICT = "https://rp.example/cb"
STRICT_VARIANTS = [
    "https://rp.example@evil.example/cb",
    "https://rp.example:443@evil.example/cb",
    "https://evil.example/rp.example/cb",
    "https://rp.example/cb/..;/x",
    "https://rp.example/..;/cb",
    "https://rp.example/cb/../x",
    "https://rp.example/cb/%2e%2e/x",
    "https://RP.example/cb",
    "https://rp.example/CB",
    "HTTPS://rp.example/cb",
    "https://rp.example./cb",
    "https://rp.example:443/cb",
    "https://rp.example:8443/cb",
    "http://rp.example/cb",
    "https://rp.example/cb?x=1",
    "https://rp.example/cb/",
    "https://rp.example/cb#frag",
    "https://rp.example\\@evil.example/cb",
    "https://rp.example.evil.example/cb",
    "javascript:alert(document.domain)//https://rp.example/cb",
    "data:text/html,<script>alert(1)</script>",
    " https://rp.example/cb",
]


@pytest.mark.parametrize("uri", STRICT_VARIANTS)
def test_strict_matching_refuses_variants(lighttpd, uri):
    app = _app(redirect_uris=[STRICT])
    b, _, _ = _logged_in(lighttpd)
    r = _get(lighttpd, _params(app, redirect_uri=uri, response_type="bogus"), s=b.s)
    _page(r, 400, "Redirect URI Error")
    # The registered one itself is accepted (the same request goes on to its error).
    r = _get(lighttpd, _params(app, redirect_uri=STRICT, response_type="bogus"), s=b.s)
    assert r.status_code == 302 and r.headers["Location"].startswith(STRICT + "?error="), r.headers


def test_regex_matching_is_anchored(lighttpd):
    app = _app(redirect_uris=[("regex", r"https://rp\.example/.*")])
    b, _, _ = _logged_in(lighttpd)
    for uri in ("https://evil.example/?https://rp.example/", "https://evil.example/https://rp.example/x",
                "https://rp.example@evil.example/x", "https://rp.example/a/../../x",
                "https://rp.example.evil.example/x", "javascript:https://rp.example/"):
        _page(_get(lighttpd, _params(app, redirect_uri=uri), s=b.s), 400, "Redirect URI Error")
    r = _get(lighttpd, _params(app, redirect_uri="https://rp.example/any/path?x=1"), s=b.s)
    assert r.status_code == 302 and r.headers["Location"].startswith("/if/flow/"), r.headers


def test_javascript_and_data_never(lighttpd):
    # Registered that way by mistake (straight into the table): still never a target.
    app = _app(redirect_uris=["javascript:alert(1)", ("regex", ".*"), "data:text/html,x"])
    for uri in ("javascript:alert(1)", "data:text/html,x", "JavaScript:alert(1)",
                "vbscript:x", "file:///etc/passwd"):
        _page(_get(lighttpd, _params(app, redirect_uri=uri)), 400, "Redirect URI Error")


def test_logout_uri_is_not_an_authorization_uri(lighttpd):
    app = _app(redirect_uris=[CB, ("strict", "http://127.0.0.1:9/bye", "logout")])
    _page(_get(lighttpd, _params(app, redirect_uri="http://127.0.0.1:9/bye")), 400,
          "Redirect URI Error")


# --- after: errors to the redirect URI --------------------------------------------------------

def test_unsupported_response_type(lighttpd):
    app = _app()
    for rt in ("token", "bogus", "", "code code", "code bogus", "none"):
        q, _ = _at_cb(_get(lighttpd, _params(app, response_type=rt, state="s1")))
        assert q["error"] == "unsupported_response_type" and q["state"] == "s1", (rt, q)


def test_repeated_or_oversized_parameters(lighttpd):
    app = _app()
    base = [("client_id", app["client_id"]), ("redirect_uri", CB), ("response_type", "code")]
    r = requests.get(lighttpd + AUTHZ, allow_redirects=False,
                     params=base + [("state", "a"), ("scope", "openid"), ("scope", "email")])
    q, _ = _at_cb(r)
    assert q["error"] == "invalid_request" and "scope" in q["error_description"], q
    r = requests.get(lighttpd + AUTHZ, allow_redirects=False,
                     params=base + [("nonce", "n" * 2049)])
    q, _ = _at_cb(r)
    assert q["error"] == "invalid_request" and "nonce" in q["error_description"], q


def test_prompt_none_without_session(lighttpd):
    app = _app()
    q, f = _at_cb(_get(lighttpd, _params(app, prompt="none", state="p1")))
    assert q == {"error": "login_required", "error_description": q["error_description"],
                 "state": "p1"} and f == {}
    # Implicit: in the fragment.
    q, f = _at_cb(_get(lighttpd, _params(app, prompt="none", response_type="id_token",
                                         nonce="n", state="p2")))
    assert q == {} and f["error"] == "login_required" and f["state"] == "p2"


def test_implicit_and_hybrid_need_a_nonce(lighttpd):
    app = _app()
    for rt in ("id_token", "id_token token", "code id_token", "code id_token token"):
        q, f = _at_cb(_get(lighttpd, _params(app, response_type=rt, state="n1")))
        assert q == {} and f["error"] == "invalid_request" and "nonce" in f["error_description"]
        assert f["state"] == "n1", (rt, f)
    # "code token" returns no ID token: no nonce needed (it goes on to the login).
    r = _get(lighttpd, _params(app, response_type="code token"))
    assert r.status_code == 302 and not r.headers["Location"].startswith(CB)


def test_openid_needed_for_tokens(lighttpd):
    app = _app()
    q, f = _at_cb(_get(lighttpd, _params(app, response_type="id_token", scope="email",
                                         nonce="n")))
    assert f["error"] == "invalid_scope", f


def test_query_mode_refused_for_token_types(lighttpd):
    app = _app()
    for rt in ("id_token", "id_token token", "code id_token", "code token"):
        q, f = _at_cb(_get(lighttpd, _params(app, response_type=rt, response_mode="query",
                                             nonce="n", state="q1")))
        # The error itself is not put in the query either.
        assert q == {} and f["error"] == "invalid_request" and f["state"] == "q1", (rt, q, f)


def test_request_objects_not_supported(lighttpd):
    app = _app()
    q, _ = _at_cb(_get(lighttpd, _params(app, request="eyJhbGciOiJub25lIn0.e30.")))
    assert q["error"] == "request_not_supported"
    q, _ = _at_cb(_get(lighttpd, _params(app, request_uri="https://rp.example/req")))
    assert q["error"] == "request_uri_not_supported"


def test_max_age_must_be_a_number(lighttpd):
    app = _app()
    for v in ("-1", "abc", "1e3", "12345678901"):
        q, _ = _at_cb(_get(lighttpd, _params(app, max_age=v)))
        assert q["error"] == "invalid_request", (v, q)


def test_pkce_method_and_format(lighttpd):
    app = _app()
    good = _s256(generate_token(64))
    for method, challenge in (("S512", good), ("s256", good), ("", good), ("S256", "short"),
                              ("S256", good + "A"), ("plain", "x" * 42), ("plain", "a" * 129),
                              ("plain", "a" * 43 + "+")):
        q, _ = _at_cb(_get(lighttpd, _params(app, code_challenge=challenge,
                                             code_challenge_method=method)))
        assert q["error"] == "invalid_request", (method, challenge, q)


@pytest.mark.parametrize("client_type", ["confidential", "public"])
def test_pkce_required(lighttpd, client_type):
    app = _app(client_type=client_type, pkce_required=True)
    q, _ = _at_cb(_get(lighttpd, _params(app, state="k1")))
    assert q["error"] == "invalid_request" and "PKCE" in q["error_description"]
    assert q["state"] == "k1"
    # A method without a challenge is no PKCE either.
    q, _ = _at_cb(_get(lighttpd, _params(app, code_challenge_method="S256")))
    assert q["error"] == "invalid_request"
    # With a challenge (either method) the request goes on, and the code is bound to it.
    b, uid, _ = _logged_in(lighttpd)
    verifier = generate_token(64)
    for method, challenge in (("S256", _s256(verifier)), ("plain", verifier)):
        kind, url = _go(b, lighttpd, _params(app, code_challenge=challenge,
                                             code_challenge_method=method))
        assert kind == "stop", (kind, url)
        row = _code_row(_cb_params(url)[0]["code"])
        assert row[2] == challenge and row[3] == method
    # authentik's default method is plain.
    kind, url = _go(b, lighttpd, _params(app, code_challenge=verifier))
    assert _code_row(_cb_params(url)[0]["code"])[3] == "plain"
    # Implicit grants carry no code: PKCE does not apply.
    kind, url = _go(b, lighttpd, _params(app, response_type="id_token", nonce="n"))
    assert kind == "stop" and _cb_params(url)[1].get("id_token"), url


def test_scopes_clamped_and_defaulted(lighttpd):
    app = _app(scopes=("openid", "email"))
    b, uid, _ = _logged_in(lighttpd)
    kind, url = _go(b, lighttpd, _params(app, scope="openid bogus profile email"))
    assert sorted(_code_row(_cb_params(url)[0]["code"])[5]) == ["email", "openid"]
    # No scope: every scope the provider has a mapping for.
    kind, url = _go(b, lighttpd, _params(app, scope=None))
    assert sorted(_code_row(_cb_params(url)[0]["code"])[5]) == ["email", "openid"]
    q, _ = _at_cb(_get(lighttpd, _params(app, scope='openid "x"')))
    assert q["error"] == "invalid_scope"


# --- the login round trip ------------------------------------------------------------------------

def test_no_session_goes_to_login_and_back(lighttpd):
    app = _app()
    p = _params(app, login_hint="someone@example.com", extra="kept")
    s = requests.Session()
    r = _get(lighttpd, p, s=s)
    assert r.status_code == 302, r.text[:300]
    loc = urlparse.urlsplit(r.headers["Location"])
    assert loc.path == "/if/flow/default-authentication-flow/", loc
    nxt = urlparse.parse_qs(loc.query)["next"][0]
    assert nxt.startswith(AUTHZ + "?")
    assert dict(urlparse.parse_qsl(urlparse.urlsplit(nxt).query)) == p
    # The executor shows the application and the login_hint.
    ch = s.get(lighttpd + "/api/v3/flows/executor/default-authentication-flow/",
               params={"query": loc.query}).json()
    assert ch["component"] == "ak-stage-identification", ch
    assert ch["application_pre"] == app["name"]
    assert ch["pending_user_identifier"] == "someone@example.com"


def test_provider_authentication_flow_is_used(lighttpd):
    slug = sql("INSERT INTO flows (name, slug, title, designation, authentication) VALUES "
               "(%s, %s, 'Other login', 'authentication', 'none') RETURNING slug",
               "oa-login-" + secrets.token_hex(4), "oa-login-" + secrets.token_hex(4))[0][0]
    app = _app()
    sql("UPDATE providers SET authentication_flow = (SELECT flow_uuid FROM flows WHERE slug = %s) "
        "WHERE id = %s", slug, app["provider_id"])
    r = _get(lighttpd, _params(app))
    assert r.status_code == 302 and r.headers["Location"].startswith("/if/flow/%s/?next=" % slug)


def test_prompt_login_asks_once(lighttpd):
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    key1 = _session_row(uid)[0]
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, prompt="login"))
    assert kind == "stop", (kind, url)
    seen = [c["component"] for c in b.challenges[n:]]
    # Logged in again, once, then on to the code.
    assert seen.count("ak-stage-identification") == 1 and seen.count("ak-stage-password") == 1
    key2, sess_uuid, login = _session_row(uid)
    assert key2 != key1
    row = _code_row(_cb_params(url)[0]["code"])
    assert row[6] == sess_uuid and row[7] == login
    # The marker that brought it back names this client and a time: altered, it is ignored.
    marker = [v for v in b.visited if "custos_reauth=" in v]
    assert marker, b.visited
    m = dict(urlparse.parse_qsl(urlparse.urlsplit(marker[-1]).query))["custos_reauth"]
    t, mac = m.split(".")
    forged = "%d.%s" % (int(t) + 3600, mac)
    r = _get(lighttpd, _params(app, prompt="login", custos_reauth=forged), s=b.s)
    assert r.status_code == 302 and "/if/flow/default-authentication-flow/" in r.headers["Location"]
    # Nor does it carry over to another client.
    other = _app()
    r = _get(lighttpd, _params(other, prompt="login", custos_reauth=m), s=b.s)
    assert "/if/flow/default-authentication-flow/" in r.headers["Location"]
    # The genuine one, with the login it asked for done, lets the request through.
    r = _get(lighttpd, _params(app, prompt="login", custos_reauth=m), s=b.s)
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"].startswith("/if/flow/default-provider-authorization-implicit-")
    # A fresh marker whose login has not happened yet lets nothing through: the login is
    # asked for again.
    r = _get(lighttpd, _params(app, prompt="login"), s=b.s)
    nxt = urlparse.parse_qs(urlparse.urlsplit(r.headers["Location"]).query)["next"][0]
    fresh = dict(urlparse.parse_qsl(urlparse.urlsplit(nxt).query))["custos_reauth"]
    assert fresh != m
    r = _get(lighttpd, _params(app, prompt="login", custos_reauth=fresh), s=b.s)
    assert "/if/flow/default-authentication-flow/" in r.headers["Location"], r.headers


def test_max_age(lighttpd):
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    key = _session_row(uid)[0]
    sql("UPDATE sessions SET created = now() - interval '2 hours' WHERE session_key = %s", key)
    # Recent enough: no new login.
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, max_age="86400"))
    assert kind == "stop" and "ak-stage-password" not in [c["component"] for c in b.challenges[n:]]
    assert _session_row(uid)[0] == key
    # Too old: log in again (once), and auth_time is the new login.
    kind, url = _go(b, lighttpd, _params(app, max_age="60"))
    assert kind == "stop", (kind, url)
    seen = [c["component"] for c in b.challenges[n:]]
    assert seen.count("ak-stage-password") == 1, seen
    row = _code_row(_cb_params(url)[0]["code"])
    assert abs(row[7] - time.time()) < 60
    # prompt=none cannot log in again: login_required.
    sql("UPDATE sessions SET created = now() - interval '2 hours' WHERE user_id = %s", uid)
    q, _ = _at_cb(_get(lighttpd, _params(app, max_age="60", prompt="none", state="m"), s=b.s))
    assert q["error"] == "login_required" and q["state"] == "m"


# --- application policies ------------------------------------------------------------------------

def test_access_denied_page(lighttpd, admin):
    app = _app()
    r = admin.post("policies/expression/", {"name": "deny-" + secrets.token_hex(4),
                                            "expression": "ak_message('No <b>entry</b> here') "
                                                          "return false"})
    assert r.status_code == 201, r.text
    r = admin.post("policies/bindings/", {"target": app["app_uuid"], "order": 0,
                                          "policy": r.json()["pk"]})
    assert r.status_code == 201, r.text
    b, uid, _ = _logged_in(lighttpd)
    text = _page(_get(lighttpd, _params(app), s=b.s), 403, "Access denied")
    assert "No &lt;b&gt;entry&lt;/b&gt; here" in text and "<b>entry" not in text
    # prompt=none gets an error at the client instead of a page.
    q, _ = _at_cb(_get(lighttpd, _params(app, prompt="none", state="d"), s=b.s))
    assert q["error"] == "access_denied" and q["state"] == "d"
    assert sql("SELECT count(*) FROM oauth2_authorization_codes WHERE provider_id = %s",
               app["provider_id"])[0][0] == 0


def test_provider_without_application(lighttpd):
    app = _app()
    sql("UPDATE applications SET provider_id = NULL WHERE uuid = %s", app["app_uuid"])
    b, _, _ = _logged_in(lighttpd)
    _page(_get(lighttpd, _params(app), s=b.s), 403, "Access denied")


# --- consent and prompt --------------------------------------------------------------------------

def test_consent_prompt_none_and_prompt_consent(lighttpd):
    app = _app(flow=EXPLICIT)
    b, uid, _ = _logged_in(lighttpd)
    # Never consented: prompt=none cannot ask.
    q, _ = _at_cb(_get(lighttpd, _params(app, prompt="none", state="c"), s=b.s))
    assert q["error"] == "consent_required" and q["state"] == "c"
    # The consent stage asks, with the scope descriptions authentik shows.
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, scope="openid email profile"))
    assert kind == "stop"
    consent = [c for c in b.challenges[n:] if c["component"] == "ak-stage-consent"]
    assert len(consent) == 1, [c["component"] for c in b.challenges[n:]]
    assert consent[0]["permissions"] == [
        {"id": "email", "name": "Email address"}, {"id": "openid", "name": ""},
        {"id": "profile", "name": "General Profile Information"}]
    assert app["name"] in consent[0]["header_text"]
    # The flow's title names the application, not its uuid.
    assert consent[0]["flow_info"]["title"] == "Redirecting to %s" % app["name"]
    # Given: not asked again, and prompt=none now succeeds.
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, scope="openid email"))
    assert kind == "stop" and "ak-stage-consent" not in [c["component"] for c in b.challenges[n:]]
    kind, url = _go(b, lighttpd, _params(app, scope="openid email", prompt="none"))
    assert kind == "stop" and _cb_params(url)[0].get("code"), url
    # prompt=consent asks anyway.
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, scope="openid email", prompt="consent"))
    assert kind == "stop" and _cb_params(url)[0].get("code")
    assert [c["component"] for c in b.challenges[n:]].count("ak-stage-consent") == 1
    # prompt=none with prompt=consent: consent_required (authentik).
    q, _ = _at_cb(_get(lighttpd, _params(app, prompt="none consent", state="x"), s=b.s))
    assert q["error"] == "consent_required"


def test_prompt_consent_without_consent_stage(lighttpd):
    app = _app()  # the implicit-consent flow has no consent stage
    b, uid, _ = _logged_in(lighttpd)
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app))
    assert "ak-stage-consent" not in [c["component"] for c in b.challenges[n:]]
    n = len(b.challenges)
    kind, url = _go(b, lighttpd, _params(app, prompt="consent"))
    assert kind == "stop" and _cb_params(url)[0].get("code")
    assert [c["component"] for c in b.challenges[n:]].count("ak-stage-consent") == 1


# --- the fulfillment stage -------------------------------------------------------------------------

def test_implicit_id_token_token(lighttpd, admin):
    app = _app(admin, "rsa", scopes=("openid", "email", "offline_access"))
    b, uid, _ = _logged_in(lighttpd)
    p = _params(app, response_type="id_token token", nonce="nn-" + secrets.token_hex(4),
                scope="openid email offline_access")
    kind, url = _go(b, lighttpd, p)
    q, f = _cb_params(url)
    assert q == {} and f["state"] == p["state"] and f["token_type"] == "Bearer"
    assert int(f["expires_in"]) == 3600 and "code" not in f and "refresh_token" not in f
    claims = _verify(lighttpd, app, f["id_token"])
    assert claims["nonce"] == p["nonce"] and claims["at_hash"] == _half_hash(f["access_token"])
    access = _verify(lighttpd, app, f["access_token"])
    # offline_access needs a code (OpenID Connect Core §11).
    assert access["scope"] == "openid email", access
    assert sql("SELECT count(*) FROM oauth2_access_tokens WHERE token_digest = %s",
               _digest(f["access_token"]))[0][0] == 1
    # id_token alone: no access token.
    kind, url = _go(b, lighttpd, dict(p, response_type="id_token"))
    f = _cb_params(url)[1]
    assert f["id_token"] and "access_token" not in f and "at_hash" not in _verify(
        lighttpd, app, f["id_token"])


def test_hybrid_code_token_exchange(lighttpd, admin):
    app = _app(admin, "rsa")
    b, uid, _ = _logged_in(lighttpd)
    verifier = generate_token(64)
    p = _params(app, response_type="code id_token token", nonce="h-" + secrets.token_hex(4),
                code_challenge=_s256(verifier), code_challenge_method="S256")
    kind, url = _go(b, lighttpd, p)
    f = _cb_params(url)[1]
    claims = _verify(lighttpd, app, f["id_token"])
    assert claims["c_hash"] == _half_hash(f["code"])
    assert claims["at_hash"] == _half_hash(f["access_token"])
    r = requests.post(lighttpd + TOKEN, data={
        "grant_type": "authorization_code", "code": f["code"], "redirect_uri": CB,
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "code_verifier": verifier})
    assert r.status_code == 200, r.text
    _verify(lighttpd, app, r.json()["id_token"])


def test_form_post(lighttpd):
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    kind, ch = _go(b, lighttpd, _params(app, response_mode="form_post", state=EVIL_STATE))
    assert kind == "form", (kind, ch)
    # The autosubmit challenge carries the values as they are (the interface sets them with
    # .value); the URL is the redirect URI itself.
    assert ch["url"] == CB and ch["attrs"]["state"] == EVIL_STATE
    assert set(ch["attrs"]) == {"code", "state"}
    assert _code_row(ch["attrs"]["code"])[1] == CB
    assert ch["title"] == "Redirecting to %s..." % app["name"]


def test_form_post_error_page_escapes(lighttpd):
    app = _app()
    r = _get(lighttpd, _params(app, prompt="none", response_mode="form_post", state=EVIL_STATE))
    text = _page(r, 200)
    assert "<script>window.__xss" not in text and "<b>" not in text
    assert "&quot;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;&amp;x=&lt;b&gt;" in text
    p = _Inputs()
    p.feed(text)
    assert p.actions == [CB]
    assert p.fields == {"error": "login_required", "error_description": p.fields["error_description"],
                        "state": EVIL_STATE}
    # The page's one script is the one its policy allows by hash.
    csp = r.headers["Content-Security-Policy"]
    assert len(p.scripts) == 1
    h = base64.b64encode(hashlib.sha256(p.scripts[0].encode()).digest()).decode()
    assert "script-src 'sha256-%s'" % h in csp and "default-src 'none'" in csp


def test_fulfillment_runs_once(lighttpd):
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    r = _get(lighttpd, _params(app), s=b.s)
    loc = urlparse.urlsplit(r.headers["Location"])
    slug = loc.path.split("/")[3]
    api = lighttpd + "/api/v3/flows/executor/%s/?query=%s" % (slug, urlparse.quote(loc.query))
    ch = b.s.get(api).json()
    assert ch["component"] == "xak-flow-redirect" and ch["to"].startswith(CB + "?code="), ch
    # Asking the executor again makes no second code.
    ch2 = b.s.get(api).json()
    assert ch2["component"] != "xak-flow-redirect" or not ch2["to"].startswith(CB), ch2
    assert sql("SELECT count(*) FROM oauth2_authorization_codes WHERE provider_id = %s",
               app["provider_id"])[0][0] == 1


def test_fulfillment_rechecks_the_redirect_uri(lighttpd):
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    r = _get(lighttpd, _params(app), s=b.s)
    loc = urlparse.urlsplit(r.headers["Location"])
    # The URI is unregistered while the flow runs: no code goes there.
    sql("UPDATE oauth2_providers SET redirect_uris = '[]' WHERE provider_id = %s",
        app["provider_id"])
    ch = b.s.get(lighttpd + "/api/v3/flows/executor/%s/" % loc.path.split("/")[3],
                 params={"query": loc.query}).json()
    assert ch["component"] == "ak-stage-access-denied", ch
    assert sql("SELECT count(*) FROM oauth2_authorization_codes WHERE provider_id = %s",
               app["provider_id"])[0][0] == 0


def test_fulfillment_needs_the_same_user(lighttpd):
    """A plan started for one user does not issue a code to another who logged in meanwhile."""
    app = _app()
    b, uid, _ = _logged_in(lighttpd)
    r = _get(lighttpd, _params(app), s=b.s)
    loc = urlparse.urlsplit(r.headers["Location"])
    other, ouid, _ = _logged_in(lighttpd)
    key = _session_row(ouid)[0]
    # The first user's plan, moved into the other user's session.
    sql("UPDATE sessions SET flow_plan = (SELECT flow_plan FROM sessions WHERE user_id = %s "
        "ORDER BY created DESC LIMIT 1), flow_plan_rev = flow_plan_rev + 1 "
        "WHERE session_key = %s", uid, key)
    from conftest import redis_cli
    redis_cli("DEL", "custos:plan:" + key)
    ch = other.s.get(lighttpd + "/api/v3/flows/executor/%s/" % loc.path.split("/")[3],
                     params={"query": loc.query}).json()
    assert ch["component"] == "ak-stage-access-denied", ch
    assert sql("SELECT count(*) FROM oauth2_authorization_codes WHERE provider_id = %s",
               app["provider_id"])[0][0] == 0
