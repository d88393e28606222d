# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""module_utils/eks.py: claim mapping, validation, the plan, the busy-cluster retry and the wait loop.

AWS calls go to a real botocore client with a Stubber (no network), wrapped
the way AnsibleAWSModule wraps it; time is a fake clock that records sleeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber

from fakes import Exited, FakeClock

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import eks

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
CLUSTER = "oidc-test"
ARN = "arn:aws:eks:us-west-2:111122223333:identityproviderconfig/oidc-test/oidc/oidc-config/1234"
REF = {"type": "oidc", "name": "oidc-config"}


class FailedAws(Exception):
    def __init__(self, msg, exception, result):
        super(FailedAws, self).__init__(msg)
        self.exception, self.result = exception, result


class FakeModule(object):
    """What the flows use of AnsibleAWSModule."""

    region = "us-west-2"

    def __init__(self, check_mode=False, **params):
        self.params = module_params(**params)
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise FailedAws(msg, exception, result)


def module_params(**overrides):
    params = dict(
        cluster_name=CLUSTER, name="oidc-config", state="present", issuer_url=ISSUER, client_id="702vqsrj",
        username_claim="email", username_prefix=None, groups_claim="cognito:groups", groups_prefix="gid:",
        required_claims=None, tags=None, purge_tags=True, wait=True, wait_timeout=2400, force=False,
    )
    params.update(overrides)
    return params


def described(name="oidc-config", status="ACTIVE", tags=None, **fields):
    config = {
        "identityProviderConfigName": name,
        "identityProviderConfigArn": ARN.replace("oidc-config", name),
        "clusterName": CLUSTER,
        "issuerUrl": ISSUER,
        "clientId": "702vqsrj",
        "usernameClaim": "email",
        "groupsClaim": "cognito:groups",
        "groupsPrefix": "gid:",
        "requiredClaims": {},
        "status": status,
    }
    config.update(fields)
    if tags is not None:
        config["tags"] = tags
    return config


@pytest.fixture
def stubbed():
    """(client as the module uses it, stubber); every stubbed response must be used."""
    raw = boto3.client("eks", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(raw) as stubber:
        yield RetryingBotoClientWrapper(raw, AWSRetry.jittered_backoff(retries=2, delay=0)), stubber
        stubber.assert_no_pending_responses()


# --- effective_claim_mapping ------------------------------------------------

def test_mapping_defaults_prefix_usernames_with_issuer():
    mapping = eks.effective_claim_mapping({"issuer_url": ISSUER})
    assert mapping == {"username_claim": "sub", "username_prefix": ISSUER + "#", "groups_claim": None, "groups_prefix": ""}


def test_mapping_email_claim_has_no_prefix_and_post_groups():
    mapping = eks.effective_claim_mapping(
        {"issuer_url": ISSUER, "username_claim": "email", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}
    )
    assert mapping == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}


@pytest.mark.parametrize("prefix, expected", [("-", ""), ("oidc:", "oidc:"), ("", ISSUER + "#"), (None, ISSUER + "#")])
def test_mapping_username_prefix(prefix, expected):
    mapping = eks.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "name", "username_prefix": prefix})
    assert mapping["username_prefix"] == expected


def test_mapping_explicit_prefix_applies_to_email_too():
    assert eks.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "email", "username_prefix": "oidc:"})["username_prefix"] == "oidc:"


def test_mapping_reads_api_dicts():
    mapping = eks.effective_claim_mapping(described(usernamePrefix="-"))
    assert mapping == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}


def test_mapping_groups_prefix_without_groups_claim_maps_nothing():
    assert eks.effective_claim_mapping({"issuer_url": ISSUER, "groups_prefix": "gid:"})["groups_prefix"] == ""


