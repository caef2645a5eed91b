#!/usr/bin/python3
"""
Writes tests/unit/password_vectors.h, the known-answer vectors of tests/unit/test_password.c.

Every encoding comes from Django's own hashers (Argon2PasswordHasher, PBKDF2PasswordHasher,
PBKDF2SHA1PasswordHasher, BCryptSHA256PasswordHasher, BCryptPasswordHasher), or from
argon2-cffi's low-level API exactly as older Django versions stored argon2i, and every
(encoding, password) pair is put to Django's check_password. custos's expected answer is
Django's answer, except where custos refuses by policy what Django would compute (costs above
custos's caps, passwords over 4096 bytes, encodings over 1024 bytes); those vectors say so in
pv_django. Salts come from a fixed seed, so running this again writes the same file.

CUSTOS_MADE holds hashes written by cu_password_hash; this script checks that Django accepts
them, and they become vectors custos must verify as current.

Regenerate (Debian 12: Django 3.2, argon2-cffi 21.1, pyca/bcrypt 3.2; about a minute):

    apt-get install python3-django python3-argon2 python3-bcrypt
    /usr/bin/python3 tests/unit/gen_password_vectors.py

It writes the header next to itself and runs clang-format on it. To refresh CUSTOS_MADE, link a
few lines calling cu_password_hash(out, sizeof(out), pw, len, NULL) against build/libcustos.a
($(pkg-config --libs libcrypto libargon2 libcrypt)), print out, and paste it here.
"""

import base64
import os
import random
import subprocess
import sys

import django
from django.conf import settings

settings.configure(
    PASSWORD_HASHERS=[
        "__main__.CustosArgon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ]
)

import argon2  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402


class CustosArgon2PasswordHasher(hashers.Argon2PasswordHasher):
    """Django's argon2 hasher with custos's defaults (its check_password's fallback work)."""

    memory_cost = 19456
    time_cost = 2
    parallelism = 1


# custos's policy (lib/password.c, lib/password.h).
CUR_M, CUR_T, CUR_P = 19456, 2, 1
MAX_PW = 4096
MAX_STORED = 1024
ARGON2_M_MAX, ARGON2_T_MAX, ARGON2_P_MAX = 1 << 20, 100, 64
PBKDF2_ITER_MAX = 10_000_000
BCRYPT_COST_MAX = 16

CUSTOS_MADE = [
    (
        "custos \u2192 Django",
        "argon2$argon2id$v=19$m=19456,t=2,p=1$6+TT9roKyKwQ23v9wyMyqw$TifmUnS3xpOq/m8hDueYq7tBCE8+nCWombMo8IPa9zw",
    ),
    (
        "",
        "argon2$argon2id$v=19$m=19456,t=2,p=1$AyIDCuO3yfTm+SwujFbPuQ$MVNhf77s0R5W5YlciAmehrzfiOXMf8KuaDTuDag9nQU",
    ),
    (
        "correct horse battery staple",
        "argon2$argon2id$v=19$m=19456,t=2,p=1$D3EAzn4YwF8o/i6JeMI56g$WLVWacgLgIFcbvxVG6a7Jq7/AUAPUXOQ3dPtCNUL3AA",
    ),
]

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "password_vectors.h")
rng = random.Random(0xC0570)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BCRYPT_B64 = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)


def django_salt():
    return "".join(rng.choice(ALNUM) for _ in range(22))


def rand_bytes(n):
    return bytes(rng.randrange(256) for _ in range(n))


def argon2_django(pw, m, t, p):
    cls = type("A", (hashers.Argon2PasswordHasher,), {"memory_cost": m, "time_cost": t, "parallelism": p})
    return cls().encode(pw, django_salt())


def argon2_raw(pw, m, t, p, typ, salt_len=16, hash_len=32, salt=None):
    """What Django stores: "argon2" + argon2-cffi's encoding (argon2i before Django 3.2)."""
    data = argon2.low_level.hash_secret(
        pw.encode(),
        salt or rand_bytes(salt_len),
        time_cost=t,
        memory_cost=m,
        parallelism=p,
        hash_len=hash_len,
        type=typ,
    )
    return "argon2" + data.decode("ascii")


