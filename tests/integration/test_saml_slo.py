"""SP-initiated single logout with python3-onelogin-saml2 as the service provider: its
LogoutRequest ends the custos session through the provider's invalidation flow, and the
LogoutResponse custos answers (Redirect binding, query-signed; POST binding, enveloped
signature) is validated by the SP library and xmlsec1."""
import base64
import copy
import os
import subprocess
import tempfile
import urllib.parse as urlparse

import pytest
import requests
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from conftest import (SAML_SP, oidc_user_browser, saml_app, saml_keypair, saml_login,
                      saml_sp_request, saml_sp_settings, saml_url, sql)


@pytest.fixture
def idp_key(admin):
    return saml_keypair(admin)


@pytest.fixture
def sp_key(admin):
    return saml_keypair(admin)


def _logged_in(base, app, settings):
    """A user logged in at custos and at the SP through app: (browser, uid, SP auth)."""
    browser, uid, _ = oidc_user_browser(base)
    sp = OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings)
    url = sp.login()
    rid = sp.get_last_request_id()
    kind, ch = saml_login(browser, url)
    assert kind == "form", (kind, ch)
    auth = OneLogin_Saml2_Auth(saml_sp_request(post=ch["attrs"]), settings)
    auth.process_response(request_id=rid)
    assert auth.is_authenticated(), auth.get_errors()
    return browser, uid, auth


def _me(browser, base):
    r = browser.s.get(base + "/api/v3/core/users/me/")
    return r.json()["user"]["username"] if r.status_code == 200 else None


def _sp_logout(settings, auth, relay="relay-slo"):
    sp = OneLogin_Saml2_Auth(saml_sp_request(path="/app"), settings)
    url = sp.logout(return_to=relay, name_id=auth.get_nameid(), session_index=auth.get_session_index(),
                    name_id_format=auth.get_nameid_format())
    return url, sp.get_last_request_id()


def _process_redirect(settings, to, rid):
    query = to.split("?", 1)[1]
    get = dict(urlparse.parse_qsl(query))
    data = dict(saml_sp_request(path="/sls", get=get), query_string=query,
                validate_signature_from_qs=True)
    sp = OneLogin_Saml2_Auth(data, settings)
    sp.process_slo(request_id=rid, delete_session_cb=lambda: None)
    return sp, get


def test_slo_redirect_round_trip(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp, sign_logout_response=True)
    settings = saml_sp_settings(lighttpd, app)
    browser, uid, auth = _logged_in(lighttpd, app, settings)
    assert _me(browser, lighttpd) is not None
    assert sql("SELECT count(*) FROM saml_sessions WHERE provider_id = %s AND user_id = %s",
               app["provider_id"], uid)[0][0] == 1
    url, rid = _sp_logout(settings, auth)
    assert url.startswith(saml_url(lighttpd, app, "slo/binding/redirect/"))
    kind, to = browser.go(url, stop_at=(SAML_SP,))
    assert kind == "stop" and to.startswith(SAML_SP + "/sls?"), (kind, to)
    # The SP insists on a signed LogoutResponse, checked with the metadata's certificate.
    strict = copy.deepcopy(settings)
    strict["security"]["wantMessagesSigned"] = True
    sp, get = _process_redirect(strict, to, rid)
    assert sp.get_errors() == [], (sp.get_errors(), sp.get_last_error_reason())
    assert get["RelayState"] == "relay-slo"
    assert "Signature" in get
    # custos's session is over, and so is the SAML session it recorded.
    assert _me(browser, lighttpd) is None
    assert sql("SELECT count(*) FROM saml_sessions WHERE provider_id = %s AND user_id = %s",
               app["provider_id"], uid)[0][0] == 0
    assert sql("SELECT count(*) FROM events WHERE action = 'logout' AND \"user\" ->> 'pk' = %s",
               str(uid))[0][0] == 1
    # A tampered signature is refused by the SP.
    bad = to.replace("RelayState=relay-slo", "RelayState=relay-evil")
    sp, _ = _process_redirect(strict, bad, rid)
    assert sp.get_errors() != []


