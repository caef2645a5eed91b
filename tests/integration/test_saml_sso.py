"""custos as a SAML 2.0 identity provider seen by a real service provider: Debian's
python3-onelogin-saml2 is the SP, configured from custos's IdP metadata alone. It makes the
AuthnRequests (Redirect and POST bindings, signed and unsigned), and validates every Response
in strict mode (schema, signature with the metadata's certificate, audience, destination,
recipient, conditions, InResponseTo, issuer). The user logs in through the flow executor as the
flow interface would (conftest.OidcBrowser). xmlsec1 checks the signatures too."""
import base64
import os
import subprocess
import tempfile
import urllib.parse as urlparse
import zlib

import pytest
import requests
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from conftest import (SAML_SP, oauth2_bind_group, oidc_user_browser, saml_app, saml_keypair, saml_login,
                      saml_sp_request, saml_sp_settings, saml_url, sql)

NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#",
      "md": "urn:oasis:names:tc:SAML:2.0:metadata"}
USERNAME_ATTR = "http://schemas.goauthentik.io/2021/02/saml/username"
EMAIL_ATTR = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
UID_ATTR = "http://schemas.goauthentik.io/2021/02/saml/uid"


@pytest.fixture
def idp_key(admin):
    return saml_keypair(admin)


@pytest.fixture
def sp_key(admin):
    return saml_keypair(admin)


def _uid(user_id):
    install = sql("SELECT install_id::text FROM custos_install")[0][0]
    import hashlib
    return hashlib.sha256(("%s-%s" % (user_id, install)).encode()).hexdigest()


def _accept(settings, form, request_id):
    """The SP's strict validation of a POSTed Response; returns the Auth that accepted it."""
    auth = OneLogin_Saml2_Auth(saml_sp_request(post=form), settings)
    auth.process_response(request_id=request_id)
    assert auth.get_errors() == [], (auth.get_errors(), auth.get_last_error_reason())
    assert auth.is_authenticated()
    return auth


def _redirect_login(auth):
    """The SP's Redirect-binding login URL and its request ID."""
    url = auth.login(return_to="relay-1")
    return url, auth.get_last_request_id()


def _post_request(settings, sign=None):
    """A POST-binding AuthnRequest: (form, request id); sign = (cert, key) signs it."""
    s = OneLogin_Saml2_Settings(settings, sp_validation_only=True)
    req = OneLogin_Saml2_Authn_Request(s)
    xml = req.get_xml()
    if sign:
        xml = OneLogin_Saml2_Utils.add_sign(xml, sign[1], sign[0], sign_algorithm=C.RSA_SHA256,
                                            digest_algorithm=C.SHA256)
    if isinstance(xml, str):
        xml = xml.encode()
    return {"SAMLRequest": base64.b64encode(xml).decode(), "RelayState": "relay-post"}, req.get_id()


def _response_xml(form):
    return base64.b64decode(form["SAMLResponse"])


