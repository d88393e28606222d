#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: eks_identity_provider_config
short_description: Associate an OpenID Connect identity provider with an Amazon EKS cluster
version_added: 0.1.0
description:
  - Associate an OIDC identity provider with an EKS cluster, or disassociate it, as in step 3 of the AWS post
    "Introducing OIDC identity provider authentication for Amazon EKS". Users who log in to the provider
    can then authenticate to the cluster's Kubernetes API with their ID token.
  - EKS cannot change an identity provider config; every setting is fixed when it is associated. When the
    config O(name) exists with other settings, the module fails with a diff of what differs and changes
    nothing, unless O(force=true), which replaces it (disassociate, wait until it is gone, associate anew).
  - Clusters before Kubernetes 1.32 take one OIDC config; a config under another name counts as the one to
    replace. From 1.32 a cluster takes up to ten, each with its own issuer, and only a config with the
    same O(issuer_url) is in the way.
  - An association or disassociation takes 15 to 25 minutes on EKS. With O(wait=true) the module polls the
    config and its EKS update with backoff until it is C(ACTIVE) (or gone), for up to O(wait_timeout) seconds,
    and returns what it saw in RV(wait_log).
  - To associate a fleet in about one association's time, whatever C(forks) is, start every cluster's
    association with O(wait=false) in one task and wait in the next with
    M(kubeauth.eks_oidc.eks_identity_provider_config_info) and its C(wait_for) (see the examples;
    the eks_oidc role and playbooks/associate.yml do so).
  - While the cluster is busy with another update, EKS refuses new ones (C(ResourceInUseException)); the module
    retries with backoff until O(wait_timeout), then fails with EKS's message. Throttling is retried too.
  - Everything the module can check is checked before any call that changes something. O(issuer_url) must be
    C(https://) without query or fragment and must not be the cluster's own service-account issuer, prefixes
    must not contain C(system:), O(required_claims) must fit EKS's limits.
author:
  - kubeauth maintainers (@kubeauth)
options:
  cluster_name:
    description:
      - The EKS cluster's name.
    type: str
    required: true
  name:
    description:
      - The identity provider config's name (C(identityProviderConfigName)), such as V(oidc-config).
    type: str
    required: true
  state:
    description:
      - Whether the config should be associated with the cluster.
      - With V(absent), a config of that name that does not exist counts as disassociated; when the cluster has
        an OIDC config under another name, the module says so in a warning and in RV(other_identity_provider_configs).
    type: str
    choices: [present, absent]
    default: present
  issuer_url:
    description:
      - The identity provider's issuer URL, exactly the C(iss) claim of its ID tokens, such as
        V(https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA). Required with O(state=present).
      - It must start with C(https://), have no query or fragment, be reachable from the internet with a publicly
        trusted certificate, and differ from the cluster's own OpenID Connect provider URL (the issuer of its
        service-account tokens).
    type: str
  client_id:
    description:
      - The app client id of the provider, the C(aud) claim of its ID tokens. Required with O(state=present).
    type: str
  username_claim:
    description:
      - The token claim that becomes the Kubernetes username. EKS's default is V(sub).
    type: str
  username_prefix:
    description:
      - Prepended to usernames. When unset, EKS prepends O(issuer_url) and V(#), except with
        O(username_claim=email), where it prepends nothing. V(-) turns prefixing off. Must not contain V(system:).
      - RV(claim_mapping.username_prefix) returns the prefix that applies.
    type: str
  groups_claim:
    description:
      - The token claim that lists the user's groups, such as V(cognito:groups) for Amazon Cognito.
    type: str
  groups_prefix:
    description:
      - Prepended to group names, such as V(gid:). Must not contain V(system:).
    type: str
  required_claims:
    description:
      - Claims every token must carry with exactly this value. Keys are 1 to 63 characters, values 1 to 253
        characters and strings (quote V("true")).
    type: dict
  wait:
    description:
      - Wait until the config is C(ACTIVE) (O(state=present)) or gone (O(state=absent)).
      - With V(false) the module returns once EKS has taken the change (RV(identity_provider_config.status) is
        C(CREATING) or C(DELETING)); M(kubeauth.eks_oidc.eks_identity_provider_config_info) with C(wait_for)
        waits for it later.
      - With O(force=true) the module always waits for the replaced config to be gone, as EKS would not take the
        new one before; O(wait) then decides whether it also waits for the new one.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds the module may take in all, counting retries while the cluster is busy with another update,
        waiting for a replaced config to go, and O(wait). EKS needs 15 to 25 minutes per association or
        disassociation; a replacement needs two.
      - After a timeout EKS carries on; running the task again picks up where it stopped.
    type: int
    default: 2400
  force:
    description:
      - Replace a config that differs from the task (EKS cannot update one). The module disassociates it, waits until it is gone,
        then associates the task's config. Settings the task does not mention are carried over from the old config.
      - OIDC users cannot log in to the cluster between the disassociation and the new config becoming C(ACTIVE).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode. Check mode reports the plan (RV(actions) and the diff) and calls only read APIs.
  - Settings the task leaves out are not compared (as elsewhere in amazon.aws); give V("") for a claim or prefix,
    or V({}) for O(required_claims), to ask for it to be unset.
  - Tags are the one thing EKS can change on a config; the module changes them in place.
  - The IAM condition keys C(eks:issuerUrl) and C(eks:clientId) let an account restrict which providers
    cluster administrators may associate (see the AWS post's "Access control").
seealso:
  - module: kubeauth.eks_oidc.eks_identity_provider_config_info
  - module: kubeauth.eks_oidc.cognito_user_pool
  - name: Authenticate users for your cluster from an OIDC identity provider
    description: The EKS user guide.
    link: https://docs.aws.amazon.com/eks/latest/userguide/authenticate-oidc-identity-provider.html
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Associate the Cognito user pool of the AWS post with cluster oidc-test
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: oidc-test
    name: oidc-config
    region: us-west-2
    issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    client_id: 702vqsrjicklgb7c5b7b50i1gc
    username_claim: email
    groups_claim: cognito:groups
    groups_prefix: "gid:"
    tags:
      team: platform
  register: association

- name: Bind RBAC to what the API server will see (gid:secret-reader)
  ansible.builtin.debug:
    msg: "{{ association.claim_mapping.groups_prefix }}secret-reader"

- name: Keycloak (or Okta, https://example.okta.com/oauth2/default) as the identity provider
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: platform-prod
    name: keycloak
    issuer_url: https://keycloak.example.com/realms/platform
    client_id: kubernetes
    username_claim: preferred_username
    username_prefix: "oidc:"
    groups_claim: groups
    groups_prefix: "oidc:"
    required_claims:
      email_verified: "true"

- name: Change the groups prefix of an existing config (EKS replaces it; logins fail meanwhile)
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: oidc-test
    name: oidc-config
    issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    client_id: 702vqsrjicklgb7c5b7b50i1gc
    username_claim: email
    groups_claim: cognito:groups
    groups_prefix: "cognito:"
    force: true

# A fleet in one association's time: every cluster's association starts (hosts: the clusters),
# then each is awaited; the clusters associate meanwhile, whatever forks is.
- name: Start the association
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: "{{ eks_cluster_name }}"
    name: oidc-config
    issuer_url: "{{ issuer_url }}"
    client_id: "{{ client_id }}"
    username_claim: email
    groups_claim: cognito:groups
    groups_prefix: "gid:"
    wait: false

- name: Wait until it is ACTIVE (about 20 minutes on EKS, for all of them)
  kubeauth.eks_oidc.eks_identity_provider_config_info:
    cluster_name: "{{ eks_cluster_name }}"
    name: oidc-config
    wait_for: active

- name: Disassociate (the post's cleanup step 2)
  kubeauth.eks_oidc.eks_identity_provider_config:
    cluster_name: oidc-test
    name: oidc-config
    state: absent
"""

RETURN = r"""
identity_provider_config:
  description:
    - The config as DescribeIdentityProviderConfig returns it, in snake_case, with its tags. Empty when absent.
    - In check mode, the config the module would associate.
  returned: always
  type: dict
  contains:
    identity_provider_config_name:
      description: The config's name.
      type: str
      sample: oidc-config
    identity_provider_config_arn:
      description: The config's ARN.
      type: str
      sample: arn:aws:eks:us-west-2:111122223333:identityproviderconfig/oidc-test/oidc/oidc-config/8ebd5b5b-2c9e-4f3c-bd2c-6c1b3a5e2d4f
    cluster_name:
      description: The cluster's name.
      type: str
      sample: oidc-test
    status:
      description: V(CREATING), V(ACTIVE) or V(DELETING).
      type: str
      sample: ACTIVE
    issuer_url:
      description: The provider's issuer URL.
      type: str
      sample: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    client_id:
      description: The provider's app client id.
      type: str
      sample: 702vqsrjicklgb7c5b7b50i1gc
    username_claim:
      description: The username claim, when set.
      type: str
      sample: email
    username_prefix:
      description: The username prefix, when set.
      type: str
      sample: "oidc:"
    groups_claim:
      description: The groups claim, when set.
      type: str
      sample: cognito:groups
    groups_prefix:
      description: The groups prefix, when set.
      type: str
      sample: "gid:"
    required_claims:
      description: The required claims.
      type: dict
      sample: {}
    tags:
      description: The config's tags.
      type: dict
      sample: {"team": "platform"}
claim_mapping:
  description:
    - What the API server makes of a token under this config, EKS's defaults applied. A Kubernetes username is
      C(username_prefix) followed by the token's C(username_claim); a group is C(groups_prefix) followed by a
      member of C(groups_claim). RBAC subjects must name these.
  returned: when the config exists (or would, in check mode)
  type: dict
  contains:
    username_claim:
      description: The claim used as the username.
      type: str
      sample: email
    username_prefix:
      description: The prefix put in front of it; empty for none.
      type: str
      sample: ""
    groups_claim:
      description: The claim listing the groups; null when the config maps no groups.
      type: str
      sample: cognito:groups
    groups_prefix:
      description: The prefix put in front of each group; empty for none.
      type: str
      sample: "gid:"
kubernetes_username_rule:
  description: The username rule as an expression over the token's claims, as kube-apiserver would state it in CEL.
  returned: when the config exists (or would, in check mode)
  type: str
  sample: "'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA#' + claims.sub"
actions:
  description: What the module did, or in check mode would do, in order.
  returned: always
  type: list
  elements: str
  sample: ["disassociate 'oidc-config' from cluster 'oidc-test'", "wait until 'oidc-config' is gone", "associate 'oidc-config' with cluster 'oidc-test'"]
changes:
  description:
    - How the existing config differs from the task, by option, as C(before)/C(after) pairs; what a replacement
      (O(force=true)) changes, or the tags. Also returned when the module refuses to replace a config.
  returned: with O(state=present)
  type: dict
  sample: {"groups_prefix": {"before": "gid:", "after": "cognito:"}}
update_id:
  description: The id of the EKS update started by the last associate or disassociate call (see C(aws eks describe-update)).
  returned: when the module associated or disassociated
  type: str
  sample: 2fbc0e33-0b1e-4e73-b3a4-1a1a0f8f3c0a
wait_log:
  description: Each status the module saw while it worked, with the seconds since it started; also returned on failure.
  returned: always
  type: list
  elements: dict
  sample:
    - {"elapsed_seconds": 0, "subject": "oidc-config", "status": "CREATING", "update_status": "InProgress"}
    - {"elapsed_seconds": 1214, "subject": "oidc-config", "status": "ACTIVE", "update_status": "Successful"}
elapsed_seconds:
  description: Seconds the module took.
  returned: always
  type: int
  sample: 1214
other_identity_provider_configs:
  description: With O(state=absent) and no config O(name), the names of the OIDC configs the cluster does have.
  returned: when O(state=absent) and the config does not exist
  type: list
  elements: str
  sample: [oidc-old]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import CLAIM_MAPPING_OPTIONS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Clock
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import eks_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.identity_provider_config import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        issuer_url=dict(type="str"),
        client_id=dict(type="str"),
        required_claims=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=2400),
        force=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **CLAIM_MAPPING_OPTIONS
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, eks_client(module), Clock(), what="EKS identity provider config"))


if __name__ == "__main__":
    main()
