# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""module_utils/_eks: claim mapping, validation, the plan, the busy-cluster retry and the wait loop.

AWS calls go to a real botocore client with a Stubber (no network), wrapped
the way AnsibleAWSModule wraps it; time is a fake clock that records sleeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from botocore.stub import ANY

from fakes import FakeClock, FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks import claim_mapping
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks import common
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks import identity_provider_config as idp

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
CLUSTER = "oidc-test"
ARN = "arn:aws:eks:us-west-2:111122223333:identityproviderconfig/oidc-test/oidc/oidc-config/1234"
REF = {"type": "oidc", "name": "oidc-config"}


def module_params(**overrides):
    params = dict(
        cluster_name=CLUSTER, name="oidc-config", state="present", issuer_url=ISSUER, client_id="702vqsrj",
        username_claim="email", username_prefix=None, groups_claim="cognito:groups", groups_prefix="gid:",
        required_claims=None, tags=None, purge_tags=True, wait=True, wait_timeout=2400, force=False,
    )
    params.update(overrides)
    return params


def module(check_mode=False, **overrides):
    return FakeModule(module_params(**overrides), check_mode)


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


# --- effective_claim_mapping ------------------------------------------------

def test_mapping_defaults_prefix_usernames_with_issuer():
    mapping = claim_mapping.effective_claim_mapping({"issuer_url": ISSUER})
    assert mapping == {"username_claim": "sub", "username_prefix": ISSUER + "#", "groups_claim": None, "groups_prefix": ""}


def test_mapping_email_claim_has_no_prefix_and_post_groups():
    mapping = claim_mapping.effective_claim_mapping(
        {"issuer_url": ISSUER, "username_claim": "email", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}
    )
    assert mapping == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}


@pytest.mark.parametrize("prefix, expected", [("-", ""), ("oidc:", "oidc:"), ("", ISSUER + "#"), (None, ISSUER + "#")])
def test_mapping_username_prefix(prefix, expected):
    mapping = claim_mapping.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "name", "username_prefix": prefix})
    assert mapping["username_prefix"] == expected


def test_mapping_explicit_prefix_applies_to_email_too():
    assert claim_mapping.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "email", "username_prefix": "oidc:"})["username_prefix"] == "oidc:"


def test_mapping_reads_api_dicts():
    mapping = claim_mapping.effective_claim_mapping(described(usernamePrefix="-"))
    assert mapping == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}


def test_mapping_groups_prefix_without_groups_claim_maps_nothing():
    assert claim_mapping.effective_claim_mapping({"issuer_url": ISSUER, "groups_prefix": "gid:"})["groups_prefix"] == ""


def test_username_rule():
    assert claim_mapping.kubernetes_username_rule(claim_mapping.effective_claim_mapping({"issuer_url": ISSUER, "username_claim": "email"})) == "claims.email"
    assert claim_mapping.kubernetes_username_rule(claim_mapping.effective_claim_mapping({"issuer_url": ISSUER})) == "'%s#' + claims.sub" % ISSUER
    rule = claim_mapping.kubernetes_username_rule({"username_claim": "cognito:username", "username_prefix": "oidc:"})
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
    with pytest.raises(AnsibleAWSError) as error:
        idp.validate_params(module_params(**overrides))
    assert message in str(error.value)


def test_validation_accepts_the_post_and_absent_without_issuer():
    assert idp.validate_params(module_params(required_claims={"k" * 63: "v" * 253})) == []
    assert idp.validate_params(module_params(state="absent", issuer_url=None, client_id=None)) == []


def test_validation_warns_about_groups_prefix_without_claim():
    assert "groups_prefix has no effect" in idp.validate_params(module_params(groups_claim=None))[0]


def test_cluster_own_issuer_refused():
    cluster = {"name": CLUSTER, "identity": {"oidc": {"issuer": "https://oidc.idp.us-west-2.amazonaws.com/id/ABC"}}}
    with pytest.raises(AnsibleAWSError) as error:
        idp.validate_against_cluster(module_params(issuer_url="https://oidc.idp.us-west-2.amazonaws.com/id/ABC/"), cluster)
    assert "own OpenID Connect provider URL" in str(error.value)
    idp.validate_against_cluster(module_params(), cluster)
    idp.validate_against_cluster(module_params(), {"name": CLUSTER})


