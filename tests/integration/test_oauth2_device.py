"""The device authorization grant (RFC 8628): the device's request, the user's code entry at
/device through the flow executor (as the flow interface drives it), the provider's
authorization flow, the binding of the device token to the user, and the device's polling at
the token endpoint."""
import hashlib
import re
import secrets
import time
import urllib.parse as urlparse

import pytest
import requests

from conftest import create_user, oauth2_app, oauth2_browser, sql

DEVICE = "/application/o/device/"
TOKEN = "/application/o/token/"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _ip():
    return "10.%d.%d.%d" % tuple(secrets.randbelow(250) + 1 for _ in range(3))


def _authorize(base, app, scope="openid email profile", **kw):
    data = {"client_id": app["client_id"], "scope": scope}
    data.update(kw.pop("data", {}))
    return requests.post(base + DEVICE, data=data, headers={"X-Forwarded-For": _ip()}, **kw)


def _row(device_code):
    rows = sql("SELECT user_id, session_uuid::text, scope, used FROM oauth2_device_tokens "
               "WHERE device_code_digest = %s", hashlib.sha256(device_code.encode()).hexdigest())
    return rows[0] if rows else None


class Browser:
    """The logged-in user's browser on /device and the flow interface."""

    def __init__(self, base):
        self.base = base
        self.s, self.uid, self.username = oauth2_browser(base)

    def headers(self):
        csrf = self.s.cookies.get("authentik_csrf")
        return {"X-authentik-CSRF": csrf} if csrf else {}

    def open(self, path):
        """GETs path (no redirects followed): the response."""
        return self.s.get(urlparse.urljoin(self.base + "/", path), allow_redirects=False)

    def flow(self, location):
        """The executor URL for a /if/flow/<slug>/?<query> location, and its first challenge."""
        parts = urlparse.urlsplit(location)
        m = re.match(r"^/if/flow/([^/]+)/$", parts.path)
        assert m, location
        self.api = "%s/api/v3/flows/executor/%s/?query=%s" % (
            self.base, m.group(1), urlparse.quote(parts.query, safe=""))
        r = self.s.get(self.api, headers=self.headers())
        assert r.status_code == 200, r.text
        return r.json()

    def answer(self, body):
        r = self.s.post(self.api, json=body, headers=self.headers())
        assert r.status_code == 200, r.text
        return r.json()

    def enter(self, code):
        """/device, the code typed into the entry stage: the challenge that follows."""
        r = self.open("/device")
        assert r.status_code == 302, (r.status_code, r.text)
        ch = self.flow(r.headers["Location"])
        assert ch["component"] == "ak-provider-oauth2-device-code", ch
        return self.answer({"component": "ak-provider-oauth2-device-code", "code": code})

    def complete(self, to):
        """Follows the entry stage's redirect to /device?code= into the provider's
        authorization flow: its first challenge."""
        r = self.open(to)
        assert r.status_code == 302, (r.status_code, r.text)
        return self.flow(r.headers["Location"])


def _session_uuid(browser):
    tok = browser.s.cookies.get("authentik_session")
    import base64
    import json
    payload = tok.split(".")[1]
    sid = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
    return sql("SELECT uuid::text FROM sessions WHERE session_key = %s", sid)[0][0]


# --- the device's request -------------------------------------------------------------------

def test_device_authorization_response(base):
    app = oauth2_app(access_code_validity="minutes=10")
    r = _authorize(base, app, scope="openid email bogus")
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    d = r.json()
    assert re.fullmatch(r"[0-9]{9}", d["user_code"]), d
    assert d["verification_uri"] == base + "/device"
    assert d["verification_uri_complete"] == base + "/device?code=" + d["user_code"]
    assert d["expires_in"] == 600 and d["interval"] == 5
    assert len(d["device_code"]) >= 40
    # Stored by digest, the scope clamped to the provider's mappings, unbound.
    user_id, session, scope, used = _row(d["device_code"])
    assert user_id is None and session is None and used is None
    assert scope == ["openid", "email"]
    assert sql("SELECT count(*) FROM oauth2_device_tokens WHERE device_code_digest = %s",
               d["device_code"])[0][0] == 0
    # Every request gets its own codes.
    d2 = _authorize(base, app).json()
    assert d2["device_code"] != d["device_code"] and d2["user_code"] != d["user_code"]


