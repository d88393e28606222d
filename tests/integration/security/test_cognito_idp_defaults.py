"""The cognito_idp role's defaults are the secure ones, on the sandbox's Cognito (issue 10, item 6).

No self sign-up, the authorization code flow with PKCE's localhost callback and
no implicit flow, no USER_PASSWORD_AUTH, a strong password policy, MFA
available; a weak password is refused before any user is created.
"""

import json
import os
import subprocess
import sys
import uuid

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "sandbox"))

import sandbox as launcher  # noqa: E402


def run_role(sandbox, tmp_path, **variables):
    variables.update(eks_oidc_region=sandbox["region"], eks_oidc_aws_connection={
        "endpoint_url": sandbox["aws_endpoint_url"], "aws_ca_bundle": sandbox["aws_ca_bundle"],
        "access_key": sandbox["aws_access_key_id"], "secret_key": sandbox["aws_secret_access_key"]})
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         os.path.join(os.path.dirname(HERE), "cognito_idp_role.yml"), "-e", "@%s" % (tmp_path / "vars.json")],
        capture_output=True, text=True, check=False, timeout=600, cwd=REPO_ROOT,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1"))


def test_defaults_are_secure_and_a_weak_password_is_refused(sandbox, tmp_path):
    name = "secure-%s" % uuid.uuid4().hex[:8]
    strong = "Str0ng-%s" % uuid.uuid4().hex[:10]
    common = dict(eks_oidc_user_pool_name=name, eks_oidc_client_name=name, eks_oidc_domain="")
    cognito = boto3.client("cognito-idp", **launcher.boto3_kwargs(sandbox))
    try:
        weak = run_role(sandbox, tmp_path, eks_oidc_users=[
            {"username": "weak@example.com", "attributes": {"email": "weak@example.com"}, "password": "weakpass9"}],
            **common)
        assert weak.returncode != 0
        assert "policy of user pool" in weak.stdout and "at least 12 characters" in weak.stdout, weak.stdout[-3000:]
        assert "weakpass9" not in weak.stdout  # the refused password itself is never shown
        pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
        assert cognito.list_users(UserPoolId=pools[0]["Id"])["Users"] == []  # nothing half-created

        made = run_role(sandbox, tmp_path, eks_oidc_users=[
            {"username": "dev@example.com", "attributes": {"email": "dev@example.com"}, "password": strong,
             "groups": ["secret-reader"]}], **common)
        assert made.returncode == 0, made.stdout[-5000:]
        assert strong not in made.stdout

        pool_id = [p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name][0]
        pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
        policy = pool["Policies"]["PasswordPolicy"]
        assert policy["MinimumLength"] >= 12
        assert all(policy[key] for key in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols"))
        assert pool.get("MfaConfiguration") == "OPTIONAL"

        client_id = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"][0]["ClientId"]
        client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
        assert client["AllowedOAuthFlows"] == ["code"]  # no implicit flow
        assert client["CallbackURLs"] == ["http://localhost:8000"]  # the credential plugin's browser login
        assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
        assert not client.get("ClientSecret")  # a public client: PKCE, no secret to leak
    finally:
        run_role(sandbox, tmp_path, eks_oidc_state="absent", eks_oidc_users=[{"username": "dev@example.com"}], **common)