def test_username_rule():
    assert eks.kubernetes_username_rule(eks.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "email"})) == "claims.email"
    assert eks.kubernetes_username_rule(eks.effective_claim_mapping({"issuer_url": ISSUER})) == "'%s#' + claims.sub" % ISSUER
    rule = eks.kubernetes_username_rule({"username_claim": "cognito:username", "username_prefix": "oidc:"})
    assert rule == "'oidc:' + claims[\"cognito:username\"]"


# --- validation --------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"issuer_url": None}, "issuer_url is required with state: present"),
    ({"issuer_url": None, "client_id": None}, "issuer_url and client_id are required"),
    ({"client_id": ""}, "client_id is required"),
    ({"issuer_url": "http://example.com"}, "must start with https://"),
    ({"issuer_url": "https://example.com/?realm=x"}, "has a query"),
    ({"issuer_url": "https://example.com/#top"}, "has a fragment"),
    ({"issuer_url": "https://"}, "has no host name"),
    ({"username_prefix": "system:oidc"}, "username_prefix 'system:oidc' contains 'system:'"),
    ({"groups_prefix": "x-system:"}, "groups_prefix 'x-system:' contains 'system:'"),
    ({"required_claims": {"k" * 64: "v"}}, "must be 1 to 63 characters"),
    ({"required_claims": {"hd": "v" * 254}}, "must be 1 to 253 characters long, got 254"),
    ({"required_claims": {"hd": ""}}, "must be 1 to 253 characters long, got 0"),
    ({"required_claims": {"email_verified": True}}, 'quote it (email_verified: "true")'),
])
def test_validation_refuses_before_any_call(overrides, message):
    with pytest.raises(eks.EksError) as error:
        eks.validate_params(module_params(**overrides))
    assert message in str(error.value)


def test_validation_accepts_the_post_and_absent_without_issuer():
    assert eks.validate_params(module_params(required_claims={"k" * 63: "v" * 253})) == []
    assert eks.validate_params(module_params(state="absent", issuer_url=None, client_id=None)) == []


def test_validation_warns_about_groups_prefix_without_claim():
    assert "groups_prefix has no effect" in eks.validate_params(module_params(groups_claim=None))[0]


def test_cluster_own_issuer_refused():
    cluster = {"name": CLUSTER, "identity": {"oidc": {"issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"}}}
    with pytest.raises(eks.EksError) as error:
        eks.validate_against_cluster(module_params(issuer_url="https://oidc.eks.us-west-2.amazonaws.com/id/ABC/"), cluster)
    assert "own OpenID Connect provider URL" in str(error.value)
    eks.validate_against_cluster(module_params(), cluster)
    eks.validate_against_cluster(module_params(), {"name": CLUSTER})


@pytest.mark.parametrize("version, limit", [("1.30", 1), ("1.31", 1), ("1.32", 10), ("1.33", 10), ("2.0", 10), (None, 1)])
def test_max_oidc_configs(version, limit):
    assert eks.max_oidc_configs(version) == limit


# --- the plan ----------------------------------------------------------------

def test_plan_associates_when_absent_with_eks_defaults():
    plan = eks.plan_present(CLUSTER, [], module_params(tags={"team": "a"}), 1)
    assert plan.changed and not plan.replace
    assert plan.associate["groups_prefix"] == "gid:" and "username_prefix" not in plan.associate
    assert plan.actions(CLUSTER) == ["associate 'oidc-config' with cluster 'oidc-test'"]
    assert plan.before == {} and plan.after["tags"] == {"team": "a"} and plan.after["name"] == "oidc-config"


def test_plan_same_config_is_unchanged():
    plan = eks.plan_present(CLUSTER, [described(tags={})], module_params(), 1)
    assert not plan.changed and plan.actions(CLUSTER) == [] and plan.before == plan.after


def test_plan_unmentioned_settings_are_not_compared():
    plan = eks.plan_present(CLUSTER, [described(tags={}, usernamePrefix="oidc:")], module_params(groups_prefix=None), 1)
    assert not plan.changed


