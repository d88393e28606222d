"""How long kubectl waits for its credential, per command: the plugin versus `aws eks get-token`.

    .venv/bin/python benchmarks/credential_plugin.py [--runs 20] [--json FILE]

Every case runs as a whole process, as kubectl runs it, N times, the cases
interleaved round by round so that a busy machine slows them all alike;
medians, the 90th percentile and the ratios are printed.

Cases:

* plugin, cached: the ID token is in the cache (what nearly every kubectl
  command pays), through the absolute interpreter with ``-I -S`` (what the
  kubeconfig role writes), with ``-I`` only, and through the pyenv shim
  (``python3`` on PATH) when there is one;
* plugin, refresh: the cached ID token has expired, so the plugin takes the
  lock, redeems the refresh token at a local HTTPS token endpoint (found
  through discovery) and rewrites the cache;
* ``aws eks get-token``: what the IAM path of EKS runs on every command
  (signs locally with dummy credentials; no network), through the command on
  PATH and, under pyenv, through the interpreter behind the shim;
* the bare interpreter (``python -I -S -c pass``), the floor.

Needs the ``cryptography`` package (for the local HTTPS endpoint's
certificate), as in the project's virtualenv. `aws` is looked up on PATH
(``--aws`` to point elsewhere); without it those cases are reported missing:
install it with ``pip install awscli`` (into any virtualenv) to compare.
"""

import argparse
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(REPO, "plugins", "module_utils", "credential_plugin.py")
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))
sys.path.insert(0, os.path.dirname(PLUGIN))

import credential_plugin  # noqa: E402  (the file under test, for its cache layout)
from json_reply import send_json  # noqa: E402  (tests/sandbox/json_reply.py)

