"""OpenID Connect Back-Channel Logout 1.0 and the life of OAuth2 grants: when a logged-in
session ends (logout flow, the sessions API, a deactivated user), every back-channel provider
whose access tokens carry it gets a logout token POSTed by the worker, signed with the
provider's key and verified here with jwcrypto; the session's codes and access tokens go;
expired grants are cleaned up."""
import base64
import hashlib
import json
import os
import queue
import secrets
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests

# The stack is plain http on loopback; authlib refuses that unless told.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from jwcrypto import jwk, jws  # noqa: E402

from conftest import (STATE, FlowClient, binary, config_path, login_user,  # noqa: E402
                      oauth2_app, oauth2_keypair, oidc_user_browser, sql)

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ACTOR = "authentik.providers.oauth2.tasks.send_backchannel_logout_request"
CLEAN_ACTOR = "authentik.core.tasks.clean_expired_models"


class Receiver:
    """A relying party's back-channel logout endpoint on 127.0.0.1: records every request;
    answers each path with the statuses queued for it (then 200)."""

    def __init__(self):
        self.requests = queue.Queue()
        self.answers = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode()
                outer.requests.put({"path": self.path, "headers": dict(self.headers),
                                    "body": body, "time": time.time()})
                codes = outer.answers.get(self.path) or []
                code = codes.pop(0) if codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return self.base + path

    def wait(self, timeout=20):
        try:
            return self.requests.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no back-channel logout request arrived")

    def drain(self, seconds):
        """Everything that arrives within seconds."""
        got = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                got.append(self.requests.get(timeout=max(0.05, deadline - time.time())))
            except queue.Empty:
                break
        return got

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def logged_in(base, password="correct horse battery"):
    """A user logged in through the default authentication flow: (FlowClient, uid, session
    uuid)."""
    uid, username = login_user(password=password)
    fc = FlowClient(base, "default-authentication-flow")
    fc.get()
    ch = fc.post({"component": "ak-stage-identification", "uid_field": username})
    assert ch["component"] == "ak-stage-password", ch
    ch = fc.post({"component": "ak-stage-password", "password": password})
    assert ch["component"] == "xak-flow-redirect", ch
    rows = sql("SELECT uuid::text FROM sessions WHERE user_id = %s", uid)
    assert len(rows) == 1, rows
    return fc, uid, rows[0][0]


def issuer(app):
    return "http://127.0.0.1/application/o/%s/" % app["slug"]


def grant(app, uid, session, sub=None, sid=None, expires="1 hour", claims=None):
    """An access token row as the token endpoint stores it, with its issued claims; returns its
    id."""
    c = claims if claims is not None else {
        "iss": issuer(app), "sub": sub or "sub-%d" % uid, "aud": app["client_id"],
        "sid": sid or session, "nonce": "n-" + secrets.token_hex(4), "exp": 0, "iat": 0}
    return sql("INSERT INTO oauth2_access_tokens (token_digest, provider_id, user_id, "
               "session_uuid, expires, claims) VALUES (%s, %s, %s, %s, now() + %s::interval, %s) "
               "RETURNING id", secrets.token_hex(32), app["provider_id"], uid, session, expires,
               json.dumps(c))[0][0]


def refresh(app, uid, session, expires="30 days"):
    return sql("INSERT INTO oauth2_refresh_tokens (token_digest, provider_id, user_id, "
               "session_uuid, expires) VALUES (%s, %s, %s, %s, now() + %s::interval) "
               "RETURNING id", secrets.token_hex(32), app["provider_id"], uid, session,
               expires)[0][0]


def code(app, uid, session, expires="1 minute"):
    return sql("INSERT INTO oauth2_authorization_codes (code_digest, provider_id, user_id, "
               "session_uuid, expires, redirect_uri) VALUES (%s, %s, %s, %s, "
               "now() + %s::interval, 'https://rp.example/cb') RETURNING id",
               secrets.token_hex(32), app["provider_id"], uid, session, expires)[0][0]


