#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user_pool
short_description: Manage an Amazon Cognito user pool, an OpenID Connect identity provider
version_added: 0.1.0
description:
  - Create, update or delete an Amazon Cognito user pool, the OIDC identity provider of
    step 1 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS".
  - Pool names are not unique in Cognito. The pool is found by O(name); when several pools
    share that name the module refuses to act and lists their ids, unless O(pool_id) is given.
  - Settings that AWS fixes at creation (O(username_attributes), O(username_case_sensitive))
    are never changed silently; a different value fails with a message that says so.
  - Deleting a pool with deletion protection on fails unless O(deletion_protection=false)
    is given with O(state=absent). A pool's hosted-UI domains are deleted before the pool,
    because AWS refuses to delete a pool that still has one.
  - Settings the task does not mention are left as they are, also on update (UpdateUserPool
    alone would reset them to their defaults).
author:
  - kubeauth maintainers (@kubeauth)
options:
  name:
    description:
      - The user pool's name. Required with O(state=present).
    type: str
  pool_id:
    description:
      - The user pool's id, such as V(us-west-2_re1u6bpRA). Chooses the pool when several share O(name),
        and renames it when O(name) differs.
    type: str
  state:
    description:
      - Whether the pool should exist.
    type: str
    choices: [present, absent]
    default: present
  password_policy:
    description:
      - The pool's password policy. Fields left out are set to Cognito's defaults when the policy changes.
    type: dict
    suboptions:
      minimum_length:
        description: Minimum password length, 6 to 99.
        type: int
      require_lowercase:
        description: Require a lowercase letter.
        type: bool
      require_uppercase:
        description: Require an uppercase letter.
        type: bool
      require_numbers:
        description: Require a number.
        type: bool
      require_symbols:
        description: Require a symbol.
        type: bool
      temporary_password_validity_days:
        description: Days an administrator-set temporary password stays valid, 0 to 365.
        type: int
  username_attributes:
    description:
      - Attributes users may sign in with instead of a username, such as V(email). Fixed at creation.
    type: list
    elements: str
    choices: [email, phone_number]
  username_case_sensitive:
    description:
      - Whether user names are case sensitive. Fixed at creation. AWS's default is V(true).
    type: bool
  auto_verified_attributes:
    description:
      - Attributes Cognito verifies automatically by sending a code. V([]) verifies none.
    type: list
    elements: str
    choices: [email, phone_number]
  self_sign_up:
    description:
      - Whether users may sign themselves up. V(false) lets only administrators create users.
    type: bool
  account_recovery:
    description:
      - Account recovery mechanisms in priority order. V([admin_only]) leaves recovery to an administrator
        (the post's C(AccountRecovery.NONE)).
    type: list
    elements: str
    choices: [verified_email, verified_phone_number, admin_only]
  mfa_configuration:
    description:
      - Multi-factor authentication. V(ON) and V(OPTIONAL) enable software-token (TOTP) MFA.
    type: str
    choices: ['OFF', 'ON', 'OPTIONAL']
  deletion_protection:
    description:
      - Whether the pool is protected from deletion.
      - With O(state=absent), V(false) turns protection off so the pool can be deleted.
    type: bool
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - MiniStack, the local AWS emulator of the sandbox, deletes pools that have deletion protection
    or a domain; this module checks both itself, so it behaves as on AWS.
seealso:
  - module: kubeauth.eks_oidc.cognito_user_pool_info
  - module: kubeauth.eks_oidc.cognito_user_pool_client
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The user pool of the AWS post (email sign-in, 8 characters, no character classes)
  kubeauth.eks_oidc.cognito_user_pool:
    name: oidc-userpool
    region: us-west-2
    password_policy:
      minimum_length: 8
      require_lowercase: false
      require_uppercase: false
      require_numbers: false
      require_symbols: false
    username_attributes: [email]
    username_case_sensitive: false
    auto_verified_attributes: []
    self_sign_up: true
    account_recovery: [admin_only]
  register: pool

- name: Use the issuer URL for the EKS association
  ansible.builtin.debug:
    msg: "{{ pool.user_pool.issuer_url }}"

- name: Delete a pool that is protected from deletion
  kubeauth.eks_oidc.cognito_user_pool:
    pool_id: us-west-2_re1u6bpRA
    deletion_protection: false
    state: absent
"""

RETURN = r"""
user_pool:
  description: The user pool, as DescribeUserPool returns it in snake_case. Empty after deletion.
  returned: always
  type: dict
  contains:
    id:
      description: The pool's id.
      type: str
      sample: us-west-2_re1u6bpRA
    arn:
      description: The pool's ARN.
      type: str
      sample: arn:aws:cognito-idp:us-west-2:111122223333:userpool/us-west-2_re1u6bpRA
    name:
      description: The pool's name.
      type: str
      sample: oidc-userpool
    issuer_url:
      description: The pool's OIDC issuer, the C(iss) of its tokens and the issuer URL to associate with EKS.
      type: str
      sample: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    policies:
      description: The password policy.
      type: dict
      sample: {"password_policy": {"minimum_length": 8, "require_lowercase": false}}
    username_attributes:
      description: Attributes users sign in with.
      type: list
      elements: str
      sample: [email]
    mfa_configuration:
      description: The MFA setting.
      type: str
      sample: "OFF"
    deletion_protection:
      description: V(ACTIVE) or V(INACTIVE).
      type: str
      sample: INACTIVE
    tags:
      description: The pool's tags.
      type: dict
      sample: {"team": "platform"}
deleted_domains:
  description: Hosted-UI domains deleted together with the pool.
  returned: when O(state=absent) and the pool existed
  type: list
  elements: str
  sample: [oidc-userpool]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        name=dict(type="str"),
        pool_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        password_policy=dict(
            type="dict",
            options=dict(
                minimum_length=dict(type="int", no_log=False),
                require_lowercase=dict(type="bool"),
                require_uppercase=dict(type="bool"),
                require_numbers=dict(type="bool"),
                require_symbols=dict(type="bool"),
                temporary_password_validity_days=dict(type="int", no_log=False),
            ),
            no_log=False,
        ),
        username_attributes=dict(type="list", elements="str", choices=["email", "phone_number"]),
        username_case_sensitive=dict(type="bool"),
        auto_verified_attributes=dict(type="list", elements="str", choices=["email", "phone_number"]),
        self_sign_up=dict(type="bool"),
        account_recovery=dict(type="list", elements="str", choices=["verified_email", "verified_phone_number", "admin_only"]),
        mfa_configuration=dict(type="str", choices=["OFF", "ON", "OPTIONAL"]),
        deletion_protection=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="user pool"))


if __name__ == "__main__":
    main()
