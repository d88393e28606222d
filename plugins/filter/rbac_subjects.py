# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rbac_subjects
short_description: RBAC subjects for OIDC groups and users, prefixed as the API server sees them
version_added: 0.1.0
description:
  - Turns identity provider group and user names into the C(subjects) of a ClusterRoleBinding or RoleBinding,
    adding the prefixes of the EKS identity provider association (for example C(gid:)).
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description: Group names, as the identity provider names them.
    type: list
    elements: str
    required: true
  users:
    description: User names, as the identity provider names them (the username claim's value).
    type: list
    elements: str
    default: []
  groups_prefix:
    description: The association's groups prefix.
    type: str
    default: ""
  username_prefix:
    description: The association's effective username prefix.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The post's binding subject
  ansible.builtin.debug:
    msg: "{{ ['secret-reader'] | kubeauth.eks_oidc.rbac_subjects(groups_prefix='gid:') }}"
  # [{"kind": "Group", "name": "gid:secret-reader", "apiGroup": "rbac.authorization.k8s.io"}]
"""

RETURN = r"""
_value:
  description: The subjects.
  type: list
  elements: dict
"""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.rbac import rbac_subjects


def _rbac_subjects(groups, users=None, groups_prefix="", username_prefix=""):
    return rbac_subjects(groups, users, groups_prefix, username_prefix)


class FilterModule(object):
    def filters(self):
        return {"rbac_subjects": _rbac_subjects}
