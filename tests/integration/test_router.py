"""Router-level behaviour, through lighttpd, Apache with mod_fcgid and Apache with mod_proxy_fcgi."""
import http.client
import json
import socket
import time

import pytest
import requests

from conftest import ROUTERS

PREFIXES = [
    "/api/v3/no-such-thing/",
    "/api/v3/flows/executor/no-such-flow/",
    "/application/o/no-such-thing/",
    # No route takes it (an unknown application's SSO URL is a browser's: an HTML page).
    "/application/saml/no-such-app/no-such-binding/",
    "/outpost.goauthentik.io/no-such-thing",
    "/-/health/no-such-probe/",
    "/media/public/no-such-file.png",
]


def assert_json_error(r, status):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    return body


def test_static_file_served_by_router(base, http):
    r = http.get(base + "/robots.txt")
    assert r.status_code == 200
    assert r.text.startswith("User-agent:")
    r = http.get(base + "/static/bench-100b.txt")
    assert r.status_code == 200 and len(r.content) == 100


def test_health_live(base, http):
    r = http.get(base + "/-/health/live/")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_health_ready(base, http):
    r = http.get(base + "/-/health/ready/")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["postgresql"] == "ok" and body["redis"] == "ok"


def test_root_config_shape(base, http):
    r = http.get(base + "/api/v3/root/config/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"error_reporting", "capabilities", "cache_timeout", "cache_timeout_flows",
                         "cache_timeout_policies"}
    er = body["error_reporting"]
    assert set(er) == {"enabled", "sentry_dsn", "environment", "send_pii", "traces_sample_rate"}
    assert er["enabled"] is False
    assert isinstance(er["traces_sample_rate"], float)
    assert isinstance(body["capabilities"], list)
    assert body["cache_timeout"] == 300 and body["cache_timeout_flows"] == 300
    assert body["cache_timeout_policies"] == 300


@pytest.mark.parametrize("path", PREFIXES)
def test_unknown_path_is_json_404_in_every_responder(base, http, path):
    body = assert_json_error(http.get(base + path), 404)
    assert body == {"detail": "Not found."}


def test_wrong_method_is_json_405_with_allow(base, http):
    r = http.post(base + "/-/health/live/", data="")
    body = assert_json_error(r, 405)
    assert body["detail"] == 'Method "POST" not allowed.'
    assert set(m.strip() for m in r.headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert_json_error(http.delete(base + "/api/v3/root/config/"), 405)


def test_head_has_no_body(base, http):
    r = http.head(base + "/api/v3/root/config/")
    assert r.status_code == 200
    assert r.content == b""


def test_body_past_limit_is_json_413(base, http):
    # Refused before anything else is looked at, even on a route that takes no POST.
    r = http.post(base + "/-/health/live/", data=b"x" * (70 * 1024),
                  headers={"Content-Type": "application/octet-stream"})
    assert_json_error(r, 413)
    # The responder is fine afterwards.
    assert http.get(base + "/-/health/live/").status_code == 200


def test_get_body_past_route_limit_is_json_413(base, http):
    if base.endswith(":" + ROUTERS["lighttpd"]):
        pytest.skip("lighttpd refuses a GET with a body itself")
    r = http.get(base + "/api/v3/root/config/", data=b"x" * (70 * 1024))
    assert_json_error(r, 413)


def raw_get(base, target):
    """GET with the request target exactly as given (requests would re-quote it)."""
    host, port = base.replace("http://", "").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    finally:
        c.close()


@pytest.mark.parametrize("query", ["a=%zz", "a=%4", "a=%", "a=%00", "x=1&b=%g0"])
def test_bad_percent_encoding_is_json_400(base, query):
    status, ctype, body = raw_get(base, "/api/v3/root/config/?" + query)
    if base.endswith(":" + ROUTERS["lighttpd"]):
        # lighttpd refuses %00 itself and turns a stray '%' into "%25" before any backend
        # sees it, so the responder only ever receives well-formed queries from it.
        assert status == (400 if query == "a=%00" else 200)
        return
    assert status == 400
    assert ctype.startswith("application/json")
    assert "detail" in json.loads(body)


def test_duplicate_and_malformed_cookies_are_tolerated(base, http):
    r = http.get(base + "/api/v3/root/config/",
                 headers={"Cookie": "a=1; a=2; ; =novalue; junk; b=\"quoted\"; c=x=y"})
    assert r.status_code == 200


def test_request_id(base, http):
    r = http.get(base + "/-/health/live/")
    rid = r.headers["X-Request-Id"]
    assert len(rid) == 32 and all(c in "0123456789abcdef" for c in rid)
    r = http.get(base + "/-/health/live/", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    # One that could smuggle anything into logs or headers is replaced.
    r = http.get(base + "/-/health/live/", headers={"X-Request-Id": "a\"b{c}" * 3})
    assert r.headers["X-Request-Id"] != "a\"b{c}" * 3


def _raw(base, payload, read=True, timeout=10):
    host, port = base.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(payload)
        if not read:
            return b""
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def test_truncated_body_leaves_responder_healthy(base, http):
    # Promises 1000 bytes, sends 10, goes away.
    _raw(base, b"GET /api/v3/root/config/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
         read=False)
    time.sleep(0.2)
    for _ in range(5):
        assert http.get(base + "/api/v3/root/config/").status_code == 200


def test_slow_body_is_read_whole(base):
    host, port = base.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(b"POST /-/health/live/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: 20\r\n\r\n")
        for i in range(20):
            s.sendall(b"x")
            time.sleep(0.02)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    # The whole request arrived and was answered by the responder, in its own shape.
    assert data.startswith(b"HTTP/1.1 405")
    assert b'{"detail":"Method \\"POST\\" not allowed."}' in data


def test_many_requests_on_one_connection(base, http):
    for _ in range(200):
        assert http.get(base + "/-/health/live/").status_code == 200


# --- the interfaces' pages: a strict Content-Security-Policy, no framing; static text compressed

IF_CSP = ("default-src 'self'; img-src 'self' data: https: http:; script-src 'self'; "
          "style-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/if/admin/", "/if/admin/core/users", "/if/user/",
                                  "/if/user/settings", "/if/flow/default-authentication-flow/"])
def test_interface_headers(base, http, path):
    r = http.get(base + path)
    assert r.status_code == 200, path
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Security-Policy"] == IF_CSP
    assert "form-action" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "nosniff" in r.headers["X-Content-Type-Options"]


def test_other_paths_have_no_interface_csp(base, http):
    for path in ("/api/v3/root/config/", "/-/health/live/", "/static/dist/flow.js", "/robots.txt"):
        r = http.get(base + path)
        assert "X-Frame-Options" not in r.headers, path
        assert "frame-ancestors" not in r.headers.get("Content-Security-Policy", ""), path


@pytest.mark.parametrize("path", ["/static/dist/flow.js", "/static/dist/flow.css",
                                  "/if/flow/default-authentication-flow/",
                                  "/static/dist/assets/icons/icon_left_brand.svg"])
def test_static_text_compressed(base, http, path):
    plain = http.get(base + path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    r = http.get(base + path, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("Content-Encoding") == "gzip", path
    assert "Accept-Encoding" in r.headers.get("Vary", "")
    # requests inflates it: the same bytes as the plain answer.
    assert r.content == plain.content


def test_responder_json_not_compressed(base, http):
    r = http.get(base + "/api/v3/root/config/", headers={"Accept-Encoding": "gzip, br"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
