"""Unit tests of the kubectl credential plugin's pure logic (no network)."""

import base64
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser

import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin as plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.credential_plugin import PluginError

PLUGIN = os.path.abspath(plugin.__file__)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
CLIENT = "702vqsrjicklgb7c5b7b50i1gc"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_jwt(claims, header=None):
    header = header or {"alg": "RS256", "kid": "k1"}
    return "%s.%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(b"signature"))


def config(tmp_path, **overrides):
    base = {"issuer_url": ISSUER, "client_id": CLIENT, "cache_dir": str(tmp_path / "cache")}
    base.update(overrides)
    return base


def write_config(tmp_path, **overrides):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config(tmp_path, **overrides)))
    return str(path)


# -- JWT without verification ---------------------------------------------------

@pytest.mark.parametrize("size", [30, 31, 32, 33])
def test_b64url_decode_with_and_without_padding(size):
    data = bytes(range(200, 200 + size % 50)) + b"\xfb\xff" * (size // 2)  # bytes that need - and _
    padded = base64.urlsafe_b64encode(data).decode()
    assert plugin.b64url_decode(padded) == data
    assert plugin.b64url_decode(padded.rstrip("=")) == data


def test_jwt_claims_of_every_payload_length():
    """The post's `cut | base64 --decode` fails on 2 of 3 payload lengths; this must not."""
    for extra in range(4):
        claims = {"sub": "86f7130a", "email": "a" * extra + "@example.com", "cognito:groups": ["secret-reader"], "exp": 1612764351}
        token = unsigned_jwt(claims)
        assert plugin.jwt_claims(token) == claims
        assert plugin.jwt_header(token) == {"alg": "RS256", "kid": "k1"}


@pytest.mark.parametrize("token, message", [
    ("abc", "expected 3 dot-separated parts, got 1"),
    ("a.b.c.d", "got 4"),
    ("eyJhbGciOiJSUzI1NiJ9.%%%.sig", "payload is not base64url-encoded JSON"),
    ("eyJhbGciOiJSUzI1NiJ9.WzFd.sig", "payload is not a JSON object"),  # [1]
])
def test_jwt_claims_refuses_what_is_not_a_jwt(token, message):
    with pytest.raises(PluginError, match="not a JWT") as e:
        plugin.jwt_claims(token)
    assert message in str(e.value)


def test_token_expiry():
    assert plugin.token_expiry(unsigned_jwt({"exp": 1612764351})) == 1612764351
    assert plugin.token_expiry(unsigned_jwt({"exp": 1612764351.5})) == 1612764351
    for claims in ({}, {"exp": "1612764351"}, {"exp": True}):
        with pytest.raises(PluginError, match="no numeric exp"):
            plugin.token_expiry(unsigned_jwt(claims))


def test_rfc3339():
    assert plugin.rfc3339(1612764351) == "2021-02-08T06:05:51Z"


# -- expiry and the ExecCredential --------------------------------------------------

def cached(expires_at, **overrides):
    entry = {"issuer_url": ISSUER, "client_id": CLIENT, "id_token": "x.y.z", "refresh_token": "r", "expires_at": expires_at}
    entry.update(overrides)
    return entry


@pytest.mark.parametrize("remaining, fresh", [(3600, True), (61, True), (60, False), (59, False), (0, False), (-10, False)])
def test_cache_is_fresh_keeps_the_skew(tmp_path, remaining, fresh):
    now = 1700000000
    assert plugin.cache_is_fresh(cached(now + remaining), config(tmp_path), now) is fresh


@pytest.mark.parametrize("entry", [
    None, {}, cached(None), cached("1700003600"), cached(True),
    cached(1700003600, issuer_url="https://other"), cached(1700003600, client_id="other"), cached(1700003600, id_token=None),
])
def test_cache_is_fresh_refuses_foreign_or_broken_entries(tmp_path, entry):
    assert plugin.cache_is_fresh(entry, config(tmp_path), 1700000000) is False


def test_exec_credential_expires_before_the_token():
    credential = plugin.exec_credential("tok", 1612764351)
    assert credential == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "tok", "expirationTimestamp": "2021-02-08T06:04:51Z"},
    }


# -- config ---------------------------------------------------------------------

@pytest.mark.parametrize("overrides, problem", [
    ({"issuer_url": None}, "issuer_url is required"),
    ({"client_id": ""}, "client_id is required"),
    ({"login": "device"}, "login must be 'browser' or 'password'"),
    ({"login": "password", "username": "alice"}, "needs username and password_file"),
    ({"password": "hunter2"}, "password must not be in the config"),
    ({"refresh_token": "r"}, "refresh_token must not be in the config"),
    ({"cognito": {}}, "cognito needs region or user_pool_id"),
    ({"scopes": ["email"]}, "must be a list that includes 'openid'"),
])
def test_config_problem(tmp_path, overrides, problem):
    assert problem in plugin.config_problem(config(tmp_path, **overrides))


