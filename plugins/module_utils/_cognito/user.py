# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply the state of one Cognito user (module cognito_user).

A user is compared as three things the API reports: the attributes the task
names, whether the user is enabled, and the groups it belongs to. A password
cannot be read back, so it is set when the user is created, when the user
still waits for its first password (FORCE_CHANGE_PASSWORD), or on every run
with ``update_password: always``. Passwords never appear in results or diffs.

Per user the module reads once: one AdminGetUser, one AdminListGroupsForUser
(paginated), and ListGroups or DescribeUserPool only when a group is to be
added or a password to be set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import password_policy_violations
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import require_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import paginate
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

# A user who has only a temporary password (or none) and must choose one at first sign-in.
WAITING_FOR_PASSWORD = "FORCE_CHANGE_PASSWORD"

# What the diff shows for a password: that it is set, never its value.
PASSWORD_DIFF = {"before": "(not readable)", "after": "(new password set)"}

# Attributes Cognito assigns itself.
READ_ONLY_ATTRIBUTES = ("sub",)

# Where an invitation goes, by the attribute that holds the address.
INVITATION_MEDIUMS = (("email", "EMAIL"), ("phone_number", "SMS"))


def attribute_value(value):
    """An attribute value as Cognito stores it: a string, booleans as 'true'/'false'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def desired_attributes(attributes):
    """The ``attributes`` option with every value as Cognito would report it; None when not given."""
    if attributes is None:
        return None
    return dict((name, attribute_value(value)) for name, value in attributes.items())


def attributes_dict(user):
    """A user's attributes as a dict; AdminGetUser calls them UserAttributes, AdminCreateUser Attributes."""
    attributes = user.get("UserAttributes", user.get("Attributes")) or []
    return dict((attribute["Name"], attribute.get("Value")) for attribute in attributes)


def attribute_list(attributes):
    """A dict of attributes as the API takes them, in a stable order."""
    return [{"Name": name, "Value": value} for name, value in sorted(attributes.items())]


def validate_user_params(params):
    """Refuse, before any API call, what AWS would refuse or what cannot work."""
    if not params["username"]:
        raise AnsibleAWSError("username must not be empty")
    read_only = sorted(set(params.get("attributes") or {}) & set(READ_ONLY_ATTRIBUTES))
    if read_only:
        raise AnsibleAWSError("attributes %s are assigned by Cognito and cannot be set; remove them" % ", ".join(read_only))
    blank = sorted(name for name, value in (params.get("attributes") or {}).items() if value is None)
    if blank:
        raise AnsibleAWSError("attributes %s have no value; give each attribute a value" % ", ".join(blank))


def planned_groups(current, groups, purge_groups):
    """The user's groups after the run: ``groups`` added, and the others removed only with ``purge_groups``."""
    if groups is None:
        return sorted(set(current))
    if purge_groups:
        return sorted(set(groups))
    return sorted(set(current) | set(groups))


def user_state(user, groups):
    """What is compared of an existing user."""
    return {"attributes": attributes_dict(user), "enabled": user.get("Enabled", True), "groups": sorted(groups)}


def desired_user_state(params, current_groups):
    """What the task asks for, in the shape of ``user_state``; None where it asked nothing."""
    return {
        "attributes": desired_attributes(params.get("attributes")),
        "enabled": params.get("enabled"),
        "groups": None if params.get("groups") is None else planned_groups(
            current_groups, params["groups"], params.get("purge_groups")),
    }


def password_to_set(params, user):
    """``(password, permanent, option)`` to set on an existing user this run, or ``(None, None, None)``.

    ``password`` is set when the user still waits for its first password or with
    ``update_password: always``; ``temporary_password`` only with ``always``
    (it puts the user back to FORCE_CHANGE_PASSWORD).
    """
    password, temporary = params.get("password"), params.get("temporary_password")
    always = params.get("update_password") == "always"
    if password and (always or user.get("UserStatus") == WAITING_FOR_PASSWORD):
        return password, True, "password"
    if temporary and always and not password:
        return temporary, False, "temporary_password"
    return None, None, None


def passwords_to_check(params, user):
    """``{option: password}`` for every password this run will give Cognito."""
    if user is None:
        return dict((option, params[option]) for option in ("temporary_password", "password") if params.get(option))
    password, permanent, option = password_to_set(params, user)
    return {option: password} if password else {}


