"""eks_cluster_info's flow: the cluster entry, and with get_token the EKS IAM token of the module's identity."""

import base64
from urllib.parse import parse_qsl, urlsplit

import boto3
import fakes
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from botocore.stub import Stubber

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.cluster import read_cluster

CLUSTER = {
    "name": "oidc-test", "arn": "arn:aws:eks:us-west-2:111122223333:cluster/oidc-test", "status": "ACTIVE",
    "endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com", "certificateAuthority": {"data": "LS0tLS1CRUdJTg=="},
    "version": "1.32",
}


class NoRetry:
    """The flow passes aws_retry=True, as to an AWSRetry-wrapped client."""

    def __init__(self, client):
        self._client = client

    def describe_cluster(self, aws_retry=False, **kwargs):
        return self._client.describe_cluster(**kwargs)


def flow(get_token, no_log, cluster=None):
    cluster = cluster or CLUSTER
    eks = boto3.client("eks", region_name="us-west-2", aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret")
    sts = boto3.client("sts", region_name="us-west-2", aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret")
    module = fakes.FakeModule({"name": "oidc-test", "get_token": get_token}, clients={"sts": sts}, no_log=no_log)
    with Stubber(eks) as stubber:
        if cluster:
            stubber.add_response("describe_cluster", {"cluster": cluster}, {"name": "oidc-test"})
        return read_cluster(module, NoRetry(eks))


def test_cluster_entry_without_a_token():
    result = flow(get_token=False, no_log=False)
    assert result["kubeconfig_cluster"] == {"name": CLUSTER["arn"], "server": CLUSTER["endpoint"],
                                            "certificate_authority_data": "LS0tLS1CRUdJTg=="}
    assert "token" not in result and "kubeconfig" not in result


def test_get_token_needs_no_log():
    with pytest.raises(AnsibleAWSError, match="set no_log: true on the task"):
        flow(get_token=True, no_log=False)


def test_get_token_is_the_eks_token_for_this_cluster_and_a_kubeconfig_that_uses_it():
    result = flow(get_token=True, no_log=True)
    token = result["token"]
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1."):]
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Credential"].startswith("AKIAEXAMPLE/")
    kubeconfig = result["kubeconfig"]
    assert kubeconfig["users"] == [{"name": "eks-token", "user": {"token": token}}]
    assert kubeconfig["clusters"][0]["cluster"] == {"server": CLUSTER["endpoint"], "certificate-authority-data": "LS0tLS1CRUdJTg=="}
    assert kubeconfig["current-context"] == "eks-token"


def test_no_token_for_a_cluster_without_an_endpoint():
    creating = dict((k, v) for k, v in CLUSTER.items() if k not in ("endpoint", "certificateAuthority"))
    result = flow(get_token=True, no_log=True, cluster=dict(creating, status="CREATING"))
    assert result["exists"] and "token" not in result
