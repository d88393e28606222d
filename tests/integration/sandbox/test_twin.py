"""The EKS twin end to end, with nothing but boto3 and HTTPS (no collection code).

Follows the AWS post: a Cognito user pool with email as the username, an app
client with ADMIN_USER_PASSWORD_AUTH, group secret-reader, user
test@example.com in it. Then, against the sandbox's live kube-apiserver for
cluster oidc-test, through the ordinary EKS API on MiniStack: the ID token is
refused until an identity provider config is associated and ACTIVE, is mapped
to the right username and groups while it is, and is refused again once the
config is disassociated.

These tests need kube-apiserver and etcd (`make k8s-binaries`); without them
they fail on purpose rather than skip.
"""

import base64
import contextlib
import os
import sys
import time
import uuid

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sandbox as launcher  # noqa: E402  (tests/sandbox/sandbox.py, on the path via conftest)
from sandbox_http import admin_context, request, wait_for, whoami  # noqa: E402

CLUSTER = "oidc-test"
PASSWORD = "Blah123$"
USER = "test@example.com"
SSR_GROUPS = ["gid:secret-reader", "system:authenticated"]
CONFIG_WAIT = 120  # seconds; an association takes ~10 s, a disassociation ~11 s here


def _client(sandbox, service):
    return boto3.client(service, **launcher.boto3_kwargs(sandbox))


@pytest.fixture(scope="module")
def eks(twin):
    return _client(twin, "eks")


@pytest.fixture(scope="module")
def apiserver(twin):
    cluster = twin["clusters"][CLUSTER]
    return {"endpoint": cluster["endpoint"], "cafile": twin["aws_ca_bundle"],
            "admin": admin_context(cluster["admin_kubeconfig"])}


@pytest.fixture(scope="module")
def idp(twin):
    """The post's Step 1: pool, client, group, user (plus a second client for the audience test)."""
    cognito = _client(twin, "cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=f"oidc-userpool-{uuid.uuid4().hex[:6]}",
        UsernameAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AutoVerifiedAttributes=[],
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireLowercase": False,
                                     "RequireUppercase": False, "RequireNumbers": False,
                                     "RequireSymbols": False}},
    )["UserPool"]
    pool_id = pool["Id"]
    try:
        clients = [
            cognito.create_user_pool_client(
                UserPoolId=pool_id, ClientName=name, GenerateSecret=False,
                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]["ClientId"]
            for name in ("oidc-client", "other-client")
        ]
        cognito.create_group(GroupName="secret-reader", UserPoolId=pool_id)
        cognito.admin_create_user(UserPoolId=pool_id, Username=USER, TemporaryPassword="password")
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=USER, Password=PASSWORD, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=USER, GroupName="secret-reader")
        yield {
            "cognito": cognito,
            "pool_id": pool_id,
            "client_id": clients[0],
            "other_client_id": clients[1],
            "issuer": f"https://cognito-idp.{twin['region']}.amazonaws.com/{pool_id}",
        }
    finally:
        cognito.delete_user_pool(UserPoolId=pool_id)


