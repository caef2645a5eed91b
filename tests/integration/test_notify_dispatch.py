"""Event notifications end to end: an event a bound event-matcher policy passes reaches the
rule's recipients through a local, a webhook and an email transport; rules without bindings
fire nothing; a webhook answering 5xx retries, 4xx fails with its status."""
import json
import secrets
import time

import pytest

from conftest import create_user, sql
from test_api_notifications import Receiver, make_group, make_rule, make_transport, name
from test_mail import parse, smtp  # noqa: F401 (fixture)
from test_worker_mail import own_worker  # noqa: F401 (fixture)

DISPATCH = "authentik.events.tasks.event_trigger_dispatch"
TRANSPORT = "authentik.events.tasks.notification_transport"


@pytest.fixture
def receiver():
    started = []

    def start(status=200):
        r = Receiver(status)
        started.append(r)
        return r

    yield start
    for r in started:
        r.close()


@pytest.fixture
def rules(admin):
    """rules(transports, group=None, bound=True) -> rule: a rule, bound (or not) to an event
    matcher for model_created of authentik_core.user; removed with its policy afterwards."""
    made = []

    def make(transports, group=None, bound=True):
        rule = make_rule(admin, transports=[t["pk"] for t in transports], destination_group=group)
        made.append(("events/rules/%s/" % rule["pk"]))
        if bound:
            r = admin.post("policies/event_matcher/", json={
                "name": name("em"), "action": "model_created", "model": "authentik_core.user"})
            assert r.status_code == 201, r.text
            made.append("policies/event_matcher/%s/" % r.json()["pk"])
            b = admin.post("policies/bindings/", json={"policy": r.json()["pk"], "target": rule["pk"],
                                                      "order": 0})
            assert b.status_code == 201, b.text
        return rule

    yield make
    for path in made:
        admin.delete(path)


def member():
    uid, _ = create_user(email="member-%s@example.com" % secrets.token_hex(4))
    (username, email), = sql("SELECT username, email FROM users WHERE id = %s", uid)
    return uid, username, email


def create_user_via_api(admin):
    r = admin.post("core/users/", json={"username": name("new"), "name": "New One"})
    assert r.status_code == 201, r.text
    pk = r.json()["pk"]
    (event,), = sql("SELECT event_uuid::text FROM events WHERE action = 'model_created' AND "
                    "context -> 'model' ->> 'model_name' = 'user' AND context -> 'model' ->> 'pk' = %s",
                    str(pk))
    return pk, event


