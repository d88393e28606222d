"""The twin authenticates AWS IAM callers as EKS does: real `aws eks get-token`, eks_token.py and kubectl.

On the session sandbox's cluster oidc-test (created with the sandbox's
credentials, MiniStack's root): a token from the AWS CLI (also through the
kubeconfig `aws eks update-kubeconfig` writes) and one from the collection's
eks_token.py (as kubectl's exec plugin) authenticate as the cluster creator
with every right; a token made for the other cluster, an
expired one, an altered one and one signed with a wrong secret get 401. An
IAM user gets 401 until it has an access entry, and then exactly what its
access policy allows.

These tests need kube-apiserver and etcd (`make k8s-binaries`), kubectl and
the AWS CLI; without them they fail on purpose rather than skip.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import botocore.auth
import botocore.session
import pytest

import sandbox as launcher  # tests/sandbox/sandbox.py, on the path via conftest
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import eks_token
from ansible_runs import FLEET_CLUSTER, SESSION_CLUSTER

CLUSTER = SESSION_CLUSTER
OTHER_CLUSTER = FLEET_CLUSTER
ROOT_ARN = "arn:aws:iam::000000000000:root"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"


def _tool(name):
    path = shutil.which(name)
    assert path, f"{name} is not on PATH: these tests need it and do not skip"
    return path


@pytest.fixture(scope="module")
def aws_env(twin, tmp_path_factory):
    """The environment a user of the sandbox gives the AWS CLI: its credentials, region, STS endpoint and CA."""
    home = tmp_path_factory.mktemp("aws")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "KUBE"))}
    env.update(
        AWS_ACCESS_KEY_ID=twin["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=twin["aws_secret_access_key"],
        AWS_DEFAULT_REGION=twin["region"], AWS_ENDPOINT_URL_STS=twin["aws_endpoint_url"],
        AWS_CA_BUNDLE=twin["aws_ca_bundle"], AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"), KUBECONFIG=str(home / "empty-kubeconfig"),
    )
    (home / "empty-kubeconfig").write_text("")
    return env


def kubectl(twin, env, *args, token=None, kubeconfig=None, cluster=CLUSTER):
    """Real kubectl against a twin cluster, with a bearer token or a kubeconfig."""
    command = [_tool("kubectl")]
    if token is not None:
        command += ["--server", twin["clusters"][cluster]["endpoint"],
                    "--certificate-authority", twin["aws_ca_bundle"], "--token", token]
    else:
        command += ["--kubeconfig", kubeconfig]
    return subprocess.run(command + list(args), env=env, capture_output=True, text=True, timeout=60, check=False)


def whoami(twin, env, **kwargs):
    """userInfo of `kubectl auth whoami`, or the failed run."""
    run = kubectl(twin, env, "auth", "whoami", "-o", "json", **kwargs)
    return json.loads(run.stdout)["status"]["userInfo"] if run.returncode == 0 else run


def unauthorized(run):
    return (not isinstance(run, dict) and run.returncode != 0
            and "You must be logged in to the server (Unauthorized)" in run.stderr)


def can_i(twin, env, token, *args):
    run = kubectl(twin, env, "auth", "can-i", *args, token=token)
    assert run.stdout.strip() in ("yes", "no"), run.stderr
    return run.stdout.strip() == "yes"


def sign(twin, cluster=CLUSTER, *, key=None, secret=None, at=None, monkeypatch=None):
    """A token signed in this process with botocore (eks_token.py's functions), optionally at time ``at``."""
    if at is not None:
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: at)
    client = botocore.session.Session().create_client(
        "sts", region_name=twin["region"], endpoint_url=twin["aws_endpoint_url"], verify=twin["aws_ca_bundle"],
        aws_access_key_id=key or twin["aws_access_key_id"],
        aws_secret_access_key=secret or twin["aws_secret_access_key"])
    return eks_token.token_from_url(eks_token.presigned_url(eks_token.register_cluster_id_header(client), cluster))


