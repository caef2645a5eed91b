"""Fixtures for the integration tests: the stack that scripts/test.sh started.

CU_TEST_STATE names its folder; stack.env there holds its ports and secrets.
"""
import os
import subprocess

import pytest
import requests
from urllib3.util.retry import Retry as _Retry

STATE = os.environ.get("CU_TEST_STATE", "")
ROOT = os.environ.get("CU_TEST_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("CU_TEST_BUILD", "build")


def _stack_env():
    env = {}
    path = os.path.join(STATE, "stack.env")
    if not STATE or not os.path.exists(path):
        pytest.exit("no test stack: run these tests through 'make test'", returncode=2)
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


ENV = _stack_env() if STATE else {}

def _routers():
    """Each running router and its port, as the stack wrote them."""
    out = {}
    with open(os.path.join(STATE, "routers")) as f:
        for line in f:
            name, port = line.split()
            out[name] = port
    return out


ROUTERS = _routers() if STATE else {}


@pytest.fixture(params=sorted(ROUTERS))
def base(request):
    """The stack's base URL through each router in turn."""
    return "http://127.0.0.1:%s" % ROUTERS[request.param]


@pytest.fixture
def lighttpd():
    return "http://127.0.0.1:%s" % ROUTERS["lighttpd"]


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s


def stack(*args):
    """Runs scripts/stack.sh COMMAND STATE (pg-stop, pg-start, redis-stop, redis-start)."""
    cmd = [os.path.join(ROOT, "scripts", "stack.sh"), args[0], STATE] + list(args[1:])
    return subprocess.run(cmd, env=dict(os.environ, B=BUILD), capture_output=True, text=True, timeout=120)


def binary(name):
    return os.path.join(ROOT, BUILD, name)


def config_path():
    return os.path.join(STATE, "custos.conf")


# --- the directory, set up straight in PostgreSQL so that API tests do not depend on each other

import hashlib
import secrets
import uuid as _uuid

import psycopg2


def db():
    """A connection to the stack's database as its own role (autocommit)."""
    conn = psycopg2.connect(host=os.path.join(STATE, "run", "pg"), port=ENV["PG_PORT"],
                            dbname="custos", user="custos", password=ENV["PG_PASSWORD"])
    conn.autocommit = True
    return conn


def sql(query, *args):
    """Runs one statement; returns all rows (or [] for statements without rows)."""
    conn = db()
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def create_user(username=None, superuser=False, perms=(), object_perms=(), **fields):
    """Creates a user with an API token and returns (user id, token key).

    perms: model-level permission names ("authentik_core.view_user") given through a role of
    the user's own; object_perms: (permission name, object pk) pairs the same way."""
    username = username or "u-" + secrets.token_hex(6)
    conn = db()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO users (username, name, email, type, path) VALUES (%s, %s, %s, %s, %s) "
                        "RETURNING id", (username, fields.get("name", username),
                                         fields.get("email", username + "@example.com"),
                                         fields.get("type", "internal"), fields.get("path", "users")))
            uid = cur.fetchone()[0]
            if superuser:
                cur.execute("INSERT INTO groups (name, is_superuser) VALUES (%s, true) RETURNING uuid",
                            ("admins-" + username,))
                cur.execute("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)",
                            (cur.fetchone()[0], uid))
            if perms or object_perms:
                cur.execute("INSERT INTO roles (name) VALUES (%s) RETURNING uuid", ("role-" + username,))
                role = cur.fetchone()[0]
                cur.execute("INSERT INTO role_users (role_uuid, user_id) VALUES (%s, %s)", (role, uid))
                for p, obj in [(p, "") for p in perms] + list(object_perms):
                    app, codename = p.split(".")
                    cur.execute("INSERT INTO role_permissions (role_uuid, permission_id, object_pk) "
                                "SELECT %s, id, %s FROM permissions WHERE app_label = %s AND codename = %s",
                                (role, str(obj), app, codename))
                    assert cur.rowcount == 1, "unknown permission " + p
            key = secrets.token_urlsafe(45)[:60]
            cur.execute("INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring) "
                        "VALUES (%s, %s, %s, 'api', %s, false)",
                        ("tok-" + username, key, hashlib.sha256(key.encode()).hexdigest(), uid))
        return uid, key
    finally:
        conn.close()


