"""Audit events of API changes: who, from where, what changed, and never a secret."""
import json
import secrets

from conftest import events_for, sql


def test_event_has_actor_and_client_address(admin):
    name = "audit-" + secrets.token_hex(4)
    # The router is on loopback, a trusted proxy: its X-Forwarded-For names the client. Of a
    # chain, the right-most address that is not a trusted proxy counts; what is left of it
    # could have been written by the client itself.
    r = admin.post("rbac/roles/", json={"name": name},
                   headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.20, 10.1.2.3"})
    assert r.status_code == 201, r.text
    pk = r.json()["pk"]
    (ctx, user, ip), = events_for("role", pk, "model_created")
    assert ip == "198.51.100.20"
    assert user["username"].startswith("u-")
    assert ctx["model"]["name"] == name
    assert ctx["http_request"]["method"] == "POST"
    r = admin.patch("rbac/roles/%s/" % pk, json={"name": name + "-x"})
    assert r.status_code == 200
    (ctx, _, ip), = events_for("role", pk, "model_updated")
    assert ip == "127.0.0.1"
    assert ctx["diff"]["name"] == {"previous": name, "new": name + "-x"}


def test_failed_write_leaves_no_event_and_no_row(admin):
    name = "audit-" + secrets.token_hex(4)
    assert admin.post("rbac/roles/", json={"name": name}).status_code == 201
    before = sql("SELECT count(*) FROM events")[0][0]
    r = admin.post("rbac/roles/", json={"name": name})
    assert r.status_code == 400 and "name" in r.json()
    assert sql("SELECT count(*) FROM roles WHERE name = %s", name)[0][0] == 1
    assert sql("SELECT count(*) FROM events WHERE context -> 'model' ->> 'name' = %s", name)[0][0] == 1
    assert sql("SELECT count(*) FROM events")[0][0] >= before


def test_no_secret_in_any_event(admin):
    r = admin.post("core/tokens/", json={"identifier": "audit-" + secrets.token_hex(4), "intent": "api"})
    assert r.status_code == 201, r.text
    key = admin.get("core/tokens/%s/view_key/" % r.json()["identifier"]).json()["key"]
    uid = r.json()["user"]
    admin.post("core/users/%s/set_password/" % uid, json={"password": "Sup3r-secret-pass!"})
    texts = [json.dumps(row) for row in sql("SELECT context FROM events")]
    assert not any(key in t for t in texts)
    assert not any("Sup3r-secret-pass!" in t for t in texts)
