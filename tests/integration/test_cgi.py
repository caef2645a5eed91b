"""The same responder binary, started without a FastCGI socket, answers one CGI request and exits."""
import json
import os
import subprocess

from conftest import binary, config_path


def cgi(responder, method="GET", uri="/-/health/live/", body=b"", extra=None):
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "QUERY_STRING": uri.partition("?")[2],
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CUSTOS_CONFIG": config_path(),
    }
    env.update(extra or {})
    p = subprocess.run([binary("cgi-bin/%s.fcgi" % responder)], input=body, env=env,
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, payload = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("Status: ")
    status = int(lines[0].split()[1])
    headers = dict(l.split(": ", 1) for l in lines[1:])
    return status, headers, payload, p.stderr.decode()


def test_cgi_one_request_then_exit():
    status, headers, payload, log = cgi("api")
    assert status == 200
    assert json.loads(payload) == {"status": "ok"}
    assert int(headers["Content-Length"]) == len(payload)
    # One access line, as JSON.
    lines = [json.loads(l) for l in log.splitlines() if l.strip()]
    access = [l for l in lines if l.get("event") == "request"]
    assert len(access) == 1
    assert access[0]["status"] == 200 and access[0]["path"] == "/-/health/live/"
    assert access[0]["component"] == "api"


def test_cgi_ready_reaches_backends():
    status, _, payload, _ = cgi("api", uri="/-/health/ready/")
    assert status == 200, payload
    assert json.loads(payload)["status"] == "ready"


def test_cgi_every_responder_answers_json_404():
    # Paths no route takes (/application/o/<slug>/ is the issuer, which redirects).
    for r, uri in [("flow", "/api/v3/flows/executor/x/"), ("oauth2", "/application/o/x/y/z/"),
                   ("saml", "/application/saml/x/"), ("outpost", "/outpost.goauthentik.io/x")]:
        status, headers, payload, _ = cgi(r, uri=uri)
        assert status == 404
        assert headers["Content-Type"].startswith("application/json")
        assert json.loads(payload) == {"detail": "Not found."}


def test_cgi_nul_in_path_is_400():
    status, _, payload, _ = cgi("api", uri="/-/health/live/%00/")
    assert status == 400
    assert "detail" in json.loads(payload)


def test_cgi_oversized_header_is_413():
    status, _, payload, _ = cgi("api", extra={"HTTP_X_BIG": "a" * 9000})
    assert status == 413
    assert "detail" in json.loads(payload)


def test_cgi_oversized_query_is_413():
    status, _, _, _ = cgi("api", uri="/-/health/live/?q=" + "a" * 9000)
    assert status == 413


def test_cgi_body_shorter_than_content_length_is_400():
    status, _, _, _ = cgi("api", uri="/-/health/live/", body=b"abc", extra={"CONTENT_LENGTH": "10"})
    assert status == 400


def test_cgi_malformed_content_length_is_400():
    status, _, _, _ = cgi("api", extra={"CONTENT_LENGTH": "12abc"})
    assert status == 400


def test_cgi_unknown_method_is_405():
    status, _, payload, _ = cgi("api", method="BREW")
    assert status == 405
    assert json.loads(payload)["detail"] == 'Method "BREW" not allowed.'


def test_cgi_bad_config_fails_clearly():
    env = {"PATH": "/usr/bin:/bin", "REQUEST_METHOD": "GET", "REQUEST_URI": "/-/health/live/",
           "CUSTOS_LOG_LEVEL": "loud", "CUSTOS_SECRET_KEY": "x"}
    p = subprocess.run([binary("cgi-bin/api.fcgi")], env=env, capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"log_level" in p.stderr
