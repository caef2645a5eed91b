"""/api/v3/flows/instances/ (flows by slug) and /api/v3/flows/bindings/ (flow stage bindings)."""
import secrets
import uuid

from conftest import Api, events_for, sql


def slug(prefix="flow"):
    return prefix + "-" + secrets.token_hex(5)


def make_flow(admin, **fields):
    body = {"name": "Flow " + secrets.token_hex(3), "slug": slug(), "title": "T",
            "designation": "authentication"}
    body.update(fields)
    r = admin.post("flows/instances/", body)
    assert r.status_code == 201, r.text
    return r.json()


def make_stage(type_="dummystage", config="{}"):
    name = "st-" + secrets.token_hex(5)
    return sql("INSERT INTO stages (name, type, config) VALUES (%s, %s, %s) "
               "RETURNING stage_uuid::text", name, type_, config)[0][0], name


def serial(flow_pk):
    return sql("SELECT serial FROM flows WHERE flow_uuid = %s", flow_pk)[0][0]


FLOW_FIELDS = {"pk", "policybindingmodel_ptr_id", "name", "slug", "title", "designation",
               "background", "background_url", "background_themed_urls", "stages", "policies",
               "cache_count", "policy_engine_mode", "compatibility_mode", "export_url", "layout",
               "denied_action", "authentication"}
BINDING_FIELDS = {"pk", "policybindingmodel_ptr_id", "target", "stage", "stage_obj",
                  "evaluate_on_plan", "re_evaluate_policies", "order", "policy_engine_mode",
                  "invalid_response_action"}


