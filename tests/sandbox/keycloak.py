"""Keycloak for the sandbox: an OIDC identity provider that nobody in this project wrote.

The distribution is Keycloak's own, from Maven Central
(``org.keycloak:keycloak-quarkus-dist:VERSION:zip``), fetched once through
Maven into a cache outside git and prepared there: ``kc.sh build`` (Quarkus'
augmentation) and one start that creates the database schema, the master
realm and its administrator. Each start is then a quick ``kc.sh start
--optimized``: the two steps take most of a first start (about two minutes
of CPU on 2 cores). Each sandbox runs its own Keycloak from a copy of the
prepared distribution inside its state directory (hard links, except the
database, which is written), with HTTPS from the sandbox CA on a free
loopback port and local caches only. Keycloak makes its administrator only
with the master realm, so the prepared one has a password of the cache's
(a 0600 file there); each sandbox replaces it with its own, generated,
as soon as its Keycloak answers, before it hands out the URL.

Cache: ``$EKS_OIDC_KEYCLOAK_CACHE`` when set, else
``${XDG_CACHE_HOME:-~/.cache}/kubeauth-eks-oidc/keycloak``.

CLI::

    python tests/sandbox/keycloak.py ensure   # fetch and prepare (first time only); prints the directory
    python tests/sandbox/keycloak.py path     # the prepared distribution; exit 1 when missing

Importable: ``ensure()``, ``prepared()``, ``launch(state_dir, ca_cert, ca_key)``,
``wait_ready(...)``, ``stop(state_dir)``. Needs Java 17+ and, to fetch, Maven (``mvn``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cache  # noqa: E402  (sibling module, found through HERE)
import cli  # noqa: E402
import pki  # noqa: E402
import procs  # noqa: E402

VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
# Build-time options baked into the cached distribution by `kc.sh build`: the file-based H2 database
# below the home directory (data/h2), so the schema and master realm made once in the cache are copied,
# not made again, at each start.
BUILD_OPTIONS = ("--db=dev-file",)
# Runtime options of every start. Local caches: the default (clustered) cache binds JGroups on every
# network interface (7800, 57800) and looks for other Keycloaks; the sandbox listens on loopback only.
RUN_OPTIONS = ("--optimized", "--cache=local", "--http-host=127.0.0.1")
# The JIT's first tier only: on 2 busy cores a start takes about half as long (measured 34 to 42 s
# against 50 to 87 s), and the sandbox never runs long enough for the optimising tier to pay off.
JAVA_OPTS_APPEND = "-XX:TieredStopAtLevel=1"
DATA_DIR = "data"  # what Keycloak writes below its home: copied per sandbox, never linked
_CACHE_PASSWORD = ".kubeauth-admin-password"  # the prepared administrator's, replaced in each sandbox
ADMIN_USERNAME = "admin"
PIDFILE = "keycloak" + procs.PIDFILE_SUFFIX
STATE_SUBDIR = "keycloak"  # below the sandbox state directory: the home copy, the TLS key pair
_PREPARED_MARKER = ".kubeauth-prepared"  # holds BUILD_OPTIONS and the layout; written last: its presence means ready
# Measured on a 2-core machine: ready in 25 to 95 s depending on the load (docs/sandbox.md).
READY_TIMEOUT = 300.0
_STOP_TIMEOUT = 20.0
_HEARTBEAT_SECONDS = 15
_TAIL_LINES = 30


class KeycloakError(RuntimeError):
    """Keycloak could not be fetched, prepared or started; the message says what to do."""


def _log(message: str) -> None:
    print(f">> keycloak: {message}", flush=True)


# -- the cached distribution --------------------------------------------------------


def cache_root() -> Path:
    return cache.cache_root("keycloak", "EKS_OIDC_KEYCLOAK_CACHE")


def distribution_dir() -> Path:
    return cache_root() / f"keycloak-{VERSION}"


def _marker_text() -> str:
    return " ".join(BUILD_OPTIONS) + " initialised-with-admin\n"


def prepared() -> Path | None:
    """The prepared distribution, or None when it still has to be fetched (or was built with other options)."""
    home = distribution_dir()
    try:
        if (home / _PREPARED_MARKER).read_text(encoding="utf-8") == _marker_text():
            return home
    except OSError:
        pass
    return None


def find_java() -> str | None:
    """The java that kc.sh will run: $JAVA_HOME/bin/java, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return os.path.join(java_home, "bin", "java")
    return shutil.which("java")


