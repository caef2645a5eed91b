"""custos-worker bootstrap: the first admin, token, brand and certificate; idempotent."""
import os
import subprocess
import uuid

import argon2
import psycopg2
import pytest

from conftest import ENV, ROOT, STATE, binary, config_path
from test_migrate import psql_super


@pytest.fixture
def fresh_db():
    name = "custos_boot_" + uuid.uuid4().hex[:8]
    r = psql_super("CREATE DATABASE %s OWNER custos" % name)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, CUSTOS_CONFIG=config_path(), CUSTOS_POSTGRESQL__NAME=name)
    p = subprocess.run([binary("custos-worker"), "migrate", "--sql-dir", os.path.join(ROOT, "sql")],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    yield name, env
    psql_super("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def query(db, q, *args):
    conn = psycopg2.connect(host=os.path.join(STATE, "run", "pg"), port=ENV["PG_PORT"], dbname=db,
                            user="custos", password=ENV["PG_PASSWORD"])
    try:
        with conn.cursor() as cur:
            cur.execute(q, args)
            return cur.fetchall()
    finally:
        conn.close()


def bootstrap(env, *args):
    return subprocess.run([binary("custos-worker"), "bootstrap"] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def test_generated_password_shown_once_and_hashed(fresh_db):
    db, env = fresh_db
    p = bootstrap(env)
    assert p.returncode == 0, p.stderr
    line = [l for l in p.stdout.splitlines() if "password" in l][0]
    password = line.split("password ")[1].split(" ")[0]
    assert len(password) == 24
    (stored,), = query(db, "SELECT password FROM users WHERE username = 'akadmin'")
    assert password not in stored and password not in p.stderr
    # Django's encoding; the argon2 reference implementation accepts it.
    assert stored.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert argon2.PasswordHasher().verify(stored[len("argon2"):], password)
    # A superuser through the "authentik Admins" group.
    (su,), = query(db, "SELECT user_is_superuser(id) FROM users WHERE username = 'akadmin'")
    assert su is True
    assert query(db, "SELECT domain, \"default\" FROM brands") == [("authentik-default", True)]
    ((name, key_type, sealed, subject),) = query(
        db, "SELECT name, key_type, key_data_sealed, cert_subject FROM certificate_key_pairs")
    assert name == "authentik Self-signed Certificate" and key_type == "rsa"
    assert sealed.startswith("v1:") and "PRIVATE KEY" not in sealed
    # Second run: nothing changes, nothing secret printed.
    p2 = bootstrap(env)
    assert p2.returncode == 0 and "password" not in p2.stdout
    assert query(db, "SELECT password FROM users WHERE username = 'akadmin'") == [(stored,)]
    assert query(db, "SELECT count(*) FROM certificate_key_pairs") == [(1,)]
    assert query(db, "SELECT count(*) FROM users") == [(1,)]


def test_password_and_token_from_environment(fresh_db):
    db, env = fresh_db
    env = dict(env, CUSTOS_BOOTSTRAP_PASSWORD="correct horse battery staple",
               CUSTOS_BOOTSTRAP_TOKEN="t0ken-" + "x" * 40, CUSTOS_BOOTSTRAP_EMAIL="admin@example.org")
    p = bootstrap(env)
    assert p.returncode == 0, p.stderr
    assert "correct horse" not in p.stdout and "t0ken-" not in p.stdout
    (stored, email), = query(db, "SELECT password, email FROM users WHERE username = 'akadmin'")
    assert email == "admin@example.org"
    assert argon2.PasswordHasher().verify(stored[len("argon2"):], "correct horse battery staple")
    rows = query(db, "SELECT identifier, intent, expiring, key = %s, key_digest = encode(sha256(%s::bytea), 'hex') "
                     "FROM tokens", "t0ken-" + "x" * 40, "t0ken-" + "x" * 40)
    assert rows == [("authentik-bootstrap-token", "api", False, True, True)]


def test_no_password(fresh_db):
    db, env = fresh_db
    p = bootstrap(env, "--no-password")
    assert p.returncode == 0, p.stderr
    assert query(db, "SELECT password FROM users WHERE username = 'akadmin'") == [("!",)]


def test_bootstrap_token_authenticates_the_api(lighttpd):
    """The running stack was bootstrapped too; a token made the same way opens the API."""
    import requests
    r = requests.get(lighttpd + "/api/v3/admin/version/")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
