"""/api/v3/core/applications/: applications by slug, access by policy (none bound yet)."""
import secrets

from conftest import Api, create_user, events_for, sql


def slug(prefix="app"):
    return prefix + "-" + secrets.token_hex(5)


def make_app(admin, **fields):
    body = {"name": fields.pop("name", "App " + secrets.token_hex(3)), "slug": slug()}
    body.update(fields)
    r = admin.post("core/applications/", body)
    assert r.status_code == 201, r.text
    return r.json()


FIELDS = {"pk", "name", "slug", "provider", "provider_obj", "backchannel_providers",
          "backchannel_providers_obj", "launch_url", "open_in_new_tab", "meta_launch_url",
          "meta_icon", "meta_icon_url", "meta_icon_themed_urls", "meta_description",
          "meta_publisher", "policy_engine_mode", "group"}


def test_create_defaults_and_get(admin):
    s = slug()
    r = admin.post("core/applications/", {"name": "Grafana", "slug": s})
    assert r.status_code == 201, r.text
    a = r.json()
    assert set(a) == FIELDS
    assert a["provider"] is None and a["provider_obj"] is None and a["launch_url"] is None
    assert a["backchannel_providers"] == [] and a["policy_engine_mode"] == "any"
    assert a["open_in_new_tab"] is False and a["meta_icon_url"] is None and a["group"] == ""
    assert admin.get("core/applications/%s/" % s).json() == a
    ev = events_for("application", a["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["diff"]["slug"] == {"previous": None, "new": s}


def test_launch_url_and_fields(admin):
    a = make_app(admin, meta_launch_url="https://grafana.example/%(username)s", meta_icon="fa://x",
                 meta_description="d", meta_publisher="p", group="g", open_in_new_tab=True,
                 policy_engine_mode="all")
    assert a["launch_url"] == "https://grafana.example/%(username)s"
    assert a["meta_icon_url"] == "fa://x" and a["open_in_new_tab"] is True
    assert (a["meta_description"], a["meta_publisher"], a["group"]) == ("d", "p", "g")
    for good in ("http://localhost:8000/x", "https://10.0.0.1/", "blank://blank", ""):
        assert admin.patch("core/applications/%s/" % a["slug"],
                           {"meta_launch_url": good}).status_code == 200, good
    for bad in ("not a url", "javascript://alert(1)", "goauthentik.io://x", "http://", 5):
        r = admin.patch("core/applications/%s/" % a["slug"], {"meta_launch_url": bad})
        assert r.status_code == 400 and "meta_launch_url" in r.json(), bad


def test_validation(admin):
    r = admin.post("core/applications/", {})
    assert r.status_code == 400
    assert r.json() == {"name": ["This field is required."], "slug": ["This field is required."]}
    r = admin.post("core/applications/", {"name": "x", "slug": "bad slug"})
    assert r.status_code == 400 and "slug" in r.json()["slug"][0]
    r = admin.post("core/applications/", {"name": "x", "slug": "authorize"})
    assert r.json() == {"slug": ["The slug 'authorize' is reserved and cannot be used for "
                                 "applications."]}
    r = admin.post("core/applications/", {"name": "", "slug": slug()})
    assert r.json() == {"name": ["This field may not be blank."]}
    # A provider that does not exist (providers binding: test_api_providers_oauth2.py).
    r = admin.post("core/applications/", {"name": "x", "slug": slug(), "provider": 2147483647})
    assert r.json() == {"provider": ['Invalid pk "2147483647" - object does not exist.']}
    r = admin.post("core/applications/", {"name": "x", "slug": slug(), "provider": 2 ** 40})
    assert r.json() == {"provider": ['Invalid pk "%d" - object does not exist.' % 2 ** 40]}
    r = admin.post("core/applications/", {"name": "x", "slug": slug(), "provider": True})
    assert r.json() == {"provider": ["Incorrect type. Expected pk value, received bool."]}
    r = admin.post("core/applications/", {"name": "x", "slug": slug(), "provider": "7"})
    assert r.json() == {"provider": ["Incorrect type. Expected pk value, received str."]}
    r = admin.post("core/applications/", {"name": "x", "slug": slug(), "provider": None,
                                          "backchannel_providers": []})
    assert r.status_code == 201
    r = admin.post("core/applications/", {"name": "x", "slug": slug(),
                                          "backchannel_providers": [3]})
    assert r.json() == {"backchannel_providers": ['Invalid pk "3" - object does not exist.']}
    r = admin.post("core/applications/", {"name": "x", "slug": slug(),
                                          "policy_engine_mode": "some"})
    assert r.status_code == 400 and "policy_engine_mode" in r.json()
    r = admin.post("core/applications/", {"name": ["x"], "slug": slug(), "open_in_new_tab": 1})
    assert r.status_code == 400 and set(r.json()) == {"name", "open_in_new_tab"}


def test_duplicate_slug(admin):
    a = make_app(admin)
    r = admin.post("core/applications/", {"name": "other", "slug": a["slug"]})
    assert r.status_code == 400
    assert r.json() == {"slug": ["application with this slug already exists."]}
    b = make_app(admin)
    r = admin.patch("core/applications/%s/" % b["slug"], {"slug": a["slug"]})
    assert r.status_code == 400 and "slug" in r.json()


def test_update_put_patch_delete_events(admin):
    a = make_app(admin, name="Before")
    r = admin.patch("core/applications/%s/" % a["slug"], {"name": "After", "pk": "ignored",
                                                         "launch_url": "ignored"})
    assert r.status_code == 200 and r.json()["name"] == "After" and r.json()["pk"] == a["pk"]
    ev = events_for("application", a["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"name": {"previous": "Before", "new": "After"}}
    r = admin.put("core/applications/%s/" % a["slug"], {"name": "Put"})
    assert r.status_code == 400 and r.json() == {"slug": ["This field is required."]}
    new = slug()
    r = admin.put("core/applications/%s/" % a["slug"], {"name": "Put", "slug": new})
    assert r.status_code == 200 and r.json()["slug"] == new
    assert admin.get("core/applications/%s/" % a["slug"]).status_code == 404
    assert admin.delete("core/applications/%s/" % new).status_code == 204
    assert admin.get("core/applications/%s/" % new).status_code == 404
    ev = events_for("application", a["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["diff"]["name"]["previous"] == "Put"


def test_permissions(admin, as_user):
    a = make_app(admin)
    b = make_app(admin)
    nobody, _ = as_user()
    assert nobody.get("core/applications/%s/" % a["slug"]).status_code == 403
    assert nobody.post("core/applications/", {"name": "x", "slug": slug()}).status_code == 403
    assert nobody.patch("core/applications/%s/" % a["slug"], {"name": "x"}).status_code == 403
    assert nobody.delete("core/applications/%s/" % a["slug"]).status_code == 403
    adder, _ = as_user(perms=["authentik_core.add_application"])
    assert adder.post("core/applications/", {"name": "x", "slug": slug()}).status_code == 201
    obj, _ = as_user(object_perms=[("authentik_core.view_application", a["pk"]),
                                   ("authentik_core.change_application", a["pk"]),
                                   ("authentik_core.delete_application", a["pk"])])
    assert obj.get("core/applications/%s/" % a["slug"]).status_code == 200
    assert obj.get("core/applications/%s/" % b["slug"]).status_code == 403
    assert obj.patch("core/applications/%s/" % a["slug"], {"name": "y"}).status_code == 200
    assert obj.patch("core/applications/%s/" % b["slug"], {"name": "y"}).status_code == 403
    assert obj.delete("core/applications/%s/" % b["slug"]).status_code == 403
    assert obj.delete("core/applications/%s/" % a["slug"]).status_code == 204
    assert admin.get("core/applications/nope-%s/" % secrets.token_hex(3)).status_code == 404


def test_list_is_by_access_not_rbac(admin, as_user):
    a = make_app(admin, meta_launch_url="https://a.example/")
    b = make_app(admin)
    # Without bindings every active user may access every application (authentik's default),
    # so even a user without view_application sees them in its list.
    nobody, _ = as_user()
    r = nobody.get("core/applications/", params={"page_size": 100, "search": a["slug"]})
    assert [x["slug"] for x in r.json()["results"]] == [a["slug"]]
    r = nobody.get("core/applications/", params={"slug": b["slug"]})
    assert [x["slug"] for x in r.json()["results"]] == [b["slug"]]
    r = nobody.get("core/applications/", params={"only_with_launch_url": "true",
                                                 "page_size": 100})
    slugs = [x["slug"] for x in r.json()["results"]]
    assert a["slug"] in slugs and b["slug"] not in slugs
    r = admin.get("core/applications/", params={"superuser_full_list": "true",
                                                "slug": b["slug"]})
    assert r.json()["pagination"]["count"] == 1


def test_list_for_user(admin, as_user):
    a = make_app(admin)
    target, _ = create_user()
    inactive, _ = create_user()
    sql("UPDATE users SET is_active = false WHERE id = %s", inactive)
    r = admin.get("core/applications/", params={"for_user": target, "slug": a["slug"]})
    assert r.status_code == 200 and r.json()["pagination"]["count"] == 1
    r = admin.get("core/applications/", params={"for_user": inactive, "slug": a["slug"]})
    assert r.status_code == 200 and r.json()["results"] == []
    r = admin.get("core/applications/", params={"for_user": 987654321})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    r = admin.get("core/applications/", params={"for_user": "abc"})
    assert r.status_code == 400 and r.json() == ["Invalid input."]
    nobody, _ = as_user()
    r = nobody.get("core/applications/", params={"for_user": target})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    allowed, _ = as_user(object_perms=[("authentik_core.view_user_applications", target)])
    r = allowed.get("core/applications/", params={"for_user": target, "slug": a["slug"]})
    assert r.status_code == 200 and r.json()["pagination"]["count"] == 1


def test_list_follows_policy_bindings(admin, as_user):
    """An application bound to a group is listed for its members only (and for for_user=),
    the way check_access decides; an unbound one for everybody."""
    bound = make_app(admin)
    free = make_app(admin)
    group = admin.post("core/groups/", {"name": "apps-" + secrets.token_hex(4)}).json()
    r = admin.post("policies/bindings/", {"target": bound["pk"], "group": group["pk"],
                                          "order": 0})
    assert r.status_code == 201, r.text
    outsider, outsider_id = as_user()
    member, member_id = as_user()
    assert admin.post("core/groups/%s/add_user/" % group["pk"],
                      {"pk": member_id}).status_code == 204

    def listed(api, **params):
        r = api.get("core/applications/", params=dict(page_size=100, **params))
        assert r.status_code == 200, r.text
        return {x["slug"] for x in r.json()["results"]}

    for slug in (bound["slug"], free["slug"]):
        assert slug in listed(member, search=slug)
    assert bound["slug"] not in listed(outsider, search=bound["slug"])
    assert free["slug"] in listed(outsider, search=free["slug"])
    url = "core/applications/%s/check_access/" % bound["slug"]
    assert outsider.get(url).json()["passing"] is False
    assert member.get(url).json()["passing"] is True
    assert bound["slug"] not in listed(admin, for_user=outsider_id, search=bound["slug"])
    assert bound["slug"] in listed(admin, for_user=member_id, search=bound["slug"])
    # A disabled binding binds nothing.
    b = admin.get("policies/bindings/", params={"target": bound["pk"]}).json()["results"][0]
    admin.patch("policies/bindings/%s/" % b["pk"], {"enabled": False})
    assert bound["slug"] in listed(outsider, search=bound["slug"])


def test_check_access(admin, as_user):
    a = make_app(admin)
    target, _ = create_user()
    inactive, _ = create_user()
    sql("UPDATE users SET is_active = false WHERE id = %s", inactive)
    url = "core/applications/%s/check_access/" % a["slug"]
    nobody, _ = as_user()
    r = nobody.get(url)
    assert r.status_code == 200
    assert r.json() == {"passing": True, "messages": [], "log_messages": []}
    # for_user is a superuser's question; for anyone else it is ignored.
    assert nobody.get(url, params={"for_user": inactive}).json()["passing"] is True
    assert admin.get(url, params={"for_user": target}).json()["passing"] is True
    assert admin.get(url, params={"for_user": inactive}).json()["passing"] is False
    r = admin.get(url, params={"for_user": "x"})
    assert r.status_code == 400 and r.json() == {"for_user": "for_user must be numerical"}
    r = admin.get(url, params={"for_user": 987654321})
    assert r.status_code == 400 and r.json() == {"for_user": "User not found"}
    assert admin.get("core/applications/nope-x/check_access/").status_code == 404


def test_unauthenticated_and_malformed(lighttpd, admin):
    api = Api(lighttpd, None)
    assert api.get("core/applications/").status_code == 401
    assert api.get("core/applications/x/check_access/").status_code == 401
    r = admin.post("core/applications/", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_strings_verbatim(admin):
    weird = "Robert'); DROP TABLE applications;-- \"\u00fc\u00df\u2603\" " + secrets.token_hex(3)
    a = make_app(admin, name=weird, meta_description=weird, group=weird)
    got = admin.get("core/applications/%s/" % a["slug"]).json()
    assert got["name"] == weird and got["meta_description"] == weird and got["group"] == weird
    r = admin.get("core/applications/", params={"search": "DROP TABLE applications"})
    assert a["slug"] in [x["slug"] for x in r.json()["results"]]
    r = admin.get("core/applications/", params={"name": weird})
    assert [x["slug"] for x in r.json()["results"]] == [a["slug"]]
