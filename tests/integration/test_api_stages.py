"""/api/v3/stages/: every kind's CRUD, all/, prompts, invitations; /api/v3/core/user_consent/."""
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import events_for, sql

BASE_FIELDS = {"pk", "name", "component", "verbose_name", "verbose_name_plural",
               "meta_model_name", "flow_set"}

# path, model name, app label, component, verbose name, a minimal valid body, defaults
KINDS = [
    ("identification/", "identificationstage", "authentik_stages_identification",
     "ak-stage-identification-form", "Identification Stage", {"user_fields": ["username"]},
     {"user_fields": ["username"], "password_stage": None, "captcha_stage": None,
      "case_insensitive_matching": True, "show_matched_user": True, "enrollment_flow": None,
      "recovery_flow": None, "passwordless_flow": None, "sources": [],
      "show_source_labels": False, "pretend_user_exists": True, "enable_remember_me": False,
      "webauthn_stage": None}),
    ("password/", "passwordstage", "authentik_stages_password", "ak-stage-password-form",
     "Password Stage", {"backends": ["authentik.core.auth.InbuiltBackend"]},
     {"backends": ["authentik.core.auth.InbuiltBackend"], "configure_flow": None,
      "failed_attempts_before_cancel": 5, "allow_show_password": False}),
    ("user_login/", "userloginstage", "authentik_stages_user_login", "ak-stage-user-login-form",
     "User Login Stage", {},
     {"session_duration": "seconds=0", "terminate_other_sessions": False,
      "remember_me_offset": "seconds=0", "network_binding": "no_binding",
      "geoip_binding": "no_binding", "remember_device": "days=30"}),
    ("user_logout/", "userlogoutstage", "authentik_stages_user_logout",
     "ak-stage-user-logout-form", "User Logout Stage", {}, {}),
    ("deny/", "denystage", "authentik_stages_deny", "ak-stage-deny-form", "Deny Stage", {},
     {"deny_message": ""}),
    ("dummy/", "dummystage", "authentik_stages_dummy", "ak-stage-dummy-form", "Dummy Stage", {},
     {"throw_error": False}),
    ("redirect/", "redirectstage", "authentik_stages_redirect", "ak-stage-redirect-form",
     "Redirect Stage", {"mode": "static", "target_static": "https://example.com/"},
     {"keep_context": True, "mode": "static", "target_static": "https://example.com/",
      "target_flow": None}),
    ("consent/", "consentstage", "authentik_stages_consent", "ak-stage-consent-form",
     "Consent Stage", {}, {"mode": "expiring", "consent_expire_in": "weeks=4"}),
    ("user_write/", "userwritestage", "authentik_stages_user_write", "ak-stage-user-write-form",
     "User Write Stage", {},
     {"user_creation_mode": "create_when_required", "create_users_as_inactive": False,
      "create_users_group": None, "user_type": "external", "user_path_template": ""}),
    ("invitation/stages/", "invitationstage", "authentik_stages_invitation",
     "ak-stage-invitation-form", "Invitation Stage", {},
     {"continue_flow_without_invitation": False}),
    ("email/", "emailstage", "authentik_stages_email", "ak-stage-email-form", "Email Stage", {},
     {"use_global_settings": False, "host": "localhost", "port": 25, "username": "",
      "use_tls": False, "use_ssl": False, "timeout": 10,
      "from_address": "system@authentik.local", "token_expiry": "minutes=30",
      "subject": "authentik", "template": "email/password_reset.html",
      "activate_user_on_success": False, "recovery_max_attempts": 5,
      "recovery_cache_timeout": "minutes=5"}),
]


def name(prefix="stage"):
    return prefix + "-" + secrets.token_hex(5)


def make_stage(api, path, **fields):
    body = {"name": name()}
    body.update(fields)
    r = api.post("stages/" + path, body)
    assert r.status_code == 201, r.text
    return r.json()


def make_prompt(api, **fields):
    body = {"name": name("prompt"), "field_key": "username", "label": "Username",
            "type": "username"}
    body.update(fields)
    r = api.post("stages/prompt/prompts/", body)
    assert r.status_code == 201, r.text
    return r.json()


