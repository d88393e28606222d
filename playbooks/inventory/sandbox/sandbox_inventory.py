#!/usr/bin/env python3
"""Ansible inventory of the running sandbox, read from its sandbox.json.

Hosts: ``localhost`` (group ``identity_provider``: the IdP is made once) and
one host per EKS cluster of the sandbox (group ``eks_clusters``), all with a
local connection. Connection variables point the collection's AWS modules at
MiniStack. Start the sandbox first: ``make sandbox-up``.
"""

import json
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def sandbox_info():
    directory = os.environ.get("EKS_OIDC_SANDBOX_DIR") or os.path.join(REPO_ROOT, ".sandbox")
    path = os.path.join(directory, "sandbox.json")
    try:
        with open(path) as handle:
            return directory, json.load(handle)
    except FileNotFoundError:
        sys.exit("no sandbox is running (%s is missing): run `make sandbox-up` first" % path)


def inventory():
    directory, info = sandbox_info()
    connection = {
        "endpoint_url": info["aws_endpoint_url"],
        "aws_ca_bundle": info["aws_ca_bundle"],
        "access_key": info["aws_access_key_id"],
        "secret_key": info["aws_secret_access_key"],
    }
    clusters = info.get("clusters") or {}
    host_vars = {"localhost": {}}
    for name in clusters:
        host_vars[name] = {"eks_oidc_cluster_name": name}
    return {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "eks_oidc_region": info["region"],
                "eks_oidc_aws_connection": connection,
                "eks_oidc_sandbox": info,
                "eks_oidc_sandbox_dir": directory,
            },
        },
        "identity_provider": {"hosts": ["localhost"]},
        "eks_clusters": {"hosts": sorted(clusters)},
        "_meta": {"hostvars": host_vars},
    }


if __name__ == "__main__":
    if "--host" in sys.argv:
        print("{}")
    else:
        print(json.dumps(inventory(), indent=2))
