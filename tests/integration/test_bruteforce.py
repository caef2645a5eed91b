"""Password guessing from one client: the flow cancels after failed_attempts_before_cancel, the
reputation of the client IP and the username locks logins out before 50 guesses, and every
checked guess is in the audit log with the client IP and the username."""
import secrets

import pytest

from conftest import FlowClient, create_user, login_flow_make, login_user, redis_cli, sql

PASSWORD = "correct horse battery"


@pytest.fixture
def target(lighttpd):
    """A user, a login flow and a client IP of their own; their reputation is removed after."""
    uid, name = login_user()
    slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                               ("consentstage", {"mode": "always_require"})])
    ip = "10.250.%d.%d" % (secrets.randbelow(250) + 1, secrets.randbelow(250) + 1)
    yield uid, name, slug, ip
    redis_cli("DEL", "custos:reputation:ip:" + ip, "custos:reputation:user:" + name)


def attempt(fc, name, password):
    """One login attempt from the start of a fresh flow: 'refused' when identification turns
    the user away, else what the password stage answered ('wrong', 'cancelled' or 'in')."""
    fc.s.cookies.clear()
    c = fc.get()
    assert c["component"] == "ak-stage-identification"
    c = fc.post({"component": "ak-stage-identification", "uid_field": name})
    if c["component"] == "ak-stage-identification":
        return "refused"
    return guess(fc, password)


def guess(fc, password):
    c = fc.post({"component": "ak-stage-password", "password": password})
    if c["component"] == "ak-stage-access-denied":
        assert c["error_message"] == "Invalid password"
        return "cancelled"
    if c["component"] == "ak-stage-password":
        assert c["response_errors"]["password"][0]["string"] == "Invalid password"
        return "wrong"
    assert c["component"] == "ak-stage-consent", c
    return "in"


def login_failed(name):
    return sql("SELECT context, host(client_ip) FROM events WHERE action = 'login_failed' "
               "AND context ->> 'username' = %s ORDER BY created", name)


def test_fifty_guesses_are_locked_out(lighttpd, target):
    uid, name, slug, ip = target
    fc = FlowClient(lighttpd, slug, ip=ip)
    outcomes = []
    c = fc.get()
    # 50 guesses, each at the password stage when the flow is there, else from the start.
    for i in range(50):
        if c["component"] == "ak-stage-identification":
            c = fc.post({"component": "ak-stage-identification", "uid_field": name})
            if c["component"] == "ak-stage-identification":
                assert c["response_errors"]["non_field_errors"][0]["string"] == \
                    "Failed to authenticate."
                outcomes.append("refused")
                continue
        assert c["component"] == "ak-stage-password", c
        outcomes.append(guess(fc, "guess-%d-%s" % (i, secrets.token_hex(3))))
        # The plan is gone after the 5th wrong answer in a row: the next GET starts over.
        c = fc.get()
    assert "in" not in outcomes
    # The flow was cancelled after each run of 5 wrong answers until the lockout.
    assert outcomes[:5] == ["wrong"] * 4 + ["cancelled"], outcomes
    # Once refused, always refused.
    first = outcomes.index("refused") if "refused" in outcomes else len(outcomes)
    assert set(outcomes[first:]) <= {"refused"}, outcomes
    checked = [o for o in outcomes if o in ("wrong", "cancelled")]
    events = login_failed(name)
    # Reputation refused before the 50th guess: fewer guesses were checked than made ...
    assert "refused" in outcomes, outcomes
    assert len(events) < 50
    # ... and each checked one (with no password check behind a refusal) is audited.
    assert len(events) <= len(checked)
    assert len(events) >= 20
    for ctx, client_ip in events:
        assert client_ip == ip
        assert ctx["username"] == name
        assert ctx["stage"]["model_name"] == "passwordstage"
        assert "password" not in ctx
    # While locked, the right password is refused too.
    assert attempt(fc, name, PASSWORD) in ("refused", "wrong")
    # From another address the account itself is still locked (its username's reputation).
    other = FlowClient(lighttpd, slug)
    try:
        assert attempt(other, name, PASSWORD) in ("refused", "wrong")
    finally:
        redis_cli("DEL", "custos:reputation:ip:" + other.ip)
    # The audit API lists the failures with the client IP.
    _, key = create_user(superuser=True)
    r = fc.s.get(lighttpd + "/api/v3/events/events/?action=login_failed&client_ip=%s&page_size=100"
                 % ip, headers={"Authorization": "Bearer " + key})
    assert r.status_code == 200, r.text
    mine = [e for e in r.json()["results"] if e["context"].get("username") == name]
    assert len(mine) == len(events)
    assert all(e["client_ip"] == ip and e["action"] == "login_failed" for e in mine)
    # Once the reputation is forgiven, the right password works again.
    redis_cli("DEL", "custos:reputation:ip:" + ip, "custos:reputation:user:" + name)
    assert attempt(fc, name, PASSWORD) == "in"


def test_locked_account_refused_before_checking(lighttpd, target):
    """A username at the lockout score is refused whatever field named it, with the usual
    errors and without its password being checked (no login_failed event)."""
    uid, name, _, ip = target
    email = sql("SELECT email FROM users WHERE id = %s", uid)[0][0]
    redis_cli("SET", "custos:reputation:user:" + name, "-20")
    # Named by email, so identification (keyed by what was typed) lets it through ...
    slug, _ = login_flow_make([("identificationstage", {}), ("passwordstage", {}),
                               ("consentstage", {"mode": "always_require"})])
    fc = FlowClient(lighttpd, slug, ip=ip)
    fc.get()
    assert fc.post({"component": "ak-stage-identification",
                    "uid_field": email})["component"] == "ak-stage-password"
    # ... and the password stage refuses the right password like a wrong one.
    assert guess(fc, PASSWORD) == "wrong"
    assert login_failed(name) == []
    # With the password asked for in the identification stage, the same.
    pw = sql("INSERT INTO stages (name, type, config) VALUES (%s, 'passwordstage', '{}') "
             "RETURNING stage_uuid::text", "pw-" + secrets.token_hex(4))[0][0]
    slug, _ = login_flow_make([("identificationstage", {"password_stage": pw}),
                               ("consentstage", {"mode": "always_require"})])
    fc = FlowClient(lighttpd, slug, ip=ip)
    fc.get()
    c = fc.post({"component": "ak-stage-identification", "uid_field": email,
                 "password": PASSWORD})
    assert c["component"] == "ak-stage-identification"
    assert c["response_errors"]["non_field_errors"][0]["string"] == "Failed to authenticate."
    assert login_failed(name) == []
    # Forgiven, the same answers log in.
    redis_cli("DEL", "custos:reputation:user:" + name)
    c = fc.post({"component": "ak-stage-identification", "uid_field": email,
                 "password": PASSWORD})
    assert c["component"] == "ak-stage-consent"
