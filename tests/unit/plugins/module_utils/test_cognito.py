"""Unit tests of what every Cognito module shares (no network)."""

import datetime

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import blank_to_none
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import find_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import issuer_url
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import password_policy_violations
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import pick_by_name
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import require_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import to_snake

# The post's pool: 8 characters, no character classes required.
POST_POLICY = {"MinimumLength": 8, "RequireLowercase": False, "RequireUppercase": False,
               "RequireNumbers": False, "RequireSymbols": False}


# --- pick_by_name ---------------------------------------------------------------

POOLS = [{"Id": "us-west-2_b", "Name": "oidc"}, {"Id": "us-west-2_a", "Name": "oidc"}, {"Id": "us-west-2_c", "Name": "other"}]


def test_pick_by_name_returns_the_single_match():
    assert pick_by_name(POOLS, "other", "Name", "Id", "user pool", "pool_id") == POOLS[2]


def test_pick_by_name_returns_none_without_a_match():
    assert pick_by_name(POOLS, "missing", "Name", "Id", "user pool", "pool_id") is None
    assert pick_by_name([], "oidc", "Name", "Id", "user pool", "pool_id") is None


def test_pick_by_name_refuses_an_ambiguous_name_and_says_how_to_choose():
    with pytest.raises(AnsibleAWSError) as error:
        pick_by_name(POOLS, "oidc", "Name", "Id", "user pool", "pool_id")
    assert str(error.value) == (
        "user pool name 'oidc' matches 2 user pools: us-west-2_a, us-west-2_b; pass pool_id to choose one"
    )


def test_pick_by_name_names_the_kind_and_option_it_is_given():
    clients = [{"ClientId": "2", "ClientName": "kubectl"}, {"ClientId": "1", "ClientName": "kubectl"}]
    with pytest.raises(AnsibleAWSError, match=r"app client name 'kubectl' matches 2 app clients: 1, 2; pass client_id"):
        pick_by_name(clients, "kubectl", "ClientName", "ClientId", "app client", "client_id")


# --- issuer_url -----------------------------------------------------------------

def test_issuer_url_of_the_posts_pool():
    assert issuer_url("us-west-2_re1u6bpRA") == "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"


@pytest.mark.parametrize("pool_id, expected", [
    ("cn-north-1_abc", "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_abc"),
    ("cn-northwest-1_abc", "https://cognito-idp.cn-northwest-1.amazonaws.com.cn/cn-northwest-1_abc"),
    ("eu-central-1_abc", "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc"),
    ("us-gov-west-1_abc", "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_abc"),
])
def test_issuer_url_uses_the_partitions_domain(pool_id, expected):
    assert issuer_url(pool_id) == expected


# --- password_policy_violations --------------------------------------------------

def test_the_posts_password_meets_the_posts_policy():
    assert password_policy_violations("Blah123$", POST_POLICY) == []


def test_a_short_password_is_refused_by_length_only_under_the_posts_policy():
    assert password_policy_violations("password"[:7], POST_POLICY) == ["at least 8 characters"]


def test_the_posts_temporary_password_meets_its_policy():
    # The post's `--temporary-password password`: 8 lowercase letters, allowed by its policy.
    assert password_policy_violations("password", POST_POLICY) == []


def test_cognitos_default_policy_applies_when_the_pool_reports_none():
    assert password_policy_violations("password", None) == ["an uppercase letter", "a number", "a symbol"]
    assert password_policy_violations("Passw0rd!", {}) == []


def test_every_character_class_is_named():
    policy = {"MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True,
              "RequireNumbers": True, "RequireSymbols": True}
    assert password_policy_violations("", policy) == [
        "at least 12 characters", "an uppercase letter", "a lowercase letter", "a number", "a symbol",
    ]


def test_the_policy_given_overrides_the_defaults_key_by_key():
    assert password_policy_violations("ALLUPPER1!", {"RequireLowercase": False}) == []
    assert password_policy_violations("alllower1!", {"RequireLowercase": False}) == ["an uppercase letter"]


@pytest.mark.parametrize("symbol", list("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"))
def test_each_cognito_symbol_counts(symbol):
    assert password_policy_violations("Abcdefg1" + symbol, None) == []


def test_a_letter_outside_ascii_is_not_a_symbol():
    assert password_policy_violations("Abcdefg1é", None) == ["a symbol"]


def test_leading_or_trailing_space_is_refused():
    assert password_policy_violations(" Blah123$", POST_POLICY) == ["no leading or trailing space"]
    assert password_policy_violations("Blah123$ ", POST_POLICY) == ["no leading or trailing space"]
    assert password_policy_violations("Blah 123$", POST_POLICY) == []


def test_violations_never_contain_the_password():
    password = "Sup3rSecretValue"
    assert not any(password in problem for problem in password_policy_violations(password, None))


# --- small helpers ----------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("", None), ([], None), ({}, None), (None, None),
                                             ("x", "x"), (0, 0), (False, False), (["a"], ["a"])])
def test_blank_to_none(value, expected):
    assert blank_to_none(value) == expected


def test_to_snake_keeps_the_keys_it_is_told_to_keep():
    result = to_snake({"UserPoolTags": {"CostCenter": "1"}, "MfaConfiguration": "OFF"}, keep=("UserPoolTags",))
    assert result == {"user_pool_tags": {"CostCenter": "1"}, "mfa_configuration": "OFF"}
    assert to_snake(None) == {}


# --- pool lookup (stubbed API, no network) ---------------------------------------------

def described(pool_id, name="oidc"):
    return {"UserPool": {"Id": pool_id, "Name": name}}


def test_require_user_pool_returns_the_described_pool(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_user_pool", described("us-west-2_a"), {"UserPoolId": "us-west-2_a"})
    assert require_user_pool(client, "us-west-2_a")["Id"] == "us-west-2_a"


def test_require_user_pool_says_to_create_a_missing_pool(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", http_status_code=400)
    with pytest.raises(AnsibleAWSError) as error:
        require_user_pool(client, "us-west-2_gone")
    assert str(error.value) == (
        "user pool 'us-west-2_gone' does not exist; create it first (kubeauth.eks_oidc.cognito_user_pool)"
    )


def test_find_user_pool_by_name_lists_then_describes_the_match(stubbed):
    client, stubber = stubbed
    now = datetime.datetime(2026, 1, 1)
    stubber.add_response("list_user_pools", {"UserPools": [
        {"Id": "us-west-2_a", "Name": "oidc", "CreationDate": now}, {"Id": "us-west-2_b", "Name": "other"},
    ]}, {"MaxResults": 60})
    stubber.add_response("describe_user_pool", described("us-west-2_a"), {"UserPoolId": "us-west-2_a"})
    assert find_user_pool(client, name="oidc")["Id"] == "us-west-2_a"


def test_find_user_pool_by_id_of_a_missing_pool_is_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", http_status_code=400)
    assert find_user_pool(client, pool_id="us-west-2_gone") is None
