#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user_directory
short_description: Converge the users, groups and group memberships of an Amazon Cognito user pool in one task
version_added: 0.2.0
description:
  - Manage an Amazon Cognito user pool's directory as a whole, as Cognito calls a pool a user directory
    - its groups, its users (attributes, enabled state, a password when they are created) and which user
    belongs to which group - in one task, for tens or thousands of users.
  - The pool is read once, every list paginated (C(DescribeUserPool), C(ListGroups), C(ListUsers), and
    C(ListUsersInGroup) for the groups the users name), compared with O(groups) and O(users) exactly as
    M(kubeauth.eks_oidc.cognito_group) and M(kubeauth.eks_oidc.cognito_user) compare one group or user, and
    only what differs is changed. A run with nothing to change makes no other call.
  - Nothing that is not declared is removed unless asked - users with O(purge_users), groups with
    O(purge_groups), memberships with O(purge_memberships) or a user's O(users[].purge_groups).
  - Changes run concurrently, with at most as many calls in flight per Cognito quota category
    (C(UserCreation), C(UserUpdate), C(UserResourceUpdate), ...) as that category's request rate allows at a
    typical 100 ms per call (see O(request_quotas)). Calls Cognito throttles (C(TooManyRequestsException)) and
    transient errors are retried with jittered backoff.
  - Everything that can be refused is checked before the first change - groups the users name exist or are
    declared, each password meets the pool's password policy, no user is declared twice.
  - A run that stops half-way (interrupted, or some users refused) keeps what it did; running the task again
    does only what is still missing, and creates nothing twice. A user that exists when it is to be created
    (created by an interrupted run) is completed instead, a group that exists is taken as created.
  - Use M(kubeauth.eks_oidc.cognito_user) for a single user, and for a user's details as a result.
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
  groups:
    description:
      - The pool's groups. A group that does not exist is created; a setting given that differs is updated.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group's name.
        type: str
        required: true
      description:
        description: The group's description.
        type: str
      precedence:
        description: The group's precedence (0 is the highest).
        type: int
      role_arn:
        description: An IAM role for the group's members (identity pools).
        type: str
  users:
    description:
      - The pool's users; each takes the options of M(kubeauth.eks_oidc.cognito_user).
      - A user is found by its name, or in a pool whose users sign in with their email or phone number
        (C(username_attributes)) by that attribute, case-insensitively unless the pool is case sensitive.
    type: list
    elements: dict
    default: []
    suboptions:
      username:
        description:
          - The user's name, or the email or phone number it signs in with when the pool uses
            C(username_attributes).
        type: str
        required: true
        aliases: [name]
      attributes:
        description:
          - User attributes, name to value. Booleans become V("true") or V("false"), other values strings.
          - Only the attributes given are compared and changed; V(sub) cannot be set.
        type: dict
      password:
        description:
          - A permanent password, set when the user is created, when it still waits for its first password
            (C(FORCE_CHANGE_PASSWORD)), and on every run with O(users[].update_password=always).
          - Never returned, never in the diff or a message.
        type: str
      temporary_password:
        description:
          - A temporary password for a new user, who must replace it at first sign-in. Without it (and without
            O(users[].password)) Cognito generates one. Never returned.
        type: str
      update_password:
        description:
          - V(on_create) sets a password only when the user is created or still waits for its first one;
            V(always) on every run (the user is then reported changed on every run).
        type: str
        choices: [always, on_create]
        default: on_create
      groups:
        description:
          - Groups the user belongs to; each must be declared in O(groups) or exist.
          - Missing memberships are added; others are removed only with O(users[].purge_groups) (or
            O(purge_memberships)). Not given, the user's memberships are left as they are.
        type: list
        elements: str
      purge_groups:
        description:
          - Remove the user from the groups not listed in O(users[].groups). Not given, O(purge_memberships)
            decides.
        type: bool
      enabled:
        description: Whether the user may sign in.
        type: bool
        default: true
      send_invitation:
        description:
          - Send Cognito's invitation message when the user is created. By default no message is sent.
        type: bool
        default: false
  purge_users:
    description:
      - Delete the users of the pool that O(users) does not declare. With O(users=[]), every user.
    type: bool
    default: false
  purge_groups:
    description:
      - Delete the groups of the pool that O(groups) does not declare (their memberships go with them).
      - Users may then name only declared groups.
    type: bool
    default: false
  purge_memberships:
    description:
      - Remove each declared user that lists O(users[].groups) from the groups it does not list, unless the
        user's own O(users[].purge_groups) says otherwise.
    type: bool
    default: false
  request_quotas:
    description:
      - "Requests per second by Cognito quota category, where the account's quotas differ from Cognito's
        defaults (C(UserCreation=50), C(UserAccountRecovery=30), C(UserUpdate=25), C(UserResourceUpdate=25),
        C(UserList=30), C(UserRead=120), C(UserResourceRead=50), C(UserPoolRead=15),
        C(UserPoolResourceRead=20), C(UserPoolResourceUpdate=15)), for example
        V({UserCreation: 200}) after raising it in Service Quotas."
      - Each category gets one call in flight per 10 requests per second (at least one); group calls at most
        one, as Cognito allows 5 per second per operation and pool.
    type: dict
  state:
    description:
      - V(present) converges the directory to O(groups) and O(users).
      - V(absent) deletes the declared users and groups that exist, and nothing else.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode. The plan per user and per group is returned either way (RV(users),
    RV(groups)); the diff shows each changed user's and group's before and after. Passwords are shown as set,
    never by value.
  - API calls of a run with nothing to change, for 1000 users in 50 groups - one C(DescribeUserPool), one
    C(ListGroups), 17 pages of C(ListUsers) and 50 of C(ListUsersInGroup); see docs/performance.md.
