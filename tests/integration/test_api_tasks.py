"""/api/v3/tasks/: system tasks, their schedules, and live workers.

The stack may run a worker, which claims queued tasks that are due and runs schedules whose
next_run has come: rows these tests set up are due in the future, so they stay as written, and
what a retry or send queues for now is checked in ways that hold whether or not a worker has
picked it up since."""
import json
import os
import re
import secrets
import subprocess
import uuid

import pytest

from conftest import ENV, ROOT, Api, events_for, sql

TASKS = "tasks/tasks/"
SCHEDULES = "tasks/schedules/"
WORKERS = "tasks/workers"
TASK_FIELDS = {"message_id", "queue_name", "actor_name", "state", "mtime", "retries", "eta",
               "rel_obj_app_label", "rel_obj_model", "rel_obj_id", "uid", "logs", "previous_logs",
               "aggregated_status", "description"}
SCHEDULE_FIELDS = {"id", "identifier", "uid", "actor_name", "rel_obj_app_label", "rel_obj_model",
                   "rel_obj_id", "crontab", "paused", "next_run", "description", "last_task_status"}
STATUS_KEYS = {"queued", "consumed", "preprocess", "running", "postprocess", "rejected", "done",
               "info", "warning", "error"}
with open(os.path.join(ROOT, "lib", "version.h")) as _f:
    CU_VERSION = re.search(r'#define CU_VERSION "([^"]+)"', _f.read()).group(1)


@pytest.fixture
def tag():
    return "t" + secrets.token_hex(5)


def add_task(actor, state="done", status="info", logs=None, description="", uid=None,
             schedule_id=None, mtime_offset=0, rel=(None, None, None), queue="default"):
    """Inserts a task row straight into PostgreSQL and returns its message_id. It is due in a
    day, so that no worker claims it."""
    return str(sql(
        "INSERT INTO tasks (actor_name, state, status, logs, description, uid, schedule_id, "
        "mtime, rel_obj_app_label, rel_obj_model, rel_obj_id, queue_name, retries, eta) "
        "VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, now() + make_interval(secs => %s), "
        "%s, %s, %s, %s, 2, now() + interval '1 day') RETURNING message_id",
        actor, state, status, json.dumps(logs or []), description, uid, schedule_id,
        mtime_offset, rel[0], rel[1], rel[2], queue)[0][0])


def add_schedule(actor, identifier=None, paused=False, args=None, description="sched"):
    return str(sql(
        "INSERT INTO task_schedules (identifier, actor_name, args, crontab, paused, "
        "description, next_run) VALUES (%s, %s, %s::jsonb, '*/5 * * * *', %s, %s, "
        "now() + interval '1 day') RETURNING id",
        identifier or "s-" + secrets.token_hex(6), actor, json.dumps(args or {}), paused,
        description)[0][0])


def row(mid):
    return sql("SELECT state, status, eta < now() + interval '1 hour', logs, "
               "mtime > now() - interval '1 minute' FROM tasks WHERE message_id = %s", mid)[0]


def retried(mid):
    """The task was queued again by the API: due now, with its "Task retried" log line. A
    worker may have run it since, so its state is anything a run leads to."""
    state, _, due_now, logs, touched = row(mid)
    assert due_now and touched and state in ("queued", "running", "done", "rejected")
    return [entry for entry in logs if entry["event"] == "Task retried"]


def stream():
    """Every message id the wake-up stream carries (redis-cli against the stack's Redis)."""
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", ENV["REDIS_PORT"], "-a",
                          ENV["REDIS_PASSWORD"], "--no-auth-warning", "XRANGE", "custos:tasks",
                          "-", "+"], capture_output=True, text=True, timeout=10, check=True)
    return out.stdout.split()


def results(r):
    assert r.status_code == 200, r.text
    return r.json()["results"]


# --- tasks ------------------------------------------------------------------------------------