@pytest.mark.parametrize("version, limit", [("1.30", 1), ("1.31", 1), ("1.32", 10), ("1.33", 10), ("2.0", 10), (None, 1)])
def test_max_oidc_configs(version, limit):
    assert idp.max_oidc_configs(version) == limit


# --- the plan ----------------------------------------------------------------

def test_plan_associates_when_absent_with_eks_defaults():
    plan = idp.plan_present(CLUSTER, [], module_params(tags={"team": "a"}), 1)
    assert plan.changed and not plan.replace
    assert plan.associate["groups_prefix"] == "gid:" and "username_prefix" not in plan.associate
    assert plan.actions(CLUSTER) == ["associate 'oidc-config' with cluster 'oidc-test'"]
    assert plan.before == {} and plan.after["tags"] == {"team": "a"} and plan.after["name"] == "oidc-config"


def test_plan_same_config_is_unchanged():
    plan = idp.plan_present(CLUSTER, [described(tags={})], module_params(), 1)
    assert not plan.changed and plan.actions(CLUSTER) == [] and plan.before == plan.after


def test_plan_unmentioned_settings_are_not_compared():
    plan = idp.plan_present(CLUSTER, [described(tags={}, usernamePrefix="oidc:")], module_params(groups_prefix=None), 1)
    assert not plan.changed


def test_plan_empty_string_asks_for_unset():
    with pytest.raises(AnsibleAWSError) as error:
        idp.plan_present(CLUSTER, [described(tags={})], module_params(groups_prefix=""), 1)
    assert "groups_prefix: 'gid:' -> ''" in str(error.value)


def test_plan_username_claim_sub_matches_unset():
    assert not idp.plan_present(CLUSTER, [described(tags={}, usernameClaim=None)], module_params(username_claim="sub"), 1).changed


def test_plan_tags_change_in_place():
    plan = idp.plan_present(CLUSTER, [described(tags={"team": "a", "old": "x"})], module_params(tags={"team": "b"}), 1)
    assert plan.tags_to_set == {"team": "b"} and plan.tags_to_unset == ["old"] and not plan.associate and not plan.replace
    assert plan.changes == {"tags": {"before": {"team": "a", "old": "x"}, "after": {"team": "b"}}}
    keep = idp.plan_present(CLUSTER, [described(tags={"old": "x"})], module_params(tags={"team": "b"}, purge_tags=False), 1)
    assert keep.tags_to_unset == [] and keep.after["tags"] == {"old": "x", "team": "b"}


def test_plan_refuses_immutable_change_with_readable_diff():
    with pytest.raises(AnsibleAWSError) as error:
        idp.plan_present(CLUSTER, [described(tags={})], module_params(groups_prefix="grp:", required_claims={"hd": "x"}), 1)
    message = str(error.value)
    assert "groups_prefix: 'gid:' -> 'grp:'" in message and "required_claims: {} -> {'hd': 'x'}" in message
    assert "immutable" in message and "force: true" in message
    assert error.value.kwargs["changes"]["groups_prefix"] == {"before": "gid:", "after": "grp:"}
    assert error.value.kwargs["identity_provider_config"]["identity_provider_config_name"] == "oidc-config"


def test_plan_required_claims_compared_whole():
    with pytest.raises(AnsibleAWSError):
        idp.plan_present(CLUSTER, [described(tags={}, requiredClaims={"a": "1", "b": "2"})], module_params(required_claims={"a": "1"}), 1)


def test_plan_force_replaces_and_carries_unmentioned_settings_over():
    current = described(tags={"team": "a"}, usernamePrefix="oidc:")
    plan = idp.plan_present(CLUSTER, [current], module_params(groups_prefix="grp:", username_prefix=None, force=True), 1)
    assert plan.replace == [current]
    assert plan.associate["groups_prefix"] == "grp:" and plan.associate["username_prefix"] == "oidc:"
    assert plan.associate_tags == {"team": "a"}
    assert plan.actions(CLUSTER) == [
        "disassociate 'oidc-config' from cluster 'oidc-test'",
        "wait until 'oidc-config' is gone",
        "associate 'oidc-config' with cluster 'oidc-test'",
    ]


def test_plan_other_name_counts_as_the_one_config_before_1_32():
    with pytest.raises(AnsibleAWSError) as error:
        idp.plan_present(CLUSTER, [described(name="old", tags={})], module_params(), 1)
    assert "already has OIDC identity provider config 'old'" in str(error.value)
    assert "name: 'old' -> 'oidc-config'" in str(error.value)
    plan = idp.plan_present(CLUSTER, [described(name="old", tags={})], module_params(force=True), 1)
    assert [c["identityProviderConfigName"] for c in plan.replace] == ["old"]


