"""Unit tests of token verification and claim mapping (no network: keys, discovery and JWKS made here)."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import OidcError
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import allowed_algorithms
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import cognito_pool_of_issuer
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import describe_token
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import group_claims
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import kubernetes_user
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import token_settings
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import verify_id_token

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
CLIENT = "702vqsrjicklgb7c5b7b50i1gc"
SUB = "86f7130a-5605-4c05-b402-c970b27633ce"
# The payload of Step 2 of the AWS post.
POST_CLAIMS = {
    "sub": SUB, "aud": CLIENT, "cognito:groups": ["secret-reader"], "token_use": "id",
    "iss": ISSUER, "cognito:username": SUB, "email": "alice@example.com",
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = rsa_key()
OTHER_KEY = rsa_key()


def jwk_of(key, kid, alg="RS256"):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg=alg, use="sig")
    return jwk


JWKS = {"keys": [jwk_of(KEY, "key-1"), jwk_of(OTHER_KEY, "key-2")]}
DISCOVERY = {"issuer": ISSUER, "jwks_uri": ISSUER + "/.well-known/jwks.json", "id_token_signing_alg_values_supported": ["RS256"]}


def claims(**overrides):
    now = int(time.time())
    base = dict(POST_CLAIMS, iat=now, exp=now + 3600)
    base.update(overrides)
    return dict((k, v) for k, v in base.items() if v is not None)


def sign(payload, key=KEY, kid="key-1", alg="RS256"):
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid} if kid else None)


def forge_hs256_with_public_key(payload):
    """The key-confusion attack: HMAC over the token, keyed with the issuer's public key (PEM)."""
    secret = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = "%s.%s" % (b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode()), b64url(json.dumps(payload).encode()))
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def verify(token, audience=CLIENT, leeway=0):
    return verify_id_token(token, ISSUER, audience, DISCOVERY, JWKS, leeway)


# -- verification ------------------------------------------------------------------

def test_valid_token():
    assert verify(sign(claims()))["email"] == "alice@example.com"


def tampered():
    header, signature = sign(claims()).split(".")[0::2]
    return "%s.%s.%s" % (header, b64url(json.dumps(claims(**{"cognito:groups": ["admins"]})).encode()), signature)


def unsigned():
    return "%s.%s." % (b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(claims()).encode()))


@pytest.mark.parametrize("make, message", [
    (tampered, "signature does not match its header and payload; the token was altered"),
    (lambda: sign(claims(aud="another-client")), "audience (aud) 'another-client' does not include '%s'" % CLIENT),
    (lambda: sign(claims(iss="https://evil.example.com")), "issuer (iss) 'https://evil.example.com' is not the expected issuer"),
    (lambda: sign(claims(exp=int(time.time()) - 30)), "token refused: it expired at"),
    (unsigned, "alg 'none', an unsigned token"),
    (lambda: forge_hs256_with_public_key(claims()), "alg HS256, a shared-secret (HMAC) algorithm"),
    (lambda: sign(claims(), kid="key-9"), "key id (kid) 'key-9' is not in the issuer's JWKS"),
    (lambda: sign(claims(), key=OTHER_KEY, kid="key-1"), "signature does not match"),
    (lambda: sign(claims(), kid=None), "names no key id (kid) and the issuer's JWKS"),
    (lambda: sign(claims(exp=None)), "it has no exp claim"),
    (lambda: sign(claims(aud=None, token_use="access")), "this is a Cognito access token"),
    (lambda: "not-a-token", "token refused: not a JWT"),
])
def test_refusals_say_why(make, message):
    with pytest.raises(OidcError) as e:
        verify(make())
    assert message in str(e.value)


def test_leeway_accepts_a_token_just_expired():
    token = sign(claims(exp=int(time.time()) - 30))
    assert verify(token, leeway=120)["sub"] == SUB


def test_algorithm_not_offered_by_the_issuer():
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(OidcError, match=r"alg ES256 is not among the algorithms the issuer signs ID tokens with .*\(RS256\)"):
        verify(sign(claims(), key=key, alg="ES256"))


def test_jwk_algorithm_must_match_the_header():
    jwks = {"keys": [jwk_of(KEY, "key-1", alg="RS512")]}
    discovery = dict(DISCOVERY, id_token_signing_alg_values_supported=["RS256", "RS512"])
    with pytest.raises(OidcError, match="header says alg RS256, but key 'key-1' of the issuer is for RS512"):
        verify_id_token(sign(claims()), ISSUER, CLIENT, discovery, jwks)


def test_allowed_algorithms():
    assert allowed_algorithms({}) == ["RS256"]
    assert allowed_algorithms({"id_token_signing_alg_values_supported": ["RS256", "HS256", "none", "ES256", "EdDSA"]}) == ["RS256", "ES256"]


# -- claim mapping: what kube-apiserver makes of the claims, with EKS's rules ------------

def params(**overrides):
    base = dict(issuer_url=ISSUER, client_id=CLIENT, audience=None, user_pool_id=None, identity_provider_config=None,
                username_claim=None, username_prefix=None, groups_claim=None, groups_prefix=None)
    base.update(overrides)
    return base


