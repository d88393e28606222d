#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_audit_events_info
short_description: Find what a user or group did on an Amazon EKS cluster, from its audit log in CloudWatch Logs
version_added: 0.1.0
description:
  - Runs a CloudWatch Logs Insights query on the cluster's control-plane log group (C(/aws/eks/CLUSTER/cluster)),
    waits for it, and returns the Kubernetes audit events it found, newest first, each as a short record (when, the
    audit ID, the verb and request URI, the user (username and groups, as the API server saw them after the OIDC
    claim mapping), source IPs, user agent, response code, and the authorization decision and reason).
  - This is the section "OIDC-authenticated user audit logging" of the AWS post "Introducing OIDC identity
    provider authentication for Amazon EKS", whose query is
    C(fields @timestamp, @message | sort @timestamp desc | filter user.username = "test@example.com").
  - Give criteria (O(username), O(group), O(verb), O(resource), O(namespace), O(response_code), O(decision)) and a
    time range, and the module builds the query (returned as RV(query), to reuse in the console); or give a complete
    O(query) of your own.
  - With criteria, the events are also checked exactly against them after the query, so group membership is
    exact although Insights can only approximate it.
  - A query returns at most 10,000 events. When one fills that limit and O(limit) asks for more, the module
    splits the time range and queries again, until O(limit) events are found. RV(truncated) tells whether more
    may match.
  - The cluster's C(audit) log type must be enabled (M(kubeauth.eks_oidc.eks_cluster_logging), or the role
    C(kubeauth.eks_oidc.audit)); otherwise the module fails and says how to enable it (see O(check_logging)).
author:
  - kubeauth maintainers (@kubeauth)
options:
  cluster_name:
    description:
      - The EKS cluster.
    type: str
    required: true
    aliases: [name]
  username:
    description:
      - Events of this Kubernetes user (C(user.username)), as the API server names it, that is with the
        association's username prefix, for example V(test@example.com) in the post.
    type: str
  group:
    description:
      - Events of users in this Kubernetes group (C(user.groups)), with the association's groups prefix, for
        example V(gid:secret-reader).
    type: str
  verb:
    description:
      - Events with one of these verbs (V(get), V(list), V(watch), V(create), V(update), V(patch), V(delete), ...).
    type: list
    elements: str
    aliases: [verbs]
  resource:
    description:
      - Events on one of these resources (C(objectRef.resource)), such as V(secrets) or V(nodes).
    type: list
    elements: str
    aliases: [resources]
  namespace:
    description:
      - Events in this namespace (C(objectRef.namespace)).
    type: str
  response_code:
    description:
      - Events with this HTTP response code, such as V(403).
    type: int
  decision:
    description:
      - Events with this authorization decision (annotation C(authorization.k8s.io/decision)).
    type: str
    choices: [allow, forbid]
  query:
    description:
      - A complete Logs Insights query, instead of the criteria above. RV(results) then holds its rows; rows with
        an audit event in C(@message) also appear in RV(events). The time range is not split for it.
    type: str
  start_time:
    description:
      - Start of the time range, inclusive. V(now), a duration ago (V(15m), V(2h), V(7d), V(1w)), epoch seconds, or
        an ISO 8601 time (UTC unless it has a zone).
    type: str
    default: 1h
  end_time:
    description:
      - End of the time range, inclusive; same forms as O(start_time).
    type: str
    default: now
  limit:
    description:
      - The most events to return (newest first).
    type: int
    default: 1000
  include_event:
    description:
      - Add the whole audit event to each record, as RV(events[].event).
    type: bool
    default: false
  log_group_name:
    description:
      - The log group to search. Default C(/aws/eks/CLUSTER/cluster), where EKS writes.
    type: str
  check_logging:
    description:
      - Fail when the cluster's audit log type is not enabled. V(false) searches anyway, for events from an earlier
        period of audit logging.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the queries in all. A query still running then is stopped.
    type: int
    default: 300
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Reads only; check mode runs the queries as a normal run does.
  - Events reach CloudWatch Logs a short while after the request (on EKS up to a few minutes); retry with
    C(until) when looking for something that just happened.
  - Logs Insights charges by the data scanned; keep the time range short.
  - "IAM permissions: C(eks:DescribeCluster) (unless O(check_logging=false)), C(logs:StartQuery),
    C(logs:GetQueryResults), C(logs:StopQuery)."
  - The sandbox's EKS twin runs a subset of the Logs Insights language (fields, filter, sort, limit); see
    docs/audit.md.
