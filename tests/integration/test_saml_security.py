"""The SAML endpoints against hostile input (issue 7's list): XXE and entity expansion, oversized
and inflating messages, signature wrapping, unsigned and badly signed requests where a signature
is required, foreign ACS URLs, replays, stale or future IssueInstants, and RelayState values
that try to reach a page or the form's target. Every refusal is an HTML error page with status
4xx and never a redirect."""
import base64
import datetime
import secrets
import urllib.parse as urlparse
import zlib

import pytest
import requests
import xmlsec
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from conftest import SAML_SP, oidc_user_browser, saml_app, saml_keypair, saml_login, saml_url

NS_P = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_A = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture
def idp_key(admin):
    return saml_keypair(admin)


@pytest.fixture
def sp_key(admin):
    return saml_keypair(admin)


def _instant(delta=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def authn(rid=None, acs=SAML_SP + "/acs", instant=None, inner=""):
    rid = rid or "_" + secrets.token_hex(16)
    acs_attr = ' AssertionConsumerServiceURL="%s"' % acs if acs is not None else ""
    return ('<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" '
            'IssueInstant="%s"%s><saml:Issuer>%s/metadata</saml:Issuer>%s</samlp:AuthnRequest>'
            % (NS_P, NS_A, rid, instant or _instant(), acs_attr, SAML_SP, inner))


def signed(xml, cert, key):
    out = OneLogin_Saml2_Utils.add_sign(xml, key, cert, sign_algorithm=C.RSA_SHA256,
                                        digest_algorithm=C.SHA256)
    return out if isinstance(out, bytes) else out.encode()


def post(base, app, xml, relay=None, session=None):
    if isinstance(xml, str):
        xml = xml.encode()
    data = {"SAMLRequest": base64.b64encode(xml).decode()}
    if relay is not None:
        data["RelayState"] = relay
    return (session or requests).post(saml_url(base, app, "sso/binding/post/"), data=data,
                                      allow_redirects=False)


def redirect_query(xml, relay=None, key=None):
    if isinstance(xml, str):
        xml = xml.encode()
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    q = "SAMLRequest=" + urlparse.quote(base64.b64encode(z.compress(xml) + z.flush()).decode(), safe="")
    if relay is not None:
        q += "&RelayState=" + urlparse.quote(relay, safe="")
    if key is not None:
        q += "&SigAlg=" + urlparse.quote(C.RSA_SHA256, safe="")
        sig = OneLogin_Saml2_Utils.sign_binary(q, key, xmlsec.Transform.RSA_SHA256)
        q += "&Signature=" + urlparse.quote(base64.b64encode(sig).decode(), safe="")
    return q


def get(base, app, query, session=None):
    return (session or requests).get(saml_url(base, app, "sso/binding/redirect/") + "?" + query,
                                     allow_redirects=False)


def refused(r, status=400, text=None):
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    if text is not None:
        assert text in r.text, r.text[:800]


def accepted(r):
    """Checked and sent on (to the login, no one being logged in)."""
    assert r.status_code == 302, (r.status_code, r.text[:400])
    assert "/flows/-/default/authentication/" in r.headers["Location"] or \
        "/if/flow/" in r.headers["Location"]


def test_good_request_is_accepted(lighttpd):
    app = saml_app()
    accepted(post(lighttpd, app, authn()))
    accepted(get(lighttpd, app, redirect_query(authn(acs=None))))


XXE = ('<?xml version="1.0"?><!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM '
       '"file:///etc/passwd">]>' + authn(inner="<saml:Foo>&xxe;</saml:Foo>"))
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
          "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                  for i in range(1, 10)) + ']>' + authn(inner="<saml:Foo>&lol9;</saml:Foo>"))


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_dtd_payloads_refused(lighttpd, payload):
    app = saml_app()
    for r in (post(lighttpd, app, payload), get(lighttpd, app, redirect_query(payload))):
        refused(r, 400, "Cannot decode SAML request.")
        assert "root:" not in r.text and "lollol" not in r.text


def test_oversized_messages_refused(lighttpd):
    app = saml_app()
    big = authn(inner="<samlp:Extensions><saml:Foo>%s</saml:Foo></samlp:Extensions>" % ("a" * 70000))
    refused(post(lighttpd, app, big), 413)
    # A small deflated message that inflates past every limit.
    bomb = authn(inner="<!--%s-->" % (" " * (3 * 1024 * 1024)))
    refused(get(lighttpd, app, redirect_query(bomb)), 413)
    # A body past the route's limit is refused before it is read.
    r = requests.post(saml_url(lighttpd, app, "sso/binding/post/"),
                      data={"SAMLRequest": "A" * (400 * 1024)}, allow_redirects=False)
    assert r.status_code == 413 and "Location" not in r.headers


def test_unsigned_request_refused_with_verification_kp(lighttpd, sp_key):
    skp, _, _ = sp_key
    app = saml_app(verification_kp=skp)
    msg = "Verification Certificate configured, but request is not signed."
    refused(post(lighttpd, app, authn()), 400, msg)
    refused(get(lighttpd, app, redirect_query(authn())), 400, msg)


def test_badly_signed_request_refused(lighttpd, sp_key, idp_key):
    skp, scert, skey = sp_key
    _, icert, ikey = idp_key
    app = saml_app(verification_kp=skp)
    # Signed, but by another key.
    refused(post(lighttpd, app, signed(authn(), icert, ikey)), 400, "Failed to verify signature")
    refused(get(lighttpd, app, redirect_query(authn(), key=ikey)), 400, "Failed to verify signature")
    # The SP's own signature, then the RelayState changed: the query signature covers it.
    q = redirect_query(authn(), relay="a", key=skey).replace("RelayState=a", "RelayState=b")
    refused(get(lighttpd, app, q), 400, "Failed to verify signature")
    # Well signed by the SP: accepted, both bindings.
    accepted(post(lighttpd, app, signed(authn(), scert, skey)))
    accepted(get(lighttpd, app, redirect_query(authn(), relay="a", key=skey)))


def _el(xml):
    return etree.fromstring(xml)


def test_signature_wrapping_refused(lighttpd, sp_key):
    skp, scert, skey = sp_key
    app = saml_app(verification_kp=skp)
    good = signed(authn(rid="_orig"), scert, skey)
    ds = "{http://www.w3.org/2000/09/xmldsig#}Signature"

    # 1. The signed request wrapped in Extensions under an evil root without a signature.
    evil = _el(authn(rid="_evil", acs="https://evil.example/acs").encode())
    ext = etree.SubElement(evil, "{%s}Extensions" % NS_P)
    ext.append(_el(good))
    refused(post(lighttpd, app, etree.tostring(evil)), 400)

    # 2. The same, with the original signature moved up to the evil root.
    evil = _el(authn(rid="_evil", acs="https://evil.example/acs").encode())
    orig = _el(good)
    sig = orig.find(ds)
    orig.remove(sig)
    evil.insert(1, sig)
    ext = etree.SubElement(evil, "{%s}Extensions" % NS_P)
    ext.append(orig)
    refused(post(lighttpd, app, etree.tostring(evil)), 400, "Failed to verify signature")

    # 3. The evil root takes the original's ID (and its signature); the original hides inside.
    evil = _el(authn(rid="_orig", acs="https://evil.example/acs").encode())
    orig = _el(good)
    evil.insert(1, orig.find(ds))
    ext = etree.SubElement(evil, "{%s}Extensions" % NS_P)
    ext.append(orig)
    refused(post(lighttpd, app, etree.tostring(evil)), 400, "Failed to verify signature")

    # 4. The signed request itself with its ACS URL changed.
    orig = _el(good)
    orig.set("AssertionConsumerServiceURL", "https://evil.example/acs")
    refused(post(lighttpd, app, etree.tostring(orig)), 400, "Failed to verify signature")

    # 5. A second signature-less copy appended after the signed root (a second document).
    refused(post(lighttpd, app, good + authn(acs="https://evil.example/acs").encode()), 400)


def test_unknown_acs_url_refused_and_escaped(lighttpd):
    app = saml_app()
    evil = 'https://evil.example/acs?"><script>alert(1)</script>'
    xml = authn(acs=evil.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))
    for r in (post(lighttpd, app, xml), get(lighttpd, app, redirect_query(xml))):
        refused(r, 400, "match Provider ACS URL")
        assert "<script>" not in r.text
        assert "&lt;script&gt;" in r.text
        assert "Content-Security-Policy" in r.headers
    # A near miss is as foreign as any other URL.
    refused(post(lighttpd, app, authn(acs=SAML_SP + "/acs/")), 400, "match Provider ACS URL")
    refused(post(lighttpd, app, authn(acs=SAML_SP.upper() + "/acs")), 400, "match Provider ACS URL")


