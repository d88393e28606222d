"""End to end: playbooks/site.yml and cleanup.yml on the sandbox, as a user runs them.

Two twin clusters are associated in one run (the fleet). After site.yml the
OIDC user's kubectl lists secrets and is Forbidden on nodes with the post's
message; a second run and a --check run change nothing; cleanup.yml leaves
nothing that site.yml created (checked through the AWS APIs, the Kubernetes
API and the kubeconfig file) and a second cleanup changes nothing. The same
again with other names, prefixes and claims proves nothing is hard-coded.
"""

import json
import os
import re
import subprocess

import boto3
import pytest
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLUSTERS = ("oidc-test", "oidc-test-2")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)

# Other names, another groups prefix and the sub claim (usernames become ISSUER#sub).
OTHER_VALUES = {
    "eks_oidc_user_pool_name": "platform-idp",
    "eks_oidc_client_name": "platform-kubectl",
    "eks_oidc_domain": "platform-idp-login",
    "eks_oidc_groups": [{"name": "platform-readers"}],
    "eks_oidc_users": [{
        "username": "alice@example.com",
        "attributes": {"email": "alice@example.com"},
        "password": "{{ eks_oidc_test_user_password }}",
        "groups": ["platform-readers"],
    }],
    "eks_oidc_identity_provider_config_name": "platform-oidc",
    "eks_oidc_username_claim": "sub",
    "eks_oidc_groups_prefix": "grp:",
    "eks_oidc_rbac_cluster_roles": [{
        "name": "platform-read-configmaps",
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    }],
    "eks_oidc_rbac_bindings": [{
        "name": "platform-readers-binding",
        "kind": "ClusterRoleBinding",
        "role_ref": {"kind": "ClusterRole", "name": "platform-read-configmaps"},
        "groups": ["platform-readers"],
    }],
    "eks_oidc_verify": [
        {"verb": "list", "resource": "configmaps", "namespace": "default", "allowed": True},
        {"verb": "list", "resource": "secrets", "namespace": "default", "allowed": False},
    ],
    "eks_oidc_verify_username": "",
    "eks_oidc_verify_groups": ["grp:platform-readers", "system:authenticated"],
}


@pytest.fixture(scope="module")
def fleet(sandbox):
    missing = [name for name in CLUSTERS if not (sandbox["clusters"].get(name) or {}).get("endpoint")]
    assert not missing, "the session sandbox must run twin clusters %s (tests/integration/conftest.py)" % (missing,)
    return sandbox


def playbook(sandbox, name, *args, extra_vars=None):
    command = ["ansible-playbook", "-i", "playbooks/inventory/sandbox", "playbooks/%s.yml" % name] + list(args)
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    env = dict(os.environ, EKS_OIDC_SANDBOX_DIR=sandbox["state_dir"], ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (name, result.stdout[-30000:], result.stderr[-5000:])
    recap = dict((host, int(changed)) for host, _ok, changed, _unreachable, _failed in RECAP.findall(result.stdout))
    assert set(recap) >= {"localhost"} | set(CLUSTERS), "hosts missing from the recap: %s" % recap
    return recap, result.stdout


def changed_tasks(stdout):
    """The tasks that reported a change, with the hosts, for assertion messages."""
    changed, task = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]")[0] + "]"
        elif line.startswith("changed:"):
            changed.append("%s %s" % (task, line))
    return "\n".join(changed)


def kubectl_as_oidc_user(sandbox, cluster, *args):
    kubeconfig = os.path.join(sandbox["state_dir"], "kubeconfig")
    return subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--context", "oidc-%s" % cluster] + list(args),
        capture_output=True, text=True, check=False, timeout=120,
    )


def aws(sandbox, service):
    return boto3.client(
        service, endpoint_url=sandbox["aws_endpoint_url"], region_name=sandbox["region"],
        verify=sandbox["aws_ca_bundle"], aws_access_key_id=sandbox["aws_access_key_id"],
        aws_secret_access_key=sandbox["aws_secret_access_key"],
    )


def rbac_api(sandbox, cluster):
    api = k8s_config.new_client_from_config(config_file=sandbox["clusters"][cluster]["admin_kubeconfig"])
    return k8s_client.RbacAuthorizationV1Api(api)


