"""Signing keys as a provider publishes them (lib/keys.h, lib/jose.h): the JWKS of a provider
holds its pair's public key and nothing private, named by the kid custos gives every key (the
first 32 hex digits of the SHA-256 of the SubjectPublicKeyInfo), with the certificate; a pair
given a new certificate and key is published anew; responders keep a loaded key."""
import base64
import glob
import hashlib
import os
import re
import secrets
import time

import requests
from cryptography.hazmat.primitives import hashes, serialization
from jwcrypto import jwk

from conftest import STATE, oauth2_app
from test_api_crypto import make_pem

CRYPTO = "crypto/certificatekeypairs/"


def b64u_int(n, length=None):
    raw = n.to_bytes(length or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def kid_of(cert):
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()[:32]


def make_pair(admin, kind="rsa", with_key=True):
    cert_pem, key_pem, cert = make_pem("keys-" + secrets.token_hex(4), kind)
    body = {"name": "kp-" + secrets.token_hex(4), "certificate_data": cert_pem}
    if with_key:
        body["key_data"] = key_pem
    r = admin.post(CRYPTO, json=body)
    assert r.status_code == 201, r.text
    return r.json()["pk"], cert


def jwks(base, app):
    r = requests.get("%s/application/o/%s/jwks/" % (base, app["slug"]))
    assert r.status_code == 200, r.text
    return r.json()["keys"]


def check_certificate_members(key, cert):
    der = cert.public_bytes(serialization.Encoding.DER)
    assert key["x5c"] == [base64.b64encode(der).decode()]
    assert key["x5t"] == b64u(cert.fingerprint(hashes.SHA1()))
    assert key["x5t#S256"] == b64u(cert.fingerprint(hashes.SHA256()))


def test_jwks_rsa_key(lighttpd, admin):
    kp, cert = make_pair(admin, "rsa")
    app = oauth2_app(signing_key=kp)
    keys = jwks(lighttpd, app)
    assert len(keys) == 1
    key = keys[0]
    nums = cert.public_key().public_numbers()
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] == kid_of(cert)
    assert key["n"] == b64u_int(nums.n) and key["e"] == b64u_int(nums.e)
    check_certificate_members(key, cert)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    # jwcrypto takes it as a public key.
    assert not jwk.JWK(**key).has_private


def test_jwks_ecdsa_key(lighttpd, admin):
    kp, cert = make_pair(admin, "ecdsa")
    app = oauth2_app(signing_key=kp)
    keys = jwks(lighttpd, app)
    assert len(keys) == 1
    key = keys[0]
    nums = cert.public_key().public_numbers()
    assert key["kty"] == "EC" and key["alg"] == "ES256" and key["crv"] == "P-256"
    assert key["x"] == b64u_int(nums.x, 32) and key["y"] == b64u_int(nums.y, 32)
    assert key["kid"] == kid_of(cert)
    check_certificate_members(key, cert)
    assert "d" not in key


def test_pair_without_private_key_is_left_out(lighttpd, admin):
    kp, _ = make_pair(admin, "rsa", with_key=False)
    app = oauth2_app(signing_key=kp)
    assert jwks(lighttpd, app) == []


def responder_procs():
    """The most oauth2 responder processes the stack's lighttpd runs."""
    for path in glob.glob(os.path.join(STATE, "**", "*.conf"), recursive=True):
        text = open(path).read()
        m = re.search(r'oauth2\.fcgi".*?"max-procs"\s*=>\s*(\d+)', text, re.S)
        if m:
            return int(m.group(1))
    return 1


def loads_of(kp):
    n = 0
    for path in glob.glob(os.path.join(STATE, "log", "*.log")):
        with open(path, errors="replace") as f:
            n += sum(1 for line in f if '"signing_key_loaded"' in line and kp in line)
    return n


def test_key_rotation_and_no_reload_per_request(lighttpd, admin):
    kp, cert = make_pair(admin, "rsa")
    app = oauth2_app(signing_key=kp)
    for _ in range(20):
        assert jwks(lighttpd, app)[0]["kid"] == kid_of(cert)
    # Loaded at most once by each responder process, not once per request.
    assert 1 <= loads_of(kp) <= responder_procs()
    before = loads_of(kp)
    # The same pair with a new certificate and key: the new key is published at once.
    cert_pem, key_pem, cert2 = make_pem("rotated-" + secrets.token_hex(4), "ecdsa")
    r = admin.patch(CRYPTO + kp + "/", json={"certificate_data": cert_pem, "key_data": key_pem})
    assert r.status_code == 200, r.text
    # A responder may serve its JWKS document from its own cache for a moment.
    deadline = time.time() + 10
    while jwks(lighttpd, app)[0]["kid"] != kid_of(cert2) and time.time() < deadline:
        time.sleep(0.2)
    for _ in range(5):
        keys = jwks(lighttpd, app)
        assert len(keys) == 1
        assert keys[0]["kid"] == kid_of(cert2) and keys[0]["kty"] == "EC"
        check_certificate_members(keys[0], cert2)
    assert before < loads_of(kp) <= before + responder_procs()
