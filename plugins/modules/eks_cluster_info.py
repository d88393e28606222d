#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_cluster_info
short_description: Read an Amazon EKS cluster's endpoint, CA and ARN for a kubeconfig
version_added: 0.1.0
description:
  - Describes one EKS cluster, as C(aws eks update-kubeconfig) does before it writes the cluster's kubeconfig
    entry (step 4 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS").
  - RV(kubeconfig_cluster) is ready for the O(kubeauth.eks_oidc.kubeconfig#module:cluster) option of
    M(kubeauth.eks_oidc.kubeconfig).
  - A cluster that does not exist is not an error; RV(exists) is then V(false).
author:
  - kubeauth maintainers (@kubeauth)
options:
  name:
    description:
      - The cluster's name.
    type: str
    required: true
    aliases: [cluster_name]
  get_token:
    description:
      - Also return RV(token), the bearer token C(aws eks get-token) prints for the cluster, signed with this module's
        AWS connection (the IAM identity EKS maps through its access entries), and RV(kubeconfig), a kubeconfig
        document that authenticates with it, for the O(kubernetes.core.k8s#module:kubeconfig) option of the
        kubernetes.core modules. No AWS CLI, no file, no environment variable.
      - The token is valid for 15 minutes. The task must set C(no_log) to V(true); the module refuses otherwise.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Reads only; nothing changes, so check mode does what a normal run does.
seealso:
  - module: kubeauth.eks_oidc.kubeconfig
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: The cluster of the AWS post
  kubeauth.eks_oidc.eks_cluster_info:
    name: oidc-test
    region: us-west-2
  register: eks

- name: Its entry in ~/.kube/config (what aws eks update-kubeconfig writes, without the AWS CLI)
  kubeauth.eks_oidc.kubeconfig:
    cluster: "{{ eks.kubeconfig_cluster }}"
  when: eks.exists

- name: The EKS token of this play's AWS identity
  kubeauth.eks_oidc.eks_cluster_info:
    name: oidc-test
    region: us-west-2
    get_token: true
  register: admin
  no_log: true

- name: A ClusterRole, as that identity
  kubernetes.core.k8s:
    kubeconfig: "{{ admin.kubeconfig }}"
    definition: "{{ cluster_role }}"
"""

RETURN = r"""
exists:
  description: Whether the cluster exists.
  returned: always
  type: bool
  sample: true
cluster:
  description: The cluster as DescribeCluster returns it, in snake_case; empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The cluster's name.
      type: str
      sample: oidc-test
    arn:
      description: The cluster's ARN.
      type: str
      sample: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
    endpoint:
      description: The API server URL; absent while the cluster is being created.
      type: str
      sample: https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
    certificate_authority:
      description: The cluster CA, C(data) base64-encoded PEM.
      type: dict
      sample: {"data": "LS0tLS1CRUdJTi..."}
    status:
      description: V(CREATING), V(ACTIVE), V(UPDATING), V(DELETING) or V(FAILED).
      type: str
      sample: ACTIVE
    version:
      description: The Kubernetes version.
      type: str
      sample: "1.32"
token:
  description: The EKS bearer token (C(k8s-aws-v1.) and a presigned STS C(GetCallerIdentity) URL for the cluster).
  returned: O(get_token=true) and the cluster has an endpoint
  type: str
token_expiration:
  description: When kubectl would ask for a new token, RFC 3339 (14 minutes from now, as C(aws eks get-token)).
  returned: O(get_token=true) and the cluster has an endpoint
  type: str
kubeconfig:
  description: A kubeconfig document for the cluster whose user is RV(token), for the kubernetes.core modules.
  returned: O(get_token=true) and the cluster has an endpoint
  type: dict
kubeconfig_cluster:
  description:
    - The settings of the cluster's kubeconfig entry, named by ARN as C(aws eks update-kubeconfig) names it.
    - Empty when the cluster does not exist or has no endpoint yet.
  returned: always
  type: dict
  sample:
    name: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
    server: https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
    certificate_authority_data: LS0tLS1CRUdJTi...
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster import read_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["cluster_name"]),
        get_token=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, read_cluster, eks_client(module), what="EKS cluster"))


if __name__ == "__main__":
    main()
