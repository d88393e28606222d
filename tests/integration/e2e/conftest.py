"""The end-to-end tests run on the session sandbox's fleet of twin clusters."""

import pytest

CLUSTERS = ("oidc-test", "oidc-test-2")


@pytest.fixture(scope="module")
def fleet(sandbox):
    missing = [name for name in CLUSTERS if not (sandbox["clusters"].get(name) or {}).get("endpoint")]
    assert not missing, "the session sandbox must run twin clusters %s (tests/integration/conftest.py)" % (missing,)
    return sandbox
