#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: oidc_token_info
short_description: Obtain, verify and explain an OpenID Connect ID token as kube-apiserver sees it
version_added: 0.1.0
description:
  - Steps 2 and 5 of the AWS post "Introducing OIDC identity provider authentication for Amazon EKS", done right.
    The post gets an ID token from Cognito and decodes its payload with C(cut | base64 --decode), which breaks on
    base64url padding, to find the groups claim. This module decodes it correctly, verifies it, and says which
    Kubernetes user and groups the API server will make of it.
  - The ID token is O(token), or is obtained from O(refresh_token), or from O(username) and O(password) at Amazon
    Cognito (C(ADMIN_USER_PASSWORD_AUTH) when O(user_pool_id) is given, which needs AWS credentials; otherwise
    C(USER_PASSWORD_AUTH), which needs none). A refresh token is redeemed with Cognito's C(REFRESH_TOKEN_AUTH) when
    the issuer is a Cognito user pool (or none is given), otherwise at the issuer's token endpoint; username and
    password with an issuer other than Cognito use the OAuth 2.0 password grant.
  - Verification (O(verify=true)) does what kube-apiserver does, against the issuer's discovery document and JWKS
    - the signature with the key the token's C(kid) names; only the asymmetric algorithms the issuer signs with
    (C(alg=none) and HMAC algorithms such as C(HS256) are refused); C(iss) is O(issuer_url); C(aud) includes
    O(audience); C(exp) has not passed (with O(leeway)). A refused token fails the task with a message that says
    why (altered, wrong audience, wrong issuer, expired, unsigned, HMAC forgery, unknown key).
  - A token whose C(exp), C(iat) or C(nbf) is not a number of seconds between 1970 and year 9999 (a string,
    C(1e20), C(NaN), C(Infinity)) is refused as malformed, also with O(verify=false).
  - Every URL the module fetches or posts to must be C(https://) - O(issuer_url), O(discovery_url), the discovery
    document's C(jwks_uri) and C(token_endpoint), and the Cognito API endpoint when it sends a password or refresh
    token. An C(http://) URL, loopback included, is refused before any request - a key set fetched over plain http
    can be swapped on the path, and a grant or token sent over it can be read.
  - Error messages never quote a secret - the identity provider's error text is scrubbed of JWT-shaped strings,
    of the values of fields such as C(refresh_token=), C(access_token=), C(id_token=), C(password=) and
    C(client_secret=), of bearer tokens, and of the values of O(token), O(refresh_token) and O(password), also
    when form- or JSON-encoded.
  - RV(kubernetes_user) applies the claim mapping of the cluster's identity provider config with EKS's rules - the
    username claim defaults to C(sub); an unset username prefix means C(<issuer_url>#) except with the claim
    C(email), which gets none; the prefix C(-) means none; each group gets the groups prefix; every user is also
    in C(system:authenticated). Pass the config as O(identity_provider_config), or the claim and prefix options.
author:
  - kubeauth maintainers (@kubeauth)
options:
  token:
    description:
      - An ID token (a JWT) to verify and explain.
      - Mutually exclusive with O(refresh_token) and O(username).
    type: str
  refresh_token:
    description:
      - A refresh token to redeem for a new ID token.
    type: str
  username:
    description:
      - A Cognito user to authenticate as, with O(password).
    type: str
  password:
    description:
      - The password of O(username).
    type: str
  user_pool_id:
    description:
      - The Cognito user pool. With O(username), authenticates with C(ADMIN_USER_PASSWORD_AUTH) (AWS credentials
        needed, the app client must allow it). Also gives the issuer URL when O(issuer_url) is not set.
    type: str
  client_id:
    description:
      - The app client (OIDC client id) the token is issued to. Needed to obtain a token; the default O(audience).
    type: str
  issuer_url:
    description:
      - The issuer, exactly as the token's C(iss) and the cluster's identity provider config spell it. Must be
        C(https://), as kube-apiserver requires.
      - Defaults to the issuer of O(identity_provider_config) or of O(user_pool_id); for a token just obtained from
        Cognito's API, its own C(iss).
    type: str
  audience:
    description:
      - The client id the token's C(aud) must include. Defaults to O(client_id), then to the C(client_id) of
        O(identity_provider_config).
    type: str
  discovery_url:
    description:
      - Where the issuer's OpenID configuration is, when not at O(issuer_url)C(/.well-known/openid-configuration).
        Must be C(https://).
        In the sandbox, the Cognito issuer's host does not resolve and its documents are at
        C(https://127.0.0.1:PORT/POOL/.well-known/openid-configuration).
      - The document must still name O(issuer_url) as its issuer.
    type: str
  ca_file:
    description:
      - A CA bundle to trust for the discovery document, the JWKS and the token endpoint.
      - Cognito API calls use the AWS connection options (O(aws_ca_bundle)) instead.
    type: path
  verify:
    description:
      - Whether to verify the token. V(false) only decodes it; RV(verified) is then V(false).
    type: bool
    default: true
  leeway:
    description:
      - Seconds of clock skew to allow when checking C(exp). kube-apiserver allows none.
      - At most V(300) (five minutes); a negative value or more than V(300) fails the task.
    type: int
    default: 0
  identity_provider_config:
    description:
      - The cluster's OIDC identity provider config, as M(kubeauth.eks_oidc.eks_identity_provider_config) returns it
        (RV(kubeauth.eks_oidc.eks_identity_provider_config#module:identity_provider_config)) or as
        M(kubeauth.eks_oidc.eks_identity_provider_config_info) lists it, in snake_case or as the EKS API writes it.
        A dict with only a C(claim_mapping) works too.
      - Its issuer, client id, claims, prefixes and required claims apply unless the options of the same name are set.
    type: dict
  username_claim:
    description:
      - The claim used as the Kubernetes username. EKS's default is V(sub).
    type: str
  username_prefix:
    description:
      - The prefix of every username. Unset means EKS's default (see the description); V(-) means none.
    type: str
  groups_claim:
    description:
      - The claim that lists the user's groups, such as V(cognito:groups). Unset means no groups.
    type: str
  groups_prefix:
    description:
      - The prefix of every group, such as V(gid:).
    type: str
  return_tokens:
    description:
      - Whether to return the ID token (and the access and refresh tokens when obtained) in RV(tokens).
      - The tokens are returned in clear, so the task must set C(no_log=true); without it the task fails before any
        request. The registered variable still holds them; pass them on only to tasks that also set
        C(no_log=true) or to files of mode C(0600).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Reads only; nothing changes, so check mode does what a normal run does.
  - AWS credentials are needed only for O(username) with O(user_pool_id) (C(AdminInitiateAuth)).
  - The kubectl credential plugin of this collection (see docs/login.md) obtains tokens the same way, with the
    standard library only, and caches them.
requirements:
  - PyJWT[crypto] >= 2.10.1 (2.10.0 checks the issuer as a substring, CVE-2024-53861)
seealso:
  - module: kubeauth.eks_oidc.eks_identity_provider_config
  - module: kubeauth.eks_oidc.cognito_user
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode runs it as usual.
  diff_mode:
    support: none
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Step 2 of the post - log in as the test user and see the token's groups claim
  kubeauth.eks_oidc.oidc_token_info:
    user_pool_id: "{{ pool.user_pool.id }}"
    client_id: "{{ app.client.client_id }}"
    username: test@example.com
    password: "{{ test_user_password }}"
  register: login

- name: Which claims hold groups (cognito:groups for Cognito)
  ansible.builtin.debug:
    var: login.group_claims

- name: Who the cluster will think the user is
  kubeauth.eks_oidc.oidc_token_info:
    token: "{{ id_token }}"
    identity_provider_config: "{{ association.identity_provider_config }}"
  register: who

- name: The RoleBinding subject must match
  ansible.builtin.assert:
    that: "'gid:secret-reader' in who.kubernetes_user.groups"

- name: Refresh, and get the tokens back (return_tokens needs no_log - the result holds them in clear)
  kubeauth.eks_oidc.oidc_token_info:
    refresh_token: "{{ refresh_token }}"
    client_id: 702vqsrjicklgb7c5b7b50i1gc
    issuer_url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    region: us-west-2
    return_tokens: true
  register: refreshed
  no_log: true

- name: Keep them for the next tasks, not printed (Cognito returns the same refresh token, the real one)
  ansible.builtin.set_fact:
    id_token: "{{ refreshed.tokens.id_token }}"
    refresh_token: "{{ refreshed.tokens.refresh_token }}"
  no_log: true

- name: Any other OIDC issuer (Keycloak, Dex, Okta...)
  kubeauth.eks_oidc.oidc_token_info:
    token: "{{ id_token }}"
    issuer_url: https://keycloak.example.com/realms/eks
    audience: kubernetes
    username_claim: preferred_username
    username_prefix: "oidc:"
    groups_claim: groups
    groups_prefix: "oidc:"
"""

RETURN = r"""
verified:
  description: Whether the token was verified (V(false) with O(verify=false)).
  returned: success
  type: bool
  sample: true
token_source:
  description: >-
    Where the ID token came from - V(token), V(refresh_token) (token endpoint), V(cognito_refresh_token),
    V(cognito_user_password), V(cognito_admin_user_password) or V(password) (OAuth 2.0 password grant).
  returned: always
  type: str
  sample: cognito_admin_user_password
issuer_url:
  description: The issuer the token was verified against.
  returned: always
  type: str
  sample: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
audience:
  description: The client id the token's C(aud) had to include.
  returned: always
  type: str
  sample: 702vqsrjicklgb7c5b7b50i1gc
header:
  description: The token's JOSE header.
  returned: always
  type: dict
  sample: {"alg": "RS256", "kid": "abcdEXAMPLE"}
claims:
  description: The token's claims (its payload).
  returned: always
  type: dict
  sample:
    sub: 86f7130a-5605-4c05-b402-c970b27633ce
    aud: 702vqsrjicklgb7c5b7b50i1gc
    "cognito:groups": [secret-reader]
    token_use: id
    iss: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
    exp: 1612764351
    iat: 1612760751
    email: test@example.com
issued_at:
  description: C(iat) as RFC 3339 UTC.
  returned: when the token has C(iat)
  type: str
  sample: "2021-02-08T05:05:51Z"
expires_at:
  description: C(exp) as RFC 3339 UTC.
  returned: when the token has C(exp)
  type: str
  sample: "2021-02-08T06:05:51Z"
expires_in:
  description: Seconds until C(exp); negative once expired.
  returned: when the token has C(exp)
  type: int
  sample: 3599
group_claims:
  description: The claims that look like group lists (named like C(groups) or C(roles)), with their values as lists.
  returned: always
  type: dict
  sample: {"cognito:groups": ["secret-reader"]}
claim_mapping:
  description: The claims and prefixes applied, EKS's defaults resolved; prefixes literal, empty for none.
  returned: always
  type: dict
  sample: {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}
kubernetes_user:
  description: The user kube-apiserver authenticates the token as. RBAC subjects must name these.
  returned: success
  type: dict
  contains:
    username:
      description: The Kubernetes username.
      type: str
      sample: test@example.com
    groups:
      description: The Kubernetes groups, C(system:authenticated) last.
      type: list
      elements: str
      sample: ["gid:secret-reader", "system:authenticated"]
tokens:
  description:
    - The tokens, in clear - secrets. O(return_tokens) requires C(no_log=true) on the task, so they are not printed;
      keep them secret after that too (C(no_log=true) on every task that uses them, files of mode C(0600)).
    - After a Cognito refresh, which renews no refresh token, C(refresh_token) is the one given in
      O(refresh_token).
  returned: when O(return_tokens=true)
  type: dict
  contains:
    id_token:
      description: The ID token (a JWT).
      type: str
    access_token:
      description: The access token.
      type: str
      returned: when obtained from the issuer
    refresh_token:
      description: The refresh token to use next time (the issuer's new one, or the one given).
      type: str
      returned: when obtained from the issuer, or given
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import CLAIM_MAPPING_OPTIONS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.oidc import OidcError, run


def main():
    argument_spec = dict(
        token=dict(type="str", no_log=True),
        refresh_token=dict(type="str", no_log=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        user_pool_id=dict(type="str"),
        client_id=dict(type="str"),
        issuer_url=dict(type="str"),
        audience=dict(type="str"),
        discovery_url=dict(type="str"),
        ca_file=dict(type="path"),
        verify=dict(type="bool", default=True),
        leeway=dict(type="int", default=0),
        identity_provider_config=dict(type="dict"),
        return_tokens=dict(type="bool", default=False, no_log=False),
        **CLAIM_MAPPING_OPTIONS
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("token", "refresh_token", "username")],
        required_one_of=[("token", "refresh_token", "username")],
        required_together=[("username", "password")],
    )
    try:
        result = run(module)
    except OidcError as e:
        module.fail_json(msg=str(e), **e.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