def test_config_problem_accepts_the_documented_configs(tmp_path):
    assert plugin.config_problem(config(tmp_path)) is None
    password = config(tmp_path, login="password", username="alice", password_file="/p",
                      cognito={"user_pool_id": "us-west-2_re1u6bpRA", "endpoint_url": "https://127.0.0.1:4566"})
    assert plugin.config_problem(password) is None


def test_cache_file_is_per_issuer_client_and_user(tmp_path):
    first = plugin.cache_file_of(config(tmp_path, username="alice@example.com"))
    second = plugin.cache_file_of(config(tmp_path, username="bob@example.com"))
    third = plugin.cache_file_of(config(tmp_path, client_id="other"))
    assert len({first, second, third}) == 3
    assert os.path.dirname(first) == str(tmp_path / "cache")
    assert os.path.basename(first) == \
        "cognito-idp.us-west-2.amazonaws.com_us-west-2_re1u6bpRA_702vqsrjicklgb7c5b7b50i1gc_alice@example.com.json"


def test_cache_file_name_stays_short(tmp_path):
    name = os.path.basename(plugin.cache_file_of(config(tmp_path, issuer_url="https://idp.example.com/" + "x" * 400)))
    assert len(name) < 200
    assert "/" not in name


def test_default_cache_dir():
    path = plugin.cache_file_of({"issuer_url": ISSUER, "client_id": CLIENT})
    assert path.startswith(os.path.expanduser("~/.kube/cache/kubeauth-eks-oidc/"))


# -- cache files -------------------------------------------------------------------

def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_private_json_makes_a_0700_dir_and_0600_file(tmp_path):
    old = os.umask(0)
    try:
        path = str(tmp_path / "a" / "b" / "cache.json")
        plugin.write_private_json(path, {"id_token": "x"})
    finally:
        os.umask(old)
    assert mode(os.path.dirname(path)) == 0o700
    assert mode(path) == 0o600
    assert plugin.read_cache(path) == {"id_token": "x"}
    assert os.listdir(os.path.dirname(path)) == ["cache.json"]  # no temporary file left


def test_write_private_json_replaces(tmp_path):
    path = str(tmp_path / "cache" / "c.json")
    plugin.write_private_json(path, {"n": 1})
    plugin.write_private_json(path, {"n": 2})
    assert plugin.read_cache(path) == {"n": 2}
    assert sorted(os.listdir(str(tmp_path / "cache"))) == ["c.json"]


@pytest.mark.parametrize("content", [None, "", "{", "[1]"])
def test_read_cache_of_missing_or_broken_files(tmp_path, content):
    path = tmp_path / "c.json"
    if content is not None:
        path.write_text(content)
        os.chmod(str(path), 0o600)
    assert plugin.read_cache(str(path)) is None


def test_read_cache_without_a_cache_directory(tmp_path):
    assert plugin.read_cache(str(tmp_path / "missing" / "c.json")) is None


def test_read_password_needs_a_private_file(tmp_path):
    path = tmp_path / "pw"
    path.write_text("Blah123$\n")
    os.chmod(str(path), 0o644)
    with pytest.raises(PluginError, match=r"mode 0644\); run: chmod 600") as e:
        plugin.read_password(str(path))
    assert "Blah123" not in str(e.value)
    os.chmod(str(path), 0o600)
    assert plugin.read_password(str(path)) == "Blah123$"


def test_cache_lock_is_exclusive_and_times_out(tmp_path):
    lock = str(tmp_path / "cache" / "c.json.lock")
    with plugin.CacheLock(lock, timeout=5):
        assert mode(lock) == 0o600
        with pytest.raises(PluginError, match="another kubectl command has been logging in"):
            with plugin.CacheLock(lock, timeout=0.1):
                pass
    with plugin.CacheLock(lock, timeout=0.1):
        pass


# -- command line ----------------------------------------------------------------

def test_parse_args():
    assert plugin.parse_args(["get-token", "--config", "c.json"]) == ("c.json", False)
    assert plugin.parse_args(["get-token", "--config=c.json", "--login"]) == ("c.json", True)
    for argv in ([], ["token"], ["get-token"], ["get-token", "--config"], ["get-token", "--config", "c", "--x"]):
        with pytest.raises(PluginError, match="usage|unexpected argument"):
            plugin.parse_args(argv)


def test_main_prints_the_cached_token(tmp_path, capsys, monkeypatch):
    config_path = write_config(tmp_path)
    token = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) + 3600})
    plugin.write_private_json(plugin.cache_file_of(config(tmp_path)), cached(int(time.time()) + 3600, id_token=token))
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {"interactive": False}}))
    assert plugin.main(["get-token", "--config", config_path]) == 0
    out, err = capsys.readouterr()
    credential = json.loads(out)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert credential["status"]["token"] == token
    assert err == ""


