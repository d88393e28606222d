"""One EKS cluster's control plane: a real etcd + kube-apiserver on loopback.

Started the way controller-runtime's envtest starts them (no scheduler,
controller-manager or nodes), but configured like EKS where it matters here:
RBAC (and Node) authorization, TLS from the sandbox CA, and authentication
from a structured AuthenticationConfiguration file that `apply` rewrites when
an OIDC identity provider is associated or disassociated. kube-apiserver
reloads that file by itself; `apply` waits until it reports the new
content's hash in its metrics, which it only does once the new JWT
authenticators fetched their issuer's discovery document and keys.

Like EKS, kube-apiserver authenticates AWS IAM callers through a token
webhook (EKS runs aws-iam-authenticator) and lets EKS access policies
authorize after Node and RBAC through an authorization webhook (EKS's
``--authorization-mode=Node,RBAC,Webhook``); both are served by the sandbox
(iam_authn.py). Files live in the cluster's directory; ``admin.kubeconfig``
also holds a client certificate with O=system:masters, for tests and people.

kube-apiserver always writes audit events (the policy below, Metadata level)
to ``audit.log`` in that directory, from its first request on: turning EKS
audit logging on or off then needs no restart. Whether they reach CloudWatch
Logs is the shipper's decision (auditlog.py), as EKS ships them only while
the cluster's ``audit`` log type is enabled.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import authn
import iam_authn
import pki
import procs

# kube-apiserver caches a successful token authentication for 10 s
# (TokenSuccessCacheTTL in k8s.io/kubernetes pkg/kubeapiserver/options), even
# across authentication config reloads. A disassociation is only complete
# once that cache can no longer answer for a removed issuer's tokens.
TOKEN_CACHE_TTL = 10.0

# kube-apiserver gives a reload one minute to become healthy and then
# retries on its next file poll; leave room for one failed attempt.
_RELOAD_TIMEOUT = 150.0
_START_TIMEOUT = 90.0

# The audit policy kube-apiserver runs with: every request at Metadata level
# (who, what, when, the response code and the authorization decision, no
# bodies), as EKS logs them, once per request (no RequestReceived stage).
# The sandbox's own /readyz and /metrics polls are left out.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/metrics"]
  - level: Metadata
"""
# Rotate the audit log at 50 MB, keeping one old file (the shipper follows the rotation).
_AUDIT_LOG_MAX_MB = 50

_CONFIG_INFO = re.compile(
    r'^apiserver_authentication_config_controller_last_config_info\{[^}]*hash="([^"]+)"', re.M
)
_RELOAD_FAILURES = re.compile(
    r'^apiserver_authentication_config_controller_automatic_reloads_total\{[^}]*status="failure"[^}]*\} (\S+)',
    re.M,
)


class ControlPlaneError(RuntimeError):
    """etcd or kube-apiserver did not start, or rejected a configuration."""


def config_hash(content: str) -> str:
    """The hash kube-apiserver reports for an authentication config file's content."""
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


