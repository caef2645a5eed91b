"""The user write stage through the flow executor: enrolment creates a user from prompt_data,
updates touch only the pending (or logged-in) user, a taken username writes nothing, and the
creation modes, groups, attributes paths and the target_username extension."""
import json
import secrets

import argon2

from conftest import (FlowClient, create_user, data_prompt_fields, data_prompt_make,
                      login_flow_make, login_user, sql)

PASSWORD = "correct horse battery staple"


def enrol_flow(base, write_config=None, prompts=None, after=(("userloginstage", {}),),
               authentication="none", designation="enrollment"):
    """prompt (the given [(key, kwargs)], default username/name/email/password) -> user_write ->
    after. Returns (client, stage uuids)."""
    prompts = prompts or [("username", {}), ("name", {}), ("email", dict(type="email")),
                          ("password", dict(type="password"))]
    slug, stages = login_flow_make([("promptstage", {}), ("userwritestage", write_config or {})]
                                   + list(after), designation=designation,
                                   authentication=authentication)
    data_prompt_fields(stages[0], [data_prompt_make(k, order=i, **kw)
                                   for i, (k, kw) in enumerate(prompts)])
    return FlowClient(base, slug), stages


def user_row(username):
    rows = sql("SELECT id, name, email, is_active, type, path, attributes, password "
               "FROM users WHERE username = %s", username)
    return rows[0] if rows else None


def test_enrolment_creates_and_logs_in(base):
    fc, _ = enrol_flow(base, prompts=[
        ("username", {}), ("name", {}), ("email", dict(type="email")),
        ("password", dict(type="password")), ("password_repeat", dict(type="password")),
        ("attributes.profile.team", {}), ("attributes_nickname", {})])
    name = "new-" + secrets.token_hex(4)
    assert fc.get()["component"] == "ak-stage-prompt"
    ch = fc.post({"component": "ak-stage-prompt", "username": name, "name": "New Person",
                  "email": name + "@example.com", "password": PASSWORD,
                  "password_repeat": PASSWORD, "attributes.profile.team": "blue",
                  "attributes_nickname": "np"})
    assert ch == {"component": "xak-flow-redirect", "to": "/"}, ch
    uid, nm, email, active, typ, path, attrs, pw = user_row(name)
    assert (nm, email, active, typ, path) == ("New Person", name + "@example.com", True,
                                              "external", "users")
    assert attrs == {"profile": {"team": "blue"}, "nickname": "np"}
    assert pw.startswith("argon2$argon2id$")
    assert argon2.PasswordHasher().verify(pw[len("argon2"):], PASSWORD)
    assert fc.me() == name
    (ctx, user), = sql("SELECT context, \"user\" FROM events WHERE action = 'user_write' "
                       "AND \"user\" ->> 'pk' = %s", str(uid))
    assert ctx["created"] is True and ctx["username"] == name
    assert ctx["password"] == "********************" and PASSWORD not in json.dumps(ctx)
    assert user["username"] == name


def test_inactive_and_group(base):
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text",
                "g-" + secrets.token_hex(4))[0][0]
    fc, _ = enrol_flow(base, {"create_users_as_inactive": True, "create_users_group": group,
                              "user_type": "internal", "user_path_template": "users/enrolled"},
                       after=(("dummystage", {}),))
    name = "ina-" + secrets.token_hex(4)
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "username": name, "name": "I", "email": "i@example.com",
                  "password": PASSWORD})
    assert ch["component"] == "ak-stage-dummy", ch
    uid, _, _, active, typ, path, _, _ = user_row(name)
    assert (active, typ, path) == (False, "internal", "users/enrolled")
    assert sql("SELECT 1 FROM group_users WHERE group_uuid = %s AND user_id = %s", group, uid)
    ctx = fc.plan()["context"]
    assert ctx["pending_user"] == uid and ctx["user_created"] is True
    # The plaintext password left the plan once stored.
    assert "password" not in ctx["prompt_data"]


def test_taken_username_writes_nothing(base):
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text",
                "g-" + secrets.token_hex(4))[0][0]
    other, _ = create_user(name="Other")
    taken = sql("SELECT username FROM users WHERE id = %s", other)[0][0]
    # A text field (not "username") so that the prompt does not catch it first.
    fc, _ = enrol_flow(base, {"create_users_group": group},
                       prompts=[("username", {}), ("name", {})], after=(("dummystage", {}),))
    before = sql("SELECT count(*) FROM users")[0][0]
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "username": taken, "name": "Hijack"})
    assert ch["component"] == "ak-stage-access-denied"
    assert "already taken" in ch["error_message"]
    assert sql("SELECT count(*) FROM users")[0][0] == before
    assert sql("SELECT name FROM users WHERE id = %s", other)[0][0] == "Other"
    assert not sql("SELECT 1 FROM group_users WHERE group_uuid = %s", group)


