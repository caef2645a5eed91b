"""/api/v3/oauth2/access_tokens/, refresh_tokens/ and authorization_codes/: the grants the
OAuth2 provider issued, as authentik's API lists them; who sees them, revoking by deletion, and
that no secret or digest ever leaves."""
import hashlib
import json
import secrets
import time

import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import (Api, create_user, oauth2_access_row, oauth2_app, oauth2_code_row,
                      oauth2_refresh_row, oauth2_token_url, sql, statements_of)

TOKEN_FIELDS = {"pk", "provider", "user", "is_expired", "expires", "scope", "id_token", "revoked"}
CODE_FIELDS = {"pk", "provider", "user", "is_expired", "expires", "scope"}
PERM = "authentik_providers_oauth2.%s_%s"
KINDS = ("access_tokens", "refresh_tokens", "authorization_codes")
MODELS = {"access_tokens": "accesstoken", "refresh_tokens": "refreshtoken",
          "authorization_codes": "authorizationcode"}


def grant_id(kind, secret):
    table = {"access_tokens": ("oauth2_access_tokens", "token_digest"),
             "refresh_tokens": ("oauth2_refresh_tokens", "token_digest"),
             "authorization_codes": ("oauth2_authorization_codes", "code_digest")}[kind]
    return sql("SELECT id FROM %s WHERE %s = %%s" % table,
               hashlib.sha256(secret.encode()).hexdigest())[0][0]


def make_grant(kind, app, uid, **kw):
    """A grant of user uid on app's provider; returns (id, the secret the client holds)."""
    if kind == "access_tokens":
        token = oauth2_access_row(app, uid, **kw)
    elif kind == "refresh_tokens":
        token, _ = oauth2_refresh_row(app, uid, **kw)
    else:
        token = oauth2_code_row(app, uid, **kw)
    return grant_id(kind, token), token


def test_shapes(admin):
    app = oauth2_app()
    uid, _ = create_user(name="Grant Holder")
    at, at_secret = make_grant("access_tokens", app, uid, scopes=("openid", "email"),
                               claims={"email": "x@example.com"})
    rt, rt_secret = make_grant("refresh_tokens", app, uid, id_claims={"nonce": "n-1"})
    code, code_secret = make_grant("authorization_codes", app, uid, scopes=("openid",))
    provider = admin.get("providers/oauth2/%d/" % app["provider_id"]).json()
    user = admin.get("core/users/%d/" % uid).json()

    t = admin.get("oauth2/access_tokens/%d/" % at).json()
    assert set(t) == TOKEN_FIELDS
    assert t["pk"] == at and t["scope"] == ["openid", "email"] and t["revoked"] is False
    assert t["is_expired"] is False and t["expires"].endswith("Z")
    # The provider as OAuth2ProviderSerializer has it, less the client's secret.
    assert "client_secret" not in t["provider"]
    assert t["provider"] == {k: v for k, v in provider.items() if k != "client_secret"}
    assert set(t["user"]) == set(user) and t["user"]["pk"] == uid
    assert t["user"]["username"] == user["username"] and t["user"]["name"] == "Grant Holder"
    claims = json.loads(t["id_token"])
    assert claims["email"] == "x@example.com" and claims["aud"] == app["client_id"]

    t = admin.get("oauth2/refresh_tokens/%d/" % rt).json()
    assert set(t) == TOKEN_FIELDS and t["scope"] == ["openid", "offline_access"]
    assert json.loads(t["id_token"])["nonce"] == "n-1"

    c = admin.get("oauth2/authorization_codes/%d/" % code).json()
    assert set(c) == CODE_FIELDS and c["scope"] == ["openid"] and c["is_expired"] is False
    assert c["provider"]["pk"] == app["provider_id"]

    # Neither what the client holds nor its digest nor the client secret leaves.
    for kind, pk, secret in (("access_tokens", at, at_secret), ("refresh_tokens", rt, rt_secret),
                             ("authorization_codes", code, code_secret)):
        for r in (admin.get("oauth2/%s/%d/" % (kind, pk)),
                  admin.get("oauth2/%s/" % kind, params={"provider": app["provider_id"]})):
            assert r.status_code == 200
            assert secret not in r.text
            assert hashlib.sha256(secret.encode()).hexdigest() not in r.text
            assert app["client_secret"] not in r.text
            assert "digest" not in r.text


