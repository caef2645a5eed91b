"""The prompt stage through the flow executor: the challenge's fields, the checks of each type
with DRF's messages, forced fields, matching passwords, validation policies, initial values,
and what lands in the plan's prompt_data."""
import json

import pytest

from conftest import (FlowClient, create_user, data_password_policy, data_prompt_fields,
                      data_prompt_make, login_flow_make, sql)


def prompt_flow(base, prompts, policies=(), after=(("dummystage", {}),), authentication="none"):
    """A flow: one prompt stage with prompts [(field_key, kwargs)], then the stages in after.
    Returns (client, stage uuid, {field_key: prompt uuid})."""
    slug, stages = login_flow_make([("promptstage", {})] + list(after),
                                   designation="enrollment", authentication=authentication)
    ids = {}
    for key, kw in prompts:
        ids[key] = data_prompt_make(key, **kw)
    data_prompt_fields(stages[0], list(ids.values()), policies)
    return FlowClient(base, slug), stages[0], ids


def errors(ch):
    return {k: [(e["string"], e["code"]) for e in v] for k, v in ch.get("response_errors", {}).items()}


def prompt_data(fc):
    return fc.plan()["context"].get("prompt_data", {})


def test_challenge_lists_fields_in_order(base):
    fc, _, _ = prompt_flow(base, [
        ("email", dict(type="email", order=2, placeholder="you@example.com", sub_text="work")),
        ("username", dict(type="username", order=1, label="User name")),
        ("colour", dict(type="dropdown", order=3, placeholder="blue", required=False)),
    ])
    ch = fc.get()
    assert ch["component"] == "ak-stage-prompt"
    assert "flow_info" in ch
    fields = ch["fields"]
    assert [f["field_key"] for f in fields] == ["username", "email", "colour"]
    u, e, c = fields
    assert u == {"field_key": "username", "label": "User name", "type": "username",
                 "required": True, "placeholder": "", "initial_value": "", "order": 1,
                 "sub_text": "", "choices": None}
    assert e["placeholder"] == "you@example.com" and e["sub_text"] == "work"
    # A choice field's placeholder is its one choice (authentik without expressions).
    assert c["choices"] == [{"label": "blue", "value": "blue"}]
    assert c["placeholder"] == "" and c["initial_value"] == "blue" and c["required"] is False


def test_required_fields_and_blank(base):
    fc, _, _ = prompt_flow(base, [("name", {}), ("nick", dict(required=False))])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt"})
    assert ch["component"] == "ak-stage-prompt"
    assert errors(ch) == {"name": [("This field is required.", "required")]}
    ch = fc.post({"component": "ak-stage-prompt", "name": ""})
    assert errors(ch) == {"name": [("This field may not be blank.", "blank")]}
    ch = fc.post({"component": "ak-stage-prompt", "name": None})
    assert errors(ch) == {"name": [("This field may not be null.", "null")]}
    ch = fc.post({"component": "ak-stage-prompt", "name": {"x": 1}})
    assert errors(ch) == {"name": [("Not a valid string.", "invalid")]}
    # Still on the prompt: nothing was stored.
    assert "prompt_data" not in fc.plan()["context"]
    ch = fc.post({"component": "ak-stage-prompt", "name": "Ann", "nick": ""})
    assert ch["component"] == "ak-stage-dummy"
    assert prompt_data(fc) == {"name": "Ann", "nick": ""}


