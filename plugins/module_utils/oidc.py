# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Obtain, verify and explain an OIDC ID token (module oidc_token_info).

Steps 2 and 5 of the AWS post do this by hand: get an ID token from Cognito,
decode its payload with ``cut | base64 --decode`` to find the groups claim,
and hope the cluster maps it as expected. Here the token is verified as
kube-apiserver verifies it (signature against the issuer's JWKS, found through
discovery; issuer; audience; expiry; asymmetric algorithms only) and mapped to
the Kubernetes user the API server would see, with EKS's prefix rules
(``effective_claim_mapping`` in eks.py).

What the module shares with the kubectl credential plugin (decoding a JWT
without verifying it, discovery, the token endpoint grants, the https rule,
the scrubbing of error text) comes from credential_plugin.py, which must stay
standard-library only.

Every URL the module fetches or posts to must be https, checked before the
request; JWT times and ``leeway`` are bounded; error text is scrubbed of
secrets; tokens are returned as they are, and only to a task with ``no_log``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
import time
import traceback

try:
    import jwt

    HAS_JWT = True
    JWT_IMPORT_ERROR = None
except ImportError:
    HAS_JWT = False
    JWT_IMPORT_ERROR = traceback.format_exc()

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import issuer_url as cognito_issuer_url
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import pool_of_issuer as cognito_pool_of_issuer
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import effective_claim_mapping
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import oidc_settings

# The algorithms kube-apiserver accepts for ID tokens (its OIDC authenticator's
# supported signing algorithms): asymmetric only, so a verifier never holds a
# secret that could also sign.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# OpenID Connect Discovery: RS256 when the document lists no algorithms.
DEFAULT_ALGORITHMS = ("RS256",)
# Claims kube-apiserver needs in every ID token.
REQUIRED_CLAIMS = ("iss", "aud", "exp")
# Claim names that hold group memberships at the common identity providers.
GROUP_CLAIM_NAME = re.compile(r"(^|[:/_.-])(groups?|roles?)$", re.IGNORECASE)
AUTHENTICATED_GROUP = "system:authenticated"
MAPPING_OPTIONS = ("username_claim", "username_prefix", "groups_claim", "groups_prefix")
# kube-apiserver allows no clock skew; a few minutes cover a badly kept clock, more would accept stale tokens.
MAX_LEEWAY = 300
TIME_CLAIMS = ("exp", "iat", "nbf")
# The options whose values never appear in error text (Ansible masks them too, but only as given: not
# form- or JSON-encoded, as an identity provider that echoes the request may write them).
SECRET_OPTIONS = ("token", "refresh_token", "password")


class OidcError(Exception):
    """A token that is refused, or input the user can fix; the message says which and why."""

    def __init__(self, msg, **result):
        super(OidcError, self).__init__(msg)
        self.result = result


# ---------------------------------------------------------------------------
# Settings: issuer, audience and claim mapping (pure)
# ---------------------------------------------------------------------------

def raw_config_of(identity_provider_config):
    """An EKS identity provider config (snake or camelCase, or only its ``claim_mapping``) as raw EKS fields.

    A ``claim_mapping`` is already effective (prefixes literal, ``""`` for
    none); it is turned back into the raw fields that map to it (``"-"`` for
    no username prefix), so every mapping goes through one rule.
    """
    config = dict(identity_provider_config or {})
    raw = oidc_settings(config)
    raw["required_claims"] = raw["required_claims"] or {}
    mapping = config.get("claim_mapping")
    if isinstance(mapping, dict):
        raw["username_claim"] = mapping.get("username_claim") or raw["username_claim"]
        raw["username_prefix"] = mapping.get("username_prefix") or "-"
        raw["groups_claim"] = mapping.get("groups_claim") or raw["groups_claim"]
        raw["groups_prefix"] = mapping.get("groups_prefix") or None
    return raw


