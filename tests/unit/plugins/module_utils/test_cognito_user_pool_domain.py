"""Unit tests of the hosted-UI domain planning logic (no network)."""

import boto3
import pytest
from botocore.validate import ParamValidator

from fakes import FakeModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito import user_pool_domain as pool_domain
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import comparable_domain
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import create_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import describe_domain
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import desired_domain
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import domain_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import hosted_ui_url
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import refuse_foreign_domain
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import refuse_immutable_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import refuse_second_domain
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import update_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user_pool_domain import validate_domain_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

POOL_ID = "us-west-2_re1u6bpRA"
OTHER_POOL_ID = "us-west-2_0ther"
CERT = "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
RENEWED_CERT = "arn:aws:acm:us-east-1:111122223333:certificate/9f8e7d6c-5b4a-3210-fedc-ba9876543210"
MODEL = boto3.client("cognito-idp", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b").meta.service_model

# The post's prefix domain as AWS describes it.
PREFIX_DESCRIBED = {
    "UserPoolId": POOL_ID, "AWSAccountId": "111122223333", "Domain": "oidc-userpool", "Version": "1",
    "Status": "ACTIVE", "ManagedLoginVersion": 1,
}
# The same domain as MiniStack describes it: blank fields where AWS leaves them out.
PREFIX_DESCRIBED_BY_MINISTACK = dict(PREFIX_DESCRIBED, S3Bucket="", CloudFrontDistribution="", CustomDomainConfig={})
CUSTOM_DESCRIBED = {
    "UserPoolId": POOL_ID, "AWSAccountId": "111122223333", "Domain": "auth.example.com",
    "CloudFrontDistribution": "d111111abcdef8.cloudfront.net", "Version": "1", "Status": "ACTIVE",
    "CustomDomainConfig": {"CertificateArn": CERT}, "ManagedLoginVersion": 2,
}


def params(**overrides):
    base = dict(user_pool_id=POOL_ID, domain="oidc-userpool", certificate_arn=None, managed_login_version=None,
                state="present")
    base.update(overrides)
    return base


def assert_valid_input(operation, request):
    report = ParamValidator().validate(request, MODEL.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


# --- validation ---------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [
    dict(domain="oidc-userpool"),
    dict(domain="a"),
    dict(domain="x" * 63),
    dict(domain="login-2"),
    dict(domain="auth.example.com", certificate_arn=CERT),
    dict(domain="login.eks-oidc.example.co.uk", certificate_arn=CERT),
    dict(domain="auth.example.cn", certificate_arn="arn:aws-cn:acm:cn-north-1:111122223333:certificate/abc"),
    dict(domain="auth.example.com", state="absent"),  # deleting needs no certificate
])
def test_valid_domains_pass(overrides):
    validate_domain_params(params(**overrides))


@pytest.mark.parametrize("overrides, message", [
    (dict(domain="Oidc-UserPool"), "is not a valid domain prefix"),
    (dict(domain="oidc_userpool"), "is not a valid domain prefix"),
    (dict(domain="-oidc"), "not starting or ending with a hyphen"),
    (dict(domain="oidc-"), "is not a valid domain prefix"),
    (dict(domain="x" * 64), "1 to 63 lowercase letters"),
    (dict(domain="auth.example.com"), "for a custom domain such as auth.example.com, give certificate_arn"),
    (dict(domain="my-cognito-login"), "contains the reserved word 'cognito'"),
    (dict(domain="aws-login"), "reserved word 'aws'"),
    (dict(domain="amazon-aws"), "reserved words 'aws' and 'amazon'"),
    (dict(domain="example", certificate_arn=CERT), "is not a fully qualified domain name"),
    (dict(domain="auth..example.com", certificate_arn=CERT), "is not a fully qualified domain name"),
    (dict(domain="Auth.example.com", certificate_arn=CERT), "is not a fully qualified domain name"),
    (dict(domain="auth.example.com", certificate_arn="not-an-arn"), "is not an ACM certificate ARN"),
    (dict(domain="auth.example.com", certificate_arn="arn:aws:iam::111122223333:server-certificate/x"),
     "is not an ACM certificate ARN"),
    (dict(domain="auth.example.com", certificate_arn=CERT.replace("us-east-1", "us-west-2")),
     "is in us-west-2; a Cognito custom domain is served through CloudFront, which needs the ACM certificate in us-east-1"),
    (dict(domain="Bad_Name", state="absent"), "is not a valid domain prefix"),
])
def test_invalid_domains_are_refused_before_any_call(overrides, message):
    with pytest.raises(AnsibleAWSError) as error:
        validate_domain_params(params(**overrides))
    assert message in str(error.value)