def test_create_defaults_and_get(admin):
    s = slug()
    r = admin.post("flows/instances/", {"name": "Login", "slug": s, "title": "Welcome",
                                        "designation": "authentication"})
    assert r.status_code == 201, r.text
    f = r.json()
    assert set(f) == FLOW_FIELDS
    assert f["pk"] == f["policybindingmodel_ptr_id"]
    assert (f["name"], f["slug"], f["title"], f["designation"]) == ("Login", s, "Welcome",
                                                                    "authentication")
    assert f["authentication"] == "none" and f["denied_action"] == "message_continue"
    assert f["layout"] == "stacked" and f["policy_engine_mode"] == "any"
    assert f["compatibility_mode"] is False and f["background"] == ""
    assert f["background_url"] == "/static/dist/assets/images/flow_background.jpg"
    assert f["stages"] == [] and f["policies"] == [] and f["cache_count"] == 0
    assert f["export_url"] == "/api/v3/flows/instances/%s/export/" % s
    assert admin.get("flows/instances/%s/" % s).json() == f
    # A flow is a policy binding target like an application.
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", f["pk"]) == [(1,)]
    ev = events_for("flow", f["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["diff"]["slug"] == {"previous": None, "new": s}
    assert ev[0][0]["model"]["name"] == "Flow Login (%s)" % s
    assert ev[0][0]["model"]["app"] == "authentik_flows"


def test_all_fields_update_and_delete(admin):
    f = make_flow(admin, background="/media/bg.png", layout="sidebar_left",
                  denied_action="continue", authentication="require_superuser",
                  policy_engine_mode="all", compatibility_mode=True, designation="enrollment")
    assert f["background_url"] == "/media/bg.png" and f["layout"] == "sidebar_left"
    assert f["denied_action"] == "continue" and f["authentication"] == "require_superuser"
    assert f["policy_engine_mode"] == "all" and f["compatibility_mode"] is True
    before = serial(f["pk"])
    r = admin.patch("flows/instances/%s/" % f["slug"], {"title": "New title"})
    assert r.status_code == 200 and r.json()["title"] == "New title"
    assert r.json()["layout"] == "sidebar_left"
    assert serial(f["pk"]) > before
    ev = events_for("flow", f["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"title": {"previous": "T", "new": "New title"}}
    # PUT needs every required field; PATCH may rename the slug, and the old one is gone.
    r = admin.put("flows/instances/%s/" % f["slug"], {"title": "x"})
    assert r.status_code == 400
    assert set(r.json()) == {"name", "slug", "designation"}
    new = slug()
    r = admin.patch("flows/instances/%s/" % f["slug"], {"slug": new})
    assert r.status_code == 200 and r.json()["slug"] == new and r.json()["pk"] == f["pk"]
    assert admin.get("flows/instances/%s/" % f["slug"]).status_code == 404
    assert admin.delete("flows/instances/%s/" % new).status_code == 204
    assert admin.get("flows/instances/%s/" % new).status_code == 404
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", f["pk"]) == [(0,)]
    ev = events_for("flow", f["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["slug"]["previous"] == new


def test_validation(admin):
    r = admin.post("flows/instances/", {})
    assert r.status_code == 400
    assert r.json() == {k: ["This field is required."]
                        for k in ("name", "slug", "title", "designation")}
    base = {"name": "n", "slug": slug(), "title": "t", "designation": "authentication"}
    for field, value in (("slug", "bad slug"), ("slug", "a/b"), ("slug", ""), ("name", ""),
                         ("title", ""), ("designation", "login"), ("authentication", "root"),
                         ("layout", "upside_down"), ("denied_action", "explode"),
                         ("policy_engine_mode", "some"), ("compatibility_mode", "yes"),
                         ("name", 5), ("background", None), ("designation", None)):
        r = admin.post("flows/instances/", dict(base, **{field: value}))
        assert r.status_code == 400 and set(r.json()) == {field}, (field, value, r.text)
    assert sql("SELECT count(*) FROM flows WHERE slug = %s", base["slug"]) == [(0,)]
    f = make_flow(admin)
    r = admin.post("flows/instances/", dict(base, slug=f["slug"]))
    assert r.status_code == 400
    assert r.json() == {"slug": ["Flow with this slug already exists."]}
    g = make_flow(admin)
    r = admin.patch("flows/instances/%s/" % g["slug"], {"slug": f["slug"]})
    assert r.status_code == 400 and "slug" in r.json()
    # A 10,000-character name is stored and given back whole; a broken body is refused.
    long = "n" * 10000
    r = admin.patch("flows/instances/%s/" % g["slug"], {"name": long})
    assert r.status_code == 200 and r.json()["name"] == long
    r = admin.post("flows/instances/", data="{]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post("flows/instances/", data="[]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    # SQL in values is only ever data.
    evil = "x'); DROP TABLE flows; --"
    r = admin.patch("flows/instances/%s/" % g["slug"], {"title": evil})
    assert r.status_code == 200 and admin.get("flows/instances/%s/" % g["slug"]).json()["title"] == evil


def test_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    a = make_flow(admin, name="Zeta " + tag, slug="a-" + tag, title="one", designation="recovery")
    b = make_flow(admin, name="Alpha " + tag, slug="b-" + tag, title="two",
                  designation="enrollment", denied_action="message")
    r = admin.get("flows/instances/", params={"search": tag})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"pagination", "results", "autocomplete"}
    assert [x["slug"] for x in body["results"]] == [a["slug"], b["slug"]]
    r = admin.get("flows/instances/", params={"search": tag, "ordering": "name"})
    assert [x["slug"] for x in r.json()["results"]] == [b["slug"], a["slug"]]
    r = admin.get("flows/instances/", params={"search": tag, "ordering": "-slug"})
    assert [x["slug"] for x in r.json()["results"]] == [b["slug"], a["slug"]]
    r = admin.get("flows/instances/", params={"search": tag, "designation": "recovery"})
    assert [x["slug"] for x in r.json()["results"]] == [a["slug"]]
    r = admin.get("flows/instances/", params={"slug": b["slug"]})
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"]]
    r = admin.get("flows/instances/", params={"flow_uuid": a["pk"]})
    assert r.json()["pagination"]["count"] == 1
    r = admin.get("flows/instances/", params={"search": tag, "denied_action": "message"})
    assert [x["slug"] for x in r.json()["results"]] == [b["slug"]]
    r = admin.get("flows/instances/", params={"name": "Zeta " + tag})
    assert [x["slug"] for x in r.json()["results"]] == [a["slug"]]
    assert admin.get("flows/instances/", params={"flow_uuid": "zzz"}).status_code == 400
    r = admin.get("flows/instances/", params={"search": "x" * 300})
    assert r.status_code == 400 and "search" in r.json()
    # A query past the request line limit is refused whole, not truncated.
    assert admin.get("flows/instances/", params={"search": "x" * 10000}).status_code in (400, 413, 414)


def test_default_flows_listed(admin):
    r = admin.get("flows/instances/", params={"designation": "authentication", "page_size": 100})
    slugs = [x["slug"] for x in r.json()["results"]]
    assert "default-authentication-flow" in slugs
    f = admin.get("flows/instances/default-authentication-flow/").json()
    assert f["name"] == "Welcome to authentik!" and f["title"] == "Welcome to authentik!"
    assert len(f["stages"]) == 3


def test_permissions(admin, as_user):
    a = make_flow(admin)
    b = make_flow(admin)
    nobody, _ = as_user()
    assert nobody.get("flows/instances/%s/" % a["slug"]).status_code == 403
    assert nobody.post("flows/instances/", {"name": "n", "slug": slug(), "title": "t",
                                            "designation": "recovery"}).status_code == 403
    assert nobody.patch("flows/instances/%s/" % a["slug"], {"title": "x"}).status_code == 403
    assert nobody.delete("flows/instances/%s/" % a["slug"]).status_code == 403
    assert nobody.get("flows/instances/%s/execute/" % a["slug"]).status_code == 403
    assert nobody.get("flows/instances/").json()["results"] == []
    assert Api(admin.base[:-len("/api/v3")], None).get("flows/instances/").status_code == 401
    adder, _ = as_user(perms=["authentik_flows.add_flow"])
    assert adder.post("flows/instances/", {"name": "n", "slug": slug(), "title": "t",
                                           "designation": "recovery"}).status_code == 201
    obj, _ = as_user(object_perms=[("authentik_flows.view_flow", a["pk"]),
                                   ("authentik_flows.change_flow", a["pk"]),
                                   ("authentik_flows.delete_flow", a["pk"])])
    assert [x["pk"] for x in obj.get("flows/instances/").json()["results"]] == [a["pk"]]
    assert obj.get("flows/instances/%s/" % b["slug"]).status_code == 403
    assert obj.patch("flows/instances/%s/" % a["slug"], {"title": "o"}).status_code == 200
    assert obj.patch("flows/instances/%s/" % b["slug"], {"title": "o"}).status_code == 403
    assert admin.get("flows/instances/%s/" % b["slug"]).json()["title"] == "T"
    assert obj.delete("flows/instances/%s/" % b["slug"]).status_code == 403
    assert obj.delete("flows/instances/%s/" % a["slug"]).status_code == 204
    assert admin.get("flows/instances/nope-%s/" % secrets.token_hex(3)).status_code == 404


def test_execute_link(admin, lighttpd):
    f = make_flow(admin)
    r = admin.get("flows/instances/%s/execute/" % f["slug"])
    assert r.status_code == 200
    assert set(r.json()) == {"link"}
    assert r.json()["link"] == lighttpd + "/if/flow/%s/" % f["slug"]
    assert admin.get("flows/instances/nope-%s/execute/" % secrets.token_hex(3)).status_code == 404


def test_stages_and_policies_fields(admin):
    f = make_flow(admin)
    s1, _ = make_stage()
    s2, _ = make_stage()
    for order, st in ((20, s2), (10, s1)):
        r = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": order})
        assert r.status_code == 201, r.text
    pol = sql("INSERT INTO policies (name, type) VALUES (%s, 'dummypolicy') "
              "RETURNING policy_uuid::text", "p-" + secrets.token_hex(4))[0][0]
    sql("INSERT INTO policy_bindings (policy, target, \"order\") VALUES (%s, %s, 0)", pol, f["pk"])
    got = admin.get("flows/instances/%s/" % f["slug"]).json()
    assert got["stages"] == [s1, s2] and got["policies"] == [pol]
    # Deleting the flow takes its bindings with it, not the stages.
    assert admin.delete("flows/instances/%s/" % f["slug"]).status_code == 204
    assert sql("SELECT count(*) FROM flow_stage_bindings WHERE target = %s", f["pk"]) == [(0,)]
    assert sql("SELECT count(*) FROM stages WHERE stage_uuid IN (%s, %s)", s1, s2) == [(2,)]


# --- bindings ------------------------------------------------------------------------------

def test_binding_crud(admin):
    f = make_flow(admin)
    st, st_name = make_stage("passwordstage")
    before = serial(f["pk"])
    r = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 10})
    assert r.status_code == 201, r.text
    b = r.json()
    assert set(b) == BINDING_FIELDS
    assert b["pk"] == b["policybindingmodel_ptr_id"]
    assert (b["target"], b["stage"], b["order"]) == (f["pk"], st, 10)
    assert b["evaluate_on_plan"] is False and b["re_evaluate_policies"] is True
    assert b["policy_engine_mode"] == "any" and b["invalid_response_action"] == "retry"
    so = b["stage_obj"]
    assert so["pk"] == st and so["name"] == st_name and so["component"] == "ak-stage-password-form"
    assert so["verbose_name"] == "Password Stage" and so["verbose_name_plural"] == "Password Stages"
    assert so["meta_model_name"] == "authentik_stages_password.passwordstage"
    assert [x["slug"] for x in so["flow_set"]] == [f["slug"]]
    assert set(so["flow_set"][0]) == {"pk", "policybindingmodel_ptr_id", "name", "slug", "title",
                                      "designation", "background_url", "policy_engine_mode",
                                      "compatibility_mode", "export_url", "layout",
                                      "denied_action"}
    assert serial(f["pk"]) > before
    assert admin.get("flows/bindings/%s/" % b["pk"]).json() == b
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", b["pk"]) == [(1,)]
    ev = events_for("flowstagebinding", b["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["name"] == "Flow-stage binding #10 to %s" % f["pk"]
    r = admin.patch("flows/bindings/%s/" % b["pk"], {"order": 5, "evaluate_on_plan": True,
                                                     "re_evaluate_policies": False,
                                                     "policy_engine_mode": "all",
                                                     "invalid_response_action": "restart"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert (u["order"], u["evaluate_on_plan"], u["re_evaluate_policies"]) == (5, True, False)
    assert u["policy_engine_mode"] == "all" and u["invalid_response_action"] == "restart"
    ev = events_for("flowstagebinding", b["pk"], "model_updated")
    assert ev[-1][0]["diff"]["order"] == {"previous": 10, "new": 5}
    r = admin.put("flows/bindings/%s/" % b["pk"], {"order": 1})
    assert r.status_code == 400 and set(r.json()) == {"target", "stage"}
    assert admin.delete("flows/bindings/%s/" % b["pk"]).status_code == 204
    assert admin.get("flows/bindings/%s/" % b["pk"]).status_code == 404
    assert admin.get("flows/bindings/not-a-uuid/").status_code == 404
    assert len(events_for("flowstagebinding", b["pk"], "model_deleted")) == 1


def test_binding_validation(admin):
    f = make_flow(admin)
    st, _ = make_stage()
    r = admin.post("flows/bindings/", {})
    assert r.status_code == 400
    assert r.json() == {k: ["This field is required."] for k in ("target", "stage", "order")}
    missing = str(uuid.uuid4())
    r = admin.post("flows/bindings/", {"target": missing, "stage": st, "order": 0})
    assert r.json() == {"target": ['Invalid pk "%s" - object does not exist.' % missing]}
    r = admin.post("flows/bindings/", {"target": f["pk"], "stage": missing, "order": 0})
    assert r.json() == {"stage": ['Invalid pk "%s" - object does not exist.' % missing]}
    r = admin.post("flows/bindings/", {"target": 5, "stage": st, "order": 0})
    assert r.json() == {"target": ["Incorrect type. Expected pk value, received int."]}
    r = admin.post("flows/bindings/", {"target": "zzz", "stage": st, "order": 0})
    assert r.status_code == 400 and "target" in r.json()
    for field, value in (("order", "x"), ("order", 2 ** 31), ("order", 1.5),
                         ("invalid_response_action", "panic"), ("policy_engine_mode", "x"),
                         ("evaluate_on_plan", "maybe")):
        r = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 0,
                                           field: value})
        assert r.status_code == 400 and set(r.json()) == {field}, (field, value, r.text)
    r = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 0,
                                       "evaluate_on_plan": False, "re_evaluate_policies": False})
    assert r.json() == {"non_field_errors": [
        "Either evaluation on plan or evaluation on run must be enabled"]}
    assert sql("SELECT count(*) FROM flow_stage_bindings WHERE target = %s", f["pk"]) == [(0,)]
    b = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 0}).json()
    r = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 0})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [
        "The fields target, stage, order must make a unique set."]}
    # The same stage at another place of the flow is fine.
    assert admin.post("flows/bindings/", {"target": f["pk"], "stage": st,
                                          "order": 1}).status_code == 201
    r = admin.patch("flows/bindings/%s/" % b["pk"], {"order": 1})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    r = admin.patch("flows/bindings/%s/" % b["pk"], {"re_evaluate_policies": False})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    assert admin.get("flows/bindings/%s/" % b["pk"]).json()["re_evaluate_policies"] is True


