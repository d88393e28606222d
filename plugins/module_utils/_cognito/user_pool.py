# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply the state of one Cognito user pool (modules cognito_user_pool and cognito_user_pool_info)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import describe_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import find_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import issuer_url
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import list_user_pools
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import to_snake
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import describe_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

# Fixed when the pool is created: AWS has no API to change them.
IMMUTABLE_SETTINGS = ("UsernameAttributes", "UsernameConfiguration")

# What UpdateUserPool accepts. It resets every one of these that it is not
# given, so an update always sends all of them (current values + changes).
UPDATABLE_SETTINGS = (
    "Policies", "DeletionProtection", "LambdaConfig", "AutoVerifiedAttributes", "SmsVerificationMessage",
    "EmailVerificationMessage", "EmailVerificationSubject", "VerificationMessageTemplate",
    "SmsAuthenticationMessage", "UserAttributeUpdateSettings", "MfaConfiguration", "DeviceConfiguration",
    "EmailConfiguration", "SmsConfiguration", "AdminCreateUserConfig", "UserPoolAddOns",
    "AccountRecoverySetting", "UserPoolTier",
)

# Settings compared as sets: AWS does not keep their order.
UNORDERED_SETTINGS = ("AutoVerifiedAttributes", "UsernameAttributes")

PASSWORD_POLICY_FIELDS = (
    ("minimum_length", "MinimumLength"),
    ("require_lowercase", "RequireLowercase"),
    ("require_uppercase", "RequireUppercase"),
    ("require_numbers", "RequireNumbers"),
    ("require_symbols", "RequireSymbols"),
    ("temporary_password_validity_days", "TemporaryPasswordValidityDays"),
)


def validate_user_pool_params(params):
    """Refuse, before any API call, the settings AWS would refuse."""
    if not params["name"] and not params["pool_id"]:
        raise AnsibleAWSError("one of name or pool_id is required")
    if params["state"] == "present" and not params["name"]:
        raise AnsibleAWSError("name is required with state: present (the pool's name is part of its desired state)")
    policy = params.get("password_policy") or {}
    length = policy.get("minimum_length")
    if length is not None and not 6 <= length <= 99:
        raise AnsibleAWSError("password_policy.minimum_length must be between 6 and 99, got %d" % length)
    days = policy.get("temporary_password_validity_days")
    if days is not None and not 0 <= days <= 365:
        raise AnsibleAWSError("password_policy.temporary_password_validity_days must be between 0 and 365, got %d" % days)
    recovery = params.get("account_recovery") or []
    if "admin_only" in recovery and len(recovery) > 1:
        raise AnsibleAWSError("account_recovery 'admin_only' cannot be combined with other mechanisms, got %s" % recovery)
    if len(set(recovery)) != len(recovery):
        raise AnsibleAWSError("account_recovery lists a mechanism twice: %s" % recovery)


def desired_user_pool(params):
    """The user's settings in the shape DescribeUserPool returns; None where the user said nothing."""
    policy = params.get("password_policy")
    password_policy = None
    if policy:
        password_policy = dict((api, policy.get(option)) for option, api in PASSWORD_POLICY_FIELDS)
    recovery = params.get("account_recovery")
    case_sensitive = params.get("username_case_sensitive")
    deletion_protection = params.get("deletion_protection")
    self_sign_up = params.get("self_sign_up")
    desired = {
        "Name": params["name"],
        "Policies": {"PasswordPolicy": password_policy} if password_policy else None,
        "UsernameAttributes": params.get("username_attributes"),
        "UsernameConfiguration": None if case_sensitive is None else {"CaseSensitive": case_sensitive},
        "AutoVerifiedAttributes": params.get("auto_verified_attributes"),
        "AdminCreateUserConfig": None if self_sign_up is None else {"AllowAdminCreateUserOnly": not self_sign_up},
        "AccountRecoverySetting": None if recovery is None else {
            "RecoveryMechanisms": [{"Priority": i + 1, "Name": name} for i, name in enumerate(recovery)]
        },
        "MfaConfiguration": params.get("mfa_configuration"),
        "DeletionProtection": None if deletion_protection is None else ("ACTIVE" if deletion_protection else "INACTIVE"),
    }
    for key in UNORDERED_SETTINGS:
        if desired[key] is not None:
            desired[key] = sorted(desired[key])
    return scrub_none_parameters(desired)


def comparable_user_pool(pool):
    """The described pool with unordered lists sorted and defaults AWS leaves out made explicit."""
    pool = dict(pool)
    for key in UNORDERED_SETTINGS:
        pool[key] = sorted(pool.get(key) or [])
    pool.setdefault("UsernameConfiguration", {"CaseSensitive": True})
    pool.setdefault("MfaConfiguration", "OFF")
    pool.setdefault("DeletionProtection", "INACTIVE")
    return pool


def refuse_immutable_changes(changes):
    immutable = dict((path, change) for path, change in changes.items() if path.split(".")[0] in IMMUTABLE_SETTINGS)
    if immutable:
        raise AnsibleAWSError(
            "these user pool settings are fixed when the pool is created and AWS cannot change them: %s. "
            "Keep the pool's values, or create a new pool (users are not carried over)" % describe_changes(immutable)
        )


def update_request(current, desired):
    """UpdateUserPool arguments: every updatable setting, current values overlaid with ``desired``."""
    merged = merge_desired(current, desired)
    # Empty strings and dicts are how MiniStack reports unset settings; AWS rejects them as input.
    request = dict((key, merged[key]) for key in UPDATABLE_SETTINGS if merged.get(key) not in (None, "", {}, []))
    request["UserPoolId"] = current["Id"]
    request["PoolName"] = merged["Name"]
    return request


