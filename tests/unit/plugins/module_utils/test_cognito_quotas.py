"""Cognito's request quotas and the concurrency they allow (module_utils/_cognito/quotas.py)."""

import threading
import time

import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito import quotas


def test_calls_in_flight_follow_the_documented_quotas_at_100_ms_a_call():
    limiter = quotas.QuotaLimiter(client=None)
    assert limiter.limit("admin_create_user") == 5  # UserCreation 50/s
    assert limiter.limit("admin_set_user_password") == 3  # UserAccountRecovery 30/s
    assert limiter.limit("admin_add_user_to_group") == 3  # UserResourceUpdate 25/s
    assert limiter.limit("admin_update_user_attributes") == 3  # UserUpdate 25/s
    assert limiter.limit("list_users_in_group") == 3  # UserList 30/s
    # Groups: 5 per second per operation and pool, whatever the category allows.
    assert limiter.limit("create_group") == limiter.limit("list_groups") == 1
    assert limiter.workers(["admin_create_user", "admin_set_user_password", "admin_add_user_to_group",
                            "admin_remove_user_from_group"]) == 5 + 3 + 3


def test_an_accounts_raised_quota_raises_its_concurrency_and_nonsense_is_refused():
    assert quotas.QuotaLimiter(None, {"UserCreation": 200}).limit("admin_create_user") == 20
    with pytest.raises(ValueError, match="unknown categories UserCreate; Cognito's categories are .*UserCreation"):
        quotas.merged_quotas({"UserCreate": 100})
    with pytest.raises(ValueError, match="UserUpdate must be a positive number"):
        quotas.merged_quotas({"UserUpdate": 0})


class HeldClient:
    """Records how many calls of each quota category run at once (a thread-safe stand-in for a boto3 client).

    Every call is held until ``release`` is set, so the test decides when the slots empty, not the scheduler:
    under a loaded CI machine a call that merely sleeps may end before the next thread starts.
    """

    def __init__(self):
        self.changed = threading.Condition()
        self.release = threading.Event()
        self.running = {}
        self.most = {}

    def __getattr__(self, operation):
        def call(aws_retry=False, **params):
            assert aws_retry is True  # every call goes through the client's AWSRetry decorator
            category = quotas.OPERATION_CATEGORIES[operation]
            with self.changed:
                self.running[category] = self.running.get(category, 0) + 1
                self.most[category] = max(self.most.get(category, 0), self.running[category])
                self.changed.notify_all()
            assert self.release.wait(timeout=30)
            with self.changed:
                self.running[category] -= 1
            return {}
        return call


def test_never_more_calls_in_flight_per_category_than_its_limit_and_categories_run_side_by_side():
    client = HeldClient()
    limiter = quotas.QuotaLimiter(client)
    operations = ["admin_create_user", "admin_add_user_to_group", "admin_remove_user_from_group", "create_group"] * 20
    threads = [threading.Thread(target=limiter.call, args=(operation,)) for operation in operations]
    for thread in threads:
        thread.start()
    # Each category fills its slots side by side while every call is held; adding and removing
    # memberships share UserResourceUpdate's three slots.
    limits = {"UserCreation": 5, "UserResourceUpdate": 3, "UserPoolResourceUpdate": 1}
    try:
        with client.changed:
            filled = client.changed.wait_for(
                lambda: all(client.running.get(category, 0) >= limit for category, limit in limits.items()), timeout=30)
        assert filled, client.running
        # The other threads are started and waiting for a slot; give any that could slip past its gate the time to.
        time.sleep(0.2)
        assert client.running == limits
    finally:
        client.release.set()
        for thread in threads:
            thread.join()
    assert client.most == limits  # never beyond, also while the queued calls went through


def test_a_throttled_call_is_retried(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("admin_add_user_to_group", "TooManyRequestsException", "Rate exceeded", 400)
    stubber.add_response("admin_add_user_to_group", {})
    quotas.QuotaLimiter(client).call("admin_add_user_to_group", UserPoolId="us-west-2_abc", Username="u", GroupName="g")


def test_a_throttled_page_is_asked_for_again_without_starting_the_listing_over(stubbed):
    client, stubber = stubbed
    first = {"UserPoolId": "us-west-2_abc", "Limit": 60}
    stubber.add_response("list_users", {"Users": [{"Username": "a"}], "PaginationToken": "2"}, first)
    stubber.add_client_error("list_users", "TooManyRequestsException", "Rate exceeded", 400,
                             expected_params=dict(first, PaginationToken="2"))
    stubber.add_response("list_users", {"Users": [{"Username": "b"}]}, dict(first, PaginationToken="2"))
    users = quotas.QuotaLimiter(client).paginate("list_users", **first)
    assert [user["Username"] for user in users] == ["a", "b"]


def test_cognito_clients_retry_throttling_and_cognitos_own_transient_error_within_seconds(stubbed):
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import COGNITO_RETRY

    assert COGNITO_RETRY["delay"] <= 1 and COGNITO_RETRY["max_delay"] <= 20  # per-second quotas: retry soon
    raw, stubber = stubbed[0].client, stubbed[1]
    settings = dict(COGNITO_RETRY)
    settings["delay"] = 0  # no real sleeping in a unit test
    client = RetryingBotoClientWrapper(raw, AWSRetry.jittered_backoff(**settings))
    stubber.add_client_error("describe_user_pool", "InternalErrorException", "try again", 500)
    stubber.add_client_error("describe_user_pool", "TooManyRequestsException", "Rate exceeded", 400)
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": "us-west-2_abc"}})
    assert client.describe_user_pool(UserPoolId="us-west-2_abc", aws_retry=True)["UserPool"]["Id"] == "us-west-2_abc"
