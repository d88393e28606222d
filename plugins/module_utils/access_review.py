# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ask the API server who the caller is and what the caller may do (module kubernetes_access_info).

A SelfSubjectReview returns the user the API server authenticated (username
and groups after the OIDC claim mapping and prefixes); a
SelfSubjectAccessReview per check answers "may I <verb> <resource>?" with
RBAC's own reason. Together they prove Step 5 of the AWS post without
parsing kubectl output.

The connection is kubernetes.core's: its client built from the standard
options (kubeconfig and context, or host with api_key or a client
certificate, validate_certs, ca_cert, ...; doc fragment
kubernetes.core.k8s_auth_options), exec credential plugins included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException
except ImportError:
    pass  # AnsibleK8SModule reports the missing library

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException


class AccessReviewError(Exception):
    """A problem the user can fix; the message says how."""


def credentials(params):
    """How a message names the credentials used: the context, or the API server's URL."""
    if params.get("context"):
        return "the credentials of context %s" % params["context"]
    if params.get("host"):
        return "the credentials given for %s" % params["host"]
    return "the credentials of the current context"


def api_client(module):
    """The kubernetes ApiClient of kubernetes.core's client for the module's connection options."""
    try:
        return get_api_client(module).client.client
    except CoreException as e:
        raise AccessReviewError(
            "cannot connect with %s: %s; check kubeconfig and context (or host and its credentials)" % (credentials(module.params), e)
        )


def who_am_i(api):
    """The user the API server sees: {username, uid, groups, extra}."""
    review = k8s_client.AuthenticationV1Api(api).create_self_subject_review(
        body=k8s_client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
    )
    info = review.status.user_info
    return {
        "username": info.username,
        "uid": info.uid,
        "groups": list(info.groups or []),
        "extra": dict(info.extra or {}),
    }


def access_check_attributes(check):
    """ResourceAttributes of a SelfSubjectAccessReview from a check such as {verb: list, resource: secrets}."""
    return k8s_client.V1ResourceAttributes(
        verb=check["verb"],
        resource=check["resource"],
        group=check.get("group") or "",
        namespace=check.get("namespace"),
        name=check.get("name"),
        subresource=check.get("subresource"),
    )


def can_i(api, check):
    """The API server's answer to one check: {allowed, denied, reason}."""
    review = k8s_client.AuthorizationV1Api(api).create_self_subject_access_review(
        body=k8s_client.V1SelfSubjectAccessReview(
            api_version="authorization.k8s.io/v1",
            kind="SelfSubjectAccessReview",
            spec=k8s_client.V1SelfSubjectAccessReviewSpec(resource_attributes=access_check_attributes(check)),
        )
    )
    status = review.status
    return {"allowed": bool(status.allowed), "denied": bool(status.denied), "reason": status.reason or ""}


def describe_check(check):
    """"list secrets in namespace default" — how a check reads in a report."""
    resource = check["resource"] if not check.get("group") else "%s.%s" % (check["resource"], check["group"])
    where = " in namespace %s" % check["namespace"] if check.get("namespace") else " (cluster-wide)"
    return "%s %s%s" % (check["verb"], resource, where)


def compare_expectations(checks, answers):
    """Rows {check, expected, actual, ok} for checks that carry `allowed` as the expectation."""
    rows = []
    for check, answer in zip(checks, answers):
        expected = check.get("allowed")
        rows.append({
            "check": describe_check(check),
            "expected": None if expected is None else ("allowed" if expected else "forbidden"),
            "actual": "allowed" if answer["allowed"] else "forbidden",
            "ok": expected is None or bool(expected) == answer["allowed"],
            "reason": answer["reason"],
        })
    return rows


def review_access(module):
    """who_am_i plus every check of the module's ``checks``: the user and the rows the module returns."""
    checks = module.params["checks"]
    try:
        api = api_client(module)
        user = who_am_i(api)
        answers = [can_i(api, check) for check in checks]
    except ApiException as e:
        if e.status == 401:
            raise AccessReviewError(
                "the API server rejected %s (401 Unauthorized): check that the identity provider association is "
                "ACTIVE and that the token's issuer and audience match it" % credentials(module.params)
            )
        raise AccessReviewError("API server error %s: %s" % (e.status, e.reason))
    return user, compare_expectations(checks, answers)