def token_settings(params, token_issuer=None):
    """Issuer, audience, claim mapping and required claims from the module's options.

    Explicit options win over ``identity_provider_config``; the issuer of a
    Cognito ``user_pool_id`` is known without asking; ``token_issuer`` (the
    ``iss`` of a token Cognito's API just issued) is the last resort.
    """
    raw = raw_config_of(params.get("identity_provider_config"))
    for option in MAPPING_OPTIONS:
        if params.get(option) is not None:
            raw[option] = params[option]
    issuer = params.get("issuer_url") or raw["issuer_url"]
    if not issuer and params.get("user_pool_id"):
        issuer = cognito_issuer_url(params["user_pool_id"])
    issuer = issuer or token_issuer
    client_id = params.get("client_id") or raw["client_id"]
    raw["issuer_url"] = issuer
    return {
        "issuer_url": issuer,
        "client_id": client_id,
        "audience": params.get("audience") or client_id,
        "claim_mapping": effective_claim_mapping(raw),
        "required_claims": raw["required_claims"],
    }


# ---------------------------------------------------------------------------
# Input refused before any request, and error text without secrets (pure)
# ---------------------------------------------------------------------------

def require_https(url, name):
    """OidcError unless ``url`` is https: the plugin's rule (credential_plugin.https_problem), checked before any request."""
    problem = credential_plugin.https_problem(url, name)
    if problem:
        raise OidcError(problem)


def check_options(params, settings, no_log):
    """Refuse, before any request, options that would leak a secret, trust a swappable key set or accept stale tokens.

    ``settings`` is what ``token_settings`` made of ``params``; ``no_log`` is
    whether the task runs with ``no_log: true``.
    """
    leeway = params["leeway"]
    if not 0 <= leeway <= MAX_LEEWAY:
        raise OidcError(
            "leeway is %d s; it must be between 0 and %d s: it is the clock skew allowed when checking exp, "
            "kube-apiserver allows none, and more than a few minutes would accept tokens that already expired"
            % (leeway, MAX_LEEWAY)
        )
    if params["return_tokens"] and not no_log:
        raise OidcError(
            "return_tokens returns the ID, access and refresh tokens in clear in the task's result; set no_log: true "
            "on the task (the registered variable still holds them), or leave return_tokens off"
        )
    # Checked here too, not only at discovery: a Cognito login or refresh comes before it.
    if settings["issuer_url"]:
        require_https(settings["issuer_url"], "issuer_url")
    if params["discovery_url"]:
        require_https(params["discovery_url"], "discovery_url")


def check_time_claims(claims):
    """Refuse an exp, iat or nbf that is not a time (a number of seconds from 1970 to year 9999).

    JSON allows 1e20, and Python's JSON reader also NaN and Infinity: such a
    value cannot be compared with the clock or written as a date.
    """
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        shown = json.dumps(value)[:40]  # as the token writes it: 1e+20, NaN, Infinity, "1612764351", null
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OidcError(
                "token refused: its %s claim %s is not a number of seconds since 1970 (an RFC 7519 NumericDate); "
                "the token is malformed" % (name, shown)
            )
        if not 0 <= value <= credential_plugin.LATEST_EPOCH:  # NaN fails every comparison
            finite = isinstance(value, int) or math.isfinite(value)  # an int is; math.isfinite(10 ** 400) overflows
            raise OidcError(
                "token refused: its %s claim %s is %s; a token's times are seconds since 1970 up to %d "
                "(9999-12-31T23:59:59Z); the token is malformed"
                % (name, shown, "out of range" if finite else "not a finite number", credential_plugin.LATEST_EPOCH)
            )


def secrets_of(params):
    """The module's own secret inputs (the no_log options that carry tokens or passwords)."""
    return [params[option] for option in SECRET_OPTIONS if params.get(option)]


def failure_message(error, params):
    """The text of ``error`` for ``msg``: scrubbed of secret-shaped text and of the module's own secret inputs,
    in any encoding (credential_plugin.scrub)."""
    return credential_plugin.scrub(str(error), secrets_of(params))


# ---------------------------------------------------------------------------
# Verification (pure, given the discovery document and the JWKS)
# ---------------------------------------------------------------------------

def allowed_algorithms(discovery):
    """The issuer's ID token algorithms that kube-apiserver also accepts."""
    offered = discovery.get("id_token_signing_alg_values_supported") or DEFAULT_ALGORITHMS
    return [alg for alg in offered if alg in ASYMMETRIC_ALGORITHMS]