def make_flow(slug=None, designation="authentication"):
    slug = slug or name("flow")
    return str(sql("INSERT INTO flows (name, slug, title, designation) VALUES (%s, %s, %s, %s) "
                   "RETURNING flow_uuid", slug, slug, "Title " + slug, designation)[0][0]), slug


def bind(flow, stage, order=10):
    sql("INSERT INTO flow_stage_bindings (target, stage, \"order\") VALUES (%s, %s, %s)",
        flow, stage, order)


# ---- each kind ----

@pytest.mark.parametrize("kind", KINDS, ids=[k[1] for k in KINDS])
def test_kind_crud_with_defaults(admin, kind):
    path, model, app, component, verbose, body, defaults = kind
    n = name()
    r = admin.post("stages/" + path, dict(body, name=n))
    assert r.status_code == 201, r.text
    s = r.json()
    # authentik's order: the Stage fields, then the kind's in its serializer's order.
    assert list(s) == ["pk", "name", "component", "verbose_name", "verbose_name_plural",
                       "meta_model_name", "flow_set"] + list(defaults)
    assert s["name"] == n
    assert s["component"] == component
    assert s["verbose_name"] == verbose
    assert s["verbose_name_plural"] == verbose + "s"
    assert s["meta_model_name"] == app + "." + model
    assert s["flow_set"] == []
    for k, v in defaults.items():
        assert s[k] == v, k
    uuid.UUID(s["pk"])
    assert sql("SELECT type FROM stages WHERE stage_uuid = %s", s["pk"]) == [(model,)]

    assert admin.get("stages/%s%s/" % (path, s["pk"])).json() == s
    lst = admin.get("stages/" + path, params={"name": n}).json()
    assert lst["pagination"]["count"] == 1 and lst["results"] == [s]
    # Another kind's path does not serve it.
    other = "deny/" if path != "deny/" else "dummy/"
    assert admin.get("stages/%s%s/" % (other, s["pk"])).status_code == 404
    assert all(x["pk"] != s["pk"] for x in admin.get("stages/" + other,
                                                     params={"page_size": 100}).json()["results"])

    n2 = name()
    r = admin.patch("stages/%s%s/" % (path, s["pk"]), {"name": n2})
    assert r.status_code == 200, r.text
    assert r.json() == dict(s, name=n2)
    ev = events_for(model, s["pk"], "model_updated")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == app
    assert ev[0][0]["diff"]["name"] == {"previous": n, "new": n2}
    assert len(events_for(model, s["pk"], "model_created")) == 1

    r = admin.delete("stages/%s%s/" % (path, s["pk"]))
    assert r.status_code == 204
    assert admin.get("stages/%s%s/" % (path, s["pk"])).status_code == 404
    assert len(events_for(model, s["pk"], "model_deleted")) == 1


def test_prompt_stage_crud(admin):
    p1, p2 = make_prompt(admin), make_prompt(admin, field_key="email", type="email")
    s = make_stage(admin, "prompt/stages/", fields=[p1["pk"], p2["pk"]])
    assert set(s) == BASE_FIELDS | {"fields", "validation_policies"}
    assert sorted(s["fields"]) == sorted([p1["pk"], p2["pk"]])
    assert s["validation_policies"] == []
    assert s["component"] == "ak-stage-prompt-form"
    assert s["meta_model_name"] == "authentik_stages_prompt.promptstage"
    pol = admin.post("policies/event_matcher/", {"name": name("pol"), "action": "login"}).json()
    r = admin.patch("stages/prompt/stages/%s/" % s["pk"], {"fields": [p2["pk"]],
                                                          "validation_policies": [pol["pk"]]})
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == [p2["pk"]] and r.json()["validation_policies"] == [pol["pk"]]
    assert sql("SELECT prompt::text FROM prompt_stage_fields WHERE stage = %s",
               s["pk"]) == [(p2["pk"],)]
    # A PATCH without the lists leaves them.
    r = admin.patch("stages/prompt/stages/%s/" % s["pk"], {"name": name()})
    assert r.json()["fields"] == [p2["pk"]]
    # The prompt shows the stages that use it.
    got = admin.get("stages/prompt/prompts/%s/" % p2["pk"]).json()
    assert [x["pk"] for x in got["prompt_stages_obj"]] == [s["pk"]]
    assert got["prompt_stages_obj"][0]["fields"] == [p2["pk"]]
    lst = admin.get("stages/prompt/stages/", params={"fields": p2["pk"]}).json()
    assert [x["pk"] for x in lst["results"]] == [s["pk"]]


