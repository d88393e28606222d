# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aws_shared_credentials
short_description: The keys of a set of amazon.aws connection options, as an AWS shared credentials file
version_added: 0.2.0
description:
  - The content of an AWS shared credentials file (profile C(default)) with the C(access_key), C(secret_key) and
    C(session_token) (or their amazon.aws aliases) of O(_input); empty when the options hold no keys.
  - For programs outside Ansible that must sign with the same keys, such as the EKS token plugin of a kubeconfig's
    admin entry. Write it with mode C(0600) in a task with C(no_log), remove it afterwards, and name it with
    P(kubeauth.eks_oidc.aws_environment#filter)'s O(kubeauth.eks_oidc.aws_environment#filter:credentials_file).
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description: amazon.aws connection options.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The connection's keys for the token plugin
  ansible.builtin.copy:
    content: "{{ eks_oidc_aws_connection | kubeauth.eks_oidc.aws_shared_credentials }}"
    dest: ~/.kube/aws-credentials
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: The file's content, or an empty string.
  type: str
"""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_environment import aws_shared_credentials


class FilterModule(object):
    def filters(self):
        return {"aws_shared_credentials": aws_shared_credentials}
