# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""module_utils/_eks/cluster_logging.py and audit_events.py: the logging plan and update, the audit query, its results and limits.

AWS calls go to real botocore clients with a Stubber (no network), wrapped as
AnsibleAWSModule wraps them; time is a fake clock that records sleeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from fakes import FakeClock, FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks import audit_events as eks_audit
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks import cluster_logging as eks_logging
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import WaitLog

CLUSTER = "oidc-test"
GROUP = "/aws/eks/oidc-test/cluster"
ALL_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NOW = FakeClock.WALL  # 2021-02-08T21:00:00Z


def cluster(enabled=(), status="ACTIVE"):
    logging = {"clusterLogging": []}
    on = [t for t in ALL_TYPES if t in enabled]
    off = [t for t in ALL_TYPES if t not in enabled]
    if on:
        logging["clusterLogging"].append({"types": on, "enabled": True})
    if off:
        logging["clusterLogging"].append({"types": off, "enabled": False})
    return {"cluster": {"name": CLUSTER, "arn": "arn:aws:eks:us-west-2:1:cluster/oidc-test", "status": status, "logging": logging}}


# --- eks_logging: the plan ----------------------------------------------------------

def test_enabled_log_types_applies_entries_in_order():
    described = {"logging": {"clusterLogging": [
        {"types": ["api", "audit"], "enabled": True}, {"types": ["api"], "enabled": False},
    ]}}
    assert eks_logging.enabled_log_types(described) == ["audit"]
    assert eks_logging.enabled_log_types({}) == []
    assert eks_logging.enabled_log_types(cluster(["scheduler", "audit"])["cluster"]) == ["audit", "scheduler"]


@pytest.mark.parametrize("current, log_types, state, purge, wanted", [
    (["api"], ["audit"], "present", False, ["api", "audit"]),
    (["api"], ["audit"], "present", True, ["audit"]),
    (["api", "audit"], ["audit"], "absent", False, ["api"]),
    ([], [], "present", True, []),
    (["audit"], ["audit"], "present", False, ["audit"]),
])
def test_wanted_log_types(current, log_types, state, purge, wanted):
    assert eks_logging.wanted_log_types(current, log_types, state, purge) == wanted


def test_logging_request_names_every_type():
    assert eks_logging.logging_request(["audit"]) == {"clusterLogging": [
        {"types": ["audit"], "enabled": True},
        {"types": ["api", "authenticator", "controllerManager", "scheduler"], "enabled": False},
    ]}
    assert eks_logging.logging_request([]) == {"clusterLogging": [{"types": ALL_TYPES, "enabled": False}]}
    assert eks_logging.logging_request(ALL_TYPES) == {"clusterLogging": [{"types": ALL_TYPES, "enabled": True}]}


def test_plan_actions():
    assert eks_logging.plan_actions(CLUSTER, ["api"], ["audit"]) == [
        "enable audit logging of cluster 'oidc-test'", "disable api logging of cluster 'oidc-test'"]


# --- eks_logging: the flow ----------------------------------------------------------

def logging_params(**overrides):
    params = dict(cluster_name=CLUSTER, log_types=["audit"], state="present", purge=False, wait=True, wait_timeout=900)
    params.update(overrides)
    return params


