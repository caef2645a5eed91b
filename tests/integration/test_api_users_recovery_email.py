"""POST /api/v3/core/users/{id}/recovery_email/: an admin mails a user a recovery link.

The mail goes out through the worker with the chosen email stage's subject and template; the
link starts the brand's recovery flow for that user past the stages that find the user and
prove the address. Every refusal (permissions, no address, no such stage, no recovery flow, a
flow that does not apply) writes nothing: no flow token, no mail task."""
import datetime
import re
import secrets
import urllib.parse

import argon2
import pytest

from conftest import (FlowClient, create_user, data_prompt_fields, data_prompt_make,
                      login_flow_make, login_stage_make, sql)
from test_mail import parse, smtp  # noqa: F401 (fixture)
from test_worker_mail import own_worker  # noqa: F401 (fixture)
from test_stage_email import wait_mails

U = "core/users/"
SEND_MAIL = "authentik.stages.email.tasks.send_mail"
NEW_PASSWORD = "an entirely new passphrase"
NO_STAGE = {"non_field_errors": ["Email stage not found."]}


def recovery_flow(authentication="none"):
    """identification -> email -> prompt (password twice) -> user_write -> login, the shape of
    authentik's default recovery flow."""
    slug, stages = login_flow_make([
        ("identificationstage", {"user_fields": ["username"]}),
        ("emailstage", {}),
        ("promptstage", {}),
        ("userwritestage", {"user_creation_mode": "never_create"}),
        ("userloginstage", {}),
    ], designation="recovery", authentication=authentication)
    data_prompt_fields(stages[2], [data_prompt_make("password", type="password", order=0),
                                   data_prompt_make("password_repeat", type="password", order=1)])
    return slug


def flow_uuid(slug):
    return sql("SELECT flow_uuid::text FROM flows WHERE slug = %s", slug)[0][0]


@pytest.fixture(scope="module")
def brand():
    """The brand of the host the tests reach the stack by (127.0.0.1), with a recovery flow of
    its own; yields (brand uuid, recovery flow slug)."""
    slug = recovery_flow()
    (pk,), = sql("INSERT INTO brands (domain, flow_recovery) VALUES ('127.0.0.1', %s) "
                 "RETURNING brand_uuid::text", flow_uuid(slug))
    yield pk, slug
    sql("DELETE FROM brands WHERE brand_uuid = %s", pk)


@pytest.fixture
def email_stage():
    """An email stage bound to no flow, as an admin keeps one for these mails."""
    return login_stage_make("emailstage", {"subject": "Your recovery link",
                                           "template": "email/password_reset.html"})


def written(uid, email):
    """(flow tokens of the user, mail tasks to the address)."""
    return (sql("SELECT count(*) FROM flow_tokens WHERE user_id = %s", uid)[0][0],
            sql("SELECT count(*) FROM tasks WHERE actor_name = %s AND args ->> 'to' = %s",
                SEND_MAIL, email)[0][0])


ADDRESSES = []


@pytest.fixture(autouse=True)
def drop_queued_mail():
    """Mail a test queued and no SMTP server of its own took stays out of later tests' servers."""
    yield
    sql("DELETE FROM tasks WHERE actor_name = %s AND args ->> 'to' = ANY(%s)", SEND_MAIL, ADDRESSES)
    del ADDRESSES[:]


def mk_user(**fields):
    email = fields.pop("email", "rcpt-%s@example.com" % secrets.token_hex(4))
    uid, _ = create_user(email=email, **fields)
    ADDRESSES.append(email)
    return uid, email


def test_mail_arrives_and_link_starts_recovery(admin, brand, email_stage, lighttpd, smtp,  # noqa: F811
                                               own_worker):  # noqa: F811
    _, slug = brand
    handler, port = smtp()
    own_worker(port)
    uid, email = mk_user(name="Mia Mailed")
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage})
    assert r.status_code == 204, r.text
    assert r.text == ""
    assert written(uid, email) == (1, 1)

    (env,) = wait_mails(handler, 1)
    msg = parse(env)
    assert msg["To"].addresses[0].addr_spec == email
    assert msg["To"].addresses[0].display_name == "Mia Mailed"
    assert msg["Subject"] == "Your recovery link"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Mia Mailed" in text
    (url,) = re.findall(r"http://\S+flow_token=\S+", text)
    assert url.startswith("%s/if/flow/%s/?flow_token=" % (lighttpd, slug)), url
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert url in html
    # Valid for authentik's default 30 minutes.
    (left,), = sql("SELECT extract(epoch FROM expires - now()) FROM flow_tokens WHERE user_id = %s", uid)
    assert 29 * 60 < left <= 30 * 60

    # The link, in a browser that never saw the flow: the user is known and the address proven,
    # so the flow starts at the new password.
    query = urllib.parse.urlparse(url).query
    fc = FlowClient(lighttpd, slug, query=query)
    ch = fc.get()
    assert ch["component"] == "ak-stage-prompt", ch
    assert fc.plan()["context"]["pending_user"] == uid
    ch = fc.post({"component": "ak-stage-prompt", "password": NEW_PASSWORD,
                  "password_repeat": NEW_PASSWORD})
    assert ch["component"] == "xak-flow-redirect", ch
    pw = sql("SELECT password FROM users WHERE id = %s", uid)[0][0]
    assert argon2.PasswordHasher().verify(pw[len("argon2"):], NEW_PASSWORD)
    assert fc.me() == username

    # Once only: the same link again starts the flow from its beginning.
    again = FlowClient(lighttpd, slug, query=query)
    assert again.get()["component"] == "ak-stage-identification"


