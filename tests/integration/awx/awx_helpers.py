"""Helpers of the AWX tests: the checkout, the venv's tools, installing the collection's tarball."""

import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.dirname(sys.executable)


def venv_tool(name):
    """The venv's NAME executable; fails (never skips) when it is not installed."""
    path = os.path.join(VENV_BIN, name)
    assert os.access(path, os.X_OK), (
        "%s is missing from %s: install the pinned test requirements "
        "(pip install -r tests/requirements.txt -c tests/constraints.txt)" % (name, VENV_BIN))
    return path


def install_collection(tarball, collections_path):
    """Install the tarball into COLLECTIONS_PATH/ansible_collections, as a project update or an EE build does.

    --no-deps: amazon.aws and kubernetes.core come from the pinned ansible
    package here (offline); AWX and ansible-builder fetch them from Galaxy.
    """
    result = subprocess.run(
        [venv_tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force",
         "--collections-path", str(collections_path), tarball],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, "ansible-galaxy collection install failed:\n%s\n%s" % (result.stdout, result.stderr)
