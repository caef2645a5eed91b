"""The email stage through the flow executor and the worker: the mailed link carries the flow on
in a fresh browser, once, before it expires, for its own flow only; unknown accounts look the
same and get nothing; re-sends are capped; account confirmation activates the account."""
import json
import re
import secrets
import time
import urllib.parse

import argon2
import pytest

from conftest import (FlowClient, create_user, data_prompt_fields, data_prompt_make,
                      login_flow_make, login_user, sql)
from test_mail import parse, smtp  # noqa: F401 (fixture)
from test_worker_mail import own_worker  # noqa: F401 (fixture)

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
SEND_MAIL = "authentik.stages.email.tasks.send_mail"


@pytest.fixture(autouse=True, scope="module")
def loopback_brand():
    """Mailed links point only at a brand's domain once any brand has a real one (the brand
    tests make some): these tests reach the stack as 127.0.0.1, so that is a brand's domain
    while they run."""
    (pk,), = sql("INSERT INTO brands (domain) VALUES ('127.0.0.1') RETURNING brand_uuid")
    yield
    sql("DELETE FROM brands WHERE brand_uuid = %s", pk)


ADDRESSES = []


@pytest.fixture(autouse=True)
def drop_queued_mail():
    """Mail a test queued and no SMTP server of its own took stays out of later tests' servers
    (test_worker_mail.py counts what its server receives)."""
    yield
    sql("DELETE FROM tasks WHERE actor_name = %s AND args ->> 'to' = ANY(%s)", SEND_MAIL, ADDRESSES)
    del ADDRESSES[:]


def address(prefix):
    """A fresh address whose mail drop_queued_mail clears after the test."""
    email = "%s-%s@example.com" % (prefix, secrets.token_hex(4))
    ADDRESSES.append(email)
    return email


def recovery_flow(email_config=None):
    """identification (username) -> email -> prompt (password twice) -> user_write -> login."""
    slug, stages = login_flow_make([
        ("identificationstage", {"user_fields": ["username"]}),
        ("emailstage", email_config or {}),
        ("promptstage", {}),
        ("userwritestage", {"user_creation_mode": "never_create"}),
        ("userloginstage", {}),
    ], designation="recovery")
    data_prompt_fields(stages[2], [data_prompt_make("password", type="password", order=0),
                                   data_prompt_make("password_repeat", type="password", order=1)])
    return slug


def mail_tasks(to):
    return [r[0] for r in sql("SELECT args FROM tasks WHERE actor_name = %s AND args ->> 'to' = %s "
                              "ORDER BY created, message_id", SEND_MAIL, to)]


def link_query(url):
    return urllib.parse.urlparse(url).query


def start_recovery(base, slug, username, query=""):
    fc = FlowClient(base, slug, query=query)
    assert fc.get()["component"] == "ak-stage-identification"
    ch = fc.post({"component": "ak-stage-identification", "uid_field": username})
    return fc, ch