def signing_key(jwks, header, alg, jwks_uri="the JWKS"):
    """The issuer key the token's header names (kid), as a key PyJWT verifies ``alg`` with."""
    keys = [key for key in (jwks or {}).get("keys", []) if isinstance(key, dict) and key.get("use", "sig") == "sig"]
    kid = header.get("kid")
    if kid is None:
        if len(keys) != 1:
            raise OidcError(
                "token refused: its header names no key id (kid) and the issuer's JWKS at %s has %d signing keys; "
                "a token must say which key signed it" % (jwks_uri, len(keys))
            )
        jwk = keys[0]
    else:
        matches = [key for key in keys if key.get("kid") == kid]
        if not matches:
            raise OidcError(
                "token refused: its key id (kid) %r is not in the issuer's JWKS at %s (it has %s); the token was signed "
                "with a key this issuer does not publish" % (kid, jwks_uri, ", ".join(repr(k.get("kid")) for k in keys) or "no keys")
            )
        jwk = matches[0]
    if jwk.get("alg") and jwk["alg"] != alg:
        raise OidcError("token refused: its header says alg %s, but key %r of the issuer is for %s" % (alg, jwk.get("kid"), jwk["alg"]))
    try:
        return jwt.PyJWK(jwk, algorithm=alg).key
    except (jwt.exceptions.PyJWKError, jwt.exceptions.InvalidKeyError) as e:
        raise OidcError("token refused: key %r of the issuer cannot verify %s: %s" % (jwk.get("kid"), alg, e))


def check_algorithm(alg, discovery):
    """Refuse unsigned tokens, HMAC tokens and algorithms the issuer does not sign with."""
    allowed = allowed_algorithms(discovery)
    if not alg or str(alg).lower() == "none":
        raise OidcError("token refused: its header says alg 'none', an unsigned token that anyone can write")
    if str(alg).upper().startswith("HS"):
        raise OidcError(
            "token refused: its header says alg %s, a shared-secret (HMAC) algorithm; an issuer signs ID tokens with "
            "its private key, and an HMAC made with the issuer's public key is a key-confusion forgery (allowed: %s)"
            % (alg, ", ".join(allowed))
        )
    if alg not in allowed:
        raise OidcError(
            "token refused: alg %s is not among the algorithms the issuer signs ID tokens with and kube-apiserver "
            "accepts (%s)" % (alg, ", ".join(allowed) or "none")
        )


def verify_id_token(token, issuer_url, audience, discovery, jwks, leeway=0):
    """The claims of ``token`` once verified as kube-apiserver verifies it; OidcError says what is wrong."""
    claims = decode_claims(token)
    header = decode_header(token)
    check_time_claims(claims)
    check_algorithm(header.get("alg"), discovery)
    alg = header["alg"]
    key = signing_key(jwks, header, alg, discovery.get("jwks_uri", "the JWKS"))
    options = {"require": list(REQUIRED_CLAIMS)}
    try:
        verified = jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer_url, leeway=leeway, options=options)
    except jwt.exceptions.InvalidSignatureError:
        raise OidcError(
            "token refused: its signature does not match its header and payload; the token was altered after it "
            "was signed, or signed with another key than %r" % header.get("kid")
        )
    except jwt.exceptions.ExpiredSignatureError:
        exp = claims.get("exp")
        raise OidcError(
            "token refused: it expired at %s, %d s ago (leeway %d s); get a new one (refresh_token, or log in again)"
            % (credential_plugin.rfc3339(exp), time.time() - exp, leeway)
        )
    except jwt.exceptions.MissingRequiredClaimError as e:
        hint = ""
        if e.claim == "aud" and claims.get("token_use") == "access":
            hint = "; this is a Cognito access token (token_use: access): kube-apiserver needs the ID token"
        raise OidcError("token refused: it has no %s claim%s" % (e.claim, hint))
    except jwt.exceptions.InvalidAudienceError:
        raise OidcError(
            "token refused: its audience (aud) %r does not include %r, the client id the cluster trusts; "
            "the token was issued to another app client" % (claims.get("aud"), audience)
        )
    except jwt.exceptions.InvalidIssuerError:
        raise _wrong_issuer(claims, issuer_url)
    except jwt.exceptions.ImmatureSignatureError:
        raise OidcError("token refused: it is not valid yet (iat or nbf in the future); check the clocks")
    except jwt.exceptions.InvalidTokenError as e:
        raise OidcError("token refused: %s" % e)
    # PyJWT 2.10.0 compared a str issuer as a substring (CVE-2024-53861); compare exactly whatever is installed.
    if verified.get("iss") != issuer_url:
        raise _wrong_issuer(claims, issuer_url)
    return verified


