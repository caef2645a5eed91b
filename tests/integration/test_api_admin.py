"""/api/v3/admin/version/, /api/v3/admin/system/ and the OpenAPI document."""
import json
import os
import re

import requests

from conftest import ROOT


def test_version(admin):
    r = admin.get("admin/version/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"version_current", "version_latest", "version_latest_valid", "build_hash",
                         "outdated", "outpost_outdated"}
    assert re.match(r"^\d{4}\.\d+\.\d+$", body["version_current"])
    assert body["outdated"] is False


def test_version_needs_login(lighttpd):
    assert requests.get(lighttpd + "/api/v3/admin/version/").status_code == 401
    r = requests.get(lighttpd + "/api/v3/admin/version/", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {"detail": "Token invalid/expired"}


def test_system_needs_permission(admin, as_user):
    r = admin.get("admin/system/", headers={"X-Custom": "1"})
    assert r.status_code == 200
    body = r.json()
    assert body["http_headers"]["x-custom"] == "1"
    # Credentials never echo back.
    assert "authorization" not in body["http_headers"]
    assert set(body["runtime"]) >= {"architecture", "openssl_version", "authentik_version"}
    user, _ = as_user()
    assert user.get("admin/system/").status_code == 403
    allowed, _ = as_user(perms=["authentik_rbac.view_system_info"])
    assert allowed.get("admin/system/").status_code == 200


def routes_in_table():
    src = open(os.path.join(ROOT, "cgi-bin", "api.c")).read()
    macros = dict(re.findall(r'#define (\w+) "([^"]*)"', src))
    paths = set()
    # A path is a string, a macro and a string, or a macro alone ({GET, CRYPTO, ...}).
    for m in re.finditer(r'\{\s*[A-Z_ |]+,\s*(?:([A-Z_]+)\s*)?(?:"([^"]*)")?\s*,\s*cu_', src):
        path = macros.get(m.group(1), "") + (m.group(2) or "")
        if path.startswith("/api/v3/"):
            paths.add(path[len("/api/v3"):])
    return paths


def test_schema_matches_routes(lighttpd):
    r = requests.get(lighttpd + "/api/v3/schema/?format=json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == routes_in_table()
    assert "/crypto/certificatekeypairs/" in doc["paths"]
    ops = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ops) == len(set(ops)), "operationIds must be unique"
    assert doc["paths"]["/core/users/"]["get"]["operationId"] == "core_users_list"
    assert doc["paths"]["/core/users/{id}/"]["patch"]["operationId"] == "core_users_partial_update"
    # Served as YAML by default; JSON is YAML.
    r = requests.get(lighttpd + "/api/v3/schema/")
    assert json.loads(r.text) == doc
