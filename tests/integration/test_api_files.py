"""/api/v3/admin/file/ (media files in PostgreSQL) and /media/public/<name>, which serves them."""
import hashlib
import secrets

import pytest
import requests

from conftest import Api, create_user, events_for, sql
from test_api_session import cookie, session_for

BASE = "admin/file/"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00" \
      b"\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
ICO = b"\x00\x00\x01\x00\x01\x00\x01\x01\x00\x00\x01\x00\x20\x00\x30\x00\x00\x00\x16\x00\x00\x00" + b"\x00" * 48
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" '
       b'style="fill:#36c"/></svg>\n')
CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
MAX = 5 * 1024 * 1024


@pytest.fixture
def tag():
    return "t" + secrets.token_hex(5)


def upload(api, content, filename="x.bin", name=None, usage=None, headers=None, **kw):
    data = {}
    if name is not None:
        data["name"] = name
    if usage is not None:
        data["usage"] = usage
    return api.s.post(api.url(BASE), files={"file": (filename, content, "application/octet-stream")},
                      data=data, headers=headers or {}, **kw)


def rows(name):
    return sql("SELECT name, mime, size, digest FROM media_files WHERE name = %s", name)


def listed(api, **params):
    r = api.get(BASE, params=params)
    assert r.status_code == 200, r.text
    return {f["name"]: f for f in r.json()}


