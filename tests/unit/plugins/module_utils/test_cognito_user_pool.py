"""Unit tests of the user pool planning logic (no network)."""

import pytest

from fakes import FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import comparable_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import create_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import desired_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import refuse_immutable_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import update_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import user_pool_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import validate_user_pool_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes


def params(**overrides):
    base = dict(
        name="oidc-userpool", pool_id=None, state="present", password_policy=None, username_attributes=None,
        username_case_sensitive=None, auto_verified_attributes=None, self_sign_up=None, account_recovery=None,
        mfa_configuration=None, deletion_protection=None, tags=None, purge_tags=True,
    )
    base.update(overrides)
    return base


POST_POLICY = dict(minimum_length=8, require_lowercase=False, require_uppercase=False, require_numbers=False,
                   require_symbols=False, temporary_password_validity_days=None)

DESCRIBED = {
    "Id": "us-west-2_abc", "Name": "oidc-userpool", "Arn": "arn:aws:cognito-idp:us-west-2:1:userpool/us-west-2_abc",
    "Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireLowercase": False, "RequireUppercase": False,
                                    "RequireNumbers": False, "RequireSymbols": False}},
    "UsernameAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": False},
    "AutoVerifiedAttributes": [], "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]},
    "MfaConfiguration": "OFF", "SmsVerificationMessage": "", "SmsConfiguration": {}, "UserPoolTags": {"team": "a"},
}


def test_post_settings_map_to_the_api_shape():
    desired = desired_user_pool(params(
        password_policy=POST_POLICY, username_attributes=["email"], username_case_sensitive=False,
        auto_verified_attributes=[], self_sign_up=True, account_recovery=["admin_only"],
    ))
    assert desired["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8, "RequireLowercase": False, "RequireUppercase": False, "RequireNumbers": False,
        "RequireSymbols": False,
    }
    assert desired["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": False}
    assert desired["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}
    assert desired["AutoVerifiedAttributes"] == []
    assert "MfaConfiguration" not in desired  # not mentioned, so not managed


def test_described_post_pool_has_no_changes():
    desired = desired_user_pool(params(
        password_policy=POST_POLICY, username_attributes=["email"], username_case_sensitive=False,
        auto_verified_attributes=[], self_sign_up=True, account_recovery=["admin_only"],
    ))
    assert plan_changes(comparable_user_pool(DESCRIBED), desired) == {}


def test_recovery_priority_follows_list_order():
    desired = desired_user_pool(params(account_recovery=["verified_phone_number", "verified_email"]))
    assert desired["AccountRecoverySetting"]["RecoveryMechanisms"] == [
        {"Priority": 1, "Name": "verified_phone_number"}, {"Priority": 2, "Name": "verified_email"},
    ]


def test_case_sensitivity_defaults_to_aws_default_when_not_reported():
    pool = dict(DESCRIBED)
    del pool["UsernameConfiguration"]
    changes = plan_changes(comparable_user_pool(pool), desired_user_pool(params(username_case_sensitive=True)))
    assert changes == {}


def test_immutable_change_is_refused_with_before_and_after():
    changes = plan_changes(comparable_user_pool(DESCRIBED), desired_user_pool(params(username_attributes=["phone_number"])))
    with pytest.raises(AnsibleAWSError, match=r"fixed when the pool is created.*UsernameAttributes: \['email'\] -> \['phone_number'\]"):
        refuse_immutable_changes(changes)


def test_mutable_change_is_not_refused():
    changes = plan_changes(comparable_user_pool(DESCRIBED), desired_user_pool(params(mfa_configuration="OPTIONAL")))
    assert changes == {"MfaConfiguration": {"before": "OFF", "after": "OPTIONAL"}}
    refuse_immutable_changes(changes)


def test_update_request_keeps_unmentioned_settings_and_drops_blank_ones():
    request = update_request(comparable_user_pool(DESCRIBED), desired_user_pool(params(deletion_protection=True)))
    assert request["DeletionProtection"] == "ACTIVE"
    assert request["Policies"] == DESCRIBED["Policies"]
    assert request["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": False}
    assert request["UserPoolId"] == "us-west-2_abc"
    assert request["PoolName"] == "oidc-userpool"
    # MiniStack's '' and {} for unset settings are not valid input on AWS
    assert "SmsVerificationMessage" not in request and "SmsConfiguration" not in request
    # tags go through TagResource, immutable settings cannot be sent at all
    assert "UserPoolTags" not in request and "UsernameAttributes" not in request


def test_create_request_names_the_pool_and_leaves_mfa_for_later():
    request = create_request(desired_user_pool(params(mfa_configuration="ON")), {"team": "a"})
    assert request["PoolName"] == "oidc-userpool"
    assert "Name" not in request and "MfaConfiguration" not in request
    assert request["UserPoolTags"] == {"team": "a"}


def test_result_carries_issuer_url_and_tags():
    result = user_pool_result(DESCRIBED)
    assert result["issuer_url"] == "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_abc"
    assert result["tags"] == {"team": "a"}
    assert result["username_configuration"] == {"case_sensitive": False}


@pytest.mark.parametrize("overrides, message", [
    (dict(password_policy=dict(POST_POLICY, minimum_length=5)), "minimum_length must be between 6 and 99, got 5"),
    (dict(password_policy=dict(POST_POLICY, minimum_length=100)), "minimum_length must be between 6 and 99, got 100"),
    (dict(password_policy=dict(POST_POLICY, temporary_password_validity_days=400)), "between 0 and 365, got 400"),
    (dict(account_recovery=["admin_only", "verified_email"]), "'admin_only' cannot be combined"),
    (dict(account_recovery=["verified_email", "verified_email"]), "lists a mechanism twice"),
    (dict(name=None, pool_id="us-west-2_abc"), "name is required with state: present"),
    (dict(name=None, state="absent"), "one of name or pool_id is required"),
])
def test_bad_input_is_refused(overrides, message):
    with pytest.raises(AnsibleAWSError, match=message):
        validate_user_pool_params(params(**overrides))


def test_valid_input_passes():
    validate_user_pool_params(params(password_policy=POST_POLICY, account_recovery=["verified_email", "verified_phone_number"]))
    validate_user_pool_params(params(name=None, pool_id="us-west-2_abc", state="absent"))


def test_deleting_a_protected_pool_turns_protection_off_retrying_throttling(stubbed):
    client, stubber = stubbed
    pool = {"Id": "us-west-2_abc", "Name": "oidc-userpool", "MfaConfiguration": "OFF", "DeletionProtection": "ACTIVE"}
    stubber.add_response("describe_user_pool", {"UserPool": pool}, {"UserPoolId": "us-west-2_abc"})
    request = update_request(pool, {"DeletionProtection": "INACTIVE"})
    stubber.add_client_error("update_user_pool", "TooManyRequestsException", "Too many requests", 400, expected_params=request)
    stubber.add_response("update_user_pool", {}, request)
    stubber.add_response("delete_user_pool", {}, {"UserPoolId": "us-west-2_abc"})
    result = converge(FakeModule(params(pool_id="us-west-2_abc", state="absent", deletion_protection=False)), client)
    assert result["changed"] is True and result["user_pool"] == {}
    assert result["diff"]["before"]["deletion_protection"] == "ACTIVE"