def ensure() -> Path:
    """The prepared distribution; fetched through Maven and prepared the first time (about a minute or three)."""
    home = prepared()
    if home:
        return home
    if not find_java():
        raise KeycloakError("Keycloak needs Java 17 or newer: install a JDK (apt-get install openjdk-17-jre-headless) "
                            "or set JAVA_HOME")
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching: wait for it, then use its result
        home = prepared()
        if home:
            return home
        for leftover in root.glob(".fetch-*"):  # of a fetch that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
        try:
            started = time.monotonic()
            archive = _fetch(work)
            fetched = time.monotonic()
            staged = _unpack(archive, work / "unpacked")
            _build(staged)
            _initialise(staged)
            (staged / _PREPARED_MARKER).write_text(_marker_text(), encoding="utf-8")
            target = distribution_dir()
            shutil.rmtree(target, ignore_errors=True)  # one prepared with other options
            os.rename(staged, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _log(f"ready in {target} (download {fetched - started:.0f} s, preparation {time.monotonic() - fetched:.0f} s)")
        return target


def _heartbeat(what: str, measure=None):
    """Print `what` (and `measure()`) every few seconds until the returned event is set."""
    done = threading.Event()
    started = time.monotonic()

    def beat():
        while not done.wait(_HEARTBEAT_SECONDS):
            detail = f", {measure()}" if measure else ""
            _log(f"{what}: {time.monotonic() - started:.0f} s{detail}")

    threading.Thread(target=beat, daemon=True, name="keycloak-heartbeat").start()
    return done


def _megabytes_below(directory: Path) -> str:
    total = 0
    for path, _dirs, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(path, name))
    return f"{total / 1e6:.0f} MB so far"


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-_TAIL_LINES:])


def _fetch(work: Path) -> Path:
    """Download the distribution zip with Maven (`mvn dependency:copy`), honouring ~/.m2/settings.xml."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise KeycloakError(f"Maven (mvn) is needed once to fetch {ARTIFACT} from Maven Central: "
                            "install it (apt-get install maven, or `make keycloak` does) and run again")
    out = work / "download"
    # A private local repository: Maven's own ~/.m2 is not filled with 180 MB that the cache holds anyway.
    repository = work / "m2"
    log = work / "mvn.log"
    _log(f"fetching {ARTIFACT} (about 180 MB) through Maven, first time only")
    beat = _heartbeat("downloading", lambda: _megabytes_below(repository))
    try:
        with open(log, "wb") as handle:
            run = subprocess.run(
                [mvn, "--batch-mode", "--no-transfer-progress", f"-Dmaven.repo.local={repository}",
                 "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={out}"],
                cwd=work, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, check=False,
            )
    finally:
        beat.set()
    archive = out / f"keycloak-quarkus-dist-{VERSION}.zip"
    if run.returncode != 0 or not archive.is_file():
        raise KeycloakError(f"mvn could not fetch {ARTIFACT} (exit {run.returncode}); its output ends with:\n"
                            f"{_tail(log)}")
    _log(f"downloaded {archive.stat().st_size / 1e6:.0f} MB")
    return archive


def _unpack(archive: Path, destination: Path) -> Path:
    """Extract the zip, keeping the executable bits (zipfile drops them), refusing paths that leave it."""
    destination.mkdir()
    root = destination.resolve()
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = (destination / member.filename).resolve()
            if root not in target.parents and target != root:
                raise KeycloakError(f"{archive} holds a path outside the archive ({member.filename}); fetch again")
            bundle.extract(member, destination)
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                os.chmod(target, mode)
    homes = [path for path in destination.iterdir() if (path / "bin" / "kc.sh").is_file()]
    if len(homes) != 1:
        raise KeycloakError(f"{archive} does not hold one Keycloak distribution (bin/kc.sh); fetch again")
    return homes[0]


def _build(home: Path) -> None:
    """`kc.sh build` with BUILD_OPTIONS: Quarkus' augmentation, done once here instead of at every start."""
    log = home.parent / "build.log"
    _log("preparing the distribution (kc.sh build, first time only; 1 to 3 minutes on 2 cores)")
    beat = _heartbeat("preparing")
    try:
        with open(log, "wb") as handle:
            run = subprocess.run([str(home / "bin" / "kc.sh"), "build", *BUILD_OPTIONS], cwd=home,
                                 stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, check=False)
    finally:
        beat.set()
    if run.returncode != 0:
        raise KeycloakError(f"kc.sh build failed (exit {run.returncode}); its output ends with:\n{_tail(log)}")


