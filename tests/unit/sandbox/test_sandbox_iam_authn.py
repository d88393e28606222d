"""The twin's IAM token check, user mapping and access-policy authorizer (tests/sandbox/iam_authn.py).

Tokens are made by the collection's eks_token.py (botocore, the signer
`aws eks get-token` uses) with a frozen clock; the verifier computes SigV4
on its own, so each side checks the other.
"""

import base64
import datetime
import http.client
import json
import ssl
import statistics
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit

import botocore.auth
import botocore.session
import pytest

import iam_authn  # tests/sandbox, on the path via conftest
import pki
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import eks_token

SECRET = "sandbox-dummy-secret-key-0123456789"
KEY = "AKIASANDBOXEKSOIDC01"
SIGNED = datetime.datetime(2026, 5, 17, 12, 34, 56)
NOW = SIGNED.replace(tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=5)
GATEWAY = "127.0.0.1:4566"
HOSTS = frozenset({GATEWAY, "localhost:4566"})
CLUSTER = "oidc-test"


@pytest.fixture
def signer(monkeypatch, tmp_path):
    """make(cluster, endpoint=...) -> token, signed at SIGNED with the sandbox's credentials."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: SIGNED)

    def make(cluster=CLUSTER, endpoint="https://" + GATEWAY):
        if endpoint:
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", endpoint)
        else:
            monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
        return eks_token.get_token(cluster, "us-west-2", session=botocore.session.Session())
    return make


def parse(token, now=NOW):
    return iam_authn.parse_token(token, sandbox_sts_hosts=HOSTS, now=now)


def rewrite(token, change):
    """The token with its URL's query changed by ``change(dict)`` (the signature is kept)."""
    parts = urlsplit(eks_token.url_from_token(token))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    change(query)
    return eks_token.token_from_url(parts._replace(query=urlencode(query)).geturl())


# -- the signature -----------------------------------------------------------------------------

def test_a_sandbox_token_is_signed_for_its_cluster(signer):
    call = parse(signer())
    assert (call.host, call.access_key_id, call.region, call.amz_date) == (GATEWAY, KEY, "us-west-2", "20260517T123456Z")
    assert call.signed_headers == ("host", "x-k8s-aws-id")
    assert iam_authn.signature_matches(call, CLUSTER, SECRET)
    assert not iam_authn.signature_matches(call, "oidc-test-2", SECRET)
    assert not iam_authn.signature_matches(call, CLUSTER, SECRET + "x")


def test_a_token_signed_for_another_cluster_does_not_match(signer):
    assert not iam_authn.signature_matches(parse(signer(cluster="oidc-test-2")), CLUSTER, SECRET)


def test_a_token_for_aws_own_sts_host_is_accepted_and_verified(signer):
    call = parse(signer(endpoint=None))
    assert call.host == "sts.us-west-2.amazonaws.com"
    assert iam_authn.signature_matches(call, CLUSTER, SECRET)


@pytest.mark.parametrize("change", [
    lambda q: q.update({"X-Amz-Date": "20260517T123457Z"}),
    lambda q: q.update({"X-Amz-Expires": "61"}),
    lambda q: q.update({"X-Amz-Credential": q["X-Amz-Credential"].replace("us-west-2", "us-east-1")}),
    lambda q: q.update({"X-Amz-Signature": q["X-Amz-Signature"][:-1] + ("0" if q["X-Amz-Signature"][-1] != "0" else "1")}),
])
def test_an_altered_token_does_not_match(signer, change):
    call = parse(rewrite(signer(), change))
    assert not iam_authn.signature_matches(call, CLUSTER, SECRET)


def test_a_token_with_another_host_does_not_match(signer):
    token = signer()
    url = eks_token.url_from_token(token).replace(GATEWAY, "localhost:4566")
    assert not iam_authn.signature_matches(parse(eks_token.token_from_url(url)), CLUSTER, SECRET)


# -- the token's form and age -------------------------------------------------------------------

def test_valid_for_15_minutes_and_a_little_clock_skew(signer):
    token, signed = signer(), NOW - datetime.timedelta(seconds=5)
    assert parse(token, now=signed + datetime.timedelta(minutes=15))
    with pytest.raises(iam_authn.TokenRejected, match="expired"):
        parse(token, now=signed + datetime.timedelta(minutes=15, seconds=1))
    assert parse(token, now=signed - datetime.timedelta(minutes=5))
    with pytest.raises(iam_authn.TokenRejected, match="future"):
        parse(token, now=signed - datetime.timedelta(minutes=5, seconds=1))


def url_token(url):
    return eks_token.token_from_url(url)