def test_replayed_request_id_refused(lighttpd, sp_key):
    skp, scert, skey = sp_key
    app = saml_app(verification_kp=skp)
    xml = signed(authn(), scert, skey)
    accepted(post(lighttpd, app, xml))
    refused(post(lighttpd, app, xml), 400, "already been used")
    q = redirect_query(authn(), key=skey)
    accepted(get(lighttpd, app, q))
    refused(get(lighttpd, app, q), 400, "already been used")
    # Another provider keeps its own IDs.
    other = saml_app(verification_kp=skp)
    accepted(post(lighttpd, other, xml))


def test_issue_instant_window(lighttpd):
    app = saml_app()
    refused(post(lighttpd, app, authn(instant=_instant(-1000))), 400, "IssueInstant")
    refused(post(lighttpd, app, authn(instant=_instant(+1000))), 400, "IssueInstant")
    refused(post(lighttpd, app, authn(instant="yesterday")), 400, "IssueInstant")
    # Within the default skew (90 s) either way.
    accepted(post(lighttpd, app, authn(instant=_instant(+60))))
    accepted(post(lighttpd, app, authn(instant=_instant(-120))))


def test_relay_state_is_data_only(lighttpd):
    app = saml_app()
    browser, _, _ = oidc_user_browser(lighttpd)
    relay = '"><script>alert(1)</script>https://evil.example/'
    xml = authn()
    r = browser.s.post(saml_url(lighttpd, app, "sso/binding/post/"),
                       data={"SAMLRequest": base64.b64encode(xml.encode()).decode(),
                             "RelayState": relay}, allow_redirects=False)
    assert r.status_code == 302
    kind, ch = browser.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(SAML_SP,))
    assert kind == "form"
    # The form goes to the provider's ACS URL whatever the RelayState says; the value travels
    # as data in the JSON challenge (never as markup).
    assert ch["url"] == SAML_SP + "/acs"
    assert ch["attrs"]["RelayState"] == relay
    assert set(ch["attrs"]) == {"SAMLResponse", "RelayState"}