def wait_mails(handler, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and len(handler.envelopes) < n:
        time.sleep(0.2)
    return handler.envelopes


def test_recovery_link_end_to_end(base, smtp, own_worker):  # noqa: F811
    handler, port = smtp()
    own_worker(port)
    email = address("rec")
    uid, username = login_user(PASSWORD, email=email, name="Rita Recovery")
    # Someone (the user, or whoever took the old password) is logged in somewhere.
    lslug, _ = login_flow_make([("identificationstage", {"user_fields": ["username"]}),
                                ("passwordstage", {}), ("userloginstage", {})])
    elsewhere = FlowClient(base, lslug)
    elsewhere.get()
    elsewhere.post({"component": "ak-stage-identification", "uid_field": username})
    elsewhere.post({"component": "ak-stage-password", "password": PASSWORD})
    assert elsewhere.me() == username
    slug = recovery_flow({"subject": "Reset it"})
    fc, ch = start_recovery(base, slug, username, query="next=%2Fafter%3Fa%3D1")
    assert ch["component"] == "ak-stage-email", ch
    assert ch["title"] == "Email sent."
    assert fc.plan()["context"]["email_sent"] is True

    (env,) = wait_mails(handler, 1)
    msg = parse(env)
    assert msg["To"].addresses[0].addr_spec == email
    assert msg["Subject"] == "Reset it"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Rita Recovery" in body
    (url,) = re.findall(r"http://\S+flow_token=\S+", body)
    assert url.startswith("%s/if/flow/%s/?" % (base, slug)), url
    q = urllib.parse.parse_qs(link_query(url))
    assert q["next"] == ["/after?a=1"] and len(q["flow_token"][0]) >= 32

    # A reload does not send again.
    assert fc.get()["component"] == "ak-stage-email"
    assert len(mail_tasks(email)) == 1

    # The link, in a browser that never saw the flow, goes on past the email stage.
    fresh = FlowClient(base, slug, query=link_query(url))
    ch = fresh.get()
    assert ch["component"] == "ak-stage-prompt", ch
    ch = fresh.post({"component": "ak-stage-prompt", "password": NEW_PASSWORD,
                     "password_repeat": NEW_PASSWORD})
    assert ch == {"component": "xak-flow-redirect", "to": "/after?a=1"}, ch
    pw = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    assert argon2.PasswordHasher().verify(pw[len("argon2"):], NEW_PASSWORD)
    assert fresh.me() == username
    # The new password ended the other session.
    assert elsewhere.me() is None

    # Used once: a second browser with the same link starts the flow from the beginning.
    again = FlowClient(base, slug, query=link_query(url))
    assert again.get()["component"] == "ak-stage-identification"


def first_link(email):
    (args,) = mail_tasks(email)[:1] or [None]
    assert args is not None, "no mail queued for " + email
    return args["vars"]["url"]


def test_expired_and_other_flow_links_fail(base):
    email = address("exp")
    _, username = login_user(PASSWORD, email=email)
    slug = recovery_flow()
    other = recovery_flow()
    start_recovery(base, slug, username)
    url = first_link(email)
    key = urllib.parse.parse_qs(link_query(url))["flow_token"][0]

    # Another flow's executor does not take it (and does not use it up).
    wrong = FlowClient(base, other, query="flow_token=" + key)
    assert wrong.get()["component"] == "ak-stage-identification"
    assert sql("SELECT used FROM flow_tokens WHERE flow = (SELECT flow_uuid FROM flows "
               "WHERE slug = %s) ORDER BY created DESC LIMIT 1", slug)[0][0] is None

    # Expired: refused.
    sql("UPDATE flow_tokens SET expires = now() - interval '1 second' WHERE flow = "
        "(SELECT flow_uuid FROM flows WHERE slug = %s)", slug)
    late = FlowClient(base, slug, query=link_query(url))
    assert late.get()["component"] == "ak-stage-identification"


def test_token_expiry_from_config(base):
    email = address("ttl")
    _, username = login_user(PASSWORD, email=email)
    slug = recovery_flow({"token_expiry": "minutes=7"})
    start_recovery(base, slug, username)
    (secs,) = sql("SELECT extract(epoch FROM expires - created) FROM flow_tokens WHERE flow = "
                  "(SELECT flow_uuid FROM flows WHERE slug = %s)", slug)[0]
    assert 7 * 60 - 5 <= secs <= 7 * 60 + 5


def test_unknown_user_looks_the_same_and_gets_nothing(base):
    email = address("known")
    _, username = login_user(PASSWORD, email=email)
    slug = recovery_flow()
    _, known = start_recovery(base, slug, username)
    ghost = "ghost-" + secrets.token_hex(4)
    fc, unknown = start_recovery(base, slug, ghost)
    strip = lambda ch: {k: v for k, v in ch.items() if k not in ("pending_user",)}  # noqa: E731
    assert strip(unknown) == strip(known)
    # A POST (re-send) answers alike too.
    r_unknown = fc.post({"component": "ak-stage-email"})
    assert r_unknown["component"] == "ak-stage-email"
    assert r_unknown["response_errors"] == {"non_field_errors": [{"string": "email-sent",
                                                                  "code": "email-sent"}]}
    assert not sql("SELECT 1 FROM tasks WHERE actor_name = %s AND args::text LIKE %s",
                   SEND_MAIL, "%" + ghost + "%")
    assert not sql("SELECT 1 FROM flow_tokens WHERE flow = (SELECT flow_uuid FROM flows "
                   "WHERE slug = %s) AND user_id IS NULL", slug)


def test_resend_is_capped(base):
    email = address("cap")
    _, username = login_user(PASSWORD, email=email)
    slug = recovery_flow({"recovery_max_attempts": 2, "recovery_cache_timeout": "minutes=3"})
    fc, ch = start_recovery(base, slug, username)
    assert ch["component"] == "ak-stage-email"
    ch = fc.post({"component": "ak-stage-email"})
    assert ch["component"] == "ak-stage-email"
    assert ch["response_errors"]["non_field_errors"][0]["code"] == "email-sent"
    assert len(mail_tasks(email)) == 2
    ch = fc.post({"component": "ak-stage-email"})
    assert ch["response_errors"] == {"non_field_errors": [{
        "string": "Too many account verification attempts. Please try again after 3 minutes.",
        "code": "invalid"}]}
    assert len(mail_tasks(email)) == 2
    # A new flow for the same address is capped as well.
    fc2, _ = start_recovery(base, slug, username)
    assert len(mail_tasks(email)) == 2
    # Each mail has its own working link; the second one is the one the user has.
    links = [a["vars"]["url"] for a in mail_tasks(email)]
    assert len(set(links)) == 2


def test_account_confirmation_activates(base):
    slug, stages = login_flow_make([
        ("promptstage", {}),
        ("userwritestage", {"create_users_as_inactive": True}),
        ("emailstage", {"activate_user_on_success": True, "template": "email/account_confirmation"}),
        ("userloginstage", {}),
    ], designation="enrollment")
    data_prompt_fields(stages[0], [data_prompt_make("username", order=0),
                                   data_prompt_make("email", type="email", order=1),
                                   data_prompt_make("password", type="password", order=2)])
    email = address("conf")
    name = email.split("@")[0]
    fc = FlowClient(base, slug)
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "username": name, "email": email,
                  "password": PASSWORD})
    assert ch["component"] == "ak-stage-email", ch
    assert sql("SELECT is_active FROM users WHERE username = %s", name)[0][0] is False
    (args,) = mail_tasks(email)
    assert args["template"] == "email/account_confirmation"
    assert "subject" not in args  # the template's own subject applies
    url = args["vars"]["url"]
    # The same browser opening its link works as well as a fresh one would.
    fresh = FlowClient(base, slug, query=link_query(url))
    ch = fresh.get()
    assert ch == {"component": "xak-flow-redirect", "to": "/"}, ch
    assert sql("SELECT is_active FROM users WHERE username = %s", name)[0][0] is True
    assert fresh.me() == name