def test_never_create_without_user_is_denied(base):
    fc, _ = enrol_flow(base, {"user_creation_mode": "never_create"},
                       prompts=[("username", {})], after=(("dummystage", {}),))
    name = "nc-" + secrets.token_hex(4)
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "username": name})
    assert ch == {**ch, "component": "ak-stage-access-denied",
                  "error_message": "No user found and can't create new user."}
    assert user_row(name) is None


def test_updates_only_the_pending_user(base):
    target, _ = create_user(name="Target")
    bystander, _ = create_user(name="Bystander")
    other_name = sql("SELECT username FROM users WHERE id = %s", bystander)[0][0]
    fc, _ = enrol_flow(base, prompts=[("name", {}), ("username", {}), ("is_active", {}),
                                      ("type", {})],
                       after=(("dummystage", {}),))
    fc.get()
    fc.set_context(pending_user=target)
    # Naming someone else's username cannot retarget the write: it is a clash, nothing changes.
    ch = fc.post({"component": "ak-stage-prompt", "name": "Renamed", "username": other_name,
                  "is_active": "false", "type": "service_account"})
    assert ch["component"] == "ak-stage-access-denied"
    assert sql("SELECT name, is_active FROM users WHERE id IN (%s, %s) ORDER BY id",
               target, bystander) == [("Target", True), ("Bystander", True)]

    fc2, _ = enrol_flow(base, prompts=[("name", {}), ("is_active", {}), ("type", {})],
                        after=(("dummystage", {}),))
    fc2.get()
    fc2.set_context(pending_user=target)
    ch = fc2.post({"component": "ak-stage-prompt", "name": "Renamed", "is_active": "false",
                   "type": "service_account"})
    assert ch["component"] == "ak-stage-dummy", ch
    # Keys that are not user fields (is_active, type) are not written.
    assert sql("SELECT name, is_active, type FROM users WHERE id = %s", target) == \
        [("Renamed", True, "internal")]
    assert sql("SELECT name FROM users WHERE id = %s", bystander)[0][0] == "Bystander"


def login(base, uid_username, password=PASSWORD):
    slug, _ = login_flow_make([("identificationstage", {"user_fields": ["username"]}),
                               ("passwordstage", {}), ("userloginstage", {})])
    fc = FlowClient(base, slug)
    fc.get()
    fc.post({"component": "ak-stage-identification", "uid_field": uid_username})
    ch = fc.post({"component": "ak-stage-password", "password": password})
    assert ch["component"] == "xak-flow-redirect", ch
    return fc


def test_settings_flow_writes_the_session_user_only(base):
    me, my_name = login_user(PASSWORD, name="Me")
    other, _ = create_user(name="Someone")
    fc = login(base, my_name)
    slug, stages = login_flow_make([("promptstage", {}), ("userwritestage",
                                                          {"user_creation_mode": "never_create"})],
                                   designation="stage_configuration",
                                   authentication="require_authenticated")
    data_prompt_fields(stages[0], [data_prompt_make("name")])
    s = FlowClient(base, slug)
    s.s = fc.s  # the logged-in browser
    assert s.get()["component"] == "ak-stage-prompt"
    ch = s.post({"component": "ak-stage-prompt", "name": "Me Renamed"})
    assert ch["component"] == "xak-flow-redirect", ch
    assert sql("SELECT name FROM users WHERE id = %s", me)[0][0] == "Me Renamed"

    # A plan whose pending user is someone else writes nobody.
    s.get()
    s.set_context(pending_user=other)
    ch = s.post({"component": "ak-stage-prompt", "name": "Owned"})
    assert ch["component"] == "ak-stage-access-denied"
    assert sql("SELECT name FROM users WHERE id IN (%s, %s) ORDER BY id", me, other) == \
        [("Me Renamed",), ("Someone",)]


