from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_environment import aws_environment, aws_shared_credentials

CONNECTION = {
    "access_key": "AKIAEXAMPLE", "secret_key": "the-secret", "session_token": "the-session",
    "aws_ca_bundle": "/ca.pem", "endpoint_url": "https://sts.example:4566", "validate_certs": True,
}


def test_settings_become_botocore_variables_and_keys_never_do():
    environment = aws_environment(CONNECTION)
    assert environment == {"AWS_CA_BUNDLE": "/ca.pem", "AWS_ENDPOINT_URL_STS": "https://sts.example:4566"}
    assert "the-secret" not in repr(environment) and "the-session" not in repr(environment)


def test_a_credentials_file_is_named_with_its_profile():
    environment = aws_environment(CONNECTION, credentials_file="/home/me/.kube/.aws-credentials")
    assert environment["AWS_SHARED_CREDENTIALS_FILE"] == "/home/me/.kube/.aws-credentials"
    assert environment["AWS_PROFILE"] == "default"


def test_profile_and_aliases():
    assert aws_environment({"aws_profile": "admin", "ec2_url": "https://e"}) == {
        "AWS_PROFILE": "admin", "AWS_ENDPOINT_URL_STS": "https://e"}


def test_empty_options_leave_botocore_its_own_chain():
    assert aws_environment({}) == {}
    assert aws_environment({"profile": "", "access_key": None}) == {}


def test_shared_credentials_file_content():
    assert aws_shared_credentials(CONNECTION) == (
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = the-secret\naws_session_token = the-session\n")
    assert aws_shared_credentials({"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s"}) == (
        "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n")


def test_no_keys_no_file():
    assert aws_shared_credentials({"profile": "admin"}) == ""
    assert aws_shared_credentials({"access_key": "AKIA1"}) == ""