def test_without_activation_the_account_stays_inactive(base):
    slug, stages = login_flow_make([
        ("promptstage", {}),
        ("userwritestage", {"create_users_as_inactive": True}),
        ("emailstage", {}),
        ("dummystage", {}),
    ], designation="enrollment")
    data_prompt_fields(stages[0], [data_prompt_make("username", order=0),
                                   data_prompt_make("email", type="email", order=1)])
    email = address("noact")
    name = email.split("@")[0]
    fc = FlowClient(base, slug)
    fc.get()
    fc.post({"component": "ak-stage-prompt", "username": name, "email": email})
    (args,) = mail_tasks(email)
    fresh = FlowClient(base, slug, query=link_query(args["vars"]["url"]))
    assert fresh.get()["component"] == "ak-stage-dummy"
    assert sql("SELECT is_active FROM users WHERE username = %s", name)[0][0] is False


def test_no_pending_user_is_denied(base):
    slug, _ = login_flow_make([("emailstage", {})], designation="recovery")
    ch = FlowClient(base, slug).get()
    assert ch["component"] == "ak-stage-access-denied"
    assert ch["error_message"] == "No pending user."


def test_context_email_overrides_address(base):
    ADDRESSES.append("old@example.com")
    uid, _ = create_user(email="old@example.com")
    slug, _ = login_flow_make([("dummystage", {}), ("emailstage", {}), ("dummystage", {})],
                              designation="recovery")
    fc = FlowClient(base, slug)
    fc.get()
    override = address("new")
    fc.set_context(pending_user=uid, email=override)
    assert fc.post({"component": "ak-stage-dummy"})["component"] == "ak-stage-email"
    assert not mail_tasks("old@example.com")
    assert len(mail_tasks(override)) == 1
    args = mail_tasks(override)[0]
    assert json.dumps(args).count("flow_token=") == 1


def test_link_host_must_be_a_brand_domain(base):
    """A client chooses the Host header: a recovery mail must not carry a link (and its token)
    to a host that is not the domain of a brand. The answer stays the same; nothing is sent."""
    domain = "id-%s.example" % secrets.token_hex(4)
    (pk,), = sql("INSERT INTO brands (domain) VALUES (%s) RETURNING brand_uuid", domain)
    try:
        slug = recovery_flow()
        email = address("poison")
        _, username = login_user(PASSWORD, email=email)
        fc = FlowClient(base, slug, host="evil-%s.example" % secrets.token_hex(4))
        fc.get()
        ch = fc.post({"component": "ak-stage-identification", "uid_field": username})
        assert ch["component"] == "ak-stage-email"
        assert mail_tasks(email) == []
        # The brand's own domain (and a name under it) gets its link.
        fc = FlowClient(base, slug, host="login." + domain)
        fc.get()
        ch = fc.post({"component": "ak-stage-identification", "uid_field": username})
        assert ch["component"] == "ak-stage-email"
        (task,) = mail_tasks(email)
        assert task["vars"]["url"].startswith("http://login.%s/if/flow/%s/" % (domain, slug))
    finally:
        sql("DELETE FROM brands WHERE brand_uuid = %s", pk)
