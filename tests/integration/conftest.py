"""Shared fixtures for the integration tests: one private sandbox per test session.

``sandbox`` is the parsed sandbox.json of a sandbox started for this session
only: its own state directory and a random MiniStack port, so it never meets
a sandbox someone started with `make sandbox-up`. Keys: see docs/sandbox.md
(aws_endpoint_url, aws_ca_bundle, region, aws_access_key_id,
aws_secret_access_key, oidc_discovery_base, kubernetes, clusters{NAME:
endpoint, certificate_authority_data, admin_kubeconfig, ...}, ...).
It runs one twin cluster, oidc-test; ``fleet`` adds a second one for the
tests of one file. ``keycloak`` adds one Keycloak to it, for the tests that
need an identity provider other than Cognito.

Under pytest-xdist (`make integration`: `-n 4 --dist loadgroup`) each worker
has its own session sandbox, and the tests of one file run on one worker, in
order, so that a file's module fixtures are made once and its tests may build
on each other. Files whose tests stand alone say so with
``pytestmark = pytest.mark.independent``; their tests are spread over the
workers one by one. A file may instead join a named ``xdist_group`` (the
Keycloak tests share one: Keycloak starts once, on one worker). The longest
work is handed out first (LONGEST_FIRST).

This directory is on sys.path (pytest puts a top conftest's directory there):
tests import ansible_runs.py from here.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sandbox"))

import sandbox as sandbox_launcher  # noqa: E402  (tests/sandbox/sandbox.py)
from ansible_runs import FLEET_CLUSTER, SESSION_CLUSTER  # noqa: E402

SANDBOX_REGION = "us-west-2"


def pytest_configure(config):
    config.addinivalue_line("markers", "independent: the file's tests stand alone; xdist may spread them over workers")


# The work that takes longest starts first (`make integration` passes --no-loadscope-reorder, so xdist
# hands out work in this order instead of largest test count first), and everything else fills in
# around it: started last, one of these would run alone at the end of the suite. Slowest first, as
# `--durations` measured them on two cores with four workers (seconds of one worker).
LONGEST_FIRST = (
    "tests/integration/keycloak/test_keycloak_",  # 350, one group (test_provider_choice.py is a file of its own)
    "tests/integration/e2e/test_site.py::test_site_with_the_posts_values",  # 290
    "tests/integration/e2e/test_site.py::test_site_with_other_names",  # 210
    "tests/integration/login/",  # 185
    "tests/integration/test_targets.py::test_target[eks_identity_provider_config]",  # 120
    "tests/integration/awx/test_job_template.py",  # 110
    "tests/integration/scale/",  # 100 and 90
    "tests/integration/login_kit/",  # 90
)


def _start_rank(item):
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                len(LONGEST_FIRST))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("independent") is None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=_start_rank)  # stable: a file's tests keep their order


# Set on a worker whose xdist groups were ignored: every test there then fails with why.
XDIST_GROUPS_IGNORED = []


def pytest_collection_finish(session):
    """Under --dist loadgroup, xdist names each grouped test NODEID@GROUP; without that, groups are ignored
    and the tests of a file land on several workers, without the fixtures and order they build on."""
    if getattr(session.config.option, "loadgroup", False):  # set on xdist workers only
        ungrouped = [item.nodeid for item in session.items
                     if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid]
        if ungrouped:
            XDIST_GROUPS_IGNORED.append("pytest-xdist ignored the xdist_group of %s and %d more tests: "
                                        "see tests/requirements.txt" % (ungrouped[0], len(ungrouped) - 1))


def pytest_runtest_setup(item):
    if XDIST_GROUPS_IGNORED:
        pytest.fail(XDIST_GROUPS_IGNORED[0], pytrace=False)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """A running sandbox for the whole session, stopped (nothing left running) afterwards."""
    directory = str(tmp_path_factory.mktemp("sandbox"))
    try:
        yield sandbox_launcher.up(directory, port=0, region=SANDBOX_REGION, clusters=[SESSION_CLUSTER])
    finally:
        sandbox_launcher.down(directory)


@pytest.fixture(scope="module")
def fleet(sandbox):
    """The session sandbox with a second twin cluster, FLEET_CLUSTER, for one test file: added through the
    EKS API before its first test that asks for it, deleted after its last, so that every other test sees the
    sandbox's one cluster. (Putting the files that use it on one worker made a chain of 600 s that the
    whole suite then waited for.)"""
    assert sandbox["kubernetes"], "the sandbox runs without kube-apiserver: run `make k8s-binaries` (no skip)"
    sandbox["clusters"][FLEET_CLUSTER] = sandbox_launcher.add_cluster(sandbox["state_dir"], FLEET_CLUSTER)
    try:
        yield sandbox
    finally:
        del sandbox["clusters"][FLEET_CLUSTER]
        sandbox_launcher.remove_cluster(sandbox["state_dir"], FLEET_CLUSTER)


@pytest.fixture(scope="session")
def keycloak(sandbox):
    """One Keycloak for the session, added to the session sandbox when a test first needs it.

    Its sandbox.json then holds `keycloak: {url, admin_username, admin_password}`, which the sandbox
    inventory reads; the sandbox fixture stops it with everything else. The first use on a fresh
    machine fetches Keycloak through Maven (`make keycloak` does it beforehand, with progress).
    """
    return sandbox_launcher.up(sandbox["state_dir"], keycloak=True)["keycloak"]
