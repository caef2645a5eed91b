"""Attacks on what the admin and user interfaces added to the API: media uploads and
/media/public/, the events volume, the application list's policy filter, token owners,
policy tests, /flows/-/configure/, and the headers of the interface pages and API answers.

Each test is one thing an attacker would try; it passes when the attack fails."""
import secrets
import urllib.parse
import uuid

import pytest
import requests

from conftest import Api, create_user, sql
from test_api_session import cookie, session_for
from test_default_flows import EXEC
from test_user_settings import configure, default_password_stage, logged_in

FILES = "admin/file/"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
SVG_NS = b'xmlns="http://www.w3.org/2000/svg"'
MANAGE = "authentik_rbac.manage_media_files"
VIEW = "authentik_rbac.view_media_files"


@pytest.fixture
def tag():
    return "atk" + secrets.token_hex(5)


def upload(api, content, name, filename="x.bin", part_type="application/octet-stream"):
    return api.s.post(api.url(FILES), files={"file": (filename, content, part_type)},
                      data={"name": name})


def stored(name):
    return sql("SELECT mime, data FROM media_files WHERE name = %s", name)


def media(base, name, **kw):
    return requests.get(base + "/media/public/" + name, **kw)


def assert_inert(r, mime):
    """A media answer a browser can only show as an image: the sniffed type, no sniffing of
    its own, and a policy that runs nothing and gives the document no origin."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == mime
    assert "nosniff" in r.headers.get("X-Content-Type-Options", "")
    csp = r.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "sandbox" in csp, csp
    assert "script-src" not in csp and "allow-" not in csp, csp
    assert "Set-Cookie" not in r.headers


# --- media files: what an SVG or a polyglot can do ---------------------------------------

SVG_PAYLOADS = {
    "onload": b"<svg " + SVG_NS + b' onload="alert(1)"/>',
    "script": b"<svg " + SVG_NS + b"><script>alert(document.cookie)</script></svg>",
    "xhtml-script": b"<svg " + SVG_NS + b'><script xmlns="http://www.w3.org/1999/xhtml">'
                    b"alert(1)</script></svg>",
    "no-namespace": b"<svg><script>alert(1)</script></svg>",
    "prefixed": b'<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script>'
                b"</s:svg>",
    "foreign-object": b"<svg " + SVG_NS + b'><foreignObject><body xmlns="http://www.w3.org/1999'
                      b'/xhtml"><iframe src="javascript:alert(1)"/></body></foreignObject></svg>',
    "javascript-link": b"<svg " + SVG_NS + b' xmlns:x="http://www.w3.org/1999/xlink"><a '
                       b'x:href="javascript:alert(1)"><rect width="9" height="9"/></a></svg>',
    "xslt-pi": b'<?xml-stylesheet type="text/xsl" href="evil.svg"?><svg ' + SVG_NS + b"/>",
    "xslt-simplified": b"<svg " + SVG_NS + b' xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
                       b'xsl:version="1.0"><html xmlns="http://www.w3.org/1999/xhtml"><script>'
                       b"alert(1)</script></html></svg>",
    "css-import": b"<svg " + SVG_NS + b"><style>@import url(https://attacker.example/x.css);"
                  b"</style></svg>",
}


@pytest.mark.parametrize("kind", sorted(SVG_PAYLOADS))
def test_svg_with_active_content_is_served_inert(admin, base, tag, kind):
    """An SVG may carry script, links and stylesheets; opened directly it must run none of
    them (the sandbox gives it no origin, so it cannot read custos's cookies or API)."""
    name = "%s/%s.svg" % (tag, kind)
    r = upload(admin, SVG_PAYLOADS[kind], name, part_type="image/svg+xml")
    assert r.status_code == 200, r.text
    assert stored(name)[0][0] == "image/svg+xml"
    assert_inert(media(base, name), "image/svg+xml")
    # Conditional and HEAD answers carry no body to run.
    etag = media(base, name).headers["ETag"]
    r = media(base, name, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    r = requests.head(base + "/media/public/" + name)
    assert r.status_code == 200 and r.content == b""


@pytest.mark.parametrize("content,mime", [
    # Valid JavaScript that starts like a GIF: as a script it would run under script-src 'self'.
    (b"GIF89a=1;alert(document.domain)//", "image/gif"),
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "image/png"),
    (b"\xff\xd8\xff<script>alert(1)</script>", "image/jpeg"),
    (b"\x00\x00\x01\x00\x01\x00" + b"<html><script>alert(1)</script></html>" + b"\x00" * 16,
     "image/x-icon"),
])
@pytest.mark.parametrize("declared", ["text/html", "application/javascript", "text/css"])
def test_polyglot_keeps_its_image_type(admin, base, tag, content, mime, declared):
    """The type of a file is what its bytes are, never what the upload declared or what its
    name says; with nosniff a browser then refuses it as a script or a stylesheet."""
    name = tag + "/poly." + {"text/html": "html", "application/javascript": "js",
                             "text/css": "css"}[declared]
    r = upload(admin, content, name, filename="evil.html", part_type=declared)
    assert r.status_code == 200, r.text
    assert stored(name)[0][0] == mime
    assert_inert(media(base, name), mime)


@pytest.mark.parametrize("content", [
    b"<!doctype html><script>alert(1)</script>",
    b"<html " + b'xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
    b"alert(document.cookie)",
    b"body{background:url(https://attacker.example/)}",
    b'<?xml version="1.0"?><x:stylesheet version="1.0" '
    b'xmlns:x="http://www.w3.org/1999/XSL/Transform"/>',
    b"<svg " + SVG_NS + b"><![CDATA[<!ENTITY x 'y'>]]></svg>",
    '<svg xmlns="http://www.w3.org/2000/svg"/>'.encode("utf-16"),
    b'<?xml version="1.0" encoding="EBCDIC-US"?><svg ' + SVG_NS + b"/>",
])
def test_markup_that_is_no_image_is_refused(admin, tag, content):
    name = tag + "/page.svg"
    r = upload(admin, content, name, part_type="image/svg+xml")
    assert r.status_code == 400 and list(r.json()) == ["file"], r.text
    assert stored(name) == []


# --- media files: names, overwrites, other people's files --------------------------------

def test_another_manager_cannot_replace_a_file(as_user, base, tag):
    first, _ = as_user(perms=[MANAGE])
    second, _ = as_user(perms=[MANAGE])
    name = tag + "/logo.png"
    assert upload(first, PNG, name).status_code == 200
    evil = b"\x89PNG\r\n\x1a\n" + b"replaced"
    r = upload(second, evil, name)
    assert r.status_code == 400 and r.json() == {"name": ["A file with this name already exists."]}
    # Names differing only in case are different files: the first one's bytes stay.
    for other in (tag + "/LOGO.png", tag + "/Logo.PNG", tag.upper() + "/logo.png"):
        assert upload(second, evil, other).status_code == 200
    assert stored(name)[0][1].tobytes() == PNG
    assert media(base, name).content == PNG


@pytest.mark.parametrize("name", [
    "logo\uff0epng",            # fullwidth full stop
    "lo\u0301go.png",           # combining accent (NFD)
    "logo\u202egnp.exe",        # right-to-left override
    "lo\u200bgo.png",           # zero width space
    "\u0430dmin.png",           # Cyrillic a
    "logo.png\x00.svg",
    "logo.png\r\nX-Injected: 1",
    "a/\u2215/b.png",           # division slash
    "dir\\..\\x.png",
    "a/%2e%2e/b.png",
    "..%2fetc%2fpasswd",
    "x.png?y",
    "x.png#y",
    "~/x.png",
])
def test_lookalike_and_odd_names_refused(admin, name):
    before = sql("SELECT count(*) FROM media_files")[0][0]
    r = upload(admin, PNG, name)
    assert r.status_code == 400 and list(r.json()) == ["name"], r.text
    assert sql("SELECT count(*) FROM media_files")[0][0] == before


@pytest.mark.parametrize("path", [
    "/media/api/v3/core/users/me/",
    "/media/-/health/ready/",
    "/media/public/%00",
    "/media/public/x.png%00.svg",
    "/media/public/%2e%2e/%2e%2e/api/v3/core/users/me/",
    "/media/private/x.png",
    "/media/x.png",
])
def test_media_prefix_reaches_nothing_else(admin, base, path):
    """/media/ is routed to the API responder: nothing but /media/public/<name> may answer."""
    token = admin.s.headers["Authorization"]
    r = requests.get(base + path, headers={"Authorization": token})
    assert r.status_code in (400, 404), (path, r.status_code, r.text[:200])
    assert "username" not in r.text


def test_media_permissions(as_user, lighttpd, tag):
    name = tag + "/p.png"
    for perms in ([], ["authentik_rbac.access_admin_interface"], [VIEW],
                  ["authentik_core.add_user", "authentik_core.change_user"]):
        api, _ = as_user(perms=perms)
        assert upload(api, PNG, name).status_code == 403, perms
    # A permission on one object is no model permission: it opens nothing.
    api, _ = as_user(object_perms=[(MANAGE, name), (VIEW, name)])
    assert upload(api, PNG, name).status_code == 403
    assert api.get(FILES).status_code == 403
    manager, _ = as_user(perms=[MANAGE])
    assert upload(manager, PNG, name).status_code == 200
    for perms in ([], [VIEW], ["authentik_rbac.access_admin_interface"]):
        api, _ = as_user(perms=perms)
        assert api.delete(FILES, params={"name": name}).status_code == 403, perms
    assert stored(name)
    # Anyone may fetch it, without a login; a login changes nothing in the answer.
    assert media(lighttpd, name).content == PNG


def test_media_changes_need_the_csrf_header(lighttpd, tag):
    """A cross-site form (multipart, no custom header) or a header that does not match the
    cookie cannot upload or delete with a browser's session."""
    uid, _ = create_user(perms=[MANAGE])
    csrf = secrets.token_hex(16)
    jar = {"authentik_session": cookie(session_for(uid)), "authentik_csrf": csrf}
    url = lighttpd + "/api/v3/" + FILES
    name = tag + ".png"
    files = {"file": ("x.png", PNG, "image/png")}
    for headers in ({}, {"X-authentik-CSRF": "0" * 32}, {"X-CSRFToken": csrf},
                    {"Origin": lighttpd, "Referer": lighttpd + "/if/admin/"}):
        r = requests.post(url, cookies=jar, files=files, data={"name": name}, headers=headers)
        assert r.status_code == 403, (headers, r.text)
    # A header without the cookie to compare it with.
    r = requests.post(url, cookies={"authentik_session": jar["authentik_session"]}, files=files,
                      data={"name": name}, headers={"X-authentik-CSRF": csrf})
    assert r.status_code == 403
    assert stored(name) == []
    r = requests.post(url, cookies=jar, files=files, data={"name": name},
                      headers={"X-authentik-CSRF": csrf})
    assert r.status_code == 200, r.text
    # Delete by GET or by a method override does nothing.
    r = requests.get(url, cookies=jar, params={"name": name, "_method": "DELETE"})
    assert r.status_code in (200, 403) and stored(name)
    r = requests.post(url, cookies=jar, params={"name": name, "_method": "DELETE"},
                      headers={"X-HTTP-Method-Override": "DELETE", "X-authentik-CSRF": csrf})
    assert r.status_code in (400, 405, 415) and stored(name)
    r = requests.delete(url, cookies=jar, params={"name": name})
    assert r.status_code == 403 and stored(name)


# --- events/events/volume/ -----------------------------------------------------------------

def event_make(action, context):
    return sql("INSERT INTO events (action, app, context, \"user\", client_ip) VALUES "
               "(%s, 'authentik.attack', %s::jsonb, '{}'::jsonb, '192.0.2.1') "
               "RETURNING event_uuid::text", action, context)[0][0]


def volume(api, **params):
    r = api.get("events/events/volume/", params=params)
    assert r.status_code == 200, r.text
    return {row["action"]: row["count"] for row in r.json()}


def test_volume_leaks_no_events(as_user, admin, lighttpd, tag):
    """The volume counts only what the caller may list: a user without view_event learns
    nothing, not through search or filters either."""
    action = "custom_" + tag
    secret = event_make(action, '{"secret": "%s-secret"}' % tag)
    event_make(action, '{"secret": "%s-other"}' % tag)
    assert volume(admin, actions=action) == {action: 2}
    r = requests.get(lighttpd + "/api/v3/events/events/volume/")
    assert r.status_code == 401
    nobody, _ = as_user(perms=["authentik_rbac.access_admin_interface"])
    for params in ({}, {"actions": action}, {"search": tag + "-secret"}, {"action": "custom_"},
                   {"history_days": "366"}, {"actions": [action, "x\"}{,'"]},
                   {"search": "%"}, {"search": "_"}, {"search": "\\"}):
        assert volume(nobody, **params) == {}, params
    # One event shared: one counted, whatever the search says.
    one, _ = as_user(object_perms=[("authentik_events.view_event", secret)])
    assert volume(one, actions=action) == {action: 1}
    assert volume(one, search=tag + "-other") == {}
    assert volume(one, search=tag + "-secret") == {action: 1}
    viewer, _ = as_user(perms=["authentik_events.view_event"])
    assert volume(viewer, actions=action) == {action: 2}


@pytest.mark.parametrize("days", ["x", "1.5", "1e3", "", "9" * 40, "1;2"])
def test_volume_odd_history_days(admin, days):
    r = admin.get("events/events/volume/", params={"history_days": days})
    assert r.status_code == 400 and list(r.json()) == ["history_days"], r.text


# --- core/applications/: who sees which ----------------------------------------------------

def hidden_application(admin, tag):
    """An application bound to a group nobody is in, and one bound to user uid alone."""
    r = admin.post("core/applications/", {"name": "hidden " + tag, "slug": "hidden-" + tag,
                                          "meta_launch_url": "https://intranet.example/" + tag})
    assert r.status_code == 201, r.text
    app = r.json()
    group = admin.post("core/groups/", {"name": "g-" + tag}).json()
    r = admin.post("policies/bindings/", {"target": app["pk"], "group": group["pk"], "order": 0})
    assert r.status_code == 201, r.text
    return app


def listed_slugs(api, **params):
    r = api.get("core/applications/", params=params)
    assert r.status_code == 200, r.text
    return [a["slug"] for a in r.json()["results"]]


def test_policy_hidden_application_stays_hidden(admin, as_user, tag):
    hidden_application(admin, tag)
    user, uid = as_user()
    assert listed_slugs(user, search=tag) == []
    # superuser_full_list is a superuser's; anyone else still gets the filtered list.
    assert listed_slugs(user, search=tag, superuser_full_list="true") == []
    assert listed_slugs(user, search=tag, superuser_full_list="True") == []
    assert user.get("core/applications/hidden-%s/" % tag).status_code in (403, 404)
    # Another user's list needs view_user_applications on that user.
    r = user.get("core/applications/", params={"for_user": uid})
    assert r.status_code == 400
    assert listed_slugs(admin, search=tag, superuser_full_list="true") == ["hidden-" + tag]
    assert listed_slugs(admin, search=tag) == []


def test_for_user_any_spelling_of_the_id(admin, tag):
    """for_user is an integer (authentik's int()): "+7", "07" and " 7" name user 7, and the
    list must decide for user 7, including bindings that name the user."""
    uid, _ = create_user()
    r = admin.post("core/applications/", {"name": "only " + tag, "slug": "only-" + tag})
    assert r.status_code == 201, r.text
    r = admin.post("policies/bindings/", {"target": r.json()["pk"], "user": uid, "order": 0})
    assert r.status_code == 201, r.text
    assert listed_slugs(admin, search=tag, for_user=str(uid)) == ["only-" + tag]
    for spelling in ("+%d" % uid, "0%d" % uid, " %d" % uid):
        assert listed_slugs(admin, search=tag, for_user=spelling) == ["only-" + tag], spelling


# --- tokens: the owner's delete ------------------------------------------------------------

def token_make(uid, tag):
    identifier = "atk-" + tag + "-" + secrets.token_hex(3)
    sql("INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring) VALUES "
        "(%s, %s, %s, 'api', %s, false)", identifier, secrets.token_hex(20),
        secrets.token_hex(32), uid)
    return identifier


def test_token_owner_deletes_only_own(as_user, tag):
    alice, alice_id = as_user()
    bob, bob_id = as_user()
    viewer, _ = as_user(perms=["authentik_core.view_token"])
    bobs = token_make(bob_id, tag)
    assert alice.delete("core/tokens/%s/" % bobs).status_code == 404
    assert viewer.delete("core/tokens/%s/" % bobs).status_code == 403
    assert alice.delete("core/tokens/%s/" % bobs.upper()).status_code == 404
    assert sql("SELECT count(*) FROM tokens WHERE identifier = %s", bobs)[0][0] == 1
    alices = token_make(alice_id, tag)
    assert alice.delete("core/tokens/%s/" % alices).status_code == 204
    assert sql("SELECT count(*) FROM tokens WHERE identifier = %s", alices)[0][0] == 0
    # Deleting is all ownership gives: no change, no key.
    mine = token_make(alice_id, tag)
    assert alice.patch("core/tokens/%s/" % mine, {"expiring": False}).status_code in (403, 404)
    assert alice.get("core/tokens/%s/view_key/" % bobs).status_code in (403, 404)


# --- policies/all/<uuid>/test/ -------------------------------------------------------------

def test_policy_test_needs_change(admin, as_user, tag):
    """Testing runs the policy with a context the caller picks: reading it is not enough."""
    def expression(name):
        r = admin.post("policies/expression/", {"name": name, "expression": "return True"})
        assert r.status_code == 201, r.text
        return r.json()["pk"]

    p = expression("atk-" + tag)
    other = expression("atk-other-" + tag)
    see_users = "authentik_core.view_user"
    for perms, objs, want in (
            ([see_users], [], 403),
            ([see_users, "authentik_policies.view_policy"], [], 403),
            ([see_users, "authentik_policies_expression.view_expressionpolicy"], [], 403),
            ([see_users, "authentik_policies_dummy.change_dummypolicy"], [], 403),
            ([see_users], [("authentik_policies.change_policy", other)], 403),
            ([see_users], [("authentik_policies.change_policy", p)], 200),
            ([see_users, "authentik_policies_expression.change_expressionpolicy"], [], 200)):
        api, uid = as_user(perms=perms, object_perms=objs)
        r = api.post("policies/all/%s/test/" % p, {"user": uid, "context": {}})
        assert r.status_code == want, (perms, objs, r.status_code, r.text)
    # Another user it may not view: refused as authentik refuses it.
    api, _ = as_user(perms=["authentik_policies.change_policy"])
    victim, _ = create_user()
    assert api.post("policies/all/%s/test/" % p, {"user": victim}).status_code == 400


# --- /flows/-/configure/<stage_uuid>/ -------------------------------------------------------

def test_configure_query_cannot_split_headers(lighttpd):
    b, _, _, _ = logged_in(lighttpd)
    pk = default_password_stage()
    r = configure(b, pk, "next=%2Fif%2Fuser%2F%0d%0aSet-Cookie:%20x=1&a=%0aLocation:%20//x")
    # Refused outright, or sent on with the query still percent-encoded.
    assert r.status_code in (302, 400), r.text
    assert "x" not in r.cookies and "X-Injected" not in r.headers
    if r.status_code == 302:
        assert "\n" not in r.headers["Location"]
        assert r.headers["Location"].startswith("/if/flow/default-password-change/?")


@pytest.mark.parametrize("nxt", ["https://attacker.example/", "//attacker.example/",
                                 "/\\attacker.example/", "javascript:alert(1)"])
def test_configure_next_to_another_site_is_dropped(lighttpd, nxt):
    """The configure view keeps the query for the flow; a next= to another site must not come
    out at the flow's end."""
    b, _, _, _ = logged_in(lighttpd)
    r = configure(b, default_password_stage(), "next=" + urllib.parse.quote(nxt, safe=""))
    assert r.status_code == 302, r.text
    query = urllib.parse.urlsplit(r.headers["Location"]).query
    url = "%s%sdefault-password-change/?query=%s" % (lighttpd, EXEC,
                                                      urllib.parse.quote(query, safe=""))
    headers = {"X-authentik-CSRF": b.s.cookies.get("authentik_csrf")}
    c = b.s.get(url).json()
    assert c["component"] == "ak-stage-prompt", c
    new = "a much longer passphrase " + secrets.token_hex(6)
    r = b.s.post(url, json={"component": "ak-stage-prompt", "password": new,
                            "password_repeat": new}, headers=headers, allow_redirects=False)
    c = b.s.get(url).json() if r.status_code == 302 else r.json()
    assert c["component"] == "xak-flow-redirect", c
    assert "attacker" not in c["to"] and not c["to"].startswith("javascript"), c


def test_configure_plans_only_for_the_session_user(lighttpd):
    """Nothing in the query picks whose password the flow changes."""
    b, uid, _, _ = logged_in(lighttpd)
    victim, _ = create_user()
    r = configure(b, default_password_stage(),
                  "pending_user=%d&user=%d&context=%%7B%%22pending_user%%22%%3A%d%%7D"
                  % (victim, victim, victim))
    assert r.status_code == 302
    plan = sql("SELECT flow_plan FROM sessions WHERE user_id = %s AND flow_plan IS NOT NULL", uid)
    assert len(plan) == 1 and plan[0][0]["context"]["pending_user"] == uid, plan


def test_configure_unknown_or_malformed_stage(lighttpd):
    b, _, _, _ = logged_in(lighttpd)
    for stage in (str(uuid.uuid4()), "%2e%2e", "..%2fdefault%2fauthentication",
                  default_password_stage() + "%00", "' OR '1'='1"):
        r = configure(b, stage)
        assert r.status_code in (400, 404), (stage, r.status_code)


# --- headers: framing, scripts, caching ----------------------------------------------------

@pytest.mark.parametrize("path", [
    "/if/admin/", "/if/user/", "/if/flow/default-authentication-flow/", "/if/admin/index.html",
    "/if/user/index.html", "//if/admin/", "/if//user/", "/%69f/admin/", "/if/admin/x/y",
    "/static/../if/admin/",
])
def test_interfaces_refuse_framing_and_inline_script(base, path):
    r = requests.get(base + path)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), path
    assert r.headers.get("X-Frame-Options") == "DENY", path
    csp = r.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("script-src") == ["'self'"], csp
    assert directives.get("object-src") == ["'none'"], csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert "nosniff" in r.headers.get("X-Content-Type-Options", "")


def test_api_answers_are_not_stored(admin, base, tag):
    """API answers hold personal data and secrets (token keys, private keys): no browser or
    shared cache may keep them."""
    uid, _ = create_user()
    identifier = token_make(uid, tag)
    api = Api(base, admin.s.headers["Authorization"].split(" ", 1)[1])
    for path in ("core/users/me/", "core/tokens/%s/view_key/" % identifier, "core/users/",
                 FILES, "events/events/volume/"):
        r = api.get(path)
        assert r.status_code == 200, (path, r.text)
        cc = r.headers.get("Cache-Control", "")
        assert "no-store" in cc, (path, cc)