def wait(fn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return fn()


def transport_tasks(event):
    return sql("SELECT args, state, status, retries, logs FROM tasks WHERE actor_name = %s AND "
               "args ->> 'event' = %s ORDER BY created", TRANSPORT, event)


def test_event_reaches_local_webhook_and_email(admin, rules, receiver, smtp, own_worker):  # noqa: F811
    handler, port = smtp()
    own_worker(port)
    rc = receiver()
    uid, username, email = member()
    group = make_group([uid])
    local = make_transport(admin)
    hook = make_transport(admin, mode="webhook", webhook_url=rc.url)
    mail = make_transport(admin, mode="email", email_subject_prefix="[n] ")
    rule = rules([local, hook, mail], group=group)
    (admin_name, admin_email), = sql("SELECT username, email FROM users WHERE id = "
                                     "(SELECT user_id FROM tokens WHERE key = %s)",
                                     admin.s.headers["Authorization"].split()[1])
    pk, event = create_user_via_api(admin)

    assert wait(lambda: len(rc.posts) >= 1 and sql(
        "SELECT 1 FROM notifications WHERE user_id = %s AND event = %s", uid, event) and
        [e for e in handler.envelopes if email in e.rcpt_tos])
    time.sleep(0.5)
    assert len(rc.posts) == 1
    body = json.loads(rc.posts[0][2])
    assert body["severity"] == "notice"
    assert body["user_email"] == email and body["user_username"] == username
    assert body["event_user_email"] == admin_email and body["event_user_username"] == admin_name
    assert body["body"].startswith("model_created: {")
    (ctx,), = sql("SELECT context FROM events WHERE event_uuid = %s", event)
    assert json.loads(body["body"][len("model_created: "):]) == ctx

    rows = sql("SELECT severity, body, seen FROM notifications WHERE user_id = %s AND event = %s", uid, event)
    assert rows == [("notice", body["body"], False)]

    # Other tests' send_mail tasks may be retried by this worker too: only this member's count.
    mails = [e for e in handler.envelopes if email in e.rcpt_tos]
    assert len(mails) == 1
    msg = parse(mails[0])
    assert msg["To"].addresses[0].addr_spec == email
    assert msg["Subject"] == "[n] model_created"

    tasks = transport_tasks(event)
    assert len(tasks) == 3 and all(t[1:3] == ("done", "info") for t in tasks)
    assert {t[0]["transport"] for t in tasks} == {local["pk"], hook["pk"], mail["pk"]}
    assert all(t[0]["rule"] == rule["pk"] and t[0]["user"] == uid for t in tasks)
    (state, status), = sql("SELECT state, status FROM tasks WHERE actor_name = %s AND args ->> 'event' = %s",
                           DISPATCH, event)
    assert (state, status) == ("done", "info")


def test_rule_without_bindings_fires_nothing(admin, rules):
    uid, _, _ = member()
    rule = rules([make_transport(admin)], group=make_group([uid]), bound=False)
    _, event = create_user_via_api(admin)
    row = wait(lambda: sql("SELECT state, status, logs FROM tasks WHERE actor_name = %s AND "
                           "args ->> 'event' = %s AND state = 'done'", DISPATCH, event))
    assert row and row[0][1] == "info"
    assert transport_tasks(event) == []
    assert sql("SELECT count(*) FROM notifications WHERE user_id = %s", uid) == [(0,)]
    assert rule["pk"]


def test_no_rules_no_dispatch_task(admin):
    # Rules of earlier tests go (the test stack is the tests' own); none may exist here.
    sql("DELETE FROM notification_rules")
    _, event = create_user_via_api(admin)
    assert sql("SELECT count(*) FROM tasks WHERE actor_name = %s AND args ->> 'event' = %s",
               DISPATCH, event) == [(0,)]


def test_send_once_transport_sends_once_per_event(admin, rules, receiver):
    rc = receiver()
    users = [member()[0] for _ in range(3)]
    hook = make_transport(admin, mode="webhook", webhook_url=rc.url, send_once=True)
    rules([hook], group=make_group(users))
    _, event = create_user_via_api(admin)
    assert wait(lambda: rc.posts)
    time.sleep(1)
    assert len(rc.posts) == 1
    assert len(transport_tasks(event)) == 1


def test_webhook_500_retries(admin, rules, receiver):
    rc = receiver(500)
    uid, _, _ = member()
    hook = make_transport(admin, mode="webhook", webhook_url=rc.url)
    rules([hook], group=make_group([uid]))
    _, event = create_user_via_api(admin)
    rows = wait(lambda: [t for t in transport_tasks(event) if t[3] >= 1])
    assert rows, transport_tasks(event)
    args, state, status, retries, logs = rows[0]
    assert state == "queued" and status == "warning"
    assert "500" in logs[-1]["event"]
    assert len(rc.posts) >= 1


def test_webhook_404_fails_with_status(admin, rules, receiver):
    rc = receiver(404)
    uid, _, _ = member()
    hook = make_transport(admin, mode="webhook_slack", webhook_url=rc.url)
    rules([hook], group=make_group([uid]))
    _, event = create_user_via_api(admin)
    rows = wait(lambda: [t for t in transport_tasks(event) if t[1] == "done"])
    assert rows, transport_tasks(event)
    args, state, status, retries, logs = rows[0]
    assert (state, status, retries) == ("done", "error", 0)
    assert "404" in logs[-1]["event"]
    body = json.loads(rc.posts[0][2])
    assert body["username"] == "authentik" and body["attachments"][0]["title"] == "model_created"
    assert len(rc.posts) == 1
