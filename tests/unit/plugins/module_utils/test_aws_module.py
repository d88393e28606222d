"""module_utils/aws_module.py: the one failure path of the AWS modules, and paginated reads that retry throttling."""

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from fakes import Failed, FakeModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import paginate
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import run_flow


def client_error(code, message):
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeUserPool")


def raising(error):
    """A flow that fails with ``error``."""
    def flow(module, client):
        raise error
    return flow


def test_a_flow_that_succeeds_gives_its_result():
    module = FakeModule({"name": "x"})
    result = run_flow(module, lambda module, client: {"changed": False, "name": module.params["name"], "client": client},
                      "the client", what="user pool")
    assert result == {"changed": False, "name": "x", "client": "the client"}


def test_an_explained_problem_fails_with_its_message_and_result():
    with pytest.raises(Failed) as failed:
        run_flow(FakeModule({}), raising(AnsibleAWSError("name is required; give name", diff={"before": {}, "after": {}})), None,
                 what="user pool")
    assert failed.value.result == {"msg": "name is required; give name", "diff": {"before": {}, "after": {}}}
    assert failed.value.exception is None


def test_an_explained_aws_error_fails_through_fail_json_aws_with_its_message():
    error = client_error("InvalidParameterException", "issuer not reachable")
    explained = AnsibleAWSError("associating 'x' failed; run the task again", exception=error, wait_log=[])
    with pytest.raises(Failed) as failed:
        run_flow(FakeModule({}), raising(explained), None, what="EKS identity provider config")
    assert failed.value.exception is error
    assert failed.value.result == {"msg": "associating 'x' failed; run the task again", "wait_log": []}


def test_an_unexplained_aws_error_names_the_api():
    error = client_error("AccessDeniedException", "not allowed")
    with pytest.raises(Failed) as failed:
        run_flow(FakeModule({}), raising(error), None, what="user pool")
    assert failed.value.exception is error
    assert failed.value.result["msg"] == "user pool request failed"


def test_paginate_retries_throttling_as_the_client_does():
    """EKS throttles with ThrottlingException, which only the EKS client's decorator retries."""
    raw = boto3.client("eks", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    client = RetryingBotoClientWrapper(raw, AWSRetry.jittered_backoff(retries=2, delay=0, catch_extra_error_codes=["ThrottlingException"]))
    with Stubber(raw) as stubber:
        stubber.add_client_error("list_identity_provider_configs", "ThrottlingException", "Rate exceeded", 400)
        stubber.add_response("list_identity_provider_configs", {"identityProviderConfigs": [{"type": "oidc", "name": "a"}]},
                             {"clusterName": "c"})
        found = paginate(client, "list_identity_provider_configs", clusterName="c")
        stubber.assert_no_pending_responses()
    assert found["identityProviderConfigs"] == [{"type": "oidc", "name": "a"}]
