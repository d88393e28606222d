#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_identity_provider_config_info
short_description: Read the OIDC identity provider configs of an Amazon EKS cluster
version_added: 0.1.0
description:
  - Return the OIDC identity provider config O(name) of a cluster, or all of them, each with the claim mapping
    the API server applies (EKS's defaults filled in), so that RBAC subjects can name the users and groups it sees.
author:
  - kubeauth maintainers (@kubeauth)
options:
  cluster_name:
    description:
      - The EKS cluster's name. A cluster that does not exist is an error.
    type: str
    required: true
  name:
    description:
      - Return only this config (an empty list when it does not exist).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: kubeauth.eks_oidc.eks_identity_provider_config
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read the OIDC configs of cluster oidc-test
  kubeauth.eks_oidc.eks_identity_provider_config_info:
    cluster_name: oidc-test
    region: us-west-2
  register: found

- name: The group a ClusterRoleBinding must name for the Cognito group secret-reader
  ansible.builtin.debug:
    msg: "{{ found.identity_provider_configs[0].claim_mapping.groups_prefix }}secret-reader"
"""

RETURN = r"""
identity_provider_configs:
  description:
    - The configs, as DescribeIdentityProviderConfig returns them in snake_case with their tags, each with
      C(claim_mapping) and C(kubernetes_username_rule) as M(kubeauth.eks_oidc.eks_identity_provider_config)
      returns them.
  returned: always
  type: list
  elements: dict
  sample:
    - identity_provider_config_name: oidc-config
      identity_provider_config_arn: arn:aws:eks:us-west-2:111122223333:identityproviderconfig/oidc-test/oidc/oidc-config/8ebd5b5b
      cluster_name: oidc-test
      status: ACTIVE
      issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
      client_id: 702vqsrjicklgb7c5b7b50i1gc
      username_claim: email
      groups_claim: cognito:groups
      groups_prefix: "gid:"
      required_claims: {}
      tags: {}
      claim_mapping:
        username_claim: email
        username_prefix: ""
        groups_claim: cognito:groups
        groups_prefix: "gid:"
      kubernetes_username_rule: claims.email
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.identity_provider_config import read_info
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, read_info, eks_client(module), what="EKS identity provider config"))


if __name__ == "__main__":
    main()
