# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every Cognito module of the collection shares.

The client, name lookup (pool and client names are not unique in Cognito),
password-policy checks made before any user is
created, and the conversion of API results to the snake_case dicts the
modules return. Problems the user can fix are raised as ``AnsibleAWSError``
(module_utils/aws_module.py turns them into the module's failure).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import string

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import paginate

# Cognito's own default password policy, used when a pool reports none.
DEFAULT_PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
# The characters Cognito counts as symbols in a password.
COGNITO_PASSWORD_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "


# How every Cognito call is retried. Cognito answers a caller over its per-second request
# quota with TooManyRequestsException (HTTP 400, which botocore's default retry mode does not
# retry) and a transient failure with InternalErrorException (a code AWSRetry does not know).
# The quotas are per second, so the first retries come within a second or two: full jitter
# from 0-1 s, doubling up to 20 s, ten times.
COGNITO_RETRY = dict(retries=10, delay=1, backoff=2, max_delay=20, catch_extra_error_codes=["InternalErrorException"])


def cognito_client(module):
    """The cognito-idp client every Cognito module uses: throttling and transient errors retried with jittered backoff."""
    return module.client("cognito-idp", retry_decorator=AWSRetry.jittered_backoff(**COGNITO_RETRY))


def pick_by_name(items, name, name_key, id_key, kind, id_option):
    """The single item of ``items`` called ``name``, or None.

    Cognito lets several pools (and several clients of a pool) share one name,
    so acting on a name that matches more than one would be a guess: refuse,
    list the ids and say which option settles it.
    """
    matches = [item for item in items if item.get(name_key) == name]
    if len(matches) > 1:
        ids = ", ".join(sorted(item[id_key] for item in matches))
        raise AnsibleAWSError(
            "%s name '%s' matches %d %ss: %s; pass %s to choose one" % (kind, name, len(matches), kind, ids, id_option)
        )
    return matches[0] if matches else None


def describe_user_pool(client, pool_id):
    """The described user pool, or None when no pool has that id."""
    try:
        return client.describe_user_pool(UserPoolId=pool_id, aws_retry=True)["UserPool"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def find_user_pool(client, name=None, pool_id=None):
    """The described user pool given by ``pool_id`` (preferred) or by its unique ``name``, or None."""
    if pool_id:
        return describe_user_pool(client, pool_id)
    pools = paginate(client, "list_user_pools", MaxResults=60)["UserPools"]
    summary = pick_by_name(pools, name, "Name", "Id", "user pool", "pool_id")
    return describe_user_pool(client, summary["Id"]) if summary else None


def require_user_pool(client, pool_id):
    """The described pool ``pool_id``; a clear error instead of an AWS one when it does not exist."""
    pool = describe_user_pool(client, pool_id)
    if pool is None:
        raise AnsibleAWSError("user pool '%s' does not exist; create it first (kubeauth.eks_oidc.cognito_user_pool)" % pool_id)
    return pool


def find_user_pool_client(client, pool_id, name=None, client_id=None):
    """The described app client given by ``client_id`` (preferred) or its unique ``name``, or None."""
    if not client_id:
        summaries = paginate(client, "list_user_pool_clients", UserPoolId=pool_id, MaxResults=60)
        summary = pick_by_name(summaries["UserPoolClients"], name, "ClientName", "ClientId", "app client", "client_id")
        if summary is None:
            return None
        client_id = summary["ClientId"]
    try:
        return client.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id, aws_retry=True)["UserPoolClient"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def password_policy_violations(password, policy):
    """What ``password`` lacks under a pool's PasswordPolicy, as readable phrases (empty when it conforms).

    Checking before creating a user means a bad password never leaves a user
    behind that was created but could not be given its password.
    """
    policy = dict(DEFAULT_PASSWORD_POLICY, **(policy or {}))
    problems = []
    if len(password) < policy["MinimumLength"]:
        problems.append("at least %d characters" % policy["MinimumLength"])
    rules = (
        ("RequireUppercase", string.ascii_uppercase, "an uppercase letter"),
        ("RequireLowercase", string.ascii_lowercase, "a lowercase letter"),
        ("RequireNumbers", string.digits, "a number"),
        ("RequireSymbols", COGNITO_PASSWORD_SYMBOLS, "a symbol"),
    )
    for key, characters, phrase in rules:
        if policy.get(key) and not any(c in characters for c in password):
            problems.append(phrase)
    if password != password.strip():
        problems.append("no leading or trailing space")
    return problems


def to_snake(resource, keep=()):
    """An API result in snake_case; the keys in ``keep`` (tag dicts) keep their own keys."""
    return camel_dict_to_snake_dict(resource or {}, ignore_list=list(keep))


def blank_to_none(value):
    """MiniStack reports unset strings as ''; AWS omits them. Treat both as unset."""
    return None if value in ("", [], {}) else value


def list_user_pools(client, name=None):
    """Every described pool, or only those called ``name`` (several may share it)."""
    pools = paginate(client, "list_user_pools", MaxResults=60)["UserPools"]
    ids = [pool["Id"] for pool in pools if name is None or pool["Name"] == name]
    described = (describe_user_pool(client, pool_id) for pool_id in ids)
    return [pool for pool in described if pool is not None]