def test_plan_from_1_32_other_issuers_coexist_and_same_issuer_conflicts():
    other = described(name="okta", issuerUrl="https://example.okta.com", tags={})
    assert not idp.plan_present(CLUSTER, [other], module_params(), 10).replace
    with pytest.raises(AnsibleAWSError) as error:
        idp.plan_present(CLUSTER, [described(name="old", tags={})], module_params(), 10)
    assert "same issuer_url" in str(error.value)
    full = [described(name="p%d" % i, issuerUrl="https://p%d.example.com" % i, tags={}) for i in range(10)]
    with pytest.raises(AnsibleAWSError) as error:
        idp.plan_present(CLUSTER, full, module_params(force=True), 10)
    assert "EKS's limit" in str(error.value)


def test_plan_waits_for_a_config_being_deleted():
    plan = idp.plan_present(CLUSTER, [described(status="DELETING", tags={})], module_params(), 1)
    assert plan.await_gone == ["oidc-config"] and plan.associate and not plan.replace


def test_association_request_leaves_unset_fields_out():
    request = idp.association_request({"name": "n", "issuer_url": ISSUER, "client_id": "c", "username_prefix": "", "required_claims": {}}, {"a": "b"})
    assert request == {"oidc": {"identityProviderConfigName": "n", "issuerUrl": ISSUER, "clientId": "c"}, "tags": {"a": "b"}}


def test_config_result_snake_case_keeps_tag_and_claim_keys():
    result = idp.config_result(described(tags={"Team": "a"}, requiredClaims={"hostedDomain": "x"}))
    assert result["identity_provider_config_arn"] == ARN
    assert result["tags"] == {"Team": "a"} and result["required_claims"] == {"hostedDomain": "x"}


# --- the busy-cluster retry ----------------------------------------------------

def busy_error(stubber, operation, cluster_status="UPDATING"):
    """``operation`` refused because the cluster is busy, then DescribeCluster reporting ``cluster_status``."""
    stubber.add_client_error(operation, "ResourceInUseException", "Cluster has an update in progress", 409)
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": cluster_status}}, {"name": CLUSTER})


def config_calls(client, seconds):
    """The IdentityProviderConfigs calls with ``seconds`` left until their deadline: (calls, clock, wait log)."""
    clock = FakeClock()
    log = common.WaitLog(clock)
    return idp.IdentityProviderConfigs(client, CLUSTER, clock.now() + seconds, clock, log), clock, log


def test_associate_retries_while_cluster_busy(eks_stub):
    client, stubber = eks_stub
    calls, clock, log = config_calls(client, 600)
    for _attempt in range(2):
        busy_error(stubber, "associate_identity_provider_config")
    associate_response(stubber)
    assert calls.associate({"name": "oidc-config", "issuer_url": ISSUER, "client_id": "c"}, {}) == "u-1"
    assert clock.sleeps == [5.0, 10.0]
    assert log.entries[0]["refused"] == "Cluster has an update in progress" and log.entries[0]["busy"] is True


def test_busy_retry_gives_up_at_the_deadline_with_aws_message(eks_stub):
    client, stubber = eks_stub
    calls, clock, _log = config_calls(client, 12)
    for _attempt in range(3):
        busy_error(stubber, "disassociate_identity_provider_config")
    with pytest.raises(AnsibleAWSError) as error:
        calls.disassociate("oidc-config")
    assert "still busy with another update after 12 seconds" in str(error.value)
    assert "EKS says: Cluster has an update in progress" in str(error.value)
    assert clock.sleeps == [5.0, 7.0]
    assert error.value.kwargs["elapsed_seconds"] == 12


def test_busy_retry_stops_when_the_cluster_is_not_updating(eks_stub):
    client, stubber = eks_stub
    calls, clock, _log = config_calls(client, 600)
    for _attempt in range(2):
        busy_error(stubber, "associate_identity_provider_config", cluster_status="ACTIVE")
        stubber.add_response("list_identity_provider_configs", {"identityProviderConfigs": []}, {"clusterName": CLUSTER})
    with pytest.raises(AnsibleAWSError) as error:
        calls.associate({"name": "oidc-config", "issuer_url": ISSUER, "client_id": "c"}, {})
    assert "waiting would not help" in str(error.value)
    assert clock.sleeps == [5.0]


