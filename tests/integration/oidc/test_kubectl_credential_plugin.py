"""The kubectl credential plugin as kubectl runs it: separate processes, ``python3 -I -S credential_plugin.py``.

Two issuers:

* a tiny OIDC issuer served by this test over HTTPS on 127.0.0.1 (a CA of its
  own) that counts the grants it answers: an outside observation of how often
  the plugin refreshes;
* Cognito in the sandbox (MiniStack over HTTPS with its own CA): password
  login, Cognito refresh, the browser login through the hosted UI, and
  kubectl against the sandbox's kube-apiserver with the plugin's exec entry.
"""

import base64
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import ThreadingHTTPServer

import pki  # tests/sandbox/pki.py, on the path through conftest.py
import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin as plugin
from login_helpers import PLUGIN
from login_helpers import run_module
from logins import expire_cached_tokens, open_on_localhost, plugin_login_url, QuietJSONHandler, sign_in

# The interpreter the kubeconfig role writes: the real one, not a shim, with -I -S.
PYTHON = os.path.realpath(sys.executable)
NON_INTERACTIVE = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": False}})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def plugin_command(config_path, *extra):
    return [PYTHON, "-I", "-S", PLUGIN, "get-token", "--config", str(config_path)] + list(extra)


def run_plugin(config_path, *extra, timeout=60):
    env = dict(os.environ, KUBERNETES_EXEC_INFO=NON_INTERACTIVE)
    return subprocess.run(plugin_command(config_path, *extra), capture_output=True, text=True, env=env, timeout=timeout, check=False)