def test_types_are_checked(base):
    fc, _, _ = prompt_flow(base, [
        ("mail", dict(type="email")),
        ("age", dict(type="number")),
        ("born", dict(type="date")),
        ("when", dict(type="date-time")),
        ("agree", dict(type="checkbox")),
        ("size", dict(type="radio-button-group", placeholder="L")),
    ])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "mail": "nope", "age": "12a", "born": "2023-02-29",
                  "when": "tomorrow", "agree": "perhaps", "size": "XL"})
    assert errors(ch) == {
        "mail": [("Enter a valid email address.", "invalid")],
        "age": [("A valid integer is required.", "invalid")],
        "born": [("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.", "invalid")],
        "when": [("Datetime has wrong format. Use one of these formats instead: "
                  "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].", "invalid")],
        "agree": [("Must be a valid boolean.", "invalid")],
        "size": [('"XL" is not a valid choice.', "invalid_choice")],
    }
    ch = fc.post({"component": "ak-stage-prompt", "mail": " a@example.com ", "age": "42",
                  "born": "2024-02-29", "when": "2024-02-29T10:11:12Z", "agree": "on", "size": "L"})
    assert ch["component"] == "ak-stage-dummy", ch
    assert prompt_data(fc) == {"mail": "a@example.com", "age": 42, "born": "2024-02-29",
                               "when": "2024-02-29T10:11:12Z", "agree": True, "size": "L"}


def test_forced_fields_keep_their_value(base):
    fc, _, _ = prompt_flow(base, [
        ("plan", dict(type="hidden", placeholder="gold")),
        ("banner", dict(type="static", placeholder="<b>Welcome</b>")),
        ("ro", dict(type="text_read_only", initial_value="fixed")),
        ("name", {}),
    ])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "name": "Bo", "plan": "platinum",
                  "banner": "tampered", "ro": "changed"})
    assert ch["component"] == "ak-stage-dummy"
    assert prompt_data(fc) == {"name": "Bo", "plan": "gold", "banner": "<b>Welcome</b>",
                               "ro": "fixed"}


def test_passwords_must_match(base):
    fc, _, _ = prompt_flow(base, [("password", dict(type="password", order=0)),
                                  ("password_repeat", dict(type="password", order=1))])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "password": "abc12345", "password_repeat": "abc1234"})
    assert errors(ch) == {"non_field_errors": [("Passwords don't match.", "invalid")]}
    ch = fc.post({"component": "ak-stage-prompt", "password": "abc12345", "password_repeat": "abc12345"})
    assert ch["component"] == "ak-stage-dummy"


def test_validation_policy_message(base):
    pol = data_password_policy(10, "At least ten characters, please.")
    fc, _, _ = prompt_flow(base, [("password", dict(type="password"))], policies=[pol])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "password": "short"})
    assert errors(ch) == {"non_field_errors": [("At least ten characters, please.", "invalid")]}
    assert "prompt_data" not in fc.plan()["context"]
    ch = fc.post({"component": "ak-stage-prompt", "password": "long enough now"})
    assert ch["component"] == "ak-stage-dummy"


def test_username_taken(base):
    uid, _ = create_user()
    taken = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    fc, _, _ = prompt_flow(base, [("username", dict(type="username"))])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "username": taken})
    assert errors(ch) == {"username": [("Username is already taken.", "invalid")]}
    ch = fc.post({"component": "ak-stage-prompt", "username": taken + "-new"})
    assert ch["component"] == "ak-stage-dummy"


def test_username_of_the_pending_user_is_not_taken(base):
    uid, _ = create_user()
    mine = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    fc, _, _ = prompt_flow(base, [("username", dict(type="username"))])
    fc.get()
    fc.set_context(pending_user=uid)
    ch = fc.post({"component": "ak-stage-prompt", "username": mine})
    assert ch["component"] == "ak-stage-dummy", ch


@pytest.mark.parametrize("kind,limit", [("text", 8192), ("username", 150), ("email", 254),
                                        ("password", 4096)])
def test_long_input_is_refused_cleanly(base, kind, limit):
    fc, _, _ = prompt_flow(base, [("f", dict(type=kind))])
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "f": "x" * 10000})
    assert errors(ch)["f"][0][1] in ("max_length", "invalid")
    if kind != "email":
        assert errors(ch) == {"f": [("Ensure this field has no more than %d characters." % limit,
                                     "max_length")]}


