"""Shared fixtures for the integration tests: one private sandbox per test session.

``sandbox`` is the parsed sandbox.json of a sandbox started for this session
only: its own state directory and a random MiniStack port, so it never meets
a sandbox someone started with `make sandbox-up`. Keys: see docs/sandbox.md
(aws_endpoint_url, aws_ca_bundle, region, aws_access_key_id,
aws_secret_access_key, oidc_discovery_base, kubernetes, clusters{NAME:
endpoint, certificate_authority_data, admin_kubeconfig, ...}, ...).
``keycloak`` adds one Keycloak to it, for the tests that need an identity
provider other than Cognito.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sandbox"))

import sandbox as sandbox_launcher  # noqa: E402  (tests/sandbox/sandbox.py)

SANDBOX_REGION = "us-west-2"
# Two twin clusters: the end-to-end test associates a fleet in one run.
SANDBOX_CLUSTERS = ["oidc-test", "oidc-test-2"]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """A running sandbox for the whole session, stopped (nothing left running) afterwards."""
    directory = str(tmp_path_factory.mktemp("sandbox"))
    try:
        yield sandbox_launcher.up(directory, port=0, region=SANDBOX_REGION, clusters=SANDBOX_CLUSTERS)
    finally:
        sandbox_launcher.down(directory)


@pytest.fixture(scope="session")
def keycloak(sandbox):
    """One Keycloak for the session, added to the session sandbox when a test first needs it.

    Its sandbox.json then holds `keycloak: {url, admin_username, admin_password}`, which the sandbox
    inventory reads; the sandbox fixture stops it with everything else. The first use on a fresh
    machine fetches Keycloak through Maven (`make keycloak` does it beforehand, with progress).
    """
    return sandbox_launcher.up(sandbox["state_dir"], keycloak=True)["keycloak"]
