"""Fixtures for the integration tests: the stack that scripts/test.sh started.

CU_TEST_STATE names its folder; stack.env there holds its ports and secrets.
"""
import os
import subprocess

import pytest
import requests

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