# --- desired state and compare -------------------------------------------------------

@pytest.mark.parametrize("described", [PREFIX_DESCRIBED, PREFIX_DESCRIBED_BY_MINISTACK], ids=["aws", "ministack"])
def test_the_posts_prefix_domain_has_no_changes(described):
    assert plan_changes(comparable_domain(described), desired_domain(params())) == {}


def test_an_unmentioned_version_is_not_managed():
    assert desired_domain(params()) == {"Domain": "oidc-userpool"}
    assert plan_changes(comparable_domain(CUSTOM_DESCRIBED),
                        desired_domain(params(domain="auth.example.com", certificate_arn=CERT))) == {}


def test_a_version_change_is_planned():
    changes = plan_changes(comparable_domain(PREFIX_DESCRIBED), desired_domain(params(managed_login_version=2)))
    assert changes == {"ManagedLoginVersion": {"before": 1, "after": 2}}
    refuse_immutable_changes(changes)


def test_a_version_aws_does_not_report_is_the_classic_hosted_ui():
    described = dict(PREFIX_DESCRIBED)
    del described["ManagedLoginVersion"]
    assert plan_changes(comparable_domain(described), desired_domain(params(managed_login_version=1))) == {}


def test_a_certificate_change_is_planned_and_allowed():
    changes = plan_changes(comparable_domain(CUSTOM_DESCRIBED),
                           desired_domain(params(domain="auth.example.com", certificate_arn=RENEWED_CERT)))
    assert changes == {"CustomDomainConfig.CertificateArn": {"before": CERT, "after": RENEWED_CERT}}
    refuse_immutable_changes(changes)


def test_other_changes_are_refused_with_what_to_do():
    with pytest.raises(AnsibleAWSError) as error:
        refuse_immutable_changes({"Routing.Failover": {"before": None, "after": "x"}})
    assert "cannot be changed in place: Routing.Failover: None -> x" in str(error.value)
    assert "state: absent" in str(error.value)


# --- ownership -----------------------------------------------------------------------

def test_a_domain_of_another_pool_names_that_pool():
    with pytest.raises(AnsibleAWSError) as error:
        refuse_foreign_domain(PREFIX_DESCRIBED, OTHER_POOL_ID)
    message = str(error.value)
    assert "domain 'oidc-userpool' belongs to user pool '%s' (account 111122223333), not to '%s'" % (POOL_ID, OTHER_POOL_ID) in message
    assert "choose another domain" in message


def test_deleting_a_domain_of_another_pool_is_refused_and_says_how():
    with pytest.raises(AnsibleAWSError) as error:
        refuse_foreign_domain(PREFIX_DESCRIBED, OTHER_POOL_ID, deleting=True)
    assert "it is not deleted. Give user_pool_id: %s" % POOL_ID in str(error.value)


def test_the_pools_own_domain_or_no_domain_is_fine():
    refuse_foreign_domain(PREFIX_DESCRIBED, POOL_ID)
    refuse_foreign_domain(None, POOL_ID)


@pytest.mark.parametrize("pool, overrides, message", [
    ({"Id": POOL_ID, "Domain": "old-login"}, dict(), "already has the prefix domain 'old-login'"),
    ({"Id": POOL_ID, "CustomDomain": "login.example.com"}, dict(domain="auth.example.com", certificate_arn=CERT),
     "already has the custom domain 'login.example.com'"),
])
def test_a_second_domain_of_the_same_kind_is_refused(pool, overrides, message):
    with pytest.raises(AnsibleAWSError) as error:
        refuse_second_domain(pool, desired_domain(params(**overrides)))
    assert message in str(error.value)
    assert "remove it first" in str(error.value)


