#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user_pool_info
short_description: Read Amazon Cognito user pools
version_added: 0.1.0
description:
  - Return the user pools called O(name) (Cognito allows several), the pool O(pool_id),
    or every pool of the region, each with its OIDC issuer URL.
author:
  - kubeauth maintainers (@kubeauth)
options:
  name:
    description:
      - Return only the pools with this name.
    type: str
  pool_id:
    description:
      - Return only this pool (an empty list when it does not exist).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
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
- name: Find the pool of the AWS post
  kubeauth.eks_oidc.cognito_user_pool_info:
    name: oidc-userpool
    region: us-west-2
  register: found

- name: Fail unless exactly one pool has that name
  ansible.builtin.assert:
    that: found.user_pools | length == 1
"""

RETURN = r"""
user_pools:
  description: The matching pools, as DescribeUserPool returns them in snake_case, each with C(issuer_url) and C(tags).
  returned: always
  type: list
  elements: dict
  sample:
    - id: us-west-2_re1u6bpRA
      name: oidc-userpool
      arn: arn:aws:cognito-idp:us-west-2:111122223333:userpool/us-west-2_re1u6bpRA
      issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
      tags: {}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import read_user_pools
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        name=dict(type="str"),
        pool_id=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[["name", "pool_id"]])
    module.exit_json(**run_flow(module, read_user_pools, cognito_client(module), what="user pool"))


if __name__ == "__main__":
    main()
