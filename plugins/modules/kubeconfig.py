#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubeconfig
short_description: Add, update or remove one cluster, user and context in a kubeconfig file
version_added: 0.1.0
description:
  - Manages the entries of step 5 of the AWS post "Introducing OIDC identity provider authentication
    for Amazon EKS" (C(kubectl config set-credentials), C(set-context), C(use-context)) without kubectl,
    and leaves everything else in the file as it is (other clusters, users and contexts, C(preferences),
    C(extensions)).
  - The user authenticates with an C(exec) credential plugin (C(client.authentication.k8s.io/v1)),
    the C(oidc) auth provider of the post, a static bearer token, or a client certificate.
  - An entry named by the task belongs to the task and is replaced as a whole, except for its
    C(extensions); a user switched from a token to C(exec) keeps no stale token.
  - The file is written atomically (a temporary file in the same directory, then a rename) and
    always has mode C(0600); a file with another mode is fixed and reported as changed.
  - C(changed) compares the parsed YAML documents, so a file that kubectl formatted differently but
    that says the same is left alone.
  - Diffs, results and logs show C(********) in place of tokens, refresh and ID tokens, client secrets,
    client key data, passwords, every exec environment variable's value, the credentials among exec
    arguments (see O(user.exec.args)) and any JWT-shaped text. The file itself holds the real values,
    and C(changed) compares them; when only masked values change, the diff says so in a comment line.
  - Like ssh with C(~/.ssh), the module refuses a kubeconfig, or a kubeconfig's directory, that another user
    owns or that group or others may write (whoever can write it decides what kubectl runs and where it
    sends credentials), and a symbolic link unless O(follow=true). It then reads and writes nothing.
    So a task run as root cannot write another user's kubeconfig; run it as that user (C(become_user)).
  - Writers take a lock beside the file, C(.NAME.lock) in the kubeconfig's directory, for the
    read-merge-write, so parallel tasks (a fleet under forks) lose no entries. The lock file is removed
    when the write is done. Runs that change nothing, and check mode, take no lock.
author:
  - kubeauth maintainers (@kubeauth)
requirements:
  - PyYAML
