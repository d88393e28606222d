# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: keycloak_user_plan
short_description: The Keycloak users to create or update, compared with what the realm holds
version_added: 0.1.0
description:
  - Compares the users of the role keycloak_idp (C(eks_oidc_users)) with the realm's users and group members as
    Keycloak's admin API lists them, and returns only those that are missing or differ (email, first and last name,
    enabled, email verified, missing group memberships), ready for M(community.general.keycloak_user).
  - Usernames and emails are compared in lower case, as Keycloak stores them. Memberships are only added.
  - A password is set when the user is created (C(credentials) of a user whose C(create) is true), never compared.
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description: The wanted users, in the shape cognito_idp takes (username, attributes.email, password, groups, ...).
    type: list
    elements: dict
    required: true
  existing_users:
    description: The realm's users (GET /admin/realms/REALM/users).
    type: list
    elements: dict
    required: true
  group_members:
    description: Usernames of the members of each group the users name, by group name.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Users that need keycloak_user
  ansible.builtin.set_fact:
    planned: "{{ eks_oidc_users | kubeauth.eks_oidc.keycloak_user_plan(users.json, {'secret-reader': ['test@example.com']}) }}"
  no_log: true  # planned users carry the passwords of users to create
"""

RETURN = r"""
_value:
  description:
    - One entry per user to create or update - username, email, first_name, last_name, enabled, email_verified,
      groups (names), create (bool), reasons (what differs), and credentials for a user to create with a password.
  type: list
  elements: dict
"""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.keycloak import plan_users


def _keycloak_user_plan(items, existing_users, group_members=None):
    return plan_users(items, existing_users, group_members or {})


class FilterModule(object):
    def filters(self):
        return {"keycloak_user_plan": _keycloak_user_plan}
