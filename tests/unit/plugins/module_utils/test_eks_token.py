"""Unit tests of the EKS IAM authenticator token (no network: presigning is local).

The token must be exactly what `aws eks get-token` prints: checked against an
independent SigV4 computation here, and against the AWS CLI itself (which must
be on PATH: that test fails rather than skip).
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth
import botocore.session
import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin, eks_token

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FROZEN = datetime.datetime(2024, 5, 17, 12, 34, 56)
CLUSTER = "oidc-test"
REGION = "us-west-2"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Only the test's credentials: no profile, config file or endpoint override from the machine."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def frozen_time(monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FROZEN)


_SESSIONS = []


def session():
    """One botocore session for the module (loading the STS model is the slow part); made under ``aws_env``."""
    if not _SESSIONS:
        _SESSIONS.append(botocore.session.Session())
    return _SESSIONS[0]


def make_token(cluster=CLUSTER, region=REGION):
    return eks_token.get_token(cluster, region, session=session())


def query(url):
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def sigv4_presign_signature(url, headers, secret_key, region, service="sts"):
    """SigV4 query signature of a GET ``url`` computed from the specification, not with botocore.

    Outside S3 a presigned request signs the hash of its (empty) payload.
    """
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    canonical_query = "&".join(
        "%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in sorted(params))
    signed = sorted(name.lower() for name in headers)
    canonical_headers = "".join("%s:%s\n" % (name, headers[name].strip()) for name in signed)
    canonical_request = "\n".join([
        "GET", parts.path or "/", canonical_query, canonical_headers, ";".join(signed), hashlib.sha256(b"").hexdigest()])
    amz_date = dict(params)["X-Amz-Date"]
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])

    def sign(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(sign(("AWS4" + secret_key).encode(), amz_date[:8]), region), service), "aws4_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


# -- encoding (pure) ----------------------------------------------------------

def test_token_is_prefix_plus_unpadded_base64url():
    url = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&a=b~"
    token = eks_token.token_from_url(url)
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1."):]
    assert "=" not in body and "+" not in body and "/" not in body
    assert eks_token.url_from_token(token) == url


@pytest.mark.parametrize("length", range(1, 7))
def test_url_from_token_restores_any_padding(length):
    url = "https://x/" + "y" * length
    assert eks_token.url_from_token(eks_token.token_from_url(url)) == url


def test_url_from_token_refuses_other_tokens():
    with pytest.raises(eks_token.EksTokenError, match="does not start with k8s-aws-v1."):
        eks_token.url_from_token("eyJhbGciOi.x.y")


# -- the presigned URL --------------------------------------------------------

def test_token_decodes_to_a_presigned_get_caller_identity_url(aws_env, frozen_time):
    url = eks_token.url_from_token(make_token())
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sts.us-west-2.amazonaws.com", "/")
    q = query(url)
    assert q["Action"] == "GetCallerIdentity"
    assert q["Version"] == "2011-06-15"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Credential"] == "%s/20240517/us-west-2/sts/aws4_request" % ACCESS_KEY
    assert q["X-Amz-Date"] == "20240517T123456Z"
    assert q["X-Amz-Expires"] == "60"
    assert q["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert CLUSTER not in url  # the cluster travels in the signed header, not in the URL


def test_the_cluster_header_is_signed(aws_env, frozen_time):
    url = eks_token.url_from_token(make_token())
    signature = query(url)["X-Amz-Signature"]
    host = urlsplit(url).netloc
    assert signature == sigv4_presign_signature(url, {"host": host, "x-k8s-aws-id": CLUSTER}, SECRET_KEY, REGION)
    # The same URL for another cluster would carry another signature: the token is bound to the cluster.
    assert signature != sigv4_presign_signature(url, {"host": host, "x-k8s-aws-id": "other"}, SECRET_KEY, REGION)


def test_token_is_deterministic_for_the_same_second_and_differs_per_cluster(aws_env, frozen_time):
    assert make_token() == make_token()
    assert make_token() != make_token(cluster="other")


def test_an_unrelated_sts_call_gets_no_header(aws_env, frozen_time):
    client = eks_token.sts_client(REGION, session=session())
    url = client.generate_presigned_url("get_session_token", ExpiresIn=60)
    assert query(url)["X-Amz-SignedHeaders"] == "host"


def test_a_cluster_name_is_required(aws_env):
    with pytest.raises(eks_token.EksTokenError, match="cluster name is required"):
        make_token(cluster="")


# -- the ExecCredential -------------------------------------------------------

def test_exec_credential_expires_in_14_minutes():
    now = datetime.datetime(2024, 5, 17, 12, 0, 0, tzinfo=datetime.timezone.utc)
    assert eks_token.exec_credential("k8s-aws-v1.x", "client.authentication.k8s.io/v1", now) == {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1",
        "spec": {},
        "status": {"expirationTimestamp": "2024-05-17T12:14:00Z", "token": "k8s-aws-v1.x"},
    }


def test_both_scripts_speak_the_same_exec_credential_versions():
    # eks_token.py and credential_plugin.py each run alone under kubectl, so each carries the tuple.
    assert eks_token.EXEC_API_VERSIONS == credential_plugin.EXEC_API_VERSIONS


@pytest.mark.parametrize("exec_info, expected", [
    (None, "client.authentication.k8s.io/v1beta1"),
    ('{"apiVersion": "client.authentication.k8s.io/v1", "spec": {"interactive": false}}', "client.authentication.k8s.io/v1"),
    ('{"apiVersion": "client.authentication.k8s.io/v1beta1"}', "client.authentication.k8s.io/v1beta1"),
    ('{"apiVersion": "client.authentication.k8s.io/v9"}', "client.authentication.k8s.io/v1beta1"),
    ("not json", "client.authentication.k8s.io/v1beta1"),
])
def test_api_version_follows_kubernetes_exec_info(exec_info, expected):
    environ = {} if exec_info is None else {"KUBERNETES_EXEC_INFO": exec_info}
    assert eks_token.exec_api_version(environ) == expected


def test_script_prints_an_exec_credential(aws_env):
    """The file runs on its own, as kubectl runs it (python -I, no Ansible on the path)."""
    env = dict(os.environ, KUBERNETES_EXEC_INFO='{"apiVersion": "client.authentication.k8s.io/v1"}')
    out = subprocess.run(
        [sys.executable, "-I", eks_token.__file__, "get-token", "--cluster-name", CLUSTER, "--region", REGION],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    credential = json.loads(out.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    url = eks_token.url_from_token(credential["status"]["token"])
    assert query(url)["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"


def test_script_usage_errors():
    out = subprocess.run([sys.executable, "-I", eks_token.__file__, "get-token"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 2 and "--cluster-name" in out.stderr


def test_same_token_as_aws_eks_get_token(aws_env, monkeypatch):
    """Byte for byte what the AWS CLI prints, signed in the same second.

    Without the AWS CLI, or when it fails, this fails: a comparison with the real tool that does not run
    must not pass (the twin's IAM tests need the CLI too)."""
    aws = shutil.which("aws")
    assert aws, "the AWS CLI is not on PATH (pip install awscli): this comparison does not skip"
    out = subprocess.run([aws, "eks", "get-token", "--cluster-name", CLUSTER, "--region", REGION],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False)
    assert out.returncode == 0, "aws eks get-token failed: %s" % out.stderr.strip()[-2000:]
    theirs = json.loads(out.stdout)["status"]["token"]
    signed_at = datetime.datetime.strptime(query(eks_token.url_from_token(theirs))["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: signed_at)
    assert make_token() == theirs
