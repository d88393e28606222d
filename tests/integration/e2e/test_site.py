"""End to end: playbooks/site.yml and cleanup.yml on the sandbox, as a user runs them.

Two twin clusters (the session sandbox's and the one the `fleet` fixture
adds) are associated in one run. After site.yml the
OIDC user's kubectl lists secrets and is Forbidden on nodes with the post's
message; a second run and a --check run change nothing; cleanup.yml leaves
nothing that site.yml created (checked through the AWS APIs, the Kubernetes
API and the kubeconfig file) and a second cleanup changes nothing. The same
again with other names, prefixes and claims proves nothing is hard-coded; that
run is on the session sandbox's one cluster (--limit), as the fleet is the first run's.

The run with the post's values is also the secret-leak run: its first
site.yml and its first cleanup.yml run at -vvv --diff, and no secret may
stand in anything any of its runs printed, in the sandbox's logs or in a
file they wrote that is not 0600 (leaks.py).

The two tests stand alone (each leaves the sandbox as it found it), so pytest-xdist
may run them on two workers, each on its own sandbox.
"""

import json
import os
import re
import subprocess

import pytest
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

import leaks
from ansible_runs import (FLEET_CLUSTER, SESSION_CLUSTER, aws, changed_tasks, kubectl_as_oidc_user, sandbox_environment,
                          sandbox_playbook)

pytestmark = pytest.mark.independent
CLUSTERS = (SESSION_CLUSTER, FLEET_CLUSTER)

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
    # As the identity provider names them: the verify role adds the association's grp: prefix.
    "eks_oidc_verify_idp_username": "",
    "eks_oidc_verify_idp_groups": ["platform-readers"],
}


def playbook(sandbox, name, *args, extra_vars=None, clusters=CLUSTERS):
    """playbooks/NAME.yml on ``clusters`` (all of the fleet by default); ({host: changed}, output), each of
    them and localhost in the recap."""
    if clusters != CLUSTERS:
        args += ("--limit", ",".join(("localhost",) + tuple(clusters)))
    recap, output = sandbox_playbook(sandbox, "playbooks/%s.yml" % name, *args, extra_vars=extra_vars)
    assert set(recap) >= {"localhost"} | set(clusters), "hosts missing from the recap: %s" % recap
    return recap, output


def kubectl_as_admin(sandbox, cluster, *args):
    """The admin entry the roles wrote, as a person uses it: AWS credentials in the environment."""
    kubeconfig = os.path.join(sandbox["state_dir"], "kubeconfig")
    env = sandbox_environment(sandbox, AWS_ACCESS_KEY_ID=sandbox["aws_access_key_id"],
                              AWS_SECRET_ACCESS_KEY=sandbox["aws_secret_access_key"])
    return subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--context", "admin-%s" % cluster] + list(args),
        capture_output=True, text=True, check=False, timeout=120, env=env,
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
    for cluster in sorted(sandbox["clusters"]):
        assert eks.list_identity_provider_configs(clusterName=cluster)["identityProviderConfigs"] == []
        rbac = rbac_api(sandbox, cluster)
        roles = [r.metadata.name for r in rbac.list_cluster_role().items]
        bindings = [b.metadata.name for b in rbac.list_cluster_role_binding().items]
        assert values["cluster_role"] not in roles
        assert values["binding"] not in bindings
        for section in ("contexts", "users"):
            names = [entry["name"] for entry in kubeconfig.get(section) or []]
            assert not [n for n in names if cluster in n], "kubeconfig %s left for %s: %s" % (section, cluster, names)


