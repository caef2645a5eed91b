"""/api/v3/crypto/certificatekeypairs/: certificate key pairs, with the private key reachable only
through view_private_key/ (superusers holding the permission), and every view audited."""
import datetime
import json
import secrets
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import events_for, sql

BASE = "crypto/certificatekeypairs/"
FIELDS = {"pk", "name", "fingerprint_sha256", "fingerprint_sha1", "cert_expiry", "cert_subject",
          "private_key_available", "key_type", "certificate_download_url",
          "private_key_download_url", "managed"}


def make_pem(cn="test.example", kind="rsa", days=30):
    """A self-signed certificate and its unencrypted PKCS#8 key, both PEM text."""
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert_pem, key_pem, cert


def key_body(key_pem):
    """The base64 body of a PEM key, the part that must never leak."""
    return "".join(key_pem.strip().splitlines()[1:-1])[:64]


@pytest.fixture(scope="module")
def pem():
    return make_pem()


def create(api, name=None, with_key=True, pem=None):
    cert_pem, key_pem, _ = pem or make_pem()
    body = {"name": name or "kp-" + secrets.token_hex(4), "certificate_data": cert_pem}
    if with_key:
        body["key_data"] = key_pem
    r = api.post(BASE, json=body)
    assert r.status_code == 201, r.text
    return r.json(), key_pem


def test_create_fields_and_no_key_in_output(admin, pem):
    cert_pem, key_pem, cert = pem
    name = "kp-" + secrets.token_hex(4)
    r = admin.post(BASE, json={"name": name, "certificate_data": cert_pem, "key_data": key_pem})
    assert r.status_code == 201, r.text
    o = r.json()
    assert set(o) == FIELDS
    assert o["name"] == name and o["private_key_available"] is True and o["key_type"] == "rsa"
    assert o["managed"] is None
    assert o["cert_subject"] == "CN=test.example"
    assert o["fingerprint_sha256"] == cert.fingerprint(hashes.SHA256()).hex(":")
    assert o["fingerprint_sha1"] == cert.fingerprint(hashes.SHA1()).hex(":")
    assert o["cert_expiry"].endswith("Z")
    assert o["certificate_download_url"] == "/api/v3/crypto/certificatekeypairs/%s/view_certificate/?download" % o["pk"]
    assert o["private_key_download_url"] == "/api/v3/crypto/certificatekeypairs/%s/view_private_key/?download" % o["pk"]
    secret = key_body(key_pem)
    assert secret not in r.text and "PRIVATE KEY" not in r.text
    for text in (admin.get(BASE + o["pk"] + "/").text, admin.get(BASE, params={"page_size": 100}).text,
                 admin.get(BASE, params={"name": name}).text):
        assert secret not in text and "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
    # stored sealed, not as PEM
    stored = sql("SELECT key_data_sealed FROM certificate_key_pairs WHERE kp_uuid = %s", o["pk"])[0][0]
    assert stored.startswith("v1:") and "PRIVATE" not in stored
    ev = events_for("certificatekeypair", o["pk"], "model_created")
    assert len(ev) == 1 and ev[0][0]["model"]["name"] == name and ev[0][0]["model"]["app"] == "authentik_crypto"
    assert secret not in json.dumps(ev[0][0])


def test_create_without_key(admin):
    o, _ = create(admin, with_key=False)
    assert o["private_key_available"] is False
    o2, _ = create(admin, pem=(make_pem()[0], "", None))
    assert o2["private_key_available"] is False


def test_create_ecdsa(admin):
    o, _ = create(admin, pem=make_pem(kind="ec"))
    assert o["key_type"] == "ec"


@pytest.mark.parametrize("body,field,msg", [
    ({"certificate_data": "x"}, "name", "This field is required."),
    ({"name": "a"}, "certificate_data", "This field is required."),
    ({"name": "", "certificate_data": "x"}, "name", "This field may not be blank."),
    ({"name": "a", "certificate_data": "not a certificate"}, "certificate_data", "Unable to load certificate."),
    ({"name": "a", "certificate_data": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
     "certificate_data", "Unable to load certificate."),
    ({"name": 5, "certificate_data": "x"}, "name", "Not a valid string."),
    ({"name": "a", "certificate_data": ["x"]}, "certificate_data", "Not a valid string."),
    ({"name": None, "certificate_data": "x"}, "name", "This field may not be null."),
])
def test_create_validation(admin, body, field, msg):
    r = admin.post(BASE, json=body)
    assert r.status_code == 400, r.text
    assert msg in r.json()[field]


def test_create_bad_key(admin, pem):
    cert_pem, _, _ = pem
    r = admin.post(BASE, json={"name": "kp-" + secrets.token_hex(4), "certificate_data": cert_pem,
                               "key_data": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})
    assert r.status_code == 400
    assert r.json() == {"key_data": ["Unable to load private key (possibly encrypted?)."]}
    # an encrypted key cannot be loaded either
    _, _, _ = pem
    k = rsa.generate_private_key(65537, 2048)
    enc = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.BestAvailableEncryption(b"pw")).decode()
    r = admin.post(BASE, json={"name": "kp-" + secrets.token_hex(4), "certificate_data": cert_pem, "key_data": enc})
    assert r.status_code == 400 and "key_data" in r.json()


