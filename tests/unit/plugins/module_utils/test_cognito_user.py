"""Unit tests of the user planning logic (no network; the API is stubbed)."""

import json

import pytest

from fakes import FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import PASSWORD_DIFF
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import attribute_list
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import attributes_dict
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import changed_attributes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import create_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import desired_attributes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import desired_user_state
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import password_problems
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import password_to_set
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import passwords_to_check
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import planned_groups
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import planned_user
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import user_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import user_state
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import validate_user_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

POOL = "us-west-2_abc"
UUID = "86f7130a-5605-4c05-b402-c970b27633ce"
PASSWORD = "Blah123$"  # the post's permanent password
POST_POLICY = {"MinimumLength": 8, "RequireLowercase": False, "RequireUppercase": False,
               "RequireNumbers": False, "RequireSymbols": False}


def params(**overrides):
    """The post's user: test@example.com, its email, a permanent password, group secret-reader."""
    base = dict(
        user_pool_id=POOL, username="test@example.com", attributes={"email": "test@example.com"},
        password=PASSWORD, temporary_password=None, update_password="on_create", groups=["secret-reader"],
        purge_groups=False, enabled=True, send_invitation=False, state="present",
    )
    base.update(overrides)
    return base


def described_user(status="CONFIRMED", enabled=True, **attributes):
    """The post's user as AdminGetUser reports it on AWS: stored under a UUID, the email an attribute."""
    values = dict({"sub": UUID, "email": "test@example.com"}, **attributes)
    return {"Username": UUID, "UserAttributes": attribute_list(values), "Enabled": enabled, "UserStatus": status}


def module(check_mode=False, **overrides):
    return FakeModule(params(**overrides), check_mode)


def user_key(username=UUID):
    return {"UserPoolId": POOL, "Username": username}


def expect_user(stubber, user, asked="test@example.com"):
    if user is None:
        stubber.add_client_error("admin_get_user", "UserNotFoundException", http_status_code=400,
                                 expected_params=user_key(asked))
    else:
        stubber.add_response("admin_get_user", user, user_key(asked))


def expect_groups_of_user(stubber, names, username=UUID):
    stubber.add_response("admin_list_groups_for_user", {"Groups": [{"GroupName": n} for n in names]},
                         user_key(username))


def expect_pool_groups(stubber, names):
    stubber.add_response("list_groups", {"Groups": [{"GroupName": n} for n in names]}, {"UserPoolId": POOL})


def expect_pool(stubber, policy=None):
    stubber.add_response("describe_user_pool",
                         {"UserPool": {"Id": POOL, "Policies": {"PasswordPolicy": policy or POST_POLICY}}},
                         {"UserPoolId": POOL})


# --- attributes -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, stored", [(True, "true"), (False, "false"), ("x", "x"), (3, "3")])
def test_attribute_values_are_stored_as_strings(value, stored):
    assert desired_attributes({"a": value}) == {"a": stored}


def test_no_attributes_means_not_managed():
    assert desired_attributes(None) is None
    assert desired_attributes({}) == {}


def test_attributes_read_from_either_response_shape():
    assert attributes_dict({"UserAttributes": [{"Name": "email", "Value": "a@b"}]}) == {"email": "a@b"}
    assert attributes_dict({"Attributes": [{"Name": "email", "Value": "a@b"}]}) == {"email": "a@b"}
    assert attributes_dict({}) == {}


def test_attribute_list_is_sorted_by_name():
    assert attribute_list({"name": "T", "email": "e"}) == [{"Name": "email", "Value": "e"}, {"Name": "name", "Value": "T"}]


def test_changed_attributes_sends_only_what_differs():
    changes = {"attributes.name": {}, "enabled": {}, "groups": {}}
    assert changed_attributes(changes, {"name": "T", "email": "e"}) == {"name": "T"}


# --- validation ------------------------------------------------------------------------------

def test_the_posts_user_is_valid():
    validate_user_params(params())


@pytest.mark.parametrize("overrides, message", [
    (dict(attributes={"sub": "x"}), "attributes sub are assigned by Cognito and cannot be set; remove them"),
    (dict(attributes={"name": None, "email": "e"}), "attributes name have no value"),
    (dict(username=""), "username must not be empty"),
])
def test_bad_input_is_refused_before_any_call(overrides, message):
    with pytest.raises(AnsibleAWSError) as error:
        validate_user_params(params(**overrides))
    assert str(error.value).startswith(message)