def test_main_without_login_says_how_to_log_in(tmp_path, capsys, monkeypatch):
    config_path = write_config(tmp_path)
    expired = cached(int(time.time()) - 10, id_token="secret-id-token", refresh_token=None)
    plugin.write_private_json(plugin.cache_file_of(config(tmp_path)), expired)
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", json.dumps({"spec": {"interactive": False}}))
    assert plugin.main(["get-token", "--config", config_path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "log in again" in err and "--login" in err and "or delete" in err
    assert "secret-id-token" not in err


def test_main_reports_a_bad_config_in_one_line(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"issuer_url": ISSUER}))
    assert plugin.main(["get-token", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == "kubeauth-eks-oidc: config %s: client_id is required (a string)\n" % path


def test_the_cached_path_imports_only_json_os_sys_time(tmp_path):
    """What every kubectl command pays: nothing for HTTP, TLS, locking or hashing."""
    config_path = write_config(tmp_path)
    token = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) + 3600})
    plugin.write_private_json(plugin.cache_file_of(config(tmp_path)), cached(int(time.time()) + 3600, id_token=token))
    run = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", PLUGIN, "get-token", "--config", config_path],
                         capture_output=True, text=True, check=True)
    assert json.loads(run.stdout)["status"]["token"] == token
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    slow = {"urllib", "urllib.request", "ssl", "socket", "http", "http.server", "fcntl", "tempfile", "base64",
            "hashlib", "secrets", "webbrowser", "argparse", "datetime", "zlib"}
    assert "json" in imported
    assert not imported & slow, imported & slow


# -- https only (issue 10, 1) ------------------------------------------------------

CLEAR = "travel in clear"


@pytest.mark.parametrize("overrides, name", [
    ({"issuer_url": "http://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"}, "issuer_url"),
    ({"issuer_url": "HTTP://127.0.0.1:4566/pool"}, "issuer_url"),  # loopback is no exception
    ({"issuer_url": "https:///no-host"}, "issuer_url"),
    ({"discovery_url": "http://127.0.0.1:4566/pool/.well-known/openid-configuration"}, "discovery_url"),
    ({"cognito": {"region": "us-west-2", "endpoint_url": "http://127.0.0.1:4566"}}, "cognito endpoint_url"),
])
def test_config_problem_refuses_plain_http(tmp_path, overrides, name):
    problem = plugin.config_problem(config(tmp_path, **overrides))
    assert problem.startswith(name + " ") and "is not https" in problem and CLEAR in problem