def test_binding_list_filters(admin):
    f = make_flow(admin)
    g = make_flow(admin)
    s1, n1 = make_stage()
    s2, n2 = make_stage()
    b1 = admin.post("flows/bindings/", {"target": f["pk"], "stage": s1, "order": 20}).json()
    b2 = admin.post("flows/bindings/", {"target": f["pk"], "stage": s2, "order": 10,
                                        "evaluate_on_plan": True}).json()
    b3 = admin.post("flows/bindings/", {"target": g["pk"], "stage": s1, "order": 0}).json()
    r = admin.get("flows/bindings/", params={"target": f["pk"]})
    assert [x["pk"] for x in r.json()["results"]] == [b2["pk"], b1["pk"]]
    r = admin.get("flows/bindings/", params={"target": f["pk"], "ordering": "-order"})
    assert [x["pk"] for x in r.json()["results"]] == [b1["pk"], b2["pk"]]
    r = admin.get("flows/bindings/", params={"stage": s1, "ordering": "order"})
    assert [x["pk"] for x in r.json()["results"]] == [b3["pk"], b1["pk"]]
    r = admin.get("flows/bindings/", params={"target": f["pk"], "evaluate_on_plan": "true"})
    assert [x["pk"] for x in r.json()["results"]] == [b2["pk"]]
    r = admin.get("flows/bindings/", params={"search": n2})
    assert [x["pk"] for x in r.json()["results"]] == [b2["pk"]]
    r = admin.get("flows/bindings/", params={"fsb_uuid": b3["pk"]})
    assert [x["pk"] for x in r.json()["results"]] == [b3["pk"]]
    pol = sql("INSERT INTO policies (name, type) VALUES (%s, 'dummypolicy') "
              "RETURNING policy_uuid::text", "p-" + secrets.token_hex(4))[0][0]
    sql("INSERT INTO policy_bindings (policy, target, \"order\") VALUES (%s, %s, 0)", pol, b1["pk"])
    r = admin.get("flows/bindings/", params={"policies": pol})
    assert [x["pk"] for x in r.json()["results"]] == [b1["pk"]]
    assert admin.get("flows/bindings/", params={"target": "zzz"}).status_code == 400