def converge_and_clean(sandbox, extra_vars, expectations, after_prefix_change=None, verbosity=(), clusters=CLUSTERS):
    """site.yml three times (then changed=0, --check changed=0), the proof, cleanup.yml twice (then changed=0),
    on ``clusters``.

    The first site.yml and the first cleanup.yml, the runs that make and remove every secret, run with
    ``verbosity`` (-vvv --diff, say). Returns what every run printed, as (where, output) pairs, and the
    secrets in play before cleanup."""
    outputs = []

    def run(name, *args, **kwargs):
        recap, output = playbook(sandbox, name, *args, clusters=clusters, **kwargs)
        outputs.append(("%s.yml %s" % (name, " ".join(args)), output))
        return recap, output

    first, _output = run("site", *verbosity, extra_vars=extra_vars)
    assert first["localhost"] > 0 and all(first[c] > 0 for c in clusters), first
    second, output = run("site", extra_vars=extra_vars)
    assert set(second.values()) == {0}, "second run changed something: %s\n%s" % (second, changed_tasks(output))
    checked, output = run("site", "--check", extra_vars=extra_vars)
    assert set(checked.values()) == {0}, "--check changed something: %s\n%s" % (checked, changed_tasks(output))
    for cluster in clusters:
        expectations(cluster)
    if after_prefix_change:
        # Another groups prefix: the association is replaced, RBAC rebound, and the verify
        # role's expectations follow the new prefix (site.yml fails otherwise).
        changed, _output = run("site", extra_vars=dict(extra_vars or {}, eks_oidc_groups_prefix="acc:",
                                                       eks_oidc_idp_force=True))
        assert all(changed[c] > 0 for c in clusters), changed
        for cluster in clusters:
            after_prefix_change(cluster)
    secrets = leaks.secrets_in_play(sandbox)  # the token cache is gone after cleanup
    cleaned, _output = run("cleanup", *verbosity, extra_vars=extra_vars)
    assert all(cleaned[c] > 0 for c in clusters) and cleaned["localhost"] > 0, cleaned
    again, output = run("cleanup", extra_vars=extra_vars)
    assert set(again.values()) == {0}, "second cleanup changed something: %s\n%s" % (again, changed_tasks(output))
    return outputs, secrets


def test_site_with_the_posts_values_on_a_fleet_then_cleanup(fleet):
    def post_proof(cluster):
        secrets = kubectl_as_oidc_user(fleet, cluster, "get", "secrets", "-n", "default")
        assert secrets.returncode == 0, secrets.stderr
        nodes = kubectl_as_oidc_user(fleet, cluster, "get", "nodes")
        assert nodes.returncode != 0
        assert 'Error from server (Forbidden): nodes is forbidden: User "test@example.com" cannot list resource ' \
               '"nodes" in API group "" at the cluster scope' in nodes.stderr
        # The admin entry is the EKS IAM token, as on AWS: the twin maps the cluster's creator to an admin.
        admin = kubectl_as_admin(fleet, cluster, "auth", "whoami", "-o", "json")
        assert admin.returncode == 0, admin.stderr
        assert json.loads(admin.stdout)["status"]["userInfo"]["username"].startswith("arn:aws:")
        assert kubectl_as_admin(fleet, cluster, "auth", "can-i", "*", "*").stdout.strip() == "yes"

    def changed_prefix(cluster):
        whoami = kubectl_as_oidc_user(fleet, cluster, "auth", "whoami", "-o", "json")
        assert "acc:secret-reader" in json.loads(whoami.stdout)["status"]["userInfo"]["groups"], whoami.stdout

    outputs, secrets = converge_and_clean(fleet, None, post_proof, changed_prefix, verbosity=("-vvv", "--diff"))
    assert_nothing_left(fleet, {"pool": "oidc-userpool", "domain": "oidc-userpool", "cluster_role": "read-secrets",
                                "binding": "read-secrets-role-binding"})
    found = leaks.leaks(secrets, leaks.places_to_search(fleet, outputs))
    assert not found, "secrets found:\n" + "\n".join(sorted(set(found)))


def test_site_with_other_names_prefix_and_claim(sandbox):
    def other_proof(cluster):
        whoami = kubectl_as_oidc_user(sandbox, cluster, "auth", "whoami", "-o", "json")
        assert whoami.returncode == 0, whoami.stderr
        user = json.loads(whoami.stdout)["status"]["userInfo"]
        # username claim sub without a prefix: EKS prefixes with the issuer URL and '#'
        assert re.match(r"^https://cognito-idp\.%s\.amazonaws\.com/%s_\w+#[0-9a-f-]{36}$" % (sandbox["region"], sandbox["region"]),
                        user["username"]), user
        assert "grp:platform-readers" in user["groups"]
        configmaps = kubectl_as_oidc_user(sandbox, cluster, "get", "configmaps", "-n", "default")
        assert configmaps.returncode == 0, configmaps.stderr
        secrets = kubectl_as_oidc_user(sandbox, cluster, "get", "secrets", "-n", "default")
        assert secrets.returncode != 0 and "Forbidden" in secrets.stderr

    converge_and_clean(sandbox, OTHER_VALUES, other_proof, clusters=CLUSTERS[:1])
    assert_nothing_left(sandbox, {"pool": "platform-idp", "domain": "platform-idp-login",
                                  "cluster_role": "platform-read-configmaps", "binding": "platform-readers-binding"})
