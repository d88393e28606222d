"""The twin tests run on the session sandbox's Kubernetes side; without it they fail, never skip."""

import pytest


@pytest.fixture(scope="module")
def twin(sandbox):
    assert sandbox["kubernetes"], (
        "the sandbox has no Kubernetes side: kube-apiserver/etcd not found. "
        "Run `make k8s-binaries` (or set KUBEBUILDER_ASSETS) - these tests do not skip")
    return sandbox