def test_relay_state_too_long_refused(lighttpd):
    app = saml_app()
    refused(post(lighttpd, app, authn(), relay="x" * 1025), 400, "RelayState")
    accepted(post(lighttpd, app, authn(), relay="x" * 1024))


def test_missing_or_repeated_payload(lighttpd):
    app = saml_app()
    refused(requests.post(saml_url(lighttpd, app, "sso/binding/post/"), data={"RelayState": "x"},
                          allow_redirects=False), 400, "payload is missing")
    refused(requests.get(saml_url(lighttpd, app, "sso/binding/redirect/"), allow_redirects=False),
            400, "payload is missing")
    b64 = base64.b64encode(authn().encode()).decode()
    refused(requests.post(saml_url(lighttpd, app, "sso/binding/post/"),
                          data=[("SAMLRequest", b64), ("SAMLRequest", b64)],
                          allow_redirects=False), 400)
    refused(post(lighttpd, app, "<notsaml/>"), 400, "not a SAML AuthnRequest")
    refused(post(lighttpd, app, authn().replace('Version="2.0"', 'Version="1.1"')), 400)
    r = requests.get("%s/application/saml/no-such-app/sso/binding/init/" % lighttpd,
                     allow_redirects=False)
    refused(r, 404)


def test_resume_token_cannot_be_forged(lighttpd):
    app = saml_app()
    r = post(lighttpd, app, authn())
    accepted(r)
    nxt = urlparse.parse_qs(urlparse.urlsplit(r.headers["Location"]).query)["next"][0]
    token = urlparse.parse_qs(urlparse.urlsplit(nxt).query)["custos_saml"][0]
    payload, mac = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b'"n":' in raw
    forged = base64.urlsafe_b64encode(raw.replace(b'"n":', b'"n" :')).decode().rstrip("=")
    for t in (payload + "." + mac[:-2] + "AA", forged + "." + mac, payload):
        refused(requests.get(saml_url(lighttpd, app, "sso/binding/redirect/"),
                             params={"custos_saml": t}, allow_redirects=False), 400, "resumed")
    # The genuine token belongs to its own provider only.
    other = saml_app()
    refused(requests.get(saml_url(lighttpd, other, "sso/binding/redirect/"),
                         params={"custos_saml": token}, allow_redirects=False), 400, "resumed")


def test_resume_token_is_used_once(lighttpd):
    app = saml_app()
    browser, _, _ = oidc_user_browser(lighttpd)
    r = post(lighttpd, app, authn(), session=browser.s)
    kind, ch = browser.go(urlparse.urljoin(lighttpd, r.headers["Location"]), stop_at=(SAML_SP,))
    assert kind == "form"
    back = [u for u in browser.visited if "custos_saml=" in u]
    assert back, browser.visited
    refused(browser.s.get(back[-1], allow_redirects=False), 400, "already been answered")