def test_plan_empty_string_asks_for_unset():
    with pytest.raises(eks.EksError) as error:
        eks.plan_present(CLUSTER, [described(tags={})], module_params(groups_prefix=""), 1)
    assert "groups_prefix: 'gid:' -> ''" in str(error.value)


def test_plan_username_claim_sub_matches_unset():
    assert not eks.plan_present(CLUSTER, [described(tags={}, usernameClaim=None)], module_params(username_claim="sub"), 1).changed


def test_plan_tags_change_in_place():
    plan = eks.plan_present(CLUSTER, [described(tags={"team": "a", "old": "x"})], module_params(tags={"team": "b"}), 1)
    assert plan.tags_to_set == {"team": "b"} and plan.tags_to_unset == ["old"] and not plan.associate and not plan.replace
    assert plan.changes == {"tags": {"before": {"team": "a", "old": "x"}, "after": {"team": "b"}}}
    keep = eks.plan_present(CLUSTER, [described(tags={"old": "x"})], module_params(tags={"team": "b"}, purge_tags=False), 1)
    assert keep.tags_to_unset == [] and keep.after["tags"] == {"old": "x", "team": "b"}


def test_plan_refuses_immutable_change_with_readable_diff():
    with pytest.raises(eks.EksError) as error:
        eks.plan_present(CLUSTER, [described(tags={})], module_params(groups_prefix="grp:", required_claims={"hd": "x"}), 1)
    message = str(error.value)
    assert "groups_prefix: 'gid:' -> 'grp:'" in message and "required_claims: {} -> {'hd': 'x'}" in message
    assert "immutable" in message and "force: true" in message
    assert error.value.result["changes"]["groups_prefix"] == {"before": "gid:", "after": "grp:"}
    assert error.value.result["identity_provider_config"]["identity_provider_config_name"] == "oidc-config"


def test_plan_required_claims_compared_whole():
    with pytest.raises(eks.EksError):
        eks.plan_present(CLUSTER, [described(tags={}, requiredClaims={"a": "1", "b": "2"})], module_params(required_claims={"a": "1"}), 1)


def test_plan_force_replaces_and_carries_unmentioned_settings_over():
    current = described(tags={"team": "a"}, usernamePrefix="oidc:")
    plan = eks.plan_present(CLUSTER, [current], module_params(groups_prefix="grp:", username_prefix=None, force=True), 1)
    assert plan.replace == [current]
    assert plan.associate["groups_prefix"] == "grp:" and plan.associate["username_prefix"] == "oidc:"
    assert plan.associate_tags == {"team": "a"}
    assert plan.actions(CLUSTER) == [
        "disassociate 'oidc-config' from cluster 'oidc-test'",
        "wait until 'oidc-config' is gone",
        "associate 'oidc-config' with cluster 'oidc-test'",
    ]


def test_plan_other_name_counts_as_the_one_config_before_1_32():
    with pytest.raises(eks.EksError) as error:
        eks.plan_present(CLUSTER, [described(name="old", tags={})], module_params(), 1)
    assert "already has OIDC identity provider config 'old'" in str(error.value)
    assert "name: 'old' -> 'oidc-config'" in str(error.value)
    plan = eks.plan_present(CLUSTER, [described(name="old", tags={})], module_params(force=True), 1)
    assert [c["identityProviderConfigName"] for c in plan.replace] == ["old"]


def test_plan_from_1_32_other_issuers_coexist_and_same_issuer_conflicts():
    other = described(name="okta", issuerUrl="https://example.okta.com", tags={})
    assert not eks.plan_present(CLUSTER, [other], module_params(), 10).replace
    with pytest.raises(eks.EksError) as error:
        eks.plan_present(CLUSTER, [described(name="old", tags={})], module_params(), 10)
    assert "same issuer_url" in str(error.value)
    full = [described(name="p%d" % i, issuerUrl="https://p%d.example.com" % i, tags={}) for i in range(10)]
    with pytest.raises(eks.EksError) as error:
        eks.plan_present(CLUSTER, full, module_params(force=True), 10)
    assert "EKS's limit" in str(error.value)