def test_prompt_stage_fields_required_and_checked(admin):
    r = admin.post("stages/prompt/stages/", {"name": name()})
    assert r.status_code == 400 and r.json() == {"fields": ["This field is required."]}
    r = admin.post("stages/prompt/stages/", {"name": name(), "fields": []})
    assert r.status_code == 400 and r.json() == {"fields": ["This list may not be empty."]}
    missing = str(uuid.uuid4())
    r = admin.post("stages/prompt/stages/", {"name": name(), "fields": [missing]})
    assert r.status_code == 400
    assert r.json() == {"fields": ['Invalid pk "%s" - object does not exist.' % missing]}
    r = admin.post("stages/prompt/stages/", {"name": name(), "fields": ["nope"]})
    assert r.status_code == 400
    assert r.json() == {"fields": ["\u201cnope\u201d is not a valid UUID."]}
    r = admin.post("stages/prompt/stages/", {"name": name(), "fields": "x"})
    assert r.json() == {"fields": ['Expected a list of items but got type "str".']}
    p = make_prompt(admin)
    r = admin.post("stages/prompt/stages/", {"name": name(), "fields": [p["pk"]],
                                             "validation_policies": [missing]})
    assert r.status_code == 400 and "validation_policies" in r.json()


# ---- validation ----

def test_name_required_unique_and_bounded(admin):
    r = admin.post("stages/deny/", {})
    assert r.status_code == 400 and r.json() == {"name": ["This field is required."]}
    r = admin.post("stages/deny/", {"name": ""})
    assert r.json() == {"name": ["This field may not be blank."]}
    r = admin.post("stages/deny/", {"name": None})
    assert r.json() == {"name": ["This field may not be null."]}
    r = admin.post("stages/deny/", {"name": "x" * 10000})
    assert r.status_code == 400 and "name" in r.json()
    s = make_stage(admin, "deny/")
    # Unique across kinds: one stages table, as authentik's Stage.name.
    r = admin.post("stages/dummy/", {"name": s["name"]})
    assert r.status_code == 400
    assert r.json() == {"name": ["stage with this name already exists."]}
    other = make_stage(admin, "deny/")
    r = admin.patch("stages/deny/%s/" % other["pk"], {"name": s["name"]})
    assert r.status_code == 400
    assert r.json() == {"name": ["stage with this name already exists."]}
    r = admin.post("stages/deny/", [1, 2])
    assert r.status_code == 400
    assert sql("SELECT count(*) FROM stages WHERE name = %s", s["name"]) == [(1,)]


def test_concurrent_creates_with_one_name(admin):
    n = name()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: admin.post("stages/dummy/", {"name": n}).status_code,
                              range(8)))
    assert codes.count(201) == 1 and codes.count(400) == 7, codes
    assert sql("SELECT count(*) FROM stages WHERE name = %s", n) == [(1,)]