def credential_token(run):
    assert run.returncode == 0, run.stderr
    credential = json.loads(run.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["kind"] == "ExecCredential"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", credential["status"]["expirationTimestamp"])
    return credential["status"]["token"]


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_private_cache(cache_dir):
    assert mode(cache_dir) == 0o700
    names = os.listdir(cache_dir)
    assert names and not [n for n in names if n.endswith(".tmp")], names  # no temporary file left behind
    for name in names:
        assert mode(os.path.join(cache_dir, name)) == 0o600, name


def assert_no_secret(text, *secrets):
    for secret in secrets:
        if secret:
            assert secret not in text
    assert "eyJ" not in text  # no JWT (header or payload) at all


# ---------------------------------------------------------------------------
# A local issuer that counts grants
# ---------------------------------------------------------------------------

class CountingIssuer(object):
    """Discovery and a token endpoint over HTTPS on 127.0.0.1; ``grants`` counts the answered grants by type,
    ``connections`` the connections it accepted."""

    REFRESH_TOKEN = "refresh-" + "r" * 40
    PASSWORD = "Pa55word-local"

    def __init__(self, directory, client_id="kubectl", delay=0.3):
        self.client_id = client_id
        self.connections = 0
        self.delay = delay  # keeps a refresh in flight long enough for the others to pile up behind the lock
        self.grants = {}
        self.lock = threading.Lock()
        issuer = self

        class Handler(QuietJSONHandler):
            def do_GET(self):  # noqa: N802
                if self.path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": issuer.url, "token_endpoint": issuer.url + "/token",
                                     "authorization_endpoint": issuer.url + "/authorize", "jwks_uri": issuer.url + "/jwks"})
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                grant = form.get("grant_type")
                with issuer.lock:
                    issuer.grants[grant] = issuer.grants.get(grant, 0) + 1
                time.sleep(issuer.delay)
                good = (grant == "refresh_token" and form.get("refresh_token") == issuer.REFRESH_TOKEN) or (
                    grant == "password" and form.get("password") == issuer.PASSWORD)
                if not good or form.get("client_id") != issuer.client_id:
                    self.reply(400, {"error": "invalid_grant", "error_description": "Refresh token expired"})
                    return
                self.reply(200, {"id_token": issuer.id_token(), "refresh_token": issuer.REFRESH_TOKEN, "token_type": "Bearer"})

        class Server(ThreadingHTTPServer):
            def get_request(self):
                issuer.connections += 1
                return ThreadingHTTPServer.get_request(self)

        ca_cert, ca_key = pki.ensure_ca(directory)
        cert, key = os.path.join(directory, "issuer.crt"), os.path.join(directory, "issuer.key")
        pki.issue(ca_cert, ca_key, cert, key, "127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
        self.ca_file = ca_cert
        self.server = Server(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def id_token(self, lifetime=3600):
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "sub": "alice", "iat": now, "exp": now + lifetime, "jti": os.urandom(8).hex()}
        return "%s.%s.%s" % (b64url(b'{"alg":"RS256","kid":"k"}'), b64url(json.dumps(claims).encode()), b64url(os.urandom(32)))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_issuer(tmp_path):
    directory = tmp_path / "issuer-pki"
    directory.mkdir()
    issuer = CountingIssuer(str(directory))
    yield issuer
    issuer.close()


def write_config(tmp_path, **config):
    config.setdefault("cache_dir", str(tmp_path / "cache"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def seed_expired_cache(config_path, issuer, refresh_token):
    """A cache whose ID token expired a minute ago, as after a lunch break."""
    path = plugin.cache_file_of(json.loads(config_path.read_text()))
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    expired = issuer.id_token(lifetime=-60)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        json.dump({"issuer_url": issuer.url, "client_id": issuer.client_id, "source": "oidc", "id_token": expired,
                   "refresh_token": refresh_token, "expires_at": claims_of(expired)["exp"]}, handle)
    return path, expired


def test_twenty_parallel_kubectl_calls_refresh_once(local_issuer, tmp_path):
    config_path = write_config(tmp_path, issuer_url=local_issuer.url, client_id=local_issuer.client_id,
                               ca_file=local_issuer.ca_file)
    cache_file, expired = seed_expired_cache(config_path, local_issuer, local_issuer.REFRESH_TOKEN)
    env = dict(os.environ, KUBERNETES_EXEC_INFO=NON_INTERACTIVE)
    processes = [subprocess.Popen(plugin_command(config_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for count in range(20)]
    outputs = [process.communicate(timeout=120) for process in processes]
    errors = [err for out, err in outputs]
    assert [process.returncode for process in processes] == [0] * 20, errors
    tokens = {json.loads(out)["status"]["token"] for out, err in outputs}
    assert local_issuer.grants == {"refresh_token": 1}, local_issuer.grants
    assert len(tokens) == 1 and expired not in tokens
    assert errors == [""] * 20
    assert_private_cache(str(tmp_path / "cache"))
    assert json.loads(open(cache_file).read())["id_token"] in tokens
    # And the next call is served from the cache: no grant at all.
    assert credential_token(run_plugin(config_path)) in tokens
    assert local_issuer.grants == {"refresh_token": 1}


def test_rejected_refresh_says_how_to_log_in_again(local_issuer, tmp_path):
    config_path = write_config(tmp_path, issuer_url=local_issuer.url, client_id=local_issuer.client_id,
                               ca_file=local_issuer.ca_file)
    cache_file, expired = seed_expired_cache(config_path, local_issuer, "revoked-refresh-token-value")
    run = run_plugin(config_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1, run.stderr
    assert "refused the refresh_token grant (invalid_grant: Refresh token expired)" in run.stderr
    assert "log in again" in run.stderr and "--login" in run.stderr and cache_file in run.stderr
    assert_no_secret(run.stderr, "revoked-refresh-token-value", expired)


def test_password_login_with_the_oidc_password_grant(local_issuer, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(local_issuer.PASSWORD + "\n")
    os.chmod(str(password_file), 0o600)
    config_path = write_config(tmp_path, issuer_url=local_issuer.url, client_id=local_issuer.client_id,
                               ca_file=local_issuer.ca_file, login="password", username="alice", password_file=str(password_file))
    first = run_plugin(config_path)
    token = credential_token(first)
    assert first.stderr == ""
    assert credential_token(run_plugin(config_path)) == token
    assert local_issuer.grants == {"password": 1}
    assert_private_cache(str(tmp_path / "cache"))
    for name in os.listdir(str(tmp_path / "cache")):
        assert local_issuer.PASSWORD not in (tmp_path / "cache" / name).read_text()


def test_password_file_readable_by_others_is_refused(local_issuer, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(local_issuer.PASSWORD)
    os.chmod(str(password_file), 0o644)
    config_path = write_config(tmp_path, issuer_url=local_issuer.url, client_id=local_issuer.client_id,
                               ca_file=local_issuer.ca_file, login="password", username="alice", password_file=str(password_file))
    run = run_plugin(config_path)
    assert run.returncode == 1
    assert "password_file %s is readable by group and others (mode 0644); run: chmod 600 %s" % (password_file, password_file) in run.stderr
    assert_no_secret(run.stderr, local_issuer.PASSWORD)
    assert local_issuer.grants == {}


def test_wrong_password(local_issuer, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("Wrong-password-1")
    os.chmod(str(password_file), 0o600)
    config_path = write_config(tmp_path, issuer_url=local_issuer.url, client_id=local_issuer.client_id,
                               ca_file=local_issuer.ca_file, login="password", username="alice", password_file=str(password_file))
    run = run_plugin(config_path)
    assert run.returncode == 1 and "refused the password grant" in run.stderr
    assert_no_secret(run.stderr, "Wrong-password-1")


def test_unreachable_issuer(tmp_path):
    config_path = write_config(tmp_path, issuer_url="https://127.0.0.1:9", client_id="kubectl", login="password",
                               username="alice", password_file=str(tmp_path / "pw"))
    (tmp_path / "pw").write_text("x")
    os.chmod(str(tmp_path / "pw"), 0o600)
    run = run_plugin(config_path)
    assert run.returncode == 1
    assert run.stderr.startswith("kubeauth-eks-oidc: cannot reach https://127.0.0.1:9/.well-known/openid-configuration")


@pytest.mark.parametrize("plain", ["issuer_url", "discovery_url"])
def test_plain_http_is_refused_before_any_request(local_issuer, tmp_path, plain):
    """The password grant would carry the password in clear: nothing may reach the server, loopback or not."""
    password_file = tmp_path / "password"
    password_file.write_text(local_issuer.PASSWORD)
    os.chmod(str(password_file), 0o600)
    urls = {"issuer_url": local_issuer.url, "discovery_url": local_issuer.url + "/.well-known/openid-configuration"}
    urls[plain] = urls[plain].replace("https://", "http://")
    config_path = write_config(tmp_path, client_id=local_issuer.client_id, ca_file=local_issuer.ca_file, login="password",
                               username="alice", password_file=str(password_file), **urls)
    run = run_plugin(config_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("kubeauth-eks-oidc: config %s: %s %s is not https: " % (config_path, plain, urls[plain]))
    assert "travel in clear" in run.stderr
    assert_no_secret(run.stderr, local_issuer.PASSWORD)
    assert local_issuer.connections == 0 and local_issuer.grants == {}


# ---------------------------------------------------------------------------
# Cognito in the sandbox
# ---------------------------------------------------------------------------

def cognito_config(tmp_path, sandbox, idp, **overrides):
    config = {
        "issuer_url": idp["issuer_url"],
        "client_id": idp["client_id"],
        "discovery_url": idp["discovery_url"],
        "ca_file": sandbox["aws_ca_bundle"],
        "cognito": {"user_pool_id": idp["pool_id"], "region": sandbox["region"], "endpoint_url": sandbox["aws_endpoint_url"]},
        "cache_dir": str(tmp_path / "cache"),
    }
    config.update(overrides)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_cognito_password_login_then_cache_then_refresh(sandbox, cognito, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(cognito["password"])
    os.chmod(str(password_file), 0o600)
    config_path = cognito_config(tmp_path, sandbox, cognito, login="password", username=cognito["username"],
                                 password_file=str(password_file))
    first = run_plugin(config_path)
    token = credential_token(first)
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"], claims["token_use"]) == (cognito["issuer_url"], cognito["client_id"], "id")
    assert claims["cognito:groups"] == ["secret-reader"]
    assert_private_cache(str(tmp_path / "cache"))

    # Cached: served even with Cognito unreachable.
    offline = cognito_config(tmp_path, sandbox, cognito, login="password", username=cognito["username"],
                             password_file=str(password_file), cognito={"region": "us-west-2", "endpoint_url": "https://127.0.0.1:9"})
    assert credential_token(run_plugin(offline)) == token

    # Expired: refreshed with REFRESH_TOKEN_AUTH; the refresh token stays.
    config_path = cognito_config(tmp_path, sandbox, cognito, login="password", username=cognito["username"],
                                 password_file=str(password_file))
    (refresh_token,) = expire_cached_tokens(str(tmp_path / "cache"))
    second = run_plugin(config_path)
    refreshed = credential_token(second)
    assert refreshed != token
    assert claims_of(refreshed)["origin_jti"] == claims["origin_jti"]  # the same session, refreshed, not a new login
    for run in (first, second):
        assert_no_secret(run.stderr, cognito["password"], refresh_token)
        assert run.stderr == ""


def test_cognito_wrong_password(sandbox, cognito, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("Wrong123$-kubeauth")
    os.chmod(str(password_file), 0o600)
    config_path = cognito_config(tmp_path, sandbox, cognito, login="password", username=cognito["username"],
                                 password_file=str(password_file))
    run = run_plugin(config_path)
    assert run.returncode == 1
    assert run.stderr.startswith("kubeauth-eks-oidc: Cognito refused USER_PASSWORD_AUTH: NotAuthorizedException")
    assert_no_secret(run.stderr, "Wrong123$-kubeauth")


def act_as_browser(url, sandbox, cognito):
    """What the user does in the browser: open the URL, sign in, follow the redirect to localhost."""
    callback = sign_in(url, sandbox["aws_ca_bundle"], cognito["username"], cognito["password"], login_path="/login",
                       timeout=30)
    assert callback.startswith("http://localhost:%d/callback?" % cognito["callback_port"]), callback
    return open_on_localhost(callback)


def test_browser_login_with_pkce_then_refresh(sandbox, cognito, tmp_path):
    config_path = cognito_config(tmp_path, sandbox, cognito, login="browser", open_browser=False, login_timeout=60,
                                 redirect_uri="http://localhost:%d/callback" % cognito["callback_port"])
    config = json.loads(config_path.read_text())
    del config["cognito"]  # a browser login and its refreshes need only the issuer's endpoints
    config_path.write_text(json.dumps(config))
    process = subprocess.Popen(plugin_command(config_path, "--login"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, KUBERNETES_EXEC_INFO=NON_INTERACTIVE))
    try:
        url, query, line = plugin_login_url(process)
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert query["redirect_uri"] == "http://localhost:%d/callback" % cognito["callback_port"]
        assert "Login finished" in act_as_browser(url, sandbox, cognito)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert err == ""  # nothing after the URL line
    token = json.loads(out)["status"]["token"]
    claims = claims_of(token)
    assert claims["email"] == cognito["username"] and claims["nonce"] == query["nonce"]
    assert_private_cache(str(tmp_path / "cache"))

    (refresh_token,) = expire_cached_tokens(str(tmp_path / "cache"))
    refreshed = run_plugin(config_path)
    assert credential_token(refreshed) != token
    assert refreshed.stderr == ""
    assert_no_secret(line + refreshed.stderr, refresh_token)


# ---------------------------------------------------------------------------
# kubectl with the plugin against the sandbox's kube-apiserver
# ---------------------------------------------------------------------------

# The post's Step 3 mapping, and EKS's defaults (sub prefixed with the issuer, groups unprefixed).
ASSOCIATIONS = [
    ({"usernameClaim": "email", "groupsClaim": "cognito:groups", "groupsPrefix": "gid:"},
     {"username_claim": "email", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}),
    ({"groupsClaim": "cognito:groups"}, {"groups_claim": "cognito:groups"}),
]


@pytest.fixture(params=ASSOCIATIONS, ids=["email-gid-prefix", "eks-defaults"])
def associated_cluster(request, sandbox, cognito):
    """The cluster with the pool associated as its OIDC identity provider (the post's Step 3), removed after."""
    assert sandbox.get("kubernetes"), ("the sandbox runs without kube-apiserver: run `make k8s-binaries` "
                                       "(these tests do not skip)")
    import boto3
    import botocore.exceptions

    import sandbox as sandbox_launcher  # tests/sandbox/sandbox.py, on the path through conftest.py

    eks = boto3.client("eks", **sandbox_launcher.boto3_kwargs(sandbox))
    cluster = sorted(sandbox["clusters"])[0]
    oidc, mapping = request.param
    name = "plugin-%s" % request.node.callspec.id
    reference = {"type": "oidc", "name": name}

    def status():
        try:
            return eks.describe_identity_provider_config(clusterName=cluster, identityProviderConfig=reference)[
                "identityProviderConfig"]["oidc"]["status"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return "GONE"
            raise

    def wait_for(wanted):
        deadline = time.monotonic() + 180
        while status() != wanted:
            assert time.monotonic() < deadline, "identity provider config %s not %s in 180 s" % (name, wanted)
            time.sleep(1)

    eks.associate_identity_provider_config(clusterName=cluster, oidc=dict(
        oidc, identityProviderConfigName=name, issuerUrl=cognito["issuer_url"], clientId=cognito["client_id"]))
    try:
        wait_for("ACTIVE")
        yield sandbox["clusters"][cluster], mapping
    finally:
        eks.disassociate_identity_provider_config(clusterName=cluster, identityProviderConfig=reference)
        wait_for("GONE")


def test_kubectl_with_the_exec_plugin_is_the_user_oidc_token_info_predicts(sandbox, cognito, associated_cluster, tmp_path):
    """kubectl runs the plugin as the kubeconfig role's exec entry says; the API server's whoami is the module's kubernetes_user."""
    cluster, mapping = associated_cluster
    password_file = tmp_path / "password"
    password_file.write_text(cognito["password"])
    os.chmod(str(password_file), 0o600)
    config_path = cognito_config(tmp_path, sandbox, cognito, login="password", username=cognito["username"],
                                 password_file=str(password_file))
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "oidc",
        "clusters": [{"name": "oidc-test", "cluster": {"server": cluster["endpoint"],
                                                       "certificate-authority-data": cluster["certificate_authority_data"]}}],
        "users": [{"name": "cognito-user", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": PYTHON,
            "args": ["-I", "-S", PLUGIN, "get-token", "--config", str(config_path)],
            "interactiveMode": "IfAvailable", "provideClusterInfo": False}}}],
        "contexts": [{"name": "oidc", "context": {"cluster": "oidc-test", "user": "cognito-user"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kubeconfig))
    run = subprocess.run(["kubectl", "--kubeconfig", str(path), "auth", "whoami", "-o", "json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert_no_secret(run.stderr, cognito["password"])
    seen = json.loads(run.stdout)["status"]["userInfo"]

    token = credential_token(run_plugin(config_path))  # the cached token kubectl just used
    predicted = run_module(sandbox, cognito, tmp_path, token=token, **mapping)["kubernetes_user"]
    assert {"username": seen["username"], "groups": seen.get("groups", [])} == predicted
