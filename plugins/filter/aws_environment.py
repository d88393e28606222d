# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aws_environment
short_description: The AWS environment variables of a set of amazon.aws connection options
version_added: 0.2.0
description:
  - Turns the connection options the collection's AWS modules take (O(_input), such as C(eks_oidc_aws_connection))
    into the environment variables botocore reads, for programs that are not Ansible modules but sign AWS requests
    with the same identity, such as the EKS token plugin that kubectl (or the kubernetes client of
    M(kubernetes.core.k8s)) runs for an C(aws eks update-kubeconfig)-style kubeconfig entry.
  - C(access_key), C(secret_key), C(session_token), C(profile) and C(aws_ca_bundle) (and their amazon.aws aliases)
    become C(AWS_ACCESS_KEY_ID), C(AWS_SECRET_ACCESS_KEY), C(AWS_SESSION_TOKEN), C(AWS_PROFILE) and C(AWS_CA_BUNDLE);
    C(endpoint_url) becomes C(AWS_ENDPOINT_URL_STS), the endpoint of the STS request the token presigns.
  - Options left out or empty give no variable, so botocore's own chain (environment, profile, SSO, instance role)
    still applies. Use the result as a task's C(environment), never as file content, since it may hold secrets.
author:
  - kubeauth maintainers (@kubeauth)
options:
  _input:
    description: amazon.aws connection options.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: RBAC through the admin entry, signed with the play's AWS connection
  kubernetes.core.k8s:
    kubeconfig: ~/.kube/config
    context: admin-oidc-test
    definition: "{{ cluster_role }}"
  environment: "{{ eks_oidc_aws_connection | kubeauth.eks_oidc.aws_environment }}"
"""

RETURN = r"""
_value:
  description: Environment variables, name to value.
  type: dict
"""

# Option names as amazon.aws accepts them (the first of each is the documented name).
OPTION_VARIABLES = (
    (("access_key", "aws_access_key_id", "aws_access_key", "ec2_access_key"), "AWS_ACCESS_KEY_ID"),
    (("secret_key", "aws_secret_access_key", "aws_secret_key", "ec2_secret_key"), "AWS_SECRET_ACCESS_KEY"),
    (("session_token", "aws_session_token", "security_token", "aws_security_token"), "AWS_SESSION_TOKEN"),
    (("profile", "aws_profile"), "AWS_PROFILE"),
    (("aws_ca_bundle",), "AWS_CA_BUNDLE"),
    (("endpoint_url", "aws_endpoint_url", "ec2_url"), "AWS_ENDPOINT_URL_STS"),
)


def aws_environment(connection):
    environment = {}
    for names, variable in OPTION_VARIABLES:
        value = next((connection[name] for name in names if (connection or {}).get(name)), None)
        if value:
            environment[variable] = str(value)
    return environment


class FilterModule(object):
    def filters(self):
        return {"aws_environment": aws_environment}
