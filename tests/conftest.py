"""Make this checkout importable as ``ansible_collections.kubeauth.eks_oidc`` for pytest.

`make collection` links the checkout at .build/collections/ansible_collections/kubeauth/eks_oidc;
the PyPI ansible bundle's ansible_collections (amazon.aws, kubernetes.core) is a namespace
package, so both places merge into one import tree.
"""

import os
import sys

COLLECTIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "collections")

if not os.path.isdir(os.path.join(COLLECTIONS_DIR, "ansible_collections", "kubeauth", "eks_oidc")):
    raise RuntimeError("run `make collection` first: %s is missing the link to this checkout" % COLLECTIONS_DIR)
sys.path.insert(0, COLLECTIONS_DIR)

# Tests run ansible-playbook, ansible-doc and kubectl plugins of this venv: put the
# interpreter's bin directory first (as the Makefile does), and let ansible find the
# checkout as kubeauth.eks_oidc.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_DIR)
