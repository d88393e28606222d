# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM guard-rail policies for OIDC identity providers on EKS (filter eks_oidc_guardrail_policy, role iam_guardrails).

The section "Access control" of the AWS post gives two IAM policies for
cluster administrators:

* restrict ``eks:AssociateIdentityProviderConfig`` to an approved issuer and
  app client: a Deny with ``StringNotLikeIfExists`` on ``eks:issuerUrl`` and a
  Deny with ``StringNotEquals`` on ``eks:clientId``;
* forbid associating any OIDC identity provider: an unconditional Deny.

Both also carry an ``Allow eks:*`` statement, because the post attaches them as
the administrator's EKS policy. As a guard-rail added next to the policies
that grant an administrator their permissions, that Allow would grant EKS
rights the administrator did not have; it is left out unless asked for.

``guardrail_policy`` builds either document from settings, as plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

ACTION = "eks:AssociateIdentityProviderConfig"
POLICY_VERSION = "2012-10-17"
# IAM's limit for a customer managed policy, counted without whitespace.
MANAGED_POLICY_MAX_CHARS = 6144

SID_ISSUERS = "DenyOtherIssuers"  # the post's "AllowCognitoOnly"
SID_CLIENTS = "DenyOtherClients"  # the post's "DenyOtherClients"
SID_DENY_ALL = "DenyOIDCIdentityProviders"  # the post's "denyOIDC"
SID_ALLOW_EKS = "AllowOtherEKSActions"  # the post's "AllowOthers" / "eksAdmin"


class GuardrailError(ValueError):
    """Settings that make no sensible policy; the message says what to change."""


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    unique = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise GuardrailError("expected non-empty strings, got %r" % (item,))
        if item not in unique:
            unique.append(item)
    return unique


def _one_or_list(values):
    """A single value as a string (as the post writes it), several as a list."""
    return values[0] if len(values) == 1 else values


def cluster_arns(clusters=None, region="*", account_id="*", partition="aws"):
    """The EKS cluster ARNs a policy covers: each name (``*`` for all) in the region and account; ARNs are kept."""
    arns = []
    for name in _as_list(clusters) or ["*"]:
        if name.startswith("arn:"):
            arns.append(name)
        else:
            arns.append("arn:%s:eks:%s:%s:cluster/%s" % (partition or "aws", region or "*", account_id or "*", name))
    return arns


def issuer_problem(pattern):
    """Why ``pattern`` cannot match an issuer URL EKS accepts, or None."""
    if any(c.isspace() for c in pattern):
        return "it contains white space"
    if not pattern.startswith("https://") and not pattern.startswith("*"):
        return "EKS issuer URLs start with https://"
    return None


def guardrail_policy(clusters=None, allowed_issuer_urls=None, allowed_client_ids=None, deny_all=False,
                     allow_other_eks_actions=False, region="*", account_id="*", partition="aws"):
    """The IAM policy document (a dict) of the post's access-control section.

    ``clusters``: cluster names or ARNs the Deny statements cover (default all
    clusters of ``region`` and ``account_id``). ``allowed_issuer_urls``: issuer
    URLs or IAM wildcard patterns (``https://cognito-idp.us-west-2.amazonaws.com/*``);
    ``allowed_client_ids``: app client ids (wildcards allowed). Either or both
    restrict associations; ``deny_all`` forbids them instead.
    ``allow_other_eks_actions`` adds the post's ``Allow eks:*`` statement.
    """
    issuers = _as_list(allowed_issuer_urls)
    clients = _as_list(allowed_client_ids)
    resources = _one_or_list(cluster_arns(clusters, region, account_id, partition))
    if deny_all:
        if issuers or clients:
            raise GuardrailError(
                "deny_all forbids every OIDC identity provider, so allowed_issuer_urls and allowed_client_ids would have "
                "no effect: give deny_all or the allowed issuers and clients, not both"
            )
        statements = [{"Sid": SID_DENY_ALL, "Effect": "Deny", "Action": [ACTION], "Resource": resources}]
    else:
        if not issuers and not clients:
            raise GuardrailError(
                "give the approved identity provider (allowed_issuer_urls and/or allowed_client_ids), or deny_all: true "
                "to forbid OIDC identity providers altogether"
            )
        for pattern in issuers:
            problem = issuer_problem(pattern)
            if problem:
                raise GuardrailError("allowed issuer URL '%s' would never match: %s" % (pattern, problem))
        statements = []
        if issuers:
            statements.append({
                "Sid": SID_ISSUERS, "Effect": "Deny", "Action": ACTION, "Resource": resources,
                "Condition": {"StringNotLikeIfExists": {"eks:issuerUrl": _one_or_list(issuers)}},
            })
        if clients:
            wildcard = any("*" in c or "?" in c for c in clients)
            statements.append({
                "Sid": SID_CLIENTS, "Effect": "Deny", "Action": ACTION, "Resource": resources,
                "Condition": {"StringNotLike" if wildcard else "StringNotEquals": {"eks:clientId": _one_or_list(clients)}},
            })
    if allow_other_eks_actions:
        statements.append({"Sid": SID_ALLOW_EKS, "Effect": "Allow", "Action": "eks:*", "Resource": "*"})
    document = {"Version": POLICY_VERSION, "Statement": statements}
    size = policy_size(document)
    if size > MANAGED_POLICY_MAX_CHARS:
        raise GuardrailError(
            "the policy has %d characters, more than the %d IAM allows for a managed policy: use wildcard patterns "
            "instead of listing many issuers, clients or clusters" % (size, MANAGED_POLICY_MAX_CHARS)
        )
    return document


def policy_size(document):
    """The characters IAM counts for a policy: its JSON without white space."""
    return len(json.dumps(document, separators=(",", ":")))
