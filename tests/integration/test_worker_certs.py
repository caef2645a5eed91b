"""Certificate discovery: PEM files in the certificate folder become managed key pairs."""
import os
import signal
import subprocess
import time

import pytest

from conftest import STATE, binary, config_path, sql, stack


def make_pair(folder, cert_name, key_name, cn):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "30", "-subj", "/CN=" + cn,
                    "-keyout", os.path.join(folder, key_name), "-out", os.path.join(folder, cert_name)],
                   check=True, capture_output=True)


@pytest.fixture
def discovery_worker(tmp_path):
    assert stack("worker-stop").returncode == 0
    env = dict(os.environ, CUSTOS_CONFIG=config_path(), CUSTOS_CERT_DISCOVERY_DIR=str(tmp_path))
    log = open(os.path.join(STATE, "log", "worker-test.log"), "a")
    p = subprocess.Popen([binary("custos-worker"), "run"], env=env, stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL)
    yield tmp_path, env
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=15)
    assert stack("worker-start").returncode == 0


def run_discovery(env):
    out = subprocess.run([binary("custos-worker"), "task", "run",
                          "authentik.crypto.tasks.certificate_discovery"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    mid = out.stdout.strip()
    deadline = time.time() + 30
    while time.time() < deadline:
        state, logs = sql("SELECT state, logs FROM tasks WHERE message_id = %s", mid)[0]
        if state == "done":
            return logs[-1]["event"]
        time.sleep(0.1)
    raise AssertionError("discovery did not finish")


def test_discovers_certbot_and_plain_files(discovery_worker):
    folder, env = discovery_worker
    site = "disc-site-%d" % os.getpid()
    os.makedirs(folder / site)
    make_pair(folder / site, "fullchain.pem", "privkey.pem", "site.example.com")
    plain = "disc-plain-%d" % os.getpid()
    make_pair(folder, plain + ".pem", plain + ".key", "plain.example.com")
    assert "new or changed" in run_discovery(env)
    rows = dict((r[0], r[1:]) for r in sql(
        "SELECT name, managed, key_data_sealed IS NOT NULL, cert_subject, key_type FROM certificate_key_pairs "
        "WHERE name IN (%s, %s)", site, plain))
    assert rows[site] == ("goauthentik.io/crypto/discovered/" + site, True, "CN=site.example.com", "ec")
    assert rows[plain] == ("goauthentik.io/crypto/discovered/" + plain, True, "CN=plain.example.com", "ec")
    # Nothing changed: nothing is rewritten.
    (before,), = sql("SELECT last_updated FROM certificate_key_pairs WHERE name = %s", site)
    assert ", 0 new or changed" in run_discovery(env)
    assert sql("SELECT last_updated FROM certificate_key_pairs WHERE name = %s", site) == [(before,)]
    # A renewed certificate replaces the stored one.
    make_pair(folder / site, "fullchain.pem", "privkey.pem", "renewed.example.com")
    run_discovery(env)
    assert sql("SELECT cert_subject FROM certificate_key_pairs WHERE name = %s", site) == [("CN=renewed.example.com",)]


def test_key_of_another_certificate_is_not_attached(discovery_worker):
    folder, env = discovery_worker
    a = "disc-a-%d" % os.getpid()
    make_pair(folder, a + ".pem", "other.key", "a.example.com")
    make_pair(folder, "unrelated.pem", a + ".key", "b.example.com")
    run_discovery(env)
    assert sql("SELECT key_data_sealed IS NULL FROM certificate_key_pairs WHERE name = %s", a) == [(True,)]
