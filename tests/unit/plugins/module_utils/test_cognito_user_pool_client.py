"""Unit tests of the app client planning logic (no network)."""

import boto3
import pytest
from botocore.stub import ANY
from botocore.validate import ParamValidator

from fakes import FakeModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito import user_pool_client as app_client
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import UPDATABLE_SETTINGS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import comparable_user_pool_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import create_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import describe_duration
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import desired_user_pool_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import drop_equivalent_validities
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import refuse_secret_change
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import update_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import user_pool_client_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import validate_client_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import validate_client_state
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import validity_seconds
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

POOL_ID = "us-west-2_re1u6bpRA"
CLIENT_ID = "702vqsrjicklgb7c5b7b50i1gc"
MODEL = boto3.client("cognito-idp", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b").meta.service_model

SECRET = "s3cr3t-s3cr3t-s3cr3t-s3cr3t"  # botocore wants at least 24 characters
POST_FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
POST_SCOPES = ["openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"]


def params(**overrides):
    base = dict(
        user_pool_id=POOL_ID, name="oidc-client", client_id=None, state="present", generate_secret=None,
        explicit_auth_flows=None, allowed_oauth_flows=None, allowed_oauth_scopes=None,
        allowed_oauth_flows_user_pool_client=None, callback_urls=None, logout_urls=None, default_redirect_uri=None,
        supported_identity_providers=None, read_attributes=None, write_attributes=None, access_token_validity=None,
        id_token_validity=None, refresh_token_validity=None, token_validity_units=None,
        prevent_user_existence_errors=None, enable_token_revocation=None,
    )
    base.update(overrides)
    return base


def post_params(**overrides):
    """The app client of the AWS post, as a task states it."""
    post = dict(generate_secret=False, explicit_auth_flows=POST_FLOWS, allowed_oauth_flows=["implicit"],
                allowed_oauth_scopes=POST_SCOPES, callback_urls=["https://example.com"])
    post.update(overrides)
    return params(**post)


# The post's client as AWS describes it: defaults filled in, lists in its own order.
DESCRIBED_BY_AWS = {
    "UserPoolId": POOL_ID, "ClientName": "oidc-client", "ClientId": CLIENT_ID,
    "RefreshTokenValidity": 30, "AccessTokenValidity": 60, "IdTokenValidity": 60,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    "SupportedIdentityProviders": ["COGNITO"], "CallbackURLs": ["https://example.com"],
    "AllowedOAuthFlows": ["implicit"], "AllowedOAuthScopes": ["phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"],
    "AllowedOAuthFlowsUserPoolClient": True, "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": True,
    "EnablePropagateAdditionalUserContextData": False, "AuthSessionValidity": 3,
}

# The same client as MiniStack describes it: unset settings blank, no access/ID validity.
DESCRIBED_BY_MINISTACK = {
    "UserPoolId": POOL_ID, "ClientName": "oidc-client", "ClientId": CLIENT_ID, "RefreshTokenValidity": 30,
    "TokenValidityUnits": {}, "ReadAttributes": [], "WriteAttributes": [], "ExplicitAuthFlows": POST_FLOWS,
    "SupportedIdentityProviders": ["COGNITO"], "CallbackURLs": ["https://example.com"], "LogoutURLs": [],
    "DefaultRedirectURI": "", "AllowedOAuthFlows": ["implicit"], "AllowedOAuthScopes": POST_SCOPES,
    "AllowedOAuthFlowsUserPoolClient": True, "PreventUserExistenceErrors": "LEGACY", "EnableTokenRevocation": True,
    "EnablePropagateAdditionalUserContextData": False, "AuthSessionValidity": 3,
}


def plan(current, task_params):
    comparable = comparable_user_pool_client(current)
    desired = drop_equivalent_validities(comparable, desired_user_pool_client(task_params, current))
    return plan_changes(comparable, desired), desired


def assert_valid_input(operation, request):
    """The request is what botocore accepts for ``operation`` (names, types, required members)."""
    report = ParamValidator().validate(request, MODEL.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


# --- desired state and compare -------------------------------------------------------

def test_post_client_maps_to_the_api_shape_with_its_defaults():
    desired = desired_user_pool_client(post_params())
    assert desired == {
        "ClientName": "oidc-client",
        "ExplicitAuthFlows": sorted(POST_FLOWS),
        "AllowedOAuthFlows": ["implicit"],
        "AllowedOAuthScopes": sorted(POST_SCOPES),
        "CallbackURLs": ["https://example.com"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "SupportedIdentityProviders": ["COGNITO"],
    }


@pytest.mark.parametrize("described", [DESCRIBED_BY_AWS, DESCRIBED_BY_MINISTACK], ids=["aws", "ministack"])
def test_described_post_client_has_no_changes(described):
    changes, desired = plan(described, post_params())
    assert changes == {}


def test_lists_are_compared_as_sets():
    changes, desired = plan(DESCRIBED_BY_AWS, post_params(explicit_auth_flows=list(reversed(POST_FLOWS)) + POST_FLOWS[:1]))
    assert changes == {}


def test_a_setting_not_mentioned_is_not_managed():
    desired = desired_user_pool_client(params(id_token_validity=15, token_validity_units={"id_token": "minutes"}))
    assert desired == {"ClientName": "oidc-client", "IdTokenValidity": 15, "TokenValidityUnits": {"IdToken": "minutes"}}


def test_empty_oauth_flows_turn_the_oauth_flag_off_and_add_no_identity_provider():
    desired = desired_user_pool_client(params(allowed_oauth_flows=[]))
    assert desired["AllowedOAuthFlowsUserPoolClient"] is False
    assert "SupportedIdentityProviders" not in desired


def test_the_oauth_flag_given_wins_over_its_default():
    desired = desired_user_pool_client(post_params(allowed_oauth_flows_user_pool_client=False))
    assert desired["AllowedOAuthFlowsUserPoolClient"] is False


def test_identity_providers_the_client_has_are_kept_when_not_mentioned():
    current = dict(DESCRIBED_BY_AWS, SupportedIdentityProviders=["COGNITO", "Google"])
    assert "SupportedIdentityProviders" not in desired_user_pool_client(post_params(), current)


def test_an_existing_oauth_client_without_identity_provider_gets_cognito():
    current = dict(DESCRIBED_BY_MINISTACK, SupportedIdentityProviders=[])
    desired = desired_user_pool_client(params(logout_urls=["https://example.com/out"]), current)
    assert desired["SupportedIdentityProviders"] == ["COGNITO"]


def test_validity_units_default_to_awss_units():
    desired = desired_user_pool_client(params(access_token_validity=1, refresh_token_validity=30))
    assert desired["TokenValidityUnits"] == {"AccessToken": "hours", "RefreshToken": "days"}


def test_prevent_user_existence_errors_maps_to_awss_words():
    assert desired_user_pool_client(params(prevent_user_existence_errors=True))["PreventUserExistenceErrors"] == "ENABLED"
    assert desired_user_pool_client(params(prevent_user_existence_errors=False))["PreventUserExistenceErrors"] == "LEGACY"


def test_ministacks_missing_validities_are_awss_defaults():
    comparable = comparable_user_pool_client(DESCRIBED_BY_MINISTACK)
    assert validity_seconds(comparable, "access_token") == 3600
    assert validity_seconds(comparable, "id_token") == 3600
    assert validity_seconds(comparable, "refresh_token") == 30 * 86400


@pytest.mark.parametrize("value, unit", [(60, "minutes"), (1, "hours"), (3600, "seconds")])
def test_equal_durations_in_other_units_are_no_change(value, unit):
    changes, desired = plan(DESCRIBED_BY_AWS, params(access_token_validity=value, token_validity_units={"access_token": unit}))
    assert changes == {}
    assert "TokenValidityUnits" not in desired


def test_a_different_duration_changes_value_and_unit():
    changes, desired = plan(DESCRIBED_BY_AWS, params(id_token_validity=2, token_validity_units={"id_token": "hours"}))
    assert changes == {
        "IdTokenValidity": {"before": 60, "after": 2},
        "TokenValidityUnits.IdToken": {"before": "minutes", "after": "hours"},
    }


def test_a_rename_by_client_id_is_a_change():
    changes, desired = plan(DESCRIBED_BY_AWS, params(name="renamed", client_id=CLIENT_ID))
    assert changes == {"ClientName": {"before": "oidc-client", "after": "renamed"}}


def test_no_name_with_client_id_keeps_the_name():
    changes, desired = plan(DESCRIBED_BY_AWS, params(name=None, client_id=CLIENT_ID, enable_token_revocation=True))
    assert changes == {}


def test_the_secret_is_never_compared_or_kept():
    comparable = comparable_user_pool_client(dict(DESCRIBED_BY_AWS, ClientSecret=SECRET))
    assert "ClientSecret" not in comparable


@pytest.mark.parametrize("seconds, words", [
    (300, "5 minutes"), (3600, "1 hour"), (86400, "1 day"), (3650 * 86400, "3650 days"), (90, "90 seconds"),
])
def test_durations_read_as_people_say_them(seconds, words):
    assert describe_duration(seconds) == words


# --- requests ----------------------------------------------------------------------

def test_update_request_sends_every_current_setting_with_the_change():
    current = dict(DESCRIBED_BY_AWS, ClientSecret=SECRET)
    desired = {"LogoutURLs": ["https://example.com/out"]}
    request = update_request(current, desired)
    assert request["LogoutURLs"] == ["https://example.com/out"]
    # What UpdateUserPoolClient would otherwise reset to its defaults:
    assert request["ExplicitAuthFlows"] == DESCRIBED_BY_AWS["ExplicitAuthFlows"]
    assert request["AllowedOAuthFlows"] == ["implicit"]
    assert request["CallbackURLs"] == ["https://example.com"]
    assert request["AccessTokenValidity"] == 60
    assert request["TokenValidityUnits"] == DESCRIBED_BY_AWS["TokenValidityUnits"]
    assert request["PreventUserExistenceErrors"] == "ENABLED"
    assert "ClientSecret" not in request
    assert (request["UserPoolId"], request["ClientId"]) == (POOL_ID, CLIENT_ID)
    assert_valid_input("UpdateUserPoolClient", request)


def test_update_request_merges_one_unit_into_the_others():
    request = update_request(DESCRIBED_BY_AWS, {"IdTokenValidity": 2, "TokenValidityUnits": {"IdToken": "hours"}})
    assert request["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"}
    assert request["IdTokenValidity"] == 2


def test_update_request_drops_ministacks_blanks_but_sends_an_empty_list_asked_for():
    request = update_request(DESCRIBED_BY_MINISTACK, {"CallbackURLs": [], "AllowedOAuthFlows": []})
    assert "DefaultRedirectURI" not in request
    assert "LogoutURLs" not in request
    assert "TokenValidityUnits" not in request
    assert request["CallbackURLs"] == []
    assert request["AllowedOAuthFlows"] == []
    assert_valid_input("UpdateUserPoolClient", request)


def test_updatable_settings_are_what_update_user_pool_client_takes():
    members = set(MODEL.operation_model("UpdateUserPoolClient").input_shape.members) - {"UserPoolId", "ClientId"}
    assert set(UPDATABLE_SETTINGS) == members


def test_create_request_for_the_post_client_is_valid_and_has_no_secret():
    request = create_request(POOL_ID, desired_user_pool_client(post_params()), None)
    assert request["GenerateSecret"] is False
    assert request["ClientName"] == "oidc-client"
    assert request["UserPoolId"] == POOL_ID
    assert_valid_input("CreateUserPoolClient", request)


def test_create_request_with_validities_is_valid():
    desired = desired_user_pool_client(params(access_token_validity=30, id_token_validity=30, refresh_token_validity=7,
                                              token_validity_units={"access_token": "minutes", "id_token": "minutes"}))
    request = create_request(POOL_ID, desired, True)
    assert request["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    assert request["GenerateSecret"] is True
    assert_valid_input("CreateUserPoolClient", request)


# --- result -------------------------------------------------------------------------

def test_result_never_carries_the_secret_and_says_whether_there_is_one():
    result = user_pool_client_result(dict(DESCRIBED_BY_AWS, ClientSecret=SECRET))
    assert "client_secret" not in result
    assert SECRET not in repr(result)
    assert result["generate_secret"] is True
    assert result["client_id"] == CLIENT_ID


def test_result_spells_oauth_keys_like_the_options():
    result = user_pool_client_result(DESCRIBED_BY_AWS)
    assert result["allowed_oauth_flows"] == ["implicit"]
    assert result["allowed_oauth_flows_user_pool_client"] is True
    assert len(result["allowed_oauth_scopes"]) == 5
    assert result["callback_urls"] == ["https://example.com"]
    assert result["generate_secret"] is False
    assert not any("o_auth" in key for key in result)


# --- validation ---------------------------------------------------------------------

def test_the_post_client_is_valid():
    validate_client_params(post_params())
    validate_client_state(comparable_user_pool_client(dict(desired_user_pool_client(post_params()), ClientId="x")), False)


@pytest.mark.parametrize("overrides, message", [
    (dict(name=None), "one of name or client_id is required"),
    (dict(access_token_validity=2, token_validity_units={"access_token": "days"}),
     "access_token_validity 2 days is outside what AWS allows for access tokens: 5 minutes to 1 day"),
    (dict(access_token_validity=4, token_validity_units={"access_token": "minutes"}), "5 minutes to 1 day"),
    (dict(id_token_validity=60), "id_token_validity 60 hours is outside what AWS allows for id tokens"),
    (dict(id_token_validity=60), "the unit defaults to hours; set token_validity_units.id_token"),
    (dict(refresh_token_validity=59, token_validity_units={"refresh_token": "minutes"}), "1 hour to 3650 days"),
    (dict(refresh_token_validity=3651), "refresh_token_validity 3651 days is outside"),
    (dict(token_validity_units={"access_token": "minutes"}), "token_validity_units.access_token needs access_token_validity"),
    (dict(allowed_oauth_flows=["code", "client_credentials"], allowed_oauth_scopes=["api/read"]),
     "client_credentials cannot be combined with code or implicit"),
    (dict(allowed_oauth_flows=["client_credentials"], allowed_oauth_scopes=["openid", "api/read"]),
     "grants only a resource server's custom scopes (IDENTIFIER/NAME), not openid"),
    (dict(allowed_oauth_scopes=["email", "profile"]), "allowed_oauth_scopes: email, profile need openid as well"),
    (dict(callback_urls=["http://example.com/cb"]), "AWS requires https except for http://localhost"),
    (dict(logout_urls=["https://example.com/#out"]), "logout_urls: 'https://example.com/#out' has a fragment"),
    (dict(callback_urls=["/callback"]), "is not an absolute URL"),
])
def test_bad_input_is_refused_before_any_call(overrides, message):
    with pytest.raises(AnsibleAWSError) as error:
        validate_client_params(params(**overrides))
    assert message in str(error.value)


@pytest.mark.parametrize("overrides", [
    dict(callback_urls=["http://localhost:8000/callback", "myapp://signed-in", "https://example.com/cb?x=1"]),
    dict(access_token_validity=5, token_validity_units={"access_token": "minutes"}),
    dict(access_token_validity=1, token_validity_units={"access_token": "days"}),
    dict(refresh_token_validity=3650),
    dict(refresh_token_validity=60, token_validity_units={"refresh_token": "minutes"}),
    dict(allowed_oauth_flows=["client_credentials"], allowed_oauth_scopes=["api/read", "api/write"]),
    dict(name=None, client_id=CLIENT_ID),
])
def test_valid_input_passes(overrides):
    validate_client_params(params(**overrides))


def state_after(current, task_params):
    """The client as it would be after the task: what validate_client_state checks."""
    comparable = comparable_user_pool_client(current)
    return merge_desired(comparable, desired_user_pool_client(task_params, current))


@pytest.mark.parametrize("current, overrides, secret, message", [
    ({}, dict(allowed_oauth_flows=["implicit"], allowed_oauth_scopes=["openid"]), False,
     "allowed_oauth_flows implicit need callback_urls"),
    (DESCRIBED_BY_AWS, dict(callback_urls=[]), False, "allowed_oauth_flows implicit need callback_urls"),
    ({}, dict(allowed_oauth_flows=["code"], callback_urls=["https://example.com"]), False,
     "need allowed_oauth_scopes"),
    ({}, dict(allowed_oauth_flows_user_pool_client=True), False, "would have no allowed_oauth_flows"),
    ({}, dict(allowed_oauth_flows=["client_credentials"], allowed_oauth_scopes=["api/read"]), False,
     "client_credentials needs a client secret (generate_secret: true)"),
    ({}, dict(id_token_validity=1, refresh_token_validity=2,
              token_validity_units={"id_token": "days", "refresh_token": "hours"}), False,
     "id token validity (1 day) cannot be longer than the refresh token validity (2 hours)"),
])
def test_a_client_aws_would_refuse_is_refused_before_any_change(current, overrides, secret, message):
    with pytest.raises(AnsibleAWSError) as error:
        validate_client_state(state_after(current, params(**overrides)), secret)
    assert message in str(error.value)


def test_client_credentials_next_to_a_browser_flow_is_refused():
    state = comparable_user_pool_client({"AllowedOAuthFlows": ["client_credentials", "code"], "AllowedOAuthScopes": ["api/read"],
                                         "CallbackURLs": ["https://example.com"]})
    with pytest.raises(AnsibleAWSError, match="client_credentials cannot be combined with code"):
        validate_client_state(state, True)


def test_default_redirect_uri_must_be_a_callback_url():
    state = state_after(DESCRIBED_BY_AWS, params(default_redirect_uri="https://other.example.com"))
    with pytest.raises(AnsibleAWSError, match="must be one of the client's callback_urls"):
        validate_client_state(state, False)


def test_the_client_credentials_client_with_a_secret_is_valid():
    state = state_after({}, params(allowed_oauth_flows=["client_credentials"], allowed_oauth_scopes=["api/read"]))
    validate_client_state(state, True)


@pytest.mark.parametrize("has_secret, wanted", [(False, True), (True, False)])
def test_the_secret_is_fixed_at_creation(has_secret, wanted):
    current = dict(DESCRIBED_BY_AWS, **({"ClientSecret": SECRET} if has_secret else {}))
    with pytest.raises(AnsibleAWSError) as error:
        refuse_secret_change(current, wanted)
    message = str(error.value)
    assert "fixed at creation" in message
    assert CLIENT_ID in message
    assert "generate_secret: %s" % ("true" if has_secret else "false") in message
    assert SECRET not in message


@pytest.mark.parametrize("has_secret, wanted", [(False, False), (True, True), (True, None), (False, None)])
def test_a_matching_or_unmentioned_secret_is_fine(has_secret, wanted):
    refuse_secret_change(dict(DESCRIBED_BY_AWS, **({"ClientSecret": "s"} if has_secret else {})), wanted)


# --- the flow: check mode calls nothing that changes, results carry no secret ----------

def stub_pool_and_lookup(stubber, clients):
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL_ID, "Name": "pool"}}, {"UserPoolId": POOL_ID})
    stubber.add_response("list_user_pool_clients", {"UserPoolClients": [
        {"ClientId": c["ClientId"], "UserPoolId": POOL_ID, "ClientName": c["ClientName"]} for c in clients
    ]}, {"UserPoolId": POOL_ID, "MaxResults": 60})
    for c in clients[:1]:
        stubber.add_response("describe_user_pool_client", {"UserPoolClient": c},
                             {"UserPoolId": POOL_ID, "ClientId": c["ClientId"]})


def test_check_mode_create_calls_no_create(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [])
    result = app_client.converge(FakeModule(post_params(), check_mode=True), client)
    assert result["changed"] is True
    assert result["client"]["client_name"] == "oidc-client"
    assert result["diff"]["before"] == {}


def test_create_returns_the_client_without_its_secret(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [])
    stubber.add_response("create_user_pool_client", {"UserPoolClient": dict(DESCRIBED_BY_AWS, ClientSecret=SECRET)},
                         dict(create_request(POOL_ID, desired_user_pool_client(post_params()), True)))
    result = app_client.converge(FakeModule(post_params(generate_secret=True)), client)
    assert result["changed"] is True
    assert SECRET not in repr(result)
    assert result["client"]["generate_secret"] is True


def test_check_mode_update_reports_the_diff_and_calls_no_update(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [DESCRIBED_BY_AWS])
    result = app_client.converge(FakeModule(params(logout_urls=["https://example.com/out"]), check_mode=True), client)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"LogoutURLs": []}, "after": {"LogoutURLs": ["https://example.com/out"]}}