def test_expired_and_revoked(admin):
    app = oauth2_app()
    uid, _ = create_user()
    old, _ = make_grant("access_tokens", app, uid, expires_in=-60, revoked=True)
    t = admin.get("oauth2/access_tokens/%d/" % old).json()
    assert t["is_expired"] is True and t["revoked"] is True
    code, _ = make_grant("authorization_codes", app, uid, expires_in=-1)
    assert admin.get("oauth2/authorization_codes/%d/" % code).json()["is_expired"] is True


def test_owner_sees_own_grants_only(as_user, admin):
    app = oauth2_app()
    me_api, me = as_user()
    other, _ = create_user()
    for kind in KINDS:
        mine, _ = make_grant(kind, app, me)
        theirs, _ = make_grant(kind, app, other)
        r = me_api.get("oauth2/%s/" % kind)
        assert r.status_code == 200
        assert [x["pk"] for x in r.json()["results"]] == [mine], kind
        assert me_api.get("oauth2/%s/%d/" % (kind, mine)).status_code == 200
        # Another user's grant does not exist for it.
        assert me_api.get("oauth2/%s/%d/" % (kind, theirs)).status_code == 404
        assert me_api.delete("oauth2/%s/%d/" % (kind, theirs)).status_code == 404
        # Seeing one's own grant does not let one delete it: authentik's ObjectPermissions
        # want the delete permission.
        assert me_api.delete("oauth2/%s/%d/" % (kind, mine)).status_code == 403
        assert admin.get("oauth2/%s/%d/" % (kind, mine)).status_code == 200


def test_view_and_delete_permissions(as_user, admin):
    app = oauth2_app()
    a, _ = create_user()
    b, _ = create_user()
    for kind in KINDS:
        model = MODELS[kind]
        ga, _ = make_grant(kind, app, a)
        gb, _ = make_grant(kind, app, b)
        viewer, _ = as_user(perms=[PERM % ("view", model)])
        r = viewer.get("oauth2/%s/" % kind, params={"provider": app["provider_id"]})
        assert sorted(x["pk"] for x in r.json()["results"]) == sorted([ga, gb]), kind
        assert viewer.get("oauth2/%s/%d/" % (kind, ga)).status_code == 200
        assert viewer.delete("oauth2/%s/%d/" % (kind, ga)).status_code == 403
        one, _ = as_user(object_perms=[(PERM % ("view", model), ga),
                                       (PERM % ("delete", model), ga)])
        r = one.get("oauth2/%s/" % kind, params={"provider": app["provider_id"]})
        assert [x["pk"] for x in r.json()["results"]] == [ga]
        assert one.get("oauth2/%s/%d/" % (kind, gb)).status_code == 404
        assert one.delete("oauth2/%s/%d/" % (kind, ga)).status_code == 204
        assert admin.get("oauth2/%s/%d/" % (kind, ga)).status_code == 404
        deleter, _ = as_user(perms=[PERM % ("view", model), PERM % ("delete", model)])
        assert deleter.delete("oauth2/%s/%d/" % (kind, gb)).status_code == 204
        assert deleter.delete("oauth2/%s/%d/" % (kind, gb)).status_code == 404


