# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Cognito user pool's OIDC issuer URL, both ways.

Standard library only: modules that only need to recognise a Cognito issuer
(kubectl_credential_plugin) do not pay for importing boto3 and amazon.aws.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([\w-]+_[0-9A-Za-z]+)$")


def issuer_url(pool_id):
    """The OIDC issuer of a user pool: what tokens carry as ``iss`` and EKS needs."""
    region = pool_id.split("_", 1)[0]
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "https://cognito-idp.%s.%s/%s" % (region, suffix, pool_id)


def pool_of_issuer(issuer_url):
    """The user pool id of a Cognito issuer URL, or None for other issuers."""
    match = ISSUER.match(issuer_url or "")
    return match.group(3) if match else None
