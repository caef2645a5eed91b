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