def test_filters_ordering_and_errors(admin, lighttpd):
    app1 = oauth2_app()
    app2 = oauth2_app()
    u1, _ = create_user()
    u2, _ = create_user()
    g11, _ = make_grant("access_tokens", app1, u1, expires_in=300)
    g12, _ = make_grant("access_tokens", app1, u2, expires_in=100)
    g21, _ = make_grant("access_tokens", app2, u1, expires_in=200)

    def pks(**params):
        r = admin.get("oauth2/access_tokens/", params=params)
        assert r.status_code == 200, r.text
        return [x["pk"] for x in r.json()["results"]]

    assert pks(user=u1) == [g11, g21]
    assert pks(provider=app1["provider_id"]) == [g12, g11]  # provider, then expires
    assert pks(provider=app1["provider_id"], user=u2) == [g12]
    assert pks(user=u1, ordering="-expires") == [g11, g21]
    assert pks(user=u1, ordering="-pk") == [g21, g11]
    assert pks(user=987654321) == []
    r = admin.get("oauth2/access_tokens/", params={"user": "me"})
    assert r.status_code == 400 and "user" in r.json()
    r = admin.get("oauth2/refresh_tokens/", params={"provider": "1; DROP TABLE x"})
    assert r.status_code == 400
    for bad in ("abc", "-1", "1.0", "99999999999999999999"):
        assert admin.get("oauth2/access_tokens/%s/" % bad).status_code == 404
    assert admin.get("oauth2/authorization_codes/999999999999/").status_code == 404
    anon = Api(lighttpd, None)
    for kind in KINDS:
        assert anon.get("oauth2/%s/" % kind).status_code == 401
        assert anon.delete("oauth2/%s/%d/" % (kind, g11)).status_code == 401


def test_deleting_revokes_a_real_token(admin, lighttpd):
    """A token the token endpoint issued (client_credentials), listed, then revoked by
    deletion: userinfo no longer takes it."""
    app = oauth2_app()
    s = OAuth2Session(app["client_id"], app["client_secret"], scope="openid email")
    tok = s.fetch_token(oauth2_token_url(lighttpd), grant_type="client_credentials")
    userinfo = lighttpd + "/application/o/userinfo/"
    hdr = {"Authorization": "Bearer " + tok["access_token"]}
    assert requests.get(userinfo, headers=hdr).status_code == 200
    r = admin.get("oauth2/access_tokens/", params={"provider": app["provider_id"]})
    listed = r.json()["results"]
    assert len(listed) == 1 and listed[0]["scope"] == ["openid", "email"]
    assert listed[0]["user"]["username"] == "ak-%s-client_credentials" % app["name"]
    assert tok["access_token"] not in r.text
    claims = json.loads(listed[0]["id_token"])
    assert claims["aud"] == app["client_id"]
    assert admin.delete("oauth2/access_tokens/%d/" % listed[0]["pk"]).status_code == 204
    assert requests.get(userinfo, headers=hdr).status_code == 401


def test_grants_go_with_their_provider(admin):
    app = oauth2_app()
    uid, _ = create_user()
    ids = {kind: make_grant(kind, app, uid)[0] for kind in KINDS}
    assert admin.delete("providers/oauth2/%d/" % app["provider_id"]).status_code == 204
    for kind, pk in ids.items():
        assert admin.get("oauth2/%s/%d/" % (kind, pk)).status_code == 404


def test_lists_at_scale_are_one_statement_per_page(admin):
    apps = [oauth2_app() for _ in range(6)]
    users = [create_user()[0] for _ in range(10)]
    for i in range(60):
        oauth2_access_row(apps[i % 6], users[i % 10], scopes=("openid", "profile"))
        oauth2_refresh_row(apps[i % 6], users[i % 10])
    ids = [a["provider_id"] for a in apps]

    def page(kind):
        out = []
        for pid in ids:
            r = admin.get("oauth2/%s/" % kind, params={"provider": pid, "page_size": 100})
            assert r.status_code == 200
            out.extend(r.json()["results"])
        return out

    for kind in ("access_tokens", "refresh_tokens"):
        rows = page(kind)
        assert len(rows) == 60
        assert {x["provider"]["pk"] for x in rows} == set(ids)
        assert {x["user"]["pk"] for x in rows} == set(users)
    # One provider's page of ten: a count and one query, not one per row.
    n = statements_of(lambda: admin.get("oauth2/access_tokens/", params={"page_size": 100,
                                                                         "user": users[0]}))
    assert n < 20, n
    big = oauth2_app()
    for i in range(60):
        oauth2_access_row(big, users[i % 10])
    n = statements_of(lambda: admin.get("oauth2/access_tokens/", params={
        "page_size": 100, "provider": big["provider_id"]}))
    assert n < 20, n
    assert len(admin.get("oauth2/access_tokens/", params={
        "page_size": 100, "provider": big["provider_id"]}).json()["results"]) == 60