def test_plan_waits_for_a_config_being_deleted():
    plan = eks.plan_present(CLUSTER, [described(status="DELETING", tags={})], module_params(), 1)
    assert plan.await_gone == ["oidc-config"] and plan.associate and not plan.replace


def test_association_request_leaves_unset_fields_out():
    request = eks.association_request({"name": "n", "issuer_url": ISSUER, "client_id": "c", "username_prefix": "", "required_claims": {}}, {"a": "b"})
    assert request == {"oidc": {"identityProviderConfigName": "n", "issuerUrl": ISSUER, "clientId": "c"}, "tags": {"a": "b"}}


def test_config_result_snake_case_keeps_tag_and_claim_keys():
    result = eks.config_result(described(tags={"Team": "a"}, requiredClaims={"hostedDomain": "x"}))
    assert result["identity_provider_config_arn"] == ARN
    assert result["tags"] == {"Team": "a"} and result["required_claims"] == {"hostedDomain": "x"}


# --- the busy-cluster retry ----------------------------------------------------

def busy_error(stubber, operation):
    stubber.add_client_error(operation, "ResourceInUseException", "Cluster has an update in progress", 409)


def test_associate_retries_while_cluster_busy(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    log = eks.WaitLog(clock)
    calls = eks.IdentityProviderConfigs(client, CLUSTER, clock.now() + 600, clock, log)
    for _attempt in range(2):
        busy_error(stubber, "associate_identity_provider_config")
        stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "UPDATING"}}, {"name": CLUSTER})
    stubber.add_response("associate_identity_provider_config", {"update": {"id": "u-1", "status": "InProgress"}},
                         {"clusterName": CLUSTER, "oidc": ANY})
    assert calls.associate({"name": "oidc-config", "issuer_url": ISSUER, "client_id": "c"}, {}) == "u-1"
    assert clock.sleeps == [5.0, 10.0]
    assert log.entries[0]["refused"] == "Cluster has an update in progress" and log.entries[0]["busy"] is True


def test_busy_retry_gives_up_at_the_deadline_with_aws_message(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    calls = eks.IdentityProviderConfigs(client, CLUSTER, clock.now() + 12, clock, eks.WaitLog(clock))
    for _attempt in range(3):
        busy_error(stubber, "disassociate_identity_provider_config")
        stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "UPDATING"}}, {"name": CLUSTER})
    with pytest.raises(eks.EksError) as error:
        calls.disassociate("oidc-config")
    assert "still busy with another update after 12 seconds" in str(error.value)
    assert "EKS says: Cluster has an update in progress" in str(error.value)
    assert clock.sleeps == [5.0, 7.0]
    assert error.value.result["elapsed_seconds"] == 12