MAPPING_TABLE = [
    # (module options, expected username, expected groups)
    ({}, ISSUER + "#" + SUB, []),
    (dict(username_claim="sub"), ISSUER + "#" + SUB, []),
    (dict(username_claim="email"), "alice@example.com", []),
    (dict(username_claim="email", username_prefix="oidc:"), "oidc:alice@example.com", []),
    (dict(username_claim="email", username_prefix="-"), "alice@example.com", []),
    (dict(username_prefix="-"), SUB, []),
    (dict(username_prefix="u:"), "u:" + SUB, []),
    (dict(username_claim="cognito:username", username_prefix=""), ISSUER + "#" + SUB, []),  # "" is unset for EKS
    (dict(username_claim="email", groups_claim="cognito:groups"), "alice@example.com", ["secret-reader"]),
    (dict(username_claim="email", groups_claim="cognito:groups", groups_prefix="gid:"), "alice@example.com", ["gid:secret-reader"]),
    (dict(groups_claim="groups", groups_prefix="gid:"), ISSUER + "#" + SUB, []),  # no such claim: no groups
    (dict(identity_provider_config={"issuer_url": ISSUER, "client_id": CLIENT, "username_claim": "email",
                                    "groups_claim": "cognito:groups", "groups_prefix": "gid:"}, issuer_url=None),
     "alice@example.com", ["gid:secret-reader"]),
    (dict(identity_provider_config={"issuerUrl": ISSUER, "clientId": CLIENT, "usernamePrefix": "x:", "groupsClaim": "cognito:groups"},
          issuer_url=None), "x:" + SUB, ["secret-reader"]),
    (dict(identity_provider_config={"issuer_url": ISSUER, "claim_mapping": {"username_claim": "sub", "username_prefix": "",
                                    "groups_claim": "cognito:groups", "groups_prefix": "gid:"}}), SUB, ["gid:secret-reader"]),
    (dict(identity_provider_config={"issuer_url": ISSUER, "username_claim": "email", "groups_claim": "cognito:groups"},
          username_claim="sub", groups_prefix="g-"), ISSUER + "#" + SUB, ["g-secret-reader"]),  # options win
    (dict(issuer_url=None, user_pool_id="us-west-2_re1u6bpRA"), ISSUER + "#" + SUB, []),
]


@pytest.mark.parametrize("options, username, groups", MAPPING_TABLE)
def test_kubernetes_user_mapping_table(options, username, groups):
    settings = token_settings(params(**options))
    user = kubernetes_user(claims(), settings["claim_mapping"], settings["required_claims"])
    assert user == {"username": username, "groups": groups + ["system:authenticated"]}


def test_settings_from_an_identity_provider_config():
    config = {"issuer_url": ISSUER, "client_id": CLIENT, "required_claims": {"token_use": "id"}}
    settings = token_settings(params(issuer_url=None, client_id=None, identity_provider_config=config))
    assert (settings["issuer_url"], settings["client_id"], settings["audience"]) == (ISSUER, CLIENT, CLIENT)
    assert settings["required_claims"] == {"token_use": "id"}
    assert token_settings(params(audience="kubernetes"))["audience"] == "kubernetes"
    assert token_settings(params(issuer_url=None), token_issuer=ISSUER)["issuer_url"] == ISSUER


def mapping(**overrides):
    base = {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}
    base.update(overrides)
    return base


def test_groups_claim_as_a_string():
    assert kubernetes_user(claims(**{"cognito:groups": "secret-reader"}), mapping())["groups"] == ["gid:secret-reader", "system:authenticated"]


@pytest.mark.parametrize("token_claims, required, message", [
    (claims(email=None), None, "it has no 'email' claim, the username claim"),
    (claims(email=""), None, "is '', not a non-empty string"),
    (claims(email_verified=False), None, "the username claim is email and email_verified is False"),
    (claims(email_verified="true"), None, "email_verified is 'true'"),
    (claims(**{"cognito:groups": [1, 2]}), None, "the groups claim 'cognito:groups' is [1, 2]"),
    (claims(), {"hd": "example.com"}, "required claim 'hd' must be 'example.com', the token has None"),
])
def test_kubernetes_user_refusals(token_claims, required, message):
    with pytest.raises(OidcError, match="the API server would refuse this token") as e:
        kubernetes_user(token_claims, mapping(), required)
    assert message in str(e.value)


def test_email_verified_true_or_absent_is_fine():
    assert kubernetes_user(claims(email_verified=True), mapping())["username"] == "alice@example.com"
    assert kubernetes_user(claims(email_verified=False), mapping(username_claim="sub"))["username"] == SUB


def test_group_claims():
    found = group_claims({"cognito:groups": ["a"], "groups": "b", "roles": ["r"], "realm_roles": ["x"], "email": "e",
                          "aud": ["c"], "groupsize": ["no"], "cognito:username": "u", "weird_groups": [1]})
    assert found == {"cognito:groups": ["a"], "groups": ["b"], "roles": ["r"], "realm_roles": ["x"]}


def test_describe_token():
    described = describe_token({"iat": 1612760751, "exp": 1612764351, "cognito:groups": ["g"]}, {"alg": "RS256"}, 1612764051)
    assert described["issued_at"] == "2021-02-08T05:05:51Z"
    assert described["expires_at"] == "2021-02-08T06:05:51Z"
    assert described["expires_in"] == 300
    assert described["group_claims"] == {"cognito:groups": ["g"]}


def test_cognito_pool_of_issuer():
    assert cognito_pool_of_issuer(ISSUER) == "us-west-2_re1u6bpRA"
    assert cognito_pool_of_issuer("https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_abc") == "cn-north-1_abc"
    assert cognito_pool_of_issuer("https://keycloak.example.com/realms/eks") is None
    assert cognito_pool_of_issuer(None) is None
