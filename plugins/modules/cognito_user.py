#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user
short_description: Manage a user of an Amazon Cognito user pool, its password and its groups
version_added: 0.1.0
description:
  - Create, update or delete a user of an Amazon Cognito user pool, as step 1 of the AWS post
    "Introducing OIDC identity provider authentication for Amazon EKS" does with
    C(admin-create-user), C(admin-set-user-password --permanent) and C(admin-add-user-to-group).
  - With O(password) the user gets a permanent password at once and can sign in (status C(CONFIRMED))
    without the temporary-password exchange.
  - Only the attributes given in O(attributes) are compared and changed; others are left as they are.
  - Everything that can be refused is checked before the user is created or changed (the pool exists,
    the groups in O(groups) exist, and each password meets the pool's password policy). If a later step
    still fails while creating the user, the user is deleted again, so nothing is left half-created.
  - The user is looked up by O(username). In a pool whose users sign in with their email
    (C(username_attributes=[email])) AWS stores the user under a generated UUID and accepts the email
    here as well; the returned RV(user.username) is the stored name.
author:
  - kubeauth maintainers (@kubeauth)
options:
  user_pool_id:
    description:
      - The id of the user pool, such as V(us-west-2_re1u6bpRA).
      - With O(state=present) the pool must exist; with O(state=absent) a missing pool means there is
        nothing to delete.
    type: str
    required: true
  username:
    description:
      - The user's name, or the email or phone number it signs in with when the pool uses
        C(username_attributes).
    type: str
    required: true
    aliases: [name]
  attributes:
    description:
      - "User attributes, name to value, such as V({email: test@example.com, email_verified: 'true'}).
        Custom attributes take their C(custom:) prefix."
      - Booleans become V("true") or V("false"), other values strings, as Cognito stores them.
      - Only the attributes given are managed; an attribute not listed is never removed. V(sub) is
        assigned by Cognito and cannot be set.
    type: dict
  password:
    description:
      - A permanent password. Set when the user is created, when the user still has only a temporary
        password (status C(FORCE_CHANGE_PASSWORD)), and on every run with O(update_password=always).
      - Checked against the pool's password policy before anything changes.
      - Never returned and never shown in the diff.
    type: str
  temporary_password:
    description:
      - A temporary password for a new user, who must replace it at first sign-in. Without it (and
        without O(password)) Cognito generates one.
      - With O(update_password=always) and no O(password), set again on every run, which puts the user
        back to C(FORCE_CHANGE_PASSWORD).
      - Checked against the pool's password policy before anything changes. Never returned.
    type: str
  update_password:
    description:
      - V(on_create) sets a password only when the user is created or still waits for its first permanent
        password.
      - V(always) sets it on every run and then always reports C(changed), because a password cannot be
        read back to compare.
    type: str
    choices: [always, on_create]
    default: on_create
  groups:
    description:
      - Groups the user belongs to. Every group must exist (see M(kubeauth.eks_oidc.cognito_group)).
      - Missing memberships are added; other memberships are removed only with O(purge_groups=true).
      - Not given, memberships are left as they are.
    type: list
    elements: str
  purge_groups:
    description:
      - Remove the user from the groups not listed in O(groups).
    type: bool
    default: false
  enabled:
    description:
      - Whether the user may sign in.
    type: bool
    default: true
  send_invitation:
    description:
      - Send Cognito's invitation message (by email or SMS, depending on O(attributes)) when the user is
        created. By default no message is sent (C(MessageAction=SUPPRESS)), as automation expects.
    type: bool
    default: false
  state:
    description:
      - Whether the user should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode. The diff shows that a password is set, never the password.
  - The calls per user are kept to one read of the user and one listing of its groups; the pool's
    password policy and its groups are read only when a password is to be set or a group to be added.
seealso:
  - module: kubeauth.eks_oidc.cognito_group
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
- name: The user of the AWS post, with a permanent password, in the secret-reader group
  kubeauth.eks_oidc.cognito_user:
    user_pool_id: "{{ pool.user_pool.id }}"
    username: test@example.com
    attributes:
      email: test@example.com
      email_verified: true
    password: "{{ oidc_user_password }}"
    groups: [secret-reader]

- name: A user who chooses a password at first sign-in and is invited by email
  kubeauth.eks_oidc.cognito_user:
    user_pool_id: us-west-2_re1u6bpRA
    username: alice@example.com
    attributes:
      email: alice@example.com
    temporary_password: "{{ alice_temporary_password }}"
    send_invitation: true

- name: Exactly these groups, and disable sign-in
  kubeauth.eks_oidc.cognito_user:
    user_pool_id: us-west-2_re1u6bpRA
    username: test@example.com
    groups: [viewers]
    purge_groups: true
    enabled: false

- name: Delete the user
  kubeauth.eks_oidc.cognito_user:
    user_pool_id: us-west-2_re1u6bpRA
    username: test@example.com
    state: absent
"""

RETURN = r"""
user:
  description: The user. Empty after deletion. Never contains a password.
  returned: always
  type: dict
  contains:
    username:
      description: The name Cognito stores the user under (a UUID in pools that sign in with email on AWS).
      type: str
      sample: 86f7130a-5605-4c05-b402-c970b27633ce
    sub:
      description: The user's unique, immutable id, the C(sub) claim of its tokens. Null in check mode.
      type: str
      sample: 86f7130a-5605-4c05-b402-c970b27633ce
    attributes:
      description: Every attribute of the user, name to value.
      type: dict
      sample: {"email": "test@example.com", "email_verified": "true", "sub": "86f7130a-5605-4c05-b402-c970b27633ce"}
    enabled:
      description: Whether the user may sign in.
      type: bool
      sample: true
    user_status:
      description: The user's status, such as V(CONFIRMED) or V(FORCE_CHANGE_PASSWORD).
      type: str
      sample: CONFIRMED
    groups:
      description: The groups the user belongs to, sorted. These are the C(cognito:groups) claim of its ID token.
      type: list
      elements: str
      sample: [secret-reader]
    user_create_date:
      description: When the user was created. Null in check mode.
      type: str
      sample: "2026-01-31T12:00:00+00:00"
    user_last_modified_date:
      description: When the user was last changed. Null in check mode.
      type: str
      sample: "2026-01-31T12:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        user_pool_id=dict(type="str", required=True),
        username=dict(type="str", required=True, aliases=["name"]),
        attributes=dict(type="dict"),
        password=dict(type="str", no_log=True),
        temporary_password=dict(type="str", no_log=True),
        update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        groups=dict(type="list", elements="str"),
        purge_groups=dict(type="bool", default=False),
        enabled=dict(type="bool", default=True),
        send_invitation=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="user"))


if __name__ == "__main__":
    main()