@dataclasses.dataclass(eq=False, kw_only=True)  # eq=False: two planes are never equal, each is its own processes
class ControlPlane:
    """etcd + kube-apiserver for one cluster, files under `directory`, logs under `logs_dir`.

    ``authentication_webhook`` / ``authorization_webhook``: the URLs of the IAM webhooks.
    """

    directory: str = dataclasses.field(kw_only=False)  # the one positional argument
    logs_dir: str
    log_prefix: str
    binaries: str
    ca_cert: str
    ca_key: str
    service_cidr: str
    service_account_issuer: str
    authentication_webhook: str
    authorization_webhook: str
    port: int | None = dataclasses.field(default=None, init=False)
    _etcd_url: str | None = dataclasses.field(default=None, init=False, repr=False)

    # -- paths ---------------------------------------------------------------

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    @property
    def authentication_config(self) -> str:
        return self._path("authentication-config.json")

    @property
    def audit_log(self) -> str:
        """kube-apiserver's audit log: one JSON audit.k8s.io/v1 Event per line."""
        return self._path("audit.log")

    @property
    def admin_kubeconfig(self) -> str:
        return self._path("admin.kubeconfig")

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def certificate_authority_data(self) -> str:
        """The cluster CA as DescribeCluster returns it: base64 of the PEM."""
        with open(self.ca_cert, "rb") as handle:
            return base64.b64encode(handle.read()).decode()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Start etcd and kube-apiserver and wait until the apiserver is ready."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._issue_certificates()
        initial = authn.authentication_configuration([])
        _write_atomic(self.authentication_config, initial)
        _write_atomic(self._path("audit-policy.yaml"), AUDIT_POLICY)
        with open(self.ca_cert, encoding="utf-8") as handle:
            ca_pem = handle.read()
        # 0600: the URLs carry the webhook server's secret path.
        for name, url in (("authentication-webhook.kubeconfig", self.authentication_webhook),
                          ("authorization-webhook.kubeconfig", self.authorization_webhook)):
            pki.write_private(self._path(name), iam_authn.webhook_kubeconfig(url, ca_pem).encode())
        self._etcd_url = self._start_etcd()
        self.port = procs.free_port()
        self._start_apiserver(self._etcd_url)
        self._write_admin_kubeconfig()
        # Proves the reload signal `apply` relies on exists in this version.
        self._wait_loaded(initial, _reload_failures(self._metrics()), timeout=30)

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd, and remove the cluster's files."""
        marker = os.path.realpath(self.directory)
        for name in ("kube-apiserver", "etcd"):
            procs.stop(self._path(name + procs.PIDFILE_SUFFIX), marker)
        shutil.rmtree(self.directory, ignore_errors=True)

    def apply(self, jwt: list[dict], *, restart: bool = False) -> None:
        """Make kube-apiserver authenticate with exactly these `jwt` authenticators.

        By default kube-apiserver reloads the file, and serves the new
        configuration only once new issuers' keys are fetched; this returns
        then. An issuer nobody can reach would make that reload hang for a
        minute and be retried every minute, holding up later changes; with
        `restart`, kube-apiserver is restarted instead, which (like the
        --oidc-* flags EKS uses) keeps retrying the issuer in the background.
        """
        content = authn.authentication_configuration(jwt)
        failures = _reload_failures(self._metrics())
        _write_atomic(self.authentication_config, content)
        if restart:
            procs.stop(self._path("kube-apiserver" + procs.PIDFILE_SUFFIX), os.path.realpath(self.directory))
            self._start_apiserver(self._etcd_url)
            failures = 0.0  # a new process counts from zero
        self._wait_loaded(content, failures, timeout=_RELOAD_TIMEOUT)

    # -- pieces --------------------------------------------------------------

    def _issue_certificates(self) -> None:
        service_ip = str(next(ipaddress.ip_network(self.service_cidr).hosts()))
        pki.issue(
            self.ca_cert, self.ca_key, self._path("serving.crt"), self._path("serving.key"),
            "kube-apiserver",
            dns_names=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                       "kubernetes.default.svc.cluster.local"),
            ip_addresses=("127.0.0.1", service_ip),
            server=True,
        )
        pki.issue(
            self.ca_cert, self.ca_key, self._path("admin.crt"), self._path("admin.key"),
            "sandbox-admin", organizations=("system:masters",), client=True,
        )
        pki.new_signing_key(self._path("service-account.key"), self._path("service-account.pub"))

    def _spawn(self, name: str, argv: list[str], ports: list[int]) -> subprocess.Popen:
        return procs.spawn(
            argv, name=f"{self.log_prefix} {name}",
            pidfile=self._path(name + procs.PIDFILE_SUFFIX),
            logfile=self._log(name), ports=ports,
        )

    def _log(self, name: str) -> str:
        return os.path.join(self.logs_dir, f"{self.log_prefix}-{name}.log")

    def _start_etcd(self) -> str:
        client, peer = procs.free_port(), procs.free_port()
        client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        proc = self._spawn("etcd", [
            os.path.join(self.binaries, "etcd"),
            "--name=sandbox",
            f"--data-dir={self._path('etcd')}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=sandbox={peer_url}",
            # A throwaway store: skipping fsync makes it several times faster on CI disks.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ], [client, peer])
        self._wait_until(proc, "etcd", lambda: _etcd_healthy(client_url))
        return client_url

    def _start_apiserver(self, etcd_url: str) -> None:
        proc = self._spawn("kube-apiserver", [
            os.path.join(self.binaries, "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--tls-cert-file={self._path('serving.crt')}",
            f"--tls-private-key-file={self._path('serving.key')}",
            f"--client-ca-file={self.ca_cert}",
            # EKS's order: access policies (the webhook) only decide what Node and RBAC do not allow.
            "--authorization-mode=Node,RBAC,Webhook",
            f"--authorization-webhook-config-file={self._path('authorization-webhook.kubeconfig')}",
            "--authorization-webhook-version=v1",
            f"--authentication-config={self.authentication_config}",
            # IAM tokens, as EKS's aws-iam-authenticator; answers are cached 2 minutes (the default).
            f"--authentication-token-webhook-config-file={self._path('authentication-webhook.kubeconfig')}",
            "--authentication-token-webhook-version=v1",
            f"--service-account-issuer={self.service_account_issuer}",
            f"--service-account-key-file={self._path('service-account.pub')}",
            f"--service-account-signing-key-file={self._path('service-account.key')}",
            f"--service-cluster-ip-range={self.service_cidr}",
            # No nodes or controller-manager here: like envtest, do not publish
            # a loopback address as the `kubernetes` Service's endpoint, and do
            # not require the default ServiceAccount that nobody would create.
            "--endpoint-reconciler-type=none",
            "--disable-admission-plugins=ServiceAccount",
            # A handful of objects and clients: reads go to etcd directly. The watch cache's
            # reflectors (one per resource type) halve an idle apiserver's CPU otherwise
            # (0.9 against 0.5 CPU-seconds a minute, benchmarks/sandbox_idle.py), and make test
            # runs eight (two per worker).
            "--watch-cache=false",
            f"--audit-policy-file={self._path('audit-policy.yaml')}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            f"--audit-log-maxsize={_AUDIT_LOG_MAX_MB}",
            "--audit-log-maxbackup=1",
        ], [self.port])
        self._wait_until(proc, "kube-apiserver", self._ready)

    def _wait_until(self, proc: subprocess.Popen, name: str, check) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ControlPlaneError(f"{name} exited with code {proc.returncode}; see {self._log(name)}")
            if check():
                return
            time.sleep(0.2)
        raise ControlPlaneError(f"{name} not healthy after {_START_TIMEOUT:.0f}s; see {self._log(name)}")

    @functools.cached_property
    def _admin_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_cert)
        context.load_cert_chain(self._path("admin.crt"), self._path("admin.key"))
        return context

    def _get(self, path: str) -> str:
        with urllib.request.urlopen(self.endpoint + path, context=self._admin_context, timeout=10) as resp:
            return resp.read().decode()

    def _ready(self) -> bool:
        try:
            return self._get("/readyz") == "ok"
        except (OSError, urllib.error.URLError):
            return False

    def _metrics(self) -> str:
        return self._get("/metrics")

    def _wait_loaded(self, content: str, failures_before: float, timeout: float) -> None:
        wanted = config_hash(content)
        deadline = time.monotonic() + timeout
        while True:
            metrics = self._metrics()
            if wanted in _CONFIG_INFO.findall(metrics):
                return
            if _reload_failures(metrics) > failures_before:
                raise ControlPlaneError(
                    f"kube-apiserver did not accept {self.authentication_config}; "
                    f"see {self._log('kube-apiserver')}")
            if time.monotonic() > deadline:
                raise ControlPlaneError(
                    f"kube-apiserver did not load {self.authentication_config} within {timeout:.0f}s")
            time.sleep(0.5)

    def _write_admin_kubeconfig(self) -> None:
        def b64(name: str) -> str:
            with open(self._path(name), "rb") as handle:
                return base64.b64encode(handle.read()).decode()

        name = os.path.basename(self.directory)
        content = f"""\
apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    server: {self.endpoint}
    certificate-authority-data: {self.certificate_authority_data}
users:
- name: {name}-admin
  user:
    client-certificate-data: {b64('admin.crt')}
    client-key-data: {b64('admin.key')}
contexts:
- name: {name}-admin
  context:
    cluster: {name}
    user: {name}-admin
current-context: {name}-admin
"""
        pki.write_private(self.admin_kubeconfig, content.encode())


def _write_atomic(path: str, content: str) -> None:
    # A rename, so kube-apiserver's file watcher never reads a half-written file.
    staging = path + ".tmp"
    with open(staging, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.replace(staging, path)


def _reload_failures(metrics: str) -> float:
    return sum(float(value) for value in _RELOAD_FAILURES.findall(metrics))


def _etcd_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return json.load(resp).get("health") == "true"
    except (OSError, ValueError):
        return False


def issuer_reachable(jwt: dict) -> bool:
    """Whether this machine can fetch the issuer's discovery document as kube-apiserver would."""
    issuer = jwt["issuer"]
    url = issuer.get("discoveryURL") or issuer["url"].rstrip("/") + "/.well-known/openid-configuration"
    context = ssl.create_default_context(cadata=issuer.get("certificateAuthority"))
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as resp:
            return json.load(resp).get("issuer") == issuer["url"]
    except (OSError, ValueError):
        return False