def pbkdf2(pw, iterations, sha1=False, salt=None):
    h = hashers.PBKDF2SHA1PasswordHasher() if sha1 else hashers.PBKDF2PasswordHasher()
    return h.encode(pw, salt or django_salt(), iterations)


def bcrypt_salt(cost, prefix="2b"):
    s = base64.b64encode(rand_bytes(16)).rstrip(b"=").translate(BCRYPT_B64)
    return b"$%s$%02d$" % (prefix.encode(), cost) + s


def bcrypt(pw, cost, sha256=True, prefix="2b"):
    h = hashers.BCryptSHA256PasswordHasher() if sha256 else hashers.BCryptPasswordHasher()
    return h.encode(pw, bcrypt_salt(cost, prefix))


def django_check(pw, encoded):
    try:
        return bool(hashers.check_password(pw, encoded))
    except Exception:  # Django raises on some malformed hashes; the user is not let in.
        return False


def custos_expect(pw, encoded, django_ok):
    """OK, OK_REHASH or MISMATCH as lib/password.c should answer, given Django's answer."""
    if not django_ok:
        return "CU_PASSWORD_MISMATCH"
    if len(pw.encode()) > MAX_PW or len(encoded) > MAX_STORED:
        return "CU_PASSWORD_MISMATCH"
    algo = encoded.split("$", 1)[0]
    if algo == "argon2":
        f = encoded.split("$")
        if f[2] != "v=19":  # no Django version wrote another
            return "CU_PASSWORD_MISMATCH"
        params = dict(kv.split("=") for kv in f[3].split(","))
        m, t, p = int(params["m"]), int(params["t"]), int(params["p"])
        if m > ARGON2_M_MAX or t > ARGON2_T_MAX or p > ARGON2_P_MAX:
            return "CU_PASSWORD_MISMATCH"
        if f[1] == "argon2id" and m >= CUR_M and t >= CUR_T and p >= CUR_P:
            return "CU_PASSWORD_OK"
        return "CU_PASSWORD_OK_REHASH"
    if algo.startswith("pbkdf2_"):
        if int(encoded.split("$")[1]) > PBKDF2_ITER_MAX:
            return "CU_PASSWORD_MISMATCH"
        return "CU_PASSWORD_OK_REHASH"
    if algo.startswith("bcrypt"):
        if int(encoded.split("$")[3]) > BCRYPT_COST_MAX:
            return "CU_PASSWORD_MISMATCH"
        return "CU_PASSWORD_OK_REHASH"
    raise AssertionError("Django accepted an unknown format: " + encoded)


vectors = []


def add(name, encoded, pw, django_ok=None, times=1):
    """One case; pw is repeated times over. django_ok, when given, is asserted."""
    full = pw * times
    got = django_check(full, encoded)
    if django_ok is not None and got != django_ok:
        sys.exit("Django answers %s for %s, expected %s" % (got, name, django_ok))
    vectors.append((name, encoded, pw, times, custos_expect(full, encoded, got), got))


def wrong_passwords(name, encoded, pw, costly=False):
    """The right password is pw; a one-character change, a cut and an extension are not.
    A costly hash (100 ms or more) gets the first two only."""
    add(name + ", right password", encoded, pw, True)
    if pw:
        add(name + ", last character changed", encoded, pw[:-1] + chr(ord(pw[-1]) ^ 1), False)
    if costly:
        return
    if pw:
        add(name + ", last character dropped", encoded, pw[:-1], False)
    add(name + ", one character added", encoded, pw + "x", False)
    add(name + ", empty password", encoded, "", pw == "")


def bump(ch):
    """Another character of the same kind, so that a change is more than a parse error."""
    if ch.isdigit():
        return {"0": "9", "9": "8"}.get(ch, chr(ord(ch) + 1))
    if ch.isalpha():
        return chr(ord(ch) - 1) if ch in "zZ" else chr(ord(ch) + 1)
    return {"+": "/", "/": "+", ".": "/", "$": "%", ",": ";", "=": "-", "_": "-"}.get(ch, "A")