class Api:
    """requests against /api/v3/ as one user."""

    def __init__(self, base, key):
        self.base = base.rstrip("/") + "/api/v3"
        self.s = requests.Session()
        # A kept-alive connection the router closed while idle (slow sanitizer builds leave
        # seconds between requests) fails the next request before it is sent: a GET, which
        # changes nothing, is sent again once on a fresh connection.
        self.s.mount("http://", requests.adapters.HTTPAdapter(max_retries=_Retry(
            total=1, connect=1, read=1, status=0, other=0, raise_on_status=False,
            allowed_methods=frozenset(["GET", "HEAD"]))))
        if key:
            self.s.headers["Authorization"] = "Bearer " + key

    def url(self, path):
        return self.base + "/" + path.lstrip("/")

    def get(self, path, **kw):
        return self.s.get(self.url(path), **kw)

    def post(self, path, json=None, **kw):
        return self.s.post(self.url(path), json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.s.put(self.url(path), json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.s.patch(self.url(path), json=json, **kw)

    def delete(self, path, **kw):
        return self.s.delete(self.url(path), **kw)


@pytest.fixture
def admin(lighttpd):
    """An API client acting as a fresh superuser."""
    _, key = create_user(superuser=True)
    return Api(lighttpd, key)


@pytest.fixture
def as_user(lighttpd):
    """as_user(perms=[...], object_perms=[...]) -> (Api, user id) for a fresh non-superuser."""
    def make(perms=(), object_perms=(), **fields):
        uid, key = create_user(perms=perms, object_perms=object_perms, **fields)
        return Api(lighttpd, key), uid
    return make


def events_for(model_name, pk, action):
    """Audit events about one object."""
    return sql("SELECT context, \"user\", host(client_ip) FROM events WHERE action = %s "
               "AND context -> 'model' ->> 'model_name' = %s AND context -> 'model' ->> 'pk' = %s "
               "ORDER BY created", action, model_name, str(pk))


# --- login stages: identification, password, consent (flows made in SQL, a browser-like client)

import base64 as _base64
import json as _json
import urllib.parse as _urlparse


def login_flow_make(stages, designation="authentication", slug=None, authentication="none"):
    """A flow binding stages [(type, config dict)] in that order; returns (slug, [stage uuids])."""
    slug = slug or "lf-" + secrets.token_hex(5)
    conn = db()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO flows (name, slug, title, designation, authentication) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING flow_uuid::text",
                        (slug, slug, "Flow " + slug, designation, authentication))
            flow = cur.fetchone()[0]
            uuids = []
            for i, (kind, config) in enumerate(stages):
                cur.execute("INSERT INTO stages (name, type, config) VALUES (%s, %s, %s::jsonb) "
                            "RETURNING stage_uuid::text",
                            ("%s-%d-%s" % (slug, i, kind), kind, _json.dumps(config)))
                uuids.append(cur.fetchone()[0])
                cur.execute("INSERT INTO flow_stage_bindings (target, stage, \"order\") "
                            "VALUES (%s, %s, %s)", (flow, uuids[-1], (i + 1) * 10))
        return slug, uuids
    finally:
        conn.close()


def login_stage_make(kind, config):
    """A stage not bound anywhere (the password stage an identification stage names)."""
    return sql("INSERT INTO stages (name, type, config) VALUES (%s, %s, %s::jsonb) "
               "RETURNING stage_uuid::text", "st-" + secrets.token_hex(5), kind,
               _json.dumps(config))[0][0]


def login_hash(password, kind="argon2", **params):
    """An encoded hash as authentik (Django) stores it: argon2 (argon2-cffi, params time_cost,
    memory_cost, parallelism; custos' defaults unless given) or pbkdf2_sha256 (iterations)."""
    if kind == "pbkdf2_sha256":
        from django.contrib.auth.hashers import PBKDF2PasswordHasher
        return PBKDF2PasswordHasher().encode(password, secrets.token_hex(8),
                                             params.get("iterations", 1000))
    import argon2
    h = argon2.PasswordHasher(time_cost=params.get("time_cost", 2),
                              memory_cost=params.get("memory_cost", 19456),
                              parallelism=params.get("parallelism", 1))
    return "argon2" + h.hash(password)


def login_user(password="correct horse battery", kind="argon2", **fields):
    """A user with a password; returns (id, username)."""
    uid, _ = create_user(**fields)
    sql("UPDATE users SET password = %s WHERE id = %s", login_hash(password, kind), uid)
    return uid, sql("SELECT username FROM users WHERE id = %s", uid)[0][0]


class FlowClient:
    """A browser on the flow executor: cookies kept, the CSRF header echoed once there is one,
    a fixed client IP (X-Forwarded-For, believed from loopback) so that reputation stays with
    the test."""

    def __init__(self, base, slug, ip=None, query="", host=None):
        self.base = base.rstrip("/")
        self.slug = slug
        self.query = query
        self.s = requests.Session()
        self.ip = ip or "10.%d.%d.%d" % tuple(secrets.randbelow(250) + 1 for _ in range(3))
        self.s.headers["X-Forwarded-For"] = self.ip
        if host:
            self.s.headers["Host"] = host

    def url(self, slug=None):
        return "%s/api/v3/flows/executor/%s/?query=%s" % (
            self.base, slug or self.slug, _urlparse.quote(self.query, safe=""))

    def _headers(self):
        csrf = self.s.cookies.get("authentik_csrf")
        return {"X-authentik-CSRF": csrf} if csrf else {}

    def get(self, slug=None):
        r = self.s.get(self.url(slug), headers=self._headers())
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def post(self, body, follow=True, slug=None):
        """POSTs body; with follow, the JSON of where it ends (the 302 followed as a GET),
        else the raw response."""
        r = self.s.post(self.url(slug), json=body, headers=self._headers(),
                        allow_redirects=follow)
        if not follow:
            return r
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def sid(self):
        """The session key in the authentik_session cookie (a JWT)."""
        tok = self.s.cookies.get("authentik_session")
        payload = tok.split(".")[1]
        return _json.loads(_base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]

    def plan(self):
        """The session's plan as PostgreSQL holds it."""
        return sql("SELECT flow_plan FROM sessions WHERE session_key = %s", self.sid())[0][0]

    def set_context(self, **values):
        """Puts values into the plan context behind the executor's back (what a provider would
        have put there), so that the next request reads the plan from PostgreSQL."""
        sid = self.sid()
        sql("UPDATE sessions SET flow_plan = jsonb_set(flow_plan, '{context}', "
            "coalesce(flow_plan -> 'context', '{}') || %s::jsonb), flow_plan_rev = flow_plan_rev + 1 "
            "WHERE session_key = %s", _json.dumps(values), sid)
        redis_cli("DEL", "custos:plan:" + sid)

    def me(self):
        """The signed-in user's username through the API with the session cookie, or None."""
        r = self.s.get(self.base + "/api/v3/core/users/me/")
        return r.json()["user"]["username"] if r.status_code == 200 else None


def redis_cli(*args):
    """One command to the stack's Redis; returns its output."""
    out = subprocess.run(["redis-cli", "-s", os.path.join(STATE, "run", "redis", "redis.sock"),
                          "--no-auth-warning", "-a", ENV["REDIS_PASSWORD"]] + list(args),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


# --- data stages: prompt, user_write, invitation, email (flows made in SQL)

def data_flow_uuid(slug):
    return sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", slug)[0][0]


def data_prompt_make(field_key, type="text", required=True, placeholder="", initial_value="",
                     order=0, label=None, sub_text="", placeholder_expression=False,
                     initial_value_expression=False):
    """One prompts row; returns its uuid."""
    return sql("INSERT INTO prompts (name, field_key, label, type, required, placeholder, "
               "initial_value, sub_text, \"order\", placeholder_expression, "
               "initial_value_expression) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
               "RETURNING prompt_uuid::text", "p-" + secrets.token_hex(6), field_key,
               label if label is not None else field_key.title(), type, required, placeholder,
               initial_value, sub_text, order, placeholder_expression,
               initial_value_expression)[0][0]


def data_prompt_fields(stage, prompts, policies=()):
    """Gives the prompt stage its fields (prompt uuids) and validation policies."""
    for p in prompts:
        sql("INSERT INTO prompt_stage_fields (stage, prompt) VALUES (%s, %s)", stage, p)
    for p in policies:
        sql("INSERT INTO prompt_stage_validation_policies (stage, policy) VALUES (%s, %s)",
            stage, p)


def data_password_policy(length_min, message, field="password"):
    """A password policy (static rules only); returns its uuid."""
    pol = sql("INSERT INTO policies (name, type) VALUES (%s, 'passwordpolicy') "
              "RETURNING policy_uuid::text", "pw-" + secrets.token_hex(5))[0][0]
    sql("INSERT INTO password_policies (policy_uuid, password_field, length_min, error_message) "
        "VALUES (%s, %s, %s, %s)", pol, field, length_min, message)
    return pol


# --- OAuth2 / OIDC providers (made in SQL, so that endpoint tests do not depend on the API)

OAUTH2_DEFAULT_SCOPES = ("openid", "email", "profile", "offline_access")


def oauth2_keypair(api, kind="rsa"):
    """A generated certificate key pair (kind "rsa" or "ecdsa"); returns its kp uuid."""
    r = api.post("crypto/certificatekeypairs/generate/",
                 json={"common_name": "oidc-" + secrets.token_hex(4), "validity_days": 30,
                       "alg": kind})
    assert r.status_code == 200, r.text
    return r.json()["pk"]


def oauth2_app(redirect_uris=("https://rp.example/cb",), client_type="confidential",
               signing_key=None, scopes=OAUTH2_DEFAULT_SCOPES,
               flow="default-provider-authorization-implicit-consent", slug=None, **fields):
    """An OAuth2 provider bound to a new application. redirect_uris: strings (strict) or
    (mode, url) or (mode, url, type) tuples. Other oauth2_providers columns by keyword.
    Returns a dict: provider_id, client_id, client_secret, slug, app_uuid, name."""
    slug = slug or "oa-" + secrets.token_hex(5)
    uris = []
    for u in redirect_uris:
        if isinstance(u, str):
            u = ("strict", u)
        uris.append({"matching_mode": u[0], "url": u[1],
                     "redirect_uri_type": u[2] if len(u) > 2 else "authorization"})
    client_id = fields.pop("client_id", secrets.token_hex(20))
    client_secret = fields.pop("client_secret", secrets.token_urlsafe(48))
    conn = db()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO providers (name, type, authorization_flow, invalidation_flow) "
                        "SELECT %s, 'oauth2provider', "
                        "(SELECT flow_uuid FROM flows WHERE slug = %s), "
                        "(SELECT flow_uuid FROM flows WHERE slug = "
                        "'default-provider-invalidation-flow') RETURNING id", (slug, flow))
            pid = cur.fetchone()[0]
            cols = ["provider_id", "client_type", "client_id", "client_secret", "redirect_uris",
                    "signing_key"] + list(fields)
            vals = [pid, client_type, client_id, client_secret, _json.dumps(uris),
                    signing_key] + list(fields.values())
            cur.execute("INSERT INTO oauth2_providers (%s) VALUES (%s)" % (
                ", ".join(cols), ", ".join(["%s"] * len(cols))), vals)
            cur.execute("INSERT INTO provider_property_mappings (provider_id, pm_uuid) "
                        "SELECT %s, pm_uuid FROM property_mappings "
                        "WHERE type = 'scopemapping' AND scope_name = ANY(%s) "
                        "AND managed IS NOT NULL", (pid, list(scopes)))
            cur.execute("INSERT INTO applications (name, slug, provider_id) VALUES (%s, %s, %s) "
                        "RETURNING uuid::text", (slug, slug, pid))
            app = cur.fetchone()[0]
        return {"provider_id": pid, "client_id": client_id, "client_secret": client_secret,
                "slug": slug, "app_uuid": app, "name": slug}
    finally:
        conn.close()


def oauth2_browser(base, password="correct horse battery", **user_fields):
    """A user with a password and a browser session logged in through the default
    authentication flow: returns (requests.Session, user id, username)."""
    uid, username = login_user(password=password, **user_fields)
    fc = FlowClient(base, "default-authentication-flow")
    fc.get()
    ch = fc.post({"component": "ak-stage-identification", "uid_field": username})
    assert ch["component"] == "ak-stage-password", ch
    ch = fc.post({"component": "ak-stage-password", "password": password})
    assert ch["component"] == "xak-flow-redirect", ch
    return fc.s, uid, username


# --- OAuth2 proof with real relying parties: a scripted browser

class OidcBrowser:
    """A cookie-jar browser for OAuth2 / OIDC flows through custos: it follows redirects by
    hand, and where a page would load the flow interface (/if/flow/<slug>/?...) it answers the
    flow executor's challenges as the interface would (identification, password, consent,
    device code), then goes where the flow sends it (xak-flow-redirect, or a form_post's
    ak-stage-autosubmit). Nothing is fetched at or below a URL in stop_at (a client's own
    redirect URI that no server answers): go() returns there."""

    def __init__(self, base, username=None, password="correct horse battery", ip=None):
        self.base = base.rstrip("/")
        self.username = username
        self.password = password
        self.s = requests.Session()
        self.s.headers["X-Forwarded-For"] = ip or "10.%d.%d.%d" % tuple(
            secrets.randbelow(250) + 1 for _ in range(3))
        self.challenges = []   # every challenge seen, in order
        self.visited = []      # every URL fetched, in order

    def _headers(self):
        csrf = self.s.cookies.get("authentik_csrf")
        return {"X-authentik-CSRF": csrf} if csrf else {}

    def _flow(self, url, device_code=None):
        """Runs the flow interface at url; returns ("url", next URL), ("form", autosubmit
        challenge), ("denied", challenge) or ("end", challenge)."""
        parts = _urlparse.urlsplit(url)
        slug = parts.path.split("/")[3]
        api = "%s/api/v3/flows/executor/%s/?query=%s" % (
            self.base, slug, _urlparse.quote(parts.query, safe=""))
        r = self.s.get(api, headers=self._headers())
        for _ in range(20):
            assert r.status_code == 200, (r.status_code, r.text[:500])
            ch = r.json()
            self.challenges.append(ch)
            c = ch["component"]
            if c == "xak-flow-redirect":
                return "url", _urlparse.urljoin(self.base + "/", ch["to"])
            if c == "ak-stage-autosubmit":
                return "form", ch
            if c == "ak-stage-access-denied":
                return "denied", ch
            if c in ("ak-stage-session-end", "ak-provider-oauth2-device-code-finish"):
                return "end", ch
            # The same challenge again with errors: this browser's answer was refused.
            if ch.get("response_errors"):
                raise AssertionError("refused: %r" % ch)
            if c == "ak-stage-identification":
                body = {"uid_field": self.username}
                if ch.get("password_fields"):
                    body["password"] = self.password
            elif c == "ak-stage-password":
                body = {"password": self.password}
            elif c == "ak-stage-consent":
                body = {"token": ch["token"]}
            elif c == "ak-provider-oauth2-device-code":
                assert device_code, "the flow asks for a device code"
                body = {"code": device_code}
            else:
                raise AssertionError("unexpected challenge %r" % ch)
            body["component"] = c
            r = self.s.post(api, json=body, headers=self._headers())
        raise AssertionError("the flow did not end")

    def go(self, url, stop_at=(), device_code=None, max_steps=40):
        """Navigates from url. Returns (kind, value): ("stop", URL under stop_at),
        ("page", the final non-redirect response), ("form", an autosubmit challenge aimed under
        stop_at), ("denied", the access-denied challenge), ("end", a session-end or
        device-code-finish challenge)."""
        for _ in range(max_steps):
            if any(url.startswith(p) for p in stop_at):
                return "stop", url
            path = _urlparse.urlsplit(url).path
            if url.startswith(self.base + "/if/flow/") and path.count("/") >= 4:
                self.visited.append(url)
                kind, val = self._flow(url, device_code)
                if kind == "url":
                    url = val
                    continue
                if kind == "form":
                    if any(val["url"].startswith(p) for p in stop_at):
                        return "form", val
                    r = self.s.post(val["url"], data=val["attrs"], allow_redirects=False)
                    self.visited.append(val["url"])
                else:
                    return kind, val
            else:
                r = self.s.get(url, allow_redirects=False)
                self.visited.append(url)
            if r.status_code in (301, 302, 303, 307, 308):
                url = _urlparse.urljoin(url, r.headers["Location"])
                continue
            return "page", r
        raise AssertionError("too many redirects: %r" % self.visited[-10:])


def oidc_user_browser(base, **fields):
    """A user with a password (login_user fields) and a fresh OidcBrowser for them (not yet
    logged in): returns (browser, user id, username)."""
    uid, username = login_user(**fields)
    return OidcBrowser(base, username), uid, username


# --- OAuth2 endpoints: discovery, JWKS, userinfo, introspection, device, end-session ----------

import time

def _oauth2_b64(obj):
    raw = _json.dumps(obj, separators=(",", ":")).encode()
    return _base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def oauth2_access_row(app, uid, scopes=("openid",), claims=None, expires_in=3600, revoked=False,
                      session_uuid=None, provider_id=None):
    """An access token stored as the token endpoint stores one (found by the SHA-256 of the
    whole JWT); the JWT's signature is not a real one, the row is what counts. Returns the
    token."""
    c = {"iss": "http://testserver/application/o/%s/" % app["slug"], "sub": "sub-%d" % uid,
         "aud": app["client_id"], "exp": int(time.time()) + expires_in,
         "iat": int(time.time()), "scope": " ".join(scopes)}
    c.update(claims or {})
    token = "%s.%s.%s" % (_oauth2_b64({"alg": "RS256", "typ": "JWT"}), _oauth2_b64(c),
                          secrets.token_urlsafe(32))
    sql("INSERT INTO oauth2_access_tokens (token_digest, provider_id, user_id, session_uuid, "
        "expires, scope, revoked, claims) VALUES (%s, %s, %s, %s, "
        "now() + make_interval(secs => %s), %s, %s, %s)",
        hashlib.sha256(token.encode()).hexdigest(), provider_id or app["provider_id"], uid,
        session_uuid, expires_in, list(scopes), revoked, _json.dumps(c))
    return token


def oauth2_refresh_row(app, uid, scopes=("openid", "offline_access"), id_claims=None,
                       expires_in=86400, revoked=False, chain_id=None):
    """A refresh token row (random, found by its SHA-256); returns (token, row id)."""
    token = secrets.token_urlsafe(36)[:48].replace("-", "a").replace("_", "b")
    c = {"sub": "sub-%d" % uid, "aud": app["client_id"], "iat": int(time.time()),
         "exp": int(time.time()) + 600}
    c.update(id_claims or {})
    rid = sql("INSERT INTO oauth2_refresh_tokens (token_digest, provider_id, user_id, expires, "
              "scope, revoked, chain_id, id_token) VALUES (%s, %s, %s, "
              "now() + make_interval(secs => %s), %s, %s, %s, %s) RETURNING id",
              hashlib.sha256(token.encode()).hexdigest(), app["provider_id"], uid, expires_in,
              list(scopes), revoked, chain_id, _json.dumps(c))[0][0]
    if chain_id is None:
        sql("UPDATE oauth2_refresh_tokens SET chain_id = id WHERE id = %s", rid)
    return token, rid


def oauth2_private_jwk(api, kp):
    """The private key of certificate key pair kp as a jwcrypto JWK (through the API)."""
    from jwcrypto import jwk as _jwk
    r = api.get("crypto/certificatekeypairs/%s/view_private_key/" % kp)
    assert r.status_code == 200, r.text
    return _jwk.JWK.from_pem(r.json()["data"].encode())


@pytest.fixture
def device_code_flow():
    """The default brand's device code flow (none by default: /device is then 404, as
    authentik's): a flow with no stages of its own, set for the test and put back after."""
    slug = "devflow-" + secrets.token_hex(4)
    flow = sql("INSERT INTO flows (name, slug, title, designation, authentication) "
               "VALUES (%s, %s, %s, 'stage_configuration', 'require_authenticated') "
               "RETURNING flow_uuid::text", slug, slug, "Device code")[0][0]
    before = sql("SELECT brand_uuid::text, flow_device_code::text FROM brands WHERE \"default\"")
    for brand, _ in before:
        sql("UPDATE brands SET flow_device_code = %s WHERE brand_uuid = %s", flow, brand)
    yield slug
    for brand, old in before:
        sql("UPDATE brands SET flow_device_code = %s WHERE brand_uuid = %s", old, brand)
    sql("DELETE FROM flows WHERE flow_uuid = %s", flow)


# --- OAuth2 token endpoint and claims (tests/integration/test_oauth2_token.py, _claims.py) ---

def oauth2_token_url(base):
    return base.rstrip("/") + "/application/o/token/"


def oauth2_public_jwk(api, kp, app=None, base=None):
    """The public JWK tokens signed with key pair kp verify against: from the provider's JWKS
    (by kid) when app and base are given and it answers, else from the pair's certificate."""
    from jwcrypto import jwk as _jwk
    if app is not None and base is not None:
        r = requests.get("%s/application/o/%s/jwks/" % (base.rstrip("/"), app["slug"]))
        if r.status_code == 200 and r.json().get("keys"):
            return _jwk.JWKSet.from_json(r.text)
    r = api.get("crypto/certificatekeypairs/%s/view_certificate/" % kp)
    assert r.status_code == 200, r.text
    return _jwk.JWK.from_pem(r.json()["data"].encode())


def oauth2_verify(token, key, alg=None):
    """Verifies a JWT's signature with key (a JWK, a JWKSet, or bytes: an HS256 secret);
    returns (header, claims)."""
    from jwcrypto import jwk as _jwk, jwt as _jwt
    if isinstance(key, (bytes, str)):
        raw = key.encode() if isinstance(key, str) else key
        key = _jwk.JWK(kty="oct", k=_base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
    t = _jwt.JWT(jwt=token, key=key, algs=[alg] if alg else None, check_claims=False)
    return _json.loads(t.header), _json.loads(t.claims)


def oauth2_half_hash(value):
    """OIDC at_hash / c_hash for SHA-256 algorithms."""
    d = hashlib.sha256(value.encode()).digest()
    return _base64.urlsafe_b64encode(d[:16]).rstrip(b"=").decode()


def oauth2_uid(user_id):
    """authentik's User.uid: hex SHA-256 of "<pk>-<install id>"."""
    install = sql("SELECT install_id::text FROM custos_install")[0][0]
    return hashlib.sha256(("%s-%s" % (user_id, install)).encode()).hexdigest()


def oauth2_code_row(app, uid, code=None, redirect_uri="https://rp.example/cb",
                    scopes=("openid", "profile", "email", "offline_access"), nonce=None,
                    challenge=None, method=None, expires_in=60, session_uuid=None, amr=()):
    """An authorization code as the authorization endpoint stores one; returns the code."""
    code = code or secrets.token_urlsafe(36)
    sql("INSERT INTO oauth2_authorization_codes (code_digest, provider_id, user_id, "
        "session_uuid, expires, scope, redirect_uri, nonce, code_challenge, "
        "code_challenge_method, amr) VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s), "
        "%s, %s, %s, %s, %s, %s)", hashlib.sha256(code.encode()).hexdigest(),
        app["provider_id"], uid, session_uuid, expires_in, list(scopes), redirect_uri, nonce,
        challenge, method, list(amr))
    return code


def oauth2_app_password(uid, key=None, intent="app_password", expires_in=None):
    """A token of user uid (an app password unless intent says otherwise); returns the key."""
    key = key or secrets.token_urlsafe(45)[:60]
    sql("INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring, expires) "
        "VALUES (%s, %s, %s, %s, %s, %s, "
        "CASE WHEN %s::int IS NULL THEN NULL ELSE now() + make_interval(secs => %s) END)",
        "apppw-" + secrets.token_hex(6), key, hashlib.sha256(key.encode()).hexdigest(), intent,
        uid, expires_in is not None, expires_in, expires_in or 0)
    return key


def oauth2_bind_group(app_uuid, order=0):
    """A binding of a fresh group (no members) on application app_uuid: it denies everyone
    but the group's members. Returns the group uuid."""
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text",
                "g-" + secrets.token_hex(5))[0][0]
    sql("INSERT INTO policy_bindings (group_uuid, target, \"order\") VALUES (%s, %s, %s)",
        group, app_uuid, order)
    return group


def oauth2_mapping(scope_name, expression, name=None):
    """A scope mapping (Lua); returns its uuid."""
    return sql("INSERT INTO property_mappings (name, type, scope_name, expression) "
               "VALUES (%s, 'scopemapping', %s, %s) RETURNING pm_uuid::text",
               name or "m-" + secrets.token_hex(5), scope_name, expression)[0][0]


def oauth2_add_mapping(app, pm):
    sql("INSERT INTO provider_property_mappings (provider_id, pm_uuid) VALUES (%s, %s)",
        app["provider_id"], pm)


# --- providers, property mappings and OAuth2 grants API (tests/integration/test_api_providers_*,
# test_api_propertymappings.py, test_api_oauth2_grants.py)

def _xact_count():
    """Transactions committed in the stack's database, after the backends' statistics settle."""
    time.sleep(1.2)
    return sql("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")[0][0]


def statements_of(request):
    """About how many statements request() makes PostgreSQL run: the least of three tries of
    the transactions committed meanwhile (each statement outside a transaction is one), once the
    database is quiet. Other processes add a few; a query per row would add one per row."""
    prev = _xact_count()
    for _ in range(10):
        cur = _xact_count()
        if cur - prev <= 8:
            break
        prev = cur
    counts = []
    for _ in range(3):
        before = _xact_count()
        request()
        counts.append(_xact_count() - before)
    return min(counts)


# --- SAML (tests/integration/test_saml_sso.py, test_saml_slo.py, test_saml_security.py): SAML
# providers made in SQL, and python3-onelogin-saml2 as the service provider, configured from
# custos's IdP metadata alone.

SAML_SP = "https://sp.example"


def saml_keypair(api, kind="rsa"):
    """A generated key pair: (kp uuid, certificate PEM, private key PEM), through the API."""
    kp = oauth2_keypair(api, kind)
    cert = api.get("crypto/certificatekeypairs/%s/view_certificate/" % kp)
    key = api.get("crypto/certificatekeypairs/%s/view_private_key/" % kp)
    assert cert.status_code == 200 and key.status_code == 200, (cert.text, key.text)
    return kp, cert.json()["data"], key.json()["data"]


def saml_app(signing_kp=None, verification_kp=None, encryption_kp=None, sp_binding="post",
             acs_url=SAML_SP + "/acs", audience=SAML_SP + "/metadata", sls_url=SAML_SP + "/sls",
             sls_binding="redirect", mappings=True,
             flow="default-provider-authorization-implicit-consent",
             invalidation="default-provider-invalidation-flow", slug=None, **fields):
    """A SAML provider bound to a new application, with authentik's default SAML mappings
    (mappings=False: none). Other saml_providers columns by keyword. Returns a dict:
    provider_id, slug, app_uuid, name, issuer."""
    slug = slug or "sa-" + secrets.token_hex(5)
    issuer = fields.pop("issuer", "https://idp.example/" + slug)
    conn = db()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO providers (name, type, authorization_flow, invalidation_flow) "
                        "SELECT %s, 'samlprovider', (SELECT flow_uuid FROM flows WHERE slug = %s), "
                        "(SELECT flow_uuid FROM flows WHERE slug = %s) RETURNING id",
                        (slug, flow, invalidation))
            pid = cur.fetchone()[0]
            cols = ["provider_id", "acs_url", "sp_binding", "audience", "issuer", "sls_url",
                    "sls_binding", "signing_kp", "verification_kp", "encryption_kp"] + list(fields)
            vals = [pid, acs_url, sp_binding, audience, issuer, sls_url, sls_binding, signing_kp,
                    verification_kp, encryption_kp] + list(fields.values())
            cur.execute("INSERT INTO saml_providers (%s) VALUES (%s)" % (
                ", ".join(cols), ", ".join(["%s"] * len(cols))), vals)
            if mappings:
                cur.execute("INSERT INTO provider_property_mappings (provider_id, pm_uuid) "
                            "SELECT %s, pm_uuid FROM property_mappings WHERE type = "
                            "'samlpropertymapping' AND managed LIKE 'goauthentik.io/providers/saml/%%'",
                            (pid,))
            cur.execute("INSERT INTO applications (name, slug, provider_id) VALUES (%s, %s, %s) "
                        "RETURNING uuid::text", (slug, slug, pid))
            app = cur.fetchone()[0]
        return {"provider_id": pid, "slug": slug, "app_uuid": app, "name": slug, "issuer": issuer}
    finally:
        conn.close()


