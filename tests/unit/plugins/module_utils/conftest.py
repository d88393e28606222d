"""Fixtures shared by the unit tests of the AWS module_utils (no network).

Each fixture is a real botocore client with a Stubber, wrapped as
AnsibleAWSModule.client(..., retry_decorator=...) wraps it (calls take
``aws_retry=True``), retrying without delay. Every stubbed response must be
used by the test.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper


def stubbed_client(service):
    """(client as the module uses it, its stubber), as a fixture yields them."""
    raw = boto3.client(service, region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(raw) as stubber:
        yield RetryingBotoClientWrapper(raw, AWSRetry.jittered_backoff(retries=2, delay=0)), stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed():
    """(client, stubber) for cognito-idp."""
    yield from stubbed_client("cognito-idp")


@pytest.fixture
def eks_stub():
    """(client, stubber) for EKS."""
    yield from stubbed_client("eks")


@pytest.fixture
def logs_stub():
    """(client, stubber) for CloudWatch Logs."""
    yield from stubbed_client("logs")