def test_main_refuses_an_http_issuer_before_reading_the_password(tmp_path, capsys):
    config_path = write_config(tmp_path, issuer_url="http://127.0.0.1:9/pool", login="password", username="alice",
                               password_file=str(tmp_path / "missing-password"))
    assert plugin.main(["get-token", "--config", config_path]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kubeauth-eks-oidc: config %s: issuer_url http://127.0.0.1:9/pool is not https" % config_path)
    assert "missing-password" not in err and not os.path.exists(str(tmp_path / "cache"))


def test_http_json_refuses_plain_http_before_any_request():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = "http://127.0.0.1:%d/token" % listener.getsockname()[1]
        with pytest.raises(PluginError, match="the URL %s is not https: .*%s" % (url, CLEAR)):
            plugin.http_json(url, data=b"grant_type=password&password=hunter2", timeout=1)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection was even opened


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_discover_refuses_an_http_endpoint_handed_out_by_the_issuer(monkeypatch, endpoint):
    document = {"issuer": ISSUER, "authorization_endpoint": ISSUER + "/authorize", "token_endpoint": ISSUER + "/token",
                "jwks_uri": ISSUER + "/jwks"}
    document[endpoint] = "http://idp.example.com/" + endpoint
    monkeypatch.setattr(plugin, "http_json", lambda url, **kwargs: (200, document))
    with pytest.raises(PluginError) as e:
        plugin.discover(ISSUER)
    assert ("the %s that the discovery document at %s/.well-known/openid-configuration hands out, http://idp.example.com/%s "
            "is not https" % (endpoint, ISSUER, endpoint)) in str(e.value)


def test_discover_accepts_https_endpoints(monkeypatch):
    document = {"issuer": ISSUER, "token_endpoint": ISSUER + "/token", "jwks_uri": ISSUER + "/jwks"}
    monkeypatch.setattr(plugin, "http_json", lambda url, **kwargs: (200, document))
    assert plugin.discover(ISSUER) == document


# -- a local HTTPS server for the HTTP tests -----------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(CA bundle, server certificate, key) for 127.0.0.1, from the sandbox's PKI helpers."""
    sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))
    try:
        import pki
    finally:
        sys.path.pop(0)
    directory = str(tmp_path_factory.mktemp("pki"))
    ca_cert, ca_key = pki.ensure_ca(directory)
    cert, key = os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
    pki.issue(ca_cert, ca_key, cert, key, "127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
    return ca_cert, cert, key


class TlsServer(object):
    """HTTPS on 127.0.0.1: each connection's request is read, then ``answer(tls_socket)`` writes what it likes.

    Use it as ``with TlsServer(certificate, answer) as server:``; it stops listening at the end of the block.
    """

    def __init__(self, certificate, answer):
        ca_cert, cert, key = certificate
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = "https://127.0.0.1:%d" % self.listener.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, address = self.listener.accept()
            except OSError:
                return  # closed
            try:
                with self.context.wrap_socket(connection, server_side=True) as tls:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += tls.recv(4096)
                    self.answer(tls)
            except OSError:
                pass  # the client gave up

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.listener.close()


def test_http_json_has_one_deadline_for_the_whole_exchange(certificate):
    """A server that drips its answer a byte at a time, each byte well within the socket timeout."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"

    def drip(tls):
        for byte in answer:
            tls.sendall(bytes([byte]))
            time.sleep(0.05)  # the whole answer takes about 4 s

    with TlsServer(certificate, drip) as server:
        started = time.monotonic()
        with pytest.raises(PluginError, match=r"^%s/.well-known/openid-configuration did not answer within 1 s" % server.url):
            plugin.http_json(server.url + "/.well-known/openid-configuration", ca_file=certificate[0], timeout=1)
        assert time.monotonic() - started < 3  # the answer takes 4 s or more: a per-read timeout would wait it out


def test_http_json_reads_a_prompt_answer(certificate):
    def reply(tls):
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"a\": [1]}\n")

    with TlsServer(certificate, reply) as server:
        assert plugin.http_json(server.url + "/x", ca_file=certificate[0], timeout=5) == (200, {"a": [1]})


def test_http_json_refuses_a_redirect_to_plain_http(certificate):
    def redirect(tls):
        tls.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/jwks\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    with TlsServer(certificate, redirect) as server:
        with pytest.raises(PluginError, match="the redirect from %s/jwks to http://127.0.0.1:9/jwks is not https" % server.url):
            plugin.http_json(server.url + "/jwks", ca_file=certificate[0], timeout=5)


# -- files the plugin trusts, checked as ssh checks ~/.ssh (issue 10, 2) ------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
OTHER_UID = 1234


def fresh_cache(tmp_path):
    """A cache holding a valid token for config(tmp_path); (cache file, token)."""
    token = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) + 3600})
    cache_file = plugin.cache_file_of(config(tmp_path))
    plugin.write_private_json(cache_file, cached(int(time.time()) + 3600, id_token=token))
    return cache_file, token


def run_main(config_path, capsys):
    status = plugin.main(["get-token", "--config", config_path])
    out, err = capsys.readouterr()
    return status, out, err


def test_plugin_refuses_to_run_from_a_directory_others_may_write(tmp_path):
    directory = tmp_path / "plugin"
    directory.mkdir()
    shutil.copy(PLUGIN, str(directory))
    os.chmod(str(directory), 0o777)
    config_path = write_config(tmp_path)
    fresh_cache(tmp_path)
    run = subprocess.run([sys.executable, "-I", "-S", str(directory / "credential_plugin.py"), "get-token", "--config", config_path],
                         capture_output=True, text=True, check=False)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == ("kubeauth-eks-oidc: the plugin's directory %s is writable by group and others (mode 0777); run: chmod 755 %s "
                          "(until then it is refused; nothing was changed)\n" % (directory, directory))
    assert mode(str(directory)) == 0o777


@needs_root
def test_plugin_refuses_to_run_from_a_directory_of_another_user(tmp_path):
    directory = tmp_path / "plugin"
    directory.mkdir()
    shutil.copy(PLUGIN, str(directory))
    os.chown(str(directory), OTHER_UID, OTHER_UID)
    config_path = write_config(tmp_path)
    fresh_cache(tmp_path)
    run = subprocess.run([sys.executable, "-I", "-S", str(directory / "credential_plugin.py"), "get-token", "--config", config_path],
                         capture_output=True, text=True, check=False)
    assert (run.returncode, run.stdout) == (1, "")
    assert "the plugin's directory %s is owned by uid 1234, not you (uid 0); it is refused" % directory in run.stderr


def test_config_others_may_write_is_refused(tmp_path, capsys):
    config_path = write_config(tmp_path)
    fresh_cache(tmp_path)
    os.chmod(config_path, 0o664)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "config %s is writable by group (mode 0664); run: chmod 644 %s" % (config_path, config_path) in err


@needs_root
def test_config_of_another_user_is_refused(tmp_path, capsys):
    config_path = write_config(tmp_path)
    fresh_cache(tmp_path)
    os.chown(config_path, OTHER_UID, OTHER_UID)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "config %s is owned by uid 1234, not you" % config_path in err


def test_cache_file_others_may_read_is_refused_and_left_alone(tmp_path, capsys):
    config_path = write_config(tmp_path)
    cache_file, token = fresh_cache(tmp_path)
    os.chmod(cache_file, 0o644)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "cache file %s is readable by group and others (mode 0644); run: chmod 600 %s" % (cache_file, cache_file) in err
    assert mode(cache_file) == 0o644 and token not in err


def test_cache_file_that_is_a_symbolic_link_is_not_followed(tmp_path, capsys):
    config_path = write_config(tmp_path)
    cache_file, token = fresh_cache(tmp_path)
    planted = str(tmp_path / "planted.json")
    os.rename(cache_file, planted)
    os.symlink(planted, cache_file)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "cache file %s is a symbolic link, which is never followed; remove it (nothing was changed)" % cache_file in err


@needs_root
def test_cache_file_of_another_user_is_refused(tmp_path, capsys):
    config_path = write_config(tmp_path)
    cache_file, token = fresh_cache(tmp_path)
    os.chown(cache_file, OTHER_UID, OTHER_UID)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "cache file %s is owned by uid 1234, not you (uid 0)" % cache_file in err


@needs_root
def test_cache_directory_of_another_user_is_refused_and_not_adopted(tmp_path, capsys):
    config_path = write_config(tmp_path)
    cache_file, token = fresh_cache(tmp_path)
    directory = os.path.dirname(cache_file)
    os.chown(directory, OTHER_UID, OTHER_UID)
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "cache directory %s is owned by uid 1234, not you (uid 0); it is refused and nothing was changed" % directory in err
    with pytest.raises(PluginError, match="owned by uid 1234"):
        plugin.write_private_json(cache_file, {"n": 1})
    assert os.stat(directory).st_uid == OTHER_UID and json.loads(open(cache_file).read())["id_token"] == token


def test_ensure_private_dir_refuses_a_directory_others_may_use(tmp_path):
    directory = str(tmp_path / "cache")
    os.mkdir(directory)
    os.chmod(directory, 0o755)
    with pytest.raises(PluginError, match=r"cache directory %s is readable by group and others \(mode 0755\); run: chmod 700"
                       % directory):
        plugin.ensure_private_dir(directory)
    assert mode(directory) == 0o755  # not tightened behind the user's back: it is refused


@needs_root
def test_ensure_private_dir_never_adopts_a_directory_someone_else_created(tmp_path):
    directory = str(tmp_path / "cache")
    os.mkdir(directory)
    os.chmod(directory, 0o777)
    os.chown(directory, OTHER_UID, OTHER_UID)
    with pytest.raises(PluginError, match="cache directory %s is owned by uid 1234, not you" % directory):
        plugin.ensure_private_dir(directory)
    status = os.stat(directory)
    assert (status.st_uid, stat.S_IMODE(status.st_mode)) == (OTHER_UID, 0o777)


def test_cache_lock_never_follows_a_symbolic_link(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    target = tmp_path / "elsewhere"
    os.symlink(str(target), str(directory / "c.json.lock"))
    with pytest.raises(PluginError, match="lock file %s is a symbolic link" % (directory / "c.json.lock")):
        with plugin.CacheLock(str(directory / "c.json.lock"), timeout=1):
            pass
    assert not target.exists()


@needs_root
def test_cache_lock_of_another_user_is_refused(tmp_path):
    lock = str(tmp_path / "cache" / "c.json.lock")
    with plugin.CacheLock(lock, timeout=1):
        pass
    os.chown(lock, OTHER_UID, OTHER_UID)
    with pytest.raises(PluginError, match="lock file %s is owned by uid 1234" % lock):
        with plugin.CacheLock(lock, timeout=1):
            pass


def test_lock_waits_are_bounded(tmp_path):
    assert plugin.lock_timeout(config(tmp_path, login="password")) == 30
    assert plugin.lock_timeout(config(tmp_path)) == 30 + 300  # another kubectl may be waiting for a person in a browser
    assert plugin.lock_timeout(config(tmp_path, login_timeout=60)) == 90


def test_password_file_that_is_a_symbolic_link_is_not_followed(tmp_path):
    real = tmp_path / "real-password"
    real.write_text("Blah123$\n")
    os.chmod(str(real), 0o600)
    os.symlink(str(real), str(tmp_path / "pw"))
    with pytest.raises(PluginError, match="password_file %s is a symbolic link" % (tmp_path / "pw")) as e:
        plugin.read_password(str(tmp_path / "pw"))
    assert "Blah123" not in str(e.value)


@needs_root
def test_password_file_of_another_user_is_refused(tmp_path):
    path = tmp_path / "pw"
    path.write_text("Blah123$\n")
    os.chmod(str(path), 0o600)
    os.chown(str(path), OTHER_UID, OTHER_UID)
    with pytest.raises(PluginError, match="password_file %s is owned by uid 1234, not you" % path):
        plugin.read_password(str(path))


@pytest.mark.parametrize("file_mode, private_problem, public_problem", [
    (0o600, None, None),
    (0o644, "readable by group and others (mode 0644)", None),
    (0o620, "writable by group (mode 0620)", "writable by group (mode 0620)"),
    (0o646, "readable by group, writable by others (mode 0646)", "writable by others (mode 0646)"),
    (0o610, "accessible by group (mode 0610)", None),
])
def test_access_problem_says_who_may_do_what(tmp_path, file_mode, private_problem, public_problem):
    path = tmp_path / "f"
    path.write_text("")
    os.chmod(str(path), file_mode)
    assert plugin.access_problem(os.stat(str(path)), private=True) == private_problem
    assert plugin.access_problem(os.stat(str(path)), private=False) == public_problem


# -- browser login: the callback server, state, nonce, redirect_uri (issue 10, 4) ------

AUTHORIZE = "https://idp.example.com/oauth2/authorize"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_get(url):
    """(status, page) of a GET as the browser sends it: to localhost, no proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class FakeIdentityProvider(object):
    """Discovery and token endpoint for browser_login, in process. ``nonce``: "echo" (the login's), None or a value."""

    def __init__(self, monkeypatch, nonce="echo"):
        self.nonce = nonce
        self.forms = []
        self.authorize_query = None
        monkeypatch.setattr(plugin, "_discovery", lambda config: {"authorization_endpoint": AUTHORIZE,
                                                                  "token_endpoint": "https://idp.example.com/oauth2/token"})
        monkeypatch.setattr(plugin, "token_grant", self.token_grant)

    def token_grant(self, token_endpoint, form, ca_file=None):
        self.forms.append(form)
        claims = {"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) + 3600}
        if self.nonce:
            claims["nonce"] = self.authorize_query["nonce"] if self.nonce == "echo" else self.nonce
        return {"id_token": unsigned_jwt(claims), "refresh_token": "r"}


def browser_login_with(monkeypatch, tmp_path, act, nonce="echo", login_timeout=5):
    """browser_login with a fake identity provider and a browser that runs ``act(query, pages)`` once it is
    given the login URL (``query``: the URL's parameters; ``pages``: a list to put what it saw in).

    (outcome: {"entry": ...} or {"error": ...}, pages, identity provider)."""
    idp = FakeIdentityProvider(monkeypatch, nonce)
    pages = []
    browsers = []

    def open_browser(url):
        idp.authorize_query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        browsers.append(threading.Thread(target=act, args=(idp.authorize_query, pages), daemon=True))
        browsers[-1].start()
        return True

    monkeypatch.setattr(webbrowser, "open", open_browser)
    login_config = config(tmp_path, redirect_uri="http://localhost:%d/callback" % free_port(), login_timeout=login_timeout)
    outcome = {}

    def login():
        try:
            outcome["entry"] = plugin.browser_login(login_config)
        except Exception as e:
            outcome["error"] = e

    worker = threading.Thread(target=login, daemon=True)
    worker.start()
    worker.join(login_timeout + 5)
    assert not worker.is_alive(), "the login still waits after %d s" % (login_timeout + 5)
    # The login can end before the browser has read the page it answered with: wait for the browser too.
    for browser in browsers:
        browser.join(15)
        assert not browser.is_alive(), "the browser still waits for the page after 15 s"
    return outcome, pages, idp


def callback_url(query, **fields):
    return query["redirect_uri"] + "?" + urllib.parse.urlencode(fields)


def test_browser_login_is_not_held_by_an_idle_connection(monkeypatch, tmp_path):
    idle = []

    def act(query, pages):
        port = urllib.parse.urlsplit(query["redirect_uri"]).port
        idle.append(socket.create_connection(("127.0.0.1", port)))  # connects, never sends a request
        time.sleep(0.2)
        pages.append(browser_get("http://localhost:%d/favicon.ico" % port))  # not the callback: ignored
        pages.append(browser_get(callback_url(query, code="c0de", state=query["state"])))

    try:
        outcome, pages, idp = browser_login_with(monkeypatch, tmp_path, act)
    finally:
        for connection in idle:
            connection.close()
    assert pages == [(404, "<!doctype html><title>kubeauth</title><p>%s</p>" % plugin.NOT_THE_CALLBACK),
                     (200, "<!doctype html><title>kubeauth</title><p>%s</p>" % plugin.LOGIN_FINISHED)]
    assert "error" not in outcome, outcome
    assert outcome["entry"]["source"] == "oidc"
    (form,) = idp.forms
    assert form["code"] == "c0de" and form["grant_type"] == "authorization_code" and len(form["code_verifier"]) >= 43


@pytest.mark.parametrize("fields, failure", [
    ({"code": "c0de", "state": "forged"}, "the login callback carried a wrong state, not the one this login sent"),
    ({"code": "c0de"}, "the login callback carried no state"),
    ({"error": "access_denied", "error_description": "User said no to refresh_token=abc",
      "state": "STATE"}, "the identity provider refused the login: access_denied: User said no to refresh_token=[hidden]"),
    ({"state": "STATE"}, "the login callback carried no authorization code"),
])
def test_browser_login_fails_on_a_bad_callback_with_an_error_page(monkeypatch, tmp_path, fields, failure):
    def act(query, pages):
        sent = dict((k, query["state"] if v == "STATE" else v) for k, v in fields.items())
        pages.append(browser_get(callback_url(query, **sent)))

    outcome, pages, idp = browser_login_with(monkeypatch, tmp_path, act)
    ((status, page),) = pages
    assert status == 400 and plugin.LOGIN_FAILED in page and "Login finished" not in page
    assert isinstance(outcome.get("error"), PluginError) and failure in str(outcome["error"])
    assert idp.forms == []  # no code was redeemed


def test_browser_login_fails_on_a_callback_to_another_path(monkeypatch, tmp_path):
    def act(query, pages):
        other = query["redirect_uri"].replace("/callback", "/other")
        pages.append(browser_get(other + "?" + urllib.parse.urlencode({"code": "c0de", "state": query["state"]})))

    outcome, pages, idp = browser_login_with(monkeypatch, tmp_path, act)
    assert pages[0][0] == 404 and "Login finished" not in pages[0][1]
    assert "the login callback came to /other, not to /callback" in str(outcome["error"])


@pytest.mark.parametrize("nonce, failure", [
    (None, "the ID token carries no nonce, but this login sent one"),
    ("another-nonce", "the ID token carries a nonce other than the login's"),
])
def test_browser_login_needs_the_nonce_it_sent(monkeypatch, tmp_path, nonce, failure):
    def act(query, pages):
        pages.append(browser_get(callback_url(query, code="c0de", state=query["state"])))

    outcome, pages, idp = browser_login_with(monkeypatch, tmp_path, act, nonce=nonce)
    assert failure in str(outcome["error"])
    assert len(idp.forms) == 1


@pytest.mark.parametrize("redirect_uri, problem", [
    ("http://localhost:99999/callback", "has no valid port"),
    ("http://localhost:port/callback", "has no valid port"),
    ("http://localhost/callback", "has no port"),
    ("http://login.example.com:8000/callback", "is not an http URL on this machine's loopback"),
    ("https://localhost:8000/callback", "is not an http URL on this machine's loopback"),
    ("http://localhost:8000/callback#x", "must have no query, fragment or user"),
])
def test_browser_login_checks_redirect_uri_before_any_request(monkeypatch, tmp_path, redirect_uri, problem):
    monkeypatch.setattr(plugin, "_discovery", lambda config: pytest.fail("a request was made"))
    with pytest.raises(PluginError) as e:
        plugin.browser_login(config(tmp_path, redirect_uri=redirect_uri))
    assert str(e.value).startswith("redirect_uri %r %s" % (redirect_uri, problem))
    assert "; set redirect_uri in the config to http://localhost:PORT[/path] or http://127.0.0.1:PORT[/path]" in str(e.value)


def test_callback_address():
    assert plugin.callback_address("http://localhost:8000") == ("127.0.0.1", 8000, "/")
    assert plugin.callback_address("http://127.0.0.1:53682/callback") == ("127.0.0.1", 53682, "/callback")


@pytest.mark.parametrize("login_timeout", ["300", 0, -1, 3601, float("nan"), True])
def test_config_problem_bounds_login_timeout(tmp_path, login_timeout):
    assert "login_timeout must be a number of seconds, more than 0 and at most 3600" in \
        plugin.config_problem(config(tmp_path, login_timeout=login_timeout))


# -- error text scrubbed of secrets (issue 10, 5) -----------------------------------

JWT = unsigned_jwt({"sub": "alice", "exp": 1612764351})


@pytest.mark.parametrize("text, scrubbed", [
    ("invalid token " + JWT + " given", "invalid token [hidden] given"),
    ("grant_type=refresh_token&refresh_token=abc-def&client_id=x", "grant_type=refresh_token&refresh_token=[hidden]&client_id=x"),
    ("access_token=a1, id_token=i1; password=p1 client_secret=s1", "access_token=[hidden], id_token=[hidden]; password=[hidden] "
                                                                   "client_secret=[hidden]"),
    ('{"PASSWORD": "two words", "REFRESH_TOKEN": "r"}', '{"PASSWORD": [hidden], "REFRESH_TOKEN": [hidden]}'),
    ("{'RefreshToken': 'x y'}", "{'RefreshToken': [hidden]}"),
    ("Authorization: Bearer abc.def", "Authorization: Bearer [hidden]"),
    ("nothing secret: invalid_grant (refresh token expired)", "nothing secret: invalid_grant (refresh token expired)"),
])
def test_scrub_removes_what_is_secret_shaped(text, scrubbed):
    assert plugin.scrub(text) == scrubbed


def test_scrub_removes_the_secrets_in_play_in_every_spelling():
    password = 'P@ss word"1'
    spellings = (password, urllib.parse.quote_plus(password), urllib.parse.quote(password, safe=""), json.dumps(password))
    text = "echo: %s / %s / %s / %s" % spellings
    assert plugin.scrub(text, [password, None, ""]) == 'echo: [hidden] / [hidden] / [hidden] / "[hidden]"'


def test_token_grant_error_never_carries_the_grants_secrets(monkeypatch):
    """An identity provider that echoes the request in its error_description."""
    refresh_token = "opaque-refresh-token-value-42"

    def echo(url, data=None, **kwargs):
        return 400, {"error": "invalid_grant", "error_description": "bad request %s (token %s)" % (data.decode(), refresh_token)}

    monkeypatch.setattr(plugin, "http_json", echo)
    with pytest.raises(plugin.TokenRejected) as e:
        plugin.refresh_grant("https://idp.example.com/token", CLIENT, refresh_token)
    assert refresh_token not in str(e.value) and "refresh_token=[hidden]" in str(e.value)
    assert str(e.value).startswith("the identity provider refused the refresh_token grant (invalid_grant: bad request")


def test_cognito_error_never_carries_the_password(monkeypatch):
    password = "Hunter2-kubeauth!"

    def echo(url, data=None, **kwargs):
        return 400, {"__type": "InvalidParameterException", "message": "cannot use %s for user alice" % password}

    monkeypatch.setattr(plugin, "http_json", echo)
    with pytest.raises(PluginError) as e:
        plugin.cognito_initiate_auth("us-west-2", CLIENT, "USER_PASSWORD_AUTH", {"USERNAME": "alice", "PASSWORD": password})
    assert str(e.value) == "Cognito refused USER_PASSWORD_AUTH: InvalidParameterException (cannot use [hidden] for user alice)"


def test_main_scrubs_its_error_line(tmp_path, capsys, monkeypatch):
    config_path = write_config(tmp_path)

    def obtain(*args):
        raise PluginError("the issuer said: %s\nrefresh_token=abc \x1b[2Jcleared" % JWT)

    monkeypatch.setattr(plugin, "obtain", obtain)
    status, out, err = run_main(config_path, capsys)
    assert status == 1
    assert err == "kubeauth-eks-oidc: the issuer said: [hidden] refresh_token=[hidden]  [2Jcleared\n"


# -- no expired token cached or handed to kubectl (issue 10, 6) -----------------------

@pytest.mark.parametrize("exp", [float("nan"), float("inf"), float("-inf"), 1e20, 253402300800, 0, -5])
def test_token_expiry_refuses_times_outside_1970_to_9999(exp):
    with pytest.raises(PluginError, match="the ID token's exp claim .* is not a time between 1970 and the year 9999"):
        plugin.token_expiry(unsigned_jwt({"exp": exp}))


@pytest.mark.parametrize("expires_in, why", [(-10, "already past"), (0, "already past"), (30, "less than 60 s from now"),
                                             (60, "less than 60 s from now")])
def test_cache_entry_refuses_an_expired_token(tmp_path, expires_in, why):
    now = 1700000000
    token = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": now + expires_in})
    with pytest.raises(PluginError, match="the identity provider issued an ID token that expires at .*, %s; it is neither cached "
                                          "nor given to kubectl" % why):
        plugin.cache_entry(config(tmp_path), "oidc", token, "r", now)


def test_cache_entry_of_a_valid_token(tmp_path):
    now = 1700000000
    token = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": now + 61})
    assert plugin.cache_entry(config(tmp_path), "oidc", token, "r", now)["expires_at"] == now + 61


@pytest.mark.parametrize("expires_at", [float("inf"), float("nan"), 1e20, 253402300800])
def test_cache_is_fresh_refuses_times_beyond_9999(tmp_path, expires_at):
    assert plugin.cache_is_fresh(cached(expires_at), config(tmp_path), 1700000000) is False


def test_main_never_hands_kubectl_an_expired_token(tmp_path, capsys, monkeypatch):
    """The identity provider answers a refresh with a token that has already expired."""
    config_path = write_config(tmp_path)
    cache_file = plugin.cache_file_of(config(tmp_path))
    plugin.write_private_json(cache_file, cached(int(time.time()) - 10, id_token="old", refresh_token="r"))
    expired = unsigned_jwt({"iss": ISSUER, "aud": CLIENT, "exp": int(time.time()) - 5})
    monkeypatch.setattr(plugin, "_discovery", lambda config: {"token_endpoint": "https://idp.example.com/token"})
    monkeypatch.setattr(plugin, "token_grant", lambda endpoint, form, ca_file=None: {"id_token": expired})
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", json.dumps({"spec": {"interactive": False}}))
    status, out, err = run_main(config_path, capsys)
    assert (status, out) == (1, "")
    assert "already past; it is neither cached nor given to kubectl" in err
    assert json.loads(open(cache_file).read())["id_token"] == "old"