def test_converge_unchanged_makes_no_update(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", cluster(["audit"]), {"name": CLUSTER})
    result = eks_logging.converge(FakeModule(logging_params()), client, FakeClock())
    assert result["changed"] is False
    assert result["enabled_log_types"] == ["audit"]
    assert result["log_group_name"] == GROUP


def test_converge_check_mode_reports_without_update(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", cluster([]), {"name": CLUSTER})
    result = eks_logging.converge(FakeModule(logging_params(), check_mode=True), client, FakeClock())
    assert result["changed"] is True
    assert result["diff"] == {"before": {"enabled_log_types": []}, "after": {"enabled_log_types": ["audit"]}}
    assert "update_id" not in result


def test_converge_updates_and_waits_for_the_update(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", cluster(["api"]), {"name": CLUSTER})
    stubber.add_response(
        "update_cluster_config", {"update": {"id": "u1", "status": "InProgress"}},
        {"name": CLUSTER, "logging": eks_logging.logging_request(["api", "audit"])},
    )
    stubber.add_response("describe_update", {"update": {"id": "u1", "status": "InProgress"}}, {"name": CLUSTER, "updateId": "u1"})
    stubber.add_response("describe_cluster", cluster(["api"], status="UPDATING"), {"name": CLUSTER})
    stubber.add_response("describe_update", {"update": {"id": "u1", "status": "Successful"}}, {"name": CLUSTER, "updateId": "u1"})
    stubber.add_response("describe_cluster", cluster(["api", "audit"]), {"name": CLUSTER})
    clock = FakeClock()
    result = eks_logging.converge(FakeModule(logging_params()), client, clock)
    assert result["changed"] is True and result["update_id"] == "u1"
    assert result["enabled_log_types"] == ["api", "audit"]
    assert clock.sleeps == [eks_logging.POLL.first]
    assert [e.get("update_status") for e in result["wait_log"]] == ["InProgress", "Successful"]


def test_wait_fails_with_the_update_errors(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_update", {"update": {"id": "u1", "status": "Failed", "errors": [
        {"errorCode": "AccessDenied", "errorMessage": "no logs:CreateLogGroup"}]}}, {"name": CLUSTER, "updateId": "u1"})
    stubber.add_response("describe_cluster", cluster([]), {"name": CLUSTER})
    clock = FakeClock()
    with pytest.raises(AnsibleAWSError) as failed:
        eks_logging.wait_for_logging(client, CLUSTER, ["audit"], "u1", clock.now() + 60, clock, WaitLog(clock))
    assert "failed: AccessDenied: no logs:CreateLogGroup" in str(failed.value)


def test_wait_without_describe_update_reads_the_cluster(eks_stub):
    client, stubber = eks_stub
    stubber.add_client_error("describe_update", "InvalidRequestException", "No route", 400, expected_params={"name": CLUSTER, "updateId": "u1"})
    stubber.add_response("describe_cluster", cluster(["audit"]), {"name": CLUSTER})
    clock = FakeClock()
    described = eks_logging.wait_for_logging(client, CLUSTER, ["audit"], "u1", clock.now() + 60, clock, WaitLog(clock))
    assert eks_logging.enabled_log_types(described) == ["audit"]


def test_update_treats_no_changes_needed_as_done(eks_stub):
    client, stubber = eks_stub
    stubber.add_client_error("update_cluster_config", "InvalidParameterException",
                             "No changes needed for the logging config provided", 400)
    clock = FakeClock()
    assert eks_logging.update_logging(client, CLUSTER, ["audit"], clock.now() + 60, clock, WaitLog(clock)) is None


def test_purge_with_absent_is_refused(eks_stub):
    client, _stubber = eks_stub
    with pytest.raises(AnsibleAWSError, match="purge applies to state: present"):
        eks_logging.converge(FakeModule(logging_params(state="absent", purge=True)), client, FakeClock())


# --- eks_audit: time --------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("now", NOW),
    ("1h", NOW - 3600),
    ("15m", NOW - 900),
    ("7d", NOW - 7 * 86400),
    ("1612818000", 1612818000),
    ("1612818000123", 1612818000),
    ("2021-02-08T21:00:00Z", 1612818000),
    ("2021-02-08T21:00:00.5Z", 1612818000),
    ("2021-02-08 21:00:00", 1612818000),
    ("2021-02-08T22:00:00+01:00", 1612818000),
    ("2021-02-08", 1612742400),
])
def test_parse_time(value, expected):
    assert eks_audit.parse_time(value, NOW) == expected


def test_parse_time_explains_the_forms():
    with pytest.raises(AnsibleAWSError, match="a duration ago such as 15m"):
        eks_audit.parse_time("yesterday", NOW)


