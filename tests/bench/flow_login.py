"""Full password logins through the flow executor, as the flow interface makes them.

usage: flow_login.py BASE SLUG USERS_FILE SECONDS PROCESSES
       flow_login.py cookie BASE SLUG USERNAME    (a session parked at the password stage)

Each login is a fresh cookie jar: GET (identification), POST the username, GET (password), POST
the password, then the GETs the executor sends back until xak-flow-redirect. USERS_FILE holds
"username password ..." lines; each process takes its own users in turn. Prints
"logins N seconds S errors E" on one line.
"""
import multiprocessing
import sys
import time
import urllib.parse

import requests

EXEC = "/api/v3/flows/executor/"


def one_login(base, slug, username, password):
    url = "%s%s%s/?query=%s" % (base, EXEC, slug, urllib.parse.quote("next=/", safe=""))
    with requests.Session() as s:
        c = s.get(url).json()
        if c.get("component") != "ak-stage-identification":
            return False
        c = s.post(url, json={"component": "ak-stage-identification", "uid_field": username}).json()
        if c.get("component") != "ak-stage-password":
            return False
        c = s.post(url, json={"component": "ak-stage-password", "password": password},
                   headers={"X-authentik-CSRF": s.cookies.get("authentik_csrf", "")}).json()
        return c.get("component") == "xak-flow-redirect" and "authentik_session" in s.cookies


def worker(args):
    base, slug, users, seconds = args
    done = errors = 0
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        u, p = users[i % len(users)]
        i += 1
        try:
            ok = one_login(base, slug, u, p)
        except (requests.RequestException, ValueError):
            ok = False
        if ok:
            done += 1
        else:
            errors += 1
    return done, errors


def parked_cookie(base, slug, username):
    """The Cookie header of a session whose plan waits at the password stage."""
    url = "%s%s%s/?query=" % (base, EXEC, slug)
    with requests.Session() as s:
        s.get(url)
        c = s.post(url, json={"component": "ak-stage-identification", "uid_field": username}).json()
        assert c.get("component") == "ak-stage-password", c
        print("; ".join("%s=%s" % (k, v) for k, v in s.cookies.items()))


def main():
    if sys.argv[1] == "cookie":
        parked_cookie(*sys.argv[2:5])
        return
    base, slug, users_file, seconds, procs = sys.argv[1:6]
    seconds, procs = float(seconds), int(procs)
    with open(users_file) as f:
        users = [tuple(line.split()[:2]) for line in f if line.strip()]
    chunks = [users[i::procs] or users for i in range(procs)]
    t0 = time.monotonic()
    with multiprocessing.Pool(procs) as pool:
        results = pool.map(worker, [(base, slug, c, seconds) for c in chunks])
    elapsed = time.monotonic() - t0
    print("logins %d seconds %.2f errors %d" % (sum(r[0] for r in results), elapsed,
                                               sum(r[1] for r in results)))


if __name__ == "__main__":
    main()
