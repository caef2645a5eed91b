"""Prints the Cookie header of a session whose plan waits at the password stage, for timing
executor GETs on it.

usage: flow_park.py BASE SLUG USERNAME
"""
import sys

import requests

EXEC = "/api/v3/flows/executor/"


def main():
    base, slug, username = sys.argv[1:4]
    url = "%s%s%s/?query=" % (base, EXEC, slug)
    with requests.Session() as s:
        s.get(url)
        c = s.post(url, json={"component": "ak-stage-identification", "uid_field": username}).json()
        assert c.get("component") == "ak-stage-password", c
        print("; ".join("%s=%s" % (k, v) for k, v in s.cookies.items()))


if __name__ == "__main__":
    main()
