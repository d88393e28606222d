# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""RBAC subjects named the way the API server names OIDC users and groups.

The API server prefixes every username and group from an ID token with the
prefixes of the identity provider association (the post's ``gid:``). A
binding to the unprefixed group name silently grants nothing; building the
subjects here, from the association's effective prefixes, rules that out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

RBAC_API_GROUP = "rbac.authorization.k8s.io"


def rbac_subjects(groups=None, users=None, groups_prefix="", username_prefix=""):
    """Subjects of a (Cluster)RoleBinding for IdP group and user names, prefixed as the API server sees them."""
    subjects = [{"kind": "Group", "name": (groups_prefix or "") + name, "apiGroup": RBAC_API_GROUP} for name in groups or []]
    subjects += [{"kind": "User", "name": (username_prefix or "") + name, "apiGroup": RBAC_API_GROUP} for name in users or []]
    return subjects