def test_slo_post_binding_signed(lighttpd, idp_key):
    kp, cert, _ = idp_key
    app = saml_app(signing_kp=kp, sign_logout_response=True, sls_binding="post")
    settings = saml_sp_settings(lighttpd, app)
    browser, uid, auth = _logged_in(lighttpd, app, settings)
    url, rid = _sp_logout(settings, auth)
    kind, ch = browser.go(url, stop_at=(SAML_SP,))
    assert kind == "form", (kind, ch)
    assert ch["url"] == SAML_SP + "/sls"
    assert ch["attrs"]["RelayState"] == "relay-slo"
    resp = OneLogin_Saml2_Logout_Response(OneLogin_Saml2_Settings(settings), ch["attrs"]["SAMLResponse"])
    assert resp.is_valid(saml_sp_request(path="/sls"), request_id=rid), resp.get_error()
    assert resp.get_status() == "urn:oasis:names:tc:SAML:2.0:status:Success"
    xml = base64.b64decode(ch["attrs"]["SAMLResponse"])
    assert etree.fromstring(xml).get("InResponseTo") == rid
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "c.pem"), "w").write(cert)
        open(os.path.join(d, "r.xml"), "wb").write(xml)
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", os.path.join(d, "c.pem"),
                              "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
                              os.path.join(d, "r.xml")], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
    assert _me(browser, lighttpd) is None


