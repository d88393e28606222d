#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubernetes_access_info
short_description: Who the Kubernetes API server thinks you are, and what you may do
version_added: 0.1.0
description:
  - Sends a SelfSubjectReview (who am I) and one SelfSubjectAccessReview per check (may I ...?)
    with the credentials of a kubeconfig context, as kubectl would use them (exec credential
    plugins included).
  - With the context of an OIDC user this proves Step 5 of the AWS post, showing the username and groups
    the API server computed from the ID token, and which requests RBAC allows.
  - A check that carries O(checks[].allowed) is compared with the answer; RV(rows) says which differ.
    The module never fails on a difference; the C(verify) role does.
  - It connects as M(kubernetes.core.k8s_info) does, with the same options, O(kubeconfig) and O(context)
    (the current context of the default kubeconfig when neither is given), or O(host) with O(api_key)
    or a client certificate.
author:
  - kubeauth maintainers (@kubeauth)
requirements:
  - kubernetes (Python client)
  - PyYAML
options:
  checks:
    description: The access checks.
    type: list
    elements: dict
    default: []
    suboptions:
      verb:
        description: The verb, such as V(list) or V(get).
        type: str
        required: true
      resource:
        description: The resource, such as V(secrets) or V(nodes).
        type: str
        required: true
      group:
        description: The API group; empty for the core group.
        type: str
        default: ""
      namespace:
        description: The namespace; omitted means cluster-wide (or all namespaces).
        type: str
      name:
        description: One object's name.
        type: str
      subresource:
        description: A subresource such as V(log).
        type: str
      allowed:
        description: The expected answer, compared in RV(rows).
        type: bool
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubernetes.core.k8s_auth_options
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: Reviews create nothing; they run in check mode too.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: As the OIDC user of the AWS post
  kubeauth.eks_oidc.kubernetes_access_info:
    context: oidc-oidc-test
    checks:
      - {verb: list, resource: secrets, namespace: default, allowed: true}
      - {verb: list, resource: nodes, allowed: false}
  register: access

- name: Show who the API server sees
  ansible.builtin.debug:
    msg: "{{ access.user.username }} in {{ access.user.groups }}"
"""

RETURN = r"""
user:
  description: The authenticated user (SelfSubjectReview status.userInfo).
  returned: success
  type: dict
  contains:
    username:
      description: The username after the identity provider's claim mapping and prefix.
      type: str
      sample: test@example.com
    groups:
      description: The groups, prefixed, plus C(system:authenticated).
      type: list
      elements: str
      sample: ["gid:secret-reader", "system:authenticated"]
    uid:
      description: The uid, when the authenticator sets one.
      type: str
    extra:
      description: Extra attributes.
      type: dict
rows:
  description: One row per check.
  returned: success
  type: list
  elements: dict
  sample:
    - {check: "list secrets in namespace default", expected: allowed, actual: allowed, ok: true,
       reason: 'RBAC: allowed by ClusterRoleBinding "read-secrets-role-binding"'}
all_ok:
  description: Whether every check with an expectation got the expected answer.
  returned: success
  type: bool
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.access_review import AccessReviewError
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.access_review import review_access


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        checks=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                verb=dict(type="str", required=True),
                resource=dict(type="str", required=True),
                group=dict(type="str", default=""),
                namespace=dict(type="str"),
                name=dict(type="str"),
                subresource=dict(type="str"),
                allowed=dict(type="bool"),
            ),
        ),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        user, rows = review_access(module)
    except AccessReviewError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, user=user, rows=rows, all_ok=all(row["ok"] for row in rows))


if __name__ == "__main__":
    main()
