# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes audit events of an EKS cluster from CloudWatch Logs Insights (module eks_audit_events_info).

The AWS post finds what an OIDC user did with a Logs Insights query on the
cluster's log group::

    fields @timestamp, @message | sort @timestamp desc | filter user.username = "test@example.com"

This file builds such queries from a user, a group, verbs, resources and a
time range, runs them (StartQuery, then GetQueryResults until Complete), and
turns each audit event (one JSON audit.k8s.io/v1 Event per log event) into a
short record: who, what, the response code and the authorization decision.

Limits handled here: a query returns at most ``QUERY_LIMIT`` rows, so when a
query fills its limit the time range is split (the next query ends at the
oldest event seen, events are de-duplicated by audit ID and stage) until the
module's ``limit`` is reached; GetQueryResults pages are followed by
``nextToken``. Insights filters narrow the search; the same criteria are then
checked exactly on the parsed events (group membership in particular, which
Insights can only approximate with a regular expression on the message).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster_logging import enabled_log_types
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster_logging import log_group_name
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Backoff
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import WaitLog
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import require_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import wait_for
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import warn

# Rows one StartQuery returns at most on every endpoint (AWS allows up to
# 100,000 for Logs Insights QL, paged by 10,000; 10,000 is the long-standing limit).
QUERY_LIMIT = 10000

QUERY_COMPLETE = "Complete"
QUERY_FAILED = ("Failed", "Cancelled", "Timeout", "Unknown")
# Between GetQueryResults polls: queries usually finish within seconds.
POLL = Backoff(0.5, 1.5, 5.0)
# Logs Insights allows 30 concurrent queries per account; beyond that StartQuery is refused and retried.
LOGS_RETRY_CODES = ["LimitExceededException", "ThrottlingException"]

DECISION_ANNOTATION = "authorization.k8s.io/decision"
REASON_ANNOTATION = "authorization.k8s.io/reason"

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I
)
# Regular-expression characters escaped in /.../ literals (the slash ends the literal).
_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}/])")


# ---------------------------------------------------------------------------
# Time (pure)
# ---------------------------------------------------------------------------

