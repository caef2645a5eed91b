"""The background worker against the real stack: tasks are never lost, never run twice to
completion, and schedules fire once per period across workers."""
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import BUILD, ENV, ROOT, STATE, binary, config_path, sql, stack


def worker_env(**extra):
    env = dict(os.environ, CUSTOS_CONFIG=config_path())
    env.update(extra)
    return env


@pytest.fixture
def workers():
    """Starts extra custos-worker processes of the test's own (the stack's own keeps running);
    returns a function making one; all are stopped at the end."""
    procs = []

    def start(**extra):
        log = open(os.path.join(STATE, "log", "worker-test.log"), "a")
        p = subprocess.Popen([binary("custos-worker"), "run"], env=worker_env(**extra),
                             stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def enqueue_sql(n, actor="custos.tasks.noop", tag=None):
    """n tasks written straight into the outbox, as a transaction of the core would."""
    tag = tag or uuid.uuid4().hex[:8]
    sql("INSERT INTO tasks (actor_name, description) SELECT %s, %s FROM generate_series(1, %s)",
        actor, tag, n)
    return tag


def wait_done(tag, n, timeout=60):
    deadline = time.time() + timeout
    done = 0
    while time.time() < deadline:
        done = sql("SELECT count(*) FROM tasks WHERE description = %s AND state = 'done'", tag)[0][0]
        if done == n:
            return done
        time.sleep(0.2)
    return done


def test_cli_task_runs(workers):
    p = subprocess.run([binary("custos-worker"), "task", "run", "custos.tasks.noop"],
                       env=worker_env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    mid = p.stdout.strip()
    deadline = time.time() + 20
    while time.time() < deadline:
        (state, status, logs), = sql("SELECT state, status, logs FROM tasks WHERE message_id = %s", mid)
        if state == "done":
            break
        time.sleep(0.1)
    assert state == "done" and status == "info"
    assert logs[-1]["event"] == "Task finished" and logs[-1]["log_level"] == "info"
    bad = subprocess.run([binary("custos-worker"), "task", "run", "no.such.actor"],
                         env=worker_env(), capture_output=True, text=True)
    assert bad.returncode == 2


def test_healthcheck():
    p = subprocess.run([binary("custos-worker"), "healthcheck"], env=worker_env(), timeout=30)
    assert p.returncode == 0
    p = subprocess.run([binary("custos-worker"), "healthcheck"], timeout=30,
                       env=worker_env(CUSTOS_POSTGRESQL__PORT="1"))
    assert p.returncode != 0


def test_unknown_actor_fails_and_keeps_the_error():
    tag = enqueue_sql(1, actor="custos.no_such_actor")
    assert wait_done(tag, 1) == 1
    (status, logs), = sql("SELECT status, logs FROM tasks WHERE description = %s", tag)
    assert status == "error" and "no such actor" in logs[-1]["event"]


def test_killed_worker_loses_nothing(workers):
    """kill -9 a worker in the middle of a batch: every task still completes, once each."""
    a = workers(CUSTOS_WORKER__TASK_LEASE_SECONDS="2")
    workers(CUSTOS_WORKER__TASK_LEASE_SECONDS="2")
    time.sleep(0.5)
    tag = enqueue_sql(3000)
    time.sleep(0.3)
    a.send_signal(signal.SIGKILL)
    a.wait()
    assert wait_done(tag, 3000, timeout=120) == 3000
    # One successful finish per task, whatever was taken over.
    rows = sql("SELECT count(*) FROM tasks t WHERE description = %s AND (SELECT count(*) FROM "
               "jsonb_array_elements(t.logs) e WHERE e ->> 'event' = 'Task finished') <> 1", tag)
    assert rows[0][0] == 0
    assert sql("SELECT count(*) FROM tasks WHERE description = %s AND state <> 'done'", tag)[0][0] == 0


def redis_cli(*args):
    return subprocess.run(["redis-cli", "-p", ENV["REDIS_PORT"], "-a", ENV["REDIS_PASSWORD"],
                           "--no-auth-warning"] + list(args), capture_output=True, text=True, timeout=30)


def test_redis_lost_and_flushed_loses_no_task():
    res = stack("redis-stop")
    assert res.returncode == 0, res.stderr
    try:
        # Written while Redis is away: the workers find them in PostgreSQL.
        tag = enqueue_sql(50)
        assert wait_done(tag, 50, timeout=60) == 50
    finally:
        assert stack("redis-start").returncode == 0
    assert redis_cli("FLUSHALL").stdout.strip() == "OK"
    tag = enqueue_sql(50)
    assert wait_done(tag, 50, timeout=60) == 50
    # The consumer group is back once the workers noticed.
    deadline = time.time() + 20
    while time.time() < deadline and "workers" not in redis_cli("XINFO", "GROUPS", "custos:tasks").stdout:
        time.sleep(0.2)
    assert "workers" in redis_cli("XINFO", "GROUPS", "custos:tasks").stdout


def test_postgresql_restart_worker_reconnects():
    assert stack("pg-stop").returncode == 0
    time.sleep(1)
    assert stack("pg-start").returncode == 0
    tag = enqueue_sql(20)
    assert wait_done(tag, 20, timeout=60) == 20


def test_schedule_fires_once_per_period_across_workers(workers):
    workers()
    workers()
    ident = "test-" + uuid.uuid4().hex[:8]
    # Due now, and next due half an hour later: a minute boundary during the test must not
    # make a second, legitimate run.
    minute = (time.gmtime().tm_min + 30) % 60
    (sid,), = sql("INSERT INTO task_schedules (identifier, actor_name, crontab, next_run) "
                  "VALUES (%s, 'custos.tasks.noop', %s, now() - interval '1 second') RETURNING id",
                  ident, "%d * * * *" % minute)
    deadline = time.time() + 20
    while time.time() < deadline:
        n = sql("SELECT count(*) FROM tasks WHERE schedule_id = %s", sid)[0][0]
        if n:
            break
        time.sleep(0.2)
    time.sleep(6)  # every worker has looked at the schedules at least once more
    assert sql("SELECT count(*) FROM tasks WHERE schedule_id = %s", sid)[0][0] == 1
    (nxt,), = sql("SELECT next_run > now() AND date_part('second', next_run) = 0 FROM task_schedules WHERE id = %s", sid)
    assert nxt is True


def test_default_schedule_exists():
    rows = sql("SELECT crontab, actor_name FROM task_schedules WHERE identifier = 'clean_expired_models'")
    assert rows == [("2-59/5 * * * *", "authentik.core.tasks.clean_expired_models")]


def test_clean_expired_models_deletes_only_expired(workers):
    from conftest import create_user
    uid, _ = create_user()
    sql("INSERT INTO tokens (identifier, key, key_digest, user_id, expiring, expires) VALUES "
        "('exp-old-' || %s, 'k1' || %s, md5(%s || 'a'), %s, true, now() - interval '1 day'), "
        "('exp-new-' || %s, 'k2' || %s, md5(%s || 'b'), %s, true, now() + interval '1 day')",
        uid, uid, uid, uid, uid, uid, uid, uid)
    p = subprocess.run([binary("custos-worker"), "task", "run", "authentik.core.tasks.clean_expired_models"],
                       env=worker_env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    mid = p.stdout.strip()
    deadline = time.time() + 20
    while time.time() < deadline and sql("SELECT state FROM tasks WHERE message_id = %s", mid)[0][0] != "done":
        time.sleep(0.1)
    names = [r[0] for r in sql("SELECT identifier FROM tokens WHERE user_id = %s AND identifier LIKE 'exp-%%'", uid)]
    assert names == ["exp-new-%s" % uid]


def test_task_list_shows_schedules_and_runs():
    p = subprocess.run([binary("custos-worker"), "task", "list"], env=worker_env(),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "clean_expired_models" in p.stdout and "certificate_discovery" in p.stdout
    assert "ACTOR" in p.stdout
