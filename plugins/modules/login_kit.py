#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: login_kit
short_description: Write a login kit that gives developers without AWS access kubectl contexts for EKS clusters
version_added: 0.2.0
description:
  - Writes C(kubeauth-login), one Python 3 program (standard library only) with the clusters' endpoints and CA
    data, the issuer, the client id and the claim mapping baked in, and a C(README.md), to O(dest).
  - On the developer's machine, with Python 3.8+ and kubectl only, C(python3 kubeauth-login install) writes a
    context C(oidc-CLUSTER) per cluster into the kubeconfig and installs kubectl's credential plugin (this
    collection's C(credential_plugin.py), as the module M(kubeauth.eks_oidc.kubectl_credential_plugin) installs
    it); C(login) signs in with the browser (authorization code with PKCE; C(--headless) without a browser);
    C(status), C(logout) and C(uninstall) do what they say. See C(docs/onboarding.md) of the collection.
  - The kit holds no secret (no password, token, client secret or AWS credential), so it can be mailed,
    committed or published. Developers run it, so O(dest) and the files in it must belong to the user running
    the module and be writable by nobody else (as ssh wants C(~/.ssh)); a file there that is a symbolic link
    is refused.
  - The program is generated from the collection's own files, so it changes exactly when the clusters, the
    identity provider or the collection change; RV(sha256) lets developers check what they received.
author:
  - kubeauth maintainers (@kubeauth)
options:
  dest:
    description:
      - The kit's directory, created (mode C(0755)) when missing. A relative path is relative to the module's
        working directory; the C(kubeauth.eks_oidc.login_kit) role passes an absolute one.
    type: path
    required: true
  state:
    description:
      - V(present) writes the kit, V(absent) removes its files (and O(dest) when that leaves it empty).
    type: str
    choices: [present, absent]
    default: present
  clusters:
    description:
      - The clusters of the kit, one context C(oidc-NAME) each. Required with O(state=present).
      - The fields are what M(kubeauth.eks_oidc.eks_cluster_info) (RV(kubeauth.eks_oidc.eks_cluster_info#module:kubeconfig_cluster))
        and M(kubeauth.eks_oidc.eks_identity_provider_config_info) (C(issuer_url), C(client_id), C(claim_mapping)) return.
    type: list
    elements: dict
    suboptions:
      name:
        description: The EKS cluster's name.
        type: str
        required: true
      server:
        description: The API server endpoint (https).
        type: str
        required: true
      certificate_authority_data:
        description: The cluster CA, base64-encoded PEM, as EKS returns it.
        type: str
        required: true
      issuer_url:
        description: The issuer of the cluster's OIDC identity provider config (https).
        type: str
        required: true
      client_id:
        description: Its client id, a public client that allows the authorization code flow with a localhost callback.
        type: str
        required: true
      username_claim:
        description: The claim the API server takes the username from.
        type: str
        required: true
      username_prefix:
        description: The prefix the API server puts before the username (EKS's default filled in).
        type: str
      groups_claim:
        description: The claim the API server takes groups from.
        type: str
      groups_prefix:
        description: The prefix the API server puts before each group.
        type: str
  ca_file:
    description:
      - A CA bundle the kit carries and the credential plugin trusts, instead of the developer's system trust
        store, for the identity provider's HTTPS endpoints (a private CA, a TLS-inspecting proxy). Omit it for
        a public identity provider.
    type: path
  redirect_uri:
    description:
      - The localhost callback of the browser login, one of the app client's callback URLs. Default, the
        credential plugin's C(http://localhost:8000).
    type: str
  scopes:
    description: OAuth scopes of the login; must include C(openid). Default, the plugin's C(openid email).
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the kit (clusters, issuer, client, claim mapping) before and after.
  platform:
    platforms: posix
notes:
  - Nothing here talks to AWS; the C(kubeauth.eks_oidc.login_kit) role reads the clusters with the AWS modules.
seealso:
  - module: kubeauth.eks_oidc.eks_cluster_info
  - module: kubeauth.eks_oidc.eks_identity_provider_config_info
  - module: kubeauth.eks_oidc.kubectl_credential_plugin
"""

EXAMPLES = r"""
- name: The cluster's endpoint and CA
  kubeauth.eks_oidc.eks_cluster_info:
    name: oidc-test
  register: eks

- name: Its identity provider
  kubeauth.eks_oidc.eks_identity_provider_config_info:
    cluster_name: oidc-test
  register: idp

- name: A kit for the developers
  kubeauth.eks_oidc.login_kit:
    dest: /srv/team/login-kit
    clusters:
      - name: oidc-test
        server: "{{ eks.kubeconfig_cluster.server }}"
        certificate_authority_data: "{{ eks.kubeconfig_cluster.certificate_authority_data }}"
        issuer_url: "{{ idp.identity_provider_configs[0].issuer_url }}"
        client_id: "{{ idp.identity_provider_configs[0].client_id }}"
        username_claim: "{{ idp.identity_provider_configs[0].claim_mapping.username_claim }}"
        username_prefix: "{{ idp.identity_provider_configs[0].claim_mapping.username_prefix }}"
        groups_claim: "{{ idp.identity_provider_configs[0].claim_mapping.groups_claim }}"
        groups_prefix: "{{ idp.identity_provider_configs[0].claim_mapping.groups_prefix }}"
  register: kit

- name: Remove it
  kubeauth.eks_oidc.login_kit:
    dest: /srv/team/login-kit
    state: absent
"""

RETURN = r"""
program:
  description: The path of C(kubeauth-login).
  returned: state is present
  type: str
  sample: /srv/team/login-kit/kubeauth-login
sha256:
  description: The SHA-256 of the program, for developers to check what they received.
  returned: state is present
  type: str
  sample: 3f0c6c2b8e1f...
clusters:
  description: The contexts the kit installs.
  returned: state is present
  type: list
  elements: str
  sample: [oidc-oidc-test, oidc-oidc-test-2]
issuers:
  description: The issuers a developer signs in to, one login each.
  returned: state is present
  type: list
  elements: str
  sample: [https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA]
files:
  description: The files written or removed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import login_kit_writer
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.file_module import run_file_flow


def main():
    cluster_options = dict(
        name=dict(type="str", required=True),
        server=dict(type="str", required=True),
        certificate_authority_data=dict(type="str", required=True),
        issuer_url=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        username_claim=dict(type="str", required=True),
        username_prefix=dict(type="str"),
        groups_claim=dict(type="str"),
        groups_prefix=dict(type="str"),
    )
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            clusters=dict(type="list", elements="dict", options=cluster_options),
            ca_file=dict(type="path"),
            redirect_uri=dict(type="str"),
            scopes=dict(type="list", elements="str"),
        ),
        required_if=[("state", "present", ["clusters"])],
        supports_check_mode=True,
    )
    module.exit_json(**run_file_flow(module, login_kit_writer.run, login_kit_writer.KitWriteError))


if __name__ == "__main__":
    main()
