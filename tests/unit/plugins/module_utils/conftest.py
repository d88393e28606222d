"""Fixtures shared by the unit tests of the Cognito module_utils (no network)."""

import boto3
import pytest
from botocore.stub import Stubber


class RetryingClient:
    """A Stubber-backed client that takes ``aws_retry=True`` like the modules' AWSRetry-wrapped client."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name in ("get_paginator", "can_paginate") or not callable(attribute):
            return attribute

        def call(**kwargs):
            kwargs.pop("aws_retry", None)
            return attribute(**kwargs)
        return call


@pytest.fixture
def stubbed():
    """(client, stubber) for cognito-idp; every stubbed response must be used by the test."""
    client = boto3.client("cognito-idp", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield RetryingClient(client), stubber
        stubber.assert_no_pending_responses()
