"""Unit tests of the kubectl credential plugin's pure logic (no network)."""

import base64
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin as plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.credential_plugin import PluginError

PLUGIN = os.path.abspath(plugin.__file__)
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


def test_write_private_json_replaces_and_tightens(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    os.chmod(str(directory), 0o755)
    path = str(directory / "c.json")
    plugin.write_private_json(path, {"n": 1})
    plugin.write_private_json(path, {"n": 2})
    assert plugin.read_cache(path) == {"n": 2}
    assert mode(str(directory)) == 0o700


def test_read_cache_makes_a_readable_file_private(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"n": 1}')
    os.chmod(str(path), 0o644)
    assert plugin.read_cache(str(path)) == {"n": 1}
    assert mode(str(path)) == 0o600


@pytest.mark.parametrize("content", [None, "", "{", "[1]"])
def test_read_cache_of_missing_or_broken_files(tmp_path, content):
    path = tmp_path / "c.json"
    if content is not None:
        path.write_text(content)
    assert plugin.read_cache(str(path)) is None


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
