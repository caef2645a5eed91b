"""What stages offer users on their settings page: GET /api/v3/stages/all/user_settings/ and
the configure view /flows/-/configure/<stage_uuid>/ that starts a stage's configure flow (the
default password stage's is default-password-change), as authentik's
stages_all_user_settings_list and ConfigureFlowInitView."""
import secrets
import urllib.parse
import uuid

import requests

from conftest import Api, create_user, login_stage_make, sql
from test_default_flows import EXEC, Browser, login, make_user

BACKENDS = ["authentik.core.auth.InbuiltBackend"]
SETTING_KEYS = ["title", "component", "object_uid", "configure_url"]


def default_password_stage():
    return sql("SELECT stage_uuid::text FROM stages "
               "WHERE name = 'default-authentication-password'")[0][0]


def flow_uuid(slug):
    return sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", slug)[0][0]


def configure_flow_make(authentication="require_authenticated"):
    """A stage_configuration flow with one prompt stage (the default password change's)."""
    slug = "cf-" + secrets.token_hex(5)
    f = sql("INSERT INTO flows (slug, name, title, designation, authentication) VALUES "
            "(%s, %s, %s, 'stage_configuration', %s) RETURNING flow_uuid::text",
            slug, slug, slug, authentication)[0][0]
    sql("INSERT INTO flow_stage_bindings (target, stage, \"order\") SELECT %s, stage_uuid, 0 "
        "FROM stages WHERE name = 'default-password-change-prompt'", f)
    return slug, f


def logged_in(base, superuser=False):
    """A browser logged in through the default authentication flow; (browser, user id,
    username, password)."""
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    if superuser:
        uid, _ = create_user(superuser=True)
        _, key = create_user(superuser=True)
        r = Api(base, key).post("core/users/%d/set_password/" % uid, {"password": password})
        assert r.status_code == 204, r.text
        username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    else:
        _, key = create_user(superuser=True)
        uid, username = make_user(Api(base, key), password)
    b, c = login(base, username, password)
    assert c["component"] == "xak-flow-redirect", c
    return b, uid, username, password


def configure(b, stage, query=""):
    url = "%s/flows/-/configure/%s/%s" % (b.base, stage, "?" + query if query else "")
    return b.s.get(url, allow_redirects=False)


# --- stages/all/user_settings/ -------------------------------------------------------------

def test_user_settings_lists_password_stages_with_configure_flow(lighttpd, as_user):
    api, _ = as_user()
    r = api.get("stages/all/user_settings/")
    assert r.status_code == 200, r.text
    items = r.json()
    assert isinstance(items, list)
    pk = default_password_stage()
    mine = [x for x in items if x["object_uid"] == pk]
    assert mine == [{"title": "Password Stage", "component": "ak-user-settings-password",
                     "object_uid": pk, "configure_url": "/flows/-/configure/%s/" % pk}]
    assert list(mine[0]) == SETTING_KEYS
    # Only password stages that name an existing configure flow.
    _, f = configure_flow_make()
    with_flow = login_stage_make("passwordstage", {"backends": BACKENDS, "configure_flow": f})
    without = login_stage_make("passwordstage", {"backends": BACKENDS})
    dangling = login_stage_make("passwordstage", {"backends": BACKENDS,
                                                  "configure_flow": str(uuid.uuid4())})
    other_kind = login_stage_make("identificationstage", {"configure_flow": f})
    uids = [x["object_uid"] for x in api.get("stages/all/user_settings/").json()]
    assert with_flow in uids and pk in uids
    assert without not in uids and dangling not in uids and other_kind not in uids
    # Ordered by stage name, as authentik orders each kind.
    names = sql("SELECT stage_uuid::text FROM stages WHERE stage_uuid::text = ANY(%s) "
                "ORDER BY name", uids)
    assert [n[0] for n in names] == uids


def test_user_settings_needs_login(lighttpd):
    r = requests.get(lighttpd + "/api/v3/stages/all/user_settings/")
    assert r.status_code == 401
    # A browser's session is enough, no permission needed.
    b, _, _, _ = logged_in(lighttpd)
    r = b.s.get(lighttpd + "/api/v3/stages/all/user_settings/")
    assert r.status_code == 200, r.text
    assert default_password_stage() in [x["object_uid"] for x in r.json()]


def test_user_settings_in_schema(lighttpd):
    doc = requests.get(lighttpd + "/api/v3/schema/?format=json").json()
    assert "get" in doc["paths"]["/stages/all/user_settings/"]


# --- /flows/-/configure/<stage_uuid>/ -------------------------------------------------------