def id_token(idp, client_id=None):
    """The post's Step 2: admin_initiate_auth with ADMIN_USER_PASSWORD_AUTH."""
    result = idp["cognito"].admin_initiate_auth(
        UserPoolId=idp["pool_id"], ClientId=client_id or idp["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters={"USERNAME": USER, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def config_status(eks, name):
    try:
        return eks.describe_identity_provider_config(
            clusterName=CLUSTER, identityProviderConfig={"type": "oidc", "name": name},
        )["identityProviderConfig"]["oidc"]["status"]
    except eks.exceptions.ResourceNotFoundException:
        return None


@contextlib.contextmanager
def associated(eks, **oidc):
    """Associate an OIDC config (the post's Step 3), wait for ACTIVE; always disassociate after."""
    name = oidc["identityProviderConfigName"]
    started = time.monotonic()
    eks.associate_identity_provider_config(clusterName=CLUSTER, oidc=oidc)
    try:
        assert config_status(eks, name) == "CREATING"
        wait_for(lambda: config_status(eks, name) == "ACTIVE", CONFIG_WAIT, f"{name} ACTIVE")
        print(f"{name}: ACTIVE after {time.monotonic() - started:.1f}s")
        yield
    finally:
        if config_status(eks, name) in ("CREATING", "ACTIVE"):
            eks.disassociate_identity_provider_config(
                clusterName=CLUSTER, identityProviderConfig={"type": "oidc", "name": name})
        wait_for(lambda: config_status(eks, name) is None, CONFIG_WAIT, f"{name} gone")


def test_cluster_is_the_eks_api_cluster(twin, eks, apiserver):
    """DescribeCluster reports the live apiserver, its CA is the sandbox CA, and RBAC is on."""
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["endpoint"] == apiserver["endpoint"] == twin["clusters"][CLUSTER]["endpoint"]
    with open(twin["aws_ca_bundle"], "rb") as handle:
        assert base64.b64decode(cluster["certificateAuthority"]["data"]) == handle.read()
    status, version = request(apiserver["endpoint"], "/version", context=apiserver["admin"])
    assert status == 200 and version["gitVersion"] == twin["kubernetes_version"]
    # The admin certificate (O=system:masters) may list namespaces; anonymous may not.
    assert request(apiserver["endpoint"], "/api/v1/namespaces", context=apiserver["admin"])[0] == 200
    assert request(apiserver["endpoint"], "/api/v1/namespaces", cafile=apiserver["cafile"])[0] == 403


def test_post_walkthrough(eks, apiserver, idp):
    """Association lifecycle with the post's values: usernameClaim email, groups gid:-prefixed."""
    endpoint, cafile = apiserver["endpoint"], apiserver["cafile"]
    token = id_token(idp)
    assert claims(token)["cognito:groups"] == ["secret-reader"]

    assert whoami(endpoint, cafile, token)[0] == 401, "token accepted before any association"

    with associated(eks, identityProviderConfigName="oidc-config", issuerUrl=idp["issuer"],
                    clientId=idp["client_id"], usernameClaim="email",
                    groupsClaim="cognito:groups", groupsPrefix="gid:"):
        status, user = whoami(endpoint, cafile, token)
        assert status == 201, user
        assert user["username"] == USER
        assert user["groups"] == SSR_GROUPS

        _rbac_as_in_the_post(apiserver, token)

        other = id_token(idp, idp["other_client_id"])
        assert claims(other)["aud"] == idp["other_client_id"]
        assert whoami(endpoint, cafile, other)[0] == 401, "token for another audience accepted"

        assert whoami(endpoint, cafile, _forged(token))[0] == 401, "token signed by another key accepted"

        assert whoami(endpoint, cafile, _expired_token(idp))[0] == 401, "expired token accepted"

        eks.disassociate_identity_provider_config(
            clusterName=CLUSTER, identityProviderConfig={"type": "oidc", "name": "oidc-config"})
        # Like EKS, the config stays visible (DELETING) until the apiserver has let go of it.
        assert config_status(eks, "oidc-config") == "DELETING"
        wait_for(lambda: config_status(eks, "oidc-config") is None, CONFIG_WAIT, "oidc-config gone")

    assert whoami(endpoint, cafile, token)[0] == 401, "token accepted after disassociation"


def _rbac_as_in_the_post(apiserver, token):
    """The post's Steps 4 and 5: group gid:secret-reader may read secrets, not nodes."""
    endpoint, admin = apiserver["endpoint"], apiserver["admin"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "read-secrets"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "read-secrets-role-binding"},
               "subjects": [{"kind": "Group", "name": "gid:secret-reader",
                             "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "read-secrets",
                           "apiGroup": "rbac.authorization.k8s.io"}}
    base = "/apis/rbac.authorization.k8s.io/v1/"
    assert request(endpoint, base + "clusterroles", context=admin, method="POST", body=role)[0] == 201
    try:
        assert request(endpoint, base + "clusterrolebindings", context=admin, method="POST",
                       body=binding)[0] == 201
        try:
            cafile = apiserver["cafile"]
            assert request(endpoint, "/api/v1/namespaces/default/secrets", cafile=cafile, token=token)[0] == 200
            status, body = request(endpoint, "/api/v1/nodes", cafile=cafile, token=token)
            assert status == 403
            assert f'User "{USER}" cannot list resource "nodes"' in body["message"]
        finally:
            request(endpoint, base + "clusterrolebindings/read-secrets-role-binding",
                    context=admin, method="DELETE")
    finally:
        request(endpoint, base + "clusterroles/read-secrets", context=admin, method="DELETE")


def _forged(token):
    """The same header (kid) and claims, signed with a fresh RSA key instead of the pool's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = jwt.get_unverified_header(token)
    return jwt.encode(claims(token), key, algorithm="RS256", headers={"kid": header["kid"]})


def _expired_token(idp):
    """A genuine pool-signed token that has expired.

    MiniStack accepts an ID token validity of 1 second (AWS's minimum is 5
    minutes), so the client is switched to that briefly, a token issued and
    allowed to lapse. Nothing about it but `exp` differs from the good token.
    """
    cognito, pool_id, client_id = idp["cognito"], idp["pool_id"], idp["client_id"]
    flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    cognito.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ExplicitAuthFlows=flows,
                                    IdTokenValidity=1, TokenValidityUnits={"IdToken": "seconds"})
    try:
        token = id_token(idp)
    finally:
        cognito.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ExplicitAuthFlows=flows,
                                        IdTokenValidity=60, TokenValidityUnits={"IdToken": "minutes"})
    expires = claims(token)["exp"]
    assert expires - claims(token)["iat"] == 1
    time.sleep(max(0.0, expires + 1 - time.time()))
    return token


def test_default_username_prefix(eks, apiserver, idp):
    """usernameClaim sub without usernamePrefix: EKS prefixes the username with issuerUrl#.

    No groupsPrefix either, so groups arrive unprefixed; requiredClaims that
    the token satisfies do not get in the way.
    """
    endpoint, cafile = apiserver["endpoint"], apiserver["cafile"]
    token = id_token(idp)
    with associated(eks, identityProviderConfigName="sub-config", issuerUrl=idp["issuer"],
                    clientId=idp["client_id"], usernameClaim="sub", groupsClaim="cognito:groups",
                    requiredClaims={"token_use": "id"}):
        status, user = whoami(endpoint, cafile, token)
        assert status == 201, user
        assert user["username"] == f"{idp['issuer']}#{claims(token)['sub']}"
        assert user["groups"] == ["secret-reader", "system:authenticated"]


def test_clusters_created_through_the_eks_api_get_their_own_control_plane(twin, eks):
    """CreateCluster starts another etcd + kube-apiserver (CREATING until ready); DeleteCluster stops them."""
    name = f"extra-{uuid.uuid4().hex[:6]}"
    created = eks.create_cluster(name=name, roleArn="arn:aws:iam::000000000000:role/eks-cluster-role",
                                 resourcesVpcConfig={})["cluster"]
    try:
        assert created["status"] == "CREATING" and "endpoint" not in created
        cluster = wait_for(lambda: _active(eks, name), 120, f"cluster {name} ACTIVE")
        assert cluster["endpoint"] not in (c["endpoint"] for c in twin["clusters"].values())
        kubeconfig = os.path.join(twin["state_dir"], "clusters", twin["region"], name, "admin.kubeconfig")
        context = admin_context(kubeconfig)
        assert request(cluster["endpoint"], "/readyz", context=context)[0] == 200
    finally:
        eks.delete_cluster(name=name)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name=name)
    assert not os.path.exists(os.path.dirname(kubeconfig))
    with pytest.raises(OSError):
        request(cluster["endpoint"], "/readyz", context=context)


def test_add_cluster_and_remove_cluster_keep_sandbox_json_in_step(twin, eks):
    """What the `fleet` fixture relies on: add_cluster records a live cluster in sandbox.json (the inventory's
    source), remove_cluster deletes it through the EKS API and drops it from there."""
    name = f"added-{uuid.uuid4().hex[:6]}"
    entry = launcher.add_cluster(twin["state_dir"], name)
    try:
        assert launcher.load(twin["state_dir"])["clusters"][name] == entry
        assert entry["endpoint"] == eks.describe_cluster(name=name)["cluster"]["endpoint"]
        context = admin_context(entry["admin_kubeconfig"])
        assert request(entry["endpoint"], "/readyz", context=context)[0] == 200
    finally:
        launcher.remove_cluster(twin["state_dir"], name)
    assert name not in launcher.load(twin["state_dir"])["clusters"]
    assert sorted(launcher.load(twin["state_dir"])["clusters"]) == sorted(twin["clusters"])
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name=name)
    with pytest.raises(OSError):
        request(entry["endpoint"], "/readyz", context=context)


def _active(eks, name):
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["status"] in ("CREATING", "ACTIVE"), cluster["status"]
    return cluster if cluster["status"] == "ACTIVE" else None