def _initialise(home: Path) -> None:
    """Start the prepared distribution once, on plain http on loopback, and stop it when it is ready.

    It migrates the database schema and creates the master realm with its administrator, whose
    password stays in the cache (0600) for each sandbox to replace with its own.
    """
    port = procs.free_port()
    log = home.parent / "initialise.log"
    _log("creating the database schema and the master realm (first time only; 1 to 2 minutes on 2 cores)")
    password = secrets.token_urlsafe(24)
    pki.write_private(str(home / _CACHE_PASSWORD), password.encode("ascii"))
    env = dict(os.environ, KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN_USERNAME, KC_BOOTSTRAP_ADMIN_PASSWORD=password,
               JAVA_OPTS_APPEND=JAVA_OPTS_APPEND)
    beat = _heartbeat("initialising")
    try:
        with open(log, "wb") as handle:
            proc = subprocess.Popen(
                [str(home / "bin" / "kc.sh"), "start", *RUN_OPTIONS, "--http-enabled=true", f"--http-port={port}",
                 "--hostname-strict=false"],
                cwd=home, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )
        try:
            _wait_answer(proc, f"http://127.0.0.1:{port}/realms/master", None, str(log), READY_TIMEOUT)
        finally:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        beat.set()
    if not (home / DATA_DIR / "h2").is_dir():
        raise KeycloakError(f"Keycloak's first start made no database in {home / DATA_DIR / 'h2'}; see {log}")


def _wait_answer(proc: subprocess.Popen, url: str, context, log: str, timeout: float) -> float:
    """Wait until `url` answers (any HTTP status but 5xx); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise KeycloakError(f"Keycloak exited with code {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, context=context, timeout=5):
                return time.monotonic() - started
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise KeycloakError(f"Keycloak not ready after {timeout:.0f} s; see {log}")


# -- one Keycloak per sandbox -------------------------------------------------------


def _link_tree(source: Path, destination: Path) -> None:
    """A copy of the distribution: hard links (no space, no time; a real copy across file systems),
    except data/, which Keycloak writes (the database) and which is copied.

    Keycloak never rewrites the distribution's other files, so the links carry no change back into the cache.
    """
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, destination, copy_function=link, symlinks=True,
                    ignore=shutil.ignore_patterns(DATA_DIR, _CACHE_PASSWORD))
    shutil.copytree(source / DATA_DIR, destination / DATA_DIR, symlinks=True)


def launch(state_dir: str, ca_cert: str, ca_key: str) -> tuple[subprocess.Popen, dict]:
    """Start Keycloak for the sandbox in `state_dir`; returns at once with (process, sandbox.json entry).

    Call wait_ready() before using it: it gives the administrator the entry's password.
    """
    source = ensure()
    directory = Path(state_dir) / STATE_SUBDIR
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    home = directory / "home"
    _link_tree(source, home)
    cert, key = directory / "tls.crt", directory / "tls.key"
    pki.issue(ca_cert, ca_key, str(cert), str(key), "127.0.0.1", dns_names=("localhost",),
              ip_addresses=("127.0.0.1",), server=True)
    port = procs.free_port()
    url = f"https://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KC_BOOTSTRAP_ADMIN")}
    env["JAVA_OPTS_APPEND"] = JAVA_OPTS_APPEND
    argv = [
        str(home / "bin" / "kc.sh"), "start", *RUN_OPTIONS, "--http-enabled=false", f"--https-port={port}",
        f"--https-certificate-file={cert}", f"--https-certificate-key-file={key}",
        # The issuer of every realm: https://127.0.0.1:PORT/realms/NAME, also in tokens and discovery.
        f"--hostname={url}",
    ]
    proc = procs.spawn(argv, name="keycloak", pidfile=os.path.join(state_dir, PIDFILE),
                       logfile=os.path.join(state_dir, "logs", "keycloak.log"), ports=[port], env=env)
    return proc, {"url": url, "admin_username": ADMIN_USERNAME, "admin_password": secrets.token_urlsafe(24)}


def wait_ready(proc: subprocess.Popen, entry: dict, ca_cert: str, log: str, timeout: float = READY_TIMEOUT) -> float:
    """Wait until the master realm answers, then give the administrator the entry's password; the seconds it took."""
    context = ssl.create_default_context(cafile=ca_cert)
    seconds = _wait_answer(proc, entry["url"] + "/realms/master/.well-known/openid-configuration", context, log, timeout)
    cached = (distribution_dir() / _CACHE_PASSWORD).read_text(encoding="ascii")
    _set_admin_password(entry, cached, context)
    return seconds


