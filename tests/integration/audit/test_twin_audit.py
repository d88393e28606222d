"""The EKS twin's audit logging, with nothing but boto3 and HTTPS (no collection code).

UpdateClusterConfig ``logging``, DescribeUpdate and ListUpdates as the sandbox
hook answers them; audit events shipped to CloudWatch Logs only while the
audit log type is enabled; Logs Insights filters on the events' JSON fields.
The first tests check the twin's pure pieces (tests/sandbox/auditlog.py and
insights.py) without a sandbox.
"""

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sandbox"))

import auditlog  # noqa: E402  (tests/sandbox/auditlog.py)
import insights  # noqa: E402  (tests/sandbox/insights.py)
import sandbox as launcher  # noqa: E402

CLUSTER = "oidc-test"
GROUP = "/aws/eks/%s/cluster" % CLUSTER
EVENT = {
    "kind": "Event", "auditID": "a1", "verb": "list", "requestURI": "/api/v1/nodes",
    "user": {"username": "test@example.com", "groups": ["gid:secret-reader", "system:authenticated"]},
    "objectRef": {"resource": "nodes"}, "responseStatus": {"code": 403},
    "annotations": {"authorization.k8s.io/decision": "forbid"},
    "stageTimestamp": "2021-02-08T20:58:56.894186Z",
}


# -- the pure pieces ---------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ('filter user.username = "test@example.com"', True),
    ("filter user.username = 'someone'", False),
    ('filter verb in ["get", "list"] and objectRef.resource = "nodes"', True),
    ("filter responseStatus.code >= 400", True),
    ('filter `annotations.authorization.k8s.io/decision` = "forbid"', True),
    ('filter user.groups.0 = "gid:secret-reader"', True),
    (r'filter @message like /"groups":\s*\[[^\]]*"gid:secret-reader"/', True),
    ('filter verb not in ["list"] or ispresent(objectRef.name)', False),
    ('filter not (verb = "get") and user.username like /@example\\.com$/', True),
])
def test_insights_filters_on_json_fields(query, expected):
    record = {"@message": json.dumps(EVENT), "@logStream": "kube-apiserver-audit-1"}
    predicate = insights.compile_filter(query)
    assert predicate(lambda field: insights.field_value(record, field)) is expected


@pytest.mark.parametrize("query", ["filter toMillis(@timestamp) > 1", "filter verb = ", "filter verb ~ 'x'"])
def test_insights_refuses_what_it_cannot_run(query):
    with pytest.raises(insights.UnsupportedQuery):
        insights.compile_filter(query)


def test_logging_config_as_eks_reports_it():
    assert auditlog.logging_config({"audit"}) == {"clusterLogging": [
        {"types": ["audit"], "enabled": True},
        {"types": ["api", "authenticator", "controllerManager", "scheduler"], "enabled": False}]}
    update = {"clusterLogging": [{"types": ["audit"], "enabled": True}, {"types": ["api"], "enabled": False}]}
    assert auditlog.apply_update({"api"}, update) == {"audit"}
    with pytest.raises(ValueError, match="unknown log types"):
        auditlog.apply_update(set(), {"clusterLogging": [{"types": ["kubelet"], "enabled": True}]})


def test_batches_are_in_time_order_and_within_limits():
    lines = [json.dumps(dict(EVENT, stageTimestamp="2021-02-08T20:58:5%d.000000Z" % i)) for i in (3, 1, 2)]
    (batch,) = list(auditlog.batches(lines))
    assert [e["timestamp"] for e in batch] == sorted(e["timestamp"] for e in batch)
    assert batch[0]["timestamp"] == 1612817931000
    small = list(auditlog.batches(["{}"] * 10001))
    assert [len(b) for b in small] == [10000, 1]  # PutLogEvents takes 10,000 events at most
    large = list(auditlog.batches([json.dumps(EVENT)] * 10001))  # and 1 MiB (26 bytes per event added)
    assert sum(len(b) for b in large) == 10001
    assert all(sum(len(e["message"]) + 26 for e in b) <= 1048576 for b in large)


# -- against the twin --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twin(sandbox):
    assert sandbox["kubernetes"], "the sandbox has no Kubernetes side: run `make k8s-binaries` (these tests do not skip)"
    clients = {service: boto3.client(service, **launcher.boto3_kwargs(sandbox)) for service in ("eks", "logs")}
    set_logging(clients["eks"], [])
    yield dict(sandbox, **clients)
    set_logging(clients["eks"], [])


def set_logging(eks, enabled):
    """Make exactly ``enabled`` the enabled log types, and wait for the update."""
    try:
        update = eks.update_cluster_config(name=CLUSTER, logging=auditlog.logging_config(set(enabled)))["update"]
    except eks.exceptions.InvalidParameterException:
        return None  # no changes needed
    wait_update(eks, update["id"])
    return update