def test_initial_values_from_prompt_data_and_user(base):
    uid, _ = create_user(name="Ada Lovelace", email="ada@example.com")
    sql("UPDATE users SET attributes = %s::jsonb WHERE id = %s",
        json.dumps({"settings": {"locale": "de"}}), uid)
    fc, _, _ = prompt_flow(base, [
        ("name", dict(initial_value="return user.name", initial_value_expression=True, order=1)),
        ("email", dict(type="email", initial_value="user.email", initial_value_expression=True, order=2)),
        ("attributes.settings.locale", dict(type="ak-locale", initial_value="user.attributes.settings.locale",
                                            initial_value_expression=True, order=3)),
        ("nick", dict(initial_value="plain", order=4)),
        ("team", dict(initial_value="ignored", order=5)),
        ("odd", dict(initial_value="import os", initial_value_expression=True, required=False, order=6)),
    ])
    fc.get()
    fc.set_context(pending_user=uid, prompt_data={"team": "from-invitation"})
    ch = fc.get()
    init = {f["field_key"]: f["initial_value"] for f in ch["fields"]}
    assert init == {"name": "Ada Lovelace", "email": "ada@example.com",
                    "attributes.settings.locale": "de", "nick": "plain", "team": "from-invitation",
                    "odd": ""}
    # Fields left out take their initial value; earlier prompt_data stays.
    ch = fc.post({"component": "ak-stage-prompt"})
    assert ch["component"] == "ak-stage-dummy", ch
    assert prompt_data(fc) == {"name": "Ada Lovelace", "email": "ada@example.com",
                               "attributes.settings.locale": "de", "nick": "plain",
                               "team": "from-invitation"}


def test_choices_from_prompt_data(base):
    fc, _, _ = prompt_flow(base, [("tier", dict(type="dropdown", placeholder="ignored"))])
    fc.get()
    fc.set_context(prompt_data={"tier__choices": ["free", {"label": "Paid plan", "value": "paid"}]})
    ch = fc.get()
    (f,) = ch["fields"]
    assert f["choices"] == [{"label": "free", "value": "free"}, {"label": "Paid plan", "value": "paid"}]
    assert f["initial_value"] == "free"
    ch = fc.post({"component": "ak-stage-prompt", "tier": "ignored"})
    assert errors(ch) == {"tier": [('"ignored" is not a valid choice.', "invalid_choice")]}
    ch = fc.post({"component": "ak-stage-prompt", "tier": "paid"})
    assert ch["component"] == "ak-stage-dummy"
    assert prompt_data(fc)["tier"] == "paid"


def test_wrong_component_and_unknown_keys(base):
    fc, _, _ = prompt_flow(base, [("name", {})])
    fc.get()
    ch = fc.post({"component": "ak-stage-password", "name": "x"})
    assert ch["component"] == "ak-stage-prompt"
    assert "prompt_data" not in fc.plan()["context"]
    # Keys that are not fields are not stored.
    ch = fc.post({"component": "ak-stage-prompt", "name": "x", "is_superuser": True})
    assert ch["component"] == "ak-stage-dummy"
    assert prompt_data(fc) == {"name": "x"}


def test_merges_with_earlier_prompt(base):
    slug, stages = login_flow_make([("promptstage", {}), ("promptstage", {}), ("dummystage", {})],
                                   designation="enrollment")
    data_prompt_fields(stages[0], [data_prompt_make("first")])
    data_prompt_fields(stages[1], [data_prompt_make("second"), data_prompt_make("first", required=False)])
    fc = FlowClient(base, slug)
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "first": "one"})
    assert [f["field_key"] for f in ch["fields"]] == ["first", "second"] or \
        [f["field_key"] for f in ch["fields"]] == ["second", "first"]
    assert {f["field_key"]: f["initial_value"] for f in ch["fields"]}["first"] == "one"
    ch = fc.post({"component": "ak-stage-prompt", "second": "two"})
    assert ch["component"] == "ak-stage-dummy"
    assert prompt_data(fc) == {"first": "one", "second": "two"}