def password_problems(passwords, policy, pool_id):
    """A readable refusal for passwords that break the pool's policy (None when all conform).

    The message names the option and what it lacks, never the password itself.
    """
    problems = []
    for option in sorted(passwords):
        lacks = password_policy_violations(passwords[option], policy)
        if lacks:
            problems.append("%s needs %s" % (option, ", ".join(lacks)))
    if not problems:
        return None
    return "the password policy of user pool '%s' is not met: %s; nothing was changed" % (pool_id, "; ".join(problems))


def create_request(params):
    """AdminCreateUser arguments: no invitation unless asked, the temporary password only if given."""
    attributes = desired_attributes(params.get("attributes")) or {}
    request = {"UserPoolId": params["user_pool_id"], "Username": params["username"]}
    if attributes:
        request["UserAttributes"] = attribute_list(attributes)
    if params.get("temporary_password"):
        request["TemporaryPassword"] = params["temporary_password"]
    if params.get("send_invitation"):
        mediums = [medium for attribute, medium in INVITATION_MEDIUMS if attribute in attributes]
        if mediums:
            request["DesiredDeliveryMediums"] = mediums
    else:
        request["MessageAction"] = "SUPPRESS"
    return request


def user_result(user, groups):
    """The user as the module returns it; no password ever."""
    attributes = attributes_dict(user)
    return {
        "username": user.get("Username"),
        "sub": attributes.get("sub"),
        "attributes": attributes,
        "enabled": user.get("Enabled", True),
        "user_status": user.get("UserStatus"),
        "groups": sorted(groups),
        "user_create_date": user.get("UserCreateDate"),
        "user_last_modified_date": user.get("UserLastModifiedDate"),
    }


def planned_user(params):
    """What a user created by ``params`` will look like (check mode), in AdminGetUser's shape."""
    return {
        "Username": params["username"],
        "UserAttributes": attribute_list(desired_attributes(params.get("attributes")) or {}),
        "Enabled": params.get("enabled", True),
        "UserStatus": "CONFIRMED" if params.get("password") else WAITING_FOR_PASSWORD,
    }


def get_user(client, pool_id, username):
    """The user called (or aliased) ``username``, or None.

    AWS stores the user of a pool that signs in with email under a UUID and
    accepts the email here; MiniStack may keep the email as the name. Either
    way the returned ``Username`` is the name to use for every later call.
    """
    try:
        user = client.admin_get_user(UserPoolId=pool_id, Username=username, aws_retry=True)
    except is_boto3_error_code("UserNotFoundException"):
        return None
    user.pop("ResponseMetadata", None)
    return user


def user_group_names(client, pool_id, username):
    """The names of the groups a user belongs to."""
    groups = paginate(client, "admin_list_groups_for_user", UserPoolId=pool_id, Username=username)
    return sorted(group["GroupName"] for group in groups["Groups"])


def require_groups(client, pool_id, names):
    """Fail clearly, before anything changes, when a group in ``names`` does not exist in the pool."""
    existing = paginate(client, "list_groups", UserPoolId=pool_id)["Groups"]
    missing = sorted(set(names) - set(group["GroupName"] for group in existing))
    if missing:
        raise AnsibleAWSError(
            "groups %s do not exist in user pool '%s'; create them first (kubeauth.eks_oidc.cognito_group)"
            % (", ".join("'%s'" % name for name in missing), pool_id)
        )


def set_password(client, pool_id, username, password, permanent):
    client.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=permanent, aws_retry=True
    )


def set_enabled(client, pool_id, username, enabled):
    if enabled:
        client.admin_enable_user(UserPoolId=pool_id, Username=username, aws_retry=True)
    else:
        client.admin_disable_user(UserPoolId=pool_id, Username=username, aws_retry=True)


def change_groups(client, pool_id, username, before, after):
    for name in sorted(set(after) - set(before)):
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=name, aws_retry=True)
    for name in sorted(set(before) - set(after)):
        client.admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=name, aws_retry=True)


def changed_attributes(changes, desired):
    """The attributes to send to AdminUpdateUserAttributes, from a ``plan_changes`` result."""
    names = [path.split(".", 1)[1] for path in changes if path.startswith("attributes.")]
    return dict((name, desired[name]) for name in names)


