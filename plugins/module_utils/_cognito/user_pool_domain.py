# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply the hosted-UI domain of a Cognito user pool (module cognito_user_pool_domain).

A pool has at most one prefix domain (``PREFIX.auth.REGION.amazoncognito.com``)
and at most one custom domain (a name of your own, served with an ACM
certificate). Domain names are global: a prefix taken by any pool, in any
account, cannot be used by another.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import blank_to_none
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import require_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import to_snake
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import describe_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_WORDS = ("aws", "amazon", "cognito")
CERTIFICATE_ARN = re.compile(r"^arn:(aws[a-z-]*):acm:([a-z0-9-]+):[0-9]{12}:certificate/[A-Za-z0-9-]+$")
# Settings UpdateUserPoolDomain can change; anything else needs a new domain.
UPDATABLE_SETTINGS = ("CustomDomainConfig.CertificateArn", "ManagedLoginVersion")


def validate_prefix(domain):
    if len(domain) > 63 or not LABEL.match(domain):
        raise AnsibleAWSError(
            "domain '%s' is not a valid domain prefix: use 1 to 63 lowercase letters, digits and hyphens, "
            "not starting or ending with a hyphen (for a custom domain such as auth.example.com, "
            "give certificate_arn)" % domain
        )
    reserved = [word for word in RESERVED_WORDS if word in domain]
    if reserved:
        raise AnsibleAWSError(
            "domain '%s' contains the reserved word%s %s, which AWS refuses in a domain prefix; choose another prefix"
            % (domain, "s" if len(reserved) > 1 else "", " and ".join("'%s'" % word for word in reserved))
        )


def validate_fqdn(domain):
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        raise AnsibleAWSError(
            "domain '%s' is not a fully qualified domain name such as auth.example.com (lowercase letters, "
            "digits and hyphens, labels separated by dots); with certificate_arn the domain is a custom domain"
            % domain
        )


def validate_certificate_arn(certificate_arn):
    match = CERTIFICATE_ARN.match(certificate_arn)
    if not match:
        raise AnsibleAWSError(
            "certificate_arn '%s' is not an ACM certificate ARN such as "
            "arn:aws:acm:us-east-1:111122223333:certificate/EXAMPLE" % certificate_arn
        )
    if match.group(1) == "aws" and match.group(2) != "us-east-1":
        raise AnsibleAWSError(
            "certificate_arn '%s' is in %s; a Cognito custom domain is served through CloudFront, "
            "which needs the ACM certificate in us-east-1" % (certificate_arn, match.group(2))
        )


def validate_domain_params(params):
    """Refuse, before any API call, the domains AWS would refuse.

    Deleting needs no certificate: a name with dots is then taken for a custom domain.
    """
    if params["certificate_arn"]:
        validate_fqdn(params["domain"])
        validate_certificate_arn(params["certificate_arn"])
    elif params["state"] == "absent" and "." in params["domain"]:
        validate_fqdn(params["domain"])
    else:
        validate_prefix(params["domain"])


def is_custom(description):
    return bool((description.get("CustomDomainConfig") or {}).get("CertificateArn"))


def desired_domain(params):
    """The user's settings in the shape DescribeUserPoolDomain returns; None where the user said nothing."""
    arn = params.get("certificate_arn")
    return scrub_none_parameters({
        "Domain": params["domain"],
        "CustomDomainConfig": {"CertificateArn": arn} if arn else None,
        "ManagedLoginVersion": params.get("managed_login_version"),
    })


def comparable_domain(description):
    description = dict(description)
    description.setdefault("ManagedLoginVersion", 1)
    description["CustomDomainConfig"] = description.get("CustomDomainConfig") or {}
    return description


def hosted_ui_url(description):
    """Where the hosted UI (managed login) is served: https://PREFIX.auth.REGION.amazoncognito.com or https://FQDN."""
    domain = description["Domain"]
    if is_custom(description):
        return "https://%s" % domain
    region = description["UserPoolId"].split("_", 1)[0]
    return "https://%s.auth.%s.amazoncognito.com" % (domain, region)


def domain_result(description):
    """The domain as the module returns it (snake_case) and its hosted-UI URL."""
    description = dict((key, value) for key, value in description.items() if blank_to_none(value) is not None)
    return {"domain": to_snake(description), "hosted_ui_url": hosted_ui_url(description)}


def describe_domain(client, domain):
    """The description of ``domain``, or None: AWS answers an empty DomainDescription for an unknown domain."""
    description = client.describe_user_pool_domain(Domain=domain, aws_retry=True).get("DomainDescription") or {}
    return description if description.get("UserPoolId") else None