# --- groups and comparison ----------------------------------------------------------------------

@pytest.mark.parametrize("current, groups, purge, expected", [
    (["a"], None, False, ["a"]),
    (["a"], None, True, ["a"]),
    (["b", "a"], ["c"], False, ["a", "b", "c"]),
    (["b", "a"], ["c"], True, ["c"]),
    (["a"], [], True, []),
    ([], ["x", "x"], False, ["x"]),
])
def test_planned_groups(current, groups, purge, expected):
    assert planned_groups(current, groups, purge) == expected


def test_the_posts_user_as_aws_reports_it_has_no_changes():
    state = user_state(described_user(), ["secret-reader"])
    assert plan_changes(state, desired_user_state(params(), ["secret-reader"])) == {}


def test_the_posts_user_as_ministack_may_report_it_has_no_changes():
    user = dict(described_user(), Username="test@example.com")
    assert plan_changes(user_state(user, ["secret-reader"]), desired_user_state(params(), ["secret-reader"])) == {}


def test_only_named_attributes_count():
    state = user_state(described_user(name="Test User"), [])
    desired = desired_user_state(params(attributes={"email_verified": True}, groups=None), [])
    assert plan_changes(state, desired) == {"attributes.email_verified": {"before": None, "after": "true"}}


def test_enabled_and_groups_changes():
    state = user_state(described_user(enabled=False), ["viewers"])
    desired = desired_user_state(params(attributes=None, purge_groups=True), ["viewers"])
    assert plan_changes(state, desired) == {
        "enabled": {"before": False, "after": True},
        "groups": {"before": ["viewers"], "after": ["secret-reader"]},
    }


# --- passwords -----------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, status, expected", [
    (dict(), "CONFIRMED", (None, None, None)),
    (dict(), "FORCE_CHANGE_PASSWORD", (PASSWORD, True, "password")),
    (dict(update_password="always"), "CONFIRMED", (PASSWORD, True, "password")),
    (dict(password=None, temporary_password="Temp123$"), "FORCE_CHANGE_PASSWORD", (None, None, None)),
    (dict(password=None, temporary_password="Temp123$", update_password="always"), "CONFIRMED",
     ("Temp123$", False, "temporary_password")),
    (dict(temporary_password="Temp123$", update_password="always"), "CONFIRMED", (PASSWORD, True, "password")),
    (dict(password=None, update_password="always"), "CONFIRMED", (None, None, None)),
])
def test_password_to_set_on_an_existing_user(overrides, status, expected):
    assert password_to_set(params(**overrides), described_user(status)) == expected


def test_a_new_user_checks_every_password_given():
    assert passwords_to_check(params(temporary_password="Temp123$"), None) == {
        "temporary_password": "Temp123$", "password": PASSWORD,
    }
    assert passwords_to_check(params(password=None), None) == {}


def test_an_existing_user_checks_only_the_password_it_will_get():
    assert passwords_to_check(params(temporary_password="x"), described_user()) == {}
    assert passwords_to_check(params(update_password="always"), described_user()) == {"password": PASSWORD}


def test_password_problems_name_the_option_and_what_it_lacks_never_the_password():
    secret = "hunter2"
    message = password_problems({"password": secret, "temporary_password": "ok-long-enough"}, POST_POLICY, POOL)
    assert message == (
        "the password policy of user pool 'us-west-2_abc' is not met: password needs at least 8 characters; "
        "nothing was changed"
    )
    assert secret not in message


def test_password_problems_use_cognitos_defaults_without_a_policy():
    message = password_problems({"password": "password"}, None, POOL)
    assert "password needs an uppercase letter, a number, a symbol" in message


def test_conforming_passwords_have_no_problem():
    assert password_problems({"password": PASSWORD}, POST_POLICY, POOL) is None


# --- requests and results ----------------------------------------------------------------------------

def test_create_request_of_the_posts_user_sends_no_invitation_and_no_password():
    assert create_request(params()) == {
        "UserPoolId": POOL, "Username": "test@example.com",
        "UserAttributes": [{"Name": "email", "Value": "test@example.com"}], "MessageAction": "SUPPRESS",
    }


def test_create_request_with_a_temporary_password_and_an_invitation():
    request = create_request(params(temporary_password="Temp123$", send_invitation=True,
                                    attributes={"email": "e@x", "phone_number": "+15555550100"}))
    assert request["TemporaryPassword"] == "Temp123$"
    assert request["DesiredDeliveryMediums"] == ["EMAIL", "SMS"]
    assert "MessageAction" not in request


