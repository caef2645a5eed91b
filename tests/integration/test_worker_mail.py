"""The send_mail task through the worker: a templated mail arrives once, SMTP failures retry,
and a mail the server took is not sent again by a later run."""
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import STATE, binary, config_path, sql, stack
from test_mail import Collector, parse, smtp  # noqa: F401 (fixture)


@pytest.fixture
def own_worker():
    """The stack's worker stops for the test (it has no SMTP server); the test's own, pointed
    at its SMTP server, takes over; the stack's comes back afterwards."""
    assert stack("worker-stop").returncode == 0
    procs = []

    def start(port):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_EMAIL__")}
        env.update({"CUSTOS_CONFIG": config_path(), "CUSTOS_EMAIL__HOST": "127.0.0.1",
                    "CUSTOS_EMAIL__PORT": str(port), "CUSTOS_EMAIL__TIMEOUT": "5",
                    "CUSTOS_EMAIL__FROM": "custos <noreply@example.com>"})
        log = open(os.path.join(STATE, "log", "worker-test.log"), "a")
        p = subprocess.Popen([binary("custos-worker"), "run"], env=env, stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
    assert stack("worker-start").returncode == 0


def send_mail_task(to, template="email/password_reset", **vars_):
    args = {"to": to, "to_name": "Zoë Müller", "template": template,
            "vars": dict({"user_name": "Zoë", "url": "https://id.example.com/r/abc", "expires": "30 minutes"}, **vars_)}
    (mid,), = sql("INSERT INTO tasks (actor_name, args) VALUES ('authentik.stages.email.tasks.send_mail', %s) "
                  "RETURNING message_id::text", json.dumps(args))
    return mid


def wait_task(mid, want=("done",), timeout=60):
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = sql("SELECT state, status, retries, logs, effect FROM tasks WHERE message_id = %s", mid)[0]
        if row[0] in want and (row[0] != "queued" or row[2] > 0):
            return row
        time.sleep(0.2)
    return row


def test_templated_mail_arrives_once(smtp, own_worker):
    handler, port = smtp()
    own_worker(port)
    to = "user-%s@example.com" % uuid.uuid4().hex[:6]
    mid = send_mail_task(to)
    state, status, retries, logs, effect = wait_task(mid)
    assert (state, status) == ("done", "info"), logs
    assert effect["state"] == "sent" and effect["message_id"].startswith("<")
    assert len(handler.envelopes) == 1
    msg = parse(handler.envelopes[0])
    assert msg["To"].addresses[0].addr_spec == to
    assert msg["Message-ID"] == effect["message_id"]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "https://id.example.com/r/abc" in body and "https://id.example.com/r/abc" in html
    assert "Zoë" in body


def test_smtp_down_retries_then_succeeds(smtp, own_worker):
    handler = Collector(data_answer="451 4.3.0 try again later")
    handler, port = smtp(handler)
    own_worker(port)
    mid = send_mail_task("later@example.com")
    state, status, retries, logs, _ = wait_task(mid, want=("queued",))
    assert retries >= 1 and status == "warning" and "451" in logs[-1]["event"]
    handler.data_answer = None
    sql("UPDATE tasks SET eta = now() WHERE message_id = %s", mid)
    state, status, _, logs, _ = wait_task(mid)
    assert (state, status) == ("done", "info")
    assert len(handler.envelopes) == 1


def test_permanent_refusal_fails_with_server_answer(smtp, own_worker):
    handler, port = smtp(Collector(rcpt_answer="550 5.1.1 no such user"))
    own_worker(port)
    mid = send_mail_task("nobody@example.com")
    state, status, retries, logs, _ = wait_task(mid)
    assert (state, status, retries) == ("done", "error", 0)
    assert "550" in logs[-1]["event"] and "no such user" in logs[-1]["event"]


def test_mail_the_server_took_is_not_sent_again(smtp, own_worker):
    """A run after a crash finds the effect recorded as sent and does not send again."""
    handler, port = smtp()
    mid = send_mail_task("once@example.com")
    sql("UPDATE tasks SET effect = '{\"message_id\": \"<x@example.com>\", \"state\": \"sent\"}' "
        "WHERE message_id = %s", mid)
    own_worker(port)
    state, status, _, logs, _ = wait_task(mid)
    assert (state, status) == ("done", "info")
    assert "already sent" in logs[-1]["event"]
    assert handler.envelopes == []