def test_create_key_mismatch(admin, pem):
    cert_pem, _, _ = pem
    other_key = make_pem()[1]
    name = "kp-" + secrets.token_hex(4)
    r = admin.post(BASE, json={"name": name, "certificate_data": cert_pem, "key_data": other_key})
    assert r.status_code == 400
    assert r.json() == {"key_data": ["The private key does not match the certificate."]}
    assert sql("SELECT count(*) FROM certificate_key_pairs WHERE name = %s", name)[0][0] == 0


def test_create_duplicate_name(admin, pem):
    o, _ = create(admin)
    r = admin.post(BASE, json={"name": o["name"], "certificate_data": pem[0]})
    assert r.status_code == 400
    assert r.json() == {"name": ["Certificate-Key Pair with this name already exists."]}
    assert len(events_for("certificatekeypair", o["pk"], "model_created")) == 1


def test_malformed_json(admin):
    r = admin.post(BASE, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = admin.post(BASE, data="[1, 2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "non_field_errors" in r.json()
    r = admin.post(BASE + "generate/", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_strings_verbatim(admin):
    name = "x'; DROP TABLE certificate_key_pairs; -- \"ü\U0001F600" + secrets.token_hex(3)
    o, _ = create(admin, name=name)
    assert admin.get(BASE + o["pk"] + "/").json()["name"] == name


def test_requires_auth(lighttpd):
    from conftest import Api
    anon = Api(lighttpd, None)
    assert anon.get(BASE).status_code == 401
    assert anon.post(BASE, json={}).status_code == 401
    assert Api(lighttpd, "nope").get(BASE).status_code == 401


def test_permissions_model_level(admin, as_user, pem):
    o, _ = create(admin)
    pk = o["pk"]
    nobody, _ = as_user()
    assert nobody.get(BASE + pk + "/").status_code == 403
    assert nobody.post(BASE, json={"name": "n", "certificate_data": pem[0]}).status_code == 403
    assert nobody.patch(BASE + pk + "/", json={"name": "n2"}).status_code == 403
    assert nobody.delete(BASE + pk + "/").status_code == 403
    assert nobody.post(BASE + "generate/", json={"common_name": "x", "validity_days": 3}).status_code == 403
    assert nobody.get(BASE + pk + "/view_certificate/").status_code == 403
    assert nobody.get(BASE + pk + "/view_private_key/").status_code == 403
    assert nobody.get(BASE).json()["results"] == []

    viewer, _ = as_user(perms=["authentik_crypto.view_certificatekeypair"])
    assert viewer.get(BASE + pk + "/").status_code == 200
    assert viewer.patch(BASE + pk + "/", json={"name": "n2"}).status_code == 403
    assert any(x["pk"] == pk for x in viewer.get(BASE, params={"name": o["name"]}).json()["results"])

    adder, _ = as_user(perms=["authentik_crypto.add_certificatekeypair"])
    r = adder.post(BASE, json={"name": "kp-" + secrets.token_hex(4), "certificate_data": pem[0]})
    assert r.status_code == 201
    r = adder.post(BASE + "generate/", json={"common_name": "gen-" + secrets.token_hex(4), "validity_days": 3,
                                             "alg": "ecdsa"})
    assert r.status_code == 200

    changer, _ = as_user(perms=["authentik_crypto.change_certificatekeypair"])
    assert changer.patch(BASE + pk + "/", json={"name": o["name"] + "-c"}).status_code == 200
    deleter, _ = as_user(perms=["authentik_crypto.delete_certificatekeypair"])
    assert deleter.delete(BASE + pk + "/").status_code == 204
    assert admin.get(BASE + pk + "/").status_code == 404


def test_object_permission_only_that_object(admin, as_user):
    a, _ = create(admin)
    b, _ = create(admin)
    api, _ = as_user(object_perms=[("authentik_crypto.view_certificatekeypair", a["pk"]),
                                   ("authentik_crypto.change_certificatekeypair", a["pk"]),
                                   ("authentik_crypto.delete_certificatekeypair", a["pk"]),
                                   ("authentik_crypto.view_certificatekeypair_certificate", a["pk"])])
    assert api.get(BASE + a["pk"] + "/").status_code == 200
    assert api.get(BASE + b["pk"] + "/").status_code == 403
    assert [x["pk"] for x in api.get(BASE).json()["results"]] == [a["pk"]]
    assert api.get(BASE + a["pk"] + "/view_certificate/").status_code == 200
    assert api.get(BASE + b["pk"] + "/view_certificate/").status_code == 403
    assert api.patch(BASE + b["pk"] + "/", json={"name": "zz"}).status_code == 403
    assert api.patch(BASE + a["pk"] + "/", json={"name": a["name"] + "-x"}).status_code == 200
    assert api.delete(BASE + b["pk"] + "/").status_code == 403
    assert api.delete(BASE + a["pk"] + "/").status_code == 204


def test_list_filters_search_ordering(admin):
    tag = secrets.token_hex(4)
    rsa_kp, _ = create(admin, name="b-" + tag)
    ec_kp, _ = create(admin, name="a-" + tag, pem=make_pem(kind="ec"))
    nokey, _ = create(admin, name="c-" + tag, with_key=False)
    names = lambda r: [x["name"] for x in r.json()["results"]]
    r = admin.get(BASE, params={"search": tag})
    assert names(r) == ["a-" + tag, "b-" + tag, "c-" + tag]
    assert r.json()["pagination"]["count"] == 3
    assert names(admin.get(BASE, params={"search": tag, "ordering": "-name"})) == ["c-" + tag, "b-" + tag, "a-" + tag]
    assert names(admin.get(BASE, params={"search": tag, "has_key": "true"})) == ["a-" + tag, "b-" + tag]
    assert names(admin.get(BASE, params={"search": tag, "has_key": "false"})) == ["a-" + tag, "b-" + tag, "c-" + tag]
    assert names(admin.get(BASE, params={"search": tag, "key_type": "ec"})) == ["a-" + tag]
    assert names(admin.get(BASE, params=[("search", tag), ("key_type", "ec"), ("key_type", "rsa")])) == \
        ["a-" + tag, "b-" + tag, "c-" + tag]
    assert names(admin.get(BASE, params={"name": "b-" + tag})) == ["b-" + tag]
    assert admin.get(BASE, params={"has_key": "maybe"}).status_code == 400
    assert admin.get(BASE, params={"search": tag, "managed": "x"}).json()["results"] == []
    r = admin.get(BASE, params={"search": tag, "page_size": 1, "page": 2})
    assert names(r) == ["b-" + tag] and r.json()["pagination"]["next"] == 3


def test_jwt_managed_pair_hidden(admin, pem):
    o, _ = create(admin)
    sql("UPDATE certificate_key_pairs SET managed = 'goauthentik.io/crypto/jwt-managed' WHERE kp_uuid = %s", o["pk"])
    try:
        assert admin.get(BASE + o["pk"] + "/").status_code == 404
        assert admin.get(BASE, params={"name": o["name"]}).json()["results"] == []
    finally:
        sql("DELETE FROM certificate_key_pairs WHERE kp_uuid = %s", o["pk"])


def test_update_name_and_diff(admin):
    o, key_pem = create(admin)
    new = o["name"] + "-renamed"
    r = admin.patch(BASE + o["pk"] + "/", json={"name": new, "fingerprint_sha256": "ignored", "unknown": 1})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == new and r.json()["fingerprint_sha256"] == o["fingerprint_sha256"]
    ev = events_for("certificatekeypair", o["pk"], "model_updated")
    assert ev[-1][0]["diff"] == {"name": {"previous": o["name"], "new": new}}
    assert key_body(key_pem) not in r.text


def test_update_put_requires_fields(admin):
    o, _ = create(admin)
    r = admin.put(BASE + o["pk"] + "/", json={"name": "x"})
    assert r.status_code == 400 and r.json() == {"certificate_data": ["This field is required."]}


def test_update_certificate_and_key(admin):
    o, _ = create(admin)
    cert2, key2, c2 = make_pem(cn="renewed.example", kind="ec")
    # a new certificate beside the old key does not match
    r = admin.patch(BASE + o["pk"] + "/", json={"certificate_data": cert2})
    assert r.status_code == 400
    assert r.json() == {"certificate_data": ["The private key does not match the certificate."]}
    r = admin.patch(BASE + o["pk"] + "/", json={"certificate_data": cert2, "key_data": key2})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["key_type"] == "ec" and j["cert_subject"] == "CN=renewed.example"
    assert j["fingerprint_sha256"] == c2.fingerprint(hashes.SHA256()).hex(":")
    diff = events_for("certificatekeypair", o["pk"], "model_updated")[-1][0]["diff"]
    assert diff["fingerprint_sha256"]["new"] == j["fingerprint_sha256"]
    assert diff["key_type"] == {"previous": "rsa", "new": "ec"}
    assert key_body(key2) not in json.dumps(diff)
    got = admin.get(BASE + o["pk"] + "/view_private_key/").json()["data"]
    assert got == key2
    # key_data "" removes the key
    r = admin.patch(BASE + o["pk"] + "/", json={"key_data": ""})
    assert r.status_code == 200 and r.json()["private_key_available"] is False
    assert admin.get(BASE + o["pk"] + "/view_private_key/").json() == {"data": ""}
    # a wrong key for the current certificate
    r = admin.patch(BASE + o["pk"] + "/", json={"key_data": make_pem()[1]})
    assert r.status_code == 400 and "key_data" in r.json()
    # a broken certificate
    r = admin.patch(BASE + o["pk"] + "/", json={"certificate_data": "garbage"})
    assert r.status_code == 400 and r.json() == {"certificate_data": ["Unable to load certificate."]}


def test_update_duplicate_name_rolls_back(admin):
    a, _ = create(admin)
    b, _ = create(admin)
    before = len(events_for("certificatekeypair", b["pk"], "model_updated"))
    r = admin.patch(BASE + b["pk"] + "/", json={"name": a["name"]})
    assert r.status_code == 400 and r.json() == {"name": ["Certificate-Key Pair with this name already exists."]}
    assert admin.get(BASE + b["pk"] + "/").json()["name"] == b["name"]
    assert len(events_for("certificatekeypair", b["pk"], "model_updated")) == before


def test_not_found(admin):
    missing = str(uuid.uuid4())
    assert admin.get(BASE + missing + "/").status_code == 404
    assert admin.patch(BASE + missing + "/", json={"name": "x"}).status_code == 404
    assert admin.delete(BASE + missing + "/").status_code == 404
    assert admin.get(BASE + missing + "/view_certificate/").status_code == 404
    assert admin.get(BASE + missing + "/view_private_key/").status_code == 404
    assert admin.get(BASE + "not-a-uuid/").status_code == 404


def test_delete_event(admin):
    o, _ = create(admin)
    assert admin.delete(BASE + o["pk"] + "/").status_code == 204
    ev = events_for("certificatekeypair", o["pk"], "model_deleted")
    assert len(ev) == 1 and ev[0][0]["model"]["name"] == o["name"]


def secret_views(pk, kind):
    return sql("SELECT context, \"user\", app FROM events WHERE action = 'secret_view' "
               "AND context -> 'secret' ->> 'pk' = %s AND context ->> 'type' = %s", pk, kind)


def test_view_certificate(admin, pem):
    o, _ = create(admin, pem=pem)
    r = admin.get(BASE + o["pk"] + "/view_certificate/")
    assert r.status_code == 200 and r.json() == {"data": pem[0]}
    r = admin.get(BASE + o["pk"] + "/view_certificate/?download")
    assert r.status_code == 200 and r.text == pem[0]
    assert r.headers["Content-Type"].startswith("application/x-pem-file")
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s_certificate.pem"' % o["name"]
    ev = secret_views(o["pk"], "certificate")
    assert len(ev) == 2
    ctx, user, app = ev[0]
    assert ctx["secret"] == {"app": "authentik_crypto", "model_name": "certificatekeypair", "pk": o["pk"],
                             "name": o["name"]}
    assert app == "authentik.crypto.api" and "username" in user


def test_download_name_sanitised(admin):
    o, _ = create(admin, name='we"ird\\name-' + secrets.token_hex(3))
    r = admin.get(BASE + o["pk"] + "/view_certificate/", params={"download": ""})
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s_certificate.pem"' % \
        o["name"].replace('"', "_").replace("\\", "_")


def test_view_private_key_superuser(admin):
    o, key_pem = create(admin)
    r = admin.get(BASE + o["pk"] + "/view_private_key/")
    assert r.status_code == 200 and r.json() == {"data": key_pem}
    r = admin.get(BASE + o["pk"] + "/view_private_key/?download")
    assert r.status_code == 200 and r.text == key_pem
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s_private_key.pem"' % o["name"]
    ev = secret_views(o["pk"], "private_key")
    assert len(ev) == 2
    assert key_body(key_pem) not in json.dumps(ev[0][0])


def test_view_private_key_refused_for_non_superuser(admin, as_user):
    o, key_pem = create(admin)
    api, _ = as_user(perms=["authentik_crypto.view_certificatekeypair_key",
                            "authentik_crypto.view_certificatekeypair"])
    r = api.get(BASE + o["pk"] + "/view_private_key/")
    assert r.status_code == 403 and key_body(key_pem) not in r.text
    assert api.get(BASE + o["pk"] + "/view_private_key/?download").status_code == 403
    api2, _ = as_user(object_perms=[("authentik_crypto.view_certificatekeypair_key", o["pk"])])
    assert api2.get(BASE + o["pk"] + "/view_private_key/").status_code == 403
    assert secret_views(o["pk"], "private_key") == []


def test_view_private_key_needs_permission_even_for_superuser_group_member(admin, as_user):
    # a superuser holds every permission; a plain user with no permission is refused
    o, _ = create(admin)
    api, _ = as_user()
    assert api.get(BASE + o["pk"] + "/view_private_key/").status_code == 403


def test_generate(admin):
    cn = "gen-" + secrets.token_hex(4) + ".example"
    r = admin.post(BASE + "generate/", json={"common_name": cn, "subject_alt_name": "a.example, b.example",
                                             "validity_days": 10})
    assert r.status_code == 200, r.text
    o = r.json()
    assert set(o) == FIELDS
    assert o["name"] == cn and o["key_type"] == "rsa" and o["private_key_available"] is True
    assert o["cert_subject"] == "CN=" + cn
    expiry = datetime.datetime.fromisoformat(o["cert_expiry"].replace("Z", "+00:00"))
    left = expiry - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=9) < left <= datetime.timedelta(days=10, minutes=5)
    cert = x509.load_pem_x509_certificate(admin.get(BASE + o["pk"] + "/view_certificate/").json()["data"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sans == ["a.example", "b.example"]
    key = admin.get(BASE + o["pk"] + "/view_private_key/").json()["data"]
    assert "PRIVATE KEY" in key and key_body(key) not in r.text
    assert len(events_for("certificatekeypair", o["pk"], "model_created")) == 1
    r = admin.post(BASE + "generate/", json={"common_name": "ec-" + cn, "validity_days": 1, "alg": "ecdsa"})
    assert r.status_code == 200 and r.json()["key_type"] == "ec"


@pytest.mark.parametrize("body,field", [
    ({"validity_days": 3}, "common_name"),
    ({"common_name": "x"}, "validity_days"),
    ({"common_name": "", "validity_days": 3}, "common_name"),
    ({"common_name": "x", "validity_days": "3"}, "validity_days"),
    ({"common_name": "x", "validity_days": 0}, "validity_days"),
    ({"common_name": "x", "validity_days": 10 ** 12}, "validity_days"),
    ({"common_name": "x", "validity_days": 3, "alg": "dsa"}, "alg"),
    ({"common_name": "x", "validity_days": 3, "alg": "ed25519"}, "alg"),
    ({"common_name": "x", "validity_days": 3, "alg": "ed448"}, "alg"),
    ({"common_name": "x", "validity_days": 3, "subject_alt_name": "bad name"}, "subject_alt_name"),
    ({"common_name": 7, "validity_days": 3}, "common_name"),
])
def test_generate_validation(admin, body, field):
    r = admin.post(BASE + "generate/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()
    if body.get("alg") in ("ed25519", "ed448"):
        assert "not supported" in r.json()["alg"][0]


def test_generate_duplicate(admin):
    o, _ = create(admin)
    r = admin.post(BASE + "generate/", json={"common_name": o["name"], "validity_days": 3})
    assert r.status_code == 400 and r.json() == {"common_name": ["This field must be unique."]}


def test_events_routes_refuse_writes_on_pair(admin):
    # the pair's detail route takes no POST
    o, _ = create(admin)
    assert admin.post(BASE + o["pk"] + "/", json={}).status_code == 405
