"""End to end with Keycloak as the identity provider, on the EKS twin.

One Keycloak serves the whole session (the `keycloak` fixture adds it to the
session sandbox; the sandbox inventory reads its URL and admin credentials
from sandbox.json). site.yml runs with `eks_oidc_identity_provider=keycloak`
and nothing else changed: the role keycloak_idp makes the realm, kubectl's
public client, the groups claim, the group secret-reader and the post's user;
the association, RBAC, kubeconfig, verify and audit roles are those of the
Cognito run. Then, as in the post's Step 5, real kubectl through the
kubeconfig the roles wrote (the credential plugin logs in at Keycloak) lists
secrets and is Forbidden on nodes; a second run changes nothing; the audit query finds the user's requests; cleanup.yml leaves
nothing in Keycloak, EKS, RBAC or the kubeconfig, and a second cleanup
changes nothing.

On the session sandbox's cluster oidc-test only (`--limit localhost,oidc-test`, whatever else the sandbox
runs): a fleet is the Cognito end-to-end run's subject, and nothing the roles do per cluster depends on
the provider.
"""

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from ansible_runs import SESSION_CLUSTER, aws, changed_tasks, kubectl_as_oidc_user, sandbox_playbook

pytestmark = pytest.mark.xdist_group("keycloak")  # one Keycloak, started once, on one worker

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTERS = (SESSION_CLUSTER,)
USERNAME = "test@example.com"  # the sandbox inventory's user, the post's
REALM = "eks"  # the role's default
CLIENT_ID = "kubernetes"  # the role's default
VARIABLES = {"eks_oidc_identity_provider": "keycloak"}


def playbook(sandbox, path, *args, extra_vars=None):
    """ansible-playbook with the sandbox inventory and Keycloak as the identity provider, on localhost and CLUSTERS
    unless ``args`` limit it otherwise; ({host: changed}, output)."""
    if "--limit" not in args:
        args = ("--limit", ",".join(("localhost",) + CLUSTERS)) + args
    return sandbox_playbook(sandbox, path, *args, extra_vars=dict(VARIABLES, **(extra_vars or {})), timeout=1200)


