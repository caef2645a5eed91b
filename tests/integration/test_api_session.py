"""The session cookie authenticates the API as in authentik, with Django's CSRF check."""
import base64
import hashlib
import hmac
import json
import os
import secrets
import string

import requests

from conftest import STATE, create_user, sql

CSRF_CHARS = string.ascii_lowercase + string.ascii_uppercase + string.digits


def secret_key():
    with open(os.path.join(STATE, "custos.conf")) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "secret_key":
                return v.strip()
    raise AssertionError("no secret_key")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cookie(sid, authenticated=True, key=None, alg="HS256"):
    """authentik's session cookie: a JWT signed with the hex SHA-512 of secret_key."""
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sid": sid, "iss": "authentik", "sub": "x",
                              "authenticated": authenticated,
                              "acr": "goauthentik.io/core/default"}).encode())
    key = key or hashlib.sha512(secret_key().encode()).hexdigest()
    sig = hmac.new(key.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
    return header + "." + payload + "." + b64(sig)


def session_for(uid, expires="now() + interval '1 hour'"):
    sid = secrets.token_hex(20)
    sql("INSERT INTO sessions (session_key, user_id, expires) VALUES (%s, %s, " + expires + ")",
        sid, uid)
    return sid


def mask(secret):
    m = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
    return m + "".join(CSRF_CHARS[(CSRF_CHARS.index(c) + CSRF_CHARS.index(k)) % 62]
                       for c, k in zip(secret, m))


def test_cookie_authenticates(lighttpd):
    uid, _ = create_user(superuser=True)
    sid = session_for(uid)
    r = requests.get(lighttpd + "/api/v3/admin/version/",
                     cookies={"authentik_session": cookie(sid)})
    assert r.status_code == 200, r.text


def test_bad_cookies_are_anonymous(lighttpd):
    uid, _ = create_user(superuser=True)
    sid = session_for(uid)
    expired = session_for(uid, "now() - interval '1 second'")
    good = cookie(sid)
    for value in [cookie(sid, key="not-the-key"), cookie(expired), cookie(sid, authenticated=False),
                  cookie(sid, alg="none"), good[:-2] + ("AA" if good[-2:] != "AA" else "BB"),
                  cookie("no-such-session-" + "x" * 20), "garbage", good + "." + good]:
        r = requests.get(lighttpd + "/api/v3/admin/version/", cookies={"authentik_session": value})
        assert r.status_code == 401, value


def test_unsafe_methods_need_csrf(lighttpd):
    uid, _ = create_user(superuser=True)
    jar = {"authentik_session": cookie(session_for(uid))}
    url = lighttpd + "/api/v3/admin/system/"
    r = requests.post(url, cookies=jar)
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing or incorrect."}
    csrf = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
    jar["authentik_csrf"] = csrf
    assert requests.post(url, cookies=jar).status_code == 403
    assert requests.post(url, cookies=jar, headers={"X-authentik-CSRF": csrf[::-1]}).status_code == 403
    assert requests.post(url, cookies=jar, headers={"X-authentik-CSRF": csrf}).status_code == 200
    # Django's masked form of the same secret is accepted too.
    assert requests.post(url, cookies=jar, headers={"X-authentik-CSRF": mask(csrf)}).status_code == 200
    # A bearer token needs no CSRF token: no browser adds it by itself.
    _, key = create_user(superuser=True)
    assert requests.post(url, headers={"Authorization": "Bearer " + key}).status_code == 200


def test_inactive_user_session_refused(lighttpd):
    uid, _ = create_user(superuser=True)
    sid = session_for(uid)
    sql("UPDATE users SET is_active = false WHERE id = %s", uid)
    r = requests.get(lighttpd + "/api/v3/admin/version/", cookies={"authentik_session": cookie(sid)})
    assert r.status_code == 401
