"""`sandbox.py up|status|down` as a user runs them, each test in its own state directory."""

import base64
import glob
import json
import os
import stat
import subprocess
import sys

import boto3
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import procs  # noqa: E402  (tests/sandbox/procs.py, on the path via conftest)
import sandbox as launcher  # noqa: E402
from sandbox_http import admin_context, request, wait_for  # noqa: E402

SANDBOX_PY = launcher.__file__


def cli(command, env):
    return subprocess.run([sys.executable, SANDBOX_PY, command], env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture
def state(tmp_path):
    """Environment for a private sandbox; whatever a test starts is stopped afterwards."""
    env = dict(os.environ, EKS_OIDC_SANDBOX_DIR=str(tmp_path / "state"), SANDBOX_PORT="0")
    env.pop("SANDBOX_REGION", None)
    try:
        yield env
    finally:
        cli("down", env)


def _info(env):
    with open(os.path.join(env["EKS_OIDC_SANDBOX_DIR"], "sandbox.json"), encoding="utf-8") as handle:
        return json.load(handle)


def test_up_twice_then_down_leaves_nothing(state):
    state["SANDBOX_CLUSTERS"] = "2"
    first = cli("up", state)
    assert first.returncode == 0, first.stdout + first.stderr
    info = _info(state)
    assert info["kubernetes"], "kube-apiserver/etcd missing: run `make k8s-binaries`"
    assert sorted(info["clusters"]) == ["oidc-test", "oidc-test-2"]

    eks = boto3.client("eks", **launcher.boto3_kwargs(info))
    for name, cluster in info["clusters"].items():
        described = eks.describe_cluster(name=name)["cluster"]
        assert described["status"] == "ACTIVE"
        assert described["endpoint"] == cluster["endpoint"]
        assert described["certificateAuthority"]["data"] == cluster["certificate_authority_data"]
        assert base64.b64decode(cluster["certificate_authority_data"]).startswith(b"-----BEGIN CERTIFICATE")
        context = admin_context(cluster["admin_kubeconfig"])
        assert request(cluster["endpoint"], "/readyz", context=context)[0] == 200

    before = launcher.status(state["EKS_OIDC_SANDBOX_DIR"])
    assert before["running"]
    # MiniStack (and its IAM webhook server, recorded with MiniStack's pid), the HTTPS proxy,
    # and etcd + kube-apiserver per cluster.
    kinds = ("ministack", "iam-webhooks", "https-proxy", "etcd", "kube-apiserver")
    names = sorted(next(k for k in kinds if k in proc["name"]) for proc in before["processes"])
    assert names == sorted(["ministack", "iam-webhooks", "https-proxy"] + ["etcd", "kube-apiserver"] * 2), names
    assert all(proc["alive"] for proc in before["processes"])
    ports = [port for proc in before["processes"] for port in proc["ports"]]
    assert all(procs.port_open(port) for port in ports)
    assert len(set(ports)) == len(ports), "two processes were given the same port"
    _assert_secrets_private(state["EKS_OIDC_SANDBOX_DIR"])

    second = cli("up", state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already running" in second.stdout
    assert _info(state) == info
    again = launcher.status(state["EKS_OIDC_SANDBOX_DIR"])
    assert [p["pid"] for p in again["processes"]] == [p["pid"] for p in before["processes"]]

    assert cli("status", state).returncode == 0
    stopped = cli("down", state)
    assert stopped.returncode == 0 and "sandbox stopped" in stopped.stdout
    assert not any(procs.alive(p["pid"], state["EKS_OIDC_SANDBOX_DIR"]) for p in before["processes"])
    assert not any(procs.port_open(port) for port in ports)
    assert cli("status", state).returncode == 3
    assert not os.path.exists(os.path.join(state["EKS_OIDC_SANDBOX_DIR"], "sandbox.json"))


def _assert_secrets_private(directory):
    secrets = [os.path.join(directory, "ca.key"), os.path.join(directory, "ministack", "tls.key")]
    secrets += glob.glob(os.path.join(directory, "clusters", "*", "*", "*.key"))
    secrets += glob.glob(os.path.join(directory, "clusters", "*", "*", "admin.kubeconfig"))
    assert len(secrets) == 2 + 2 * 4
    for path in secrets:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_without_kubernetes_binaries_the_aws_side_runs(state, tmp_path):
    empty = tmp_path / "no-binaries"
    empty.mkdir()
    state.update(KUBEBUILDER_ASSETS=str(empty), EKS_OIDC_K8S_CACHE=str(empty))
    result = cli("up", state)
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if "Kubernetes side skipped" in line]
    assert len(skipped) == 1, result.stdout
    info = _info(state)
    assert info["kubernetes"] is False
    assert info["clusters"]["oidc-test"]["endpoint"] is None

    eks = boto3.client("eks", **launcher.boto3_kwargs(info))
    eks.associate_identity_provider_config(clusterName="oidc-test", oidc={
        "identityProviderConfigName": "oidc-config", "clientId": "client",
        "issuerUrl": "https://issuer.example.com"})

    def status():
        return eks.describe_identity_provider_config(
            clusterName="oidc-test", identityProviderConfig={"type": "oidc", "name": "oidc-config"},
        )["identityProviderConfig"]["oidc"]["status"]

    wait_for(lambda: status() == "ACTIVE", 5, "ACTIVE without a control plane")