def device(app, uid, session, expires="10 minutes"):
    return sql("INSERT INTO oauth2_device_tokens (device_code_digest, user_code, provider_id, "
               "user_id, session_uuid, expires) VALUES (%s, %s, %s, %s, %s, "
               "now() + %s::interval) RETURNING id", secrets.token_hex(32),
               secrets.token_hex(6), app["provider_id"], uid, session, expires)[0][0]


def exists(table, row_id):
    return sql("SELECT count(*) FROM %s WHERE id = %%s" % table, row_id)[0][0] == 1


def cert_key(kp):
    """The pair's public key as a jwcrypto JWK (from the certificate in the database), and the
    kid custos gives it: the first 32 hex digits of the SHA-256 of its SubjectPublicKeyInfo."""
    pem = sql("SELECT certificate_data FROM certificate_key_pairs WHERE kp_uuid = %s", kp)[0][0]
    cert = x509.load_pem_x509_certificate(pem.encode())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return jwk.JWK.from_pem(pem.encode()), hashlib.sha256(spki).hexdigest()[:32]


def published_key(base, app, kid):
    """The provider's key as its JWKS publishes it, found by kid."""
    r = requests.get("%s/application/o/%s/jwks/" % (base, app["slug"]))
    assert r.status_code == 200, r.text
    found = [k for k in r.json()["keys"] if k["kid"] == kid]
    assert len(found) == 1, r.json()
    return jwk.JWK(**found[0])


def verify_logout_token(req, key, alg, app, sub, sid, kid=None):
    """Checks one received request as a relying party must (the spec's section 2.6)."""
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(req["body"], strict_parsing=True)
    assert list(form) == ["logout_token"] and len(form["logout_token"]) == 1
    token = form["logout_token"][0]
    s = jws.JWS()
    s.deserialize(token)
    s.verify(key, alg=alg)
    header = s.jose_header
    assert header["alg"] == alg
    assert header["typ"] == "logout+jwt"
    if kid is None:
        assert "kid" not in header
    else:
        assert header["kid"] == kid
    claims = json.loads(s.payload)
    assert claims["iss"] == issuer(app)
    assert claims["aud"] == app["client_id"]
    assert claims["sub"] == sub
    assert claims["sid"] == sid
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert "nonce" not in claims
    assert abs(claims["iat"] - time.time()) < 120
    assert claims["exp"] > claims["iat"]
    assert len(claims["jti"]) >= 16
    return claims


def tasks_for(app):
    return sql("SELECT state, status, retries, args FROM tasks WHERE actor_name = %s AND "
               "rel_obj_id = %s ORDER BY created", ACTOR, str(app["provider_id"]))


