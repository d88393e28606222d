# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aws_environment
short_description: The AWS environment variables of a set of amazon.aws connection options, secrets left out
version_added: 0.2.0
description:
  - Turns the connection options the collection's AWS modules take (O(_input), such as C(eks_oidc_aws_connection))
    into the environment variables botocore reads, for programs that are not Ansible modules but sign AWS requests
    with the same identity, such as the EKS token plugin that kubectl (or the kubernetes client of
    M(kubernetes.core.k8s)) runs for an C(aws eks update-kubeconfig)-style kubeconfig entry.
  - C(profile), C(aws_ca_bundle) and C(endpoint_url) (and their amazon.aws aliases) become C(AWS_PROFILE),
    C(AWS_CA_BUNDLE) and C(AWS_ENDPOINT_URL_STS), the endpoint of the STS request the token presigns.
  - Keys never become variables, because a task's environment is printed at C(-vvv). Write them with
    P(kubeauth.eks_oidc.aws_shared_credentials#filter) into a file of mode C(0600) and name it in O(credentials_file).
  - Options left out or empty give no variable, so botocore's own chain (environment, profile, SSO, instance role)
    still applies.
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description: amazon.aws connection options.
    type: dict
    required: true
  credentials_file:
    description:
      - A shared credentials file holding the connection's keys (profile C(default)); empty for none.
      - Becomes C(AWS_SHARED_CREDENTIALS_FILE), with C(AWS_PROFILE=default).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The connection's keys, for the token plugin (0600, removed afterwards)
  ansible.builtin.copy:
    content: "{{ eks_oidc_aws_connection | kubeauth.eks_oidc.aws_shared_credentials }}"
    dest: ~/.kube/aws-credentials
    mode: "0600"
  no_log: true

- name: RBAC through the admin entry, signed with the play's AWS connection
  kubernetes.core.k8s:
    kubeconfig: ~/.kube/config
    context: admin-oidc-test
    definition: "{{ cluster_role }}"
  environment: "{{ eks_oidc_aws_connection | kubeauth.eks_oidc.aws_environment(credentials_file='~/.kube/aws-credentials') }}"
"""

RETURN = r"""
_value:
  description: Environment variables, name to value.
  type: dict
"""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_environment import aws_environment


class FilterModule(object):
    def filters(self):
        return {"aws_environment": aws_environment}
