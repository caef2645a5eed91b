"""The SAML endpoints against attacks beyond test_saml_security.py: SHA-1 signatures where the
provider does not use SHA-1, Redirect-binding query tricks, references to the whole document,
keys offered in KeyInfo, user values that try to break out of the Response's XML, LogoutRequests
forged for another user's session, and multipart bodies at import_metadata's edges."""
import base64
import secrets
import urllib.parse as urlparse

import pytest
import requests
import xmlsec
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from conftest import SAML_SP, oidc_user_browser, saml_app, saml_keypair, saml_url, sql
from test_saml_security import (NS_A, NS_P, _instant, accepted, authn, get, post,
                                redirect_query, refused)

DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture
def sp_key(admin):
    return saml_keypair(admin)


def _signed(xml, cert, key, alg=C.RSA_SHA256, digest=C.SHA256):
    out = OneLogin_Saml2_Utils.add_sign(xml, key, cert, sign_algorithm=alg,
                                        digest_algorithm=digest)
    return out if isinstance(out, bytes) else out.encode()


def _query(xml, key, alg_uri, transform, relay=None):
    q = redirect_query(xml, relay=relay)
    q += "&SigAlg=" + urlparse.quote(alg_uri, safe="")
    sig = OneLogin_Saml2_Utils.sign_binary(q, key, transform)
    return q + "&Signature=" + urlparse.quote(base64.b64encode(sig).decode(), safe="")


def test_sha1_refused_unless_the_provider_uses_it(lighttpd, sp_key):
    """A provider set up for SHA-256 does not take SHA-1 signatures: no downgrade to a hash
    with practical collisions because the SP's message says so."""
    skp, scert, skey = sp_key
    app = saml_app(verification_kp=skp)
    refused(get(lighttpd, app, _query(authn(), skey, C.RSA_SHA1, xmlsec.Transform.RSA_SHA1)),
            400, "Failed to verify signature")
    refused(post(lighttpd, app, _signed(authn(), scert, skey, C.RSA_SHA1, C.SHA1)), 400,
            "Failed to verify signature")
    refused(post(lighttpd, app, _signed(authn(), scert, skey, C.RSA_SHA256, C.SHA1)), 400,
            "Failed to verify signature")
    refused(post(lighttpd, app, _signed(authn(), scert, skey, C.RSA_SHA1, C.SHA256)), 400,
            "Failed to verify signature")
    # The same requests with SHA-256 pass.
    accepted(get(lighttpd, app, _query(authn(), skey, C.RSA_SHA256, xmlsec.Transform.RSA_SHA256)))
    accepted(post(lighttpd, app, _signed(authn(), scert, skey)))
    # A provider configured for RSA-SHA1 (an old SP) takes them.
    old = saml_app(verification_kp=skp, signature_algorithm=C.RSA_SHA1, digest_algorithm=C.SHA1)
    accepted(get(lighttpd, old, _query(authn(), skey, C.RSA_SHA1, xmlsec.Transform.RSA_SHA1)))
    accepted(post(lighttpd, old, _signed(authn(), scert, skey, C.RSA_SHA1, C.SHA1)))


def test_sha1_logout_request_refused(lighttpd, sp_key):
    skp, scert, skey = sp_key
    app = saml_app(verification_kp=skp)
    lo = _logout_request("x", "y")
    r = requests.get(saml_url(lighttpd, app, "slo/binding/redirect/") + "?" +
                     _query(lo, skey, C.RSA_SHA1, xmlsec.Transform.RSA_SHA1), allow_redirects=False)
    refused(r, 400, "Failed to verify signature")
    r = requests.post(saml_url(lighttpd, app, "slo/binding/post/"), allow_redirects=False,
                      data={"SAMLRequest": base64.b64encode(
                          _signed(_logout_request("x", "y"), scert, skey, C.RSA_SHA1,
                                  C.SHA1)).decode()})
    refused(r, 400, "Failed to verify signature")


