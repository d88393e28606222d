"""Unit tests of token verification and claim mapping (no network: keys, discovery and JWKS made here)."""

import base64
import hashlib
import hmac
import json
import os
import time

import boto3
import fakes
import jwt
import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import oidc
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import OidcError
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import allowed_algorithms
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import check_options
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import check_time_claims
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import pool_of_issuer as cognito_pool_of_issuer
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import describe_token
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import result_with_tokens
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import failure_message
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import group_claims
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import issuer_documents
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


# -- https only: refused before any request ------------------------------------------------

def options(**overrides):
    base = dict(params(), discovery_url=None, leeway=0, return_tokens=False)
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, message", [
    (dict(issuer_url="http://127.0.0.1:8080/realms/eks"), "issuer_url http://127.0.0.1:8080/realms/eks is not https"),
    (dict(issuer_url="http://localhost/realms/eks"), "issuer_url http://localhost/realms/eks is not https"),
    (dict(issuer_url=None, identity_provider_config={"issuer_url": "http://idp.example.com"}), "issuer_url http://idp.example.com is not https"),
    (dict(discovery_url="http://127.0.0.1:4566/us-west-2_re1u6bpRA/.well-known/openid-configuration"),
     "discovery_url http://127.0.0.1:4566/us-west-2_re1u6bpRA/.well-known/openid-configuration is not https"),
    (dict(discovery_url="[::1]:4566/.well-known/openid-configuration"), "discovery_url [::1]:4566/.well-known/openid-configuration is not https"),
])
def test_check_options_refuses_http_loopback_included(overrides, message):
    values = options(**overrides)
    with pytest.raises(OidcError) as e:
        check_options(values, token_settings(values), no_log=False)
    assert str(e.value).startswith(message)
    assert "travel in clear for anyone on the network path to read or change (loopback is no exception)" in str(e.value)


def test_check_options_takes_https():
    values = options(issuer_url="https://127.0.0.1:8443/realms/eks", discovery_url="https://127.0.0.1:8443/realms/eks/.well-known/openid-configuration")
    check_options(values, token_settings(values), no_log=False)


class FakeWeb:
    """credential_plugin.http_json's stand-in: documents by URL, and every URL asked for."""

    def __init__(self, documents):
        self.documents = documents
        self.requested = []

    def http_json(self, url, data=None, headers=None, ca_file=None, timeout=None):
        self.requested.append(url)
        return 200, self.documents[url]


def test_http_jwks_uri_of_a_discovery_document_is_never_fetched(monkeypatch):
    discovery_url = ISSUER + "/.well-known/openid-configuration"
    jwks_uri = "http://127.0.0.1:9999/jwks.json"
    web = FakeWeb({discovery_url: dict(DISCOVERY, jwks_uri=jwks_uri), jwks_uri: JWKS})
    monkeypatch.setattr(credential_plugin, "http_json", web.http_json)
    with pytest.raises(OidcError, match=r"jwks_uri .* http://127.0.0.1:9999/jwks.json is not https"):
        issuer_documents(ISSUER)
    assert web.requested == [discovery_url]


