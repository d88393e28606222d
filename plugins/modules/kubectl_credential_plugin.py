#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubectl_credential_plugin
short_description: Install the kubectl credential plugin of one kubeconfig context, and return its exec entry
version_added: 0.2.0
description:
  - Installs what kubectl runs to get a credential for one context, and returns the C(exec) entry for
    the O(kubeauth.eks_oidc.kubeconfig#module:user.exec) option of M(kubeauth.eks_oidc.kubeconfig).
  - V(oidc) (step 5 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS")
    installs this collection's OIDC credential plugin (Python standard library only) with the context's
    config (issuer, client, how to log in) and, for password login, a password file. Tokens are cached
    per issuer, client and user, so every context of one issuer shares one login. A Cognito issuer
    (C(https://cognito-idp.REGION.amazonaws.com/POOL)) is recognised and logged in through Cognito's API.
  - V(eks_token) (step 4, C(aws eks update-kubeconfig)) installs this collection's EKS IAM token
    plugin, which signs the token as C(aws eks get-token) does, with botocore and without the AWS CLI.
  - The plugin directory is created with mode C(0700), every file in it has mode C(0600). As ssh does
    for C(~/.ssh), a directory or file that is a symbolic link, is owned by another user, or is
    writable by group or others is refused, and nothing is changed.
  - O(state=absent) removes the context's files, and the whole directory (scripts and token cache) once
    no context is left in it.
author:
  - kubeauth maintainers (@kubeauth)
options:
  name:
    description:
      - The context the plugin serves, such as C(oidc-oidc-test); names its files in O(directory).
    type: str
    required: true
  directory:
    description:
      - The plugin directory, usually beside the kubeconfig.
    type: path
    default: ~/.kube/kubeauth-eks-oidc
  state:
    description:
      - V(present) installs or updates, V(absent) removes.
    type: str
    choices: [present, absent]
    default: present
  plugin:
    description:
      - V(oidc), the OIDC user's plugin, or V(eks_token), the EKS IAM token of AWS identities.
      - Required with O(state=present).
    type: str
    choices: [oidc, eks_token]
  python:
    description:
      - The interpreter kubectl starts the plugin with. Default, the one that runs this module.
      - V(oidc) runs it by its real path (symbolic links resolved, so a pyenv shim or a virtualenv
        link costs nothing) with C(-I -S); V(eks_token) runs it as given, since it needs botocore.
    type: path
  issuer_url:
    description: The issuer, the tokens' C(iss) (https). Required with O(plugin=oidc).
    type: str
  client_id:
    description: The public app client, the tokens' C(aud). Required with O(plugin=oidc).
    type: str
  login:
    description:
      - How the OIDC user logs in when no cached or refreshable token is left.
      - V(browser), authorization code flow with PKCE, the callback on localhost.
      - V(password), non-interactive (CI), with O(username) and O(password); Cognito C(USER_PASSWORD_AUTH)
        or the OIDC password grant.
    type: str
    choices: [browser, password]
    default: browser
  username:
    description: The user of O(login=password).
    type: str
  password:
    description: The password of O(login=password), stored in C(NAME.password) with mode C(0600).
    type: str
  discovery_url:
    description: Where the issuer's discovery document is, when not at the issuer URL (https).
    type: str
  ca_file:
    description: CA bundle the plugin trusts for the identity provider's HTTPS endpoints.
    type: path
  cognito_endpoint_url:
    description: The Cognito API endpoint for a Cognito issuer, when not C(https://cognito-idp.REGION.amazonaws.com).
    type: str
  scopes:
    description: OAuth scopes of browser and OIDC password logins; must include C(openid).
    type: list
    elements: str
  redirect_uri:
    description: The localhost callback of browser login, one of the client's callback URLs (default C(http://localhost:8000)).
    type: str
  cluster_name:
    description: The EKS cluster the token is for. Required with O(plugin=eks_token).
    type: str
  region:
    description: The cluster's region. Required with O(plugin=eks_token).
    type: str
  role_arn:
    description: An IAM role to assume for the token, as C(aws eks get-token --role-arn).
    type: str
  aws_profile:
    description: C(AWS_PROFILE) of the token plugin.
    type: str
  aws_ca_bundle:
    description: C(AWS_CA_BUNDLE) of the token plugin.
    type: path
  sts_endpoint_url:
    description:
      - C(AWS_ENDPOINT_URL_STS) of the token plugin, when STS is not at its default address (a VPC
        endpoint, another partition, a local emulator).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - AWS credentials are never written. The token plugin finds them as botocore does (environment, profile,
    SSO, instance role) when kubectl runs it.
  - The password never appears in the result or the diff.
seealso:
  - module: kubeauth.eks_oidc.kubeconfig
  - module: kubeauth.eks_oidc.oidc_token_info
"""

EXAMPLES = r"""
- name: The OIDC user's plugin, browser login
  kubeauth.eks_oidc.kubectl_credential_plugin:
    name: oidc-oidc-test
    plugin: oidc
    issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    client_id: 702vqsrjicklgb7c5b7b50i1gc
  register: oidc_plugin

- name: Its kubeconfig entry
  kubeauth.eks_oidc.kubeconfig:
    cluster: "{{ cluster_info.kubeconfig_cluster }}"
    user:
      name: oidc-oidc-test
      exec: "{{ oidc_plugin.exec }}"
    context:
      name: oidc-oidc-test

- name: The administrator's EKS token, as aws eks update-kubeconfig writes it
  kubeauth.eks_oidc.kubectl_credential_plugin:
    name: admin-oidc-test
    plugin: eks_token
    cluster_name: oidc-test
    region: us-west-2
    aws_profile: platform-admin

- name: Remove a context's plugin files
  kubeauth.eks_oidc.kubectl_credential_plugin:
    name: oidc-oidc-test
    state: absent
"""

RETURN = r"""
exec:
  description: The C(exec) entry of the context's kubeconfig user, for M(kubeauth.eks_oidc.kubeconfig).
  returned: state is present
  type: dict
  contains:
    command:
      description: The interpreter.
      type: str
      sample: /usr/bin/python3.11
    args:
      description: Its arguments.
      type: list
      elements: str
      sample: ["-I", "-S", "/home/me/.kube/kubeauth-eks-oidc/credential_plugin.py", "get-token",
               "--config", "/home/me/.kube/kubeauth-eks-oidc/oidc-oidc-test.json"]
    env:
      description: Environment of the EKS token plugin (profile, CA bundle, STS endpoint), when any.
      type: dict
      sample: {"AWS_PROFILE": "platform-admin"}
    interactive_mode:
      description: V(Never) for password login and EKS tokens, V(IfAvailable) for browser login.
      type: str
    install_hint:
      description: What kubectl prints when the plugin is missing.
      type: str
paths:
  description: The files and directories created, changed or removed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubectl_credential_plugin as plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.file_module import run_file_flow


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            directory=dict(type="path", default="~/.kube/kubeauth-eks-oidc"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            plugin=dict(type="str", choices=["oidc", "eks_token"]),
            python=dict(type="path"),
            issuer_url=dict(type="str"),
            client_id=dict(type="str"),
            login=dict(type="str", choices=["browser", "password"], default="browser"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            discovery_url=dict(type="str"),
            ca_file=dict(type="path"),
            cognito_endpoint_url=dict(type="str"),
            scopes=dict(type="list", elements="str"),
            redirect_uri=dict(type="str"),
            cluster_name=dict(type="str"),
            region=dict(type="str"),
            role_arn=dict(type="str"),
            aws_profile=dict(type="str"),
            aws_ca_bundle=dict(type="path"),
            sts_endpoint_url=dict(type="str"),
        ),
        required_if=[
            ("state", "present", ["plugin"]),
            ("plugin", "oidc", ["issuer_url", "client_id"]),
            ("plugin", "eks_token", ["cluster_name", "region"]),
            ("login", "password", ["username", "password"]),
        ],
        supports_check_mode=True,
    )
    module.exit_json(**run_file_flow(module, plugin.run, plugin.PluginInstallError))


if __name__ == "__main__":
    main()