def test_clients(lighttpd):
    conf = oauth2_app()
    pub = oauth2_app(client_type="public")
    # A client_id alone is enough (authentik's DeviceView), for both kinds of client.
    assert _authorize(lighttpd, conf).status_code == 200
    assert _authorize(lighttpd, pub).status_code == 200
    # Credentials that come must be right.
    r = requests.post(lighttpd + DEVICE, auth=(conf["client_id"], "wrong"), data={"scope": "openid"},
                      headers={"X-Forwarded-For": _ip()})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = _authorize(lighttpd, conf, data={"client_secret": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(lighttpd + DEVICE, auth=(conf["client_id"], conf["client_secret"]),
                      data={"scope": "openid"}, headers={"X-Forwarded-For": _ip()})
    assert r.status_code == 200, r.text
    # Unknown or no client.
    r = _authorize(lighttpd, {"client_id": "no-such-client-" + secrets.token_hex(4)})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(lighttpd + DEVICE, data={"scope": "openid"}, headers={"X-Forwarded-For": _ip()})
    assert r.status_code == 401
    # A provider no application binds.
    orphan = oauth2_app()
    sql("UPDATE applications SET provider_id = NULL WHERE uuid = %s", orphan["app_uuid"])
    r = _authorize(lighttpd, orphan)
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    # A malformed scope.
    r = _authorize(lighttpd, conf, scope="openid \"x\"")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    assert requests.get(lighttpd + DEVICE).status_code in (404, 405)


def test_throttled_per_client_address(lighttpd):
    app = oauth2_app()
    ip = _ip()
    codes = []
    for _ in range(20):
        r = requests.post(lighttpd + DEVICE, data={"client_id": app["client_id"]},
                          headers={"X-Forwarded-For": ip})
        codes.append(r.status_code)
    assert codes == [200] * 20, codes
    r = requests.post(lighttpd + DEVICE, data={"client_id": app["client_id"]},
                      headers={"X-Forwarded-For": ip})
    assert r.status_code == 429 and r.json()["error"] == "slow_down"
    # Another address is not affected.
    assert _authorize(lighttpd, app).status_code == 200


# --- /device ----------------------------------------------------------------------------------

def test_entry_needs_login(base, device_code_flow):
    r = requests.get(base + "/device?code=123-456-789", allow_redirects=False)
    assert r.status_code == 302
    loc = urlparse.urlsplit(r.headers["Location"])
    assert loc.path == "/flows/-/default/authentication/"
    assert urlparse.parse_qs(loc.query)["next"] == ["/device?code=123456789"]
    r = requests.get(base + "/device/", allow_redirects=False)
    assert r.status_code == 302
    assert urlparse.parse_qs(urlparse.urlsplit(r.headers["Location"]).query)["next"] == ["/device"]


def test_entry_without_a_brand_flow_is_404(lighttpd):
    assert sql("SELECT count(*) FROM brands WHERE flow_device_code IS NOT NULL")[0][0] == 0
    b = Browser(lighttpd)
    assert b.open("/device").status_code == 404


def test_device_flow_end_to_end(base, device_code_flow):
    app = oauth2_app(scopes=("openid", "email", "profile"))
    d = _authorize(base, app).json()
    poll = {"grant_type": GRANT, "device_code": d["device_code"]}
    auth = (app["client_id"], app["client_secret"])
    r = requests.post(base + TOKEN, auth=auth, data=poll)
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending", r.text

    b = Browser(base)
    # A wrong code is an error on the field; the code may be typed with spaces or a hyphen.
    ch = b.enter("000000000" if d["user_code"] != "000000000" else "000000001")
    assert ch["component"] == "ak-provider-oauth2-device-code"
    assert ch["response_errors"]["code"][0]["code"] == "invalid"
    typed = d["user_code"][:3] + "-" + d["user_code"][3:6] + " " + d["user_code"][6:]
    ch = b.answer({"component": "ak-provider-oauth2-device-code", "code": typed})
    assert ch["component"] == "xak-flow-redirect", ch
    assert ch["to"] == "/device?code=" + d["user_code"]
    assert _row(d["device_code"])[0] is None  # not bound before the authorization flow ran
    ch = b.complete(ch["to"])
    assert ch["component"] == "ak-provider-oauth2-device-code-finish", ch
    user_id, session, scope, used = _row(d["device_code"])
    assert user_id == b.uid and session == _session_uuid(b)

    r = requests.post(base + TOKEN, auth=auth, data=poll)
    if r.status_code == 400 and r.json()["error"] == "slow_down":
        time.sleep(d["interval"])
        r = requests.post(base + TOKEN, auth=auth, data=poll)
    assert r.status_code == 200, r.text
    tokens = r.json()
    info = requests.post(base + "/application/o/introspect/", auth=auth,
                         data={"token": tokens["access_token"]}).json()
    assert info["active"] is True
    c = requests.get(base + "/application/o/userinfo/",
                     headers={"Authorization": "Bearer " + tokens["access_token"]}).json()
    assert c["preferred_username"] == b.username


def test_verification_uri_complete_and_consent(lighttpd, device_code_flow):
    """The link with the code goes straight to the provider's authorization flow; with
    explicit consent the user sees the token's scopes first."""
    app = oauth2_app(scopes=("openid", "email"),
                     flow="default-provider-authorization-explicit-consent")
    d = _authorize(lighttpd, app, scope="openid email").json()
    b = Browser(lighttpd)
    ch = b.complete(urlparse.urlsplit(d["verification_uri_complete"]).path + "?" +
                    urlparse.urlsplit(d["verification_uri_complete"]).query)
    assert ch["component"] == "ak-stage-consent", ch
    assert {p["id"] for p in ch["permissions"]} == {"openid", "email"}
    assert _row(d["device_code"])[0] is None
    ch = b.answer({"component": "ak-stage-consent", "token": ch["token"]})
    assert ch["component"] == "ak-provider-oauth2-device-code-finish", ch
    assert _row(d["device_code"])[0] == b.uid


def test_denied_by_the_applications_policies(lighttpd, device_code_flow):
    app = oauth2_app()
    someone, _ = create_user()
    sql("INSERT INTO policy_bindings (user_id, target, \"order\") VALUES (%s, %s, 0)",
        someone, app["app_uuid"])
    auth = (app["client_id"], app["client_secret"])
    d = _authorize(lighttpd, app).json()
    b = Browser(lighttpd)
    ch = b.enter(d["user_code"])
    assert ch["component"] == "ak-stage-access-denied", ch
    assert _row(d["device_code"])[0] is None
    # The device learns it at its next poll, instead of polling until the code expires, and
    # the code is spent.
    r = requests.post(lighttpd + TOKEN, auth=auth,
                      data={"grant_type": GRANT, "device_code": d["device_code"]})
    assert r.status_code == 400 and r.json()["error"] == "access_denied", r.text
    ch = b.enter(d["user_code"])
    assert ch["response_errors"]["code"][0]["code"] == "invalid", ch
    # Straight to the link with another code: denied as well, and nothing bound.
    d = _authorize(lighttpd, app).json()
    r = b.open("/device?code=" + d["user_code"])
    assert r.status_code == 302
    ch = b.flow(r.headers["Location"])
    assert ch["component"] == "ak-stage-access-denied", ch
    assert _row(d["device_code"])[0] is None
    r = requests.post(lighttpd + TOKEN, auth=auth,
                      data={"grant_type": GRANT, "device_code": d["device_code"]})
    assert r.status_code == 400 and r.json()["error"] == "access_denied", r.text


def test_code_binds_once(lighttpd, device_code_flow):
    app = oauth2_app()
    d = _authorize(lighttpd, app).json()
    first = Browser(lighttpd)
    ch = first.complete("/device?code=" + d["user_code"])
    assert ch["component"] == "ak-provider-oauth2-device-code-finish"
    # Another user cannot take the same code.
    second = Browser(lighttpd)
    ch = second.enter(d["user_code"])
    assert ch["component"] == "ak-provider-oauth2-device-code"
    assert ch["response_errors"]["code"][0]["code"] == "invalid"
    assert _row(d["device_code"])[0] == first.uid


def test_expired_code(lighttpd, device_code_flow):
    app = oauth2_app()
    d = _authorize(lighttpd, app).json()
    sql("UPDATE oauth2_device_tokens SET expires = now() - interval '1 second' "
        "WHERE user_code = %s", d["user_code"])
    b = Browser(lighttpd)
    ch = b.enter(d["user_code"])
    assert ch["response_errors"]["code"][0]["code"] == "invalid"
    # The link runs the entry stage instead of the authorization flow.
    r = b.open("/device?code=" + d["user_code"])
    ch = b.flow(r.headers["Location"])
    assert ch["component"] == "ak-provider-oauth2-device-code"


@pytest.mark.parametrize("code", ["", "12345678", "1234567890", "abcdefghi", "12345678\u0661"])
def test_malformed_codes(lighttpd, device_code_flow, code):
    b = Browser(lighttpd)
    ch = b.enter(code)
    assert ch["component"] == "ak-provider-oauth2-device-code"
    assert ch["response_errors"]["code"][0]["code"] in ("invalid", "required")