def test_oversized_and_odd_values(admin):
    r = admin.post("stages/deny/", {"name": name(), "deny_message": "x" * 10000})
    assert r.status_code == 400
    assert r.json() == {"deny_message": ["Ensure this field has no more than 4096 characters."]}
    r = admin.post("stages/identification/", {"name": name(),
                                              "user_fields": ["email"] * 300})
    assert r.json() == {"user_fields": ["Ensure this field has no more than 256 elements."]}
    r = admin.post("stages/user_login/", {"name": name(), "session_duration": "weeks=1e300"})
    assert r.status_code == 400 and list(r.json()) == ["session_duration"]
    r = admin.post("stages/deny/", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post("stages/deny/", data="name=x",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    s = make_stage(admin, "deny/", deny_message="it's \"quoted\" \u00e9")
    assert admin.get("stages/deny/%s/" % s["pk"]).json()["deny_message"] == \
        "it's \"quoted\" \u00e9"


def test_choices_and_types(admin):
    r = admin.post("stages/consent/", {"name": name(), "mode": "sometimes"})
    assert r.status_code == 400
    assert r.json() == {"mode": ['"sometimes" is not a valid choice.']}
    r = admin.post("stages/identification/", {"name": name(),
                                              "user_fields": ["email", "phone", "upn", 7]})
    assert r.status_code == 400
    assert r.json() == {"user_fields": {"1": ['"phone" is not a valid choice.'],
                                        "3": ['"7" is not a valid choice.']}}
    r = admin.post("stages/user_login/", {"name": name(), "network_binding": "bind_all",
                                          "session_duration": "forever",
                                          "terminate_other_sessions": "yes"})
    assert r.status_code == 400
    assert r.json() == {
        "network_binding": ['"bind_all" is not a valid choice.'],
        "session_duration": ["forever is not in the correct format of 'hours=3;minutes=1'."],
        "terminate_other_sessions": ["Must be a valid boolean."]}
    r = admin.post("stages/password/", {"name": name(), "backends": ["x.Backend"],
                                        "failed_attempts_before_cancel": "5"})
    assert r.status_code == 400
    assert r.json() == {"backends": {"0": ['"x.Backend" is not a valid choice.']},
                        "failed_attempts_before_cancel": ["A valid integer is required."]}
    r = admin.post("stages/password/", {"name": name()})
    assert r.json() == {"backends": ["This field is required."]}
    r = admin.post("stages/email/", {"name": name(), "from_address": "not-an-address",
                                     "template": "email/../../etc/passwd",
                                     "recovery_max_attempts": -1, "port": 2 ** 40})
    assert r.status_code == 400
    assert r.json() == {"from_address": ["Enter a valid email address."],
                        "template": ['"email/../../etc/passwd" is not a valid choice.'],
                        "recovery_max_attempts": ["Ensure this value is within the allowed range."],
                        "port": ["Ensure this value is within the allowed range."]}
    r = admin.post("stages/user_write/", {"name": name(), "user_type": "root"})
    assert r.json() == {"user_type": ['"root" is not a valid choice.']}


def test_identification_needs_fields_or_sources(admin):
    r = admin.post("stages/identification/", {"name": name()})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [
        "When no user fields are selected, at least one source must be selected"]}
    s = make_stage(admin, "identification/", user_fields=["email"])
    r = admin.patch("stages/identification/%s/" % s["pk"], {"user_fields": []})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    assert admin.get("stages/identification/%s/" % s["pk"]).json()["user_fields"] == ["email"]


def test_redirect_rules(admin):
    r = admin.post("stages/redirect/", {"name": name()})
    assert r.status_code == 400 and r.json() == {"mode": ["This field is required."]}
    r = admin.post("stages/redirect/", {"name": name(), "mode": "static"})
    assert r.json() == {"non_field_errors": ["Target URL should be present when mode is Static."]}
    r = admin.post("stages/redirect/", {"name": name(), "mode": "flow"})
    assert r.json() == {"non_field_errors": ["Target Flow should be present when mode is Flow."]}
    missing = str(uuid.uuid4())
    r = admin.post("stages/redirect/", {"name": name(), "mode": "flow", "target_flow": missing})
    assert r.status_code == 400
    assert r.json() == {"target_flow": ['Invalid pk "%s" - object does not exist.' % missing]}
    flow, _ = make_flow()
    s = make_stage(admin, "redirect/", mode="flow", target_flow=flow.upper())
    assert s["target_flow"] == flow and s["keep_context"] is True


def test_references_checked(admin):
    missing = str(uuid.uuid4())
    deny = make_stage(admin, "deny/")
    r = admin.post("stages/identification/", {
        "name": name(), "user_fields": ["username"], "password_stage": deny["pk"],
        "enrollment_flow": missing, "recovery_flow": "not-a-uuid", "captcha_stage": 5,
        "sources": [missing]})
    assert r.status_code == 400
    # Type errors and missing objects come together, as DRF's field validation reports them.
    assert r.json() == {
        "password_stage": ['Invalid pk "%s" - object does not exist.' % deny["pk"]],
        "enrollment_flow": ['Invalid pk "%s" - object does not exist.' % missing],
        "recovery_flow": ["\u201cnot-a-uuid\u201d is not a valid UUID."],
        "captcha_stage": ["Incorrect type. Expected pk value, received int."],
        "sources": ['Invalid pk "%s" - object does not exist.' % missing]}
    pw = make_stage(admin, "password/", backends=["authentik.core.auth.InbuiltBackend"])
    flow, _ = make_flow(designation="enrollment")
    s = make_stage(admin, "identification/", user_fields=["username"], password_stage=pw["pk"],
                   enrollment_flow=flow)
    assert s["password_stage"] == pw["pk"] and s["enrollment_flow"] == flow
    r = admin.post("stages/user_write/", {"name": name(), "create_users_group": missing})
    assert r.status_code == 400
    assert r.json() == {"create_users_group": ['Invalid pk "%s" - object does not exist.'
                                               % missing]}
    grp = admin.post("core/groups/", {"name": name("grp")}).json()
    s = make_stage(admin, "user_write/", create_users_group=grp["pk"])
    assert s["create_users_group"] == grp["pk"]
    assert sql("SELECT count(*) FROM stages WHERE config ->> 'enrollment_flow' = %s",
               missing) == [(0,)]


def test_email_password_write_only(admin):
    s = make_stage(admin, "email/", password="hunter2-secret", username="mailer")
    assert "password" not in s
    assert sql("SELECT config ->> 'password' FROM stages WHERE stage_uuid = %s",
               s["pk"]) == [("hunter2-secret",)]
    r = admin.patch("stages/email/%s/" % s["pk"], {"port": 587})
    assert r.status_code == 200 and "password" not in r.json() and r.json()["port"] == 587
    assert sql("SELECT config ->> 'password' FROM stages WHERE stage_uuid = %s",
               s["pk"]) == [("hunter2-secret",)]
    assert "password" not in admin.get("stages/all/%s/" % s["pk"]).json()
    lst = admin.get("stages/email/", params={"name": s["name"]}).json()["results"]
    assert lst and "password" not in lst[0]
    for action in ("model_created", "model_updated"):
        for ev in events_for("emailstage", s["pk"], action):
            assert "hunter2" not in str(ev[0])


def test_email_templates(admin):
    r = admin.get("stages/email/templates/")
    assert r.status_code == 200
    names = [t["name"] for t in r.json()]
    assert names[0] == "email/password_reset.html" and "email/invitation.html" in names
    assert r.json()[0]["description"] == "Password Reset"
    # Every template listed is one a stage accepts.
    for n in names:
        make_stage(admin, "email/", template=n)


def test_put_requires_and_patch_keeps(admin):
    s = make_stage(admin, "consent/", mode="permanent")
    r = admin.put("stages/consent/%s/" % s["pk"], {"mode": "always_require"})
    assert r.status_code == 400 and r.json() == {"name": ["This field is required."]}
    r = admin.patch("stages/consent/%s/" % s["pk"], {"consent_expire_in": "days=2"})
    assert r.status_code == 200
    assert r.json()["mode"] == "permanent" and r.json()["consent_expire_in"] == "days=2"
    r = admin.put("stages/consent/%s/" % s["pk"], {"name": s["name"], "mode": "expiring"})
    assert r.status_code == 200 and r.json()["mode"] == "expiring"
    assert r.json()["consent_expire_in"] == "days=2"
    assert admin.patch("stages/consent/%s/" % uuid.uuid4(), {}).status_code == 404
    assert admin.get("stages/consent/not-a-uuid/").status_code == 404


def test_partial_config_shows_defaults(admin):
    """A stage stored with only some fields (as the default flows are) shows the rest."""
    n = name()
    pk = sql("INSERT INTO stages (name, type, config) VALUES (%s, 'userloginstage', "
             "'{\"session_duration\": \"hours=1\", \"internal\": 1}') RETURNING stage_uuid",
             n)[0][0]
    s = admin.get("stages/user_login/%s/" % pk).json()
    assert s["session_duration"] == "hours=1" and s["remember_device"] == "days=30"
    assert "internal" not in s
    r = admin.patch("stages/user_login/%s/" % pk, {"terminate_other_sessions": True})
    assert r.status_code == 200 and r.json()["session_duration"] == "hours=1"
    # Keys the API does not serve are kept.
    assert sql("SELECT config -> 'internal' FROM stages WHERE stage_uuid = %s", pk) == [(1,)]
    lst = admin.get("stages/user_login/", params={"remember_device": "days=30",
                                                  "name": n}).json()
    assert [x["pk"] for x in lst["results"]] == [str(pk)]
    lst = admin.get("stages/user_login/", params={"terminate_other_sessions": "false",
                                                  "name": n}).json()
    assert lst["results"] == []


# ---- flow_set, all/ ----

def test_flow_set_and_serial(admin):
    s = make_stage(admin, "dummy/")
    flow, slug = make_flow()
    bind(flow, s["pk"])
    got = admin.get("stages/dummy/%s/" % s["pk"]).json()
    assert len(got["flow_set"]) == 1
    fs = got["flow_set"][0]
    assert fs["pk"] == flow and fs["slug"] == slug and fs["designation"] == "authentication"
    assert fs["policybindingmodel_ptr_id"] == flow
    assert fs["export_url"] == "/api/v3/flows/instances/%s/export/" % slug
    assert set(fs) == {"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation",
                       "background_url", "policy_engine_mode", "compatibility_mode",
                       "export_url", "layout", "denied_action"}
    assert admin.get("stages/all/%s/" % s["pk"]).json()["flow_set"] == got["flow_set"]
    serial = sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow)[0][0]
    assert admin.patch("stages/dummy/%s/" % s["pk"], {"throw_error": True}).status_code == 200
    assert sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow)[0][0] > serial
    bound = make_stage(admin, "invitation/stages/")
    free = make_stage(admin, "invitation/stages/")
    bind(flow, bound["pk"], order=20)
    pks = [x["pk"] for x in admin.get("stages/invitation/stages/",
                                      params={"no_flows": "true",
                                              "page_size": 100}).json()["results"]]
    assert free["pk"] in pks and bound["pk"] not in pks
    pks = [x["pk"] for x in admin.get("stages/invitation/stages/",
                                      params={"no_flows": "false",
                                              "page_size": 100}).json()["results"]]
    assert bound["pk"] in pks and free["pk"] not in pks