def test_token_duration(admin, brand, email_stage):
    uid, email = mk_user()
    r = admin.post(U + "%d/recovery_email/" % uid,
                   json={"email_stage": email_stage, "token_duration": "hours=2;minutes=30"})
    assert r.status_code == 204, r.text
    (left,), = sql("SELECT extract(epoch FROM expires - now()) FROM flow_tokens WHERE user_id = %s", uid)
    assert 149 * 60 < left <= 150 * 60
    (args,), = sql("SELECT args FROM tasks WHERE actor_name = %s AND args ->> 'to' = %s", SEND_MAIL, email)
    assert args["template"] == "email/password_reset.html" and args["subject"] == "Your recovery link"
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=150)
    assert args["vars"]["expires"] in (until.strftime("%Y-%m-%d %H:%M UTC"),
                                       (until - datetime.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M UTC"))
    r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage, "token_duration": "soon"})
    assert r.status_code == 400
    assert r.json() == {"token_duration": ["soon is not in the correct format of 'hours=3;minutes=1'."]}
    r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage, "token_duration": "weeks=1000000"})
    assert r.status_code == 400
    assert r.json() == {"token_duration": ["Ensure the link expires before the year 10000."]}
    assert written(uid, email) == (1, 1)


def test_permissions(as_user, brand, email_stage):
    uid, email = mk_user()
    other, _ = mk_user()
    path = U + "%d/recovery_email/" % uid
    body = {"email_stage": email_stage}
    # Without reset_user_password on this user: refused before anything else.
    api, _ = as_user()
    assert api.post(path, json=body).status_code == 403
    api, _ = as_user(object_perms=[("authentik_core.reset_user_password", other),
                                   ("authentik_stages_email.view_emailstage", email_stage)])
    r = api.post(path, json=body)
    assert r.status_code == 403
    assert r.json() == {"detail": "You do not have permission to perform this action."}
    # Allowed for the user, but the stage is not theirs to see: as if it did not exist.
    api, _ = as_user(object_perms=[("authentik_core.reset_user_password", uid)])
    r = api.post(path, json=body)
    assert r.status_code == 400 and r.json() == NO_STAGE
    assert written(uid, email) == (0, 0)
    # Both on the objects themselves.
    api, _ = as_user(object_perms=[("authentik_core.reset_user_password", uid),
                                   ("authentik_stages_email.view_emailstage", email_stage)])
    assert api.post(path, json=body).status_code == 204
    assert written(uid, email) == (1, 1)
    # Unauthenticated.
    api, _ = as_user()
    api.s.headers.pop("Authorization")
    assert api.post(path, json=body).status_code == 401


def test_refusals_write_nothing(admin, brand, email_stage):
    uid, email = mk_user()
    path = U + "%d/recovery_email/" % uid

    def refused(body, want, status=400):
        r = admin.post(path, json=body)
        assert (r.status_code, r.json()) == (status, want), r.text
        assert written(uid, email) == (0, 0)

    refused({}, {"email_stage": ["This field is required."]})
    refused({"email_stage": "nope"}, {"email_stage": ["Must be a valid UUID."]})
    refused({"email_stage": 5}, {"email_stage": ["Must be a valid UUID."]})
    refused({"email_stage": email_stage, "token_duration": 3}, {"token_duration": ["Not a valid string."]})
    # No such stage, and a stage of another kind.
    refused({"email_stage": "00000000-0000-4000-8000-000000000000"}, NO_STAGE)
    ident = login_stage_make("identificationstage", {"user_fields": ["username"]})
    refused({"email_stage": ident}, NO_STAGE)
    r = admin.post(U + "999999999/recovery_email/", json={"email_stage": email_stage})
    assert r.status_code == 404


def test_user_without_address(admin, brand, email_stage):
    uid, _ = mk_user(email="")
    r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["User does not have an email address set."]}
    assert sql("SELECT count(*) FROM flow_tokens WHERE user_id = %s", uid)[0][0] == 0
    # Checked before the stage, as authentik does.
    r = admin.post(U + "%d/recovery_email/" % uid,
                   json={"email_stage": "00000000-0000-4000-8000-000000000000"})
    assert r.json() == {"non_field_errors": ["User does not have an email address set."]}


def test_brand_without_recovery_flow(admin, brand, email_stage):
    pk, slug = brand
    uid, email = mk_user()
    sql("UPDATE brands SET flow_recovery = NULL WHERE brand_uuid = %s", pk)
    try:
        r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage})
    finally:
        sql("UPDATE brands SET flow_recovery = %s WHERE brand_uuid = %s", flow_uuid(slug), pk)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["No recovery flow set."]}
    assert written(uid, email) == (0, 0)


def test_flow_not_applicable(admin, brand, email_stage):
    pk, slug = brand
    uid, email = mk_user()
    # A flow only a signed-in browser may run cannot be started from a mailed link.
    closed = recovery_flow(authentication="require_authenticated")
    sql("UPDATE brands SET flow_recovery = %s WHERE brand_uuid = %s", flow_uuid(closed), pk)
    try:
        r = admin.post(U + "%d/recovery_email/" % uid, json={"email_stage": email_stage})
    finally:
        sql("UPDATE brands SET flow_recovery = %s WHERE brand_uuid = %s", flow_uuid(slug), pk)
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Recovery flow not applicable to user"]}
    assert written(uid, email) == (0, 0)


def test_schema_lists_it(admin):
    doc = admin.get("schema/", params={"format": "json"}).json()
    op = doc["paths"]["/core/users/{id}/recovery_email/"]["post"]
    assert op["operationId"] == "core_users_recovery_email_create"