def check_before_change(client, params, user, current_groups):
    """Every refusal that can be known before a change: unknown groups, passwords the policy rejects."""
    pool_id = params["user_pool_id"]
    if params.get("groups"):
        to_add = set(params["groups"]) - set(current_groups)
        if to_add:
            require_groups(client, pool_id, to_add)
    passwords = passwords_to_check(params, user)
    if passwords:
        policy = require_user_pool(client, pool_id).get("Policies", {}).get("PasswordPolicy")
        problem = password_problems(passwords, policy, pool_id)
        if problem:
            raise AnsibleAWSError(problem)


def delete_again(client, pool_id, username):
    """Delete a user this run created and could not finish; say what happened, for the failure message."""
    try:
        client.admin_delete_user(UserPoolId=pool_id, Username=username, aws_retry=True)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        return "deleting the user again failed too (%s); delete user '%s' by hand" % (e, username)
    return "the user was deleted again, nothing is left half-created"


def ensure_absent(module, client, user):
    if user is None:
        return dict(changed=False, user={})
    pool_id = module.params["user_pool_id"]
    before = user_result(user, user_group_names(client, pool_id, user["Username"]))
    if not module.check_mode:
        try:
            client.admin_delete_user(UserPoolId=pool_id, Username=user["Username"], aws_retry=True)
        except is_boto3_error_code("UserNotFoundException"):
            return dict(changed=False, user={})
    return dict(changed=True, user={}, diff={"before": before, "after": {}})


def ensure_created(module, client):
    params = module.params
    pool_id = params["user_pool_id"]
    groups = planned_groups([], params.get("groups") or [], True)
    if module.check_mode:
        planned = user_result(planned_user(params), groups)
        return dict(changed=True, user=planned, diff={"before": {}, "after": planned})
    username = client.admin_create_user(aws_retry=True, **create_request(params))["User"]["Username"]
    try:
        if params.get("password"):
            set_password(client, pool_id, username, params["password"], True)
        if not params.get("enabled", True):
            set_enabled(client, pool_id, username, False)
        change_groups(client, pool_id, username, [], groups)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        # Leave nothing half-created: a user without its password or groups goes again.
        raise AnsibleAWSError(
            "could not finish creating user '%s'; %s" % (params["username"], delete_again(client, pool_id, username)), exception=e
        )
    user = get_user(client, pool_id, username)
    result = user_result(user, user_group_names(client, pool_id, username))
    return dict(changed=True, user=result, diff={"before": {}, "after": result})


def ensure_updated(module, client, user, current_groups):
    params = module.params
    pool_id, username = params["user_pool_id"], user["Username"]
    desired = desired_user_state(params, current_groups)
    changes = plan_changes(user_state(user, current_groups), desired)
    password, permanent, option = password_to_set(params, user)
    if password:
        changes["password"] = dict(PASSWORD_DIFF)
    if changes and not module.check_mode:
        attributes = changed_attributes(changes, desired["attributes"] or {})
        if attributes:
            client.admin_update_user_attributes(
                UserPoolId=pool_id, Username=username, UserAttributes=attribute_list(attributes), aws_retry=True
            )
        if password:
            set_password(client, pool_id, username, password, permanent)
        if "enabled" in changes:
            set_enabled(client, pool_id, username, desired["enabled"])
        if "groups" in changes:
            change_groups(client, pool_id, username, current_groups, desired["groups"])
        user = get_user(client, pool_id, username)
        current_groups = user_group_names(client, pool_id, username)
    return update_result(changes, user=user_result(user, current_groups))


def converge(module, client):
    """The flow of cognito_user."""
    params = module.params
    validate_user_params(params)
    pool_id = params["user_pool_id"]
    try:
        user = get_user(client, pool_id, params["username"])
    except is_boto3_error_code("ResourceNotFoundException"):
        if params["state"] == "absent":
            # No pool, no user: there is nothing left to delete.
            return dict(changed=False, user={})
        require_user_pool(client, pool_id)  # says clearly that the pool does not exist
        raise
    if params["state"] == "absent":
        return ensure_absent(module, client, user)
    current_groups = user_group_names(client, pool_id, user["Username"]) if user else []
    check_before_change(client, params, user, current_groups)
    if user is None:
        return ensure_created(module, client)
    return ensure_updated(module, client, user, current_groups)