def test_redirect_query_tricks(lighttpd, sp_key):
    skp, _, skey = sp_key
    app = saml_app(verification_kp=skp)

    def q(relay=None):
        return _query(authn(), skey, C.RSA_SHA256, xmlsec.Transform.RSA_SHA256, relay=relay)

    # The parameters in another order are the same signed octets.
    parts = q("r1").split("&")
    accepted(get(lighttpd, app, "&".join(reversed(parts))))
    # RelayState is signed: changed, added or dropped, the signature fails.
    s = q("r1")
    refused(get(lighttpd, app, s.replace("RelayState=r1", "RelayState=r2")), 400,
            "Failed to verify signature")
    refused(get(lighttpd, app, q() + "&RelayState=evil"), 400, "Failed to verify signature")
    refused(get(lighttpd, app, "&".join(p for p in q("r1").split("&")
                                        if not p.startswith("RelayState="))), 400,
            "Failed to verify signature")
    # A second copy of any signed parameter: which one was signed would be a guess.
    for name in ("SAMLRequest", "RelayState", "SigAlg", "Signature"):
        s = q("r1")
        dup = [p for p in s.split("&") if p.startswith(name + "=")][0]
        refused(get(lighttpd, app, s + "&" + dup), 400)
    # SigAlg without Signature, an unknown SigAlg, a signature with an EC algorithm on an RSA key.
    s = q()
    refused(get(lighttpd, app, s.split("&Signature=")[0]), 400)
    refused(get(lighttpd, app, s.replace(urlparse.quote(C.RSA_SHA256, safe=""),
                                         urlparse.quote(DS + "hmac-sha1", safe=""))), 400)
    refused(get(lighttpd, app, s.replace(urlparse.quote(C.RSA_SHA256, safe=""), urlparse.quote(
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", safe=""))), 400)


def _sign_whole_document(xml, key):
    root = etree.fromstring(xml.encode())
    sig = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256,
                                 ns="ds")
    root.insert(1, sig)
    ref = xmlsec.template.add_reference(sig, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(key.encode(), xmlsec.KeyFormat.PEM)
    ctx.sign(sig)
    return etree.tostring(root)


def test_signature_forms_that_do_not_bind_refused(lighttpd, admin, sp_key):
    skp, scert, skey = sp_key
    app = saml_app(verification_kp=skp)
    # Reference URI="" (the whole document) is valid XML DSig, and binds nothing by ID.
    refused(post(lighttpd, app, _sign_whole_document(authn(), skey)), 400,
            "Failed to verify signature")
    # A key of the attacker's own, offered in KeyInfo with its certificate: never used.
    _, ecert, ekey = saml_keypair(admin)
    refused(post(lighttpd, app, _signed(authn(), ecert, ekey)), 400, "Failed to verify signature")
    # The signed request's NameIDPolicy changed after signing.
    good = _signed(authn(inner='<samlp:NameIDPolicy Format="%s"/>' % C.NAMEID_PERSISTENT),
                   scert, skey)
    refused(post(lighttpd, app, good.replace(C.NAMEID_PERSISTENT.encode(),
                                             C.NAMEID_EMAIL_ADDRESS.encode())), 400,
            "Failed to verify signature")
    # An xml:id elsewhere with the root's ID value.
    good = _signed(authn(rid="_dup", inner='<samlp:Extensions><saml:X xml:id="_dup"/>'
                                            '</samlp:Extensions>'), scert, skey)
    refused(post(lighttpd, app, good), 400, "Failed to verify signature")


def _sso_as(lighttpd, app, browser, relay=None):
    r = post(lighttpd, app, authn(), relay=relay, session=browser.s)
    assert r.status_code == 302, r.text[:300]
    kind, ch = browser.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(SAML_SP,))
    assert kind == "form", (kind, ch)
    return ch


def test_user_values_cannot_break_the_response_xml(lighttpd):
    """Name and email are the user's own to choose: markup, CDATA ends, entities, control
    characters all come out as text (control characters as U+FFFD), never as elements."""
    app = saml_app()
    browser, uid, _ = oidc_user_browser(lighttpd)
    evil = ('x</saml:AttributeValue></saml:Attribute><saml:Attribute Name="admin">'
            '<saml:AttributeValue>true]]>&amp;&lt;\x01\x1b\ufffe')
    sql("UPDATE users SET name = %s, email = %s WHERE id = %s", evil, "a&b<c>@example.com", uid)
    ch = _sso_as(lighttpd, app, browser)
    xml = base64.b64decode(ch["attrs"]["SAMLResponse"])
    doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    names = [a.get("Name") for a in doc.iter("{%s}Attribute" % NS_A)]
    assert "admin" not in names, names
    values = [v.text for v in doc.iter("{%s}AttributeValue" % NS_A)]
    want = evil.replace("\x01", "\ufffd").replace("\x1b", "\ufffd").replace(
        "\ufffe", "\ufffd\ufffd\ufffd")
    assert want in values, values
    assert "a&b<c>@example.com" in values, values


def _logout_request(name_id, session_index, rid=None):
    return ('<samlp:LogoutRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" '
            'IssueInstant="%s"><saml:Issuer>%s/metadata</saml:Issuer><saml:NameID>%s'
            '</saml:NameID><samlp:SessionIndex>%s</samlp:SessionIndex></samlp:LogoutRequest>'
            % (NS_P, NS_A, rid or "_" + secrets.token_hex(16), _instant(), SAML_SP, name_id,
               session_index))


def _me(browser, base):
    r = browser.s.get(base + "/api/v3/core/users/me/")
    return r.json()["user"]["pk"] if r.status_code == 200 else None


def test_forged_logout_request_ends_only_the_senders_session(lighttpd):
    """Without a verification key a LogoutRequest is unauthenticated: naming another user's
    NameID and SessionIndex ends the sender's own session only, never the named one."""
    app = saml_app()
    victim, vid, _ = oidc_user_browser(lighttpd)
    _sso_as(lighttpd, app, victim)
    assert _me(victim, lighttpd) == vid
    (name_id, index), = sql("SELECT name_id, session_index FROM saml_sessions WHERE "
                            "provider_id = %s AND user_id = %s", app["provider_id"], vid)
    forged = _logout_request(name_id, index)
    # From a browser with no session, and from another logged-in user's browser.
    r = requests.get(saml_url(lighttpd, app, "slo/binding/redirect/") + "?" +
                     redirect_query(forged), allow_redirects=True)
    assert r.status_code < 500
    attacker, aid, _ = oidc_user_browser(lighttpd)
    _sso_as(lighttpd, app, attacker)
    kind, _ = attacker.go(saml_url(lighttpd, app, "slo/binding/redirect/") + "?" +
                          redirect_query(_logout_request(name_id, index)), stop_at=(SAML_SP,))
    assert _me(attacker, lighttpd) is None
    assert _me(victim, lighttpd) == vid
    assert sql("SELECT count(*) FROM saml_sessions WHERE provider_id = %s AND user_id = %s",
               app["provider_id"], vid)[0][0] == 1


def test_relay_state_never_steers_the_redirect_binding(lighttpd):
    """With the Redirect binding for the Response, the Location is the ACS URL; the RelayState
    is one percent-encoded parameter in it, whatever it holds."""
    app = saml_app(sp_binding="redirect")
    browser, _, _ = oidc_user_browser(lighttpd)
    relay = "https://evil.example/?a=1&SAMLResponse=x#\r\nLocation: https://evil.example/"
    r = post(lighttpd, app, authn(), relay=relay, session=browser.s)
    kind, to = browser.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(SAML_SP,))
    assert kind == "stop"
    assert to.startswith(SAML_SP + "/acs?SAMLResponse="), to
    q = urlparse.parse_qs(urlparse.urlsplit(to).query)
    assert q["RelayState"] == [relay] and len(q["SAMLResponse"]) == 1


def test_import_metadata_multipart_edges(admin):
    url = admin.url("providers/saml/import_metadata/")

    def send(body, boundary):
        return admin.s.post(url, data=body, headers={
            "Content-Type": "multipart/form-data; boundary=%s" % boundary})

    def part(name, value, boundary, filename=None):
        disp = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename else "")
        return b"--%s\r\nContent-Disposition: %s\r\n\r\n%s\r\n" % (
            boundary.encode(), disp.encode(), value)

    # A boundary longer than RFC 2046 allows, and an empty one.
    b = "b" * 71
    r = send(part("name", b"x", b) + b"--%s--\r\n" % b.encode(), b)
    assert r.status_code == 400 and "boundary" in r.json()["detail"]
    r = send(b"--\r\n\r\n", '""')
    assert r.status_code == 400
    # More parts than any form of this endpoint has.
    b = "zz"
    r = send(b"".join(part("f%d" % i, b"v", b) for i in range(17)) + b"--zz--\r\n", b)
    assert r.status_code == 400 and "too many parts" in r.json()["detail"]
    # A part whose headers never end, or are huge.
    r = send(b"--zz\r\nContent-Disposition: form-data; name=\"a\"" + b"x" * 20000, b)
    assert r.status_code == 400 and "headers" in r.json()["detail"]
    # A part without a closing delimiter.
    r = send(b"--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", b)
    assert r.status_code == 400 and "does not end" in r.json()["detail"]
    # The boundary inside a value, not after a line break, is data; a NUL in headers is not.
    r = send(part("name", b"--zz--zz", b) + b"--zz--\r\n", b)
    assert r.status_code == 400 and set(r.json()) >= {"authorization_flow", "file"}
    assert "name" not in r.json()
    r = send(b"--zz\r\nContent-Disposition: form-data; name=\"a\x00b\"\r\n\r\nv\r\n--zz--", b)
    assert r.status_code == 400 and "NUL" in r.json()["detail"]