def test_disassociate_of_a_config_already_gone_is_done(eks_stub):
    client, stubber = eks_stub
    stubber.add_client_error("disassociate_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    calls, _clock, _log = config_calls(client, 60)
    assert calls.disassociate("oidc-config") is None


# --- the wait loop ---------------------------------------------------------------

def describe_response(stubber, status):
    stubber.add_response("describe_identity_provider_config", {"identityProviderConfig": {"oidc": described(status=status)}},
                         {"clusterName": CLUSTER, "identityProviderConfig": REF})


def associate_response(stubber):
    """AssociateIdentityProviderConfig accepted, as update u-1."""
    stubber.add_response("associate_identity_provider_config", {"update": {"id": "u-1", "status": "InProgress"}},
                         {"clusterName": CLUSTER, "oidc": ANY})


def update_response(stubber, status, errors=None):
    stubber.add_response("describe_update", {"update": {"id": "u-1", "status": status, "errors": errors or []}},
                         {"name": CLUSTER, "updateId": "u-1"})


def test_wait_until_active_logs_each_status_change(eks_stub):
    client, stubber = eks_stub
    clock = FakeClock()
    log = common.WaitLog(clock)
    for status, update in (("CREATING", "InProgress"), ("CREATING", "InProgress"), ("ACTIVE", "Successful")):
        describe_response(stubber, status)
        update_response(stubber, update)
    config = idp.wait_for_config(client, CLUSTER, "oidc-config", common.ACTIVE, clock.now() + 2400, clock, log, "u-1")
    assert config["status"] == "ACTIVE"
    assert clock.sleeps == [2.0, 3.0]
    assert [(e["elapsed_seconds"], e["status"], e["update_status"]) for e in log.entries] == [
        (0, "CREATING", "InProgress"), (5, "ACTIVE", "Successful")
    ]


def test_wait_for_polls_until_done_and_returns_that_polls_value():
    clock = FakeClock()
    answers = iter([(False, "a"), (False, "b"), (True, "c")])
    assert common.wait_for(lambda: next(answers), clock.now() + 60, clock, common.Backoff(1.0, 2.0, 3.0), None) == "c"
    assert clock.sleeps == [1.0, 2.0]


def test_wait_for_sleeps_no_longer_than_the_deadline_then_raises_what_timed_out_gives():
    clock = FakeClock()
    with pytest.raises(AnsibleAWSError, match="still waiting"):
        common.wait_for(lambda: (False, None), clock.now() + 4, clock, common.Backoff(3.0, 2.0, 60.0),
                        lambda: AnsibleAWSError("still waiting"))
    assert clock.sleeps == [3.0, 1.0]


def test_cluster_update_stops_asking_an_endpoint_without_describe_update(eks_stub):
    client, stubber = eks_stub
    stubber.add_client_error("describe_update", "InvalidRequestException", "No route for GET", 400)
    update = common.ClusterUpdate(client, CLUSTER, "u-1", "the logging of cluster 'oidc-test'")
    update.refresh()
    update.refresh()  # a second DescribeUpdate would find no stubbed response
    assert update.status is None and update.observed() == {} and update.describe() == ""


def test_cluster_update_failure_names_the_update_and_its_errors(eks_stub):
    client, stubber = eks_stub
    update_response(stubber, "Cancelled", [{"errorCode": "ClusterUnreachable", "errorMessage": "gone"}])
    update = common.ClusterUpdate(client, CLUSTER, "u-1", "the logging of cluster 'oidc-test'")
    update.refresh()
    assert update.observed() == {"update_status": "Cancelled"}
    clock = FakeClock()
    with pytest.raises(AnsibleAWSError) as error:
        update.raise_if_failed(common.WaitLog(clock))
    assert str(error.value) == "EKS update u-1 of the logging of cluster 'oidc-test' cancelled: ClusterUnreachable: gone"
    assert error.value.kwargs == {"wait_log": [], "elapsed_seconds": 0}


def test_wait_backoff_is_capped():
    delays = common.backoff_delays(idp.POLL)
    assert [round(next(delays), 2) for _poll in range(9)] == [2.0, 3.0, 4.5, 6.75, 10.12, 15.19, 22.78, 30.0, 30.0]


def test_wait_timeout_fails_with_last_status(eks_stub):
    client, stubber = eks_stub
    clock = FakeClock()
    log = common.WaitLog(clock)
    for _poll in range(4):  # at 0, 2, 5 and 6 seconds
        describe_response(stubber, "CREATING")
        update_response(stubber, "InProgress")
    with pytest.raises(AnsibleAWSError) as error:
        idp.wait_for_config(client, CLUSTER, "oidc-config", common.ACTIVE, clock.now() + 6, clock, log, "u-1")
    message = str(error.value)
    assert "timed out after 6 seconds" in message and "to be ACTIVE" in message
    assert "last status: CREATING (update u-1 InProgress)" in message
    assert "run the task again" in message
    assert clock.sleeps == [2.0, 3.0, 1.0]
    assert error.value.kwargs["wait_log"][0]["status"] == "CREATING"


def test_wait_reports_a_failed_update(eks_stub):
    client, stubber = eks_stub
    clock = FakeClock()
    describe_response(stubber, "CREATING")
    update_response(stubber, "Failed", [{"errorCode": "InsufficientFreeAddresses", "errorMessage": "no IPs"}])
    with pytest.raises(AnsibleAWSError) as error:
        idp.wait_for_config(client, CLUSTER, "oidc-config", common.ACTIVE, clock.now() + 60, clock, common.WaitLog(clock), "u-1")
    assert "EKS update u-1 of identity provider config 'oidc-config' on cluster 'oidc-test' failed: InsufficientFreeAddresses: no IPs" in str(error.value)


def test_wait_without_describe_update_follows_the_config_alone(eks_stub):
    client, stubber = eks_stub
    clock = FakeClock()
    describe_response(stubber, "DELETING")
    stubber.add_client_error("describe_update", "InvalidRequestException", "No route for GET", 400)
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    assert idp.wait_for_config(client, CLUSTER, "oidc-config", common.GONE, clock.now() + 60, clock, common.WaitLog(clock), "u-1") is None


def test_wait_for_active_fails_when_config_disappears(eks_stub):
    client, stubber = eks_stub
    clock = FakeClock()
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    with pytest.raises(AnsibleAWSError) as error:
        idp.wait_for_config(client, CLUSTER, "oidc-config", common.ACTIVE, clock.now() + 60, clock, common.WaitLog(clock))
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


def test_check_mode_force_reports_the_plan_without_changing(eks_stub):
    client, stubber = eks_stub
    stub_cluster_and_configs(stubber, [described()])
    result = idp.converge(module(check_mode=True, groups_prefix="grp:", force=True), client, FakeClock())
    assert result["changed"] is True
    assert result["actions"][0] == "disassociate 'oidc-config' from cluster 'oidc-test'"
    assert result["diff"]["before"]["groups_prefix"] == "gid:" and result["diff"]["after"]["groups_prefix"] == "grp:"
    assert result["identity_provider_config"]["status"] == "CREATING"
    assert result["claim_mapping"]["groups_prefix"] == "grp:"


def test_present_associates_and_waits(eks_stub):
    client, stubber = eks_stub
    stub_cluster_and_configs(stubber, [])
    associate_response(stubber)
    describe_response(stubber, "ACTIVE")
    update_response(stubber, "Successful")
    describe_response(stubber, "ACTIVE")
    stubber.add_response("list_tags_for_resource", {"tags": {}}, {"resourceArn": ARN})
    result = idp.converge(module(), client, FakeClock())
    assert result["changed"] is True and result["update_id"] == "u-1"
    assert result["identity_provider_config"]["status"] == "ACTIVE"
    assert result["kubernetes_username_rule"] == "claims.email"


def test_absent_names_the_config_the_cluster_does_have(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    stubber.add_response("list_identity_provider_configs", {"identityProviderConfigs": [{"type": "oidc", "name": "old"}]},
                         {"clusterName": CLUSTER})
    absent = module(state="absent")
    result = idp.converge(absent, client, FakeClock())
    assert result["changed"] is False
    assert result["other_identity_provider_configs"] == ["old"]
    assert "use name: old" in absent.warnings[0]


def test_validation_comes_before_any_call(eks_stub):
    client = eks_stub[0]  # no responses stubbed: any call would fail the test
    with pytest.raises(AnsibleAWSError):
        idp.converge(module(cluster_name="does-not-exist", groups_prefix="system:x"), client, FakeClock())


def test_failed_association_after_a_replacement_says_the_old_config_is_gone(eks_stub):
    client, stubber = eks_stub
    stub_cluster_and_configs(stubber, [described()])
    stubber.add_response("disassociate_identity_provider_config", {"update": {"id": "u-0", "status": "InProgress"}},
                         {"clusterName": CLUSTER, "identityProviderConfig": REF})
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    stubber.add_response("describe_update", {"update": {"id": "u-0", "status": "Successful"}}, {"name": CLUSTER, "updateId": "u-0"})
    stubber.add_client_error("associate_identity_provider_config", "InvalidParameterException", "issuer not reachable", 400)
    with pytest.raises(AnsibleAWSError) as failed:
        idp.converge(module(groups_prefix="grp:", force=True), client, FakeClock())
    assert "failed after 'oidc-config' was disassociated" in str(failed.value)
    assert failed.value.exception.response["Error"]["Message"] == "issuer not reachable"
    assert failed.value.kwargs["wait_log"][-1]["status"] == "GONE"


# --- a fleet in one association's time: start without waiting, wait in the info module -------

def info_module(**overrides):
    return FakeModule(dict(dict(cluster_name=CLUSTER, name="oidc-config", wait_for=None, wait_timeout=2400), **overrides))


def test_present_without_wait_returns_once_eks_took_the_association(eks_stub):
    client, stubber = eks_stub
    stub_cluster_and_configs(stubber, [])
    associate_response(stubber)
    describe_response(stubber, "CREATING")
    stubber.add_response("list_tags_for_resource", {"tags": {}}, {"resourceArn": ARN})
    clock = FakeClock()
    result = idp.converge(module(wait=False), client, clock)
    assert result["changed"] is True and result["update_id"] == "u-1"
    assert result["identity_provider_config"]["status"] == "CREATING"
    assert clock.sleeps == []


def test_info_waits_for_active_and_returns_the_config_with_what_it_saw(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    describe_response(stubber, "CREATING")  # it exists: there is something to wait for
    for status in ("CREATING", "CREATING", "CREATING", "ACTIVE"):
        describe_response(stubber, status)
    describe_response(stubber, "ACTIVE")
    stubber.add_response("list_tags_for_resource", {"tags": {}}, {"resourceArn": ARN})
    clock = FakeClock()
    result = idp.read_info(info_module(wait_for="active"), client, clock)
    assert clock.sleeps == [2.0, 3.0, 4.5]
    assert [(e["elapsed_seconds"], e["status"]) for e in result["wait_log"]] == [(0, "CREATING"), (10, "ACTIVE")]
    assert result["identity_provider_configs"][0]["status"] == "ACTIVE"
    assert result["identity_provider_configs"][0]["claim_mapping"]["groups_prefix"] == "gid:"
    assert result["changed"] is False


def test_info_wait_for_active_refuses_a_config_that_was_never_associated(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    with pytest.raises(AnsibleAWSError, match="has no identity provider config 'oidc-config' to wait for; associate it first"):
        idp.read_info(info_module(wait_for="active"), client, FakeClock())


def test_info_wait_for_absent_waits_until_gone_and_a_missing_cluster_is_gone(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    describe_response(stubber, "DELETING")
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    stubber.add_client_error("describe_identity_provider_config", "ResourceNotFoundException", "not found", 404)
    clock = FakeClock()
    result = idp.read_info(info_module(wait_for="absent"), client, clock)
    assert result["identity_provider_configs"] == [] and result["wait_log"][-1]["status"] == "GONE"
    stubber.add_client_error("describe_cluster", "ResourceNotFoundException", "no cluster", 404)
    assert idp.read_info(info_module(wait_for="absent"), client, clock)["identity_provider_configs"] == []


def test_info_wait_times_out_with_the_last_status(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", {"cluster": {"name": CLUSTER, "status": "ACTIVE"}}, {"name": CLUSTER})
    for _poll in range(1 + 5):  # exists, then polls at 0, 2, 5, 9.5 and 10 seconds
        describe_response(stubber, "CREATING")
    with pytest.raises(AnsibleAWSError, match="timed out after 10 seconds .* last status: CREATING") as failed:
        idp.read_info(info_module(wait_for="active", wait_timeout=10), client, FakeClock())
    assert failed.value.kwargs["wait_log"][0]["status"] == "CREATING"