def test_binding_permissions(admin, as_user):
    f = make_flow(admin)
    st, _ = make_stage()
    b = admin.post("flows/bindings/", {"target": f["pk"], "stage": st, "order": 0}).json()
    nobody, _ = as_user()
    assert nobody.get("flows/bindings/%s/" % b["pk"]).status_code == 403
    assert nobody.get("flows/bindings/").json()["results"] == []
    assert nobody.post("flows/bindings/", {"target": f["pk"], "stage": st,
                                           "order": 1}).status_code == 403
    assert nobody.patch("flows/bindings/%s/" % b["pk"], {"order": 3}).status_code == 403
    assert nobody.delete("flows/bindings/%s/" % b["pk"]).status_code == 403
    viewer, _ = as_user(perms=["authentik_flows.view_flowstagebinding"])
    assert viewer.get("flows/bindings/%s/" % b["pk"]).status_code == 200
    assert viewer.patch("flows/bindings/%s/" % b["pk"], {"order": 3}).status_code == 403
    editor, _ = as_user(object_perms=[("authentik_flows.change_flowstagebinding", b["pk"]),
                                      ("authentik_flows.delete_flowstagebinding", b["pk"])])
    assert editor.patch("flows/bindings/%s/" % b["pk"], {"order": 3}).json()["order"] == 3
    assert editor.delete("flows/bindings/%s/" % b["pk"]).status_code == 204
