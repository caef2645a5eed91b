"""Sets up make bench's SAML workload on a running stack, and checks what it produced.

setup BASE STATE_DIR OUT_ENV OUT_SESSIONS OUT_TEMPLATE SESSIONS
    A generated RSA-2048 key pair (through the API), a SAML provider signing its assertions
    with it (rsa-sha256, sha256 digests) on the implicit-consent authorization flow, bound to a
    new application, as the integration tests make them; SESSIONS users, each logged in once
    through the flow executor (OUT_SESSIONS: "authentik_session authentik_csrf" a line); the
    AuthnRequest that python3-onelogin-saml2 makes for this IdP, with @ID@ and @INSTANT@ where
    its ID and IssueInstant go (OUT_TEMPLATE); OUT_ENV: shell assignments (SAML_SLUG,
    SAML_KEY_BITS). One sign-on is made and validated before the bench starts.

check BASE STATE_DIR ENV SAMPLE
    SAMPLE holds a request ID and the SAMLResponse that answered it (base64): the SP library
    validates it in strict mode with custos's metadata as its only input (signature,
    InResponseTo, audience, destination, conditions). Exits non-zero when it does not.

BENCH_TOKEN in the environment is a superuser's API token.
"""
import os
import re
import sys
import urllib.parse as urlparse

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def _conftest(state):
    os.environ["CU_TEST_STATE"] = state
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    import conftest  # the integration tests' own makers, on this stack
    return conftest


def _write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v.strip("'")
    return env


def _validate(c, base, app, form, request_id):
    """The SP's strict validation; returns the Auth, or exits with its errors."""
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    settings = c.saml_sp_settings(base, app)
    auth = OneLogin_Saml2_Auth(c.saml_sp_request(post=form), settings)
    auth.process_response(request_id=request_id)
    if auth.get_errors() or not auth.is_authenticated():
        sys.exit("the SP refused the Response: %r %s" % (auth.get_errors(),
                                                          auth.get_last_error_reason()))
    return auth


def setup(base, state, out_env, out_sessions, out_template, sessions):
    c = _conftest(state)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    api = c.Api(base, os.environ["BENCH_TOKEN"])
    kp, _, key = c.saml_keypair(api, "rsa")
    bits = load_pem_private_key(key.encode(), None).key_size
    if bits != 2048:
        sys.exit("the generated signing key has %d bits, not 2048" % bits)
    app = c.saml_app(signing_kp=kp, sign_assertion=True, sign_response=False,
                     digest_algorithm=SHA256, signature_algorithm=RSA_SHA256,
                     flow="default-provider-authorization-implicit-consent")
    settings = c.saml_sp_settings(base, app)

    # The request the SP library makes, its ID and instant left for the client to fill.
    req = OneLogin_Saml2_Authn_Request(OneLogin_Saml2_Settings(settings, sp_validation_only=True))
    xml = req.get_xml()
    if isinstance(xml, bytes):
        xml = xml.decode()
    xml, n_id = re.subn(r'\bID="[^"]+"', 'ID="@ID@"', xml, count=1)
    xml, n_at = re.subn(r'\bIssueInstant="[^"]+"', 'IssueInstant="@INSTANT@"', xml, count=1)
    if n_id != 1 or n_at != 1:
        sys.exit("unexpected AuthnRequest: %s" % xml[:300])
    _write_private(out_template, xml)

    lines = []
    browser = None
    for _ in range(int(sessions)):
        s, _, _ = c.oauth2_browser(base)
        cookie, csrf = s.cookies.get("authentik_session"), s.cookies.get("authentik_csrf")
        if not cookie or not csrf:
            sys.exit("the login left no session: %r" % s.cookies.get_dict())
        lines.append("%s %s" % (cookie, csrf))
        browser = browser or s

    # One sign-on through the same two requests the client makes, validated by the SP.
    auth = OneLogin_Saml2_Auth(c.saml_sp_request(path="/login"), settings)
    url = auth.login(return_to="bench")
    rid = auth.get_last_request_id()
    r = browser.get(url, allow_redirects=False)
    if r.status_code != 302 or not r.headers.get("Location", "").startswith("/if/flow/"):
        sys.exit("sso: %d %s %s" % (r.status_code, r.headers.get("Location"), r.text[:300]))
    loc = urlparse.urlsplit(r.headers["Location"])
    r = browser.get("%s/api/v3/flows/executor/%s/?query=%s" % (
        base, loc.path.split("/")[3], urlparse.quote(loc.query, safe="")),
        headers={"X-authentik-CSRF": browser.cookies.get("authentik_csrf")})
    ch = r.json() if r.status_code == 200 else {}
    if ch.get("component") != "ak-stage-autosubmit":
        sys.exit("executor: %d %s" % (r.status_code, r.text[:300]))
    _validate(c, base, app, ch["attrs"], rid)

    _write_private(out_sessions, "\n".join(lines) + "\n")
    _write_private(out_env, "SAML_SLUG='%s'\nSAML_KEY_BITS='%d'\nSAML_RESPONSE_BYTES='%d'\n" % (
        app["slug"], bits, len(ch["attrs"]["SAMLResponse"]) * 3 // 4))


def check(base, state, env_path, sample):
    c = _conftest(state)
    env = _read_env(env_path)
    with open(sample) as f:
        rid, response = f.read().split()[:2]
    app = {"slug": env["SAML_SLUG"]}
    _validate(c, base, app, {"SAMLResponse": response, "RelayState": "bench"}, rid)


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "setup":
        setup(*sys.argv[2:8])
    elif len(sys.argv) == 6 and sys.argv[1] == "check":
        check(*sys.argv[2:6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