def test_round_trip(admin, base, http, tag):
    name = tag + "/logo.png"
    r = upload(admin, PNG, name=name)
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert rows(name) == [(name, "image/png", len(PNG), hashlib.sha256(PNG).hexdigest())]
    files = listed(admin, search=tag)
    assert files == {name: {"name": name, "mime_type": "image/png", "url": "/media/public/" + name,
                            "themed_urls": None}}

    r = http.get(base + files[name]["url"])
    assert r.status_code == 200
    assert r.content == PNG
    assert r.headers["Content-Type"] == "image/png"
    # Apache's mod_proxy_fcgi re-sends the body chunked; the others keep the responder's length.
    assert r.headers.get("Content-Length", str(len(PNG))) == str(len(PNG))
    etag = r.headers["ETag"]
    assert etag == '"%s"' % hashlib.sha256(PNG).hexdigest()
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    assert "nosniff" in r.headers["X-Content-Type-Options"]
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["Content-Disposition"] == "inline"
    assert "Set-Cookie" not in r.headers

    h = http.head(base + "/media/public/" + name)
    assert h.status_code == 200 and h.content == b""
    assert h.headers["Content-Type"] == "image/png"
    for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
        r = http.get(base + "/media/public/" + name, headers={"If-None-Match": inm})
        assert r.status_code == 304, inm
        assert r.content == b"" and r.headers["ETag"] == etag
    r = http.get(base + "/media/public/" + name, headers={"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == PNG

    r = admin.delete(BASE, params={"name": name, "usage": "media"})
    assert r.status_code == 200, r.text
    assert rows(name) == []
    assert name not in listed(admin, search=tag)
    assert http.get(base + "/media/public/" + name).status_code == 404
    assert admin.delete(BASE, params={"name": name}).status_code == 404


def test_audit_events(admin, tag):
    name = tag + ".gif"
    assert upload(admin, GIF, name=name).status_code == 200
    ev = events_for("File", name, "model_created")
    assert len(ev) == 1
    assert ev[0][0]["model"] == {"app": "authentik_admin_files", "model_name": "File", "pk": name,
                                 "name": name}
    assert admin.delete(BASE, params={"name": name}).status_code == 200
    assert len(events_for("File", name, "model_deleted")) == 1


@pytest.mark.parametrize("content,mime", [
    (PNG, "image/png"), (GIF, "image/gif"), (JPEG, "image/jpeg"), (WEBP, "image/webp"),
    (ICO, "image/x-icon"), (SVG, "image/svg+xml"),
])
def test_types_by_content(admin, lighttpd, tag, content, mime):
    # The name's extension says nothing: the type is the content's.
    name = tag + "/file.txt"
    assert upload(admin, content, name=name).status_code == 200
    assert rows(name)[0][1] == mime
    r = requests.get(lighttpd + "/media/public/" + name)
    assert r.status_code == 200 and r.headers["Content-Type"] == mime and r.content == content
    assert r.headers["Content-Length"] == str(len(content))
    assert r.headers["Content-Security-Policy"] == CSP


def test_name_defaults_to_file_name(admin, tag):
    filename = tag + "-icon.png"
    assert upload(admin, PNG, filename=filename).status_code == 200
    assert rows(filename)
    # A blank name is no name.
    assert upload(admin, PNG, filename=tag + "-b.png", name="  ").status_code == 200
    assert rows(tag + "-b.png")


def test_name_taken(admin, tag):
    name = tag + ".png"
    assert upload(admin, PNG, name=name).status_code == 200
    r = upload(admin, GIF, name=name)
    assert r.status_code == 400
    assert r.json() == {"name": ["A file with this name already exists."]}
    assert rows(name)[0][1] == "image/png"
    assert len(events_for("File", name, "model_created")) == 1


@pytest.mark.parametrize("bad", [
    "../escape.png", "a/../../b.png", "/etc/passwd", "/abs.png", ".hidden.png", "./x.png",
    "dir/./x.png", "a//b.png", "dir/", "sp ace.png", "back\\slash.png", "per%2Fcent.png",
    "uni\u00e9.png", "a" * 1025, "a" * 256 + ".png", "..", "%(theme)s.png",
])
def test_name_refused(admin, bad):
    before = sql("SELECT count(*) FROM media_files")[0][0]
    r = upload(admin, PNG, name=bad)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["name"] and r.json()["name"][0]
    # The same rules hold for the upload's own file name.
    r = upload(admin, PNG, filename=bad)
    assert r.status_code == 400 and list(r.json()) == ["name"]
    assert sql("SELECT count(*) FROM media_files")[0][0] == before
    r = admin.delete(BASE, params={"name": bad})
    assert r.status_code == 400 and list(r.json()) == ["name"]


@pytest.mark.parametrize("content", [
    b"<!doctype html><html><script>alert(document.cookie)</script></html>",
    b"<html><body><img src=x onerror=alert(1)></body></html>",
    b"alert(document.cookie);\n",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
    b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><rect>',
    b'<html xmlns="http://www.w3.org/1999/xhtml"><svg xmlns="http://www.w3.org/2000/svg"/></html>',
    b"\x00\x00\x00\x00",
])
def test_type_refused(admin, tag, content):
    name = tag + ".png"
    r = upload(admin, content, filename="x.png", name=name)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["file"]
    assert rows(name) == []
    assert events_for("File", name, "model_created") == []


def test_file_field_errors(admin):
    r = admin.s.post(admin.url(BASE), files={"name": (None, "x.png")})
    assert r.status_code == 400 and r.json() == {"file": ["No file was submitted."]}
    r = admin.s.post(admin.url(BASE), files={"file": (None, "not a file")})
    assert r.status_code == 400 and list(r.json()) == ["file"]
    r = upload(admin, b"", filename="e.png")
    assert r.status_code == 400 and r.json() == {"file": ["The submitted file is empty."]}
    r = upload(admin, PNG, name="u.png", usage="reports")
    assert r.status_code == 400 and list(r.json()) == ["usage"]
    r = admin.post(BASE, json={"name": "x.png"})
    assert r.status_code == 415


def test_size_cap(admin, tag):
    name = tag + "-big.png"
    r = upload(admin, PNG + b"\x00" * (MAX - len(PNG) + 1), name=name)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["file"] and "exceeds maximum" in r.json()["file"][0]
    assert rows(name) == []
    # Far past the cap, the body is refused before it is read.
    r = upload(admin, PNG + b"\x00" * (MAX * 2), name=name)
    assert r.status_code == 413
    assert rows(name) == []
    # At the cap exactly, it goes in and comes out whole.
    content = PNG + b"\x01" * (MAX - len(PNG))
    assert upload(admin, content, name=name).status_code == 200
    assert rows(name)[0][2] == MAX
    r = admin.s.get(admin.base.replace("/api/v3", "") + "/media/public/" + name)
    assert r.status_code == 200 and r.content == content
    assert admin.delete(BASE, params={"name": name}).status_code == 200


def test_permissions(as_user, admin, lighttpd, tag):
    name = tag + ".png"
    nobody, _ = as_user()
    assert nobody.get(BASE).status_code == 403
    assert upload(nobody, PNG, name=name).status_code == 403
    assert nobody.delete(BASE, params={"name": name}).status_code == 403
    viewer, _ = as_user(perms=["authentik_rbac.view_media_files"])
    assert viewer.get(BASE).status_code == 200
    assert upload(viewer, PNG, name=name).status_code == 403
    manager, _ = as_user(perms=["authentik_rbac.manage_media_files"])
    assert upload(manager, PNG, name=name).status_code == 200
    # As authentik: listing wants view_media_files, which managing does not give.
    assert manager.get(BASE).status_code == 403
    assert viewer.delete(BASE, params={"name": name}).status_code == 403
    assert rows(name)
    assert manager.delete(BASE, params={"name": name}).status_code == 200
    anon = Api(lighttpd, None)
    assert anon.get(BASE).status_code == 401
    assert upload(anon, PNG, name=name).status_code == 401
    assert rows(name) == []


def test_csrf_on_session_upload(lighttpd, tag):
    uid, _ = create_user(perms=["authentik_rbac.manage_media_files"])
    jar = {"authentik_session": cookie(session_for(uid))}
    name = tag + ".png"
    files = {"file": ("x.png", PNG, "image/png")}
    r = requests.post(lighttpd + "/api/v3/" + BASE, cookies=jar, files=files, data={"name": name})
    assert r.status_code == 403
    assert r.json() == {"detail": "CSRF Failed: CSRF token missing or incorrect."}
    assert rows(name) == []
    csrf = secrets.token_hex(16)
    jar["authentik_csrf"] = csrf
    r = requests.post(lighttpd + "/api/v3/" + BASE, cookies=jar, files=files, data={"name": name},
                      headers={"X-authentik-CSRF": csrf})
    assert r.status_code == 200, r.text
    assert rows(name)
    r = requests.delete(lighttpd + "/api/v3/" + BASE, cookies=jar, params={"name": name})
    assert r.status_code == 403 and rows(name)
    r = requests.delete(lighttpd + "/api/v3/" + BASE, cookies=jar, params={"name": name},
                        headers={"X-authentik-CSRF": csrf})
    assert r.status_code == 200 and rows(name) == []


def test_list_search_and_usage(admin, tag):
    for n in ("a/one.png", "b/two.png", "B/Three.png"):
        assert upload(admin, PNG, name=tag + n).status_code == 200
    assert sorted(listed(admin, search=tag)) == sorted(tag + n for n in ("a/one.png", "b/two.png",
                                                                         "B/Three.png"))
    assert sorted(listed(admin, search=tag + "b/")) == [tag + "B/Three.png", tag + "b/two.png"]
    assert list(listed(admin, search=tag + "a/one", usage="media")) == [tag + "a/one.png"]
    r = admin.get(BASE, params={"usage": "reports"})
    assert r.status_code == 400 and list(r.json()) == ["usage"]
    assert isinstance(admin.get(BASE).json(), list)


@pytest.mark.parametrize("path", [
    "/media/public/no-such-file.png", "/media/public/../../etc/passwd", "/media/public/.env",
    "/media/public/", "/media/private/x.png", "/media/public/a%2F..%2Fb",
])
def test_serve_unknown(base, http, path):
    r = http.get(base + path)
    assert r.status_code in (400, 404), r.text


def test_serve_svg_cannot_run(admin, base, http, tag):
    name = tag + ".svg"
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
           b'</svg>')
    assert upload(admin, svg, name=name).status_code == 200
    r = http.get(base + "/media/public/" + name)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/svg+xml"
    assert r.headers["Content-Security-Policy"] == CSP
    # The responder's answer is passed through as it is, not compressed by the router.
    r = http.get(base + "/media/public/" + name, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in r.headers and r.content == svg
    assert admin.delete(BASE, params={"name": name}).status_code == 200


def test_system_permissions_in_me(as_user):
    api, _ = as_user(perms=["authentik_rbac.access_admin_interface",
                            "authentik_rbac.view_media_files"])
    me = api.get("core/users/me/").json()["user"]
    assert sorted(me["system_permissions"]) == ["access_admin_interface", "view_media_files"]
    plain, _ = as_user()
    assert plain.get("core/users/me/").json()["user"]["system_permissions"] == []


def test_superuser_has_every_system_permission(admin):
    perms = admin.get("core/users/me/").json()["user"]["system_permissions"]
    assert {"access_admin_interface", "view_media_files", "manage_media_files",
            "view_system_settings", "edit_system_settings", "view_system_info"} <= set(perms)
