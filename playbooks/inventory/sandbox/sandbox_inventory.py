#!/usr/bin/env python3
"""Ansible inventory of the running sandbox, read from its sandbox.json.

Hosts: ``localhost`` (group ``identity_provider``: the IdP is made once) and
one host per EKS cluster of the sandbox (group ``eks_clusters``), all with a
local connection. It gives only what any user's inventory gives: the AWS
connection settings (MiniStack's endpoint, the sandbox CA, the sandbox's
credentials), the region, the cluster names, and where the kubeconfig goes.
Nothing in the roles or playbooks knows it is the sandbox. Start the sandbox
first: ``make sandbox-up``.
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
    variables = {
        "ansible_connection": "local",
        "eks_oidc_region": info["region"],
        "eks_oidc_aws_connection": connection,
        # The sandbox's own files: its kubeconfig and the test user's generated password.
        "sandbox_state_dir": directory,
    }
    keycloak = info.get("keycloak")
    if keycloak:  # SANDBOX_KEYCLOAK=1: Keycloak's admin API, for eks_oidc_identity_provider=keycloak
        variables.update(
            eks_oidc_keycloak_url=keycloak["url"],
            eks_oidc_keycloak_admin_username=keycloak["admin_username"],
            eks_oidc_keycloak_admin_password=keycloak["admin_password"],
            # Its certificate comes from the sandbox's CA, the one of the AWS endpoint.
            eks_oidc_keycloak_ca_file=info["aws_ca_bundle"],
        )
    return {
        "all": {"vars": variables},
        "identity_provider": {"hosts": ["localhost"]},
        "eks_clusters": {"hosts": sorted(clusters)},
        "_meta": {"hostvars": host_vars},
    }


if __name__ == "__main__":
    if "--host" in sys.argv:
        print("{}")
    else:
        print(json.dumps(inventory(), indent=2))
