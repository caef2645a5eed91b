"""custos-worker migrate: ordered, once each, transactional, under an advisory lock."""
import os
import subprocess
import uuid

import pytest

from conftest import ENV, STATE, binary, config_path


def psql_super(sql, db="postgres"):
    cmd = ["/usr/lib/postgresql/15/bin/psql", "-h", os.path.join(STATE, "run", "pg"), "-p", ENV["PG_PORT"],
           "-d", db, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def scratch_db():
    name = "custos_mtest_" + uuid.uuid4().hex[:8]
    r = psql_super("CREATE DATABASE %s OWNER custos" % name)
    assert r.returncode == 0, r.stderr
    yield name
    psql_super("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def migrate(db, sqldir, *extra):
    env = dict(os.environ, CUSTOS_CONFIG=config_path(), CUSTOS_POSTGRESQL__NAME=db)
    return subprocess.Popen([binary("custos-worker"), "migrate", "--sql-dir", str(sqldir)] + list(extra),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(db, sqldir, *extra):
    p = migrate(db, sqldir, *extra)
    out, err = p.communicate(timeout=60)
    return p.returncode, out, err


def test_help():
    p = subprocess.run([binary("custos-worker"), "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "migrate" in p.stdout


def test_stack_schema_is_current():
    env = dict(os.environ, CUSTOS_CONFIG=config_path())
    p = subprocess.run([binary("custos-worker"), "migrate", "--status", "--sql-dir",
                        os.path.join(os.path.dirname(__file__), "..", "..", "sql")],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    states = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    assert "pending" not in states and "applied" in states


def test_applies_in_order_once(scratch_db, tmp_path):
    (tmp_path / "0002_second.sql").write_text("INSERT INTO t VALUES (2);")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (v int); INSERT INTO t VALUES (1);")
    rc, out, err = run(scratch_db, tmp_path)
    assert rc == 0, err
    assert "2 applied" in out
    rc, out, err = run(scratch_db, tmp_path)
    assert rc == 0 and "0 applied" in out
    r = psql_super("SELECT string_agg(v::text, ',' ORDER BY v) FROM t", scratch_db)
    assert r.stdout.strip() == "1,2"


def test_failing_migration_rolls_back_and_stops(scratch_db, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (v int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half (v int); SELECT * FROM no_such_table;")
    (tmp_path / "0003_after.sql").write_text("CREATE TABLE after (v int);")
    rc, out, err = run(scratch_db, tmp_path)
    assert rc != 0
    assert "0002_broken.sql" in err and "no_such_table" in err
    r = psql_super("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations", scratch_db)
    assert r.stdout.strip() == "1"
    r = psql_super("SELECT count(*) FROM pg_tables WHERE tablename IN ('half', 'after')", scratch_db)
    assert r.stdout.strip() == "0"


def test_two_migrators_do_not_race(scratch_db, tmp_path):
    (tmp_path / "0001_slow.sql").write_text("CREATE TABLE s (v int); SELECT pg_sleep(1); INSERT INTO s VALUES (1);")
    (tmp_path / "0002_next.sql").write_text("INSERT INTO s VALUES (2);")
    a = migrate(scratch_db, tmp_path)
    b = migrate(scratch_db, tmp_path)
    outs = [p.communicate(timeout=60) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    applied = sorted(o[0] for o in outs)
    assert "0 applied" in applied[0] and "2 applied" in applied[1]
    r = psql_super("SELECT count(*) FROM s", scratch_db)
    assert r.stdout.strip() == "2"


def test_bad_file_name_is_refused(scratch_db, tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    rc, _, err = run(scratch_db, tmp_path)
    assert rc != 0 and "1_bad.sql" in err
