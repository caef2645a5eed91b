"""Fixtures for the integration tests: the stack that scripts/test.sh started.

CU_TEST_STATE names its folder; stack.env there holds its ports and secrets.
"""
import os
import subprocess

import pytest
import requests

STATE = os.environ.get("CU_TEST_STATE", "")
ROOT = os.environ.get("CU_TEST_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("CU_TEST_BUILD", "build")


def _stack_env():
    env = {}
    path = os.path.join(STATE, "stack.env")
    if not STATE or not os.path.exists(path):
        pytest.exit("no test stack: run these tests through 'make test'", returncode=2)
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


ENV = _stack_env() if STATE else {}

def _routers():
    """Each running router and its port, as the stack wrote them."""
    out = {}
    with open(os.path.join(STATE, "routers")) as f:
        for line in f:
            name, port = line.split()
            out[name] = port
    return out


ROUTERS = _routers() if STATE else {}


@pytest.fixture(params=sorted(ROUTERS))
def base(request):
    """The stack's base URL through each router in turn."""
    return "http://127.0.0.1:%s" % ROUTERS[request.param]


@pytest.fixture
def lighttpd():
    return "http://127.0.0.1:%s" % ROUTERS["lighttpd"]


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s


def stack(*args):
    """Runs scripts/stack.sh COMMAND STATE (pg-stop, pg-start, redis-stop, redis-start)."""
    cmd = [os.path.join(ROOT, "scripts", "stack.sh"), args[0], STATE] + list(args[1:])
    return subprocess.run(cmd, env=dict(os.environ, B=BUILD), capture_output=True, text=True, timeout=120)


def binary(name):
    return os.path.join(ROOT, BUILD, name)


def config_path():
    return os.path.join(STATE, "custos.conf")
