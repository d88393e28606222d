# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The control-plane logging of an EKS cluster (module eks_cluster_logging).

EKS sends the control plane's logs (log types api, audit, authenticator,
controllerManager, scheduler) to the CloudWatch Logs group
``/aws/eks/CLUSTER/cluster`` for the types that are enabled. The setting is
changed with UpdateClusterConfig ``logging``, which starts a cluster update:
EKS takes one update at a time (ResourceInUseException while another one
runs) and refuses an update that changes nothing (InvalidParameterException
"No changes needed"). So this file plans first (which types are on, which the
task wants), sends one update only when they differ, and then waits for it
with the busy-cluster retry and the wait loop of common.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import ACTIVE
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import UPDATE_SUCCESSFUL
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Backoff
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import ClusterUpdate
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import WaitLog
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import call_when_cluster_idle
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import cluster_update_in_progress
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import describe_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import require_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import wait_for

# EKS's control-plane log types, in the order EKS lists them.
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# A logging update takes a minute or two on EKS, a second on the sandbox.
POLL = Backoff(2.0, 1.5, 15.0)


def log_group_name(cluster_name):
    """The CloudWatch Logs group EKS writes a cluster's control-plane logs to."""
    return "/aws/eks/%s/cluster" % cluster_name


def ordered(log_types):
    """``log_types`` in EKS's order, without duplicates."""
    return [t for t in LOG_TYPES if t in set(log_types)]


def enabled_log_types(cluster):
    """The log types a described cluster has enabled (its ``logging.clusterLogging`` entries, in order)."""
    enabled = set()
    for entry in ((cluster or {}).get("logging") or {}).get("clusterLogging") or []:
        types = set(entry.get("types") or [])
        if entry.get("enabled"):
            enabled |= types
        else:
            enabled -= types
    return ordered(enabled)


def wanted_log_types(current, log_types, state, purge):
    """The log types enabled after the task: ``log_types`` added (or removed with state absent); ``purge`` drops the rest."""
    current, log_types = set(current), set(log_types)
    if state == "absent":
        return ordered(current - log_types)
    return ordered(log_types if purge else current | log_types)


def logging_request(wanted):
    """UpdateClusterConfig ``logging`` that leaves exactly ``wanted`` enabled."""
    entries = []
    disabled = [t for t in LOG_TYPES if t not in set(wanted)]
    if wanted:
        entries.append({"types": ordered(wanted), "enabled": True})
    if disabled:
        entries.append({"types": disabled, "enabled": False})
    return {"clusterLogging": entries}


def plan_actions(cluster_name, current, wanted):
    turn_on = [t for t in wanted if t not in current]
    turn_off = [t for t in current if t not in wanted]
    actions = []
    if turn_on:
        actions.append("enable %s logging of cluster '%s'" % (", ".join(turn_on), cluster_name))
    if turn_off:
        actions.append("disable %s logging of cluster '%s'" % (", ".join(turn_off), cluster_name))
    return actions


def update_logging(client, cluster_name, wanted, deadline, clock, log):
    """Send the update once the cluster is idle; its update id (None when EKS found nothing to change)."""

    def call():
        try:
            return client.update_cluster_config(name=cluster_name, logging=logging_request(wanted), aws_retry=True)
        except is_boto3_error_code("InvalidParameterException") as e:
            if "No changes needed" not in e.response["Error"].get("Message", ""):
                raise
            return {}  # another run got there first

    response = call_when_cluster_idle(
        call, "update the logging of cluster '%s'" % cluster_name,
        lambda: cluster_update_in_progress(client, cluster_name), deadline, clock, log
    )
    return (response.get("update") or {}).get("id")


def wait_for_logging(client, cluster_name, wanted, update_id, deadline, clock, log):
    """Poll DescribeUpdate (where the endpoint has it) and DescribeCluster until ``wanted`` is in effect."""
    update = ClusterUpdate(client, cluster_name, update_id, "the logging of cluster '%s'" % cluster_name)

    def poll():
        update.refresh()
        cluster = describe_cluster(client, cluster_name) or {}
        enabled = enabled_log_types(cluster)
        log.record("logging", cluster_status=cluster.get("status"), enabled_log_types=enabled, **update.observed())
        update.raise_if_failed(log)
        in_effect = update.status == UPDATE_SUCCESSFUL if update.status else cluster.get("status") == ACTIVE
        return in_effect and enabled == wanted, cluster

    def timed_out():
        enabled = log.last("logging").get("enabled_log_types")
        return AnsibleAWSError(
            "timed out after %d seconds waiting for the logging update of cluster '%s' (enabled now: %s, wanted: %s); "
            "EKS carries on: run the task again to pick up the wait, or raise wait_timeout"
            % (log.elapsed(), cluster_name, ", ".join(enabled) or "none", ", ".join(wanted) or "none"),
            **log.result()
        )

    return wait_for(poll, deadline, clock, POLL, timed_out)


def converge(module, client, clock):
    """The flow of eks_cluster_logging."""
    params = module.params
    cluster_name = params["cluster_name"]
    if params["purge"] and params["state"] == "absent":
        raise AnsibleAWSError("purge applies to state: present (enable log_types, disable the others); with state: absent "
                              "only the log types listed are disabled")
    cluster = require_cluster(client, cluster_name, module.region)
    current = enabled_log_types(cluster)
    wanted = wanted_log_types(current, params["log_types"], params["state"], params["purge"])
    result = dict(
        changed=current != wanted,
        cluster_name=cluster_name,
        log_group_name=log_group_name(cluster_name),
        enabled_log_types=wanted,
        actions=plan_actions(cluster_name, current, wanted),
        diff={"before": {"enabled_log_types": current}, "after": {"enabled_log_types": wanted}},
    )
    if not result["changed"] or module.check_mode:
        return result
    log = WaitLog(clock)
    deadline = clock.now() + params["wait_timeout"]
    result["update_id"] = update_logging(client, cluster_name, wanted, deadline, clock, log)
    if params["wait"]:
        cluster = wait_for_logging(client, cluster_name, wanted, result["update_id"], deadline, clock, log)
        result["enabled_log_types"] = enabled_log_types(cluster)
    result.update(log.result())
    return result