def _wrong_issuer(claims, issuer_url):
    return OidcError("token refused: its issuer (iss) %r is not the expected issuer %r" % (claims.get("iss"), issuer_url))


def decode_header(token):
    """The token's header, NOT verified."""
    try:
        return credential_plugin.jwt_header(token)
    except credential_plugin.PluginError as e:
        raise OidcError("token refused: %s" % e)


def decode_claims(token):
    """The token's claims, NOT verified (decoded with correct base64url padding)."""
    try:
        return credential_plugin.jwt_claims(token)
    except credential_plugin.PluginError as e:
        raise OidcError("token refused: %s" % e)


def issuer_discovery(issuer_url, discovery_url=None, ca_file=None):
    """The issuer's discovery document; it must name ``issuer_url`` as its issuer.

    credential_plugin.discover refuses, before any request, an issuer or
    discovery URL that is not https, and a document that hands out an
    endpoint (jwks_uri, token_endpoint, ...) that is not.
    """
    try:
        return credential_plugin.discover(issuer_url, discovery_url, ca_file)
    except credential_plugin.PluginError as e:
        raise OidcError(str(e))


def issuer_documents(issuer_url, discovery_url=None, ca_file=None):
    """(discovery document, JWKS) of an issuer; discovery must name ``issuer_url`` as its issuer; all over https."""
    discovery = issuer_discovery(issuer_url, discovery_url, ca_file)
    jwks_uri = discovery.get("jwks_uri")
    if not jwks_uri:
        raise OidcError("the issuer's discovery document has no jwks_uri")
    try:
        status, jwks = credential_plugin.http_json(jwks_uri, ca_file=ca_file)
    except credential_plugin.PluginError as e:
        raise OidcError(str(e))
    if status != 200 or not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise OidcError("the issuer's JWKS at %s answered HTTP %d without a keys list" % (jwks_uri, status))
    return discovery, jwks


# ---------------------------------------------------------------------------
# What kube-apiserver makes of the claims (pure)
# ---------------------------------------------------------------------------

def kubernetes_user(claims, mapping, required_claims=None):
    """{username, groups} as kube-apiserver's OIDC authenticator computes them; OidcError when it would refuse.

    ``mapping`` is an ``effective_claim_mapping``. The rules: the username is
    ``username_prefix`` + the (string) username claim; with the claim
    ``email``, an ``email_verified`` claim, when present, must be true; groups
    are the groups claim (a string or a list of strings; none when absent)
    each with ``groups_prefix``; every required claim must have its value;
    every authenticated user is also in ``system:authenticated``.
    """
    for claim, value in sorted((required_claims or {}).items()):
        if claims.get(claim) != value:
            raise OidcError(
                "the API server would refuse this token: required claim %r must be %r, the token has %r" % (claim, value, claims.get(claim))
            )
    claim = mapping["username_claim"]
    if claim not in claims:
        raise OidcError(
            "the API server would refuse this token: it has no %r claim, the username claim (claims: %s)" % (claim, ", ".join(sorted(claims)))
        )
    value = claims[claim]
    if not isinstance(value, str) or not value:
        raise OidcError("the API server would refuse this token: the username claim %r is %r, not a non-empty string" % (claim, value))
    if claim == "email" and "email_verified" in claims and claims["email_verified"] is not True:
        raise OidcError("the API server would refuse this token: the username claim is email and email_verified is %r" % claims["email_verified"])
    groups = []
    if mapping.get("groups_claim") and mapping["groups_claim"] in claims:
        found = claims[mapping["groups_claim"]]
        found = [found] if isinstance(found, str) else found
        if not isinstance(found, list) or not all(isinstance(group, str) for group in found):
            raise OidcError(
                "the API server would refuse this token: the groups claim %r is %r, not a string or a list of strings"
                % (mapping["groups_claim"], claims[mapping["groups_claim"]])
            )
        groups = [mapping.get("groups_prefix", "") + group for group in found]
    return {"username": mapping["username_prefix"] + value, "groups": groups + [AUTHENTICATED_GROUP]}