def _admin_call(url: str, token: str, context, method: str = "GET", document=None):
    request = urllib.request.Request(url, method=method, data=None if document is None else json.dumps(document).encode(),
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        body = answer.read()
    return json.loads(body) if body else None


def _set_admin_password(entry: dict, current: str, context) -> None:
    """Replace the prepared administrator's password (the cache's) with the sandbox's own."""
    form = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli",
                                   "username": entry["admin_username"], "password": current}).encode()
    try:
        with urllib.request.urlopen(entry["url"] + "/realms/master/protocol/openid-connect/token", data=form,
                                    context=context, timeout=30) as answer:
            token = json.load(answer)["access_token"]
        users = entry["url"] + "/admin/realms/master/users"
        [admin] = _admin_call(f"{users}?exact=true&username={entry['admin_username']}", token, context)
        _admin_call(f"{users}/{admin['id']}/reset-password", token, context, "PUT",
                    {"type": "password", "value": entry["admin_password"], "temporary": False})
    except (OSError, ValueError, KeyError) as exc:
        # Never the exception's text as such: it may quote a request that carries a password.
        raise KeycloakError(f"could not set the sandbox's Keycloak admin password ({type(exc).__name__}); "
                            f"remove {distribution_dir()} to prepare Keycloak again") from None


def stop(state_dir: str) -> bool:
    """Stop the sandbox's Keycloak (kc.sh and its java), remove its home copy; True if it ran.

    kc.sh runs java as a child: the whole process group (spawned as a new session) is signalled,
    so a java that outlives a killed kc.sh is not left behind.
    """
    pidfile = os.path.join(state_dir, PIDFILE)
    record = procs.read_pidfile(pidfile)
    pgid = record and record.get("pid")
    ran = bool(pgid) and bool(_group_members(pgid, state_dir))
    if ran:
        procs.terminate(lambda signum: _signal_group(pgid, signum), lambda: _group_members(pgid, state_dir), _STOP_TIMEOUT)
    with contextlib.suppress(FileNotFoundError):
        os.remove(pidfile)
    shutil.rmtree(os.path.join(state_dir, STATE_SUBDIR), ignore_errors=True)
    return ran


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_members(pgid: int, marker: str) -> list[int]:
    """Live processes of process group `pgid` that are this sandbox's (their arguments name `marker`).

    A recorded number may belong to an unrelated process after a reboot: only the sandbox's own are signalled.
    """
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                pgrp = int(handle.read().rsplit(")", 1)[1].split()[2])  # after the name: state, ppid, pgrp
        except (OSError, IndexError, ValueError):
            continue
        if pgrp == pgid and procs.alive(int(entry), marker):
            members.append(int(entry))
    return members


def main(argv: list[str]) -> int:
    if argv == ["ensure"]:
        return cli.run_command(lambda: print(ensure()), KeycloakError, "keycloak")
    if argv == ["path"]:
        home = prepared()
        if not home:
            print(f"keycloak {VERSION} is not prepared yet: run `make keycloak`", file=sys.stderr)
            return 1
        print(home)
        return 0
    print(f"usage: {os.path.basename(__file__)} ensure|path", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