CLIENT_ID = "kubectl"
REFRESH_TOKEN = "benchmark-refresh-token"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class LocalIssuer(object):
    """Discovery and a token endpoint over HTTPS on 127.0.0.1, with a CA of its own."""

    def __init__(self, directory):
        import ssl

        import pki  # tests/sandbox/pki.py: the sandbox's CA helpers

        ca_cert, ca_key = pki.ensure_ca(directory)
        cert, key = os.path.join(directory, "issuer.crt"), os.path.join(directory, "issuer.key")
        pki.issue(ca_cert, ca_key, cert, key, "127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
        self.ca_file = ca_cert
        self.refreshes = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, document):
                send_json(self, 200, document, close=True)

            def do_GET(self):  # noqa: N802
                self.reply({"issuer": issuer.url, "token_endpoint": issuer.url + "/token",
                            "authorization_endpoint": issuer.url + "/authorize", "jwks_uri": issuer.url + "/jwks"})

            def do_POST(self):  # noqa: N802
                urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                issuer.refreshes += 1
                self.reply({"id_token": issuer.id_token(3600), "refresh_token": REFRESH_TOKEN, "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self, lifetime):
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "sub": "alice", "email": "alice@example.com", "iat": now, "exp": now + lifetime}
        return "%s.%s.%s" % (b64url(b'{"alg":"RS256","kid":"k"}'), b64url(json.dumps(claims).encode()), b64url(os.urandom(256)))


def write_cache(config, issuer, lifetime):
    token = issuer.id_token(lifetime)
    entry = {"issuer_url": config["issuer_url"], "client_id": CLIENT_ID, "username": None, "source": "oidc",
             "id_token": token, "refresh_token": REFRESH_TOKEN, "expires_at": int(time.time()) + lifetime}
    credential_plugin.write_private_json(credential_plugin.cache_file_of(config), entry)


def pyenv_shim_python():
    """``python3`` on PATH when it is a pyenv shim, else None."""
    found = shutil.which("python3")
    return found if found and os.sep + "shims" + os.sep in found else None


def behind_pyenv_shim(command):
    """The real executable a pyenv shim runs (``pyenv which``), or None."""
    if not command or os.sep + "shims" + os.sep not in command or not shutil.which("pyenv"):
        return None
    run = subprocess.run(["pyenv", "which", os.path.basename(command)], capture_output=True, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else None


class Case(object):
    def __init__(self, name, command, env=None, before=None, check=None, note=""):
        self.name, self.command, self.env, self.before, self.check, self.note = name, command, env, before, check, note
        self.times = []
        self.cpu_times = []

    def run_once(self):
        if self.before:
            self.before()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run = subprocess.run(self.command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu_times.append(after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime)
        if run.returncode != 0:
            raise SystemExit("%s failed (exit %d): %s" % (self.name, run.returncode, run.stderr.decode()[-500:]))
        if self.check:
            self.check(run.stdout)
        self.times.append(elapsed)

    def summary(self):
        ordered = sorted(self.times)
        return {
            "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1),
            "cpu_median_ms": round(statistics.median(self.cpu_times) * 1000, 1),
            "runs": len(ordered),
        }


def exec_credential(stdout):
    credential = json.loads(stdout)
    assert credential["kind"] == "ExecCredential" and credential["status"]["token"], credential


def build_cases(args, work):
    issuer = LocalIssuer(work)
    config = {"issuer_url": issuer.url, "client_id": CLIENT_ID, "ca_file": issuer.ca_file, "cache_dir": os.path.join(work, "cache")}
    config_path = os.path.join(work, "config.json")
    with open(config_path, "w") as handle:
        json.dump(config, handle)
    python = os.path.realpath(args.python)
    plugin_args = [PLUGIN, "get-token", "--config", config_path]
    plain_env = dict(os.environ, KUBERNETES_EXEC_INFO='{"spec": {"interactive": false}}')

    def fresh_cache():
        write_cache(config, issuer, 3600)

    def expired_cache():
        write_cache(config, issuer, -60)

    cases = [
        Case("python -I -S -c pass (floor)", [python, "-I", "-S", "-c", "pass"]),
        Case("plugin cached: %s -I -S" % python, [python, "-I", "-S"] + plugin_args, plain_env, fresh_cache, exec_credential,
             "what the kubeconfig role writes"),
        Case("plugin cached: %s -I" % python, [python, "-I"] + plugin_args, plain_env, fresh_cache, exec_credential),
    ]
    shim = pyenv_shim_python()
    if shim:
        cases.append(Case("plugin cached: %s (pyenv shim) -I -S" % shim, [shim, "-I", "-S"] + plugin_args, plain_env, fresh_cache,
                          exec_credential))
    cases.append(Case("plugin refresh: %s -I -S" % python, [python, "-I", "-S"] + plugin_args, plain_env, expired_cache,
                      exec_credential, "expired ID token: lock, discovery + refresh_token grant over HTTPS, cache rewrite"))

    aws = args.aws or shutil.which("aws")
    missing = []
    if aws:
        aws_env = dict(
            os.environ, AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            AWS_DEFAULT_REGION="us-west-2", AWS_CONFIG_FILE=os.path.join(work, "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "aws-credentials"), AWS_EC2_METADATA_DISABLED="true",
        )
        aws_args = ["eks", "get-token", "--cluster-name", "oidc-test", "--region", "us-west-2"]
        cases.append(Case("aws eks get-token: %s" % aws, [aws] + aws_args, aws_env, None, exec_credential,
                          "what `aws eks update-kubeconfig` writes"))
        real = behind_pyenv_shim(aws)
        if real:
            cases.append(Case("aws eks get-token: %s (behind the shim)" % real, [real] + aws_args, aws_env, None, exec_credential))
    else:
        missing.append("aws CLI not found on PATH (pip install awscli, or --aws PATH): `aws eks get-token` not measured")
    return cases, issuer, missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per case (default 20)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the exec entry names (default: this one, resolved)")
    parser.add_argument("--aws", help="the aws command (default: aws on PATH)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="kubeauth-bench-")
    try:
        cases, issuer, missing = build_cases(args, work)
        for case in cases:  # warm the page cache and check every command works once
            case.run_once()
            case.times, case.cpu_times = [], []
        refreshes_before = issuer.refreshes
        for round_number in range(args.runs):
            for case in cases:
                case.run_once()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = dict((case.name, case.summary()) for case in cases)
    cached = [c for c in cases if c.name.startswith("plugin cached") and c.name.endswith(" -I -S") and "shim" not in c.name][0]
    baseline = results[cached.name]["median_ms"]
    cpu_baseline = results[cached.name]["cpu_median_ms"]
    width = max(len(name) for name in results)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print("credential plugin benchmark: %d runs per case, %s, load average %s"
          % (args.runs, time.strftime("%Y-%m-%d"), " ".join("%.1f" % x for x in load) if load else "n/a"))
    print("wall time per process (median, p90, min), CPU time (user+sys, median), each as a multiple of the plugin's cached path")
    print("%-*s  %9s  %9s  %9s  %7s  %9s  %7s" % (width, "case", "median", "p90", "min", "ratio", "cpu", "ratio"))
    for case in cases:
        r = results[case.name]
        print("%-*s  %6.1f ms  %6.1f ms  %6.1f ms  %6.1fx  %6.1f ms  %6.1fx%s" % (
            width, case.name, r["median_ms"], r["p90_ms"], r["min_ms"], r["median_ms"] / baseline,
            r["cpu_median_ms"], r["cpu_median_ms"] / cpu_baseline, "   (%s)" % case.note if case.note else ""))
    refreshes = issuer.refreshes - refreshes_before
    print("token endpoint requests during the timed refresh runs: %d (expected %d)" % (refreshes, args.runs))
    for line in missing:
        print("MISSING: " + line)
    aws_cases = [c for c in cases if c.name.startswith("aws eks get-token")]
    if aws_cases:
        aws_result = results[aws_cases[0].name]
        print("aws eks get-token / plugin cached: %.1fx wall, %.1fx CPU (medians; target: at least 10x)"
              % (aws_result["median_ms"] / baseline, aws_result["cpu_median_ms"] / cpu_baseline))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"runs": args.runs, "load_average": load, "results": results, "missing": missing}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