def refuse_foreign_domain(description, pool_id, deleting=False):
    """Never act on a domain that another pool holds (domain names are global); say which pool has it."""
    if description and description["UserPoolId"] != pool_id:
        account = description.get("AWSAccountId")
        owner = "domain '%s' belongs to user pool '%s'%s, not to '%s'" % (
            description["Domain"], description["UserPoolId"], " (account %s)" % account if account else "", pool_id,
        )
        if deleting:
            raise AnsibleAWSError("%s; it is not deleted. Give user_pool_id: %s to delete it" % (owner, description["UserPoolId"]))
        raise AnsibleAWSError("%s; choose another domain, or remove it from that pool first" % owner)


def refuse_second_domain(pool, desired):
    """A pool has one domain of each kind: refuse to add another instead of failing halfway in AWS."""
    custom = bool(desired.get("CustomDomainConfig"))
    existing = pool.get("CustomDomain" if custom else "Domain")
    if existing and existing != desired["Domain"]:
        raise AnsibleAWSError(
            "user pool '%s' already has the %s domain '%s'; a pool has only one, so remove it first "
            "(state: absent, domain: %s) to use '%s'" % (
                pool["Id"], "custom" if custom else "prefix", existing, existing, desired["Domain"],
            )
        )


def refuse_immutable_changes(changes):
    immutable = dict((path, change) for path, change in changes.items() if path not in UPDATABLE_SETTINGS)
    if immutable:
        raise AnsibleAWSError(
            "these domain settings cannot be changed in place: %s. Delete the domain (state: absent) and "
            "create it again" % describe_changes(immutable)
        )


def update_request(current, desired):
    """UpdateUserPoolDomain arguments: the current settings overlaid with ``desired``."""
    merged = merge_desired(comparable_domain(current), desired)
    request = {
        "Domain": current["Domain"],
        "UserPoolId": current["UserPoolId"],
        "ManagedLoginVersion": merged["ManagedLoginVersion"],
    }
    if merged["CustomDomainConfig"]:
        request["CustomDomainConfig"] = {"CertificateArn": merged["CustomDomainConfig"]["CertificateArn"]}
    return request


def create_request(pool_id, desired):
    request = dict(desired)
    request["UserPoolId"] = pool_id
    return request


def ensure_absent(module, client, pool_id, current):
    if current is None:
        return dict(changed=False, domain={}, hosted_ui_url=None)
    refuse_foreign_domain(current, pool_id, deleting=True)
    if not module.check_mode:
        client.delete_user_pool_domain(Domain=current["Domain"], UserPoolId=pool_id, aws_retry=True)
    before = domain_result(current)["domain"]
    return dict(changed=True, domain={}, hosted_ui_url=None, diff={"before": before, "after": {}})


def ensure_created(module, client, pool_id, desired):
    pool = require_user_pool(client, pool_id)
    refuse_second_domain(pool, desired)
    if module.check_mode:
        created = domain_result(dict(comparable_domain(desired), UserPoolId=pool_id))
    else:
        client.create_user_pool_domain(aws_retry=True, **create_request(pool_id, desired))
        created = domain_result(describe_domain(client, desired["Domain"]))
    return dict(changed=True, diff={"before": {}, "after": created["domain"]}, **created)


def ensure_updated(module, client, current, desired):
    comparable = comparable_domain(current)
    if is_custom(comparable) != bool(desired.get("CustomDomainConfig")):
        raise AnsibleAWSError(
            "domain '%s' is a %s domain; it cannot become a %s domain. Delete it (state: absent) and create it again"
            % (current["Domain"], "custom" if is_custom(comparable) else "prefix",
               "prefix" if is_custom(comparable) else "custom")
        )
    changes = plan_changes(comparable, desired)
    refuse_immutable_changes(changes)
    if changes and not module.check_mode:
        client.update_user_pool_domain(aws_retry=True, **update_request(current, desired))
        current = describe_domain(client, current["Domain"])
    return update_result(changes, **domain_result(current))


def converge(module, client):
    """The flow of cognito_user_pool_domain."""
    params = module.params
    validate_domain_params(params)
    pool_id = params["user_pool_id"]
    current = describe_domain(client, params["domain"])
    if params["state"] == "absent":
        return ensure_absent(module, client, pool_id, current)
    refuse_foreign_domain(current, pool_id)
    desired = desired_domain(params)
    if current is None:
        return ensure_created(module, client, pool_id, desired)
    return ensure_updated(module, client, current, desired)