def assert_nothing_left(sandbox, values):
    cognito = aws(sandbox, "cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert [p for p in pools if p["Name"] == values["pool"]] == [], "user pool left behind"
    domain = cognito.describe_user_pool_domain(Domain=values["domain"])["DomainDescription"]
    assert not domain, "domain left behind: %s" % domain
    eks = aws(sandbox, "eks")
    kubeconfig_path = os.path.join(sandbox["state_dir"], "kubeconfig")
    kubeconfig = {}
    if os.path.exists(kubeconfig_path):
        with open(kubeconfig_path) as handle:
            kubeconfig = yaml.safe_load(handle) or {}
    for cluster in CLUSTERS:
        assert eks.list_identity_provider_configs(clusterName=cluster)["identityProviderConfigs"] == []
        rbac = rbac_api(sandbox, cluster)
        roles = [r.metadata.name for r in rbac.list_cluster_role().items]
        bindings = [b.metadata.name for b in rbac.list_cluster_role_binding().items]
        assert values["cluster_role"] not in roles
        assert values["binding"] not in bindings
        for section in ("contexts", "users"):
            names = [entry["name"] for entry in kubeconfig.get(section) or []]
            assert not [n for n in names if cluster in n], "kubeconfig %s left for %s: %s" % (section, cluster, names)


def converge_and_clean(sandbox, extra_vars, expectations):
    first, _output = playbook(sandbox, "site", extra_vars=extra_vars)
    assert first["localhost"] > 0 and all(first[c] > 0 for c in CLUSTERS), first
    second, output = playbook(sandbox, "site", extra_vars=extra_vars)
    assert set(second.values()) == {0}, "second run changed something: %s\n%s" % (second, changed_tasks(output))
    checked, output = playbook(sandbox, "site", "--check", extra_vars=extra_vars)
    assert set(checked.values()) == {0}, "--check changed something: %s\n%s" % (checked, changed_tasks(output))
    for cluster in CLUSTERS:
        expectations(cluster)
    cleaned, _output = playbook(sandbox, "cleanup", extra_vars=extra_vars)
    assert all(cleaned[c] > 0 for c in CLUSTERS) and cleaned["localhost"] > 0, cleaned
    again, output = playbook(sandbox, "cleanup", extra_vars=extra_vars)
    assert set(again.values()) == {0}, "second cleanup changed something: %s\n%s" % (again, changed_tasks(output))


def test_site_with_the_posts_values_on_a_fleet_then_cleanup(fleet):
    def post_proof(cluster):
        secrets = kubectl_as_oidc_user(fleet, cluster, "get", "secrets", "-n", "default")
        assert secrets.returncode == 0, secrets.stderr
        nodes = kubectl_as_oidc_user(fleet, cluster, "get", "nodes")
        assert nodes.returncode != 0
        assert 'Error from server (Forbidden): nodes is forbidden: User "test@example.com" cannot list resource ' \
               '"nodes" in API group "" at the cluster scope' in nodes.stderr

    converge_and_clean(fleet, None, post_proof)
    assert_nothing_left(fleet, {"pool": "oidc-userpool", "domain": "oidc-userpool", "cluster_role": "read-secrets",
                                "binding": "read-secrets-role-binding"})


def test_site_with_other_names_prefix_and_claim(fleet):
    def other_proof(cluster):
        whoami = kubectl_as_oidc_user(fleet, cluster, "auth", "whoami", "-o", "json")
        assert whoami.returncode == 0, whoami.stderr
        user = json.loads(whoami.stdout)["status"]["userInfo"]
        # username claim sub without a prefix: EKS prefixes with the issuer URL and '#'
        assert re.match(r"^https://cognito-idp\.%s\.amazonaws\.com/%s_\w+#[0-9a-f-]{36}$" % (fleet["region"], fleet["region"]),
                        user["username"]), user
        assert "grp:platform-readers" in user["groups"]
        configmaps = kubectl_as_oidc_user(fleet, cluster, "get", "configmaps", "-n", "default")
        assert configmaps.returncode == 0, configmaps.stderr
        secrets = kubectl_as_oidc_user(fleet, cluster, "get", "secrets", "-n", "default")
        assert secrets.returncode != 0 and "Forbidden" in secrets.stderr

    converge_and_clean(fleet, OTHER_VALUES, other_proof)
    assert_nothing_left(fleet, {"pool": "platform-idp", "domain": "platform-idp-login",
                                "cluster_role": "platform-read-configmaps", "binding": "platform-readers-binding"})
