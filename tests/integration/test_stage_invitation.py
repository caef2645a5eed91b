"""The invitation stage through the flow executor: ?itoken= (or prompt_data's token) lets a flow
go on with the invitation's fixed_data; wrong flow, expired, unknown or malformed tokens do not;
single-use invitations work once, even when many requests race for them."""
import json
import secrets
import threading
import uuid

import pytest
import requests

from conftest import (FlowClient, data_flow_uuid, data_prompt_fields, data_prompt_make,
                      login_flow_make, sql)


def invitation(flow=None, fixed_data=None, single_use=False, expires=None, expiring=True):
    return sql("INSERT INTO invitations (name, flow, fixed_data, single_use, expires, expiring) "
               "VALUES (%s, %s, %s::jsonb, %s, %s::timestamptz, %s) RETURNING invite_uuid::text",
               "inv-" + secrets.token_hex(5), flow, json.dumps(fixed_data or {}), single_use,
               expires, expiring)[0][0]


def invite_flow(base, config=None, query="", prompts=("email",)):
    """invitation -> prompt (the given keys, optional) -> dummy; returns (client, flow uuid)."""
    slug, stages = login_flow_make([("invitationstage", config or {}), ("promptstage", {}),
                                    ("dummystage", {})], designation="enrollment")
    data_prompt_fields(stages[1], [data_prompt_make(k, required=False, order=i)
                                   for i, k in enumerate(prompts)])
    return FlowClient(base, slug, query=query), data_flow_uuid(slug)


def test_invitation_fills_prompt_data(base):
    slug, stages = login_flow_make([("invitationstage", {}), ("promptstage", {}),
                                    ("dummystage", {})], designation="enrollment")
    data_prompt_fields(stages[1], [data_prompt_make("email", required=False)])
    inv = invitation(flow=data_flow_uuid(slug), fixed_data={"email": "invited@example.com",
                                                            "attributes": {"team": "red"}})
    fc = FlowClient(base, slug, query="itoken=" + inv)
    ch = fc.get()
    assert ch["component"] == "ak-stage-prompt", ch
    assert ch["fields"][0]["initial_value"] == "invited@example.com"
    ctx = fc.plan()["context"]
    assert ctx["invitation_in_effect"] is True and ctx["invitation"] == inv
    assert ctx["prompt_data"] == {"email": "invited@example.com", "attributes": {"team": "red"}}
    assert sql("SELECT context ->> 'invitation_uuid' FROM events WHERE action = 'invitation_used' "
               "AND context ->> 'invitation_uuid' = %s", inv.replace("-", ""))
    # Not single use: it stays, and works again.
    assert sql("SELECT 1 FROM invitations WHERE invite_uuid = %s", inv)
    assert FlowClient(base, slug, query="itoken=" + inv).get()["component"] == "ak-stage-prompt"


def test_without_invitation(base):
    fc, _ = invite_flow(base)
    ch = fc.get()
    assert ch["component"] == "ak-stage-access-denied"
    assert ch["error_message"] == "Invalid invite/invite not found"
    fc, _ = invite_flow(base, {"continue_flow_without_invitation": True})
    ch = fc.get()
    assert ch["component"] == "ak-stage-prompt"
    assert "invitation_in_effect" not in fc.plan()["context"]


@pytest.mark.parametrize("token", [
    str(uuid.uuid4()),
    "not-a-uuid",
    "x" * 1500,                           # long, yet within the executor's query limit
    "'; DROP TABLE invitations; --",
], ids=["unknown", "malformed", "long", "injection"])
def test_bad_tokens_are_refused(base, token):
    fc, _ = invite_flow(base)
    fc.query = "itoken=" + requests.utils.quote(token, safe="")
    ch = fc.get()
    assert ch["component"] == "ak-stage-access-denied"
    assert sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'invitations'")[0][0] == 1


def test_wrong_flow_and_expiry(base):
    fc, flow = invite_flow(base)
    _, other = invite_flow(base)
    for inv in (invitation(flow=other),
                invitation(flow=flow, expires="2000-01-01T00:00:00Z"),
                invitation(expires="2001-01-01T00:00:00Z")):
        fc2 = FlowClient(base, fc.slug, query="itoken=" + inv)
        assert fc2.get()["component"] == "ak-stage-access-denied", inv
    # A past date on a non-expiring invitation does not count; no flow means any flow.
    for inv in (invitation(flow=flow, expires="2000-01-01T00:00:00Z", expiring=False),
                invitation(), invitation(expires="2999-01-01T00:00:00Z")):
        fc2 = FlowClient(base, fc.slug, query="itoken=" + inv)
        assert fc2.get()["component"] == "ak-stage-prompt", inv


def test_single_use_is_deleted(base):
    fc, flow = invite_flow(base)
    inv = invitation(flow=flow, single_use=True)
    fc.query = "itoken=" + inv
    assert fc.get()["component"] == "ak-stage-prompt"
    assert not sql("SELECT 1 FROM invitations WHERE invite_uuid = %s", inv)
    again = FlowClient(base, fc.slug, query="itoken=" + inv)
    assert again.get()["component"] == "ak-stage-access-denied"


def test_single_use_under_concurrency(base):
    fc, flow = invite_flow(base)
    inv = invitation(flow=flow, single_use=True)
    n = 12
    clients = [FlowClient(base, fc.slug, query="itoken=" + inv) for _ in range(n)]
    results = [None] * n
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        results[i] = clients[i].get()["component"]

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ak-stage-prompt") == 1, results
    assert results.count("ak-stage-access-denied") == n - 1, results
    assert sql("SELECT count(*) FROM events WHERE action = 'invitation_used' "
               "AND context ->> 'invitation_uuid' = %s", inv.replace("-", ""))[0][0] == 1


def test_token_from_prompt_data(base):
    slug, stages = login_flow_make([("promptstage", {}), ("invitationstage", {}),
                                    ("dummystage", {})], designation="enrollment")
    data_prompt_fields(stages[0], [data_prompt_make("token")])
    inv = invitation(fixed_data={"name": "Fixed"})
    fc = FlowClient(base, slug)
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "token": inv})
    assert ch["component"] == "ak-stage-dummy", ch
    assert fc.plan()["context"]["prompt_data"] == {"token": inv, "name": "Fixed"}