options:
  path:
    description:
      - The kubeconfig file. Created when missing, and its directory too (mode C(0700)) when that is missing.
      - The file and its directory must belong to the user running the task and must not be writable by group
        or others. Otherwise the task fails, naming the path and what is wrong.
      - A symbolic link is refused unless O(follow=true).
    type: path
    default: ~/.kube/config
  follow:
    description:
      - Whether O(path) may be a symbolic link; the file it points to is then read and written.
      - The link (and every further link on the way) must belong to the user running the task, and the file
        it points to and that file's directory pass the same checks as O(path).
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for the lock of the kubeconfig while another task or process writes it.
        V(0) tries once.
      - When the time is up the task fails, naming the lock file; C(fuser -v LOCKFILE) shows who holds it.
    type: int
    default: 30
  prune:
    description:
      - With O(state=absent), also remove the cluster and the user that the removed context O(context.name)
        used, unless another context still uses them (then they are kept, without a warning), as
        C(kubectl config delete-context) followed by C(delete-cluster) and C(delete-user) would.
      - So removing a login needs only its context's name, even once the cluster it pointed to is gone.
    type: bool
    default: false
  state:
    description:
      - V(present) adds or updates the given entries.
      - V(absent) removes the cluster, user and context named in O(cluster.name), O(user.name) and
        O(context.name), and C(current-context) when it named the removed context. A cluster or user
        that another context still uses is kept, with a warning.
    type: str
    choices: [present, absent]
    default: present
  cluster:
    description:
      - The cluster entry (C(kubectl config set-cluster)).
    type: dict
    suboptions:
      name:
        description: Name of the entry, such as the cluster's ARN as C(aws eks update-kubeconfig) names it.
        type: str
        required: true
      server:
        description: The API server URL. Required with O(state=present).
        type: str
      certificate_authority_data:
        description: The cluster CA, base64-encoded PEM, as EKS's DescribeCluster returns it.
        type: str
      certificate_authority:
        description: Path of a PEM file with the cluster CA, instead of O(cluster.certificate_authority_data).
        type: path
  user:
    description:
      - The user entry (C(kubectl config set-credentials)). With O(state=present), exactly one of
        O(user.exec), O(user.auth_provider), O(user.token) or O(user.client_certificate_data) is required.
    type: dict
    suboptions:
      name:
        description: Name of the entry.
        type: str
        required: true
      exec:
        description: A credential plugin that kubectl runs for a token.
        type: dict
        suboptions:
          command:
            description:
              - The program. An absolute path avoids a C(PATH) lookup (and shims that cost time on every kubectl call).
            type: str
            required: true
          args:
            description:
              - Its arguments.
              - Credentials among them are masked in results, diff and logs; the file keeps them. A credential
                is the value of C(--token=VALUE), C(--password=VALUE), C(--client-secret=VALUE) or a similar
                option (C(--id-token), C(--refresh-token), C(--api-key), C(--secret), also with a single dash),
                the argument after such an option, and any JWT-shaped part of an argument.
            type: list
            elements: str
          env:
            description:
              - Extra environment variables for the plugin, as a dict; written sorted by name.
              - Every value is treated as a secret (C(no_log)), masked in results, diff and logs wherever it
                appears in them. The names are shown.
            type: dict
          api_version:
            description: The ExecCredential version the plugin speaks.
            type: str
            choices: [client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1]
            default: client.authentication.k8s.io/v1
          interactive_mode:
            description:
              - Whether the plugin may use the terminal. V(Never) for plugins that never prompt,
                V(IfAvailable) for a browser or password prompt.
            type: str
            choices: [Never, IfAvailable, Always]
            default: IfAvailable
          provide_cluster_info:
            description: Whether kubectl passes the cluster's details to the plugin (C(KUBERNETES_EXEC_INFO)).
            type: bool
            default: false
          install_hint:
            description: Text kubectl prints when the command is not found.
            type: str
      auth_provider:
        description:
          - An auth provider, such as the post's C(oidc) provider of kubectl. kubectl refreshes the ID token
            with the refresh token and writes the new tokens back into this file.
        type: dict
        suboptions:
          name:
            description: The provider.
            type: str
            default: oidc
          config:
            description:
              - The provider's settings other than secrets, such as C(idp-issuer-url), C(client-id),
                C(idp-certificate-authority-data), C(extra-scopes).
              - Secrets in here are refused; use O(user.auth_provider.id_token),
                O(user.auth_provider.refresh_token) and O(user.auth_provider.client_secret).
            type: dict
          id_token:
            description: The ID token, written as C(id-token).
            type: str
          refresh_token:
            description: The refresh token, written as C(refresh-token).
            type: str
          client_secret:
            description: The app client's secret, written as C(client-secret).
            type: str
      token:
        description: A static bearer token, such as an OIDC ID token (it expires; for quick tests).
        type: str
      client_certificate_data:
        description: Client certificate, base64-encoded PEM. Requires O(user.client_key_data).
        type: str
      client_key_data:
        description: Client key, base64-encoded PEM.
        type: str
  context:
    description:
      - The context entry (C(kubectl config set-context)).
    type: dict
    suboptions:
      name:
        description: Name of the entry.
        type: str
        required: true
      cluster:
        description: The cluster entry it uses. Defaults to O(cluster.name).
        type: str
      user:
        description: The user entry it uses. Defaults to O(user.name).
        type: str
      namespace:
        description: The default namespace.
        type: str
  current_context:
    description:
      - V(true) makes O(context.name) the current context (C(kubectl config use-context)), a string
        names another context of the file, V(false) leaves C(current-context) as it is.
    type: raw
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - Supports check mode and diff mode. The diff shows the whole file, secrets masked, its first line the file's mode.
  - Unlike M(kubernetes.core.kubeconfig) (kubernetes.core 6.5 and later), this module manages one named
    set of entries at a time, can remove them, keeps mode C(0600), and never logs or returns credentials.
    See docs/kubeconfig.md.
seealso:
  - module: kubeauth.eks_oidc.eks_cluster_info
  - name: Organizing cluster access using kubeconfig files
    description: The kubeconfig format.
    link: https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
  - name: client-go credential plugins
    description: The exec entry and the ExecCredential it expects.
    link: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The post's step 5 in one task (kubectl config set-credentials/set-context/use-context)
  kubeauth.eks_oidc.kubeconfig:
    cluster:
      name: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
      server: https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
      certificate_authority_data: "{{ cluster_ca_data }}"
    user:
      name: cognito-user
      auth_provider:
        name: oidc
        config:
          idp-issuer-url: https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA
          client-id: 1example23456789
        id_token: "{{ login.id_token }}"
        refresh_token: "{{ login.refresh_token }}"
    context:
      name: oidc-secret-reader
    current_context: true