def test_prompt_edit_bumps_flow_serial(admin):
    p = make_prompt(admin)
    s = make_stage(admin, "prompt/stages/", fields=[p["pk"]])
    flow, _ = make_flow()
    bind(flow, s["pk"])
    serial = sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow)[0][0]
    assert admin.patch("stages/prompt/prompts/%s/" % p["pk"],
                       {"label": "Your name"}).status_code == 200
    assert sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow)[0][0] > serial


def test_all_list_get_types_delete(admin):
    s1 = make_stage(admin, "deny/", deny_message="no")
    s2 = make_stage(admin, "user_login/")
    got = admin.get("stages/all/%s/" % s1["pk"]).json()
    assert set(got) == BASE_FIELDS
    assert got["component"] == "ak-stage-deny-form"
    assert got["meta_model_name"] == "authentik_stages_deny.denystage"
    lst = admin.get("stages/all/", params={"search": s2["name"]}).json()
    assert [x["pk"] for x in lst["results"]] == [s2["pk"]]
    assert set(lst["results"][0]) == BASE_FIELDS
    types = admin.get("stages/all/types/").json()
    names = [t["name"] for t in types]
    assert names == sorted(names) and len(types) == 12
    ident = [t for t in types if t["model_name"] == "identificationstage"][0]
    assert ident["component"] == "ak-stage-identification-form"
    assert ident["description"] == "Identify the user for authentication."
    assert ident["requires_enterprise"] is False and ident["deprecated"] is False
    r = admin.delete("stages/all/%s/" % s1["pk"])
    assert r.status_code == 204
    assert admin.get("stages/deny/%s/" % s1["pk"]).status_code == 404
    assert len(events_for("denystage", s1["pk"], "model_deleted")) == 1
    assert admin.get("stages/all/%s/" % uuid.uuid4()).status_code == 404