def test_slo_unsigned_response_when_not_configured(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, auth = _logged_in(lighttpd, app, settings)
    url, rid = _sp_logout(settings, auth)
    kind, to = browser.go(url, stop_at=(SAML_SP,))
    sp, get = _process_redirect(settings, to, rid)
    assert sp.get_errors() == [], sp.get_last_error_reason()
    assert "Signature" not in get


def test_slo_without_session_still_succeeds(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, _ = oidc_user_browser(lighttpd)
    sp = OneLogin_Saml2_Auth(saml_sp_request(path="/app"), settings)
    url = sp.logout(name_id="nobody", session_index="none")
    kind, to = browser.go(url, stop_at=(SAML_SP,))
    assert kind == "stop", (kind, to)
    sp2, _ = _process_redirect(settings, to, sp.get_last_request_id())
    assert sp2.get_errors() == [], sp2.get_last_error_reason()


def test_slo_signature_required_with_verification_kp(lighttpd, idp_key, sp_key):
    kp, _, _ = idp_key
    skp, scert, skey = sp_key
    app = saml_app(signing_kp=kp, verification_kp=skp)
    settings = saml_sp_settings(lighttpd, app, scert, skey, authnRequestsSigned=True)
    browser, _, auth = _logged_in(lighttpd, app, settings)
    url, _ = _sp_logout(settings, auth)
    r = browser.s.get(url, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    assert "not signed" in r.text
    assert _me(browser, lighttpd) is not None
    signed = copy.deepcopy(settings)
    signed["security"]["logoutRequestSigned"] = True
    url, rid = _sp_logout(signed, auth)
    # The RelayState changed after signing: refused.
    r = browser.s.get(url.replace("RelayState=relay-slo", "RelayState=relay-x"), allow_redirects=False)
    assert r.status_code == 400 and "Failed to verify signature" in r.text
    kind, to = browser.go(url, stop_at=(SAML_SP,))
    assert kind == "stop", (kind, to)
    sp, _ = _process_redirect(settings, to, rid)
    assert sp.get_errors() == []
    assert _me(browser, lighttpd) is None


def test_slo_post_request_signed(lighttpd, idp_key, sp_key):
    kp, _, _ = idp_key
    skp, scert, skey = sp_key
    app = saml_app(signing_kp=kp, verification_kp=skp)
    settings = saml_sp_settings(lighttpd, app, scert, skey, authnRequestsSigned=True)
    browser, _, auth = _logged_in(lighttpd, app, settings)
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
    req = OneLogin_Saml2_Logout_Request(OneLogin_Saml2_Settings(settings), name_id=auth.get_nameid(),
                                        session_index=auth.get_session_index())
    xml = req.get_xml()
    unsigned = base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()
    post = saml_url(lighttpd, app, "slo/binding/post/")
    r = browser.s.post(post, data={"SAMLRequest": unsigned}, allow_redirects=False)
    assert r.status_code == 400 and "not signed" in r.text
    sig = OneLogin_Saml2_Utils.add_sign(xml, skey, scert, sign_algorithm=C.RSA_SHA256,
                                        digest_algorithm=C.SHA256)
    r = browser.s.post(post, data={"SAMLRequest": base64.b64encode(sig).decode(), "RelayState": "p"},
                       allow_redirects=False)
    assert r.status_code == 302, r.text[:300]
    kind, to = browser.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(SAML_SP,))
    assert kind == "stop" and "RelayState=p" in to
    assert _me(browser, lighttpd) is None
    # The same signed request again is a replay.
    r = browser.s.post(post, data={"SAMLRequest": base64.b64encode(sig).decode()},
                       allow_redirects=False)
    assert r.status_code == 400 and "already been used" in r.text


def test_slo_replay_and_stray_response(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, auth = _logged_in(lighttpd, app, settings)
    url, _ = _sp_logout(settings, auth)
    assert browser.s.get(url, allow_redirects=False).status_code == 302
    r = browser.s.get(url, allow_redirects=False)
    assert r.status_code == 400 and "already been used" in r.text
    # A LogoutResponse arriving here is not followed anywhere it names.
    r = requests.get(saml_url(lighttpd, app, "slo/binding/redirect/"),
                     params={"SAMLResponse": "x", "RelayState": "https://evil.example/"},
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_slo_without_sls_url_ends_session(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp, sls_url="")
    settings = saml_sp_settings(lighttpd, app)
    browser, _, auth = _logged_in(lighttpd, app, settings)
    url, _ = _sp_logout(settings, auth)
    kind, r = browser.go(url, stop_at=(SAML_SP,))
    assert kind == "page", (kind, r)
    assert not any(u.startswith(SAML_SP) for u in browser.visited)
    assert _me(browser, lighttpd) is None


def test_expired_saml_sessions_and_request_ids_are_cleaned(lighttpd):
    """clean_expired_models removes SAML sessions past their end and request IDs past their
    replay window, and keeps the live ones."""
    from conftest import binary, config_path, create_user, sql
    import time
    app = saml_app()
    pid = app["provider_id"]
    uid, _ = create_user()
    for rid, when in (("gone-id", "-1 second"), ("kept-id", "5 minutes")):
        sql("INSERT INTO saml_request_ids (provider_id, request_id, expires) "
            "VALUES (%s, %s, now() + %s::interval)", pid, rid, when)
    for idx, when in (("gone-idx", "-1 second"), ("kept-idx", "1 hour")):
        sql("INSERT INTO saml_sessions (provider_id, user_id, session_index, name_id, expires) "
            "VALUES (%s, %s, %s, 'n', now() + %s::interval)", pid, uid, idx, when)
    p = subprocess.run([binary("custos-worker"), "task", "run",
                        "authentik.core.tasks.clean_expired_models"],
                       env=dict(os.environ, CUSTOS_CONFIG=config_path()),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    mid = p.stdout.strip()
    deadline = time.time() + 20
    while time.time() < deadline and sql("SELECT state FROM tasks WHERE message_id = %s",
                                         mid)[0][0] != "done":
        time.sleep(0.1)
    assert sql("SELECT request_id FROM saml_request_ids WHERE provider_id = %s",
               pid) == [("kept-id",)]
    assert sql("SELECT session_index FROM saml_sessions WHERE provider_id = %s",
               pid) == [("kept-idx",)]