def test_insights_timestamp_seconds():
    assert eks_audit.insights_timestamp_seconds("2021-02-08 21:00:00.894") == 1612818000
    assert eks_audit.insights_timestamp_seconds("") is None


# --- eks_audit: the query -------------------------------------------------------------------

def test_build_query_of_the_post():
    assert eks_audit.build_query({"username": "test@example.com"}) == (
        'fields @timestamp, @message, @logStream\n| filter user.username = "test@example.com"\n| sort @timestamp desc'
    )


def test_build_query_with_every_criterion():
    query = eks_audit.build_query({
        "username": 'a"b', "group": "gid:secret-reader", "verbs": ["get", "list"], "resources": ["secrets"],
        "namespace": "default", "response_code": 403, "decision": "forbid",
    })
    assert query.split("\n| ") == [
        "fields @timestamp, @message, @logStream",
        'filter user.username = "a\\"b"',
        'filter @message like /"groups":\\s*\\[[^\\]]*"gid:secret-reader"/',
        'filter verb in ["get", "list"]',
        'filter objectRef.resource in ["secrets"]',
        'filter objectRef.namespace = "default"',
        "filter responseStatus.code = 403",
        'filter @message like /"authorization\\.k8s\\.io\\/decision":\\s*"forbid"/',
        "sort @timestamp desc",
    ]


def test_regex_text_escapes_the_slash_and_specials():
    assert eks_audit.regex_text("a.b/c(d)*") == "a\\.b\\/c\\(d\\)\\*"


# --- eks_audit: results --------------------------------------------------------------------

def audit(audit_id, username="test@example.com", groups=("gid:secret-reader", "system:authenticated"), verb="list",
          resource="secrets", code=200, decision="allow", at="2021-02-08T20:58:56.894015Z"):
    event = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": audit_id,
        "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/default/%s?limit=500" % resource, "verb": verb,
        "user": {"username": username, "groups": list(groups)}, "sourceIPs": ["10.0.0.1"],
        "userAgent": "kubectl/v1.35.4", "objectRef": {"resource": resource, "namespace": "default", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code}, "requestReceivedTimestamp": at, "stageTimestamp": at,
        "annotations": {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": "because"},
    }
    return event


def row(event, timestamp="2021-02-08 20:58:56.894"):
    return [{"field": "@timestamp", "value": timestamp}, {"field": "@message", "value": json.dumps(event)},
            {"field": "@logStream", "value": "kube-apiserver-audit-1"}, {"field": "@ptr", "value": "p"}]


def test_audit_event_record():
    record = eks_audit.audit_event(audit("a1", code=403, decision="forbid"), eks_audit.row_dict(row(audit("a1"))))
    assert record == {
        "timestamp": "2021-02-08T20:58:56.894015Z", "stage_timestamp": "2021-02-08T20:58:56.894015Z",
        "audit_id": "a1", "stage": "ResponseComplete", "verb": "list",
        "request_uri": "/api/v1/namespaces/default/secrets?limit=500",
        "user": {"username": "test@example.com", "groups": ["gid:secret-reader", "system:authenticated"], "uid": None},
        "source_ips": ["10.0.0.1"], "user_agent": "kubectl/v1.35.4",
        "object_ref": {"resource": "secrets", "namespace": "default", "api_version": "v1"},
        "response_code": 403, "decision": "forbid", "reason": "because", "log_stream": "kube-apiserver-audit-1",
    }


def test_matches_is_exact():
    record = eks_audit.audit_event(audit("a1"))
    assert eks_audit.matches(record, {"username": "test@example.com", "group": "gid:secret-reader", "verbs": ["list"],
                                      "resources": ["secrets"], "namespace": "default", "response_code": 200,
                                      "decision": "allow"})
    assert not eks_audit.matches(record, {"group": "gid:secret"})
    assert not eks_audit.matches(record, {"verbs": ["get"]})
    assert eks_audit.matches(record, {"username": None, "verbs": []})


