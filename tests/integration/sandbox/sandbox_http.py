"""Plain HTTPS to a sandbox kube-apiserver (urllib + the sandbox CA), for the twin tests."""

import base64
import json
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request


def admin_context(kubeconfig: str) -> ssl.SSLContext:
    """TLS context presenting the admin client certificate embedded in an admin kubeconfig."""
    fields = {}
    with open(kubeconfig, encoding="utf-8") as handle:
        for line in handle:
            key, separator, value = line.strip().partition(": ")
            if separator:
                fields[key] = value
    context = ssl.create_default_context(
        cadata=base64.b64decode(fields["certificate-authority-data"]).decode())
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "admin.crt"), os.path.join(tmp, "admin.key")
        for path, field in ((cert, "client-certificate-data"), (key, "client-key-data")):
            with open(path, "wb") as out:
                out.write(base64.b64decode(fields[field]))
        context.load_cert_chain(cert, key)
    return context


def request(endpoint: str, path: str, *, cafile: str | None = None, context: ssl.SSLContext | None = None,
            token: str | None = None, method: str = "GET", body: dict | None = None):
    """(HTTP status, parsed JSON body or None) of one API call; never raises for HTTP errors."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(endpoint + path, data=data, headers=headers, method=method)
    context = context or ssl.create_default_context(cafile=cafile)
    try:
        with urllib.request.urlopen(req, context=context, timeout=30) as resp:
            return resp.status, _json(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, _json(err.read())


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def whoami(endpoint: str, cafile: str, token: str):
    """POST a SelfSubjectReview with `token`: (status, userInfo if 201 else the error body)."""
    status, body = request(
        endpoint, "/apis/authentication.k8s.io/v1/selfsubjectreviews", cafile=cafile, token=token,
        method="POST", body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    return status, body["status"]["userInfo"] if status == 201 else body


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