seealso:
  - module: kubeauth.eks_oidc.cognito_user
  - module: kubeauth.eks_oidc.cognito_group
  - name: Quotas in Amazon Cognito
    description: The request rate quotas by category of operations.
    link: https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The organisation's directory
  kubeauth.eks_oidc.cognito_user_directory:
    user_pool_id: "{{ pool.user_pool.id }}"
    groups:
      - name: secret-reader
      - name: platform-admins
        description: Cluster administrators
    users:
      - username: test@example.com
        attributes: {email: test@example.com}
        password: "{{ vault_passwords['test@example.com'] }}"
        groups: [secret-reader]
      - username: alice@example.com
        attributes: {email: alice@example.com}
        temporary_password: "{{ vault_passwords['alice@example.com'] }}"
        groups: [platform-admins]

- name: Exactly these users and memberships; anyone else is removed
  kubeauth.eks_oidc.cognito_user_directory:
    user_pool_id: "{{ pool.user_pool.id }}"
    groups: "{{ directory.groups }}"
    users: "{{ directory.users }}"
    purge_users: true
    purge_memberships: true

- name: Remove the users and groups a play created
  kubeauth.eks_oidc.cognito_user_directory:
    user_pool_id: "{{ pool.user_pool.id }}"
    groups: [{name: secret-reader}]
    users: [{username: test@example.com}]
    state: absent
"""

RETURN = r"""
user_pool_id:
  description: The pool's id.
  returned: always
  type: str
  sample: us-west-2_re1u6bpRA
summary:
  description: How many users, groups and memberships the run changed (in check mode, would change).
  returned: always
  type: dict
  sample:
    users: {created: 998, updated: 1, deleted: 0, unchanged: 1}
    groups: {created: 50, updated: 0, deleted: 0, unchanged: 0}
    memberships: {added: 1000, removed: 0}
users:
  description:
    - The plan per user that changes, by declared username (a purged user by its stored name) - C(action)
      (V(create), V(update) or V(delete)) and C(changes), each changed setting's C(before) and C(after).
      A password set is shown as C((new password set)). Users without changes are not listed.
  returned: always
  type: dict
  sample:
    alice@example.com:
      action: update
      changes:
        enabled: {before: true, after: false}
        groups: {before: [secret-reader], after: [platform-admins, secret-reader]}
groups:
  description: The plan per group that changes, by name, as for RV(users).
  returned: always
  type: dict
  sample:
    platform-admins:
      action: create
      changes:
        Description: {before: null, after: Cluster administrators}
failures:
  description: What failed, when some changes failed (the module then fails, having done the rest).
  returned: on failure
  type: list
  elements: dict
  sample: [{kind: user, name: bob@example.com, error: "AdminCreateUser: InvalidParameterException: Invalid email address format."}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_directory import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    group_options = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        precedence=dict(type="int"),
        role_arn=dict(type="str"),
    )
    user_options = dict(
        username=dict(type="str", required=True, aliases=["name"]),
        attributes=dict(type="dict"),
        password=dict(type="str", no_log=True),
        temporary_password=dict(type="str", no_log=True),
        update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        groups=dict(type="list", elements="str"),
        purge_groups=dict(type="bool"),
        enabled=dict(type="bool", default=True),
        send_invitation=dict(type="bool", default=False),
    )
    argument_spec = dict(
        user_pool_id=dict(type="str", required=True),
        groups=dict(type="list", elements="dict", options=group_options, default=[]),
        users=dict(type="list", elements="dict", options=user_options, default=[]),
        purge_users=dict(type="bool", default=False),
        purge_groups=dict(type="bool", default=False),
        purge_memberships=dict(type="bool", default=False),
        request_quotas=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="user directory"))


if __name__ == "__main__":
    main()