def utc_now():
    """Now as botocore's signer takes it: naive UTC."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# -- the cluster creator -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_token(twin, aws_env):
    run = subprocess.run([_tool("aws"), "eks", "get-token", "--cluster-name", CLUSTER, "--output", "json"],
                         env=aws_env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["status"]["token"]


def test_aws_cli_token_is_the_cluster_creator_with_full_rights(twin, aws_env, cli_token):
    # AWS_ENDPOINT_URL_STS took effect: the token names the sandbox's STS.
    assert urlsplit(eks_token.url_from_token(cli_token)).netloc == urlsplit(twin["aws_endpoint_url"]).netloc
    user = whoami(twin, aws_env, token=cli_token)
    assert isinstance(user, dict), user.stderr
    assert user["username"] == ROOT_ARN
    assert user["groups"] == ["system:authenticated"]
    assert user["uid"] == "aws-iam-authenticator:000000000000:000000000000"
    assert user["extra"]["arn"] == [ROOT_ARN] and user["extra"]["accessKeyId"] == [twin["aws_access_key_id"]]
    assert can_i(twin, aws_env, cli_token, "*", "*")
    assert can_i(twin, aws_env, cli_token, "create", "clusterrolebindings")
    run = kubectl(twin, aws_env, "get", "secrets", "-A", token=cli_token)
    assert run.returncode == 0, run.stderr


def test_aws_update_kubeconfig_then_kubectl_as_on_aws(twin, tmp_path):
    """The user's path on AWS: the sandbox's environment, `aws eks update-kubeconfig`, kubectl."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "KUBE"))}
    env.update(launcher.environment(twin), KUBECONFIG=str(tmp_path / "config"),
               AWS_CONFIG_FILE=str(tmp_path / "aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"))
    run = subprocess.run([_tool("aws"), "eks", "update-kubeconfig", "--name", CLUSTER], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    user = whoami(twin, env, kubeconfig=str(tmp_path / "config"))
    assert isinstance(user, dict), user.stderr
    assert user["username"] == ROOT_ARN
    run = kubectl(twin, env, "auth", "can-i", "*", "*", kubeconfig=str(tmp_path / "config"))
    assert run.stdout.strip() == "yes", run.stderr


def test_eks_token_py_as_kubectl_exec_plugin_is_the_creator(twin, aws_env, tmp_path):
    # AWS_ENDPOINT_URL (every service's endpoint) serves as well as AWS_ENDPOINT_URL_STS.
    env = {name: value for name, value in aws_env.items() if name != "AWS_ENDPOINT_URL_STS"}
    env["AWS_ENDPOINT_URL"] = twin["aws_endpoint_url"]
    get_token = [sys.executable, "-I", eks_token.__file__, "get-token", "--cluster-name", CLUSTER,
                 "--region", twin["region"]]
    run = subprocess.run(get_token, env=env, capture_output=True, text=True, timeout=60, check=True)
    token = json.loads(run.stdout)["status"]["token"]
    assert urlsplit(eks_token.url_from_token(token)).netloc == urlsplit(twin["aws_endpoint_url"]).netloc
    cluster = twin["clusters"][CLUSTER]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "iam",
        "clusters": [{"name": CLUSTER, "cluster": {"server": cluster["endpoint"],
                                                   "certificate-authority-data": cluster["certificate_authority_data"]}}],
        "users": [{"name": "iam", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": get_token[0], "args": get_token[1:],
            "interactiveMode": "Never"}}}],
        "contexts": [{"name": "iam", "context": {"cluster": CLUSTER, "user": "iam"}}],
    }))
    user = whoami(twin, env, kubeconfig=str(kubeconfig))
    assert isinstance(user, dict), user.stderr
    assert user["username"] == ROOT_ARN
    run = kubectl(twin, env, "auth", "can-i", "*", "*", kubeconfig=str(kubeconfig))
    assert run.stdout.strip() == "yes", run.stderr


def test_a_token_for_aws_own_sts_name_works_too(twin, aws_env):
    """Without AWS_ENDPOINT_URL_STS the token names sts.REGION.amazonaws.com; the twin's STS answers for it."""
    env = {name: value for name, value in aws_env.items() if name != "AWS_ENDPOINT_URL_STS"}
    run = subprocess.run([sys.executable, "-I", eks_token.__file__, "get-token", "--cluster-name", CLUSTER,
                          "--region", twin["region"]], env=env, capture_output=True, text=True, timeout=60, check=True)
    token = json.loads(run.stdout)["status"]["token"]
    assert urlsplit(eks_token.url_from_token(token)).netloc == "sts.%s.amazonaws.com" % twin["region"]
    assert whoami(twin, aws_env, token=token)["username"] == ROOT_ARN


# -- refused tokens ----------------------------------------------------------------------------

def test_a_token_for_another_cluster_is_refused(twin, fleet, aws_env):
    token = sign(twin, OTHER_CLUSTER)
    assert unauthorized(whoami(twin, aws_env, token=token))
    # The same token is good on the cluster it was made for.
    assert whoami(twin, aws_env, token=token, cluster=OTHER_CLUSTER)["username"] == ROOT_ARN


