"""Where the sandbox keeps what it downloads or builds once (Kubernetes binaries, Keycloak).

Standard library only, no side effects at import: binaries.py and keycloak.py run as scripts too.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(name: str, override_env: str) -> Path:
    """``$override_env`` when set, else ``${XDG_CACHE_HOME:-~/.cache}/kubeauth-eks-oidc/<name>``."""
    override = os.environ.get(override_env)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(xdg) / "kubeauth-eks-oidc" / name
