# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the keycloak_idp role decides before it calls community.general's keycloak modules.

community.general.keycloak_user changes a user in check mode (its update and
group paths do not look at check mode), and costs one module run per user on
every run. So the role reads the realm's users and group members once, and
these functions say which users need keycloak_user at all: none on a run
where nothing differs, and in check mode the ones it would change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def keycloak_user(item):
    """The Keycloak user that one eks_oidc_users item describes.

    Items take cognito_idp's shape (username, attributes: {email, given_name,
    family_name}, password, temporary_password, groups, enabled) or
    Keycloak's names (email, first_name, last_name, email_verified).
    Keycloak stores usernames and emails in lower case, and so are they here.
    email_verified defaults to true when an email is given: the administrator
    vouches for it, and kube-apiserver refuses an ``email`` username claim
    whose ``email_verified`` is false.
    """
    attributes = item.get("attributes") or {}
    email = item.get("email", attributes.get("email"))
    user = {
        "username": item["username"].lower(),
        "email": email.lower() if email else None,
        "first_name": item.get("first_name", attributes.get("given_name")),
        "last_name": item.get("last_name", attributes.get("family_name")),
        "enabled": item.get("enabled", True),
        "email_verified": item.get("email_verified", bool(email)),
        "groups": sorted(set(item.get("groups") or [])),
    }
    return dict((key, value) for key, value in user.items() if value is not None)


def _differences(user, existing, member_of):
    """What differs between the wanted ``user`` and Keycloak's representation ``existing``."""
    fields = (("email", "email"), ("first_name", "firstName"), ("last_name", "lastName"),
              ("enabled", "enabled"), ("email_verified", "emailVerified"))
    found = []
    for name, api_name in fields:
        if name in user and user[name] != existing.get(api_name, False if name == "email_verified" else None):
            found.append(name)
    missing_groups = [group for group in user["groups"] if group not in member_of]
    if missing_groups:
        found.append("groups +" + ",".join(missing_groups))
    return found


def plan_users(items, existing_users, group_members):
    """The users keycloak_user must create or update, each with ``create`` and ``reasons``.

    ``existing_users``: the realm's users as Keycloak's admin API lists them.
    ``group_members``: {group name: [usernames]} for the groups the items name.
    Memberships are added, never removed: a user may belong to groups this role does not manage.
    """
    existing = dict((user["username"].lower(), user) for user in existing_users or [])
    member_of = {}
    for group, members in (group_members or {}).items():
        for username in members:
            member_of.setdefault(username.lower(), set()).add(group)
    planned = []
    for item in items or []:
        user = keycloak_user(item)
        current = existing.get(user["username"])
        if current is None:
            reasons, create = ["missing"], True
        else:
            reasons, create = _differences(user, current, member_of.get(user["username"], set())), False
        if reasons:
            user.update(create=create, reasons=reasons)
            if create and item.get("password"):
                user["credentials"] = [{"type": "password", "value": item["password"], "temporary": False}]
            elif create and item.get("temporary_password"):
                user["credentials"] = [{"type": "password", "value": item["temporary_password"], "temporary": True}]
            planned.append(user)
    return planned
