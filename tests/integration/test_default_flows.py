"""The default flows of sql/0055_default_flows.sql: authentik's slugs, names and stages, the
default brand's links to them, logins through them, and initial-setup's run-once guard."""
import json
import os
import secrets
import subprocess
import urllib.parse
import uuid

import argon2
import pytest
import requests

from conftest import ENV, ROOT, binary, config_path, create_user, sql
from test_bootstrap import bootstrap, fresh_db  # noqa: F401 (fixture)
from test_migrate import psql_super

EXEC = "/api/v3/flows/executor/"


def query(db, q, *args):
    """One statement on database db, committed; its rows, or [] for none."""
    import psycopg2
    conn = psycopg2.connect(host=os.path.join(os.environ["CU_TEST_STATE"], "run", "pg"),
                            port=ENV["PG_PORT"], dbname=db, user="custos",
                            password=ENV["PG_PASSWORD"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(q, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()

# slug: (name, title, designation, authentication, [(order, stage name, stage type)])
DEFAULTS = {
    "default-authentication-flow": (
        "Welcome to authentik!", "Welcome to authentik!", "authentication", "none",
        [(10, "default-authentication-identification", "identificationstage"),
         (20, "default-authentication-password", "passwordstage"),
         (100, "default-authentication-login", "userloginstage")]),
    "default-invalidation-flow": (
        "Logout", "Default Invalidation Flow", "invalidation", "none",
        [(0, "default-invalidation-logout", "userlogoutstage")]),
    "default-provider-authorization-implicit-consent": (
        "Authorize Application", "Redirecting to %(app)s", "authorization",
        "require_authenticated", []),
    "default-provider-authorization-explicit-consent": (
        "Authorize Application", "Redirecting to %(app)s", "authorization",
        "require_authenticated", [(0, "default-provider-authorization-consent", "consentstage")]),
    "default-provider-invalidation-flow": (
        "Logged out of application", "You've logged out of %(app)s.", "invalidation", "none", []),
    "default-user-settings-flow": (
        "User settings", "Update your info", "stage_configuration", "require_authenticated",
        [(20, "default-user-settings", "promptstage"),
         (100, "default-user-settings-write", "userwritestage")]),
    "default-password-change": (
        "Change Password", "Change password", "stage_configuration", "require_authenticated",
        [(0, "default-password-change-prompt", "promptstage"),
         (1, "default-password-change-write", "userwritestage")]),
    "default-recovery-flow": (
        "Default recovery flow", "Reset your password", "recovery", "require_unauthenticated",
        [(10, "default-recovery-identification", "identificationstage"),
         (20, "default-recovery-email", "emailstage"),
         (30, "Change your password", "promptstage"),
         (40, "default-recovery-user-write", "userwritestage"),
         (100, "default-recovery-user-login", "userloginstage")]),
    "default-enrollment-flow": (
        "Default enrollment Flow", "Welcome to authentik!", "enrollment",
        "require_unauthenticated",
        [(10, "default-enrollment-prompt-first", "promptstage"),
         (11, "default-enrollment-prompt-second", "promptstage"),
         (20, "default-enrollment-user-write", "userwritestage"),
         (30, "default-enrollment-email-verification", "emailstage"),
         (100, "default-enrollment-user-login", "userloginstage")]),
    "initial-setup": (
        "default-oobe-setup", "Welcome to authentik!", "stage_configuration", None,
        [(10, "stage-default-oobe-password", "promptstage"),
         (20, "default-oobe-write", "userwritestage"),
         (100, "default-authentication-login", "userloginstage")]),
}


def flow_row(slug, q=sql):
    rows = q("SELECT name, title, designation, authentication FROM flows WHERE slug = %s", slug)
    return rows[0] if rows else None


def bindings(slug, q=sql):
    return [tuple(r) for r in q(
        "SELECT b.\"order\", s.name, s.type FROM flow_stage_bindings b "
        "JOIN flows f ON f.flow_uuid = b.target JOIN stages s ON s.stage_uuid = b.stage "
        "WHERE f.slug = %s ORDER BY b.\"order\"", slug)]


def prompt_keys(stage_name, q=sql):
    return [r[0] for r in q(
        "SELECT p.field_key FROM prompt_stage_fields x JOIN stages s ON s.stage_uuid = x.stage "
        "JOIN prompts p ON p.prompt_uuid = x.prompt WHERE s.name = %s ORDER BY p.\"order\", "
        "p.field_key", stage_name)]


# --- what the migration made ----------------------------------------------------------------

def test_default_flows_and_stages():
    for slug, (name, title, designation, authentication, stages) in DEFAULTS.items():
        row = flow_row(slug)
        assert row is not None, slug
        assert row[:3] == (name, title, designation), slug
        if authentication is not None:
            assert row[3] == authentication, slug
        assert bindings(slug) == stages, slug
    config = lambda n: sql("SELECT config FROM stages WHERE name = %s", n)[0][0]
    assert config("default-authentication-identification")["user_fields"] == ["email", "username"]
    pw = config("default-authentication-password")
    assert "authentik.core.auth.InbuiltBackend" in pw["backends"]
    assert pw["configure_flow"] == sql("SELECT flow_uuid::text FROM flows "
                                       "WHERE slug = 'default-password-change'")[0][0]
    consent = config("default-provider-authorization-consent")
    assert consent == {"mode": "expiring", "consent_expire_in": "weeks=4"}
    assert config("default-user-settings-write") == {"user_creation_mode": "never_create"}
    assert config("default-enrollment-user-write") == {"create_users_as_inactive": True,
                                                       "user_creation_mode": "always_create"}
    assert config("default-recovery-email")["template"] == "email/password_reset.html"
    assert config("default-recovery-email")["token_expiry"] == "minutes=30"
    assert config("default-oobe-write")["target_username"] == "akadmin"
    assert prompt_keys("default-user-settings") == ["username", "name", "email",
                                                    "attributes.settings.locale"]
    assert prompt_keys("default-password-change-prompt") == ["password", "password_repeat"]
    assert prompt_keys("stage-default-oobe-password") == ["oobe-header-text", "email", "password",
                                                          "password_repeat"]
    assert prompt_keys("default-enrollment-prompt-first") == ["password", "username",
                                                              "password_repeat"]
    assert prompt_keys("default-enrollment-prompt-second") == ["name", "email"]
    assert prompt_keys("Change your password") == ["password", "password_repeat"]


def test_password_change_policy():
    rows = sql("SELECT p.name, p.type, pp.length_min, pp.check_zxcvbn, pp.zxcvbn_score_threshold, "
               "pp.check_static_rules, pp.password_field, pp.error_message "
               "FROM prompt_stage_validation_policies v JOIN stages s ON s.stage_uuid = v.stage "
               "JOIN policies p ON p.policy_uuid = v.policy "
               "JOIN password_policies pp ON pp.policy_uuid = p.policy_uuid "
               "WHERE s.name = 'default-password-change-prompt'")
    assert rows == [("default-password-change-password-policy", "passwordpolicy", 8, True, 2, True,
                     "password", "Password needs to be 8 characters or longer.")]


def test_api_shows_them(admin):
    # Other tests add flows of their own: page through all of them.
    slugs, page = set(), 1
    while page:
        r = admin.get("flows/instances/", params={"page_size": 100, "page": page}).json()
        slugs |= {f["slug"] for f in r["results"]}
        page = r["pagination"]["next"]
    assert set(DEFAULTS) <= slugs
    b = admin.get("flows/bindings/", params={"target": admin.get(
        "flows/instances/default-authentication-flow/").json()["pk"]}).json()["results"]
    assert [x["stage_obj"]["component"] for x in b] == ["ak-stage-identification-form",
                                                       "ak-stage-password-form",
                                                       "ak-stage-user-login-form"]


# --- through the executor -------------------------------------------------------------------

class Browser:
    """One cookie jar driving the executor as the flow interface does."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.s = requests.Session()

    def url(self, slug, query=""):
        return "%s%s%s/?query=%s" % (self.base, EXEC, slug, urllib.parse.quote(query, safe=""))

    def get(self, slug):
        """GETs the challenge; a stage that needs no answer sends the executor back to itself
        (302), as authentik's does, and the SPA follows."""
        for _ in range(10):
            r = self.s.get(self.url(slug), allow_redirects=False)
            if r.status_code != 302:
                break
            assert r.headers["Location"].startswith(EXEC + slug + "/")
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, slug, body):
        """POSTs an answer and follows the executor's 302 back to itself, as the SPA does."""
        csrf = self.s.cookies.get("authentik_csrf")
        r = self.s.post(self.url(slug), json=body, allow_redirects=False,
                        headers={"X-authentik-CSRF": csrf} if csrf else {})
        if r.status_code == 302:
            assert r.headers["Location"].startswith(EXEC + slug + "/")
            return self.get(slug)
        assert r.status_code == 200, r.text
        return r.json()

    def me(self):
        r = self.s.get(self.base + "/api/v3/core/users/me/")
        return r.json()["user"] if r.status_code == 200 else None


def make_user(admin, password):
    uid, _ = create_user(name="Old Name")
    r = admin.post("core/users/%d/set_password/" % uid, {"password": password})
    assert r.status_code == 204, r.text
    return uid, sql("SELECT username FROM users WHERE id = %s", uid)[0][0]


def login(base, username, password):
    b = Browser(base)
    c = b.get("default-authentication-flow")
    assert c["component"] == "ak-stage-identification", c
    c = b.post("default-authentication-flow", {"component": "ak-stage-identification",
                                               "uid_field": username})
    assert c["component"] == "ak-stage-password", c
    c = b.post("default-authentication-flow", {"component": "ak-stage-password",
                                               "password": password})
    return b, c


def test_password_login_and_logout(lighttpd, admin):
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    uid, username = make_user(admin, password)
    b, c = login(lighttpd, username, "wrong-" + password)
    assert c["component"] == "ak-stage-password" and c.get("response_errors"), c
    assert b.me() is None
    b, c = login(lighttpd, username, password)
    assert c["component"] == "xak-flow-redirect" and c["to"] == "/", c
    assert b.me()["username"] == username
    # The email is a user field of the identification stage too.
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    b2, c = login(lighttpd, email, password)
    assert c["component"] == "xak-flow-redirect" and b2.me()["pk"] == uid
    c = b.get("default-invalidation-flow")
    assert c["component"] == "xak-flow-redirect", c
    assert b.me() is None and b2.me()["pk"] == uid


def test_brand_redirects_to_default_flows(lighttpd):
    r = requests.get(lighttpd + "/flows/-/default/authentication/?next=%2Fif%2Fuser%2F",
                     allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/if/flow/default-authentication-flow/")
    r = requests.get(lighttpd + "/flows/-/default/invalidation/", allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/if/flow/default-invalidation-flow/")


def test_user_settings_changes_only_the_logged_in_user(lighttpd, admin):
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    uid, username = make_user(admin, password)
    other, _ = create_user(name="Untouched")
    anon = Browser(lighttpd).get("default-user-settings-flow")
    assert anon["component"] != "ak-stage-prompt", anon
    b, _ = login(lighttpd, username, password)
    c = b.get("default-user-settings-flow")
    assert c["component"] == "ak-stage-prompt", c
    keys = [f["field_key"] for f in c["fields"]]
    assert keys == ["username", "name", "email", "attributes.settings.locale"]
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    c = b.post("default-user-settings-flow", {
        "component": "ak-stage-prompt", "username": username, "name": "New Name",
        "email": email, "attributes.settings.locale": "de"})
    assert c["component"] == "xak-flow-redirect", c
    name, attrs = sql("SELECT name, attributes FROM users WHERE id = %s", uid)[0]
    assert name == "New Name" and attrs.get("settings", {}).get("locale") == "de"
    assert sql("SELECT name FROM users WHERE id = %s", other) == [("Untouched",)]


def test_user_settings_email_and_username_locked_by_default(lighttpd, admin):
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    uid, username = make_user(admin, password)
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    b, _ = login(lighttpd, username, password)
    answer = {"component": "ak-stage-prompt", "username": username, "name": "N",
              "email": email, "attributes.settings.locale": ""}
    b.get("default-user-settings-flow")
    for field, value, message in (("email", "new-" + email, "Not allowed to change email address."),
                                  ("username", username + "-new", "Not allowed to change username.")):
        c = b.post("default-user-settings-flow", dict(answer, **{field: value}))
        assert c["component"] == "ak-stage-prompt", c
        msgs = [e["string"] for e in c["response_errors"]["non_field_errors"]]
        assert msgs == [message], c
    assert sql("SELECT username, email, name FROM users WHERE id = %s", uid) == [
        (username, email, "Old Name")]
    # An attribute of the user's lifts the lock, as authentik's group attributes do.
    sql("UPDATE users SET attributes = '{\"goauthentik.io/user/can-change-email\": true}' "
        "WHERE id = %s", uid)
    c = b.post("default-user-settings-flow", dict(answer, email="new-" + email))
    assert c["component"] == "xak-flow-redirect", c
    assert sql("SELECT email FROM users WHERE id = %s", uid) == [("new-" + email,)]


def test_password_change_flow(lighttpd, admin):
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    uid, username = make_user(admin, password)
    b, _ = login(lighttpd, username, password)
    c = b.get("default-password-change")
    assert c["component"] == "ak-stage-prompt", c
    assert [f["field_key"] for f in c["fields"]] == ["password", "password_repeat"]
    c = b.post("default-password-change", {"component": "ak-stage-prompt", "password": "abc",
                                           "password_repeat": "abc"})
    assert c["component"] == "ak-stage-prompt" and c.get("response_errors"), c
    new = "a much longer passphrase " + secrets.token_hex(6)
    c = b.post("default-password-change", {"component": "ak-stage-prompt", "password": new,
                                           "password_repeat": new})
    assert c["component"] == "xak-flow-redirect", c
    _, c = login(lighttpd, username, password)
    assert c["component"] == "ak-stage-password", c
    _, c = login(lighttpd, username, new)
    assert c["component"] == "xak-flow-redirect", c


def test_enrollment_and_recovery_start(lighttpd):
    c = Browser(lighttpd).get("default-enrollment-flow")
    assert c["component"] == "ak-stage-prompt", c
    assert [f["field_key"] for f in c["fields"]] == ["password", "username", "password_repeat"]
    c = Browser(lighttpd).get("default-recovery-flow")
    assert c["component"] == "ak-stage-identification", c


def test_initial_setup_closed_on_bootstrapped_stack(lighttpd):
    """The stack's akadmin got a password at bootstrap: nobody anonymous may run the setup."""
    assert flow_row("initial-setup")[3] == "require_superuser"
    c = Browser(lighttpd).get("initial-setup")
    assert c["component"] == "ak-stage-access-denied", c


# --- initial-setup on a fresh installation ---------------------------------------------------
# A database of its own (test_bootstrap's fresh_db), and the real flow responder run as a CGI
# program against it, so that the stack's own akadmin is left alone.

def cgi_flow(env, method, slug, cookies, body=None):
    """One executor request through build/cgi-bin/flow.fcgi; returns (status, headers, json)."""
    data = json.dumps(body).encode() if body is not None else b""
    uri = "%s%s/?query=" % (EXEC, slug)
    e = {
        "PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
        "REQUEST_URI": uri, "QUERY_STRING": "query=", "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(data)), "CUSTOS_CONFIG": env["CUSTOS_CONFIG"],
        "CUSTOS_POSTGRESQL__NAME": env["CUSTOS_POSTGRESQL__NAME"],
    }
    if data:
        e["CONTENT_TYPE"] = "application/json"
    if cookies:
        e["HTTP_COOKIE"] = "; ".join("%s=%s" % kv for kv in cookies.items())
        if "authentik_csrf" in cookies:
            e["HTTP_X_AUTHENTIK_CSRF"] = cookies["authentik_csrf"]
    p = subprocess.run([binary("cgi-bin/flow.fcgi")], input=data, env=e, capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, payload = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                cookies[name] = value
            else:
                cookies.pop(name, None)
        headers[k] = v
    return status, headers, json.loads(payload) if payload else None


def cgi_get(env, slug, cookies):
    """GET, following the executor's 302s back to itself."""
    for _ in range(10):
        status, headers, c = cgi_flow(env, "GET", slug, cookies)
        if status != 302:
            break
        assert headers["Location"].startswith(EXEC + slug + "/")
    assert status == 200, (headers, c)
    return c


def cgi_run(env, slug, cookies, answers):
    """GET the flow, POST each answer (following the 302 with a GET); the last challenge."""
    c = cgi_get(env, slug, cookies)
    for body in answers:
        assert c["component"] == body["component"], c
        status, headers, c = cgi_flow(env, "POST", slug, cookies, body)
        if status == 302:
            c = cgi_get(env, slug, cookies)
        else:
            assert status == 200, (headers, c)
    return c


def setup_answer(email, password):
    return {"component": "ak-stage-prompt", "email": email, "password": password,
            "password_repeat": password,
            "oobe-header-text": "Welcome to authentik! Please set a password and email address "
                                "for the default admin user, akadmin."}


def test_initial_setup_guard_in_the_database(fresh_db):
    db, env = fresh_db
    q = lambda s, *a: query(db, s, *a)
    # Fresh migrations: open; a bootstrap without a password leaves it open.
    assert flow_row("initial-setup", q)[3] == "none"
    assert bootstrap(env, "--no-password").returncode == 0
    assert flow_row("initial-setup", q)[3] == "none"
    brand = q("SELECT f1.slug, f2.slug, f3.slug, f4.slug FROM brands b "
              "JOIN flows f1 ON f1.flow_uuid = b.flow_authentication "
              "JOIN flows f2 ON f2.flow_uuid = b.flow_invalidation "
              "JOIN flows f3 ON f3.flow_uuid = b.flow_user_settings "
              "JOIN flows f4 ON f4.flow_uuid = b.flow_recovery WHERE b.\"default\"")
    assert brand == [("default-authentication-flow", "default-invalidation-flow",
                      "default-user-settings-flow", "default-recovery-flow")]
    # Unusable passwords keep it open; the first usable one closes it, for good.
    q("UPDATE users SET password = '!other' WHERE username = 'akadmin'")
    q("UPDATE users SET email = 'x@example.org' WHERE username = 'akadmin'")
    assert flow_row("initial-setup", q)[3] == "none"
    q("UPDATE users SET password = 'argon2$argon2id$x' WHERE username = 'akadmin'")
    assert flow_row("initial-setup", q)[3] == "require_superuser"
    q("UPDATE users SET password = '!' WHERE username = 'akadmin'")
    assert flow_row("initial-setup", q)[3] == "require_superuser"


def test_bootstrap_with_password_closes_setup(fresh_db):
    db, env = fresh_db
    env = dict(env, CUSTOS_BOOTSTRAP_PASSWORD="correct horse battery staple")
    assert bootstrap(env).returncode == 0
    assert flow_row("initial-setup", lambda s, *a: query(db, s, *a))[3] == "require_superuser"


@pytest.mark.parametrize("how", ["delete", "rename"])
def test_losing_akadmin_closes_setup(fresh_db, how):
    db, env = fresh_db
    q = lambda s, *a: query(db, s, *a)
    assert bootstrap(env, "--no-password").returncode == 0
    if how == "delete":
        q("DELETE FROM users WHERE username = 'akadmin'")
    else:
        q("UPDATE users SET username = 'someone' WHERE username = 'akadmin'")
    assert flow_row("initial-setup", q)[3] == "require_superuser"
    # A new akadmin without a password does not open it again.
    assert bootstrap(env, "--no-password").returncode == 0
    assert q("SELECT password FROM users WHERE username = 'akadmin'") == [("!",)]
    assert flow_row("initial-setup", q)[3] == "require_superuser"


@pytest.mark.parametrize("password,want", [("argon2$argon2id$x", "require_superuser"),
                                           ("!", "none"), (None, "require_superuser")])
def test_migration_on_an_installation_in_use(tmp_path, password, want):
    """Applied to a directory whose akadmin already has a password, or is gone, the migration
    closes initial-setup; with akadmin still without one it stays open."""
    name = "custos_mig_" + uuid.uuid4().hex[:8]
    r = psql_super("CREATE DATABASE %s OWNER custos" % name)
    assert r.returncode == 0, r.stderr
    try:
        env = dict(os.environ, CUSTOS_CONFIG=config_path(), CUSTOS_POSTGRESQL__NAME=name)
        sql_dir = os.path.join(ROOT, "sql")
        # Migrate to just before 0055, set the directory up, then apply the rest.
        for f in sorted(os.listdir(sql_dir)):
            if f.endswith(".sql") and f < "0055":
                os.symlink(os.path.join(sql_dir, f), str(tmp_path / f))
        for d in (str(tmp_path), sql_dir):
            p = subprocess.run([binary("custos-worker"), "migrate", "--sql-dir", d], env=env,
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            if d == sql_dir:
                break
            if password is not None:
                query(name, "INSERT INTO users (username, password) VALUES ('akadmin', %s)",
                      password)
            else:
                query(name, "INSERT INTO users (username, password) VALUES ('someone', 'x')")
        assert flow_row("initial-setup", lambda s, *a: query(name, s, *a))[3] == want
    finally:
        psql_super("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def test_initial_setup_runs_once_end_to_end(fresh_db):
    db, env = fresh_db
    q = lambda s, *a: query(db, s, *a)
    assert bootstrap(env, "--no-password").returncode == 0
    password = "a long first admin passphrase " + secrets.token_hex(4)
    jar = {}
    c = cgi_run(env, "initial-setup", jar, [])
    assert c["component"] == "ak-stage-prompt", c
    assert [f["field_key"] for f in c["fields"]] == ["oobe-header-text", "email", "password",
                                                     "password_repeat"]
    # Two different passwords are refused, nothing is written.
    bad = dict(setup_answer("admin@example.org", password), password_repeat="something else")
    status, _, c = cgi_flow(env, "POST", "initial-setup", jar, bad)
    assert status == 200 and c["component"] == "ak-stage-prompt" and c.get("response_errors"), c
    assert q("SELECT password FROM users WHERE username = 'akadmin'") == [("!",)]
    c = cgi_run(env, "initial-setup", jar, [setup_answer("admin@example.org", password)])
    assert c["component"] == "xak-flow-redirect", c
    (stored, email, uid), = q("SELECT password, email, id FROM users WHERE username = 'akadmin'")
    assert email == "admin@example.org"
    assert stored.startswith("argon2$") and password not in stored
    assert argon2.PasswordHasher().verify(stored[len("argon2"):], password)
    # Logged in as akadmin in the browser that ran it.
    assert q("SELECT count(*) FROM sessions WHERE user_id = %s", uid) == [(1,)]
    assert flow_row("initial-setup", q)[3] == "require_superuser"
    # A second run from another browser is refused, and changes nothing.
    c = cgi_run(env, "initial-setup", {}, [])
    assert c["component"] == "ak-stage-access-denied", c
    status, _, c = cgi_flow(env, "POST", "initial-setup", {},
                            setup_answer("evil@example.org", "attacker's password 123"))
    assert c["component"] != "xak-flow-redirect", c
    assert q("SELECT password, email FROM users WHERE username = 'akadmin'") == [(stored, email)]
    # Nor after akadmin is deleted and a new one without a password appears.
    q("DELETE FROM users WHERE username = 'akadmin'")
    assert bootstrap(env, "--no-password").returncode == 0
    c = cgi_run(env, "initial-setup", {}, [])
    assert c["component"] == "ak-stage-access-denied", c
    assert q("SELECT password FROM users WHERE username = 'akadmin'") == [("!",)]