@pytest.mark.parametrize("make, reason", [
    (lambda t: "eyJhbGciOi.x.y", "no k8s-aws-v1. prefix"),
    (lambda t: "k8s-aws-v1.a+b/c", "not base64url"),
    (lambda t: "k8s-aws-v1." + "A" * 5000, "too large"),
    (lambda t: url_token(eks_token.url_from_token(t).replace("https://", "http://")), "unexpected scheme"),
    (lambda t: url_token(eks_token.url_from_token(t).replace(GATEWAY, "sts.evil.example.com")), "not an STS endpoint"),
    (lambda t: url_token(eks_token.url_from_token(t).replace(GATEWAY, "127.0.0.1:4567")), "not an STS endpoint"),
    (lambda t: url_token(eks_token.url_from_token(t).replace(GATEWAY + "/", GATEWAY + "/x")), "unexpected path"),
    (lambda t: rewrite(t, lambda q: q.update({"Foo": "bar"})), "'Foo' is not allowed"),
    (lambda t: url_token(eks_token.url_from_token(t) + "&action=GetCallerIdentity"), "duplicate"),
    (lambda t: rewrite(t, lambda q: q.update({"Action": "AssumeRole"})), "not an STS GetCallerIdentity"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-SignedHeaders": "host"})), "x-k8s-aws-id header is not signed"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-SignedHeaders": "host;x-k8s-aws-id;x-forwarded-for"})),
     "signed headers must be"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-Expires": "901"})), "X-Amz-Expires"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-Date": "yesterday"})), "invalid X-Amz-Date"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-Credential": KEY + "/20260517/us-west-2/s3/aws4_request"})),
     "X-Amz-Credential"),
    (lambda t: rewrite(t, lambda q: q.update({"X-Amz-Algorithm": "AWS4-ECDSA-P256-SHA256"})), "AWS4-HMAC-SHA256"),
])
def test_what_eks_refuses_before_asking_sts(signer, make, reason):
    with pytest.raises(iam_authn.TokenRejected, match=reason.replace(".", r"\.")):
        parse(make(signer()))


def test_an_unsigned_cluster_header_is_refused_even_when_the_signature_is_genuine(signer):
    signer()  # sets the environment
    client = botocore.session.Session().create_client("sts", region_name="us-west-2")
    url = client.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    with pytest.raises(iam_authn.TokenRejected, match="x-k8s-aws-id header is not signed"):
        parse(eks_token.token_from_url(url))


@pytest.mark.parametrize("host", ["sts.amazonaws.com", "sts.us-west-2.amazonaws.com", "sts.us-gov-west-1.amazonaws.com",
                                  "sts.eu-central-1.amazonaws.com:443", GATEWAY, "localhost:4566"])
def test_sts_hosts(host):
    assert iam_authn.is_sts_host(host, HOSTS)


@pytest.mark.parametrize("host", ["sts.amazonaws.com.evil.example", "s3.us-west-2.amazonaws.com",
                                  "sts.us-west-2.amazonaws.com:8443", "127.0.0.1:4567", "xsts.amazonaws.com"])
def test_not_sts_hosts(host):
    assert not iam_authn.is_sts_host(host, HOSTS)


# -- STS's answer and the Kubernetes user -------------------------------------------------------

def sts_xml(arn, user_id, account="000000000000"):
    return (f'<?xml version="1.0" encoding="UTF-8"?><GetCallerIdentityResponse '
            f'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>{arn}</Arn>'
            f'<UserId>{user_id}</UserId><Account>{account}</Account></GetCallerIdentityResult>'
            f'</GetCallerIdentityResponse>').encode()


def test_caller_identity_from_sts_xml():
    assert iam_authn.caller_identity(sts_xml("arn:aws:iam::000000000000:root", "000000000000")) == \
        iam_authn.CallerIdentity("arn:aws:iam::000000000000:root", "000000000000", "000000000000")
    with pytest.raises(iam_authn.TokenRejected, match="without a caller identity"):
        iam_authn.caller_identity(b"<ErrorResponse/>")
    with pytest.raises(iam_authn.TokenRejected):
        iam_authn.caller_identity(b"not xml")


def test_the_creator_root_maps_to_its_arn():
    identity = iam_authn.CallerIdentity("arn:aws:iam::000000000000:root", "000000000000", "000000000000")
    user = iam_authn.kubernetes_user(identity, KEY, {"username": "", "kubernetesGroups": []})
    assert user["username"] == "arn:aws:iam::000000000000:root"
    assert user["uid"] == "aws-iam-authenticator:000000000000:000000000000"
    assert user["groups"] == []
    assert user["extra"]["arn"] == ["arn:aws:iam::000000000000:root"]
    assert user["extra"]["canonicalArn"] == ["arn:aws:iam::000000000000:root"]
    assert user["extra"]["accessKeyId"] == [KEY]