- name: The same user with a credential plugin that logs in and refreshes by itself
  kubeauth.eks_oidc.kubeconfig:
    user:
      name: cognito-user
      exec:
        command: /usr/bin/python3.11
        args: [-I, -S, /home/me/.kube/kubeauth-eks-oidc/credential_plugin.py, get-token,
               --config, /home/me/.kube/kubeauth-eks-oidc/oidc-oidc-test.json]
        interactive_mode: IfAvailable

- name: A kubeconfig kept elsewhere, linked from ~/.kube/config (the link and the file are the user's own)
  kubeauth.eks_oidc.kubeconfig:
    path: ~/.kube/config
    follow: true
    context:
      name: oidc-secret-reader
      cluster: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
      user: cognito-user

- name: Remove them again (the cluster entry stays while another context uses it)
  kubeauth.eks_oidc.kubeconfig:
    cluster:
      name: arn:aws:eks:us-west-2:111122223333:cluster/oidc-test
    user:
      name: cognito-user
    context:
      name: oidc-secret-reader
    state: absent
"""

RETURN = r"""
path:
  description: The file written; with O(follow=true), the file the link points to.
  returned: always
  type: str
  sample: /home/me/.kube/config
cluster:
  description: The cluster entry as written. Empty with O(state=absent) or without O(cluster).
  returned: always
  type: dict
  sample: {"name": "oidc-test", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": "LS0t..."}}
user:
  description: The user entry as written, secrets shown as C(********).
  returned: always
  type: dict
  sample: {"name": "cognito-user", "user": {"auth-provider": {"name": "oidc", "config": {"client-id": "1example23456789",
           "id-token": "********", "refresh-token": "********"}}}}
context:
  description: The context entry as written.
  returned: always
  type: dict
  sample: {"name": "oidc-secret-reader", "context": {"cluster": "oidc-test", "user": "cognito-user"}}
current_context:
  description: The file's current-context afterwards; empty when it has none.
  returned: always
  type: str
  sample: oidc-secret-reader
removed:
  description: The entries removed, by section.
  returned: when O(state=absent)
  type: dict
  sample: {"clusters": [], "users": ["cognito-user"], "contexts": ["oidc-secret-reader"]}
"""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.kubeconfig import KubeconfigModule
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.kubeconfig import KubeconfigError, run


def main():
    argument_spec = dict(
        path=dict(type="path", default="~/.kube/config"),
        follow=dict(type="bool", default=False),
        lock_timeout=dict(type="int", default=30),
        prune=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        cluster=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                server=dict(type="str"),
                certificate_authority_data=dict(type="str"),
                certificate_authority=dict(type="path"),
            ),
            mutually_exclusive=[["certificate_authority_data", "certificate_authority"]],
        ),
        user=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                exec=dict(
                    type="dict",
                    options=dict(
                        command=dict(type="str", required=True),
                        args=dict(type="list", elements="str"),
                        env=dict(type="dict", no_log=True),
                        api_version=dict(
                            type="str",
                            choices=["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"],
                            default="client.authentication.k8s.io/v1",
                        ),
                        interactive_mode=dict(type="str", choices=["Never", "IfAvailable", "Always"], default="IfAvailable"),
                        provide_cluster_info=dict(type="bool", default=False),
                        install_hint=dict(type="str"),
                    ),
                ),
                auth_provider=dict(
                    type="dict",
                    options=dict(
                        name=dict(type="str", default="oidc"),
                        config=dict(type="dict"),
                        id_token=dict(type="str", no_log=True),
                        refresh_token=dict(type="str", no_log=True),
                        client_secret=dict(type="str", no_log=True),
                    ),
                ),
                token=dict(type="str", no_log=True),
                client_certificate_data=dict(type="str"),
                client_key_data=dict(type="str", no_log=True),
            ),
            mutually_exclusive=[["exec", "auth_provider", "token", "client_certificate_data"]],
            required_together=[["client_certificate_data", "client_key_data"]],
        ),
        context=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                cluster=dict(type="str"),
                user=dict(type="str"),
                namespace=dict(type="str"),
            ),
        ),
        current_context=dict(type="raw", default=False),
    )
    module = KubeconfigModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = run(module)
    except KubeconfigError as e:
        module.fail_json(msg=str(e))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