def test_busy_retry_stops_when_the_cluster_is_not_updating(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    calls = eks.IdentityProviderConfigs(client, CLUSTER, clock.now() + 600, clock, eks.WaitLog(clock))
    for _attempt in range(2):
        busy_error(stubber, "associate_identity_provider_config")
        stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
        stubber.add_response("list_identity_provider_configs", {"identityProviderConfigs": []}, {"clusterName": CLUSTER})
    with pytest.raises(eks.EksError) as error:
        calls.associate({"name": "oidc-config", "issuer_url": ISSUER, "client_id": "c"}, {})
    assert "waiting would not help" in str(error.value)
    assert clock.sleeps == [5.0]


def test_disassociate_of_a_config_already_gone_is_done(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("disassociate_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    clock = FakeClock()
    calls = eks.IdentityProviderConfigs(client, CLUSTER, clock.now() + 60, clock, eks.WaitLog(clock))
    assert calls.disassociate("oidc-config") is None


# --- the wait loop ---------------------------------------------------------------

def describe_response(stubber, status):
    stubber.add_response("describe_identity_provider_config", {"identityProviderConfig": {"oidc": described(status=status)}},
                         {"clusterName": CLUSTER, "identityProviderConfig": REF})


def update_response(stubber, status, errors=None):
    stubber.add_response("describe_update", {"update": {"id": "u-1", "status": status, "errors": errors or []}},
                         {"name": CLUSTER, "updateId": "u-1"})


def test_wait_until_active_logs_each_status_change(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    log = eks.WaitLog(clock)
    for status, update in (("CREATING", "InProgress"), ("CREATING", "InProgress"), ("ACTIVE", "Successful")):
        describe_response(stubber, status)
        update_response(stubber, update)
    config = eks.wait_for_config(client, CLUSTER, "oidc-config", eks.ACTIVE, clock.now() + 2400, clock, log, "u-1")
    assert config["status"] == "ACTIVE"
    assert clock.sleeps == [2.0, 3.0]
    assert [(e["elapsed_seconds"], e["status"], e["update_status"]) for e in log.entries] == [
        (0, "CREATING", "InProgress"), (5, "ACTIVE", "Successful")
    ]


def test_wait_backoff_is_capped():
    delays = eks.backoff_delays(eks.POLL_FIRST, eks.POLL_FACTOR, eks.POLL_MAX)
    assert [round(next(delays), 2) for _poll in range(9)] == [2.0, 3.0, 4.5, 6.75, 10.12, 15.19, 22.78, 30.0, 30.0]


def test_wait_timeout_fails_with_last_status(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    log = eks.WaitLog(clock)
    for _poll in range(4):  # at 0, 2, 5 and 6 seconds
        describe_response(stubber, "CREATING")
        update_response(stubber, "InProgress")
    with pytest.raises(eks.EksError) as error:
        eks.wait_for_config(client, CLUSTER, "oidc-config", eks.ACTIVE, clock.now() + 6, clock, log, "u-1")
    message = str(error.value)
    assert "timed out after 6 seconds" in message and "to be ACTIVE" in message
    assert "last status: CREATING (update u-1 InProgress)" in message
    assert "run the task again" in message
    assert clock.sleeps == [2.0, 3.0, 1.0]
    assert error.value.result["wait_log"][0]["status"] == "CREATING"


def test_wait_reports_a_failed_update(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    describe_response(stubber, "CREATING")
    update_response(stubber, "Failed", [{"errorCode": "InsufficientFreeAddresses", "errorMessage": "no IPs"}])
    with pytest.raises(eks.EksError) as error:
        eks.wait_for_config(client, CLUSTER, "oidc-config", eks.ACTIVE, clock.now() + 60, clock, eks.WaitLog(clock), "u-1")
    assert "EKS update u-1 of identity provider config 'oidc-config' on cluster 'oidc-test' failed: InsufficientFreeAddresses: no IPs" in str(error.value)


def test_wait_without_describe_update_follows_the_config_alone(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    describe_response(stubber, "DELETING")
    stubber.add_client_error("describe_update", "InvalidRequestException", "No route for GET", 400)
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    assert eks.wait_for_config(client, CLUSTER, "oidc-config", eks.GONE, clock.now() + 60, clock, eks.WaitLog(clock), "u-1") is None


def test_wait_for_active_fails_when_config_disappears(stubbed):
    client, stubber = stubbed
    clock = FakeClock()
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    with pytest.raises(eks.EksError) as error:
        eks.wait_for_config(client, CLUSTER, "oidc-config", eks.ACTIVE, clock.now() + 60, clock, eks.WaitLog(clock))
    assert "disappeared" in str(error.value)


# --- the flows: check mode calls nothing that changes ----------------------------------

def stub_cluster_and_configs(stubber, configs):
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE", "version": "1.30"}}, {"name": CLUSTER})
    stubber.add_response("list_identity_provider_configs",
                         {"identityProviderConfigs": [{"type": "oidc", "name": c["identityProviderConfigName"]} for c in configs]},
                         {"clusterName": CLUSTER})
    for config in configs:
        stubber.add_response("describe_identity_provider_config", {"identityProviderConfig": {"oidc": config}},
                             {"clusterName": CLUSTER, "identityProviderConfig": {"type": "oidc", "name": config["identityProviderConfigName"]}})
        stubber.add_response("list_tags_for_resource", {"tags": {}}, {"resourceArn": config["identityProviderConfigArn"]})


def test_check_mode_force_reports_the_plan_without_changing(stubbed):
    client, stubber = stubbed
    stub_cluster_and_configs(stubber, [described()])
    module = FakeModule(check_mode=True, groups_prefix="grp:", force=True)
    with pytest.raises(Exited) as exited:
        eks.converge(module, client, FakeClock())
    result = exited.value.result
    assert result["changed"] is True
    assert result["actions"][0] == "disassociate 'oidc-config' from cluster 'oidc-test'"
    assert result["diff"]["before"]["groups_prefix"] == "gid:" and result["diff"]["after"]["groups_prefix"] == "grp:"
    assert result["identity_provider_config"]["status"] == "CREATING"
    assert result["claim_mapping"]["groups_prefix"] == "grp:"


def test_present_associates_and_waits(stubbed):
    client, stubber = stubbed
    stub_cluster_and_configs(stubber, [])
    stubber.add_response("associate_identity_provider_config", {"update": {"id": "u-1", "status": "InProgress"}},
                         {"clusterName": CLUSTER, "oidc": ANY})
    describe_response(stubber, "ACTIVE")
    update_response(stubber, "Successful")
    describe_response(stubber, "ACTIVE")
    stubber.add_response("list_tags_for_resource", {"tags": {}}, {"resourceArn": ARN})
    with pytest.raises(Exited) as exited:
        eks.converge(FakeModule(), client, FakeClock())
    result = exited.value.result
    assert result["changed"] is True and result["update_id"] == "u-1"
    assert result["identity_provider_config"]["status"] == "ACTIVE"
    assert result["kubernetes_username_rule"] == "claims.email"


def test_absent_names_the_config_the_cluster_does_have(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    stubber.add_response("list_identity_provider_configs", {"identityProviderConfigs": [{"type": "oidc", "name": "old"}]},
                         {"clusterName": CLUSTER})
    module = FakeModule(state="absent")
    with pytest.raises(Exited) as exited:
        eks.converge(module, client, FakeClock())
    assert exited.value.result["changed"] is False
    assert exited.value.result["other_identity_provider_configs"] == ["old"]
    assert "use name: old" in module.warnings[0]


def test_validation_comes_before_any_call(stubbed):
    client = stubbed[0]  # no responses stubbed: any call would fail the test
    with pytest.raises(eks.EksError):
        eks.converge(FakeModule(cluster_name="does-not-exist", groups_prefix="system:x"), client, FakeClock())


def test_failed_association_after_a_replacement_says_the_old_config_is_gone(stubbed):
    client, stubber = stubbed
    stub_cluster_and_configs(stubber, [described()])
    stubber.add_response("disassociate_identity_provider_config", {"update": {"id": "u-0", "status": "InProgress"}},
                         {"clusterName": CLUSTER, "identityProviderConfig": REF})
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    stubber.add_response("describe_update", {"update": {"id": "u-0", "status": "Successful"}}, {"name": CLUSTER, "updateId": "u-0"})
    stubber.add_client_error("associate_identity_provider_config", "InvalidParameterException", "issuer not reachable", 400)
    with pytest.raises(FailedAws) as failed:
        eks.converge(FakeModule(groups_prefix="grp:", force=True), client, FakeClock())
    assert "failed after 'oidc-config' was disassociated" in str(failed.value)
    assert failed.value.exception.response["Error"]["Message"] == "issuer not reachable"
    assert failed.value.result["wait_log"][-1]["status"] == "GONE"
