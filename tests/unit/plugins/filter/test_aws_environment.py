from ansible_collections.kubeauth.eks_oidc.plugins.filter.aws_environment import aws_environment


def test_connection_options_become_botocore_variables():
    connection = {
        "access_key": "AKIAEXAMPLE", "secret_key": "secret", "session_token": "session",
        "profile": "admin", "aws_ca_bundle": "/ca.pem", "endpoint_url": "https://sts.example:4566",
        "validate_certs": True,
    }
    assert aws_environment(connection) == {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
        "AWS_PROFILE": "admin", "AWS_CA_BUNDLE": "/ca.pem", "AWS_ENDPOINT_URL_STS": "https://sts.example:4566",
    }


def test_aliases_are_read():
    assert aws_environment({"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s", "security_token": "t"}) == {
        "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}


def test_empty_options_leave_botocore_its_own_chain():
    assert aws_environment({}) == {}
    assert aws_environment({"profile": "", "access_key": None}) == {}