def test_task_fields(admin, tag):
    logs = [{"timestamp": "2026-01-02T03:04:05Z", "log_level": "info", "logger": tag,
             "event": "hello", "attributes": {"k": 1}}]
    mid = add_task(tag + ".actor", logs=logs, description="Does things", uid="one",
                   rel=("authentik_core", "user", "42"))
    r = admin.get(TASKS + mid + "/")
    assert r.status_code == 200, r.text
    o = r.json()
    assert set(o) == TASK_FIELDS
    assert o["message_id"] == mid and o["actor_name"] == tag + ".actor"
    assert o["state"] == "done" and o["aggregated_status"] == "info"
    assert o["logs"] == logs and o["previous_logs"] == []
    assert o["uid"] == tag + ".actor:one" and o["description"] == "Does things"
    assert o["retries"] == 2 and o["queue_name"] == "default"
    assert o["rel_obj_app_label"] == "authentik_core" and o["rel_obj_model"] == "user"
    assert o["rel_obj_id"] == "42"
    assert o["mtime"].endswith("Z") and "T" in o["eta"]
    assert admin.get(TASKS + mid.upper() + "/").status_code == 200
    # Without a uid of its own the uid is the actor name; no description is null.
    o = admin.get(TASKS + add_task(tag + ".bare") + "/").json()
    assert o["uid"] == tag + ".bare" and o["description"] is None


def test_task_not_found(admin):
    assert admin.get(TASKS + str(uuid.uuid4()) + "/").status_code == 404
    assert admin.get(TASKS + "nope/").status_code == 404
    assert admin.post(TASKS + str(uuid.uuid4()) + "/retry/").status_code == 404


def test_aggregated_status(admin, tag):
    cases = [("queued", "info", "queued"), ("running", "info", "running"),
             ("rejected", "error", "rejected"), ("done", "info", "info"),
             ("done", "warning", "warning"), ("done", "error", "error")]
    for state, status, agg in cases:
        mid = add_task(tag, state=state, status=status)
        assert admin.get(TASKS + mid + "/").json()["aggregated_status"] == agg


def test_list_filters_and_search(admin, tag):
    a = add_task(tag + ".a", state="done", status="error", mtime_offset=-10, queue="q1")
    b = add_task(tag + ".b", state="queued", mtime_offset=-5, rel=("authentik_core", "user", "7"))
    c = add_task(tag + ".b", state="done", status="warning", description="Special " + tag)

    def ids(q):
        return [t["message_id"] for t in results(admin.get(TASKS, params=q))]

    # Default order: newest mtime first.
    assert ids({"search": tag}) == [c, b, a]
    assert ids({"search": tag, "ordering": "mtime"}) == [a, b, c]
    assert ids({"actor_name": tag + ".b"}) == [c, b]
    assert ids({"search": tag, "aggregated_status": "error"}) == [a]
    assert ids({"search": tag, "aggregated_status": ["error", "queued"]}) == [b, a]
    assert ids({"search": tag, "state": "done"}) == [c, a]
    assert ids({"search": tag, "queue_name": "q1"}) == [a]
    assert ids({"search": tag, "rel_obj_content_type__model": "user"}) == [b]
    assert ids({"search": tag, "rel_obj_id": "7"}) == [b]
    assert ids({"search": tag, "rel_obj_id__isnull": "true"}) == [c, a]
    assert ids({"search": "special " + tag}) == [c]
    r = admin.get(TASKS, params={"search": tag})
    assert r.json()["pagination"]["count"] == 3 and set(r.json()["results"][0]) == TASK_FIELDS


def test_list_bad_filters(admin):
    r = admin.get(TASKS, params={"aggregated_status": "nope"})
    assert r.status_code == 400 and "aggregated_status" in r.json()
    r = admin.get(TASKS, params={"state": "info"})
    assert r.status_code == 400
    assert r.json() == {"state": ["Select a valid choice. info is not one of the available choices."]}
    assert admin.get(TASKS, params={"rel_obj_id__isnull": "maybe"}).status_code == 400
    assert admin.get(TASKS, params={"search": "' OR 1=1 --", "ordering": "nope"}).status_code == 200


def test_status(admin, tag):
    r = admin.get(TASKS + "status/")
    assert r.status_code == 200
    before = r.json()
    assert set(before) == STATUS_KEYS and all(isinstance(v, int) for v in before.values())
    add_task(tag, state="done", status="error")
    add_task(tag, state="done", status="error")
    add_task(tag, state="queued")
    after = admin.get(TASKS + "status/").json()
    # A worker may finish other tests' tasks meanwhile: these counts only grow by ours.
    assert after["error"] >= before["error"] + 2
    assert after["queued"] >= 1
    assert after["consumed"] == 0 and after["done"] == 0


