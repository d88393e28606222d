#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_cluster_logging
short_description: Enable or disable an Amazon EKS cluster's control-plane log types, such as the audit log
version_added: 0.1.0
description:
  - Turns the control-plane log types of an EKS cluster on or off (UpdateClusterConfig C(logging)), idempotently.
    EKS then sends those logs to the CloudWatch Logs group C(/aws/eks/CLUSTER/cluster).
  - The C(audit) log type is what the section "OIDC-authenticated user audit logging" of the AWS post
    "Introducing OIDC identity provider authentication for Amazon EKS" needs. Query it with
    M(kubeauth.eks_oidc.eks_audit_events_info).
  - An update is sent only when the enabled log types differ from the task's; EKS refuses an update that changes
    nothing. While the cluster is busy with another update (an identity provider association, an upgrade) the
    module retries until O(wait_timeout).
  - Events from before a log type was enabled are not sent to CloudWatch Logs afterwards.
author:
  - kubeauth maintainers (@kubeauth)
options:
  cluster_name:
    description:
      - The EKS cluster.
    type: str
    required: true
    aliases: [name]
  log_types:
    description:
      - The log types to enable (O(state=present)) or disable (O(state=absent)).
      - V([]) with O(purge=true) disables every log type.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
    default: [audit]
  state:
    description:
      - V(present) enables O(log_types); V(absent) disables them. Log types not listed keep their setting,
        unless O(purge=true).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), disable the log types not listed in O(log_types).
    type: bool
    default: false
  wait:
    description:
      - Wait until EKS reports the update successful and the cluster has the log types enabled.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait in all, for a busy cluster and for the update.
    type: int
    default: 900
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - Control-plane logs are charged as CloudWatch Logs ingestion and storage. EKS creates the log group without
    an expiry; set a retention with M(amazon.aws.cloudwatchlogs_log_group) (the role C(kubeauth.eks_oidc.audit)
    can).
  - On the sandbox's EKS twin only the audit log type is shipped to CloudWatch Logs (docs/audit.md).
  - "IAM permissions: C(eks:DescribeCluster), C(eks:UpdateClusterConfig), C(eks:DescribeUpdate)."
seealso:
  - module: kubeauth.eks_oidc.eks_audit_events_info
  - name: Amazon EKS control plane logging
    description: The log types and their log group.
    link: https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Audit logging for the cluster of the AWS post
  kubeauth.eks_oidc.eks_cluster_logging:
    cluster_name: oidc-test
    log_types: [audit]
    region: us-west-2

- name: Exactly the API server and audit logs, nothing else
  kubeauth.eks_oidc.eks_cluster_logging:
    cluster_name: oidc-test
    log_types: [api, audit]
    purge: true

- name: Turn audit logging off again (other log types stay as they are)
  kubeauth.eks_oidc.eks_cluster_logging:
    cluster_name: oidc-test
    log_types: [audit]
    state: absent
"""

RETURN = r"""
cluster_name:
  description: The cluster.
  returned: always
  type: str
  sample: oidc-test
enabled_log_types:
  description: The log types enabled after the task (in check mode, those that would be), in EKS's order.
  returned: always
  type: list
  elements: str
  sample: [audit]
log_group_name:
  description: The CloudWatch Logs group EKS writes the cluster's control-plane logs to.
  returned: always
  type: str
  sample: /aws/eks/oidc-test/cluster
actions:
  description: What the task did (in check mode, would do).
  returned: always
  type: list
  elements: str
  sample: ["enable audit logging of cluster 'oidc-test'"]
update_id:
  description: The id of the EKS update; null when EKS found nothing left to change.
  returned: when an update was sent
  type: str
  sample: 3cd6bd5b-27de-3e29-9b7a-0bc9bc7e2a6c
wait_log:
  description: Each change of state seen while waiting, with the seconds elapsed.
  returned: when an update was sent
  type: list
  elements: dict
  sample: [{"elapsed_seconds": 0, "subject": "logging", "cluster_status": "UPDATING", "update_status": "InProgress",
            "enabled_log_types": []}]
elapsed_seconds:
  description: Seconds the module spent sending and waiting for the update.
  returned: when an update was sent
  type: int
  sample: 64
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster_logging import LOG_TYPES
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster_logging import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Clock
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True, aliases=["name"]),
        log_types=dict(type="list", elements="str", choices=list(LOG_TYPES), default=["audit"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, eks_client(module), Clock(), what="EKS cluster logging"))


if __name__ == "__main__":
    main()