# ---- permissions ----

def test_permissions(admin, as_user):
    api, _ = as_user()
    assert api.post("stages/deny/", {"name": name()}).status_code == 403
    s = make_stage(admin, "deny/")
    assert api.get("stages/deny/%s/" % s["pk"]).status_code == 403
    assert api.get("stages/deny/", params={"name": s["name"]}).json()["results"] == []
    assert api.delete("stages/all/%s/" % s["pk"]).status_code == 403

    # The kind's own permission, not another kind's.
    api, _ = as_user(perms=["authentik_stages_dummy.add_dummystage"])
    assert api.post("stages/deny/", {"name": name()}).status_code == 403
    assert api.post("stages/dummy/", {"name": name()}).status_code == 201

    api, _ = as_user(perms=["authentik_stages_deny.view_denystage"],
                     object_perms=[("authentik_stages_deny.change_denystage", s["pk"])])
    assert api.get("stages/deny/%s/" % s["pk"]).status_code == 200
    assert api.patch("stages/deny/%s/" % s["pk"], {"deny_message": "x"}).status_code == 200
    other = make_stage(admin, "deny/")
    assert api.patch("stages/deny/%s/" % other["pk"], {"deny_message": "x"}).status_code == 403
    assert api.delete("stages/deny/%s/" % s["pk"]).status_code == 403

    api, _ = as_user(object_perms=[("authentik_flows.view_stage", s["pk"])])
    lst = api.get("stages/all/", params={"page_size": 100}).json()["results"]
    assert [x["pk"] for x in lst] == [s["pk"]]
    api, _ = as_user(perms=["authentik_flows.delete_stage"])
    assert api.delete("stages/all/%s/" % s["pk"]).status_code == 204
    r = admin.get("stages/deny/")
    assert r.status_code == 200
    assert admin.s.get(admin.url("stages/deny/"), headers={"Authorization": ""}).status_code == 401


