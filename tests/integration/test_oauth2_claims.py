"""What tokens say: scope mappings (Lua) and their claims, sub modes, issuer modes, and that a
change to a mapping, a user or its groups shows in the next token at once (the provider cache
and the service account it keeps are checked on every issue)."""
import hashlib
import secrets
import time

import pytest
import requests

from conftest import (create_user, oauth2_add_mapping, oauth2_app, oauth2_app_password,
                      oauth2_code_row, oauth2_mapping, oauth2_token_url, oauth2_uid,
                      oauth2_verify, sql)


def cc_claims(base, app, scope="openid profile email", which="access_token"):
    r = requests.post(oauth2_token_url(base), data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": scope})
    assert r.status_code == 200, r.text
    return oauth2_verify(r.json()[which], app["client_secret"], "HS256")[1]


def code_claims(base, app, uid, scopes=("openid", "profile", "email"), which="id_token"):
    code = oauth2_code_row(app, uid, scopes=scopes)
    r = requests.post(oauth2_token_url(base), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://rp.example/cb"}, auth=(app["client_id"], app["client_secret"]))
    assert r.status_code == 200, r.text
    return oauth2_verify(r.json()[which], app["client_secret"], "HS256")[1]


def sa_id(app):
    return sql("SELECT id FROM users WHERE username = %s",
               "ak-%s-client_credentials" % app["name"])[0][0]


def test_default_mappings(lighttpd):
    uid, _ = create_user(name="Ada Lovelace", email="ada@example.org")
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    groups = []
    for n in ("zeta-" + secrets.token_hex(3), "alpha-" + secrets.token_hex(3)):
        g = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid", n)[0][0]
        sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g, uid)
        groups.append(n)
    app = oauth2_app()
    c = code_claims(lighttpd, app, uid)
    assert c["email"] == "ada@example.org" and c["email_verified"] is False
    assert c["name"] == "Ada Lovelace" and c["given_name"] == "Ada Lovelace"
    assert c["preferred_username"] == username and c["nickname"] == username
    assert sorted(c["groups"]) == sorted(groups)
    # Only the scopes asked for: no profile, no profile claims.
    c = code_claims(lighttpd, app, uid, scopes=("openid", "email"))
    assert "email" in c and "name" not in c and "groups" not in c


def test_claims_left_out_of_tokens_when_configured(lighttpd):
    uid, _ = create_user()
    app = oauth2_app(include_claims_in_id_token=False)
    for which in ("id_token", "access_token"):
        c = code_claims(lighttpd, app, uid, which=which)
        assert "email" not in c and "preferred_username" not in c
        assert c["sub"] == oauth2_uid(uid)


def test_custom_mappings_merge_and_failures(lighttpd):
    uid, _ = create_user()
    sql("UPDATE users SET attributes = %s WHERE id = %s",
        '{"dept": "ops", "roles": ["a", "b"], "nested": {"x": 1}}', uid)
    app = oauth2_app(scopes=("openid",))
    # Mappings run in name order; objects merge member by member and arrays append.
    oauth2_add_mapping(app, oauth2_mapping("custom", (
        "return {dept = request.user.attributes.dept, roles = request.user.attributes.roles, "
        "info = {first = true}, app = application.slug, prov = provider.name}"),
        name="a-" + secrets.token_hex(4)))
    oauth2_add_mapping(app, oauth2_mapping("custom", (
        "return {roles = {'c'}, info = {second = 2}, dept = 'overridden'}"),
        name="b-" + secrets.token_hex(4)))
    # A mapping that fails, one that returns no table, one too slow: skipped, logged.
    oauth2_add_mapping(app, oauth2_mapping("custom", "error('broken mapping')",
                                           name="c-" + secrets.token_hex(4)))
    oauth2_add_mapping(app, oauth2_mapping("custom", "return 'not a table'",
                                           name="d-" + secrets.token_hex(4)))
    oauth2_add_mapping(app, oauth2_mapping("custom", "while true do end",
                                           name="e-" + secrets.token_hex(4)))
    oauth2_add_mapping(app, oauth2_mapping("custom", "return {last = request.user.username}",
                                           name="f-" + secrets.token_hex(4)))
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    c = code_claims(lighttpd, app, uid, scopes=("openid", "custom"))
    assert c["dept"] == "overridden"
    assert c["roles"] == ["a", "b", "c"]
    assert c["info"] == {"first": True, "second": 2}
    assert c["app"] == app["slug"] and c["prov"] == app["name"]
    assert c["last"] == username
    # A scope the client did not ask for runs no mapping.
    c = code_claims(lighttpd, app, uid, scopes=("openid",))
    assert "dept" not in c


def test_mapping_changes_show_at_once(lighttpd):
    app = oauth2_app(scopes=("openid",))
    pm = oauth2_mapping("extra", "return {version = 1}")
    oauth2_add_mapping(app, pm)
    assert cc_claims(lighttpd, app, "openid extra")["version"] == 1
    sql("UPDATE property_mappings SET expression = 'return {version = 2}' WHERE pm_uuid = %s",
        pm)
    assert cc_claims(lighttpd, app, "openid extra")["version"] == 2
    sql("DELETE FROM provider_property_mappings WHERE pm_uuid = %s", pm)
    c = cc_claims(lighttpd, app, "openid extra")
    assert "version" not in c and c["scope"] == "openid"


def test_service_account_changes_show_at_once(lighttpd):
    app = oauth2_app()
    c = cc_claims(lighttpd, app)
    assert c["groups"] == []
    sa = sa_id(app)
    sql("UPDATE users SET email = 'svc@example.org' WHERE id = %s", sa)
    assert cc_claims(lighttpd, app)["email"] == "svc@example.org"
    g = sql("INSERT INTO groups (name) VALUES (%s) RETURNING uuid", "svc-" +
            secrets.token_hex(4))[0][0]
    sql("INSERT INTO group_users (group_uuid, user_id) VALUES (%s, %s)", g, sa)
    assert len(cc_claims(lighttpd, app)["groups"]) == 1
    sql("UPDATE groups SET name = 'renamed-' || name WHERE uuid = %s", g)
    assert cc_claims(lighttpd, app)["groups"][0].startswith("renamed-")


@pytest.mark.parametrize("mode", ["hashed_user_id", "user_id", "user_uuid", "user_username",
                                  "user_email", "user_upn"])
def test_sub_modes(lighttpd, mode):
    uid, _ = create_user(email="sub-%s@example.org" % secrets.token_hex(3))
    row = sql("SELECT uuid::text, username, email FROM users WHERE id = %s", uid)[0]
    app = oauth2_app(sub_mode=mode)
    want = {"hashed_user_id": oauth2_uid(uid), "user_id": str(uid), "user_uuid": row[0],
            "user_username": row[1], "user_email": row[2], "user_upn": oauth2_uid(uid)}[mode]
    assert code_claims(lighttpd, app, uid)["sub"] == want
    assert code_claims(lighttpd, app, uid, which="access_token")["sub"] == want
    if mode == "user_upn":
        sql("UPDATE users SET attributes = '{\"upn\": \"ada@corp.example\"}' WHERE id = %s", uid)
        assert code_claims(lighttpd, app, uid)["sub"] == "ada@corp.example"


def test_issuer_modes(lighttpd):
    uid, _ = create_user()
    app = oauth2_app(issuer_mode="per_provider")
    assert code_claims(lighttpd, app, uid)["iss"] == "%s/application/o/%s/" % (lighttpd,
                                                                                app["slug"])
    app = oauth2_app(issuer_mode="global")
    assert code_claims(lighttpd, app, uid)["iss"] == lighttpd + "/"


def test_validity_settings(lighttpd):
    uid, _ = create_user()
    app = oauth2_app(access_token_validity="minutes=5", refresh_token_validity="hours=2")
    code = oauth2_code_row(app, uid, scopes=("openid", "offline_access"))
    r = requests.post(oauth2_token_url(lighttpd), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://rp.example/cb"}, auth=(app["client_id"], app["client_secret"]))
    body = r.json()
    assert body["expires_in"] == 300
    c = oauth2_verify(body["access_token"], app["client_secret"])[1]
    assert c["exp"] - c["iat"] == 300
    left = sql("SELECT extract(epoch FROM expires - now()) FROM oauth2_refresh_tokens "
               "WHERE token_digest = %s",
               hashlib.sha256(body["refresh_token"].encode()).hexdigest())[0][0]
    assert 7100 < float(left) <= 7200


def test_app_password_user_claims(lighttpd):
    uid, _ = create_user(name="Grace Hopper")
    username = sql("SELECT username FROM users WHERE id = %s", uid)[0][0]
    key = oauth2_app_password(uid)
    app = oauth2_app()
    r = requests.post(oauth2_token_url(lighttpd), data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": username, "password": key,
        "scope": "openid profile"})
    assert r.status_code == 200, r.text
    c = oauth2_verify(r.json()["access_token"], app["client_secret"])[1]
    assert c["name"] == "Grace Hopper" and c["sub"] == oauth2_uid(uid)
    assert abs(c["auth_time"] - time.time()) < 60