def test_configure_anonymous_goes_to_login_and_back(lighttpd):
    pk = default_password_stage()
    b = Browser(lighttpd)
    r = configure(b, pk)
    here = "/flows/-/configure/%s/" % pk
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc == "/flows/-/default/authentication/?next=" + urllib.parse.quote(here, safe="")
    # The authentication flow sends the browser back here once it is logged in.
    r = b.s.get(lighttpd + loc, allow_redirects=False)
    assert r.status_code == 302
    page = r.headers["Location"]
    assert page.startswith("/if/flow/default-authentication-flow/?"), page
    query = urllib.parse.urlsplit(page).query
    assert urllib.parse.parse_qs(query)["next"] == [here]
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    _, key = create_user(superuser=True)
    _, username = make_user(Api(lighttpd, key), password)
    url = "%s%sdefault-authentication-flow/?query=%s" % (
        lighttpd, EXEC, urllib.parse.quote(query, safe=""))
    csrf = lambda: {"X-authentik-CSRF": b.s.cookies.get("authentik_csrf") or ""}
    c = b.s.get(url).json()
    assert c["component"] == "ak-stage-identification", c
    for body in ({"component": "ak-stage-identification", "uid_field": username},
                 {"component": "ak-stage-password", "password": password}):
        r = b.s.post(url, json=body, headers=csrf(), allow_redirects=False)
        if r.status_code == 302:
            r = b.s.get(url)
        c = r.json()
    assert c == {"component": "xak-flow-redirect", "to": here}, c
    r = configure(b, pk)
    assert r.status_code == 302
    assert r.headers["Location"] == "/if/flow/default-password-change/"


def test_configure_changes_password_end_to_end(lighttpd):
    b, uid, username, old = logged_in(lighttpd)
    pk = default_password_stage()
    # As the user page links it (stages/all/user_settings/ -> configure_url).
    items = b.s.get(lighttpd + "/api/v3/stages/all/user_settings/").json()
    url = [x["configure_url"] for x in items if x["object_uid"] == pk][0]
    r = b.s.get(lighttpd + url + "?next=%2Fif%2Fuser%2F", allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/if/flow/default-password-change/?next=%2Fif%2Fuser%2F"
    # The plan is made for this user: the executor finds it and shows its first stage.
    plan = sql("SELECT flow_plan FROM sessions s JOIN users u ON u.id = s.user_id "
               "WHERE u.id = %s AND flow_plan IS NOT NULL", uid)
    assert len(plan) == 1 and plan[0][0]["slug"] == "default-password-change", plan
    assert plan[0][0]["context"]["pending_user"] == uid
    ex = "%s%sdefault-password-change/?query=%s" % (lighttpd, EXEC,
                                                     urllib.parse.quote("next=/if/user/", safe=""))
    headers = {"X-authentik-CSRF": b.s.cookies.get("authentik_csrf")}
    c = b.s.get(ex).json()
    assert c["component"] == "ak-stage-prompt", c
    assert [f["field_key"] for f in c["fields"]] == ["password", "password_repeat"]
    # The flow's password policy still applies.
    r = b.s.post(ex, json={"component": "ak-stage-prompt", "password": "abc",
                           "password_repeat": "abc"}, headers=headers)
    assert r.status_code == 200 and r.json().get("response_errors"), r.text
    new = "a much longer passphrase " + secrets.token_hex(6)
    r = b.s.post(ex, json={"component": "ak-stage-prompt", "password": new,
                           "password_repeat": new}, headers=headers, allow_redirects=False)
    c = b.s.get(ex).json() if r.status_code == 302 else r.json()
    assert c == {"component": "xak-flow-redirect", "to": "/if/user/"}, c
    # Still logged in, and only the new password opens the account now.
    assert b.me()["username"] == username
    _, c = login(lighttpd, username, old)
    assert c["component"] == "ak-stage-password" and c.get("response_errors"), c
    _, c = login(lighttpd, username, new)
    assert c["component"] == "xak-flow-redirect", c


def test_configure_not_found(lighttpd):
    b, _, _, _ = logged_in(lighttpd)
    without = login_stage_make("passwordstage", {"backends": BACKENDS})
    dangling = login_stage_make("passwordstage", {"backends": BACKENDS,
                                                  "configure_flow": str(uuid.uuid4())})
    _, f = configure_flow_make()
    other_kind = login_stage_make("identificationstage", {"configure_flow": f})
    for stage in (str(uuid.uuid4()), without, dangling, other_kind, "not-a-uuid",
                  default_password_stage().upper()):
        r = configure(b, stage)
        assert r.status_code == 404, (stage, r.status_code, r.text)


def test_configure_checks_flow_applies(lighttpd):
    """The configure flow is planned for the user at once: one that does not apply is a 404."""
    slug, f = configure_flow_make(authentication="require_superuser")
    stage = login_stage_make("passwordstage", {"backends": BACKENDS, "configure_flow": f})
    b, _, _, _ = logged_in(lighttpd)
    assert configure(b, stage).status_code == 404
    sb, _, _, _ = logged_in(lighttpd, superuser=True)
    r = configure(sb, stage)
    assert r.status_code == 302 and r.headers["Location"] == "/if/flow/%s/" % slug
    # A policy bound to the flow that fails for the user.
    slug, f = configure_flow_make()
    stage = login_stage_make("passwordstage", {"backends": BACKENDS, "configure_flow": f})
    assert configure(b, stage).status_code == 302
    _, key = create_user(superuser=True)
    admin = Api(lighttpd, key)
    r = admin.post("policies/expression/", {"name": "deny-" + secrets.token_hex(4),
                                             "expression": "return false"})
    assert r.status_code == 201, r.text
    r = admin.post("policies/bindings/", {"target": f, "policy": r.json()["pk"], "order": 0})
    assert r.status_code == 201, r.text
    assert configure(b, stage).status_code == 404