# ---- prompts ----

def test_prompts_crud(admin, as_user):
    r = admin.post("stages/prompt/prompts/", {})
    assert r.status_code == 400
    assert set(r.json()) == {"name", "field_key", "label", "type"}
    r = admin.post("stages/prompt/prompts/", {"name": name(), "field_key": "k", "label": "L",
                                              "type": "telepathy"})
    assert r.json() == {"type": ['"telepathy" is not a valid choice.']}
    p = make_prompt(admin, placeholder="who?", order=3)
    assert set(p) == {"pk", "name", "field_key", "label", "type", "required", "placeholder",
                      "initial_value", "order", "prompt_stages_obj", "sub_text",
                      "placeholder_expression", "initial_value_expression"}
    assert p["required"] is True and p["order"] == 3 and p["prompt_stages_obj"] == []
    assert p["initial_value"] == "" and p["placeholder_expression"] is False
    r = admin.post("stages/prompt/prompts/", {"name": p["name"], "field_key": "k",
                                              "label": "L", "type": "text"})
    assert r.json() == {"name": ["prompt with this name already exists."]}
    r = admin.patch("stages/prompt/prompts/%s/" % p["pk"], {"required": False, "type": "email"})
    assert r.status_code == 200 and r.json()["required"] is False and r.json()["type"] == "email"
    assert r.json()["placeholder"] == "who?"
    lst = admin.get("stages/prompt/prompts/", params={"name": p["name"]}).json()
    assert lst["results"] == [r.json()]
    api, _ = as_user()
    assert api.get("stages/prompt/prompts/%s/" % p["pk"]).status_code == 403
    assert api.delete("stages/prompt/prompts/%s/" % p["pk"]).status_code == 403
    assert admin.delete("stages/prompt/prompts/%s/" % p["pk"]).status_code == 204
    assert len(events_for("prompt", p["pk"], "model_deleted")) == 1
    assert admin.get("stages/prompt/prompts/%s/" % p["pk"]).status_code == 404


# ---- invitations ----

