"""The AWS post's audit section end to end on the EKS twin, with the collection's roles and modules.

setup.yml runs the post's Steps 1 to 4 with the roles cognito_idp, eks_oidc
and rbac (pool, client, group secret-reader, user test@example.com, the
association with claim email and groups prefix gid:, ClusterRole read-secrets
bound to gid:secret-reader) and turns the cluster's audit log on with the role
audit. Then, as in Step 5, the user runs `kubectl get secrets` (allowed) and
`kubectl get nodes` (forbidden) with the ID token, and query.yml asks
eks_audit_events_info what the user did: the twin's kube-apiserver wrote
those requests to its audit log, the sandbox shipped them to MiniStack's
CloudWatch Logs, and Logs Insights finds them. cleanup.yml undoes everything.

Needs kube-apiserver and etcd (`make k8s-binaries`); fails without them.
"""

import json
import os
import subprocess
import sys
import uuid

import boto3
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sandbox as launcher  # noqa: E402  (tests/sandbox/sandbox.py, on the path via conftest)
from ansible_runs import target_variables  # noqa: E402
from run_playbook import playbook  # noqa: E402

CLUSTER = "oidc-test"
USERNAME = "test@example.com"
PASSWORD = "Audit-7%s" % uuid.uuid4().hex[:12]  # the role's default policy: 12+ characters, every class


def kubectl(cluster, cafile, token, tmp_path, *args):
    kubeconfig = tmp_path / "empty.kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--server", cluster["endpoint"],
         "--certificate-authority", cafile, "--token", token, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture(scope="module")
def post(sandbox, tmp_path_factory):
    """The post's setup with audit logging on; everything removed again afterwards."""
    assert sandbox["kubernetes"], "the sandbox has no Kubernetes side: run `make k8s-binaries` (these tests do not skip)"
    tmp_path = tmp_path_factory.mktemp("audit")
    variables = dict(target_variables(sandbox), cluster=CLUSTER, pool_name="audit-%s" % uuid.uuid4().hex[:8],
                     config_name="audit-oidc", username=USERNAME, password=PASSWORD, out=str(tmp_path / "setup.json"))
    try:
        playbook("setup", variables, tmp_path)
        facts = json.loads((tmp_path / "setup.json").read_text())
        yield dict(variables, tmp_path=tmp_path, **facts)
    finally:
        playbook("cleanup", variables, tmp_path)


@pytest.fixture(scope="module")
def requests_and_events(post, sandbox):
    """kubectl get secrets and get nodes as the OIDC user, then what eks_audit_events_info found."""
    cognito = boto3.client("cognito-idp", **launcher.boto3_kwargs(sandbox))
    token = cognito.initiate_auth(
        ClientId=post["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    cluster = sandbox["clusters"][CLUSTER]
    secrets = kubectl(cluster, sandbox["aws_ca_bundle"], token, post["tmp_path"], "get", "secrets", "-n", "default")
    nodes = kubectl(cluster, sandbox["aws_ca_bundle"], token, post["tmp_path"], "get", "nodes")
    out = post["tmp_path"] / "query.json"
    playbook("query", dict(post, tmp_path=None, out=str(out)), post["tmp_path"])
    return {"secrets": secrets, "nodes": nodes, "found": json.loads(out.read_text())}


def test_audit_logging_is_on(post):
    assert post["enabled_log_types"] == ["audit"]
    assert post["audit_log_group"] == "/aws/eks/%s/cluster" % CLUSTER


def test_kubectl_as_the_oidc_user(requests_and_events):
    """Step 5 of the post: secrets yes, nodes no."""
    assert requests_and_events["secrets"].returncode == 0, requests_and_events["secrets"].stderr
    assert requests_and_events["nodes"].returncode != 0
    assert "Forbidden" in requests_and_events["nodes"].stderr


def test_the_secrets_request_in_the_audit_log(requests_and_events):
    events = requests_and_events["found"]["secrets"]["events"]
    listed = [e for e in events if e["verb"] == "list" and e["object_ref"].get("resource") == "secrets"]
    assert listed, events
    event = listed[0]
    assert event["user"]["username"] == USERNAME
    assert "gid:secret-reader" in event["user"]["groups"]
    assert "system:authenticated" in event["user"]["groups"]
    assert event["response_code"] == 200
    assert event["decision"] == "allow"
    assert 'ClusterRoleBinding "read-secrets-role-binding"' in event["reason"]
    assert event["user_agent"].startswith("kubectl/")
    assert event["request_uri"].startswith("/api/v1/namespaces/default/secrets")
    assert event["source_ips"] and event["audit_id"] and event["timestamp"]
    assert event["log_stream"].startswith("kube-apiserver-audit-")


def test_the_nodes_request_is_forbidden_in_the_audit_log(requests_and_events):
    events = requests_and_events["found"]["nodes"]["events"]
    assert events, requests_and_events["found"]["nodes"]
    event = events[0]
    assert event["user"]["username"] == USERNAME
    assert event["verb"] == "list" and event["object_ref"]["resource"] == "nodes"
    assert event["response_code"] == 403
    assert event["decision"] == "forbid"
    # kube-apiserver records why RBAC allowed, and leaves the reason empty when it refused
    assert event["reason"] in (None, "")


def test_group_and_decision_criteria(requests_and_events):
    forbidden = requests_and_events["found"]["forbidden"]["events"]
    assert forbidden and all(e["decision"] == "forbid" and "gid:secret-reader" in e["user"]["groups"] for e in forbidden)
    assert any(e["object_ref"].get("resource") == "nodes" for e in forbidden)


def test_the_posts_own_query(requests_and_events):
    found = requests_and_events["found"]["post_query"]
    assert found["results"] and all(set(row) == {"@timestamp", "@message"} for row in found["results"])
    assert {e["user"]["username"] for e in found["events"]} == {USERNAME}
    verbs = {(e["verb"], e["object_ref"].get("resource")) for e in found["events"]}
    assert ("list", "secrets") in verbs and ("list", "nodes") in verbs


def test_the_role_answers_the_same_question(requests_and_events):
    role = requests_and_events["found"]["role"]
    assert role["changed"] is False
    assert role["events"] and {e["user"]["username"] for e in role["events"]} == {USERNAME}
    assert {e["object_ref"]["resource"] for e in role["events"]} == {"secrets"}
