"""Fixtures of the kubeconfig role's end-to-end tests: an identity provider on the EKS twin.

``idp`` runs the post's steps 1 and 3 (roles cognito_idp and eks_oidc, through
the sandbox inventory) with names of its own, binds the group gid:secret-reader
to a ClusterRole that reads secrets (step 4, with the kubernetes client and the
twin's admin kubeconfig), and removes all of it afterwards.
"""

import os
import re
import shutil
import uuid

import pytest

from ansible_runs import PlaybookRunner

HERE = os.path.dirname(os.path.abspath(__file__))
KUBECTL = shutil.which("kubectl")

USERNAME = "test@example.com"
GROUP = "gid:secret-reader"


class Playbooks(PlaybookRunner):
    """This directory's playbooks on the sandbox's first cluster, with the test's extra vars."""

    def __init__(self, sandbox, workdir, extra_vars):
        PlaybookRunner.__init__(self, sandbox, workdir, extra_vars)
        self.cluster = sorted(sandbox["clusters"])[0]

    def run(self, playbook, check=False, **overrides):
        # The Cognito issuer URL is reached through the sandbox's HTTPS proxy, as through an egress proxy.
        return PlaybookRunner.run(self, os.path.join(HERE, playbook), "--limit", "localhost,%s" % self.cluster,
                                  *(["--check"] if check else []),
                                  env={"HTTPS_PROXY": self.sandbox["https_proxy"], "NO_PROXY": self.sandbox["no_proxy"]},
                                  **overrides)

    def changed(self, result):
        """``changed=`` of the cluster host in the PLAY RECAP."""
        match = re.search(r"^%s\s*:.*\bchanged=(\d+)" % re.escape(self.cluster), result.stdout, re.M)
        assert match, result.stdout[-3000:]
        return int(match.group(1))


def admin_api(sandbox, cluster):
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=sandbox["clusters"][cluster]["admin_kubeconfig"])
    return client.RbacAuthorizationV1Api(api_client)


def bind_secret_readers(rbac, name):
    """Step 4 of the post: ClusterRole read-secrets and a binding to the group gid:secret-reader."""
    from kubernetes import client

    rbac.create_cluster_role(client.V1ClusterRole(
        metadata=client.V1ObjectMeta(name=name),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get", "watch", "list"])],
    ))
    rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
        metadata=client.V1ObjectMeta(name=name),
        subjects=[client.RbacV1Subject(kind="Group", name=GROUP, api_group="rbac.authorization.k8s.io")],
        role_ref=client.V1RoleRef(kind="ClusterRole", name=name, api_group="rbac.authorization.k8s.io"),
    ))


def unbind_secret_readers(rbac, name):
    from kubernetes.client.exceptions import ApiException

    for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
        try:
            delete(name)
        except ApiException as e:
            if e.status != 404:
                raise


@pytest.fixture(scope="module")
def idp(sandbox, tmp_path_factory):
    """The post's steps 1, 3 and 4 on the twin, with names of this module; removed afterwards."""
    assert sandbox.get("kubernetes"), ("the sandbox runs without kube-apiserver: run `make k8s-binaries` "
                                       "(these tests do not skip)")
    assert KUBECTL, "kubectl is not on PATH (these tests do not skip)"
    workdir = str(tmp_path_factory.mktemp("login"))
    suffix = uuid.uuid4().hex[:8]
    extra_vars = {
        "eks_oidc_user_pool_name": "kc-e2e-%s" % suffix,
        "eks_oidc_client_name": "kc-e2e-%s" % suffix,
        "eks_oidc_domain": "kc-e2e-%s" % suffix,
        "eks_oidc_identity_provider_config_name": "kc-e2e-%s" % suffix,
    }
    playbooks = Playbooks(sandbox, workdir, extra_vars)
    rbac = admin_api(sandbox, playbooks.cluster)
    binding = "kc-e2e-read-secrets-%s" % suffix
    try:
        playbooks.run("setup.yml")
        bind_secret_readers(rbac, binding)
        yield playbooks
    finally:
        unbind_secret_readers(rbac, binding)
        playbooks.run("teardown.yml")
