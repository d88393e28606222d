#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubeconfig_info
short_description: Read the clusters, users and contexts of a kubeconfig file, secrets masked
version_added: 0.2.0
description:
  - Reads a kubeconfig after the checks M(kubeauth.eks_oidc.kubeconfig) makes before it writes one (a file and
    directory of the user's that nobody else may write; a symbolic link only with O(follow=true)).
  - Returns its entries with every credential masked (C(********)), as M(kubeauth.eks_oidc.kubeconfig) shows them.
  - With O(return_credentials=true), also the OIDC tokens one user entry holds (the auth provider's ID and refresh
    token, or a static token), so a play can check whether they are still good before it logs in again. The task
    must then set C(no_log) to V(true).
author:
  - kubeauth maintainers (@kubeauth)
options:
  path:
    description: The kubeconfig file. A missing file is not an error (RV(exists) is V(false)).
    type: path
    default: ~/.kube/config
  follow:
    description: Allow O(path) to be a symbolic link of the user's (every link on the way).
    type: bool
    default: false
  user:
    description: The user entry whose tokens O(return_credentials) returns.
    type: str
  return_credentials:
    description:
      - Return RV(tokens) of O(user) in clear. Refused unless the task sets C(no_log) to V(true).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - PyYAML
seealso:
  - module: kubeauth.eks_oidc.kubeconfig
"""

EXAMPLES = r"""
- name: The tokens the post's auth-provider entry holds
  kubeauth.eks_oidc.kubeconfig_info:
    path: ~/.kube/config
    user: oidc-oidc-test
    return_credentials: true
  register: current
  no_log: true

- name: Still good?
  kubeauth.eks_oidc.oidc_token_info:
    token: "{{ current.tokens.id_token }}"
    issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    audience: 702vqsrjicklgb7c5b7b50i1gc
  when: current.tokens.id_token | length > 0
"""

RETURN = r"""
path:
  description: The file read; with O(follow=true), the file the link points to.
  returned: always
  type: str
exists:
  description: Whether the file exists.
  returned: always
  type: bool
current_context:
  description: Its C(current-context), or an empty string.
  returned: always
  type: str
clusters:
  description: The cluster entries, as in the file.
  returned: always
  type: list
  elements: dict
users:
  description: The user entries, credentials masked.
  returned: always
  type: list
  elements: dict
contexts:
  description: The context entries.
  returned: always
  type: list
  elements: dict
tokens:
  description: The OIDC tokens of O(user), empty strings when it holds none (or does not exist).
  returned: O(return_credentials=true)
  type: dict
  contains:
    id_token:
      description: The auth provider's C(id-token), or the static C(token).
      type: str
    refresh_token:
      description: The auth provider's C(refresh-token).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubeconfig


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="~/.kube/config"),
            follow=dict(type="bool", default=False),
            user=dict(type="str"),
            return_credentials=dict(type="bool", default=False),
        ),
        required_if=[("return_credentials", True, ["user"])],
        supports_check_mode=True,
    )
    try:
        result = kubeconfig.read_info(module.params, module.no_log)
    except kubeconfig.KubeconfigError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