def wait_update(eks, update_id):
    deadline = time.monotonic() + 30
    while True:
        status = eks.describe_update(name=CLUSTER, updateId=update_id)["update"]["status"]
        if status != "InProgress" or time.monotonic() > deadline:
            assert status == "Successful"
            return
        time.sleep(0.2)


def anonymous_request(twin, path):
    context = ssl.create_default_context(cafile=twin["aws_ca_bundle"])
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(twin["clusters"][CLUSTER]["endpoint"] + path, context=context, timeout=10)
    assert refused.value.code == 403


def query(logs, query_string, minutes=10):
    now = int(time.time())
    query_id = logs.start_query(logGroupName=GROUP, startTime=now - minutes * 60, endTime=now + 5,
                                queryString=query_string)["queryId"]
    result = logs.get_query_results(queryId=query_id)
    assert result["status"] == "Complete"
    return [{cell["field"]: cell["value"] for cell in row} for row in result["results"]]


def test_update_cluster_config_logging_as_eks(twin):
    eks = twin["eks"]
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["logging"] == auditlog.logging_config(set())
    update = eks.update_cluster_config(name=CLUSTER, logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})["update"]
    assert update["status"] == "InProgress" and update["type"] == "LoggingUpdate"
    assert update["params"] == [{"type": "ClusterLogging", "value": '[{"types": ["audit"], "enabled": true}]'}]
    with pytest.raises(ClientError) as busy:
        eks.update_cluster_config(name=CLUSTER, logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert busy.value.response["Error"]["Code"] == "ResourceInUseException"
    wait_update(eks, update["id"])
    assert update["id"] in eks.list_updates(name=CLUSTER)["updateIds"]
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["logging"]["clusterLogging"][0] == {"types": ["audit"], "enabled": True}
    with pytest.raises(eks.exceptions.InvalidParameterException, match="No changes needed"):
        eks.update_cluster_config(name=CLUSTER, logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    with pytest.raises(eks.exceptions.InvalidParameterException, match="changes logging only"):
        eks.update_cluster_config(name=CLUSTER, resourcesVpcConfig={"endpointPrivateAccess": True})
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.update_cluster_config(name="no-such-cluster", logging=auditlog.logging_config({"audit"}))


def test_events_are_shipped_only_while_audit_logging_is_on(twin):
    before, during, after = ("/api/v1/namespaces/%s-%s/secrets" % (when, uuid.uuid4().hex[:8]) for when in ("before", "during", "after"))
    set_logging(twin["eks"], [])
    anonymous_request(twin, before)
    set_logging(twin["eks"], ["audit"])
    anonymous_request(twin, during)
    deadline = time.monotonic() + 20
    while not query(twin["logs"], 'fields @message | filter requestURI = "%s"' % during):
        assert time.monotonic() < deadline, "the audit event did not reach CloudWatch Logs"
        time.sleep(0.5)
    set_logging(twin["eks"], [])
    anonymous_request(twin, after)
    wait_until_shipper_read(twin, after)
    assert query(twin["logs"], 'fields @message | filter requestURI = "%s"' % before) == []
    assert query(twin["logs"], 'fields @message | filter requestURI = "%s"' % after) == []
    (row,) = query(twin["logs"], 'fields @timestamp, @logStream, user.username, responseStatus.code, verb'
                                 ' | filter requestURI = "%s"' % during)
    assert row["user.username"] == "system:anonymous" and row["responseStatus.code"] == "403"
    assert row["verb"] == "list" and row["@logStream"].startswith("kube-apiserver-audit-")
    stream = twin["logs"].describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in stream] == [row["@logStream"]]


def wait_until_shipper_read(twin, request_uri):
    """Wait until the twin's audit log holds the event of ``request_uri`` and the shipper has read past it.

    Events written while audit logging is off are read and dropped; absence can only be asserted once
    the shipper has read them, which two more of its passes prove (the second began after the write)."""
    audit_log = os.path.join(os.path.dirname(twin["clusters"][CLUSTER]["admin_kubeconfig"]), "audit.log")
    deadline = time.monotonic() + 20
    while True:
        with open(audit_log, encoding="utf-8") as handle:
            if ('"requestURI":"%s' % request_uri) in handle.read():
                break
        assert time.monotonic() < deadline, "kube-apiserver wrote no audit event for %s" % request_uri
        time.sleep(0.1)
    passes = launcher.audit_shipper_passes(twin)
    while launcher.audit_shipper_passes(twin) < passes + 2:
        assert time.monotonic() < deadline, "the audit shipper stopped making passes"
        time.sleep(0.1)


def test_insights_commands_the_twin_cannot_run_are_refused(twin):
    set_logging(twin["eks"], ["audit"])  # the log group exists from here on
    with pytest.raises(ClientError) as refused:
        query(twin["logs"], "fields verb | stats count(*) by verb")
    assert refused.value.response["Error"]["Code"] == "MalformedQueryException"