seealso:
  - module: kubeauth.eks_oidc.eks_cluster_logging
  - name: CloudWatch Logs Insights query syntax
    description: The language of O(query).
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: What test@example.com did in the last hour (the post's query)
  kubeauth.eks_oidc.eks_audit_events_info:
    cluster_name: oidc-test
    username: test@example.com
  register: audit

- name: Secrets read by members of gid:secret-reader today
  kubeauth.eks_oidc.eks_audit_events_info:
    cluster_name: oidc-test
    group: gid:secret-reader
    verb: [get, list, watch]
    resource: [secrets]
    start_time: 1d

- name: Requests RBAC refused, between two times
  kubeauth.eks_oidc.eks_audit_events_info:
    cluster_name: oidc-test
    decision: forbid
    start_time: "2021-02-08T20:00:00Z"
    end_time: "2021-02-08T21:00:00Z"
  register: refused

- name: Who was refused, and why
  ansible.builtin.debug:
    msg: "{{ item.user.username }} {{ item.verb }} {{ item.request_uri }}: {{ item.response_code }} {{ item.reason }}"
  loop: "{{ refused.events }}"

- name: Wait until a request just made shows up
  kubeauth.eks_oidc.eks_audit_events_info:
    cluster_name: oidc-test
    username: test@example.com
    resource: [secrets]
    start_time: 10m
  register: recent
  until: recent.events | length > 0
  retries: 30
  delay: 10

- name: A query of your own
  kubeauth.eks_oidc.eks_audit_events_info:
    cluster_name: oidc-test
    query: |
      fields @timestamp, user.username, verb, requestURI, responseStatus.code
      | filter user.username like /@example.com$/
      | sort @timestamp desc
"""

RETURN = r"""
events:
  description: The audit events found, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    timestamp:
      description: When the API server received the request (C(requestReceivedTimestamp)).
      type: str
      sample: "2021-02-08T20:58:56.894015Z"
    stage_timestamp:
      description: When the event's stage completed.
      type: str
      sample: "2021-02-08T20:58:56.894186Z"
    audit_id:
      description: The request's audit ID.
      type: str
      sample: 46c1f44f-840e-45c0-ba4b-4fc82bea9084
    stage:
      description: The stage of the request, normally C(ResponseComplete).
      type: str
      sample: ResponseComplete
    verb:
      description: The Kubernetes verb.
      type: str
      sample: list
    request_uri:
      description: The request's URI.
      type: str
      sample: /api/v1/namespaces/default/secrets?limit=500
    user:
      description: The user as the API server authenticated it.
      type: dict
      contains:
        username:
          description: The username, with the association's username prefix.
          type: str
          sample: test@example.com
        groups:
          description: The groups, with the association's groups prefix, and C(system:authenticated).
          type: list
          elements: str
          sample: ["gid:secret-reader", "system:authenticated"]
        uid:
          description: The user's uid, when the authenticator sets one.
          type: str
    source_ips:
      description: The client addresses.
      type: list
      elements: str
      sample: ["10.0.0.1"]
    user_agent:
      description: The client's user agent.
      type: str
      sample: kubectl/v1.19.3 (darwin/amd64) kubernetes/1e11e4a
    object_ref:
      description: The object of the request (resource, namespace, name, api_group, api_version, subresource), empty
        for non-resource requests such as C(/api).
      type: dict
      sample: {"resource": "secrets", "namespace": "default", "api_version": "v1"}
    response_code:
      description: The HTTP status of the response.
      type: int
      sample: 403
    decision:
      description: The authorization decision, V(allow) or V(forbid).
      type: str
      sample: forbid
    reason:
      description: Why it was allowed (for RBAC, the binding) or forbidden.
      type: str
      sample: 'RBAC: allowed by ClusterRoleBinding "read-secrets-role-binding" of ClusterRole "read-secrets" to Group "gid:secret-reader"'
    log_stream:
      description: The CloudWatch Logs stream of the event.
      type: str
      sample: kube-apiserver-audit-8a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d
    impersonated_user:
      description: The user the request impersonated, when it did.
      type: dict
      returned: when the request impersonated a user
    event:
      description: The whole audit event.
      type: dict
      returned: when O(include_event=true)
results:
  description: The rows of O(query), as dicts of field to value (without C(@ptr)).
  returned: when O(query) is given
  type: list
  elements: dict
  sample: [{"@timestamp": "2021-02-08 20:58:56.894", "user.username": "test@example.com", "verb": "get"}]
truncated:
  description: Whether more events may match than were returned (O(limit) reached, or more than 10,000 events in one
    second).
  returned: always
  type: bool
  sample: false
query:
  description: The Logs Insights query run.
  returned: always
  type: str
  sample: "fields @timestamp, @message, @logStream\n| filter user.username = \"test@example.com\"\n| sort @timestamp desc"
log_group_name:
  description: The log group searched.
  returned: always
  type: str
  sample: /aws/eks/oidc-test/cluster
start_time:
  description: Start of the time range searched (UTC).
  returned: always
  type: str
  sample: "2021-02-08T20:00:00Z"
end_time:
  description: End of the time range searched (UTC).
  returned: always
  type: str
  sample: "2021-02-08T21:00:00Z"
query_ids:
  description: The ids of the Logs Insights queries run (one per time range).
  returned: always
  type: list
  elements: str
statistics:
  description: The queries' statistics, summed.
  returned: always
  type: dict
  sample: {"records_matched": 2.0, "records_scanned": 1500.0, "bytes_scanned": 1201553.0}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.audit_events import logs_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.audit_events import read_events
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Clock
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True, aliases=["name"]),
        username=dict(type="str"),
        group=dict(type="str"),
        verb=dict(type="list", elements="str", aliases=["verbs"]),
        resource=dict(type="list", elements="str", aliases=["resources"]),
        namespace=dict(type="str"),
        response_code=dict(type="int"),
        decision=dict(type="str", choices=["allow", "forbid"]),
        query=dict(type="str"),
        start_time=dict(type="str", default="1h"),
        end_time=dict(type="str", default="now"),
        limit=dict(type="int", default=1000),
        include_event=dict(type="bool", default=False),
        log_group_name=dict(type="str"),
        check_logging=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    result = run_flow(module, read_events, eks_client(module), logs_client(module), Clock(), what="CloudWatch Logs Insights")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