def keycloak_admin(keycloak, ca_file, path):
    """GET on Keycloak's admin API as the sandbox's administrator; (status, JSON or None)."""
    context = ssl.create_default_context(cafile=ca_file)
    form = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli",
                                   "username": keycloak["admin_username"],
                                   "password": keycloak["admin_password"]}).encode()
    token_url = keycloak["url"] + "/realms/master/protocol/openid-connect/token"
    with urllib.request.urlopen(token_url, data=form, context=context, timeout=30) as answer:
        token = json.load(answer)["access_token"]
    request = urllib.request.Request(keycloak["url"] + path, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, None


@pytest.fixture(scope="module")
def converged(sandbox, keycloak):
    """site.yml with Keycloak, run once; cleanup.yml afterwards whatever happened."""
    missing = [name for name in CLUSTERS if not (sandbox["clusters"].get(name) or {}).get("endpoint")]
    assert not missing, "the session sandbox must run twin clusters %s (tests/integration/conftest.py)" % (missing,)
    state = {"cleaned": False}
    try:
        state["first"], _output = playbook(sandbox, "playbooks/site.yml")
        yield state
    finally:
        # The session's sandbox is left as it was found, also when a test failed before
        # test_cleanup_leaves_nothing (which asserts on its own run) could clean up.
        if not state["cleaned"]:
            playbook(sandbox, "playbooks/cleanup.yml")


def test_site_yml_makes_the_realm_and_the_association(converged, sandbox, keycloak):
    assert converged["first"]["localhost"] > 0 and all(converged["first"][c] > 0 for c in CLUSTERS), converged["first"]
    status, realm = keycloak_admin(keycloak, sandbox["aws_ca_bundle"], "/admin/realms/%s" % REALM)
    assert status == 200 and realm["registrationAllowed"] is False and realm["bruteForceProtected"] is True
    status, clients = keycloak_admin(keycloak, sandbox["aws_ca_bundle"],
                                     "/admin/realms/%s/clients?clientId=%s" % (REALM, CLIENT_ID))
    [client] = clients
    assert client["publicClient"] and client["standardFlowEnabled"] and not client["implicitFlowEnabled"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert [m["config"]["claim.name"] for m in client["protocolMappers"]] == ["groups"]
    eks = aws(sandbox, "eks")
    for cluster in CLUSTERS:
        [config] = eks.list_identity_provider_configs(clusterName=cluster)["identityProviderConfigs"]
        oidc = eks.describe_identity_provider_config(clusterName=cluster, identityProviderConfig=config)[
            "identityProviderConfig"]["oidc"]
        assert oidc["issuerUrl"] == "%s/realms/%s" % (keycloak["url"], REALM)
        assert oidc["clientId"] == CLIENT_ID and oidc["groupsClaim"] == "groups" and oidc["status"] == "ACTIVE"


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_the_posts_step_5_proof_as_the_keycloak_user(converged, sandbox, cluster):
    whoami = kubectl_as_oidc_user(sandbox, cluster, "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]
    assert user["username"] == USERNAME
    assert "gid:secret-reader" in user["groups"]
    secrets = kubectl_as_oidc_user(sandbox, cluster, "get", "secrets", "-n", "default")
    assert secrets.returncode == 0, secrets.stderr
    nodes = kubectl_as_oidc_user(sandbox, cluster, "get", "nodes")
    assert nodes.returncode != 0
    assert 'Error from server (Forbidden): nodes is forbidden: User "%s" cannot list resource "nodes" in API group "" ' \
           'at the cluster scope' % USERNAME in nodes.stderr


def test_a_second_run_changes_nothing(converged, sandbox):
    # Check mode: the role's in test_keycloak_login.py, the rest of site.yml's in the Cognito end-to-end test.
    second, output = playbook(sandbox, "playbooks/site.yml")
    assert set(second.values()) == {0}, "second run changed something: %s\n%s" % (second, changed_tasks(output))


def test_the_audit_query_finds_the_keycloak_users_requests(converged, sandbox, tmp_path):
    # The requests of the Step 5 test, made again here so this test stands on its own.
    assert kubectl_as_oidc_user(sandbox, CLUSTERS[0], "get", "secrets", "-n", "default").returncode == 0
    assert kubectl_as_oidc_user(sandbox, CLUSTERS[0], "get", "nodes").returncode != 0
    out = tmp_path / "events.json"
    playbook(sandbox, os.path.join(HERE, "audit_query.yml"), "--limit", CLUSTERS[0],
             extra_vars={"username": USERNAME, "out": str(out)})
    events = json.loads(out.read_text())
    secrets = [e for e in events if e["object_ref"].get("resource") == "secrets" and e["verb"] == "list"]
    nodes = [e for e in events if e["object_ref"].get("resource") == "nodes"]
    assert secrets and nodes, events
    assert secrets[0]["user"]["username"] == USERNAME and "gid:secret-reader" in secrets[0]["user"]["groups"]
    assert secrets[0]["decision"] == "allow" and secrets[0]["response_code"] == 200
    assert nodes[0]["decision"] == "forbid" and nodes[0]["response_code"] == 403


def test_cleanup_leaves_nothing(converged, sandbox, keycloak):
    cleaned, _output = playbook(sandbox, "playbooks/cleanup.yml")
    converged["cleaned"] = True
    assert cleaned["localhost"] > 0 and all(cleaned[c] > 0 for c in CLUSTERS), cleaned
    assert keycloak_admin(keycloak, sandbox["aws_ca_bundle"], "/admin/realms/%s" % REALM)[0] == 404
    eks = aws(sandbox, "eks")
    for cluster in CLUSTERS:
        assert eks.list_identity_provider_configs(clusterName=cluster)["identityProviderConfigs"] == []
        api = k8s_config.new_client_from_config(config_file=sandbox["clusters"][cluster]["admin_kubeconfig"])
        rbac = k8s_client.RbacAuthorizationV1Api(api)
        assert "read-secrets" not in [r.metadata.name for r in rbac.list_cluster_role().items]
        assert "read-secrets-role-binding" not in [b.metadata.name for b in rbac.list_cluster_role_binding().items]
    kubeconfig_path = os.path.join(sandbox["state_dir"], "kubeconfig")
    kubeconfig = {}
    if os.path.exists(kubeconfig_path):
        with open(kubeconfig_path) as handle:
            kubeconfig = yaml.safe_load(handle) or {}
    for section in ("contexts", "users"):
        names = [entry["name"] for entry in kubeconfig.get(section) or []]
        assert not [n for n in names if n.endswith(CLUSTERS)], "kubeconfig %s left: %s" % (section, names)
    again, output = playbook(sandbox, "playbooks/cleanup.yml")
    assert set(again.values()) == {0}, "second cleanup changed something: %s\n%s" % (again, changed_tasks(output))
