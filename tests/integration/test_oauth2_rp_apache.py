"""A real relying party: Apache httpd with Debian's mod_auth_openidc protecting /protected/,
logged in through custos by a cookie-jar browser (the flow executor answered as the flow
interface would). The RP runs from its own ServerRoot in a temporary folder on a free loopback
port; custos is the stack's lighttpd."""
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse as urlparse

import pytest

from conftest import ROOT, oauth2_app, oauth2_keypair, oidc_user_browser, sql

MODULES = "/usr/lib/apache2/modules"
TEMPLATE = os.path.join(ROOT, "tests", "integration", "rp", "httpd-oidc.conf.in")
HTDOCS = os.path.join(ROOT, "tests", "integration", "rp", "htdocs")

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(MODULES, "mod_auth_openidc.so")),
                                reason="libapache2-mod-auth-openidc is not installed "
                                       "(scripts/deps.sh installs it)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelyingParty:
    def __init__(self, port, app, root):
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.app = app
        self.root = root
        self.redirect_uri = self.url + "/protected/redirect_uri"
        self.logged_out = self.url + "/loggedout.html"

    def log(self):
        try:
            with open(os.path.join(self.root, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""


def _start_rp(app_fields, lighttpd, admin):
    port = _free_port()
    url = "http://127.0.0.1:%d" % port
    kp = oauth2_keypair(admin, "rsa")
    app = oauth2_app(redirect_uris=[url + "/protected/redirect_uri",
                                    ("strict", url + "/loggedout.html", "logout")],
                     signing_key=kp, **app_fields)
    root = tempfile.mkdtemp(prefix="custos-rp-")
    os.chmod(root, 0o755)
    shutil.copytree(HTDOCS, os.path.join(root, "htdocs"))
    for d, dirs, files in os.walk(root):
        for n in dirs:
            os.chmod(os.path.join(d, n), 0o755)
        for n in files:
            os.chmod(os.path.join(d, n), 0o644)
    user_lines = "User www-data\nGroup www-data" if os.getuid() == 0 else ""
    fill = {"MODULES": MODULES, "ROOT": root, "PORT": str(port), "USER_LINES": user_lines,
            "DISCOVERY": "%s/application/o/%s/.well-known/openid-configuration" % (
                lighttpd, app["slug"]),
            "CLIENT_ID": app["client_id"], "CLIENT_SECRET": app["client_secret"],
            "PASSPHRASE": secrets.token_hex(24)}
    with open(TEMPLATE) as f:
        conf = f.read()
    for k, v in fill.items():
        conf = conf.replace("@%s@" % k, v)
    path = os.path.join(root, "httpd.conf")
    with open(path, "w") as f:
        f.write(conf)
    # The client secret is in the file: readable by the server's own users only.
    os.chmod(path, 0o600)
    check = subprocess.run(["apache2", "-t", "-f", path], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(["apache2", "-f", path, "-DFOREGROUND"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "stderr"), "w"))
    rp = RelyingParty(port, app, root)
    deadline = time.time() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("Apache (mod_auth_openidc) did not start: %s" % rp.log())
            time.sleep(0.1)
    return proc, rp


def _stop_rp(proc, rp):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    shutil.rmtree(rp.root, ignore_errors=True)


@pytest.fixture
def rp(lighttpd, admin):
    """Apache + mod_auth_openidc for an application whose authorization flow asks consent."""
    proc, party = _start_rp({"flow": "default-provider-authorization-explicit-consent"},
                            lighttpd, admin)
    yield party
    # Shown by pytest only when the test failed.
    print("mod_auth_openidc log:\n" + party.log())
    _stop_rp(proc, party)


def _login(rp, lighttpd, **fields):
    """A fresh user opens the protected page and logs in through custos."""
    b, uid, username = oidc_user_browser(lighttpd, **fields)
    kind, r = b.go(rp.url + "/protected/")
    return b, uid, username, kind, r


def test_login_through_custos_shows_the_claims(rp, lighttpd):
    b, uid, username, kind, r = _login(rp, lighttpd, name="Ada Lovelace")
    assert kind == "page", (kind, r, rp.log())
    assert r.status_code == 200, (r.status_code, r.text[:300], rp.log())
    assert "user=%s;" % username in r.text, r.text
    assert "email=%s@example.com;" % username in r.text, r.text
    assert "name=Ada Lovelace;" in r.text, r.text
    assert "remote=%s;" % username in r.text, r.text
    assert "iss=%s/application/o/%s/;" % (lighttpd, rp.app["slug"]) in r.text, r.text

    # The RP sent an authorization code request with PKCE S256 to custos's authorize endpoint,
    # the user logged in and gave consent there, and custos sent the browser back to the RP's
    # registered redirect URI with a code.
    authz = [u for u in b.visited if u.startswith(lighttpd + "/application/o/authorize/")]
    assert authz, b.visited
    q = urlparse.parse_qs(urlparse.urlsplit(authz[0]).query)
    assert q["client_id"] == [rp.app["client_id"]]
    assert q["response_type"] == ["code"]
    assert q["code_challenge_method"] == ["S256"]
    assert set(q["scope"][0].split()) == {"openid", "email", "profile"}
    components = [c["component"] for c in b.challenges]
    assert "ak-stage-password" in components and "ak-stage-consent" in components, components
    back = [u for u in b.visited if u.startswith(rp.redirect_uri + "?")]
    assert back, b.visited
    bq = urlparse.parse_qs(urlparse.urlsplit(back[0]).query)
    assert bq.get("code") and bq.get("state") == q["state"], back[0]

    # The RP's session now stands on its own: the page comes straight back.
    r2 = b.s.get(rp.url + "/protected/", allow_redirects=False)
    assert r2.status_code == 200 and "user=%s;" % username in r2.text

    # custos kept the grant: one access token for this user and provider.
    n = sql("SELECT count(*) FROM oauth2_access_tokens WHERE user_id = %s AND provider_id = %s",
            uid, rp.app["provider_id"])[0][0]
    assert n >= 1


def test_code_replayed_at_the_rp_is_refused(rp, lighttpd):
    b, uid, username, kind, r = _login(rp, lighttpd)
    assert kind == "page" and r.status_code == 200, (kind, rp.log())
    back = [u for u in b.visited if u.startswith(rp.redirect_uri + "?")][0]
    # Another browser bringing the same code and state back has no state cookie for it, and the
    # code is spent anyway: no session.
    other = oidc_user_browser(lighttpd)[0]
    r2 = other.s.get(back, allow_redirects=False)
    assert r2.status_code != 200 or "user=%s;" % username not in r2.text
    r3 = other.s.get(rp.url + "/protected/", allow_redirects=False)
    assert r3.status_code == 302
    assert r3.headers["Location"].startswith(lighttpd + "/application/o/authorize/")


def test_user_denied_by_an_application_policy_never_reaches_the_page(rp, lighttpd):
    # Only members of a group may use the application.
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text",
                "rp-allowed-" + secrets.token_hex(4))[0][0]
    sql("INSERT INTO policy_bindings (group_uuid, target, \"order\") VALUES (%s, %s, 0)",
        group, rp.app["app_uuid"])

    b, uid, username = oidc_user_browser(lighttpd)
    kind, r = b.go(rp.url + "/protected/")
    assert not (kind == "page" and "user=%s;" % username in getattr(r, "text", "")), rp.log()
    assert not any(u.startswith(rp.redirect_uri) for u in b.visited), b.visited
    if kind == "page":
        # custos's own access-denied page, not the RP's.
        assert b.visited[-1].startswith(lighttpd), b.visited[-1]
        assert r.status_code in (200, 403), r.status_code
        assert "denied" in r.text.lower() or "permission" in r.text.lower(), r.text[:300]
    else:
        assert kind == "denied", (kind, r)
    assert sql("SELECT count(*) FROM oauth2_access_tokens WHERE user_id = %s", uid)[0][0] == 0
    assert sql("SELECT count(*) FROM oauth2_authorization_codes WHERE user_id = %s", uid)[0][0] == 0

    # A member of the group gets through the same RP.
    b2, uid2, username2 = oidc_user_browser(lighttpd)
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", group, uid2)
    kind2, r2 = b2.go(rp.url + "/protected/")
    assert kind2 == "page" and r2.status_code == 200 and "user=%s;" % username2 in r2.text, \
        (kind2, getattr(r2, "text", r2), rp.log())


def test_rp_initiated_logout_goes_through_end_session(rp, lighttpd):
    b, uid, username, kind, r = _login(rp, lighttpd)
    assert kind == "page" and r.status_code == 200, (kind, rp.log())
    logout = rp.redirect_uri + "?logout=" + urlparse.quote(rp.logged_out, safe="")
    kind, r = b.go(logout)
    end = [u for u in b.visited
           if u.startswith("%s/application/o/%s/end-session/" % (lighttpd, rp.app["slug"]))]
    assert end, b.visited
    q = urlparse.parse_qs(urlparse.urlsplit(end[0]).query)
    assert q.get("id_token_hint"), end[0]
    assert q.get("post_logout_redirect_uri") == [rp.logged_out], end[0]
    # custos sent the browser back to the registered post-logout URI.
    assert kind == "page" and b.visited[-1] == rp.logged_out, (kind, b.visited[-5:])
    assert r.status_code == 200 and "logged out of the relying party" in r.text
    # The RP's session is gone: the page sends the browser to custos again.
    r2 = b.s.get(rp.url + "/protected/", allow_redirects=False)
    assert r2.status_code == 302, r2.status_code
    assert r2.headers["Location"].startswith(lighttpd + "/application/o/authorize/")
