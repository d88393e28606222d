"""Unit tests of the group planning logic (no network; the API is stubbed)."""

import pytest

from fakes import FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import comparable_group
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import desired_group
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import get_group
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import group_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import update_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import validate_group_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

POOL = "us-west-2_abc"
ROLE = "arn:aws:iam::111122223333:role/readers"

# The same unset group as each endpoint reports it.
AWS_GROUP = {"GroupName": "secret-reader", "UserPoolId": POOL}
MINISTACK_GROUP = {"GroupName": "secret-reader", "UserPoolId": POOL, "Description": "", "RoleArn": "", "Precedence": 0}


def params(**overrides):
    base = dict(user_pool_id=POOL, name="secret-reader", description=None, precedence=None, role_arn=None,
                state="present")
    base.update(overrides)
    return base


def module(check_mode=False, **overrides):
    return FakeModule(params(**overrides), check_mode)


# --- validation and planning --------------------------------------------------------

def test_the_posts_group_is_valid():
    validate_group_params(params())
    validate_group_params(params(precedence=0, role_arn=ROLE, description="d" * 2048))


@pytest.mark.parametrize("overrides, message", [
    (dict(precedence=-1), "precedence must be 0 or more (0 is the highest precedence), got -1"),
    (dict(description="d" * 2049), "description must be at most 2048 characters, got 2049"),
    (dict(role_arn="readers"), "role_arn must be an IAM role ARN such as arn:aws:iam::111122223333:role/NAME, got 'readers'"),
    (dict(role_arn="arn:aws:iam::111122223333:user/alice"), "role_arn must be an IAM role ARN"),
    (dict(name=""), "name must not be empty"),
])
def test_bad_settings_are_refused_before_any_call(overrides, message):
    with pytest.raises(AnsibleAWSError) as error:
        validate_group_params(params(**overrides))
    assert str(error.value).startswith(message)


def test_role_arns_of_other_partitions_are_accepted():
    validate_group_params(params(role_arn="arn:aws-cn:iam::111122223333:role/path/readers"))


def test_desired_group_holds_only_what_was_said():
    assert desired_group(params()) == {}
    assert desired_group(params(description="d", precedence=0, role_arn=ROLE)) == {
        "Description": "d", "Precedence": 0, "RoleArn": ROLE,
    }


@pytest.mark.parametrize("reported", [AWS_GROUP, MINISTACK_GROUP])
def test_an_unset_group_compares_the_same_on_aws_and_ministack(reported):
    assert comparable_group(reported)["Description"] is None
    assert comparable_group(reported)["RoleArn"] is None
    assert plan_changes(comparable_group(reported), desired_group(params())) == {}
    assert plan_changes(comparable_group(reported), desired_group(params(description="d"))) == {
        "Description": {"before": None, "after": "d"}
    }


def test_precedence_zero_as_ministack_reports_it_is_kept_not_blanked():
    assert plan_changes(comparable_group(MINISTACK_GROUP), desired_group(params(precedence=0))) == {}
    assert plan_changes(comparable_group(AWS_GROUP), desired_group(params(precedence=0))) == {
        "Precedence": {"before": None, "after": 0}
    }


def test_update_request_sends_every_setting_and_keeps_the_unmentioned():
    current = dict(AWS_GROUP, Description="May read secrets", Precedence=3)
    assert update_request(current, desired_group(params(role_arn=ROLE))) == {
        "UserPoolId": POOL, "GroupName": "secret-reader", "Description": "May read secrets", "Precedence": 3,
        "RoleArn": ROLE,
    }


def test_update_request_leaves_out_ministacks_blanks():
    assert update_request(MINISTACK_GROUP, {"Precedence": 2}) == {
        "UserPoolId": POOL, "GroupName": "secret-reader", "Precedence": 2,
    }


def test_group_result_is_snake_case_with_unset_as_null():
    assert group_result(MINISTACK_GROUP) == {
        "group_name": "secret-reader", "user_pool_id": POOL, "description": None, "role_arn": None, "precedence": 0,
    }
    assert group_result(AWS_GROUP)["precedence"] is None


# --- API flows (stubbed, no network) --------------------------------------------------------

def test_get_group_of_a_missing_group_is_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_group", "ResourceNotFoundException", http_status_code=400)
    assert get_group(client, POOL, "secret-reader") is None


def test_unknown_pool_fails_clearly_and_creates_nothing(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", http_status_code=400)
    with pytest.raises(AnsibleAWSError, match="user pool 'us-west-2_abc' does not exist; create it first"):
        converge(module(), client)


def test_check_mode_create_makes_no_call_after_reading(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL}}, {"UserPoolId": POOL})
    stubber.add_client_error("get_group", "ResourceNotFoundException", http_status_code=400)
    result = converge(module(check_mode=True, description="d"), client)
    assert result["changed"] is True
    assert result["group"]["description"] == "d"
    assert result["diff"]["before"] == {}


def test_unchanged_group_reports_no_change_and_an_empty_diff(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL}}, {"UserPoolId": POOL})
    stubber.add_response("get_group", {"Group": dict(AWS_GROUP, Description="d", Precedence=0)},
                         {"UserPoolId": POOL, "GroupName": "secret-reader"})
    result = converge(module(description="d"), client)
    assert result["changed"] is False
    assert result["diff"] == {"before": {}, "after": {}}


def test_absent_in_a_missing_pool_is_unchanged(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", http_status_code=400)
    result = converge(module(state="absent"), client)
    assert result == {"changed": False, "group": {}}
