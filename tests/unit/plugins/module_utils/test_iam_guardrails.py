# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""module_utils/iam_guardrails.py and the filter eks_oidc_guardrail_policy: the post's access-control policies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeauth.eks_oidc.plugins.filter.eks_oidc_guardrail_policy import FilterModule
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import GuardrailError
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import MANAGED_POLICY_MAX_CHARS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import cluster_arns
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import guardrail_policy
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.iam_guardrails import policy_size

CLUSTER_ARN = "arn:aws:eks:us-west-2:111122223333:cluster/test-instance-refresh"
COGNITO = "https://cognito-idp.us-west-2.amazonaws.com/*"
CLIENT = "2bsfr5vpp50ooaffgpf8kd8eeh"


def test_the_posts_first_policy():
    """The post's policy, statement for statement (the Sids renamed for what they do)."""
    document = guardrail_policy(
        [CLUSTER_ARN], allowed_issuer_urls=[COGNITO], allowed_client_ids=[CLIENT], allow_other_eks_actions=True
    )
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyOtherIssuers",
                "Effect": "Deny",
                "Action": "eks:AssociateIdentityProviderConfig",
                "Resource": CLUSTER_ARN,
                "Condition": {"StringNotLikeIfExists": {"eks:issuerUrl": COGNITO}},
            },
            {
                "Sid": "DenyOtherClients",
                "Effect": "Deny",
                "Action": "eks:AssociateIdentityProviderConfig",
                "Resource": CLUSTER_ARN,
                "Condition": {"StringNotEquals": {"eks:clientId": CLIENT}},
            },
            {"Sid": "AllowOtherEKSActions", "Effect": "Allow", "Action": "eks:*", "Resource": "*"},
        ],
    }


def test_the_posts_second_policy():
    document = guardrail_policy(["*"], deny_all=True, region="us-west-2", account_id="111122223333",
                                allow_other_eks_actions=True)
    assert document["Statement"] == [
        {
            "Sid": "DenyOIDCIdentityProviders",
            "Effect": "Deny",
            "Action": ["eks:AssociateIdentityProviderConfig"],
            "Resource": "arn:aws:eks:us-west-2:111122223333:cluster/*",
        },
        {"Sid": "AllowOtherEKSActions", "Effect": "Allow", "Action": "eks:*", "Resource": "*"},
    ]


def test_no_allow_statement_by_default():
    document = guardrail_policy(None, allowed_issuer_urls=[COGNITO])
    assert [s["Effect"] for s in document["Statement"]] == ["Deny"]
    assert document["Statement"][0]["Resource"] == "arn:aws:eks:*:*:cluster/*"


def test_several_issuers_clients_and_clusters_are_lists():
    document = guardrail_policy(
        ["a", "b", "a"], allowed_issuer_urls=[COGNITO, "https://keycloak.example.com/realms/platform"],
        allowed_client_ids=["c1", "c2"], region="eu-west-1", account_id="1",
    )
    issuers, clients = document["Statement"]
    assert issuers["Resource"] == ["arn:aws:eks:eu-west-1:1:cluster/a", "arn:aws:eks:eu-west-1:1:cluster/b"]
    assert issuers["Condition"]["StringNotLikeIfExists"]["eks:issuerUrl"] == [COGNITO, "https://keycloak.example.com/realms/platform"]
    assert clients["Condition"] == {"StringNotEquals": {"eks:clientId": ["c1", "c2"]}}


def test_client_id_wildcards_use_string_not_like():
    document = guardrail_policy(["x"], allowed_client_ids=["team-*"])
    assert document["Statement"][0]["Condition"] == {"StringNotLike": {"eks:clientId": "team-*"}}


def test_clients_only_and_issuers_only():
    assert [s["Sid"] for s in guardrail_policy(["x"], allowed_client_ids=[CLIENT])["Statement"]] == ["DenyOtherClients"]
    assert [s["Sid"] for s in guardrail_policy(["x"], allowed_issuer_urls=[COGNITO])["Statement"]] == ["DenyOtherIssuers"]


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give the approved identity provider"),
    ({"deny_all": True, "allowed_client_ids": [CLIENT]}, "not both"),
    ({"allowed_issuer_urls": ["http://issuer.example.com"]}, "start with https://"),
    ({"allowed_issuer_urls": ["https://a b"]}, "white space"),
    ({"allowed_client_ids": [""]}, "non-empty strings"),
])
def test_refusals(kwargs, message):
    with pytest.raises(GuardrailError, match=message):
        guardrail_policy(["x"], **kwargs)


def test_size_limit():
    clients = ["client%04d" % i for i in range(600)]
    with pytest.raises(GuardrailError, match="more than the %d" % MANAGED_POLICY_MAX_CHARS):
        guardrail_policy(["x"], allowed_client_ids=clients)


def test_policy_size_ignores_white_space():
    assert policy_size({"a": [1, 2]}) == len('{"a":[1,2]}')


def test_cluster_arns():
    assert cluster_arns(["oidc-test", "arn:aws:eks:us-east-1:2:cluster/x"], "us-west-2", "1") == [
        "arn:aws:eks:us-west-2:1:cluster/oidc-test", "arn:aws:eks:us-east-1:2:cluster/x"]
    assert cluster_arns([], partition="aws-cn") == ["arn:aws-cn:eks:*:*:cluster/*"]


def test_filter_plugin():
    policy = FilterModule().filters()["eks_oidc_guardrail_policy"]
    document = policy(["oidc-test"], allowed_issuer_urls=[COGNITO], region="us-west-2", account_id="1")
    assert document["Statement"][0]["Resource"] == "arn:aws:eks:us-west-2:1:cluster/oidc-test"
    with pytest.raises(AnsibleFilterError, match="eks_oidc_guardrail_policy: give the approved"):
        policy(["oidc-test"])