def create_request(desired, tags):
    """CreateUserPool arguments; MFA is set afterwards (SetUserPoolMfaConfig) so it can name the method."""
    request = dict((key, value) for key, value in desired.items() if key not in ("Name", "MfaConfiguration"))
    request["PoolName"] = desired["Name"]
    if tags:
        request["UserPoolTags"] = tags
    return request


def user_pool_result(pool):
    """The pool as the module returns it: snake_case, tags as given, plus its OIDC issuer URL."""
    result = to_snake(dict((k, v) for k, v in pool.items() if k != "UserPoolTags"))
    result["tags"] = pool.get("UserPoolTags") or {}
    if pool.get("Id"):
        result["issuer_url"] = issuer_url(pool["Id"])
    return result


def set_mfa(client, pool_id, mfa_configuration):
    """ON or OPTIONAL MFA with software tokens (TOTP), which needs no SMS role."""
    client.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration=mfa_configuration,
        SoftwareTokenMfaConfiguration={"Enabled": mfa_configuration != "OFF"},
        aws_retry=True,
    )


def delete_user_pool(client, pool):
    """Delete a pool, its domains first: AWS refuses to delete a pool that still has one."""
    if pool.get("DeletionProtection") == "ACTIVE":
        client.update_user_pool(aws_retry=True, **update_request(pool, {"DeletionProtection": "INACTIVE"}))
    for domain in (pool.get("Domain"), pool.get("CustomDomain")):
        if domain:
            client.delete_user_pool_domain(Domain=domain, UserPoolId=pool["Id"], aws_retry=True)
    client.delete_user_pool(UserPoolId=pool["Id"], aws_retry=True)


def ensure_absent(module, client, current):
    if current is None:
        return dict(changed=False, user_pool={})
    if current.get("DeletionProtection") == "ACTIVE" and module.params["deletion_protection"] is not False:
        raise AnsibleAWSError(
            "user pool '%s' (%s) has deletion protection on; set deletion_protection: false together with "
            "state: absent to turn it off and delete the pool" % (current["Name"], current["Id"])
        )
    domains = [d for d in (current.get("Domain"), current.get("CustomDomain")) if d]
    if not module.check_mode:
        delete_user_pool(client, current)
    return dict(changed=True, user_pool={}, deleted_domains=domains, diff={"before": user_pool_result(current), "after": {}})


def ensure_created(module, client, desired):
    tags = module.params["tags"] or {}
    if module.check_mode:
        planned = user_pool_result(dict(desired, UserPoolTags=tags))
        return dict(changed=True, user_pool=planned, diff={"before": {}, "after": planned})
    pool = client.create_user_pool(aws_retry=True, **create_request(desired, tags))["UserPool"]
    mfa = desired.get("MfaConfiguration", "OFF")
    if mfa != "OFF":
        try:
            set_mfa(client, pool["Id"], mfa)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            # Leave nothing half-created: the pool without its MFA setting goes again.
            delete_user_pool(client, pool)
            raise AnsibleAWSError("could not set MFA on the new user pool; the pool was deleted again", exception=e)
    created = user_pool_result(describe_user_pool(client, pool["Id"]))
    return dict(changed=True, user_pool=created, diff={"before": {}, "after": created})


def ensure_updated(module, client, current, desired):
    changes = plan_changes(comparable_user_pool(current), desired)
    refuse_immutable_changes(changes)
    tags_to_set, tags_to_unset = {}, []
    if module.params["tags"] is not None:
        current_tags = current.get("UserPoolTags") or {}
        tags_to_set, tags_to_unset = compare_aws_tags(current_tags, module.params["tags"], module.params["purge_tags"])
        if tags_to_set or tags_to_unset:
            after_tags = dict((k, v) for k, v in current_tags.items() if k not in tags_to_unset)
            after_tags.update(tags_to_set)
            changes["tags"] = {"before": current_tags, "after": after_tags}
    if changes and not module.check_mode:
        if "MfaConfiguration" in changes:
            set_mfa(client, current["Id"], desired["MfaConfiguration"])
        if set(changes) - {"tags", "MfaConfiguration"}:
            client.update_user_pool(aws_retry=True, **update_request(comparable_user_pool(current), desired))
        if tags_to_set:
            client.tag_resource(ResourceArn=current["Arn"], Tags=tags_to_set, aws_retry=True)
        if tags_to_unset:
            client.untag_resource(ResourceArn=current["Arn"], TagKeys=tags_to_unset, aws_retry=True)
        current = describe_user_pool(client, current["Id"])
    return update_result(changes, user_pool=user_pool_result(current))


def converge(module, client):
    """The flow of cognito_user_pool."""
    params = module.params
    validate_user_pool_params(params)
    current = find_user_pool(client, params["name"], params["pool_id"])
    if params["pool_id"] and current is None and params["state"] == "present":
        raise AnsibleAWSError("no user pool has id '%s'; check the id, or omit pool_id to find the pool by name" % params["pool_id"])
    if params["state"] == "absent":
        return ensure_absent(module, client, current)
    desired = desired_user_pool(params)
    if current is None:
        return ensure_created(module, client, desired)
    return ensure_updated(module, client, current, desired)


def read_user_pools(module, client):
    """The flow of cognito_user_pool_info."""
    pool_id = module.params["pool_id"]
    if pool_id:
        pool = describe_user_pool(client, pool_id)
        pools = [pool] if pool else []
    else:
        pools = list_user_pools(client, module.params["name"])
    return dict(changed=False, user_pools=[user_pool_result(pool) for pool in pools])