def test_metadata(lighttpd, idp_key):
    kp, cert, _ = idp_key
    app = saml_app(signing_kp=kp, verification_kp=kp)
    r = requests.get(saml_url(lighttpd, app, "metadata/"))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    assert "Content-Disposition" not in r.headers
    doc = etree.fromstring(r.content)
    assert doc.get("entityID") == app["issuer"]
    idp = doc.find("md:IDPSSODescriptor", NS)
    assert idp.get("WantAuthnRequestsSigned") == "true"
    sso = {e.get("Binding"): e.get("Location") for e in idp.findall("md:SingleSignOnService", NS)}
    assert sso[C.BINDING_HTTP_REDIRECT] == saml_url(lighttpd, app, "sso/binding/redirect/")
    assert sso[C.BINDING_HTTP_POST] == saml_url(lighttpd, app, "sso/binding/post/")
    slo = {e.get("Binding"): e.get("Location") for e in idp.findall("md:SingleLogoutService", NS)}
    assert slo[C.BINDING_HTTP_REDIRECT] == saml_url(lighttpd, app, "slo/binding/redirect/")
    published = idp.find("md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    assert published == "".join(cert.strip().splitlines()[1:-1])
    # authentik signs its metadata; the signature covers the whole document.
    _xmlsec_verify(r.content, cert, "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor")
    r = requests.get(saml_url(lighttpd, app, "metadata/") + "?download")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s_authentik_meta.xml"' % app["name"]
    r = requests.get(saml_url(lighttpd, app, "metadata/") + "?force_binding=" + C.BINDING_HTTP_POST)
    doc = etree.fromstring(r.content)
    assert {e.get("Binding") for e in doc.iter("{%s}SingleSignOnService" % NS["md"])} == {C.BINDING_HTTP_POST}
    assert requests.get("%s/application/saml/no-such-app/metadata/" % lighttpd).status_code == 404


def _xmlsec_verify(xml, cert_pem, id_node):
    """xmlsec1 checks the first signature of xml, or of its saml:Assertion on its own when
    id_node is the Assertion (xmlsec1 checks one signature per run)."""
    if id_node.endswith(":Assertion"):
        doc = etree.fromstring(xml)
        xml = etree.tostring(doc if doc.tag.endswith("}Assertion") else doc.find("saml:Assertion", NS))
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "cert.pem")
        x = os.path.join(d, "doc.xml")
        with open(c, "w") as f:
            f.write(cert_pem)
        with open(x, "wb") as f:
            f.write(xml)
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", c, "--id-attr:ID", id_node, x],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr


def test_sso_redirect_binding_unsigned(lighttpd, idp_key):
    kp, cert, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, uid, username = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    assert url.startswith(saml_url(lighttpd, app, "sso/binding/redirect/"))
    kind, ch = saml_login(browser, url)
    assert kind == "form", (kind, ch)
    assert ch["url"] == SAML_SP + "/acs"
    assert ch["attrs"]["RelayState"] == "relay-1"
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_nameid() == _uid(uid)
    assert auth.get_nameid_format() == "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    attrs = auth.get_attributes()
    assert attrs[USERNAME_ATTR] == [username]
    assert attrs[EMAIL_ATTR] == [username + "@example.com"]
    assert attrs[UID_ATTR] == [str(uid)]
    assert auth.get_session_index()
    # The same Response for another request ID is refused by the SP (InResponseTo).
    other = OneLogin_Saml2_Auth(saml_sp_request(post=ch["attrs"]), settings)
    other.process_response(request_id="_another")
    assert not other.is_authenticated()
    # The login was recorded for single logout, and authentik's event written.
    row = sql("SELECT name_id, session_index FROM saml_sessions WHERE provider_id = %s AND user_id = %s",
              app["provider_id"], uid)
    assert row == [(_uid(uid), auth.get_session_index())]
    assert sql("SELECT count(*) FROM events WHERE action = 'authorize_application' AND "
               "context -> 'authorized_application' ->> 'name' = %s", app["name"])[0][0] == 1
    _xmlsec_verify(_response_xml(ch["attrs"]), cert, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion")


def test_sso_redirect_binding_signed_request(lighttpd, idp_key, sp_key):
    kp, _, _ = idp_key
    skp, scert, skey = sp_key
    app = saml_app(signing_kp=kp, verification_kp=skp)
    settings = saml_sp_settings(lighttpd, app, scert, skey, authnRequestsSigned=True)
    browser, uid, _ = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    assert "Signature=" in url and "SigAlg=" in url
    kind, ch = saml_login(browser, url)
    assert kind == "form", (kind, ch)
    _accept(settings, ch["attrs"], rid)


def test_sso_post_binding_unsigned(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, uid, _ = oidc_user_browser(lighttpd)
    form, rid = _post_request(settings)
    kind, ch = saml_login(browser, saml_url(lighttpd, app, "sso/binding/post/"), post=form)
    assert kind == "form", (kind, ch)
    assert ch["attrs"]["RelayState"] == "relay-post"
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_nameid() == _uid(uid)


def test_sso_post_binding_signed_request(lighttpd, idp_key, sp_key):
    kp, _, _ = idp_key
    skp, scert, skey = sp_key
    app = saml_app(signing_kp=kp, verification_kp=skp)
    settings = saml_sp_settings(lighttpd, app, scert, skey, authnRequestsSigned=True)
    browser, _, _ = oidc_user_browser(lighttpd)
    form, rid = _post_request(settings, sign=(scert, skey))
    kind, ch = saml_login(browser, saml_url(lighttpd, app, "sso/binding/post/"), post=form)
    assert kind == "form", (kind, ch)
    _accept(settings, ch["attrs"], rid)


def test_sso_logged_in_user_needs_no_login(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, _ = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    assert saml_login(browser, url)[0] == "form"
    seen = len(browser.challenges)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    assert kind == "form"
    assert [c["component"] for c in browser.challenges[seen:]] == ["ak-stage-autosubmit"]
    _accept(settings, ch["attrs"], rid)


def test_idp_initiated(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp, default_relay_state="https://sp.example/home")
    settings = saml_sp_settings(lighttpd, app)
    browser, uid, _ = oidc_user_browser(lighttpd)
    kind, ch = saml_login(browser, saml_url(lighttpd, app, "sso/binding/init/"))
    assert kind == "form", (kind, ch)
    assert ch["attrs"]["RelayState"] == "https://sp.example/home"
    doc = etree.fromstring(_response_xml(ch["attrs"]))
    assert doc.get("InResponseTo") is None
    assert doc.find("saml:Assertion/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
                    NS).get("InResponseTo") is None
    auth = _accept(settings, ch["attrs"], None)
    assert auth.get_nameid() == _uid(uid)


def test_encrypted_assertion(lighttpd, idp_key, sp_key):
    kp, cert, _ = idp_key
    skp, scert, skey = sp_key
    app = saml_app(signing_kp=kp, encryption_kp=skp, sign_response=True)
    settings = saml_sp_settings(lighttpd, app, scert, skey, wantAssertionsEncrypted=True,
                                wantMessagesSigned=True)
    browser, _, username = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    assert kind == "form", (kind, ch)
    raw = _response_xml(ch["attrs"])
    doc = etree.fromstring(raw)
    assert doc.find("saml:Assertion", NS) is None
    enc = doc.find("saml:EncryptedAssertion/{http://www.w3.org/2001/04/xmlenc#}EncryptedData", NS)
    assert enc is not None
    method = enc.find("{http://www.w3.org/2001/04/xmlenc#}EncryptionMethod").get("Algorithm")
    assert method == "http://www.w3.org/2009/xmlenc11#aes256-gcm"
    assert username.encode() not in raw
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_attributes()[USERNAME_ATTR] == [username]
    _xmlsec_verify(raw, cert, "urn:oasis:names:tc:SAML:2.0:protocol:Response")
    # Without the SP's key the assertion cannot be read: another SP key fails.
    other = saml_sp_settings(lighttpd, app, cert, idp_key[2], wantAssertionsEncrypted=True)
    bad = OneLogin_Saml2_Auth(saml_sp_request(post=ch["attrs"]), other)
    try:
        bad.process_response(request_id=rid)
    except Exception:  # the library raises on a key that cannot decrypt
        pass
    assert not bad.is_authenticated()


def test_signed_response_and_assertion(lighttpd, idp_key):
    kp, cert, _ = idp_key
    app = saml_app(signing_kp=kp, sign_response=True, sign_assertion=True,
                   digest_algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384",
                   signature_algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")
    settings = saml_sp_settings(lighttpd, app, wantMessagesSigned=True)
    browser, _, _ = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    raw = _response_xml(ch["attrs"])
    doc = etree.fromstring(raw)
    sigs = doc.findall("ds:Signature", NS) + doc.findall("saml:Assertion/ds:Signature", NS)
    assert len(sigs) == 2
    for s in sigs:
        assert s.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha512")
        assert s.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm").endswith("sha384")
        assert s.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == \
            "http://www.w3.org/2001/10/xml-exc-c14n#"
    _accept(settings, ch["attrs"], rid)
    _xmlsec_verify(raw, cert, "urn:oasis:names:tc:SAML:2.0:protocol:Response")
    _xmlsec_verify(raw, cert, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion")
    # A byte changed inside the signed assertion breaks it for the SP and for xmlsec1.
    tampered = raw.replace(b"@example.com", b"@evil.example", 1)
    form = dict(ch["attrs"], SAMLResponse=base64.b64encode(tampered).decode())
    auth = OneLogin_Saml2_Auth(saml_sp_request(post=form), settings)
    auth.process_response(request_id=rid)
    assert not auth.is_authenticated()


def test_sp_binding_redirect_signs_the_query(lighttpd, idp_key):
    kp, cert, _ = idp_key
    app = saml_app(signing_kp=kp, sp_binding="redirect")
    browser, _, username = oidc_user_browser(lighttpd)
    settings = saml_sp_settings(lighttpd, app)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, to = saml_login(browser, url)
    assert kind == "stop" and to.startswith(SAML_SP + "/acs?"), (kind, to)
    raw_query = to.split("?", 1)[1]
    q = dict(urlparse.parse_qsl(raw_query))
    assert q["RelayState"] == "relay-1"
    assert q["SigAlg"] == C.RSA_SHA256
    signed = raw_query.split("&Signature=")[0]
    assert OneLogin_Saml2_Utils.validate_binary_sign(signed, base64.b64decode(q["Signature"]), cert,
                                                     C.RSA_SHA256)
    xml = zlib.decompress(base64.b64decode(q["SAMLResponse"]), -15)
    doc = etree.fromstring(xml)
    assert doc.get("InResponseTo") == rid
    assert doc.get("Destination") == SAML_SP + "/acs"
    # The Redirect binding carries no enveloped signature on the Response itself.
    assert doc.find("ds:Signature", NS) is None
    assert doc.find("saml:Assertion/ds:Signature", NS) is not None
    assert username.encode() in xml


@pytest.mark.parametrize("fmt,want", [
    ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", "email"),
    ("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "uid"),
    ("urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "transient"),
])
def test_name_id_formats(lighttpd, idp_key, fmt, want):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    settings["sp"]["NameIDFormat"] = fmt
    browser, uid, username = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_nameid_format() == fmt
    if want == "email":
        assert auth.get_nameid() == username + "@example.com"
    elif want == "uid":
        assert auth.get_nameid() == _uid(uid)
    else:
        assert len(auth.get_nameid()) == 64 and auth.get_nameid() != _uid(uid)


def test_name_id_mapping_and_authn_context(lighttpd, idp_key):
    kp, _, _ = idp_key
    nm = sql("INSERT INTO property_mappings (name, type, saml_name, expression) VALUES "
             "(%s, 'samlpropertymapping', 'nameid', 'return \"n-\" .. request.user.username') "
             "RETURNING pm_uuid::text", "nm-" + os.urandom(4).hex())[0][0]
    am = sql("INSERT INTO property_mappings (name, type, saml_name, expression) VALUES "
             "(%s, 'samlpropertymapping', 'ac', 'return \"urn:custom:ac\"') "
             "RETURNING pm_uuid::text", "am-" + os.urandom(4).hex())[0][0]
    app = saml_app(signing_kp=kp, name_id_mapping=nm, authn_context_class_ref_mapping=am)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, username = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_nameid() == "n-" + username
    assert auth.get_last_authn_contexts() == ["urn:custom:ac"]


def test_default_authn_context_is_password(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    settings = saml_sp_settings(lighttpd, app)
    browser, _, _ = oidc_user_browser(lighttpd)
    url, rid = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, ch = saml_login(browser, url)
    auth = _accept(settings, ch["attrs"], rid)
    assert auth.get_last_authn_contexts() == [
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"]


def test_application_policy_denies(lighttpd, idp_key):
    kp, _, _ = idp_key
    app = saml_app(signing_kp=kp)
    oauth2_bind_group(app["app_uuid"])
    settings = saml_sp_settings(lighttpd, app)
    browser, _, _ = oidc_user_browser(lighttpd)
    url, _ = _redirect_login(OneLogin_Saml2_Auth(saml_sp_request(path="/login"), settings))
    kind, r = saml_login(browser, url)
    assert kind == "page" and r.status_code == 403, (kind, r)
    assert "text/html" in r.headers["Content-Type"]
    assert "Request has been denied." in r.text