def test_invitations_crud(admin, as_user):
    flow, slug = make_flow(designation="enrollment")
    r = admin.post("stages/invitation/invitations/", {"name": "not a slug!"})
    assert r.status_code == 400 and list(r.json()) == ["name"]
    missing = str(uuid.uuid4())
    r = admin.post("stages/invitation/invitations/", {"name": name("inv"), "flow": missing})
    assert r.json() == {"flow": ['Invalid pk "%s" - object does not exist.' % missing]}
    r = admin.post("stages/invitation/invitations/", {"name": name("inv"), "expires": "soon",
                                                      "fixed_data": [1]})
    assert r.status_code == 400
    assert r.json() == {"expires": ["Datetime has wrong format. Use one of these formats instead: "
                                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."],
                        "fixed_data": ["Value must be a dictionary, and not have any duplicate "
                                       "keys."]}
    r = admin.post("stages/invitation/invitations/", {"name": name("inv"),
                                                      "expires": "2030-13-01T00:00:00Z"})
    assert r.status_code == 400 and list(r.json()) == ["expires"]
    n = name("inv")
    r = admin.post("stages/invitation/invitations/", {
        "name": n, "expires": "2030-01-02T03:04:05Z", "fixed_data": {"email": "a@b.c"},
        "single_use": True, "flow": flow, "created_by": 1})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert set(inv) == {"pk", "name", "expires", "fixed_data", "created_by", "single_use",
                        "flow", "flow_obj"}
    assert inv["expires"] == "2030-01-02T03:04:05.000000Z"
    assert inv["fixed_data"] == {"email": "a@b.c"} and inv["single_use"] is True
    assert inv["flow"] == flow and inv["flow_obj"]["slug"] == slug
    me = admin.get("core/users/me/").json()["user"]
    assert inv["created_by"]["pk"] == me["pk"]
    assert inv["created_by"]["username"] == me["username"]
    r = admin.patch("stages/invitation/invitations/%s/" % inv["pk"],
                    {"flow": None, "expires": None})
    assert r.status_code == 200
    assert r.json()["flow"] is None and r.json()["flow_obj"] is None
    assert r.json()["expires"] is None and r.json()["fixed_data"] == {"email": "a@b.c"}
    lst = admin.get("stages/invitation/invitations/", params={"search": n}).json()
    assert [x["pk"] for x in lst["results"]] == [inv["pk"]]
    lst = admin.get("stages/invitation/invitations/",
                    params={"created_by__username": me["username"]}).json()
    assert inv["pk"] in [x["pk"] for x in lst["results"]]
    r = admin.post("stages/invitation/invitations/", {"name": n})
    assert r.status_code == 400 and r.json() == {"name": ["invitation with this name already exists."]}

    api, uid = as_user(perms=["authentik_stages_invitation.add_invitation",
                              "authentik_stages_invitation.view_invitation"])
    r = api.post("stages/invitation/invitations/", {"name": name("inv")})
    assert r.status_code == 201 and r.json()["created_by"]["pk"] == uid
    assert api.delete("stages/invitation/invitations/%s/" % inv["pk"]).status_code == 403
    assert admin.delete("stages/invitation/invitations/%s/" % inv["pk"]).status_code == 204
    assert len(events_for("invitation", inv["pk"], "model_deleted")) == 1


# ---- user consents ----

def test_user_consents(admin, as_user):
    app = admin.post("core/applications/", {"name": "App", "slug": name("app")}).json()
    api1, uid1 = as_user()
    api2, uid2 = as_user()
    c1 = sql("INSERT INTO user_consents (user_id, application, permissions, expires) VALUES "
             "(%s, %s, 'openid', now() + interval '1 day') RETURNING id", uid1, app["pk"])[0][0]
    c2 = sql("INSERT INTO user_consents (user_id, application) VALUES (%s, %s) RETURNING id",
             uid2, app["pk"])[0][0]
    lst = api1.get("core/user_consent/").json()
    assert [x["pk"] for x in lst["results"]] == [c1]
    got = lst["results"][0]
    assert set(got) == {"pk", "expires", "expiring", "user", "application", "permissions"}
    assert got["user"]["pk"] == uid1 and got["application"]["slug"] == app["slug"]
    assert got["permissions"] == "openid" and got["expiring"] is True
    assert api1.get("core/user_consent/%s/" % c1).json() == got
    assert api1.get("core/user_consent/%s/" % c2).status_code == 404
    assert api1.delete("core/user_consent/%s/" % c2).status_code == 404
    assert api1.get("core/user_consent/abc/").status_code == 404
    ids = [x["pk"] for x in admin.get("core/user_consent/",
                                      params={"application": app["pk"]}).json()["results"]]
    assert sorted(ids) == sorted([c1, c2])
    assert [x["pk"] for x in admin.get("core/user_consent/",
                                       params={"user": uid2}).json()["results"]] == [c2]
    viewer, _ = as_user(perms=["authentik_stages_consent.view_userconsent"])
    assert viewer.get("core/user_consent/%s/" % c2).status_code == 200
    assert viewer.delete("core/user_consent/%s/" % c2).status_code == 403
    assert api1.delete("core/user_consent/%s/" % c1).status_code == 204
    assert sql("SELECT count(*) FROM user_consents WHERE id = %s", c1) == [(0,)]
    assert len(events_for("userconsent", c1, "model_deleted")) == 1
    assert admin.delete("core/user_consent/%s/" % c2).status_code == 204
