"""The local EKS twin: MiniStack (AWS APIs) plus a real kube-apiserver per EKS cluster.

CLI::

    python tests/sandbox/sandbox.py up       # start detached, wait until healthy
    python tests/sandbox/sandbox.py status   # what runs (exit 3 when nothing does)
    python tests/sandbox/sandbox.py down     # stop everything
    eval "$(python tests/sandbox/sandbox.py env)"   # AWS_* and HTTPS_PROXY for this shell

Importable: ``up(directory, port=..., region=..., clusters=..., keycloak=...,
eks_association_delay=..., throttle=..., throttle_seed=...) -> dict``,
``down(directory)``, ``add_cluster(directory, name)``, ``remove_cluster(directory, name)``,
``status(directory)``, ``load(directory)``,
``boto3_kwargs(info)``, ``environment(info)`` and ``api_calls(info)``. The dict is the content of
``sandbox.json``; see docs/sandbox.md for its keys and for the environment variables
(EKS_OIDC_SANDBOX_DIR, SANDBOX_PORT, SANDBOX_REGION, SANDBOX_CLUSTERS, SANDBOX_KEYCLOAK,
SANDBOX_EKS_ASSOCIATION_DELAY, SANDBOX_THROTTLE, SANDBOX_THROTTLE_SEED).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import binaries  # noqa: E402  (sibling module, found through HERE)
import cli  # noqa: E402
import keycloak as keycloak_idp  # noqa: E402
import knobs  # noqa: E402
import pki  # noqa: E402
import procs  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PORT = 4566
DEFAULT_REGION = "us-west-2"
DEFAULT_CLUSTER = "oidc-test"
ACCOUNT_ID = "000000000000"  # MiniStack's account for any access key that is not 12 digits
# Dummy credentials, distinct from any word that appears in results: Ansible masks
# the value of a no_log option (secret_key) wherever it appears in module output,
# so "test" would turn the post's test@example.com into ********@example.com.
ACCESS_KEY_ID = "AKIASANDBOXEKSOIDC01"
SECRET_ACCESS_KEY = "sandbox-dummy-secret-key-0123456789"
INFO_FILE = "sandbox.json"
MINISTACK_PIDFILE = "ministack" + procs.PIDFILE_SUFFIX
PROXY_PIDFILE = "https-proxy" + procs.PIDFILE_SUFFIX
# Loopback never goes through the proxy: MiniStack and the kube-apiservers are reached directly.
NO_PROXY = "127.0.0.1,localhost,::1"
_HEALTH_TIMEOUT = 60.0
_CLUSTER_TIMEOUT = 180.0


class SandboxError(RuntimeError):
    """The sandbox could not be started; the message says where to look."""


# -- configuration -------------------------------------------------------------


def state_dir(directory: str | None = None) -> str:
    return os.path.realpath(directory or os.environ.get("EKS_OIDC_SANDBOX_DIR")
                            or os.path.join(REPO_ROOT, ".sandbox"))


def cluster_names(spec: str | None) -> list[str]:
    """`3` -> oidc-test, oidc-test-2, oidc-test-3; `a,b` -> a, b; empty -> oidc-test."""
    spec = (spec or "").strip()
    if spec.isdigit():
        return [DEFAULT_CLUSTER] + [f"{DEFAULT_CLUSTER}-{i}" for i in range(2, int(spec) + 1)]
    return [name.strip() for name in spec.split(",") if name.strip()] or [DEFAULT_CLUSTER]


def _choose_port(requested: int | None) -> int:
    """`requested`, a free port for 0, or 4566 when free and nothing was asked for."""
    if requested == 0:
        return procs.free_port()
    if requested is not None:
        if procs.port_open(requested):
            raise SandboxError(f"port {requested} is in use; pick another with SANDBOX_PORT (0 = any free port)")
        return requested
    if not procs.port_open(DEFAULT_PORT):
        return DEFAULT_PORT
    port = procs.free_port()
    print(f"port {DEFAULT_PORT} is in use; MiniStack takes {port} (see sandbox.json)")
    return port


def boto3_kwargs(info: dict) -> dict:
    """Keyword arguments for boto3.client(...) that reach the sandbox's MiniStack."""
    return {
        "endpoint_url": info["aws_endpoint_url"],
        "region_name": info["region"],
        "aws_access_key_id": info["aws_access_key_id"],
        "aws_secret_access_key": info["aws_secret_access_key"],
        # Explicit, because this machine's AWS_CA_BUNDLE names the system bundle.
        "verify": info["aws_ca_bundle"],
    }