@pytest.mark.parametrize("pool, overrides", [
    ({"Id": POOL_ID}, dict()),
    ({"Id": POOL_ID, "Domain": None, "CustomDomain": None}, dict()),
    ({"Id": POOL_ID, "Domain": "oidc-userpool"}, dict()),
    ({"Id": POOL_ID, "CustomDomain": "auth.example.com"}, dict()),  # one of each kind is allowed
    ({"Id": POOL_ID, "Domain": "oidc-userpool"}, dict(domain="auth.example.com", certificate_arn=CERT)),
])
def test_a_domain_of_the_other_kind_or_the_same_name_is_fine(pool, overrides):
    refuse_second_domain(pool, desired_domain(params(**overrides)))


# --- requests and results -------------------------------------------------------------

def test_create_requests_are_valid():
    prefix = create_request(POOL_ID, desired_domain(params()))
    assert prefix == {"Domain": "oidc-userpool", "UserPoolId": POOL_ID}
    custom = create_request(POOL_ID, desired_domain(params(domain="auth.example.com", certificate_arn=CERT,
                                                           managed_login_version=2)))
    assert custom["CustomDomainConfig"] == {"CertificateArn": CERT}
    assert custom["ManagedLoginVersion"] == 2
    assert_valid_input("CreateUserPoolDomain", prefix)
    assert_valid_input("CreateUserPoolDomain", custom)


def test_update_request_of_a_prefix_domain_changes_only_the_version():
    request = update_request(PREFIX_DESCRIBED_BY_MINISTACK, {"Domain": "oidc-userpool", "ManagedLoginVersion": 2})
    assert request == {"Domain": "oidc-userpool", "UserPoolId": POOL_ID, "ManagedLoginVersion": 2}
    assert_valid_input("UpdateUserPoolDomain", request)


def test_update_request_of_a_custom_domain_keeps_the_version_and_sends_the_certificate():
    request = update_request(CUSTOM_DESCRIBED, {"Domain": "auth.example.com", "CustomDomainConfig": {"CertificateArn": RENEWED_CERT}})
    assert request == {"Domain": "auth.example.com", "UserPoolId": POOL_ID, "ManagedLoginVersion": 2,
                       "CustomDomainConfig": {"CertificateArn": RENEWED_CERT}}
    assert_valid_input("UpdateUserPoolDomain", request)


def test_hosted_ui_url_of_a_prefix_domain_is_in_the_pools_region():
    assert hosted_ui_url(PREFIX_DESCRIBED) == "https://oidc-userpool.auth.us-west-2.amazoncognito.com"


def test_hosted_ui_url_of_a_custom_domain_is_its_own_name():
    assert hosted_ui_url(CUSTOM_DESCRIBED) == "https://auth.example.com"


def test_result_is_snake_case_without_blank_fields():
    result = domain_result(PREFIX_DESCRIBED_BY_MINISTACK)
    assert result["hosted_ui_url"] == "https://oidc-userpool.auth.us-west-2.amazoncognito.com"
    assert result["domain"] == {
        "user_pool_id": POOL_ID, "aws_account_id": "111122223333", "domain": "oidc-userpool", "version": "1",
        "status": "ACTIVE", "managed_login_version": 1,
    }
    custom = domain_result(CUSTOM_DESCRIBED)["domain"]
    assert custom["custom_domain_config"] == {"certificate_arn": CERT}
    assert custom["cloud_front_distribution"] == "d111111abcdef8.cloudfront.net"


# --- describe and the flow --------------------------------------------------------------

def stub_describe(stubber, domain, description):
    stubber.add_response("describe_user_pool_domain", {"DomainDescription": description}, {"Domain": domain})