def test_task_permissions(lighttpd, as_user, tag):
    mid = add_task(tag)
    other = add_task(tag)
    anon = Api(lighttpd, None)
    for path in (TASKS, TASKS + mid + "/", TASKS + "status/"):
        assert anon.get(path).status_code == 401
    assert anon.post(TASKS + mid + "/retry/").status_code == 401

    nobody, _ = as_user()
    assert nobody.get(TASKS + mid + "/").status_code == 403
    assert nobody.get(TASKS + "status/").status_code == 403
    assert results(nobody.get(TASKS, params={"search": tag})) == []

    viewer, _ = as_user(perms=["authentik_tasks.view_task"])
    assert viewer.get(TASKS + mid + "/").status_code == 200
    assert viewer.get(TASKS + "status/").status_code == 200
    assert len(results(viewer.get(TASKS, params={"search": tag}))) == 2

    one, _ = as_user(object_perms=[("authentik_tasks.view_task", mid)])
    assert one.get(TASKS + mid + "/").status_code == 200
    assert one.get(TASKS + other + "/").status_code == 403
    assert [t["message_id"] for t in results(one.get(TASKS, params={"search": tag}))] == [mid]
    assert one.get(TASKS + "status/").status_code == 403


# --- retry ------------------------------------------------------------------------------------


def test_retry_failed_task(admin, tag):
    failed = add_task(tag, state="done", status="error",
                      logs=[{"timestamp": "2026-01-01T00:00:00Z", "log_level": "error",
                             "logger": tag, "event": "boom", "attributes": {}}])
    bystander = add_task(tag, state="done", status="error")
    bystander_before = row(bystander)
    r = admin.post(TASKS + failed + "/retry/")
    assert r.status_code == 204, r.text
    lines = retried(failed)
    assert len(lines) == 1 and lines[0]["log_level"] == "info"
    assert lines[0]["timestamp"].endswith("Z") and lines[0]["attributes"] == {}
    logs = admin.get(TASKS + failed + "/").json()["logs"]
    assert [entry["event"] for entry in logs][:2] == ["boom", "Task retried"]
    # Exactly the failed task was requeued.
    assert row(bystander) == bystander_before
    ev = events_for("task", failed, "model_updated")
    assert len(ev) == 1
    ctx = ev[0][0]
    assert ctx["model"]["app"] == "authentik_tasks" and ctx["model"]["name"] == tag
    assert ctx["diff"]["state"] == {"previous": "done", "new": "queued"}
    assert ctx["diff"]["aggregated_status"] == {"previous": "error", "new": "queued"}
    # The worker was woken for it.
    assert failed in stream()


def test_retry_rejected_task(admin, tag):
    mid = add_task(tag, state="rejected", status="error")
    assert admin.post(TASKS + mid + "/retry/").status_code == 204
    assert len(retried(mid)) == 1
    assert events_for("task", mid, "model_updated")[0][0]["diff"]["state"] == {
        "previous": "rejected", "new": "queued"}
    assert mid in stream()


@pytest.mark.parametrize("state,status", [("done", "info"), ("done", "warning"),
                                          ("queued", "info"), ("running", "info")])
def test_retry_refused_unless_failed(admin, tag, state, status):
    mid = add_task(tag, state=state, status=status)
    before = row(mid)
    r = admin.post(TASKS + mid + "/retry/")
    assert r.status_code == 400 and r.content == b""
    assert row(mid) == before
    assert events_for("task", mid, "model_updated") == []
    assert mid not in stream()


def test_retry_permissions(as_user, tag):
    mid = add_task(tag, state="done", status="error")
    other = add_task(tag, state="done", status="error")
    viewer, _ = as_user(perms=["authentik_tasks.view_task"])
    assert viewer.post(TASKS + mid + "/retry/").status_code == 403
    assert row(mid)[0] == "done"
    one, _ = as_user(object_perms=[("authentik_tasks.retry_task", mid)])
    assert one.post(TASKS + other + "/retry/").status_code == 403
    assert one.post(TASKS + mid + "/retry/").status_code == 204
    assert len(retried(mid)) == 1 and row(other)[0] == "done"
    model, _ = as_user(perms=["authentik_tasks.retry_task"])
    assert model.post(TASKS + other + "/retry/").status_code == 204