# -- state ---------------------------------------------------------------------


@contextlib.contextmanager
def _locked(directory: str):
    """Serialise up/down on one state directory."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def load(directory: str | None = None) -> dict | None:
    """The running sandbox's sandbox.json, or None."""
    try:
        with open(os.path.join(state_dir(directory), INFO_FILE), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def _running(directory: str) -> bool:
    record = procs.read_pidfile(os.path.join(directory, MINISTACK_PIDFILE))
    return bool(record) and procs.alive(record["pid"], directory)


def status(directory: str | None = None) -> dict:
    """Whether the sandbox runs, and every process it recorded."""
    directory = state_dir(directory)
    processes = []
    for pidfile in procs.pidfiles(directory):
        record = procs.read_pidfile(pidfile) or {}
        pid = record.get("pid")
        processes.append({
            "name": record.get("name", os.path.basename(pidfile)),
            "pid": pid,
            "ports": record.get("ports", []),
            "alive": bool(pid) and procs.alive(pid, directory),
        })
    return {"state_dir": directory, "running": _running(directory),
            "processes": processes, "info": load(directory)}


def _stop_order(pidfile: str) -> int:
    # Clients before what they depend on: the proxy, kube-apiserver, etcd, then MiniStack.
    name = os.path.basename(pidfile)[:-len(procs.PIDFILE_SUFFIX)]
    return {"https-proxy": 0, "kube-apiserver": 1, "etcd": 2}.get(name, 3)


def _keycloak_enabled(requested: bool | None) -> bool:
    if requested is not None:
        return requested
    return os.environ.get("SANDBOX_KEYCLOAK", "").strip().lower() in ("1", "true", "yes")


def _stop_timeout(pidfile: str) -> float:
    # On SIGTERM MiniStack (hypercorn) waits for idle keep-alive client
    # connections to close, up to 75 s. It holds nothing worth flushing
    # (PERSIST_STATE=0), so it is killed sooner.
    return 5.0 if os.path.basename(pidfile) == MINISTACK_PIDFILE else 15.0


def _stop_all(directory: str) -> bool:
    """Stop every recorded process and drop runtime files; True if anything ran."""
    # Keycloak first: its kc.sh and java are stopped as one process group (keycloak.py).
    stopped = keycloak_idp.stop(directory)
    # A second pass catches a control plane MiniStack was starting during the first.
    for _sweep in range(2):
        for pidfile in sorted(procs.pidfiles(directory), key=_stop_order):
            record = procs.read_pidfile(pidfile)
            stopped |= bool(record) and procs.alive(record["pid"], directory)
            procs.stop(pidfile, directory, _stop_timeout(pidfile))
    for name in ("clusters", "ministack"):
        shutil.rmtree(os.path.join(directory, name), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(directory, INFO_FILE))
    return stopped


def down(directory: str | None = None) -> bool:
    """Stop the sandbox; True if something was running. Keeps the CA and the logs."""
    directory = state_dir(directory)
    with _locked(directory):
        return _stop_all(directory)


# -- up ------------------------------------------------------------------------


def up(directory: str | None = None, *, port: int | None = None, region: str | None = None,
       clusters: list[str] | None = None, keycloak: bool | None = None,
       eks_association_delay: float | None = None, throttle: float | None = None,
       throttle_seed: int | None = None) -> dict:
    """Start the sandbox (or find it running) and return its sandbox.json content.

    keycloak (default: SANDBOX_KEYCLOAK=1 in the environment) also starts Keycloak, or adds it to a
    sandbox that runs without one; sandbox.json then has `keycloak: {url, admin_username, admin_password}`.
    eks_association_delay, throttle and throttle_seed (default: SANDBOX_EKS_ASSOCIATION_DELAY,
    SANDBOX_THROTTLE, SANDBOX_THROTTLE_SEED) are the knobs of knobs.py; sandbox.json records them
    under `knobs`. A running sandbox keeps its knobs: asking for others is an error.
    """
    directory = state_dir(directory)
    keycloak = _keycloak_enabled(keycloak)
    wanted_knobs = _knobs(eks_association_delay, throttle, throttle_seed)
    with _locked(directory):
        info = load(directory) if _running(directory) else None
        if info:
            running_knobs = info.get("knobs") or _knobs(0, 0, 0)  # one started before the knobs had none
            if running_knobs != wanted_knobs:
                raise SandboxError(f"the sandbox in {directory} runs with knobs {running_knobs}, not "
                                   f"{wanted_knobs}; stop it first (`make sandbox-down`)")
            if keycloak and not _keycloak_running(directory, info):
                _add_keycloak(directory, info)
            info["already_running"] = True
            return info
        _stop_all(directory)  # leftovers of a crashed or half-started sandbox
        if importlib.util.find_spec("ministack") is None:
            raise SandboxError(f"{sys.executable} cannot import ministack; run `make venv` "
                               "and use .venv/bin/python")
        logs = os.path.join(directory, "logs")
        shutil.rmtree(logs, ignore_errors=True)
        os.makedirs(logs, mode=0o700)
        ca_cert = pki.ensure_ca(directory)[0]
        port = _choose_port(port if port is not None else _env_port())
        region = region or os.environ.get("SANDBOX_REGION") or DEFAULT_REGION
        clusters = clusters or cluster_names(os.environ.get("SANDBOX_CLUSTERS"))
        k8s = binaries.binaries_dir(build=False)
        try:
            # Keycloak starts first and gets ready while MiniStack and the clusters come up.
            started = _launch_keycloak(directory) if keycloak else None
            _start_ministack(directory, port, region, k8s, wanted_knobs)
            proxy_port = _start_proxy(directory, port)
            info = _info(directory, port, region, ca_cert, k8s, proxy_port, wanted_knobs)
            _create_clusters(info, clusters, k8s is not None)
            if started:
                info["keycloak"] = _wait_keycloak(directory, *started)
        except BaseException:
            _stop_all(directory)
            raise
        _write_info(directory, info)
        info["already_running"] = False
        return info


def add_cluster(directory: str | None, name: str) -> dict:
    """Create one more cluster in the running sandbox, as `up` creates its own (the EKS API, then ACTIVE),
    and record it in sandbox.json; returns its entry there. remove_cluster deletes it again."""
    directory = state_dir(directory)
    with _locked(directory):
        info = _running_info(directory)
        _create_clusters(info, [name], info["kubernetes"])
        _write_info(directory, info)
        return info["clusters"][name]


def remove_cluster(directory: str | None, name: str) -> None:
    """Delete a cluster of the running sandbox through the EKS API (the twin stops its control plane and
    removes its files before answering) and drop it from sandbox.json."""
    import boto3

    directory = state_dir(directory)
    with _locked(directory):
        info = _running_info(directory)
        boto3.client("eks", **boto3_kwargs(info)).delete_cluster(name=name)
        info["clusters"].pop(name, None)
        _write_info(directory, info)


def _running_info(directory: str) -> dict:
    info = load(directory) if _running(directory) else None
    if not info:
        raise SandboxError(f"no sandbox runs in {directory}")
    return info


def _launch_keycloak(directory: str) -> tuple:
    try:
        return keycloak_idp.launch(directory, *pki.ensure_ca(directory))
    except keycloak_idp.KeycloakError as exc:
        raise SandboxError(str(exc)) from None


def _wait_keycloak(directory: str, proc, entry: dict) -> dict:
    try:
        keycloak_idp.wait_ready(proc, entry, os.path.join(directory, pki.CA_CERT),
                                os.path.join(directory, "logs", "keycloak.log"))
    except keycloak_idp.KeycloakError as exc:
        raise SandboxError(str(exc)) from None
    return entry


def _keycloak_running(directory: str, info: dict) -> bool:
    record = procs.read_pidfile(os.path.join(directory, keycloak_idp.PIDFILE))
    return bool(info.get("keycloak")) and bool(record) and procs.alive(record["pid"], directory)


def _add_keycloak(directory: str, info: dict) -> None:
    """Start Keycloak beside a running sandbox and record it in sandbox.json."""
    keycloak_idp.stop(directory)  # one that died, if any
    try:
        info["keycloak"] = _wait_keycloak(directory, *_launch_keycloak(directory))
    except BaseException:
        keycloak_idp.stop(directory)
        raise
    _write_info(directory, {key: value for key, value in info.items() if key != "already_running"})


def _knobs(eks_association_delay: float | None, throttle: float | None, throttle_seed: int | None) -> dict:
    """The knobs asked for, the environment's where an argument is None, checked (knobs.py)."""
    environ = dict(os.environ)
    for name, value in ((knobs.ASSOCIATION_DELAY_ENV, eks_association_delay), (knobs.THROTTLE_ENV, throttle),
                        (knobs.THROTTLE_SEED_ENV, throttle_seed)):
        if value is not None:
            environ[name] = str(value)
    try:
        return {"eks_association_delay": knobs.association_delay(environ),
                "throttle": knobs.throttle_fraction(environ), "throttle_seed": knobs.throttle_seed(environ)}
    except knobs.KnobError as exc:
        raise SandboxError(str(exc)) from None


def _sandbox_state(info: dict, path: str) -> dict:
    context = ssl.create_default_context(cafile=info["aws_ca_bundle"])
    with urllib.request.urlopen(info["aws_endpoint_url"] + path, context=context, timeout=30) as answer:
        return json.load(answer)


def api_calls(info: dict) -> dict:
    """The Cognito and EKS API calls the sandbox has served so far (knobs.CallCounter's snapshot)."""
    return _sandbox_state(info, knobs.API_CALLS_PATH)


def audit_shipper_passes(info: dict) -> int:
    """How many passes the audit shipper has made over the clusters' audit logs (auditlog.Shipper.passes)."""
    return _sandbox_state(info, knobs.AUDIT_SHIPPER_PATH)["passes"]


def _env_port() -> int | None:
    value = os.environ.get("SANDBOX_PORT", "").strip()
    return int(value) if value else None


def _start_ministack(directory: str, port: int, region: str, k8s: str | None, knob_values: dict) -> None:
    env = dict(
        os.environ,
        GATEWAY_PORT=str(port),
        BIND_HOST="127.0.0.1",
        MINISTACK_REGION=region,
        # MiniStack keeps its Cognito signing keys in STATE_DIR and its pidfile
        # in TMPDIR, both /tmp by default: per sandbox instead, removed by `down`.
        STATE_DIR=os.path.join(directory, "ministack", "state"),
        TMPDIR=os.path.join(directory, "ministack", "tmp"),
        PERSIST_STATE="0",
        # Listeners the sandbox does not need, which would otherwise bind 8883 (IoT).
        IOT_MTLS_ENABLED="0",
        SFTP_ENABLED="0",
        SANDBOX_K8S_BINARIES=k8s or "",
        **{knobs.ASSOCIATION_DELAY_ENV: str(knob_values["eks_association_delay"]),
           knobs.THROTTLE_ENV: str(knob_values["throttle"]),
           knobs.THROTTLE_SEED_ENV: str(knob_values["throttle_seed"])},
    )
    os.makedirs(env["TMPDIR"], mode=0o700)
    log = os.path.join(directory, "logs", "ministack.log")
    proc = procs.spawn(
        [sys.executable, os.path.join(HERE, "ministack_hook.py"), directory],
        name="ministack", pidfile=os.path.join(directory, MINISTACK_PIDFILE),
        logfile=log, ports=[port], env=env,
    )
    context = ssl.create_default_context(cafile=os.path.join(directory, pki.CA_CERT))
    deadline = time.monotonic() + _HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"MiniStack exited with code {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/_ministack/health",
                                        context=context, timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise SandboxError(f"MiniStack not healthy after {_HEALTH_TIMEOUT:.0f}s; see {log}")


def _start_proxy(directory: str, ministack_port: int) -> int:
    """The HTTPS proxy that tunnels the Cognito issuer host to MiniStack (https_proxy.py); its port."""
    port = procs.free_port()
    log = os.path.join(directory, "logs", "https-proxy.log")
    proc = procs.spawn(
        [sys.executable, os.path.join(HERE, "https_proxy.py"), directory,
         "--port", str(port), "--target-port", str(ministack_port)],
        name="https-proxy", pidfile=os.path.join(directory, PROXY_PIDFILE), logfile=log, ports=[port],
    )
    deadline = time.monotonic() + _HEALTH_TIMEOUT
    while not procs.port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SandboxError(f"the sandbox HTTPS proxy did not start; see {log}")
        time.sleep(0.1)
    return port


def environment(info: dict) -> dict:
    """What a shell needs to use the sandbox as AWS: credentials, region, endpoint, CA, proxy.

    The same variables a user sets for AWS (AWS_ENDPOINT_URL as for a VPC
    endpoint or another partition, HTTPS_PROXY as for an egress proxy).
    """
    return {
        "AWS_ACCESS_KEY_ID": info["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": info["aws_secret_access_key"],
        "AWS_REGION": info["region"],
        "AWS_DEFAULT_REGION": info["region"],
        "AWS_ENDPOINT_URL": info["aws_endpoint_url"],
        "AWS_CA_BUNDLE": info["aws_ca_bundle"],
        "HTTPS_PROXY": info["https_proxy"],
        "https_proxy": info["https_proxy"],
        "NO_PROXY": info["no_proxy"],
        "no_proxy": info["no_proxy"],
    }


def _info(directory: str, port: int, region: str, ca_cert: str, k8s: str | None, proxy_port: int,
          knob_values: dict) -> dict:
    endpoint = f"https://127.0.0.1:{port}"
    return {
        "state_dir": directory,
        "aws_endpoint_url": endpoint,
        "aws_ca_bundle": ca_cert,
        "region": region,
        "account_id": ACCOUNT_ID,
        "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY,
        # Token `iss` (https://cognito-idp.REGION.amazonaws.com/POOL) does not
        # resolve here; its discovery document is at {base}/POOL/.well-known/openid-configuration.
        "oidc_discovery_base": endpoint,
        # With HTTPS_PROXY set to this (and NO_PROXY to no_proxy), the issuer URL
        # itself reaches MiniStack, as it reaches Cognito on AWS (https_proxy.py).
        "https_proxy": f"http://127.0.0.1:{proxy_port}",
        "no_proxy": NO_PROXY,
        "kubernetes": k8s is not None,
        "kubernetes_version": _apiserver_version(k8s),
        "logs_dir": os.path.join(directory, "logs"),
        "knobs": knob_values,
        "clusters": {},
    }


def _apiserver_version(k8s: str | None) -> str | None:
    """`v1.35.4` from `kube-apiserver --version` ("Kubernetes v1.35.4")."""
    if not k8s:
        return None
    out = subprocess.run([os.path.join(k8s, "kube-apiserver"), "--version"],
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.split()[-1]


def _create_clusters(info: dict, names: list[str], kubernetes: bool) -> None:
    """Create the clusters through the ordinary EKS API and wait until they are ACTIVE; with `kubernetes`
    (kube-apiserver and etcd at hand), each has a live control plane."""
    import boto3

    eks = boto3.client("eks", **boto3_kwargs(info))
    version = {}
    if info["kubernetes_version"]:
        version["version"] = ".".join(info["kubernetes_version"].lstrip("v").split(".")[:2])
    for name in names:
        eks.create_cluster(
            name=name, roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/eks-cluster-role",
            resourcesVpcConfig={}, **version,
        )
    deadline = time.monotonic() + _CLUSTER_TIMEOUT
    for name in names:
        cluster = _wait_cluster(eks, name, deadline, info["logs_dir"])
        info["clusters"][name] = {
            "arn": cluster["arn"],
            "version": cluster["version"],
            "endpoint": cluster["endpoint"] if kubernetes else None,
            "certificate_authority_data": cluster["certificateAuthority"]["data"] if kubernetes else None,
            "admin_kubeconfig": os.path.join(info["state_dir"], "clusters", info["region"], name,
                                             "admin.kubeconfig") if kubernetes else None,
        }


def _wait_cluster(eks, name: str, deadline: float, logs: str) -> dict:
    while True:
        cluster = eks.describe_cluster(name=name)["cluster"]
        if cluster["status"] == "ACTIVE":
            return cluster
        if cluster["status"] == "FAILED" or time.monotonic() > deadline:
            raise SandboxError(f"cluster {name} is {cluster['status']}; see the logs in {logs}")
        time.sleep(0.3)


def _write_info(directory: str, info: dict) -> None:
    # 0600: it holds the sandbox's AWS credentials.
    path = os.path.join(directory, INFO_FILE)
    with open(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(path + ".tmp", path)


# -- CLI -----------------------------------------------------------------------


def _print_summary(info: dict) -> None:
    state = "already running" if info.get("already_running") else "up"
    print(f"sandbox {state}: {os.path.join(info['state_dir'], INFO_FILE)}")
    print(f"  AWS (MiniStack)  {info['aws_endpoint_url']}  region {info['region']}  "
          f"CA {info['aws_ca_bundle']}")
    if not info["kubernetes"]:
        print("  Kubernetes side skipped: no kube-apiserver/etcd (run `make k8s-binaries` "
              "or set KUBEBUILDER_ASSETS); EKS clusters have no live endpoint")
    if info.get("keycloak"):
        print(f"  Keycloak         {info['keycloak']['url']}  admin {info['keycloak']['admin_username']} "
              "(password in sandbox.json)")
    for name, cluster in info["clusters"].items():
        if cluster["endpoint"]:
            print(f"  EKS cluster {name}  {cluster['endpoint']}  admin kubeconfig {cluster['admin_kubeconfig']}")
        else:
            print(f"  EKS cluster {name}  (AWS API only)")


def _print_status(report: dict) -> None:
    print(f"sandbox {'running' if report['running'] else 'not running'} ({report['state_dir']})")
    for proc in report["processes"]:
        ports = ",".join(str(p) for p in proc["ports"])
        print(f"  {'up  ' if proc['alive'] else 'dead'}  pid {proc['pid']:>7}  "
              f"127.0.0.1:{ports:<12} {proc['name']}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("up", "down", "status", "env"):
        print(f"usage: {os.path.basename(__file__)} up|down|status|env", file=sys.stderr)
        return 2
    command = argv[0]
    if command == "env":
        info = load()
        if not info:
            print("no sandbox is running: run `make sandbox-up` first", file=sys.stderr)
            return 3
        for name, value in environment(info).items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    if command == "up":
        return cli.run_command(lambda: _print_summary(up()), SandboxError, "sandbox up failed")
    if command == "down":
        print("sandbox stopped" if down() else "sandbox was not running")
        return 0
    report = status()
    _print_status(report)
    return 0 if report["running"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
