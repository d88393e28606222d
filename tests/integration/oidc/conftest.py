"""Fixtures of the login tests: a Cognito user pool in the sandbox, as the AWS post's Step 1 makes it.

``cognito`` is a dict: pool_id, client_id, other_client_id, issuer_url,
discovery_url, callback_port, username, password, sub, id_key_file (the
pool's ID token signing key in MiniStack's state directory, to forge tokens
signed with the issuer's real key). Helpers the tests share are in
login_helpers.py.
"""

import os
import sys
import uuid

import pytest

from login_helpers import PASSWORD
from login_helpers import REPO
from login_helpers import USERNAME
from logins import free_port

sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

import sandbox as sandbox_launcher  # noqa: E402


@pytest.fixture(scope="session")
def cognito_client(sandbox):
    import boto3

    return boto3.client("cognito-idp", **sandbox_launcher.boto3_kwargs(sandbox))


@pytest.fixture(scope="session")
def cognito(sandbox, cognito_client):
    """A pool with the post's settings, an app client for kubectl, the group secret-reader and one user in it."""
    client = cognito_client
    name = "login-%s" % uuid.uuid4().hex[:8]
    pool = client.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]
    callback_port = free_port()
    app = client.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="kubectl",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"], AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["http://localhost:%d/callback" % callback_port], SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    other = client.create_user_pool_client(UserPoolId=pool["Id"], ClientName="other")["UserPoolClient"]
    client.admin_create_user(
        UserPoolId=pool["Id"], Username=USERNAME, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": USERNAME}, {"Name": "email_verified", "Value": "true"}],
    )
    client.admin_set_user_password(UserPoolId=pool["Id"], Username=USERNAME, Password=PASSWORD, Permanent=True)
    client.create_group(UserPoolId=pool["Id"], GroupName="secret-reader")
    client.admin_add_user_to_group(UserPoolId=pool["Id"], Username=USERNAME, GroupName="secret-reader")
    user = client.admin_get_user(UserPoolId=pool["Id"], Username=USERNAME)
    sub = [a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub"][0]
    try:
        yield {
            "pool_id": pool["Id"],
            "client_id": app["ClientId"],
            "other_client_id": other["ClientId"],
            "issuer_url": "https://cognito-idp.%s.amazonaws.com/%s" % (sandbox["region"], pool["Id"]),
            "discovery_url": "%s/%s/.well-known/openid-configuration" % (sandbox["oidc_discovery_base"], pool["Id"]),
            "callback_port": callback_port,
            "username": USERNAME,
            "password": PASSWORD,
            "sub": sub,
            "id_key_file": os.path.join(sandbox["state_dir"], "ministack", "state", "cognito-pool-keys", "%s-id.pem" % pool["Id"]),
        }
    finally:
        client.delete_user_pool(UserPoolId=pool["Id"])