def test_parse_message_ignores_non_json():
    assert eks_audit.parse_message("plain text") is None
    assert eks_audit.parse_message("[1]") is None


# --- eks_audit: running queries --------------------------------------------------------------

def stub_query(stubber, query_id, rows, end, limit, status_sequence=("Complete",), start=NOW - 3600, query=None):
    stubber.add_response("start_query", {"queryId": query_id}, {
        "logGroupName": GROUP, "startTime": start, "endTime": end, "queryString": query or QUERY, "limit": limit})
    for status in status_sequence:
        response = {"status": status, "results": rows if status == "Complete" else [],
                    "statistics": {"recordsMatched": float(len(rows)), "recordsScanned": 10.0, "bytesScanned": 100.0}}
        stubber.add_response("get_query_results", response, {"queryId": query_id})


QUERY = eks_audit.build_query({"username": "test@example.com"})


def collect(client, limit, criteria=None, clock=None):
    clock = clock or FakeClock()
    totals = eks_audit.Totals()
    events, truncated = eks_audit.collect_events(
        client, GROUP, QUERY, NOW - 3600, NOW, limit, criteria or {"username": "test@example.com"}, False,
        clock.now() + 300, clock, WaitLog(clock), totals)
    return events, truncated, totals


def test_collect_waits_for_the_query_and_filters_exactly(logs_stub):
    client, stubber = logs_stub
    rows = [row(audit("a1")), row(audit("a2", username="test@example.com.evil")), [{"field": "@message", "value": "x"}]]
    stub_query(stubber, "q1", rows, NOW, 1000, status_sequence=("Scheduled", "Running", "Complete"))
    clock = FakeClock()
    events, truncated, totals = collect(client, 1000, clock=clock)
    assert [e["audit_id"] for e in events] == ["a1"]
    assert truncated is False
    assert totals.query_ids == ["q1"] and totals.statistics["records_scanned"] == 10.0
    assert clock.sleeps == [eks_audit.POLL.first, eks_audit.POLL.first * eks_audit.POLL.factor]


def test_collect_stops_at_limit_and_says_truncated(logs_stub):
    client, stubber = logs_stub
    stub_query(stubber, "q1", [row(audit("a1")), row(audit("a2"))], NOW, 2)
    events, truncated, _totals = collect(client, 2)
    assert [e["audit_id"] for e in events] == ["a1", "a2"]
    assert truncated is True


def test_collect_splits_the_time_range_when_a_query_is_full(logs_stub, monkeypatch):
    monkeypatch.setattr(eks_audit, "QUERY_LIMIT", 2)
    client, stubber = logs_stub
    first = [row(audit("a1"), "2021-02-08 20:59:00.000"), row(audit("a2"), "2021-02-08 20:58:10.500")]
    oldest = eks_audit.insights_timestamp_seconds("2021-02-08 20:58:10.500")
    second = [row(audit("a2"), "2021-02-08 20:58:10.500"), row(audit("a3"), "2021-02-08 20:50:00.000")]
    third = [row(audit("a4"), "2021-02-08 20:40:00.000")]
    stub_query(stubber, "q1", first, NOW, 2)
    stub_query(stubber, "q2", second, oldest, 2)
    stub_query(stubber, "q3", third, eks_audit.insights_timestamp_seconds("2021-02-08 20:50:00.000"), 2)
    events, truncated, totals = collect(client, 10)
    assert [e["audit_id"] for e in events] == ["a1", "a2", "a3", "a4"]
    assert truncated is False
    assert totals.query_ids == ["q1", "q2", "q3"]


def test_collect_gives_up_splitting_within_one_second(logs_stub, monkeypatch):
    monkeypatch.setattr(eks_audit, "QUERY_LIMIT", 2)
    client, stubber = logs_stub
    same = [row(audit("a1"), "2021-02-08 21:00:00.100"), row(audit("a2"), "2021-02-08 21:00:00.200")]
    stub_query(stubber, "q1", same, NOW, 2)
    events, truncated, _totals = collect(client, 10)
    assert len(events) == 2 and truncated is True