def group_claims(claims):
    """Claims that look like group memberships ({name: [values]}): what to pick as the groups claim."""
    found = {}
    for name, value in claims.items():
        values = [value] if isinstance(value, str) else value
        if GROUP_CLAIM_NAME.search(name) and isinstance(values, list) and all(isinstance(v, str) for v in values):
            found[name] = values
    return found


def describe_token(claims, header, now):
    """What the module reports about any token: header, claims, times, group claims."""
    exp = claims.get("exp")
    iat = claims.get("iat")
    numeric = (int, float)
    return {
        "header": header,
        "claims": claims,
        "issued_at": credential_plugin.rfc3339(iat) if isinstance(iat, numeric) else None,
        "expires_at": credential_plugin.rfc3339(exp) if isinstance(exp, numeric) else None,
        "expires_in": int(exp - now) if isinstance(exp, numeric) else None,
        "group_claims": group_claims(claims),
    }


# ---------------------------------------------------------------------------
# Obtaining a token
# ---------------------------------------------------------------------------

def _cognito_result(response, what):
    if response.get("ChallengeName"):
        raise OidcError(
            "Cognito answered %s with the challenge %s; this module cannot answer challenges. For NEW_PASSWORD_REQUIRED, "
            "give the user a permanent password (kubeauth.eks_oidc.cognito_user with password)" % (what, response["ChallengeName"])
        )
    result = response.get("AuthenticationResult") or {}
    if not result.get("IdToken"):
        raise OidcError("Cognito answered %s without an ID token" % what)
    return {"id_token": result["IdToken"], "access_token": result.get("AccessToken"), "refresh_token": result.get("RefreshToken")}


def _cognito_call(module, region, call, what, **request):
    if module.region or not region:
        client = cognito_client(module)
    else:  # the region is part of the pool id
        client = module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff(), region=region)
    require_https(client.meta.endpoint_url, "the Cognito API endpoint (endpoint_url)")
    try:
        return _cognito_result(getattr(client, call)(aws_retry=True, **request), what)
    except is_boto3_error_code("NotAuthorizedException") as e:
        raise OidcError("Cognito refused %s: %s" % (what, e.response.get("Error", {}).get("Message", "not authorized")))
    except is_boto3_error_code("UserNotFoundException"):
        raise OidcError("Cognito refused %s: no such user" % what)


def obtain_tokens(module, settings):
    """(tokens, source): the ID token given, or one obtained from a refresh token or Cognito username and password."""
    params = module.params
    if params["token"]:
        return {"id_token": params["token"]}, "token"
    issuer = settings["issuer_url"]
    pool_id = params["user_pool_id"] or cognito_pool_of_issuer(issuer)
    region = pool_id.split("_", 1)[0] if pool_id else None
    client_id = settings["client_id"]
    if not client_id:
        raise OidcError("client_id is required to obtain a token (the app client the token is for)")
    if params["refresh_token"]:
        if pool_id or not issuer:
            request = dict(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=client_id, AuthParameters={"REFRESH_TOKEN": params["refresh_token"]})
            tokens = _cognito_call(module, region, "initiate_auth", "the refresh token", **request)
            tokens["refresh_token"] = tokens["refresh_token"] or params["refresh_token"]
            return tokens, "cognito_refresh_token"
        discovery = issuer_discovery(issuer, params["discovery_url"], params["ca_file"])
        tokens = _grant(credential_plugin.refresh_grant, discovery, client_id, params["refresh_token"], params["ca_file"])
        return tokens, "refresh_token"
    parameters = {"USERNAME": params["username"], "PASSWORD": params["password"]}
    if params["user_pool_id"]:
        request = dict(UserPoolId=params["user_pool_id"], ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=parameters)
        return _cognito_call(module, region, "admin_initiate_auth", "ADMIN_USER_PASSWORD_AUTH", **request), "cognito_admin_user_password"
    if pool_id or not issuer:
        request = dict(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters)
        return _cognito_call(module, region, "initiate_auth", "USER_PASSWORD_AUTH", **request), "cognito_user_password"
    discovery = issuer_discovery(issuer, params["discovery_url"], params["ca_file"])
    tokens = _grant(credential_plugin.password_grant, discovery, client_id, params["username"], params["password"],
                    credential_plugin.DEFAULT_SCOPES, params["ca_file"])
    return tokens, "password"


