"""The user directory in one call: read once, plan, change only what differs (module_utils/_cognito/user_directory.py).

The API is a botocore Stubber: every call a test does not stub fails it, so a
test that stubs no write call proves the run makes none. Calls are made one
at a time here (the ``sequential`` fixture), so that they come in the
Stubber's order; test_cognito_quotas.py tests the concurrency itself.
"""

import json

import pytest
from botocore.stub import ANY

from fakes import FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito import quotas
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito import user_directory as directory

POOL = "us-west-2_abc"
PASSWORD = "Correct-Horse-42!"  # meets the pool policy below
SUB = "86f7130a-5605-4c05-b402-c970b27633ce"
POLICY = {"MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
          "RequireSymbols": True}


@pytest.fixture(autouse=True)
def sequential(monkeypatch):
    monkeypatch.setattr(quotas.QuotaLimiter, "limit", lambda self, operation: 1)
    monkeypatch.setattr(quotas.QuotaLimiter, "workers", lambda self, operations: 1)


def params(**overrides):
    base = dict(
        user_pool_id=POOL, groups=[group("secret-reader")], users=[user("test@example.com")],
        purge_users=False, purge_groups=False, purge_memberships=False, request_quotas=None, state="present",
    )
    base.update(overrides)
    return base


def group(name, **settings):
    return dict(dict(name=name, description=None, precedence=None, role_arn=None), **settings)


def user(username, **settings):
    base = dict(username=username, attributes={"email": username}, password=PASSWORD, temporary_password=None,
                update_password="on_create", groups=["secret-reader"], purge_groups=None, enabled=True,
                send_invitation=False)
    base.update(settings)
    return base


def stored_user(email, sub=SUB, status="CONFIRMED", enabled=True, **attributes):
    """A user as ListUsers reports it on AWS in a pool that signs in with email: stored under its sub."""
    values = dict({"sub": sub, "email": email}, **attributes)
    return {"Username": sub, "Attributes": [{"Name": k, "Value": v} for k, v in sorted(values.items())],
            "Enabled": enabled, "UserStatus": status}


def expect_pool(stubber, case_sensitive=False):
    stubber.add_response("describe_user_pool", {"UserPool": {
        "Id": POOL, "UsernameAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": case_sensitive},
        "Policies": {"PasswordPolicy": POLICY}}}, {"UserPoolId": POOL})


def expect_groups(stubber, names):
    stubber.add_response("list_groups", {"Groups": [{"GroupName": n, "UserPoolId": POOL} for n in names]},
                         {"UserPoolId": POOL, "Limit": 60})


def expect_users(stubber, users):
    stubber.add_response("list_users", {"Users": users}, {"UserPoolId": POOL, "Limit": 60})


def expect_members(stubber, group_name, usernames):
    stubber.add_response("list_users_in_group", {"Users": [{"Username": u} for u in usernames]},
                         {"UserPoolId": POOL, "GroupName": group_name, "Limit": 60})


def converge(stubbed, check_mode=False, **overrides):
    module = FakeModule(params(**overrides), check_mode)
    return directory.converge(module, stubbed[0])


def no_secret_in(result):
    assert PASSWORD not in json.dumps(result, default=str)


# --- the first run and the no-op rerun -------------------------------------------------------