def wait_task(app, want_state="done", timeout=30):
    deadline = time.time() + timeout
    rows = []
    while time.time() < deadline:
        rows = tasks_for(app)
        if rows and all(r[0] == want_state for r in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError("tasks did not finish: %r" % rows)


def test_logout_flow_sends_rs256_logout_token(lighttpd, admin, receiver):
    kp = oauth2_keypair(admin, "rsa")
    back = oauth2_app(signing_key=kp, logout_uri=receiver.url("/back"),
                      logout_method="backchannel")
    front = oauth2_app(signing_key=kp, logout_uri=receiver.url("/front"),
                       logout_method="frontchannel")
    nouri = oauth2_app(signing_key=kp, logout_method="backchannel")
    fc, uid, session = logged_in(lighttpd)
    other_fc, _, other_session = logged_in(lighttpd)
    at = grant(back, uid, session, sub="the-sub", sid="the-sid")
    at_front = grant(front, uid, session)
    at_nouri = grant(nouri, uid, session)
    rt = refresh(back, uid, session)
    ac = code(back, uid, session)
    dt = device(back, uid, session)
    # Another session's grant of the same provider stays.
    other_uid = sql("SELECT user_id FROM sessions WHERE uuid = %s", other_session)[0][0]
    at_other = grant(back, other_uid, other_session)

    ch = fc.get("default-invalidation-flow")
    assert ch["component"] == "xak-flow-redirect", ch
    assert sql("SELECT count(*) FROM sessions WHERE uuid = %s", session)[0][0] == 0

    req = receiver.wait()
    assert req["path"] == "/back"
    key, kid = cert_key(kp)
    verify_logout_token(req, key, "RS256", back, "the-sub", "the-sid", kid=kid)
    verify_logout_token(req, published_key(lighttpd, back, kid), "RS256", back, "the-sub",
                        "the-sid", kid=kid)
    rows = wait_task(back)
    assert [r[1] for r in rows] == ["info"]
    assert rows[0][3]["provider_pk"] == back["provider_id"]
    assert rows[0][3]["session_uuid"] == session and rows[0][3]["user_id"] == uid
    # Nothing for the front-channel provider or the one without a logout URI.
    assert receiver.drain(2) == []
    assert tasks_for(front) == [] and tasks_for(nouri) == []
    # The session's access tokens and code are gone; the refresh and device tokens outlive it
    # (offline access), unlinked; the other session's token is untouched.
    for t in (at, at_front, at_nouri):
        assert not exists("oauth2_access_tokens", t)
    assert not exists("oauth2_authorization_codes", ac)
    assert sql("SELECT session_uuid FROM oauth2_refresh_tokens WHERE id = %s", rt) == [(None,)]
    assert sql("SELECT session_uuid FROM oauth2_device_tokens WHERE id = %s", dt) == [(None,)]
    assert exists("oauth2_access_tokens", at_other)
    assert other_fc.me() is not None


def test_end_to_end_code_flow_then_logout(lighttpd, admin, receiver):
    """A relying party logs the user in with the authorization code flow (authlib), then the
    user logs out of custos: the logout token names the ID token's sub and sid, and verifies
    against the published JWKS; the access token no longer works."""
    cb = "http://127.0.0.1:9/cb"
    kp = oauth2_keypair(admin, "rsa")
    app = oauth2_app(redirect_uris=(cb,), signing_key=kp, logout_uri=receiver.url("/e2e"))
    meta = requests.get("%s/application/o/%s/.well-known/openid-configuration" % (
        lighttpd, app["slug"])).json()
    browser, uid, _ = oidc_user_browser(lighttpd)
    client = OAuth2Session(app["client_id"], app["client_secret"], scope="openid profile",
                           redirect_uri=cb, code_challenge_method="S256")
    verifier = generate_token(64)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"],
                                                 code_verifier=verifier,
                                                 nonce=generate_token(16))
    kind, where = browser.go(uri, stop_at=(cb,))
    assert kind == "stop" and "code=" in where, (kind, where)
    tok = client.fetch_token(meta["token_endpoint"], authorization_response=where, state=state,
                             code_verifier=verifier)
    key, kid = cert_key(kp)
    s = jws.JWS()
    s.deserialize(tok["id_token"])
    s.verify(key, alg="RS256")
    id_claims = json.loads(s.payload)
    assert id_claims["sid"] and id_claims["iss"] == meta["issuer"]
    userinfo = requests.get(meta["userinfo_endpoint"],
                            headers={"Authorization": "Bearer " + tok["access_token"]})
    assert userinfo.status_code == 200, userinfo.text

    r = browser.s.get(lighttpd + "/api/v3/flows/executor/default-invalidation-flow/",
                      headers=browser._headers())
    assert r.status_code == 200 and r.json()["component"] == "xak-flow-redirect", r.text
    req = receiver.wait()
    form = parse_qs(req["body"])
    s = jws.JWS()
    s.deserialize(form["logout_token"][0])
    s.verify(published_key(lighttpd, app, kid), alg="RS256")
    claims = json.loads(s.payload)
    assert claims["iss"] == meta["issuer"] and claims["aud"] == app["client_id"]
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {LOGOUT_EVENT: {}} and "nonce" not in claims
    assert s.jose_header["typ"] == "logout+jwt"
    userinfo = requests.get(meta["userinfo_endpoint"],
                            headers={"Authorization": "Bearer " + tok["access_token"]})
    assert userinfo.status_code == 401, userinfo.text
    wait_task(app)