def test_collect_follows_result_pages(logs_stub):
    client, stubber = logs_stub
    stubber.add_response("start_query", {"queryId": "q1"})
    stubber.add_response("get_query_results", {"status": "Complete", "results": [row(audit("a1"))], "nextToken": "t"})
    stubber.add_response("get_query_results", {"status": "Complete", "results": [row(audit("a2"))]}, {"queryId": "q1", "nextToken": "t"})
    events, _truncated, _totals = collect(client, 1000)
    assert [e["audit_id"] for e in events] == ["a1", "a2"]


def test_failed_query_names_the_query(logs_stub):
    client, stubber = logs_stub
    stub_query(stubber, "q1", [], NOW, 1000, status_sequence=("Failed",))
    with pytest.raises(AnsibleAWSError, match="ended Failed; the query was"):
        collect(client, 1000)


def test_query_past_the_timeout_is_stopped(logs_stub):
    client, stubber = logs_stub
    stub_query(stubber, "q1", [], NOW, 1000, status_sequence=("Running",))
    stubber.add_response("stop_query", {"success": True}, {"queryId": "q1"})
    clock = FakeClock()
    totals = eks_audit.Totals()
    with pytest.raises(AnsibleAWSError, match="did not complete within wait_timeout"):
        eks_audit.collect_events(client, GROUP, QUERY, NOW - 3600, NOW, 1000, {}, False, clock.now(), clock, WaitLog(clock), totals)


def test_raw_query_returns_rows_and_events(logs_stub):
    client, stubber = logs_stub
    raw = 'fields @timestamp, @message | filter verb = "list"'
    stub_query(stubber, "q1", [row(audit("a1")), [{"field": "verb", "value": "list"}]], NOW, 5, query=raw)
    clock = FakeClock()
    rows, events, truncated = eks_audit.run_raw_query(
        client, GROUP, raw, NOW - 3600, NOW, 5, False, clock.now() + 60, clock, WaitLog(clock), eks_audit.Totals())
    assert rows[1] == {"verb": "list"} and "@ptr" not in rows[0]
    assert [e["audit_id"] for e in events] == ["a1"]
    assert truncated is False


# --- eks_audit: the module flow -------------------------------------------------------------------

def events_params(**overrides):
    params = dict(cluster_name=CLUSTER, username=None, group=None, verb=None, resource=None, namespace=None,
                  response_code=None, decision=None, query=None, start_time="1h", end_time="now", limit=1000,
                  include_event=False, log_group_name=None, check_logging=True, wait_timeout=300)
    params.update(overrides)
    return params


def test_audit_logging_off_says_how_to_enable_it(eks_stub):
    client, stubber = eks_stub
    stubber.add_response("describe_cluster", cluster(["api"]), {"name": CLUSTER})
    with pytest.raises(AnsibleAWSError) as failed:
        eks_audit.read_events(FakeModule(events_params(username="test@example.com")), client, None, FakeClock())
    message = str(failed.value)
    assert "audit logging is not enabled for EKS cluster 'oidc-test' (enabled log types: api)" in message
    assert "kubeauth.eks_oidc.audit" in message and "kubeauth.eks_oidc.eks_cluster_logging" in message


def test_query_and_criteria_are_exclusive(eks_stub):
    client, _stubber = eks_stub
    with pytest.raises(AnsibleAWSError, match="give it alone"):
        eks_audit.read_events(FakeModule(events_params(query="fields @message", username="x")), client, None, FakeClock())


def test_start_after_end_is_refused(eks_stub):
    client, _stubber = eks_stub
    with pytest.raises(AnsibleAWSError, match="is after end_time"):
        eks_audit.read_events(FakeModule(events_params(start_time="now", end_time="1h")), client, None, FakeClock())