def _grant(grant, discovery, *args):
    if not discovery.get("token_endpoint"):
        raise OidcError("the issuer's discovery document has no token_endpoint")
    try:
        tokens = grant(discovery["token_endpoint"], *args)
    except credential_plugin.PluginError as e:
        raise OidcError(str(e))
    return {"id_token": tokens["id_token"], "access_token": tokens.get("access_token"), "refresh_token": tokens.get("refresh_token")}


# ---------------------------------------------------------------------------
# The module flow
# ---------------------------------------------------------------------------

def token_info(module):
    """The module's result for its options."""
    params = module.params
    settings = token_settings(params)
    check_options(params, settings, module.no_log)
    tokens, source = obtain_tokens(module, settings)
    token = tokens["id_token"]
    header, claims = decode_header(token), decode_claims(token)
    check_time_claims(claims)
    if not settings["issuer_url"] and source.startswith("cognito"):
        # Straight from Cognito's API over TLS: its iss is the pool's issuer.
        settings = token_settings(params, claims.get("iss"))
    issuer, audience = settings["issuer_url"], settings["audience"]
    result = describe_token(claims, header, time.time())
    result.update(token_source=source, verified=False, issuer_url=issuer, audience=audience, claim_mapping=settings["claim_mapping"])
    if params["verify"]:
        if not issuer:
            raise OidcError("issuer_url is required to verify a token (or user_pool_id or identity_provider_config, "
                            "which name it); set verify: false to only decode it", **result)
        if not audience:
            raise OidcError("audience (or client_id, or identity_provider_config) is required to verify a token; "
                            "set verify: false to only decode it", **result)
        try:
            discovery, jwks = issuer_documents(issuer, params["discovery_url"], params["ca_file"])
            verify_id_token(token, issuer, audience, discovery, jwks, params["leeway"])
        except OidcError as e:
            raise OidcError(str(e), **result)
        result["verified"] = True
    try:
        result["kubernetes_user"] = kubernetes_user(claims, settings["claim_mapping"], settings["required_claims"])
    except OidcError as e:
        raise OidcError(str(e), **result)
    if params["return_tokens"]:
        result["tokens"] = dict((k, v) for k, v in tokens.items() if v)
    return result


def result_with_tokens(module, result, tokens):
    """``result`` plus ``tokens`` exactly as obtained, for exit_json.

    Ansible masks every return value equal to a no_log option's value (and
    stars out each occurrence inside strings), so a refresh token that Cognito
    does not renew came back as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER. Here the
    rest of the result, the invocation included, is masked as Ansible masks
    it, and the module is told there is nothing left to mask; the tokens are
    not masked. That is safe because ``check_options`` requires ``no_log`` on
    a task that asks for tokens.
    """
    masked = remove_values(dict(result, changed=False, invocation={"module_args": module.params}), module.no_log_values)
    masked["tokens"] = tokens
    module.no_log_values.clear()  # everything else is masked already
    return masked


def run(module):
    """The oidc_token_info module's result; OidcError, its message scrubbed of the module's secrets, when refused."""
    if not HAS_JWT:
        raise OidcError(missing_required_lib("PyJWT[crypto]"), exception=JWT_IMPORT_ERROR)
    try:
        result = token_info(module)
    except OidcError as e:
        raise OidcError(failure_message(e, module.params), **e.result)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        # Not fail_json_aws: it would copy Cognito's unscrubbed error response into the result.
        raise OidcError(failure_message("Cognito authentication failed: %s" % e, module.params))
    tokens = result.pop("tokens", None)
    if tokens:
        return result_with_tokens(module, result, tokens)
    return dict(result, changed=False)