def test_api_session_delete_sends_hs256_logout_token(lighttpd, admin, receiver):
    """Without a signing key the provider signs with HS256 and its client secret."""
    app = oauth2_app(logout_uri=receiver.url("/rp/logout?x=1"))
    fc, uid, session = logged_in(lighttpd)
    grant(app, uid, session, sub="hs-sub")
    r = admin.delete("core/authenticated_sessions/%s/" % session)
    assert r.status_code == 204, r.text
    req = receiver.wait()
    assert req["path"] == "/rp/logout?x=1"
    key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(
        app["client_secret"].encode()).rstrip(b"=").decode())
    verify_logout_token(req, key, "HS256", app, "hs-sub", session)
    # The same token under another secret does not verify.
    wrong = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(b"not the secret").decode())
    s = jws.JWS()
    s.deserialize(parse_qs(req["body"])["logout_token"][0])
    with pytest.raises(Exception):
        s.verify(wrong, alg="HS256")
    wait_task(app)
    assert fc.me() is None


def test_ecdsa_key_and_retry_on_server_error(lighttpd, admin, receiver):
    kp = oauth2_keypair(admin, "ecdsa")
    app = oauth2_app(signing_key=kp, logout_uri=receiver.url("/es"))
    receiver.answers["/es"] = [503]
    fc, uid, session = logged_in(lighttpd)
    grant(app, uid, session, sub="es-sub")
    fc.get("default-invalidation-flow")
    key, kid = cert_key(kp)
    first = receiver.wait()
    second = receiver.wait(timeout=30)
    c1 = verify_logout_token(first, key, "ES256", app, "es-sub", session, kid=kid)
    c2 = verify_logout_token(second, key, "ES256", app, "es-sub", session, kid=kid)
    verify_logout_token(second, published_key(lighttpd, app, kid), "ES256", app, "es-sub",
                        session, kid=kid)
    assert c1["jti"] != c2["jti"]
    rows = wait_task(app)
    assert len(rows) == 1 and rows[0][1] == "info" and rows[0][2] == 1


def test_client_error_fails_without_retry(lighttpd, admin, receiver):
    app = oauth2_app(logout_uri=receiver.url("/bad"))
    receiver.answers["/bad"] = [400, 400, 400]
    fc, uid, session = logged_in(lighttpd)
    grant(app, uid, session)
    fc.get("default-invalidation-flow")
    receiver.wait()
    rows = wait_task(app)
    assert rows[0][1] == "error"
    assert receiver.drain(3) == []