def saml_url(base, app, path):
    return "%s/application/saml/%s/%s" % (base.rstrip("/"), app["slug"], path)


def saml_sp_settings(base, app, sp_cert=None, sp_key=None, **security):
    """OneLogin settings for an SP of app: the IdP part parsed from custos's metadata only."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
    r = requests.get(saml_url(base, app, "metadata/"))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/xml")
    idp = OneLogin_Saml2_IdPMetadataParser.parse(r.text)["idp"]
    sec = {"wantAssertionsSigned": True, "wantMessagesSigned": False,
           "authnRequestsSigned": False, "logoutRequestSigned": False,
           "logoutResponseSigned": False, "wantNameId": True,
           "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
           "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256"}
    sec.update(security)
    sp = {"entityId": SAML_SP + "/metadata",
          "assertionConsumerService": {"url": SAML_SP + "/acs",
                                       "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
          "singleLogoutService": {"url": SAML_SP + "/sls",
                                  "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
          "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"}
    if sp_cert:
        sp["x509cert"] = sp_cert
        sp["privateKey"] = sp_key
    return {"strict": True, "debug": False, "sp": sp, "idp": idp, "security": sec}


def saml_sp_request(path="/acs", post=None, get=None):
    """OneLogin request_data for a request that reached the SP at path."""
    return {"https": "on", "http_host": "sp.example", "server_port": "443", "script_name": path,
            "get_data": get or {}, "post_data": post or {}}


def saml_login(browser, url, post=None):
    """Drives browser (an OidcBrowser) from the SP's request to the SP: a GET of url (Redirect
    binding, IdP-initiated), or a POST of the form post to it (POST binding). Returns what go()
    returns, stopping at the SP."""
    if post is not None:
        r = browser.s.post(url, data=post, allow_redirects=False)
        assert r.status_code == 302, (r.status_code, r.text[:500])
        url = _urlparse.urljoin(url, r.headers["Location"])
    return browser.go(url, stop_at=(SAML_SP,))