def test_an_iam_user_gets_its_arn_and_the_entry_groups():
    identity = iam_authn.CallerIdentity("arn:aws:iam::000000000000:user/viewer", "AIDAVIEWER", "000000000000")
    user = iam_authn.kubernetes_user(identity, "AKIAVIEWER", {"kubernetesGroups": ["readers", "ops", "readers"]})
    assert (user["username"], user["groups"]) == ("arn:aws:iam::000000000000:user/viewer", ["readers", "ops"])
    assert user["uid"] == "aws-iam-authenticator:000000000000:AIDAVIEWER"


def test_an_assumed_role_keeps_its_session_and_renders_templates():
    identity = iam_authn.CallerIdentity("arn:aws:sts::000000000000:assumed-role/admins/jane@example.com",
                                        "AROAADMINS:jane@example.com", "000000000000")
    user = iam_authn.kubernetes_user(identity, "ASIAJANE", {"username": ""})
    assert user["username"] == "arn:aws:sts::000000000000:assumed-role/admins/jane-example.com"
    assert user["uid"] == "aws-iam-authenticator:000000000000:AROAADMINS"
    assert user["extra"]["canonicalArn"] == ["arn:aws:iam::000000000000:role/admins"]
    assert user["extra"]["sessionName"] == ["jane@example.com"]
    templated = iam_authn.kubernetes_user(identity, "ASIAJANE", {
        "username": "admin:{{AccountID}}:{{SessionNameRaw}}:{{SessionName}}:{{AccessKeyID}}"})
    assert templated["username"] == "admin:000000000000:jane@example.com:jane-example.com:ASIAJANE"


@pytest.mark.parametrize("arn", ["arn:aws:s3:::bucket", "arn:aws:sts::0:assumed-role/only-role", "root"])
def test_other_arns_are_not_principals(arn):
    with pytest.raises(ValueError):
        iam_authn.principal_kind(arn)


