"""/api/v3/events/rules/, transports/ and notifications/: CRUD, permissions, validation, audit
events, owner-only notifications and the transports' test/ action."""
import json
import secrets
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import create_user, events_for, sql

NIL = "00000000-0000-0000-0000-000000000000"


def name(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def make_transport(api, **fields):
    body = dict({"name": name("tr")}, **fields)
    r = api.post("events/transports/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def make_rule(api, **fields):
    body = dict({"name": name("rule")}, **fields)
    r = api.post("events/rules/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def make_group(members=()):
    (g,), = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text", name("grp"))
    for uid in members:
        sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g, uid)
    return g


def make_notification(uid, body="hello", seen=False):
    (n,), = sql("INSERT INTO notifications (severity, body, user_id, seen) VALUES ('notice', %s, %s, %s) "
                "RETURNING uuid::text", body, uid, seen)
    return n


# --- transports ---------------------------------------------------------------------------

def test_transport_create_defaults_and_shape(admin):
    t = make_transport(admin)
    assert set(t) == {"pk", "name", "mode", "mode_verbose", "webhook_url", "webhook_mapping_body",
                      "webhook_mapping_headers", "email_subject_prefix", "email_template", "send_once"}
    assert t["mode"] == "local" and t["mode_verbose"] == "authentik inbuilt notifications"
    assert t["webhook_url"] == "" and t["send_once"] is False
    assert t["email_subject_prefix"] == "authentik Notification: "
    assert t["email_template"] == "email/event_notification"
    assert t["webhook_mapping_body"] is None and t["webhook_mapping_headers"] is None
    assert admin.get("events/transports/%s/" % t["pk"]).json() == t
    ev = events_for("notificationtransport", t["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["app"] == "authentik_events"


@pytest.mark.parametrize("body,field,msg", [
    ({"mode": "webhook"}, "webhook_url", "Webhook URL may not be empty."),
    ({"mode": "webhook_slack", "webhook_url": ""}, "webhook_url", "Webhook URL may not be empty."),
    ({"mode": "webhook", "webhook_url": "ftp://example.com/x"}, "webhook_url", "Enter a valid URL."),
    ({"mode": "webhook", "webhook_url": "javascript:alert(1)"}, "webhook_url", "Enter a valid URL."),
    ({"mode": "webhook", "webhook_url": "http://exa mple.com/"}, "webhook_url", "Enter a valid URL."),
    ({"mode": "pigeon"}, "mode", None),
    ({"send_once": "yes please"}, "send_once", None),
    ({"email_template": ""}, "email_template", "This field may not be blank."),
    ({"webhook_mapping_body": NIL}, "webhook_mapping_body", None),
    ({"name": 5}, "name", None),
])
def test_transport_validation(admin, body, field, msg):
    body = dict({"name": name("bad")}, **body)
    r = admin.post("events/transports/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()
    if msg:
        assert r.json()[field] == [msg]
    assert sql("SELECT count(*) FROM notification_transports WHERE name = %s", str(body["name"]))[0][0] == 0


def test_transport_name_required_and_unique(admin):
    r = admin.post("events/transports/", json={})
    assert r.status_code == 400 and r.json()["name"] == ["This field is required."]
    t = make_transport(admin)
    r = admin.post("events/transports/", json={"name": t["name"]})
    assert r.status_code == 400
    assert r.json() == {"name": ["notification transport with this name already exists."]}


def test_transport_webhook_modes_accept_http_urls(admin):
    t = make_transport(admin, mode="webhook", webhook_url="http://receiver:8080/hook")
    assert t["mode_verbose"] == "Generic Webhook"
    t = make_transport(admin, mode="webhook_slack", webhook_url="https://hooks.example.com/x?y=1")
    assert t["mode_verbose"] == "Slack Webhook (Slack/Discord)"


def test_transport_update_patch_put_delete(admin):
    t = make_transport(admin)
    r = admin.patch("events/transports/%s/" % t["pk"], json={"mode": "email", "send_once": True,
                                                             "pk": NIL, "mode_verbose": "x"})
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "email" and r.json()["send_once"] is True and r.json()["pk"] == t["pk"]
    ev = events_for("notificationtransport", t["pk"], "model_updated")
    assert ev[-1][0]["diff"]["mode"] == {"previous": "local", "new": "email"}
    r = admin.put("events/transports/%s/" % t["pk"], json={"mode": "local"})
    assert r.status_code == 400 and "name" in r.json()
    weird = "x'; DROP TABLE notifications; -- ☃ \"q\""
    r = admin.put("events/transports/%s/" % t["pk"], json={"name": weird})
    assert r.status_code == 200 and r.json()["name"] == weird
    assert admin.delete("events/transports/%s/" % t["pk"]).status_code == 204
    assert admin.get("events/transports/%s/" % t["pk"]).status_code == 404
    assert len(events_for("notificationtransport", t["pk"], "model_deleted")) == 1


def test_transport_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    a = make_transport(admin, name="a-" + tag, mode="webhook", webhook_url="http://a.example/" + tag)
    b = make_transport(admin, name="b-" + tag, send_once=True)
    r = admin.get("events/transports/", params={"search": tag, "ordering": "-name"})
    assert r.status_code == 200
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"], a["pk"]]
    assert r.json()["pagination"]["count"] == 2
    r = admin.get("events/transports/", params={"search": tag, "mode": "webhook"})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]
    r = admin.get("events/transports/", params={"search": tag, "send_once": "true"})
    assert [x["pk"] for x in r.json()["results"]] == [b["pk"]]
    r = admin.get("events/transports/", params={"name": "a-" + tag})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]


def test_transport_permissions(admin, as_user):
    t = make_transport(admin)
    other = make_transport(admin)
    nobody, _ = as_user()
    assert nobody.get("events/transports/%s/" % t["pk"]).status_code == 403
    assert nobody.post("events/transports/", json={"name": name("x")}).status_code == 403
    assert nobody.patch("events/transports/%s/" % t["pk"], json={}).status_code == 403
    assert nobody.delete("events/transports/%s/" % t["pk"]).status_code == 403
    assert nobody.post("events/transports/%s/test/" % t["pk"]).status_code == 403
    assert nobody.get("events/transports/").json()["pagination"]["count"] == 0
    obj, _ = as_user(object_perms=[("authentik_events.view_notificationtransport", t["pk"]),
                                   ("authentik_events.change_notificationtransport", t["pk"])])
    assert obj.get("events/transports/%s/" % t["pk"]).status_code == 200
    assert obj.get("events/transports/%s/" % other["pk"]).status_code == 403
    assert [x["pk"] for x in obj.get("events/transports/").json()["results"]] == [t["pk"]]
    assert obj.patch("events/transports/%s/" % t["pk"], json={"send_once": True}).status_code == 200
    assert obj.patch("events/transports/%s/" % other["pk"], json={"send_once": True}).status_code == 403
    assert obj.delete("events/transports/%s/" % t["pk"]).status_code == 403
    adder, _ = as_user(perms=["authentik_events.add_notificationtransport"])
    assert adder.post("events/transports/", json={"name": name("x")}).status_code == 201
    deleter, _ = as_user(perms=["authentik_events.delete_notificationtransport"])
    assert deleter.delete("events/transports/%s/" % other["pk"]).status_code == 204
    assert admin.get("events/transports/%s/" % NIL).status_code == 404
    assert admin.get("events/transports/not-a-uuid/").status_code == 404
    assert Api_noauth(admin).get("events/transports/").status_code == 401


def Api_noauth(api):
    from conftest import Api
    return Api(api.base[: -len("/api/v3")], None)


# --- the test action ----------------------------------------------------------------------

class Receiver:
    """An HTTP server on loopback that records POSTs and answers with a set status."""

    def __init__(self, status=200):
        self.status = status
        self.posts = []
        receiver = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                receiver.posts.append((self.path, dict(self.headers), self.rfile.read(n)))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"answer %d" % receiver.status)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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


def test_transport_test_local_creates_notification(admin, as_user):
    t = make_transport(admin)
    api, uid = as_user(object_perms=[("authentik_events.change_notificationtransport", t["pk"])])
    r = api.post("events/transports/%s/test/" % t["pk"])
    assert r.status_code == 200, r.text
    assert r.json() == {"messages": []}
    rows = sql("SELECT n.body, n.severity, e.action, e.context ->> 'foo' FROM notifications n "
               "JOIN events e ON e.event_uuid = n.event WHERE n.user_id = %s", uid)
    assert rows == [("Test Notification from transport %s" % t["name"], "notice", "notification_test", "bar")]
    mine = api.get("events/notifications/").json()["results"]
    assert len(mine) == 1 and mine[0]["event"]["action"] == "notification_test"


def test_transport_test_webhook_posts(admin, receiver):
    rc = receiver()
    t = make_transport(admin, mode="webhook", webhook_url=rc.url)
    r = admin.post("events/transports/%s/test/" % t["pk"])
    assert r.status_code == 200, r.text
    assert r.json() == {"messages": ["200", "answer 200"]}
    assert len(rc.posts) == 1
    path, headers, body = rc.posts[0]
    body = json.loads(body)
    assert headers["Content-Type"] == "application/json"
    assert body["body"] == "Test Notification from transport %s" % t["name"]
    assert body["severity"] == "notice"
    assert set(body) >= {"user_email", "user_username", "event_user_email", "event_user_username"}


def test_transport_test_webhook_failure_is_500(admin, receiver):
    rc = receiver(404)
    t = make_transport(admin, mode="webhook_slack", webhook_url=rc.url)
    r = admin.post("events/transports/%s/test/" % t["pk"])
    assert r.status_code == 500
    assert r.json() == "answer 404"
    body = json.loads(rc.posts[0][2])
    assert body["username"] == "authentik" and body["attachments"][0]["title"] == "notification_test"
    fields = {f["title"]: f["value"] for f in body["attachments"][0]["fields"]}
    assert fields["Severity"] == "notice" and fields["foo"] == "bar"


def test_transport_test_email_writes_send_mail_task(admin, as_user):
    t = make_transport(admin, mode="email", email_subject_prefix="[custos] ")
    api, uid = as_user(object_perms=[("authentik_events.change_notificationtransport", t["pk"])],
                       email="tester-%s@example.com" % secrets.token_hex(3))
    r = api.post("events/transports/%s/test/" % t["pk"])
    assert r.status_code == 200 and r.json() == {"messages": []}
    (to,), = sql("SELECT email FROM users WHERE id = %s", uid)
    rows = sql("SELECT args FROM tasks WHERE actor_name = 'authentik.stages.email.tasks.send_mail' "
               "AND args ->> 'to' = %s", to)
    assert len(rows) == 1
    args = rows[0][0]
    assert args["subject"] == "[custos] notification_test"
    assert args["template"] == "email/event_notification"
    assert args["vars"]["body"] == "Test Notification from transport %s" % t["name"]


# --- rules --------------------------------------------------------------------------------

def test_rule_create_shape_and_pbm_registration(admin):
    t1, t2 = make_transport(admin), make_transport(admin)
    g = make_group()
    r = make_rule(admin, transports=[t1["pk"], t2["pk"]], severity="alert", destination_group=g,
                  destination_event_user=True)
    assert set(r) == {"pk", "name", "transports", "severity", "destination_group",
                      "destination_group_obj", "destination_event_user"}
    assert sorted(r["transports"]) == sorted([t1["pk"], t2["pk"]])
    assert r["severity"] == "alert" and r["destination_event_user"] is True
    assert r["destination_group"] == g and r["destination_group_obj"]["pk"] == g
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", r["pk"])[0][0] == 1
    assert len(events_for("notificationrule", r["pk"], "model_created")) == 1
    d = make_rule(admin)
    assert d["severity"] == "notice" and d["transports"] == [] and d["destination_group"] is None
    assert d["destination_group_obj"] is None and d["destination_event_user"] is False
    assert admin.delete("events/rules/%s/" % r["pk"]).status_code == 204
    assert sql("SELECT count(*) FROM policy_binding_models WHERE pbm_uuid = %s", r["pk"])[0][0] == 0
    assert sql("SELECT count(*) FROM notification_rule_transports WHERE rule = %s", r["pk"])[0][0] == 0
    assert len(events_for("notificationrule", r["pk"], "model_deleted")) == 1


@pytest.mark.parametrize("body,field", [
    ({"severity": "loud"}, "severity"),
    ({"transports": [NIL]}, "transports"),
    ({"transports": "nope"}, "transports"),
    ({"transports": [5]}, "transports"),
    ({"destination_group": NIL}, "destination_group"),
    ({"destination_group": "zzz"}, "destination_group"),
    ({"destination_event_user": []}, "destination_event_user"),
    ({"name": ""}, "name"),
])
def test_rule_validation(admin, body, field):
    body = dict({"name": name("bad")}, **body)
    r = admin.post("events/rules/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()


def test_rule_unique_name_update_and_group_deleted(admin):
    t = make_transport(admin)
    g = make_group()
    r = make_rule(admin, destination_group=g)
    resp = admin.post("events/rules/", json={"name": r["name"]})
    assert resp.status_code == 400
    assert resp.json() == {"name": ["notification rule with this name already exists."]}
    resp = admin.patch("events/rules/%s/" % r["pk"], json={"transports": [t["pk"]], "severity": "warning"})
    assert resp.status_code == 200 and resp.json()["transports"] == [t["pk"]]
    ev = events_for("notificationrule", r["pk"], "model_updated")
    assert ev[-1][0]["diff"]["severity"] == {"previous": "notice", "new": "warning"}
    resp = admin.put("events/rules/%s/" % r["pk"], json={"severity": "alert"})
    assert resp.status_code == 400 and "name" in resp.json()
    sql("DELETE FROM groups WHERE uuid = %s", g)
    got = admin.get("events/rules/%s/" % r["pk"]).json()
    assert got["destination_group"] is None and got["destination_group_obj"] is None
    sql("DELETE FROM notification_transports WHERE uuid = %s", t["pk"])
    assert admin.get("events/rules/%s/" % r["pk"]).json()["transports"] == []


def test_rule_list_filters(admin):
    tag = secrets.token_hex(4)
    g = make_group()
    (gname,), = sql("SELECT name FROM groups WHERE uuid = %s", g)
    a = make_rule(admin, name="a-" + tag, severity="alert", destination_group=g)
    b = make_rule(admin, name="b-" + tag)
    r = admin.get("events/rules/", params={"search": tag})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"], b["pk"]]
    r = admin.get("events/rules/", params={"search": tag, "severity": "alert"})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]
    r = admin.get("events/rules/", params={"destination_group__name": gname})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]
    r = admin.get("events/rules/", params={"search": gname})
    assert [x["pk"] for x in r.json()["results"]] == [a["pk"]]


def test_rule_permissions(admin, as_user):
    r = make_rule(admin)
    nobody, _ = as_user()
    assert nobody.get("events/rules/%s/" % r["pk"]).status_code == 403
    assert nobody.post("events/rules/", json={"name": name("x")}).status_code == 403
    assert nobody.patch("events/rules/%s/" % r["pk"], json={}).status_code == 403
    assert nobody.delete("events/rules/%s/" % r["pk"]).status_code == 403
    viewer, _ = as_user(object_perms=[("authentik_events.view_notificationrule", r["pk"])])
    assert viewer.get("events/rules/%s/" % r["pk"]).status_code == 200
    assert [x["pk"] for x in viewer.get("events/rules/").json()["results"]] == [r["pk"]]
    changer, _ = as_user(perms=["authentik_events.change_notificationrule"])
    assert changer.patch("events/rules/%s/" % r["pk"], json={"severity": "alert"}).status_code == 200
    adder, _ = as_user(perms=["authentik_events.add_notificationrule"])
    assert adder.post("events/rules/", json={"name": name("x")}).status_code == 201
    deleter, _ = as_user(object_perms=[("authentik_events.delete_notificationrule", r["pk"])])
    assert deleter.delete("events/rules/%s/" % r["pk"]).status_code == 204


# --- notifications ------------------------------------------------------------------------

def test_notifications_owner_only(as_user):
    alice, a = as_user()
    bob, b = as_user()
    na = make_notification(a, "for alice")
    nb = make_notification(b, "for bob")
    r = alice.get("events/notifications/")
    assert r.status_code == 200
    assert [x["pk"] for x in r.json()["results"]] == [na]
    n = r.json()["results"][0]
    assert set(n) == {"pk", "severity", "body", "created", "event", "seen", "hyperlink", "hyperlink_label"}
    assert n["body"] == "for alice" and n["seen"] is False and n["event"] is None
    assert alice.get("events/notifications/%s/" % nb).status_code == 404
    assert alice.patch("events/notifications/%s/" % nb, json={"seen": True}).status_code == 404
    assert alice.delete("events/notifications/%s/" % nb).status_code == 404
    assert alice.get("events/notifications/", params={"user": b}).json()["results"] == []
    assert sql("SELECT seen FROM notifications WHERE uuid = %s", nb) == [(False,)]


def test_notification_patch_seen_only_and_delete(as_user):
    api, uid = as_user()
    n = make_notification(uid, "original")
    r = api.patch("events/notifications/%s/" % n, json={"seen": True, "body": "changed", "severity": "alert"})
    assert r.status_code == 200, r.text
    assert r.json()["seen"] is True and r.json()["body"] == "original" and r.json()["severity"] == "notice"
    assert api.get("events/notifications/", params={"seen": "false"}).json()["results"] == []
    assert api.patch("events/notifications/%s/" % n, json={"seen": "maybe"}).status_code == 400
    r = api.put("events/notifications/%s/" % n, json={"seen": False})
    assert r.status_code == 200 and r.json()["seen"] is False
    assert api.delete("events/notifications/%s/" % n).status_code == 204
    assert api.get("events/notifications/%s/" % n).status_code == 404


def test_mark_all_seen(as_user):
    api, uid = as_user()
    other, oid = as_user()
    mine = [make_notification(uid, "n%d" % i) for i in range(3)]
    theirs = make_notification(oid)
    r = api.post("events/notifications/mark_all_seen/")
    assert r.status_code == 204
    assert sql("SELECT bool_and(seen) FROM notifications WHERE user_id = %s", uid) == [(True,)]
    assert sql("SELECT seen FROM notifications WHERE uuid = %s", theirs) == [(False,)]
    assert len(mine) == 3


def test_notifications_require_login(admin):
    anon = Api_noauth(admin)
    assert anon.get("events/notifications/").status_code == 401
    assert anon.post("events/notifications/mark_all_seen/").status_code == 401
    assert anon.get("events/rules/").status_code == 401