# --- schedules --------------------------------------------------------------------------------


def test_schedule_fields_and_last_status(admin, tag):
    sid = add_schedule(tag + ".actor", identifier=tag, description="Cleans up")
    r = admin.get(SCHEDULES + sid + "/")
    assert r.status_code == 200, r.text
    o = r.json()
    assert set(o) == SCHEDULE_FIELDS
    assert o["id"] == sid and o["identifier"] == tag and o["actor_name"] == tag + ".actor"
    assert o["crontab"] == "*/5 * * * *" and o["paused"] is False
    assert o["description"] == "Cleans up" and o["last_task_status"] is None
    assert o["rel_obj_id"] is None and o["next_run"].endswith("Z")
    add_task(tag + ".actor", state="done", status="error", schedule_id=sid, mtime_offset=-60)
    add_task(tag + ".actor", state="done", status="warning", schedule_id=sid, mtime_offset=-1)
    assert admin.get(SCHEDULES + sid + "/").json()["last_task_status"] == "warning"
    assert admin.get(SCHEDULES + str(uuid.uuid4()) + "/").status_code == 404
    assert admin.get(SCHEDULES + "nope/").status_code == 404


def test_schedule_list(admin, tag):
    a = add_schedule(tag + ".a", identifier=tag + "-a")
    b = add_schedule(tag + ".b", identifier=tag + "-b", paused=True)

    def ids(q):
        return [s["id"] for s in results(admin.get(SCHEDULES, params=q))]

    assert sorted(ids({"search": tag})) == sorted([a, b])
    assert ids({"search": tag, "paused": "true"}) == [b]
    assert ids({"actor_name": tag + ".a"}) == [a]
    assert ids({"search": tag, "ordering": "-identifier"}) == [b, a]
    assert ids({"search": tag, "rel_obj_id__isnull": "true", "ordering": "identifier"}) == [a, b]
    assert ids({"search": tag, "rel_obj_id": "1"}) == []
    assert set(results(admin.get(SCHEDULES, params={"search": tag}))[0]) == SCHEDULE_FIELDS


def test_schedule_pause(admin, tag):
    sid = add_schedule(tag, identifier=tag)
    r = admin.patch(SCHEDULES + sid + "/", {"paused": True, "identifier": "ignored",
                                           "actor_name": "ignored", "unknown": 1})
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["paused"] is True and o["identifier"] == tag and o["actor_name"] == tag
    assert sql("SELECT paused FROM task_schedules WHERE id = %s", sid)[0][0] is True
    ev = events_for("schedule", sid, "model_updated")
    assert len(ev) == 1
    assert ev[0][0]["model"]["app"] == "authentik_tasks_schedules"
    assert ev[0][0]["diff"] == {"paused": {"previous": False, "new": True}}
    # PUT needs crontab, as authentik's serializer does.
    r = admin.put(SCHEDULES + sid + "/", {"paused": False})
    assert r.status_code == 400 and r.json() == {"crontab": ["This field is required."]}
    assert sql("SELECT paused FROM task_schedules WHERE id = %s", sid)[0][0] is True
    r = admin.put(SCHEDULES + sid + "/", {"paused": False, "crontab": "*/5 * * * *"})
    assert r.status_code == 200 and r.json()["paused"] is False


