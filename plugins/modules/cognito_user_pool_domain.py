#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user_pool_domain
short_description: Manage the hosted-UI domain of an Amazon Cognito user pool
version_added: 0.1.0
description:
  - Create, update or delete the domain that serves a user pool's hosted UI (managed login) and its
    OAuth 2.0 endpoints, as the C(CognitoDomain) of step 1 of the AWS post
    "Introducing OIDC identity provider authentication for Amazon EKS".
  - A prefix domain such as V(oidc-userpool) is served at
    C(https://oidc-userpool.auth.REGION.amazoncognito.com). With O(certificate_arn), O(domain) is a
    custom domain such as V(auth.example.com) that you point at the returned CloudFront distribution.
  - A pool has at most one domain of each kind. When it already has another one, or when the domain
    belongs to another pool, the module fails and says which, instead of changing anything.
  - Only a custom domain's certificate and the managed login version can change in place; anything
    else needs the domain deleted and created again.
  - Prefixes are checked before any API call with AWS's rules, including the reserved words
    C(aws), C(amazon) and C(cognito) that AWS refuses in a prefix.
author:
  - kubeauth maintainers (@kubeauth)
options:
  user_pool_id:
    description:
      - The id of the user pool, such as V(us-west-2_re1u6bpRA).
    type: str
    required: true
  domain:
    description:
      - A domain prefix (1 to 63 lowercase letters, digits and hyphens, not starting or ending with a
        hyphen), or with O(certificate_arn) a fully qualified custom domain name.
      - Prefixes are global across AWS accounts in a region; a prefix another pool holds cannot be used.
    type: str
    required: true
  certificate_arn:
    description:
      - The ARN of an ACM certificate in C(us-east-1) for a custom domain. Makes O(domain) a custom domain.
      - Changing it on an existing custom domain replaces the certificate in place.
      - Not needed with O(state=absent).
    type: str
  managed_login_version:
    description:
      - V(1) for the classic hosted UI, V(2) for managed login. AWS uses V(1) when not given at creation.
    type: int
    choices: [1, 2]
  state:
    description:
      - Whether the domain should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - AWS takes a while to make a custom domain available (RV(domain.status) V(CREATING)); the module
    does not wait for it.
  - With O(state=absent), a domain that does not exist is not changed; a domain of another pool is never deleted.
  - MiniStack, the local AWS emulator of the sandbox, accepts any prefix and certificate and reports a custom
    domain V(ACTIVE) at once; the module checks AWS's rules for prefixes and certificates itself.
seealso:
  - module: kubeauth.eks_oidc.cognito_user_pool
  - module: kubeauth.eks_oidc.cognito_user_pool_client
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The prefix domain of the AWS post
  kubeauth.eks_oidc.cognito_user_pool_domain:
    user_pool_id: "{{ pool.user_pool.id }}"
    domain: oidc-userpool
  register: hosted_ui

- name: Where users sign in
  ansible.builtin.debug:
    msg: "{{ hosted_ui.hosted_ui_url }}/login"

- name: A custom domain with managed login
  kubeauth.eks_oidc.cognito_user_pool_domain:
    user_pool_id: "{{ pool.user_pool.id }}"
    domain: auth.example.com
    certificate_arn: arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789
    managed_login_version: 2
  register: custom

- name: Point auth.example.com at this CloudFront name (CNAME or alias)
  ansible.builtin.debug:
    msg: "{{ custom.domain.cloud_front_distribution }}"

- name: Remove the prefix domain
  kubeauth.eks_oidc.cognito_user_pool_domain:
    user_pool_id: "{{ pool.user_pool.id }}"
    domain: oidc-userpool
    state: absent
"""

RETURN = r"""
domain:
  description: The domain, as DescribeUserPoolDomain returns it in snake_case. Empty after deletion.
  returned: always
  type: dict
  contains:
    domain:
      description: The prefix or the custom domain name.
      type: str
      sample: oidc-userpool
    user_pool_id:
      description: The pool the domain belongs to.
      type: str
      sample: us-west-2_re1u6bpRA
    status:
      description: The domain's status, such as V(ACTIVE) or V(CREATING).
      type: str
      sample: ACTIVE
    custom_domain_config:
      description: The certificate of a custom domain.
      type: dict
      returned: for a custom domain
      sample: {"certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d"}
    cloud_front_distribution:
      description: The CloudFront distribution to point a custom domain's DNS record at.
      type: str
      returned: for a custom domain
      sample: d111111abcdef8.cloudfront.net
    managed_login_version:
      description: V(1) (classic hosted UI) or V(2) (managed login).
      type: int
      sample: 1
hosted_ui_url:
  description: The base URL of the hosted UI and of the pool's OAuth 2.0 endpoints (C(/oauth2/authorize), C(/login)).
  returned: always (null after deletion)
  type: str
  sample: https://oidc-userpool.auth.us-west-2.amazoncognito.com
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def main():
    argument_spec = dict(
        user_pool_id=dict(type="str", required=True),
        domain=dict(type="str", required=True),
        certificate_arn=dict(type="str"),
        managed_login_version=dict(type="int", choices=[1, 2]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="user pool domain"))


if __name__ == "__main__":
    main()
