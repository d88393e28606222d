# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What kube-apiserver makes of an EKS OIDC identity provider config (pure).

The username and groups a token maps to depend on the config's claims and
prefixes and on EKS's defaults for the ones left unset. The identity provider
modules return this mapping, and the RBAC and token code name users and
groups with it, so that a binding names what the API server sees.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Module option -> field of the API's OidcIdentityProviderConfig.
OIDC_FIELDS = (
    ("issuer_url", "issuerUrl"),
    ("client_id", "clientId"),
    ("username_claim", "usernameClaim"),
    ("username_prefix", "usernamePrefix"),
    ("groups_claim", "groupsClaim"),
    ("groups_prefix", "groupsPrefix"),
    ("required_claims", "requiredClaims"),
)

# The options of the modules that take a claim mapping as EKS does (eks_identity_provider_config,
# oidc_token_info): which claim and prefix make the username and the groups.
CLAIM_MAPPING_OPTIONS = dict(
    username_claim=dict(type="str"),
    username_prefix=dict(type="str"),
    groups_claim=dict(type="str"),
    groups_prefix=dict(type="str"),
)


def oidc_settings(config):
    """The OIDC settings of a config, by option name (None where unset).

    ``config`` is in snake_case (module options and results) or as the EKS API
    describes it (camelCase); where a dict has both, snake_case wins.
    """
    settings = {}
    for option, api in OIDC_FIELDS:
        value = config.get(option)
        settings[option] = config.get(api) if value is None else value
    return settings


def effective_claim_mapping(config):
    """The claims and prefixes kube-apiserver applies for an EKS OIDC identity provider config.

    ``config`` as ``oidc_settings`` reads it. EKS's documented semantics:

    * the username claim defaults to ``sub``;
    * an unset username prefix means ``<issuer_url>#``, except with the claim
      ``email``, which gets no prefix; the prefix ``-`` turns prefixing off;
    * groups come from the groups claim (none when unset), with the groups
      prefix (none when unset).

    Returns ``{username_claim, username_prefix, groups_claim, groups_prefix}``
    with the prefixes as the literal strings put in front (``""`` for none) and
    ``groups_claim`` None when the config maps no groups. A Kubernetes username
    is ``username_prefix + token[username_claim]``, a group
    ``groups_prefix + group``: what RBAC subjects must name.
    """
    settings = oidc_settings(config)
    username_claim = settings["username_claim"] or "sub"
    username_prefix = settings["username_prefix"]
    if not username_prefix:
        username_prefix = "" if username_claim == "email" else "%s#" % (settings["issuer_url"] or "")
    elif username_prefix == "-":
        username_prefix = ""
    groups_claim = settings["groups_claim"] or None
    return {
        "username_claim": username_claim,
        "username_prefix": username_prefix,
        "groups_claim": groups_claim,
        "groups_prefix": (settings["groups_prefix"] or "") if groups_claim else "",
    }


def _claim_expression(claim):
    """``claims.email``, or ``claims["cognito:groups"]`` when the name is not an identifier."""
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", claim):
        return "claims.%s" % claim
    return 'claims["%s"]' % claim


def kubernetes_username_rule(mapping):
    """The username rule of an ``effective_claim_mapping`` as kube-apiserver's CEL would state it.

    ``claims.email`` (no prefix) or ``'https://issuer#' + claims.sub``.
    """
    claim = _claim_expression(mapping["username_claim"])
    if not mapping["username_prefix"]:
        return claim
    return "'%s' + %s" % (mapping["username_prefix"], claim)


def mapping_result(config):
    """``claim_mapping`` and ``kubernetes_username_rule`` of a config, for the module results."""
    if not config:
        return {}
    mapping = effective_claim_mapping(config)
    return {"claim_mapping": mapping, "kubernetes_username_rule": kubernetes_username_rule(mapping)}
