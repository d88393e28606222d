"""oidc_token_info against the sandbox: real Cognito tokens from MiniStack, verified through its discovery and JWKS.

Forged tokens are signed with the pool's real ID token key (MiniStack keeps it
in its state directory), with a key the issuer does not publish, with the
issuer's public key as an HMAC secret, or not at all. The module runs as
Ansible runs it on a target (python -m, arguments in a file).
"""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from login_helpers import run_module


def refused(result, message):
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]
    return result


@pytest.fixture(scope="module")
def login(cognito, cognito_client):
    """A real ID token (and refresh token) of the test user, from AdminInitiateAuth, as Step 2 of the post."""
    result = cognito_client.admin_initiate_auth(
        UserPoolId=cognito["pool_id"], ClientId=cognito["client_id"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": cognito["username"], "PASSWORD": cognito["password"]},
    )["AuthenticationResult"]
    return {"id_token": result["IdToken"], "refresh_token": result["RefreshToken"], "access_token": result["AccessToken"]}


@pytest.fixture(scope="module")
def pool_key(cognito, login):
    """The private key the pool signs ID tokens with, and its kid."""
    with open(cognito["id_key_file"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return key, jwt.get_unverified_header(login["id_token"])["kid"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def real_claims(login, **overrides):
    claims = jwt.decode(login["id_token"], options={"verify_signature": False})
    claims.update(overrides)
    return claims


def forge(pool_key, claims, **headers):
    key, kid = pool_key
    return jwt.encode(claims, key, algorithm="RS256", headers=dict({"kid": kid}, **headers))


# -- verification --------------------------------------------------------------------

def test_valid_token(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], username_claim="email",
                        groups_claim="cognito:groups", groups_prefix="gid:")
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["verified"] is True
    assert result["token_source"] == "token"
    assert result["claims"]["iss"] == cognito["issuer_url"]
    assert result["group_claims"] == {"cognito:groups": ["secret-reader"]}
    assert result["kubernetes_user"] == {"username": cognito["username"], "groups": ["gid:secret-reader", "system:authenticated"]}
    assert "tokens" not in result


def test_tampered_payload_is_refused(sandbox, cognito, login, tmp_path):
    header, signature = login["id_token"].split(".")[0::2]
    payload = b64url(json.dumps(real_claims(login, **{"cognito:groups": ["system:masters"]})).encode())
    result = run_module(sandbox, cognito, tmp_path, token="%s.%s.%s" % (header, payload, signature))
    refused(result, "signature does not match its header and payload; the token was altered")
    assert result["claims"]["cognito:groups"] == ["system:masters"]  # what it claimed, for the record
    assert result["verified"] is False


def test_wrong_audience_is_refused(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], audience=cognito["other_client_id"])
    refused(result, "audience (aud) '%s' does not include '%s'" % (cognito["client_id"], cognito["other_client_id"]))


def test_token_for_another_client_signed_by_the_pool_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    token = forge(pool_key, real_claims(login, aud=cognito["other_client_id"]))
    refused(run_module(sandbox, cognito, tmp_path, token=token), "audience (aud) '%s' does not include" % cognito["other_client_id"])


def test_wrong_issuer_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    token = forge(pool_key, real_claims(login, iss="https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Someone"))
    refused(run_module(sandbox, cognito, tmp_path, token=token),
            "issuer (iss) 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Someone' is not the expected issuer")


def test_expired_token_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    now = int(time.time())
    token = forge(pool_key, real_claims(login, iat=now - 7200, exp=now - 3600))
    result = refused(run_module(sandbox, cognito, tmp_path, token=token), "token refused: it expired at")
    assert result["expires_in"] < -3500
    assert not run_module(sandbox, cognito, tmp_path, token=token, leeway=7200).get("failed")


def test_alg_none_is_refused(sandbox, cognito, login, tmp_path):
    token = "%s.%s." % (b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(real_claims(login)).encode()))
    refused(run_module(sandbox, cognito, tmp_path, token=token), "alg 'none', an unsigned token")


def test_hs256_signed_with_the_public_key_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    public_pem = pool_key[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = "%s.%s" % (b64url(json.dumps({"alg": "HS256", "kid": pool_key[1]}).encode()), b64url(json.dumps(real_claims(login)).encode()))
    token = signing_input + "." + b64url(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    refused(run_module(sandbox, cognito, tmp_path, token=token), "alg HS256, a shared-secret (HMAC) algorithm")


def test_unknown_kid_is_refused(sandbox, cognito, login, tmp_path):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(real_claims(login), stranger, algorithm="RS256", headers={"kid": "not-a-pool-key"})
    refused(run_module(sandbox, cognito, tmp_path, token=token), "key id (kid) 'not-a-pool-key' is not in the issuer's JWKS")


def test_pool_key_under_a_known_kid_but_other_key_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(real_claims(login), stranger, algorithm="RS256", headers={"kid": pool_key[1]})
    refused(run_module(sandbox, cognito, tmp_path, token=token), "signature does not match")


def test_access_token_is_refused_with_a_hint(sandbox, cognito, login, tmp_path):
    refused(run_module(sandbox, cognito, tmp_path, token=login["access_token"]), "kube-apiserver needs the ID token")


def test_discovery_must_name_the_issuer(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], issuer_url="https://issuer.example.com")
    refused(result, "names the issuer '%s', not issuer_url 'https://issuer.example.com'" % cognito["issuer_url"])


def test_verify_false_only_decodes(sandbox, cognito, login, tmp_path):
    token = "%s.%s." % (b64url(b'{"alg":"none"}'), b64url(json.dumps(real_claims(login)).encode()))
    result = run_module(sandbox, cognito, tmp_path, token=token, verify=False, discovery_url=None, ca_file=None)
    assert result["verified"] is False and not result.get("failed")


# -- obtaining tokens -------------------------------------------------------------------

def test_admin_user_password_auth(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, user_pool_id=cognito["pool_id"], issuer_url=None,
                        username=cognito["username"], password=cognito["password"], username_claim="email")
    assert result["token_source"] == "cognito_admin_user_password"
    assert result["verified"] is True
    assert result["issuer_url"] == cognito["issuer_url"]  # from user_pool_id
    assert result["kubernetes_user"]["username"] == cognito["username"]
    assert "tokens" not in result


def test_user_password_auth_needs_no_aws_credentials(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, username=cognito["username"], password=cognito["password"],
                        access_key=None, secret_key=None, return_tokens=True)
    assert result["token_source"] == "cognito_user_password", result
    assert result["verified"] is True
    assert set(result["tokens"]) == {"id_token", "access_token", "refresh_token"}


def test_wrong_password(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, username=cognito["username"], password="Wrong123$-kubeauth")
    refused(result, "Cognito refused USER_PASSWORD_AUTH")
    assert "Wrong123" not in json.dumps(result)


def test_refresh_token(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, refresh_token=login["refresh_token"], return_tokens=True)
    assert result["token_source"] == "cognito_refresh_token", result
    assert result["verified"] is True
    assert result["tokens"]["id_token"] != login["id_token"]


def test_check_mode_reads_the_same(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], _ansible_check_mode=True)
    assert result["verified"] is True and result["changed"] is False


# -- the Kubernetes user, email vs other username claims, with and without prefixes ---------

MAPPINGS = [
    # (mapping options, username (SUB = the user's sub), groups)
    ({}, "{issuer}#{sub}", []),
    ({"username_claim": "email"}, "{email}", []),
    ({"username_claim": "email", "username_prefix": "oidc:"}, "oidc:{email}", []),
    ({"username_claim": "sub", "username_prefix": "-"}, "{sub}", []),
    ({"username_claim": "sub", "username_prefix": "oidc:"}, "oidc:{sub}", []),
    ({"username_claim": "cognito:username"}, "{issuer}#{sub}", []),
    ({"groups_claim": "cognito:groups"}, "{issuer}#{sub}", ["secret-reader"]),
    ({"username_claim": "email", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}, "{email}", ["gid:secret-reader"]),
]


@pytest.mark.parametrize("mapping, username, groups", MAPPINGS)
def test_kubernetes_user(sandbox, cognito, login, tmp_path, mapping, username, groups):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], **mapping)
    expected = username.format(issuer=cognito["issuer_url"], sub=cognito["sub"], email=cognito["username"])
    assert result["kubernetes_user"] == {"username": expected, "groups": groups + ["system:authenticated"]}


def test_kubernetes_user_from_an_identity_provider_config(sandbox, cognito, login, tmp_path):
    config = {"issuer_url": cognito["issuer_url"], "client_id": cognito["client_id"], "username_claim": "email",
              "groups_claim": "cognito:groups", "groups_prefix": "gid:", "required_claims": {}}
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], identity_provider_config=config,
                        issuer_url=None, client_id=None)
    assert result["verified"] is True
    assert result["audience"] == cognito["client_id"]
    assert result["claim_mapping"] == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups",
                                       "groups_prefix": "gid:"}
    assert result["kubernetes_user"] == {"username": cognito["username"], "groups": ["gid:secret-reader", "system:authenticated"]}


def test_required_claim_mismatch(sandbox, cognito, login, tmp_path):
    config = {"issuer_url": cognito["issuer_url"], "client_id": cognito["client_id"], "required_claims": {"token_use": "access"}}
    refused(run_module(sandbox, cognito, tmp_path, token=login["id_token"], identity_provider_config=config),
            "required claim 'token_use' must be 'access', the token has 'id'")