def parse_time(value, now):
    """Epoch seconds for ``now``, epoch seconds (or milliseconds), an ISO 8601 time, or a duration ago (``15m``, ``2h``, ``7d``).

    ``now`` is the current time in epoch seconds. ISO times without a zone are UTC.
    """
    text = str(value).strip()
    if text.lower() == "now":
        return int(now)
    if re.match(r"^\d+$", text):
        number = int(text)
        return number // 1000 if number > 100000000000 else number
    duration = _DURATION.match(text)
    if duration:
        return int(now) - int(duration.group(1)) * _UNITS[duration.group(2)]
    iso = _ISO.match(text)
    if not iso:
        raise AnsibleAWSError(
            "time '%s' is not understood: give 'now', a duration ago such as 15m, 2h or 7d, epoch seconds, "
            "or an ISO 8601 time such as 2021-02-08T20:58:56Z" % value
        )
    year, month, day, hour, minute, second = (int(part or 0) for part in iso.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = iso.group(8)
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def iso_time(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def insights_timestamp_seconds(value):
    """Epoch seconds (whole) of a Logs Insights ``@timestamp`` (``2021-02-08 20:58:56.894``), or None."""
    match = _ISO.match((value or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


# ---------------------------------------------------------------------------
# The query (pure)
# ---------------------------------------------------------------------------

def insights_string(value):
    """A Logs Insights string literal: double quotes, with quotes and backslashes escaped."""
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def insights_list(values):
    return "[%s]" % ", ".join(insights_string(v) for v in values)


def regex_text(text):
    """``text`` as a literal inside a Logs Insights /regular expression/."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def build_query(criteria):
    """The Logs Insights query for ``criteria`` (username, group, verbs, resources, namespace, response_code, decision).

    Each criterion is its own ``filter`` (they all apply). Group membership
    and the decision annotation are matched in the raw message: Insights
    flattens arrays to ``user.groups.0``, ``user.groups.1`` ... and its field
    names cannot hold the annotation's dots and slash reliably.
    """
    lines = ["fields @timestamp, @message, @logStream"]
    if criteria.get("username"):
        lines.append("filter user.username = %s" % insights_string(criteria["username"]))
    if criteria.get("group"):
        lines.append('filter @message like /"groups":\\s*\\[[^\\]]*"%s"/' % regex_text(json.dumps(criteria["group"])[1:-1]))
    if criteria.get("verbs"):
        lines.append("filter verb in %s" % insights_list(criteria["verbs"]))
    if criteria.get("resources"):
        lines.append("filter objectRef.resource in %s" % insights_list(criteria["resources"]))
    if criteria.get("namespace"):
        lines.append("filter objectRef.namespace = %s" % insights_string(criteria["namespace"]))
    if criteria.get("response_code") is not None:
        lines.append("filter responseStatus.code = %d" % criteria["response_code"])
    if criteria.get("decision"):
        lines.append('filter @message like /"%s":\\s*"%s"/' % (regex_text(DECISION_ANNOTATION), regex_text(criteria["decision"])))
    lines.append("sort @timestamp desc")
    return "\n| ".join(lines)


# ---------------------------------------------------------------------------
# Results (pure)
# ---------------------------------------------------------------------------

def row_dict(row):
    """A GetQueryResults row (a list of {field, value}) as a dict, without ``@ptr``."""
    return dict((cell["field"], cell.get("value")) for cell in row if cell.get("field") != "@ptr")


def parse_message(message):
    """The JSON object of a log event's message, or None."""
    try:
        event = json.loads(message or "")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def audit_event(event, row=None, include_event=False):
    """The short record of one audit event: who, what, the response code and the authorization decision."""
    row = row or {}
    user = event.get("user") or {}
    annotations = event.get("annotations") or {}
    object_ref = event.get("objectRef") or {}
    record = {
        "timestamp": event.get("requestReceivedTimestamp") or row.get("@timestamp"),
        "stage_timestamp": event.get("stageTimestamp"),
        "audit_id": event.get("auditID"),
        "stage": event.get("stage"),
        "verb": event.get("verb"),
        "request_uri": event.get("requestURI"),
        "user": {"username": user.get("username"), "groups": user.get("groups") or [], "uid": user.get("uid")},
        "source_ips": event.get("sourceIPs") or [],
        "user_agent": event.get("userAgent"),
        "object_ref": dict(
            (snake, object_ref[camel]) for camel, snake in (
                ("resource", "resource"), ("namespace", "namespace"), ("name", "name"),
                ("apiGroup", "api_group"), ("apiVersion", "api_version"), ("subresource", "subresource"),
            ) if camel in object_ref
        ),
        "response_code": (event.get("responseStatus") or {}).get("code"),
        "decision": annotations.get(DECISION_ANNOTATION),
        "reason": annotations.get(REASON_ANNOTATION),
        "log_stream": row.get("@logStream"),
    }
    if event.get("impersonatedUser"):
        record["impersonated_user"] = event["impersonatedUser"]
    if include_event:
        record["event"] = event
    return record


def matches(record, criteria):
    """Whether a parsed audit event meets every criterion exactly."""
    user = record["user"]
    checks = (
        ("username", lambda v: user["username"] == v),
        ("group", lambda v: v in user["groups"]),
        ("verbs", lambda v: record["verb"] in v),
        ("resources", lambda v: record["object_ref"].get("resource") in v),
        ("namespace", lambda v: record["object_ref"].get("namespace") == v),
        ("response_code", lambda v: record["response_code"] == v),
        ("decision", lambda v: record["decision"] == v),
    )
    return all(check(criteria[key]) for key, check in checks if criteria.get(key) not in (None, "", []))


def event_key(record, row):
    """What identifies a log event across overlapping queries."""
    if record.get("audit_id"):
        return (record["audit_id"], record.get("stage"))
    return (row.get("@timestamp"), row.get("@message"))


class Totals(object):
    """Sums of the queries' statistics, and their ids."""

    def __init__(self):
        self.query_ids = []
        self.statistics = {"records_matched": 0.0, "records_scanned": 0.0, "bytes_scanned": 0.0}

    def add(self, query_id, statistics):
        self.query_ids.append(query_id)
        for api, key in (("recordsMatched", "records_matched"), ("recordsScanned", "records_scanned"), ("bytesScanned", "bytes_scanned")):
            self.statistics[key] += float((statistics or {}).get(api) or 0)


# ---------------------------------------------------------------------------
# Running queries
# ---------------------------------------------------------------------------

def logs_client(module):
    """The CloudWatch Logs client: throttling and the concurrent-query limit retried with jittered backoff."""
    return module.client("logs", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=LOGS_RETRY_CODES))


def run_query(client, log_group, query, start, end, limit, deadline, clock, log, totals):
    """Rows of one Logs Insights query (all pages), once it is Complete."""
    query_id = client.start_query(
        logGroupName=log_group, startTime=start, endTime=end, queryString=query, limit=limit, aws_retry=True
    )["queryId"]
    subject = "query %s" % query_id

    def poll():
        response = client.get_query_results(queryId=query_id, aws_retry=True)
        status = response.get("status")
        log.record(subject, status=status)
        if status in QUERY_FAILED:
            raise AnsibleAWSError(
                "Logs Insights query %s on %s ended %s; the query was:\n%s" % (query_id, log_group, status, query), **log.result()
            )
        return status == QUERY_COMPLETE, response

    def timed_out():
        client.stop_query(queryId=query_id, aws_retry=True)
        return AnsibleAWSError(
            "Logs Insights query %s on %s did not complete within wait_timeout (last status %s) and was stopped; "
            "narrow the time range or raise wait_timeout" % (query_id, log_group, log.last(subject).get("status")),
            **log.result()
        )

    response = wait_for(poll, deadline, clock, POLL, timed_out)
    rows = list(response.get("results") or [])
    token = response.get("nextToken")
    while token:
        page = client.get_query_results(queryId=query_id, nextToken=token, aws_retry=True)
        rows.extend(page.get("results") or [])
        token = page.get("nextToken")
    totals.add(query_id, response.get("statistics"))
    return [row_dict(row) for row in rows]


def collect_events(client, log_group, query, start, end, limit, criteria, include_event, deadline, clock, log, totals):
    """Up to ``limit`` matching audit events, newest first, and whether more may exist.

    A query that returns as many rows as it was allowed may have left some
    out: the next query covers the time range up to the oldest event seen
    (that second included; the events seen already are skipped).
    """
    events, seen = [], set()
    window_end = end
    while True:
        query_limit = min(QUERY_LIMIT, limit)
        rows = run_query(client, log_group, query, start, window_end, query_limit, deadline, clock, log, totals)
        oldest = window_end
        for position, row in enumerate(rows, 1):
            event = parse_message(row.get("@message"))
            if event is None:
                continue
            record = audit_event(event, row, include_event)
            stamp = insights_timestamp_seconds(row.get("@timestamp"))
            if stamp is not None:
                oldest = min(oldest, stamp)
            key = event_key(record, row)
            if key in seen:
                continue
            seen.add(key)
            if matches(record, criteria):
                events.append(record)
                if len(events) >= limit:
                    return events, len(rows) >= query_limit or position < len(rows)
        if len(rows) < query_limit:
            return events, False
        if oldest >= window_end:  # all in one second: no smaller time range to split into
            log.record("split", stopped="more than %d events in the second %s" % (query_limit, iso_time(window_end)))
            return events, True
        window_end = oldest


def run_raw_query(client, log_group, query, start, end, limit, include_event, deadline, clock, log, totals):
    """A query as given: its rows, and the audit events of the rows that carry a JSON @message."""
    rows = run_query(client, log_group, query, start, end, min(limit, QUERY_LIMIT), deadline, clock, log, totals)
    events = []
    for row in rows:
        event = parse_message(row.get("@message"))
        if event is not None and event.get("kind") == "Event":
            events.append(audit_event(event, row, include_event))
    return rows, events, len(rows) >= min(limit, QUERY_LIMIT)


# ---------------------------------------------------------------------------
# The module flow
# ---------------------------------------------------------------------------

def criteria_from_params(params):
    return {
        "username": params.get("username"),
        "group": params.get("group"),
        "verbs": params.get("verb") or [],
        "resources": params.get("resource") or [],
        "namespace": params.get("namespace"),
        "response_code": params.get("response_code"),
        "decision": params.get("decision"),
    }


def require_audit_logging(cluster, cluster_name):
    """Refuse, with what to do, when the cluster does not send its audit log to CloudWatch Logs."""
    enabled = enabled_log_types(cluster)
    if "audit" not in enabled:
        raise AnsibleAWSError(
            "audit logging is not enabled for EKS cluster '%s' (enabled log types: %s), so its audit events are not in "
            "CloudWatch Logs. Enable it with the role kubeauth.eks_oidc.audit or the module kubeauth.eks_oidc.eks_cluster_logging "
            "(log_types: [audit]); requests made before that are not recorded. To search a log group from an earlier "
            "period of audit logging anyway, set check_logging: false"
            % (cluster_name, ", ".join(enabled) or "none"),
            enabled_log_types=enabled,
        )


def read_events(module, client, logs, clock):
    """The flow of eks_audit_events_info: ``client`` the EKS client, ``logs`` the CloudWatch Logs client."""
    params = module.params
    cluster_name = params["cluster_name"]
    if params["limit"] < 1:
        raise AnsibleAWSError("limit must be 1 or more, got %d" % params["limit"])
    criteria = criteria_from_params(params)
    if params.get("query") and any(value not in (None, "", []) for value in criteria.values()):
        raise AnsibleAWSError("query is a complete Logs Insights query: give it alone, or the criteria (username, group, verb, "
                              "resource, namespace, response_code, decision) without it")
    now = clock.wall()
    start, end = parse_time(params["start_time"], now), parse_time(params["end_time"], now)
    if start > end:
        raise AnsibleAWSError("start_time (%s) is after end_time (%s)" % (iso_time(start), iso_time(end)))
    if params["check_logging"]:
        require_audit_logging(require_cluster(client, cluster_name, module.region), cluster_name)
    log_group = params.get("log_group_name") or log_group_name(cluster_name)
    query = params.get("query") or build_query(criteria)
    log, totals = WaitLog(clock), Totals()
    deadline = clock.now() + params["wait_timeout"]
    result = dict(changed=False, log_group_name=log_group, query=query, start_time=iso_time(start), end_time=iso_time(end))
    try:
        if params.get("query"):
            rows, events, truncated = run_raw_query(
                logs, log_group, query, start, end, params["limit"], params["include_event"], deadline, clock, log, totals
            )
            result["results"] = rows
        else:
            events, truncated = collect_events(
                logs, log_group, query, start, end, params["limit"], criteria, params["include_event"], deadline, clock, log, totals
            )
    except is_boto3_error_code("ResourceNotFoundException"):
        warn(module, "log group %s does not exist (yet): EKS creates it once a log type is enabled and the control plane "
                     "has written to it; no events" % log_group)
        events, truncated = [], False
        if params.get("query"):
            result["results"] = []
    if truncated:
        warn(module, "%d events returned, the limit; more may match: raise limit or narrow the time range" % len(events))
    result.update(events=events, truncated=truncated, query_ids=totals.query_ids, statistics=totals.statistics)
    result.update(log.result())
    return result
