#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cognito_user_pool_client
short_description: Manage an Amazon Cognito app client, the audience of a user pool's ID tokens
version_added: 0.1.0
description:
  - Create, update or delete an app client of an Amazon Cognito user pool. Its C(client_id) is the
    C(aud) of the ID tokens the pool issues, and the client ID to associate with EKS
    (step 1 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS").
  - Client names are not unique in a pool. The client is found by O(name); when several clients share
    that name the module refuses to act and lists their ids, unless O(client_id) is given.
  - Settings the task does not mention are left as they are, also on update (UpdateUserPoolClient
    alone would reset them to their defaults). Lists are compared as sets.
  - Token validities are compared as durations, so V(60) V(minutes) equals V(1) V(hours).
  - Settings are checked before any change is made, with the rules AWS applies (redirect URLs,
    OAuth flows and scopes, token validity ranges), so a bad task fails with a clear message and
    changes nothing.
  - The client secret is never returned, not even right after creation; read it with
    C(aws cognito-idp describe-user-pool-client) when an application needs it.
author:
  - kubeauth maintainers (@kubeauth)
options:
  user_pool_id:
    description:
      - The id of the user pool the client belongs to, such as V(us-west-2_re1u6bpRA).
    type: str
    required: true
  name:
    description:
      - The client's name. Required to create a client; with O(client_id), a different name renames it.
    type: str
  client_id:
    description:
      - The client's id. Chooses the client when several share O(name).
    type: str
  state:
    description:
      - Whether the client should exist.
    type: str
    choices: [present, absent]
    default: present
  generate_secret:
    description:
      - Whether the client has a client secret. Fixed at creation; a different value for an existing
        client fails. Public clients such as kubectl's OIDC login have none (V(false), the default on creation).
    type: bool
  explicit_auth_flows:
    description:
      - The authentication flows the client may use outside the hosted UI.
      - V(ALLOW_ADMIN_USER_PASSWORD_AUTH) lets an administrator sign a user in with a password
        (C(admin-initiate-auth) in the post); V(ALLOW_REFRESH_TOKEN_AUTH) lets the client refresh tokens.
    type: list
    elements: str
    choices: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH, ALLOW_USER_PASSWORD_AUTH,
              ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH]
  allowed_oauth_flows:
    description:
      - OAuth 2.0 flows of the hosted UI. V(code) and V(implicit) need O(callback_urls);
        V(client_credentials) needs a client secret and cannot be combined with the other two.
    type: list
    elements: str
    choices: [code, implicit, client_credentials]
  allowed_oauth_scopes:
    description:
      - OAuth scopes the client may request, such as V(openid), V(email), V(profile), V(phone),
        V(aws.cognito.signin.user.admin) or a resource server's custom scope.
        V(email), V(phone) and V(profile) need V(openid) as well.
    type: list
    elements: str
  allowed_oauth_flows_user_pool_client:
    description:
      - Whether the client may use the OAuth flows. Defaults to V(true) when O(allowed_oauth_flows)
        is not empty, and to V(false) when it is V([]).
    type: bool
  callback_urls:
    description:
      - URLs the hosted UI may send users back to after sign-in. HTTPS, except V(http://localhost);
        no fragment.
    type: list
    elements: str
  logout_urls:
    description:
      - URLs the hosted UI may send users to after sign-out. Same rules as O(callback_urls).
    type: list
    elements: str
  default_redirect_uri:
    description:
      - The default of O(callback_urls); must be one of them.
    type: str
  supported_identity_providers:
    description:
      - Identity providers the client may sign users in with, such as V(COGNITO) (the pool's own users).
        Defaults to V([COGNITO]) when the client has OAuth flows and no identity provider.
    type: list
    elements: str
  read_attributes:
    description:
      - User attributes the client may read. AWS lets a client read all of them when none are set.
    type: list
    elements: str
  write_attributes:
    description:
      - User attributes the client may write.
    type: list
    elements: str
  access_token_validity:
    description:
      - How long access tokens are valid, in O(token_validity_units.access_token). 5 minutes to 1 day.
    type: int
  id_token_validity:
    description:
      - How long ID tokens are valid, in O(token_validity_units.id_token). 5 minutes to 1 day.
    type: int
  refresh_token_validity:
    description:
      - How long refresh tokens are valid, in O(token_validity_units.refresh_token). 60 minutes to 10 years,
        and not shorter than the access and ID tokens.
    type: int
  token_validity_units:
    description:
      - The units of the token validities. A unit left out is AWS's default for that token
        (hours for access and ID tokens, days for refresh tokens). A unit needs its validity.
    type: dict
    suboptions:
      access_token:
        description: Unit of O(access_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
      id_token:
        description: Unit of O(id_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
      refresh_token:
        description: Unit of O(refresh_token_validity).
        type: str
        choices: [seconds, minutes, hours, days]
  prevent_user_existence_errors:
    description:
      - Whether sign-in errors hide whether a user exists (AWS's V(ENABLED)); V(false) is V(LEGACY).
    type: bool
  enable_token_revocation:
    description:
      - Whether the client's refresh tokens can be revoked.
    type: bool
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - With O(state=absent), a pool that does not exist means the client does not either (not changed),
    so cleanup can run twice.
  - MiniStack, the local AWS emulator of the sandbox, keeps the settings UpdateUserPoolClient is not given
    and accepts settings AWS refuses; the module sends every setting and checks AWS's rules itself, so it
    behaves the same on both.
seealso:
  - module: kubeauth.eks_oidc.cognito_user_pool
  - module: kubeauth.eks_oidc.cognito_user_pool_domain
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The app client of the AWS post
  kubeauth.eks_oidc.cognito_user_pool_client:
    user_pool_id: "{{ pool.user_pool.id }}"
    name: oidc-client
    generate_secret: false
    explicit_auth_flows:
      - ALLOW_ADMIN_USER_PASSWORD_AUTH
      - ALLOW_USER_PASSWORD_AUTH
      - ALLOW_REFRESH_TOKEN_AUTH
    allowed_oauth_flows: [implicit]
    allowed_oauth_scopes: [openid, email, profile, phone, aws.cognito.signin.user.admin]
    callback_urls: [https://example.com]
  register: app_client

- name: The client id is the audience EKS checks
  ansible.builtin.debug:
    msg: "{{ app_client.client.client_id }}"

- name: Shorter-lived ID tokens, everything else kept
  kubeauth.eks_oidc.cognito_user_pool_client:
    user_pool_id: "{{ pool.user_pool.id }}"
    name: oidc-client
    id_token_validity: 15
    token_validity_units:
      id_token: minutes

- name: Delete one of two clients that share a name
  kubeauth.eks_oidc.cognito_user_pool_client:
    user_pool_id: "{{ pool.user_pool.id }}"
    client_id: 702vqsrjicklgb7c5b7b50i1gc
    state: absent
"""

RETURN = r"""
client:
  description:
    - The app client, as DescribeUserPoolClient returns it in snake_case, without its client secret.
      Empty after deletion.
  returned: always
  type: dict
  contains:
    client_id:
      description: The client's id, the C(aud) claim of its ID tokens.
      type: str
      sample: 702vqsrjicklgb7c5b7b50i1gc
    client_name:
      description: The client's name.
      type: str
      sample: oidc-client
    user_pool_id:
      description: The pool's id.
      type: str
      sample: us-west-2_re1u6bpRA
    generate_secret:
      description: Whether the client has a client secret (the secret itself is never returned).
      type: bool
      sample: false
    explicit_auth_flows:
      description: The authentication flows.
      type: list
      elements: str
      sample: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_PASSWORD_AUTH]
    allowed_oauth_flows:
      description: The OAuth flows.
      type: list
      elements: str
      sample: [implicit]
    allowed_oauth_scopes:
      description: The OAuth scopes.
      type: list
      elements: str
      sample: [aws.cognito.signin.user.admin, email, openid, phone, profile]
    allowed_oauth_flows_user_pool_client:
      description: Whether the OAuth flows are enabled.
      type: bool
      sample: true
    callback_urls:
      description: The callback URLs.
      type: list
      elements: str
      sample: [https://example.com]
    supported_identity_providers:
      description: The identity providers.
      type: list
      elements: str
      sample: [COGNITO]
    id_token_validity:
      description: ID token validity, in the unit of RV(client.token_validity_units).
      type: int
      sample: 60
    token_validity_units:
      description: The units of the token validities.
      type: dict
      sample: {"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_client import converge
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow

UNITS = ["seconds", "minutes", "hours", "days"]
AUTH_FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH",
]


def main():
    argument_spec = dict(
        user_pool_id=dict(type="str", required=True),
        name=dict(type="str"),
        client_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        generate_secret=dict(type="bool", no_log=False),
        explicit_auth_flows=dict(type="list", elements="str", choices=AUTH_FLOWS),
        allowed_oauth_flows=dict(type="list", elements="str", choices=["code", "implicit", "client_credentials"]),
        allowed_oauth_scopes=dict(type="list", elements="str"),
        allowed_oauth_flows_user_pool_client=dict(type="bool"),
        callback_urls=dict(type="list", elements="str"),
        logout_urls=dict(type="list", elements="str"),
        default_redirect_uri=dict(type="str"),
        supported_identity_providers=dict(type="list", elements="str"),
        read_attributes=dict(type="list", elements="str"),
        write_attributes=dict(type="list", elements="str"),
        access_token_validity=dict(type="int", no_log=False),
        id_token_validity=dict(type="int", no_log=False),
        refresh_token_validity=dict(type="int", no_log=False),
        token_validity_units=dict(
            type="dict",
            no_log=False,
            options=dict(
                access_token=dict(type="str", choices=UNITS, no_log=False),
                id_token=dict(type="str", choices=UNITS, no_log=False),
                refresh_token=dict(type="str", choices=UNITS, no_log=False),
            ),
        ),
        prevent_user_existence_errors=dict(type="bool"),
        enable_token_revocation=dict(type="bool", no_log=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**run_flow(module, converge, cognito_client(module), what="app client"))


if __name__ == "__main__":
    main()