def test_unreachable_logout_uri_retries(lighttpd, admin):
    """Nothing listens: a network failure is passing, so the task goes back to the queue."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = oauth2_app(logout_uri="http://127.0.0.1:%d/gone" % port)
    fc, uid, session = logged_in(lighttpd)
    grant(app, uid, session)
    fc.get("default-invalidation-flow")
    deadline = time.time() + 20
    rows = []
    while time.time() < deadline:
        rows = tasks_for(app)
        if rows and rows[0][2] >= 1:
            break
        time.sleep(0.2)
    assert rows and rows[0][2] >= 1 and rows[0][1] == "warning", rows


def test_deactivation_logs_out_and_revokes_every_grant(lighttpd, admin, receiver):
    app = oauth2_app(logout_uri=receiver.url("/deact"))
    fc, uid, session = logged_in(lighttpd)
    at = grant(app, uid, session, sub="d-sub")
    at_nosession = grant(app, uid, None)
    rt = refresh(app, uid, None)
    dt = device(app, uid, None)
    ac = code(app, uid, None)
    r = admin.patch("core/users/%d/" % uid, json={"is_active": False})
    assert r.status_code == 200, r.text
    req = receiver.wait()
    verify_logout_token(req, jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(
        app["client_secret"].encode()).rstrip(b"=").decode()), "HS256", app, "d-sub", session)
    for table, row in (("oauth2_access_tokens", at), ("oauth2_access_tokens", at_nosession),
                       ("oauth2_refresh_tokens", rt), ("oauth2_device_tokens", dt),
                       ("oauth2_authorization_codes", ac)):
        assert not exists(table, row), table


def test_damaged_claims_do_not_block_logout(lighttpd, receiver):
    """Claims that are not JSON, or lack sub and sid: no request, and the logout still works."""
    app = oauth2_app(logout_uri=receiver.url("/damaged"))
    fc, uid, session = logged_in(lighttpd)
    sql("INSERT INTO oauth2_access_tokens (token_digest, provider_id, user_id, session_uuid, "
        "expires, claims) VALUES (%s, %s, %s, %s, now() + interval '1 hour', 'not json')",
        secrets.token_hex(32), app["provider_id"], uid, session)
    grant(app, uid, session, claims={"iss": issuer(app), "aud": app["client_id"]})
    ch = fc.get("default-invalidation-flow")
    assert ch["component"] == "xak-flow-redirect", ch
    assert fc.me() is None
    assert tasks_for(app) == []
    assert sql("SELECT count(*) FROM oauth2_access_tokens WHERE session_uuid = %s",
               session)[0][0] == 0
    assert receiver.drain(2) == []


def test_signing_key_loaded_once_per_worker(lighttpd, admin, receiver):
    """The worker keeps the unsealed key: two logouts signed with one pair load it once."""
    kp = oauth2_keypair(admin, "rsa")
    app = oauth2_app(signing_key=kp, logout_uri=receiver.url("/twice"))
    key, kid = cert_key(kp)
    for _ in range(2):
        fc, uid, session = logged_in(lighttpd)
        grant(app, uid, session, sub="t-sub")
        fc.get("default-invalidation-flow")
        verify_logout_token(receiver.wait(), key, "RS256", app, "t-sub", session, kid=kid)
    wait_task(app)
    with open(os.path.join(STATE, "log", "worker.log")) as f:
        loads = [line for line in f if '"signing_key_loaded"' in line and kp in line]
    workers = int(os.environ.get("CU_STACK_WORKERS", "1"))
    assert 1 <= len(loads) <= workers, loads
    assert all(kid in line for line in loads)
    assert all("PRIVATE" not in line for line in loads)


def run_actor(actor):
    p = subprocess.run([binary("custos-worker"), "task", "run", actor],
                       env=dict(os.environ, CUSTOS_CONFIG=config_path()),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    mid = p.stdout.strip()
    deadline = time.time() + 20
    while time.time() < deadline:
        state, status, logs = sql("SELECT state, status, logs FROM tasks WHERE message_id = %s",
                                  mid)[0]
        if state == "done":
            return status, logs
        time.sleep(0.1)
    raise AssertionError("the cleanup task did not run")


def test_cleanup_removes_expired_grants_only(lighttpd):
    """Expired grants go with the other expired objects, on clean_expired_models' schedule."""
    assert sql("SELECT actor_name FROM task_schedules WHERE identifier = "
               "'clean_expired_models'") == [(CLEAN_ACTOR,)]
    assert sql("SELECT count(*) FROM task_schedules WHERE identifier = "
               "'oauth2_clean_expired'") == [(0,)]
    app = oauth2_app()
    uid, _ = login_user()
    gone = [("oauth2_authorization_codes", code(app, uid, None, "-1 second")),
            ("oauth2_access_tokens", grant(app, uid, None, expires="-2 days")),
            ("oauth2_refresh_tokens", refresh(app, uid, None, "-2 days")),
            ("oauth2_device_tokens", device(app, uid, None, "-1 second"))]
    kept = [("oauth2_authorization_codes", code(app, uid, None, "1 minute")),
            ("oauth2_access_tokens", grant(app, uid, None, expires="1 hour")),
            # Within the day of grace.
            ("oauth2_access_tokens", grant(app, uid, None, expires="-1 hour")),
            ("oauth2_refresh_tokens", refresh(app, uid, None, "30 days")),
            ("oauth2_refresh_tokens", refresh(app, uid, None, "-1 hour")),
            ("oauth2_device_tokens", device(app, uid, None, "10 minutes"))]
    status, logs = run_actor(CLEAN_ACTOR)
    assert status == "info"
    assert logs[-1]["event"].startswith("Deleted ")
    for table, row in gone:
        assert not exists(table, row), table
    for table, row in kept:
        assert exists(table, row), table
