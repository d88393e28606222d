"""Run `ansible-test sanity` on a copy of this checkout, offline-safe.

Needs the venv of `make venv` (the PyPI ansible bundle provides amazon.aws and
kubernetes.core, which ansible-test must find beside the collection).

ansible-test insists that a collection lives at
``.../ansible_collections/<namespace>/<name>`` and resolves symlinks, so the
files git knows (tracked, plus untracked ones it does not ignore) are copied
to a private ``$TMPDIR/kubeauth-eks-oidc-sanity-*/ansible_collections/kubeauth/eks_oidc`` first.

ansible-test bootstraps pip in the virtualenvs it makes for some sanity tests
by running a ``get-pip`` script it downloads from a host this machine cannot
reach, and its own pip runs ignore the machine's pip settings. A stand-in
script in its cache (the path it looks at before downloading) bootstraps pip
with ``ensurepip`` and installs with the system's CA file, from the
registries the machine does reach.
"""

import os
import shutil
import ssl
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPENDENCIES = (("amazon", "aws"), ("kubernetes", "core"))
PIP_VERSION = "24.2"  # the pip version ansible-test 2.19 bootstraps
GET_PIP_STAND_IN = '''"""Stand-in for get-pip.py, written by kubeauth.eks_oidc tests/run_sanity.py."""
import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--cert", %r] + args)
'''


def install_get_pip_stand_in():
    path = os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % PIP_VERSION.replace(".", "_"))
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cafile = ssl.get_default_verify_paths().openssl_cafile
    with open(path, "w") as handle:
        handle.write(GET_PIP_STAND_IN % cafile)


def copy_checkout(copy):
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for relative in filter(None, files):
        source = os.path.join(ROOT, relative)
        if not os.path.isfile(source):
            continue  # deleted in the work tree but still in the index
        target = os.path.join(copy, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)


def link_dependencies(copy):
    """Put amazon.aws and kubernetes.core beside the copy, where ansible-test looks for
    the collections our docs fragments and module_utils come from."""
    import ansible_collections  # a namespace package: the PyPI ansible bundle's collections

    installed = next(path for path in ansible_collections.__path__ if os.path.isdir(os.path.join(path, "amazon")))
    for namespace, name in DEPENDENCIES:
        link = os.path.join(os.path.dirname(os.path.dirname(copy)), namespace, name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.islink(link):
            os.symlink(os.path.join(installed, namespace, name), link)


def main():
    install_get_pip_stand_in()
    # Outside the checkout (inside it, ansible-test would ask this repository's git
    # which files exist, and git ignores the copy), private to this run.
    workdir = tempfile.mkdtemp(prefix="kubeauth-eks-oidc-sanity-")
    copy = os.path.join(workdir, "ansible_collections", "kubeauth", "eks_oidc")
    copy_checkout(copy)
    link_dependencies(copy)
    command = ["ansible-test", "sanity", "--local", "--python", "%d.%d" % sys.version_info[:2], "--requirements", "--color", "no"]
    command += sys.argv[1:]
    print(">> %s (in %s)" % (" ".join(command), copy), flush=True)
    try:
        return subprocess.call(command, cwd=copy)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
