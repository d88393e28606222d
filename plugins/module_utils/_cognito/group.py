# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply the state of one Cognito user pool group (module cognito_group)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import blank_to_none
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import describe_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import require_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import to_snake
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

# The settings of a group, as options and as the API names them.
GROUP_SETTINGS = (("description", "Description"), ("precedence", "Precedence"), ("role_arn", "RoleArn"))

# The shape AWS requires of a group's role (UpdateGroup/CreateGroup RoleArn).
ROLE_ARN_PATTERN = re.compile(r"^arn:[\w+=/,.@-]+:iam::[0-9]{12}:role/[\w+=/,.@-]+$")


def validate_group_params(params):
    """Refuse, before any API call, the settings AWS would refuse."""
    if not params["name"]:
        raise AnsibleAWSError("name must not be empty")
    precedence = params.get("precedence")
    if precedence is not None and precedence < 0:
        raise AnsibleAWSError("precedence must be 0 or more (0 is the highest precedence), got %d" % precedence)
    description = params.get("description")
    if description is not None and len(description) > 2048:
        raise AnsibleAWSError("description must be at most 2048 characters, got %d" % len(description))
    role_arn = params.get("role_arn")
    if role_arn and not ROLE_ARN_PATTERN.match(role_arn):
        raise AnsibleAWSError(
            "role_arn must be an IAM role ARN such as arn:aws:iam::111122223333:role/NAME, got '%s'" % role_arn
        )


def desired_group(params):
    """The user's settings in the shape GetGroup returns; None where the user said nothing."""
    return scrub_none_parameters(dict((api, params.get(option)) for option, api in GROUP_SETTINGS))


def comparable_group(group):
    """The group as AWS reports it: MiniStack's '' for an unset description or role becomes unset."""
    group = dict(group)
    for key in ("Description", "RoleArn"):
        group[key] = blank_to_none(group.get(key))
    return group


def group_result(group):
    """The group as the module returns it, in snake_case, unset settings as null."""
    group = comparable_group(group)
    for option, api in GROUP_SETTINGS:
        group.setdefault(api, None)
    return to_snake(group)


def update_request(current, desired):
    """UpdateGroup arguments: every setting, current values overlaid with ``desired``.

    Sending all of them keeps what the user did not mention, whether or not the
    endpoint resets the settings an update leaves out.
    """
    merged = merge_desired(comparable_group(current), desired)
    request = dict((api, merged[api]) for option, api in GROUP_SETTINGS if merged.get(api) is not None)
    request["UserPoolId"] = current["UserPoolId"]
    request["GroupName"] = current["GroupName"]
    return request


def get_group(client, pool_id, name):
    """The group ``name`` of pool ``pool_id``, or None when it does not exist."""
    try:
        return client.get_group(UserPoolId=pool_id, GroupName=name, aws_retry=True)["Group"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def ensure_absent(module, client, current):
    if current is None:
        return dict(changed=False, group={})
    if not module.check_mode:
        client.delete_group(UserPoolId=current["UserPoolId"], GroupName=current["GroupName"], aws_retry=True)
    return dict(changed=True, group={}, diff={"before": group_result(current), "after": {}})


def ensure_created(module, client, desired):
    request = dict(desired, UserPoolId=module.params["user_pool_id"], GroupName=module.params["name"])
    group = request if module.check_mode else client.create_group(aws_retry=True, **request)["Group"]
    return dict(changed=True, group=group_result(group), diff={"before": {}, "after": group_result(group)})


def ensure_updated(module, client, current, desired):
    changes = plan_changes(comparable_group(current), desired)
    if changes and not module.check_mode:
        current = client.update_group(aws_retry=True, **update_request(current, desired))["Group"]
    return update_result(changes, group=group_result(current))


def converge(module, client):
    """The flow of cognito_group.

    No pool, no group: deleting a group of a pool that is gone has nothing
    left to do, while creating or updating one needs the pool.
    """
    params = module.params
    validate_group_params(params)
    pool_id = params["user_pool_id"]
    if params["state"] == "absent":
        exists = describe_user_pool(client, pool_id) is not None
        return ensure_absent(module, client, get_group(client, pool_id, params["name"]) if exists else None)
    require_user_pool(client, pool_id)
    current = get_group(client, pool_id, params["name"])
    desired = desired_group(params)
    if current is None:
        return ensure_created(module, client, desired)
    return ensure_updated(module, client, current, desired)