def test_update_sends_the_merged_settings(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [DESCRIBED_BY_AWS])
    expected = update_request(DESCRIBED_BY_AWS, {"LogoutURLs": ["https://example.com/out"]})
    stubber.add_response("update_user_pool_client",
                         {"UserPoolClient": dict(DESCRIBED_BY_AWS, LogoutURLs=["https://example.com/out"])}, expected)
    result = app_client.converge(FakeModule(params(logout_urls=["https://example.com/out"])), client)
    assert result["changed"] is True
    assert result["client"]["logout_urls"] == ["https://example.com/out"]


def test_unchanged_client_calls_no_update(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [DESCRIBED_BY_AWS])
    result = app_client.converge(FakeModule(post_params()), client)
    assert result["changed"] is False
    assert result["diff"] == {"before": {}, "after": {}}


def test_absent_when_the_pool_is_gone_is_no_change(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", expected_params={"UserPoolId": POOL_ID})
    result = app_client.converge(FakeModule(params(state="absent")), client)
    assert result == {"changed": False, "client": {}}


def test_check_mode_delete_calls_no_delete(stubbed):
    client, stubber = stubbed
    stub_pool_and_lookup(stubber, [DESCRIBED_BY_AWS])
    result = app_client.converge(FakeModule(params(state="absent"), check_mode=True), client)
    assert result["changed"] is True
    assert result["diff"]["before"]["client_id"] == CLIENT_ID


def test_delete_by_id(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL_ID}}, {"UserPoolId": POOL_ID})
    stubber.add_response("describe_user_pool_client", {"UserPoolClient": DESCRIBED_BY_AWS},
                         {"UserPoolId": POOL_ID, "ClientId": CLIENT_ID})
    stubber.add_response("delete_user_pool_client", {}, {"UserPoolId": POOL_ID, "ClientId": CLIENT_ID})
    result = app_client.converge(FakeModule(params(name=None, client_id=CLIENT_ID, state="absent")), client)
    assert result["changed"] is True


def test_an_unknown_client_id_says_what_to_do(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL_ID}}, {"UserPoolId": POOL_ID})
    stubber.add_client_error("describe_user_pool_client", "ResourceNotFoundException",
                             expected_params={"UserPoolId": POOL_ID, "ClientId": ANY})
    with pytest.raises(AnsibleAWSError, match="has no app client with id 'nope'; check the id, or omit client_id"):
        app_client.converge(FakeModule(params(client_id="nope")), client)


def test_creating_needs_a_name():
    with pytest.raises(AnsibleAWSError, match="name is required to create an app client"):
        app_client.ensure_created(FakeModule(params(name=None, client_id=None)), object(), POOL_ID, {})
