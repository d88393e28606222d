"""The post's access-control policies, made by the role iam_guardrails, enforced by MiniStack's IAM.

A private sandbox with MiniStack's IAM enforcement on (AUTH=true; the
sandbox's credentials are its root). The sandbox hook gives MiniStack's
policy evaluator the request's condition keys eks:issuerUrl and eks:clientId
(docs/guardrails.md). An administrator user with eks:* and the guard-rail
policy then tries AssociateIdentityProviderConfig: another issuer or another
client is denied, the approved pool and client are accepted and the config
turns ACTIVE; after the role switches to deny_all, the approved provider is
denied too.
"""

import json
import os
import sys
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sandbox as launcher  # noqa: E402  (tests/sandbox/sandbox.py, on the path via conftest)
from run_playbook import playbook  # noqa: E402

CLUSTER = "oidc-test"
ADMIN = "eks-admin"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    """A sandbox whose MiniStack enforces IAM policies, with the cluster oidc-test."""
    directory = str(tmp_path_factory.mktemp("sandbox-auth"))
    create_clusters = launcher._create_clusters

    def with_cluster_role(info, names, kubernetes):
        # With AUTH=true, CreateCluster checks that its role exists.
        boto3.client("iam", **launcher.boto3_kwargs(info)).create_role(
            RoleName="eks-cluster-role", AssumeRolePolicyDocument=json.dumps(TRUST))
        create_clusters(info, names, kubernetes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTH", "true")
        # MiniStack's root credentials are the configured ones: the sandbox's.
        patch.setenv("AWS_ACCESS_KEY_ID", launcher.ACCESS_KEY_ID)
        patch.setenv("AWS_SECRET_ACCESS_KEY", launcher.SECRET_ACCESS_KEY)
        patch.setattr(launcher, "_create_clusters", with_cluster_role)
        info = launcher.up(directory, port=0, region="us-west-2", clusters=[CLUSTER])
    try:
        yield info
    finally:
        launcher.down(directory)


@pytest.fixture(scope="module")
def setup(enforcing, tmp_path_factory):
    """A Cognito pool and client (the approved provider), and an administrator with eks:* and an access key."""
    root = launcher.boto3_kwargs(enforcing)
    cognito, iam = boto3.client("cognito-idp", **root), boto3.client("iam", **root)
    pool = cognito.create_user_pool(PoolName="approved-%s" % uuid.uuid4().hex[:6])["UserPool"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="kubectl")["UserPoolClient"]["ClientId"]
    iam.create_user(UserName=ADMIN)
    iam.put_user_policy(UserName=ADMIN, PolicyName="eks-admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "eks:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=ADMIN)["AccessKey"]
    admin = boto3.client("eks", **dict(root, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]))
    return {
        "tmp_path": tmp_path_factory.mktemp("guardrails"),
        "issuer_url": "https://cognito-idp.%s.amazonaws.com/%s" % (enforcing["region"], pool["Id"]),
        "client_id": client_id,
        "admin": admin,
        "root_eks": boto3.client("eks", **root),
        "variables": {
            "aws_endpoint_url": enforcing["aws_endpoint_url"], "aws_region": enforcing["region"],
            "aws_access_key_id": enforcing["aws_access_key_id"], "aws_secret_access_key": enforcing["aws_secret_access_key"],
            "aws_ca_bundle": enforcing["aws_ca_bundle"],
        },
    }


def guardrails(setup, **settings):
    settings = dict({"policy_name": "eks-oidc-guardrails", "clusters": [CLUSTER], "users": [ADMIN]}, **settings)
    playbook("guardrails", dict(setup["variables"], guardrails=settings), setup["tmp_path"])


def associate(setup, name, issuer_url, client_id):
    return setup["admin"].associate_identity_provider_config(clusterName=CLUSTER, oidc={
        "identityProviderConfigName": name, "issuerUrl": issuer_url, "clientId": client_id,
        "usernameClaim": "email", "groupsClaim": "cognito:groups", "groupsPrefix": "gid:"})


def denied(call):
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]


def test_only_the_approved_provider_may_be_associated(setup):
    guardrails(setup, allowed_issuer_urls=["https://cognito-idp.us-west-2.amazonaws.com/*"],
               allowed_client_ids=[setup["client_id"]])

    other_issuer = denied(lambda: associate(setup, "keycloak", "https://keycloak.example.com/realms/x", setup["client_id"]))
    assert other_issuer["Code"] == "AccessDeniedException"
    assert "explicit deny" in other_issuer["Message"]

    other_client = denied(lambda: associate(setup, "other-client", setup["issuer_url"], "someoneelsesclient"))
    assert other_client["Code"] == "AccessDeniedException"

    accepted = associate(setup, "oidc-config", setup["issuer_url"], setup["client_id"])
    assert accepted["update"]["status"] == "InProgress"
    deadline = time.monotonic() + 60
    while True:
        status = setup["root_eks"].describe_identity_provider_config(
            clusterName=CLUSTER, identityProviderConfig={"type": "oidc", "name": "oidc-config"}
        )["identityProviderConfig"]["oidc"]["status"]
        if status == "ACTIVE" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert status == "ACTIVE"


def test_deny_all_forbids_even_the_approved_provider(setup):
    guardrails(setup, deny_all=True)
    refused = denied(lambda: associate(setup, "second", setup["issuer_url"], setup["client_id"]))
    assert refused["Code"] == "AccessDeniedException"
    # Other EKS actions stay allowed: the guard-rail only denies.
    assert setup["admin"].describe_cluster(name=CLUSTER)["cluster"]["status"] == "ACTIVE"


def test_absent_lifts_the_guard_rail(setup):
    guardrails(setup, state="absent")
    # No policy denies now: the request reaches EKS (which may still refuse a second config for its own reasons).
    try:
        associate(setup, "second", setup["issuer_url"], setup["client_id"])
    except ClientError as e:
        assert e.response["Error"]["Code"] != "AccessDeniedException", e