def test_an_unknown_domain_is_described_as_none(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", {})
    assert describe_domain(client, "oidc-userpool") is None


def test_check_mode_create_calls_no_create(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", {})
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL_ID}}, {"UserPoolId": POOL_ID})
    result = pool_domain.converge(FakeModule(params(), check_mode=True), client)
    assert result["changed"] is True
    assert result["hosted_ui_url"] == "https://oidc-userpool.auth.us-west-2.amazoncognito.com"
    assert result["diff"]["before"] == {}


def test_create_then_describe(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", {})
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": POOL_ID}}, {"UserPoolId": POOL_ID})
    stubber.add_response("create_user_pool_domain", {}, {"Domain": "oidc-userpool", "UserPoolId": POOL_ID})
    stub_describe(stubber, "oidc-userpool", PREFIX_DESCRIBED)
    result = pool_domain.converge(FakeModule(params()), client)
    assert result["changed"] is True
    assert result["domain"]["status"] == "ACTIVE"


def test_a_missing_pool_is_named(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", {})
    stubber.add_client_error("describe_user_pool", "ResourceNotFoundException", expected_params={"UserPoolId": POOL_ID})
    with pytest.raises(AnsibleAWSError, match="user pool '%s' does not exist" % POOL_ID):
        pool_domain.converge(FakeModule(params()), client)


def test_an_unchanged_domain_calls_no_update(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", PREFIX_DESCRIBED)
    result = pool_domain.converge(FakeModule(params()), client)
    assert result["changed"] is False


def test_check_mode_update_calls_no_update(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", PREFIX_DESCRIBED)
    result = pool_domain.converge(FakeModule(params(managed_login_version=2), check_mode=True), client)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"ManagedLoginVersion": 1}, "after": {"ManagedLoginVersion": 2}}


def test_a_certificate_update_calls_update_user_pool_domain(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "auth.example.com", CUSTOM_DESCRIBED)
    stubber.add_response("update_user_pool_domain", {}, {
        "Domain": "auth.example.com", "UserPoolId": POOL_ID, "ManagedLoginVersion": 2,
        "CustomDomainConfig": {"CertificateArn": RENEWED_CERT},
    })
    stub_describe(stubber, "auth.example.com", dict(CUSTOM_DESCRIBED, CustomDomainConfig={"CertificateArn": RENEWED_CERT}))
    result = pool_domain.converge(FakeModule(params(domain="auth.example.com", certificate_arn=RENEWED_CERT)), client)
    assert result["changed"] is True
    assert result["domain"]["custom_domain_config"]["certificate_arn"] == RENEWED_CERT


def test_a_custom_domain_cannot_become_a_prefix_domain(stubbed):
    client, stubber = stubbed
    # A name without dots can only be a prefix; this one was made custom outside the module.
    stub_describe(stubber, "oddname", dict(CUSTOM_DESCRIBED, Domain="oddname"))
    with pytest.raises(AnsibleAWSError, match="is a custom domain; it cannot become a prefix domain"):
        pool_domain.converge(FakeModule(params(domain="oddname")), client)


def test_absent_domain_is_no_change(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", {})
    result = pool_domain.converge(FakeModule(params(state="absent")), client)
    assert result == {"changed": False, "domain": {}, "hosted_ui_url": None}


def test_check_mode_delete_calls_no_delete(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "oidc-userpool", PREFIX_DESCRIBED)
    result = pool_domain.converge(FakeModule(params(state="absent"), check_mode=True), client)
    assert result["changed"] is True
    assert result["diff"]["before"]["domain"] == "oidc-userpool"


def test_delete_a_custom_domain_without_its_certificate(stubbed):
    client, stubber = stubbed
    stub_describe(stubber, "auth.example.com", CUSTOM_DESCRIBED)
    stubber.add_response("delete_user_pool_domain", {}, {"Domain": "auth.example.com", "UserPoolId": POOL_ID})
    result = pool_domain.converge(FakeModule(params(domain="auth.example.com", state="absent")), client)
    assert result["changed"] is True
    assert result["domain"] == {}
