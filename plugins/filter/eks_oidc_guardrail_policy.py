# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: eks_oidc_guardrail_policy
short_description: The IAM policy that limits which OIDC identity providers may be associated with EKS clusters
version_added: 0.1.0
description:
  - Builds the IAM policy document of the section "Access control" of the AWS post "Introducing OIDC identity
    provider authentication for Amazon EKS", for the clusters given as input.
  - With O(allowed_issuer_urls) and/or O(allowed_client_ids), it denies C(eks:AssociateIdentityProviderConfig)
    for any other issuer (condition key C(eks:issuerUrl), C(StringNotLikeIfExists)) or app client
    (C(eks:clientId), C(StringNotEquals); C(StringNotLike) when a client id has a wildcard).
  - With O(deny_all=true), it denies every association of an OIDC identity provider.
  - The post's policies also hold an C(Allow eks:*) statement. It is added only with O(allow_other_eks_actions=true),
    a guard-rail attached next to an administrator's other policies should take rights away, not grant them.
  - Fails when the settings make no sensible policy, or when the document exceeds IAM's 6,144 characters.
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description:
      - The clusters the policy covers, by name or ARN. C(*) (or an empty list) means every cluster of O(region) and
        O(account_id).
    type: list
    elements: str
    required: true
  allowed_issuer_urls:
    description:
      - The approved issuer URLs, or IAM patterns with C(*) and C(?), such as
        V(https://cognito-idp.us-west-2.amazonaws.com/*).
    type: list
    elements: str
    default: []
  allowed_client_ids:
    description:
      - The approved app client ids (the C(aud) of the ID tokens).
    type: list
    elements: str
    default: []
  deny_all:
    description:
      - Deny every association of an OIDC identity provider instead.
    type: bool
    default: false
  allow_other_eks_actions:
    description:
      - Add the post's C(Allow eks:*) statement, for a policy that is the administrator's whole EKS policy.
    type: bool
    default: false
  region:
    description:
      - Region of the clusters given by name; C(*) for every region.
    type: str
    default: "*"
  account_id:
    description:
      - Account of the clusters given by name; C(*) for any.
    type: str
    default: "*"
  partition:
    description:
      - AWS partition of the cluster ARNs.
    type: str
    default: aws
"""

EXAMPLES = r"""
- name: The post's first policy, for one cluster, with the Cognito pool's issuer and the app client
  ansible.builtin.set_fact:
    guardrail: >-
      {{ ['oidc-test'] | kubeauth.eks_oidc.eks_oidc_guardrail_policy(
           region='us-west-2', account_id='111122223333',
           allowed_issuer_urls=['https://cognito-idp.us-west-2.amazonaws.com/*'],
           allowed_client_ids=['2bsfr5vpp50ooaffgpf8kd8eeh']) }}

- name: The post's second policy, no OIDC identity provider on any cluster
  ansible.builtin.copy:
    content: "{{ ['*'] | kubeauth.eks_oidc.eks_oidc_guardrail_policy(deny_all=true) | to_nice_json }}"
    dest: deny-oidc.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The IAM policy document.
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: DenyOtherIssuers
        Effect: Deny
        Action: eks:AssociateIdentityProviderConfig
        Resource: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
        Condition:
          StringNotLikeIfExists:
            eks:issuerUrl: https://cognito-idp.us-west-2.amazonaws.com/*
      - Sid: DenyOtherClients
        Effect: Deny
        Action: eks:AssociateIdentityProviderConfig
        Resource: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
        Condition:
          StringNotEquals:
            eks:clientId: 2bsfr5vpp50ooaffgpf8kd8eeh
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import GuardrailError
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import guardrail_policy


def eks_oidc_guardrail_policy(clusters, allowed_issuer_urls=None, allowed_client_ids=None, deny_all=False,
                              allow_other_eks_actions=False, region="*", account_id="*", partition="aws"):
    try:
        return guardrail_policy(
            clusters, allowed_issuer_urls, allowed_client_ids, deny_all, allow_other_eks_actions, region, account_id, partition
        )
    except GuardrailError as e:
        raise AnsibleFilterError("eks_oidc_guardrail_policy: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"eks_oidc_guardrail_policy": eks_oidc_guardrail_policy}
