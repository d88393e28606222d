# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Cognito's request quotas, and calls made concurrently within them.

Cognito rates user pool API calls per category of operations, per account
and region ("Quotas in Amazon Cognito", Amazon Cognito developer guide,
"API request rate quotas"): UserCreation 50 requests per second,
UserAccountRecovery 30, UserUpdate 25, UserResourceUpdate 25, UserList 30,
UserRead 120, UserResourceRead 50, UserPoolRead 15, and for groups
(UserPoolResourceRead, UserPoolResourceUpdate) at most 5 per second per
operation and user pool. Calls beyond a quota are answered with
TooManyRequestsException.

Bulk changes therefore run with bounded concurrency per category: at most
``in_flight(rate)`` calls of a category at once, the rate times a typical
call's 100 ms at AWS, so each category stays near its quota without one
category's slow calls holding up the others. The quotas are shared by every
caller of the account, so Cognito may still throttle: each call is retried
with jittered backoff (the client's AWSRetry decorator, ``aws_retry=True``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import threading

# Requests per second by category: the documented default quotas.
DEFAULT_QUOTAS = {
    "UserCreation": 50,
    "UserAccountRecovery": 30,
    "UserUpdate": 25,
    "UserResourceUpdate": 25,
    "UserList": 30,
    "UserRead": 120,
    "UserResourceRead": 50,
    "UserPoolRead": 15,
    "UserPoolResourceRead": 20,
    "UserPoolResourceUpdate": 15,
}

# Categories whose every operation is further limited to 5 requests per second per user pool.
PER_POOL_OPERATION_QUOTA = 5
PER_POOL_OPERATION_CATEGORIES = ("UserPoolResourceRead", "UserPoolResourceUpdate")

# The category of each operation the collection calls in bulk (client method names).
OPERATION_CATEGORIES = {
    "admin_create_user": "UserCreation",
    "admin_set_user_password": "UserAccountRecovery",
    "admin_update_user_attributes": "UserUpdate",
    "admin_enable_user": "UserUpdate",
    "admin_disable_user": "UserUpdate",
    "admin_delete_user": "UserUpdate",
    "admin_get_user": "UserRead",
    "admin_add_user_to_group": "UserResourceUpdate",
    "admin_remove_user_from_group": "UserResourceUpdate",
    "list_users": "UserList",
    "list_users_in_group": "UserList",
    "describe_user_pool": "UserPoolRead",
    "list_groups": "UserPoolResourceRead",
    "create_group": "UserPoolResourceUpdate",
    "update_group": "UserPoolResourceUpdate",
    "delete_group": "UserPoolResourceUpdate",
}

# The list calls of bulk reads: the key of their items and the name of their pagination token.
PAGES = {
    "list_users": ("Users", "PaginationToken"),
    "list_users_in_group": ("Users", "NextToken"),
    "list_groups": ("Groups", "NextToken"),
}

# How long a Cognito call takes at AWS, typically: what turns a rate into a number of calls in flight.
TYPICAL_CALL_SECONDS = 0.1


def in_flight(rate):
    """Calls to have in flight at once to make about ``rate`` calls per second (at least one)."""
    return max(1, int(math.ceil(rate * TYPICAL_CALL_SECONDS)))


def merged_quotas(overrides):
    """The default quotas with the account's own (``request_quotas``) laid over them; refuses unknown categories."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(DEFAULT_QUOTAS))
    if unknown:
        raise ValueError(
            "request_quotas: unknown categories %s; Cognito's categories are %s"
            % (", ".join(unknown), ", ".join(sorted(DEFAULT_QUOTAS)))
        )
    quotas = dict(DEFAULT_QUOTAS)
    for category, rate in overrides.items():
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
            raise ValueError("request_quotas: %s must be a positive number of requests per second, got %r" % (category, rate))
        quotas[category] = rate
    return quotas


class QuotaLimiter(object):
    """Makes Cognito calls from many threads, never more in flight per category than its quota allows."""

    def __init__(self, client, quotas=None):
        self.client = client
        self.quotas = merged_quotas(quotas)
        self._gates = {}
        self._lock = threading.Lock()

    def limit(self, operation):
        """The number of calls of ``operation`` allowed in flight at once."""
        category = OPERATION_CATEGORIES[operation]
        rate = self.quotas[category]
        if category in PER_POOL_OPERATION_CATEGORIES:
            rate = min(rate, PER_POOL_OPERATION_QUOTA)
        return in_flight(rate)

    def _gate(self, operation):
        category = OPERATION_CATEGORIES[operation]
        # Per operation where each operation has its own per-pool limit, else per category.
        key = operation if category in PER_POOL_OPERATION_CATEGORIES else category
        with self._lock:
            if key not in self._gates:
                self._gates[key] = threading.BoundedSemaphore(self.limit(operation))
            return self._gates[key]

    def call(self, operation, **params):
        """``client.operation(**params)`` with throttling retried, once a slot of its category is free."""
        with self._gate(operation):
            return getattr(self.client, operation)(aws_retry=True, **params)

    def paginate(self, operation, **params):
        """Every item of a list call, page after page in one slot of its category, each page retried on its own.

        A page Cognito throttles is asked for again; the listing does not
        start over (17 pages of 1000 users would rarely all pass in one go
        when one call in ten is throttled).
        """
        key, token_name = PAGES[operation]
        items, token = [], None
        with self._gate(operation):
            while True:
                page_params = dict(params, **{token_name: token}) if token else params
                page = getattr(self.client, operation)(aws_retry=True, **page_params)
                items.extend(page.get(key, []))
                token = page.get(token_name)
                if not token:
                    return items

    def workers(self, operations):
        """Threads enough to keep every category of ``operations`` at its limit at once."""
        categories = {}
        for operation in operations:
            key = OPERATION_CATEGORIES[operation]
            categories[key] = max(categories.get(key, 0), self.limit(operation))
        return max(1, sum(categories.values()))