def spans(encoded):
    """Each '$'-separated part (and each m=, t=, p= of argon2) as (start, end), and the
    separators' positions."""
    out, seps, start = [], [], 0
    for i, ch in enumerate(encoded + "$"):
        if ch in "$,":
            if i > start:
                out.append((start, i))
            if i < len(encoded):
                seps.append(i)
            start = i + 1
    return out, seps


def mangle(name, encoded, pw):
    """One-character changes in every part, cuts at every boundary, and additions."""
    parts, seps = spans(encoded)
    pos = set(seps)
    for s, e in parts:
        pos |= {s, (s + e) // 2, e - 1}
    for i in sorted(pos):
        changed = encoded[:i] + bump(encoded[i]) + encoded[i + 1 :]
        add("%s, '%s' at %d changed" % (name, encoded[i], i), changed, pw)
    cuts = {0, len(encoded) - 1}
    for i in seps:
        cuts |= {i, i + 1}
    for s, e in parts:
        cuts.add((s + e) // 2)
    for i in sorted(c for c in cuts if 0 <= c < len(encoded)):
        add("%s, cut to %d" % (name, i), encoded[:i], pw)
    for extra in ("A", "=", "$", "$A"):
        add("%s, '%s' appended" % (name, extra), encoded + extra, pw)


def main():
    pw = "correct horse battery staple"
    uni = "p\u00e4ssw\u00f6rd \u2713"

    # argon2id at custos's defaults: current, so OK. Django 3.2 with argon2-cffi 21.1 writes a
    # 16-byte hash; with argon2-cffi 21.2 and later (Django 4 and 5, authentik) 32 bytes.
    for label, p in (("ascii", pw), ("utf-8", uni), ("empty", ""), ("NUL inside", "a\0b")):
        wrong_passwords("argon2id m=19456 t=2 p=1 %s" % label, argon2_django(p, 19456, 2, 1), p)
    enc = argon2_raw(pw, 102400, 2, 8, argon2.low_level.Type.ID, salt=django_salt().encode())
    wrong_passwords("argon2id as Django 4 and 5 write it", enc, pw, costly=True)
    # Stronger than current: still OK. The one above is at Django's defaults.
    wrong_passwords("argon2id m=65536 t=3 p=4", argon2_django(pw, 65536, 3, 4), pw, costly=True)
    # Weaker in one parameter or another: rehash.
    for m, t, p in ((8192, 2, 1), (19456, 1, 1), (16384, 4, 2)):
        wrong_passwords("argon2id m=%d t=%d p=%d" % (m, t, p), argon2_django(pw, m, t, p), pw)
    # argon2i, as Django before 3.2 wrote it (and at custos's parameters): rehash.
    wrong_passwords("argon2i m=512 t=2 p=2", argon2_raw(pw, 512, 2, 2, argon2.low_level.Type.I), pw)
    wrong_passwords("argon2i m=19456 t=2 p=1", argon2_raw(pw, 19456, 2, 1, argon2.low_level.Type.I), pw)
    # Salts and hashes of other lengths, and the shape cu_password_hash writes (16 random bytes).
    ID = argon2.low_level.Type.ID
    wrong_passwords("argon2id raw 16-byte salt", argon2_raw(pw, 19456, 2, 1, ID), pw)
    for sl, hl in ((8, 4), (8, 16), (32, 64), (100, 100), (600, 64)):
        add("argon2id salt %d hash %d" % (sl, hl), argon2_raw(pw, 1024, 1, 1, ID, sl, hl), pw, True)
    # Costs custos refuses though Django would compute them; and the limits themselves.
    add("argon2id t=101 (over the cap)", argon2_raw(pw, 64, 101, 1, ID), pw, True)
    add("argon2id t=100 (the cap)", argon2_raw(pw, 64, 100, 1, ID), pw, True)
    add("argon2id p=65 (over the cap)", argon2_raw(pw, 520, 1, 65, ID), pw, True)
    add("argon2id p=64 (the cap)", argon2_raw(pw, 512, 1, 64, ID), pw, True)
    add("argon2id m=1048577 (over the cap)", argon2_raw(pw, (1 << 20) + 1, 1, 1, ID), pw, True)
    add("argon2id encoding over 1024 bytes", argon2_raw(pw, 1024, 1, 1, ID, 730, 32), pw, True)
    # Password lengths: the longest taken, and one byte more.
    add("argon2id 4096-byte password", argon2_raw("ab" * 2048, 1024, 1, 1, ID), "ab", True, 2048)
    add("argon2id 4097-byte password", argon2_raw("a" * 4097, 1024, 1, 1, ID), "a", True, 4097)

    # PBKDF2: Django 3.2's default iteration count, and cheap ones.
    wrong_passwords("pbkdf2_sha256 260000", pbkdf2(pw, 260000), pw, costly=True)
    for label, p in (("ascii", pw), ("utf-8", uni), ("empty", ""), ("NUL inside", "a\0b")):
        wrong_passwords("pbkdf2_sha256 1000 %s" % label, pbkdf2(p, 1000), p)
        wrong_passwords("pbkdf2_sha1 1000 %s" % label, pbkdf2(p, 1000, sha1=True), p)
    wrong_passwords("pbkdf2_sha256 utf-8 salt", pbkdf2(pw, 1000, salt="s\u00e4lt \u2713"), pw)
    add("pbkdf2_sha256 one iteration", pbkdf2(pw, 1), pw, True)
    add("pbkdf2_sha1 10000001 (over the cap)", pbkdf2(pw, 10_000_001, sha1=True), pw, True)

    # bcrypt_sha256: Django's default cost and a cheap one; long passwords are whole.
    wrong_passwords("bcrypt_sha256 12", bcrypt(pw, 12), pw, costly=True)
    for label, p in (("ascii", pw), ("utf-8", uni), ("empty", ""), ("NUL inside", "a\0b")):
        wrong_passwords("bcrypt_sha256 04 %s" % label, bcrypt(p, 4), p)
    for prefix in ("2a", "2y"):
        wrong_passwords("bcrypt_sha256 $%s$" % prefix, bcrypt(pw, 4, prefix=prefix), pw)
    long_pw = "0123456789" * 10
    enc = bcrypt(long_pw, 4)
    wrong_passwords("bcrypt_sha256 100-byte password", enc, long_pw)
    add("bcrypt_sha256 100-byte password, other tail after 72", enc, long_pw[:72] + "x" * 28, False)
    add("bcrypt_sha256 100-byte password, first 72", enc, long_pw[:72], False)
    add("bcrypt_sha256 4097-byte password", bcrypt("a" * 4097, 4), "a", True, 4097)
    add("bcrypt_sha256 17 (over the cap)", bcrypt(pw, 17), pw, True)

    # bcrypt: Django cuts the password at 72 bytes and refuses a NUL byte.
    for label, p in (("ascii", pw), ("utf-8", uni), ("empty", "")):
        wrong_passwords("bcrypt 04 %s" % label, bcrypt(p, 4, sha256=False), p)
    for prefix in ("2a", "2y"):
        wrong_passwords("bcrypt $%s$" % prefix, bcrypt(pw, 4, sha256=False, prefix=prefix), pw)
    enc = bcrypt(long_pw, 4, sha256=False)
    add("bcrypt 100-byte password", enc, long_pw, True)
    add("bcrypt 100-byte password, other tail after 72", enc, long_pw[:72] + "x" * 28, True)
    add("bcrypt 100-byte password, first 72", enc, long_pw[:72], True)
    add("bcrypt 100-byte password, first 71", enc, long_pw[:71], False)
    add("bcrypt 100-byte password, 72nd byte changed", enc, long_pw[:71] + "x" + long_pw[72:], False)
    enc = bcrypt(long_pw[:72], 4, sha256=False)
    add("bcrypt 72-byte password", enc, long_pw[:72], True)
    add("bcrypt 72-byte password, 73 given", enc, long_pw[:73], True)
    add("bcrypt NUL inside", bcrypt("a", 4, sha256=False), "a\0b", False)
    add("bcrypt_sha256 NUL inside against 'a'", bcrypt("a", 4), "a\0b", False)

    # One-character changes, cuts and additions on a cheap hash of every format.
    mangle("argon2id", argon2_django(pw, 1024, 1, 1), pw)
    mangle("argon2i", argon2_raw(pw, 512, 2, 2, argon2.low_level.Type.I), pw)
    mangle("pbkdf2_sha256", pbkdf2(pw, 1000), pw)
    mangle("pbkdf2_sha1", pbkdf2(pw, 1000, sha1=True), pw)
    mangle("bcrypt_sha256", bcrypt(pw, 4), pw)
    mangle("bcrypt", bcrypt(pw, 4, sha256=False), pw)

    # Unusable and unknown: no password matches.
    unusable = hashers.UNUSABLE_PASSWORD_PREFIX + "".join(rng.choice(ALNUM) for _ in range(40))
    assert len(unusable) == len(hashers.make_password(None))
    add("unusable, as Django's make_password(None)", unusable, "", False)
    add("unusable '!'", "!", "", False)
    add("unusable, '!' before a valid hash", "!" + pbkdf2(pw, 1000), pw, False)
    add("empty encoding", "", "", False)
    add("unsalted md5", "5f4dcc3b5aa765d61d8327deb882cf99", "password", False)
    add("md5", "md5$salt$b305cadbb3bce54f3aa59c64fec00dea", "password", False)
    add("sha1", "sha1$salt$c88e9c67041a74e0357befdff93f87dde0904214", "password", False)
    # argon2-cffi also takes argon2d and version 16, though no Django version wrote them.
    add("argon2d", argon2_raw(pw, 1024, 1, 1, argon2.low_level.Type.D), pw, True)
    enc = "argon2" + argon2.low_level.hash_secret(
        pw.encode(), rand_bytes(16), 1, 1024, 1, 32, ID, version=16
    ).decode("ascii")
    add("argon2id v=16", enc, pw, True)

    # Written by cu_password_hash: Django must take them.
    for i, (p, enc) in enumerate(CUSTOS_MADE):
        wrong_passwords("written by cu_password_hash %d" % i, enc, p)

    write()


def c_str(s):
    out = []
    for b in s.encode() if isinstance(s, str) else s:
        c = chr(b)
        if c in '"\\?':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def write():
    with open(OUT, "w") as f:
        f.write(
            "/*\n"
            " * Generated by tests/unit/gen_password_vectors.py (Django %s, argon2-cffi %s,\n"
            " * pyca/bcrypt %s); do not edit. Django's check_password answered pv_django.\n"
            " */\n" % (django.get_version(), argon2.__version__, __import__("bcrypt").__version__)
        )
        f.write("#ifndef PASSWORD_VECTORS_H\n#define PASSWORD_VECTORS_H\n\n")
        f.write("#include <stddef.h>\n\n#include \"password.h\"\n\n")
        f.write(
            "struct pw_vector {\n"
            "\tconst char *pv_name;\n"
            "\tconst char *pv_encoded;\n"
            "\tconst char *pv_password; /* repeated pv_times times */\n"
            "\tsize_t pv_len;\n"
            "\tsize_t pv_times;\n"
            "\tenum cu_password_result pv_expect;\n"
            "\tint pv_django;\n"
            "};\n\n"
        )
        f.write("static const struct pw_vector pw_vectors[] = {\n")
        for name, enc, pw, times, expect, dj in vectors:
            f.write(
                "{%s, %s, %s, %d, %d, %s, %d},\n"
                % (c_str(name), c_str(enc), c_str(pw), len(pw.encode()), times, expect, int(dj))
            )
        f.write("};\n\n#endif\n")
    subprocess.run(["clang-format", "-i", OUT], check=True)
    counts = {}
    for v in vectors:
        counts[v[4]] = counts.get(v[4], 0) + 1
    print("%s: %d vectors %s" % (OUT, len(vectors), counts))


if __name__ == "__main__":
    main()