def test_password_change_sets_hash_and_date(base):
    me, my_name = login_user(PASSWORD)
    sql("UPDATE users SET password_change_date = now() - interval '30 days' WHERE id = %s", me)
    fc = login(base, my_name)
    elsewhere = login(base, my_name)
    assert elsewhere.me() == my_name
    slug, stages = login_flow_make([("promptstage", {}), ("userwritestage", {})],
                                   designation="stage_configuration",
                                   authentication="require_authenticated")
    data_prompt_fields(stages[0], [data_prompt_make("password", type="password"),
                                   data_prompt_make("password_repeat", type="password", order=1)])
    s = FlowClient(base, slug)
    s.s = fc.s
    s.get()
    ch = s.post({"component": "ak-stage-prompt", "password": "a new secret phrase",
                 "password_repeat": "a new secret phrase"})
    assert ch["component"] == "xak-flow-redirect", ch
    pw, recent = sql("SELECT password, password_change_date > now() - interval '1 minute' "
                     "FROM users WHERE id = %s", me)[0]
    assert recent and argon2.PasswordHasher().verify(pw[len("argon2"):], "a new secret phrase")
    assert sql("SELECT 1 FROM events WHERE action = 'password_set' AND \"user\" ->> 'pk' = %s",
               str(me))
    # The other browser's session ended; the one that changed the password goes on.
    assert elsewhere.me() is None
    assert s.me() == my_name


def test_target_username(base):
    target, _ = create_user(name="Admin-ish")
    tname = sql("SELECT username FROM users WHERE id = %s", target)[0][0]
    fc, _ = enrol_flow(base, {"target_username": tname},
                       prompts=[("email", dict(type="email")), ("password", dict(type="password"))],
                       after=(("userloginstage", {}),), designation="stage_configuration")
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "email": "root@example.com", "password": PASSWORD})
    assert ch["component"] == "xak-flow-redirect", ch
    email, pw = sql("SELECT email, password FROM users WHERE id = %s", target)[0]
    assert email == "root@example.com"
    assert argon2.PasswordHasher().verify(pw[len("argon2"):], PASSWORD)
    assert fc.me() == tname

    # No such user: denied, nothing created.
    fc, _ = enrol_flow(base, {"target_username": "missing-" + secrets.token_hex(4)},
                       prompts=[("email", dict(type="email"))], after=(("dummystage", {}),))
    fc.get()
    ch = fc.post({"component": "ak-stage-prompt", "email": "x@example.com"})
    assert ch["component"] == "ak-stage-access-denied"


def test_no_prompt_data_is_denied(base):
    slug, _ = login_flow_make([("userwritestage", {})], designation="enrollment")
    fc = FlowClient(base, slug)
    ch = fc.get()
    assert ch["component"] == "ak-stage-access-denied"
    assert ch["error_message"] == "No Pending data."


def test_always_create_ignores_pending_user(base):
    existing, _ = create_user(name="Existing")
    fc, _ = enrol_flow(base, {"user_creation_mode": "always_create"},
                       prompts=[("username", {}), ("name", {})], after=(("dummystage", {}),))
    name = "ac-" + secrets.token_hex(4)
    fc.get()
    fc.set_context(pending_user=existing)
    ch = fc.post({"component": "ak-stage-prompt", "username": name, "name": "Fresh"})
    assert ch["component"] == "ak-stage-dummy", ch
    assert user_row(name)[1] == "Fresh"
    assert sql("SELECT name FROM users WHERE id = %s", existing)[0][0] == "Existing"
    assert fc.plan()["context"]["pending_user"] == user_row(name)[0]


def test_racing_enrolments_create_one_user(base):
    """Many browsers enrol the same username at once: one user, the others denied, no half
    written rows (group memberships or events of the losers)."""
    import threading
    group = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid::text",
                "g-" + secrets.token_hex(4))[0][0]
    name = "race-" + secrets.token_hex(4)
    n = 8
    flows = [enrol_flow(base, {"create_users_group": group}, prompts=[("username", {}), ("name", {})],
                        after=(("dummystage", {}),))[0] for _ in range(n)]
    for fc in flows:
        fc.get()
    results = [None] * n
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        results[i] = flows[i].post({"component": "ak-stage-prompt", "username": name,
                                    "name": "Racer %d" % i})["component"]

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ak-stage-dummy") == 1, results
    assert results.count("ak-stage-access-denied") == n - 1, results
    (uid,), = sql("SELECT id FROM users WHERE username = %s", name)
    assert sql("SELECT user_id FROM group_users WHERE group_uuid = %s", group) == [(uid,)]
    assert sql("SELECT count(*) FROM events WHERE action = 'user_write' AND context ->> 'username' = %s",
               name)[0][0] == 1
