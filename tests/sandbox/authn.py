"""What EKS does with an OIDC identity provider config, as kube-apiserver configuration.

EKS turns an associated config into kube-apiserver's OIDC settings. The
sandbox writes the equivalent structured AuthenticationConfiguration
(apiserver.config.k8s.io/v1), which kube-apiserver reloads without a restart.
EKS's documented defaults for the identity provider config fields:

* usernameClaim defaults to ``sub``;
* usernamePrefix, when unset, is ``<issuerUrl>#`` unless the username claim
  is ``email`` (then no prefix); ``-`` disables prefixing;
* groupsPrefix defaults to none;
* requiredClaims must be present in the token with exactly that value.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse

API_VERSION = "apiserver.config.k8s.io/v1"

# A Cognito issuer names a host that does not resolve to the sandbox, so
# kube-apiserver is pointed at MiniStack for its discovery document instead.
_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/([\w-]+)$")


def username_mapping(oidc: dict) -> dict:
    claim = oidc.get("usernameClaim") or "sub"
    prefix = oidc.get("usernamePrefix")
    if prefix is None or prefix == "":
        prefix = "" if claim == "email" else oidc["issuerUrl"] + "#"
    elif prefix == "-":
        prefix = ""
    return {"claim": claim, "prefix": prefix}


def groups_mapping(oidc: dict) -> dict | None:
    claim = oidc.get("groupsClaim")
    if not claim:
        return None
    return {"claim": claim, "prefix": oidc.get("groupsPrefix") or ""}


def discovery_url(issuer_url: str, cognito_base: str) -> str | None:
    """MiniStack's address for a Cognito issuer's discovery document, else None."""
    match = _COGNITO_ISSUER.match(issuer_url)
    if not match:
        return None
    return f"{cognito_base}/{match.group(1)}/.well-known/openid-configuration"


def trusts_sandbox_ca(issuer_url: str) -> bool:
    """Cognito issuers (served by MiniStack) and loopback issuers present sandbox certificates.

    Any other issuer is checked against the host's roots, as on EKS.
    """
    if _COGNITO_ISSUER.match(issuer_url):
        return True
    host = urllib.parse.urlsplit(issuer_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def jwt_authenticator(oidc: dict, *, cognito_base: str, ca_pem: str) -> dict:
    """One `jwt` entry of the AuthenticationConfiguration for an EKS OIDC config."""
    issuer = {"url": oidc["issuerUrl"], "audiences": [oidc["clientId"]]}
    discovery = discovery_url(oidc["issuerUrl"], cognito_base)
    if discovery:
        issuer["discoveryURL"] = discovery
    if trusts_sandbox_ca(oidc["issuerUrl"]):
        issuer["certificateAuthority"] = ca_pem
    mappings = {"username": username_mapping(oidc)}
    groups = groups_mapping(oidc)
    if groups:
        mappings["groups"] = groups
    entry = {"issuer": issuer, "claimMappings": mappings}
    required = oidc.get("requiredClaims") or {}
    if required:
        entry["claimValidationRules"] = [
            {"claim": claim, "requiredValue": value} for claim, value in sorted(required.items())
        ]
    return entry


def authentication_configuration(jwt: list[dict]) -> str:
    """The file content (JSON is valid YAML) for kube-apiserver's --authentication-config."""
    return json.dumps(
        {"apiVersion": API_VERSION, "kind": "AuthenticationConfiguration", "jwt": jwt},
        indent=2, sort_keys=True,
    ) + "\n"