def test_cognito_over_http_gets_no_password():
    cognito = boto3.client("cognito-idp", region_name="us-west-2", endpoint_url="http://127.0.0.1:4566", aws_access_key_id="a", aws_secret_access_key="b")
    module = aws_module(cognito, username="alice", password="Pa55word-secret")
    with Stubber(cognito) as stubber:  # nothing stubbed: a call would fail with another error
        with pytest.raises(OidcError, match=r"^the Cognito API endpoint \(endpoint_url\) http://127.0.0.1:4566 is not https"):
            oidc._cognito_call(module, "us-west-2", "initiate_auth", "USER_PASSWORD_AUTH", ClientId=CLIENT, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": "Pa55word-secret"})
        stubber.assert_no_pending_responses()


# -- return_tokens: the real tokens, only for a task with no_log ------------------------------

def test_return_tokens_needs_no_log():
    values = options(return_tokens=True)
    with pytest.raises(OidcError, match="return_tokens returns the ID, access and refresh tokens in clear .*; set no_log: true on the task"):
        check_options(values, token_settings(values), no_log=False)
    check_options(values, token_settings(values), no_log=True)


def test_tokens_are_returned_as_they_are_after_a_refresh_that_renews_no_refresh_token(capsys):
    """Ansible masks result values equal to a no_log input: the refresh token given came back as a placeholder."""
    refresh_token = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.refresh." + "r" * 40
    args = {"refresh_token": refresh_token, "password": "Pa55word-secret", "client_id": CLIENT, "_ansible_no_log": True}
    spec = dict(refresh_token=dict(type="str", no_log=True), password=dict(type="str", no_log=True), client_id=dict(type="str"))
    tokens = {"id_token": sign(claims()), "access_token": "access", "refresh_token": refresh_token}
    with patch_module_args(args), pytest.raises(SystemExit):
        module = AnsibleModule(argument_spec=spec)
        module.exit_json(**result_with_tokens(module, {"verified": True, "note": "uses Pa55word-secret"}, tokens))
    result = json.loads(capsys.readouterr().out)
    assert result["tokens"] == tokens
    assert result["invocation"]["module_args"]["refresh_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["note"] == "uses ********"  # the rest of the result is masked as Ansible masks it
    assert result["changed"] is False and result["verified"] is True


# -- bounded numbers ---------------------------------------------------------------------

BAD_TIMES = [
    ("exp", 1e20, "its exp claim 1e+20 is out of range; a token's times are seconds since 1970 up to 253402300799"),
    ("exp", 10 ** 30, "its exp claim 1000000000000000000000000000000 is out of range"),
    ("exp", float("nan"), "its exp claim NaN is not a finite number"),
    ("exp", float("inf"), "its exp claim Infinity is not a finite number"),
    ("iat", float("-inf"), "its iat claim -Infinity is not a finite number"),
    ("nbf", -1, "its nbf claim -1 is out of range"),
    ("exp", "1612764351", 'its exp claim "1612764351" is not a number of seconds since 1970 (an RFC 7519 NumericDate)'),
    ("iat", True, "its iat claim true is not a number of seconds"),
    ("nbf", None, "its nbf claim null is not a number of seconds"),
    ("exp", [1], "its exp claim [1] is not a number of seconds"),
]


@pytest.mark.parametrize("name, value, message", BAD_TIMES)
def test_time_claims_that_are_not_times_are_refused(name, value, message):
    with pytest.raises(OidcError, match=r"^token refused: ") as e:
        check_time_claims(dict(claims(), **{name: value}))
    assert message in str(e.value)


@pytest.mark.parametrize("name, value, message", BAD_TIMES)
def test_verification_refuses_them_without_a_crash(name, value, message):
    """PyJWT writes NaN and Infinity as JSON's NaN and Infinity, which Python's JSON reader accepts."""
    with pytest.raises(OidcError) as e:
        verify(sign(dict(claims(), **{name: value})))
    assert message in str(e.value)


def test_times_up_to_year_9999_are_fine():
    check_time_claims({"exp": 253402300799, "iat": 0, "nbf": 1612760751.5})
    assert describe_token({"exp": 253402300799}, {}, 0)["expires_at"] == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize("leeway", [-1, 301, 86400])
def test_leeway_is_bounded(leeway):
    values = options(leeway=leeway)
    with pytest.raises(OidcError, match=r"^leeway is %d s; it must be between 0 and 300 s" % leeway):
        check_options(values, token_settings(values), no_log=False)


def test_leeway_of_300_is_allowed():
    values = options(leeway=300)
    check_options(values, token_settings(values), no_log=False)


# -- error text without secrets --------------------------------------------------------------

JWE = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.aGVhZGVy.aXY.Y2lwaGVydGV4dA.dGFn"
MODULE_DEFAULTS = dict(token=None, refresh_token=None, username=None, password=None, user_pool_id=None, client_id=CLIENT,
                       issuer_url=ISSUER, audience=None, discovery_url=None, ca_file=None, verify=True, leeway=0,
                       identity_provider_config=None, username_claim=None, username_prefix=None, groups_claim=None,
                       groups_prefix=None, return_tokens=False)


def aws_module(cognito, **params):
    """What oidc.run uses of AnsibleAWSModule, its Cognito client the one given (Stubber-backed)."""
    return fakes.FakeModule(dict(MODULE_DEFAULTS, **params), clients={"cognito-idp": cognito})


def test_failure_message_hides_the_modules_own_secrets_in_any_encoding():
    password = "Blah 123$/&kubeauth"
    values = dict(MODULE_DEFAULTS, password=password, refresh_token=JWE, token="opaque-id-token-1234")
    text = ("invalid_grant: the request was pass=Blah+123%24%2F%26kubeauth (Blah%20123%24%2F%26kubeauth) " + json.dumps({"p": password})
            + " rt " + JWE + " t opaque-id-token-1234")
    message = failure_message(text, values)
    for secret in ("Blah", "kubeauth", "eyJ", "opaque-id-token"):
        assert secret not in message, message
    assert message.startswith("invalid_grant: the request was pass=")


@pytest.mark.parametrize("text", [
    "the identity provider refused the refresh_token grant (invalid_grant: Refresh Token has expired)",
    "Cognito refused the refresh token: Invalid Refresh Token",
    "the token endpoint https://idp.example.com/oauth2/token refused the password grant: HTTP 400, invalid_client",
    "token refused: its key id (kid) 'key-9' is not in the issuer's JWKS",
])
def test_failure_message_keeps_what_says_what_to_do(text):
    assert failure_message(text, dict(MODULE_DEFAULTS, password="Pa55word-secret")) == text


@pytest.mark.parametrize("code, text, expected", [
    ("NotAuthorizedException", "Invalid Refresh Token %s; REFRESH_TOKEN=%s", "Cognito refused the refresh token: Invalid Refresh Token "),
    ("InternalErrorException", "could not process %s for %s",
     "Cognito authentication failed: An error occurred (InternalErrorException) when calling the InitiateAuth operation: could not process "),
])
def test_cognito_error_text_is_scrubbed(stubbed, code, text, expected):
    """Cognito's answer echoing the refresh token (as given and JSON-escaped) and an ID token: none of it reaches msg."""
    client, stubber = stubbed
    refresh_token = 'rt"' + "q" * 40
    echo = text % (sign(claims()), json.dumps(refresh_token)[1:-1])
    stubber.add_client_error("initiate_auth", service_error_code=code, service_message=echo, http_status_code=400)
    with pytest.raises(OidcError) as e:
        oidc.run(aws_module(client, refresh_token=refresh_token))
    message = str(e.value)
    assert message.startswith(expected), message
    assert "q" * 40 not in message and "eyJ" not in message, message
    assert e.value.result == {}  # no copy of Cognito's response beside it


def test_requirements_exclude_pyjwt_with_the_issuer_substring_bug():
    """CVE-2024-53861: PyJWT 2.10.0 checked iss as a substring of the expected issuer."""
    with open(os.path.join(os.path.dirname(oidc.__file__), "..", "..", "requirements.txt")) as handle:
        lines = [line.strip() for line in handle if line.lower().startswith("pyjwt")]
    assert lines == ["PyJWT[crypto]>=2.10.1"]


def test_issuer_compared_exactly_whatever_pyjwt_does(monkeypatch):
    """As if PyJWT skipped its issuer check (2.10.0 let any substring of the expected issuer through)."""
    real_decode = jwt.decode
    monkeypatch.setattr(oidc.jwt, "decode", lambda *args, **kwargs: real_decode(*args, **dict(kwargs, issuer=None)))
    with pytest.raises(OidcError, match=r"its issuer \(iss\) 'https://cognito-idp.us-west-2.amazonaws.com/us-west' is not the expected issuer"):
        verify(sign(claims(iss=ISSUER[:51])))
