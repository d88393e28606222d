"""The execution environment of docs/awx.md: ansible-builder's context, and what its build would install.

`ansible-builder create` needs no container engine. The steps after it, in
the image build, install the collection tarball and run ansible-builder's
introspection over it, which reads the collection's meta/execution-environment.yml
and collects requirements.txt and bindep.txt for pip and the package manager.
Both steps run here with the context's own script, so the test proves the
image would get the collection's Python and system requirements.
"""

import os
import re
import shutil
import subprocess
import sys

import yaml

from awx_helpers import REPO_ROOT, install_collection, venv_tool

DEFINITION = os.path.join(REPO_ROOT, "docs", "execution-environment.yml")


def requirement_lines(path):
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def test_ansible_builder_creates_a_context_that_installs_the_collection_requirements(collection_tarball, tmp_path):
    # The checkout's layout, as the definition expects it: docs/ beside .build/dist/ (make build).
    checkout = tmp_path / "checkout"
    (checkout / "docs").mkdir(parents=True)
    (checkout / ".build" / "dist").mkdir(parents=True)
    shutil.copy(DEFINITION, checkout / "docs")
    shutil.copy(collection_tarball, checkout / ".build" / "dist")
    context = tmp_path / "context"

    result = subprocess.run(
        [venv_tool("ansible-builder"), "create", "--file", "docs/execution-environment.yml",
         "--context", str(context), "--output-filename", "Containerfile"],
        cwd=str(checkout), capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, "ansible-builder create failed:\n%s\n%s" % (result.stdout, result.stderr)
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr

    containerfile = (context / "Containerfile").read_text()
    # The build installs the galaxy requirements, introspects the installed
    # collections, then installs what introspection found (assemble builds
    # the wheels, install-from-bindep installs them and the system packages).
    steps = ["ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml",
             "/output/scripts/introspect.py introspect", "/output/scripts/assemble",
             "/output/scripts/install-from-bindep"]
    positions = [containerfile.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), "Containerfile steps missing or out of order: %s\n%s" % (
        dict(zip(steps, positions)), containerfile)
    assert "COPY _build /build" in containerfile

    # The galaxy stage sees the context's _build as /build: the collection the
    # definition names must be the tarball the context carries.
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [entry["name"] for entry in requirements["collections"]]
    collection = [name for name in names if os.path.basename(name).startswith("kubeauth-eks_oidc-")]
    assert len(collection) == 1, names
    in_context = context / "_build" / os.path.relpath(collection[0], "/build")
    assert in_context.is_file(), (
        "the definition installs %s, but the context has %s: docs/execution-environment.yml names another "
        "version than galaxy.yml" % (collection[0], sorted(os.listdir(context / "_build" / "collections"))))

    # What the image build does next, without a container engine.
    installed = tmp_path / "collections"
    install_collection(str(in_context), installed)
    pip_file, bindep_file = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    introspect = subprocess.run(
        [sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
         "--write-pip", str(pip_file), "--write-bindep", str(bindep_file), str(installed)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr

    from_collection = re.compile(r"^(.*?)\s+# from collection kubeauth\.eks_oidc$")
    pip = [m.group(1) for m in map(from_collection.match, requirement_lines(pip_file)) if m]
    bindep = [m.group(1) for m in map(from_collection.match, requirement_lines(bindep_file)) if m]
    assert pip == requirement_lines(os.path.join(REPO_ROOT, "requirements.txt")), pip_file.read_text()
    assert bindep == requirement_lines(os.path.join(REPO_ROOT, "bindep.txt")), bindep_file.read_text()