def test_first_run_creates_group_then_user_with_password_and_membership(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, [])
    expect_users(stubber, [])
    stubber.add_response("create_group", {"Group": {"GroupName": "secret-reader"}},
                         {"UserPoolId": POOL, "GroupName": "secret-reader"})
    stubber.add_response("admin_create_user", {"User": {"Username": SUB}}, {
        "UserPoolId": POOL, "Username": "test@example.com", "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": "test@example.com"}]})
    stubber.add_response("admin_set_user_password", {}, {"UserPoolId": POOL, "Username": SUB, "Password": PASSWORD,
                                                         "Permanent": True})
    stubber.add_response("admin_add_user_to_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "secret-reader"})
    result = converge(stubbed)
    assert result["changed"] is True
    assert result["summary"] == {"users": {"created": 1, "updated": 0, "deleted": 0, "unchanged": 0},
                                 "groups": {"created": 1, "updated": 0, "deleted": 0, "unchanged": 0},
                                 "memberships": {"added": 1, "removed": 0}}
    assert result["users"]["test@example.com"]["action"] == "create"
    assert result["users"]["test@example.com"]["changes"]["password"] == {"before": None, "after": "(new password set)"}
    assert result["diff"]["after"]["users"]["test@example.com"]["groups"] == ["secret-reader"]
    no_secret_in(result)


def test_nothing_to_change_makes_no_write_call_and_reads_members_of_named_groups_only(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader", "unrelated"])
    expect_users(stubber, [stored_user("test@example.com")])
    expect_members(stubber, "secret-reader", [SUB])
    result = converge(stubbed)
    assert result["changed"] is False
    assert result["summary"]["users"]["unchanged"] == 1 and result["summary"]["groups"]["unchanged"] == 1
    assert result["users"] == {} and result["groups"] == {}


def test_every_list_is_read_to_its_last_page(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader"])
    other = stored_user("other@example.com", sub="11111111-0000-0000-0000-000000000000")
    stubber.add_response("list_users", {"Users": [other], "PaginationToken": "page-2"}, {"UserPoolId": POOL, "Limit": 60})
    stubber.add_response("list_users", {"Users": [stored_user("test@example.com")]},
                         {"UserPoolId": POOL, "Limit": 60, "PaginationToken": "page-2"})
    stubber.add_response("list_users_in_group", {"Users": [{"Username": other["Username"]}], "NextToken": "n2"},
                         {"UserPoolId": POOL, "GroupName": "secret-reader", "Limit": 60})
    stubber.add_response("list_users_in_group", {"Users": [{"Username": SUB}]},
                         {"UserPoolId": POOL, "GroupName": "secret-reader", "Limit": 60, "NextToken": "n2"})
    assert converge(stubbed)["changed"] is False  # found on page 2, a member on page 2


def test_a_throttled_read_is_retried(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    stubber.add_client_error("list_groups", "TooManyRequestsException", "Rate exceeded", 400)
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [stored_user("test@example.com")])
    expect_members(stubber, "secret-reader", [SUB])
    assert converge(stubbed)["changed"] is False


# --- what differs, and only that ---------------------------------------------------------------

def test_update_changes_only_what_differs_and_the_diff_says_what(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader", "admins", "old"])
    expect_users(stubber, [stored_user("test@example.com", name="Old Name")])
    for name, members in (("admins", []), ("old", [SUB]), ("secret-reader", [SUB])):
        expect_members(stubber, name, members)
    stubber.add_response("admin_update_user_attributes", {}, {
        "UserPoolId": POOL, "Username": SUB, "UserAttributes": [{"Name": "name", "Value": "New Name"}]})
    stubber.add_response("admin_disable_user", {}, {"UserPoolId": POOL, "Username": SUB})
    stubber.add_response("admin_add_user_to_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "admins"})
    stubber.add_response("admin_remove_user_from_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "old"})
    declared = user("test@example.com", attributes={"email": "test@example.com", "name": "New Name"},
                    groups=["secret-reader", "admins"], enabled=False)
    result = converge(stubbed, users=[declared], groups=[group("secret-reader"), group("admins")], purge_memberships=True)
    changes = result["users"]["test@example.com"]["changes"]
    assert changes == {
        "attributes.name": {"before": "Old Name", "after": "New Name"},
        "enabled": {"before": True, "after": False},
        "groups": {"before": ["old", "secret-reader"],
                   "after": ["admins", "secret-reader"]},
    }
    assert "password" not in changes  # CONFIRMED: the password was given when it was created
    assert result["diff"]["before"]["users"]["test@example.com"]["enabled"] is True
    assert result["summary"]["memberships"] == {"added": 1, "removed": 1}


def test_a_user_still_waiting_for_its_password_gets_it(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [stored_user("test@example.com", status="FORCE_CHANGE_PASSWORD")])
    expect_members(stubber, "secret-reader", [SUB])
    stubber.add_response("admin_set_user_password", {}, {"UserPoolId": POOL, "Username": SUB, "Password": PASSWORD,
                                                         "Permanent": True})
    result = converge(stubbed)
    assert result["users"]["test@example.com"]["changes"] == {
        "password": {"before": "(not readable)", "after": "(new password set)"}}
    no_secret_in(result)


def test_memberships_and_users_not_declared_stay_unless_purged(stubbed):
    client, stubber = stubbed
    stranger = stored_user("stranger@example.com", sub="22222222-0000-0000-0000-000000000000")
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader", "old"])
    expect_users(stubber, [stored_user("test@example.com"), stranger])
    expect_members(stubber, "secret-reader", [SUB])
    assert converge(stubbed)["changed"] is False  # no purge: the stranger and "old" stay

    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader", "old"])
    expect_users(stubber, [stored_user("test@example.com"), stranger])
    expect_members(stubber, "secret-reader", [SUB])
    stubber.add_response("admin_delete_user", {}, {"UserPoolId": POOL, "Username": stranger["Username"]})
    stubber.add_response("delete_group", {}, {"UserPoolId": POOL, "GroupName": "old"})
    result = converge(stubbed, purge_users=True, purge_groups=True)
    assert result["users"][stranger["Username"]]["action"] == "delete"
    assert result["groups"]["old"]["action"] == "delete"
    assert result["summary"]["users"]["deleted"] == 1 and result["summary"]["groups"]["deleted"] == 1


def test_check_mode_reports_the_plan_per_user_and_changes_nothing(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, [])
    expect_users(stubber, [])
    result = converge(stubbed, check_mode=True, users=[user("a@example.com"), user("b@example.com", enabled=False)])
    assert result["changed"] is True
    assert sorted(result["users"]) == ["a@example.com", "b@example.com"]
    assert result["users"]["b@example.com"]["changes"]["enabled"] == {"before": None, "after": False}
    assert result["groups"]["secret-reader"]["action"] == "create"
    no_secret_in(result)


# --- refused before the first change ----------------------------------------------------------

def test_groups_that_will_not_exist_are_refused_before_any_change(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["old"])
    expect_users(stubber, [])
    with pytest.raises(AnsibleAWSError, match=r"users name groups that do not exist in user pool 'us-west-2_abc' and are "
                                              r"not declared: admins \(test@example.com\); declare them in groups"):
        converge(stubbed, groups=[], users=[user("test@example.com", groups=["admins", "old"])])


def test_purge_groups_would_delete_a_group_users_name(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["old"])
    expect_users(stubber, [])
    with pytest.raises(AnsibleAWSError, match=r"are not declared \(purge_groups deletes the others\): old"):
        converge(stubbed, groups=[], users=[user("test@example.com", groups=["old"])], purge_groups=True)


def test_passwords_the_policy_rejects_are_named_by_user_never_shown(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [])
    with pytest.raises(AnsibleAWSError) as refused:
        converge(stubbed, users=[user("a@example.com", password="short"), user("b@example.com")])
    message = refused.value.message
    assert "a@example.com: password needs at least 12 characters, an uppercase letter, a number, a symbol" in message
    assert "b@example.com" not in message and "short" not in message and "nothing was changed" in message


def test_one_user_declared_twice_is_refused(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)  # case-insensitive, as the role's pools
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [])
    with pytest.raises(AnsibleAWSError, match=r"users: \(test@example.com, TEST@example.com\) name the same user"):
        converge(stubbed, users=[user("test@example.com"), user("TEST@example.com")])


def test_validation_comes_before_any_call(stubbed):
    with pytest.raises(AnsibleAWSError, match="users: x@example.com: attributes sub are assigned by Cognito"):
        converge(stubbed, users=[user("x@example.com", attributes={"sub": "1"})])
    with pytest.raises(AnsibleAWSError, match="groups: a declared more than once"):
        converge(stubbed, groups=[group("a"), group("a")])
    with pytest.raises(AnsibleAWSError, match="request_quotas: unknown categories Nope"):
        converge(stubbed, request_quotas={"Nope": 1})


# --- interrupted runs, failures, absent --------------------------------------------------------

def test_a_user_an_interrupted_run_created_is_finished_not_duplicated(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [])  # listed before the other run's create landed
    expect_members(stubber, "secret-reader", [])
    stubber.add_client_error("admin_create_user", "UsernameExistsException", "User account already exists.", 400)
    stubber.add_response("admin_get_user", {"Username": SUB, "UserStatus": "FORCE_CHANGE_PASSWORD", "Enabled": True,
                                            "UserAttributes": []},
                         {"UserPoolId": POOL, "Username": "test@example.com"})
    stubber.add_response("admin_set_user_password", {}, {"UserPoolId": POOL, "Username": SUB, "Password": PASSWORD,
                                                         "Permanent": True})
    stubber.add_response("admin_add_user_to_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "secret-reader"})
    assert converge(stubbed)["changed"] is True


def test_a_user_cognito_refuses_does_not_stop_the_others_and_the_failure_names_it(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader"])
    expect_users(stubber, [])
    expect_members(stubber, "secret-reader", [])
    stubber.add_client_error("admin_create_user", "InvalidParameterException", "Invalid email address format.", 400)
    stubber.add_response("admin_create_user", {"User": {"Username": SUB}},
                         {"UserPoolId": POOL, "Username": "test@example.com", "MessageAction": "SUPPRESS", "UserAttributes": ANY})
    stubber.add_response("admin_set_user_password", {}, {"UserPoolId": POOL, "Username": SUB, "Password": ANY, "Permanent": True})
    stubber.add_response("admin_add_user_to_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "secret-reader"})
    with pytest.raises(AnsibleAWSError) as failed:
        converge(stubbed, users=[user("bad@example"), user("test@example.com")])
    assert ("1 change(s) of user pool 'us-west-2_abc' failed: user bad@example: AdminCreateUser: "
            "InvalidParameterException: Invalid email address format.") in failed.value.message
    assert "run the task again, it does only what is still missing" in failed.value.message
    assert failed.value.kwargs["failures"] == [{"kind": "user", "name": "bad@example",
                                                "error": "AdminCreateUser: InvalidParameterException: Invalid email address format."}]
    no_secret_in(failed.value.kwargs)


def test_absent_deletes_the_declared_users_and_groups_that_exist_and_a_missing_pool_is_done(stubbed):
    client, stubber = stubbed
    expect_pool(stubber)
    expect_groups(stubber, ["secret-reader", "other"])
    expect_users(stubber, [stored_user("test@example.com"), stored_user("kept@example.com", sub="3")])
    stubber.add_response("admin_delete_user", {}, {"UserPoolId": POOL, "Username": SUB})
    stubber.add_response("delete_group", {}, {"UserPoolId": POOL, "GroupName": "secret-reader"})
    result = converge(stubbed, state="absent", users=[user("test@example.com"), user("gone@example.com")])
    assert result["summary"]["users"]["deleted"] == 1 and result["summary"]["groups"]["deleted"] == 1
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", "no pool", 400)
    assert converge(stubbed, state="absent")["changed"] is False


def test_present_in_a_missing_pool_says_to_create_it(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", "no pool", 400)
    with pytest.raises(AnsibleAWSError, match="user pool 'us-west-2_abc' does not exist; create it first"):
        converge(stubbed)
