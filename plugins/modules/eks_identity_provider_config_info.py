#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_identity_provider_config_info
short_description: Read the OIDC identity provider configs of an Amazon EKS cluster
version_added: 0.1.0
description:
  - Return the OIDC identity provider config O(name) of a cluster, or all of them, each with the claim mapping
    the API server applies (EKS's defaults filled in), so that RBAC subjects can name the users and groups it sees.
  - With O(wait_for), first wait until the config is C(ACTIVE) or gone. This is the second half of an association
    started with M(kubeauth.eks_oidc.eks_identity_provider_config) and
    O(kubeauth.eks_oidc.eks_identity_provider_config#module:wait=false). A play that starts every cluster's
    association in one task and waits in the next associates a fleet in about one association's time (15 to 25
    minutes on EKS), whatever C(forks) is.
author:
  - kubeauth maintainers (@kubeauth)
options:
  cluster_name:
    description:
      - The EKS cluster's name. A cluster that does not exist is an error.
    type: str
    required: true
  name:
    description:
      - Return only this config (an empty list when it does not exist). Required with O(wait_for).
    type: str
  wait_for:
    description:
      - V(active) waits until the config's status is C(ACTIVE); a config that does not exist is an error, one
        that disappears while waiting (EKS rejected it) too, with what EKS reported.
      - V(absent) waits until EKS no longer has the config (a disassociation finished); a cluster that does not
        exist counts as that.
      - The status is polled with backoff (2 s at first, at most every 30 s) for up to O(wait_timeout) seconds;
        RV(wait_log) holds what was seen.
    type: str
    choices: [active, absent]
  wait_timeout:
    description:
      - Seconds to wait with O(wait_for). EKS takes 15 to 25 minutes per association.
    type: int
    default: 2400
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: kubeauth.eks_oidc.eks_identity_provider_config
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: The module only reads (and waits).
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read the OIDC configs of cluster oidc-test
  kubeauth.eks_oidc.eks_identity_provider_config_info:
    cluster_name: oidc-test
    region: us-west-2
  register: found

- name: The group a ClusterRoleBinding must name for the Cognito group secret-reader
  ansible.builtin.debug:
    msg: "{{ found.identity_provider_configs[0].claim_mapping.groups_prefix }}secret-reader"

# A fleet in one association's time: every association starts, then each cluster's is awaited.
- name: Start the association on every cluster
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: "{{ eks_cluster_name }}"
    name: oidc-config
    issuer_url: "{{ issuer_url }}"
    client_id: "{{ client_id }}"
    wait: false

- name: Wait until each is ACTIVE
  kubeauth.eks_oidc.eks_identity_provider_config_info:
    cluster_name: "{{ eks_cluster_name }}"
    name: oidc-config
    wait_for: active
"""

RETURN = r"""
identity_provider_configs:
  description:
    - The configs, as DescribeIdentityProviderConfig returns them in snake_case with their tags, each with
      C(claim_mapping) and C(kubernetes_username_rule) as M(kubeauth.eks_oidc.eks_identity_provider_config)
      returns them.
  returned: always
  type: list
  elements: dict
  sample:
    - identity_provider_config_name: oidc-config
      identity_provider_config_arn: arn:aws:eks:us-west-2:111122223333:identityproviderconfig/oidc-test/oidc/oidc-config/8ebd5b5b
      cluster_name: oidc-test
      status: ACTIVE
      issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
      client_id: 702vqsrjicklgb7c5b7b50i1gc
      username_claim: email
      groups_claim: cognito:groups
      groups_prefix: "gid:"
      required_claims: {}
      tags: {}
      claim_mapping:
        username_claim: email
        username_prefix: ""
        groups_claim: cognito:groups
        groups_prefix: "gid:"
      kubernetes_username_rule: claims.email
wait_log:
  description: With O(wait_for), each status seen while waiting, with the seconds since the wait began.
  returned: with O(wait_for)
  type: list
  elements: dict
  sample:
    - {"elapsed_seconds": 0, "subject": "oidc-config", "status": "CREATING"}
    - {"elapsed_seconds": 1190, "subject": "oidc-config", "status": "ACTIVE"}
elapsed_seconds:
  description: With O(wait_for), the seconds the wait took.
  returned: with O(wait_for)
  type: int
  sample: 1190
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Clock
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.identity_provider_config import read_info
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str"),
        wait_for=dict(type="str", choices=["active", "absent"]),
        wait_timeout=dict(type="int", default=2400),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, required_by={"wait_for": "name"}, supports_check_mode=True)
    module.exit_json(**run_flow(module, read_info, eks_client(module), Clock(), what="EKS identity provider config"))


if __name__ == "__main__":
    main()