def test_schedule_update_validation(admin, tag):
    sid = add_schedule(tag)
    for body, field in [({"paused": "yes"}, "paused"), ({"crontab": ""}, "crontab"),
                        ({"crontab": 5}, "crontab"), ({"rel_obj_id": ""}, "rel_obj_id")]:
        r = admin.patch(SCHEDULES + sid + "/", body)
        assert r.status_code == 400 and field in r.json(), (body, r.text)
    r = admin.patch(SCHEDULES + sid + "/", data="[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert admin.patch(SCHEDULES + str(uuid.uuid4()) + "/", {"paused": True}).status_code == 404
    assert events_for("schedule", sid, "model_updated") == []


def test_schedule_send(admin, tag):
    sid = add_schedule(tag + ".actor", args={"n": 1, "s": "x"}, description="Runs")
    r = admin.post(SCHEDULES + sid + "/send/")
    assert r.status_code == 204, r.text
    rows = sql("SELECT message_id::text, actor_name, args, schedule_id::text, state FROM tasks "
               "WHERE schedule_id = %s", sid)
    assert len(rows) == 1
    mid, actor, args, schedule_id, state = rows[0]
    assert (actor, args, schedule_id) == (tag + ".actor", {"n": 1, "s": "x"}, sid)
    assert state in ("queued", "running", "done", "rejected")
    assert mid in stream()
    assert admin.get(SCHEDULES + sid + "/").json()["last_task_status"] is not None
    assert admin.post(SCHEDULES + str(uuid.uuid4()) + "/send/").status_code == 404


def test_schedule_permissions(lighttpd, as_user, tag):
    sid = add_schedule(tag)
    other = add_schedule(tag)
    anon = Api(lighttpd, None)
    assert anon.get(SCHEDULES).status_code == 401
    assert anon.get(SCHEDULES + sid + "/").status_code == 401
    assert anon.patch(SCHEDULES + sid + "/", {"paused": True}).status_code == 401
    assert anon.post(SCHEDULES + sid + "/send/").status_code == 401

    nobody, _ = as_user()
    assert results(nobody.get(SCHEDULES, params={"search": tag})) == []
    assert nobody.get(SCHEDULES + sid + "/").status_code == 403
    assert nobody.patch(SCHEDULES + sid + "/", {"paused": True}).status_code == 403
    assert nobody.post(SCHEDULES + sid + "/send/").status_code == 403

    viewer, _ = as_user(perms=["authentik_tasks_schedules.view_schedule"])
    assert len(results(viewer.get(SCHEDULES, params={"search": tag}))) == 2
    assert viewer.get(SCHEDULES + sid + "/").status_code == 200
    assert viewer.patch(SCHEDULES + sid + "/", {"paused": True}).status_code == 403
    assert viewer.post(SCHEDULES + sid + "/send/").status_code == 403

    one, _ = as_user(object_perms=[("authentik_tasks_schedules.view_schedule", sid),
                                   ("authentik_tasks_schedules.change_schedule", sid),
                                   ("authentik_tasks_schedules.send_schedule", sid)])
    assert [s["id"] for s in results(one.get(SCHEDULES, params={"search": tag}))] == [sid]
    assert one.get(SCHEDULES + other + "/").status_code == 403
    assert one.patch(SCHEDULES + other + "/", {"paused": True}).status_code == 403
    assert one.post(SCHEDULES + other + "/send/").status_code == 403
    assert one.patch(SCHEDULES + sid + "/", {"paused": True}).status_code == 200
    assert one.post(SCHEDULES + sid + "/send/").status_code == 204
    assert sql("SELECT count(*) FROM tasks WHERE schedule_id = %s", other)[0][0] == 0


# --- workers ----------------------------------------------------------------------------------


def test_workers(admin, as_user, lighttpd, tag):
    sql("INSERT INTO workers (worker_id, hostname, pid, version) VALUES (%s, 'h', 1, %s)",
        tag + "-live", CU_VERSION)
    sql("INSERT INTO workers (worker_id, hostname, pid, version) VALUES (%s, 'h', 2, '1999.1.0')",
        tag + "-old")
    sql("INSERT INTO workers (worker_id, hostname, pid, version, last_seen) VALUES "
        "(%s, 'h', 3, %s, now() - interval '5 minutes')", tag + "-gone", CU_VERSION)
    r = admin.get(WORKERS)
    assert r.status_code == 200, r.text
    mine = {w["worker_id"]: w for w in r.json() if w["worker_id"].startswith(tag)}
    assert mine == {tag + "-live": {"worker_id": tag + "-live", "version": CU_VERSION,
                                    "version_matching": True},
                    tag + "-old": {"worker_id": tag + "-old", "version": "1999.1.0",
                                   "version_matching": False}}
    assert Api(lighttpd, None).get(WORKERS).status_code == 401
    nobody, _ = as_user()
    assert nobody.get(WORKERS).status_code == 403
    viewer, _ = as_user(perms=["authentik_tasks.view_workerstatus"])
    assert viewer.get(WORKERS).status_code == 200