def test_an_expired_token_is_refused(twin, aws_env, monkeypatch):
    assert whoami(twin, aws_env, token=sign(twin, at=utc_now() - datetime.timedelta(minutes=14),
                                            monkeypatch=monkeypatch))["username"] == ROOT_ARN
    assert unauthorized(whoami(twin, aws_env, token=sign(twin, at=utc_now() - datetime.timedelta(minutes=16),
                                                         monkeypatch=monkeypatch)))


def tamper(token, **changes):
    parts = urlsplit(eks_token.url_from_token(token))
    query = dict(parse_qsl(parts.query, keep_blank_values=True), **changes)
    return eks_token.token_from_url(parts._replace(query=urlencode(query)).geturl())


def test_an_altered_token_is_refused(twin, aws_env, cli_token):
    assert whoami(twin, aws_env, token=cli_token)["username"] == ROOT_ARN  # as it was made
    query = dict(parse_qsl(urlsplit(eks_token.url_from_token(cli_token)).query))
    signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    later = (signed_at + datetime.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    assert unauthorized(whoami(twin, aws_env, token=tamper(cli_token, **{"X-Amz-Date": later})))
    assert unauthorized(whoami(twin, aws_env, token=cli_token[:-2] + ("AA" if cli_token[-2:] != "AA" else "BB")))


def test_the_root_key_with_a_wrong_secret_is_refused(twin, aws_env):
    """MiniStack's STS checks no signature of its root key; the twin does."""
    assert whoami(twin, aws_env, token=sign(twin))["username"] == ROOT_ARN
    assert unauthorized(whoami(twin, aws_env, token=sign(twin, secret="not-the-sandbox-secret")))


# -- IAM users and access entries --------------------------------------------------------------

@pytest.fixture
def iam_user(twin):
    """A new IAM user with an access key: (arn, key id, secret); deleted afterwards, with its access entry."""
    kwargs = launcher.boto3_kwargs(twin)
    iam, eks = boto3.client("iam", **kwargs), boto3.client("eks", **kwargs)
    name = "viewer-" + uuid.uuid4().hex[:8]
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    yield arn, key["AccessKeyId"], key["SecretAccessKey"], eks
    try:
        eks.delete_access_entry(clusterName=CLUSTER, principalArn=arn)
    except eks.exceptions.ResourceNotFoundException:
        pass
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def fresh_token(twin, key, secret, before):
    """A token unlike ``before`` (kube-apiserver caches each token's answer, refusals included, for 2 minutes)."""
    token = sign(twin, key=key, secret=secret)
    while token == before:
        time.sleep(0.2)
        token = sign(twin, key=key, secret=secret)
    return token


def test_an_iam_user_needs_an_access_entry_and_gets_its_policy(twin, aws_env, iam_user):
    arn, key, secret, eks = iam_user
    token = sign(twin, key=key, secret=secret)
    assert unauthorized(whoami(twin, aws_env, token=token))

    eks.create_access_entry(clusterName=CLUSTER, principalArn=arn, kubernetesGroups=["view-team"])
    eks.associate_access_policy(clusterName=CLUSTER, principalArn=arn, policyArn=VIEW_POLICY,
                                accessScope={"type": "cluster"})
    token = fresh_token(twin, key, secret, token)
    user = whoami(twin, aws_env, token=token)
    assert isinstance(user, dict), user.stderr
    assert (user["username"], user["groups"]) == (arn, ["view-team", "system:authenticated"])
    assert can_i(twin, aws_env, token, "list", "pods", "-A")
    assert not can_i(twin, aws_env, token, "list", "secrets")
    assert not can_i(twin, aws_env, token, "create", "pods")
    assert not can_i(twin, aws_env, token, "*", "*")
    assert kubectl(twin, aws_env, "get", "pods", token=token).returncode == 0
    run = kubectl(twin, aws_env, "get", "secrets", token=token)
    assert run.returncode != 0 and "Forbidden" in run.stderr


def test_a_namespace_scoped_policy(twin, aws_env, iam_user):
    arn, key, secret, eks = iam_user
    eks.create_access_entry(clusterName=CLUSTER, principalArn=arn)
    eks.associate_access_policy(clusterName=CLUSTER, principalArn=arn, policyArn=EDIT_POLICY,
                                accessScope={"type": "namespace", "namespaces": ["dev-*"]})
    token = sign(twin, key=key, secret=secret)
    assert whoami(twin, aws_env, token=token)["groups"] == ["system:authenticated"]
    assert can_i(twin, aws_env, token, "create", "configmaps", "-n", "dev-1")
    assert not can_i(twin, aws_env, token, "create", "configmaps", "-n", "default")
    assert not can_i(twin, aws_env, token, "list", "pods", "-A")