def test_token_review_answers():
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "x"}}
    assert iam_authn.token_review(request, None) == {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": {"authenticated": False}}
    user = {"username": "u", "uid": "i", "groups": [], "extra": {}}
    assert iam_authn.token_review(request, user)["status"] == {"authenticated": True, "user": user}


# -- access policies ---------------------------------------------------------------------------

VIEW = [{"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["get"]}]
ADMIN = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]
CLUSTER_SCOPE = {"type": "cluster", "namespaces": []}


def resource(verb, res, namespace="default", group="", subresource="", name=""):
    return {"resourceAttributes": {"verb": verb, "resource": res, "namespace": namespace, "group": group,
                                   "subresource": subresource, "name": name}}


@pytest.mark.parametrize("spec, allowed", [
    (resource("list", "pods"), True),
    (resource("list", "pods", namespace=""), True),  # all namespaces, cluster scope
    (resource("get", "pods", subresource="log"), True),
    (resource("get", "pods", subresource="exec"), False),
    (resource("list", "secrets"), False),
    (resource("create", "pods"), False),
    (resource("list", "pods", group="apps"), False),
    (resource("get", "deployments", group="apps", subresource="scale"), True),
    (resource("*", "*"), False),
    ({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}, False),
])
def test_a_view_policy(spec, allowed):
    assert iam_authn.policies_allow([(VIEW, CLUSTER_SCOPE)], spec) is allowed


@pytest.mark.parametrize("spec", [resource("*", "*"), resource("delete", "nodes", namespace=""),
                                  {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}])
def test_a_cluster_admin_policy_allows_everything(spec):
    assert iam_authn.policies_allow([(ADMIN, CLUSTER_SCOPE)], spec)


@pytest.mark.parametrize("spec, allowed", [
    (resource("list", "pods", namespace="dev-1"), True),
    (resource("list", "pods", namespace="team"), True),
    (resource("list", "pods", namespace="prod"), False),
    (resource("list", "pods", namespace=""), False),  # across namespaces needs cluster scope
    (resource("list", "namespaces", namespace=""), False),
    ({"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}, False),
])
def test_a_namespace_scope(spec, allowed):
    scope = {"type": "namespace", "namespaces": ["dev-*", "team"]}
    assert iam_authn.policies_allow([(ADMIN, scope)], spec) is allowed


def test_no_policy_no_grant_and_resource_names():
    assert not iam_authn.policies_allow([], resource("list", "pods"))
    named = [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get"]}]
    assert iam_authn.policies_allow([(named, CLUSTER_SCOPE)], resource("get", "configmaps", name="settings"))
    assert not iam_authn.policies_allow([(named, CLUSTER_SCOPE)], resource("get", "configmaps", name="other"))


def test_only_users_of_this_authenticator_are_looked_up():
    arn = "arn:aws:iam::000000000000:user/viewer"
    spec = {"uid": "aws-iam-authenticator:000000000000:AIDA", "extra": {"arn": [arn]}}
    assert iam_authn.iam_principal_arn(spec) == arn
    assert iam_authn.iam_principal_arn(dict(spec, uid="oidc-user")) is None
    assert iam_authn.iam_principal_arn({"uid": spec["uid"]}) is None


def test_subject_access_review_answers():
    request = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview"}
    assert iam_authn.subject_access_review(request, False)["status"] == {"allowed": False}
    assert iam_authn.subject_access_review(request, True)["status"]["allowed"] is True


# -- the webhook server ------------------------------------------------------------------------

def test_webhook_kubeconfig():
    config = json.loads(iam_authn.webhook_kubeconfig("https://127.0.0.1:1/s/authenticate/r/c", "PEM"))
    assert config["clusters"][0]["cluster"] == {"server": "https://127.0.0.1:1/s/authenticate/r/c",
                                                "certificate-authority-data": base64.b64encode(b"PEM").decode()}
    assert config["current-context"] == "webhook"


@pytest.fixture
def server(tmp_path):
    """A WebhookServer whose answers are recorded; (server, calls, ssl context trusting it)."""
    ca_cert, ca_key = pki.ensure_ca(str(tmp_path))
    cert, key = str(tmp_path / "w.crt"), str(tmp_path / "w.key")
    pki.issue(ca_cert, ca_key, cert, key, "w", ip_addresses=("127.0.0.1",), server=True)
    calls = []

    def authenticate(region, cluster, token):
        calls.append(("authenticate", region, cluster, token))
        if token == "good":
            return {"username": "u", "uid": "i", "groups": ["g"], "extra": {}}
        if token == "refused":
            raise iam_authn.TokenRejected("refused")
        raise RuntimeError("boom")

    def authorize(region, cluster, spec):
        calls.append(("authorize", region, cluster, spec))
        return spec.get("user") == "u"

    webhooks = iam_authn.WebhookServer(cert, key, authenticate, authorize)
    webhooks.start()
    return webhooks, calls, ssl.create_default_context(cafile=ca_cert)


def post(url, body, context):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, None


def test_the_server_answers_token_reviews(server):
    webhooks, calls, context = server
    url = webhooks.url("authenticate", "us-west-2", CLUSTER)
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "good"}}
    assert post(url, review, context) == (200, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                                "status": {"authenticated": True, "user": {
                                                    "username": "u", "uid": "i", "groups": ["g"], "extra": {}}}})
    assert calls == [("authenticate", "us-west-2", CLUSTER, "good")]
    # kube-apiserver adds its timeout to the configured URL.
    assert post(url + "?timeout=30s", review, context)[1]["status"]["authenticated"] is True
    for token in ("refused", "crashes"):  # a failure is a refusal, never a server error
        assert post(url, dict(review, spec={"token": token}), context)[1]["status"] == {"authenticated": False}


def test_the_server_answers_subject_access_reviews(server):
    webhooks, calls, context = server
    url = webhooks.url("authorize", "us-west-2", CLUSTER)
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {"user": "u"}}
    assert post(url, review, context)[1]["status"]["allowed"] is True
    assert post(url, dict(review, spec={"user": "v"}), context)[1]["status"] == {"allowed": False}
    assert calls[0] == ("authorize", "us-west-2", CLUSTER, {"user": "u"})


def test_the_server_needs_its_secret_path(server):
    webhooks, calls, context = server
    url = webhooks.url("authenticate", "us-west-2", CLUSTER).replace(webhooks.secret, "guess")
    assert post(url, {"spec": {"token": "good"}}, context) == (404, None)
    assert post(webhooks.url("other", "us-west-2", CLUSTER), {"spec": {}}, context) == (404, None)
    assert post(webhooks.url("authenticate", "us-west-2", CLUSTER), ["not a review"], context) == (400, None)
    assert calls == []


def test_a_kept_alive_connection_answers_without_delay(server):
    """kube-apiserver reuses its connection; each answer must not wait for a delayed ACK (~40 ms)."""
    webhooks, _calls, context = server
    connection = http.client.HTTPSConnection("127.0.0.1", webhooks.port, context=context, timeout=10)
    path = "/%s/authorize/us-west-2/%s" % (webhooks.secret, CLUSTER)
    body = json.dumps({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {"user": "u"}})
    times = []
    for _attempt in range(10):
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert json.loads(response.read())["status"]["allowed"] is True
        times.append(time.perf_counter() - started)
    connection.close()
    assert statistics.median(times) < 0.02, times
