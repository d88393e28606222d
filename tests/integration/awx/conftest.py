"""What the AWX tests share: the collection as an artifact, built from this checkout.

AWX and ansible-builder never see a checkout: they install the collection's
tarball. Building it here runs the tests on what `make build` ships, so a file
left out of the artifact (build_ignore) fails them as it would fail a user.
"""

import glob
import os
import subprocess

import pytest

from awx_helpers import REPO_ROOT, venv_tool


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """kubeauth-eks_oidc-VERSION.tar.gz built from this checkout, as `make build` builds it."""
    output = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [venv_tool("ansible-galaxy"), "collection", "build", "--output-path", str(output), REPO_ROOT],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, "ansible-galaxy collection build failed:\n%s\n%s" % (result.stdout, result.stderr)
    (tarball,) = glob.glob(os.path.join(str(output), "kubeauth-eks_oidc-*.tar.gz"))
    return tarball
