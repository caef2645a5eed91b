"""Sets up make bench's OAuth2 workloads on a running stack: an RS256 and an ES256 provider
(generated key pairs through the API, providers and applications made as the integration
tests make them), a user who logs in once through the flow executor, then CHAINS authorization
code grants with offline_access, each the start of its own refresh-token chain.

usage: oauth2_setup.py BASE STATE_DIR OUT_ENV OUT_REFRESH CHAINS
BENCH_TOKEN in the environment is a superuser's API token. Writes shell assignments to OUT_ENV
(client ids, secrets, slugs, one access token) and one refresh token a line to OUT_REFRESH.
"""
import os
import secrets
import sys
import urllib.parse as urlparse

import requests

CB = "http://127.0.0.1:9/cb"
SCOPE = "openid email profile offline_access"


def main():
    base, state, out_env, out_refresh, chains = sys.argv[1:6]
    os.environ["CU_TEST_STATE"] = state
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    import conftest as c  # the integration tests' own makers, on this stack

    api = c.Api(base, os.environ["BENCH_TOKEN"])
    apps = {}
    for kind, alg in (("rsa", "RS256"), ("ecdsa", "ES256")):
        kp = c.oauth2_keypair(api, kind)
        apps[alg] = c.oauth2_app(redirect_uris=[CB], signing_key=kp,
                                 flow="default-provider-authorization-implicit-consent",
                                 access_token_validity="hours=2")
    rs = apps["RS256"]
    uid, username = c.login_user()
    browser = c.OidcBrowser(base, username)
    refresh, access = [], None
    for _ in range(int(chains)):
        state_param = secrets.token_urlsafe(12)
        q = urlparse.urlencode({"client_id": rs["client_id"], "redirect_uri": CB,
                                "response_type": "code", "scope": SCOPE, "state": state_param})
        kind, cb = browser.go(base + "/application/o/authorize/?" + q, stop_at=(CB,))
        if kind != "stop":
            sys.exit("authorization did not come back: %s %r" % (kind, cb))
        code = urlparse.parse_qs(urlparse.urlsplit(cb).query).get("code")
        if not code:
            sys.exit("no code: %s" % cb)
        r = requests.post(base + "/application/o/token/", auth=(rs["client_id"], rs["client_secret"]),
                          data={"grant_type": "authorization_code", "code": code[0],
                                "redirect_uri": CB})
        if r.status_code != 200 or "refresh_token" not in r.json():
            sys.exit("code exchange: %d %s" % (r.status_code, r.text[:200]))
        refresh.append(r.json()["refresh_token"])
        access = r.json()["access_token"]
    fd = os.open(out_refresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(refresh) + "\n")
    fd = os.open(out_env, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for alg, app in apps.items():
            f.write("%s_CLIENT_ID='%s'\n%s_SECRET='%s'\n%s_SLUG='%s'\n" % (
                alg, app["client_id"], alg, app["client_secret"], alg, app["slug"]))
        f.write("OAUTH_SCOPE='%s'\nOAUTH_ACCESS='%s'\n" % (SCOPE, access))


if __name__ == "__main__":
    main()