def test_an_invitation_without_an_address_leaves_the_medium_to_cognito():
    request = create_request(params(send_invitation=True, attributes=None))
    assert "DesiredDeliveryMediums" not in request and "MessageAction" not in request
    assert "UserAttributes" not in request


def test_user_result_is_the_documented_shape_without_passwords():
    result = user_result(described_user(), ["viewers", "secret-reader"])
    assert result == {
        "username": UUID, "sub": UUID, "attributes": {"email": "test@example.com", "sub": UUID}, "enabled": True,
        "user_status": "CONFIRMED", "groups": ["secret-reader", "viewers"], "user_create_date": None,
        "user_last_modified_date": None,
    }


def test_planned_user_of_check_mode():
    result = user_result(planned_user(params()), ["secret-reader"])
    assert result["user_status"] == "CONFIRMED"
    assert result["attributes"] == {"email": "test@example.com"}
    assert result["sub"] is None
    assert user_result(planned_user(params(password=None)), [])["user_status"] == "FORCE_CHANGE_PASSWORD"
    assert PASSWORD not in json.dumps(result)


# --- flows (stubbed API, no network) -------------------------------------------------------------------

def test_creating_the_posts_user(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    expect_pool_groups(stubber, ["secret-reader", "viewers"])
    expect_pool(stubber)
    stubber.add_response("admin_create_user", {"User": dict(Username=UUID, UserStatus="FORCE_CHANGE_PASSWORD")},
                         create_request(params()))
    stubber.add_response("admin_set_user_password", {},
                         dict(user_key(), Password=PASSWORD, Permanent=True))
    stubber.add_response("admin_add_user_to_group", {}, dict(user_key(), GroupName="secret-reader"))
    expect_user(stubber, described_user(), asked=UUID)
    expect_groups_of_user(stubber, ["secret-reader"])
    result = converge(module(), client)
    assert result["changed"] is True
    assert result["user"]["user_status"] == "CONFIRMED"
    assert result["user"]["groups"] == ["secret-reader"]
    assert result["diff"]["before"] == {}
    assert PASSWORD not in json.dumps(result, default=str)


def test_a_failure_after_create_deletes_the_user_again(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    expect_pool_groups(stubber, ["secret-reader"])
    expect_pool(stubber)
    stubber.add_response("admin_create_user", {"User": dict(Username=UUID)}, create_request(params()))
    stubber.add_response("admin_set_user_password", {}, dict(user_key(), Password=PASSWORD, Permanent=True))
    stubber.add_client_error("admin_add_user_to_group", "ResourceNotFoundException", "Group not found.")
    stubber.add_response("admin_delete_user", {}, user_key())
    with pytest.raises(AnsibleAWSError) as failed:
        converge(module(), client)
    assert failed.value.message == (
        "could not finish creating user 'test@example.com'; the user was deleted again, nothing is left half-created"
    )


def test_a_failed_rollback_says_to_delete_the_user_by_hand(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    expect_pool(stubber)
    stubber.add_response("admin_create_user", {"User": dict(Username=UUID)}, create_request(params(groups=None)))
    stubber.add_client_error("admin_set_user_password", "InvalidPasswordException", "Password did not conform")
    stubber.add_client_error("admin_delete_user", "InternalErrorException", "try again", http_status_code=400)
    with pytest.raises(AnsibleAWSError) as failed:
        converge(module(groups=None), client)
    assert failed.value.message.startswith("could not finish creating user 'test@example.com'; deleting the user again failed")
    assert failed.value.message.endswith("delete user '%s' by hand" % UUID)
    assert PASSWORD not in failed.value.message


def test_an_unknown_group_fails_before_the_user_is_created(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    expect_pool_groups(stubber, ["viewers"])
    with pytest.raises(AnsibleAWSError) as error:
        converge(module(groups=["secret-reader", "viewers", "admins"]), client)
    assert str(error.value) == (
        "groups 'admins', 'secret-reader' do not exist in user pool 'us-west-2_abc'; "
        "create them first (kubeauth.eks_oidc.cognito_group)"
    )


def test_a_weak_password_fails_before_the_user_is_created(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    expect_pool_groups(stubber, ["secret-reader"])
    expect_pool(stubber)
    with pytest.raises(AnsibleAWSError) as error:
        converge(module(password="Zq9!"), client)
    assert "password needs at least 8 characters" in str(error.value)
    assert "Zq9!" not in str(error.value)


def test_an_unknown_pool_fails_clearly(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("admin_get_user", "ResourceNotFoundException", http_status_code=400)
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", http_status_code=400)
    with pytest.raises(AnsibleAWSError, match="user pool 'us-west-2_abc' does not exist; create it first"):
        converge(module(), client)


def test_deleting_in_an_unknown_pool_has_nothing_to_do(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("admin_get_user", "ResourceNotFoundException", http_status_code=400)
    result = converge(module(state="absent"), client)
    assert result == {"changed": False, "user": {}}


def test_an_unchanged_user_costs_two_reads(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user())
    expect_groups_of_user(stubber, ["secret-reader"])
    result = converge(module(), client)
    assert result["changed"] is False
    assert result["diff"] == {"before": {}, "after": {}}


def test_update_password_always_sets_it_and_shows_only_that_it_did(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user())
    expect_groups_of_user(stubber, ["secret-reader"])
    expect_pool(stubber)
    stubber.add_response("admin_set_user_password", {}, dict(user_key(), Password=PASSWORD, Permanent=True))
    expect_user(stubber, described_user(), asked=UUID)
    expect_groups_of_user(stubber, ["secret-reader"])
    result = converge(module(update_password="always"), client)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"password": PASSWORD_DIFF["before"]}, "after": {"password": PASSWORD_DIFF["after"]}}
    assert PASSWORD not in json.dumps(result, default=str)


def test_a_user_waiting_for_its_first_password_gets_the_permanent_one(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user("FORCE_CHANGE_PASSWORD"))
    expect_groups_of_user(stubber, ["secret-reader"])
    expect_pool(stubber)
    stubber.add_response("admin_set_user_password", {}, dict(user_key(), Password=PASSWORD, Permanent=True))
    expect_user(stubber, described_user(), asked=UUID)
    expect_groups_of_user(stubber, ["secret-reader"])
    result = converge(module(), client)
    assert result["changed"] is True
    assert result["user"]["user_status"] == "CONFIRMED"


def test_check_mode_update_reports_changes_and_calls_nothing_that_changes(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user())
    expect_groups_of_user(stubber, ["secret-reader"])
    expect_pool_groups(stubber, ["secret-reader", "viewers"])
    result = converge(module(check_mode=True, attributes={"name": "T"}, groups=["viewers"], enabled=False), client)
    assert result["changed"] is True
    assert result["diff"]["after"] == {"attributes.name": "T", "enabled": False, "groups": ["secret-reader", "viewers"]}
    assert result["user"]["groups"] == ["secret-reader"]


def test_an_update_changes_attributes_enabled_and_groups(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user(enabled=False))
    expect_groups_of_user(stubber, ["viewers"])
    expect_pool_groups(stubber, ["secret-reader", "viewers"])
    stubber.add_response("admin_update_user_attributes", {},
                         dict(user_key(), UserAttributes=[{"Name": "name", "Value": "T"}]))
    stubber.add_response("admin_enable_user", {}, user_key())
    stubber.add_response("admin_add_user_to_group", {}, dict(user_key(), GroupName="secret-reader"))
    stubber.add_response("admin_remove_user_from_group", {}, dict(user_key(), GroupName="viewers"))
    expect_user(stubber, described_user(name="T"), asked=UUID)
    expect_groups_of_user(stubber, ["secret-reader"])
    result = converge(module(attributes={"name": "T", "email": "test@example.com"}, purge_groups=True), client)
    assert result["changed"] is True
    assert result["user"]["attributes"]["name"] == "T"


def test_delete_reports_the_user_it_deleted(stubbed):
    client, stubber = stubbed
    expect_user(stubber, described_user())
    expect_groups_of_user(stubber, ["secret-reader"])
    stubber.add_response("admin_delete_user", {}, user_key())
    result = converge(module(state="absent"), client)
    assert result["changed"] is True and result["user"] == {}
    assert result["diff"]["before"]["groups"] == ["secret-reader"]
    assert result["diff"]["after"] == {}


def test_deleting_a_missing_user_is_unchanged(stubbed):
    client, stubber = stubbed
    expect_user(stubber, None)
    result = converge(module(state="absent"), client)
    assert result == {"changed": False, "user": {}}
