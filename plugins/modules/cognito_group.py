#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_group
short_description: Manage a group of an Amazon Cognito user pool
version_added: 0.1.0
description:
  - Create, update or delete a group of an Amazon Cognito user pool, such as the C(secret-reader)
    group of step 1 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS".
  - A user's groups reach Kubernetes as the C(cognito:groups) claim of the ID token, which the EKS
    identity provider configuration maps to Kubernetes groups (RBAC subjects).
  - Settings the task does not mention are left as they are.
  - Members are managed with M(kubeauth.eks_oidc.cognito_user) (its O(kubeauth.eks_oidc.cognito_user#module:groups) option).
author:
  - kubeauth maintainers (@kubeauth)
options:
  user_pool_id:
    description:
      - The id of the user pool the group belongs to, such as V(us-west-2_re1u6bpRA).
      - With O(state=present) the pool must exist; with O(state=absent) a missing pool means there is
        nothing to delete.
    type: str
    required: true
  name:
    description:
      - The group's name, unique within the pool. This is the name tokens carry in C(cognito:groups).
    type: str
    required: true
    aliases: [group_name]
  description:
    description:
      - A description of the group, up to 2048 characters.
    type: str
  precedence:
    description:
      - The group's precedence, 0 or more. When a user belongs to several groups with a role, the role of
        the group with the lowest precedence becomes the C(cognito:preferred_role) claim.
    type: int
  role_arn:
    description:
      - The ARN of an IAM role for the group's members (C(cognito:roles) and C(cognito:preferred_role) claims).
    type: str
  state:
    description:
      - Whether the group should exist. Deleting a group removes it from its members; the users stay.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - MiniStack reports an unset description or role as an empty string and an unset precedence as V(0);
    the module treats the empty strings as unset, as AWS reports them.
seealso:
  - module: kubeauth.eks_oidc.cognito_user
  - module: kubeauth.eks_oidc.cognito_user_pool
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The group of the AWS post, bound to Kubernetes RBAC as gid:secret-reader
  kubeauth.eks_oidc.cognito_group:
    user_pool_id: "{{ pool.user_pool.id }}"
    name: secret-reader
    description: May read Kubernetes secrets

- name: A group whose members assume an IAM role
  kubeauth.eks_oidc.cognito_group:
    user_pool_id: us-west-2_re1u6bpRA
    name: platform-admins
    precedence: 1
    role_arn: arn:aws:iam::111122223333:role/platform-admins

- name: Delete the group
  kubeauth.eks_oidc.cognito_group:
    user_pool_id: us-west-2_re1u6bpRA
    name: secret-reader
    state: absent
"""

RETURN = r"""
group:
  description: The group, as GetGroup returns it in snake_case. Empty after deletion.
  returned: always
  type: dict
  contains:
    group_name:
      description: The group's name.
      type: str
      sample: secret-reader
    user_pool_id:
      description: The pool the group belongs to.
      type: str
      sample: us-west-2_re1u6bpRA
    description:
      description: The group's description, null when unset.
      type: str
      sample: May read Kubernetes secrets
    precedence:
      description: The group's precedence, null when unset (MiniStack reports V(0)).
      type: int
      sample: 1
    role_arn:
      description: The group's IAM role, null when unset.
      type: str
      sample: arn:aws:iam::111122223333:role/platform-admins
    creation_date:
      description: When the group was created. Absent in check mode.
      type: str
      sample: "2026-01-31T12:00:00+00:00"
    last_modified_date:
      description: When the group was last changed. Absent in check mode.
      type: str
      sample: "2026-01-31T12:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        user_pool_id=dict(type="str", required=True),
        name=dict(type="str", required=True, aliases=["group_name"]),
        description=dict(type="str"),
        precedence=dict(type="int"),
        role_arn=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="user pool group"))


if __name__ == "__main__":
    main()
