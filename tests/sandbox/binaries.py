"""Provide a real kube-apiserver and etcd for the local "EKS twin" sandbox.

Resolution order (first hit wins):

1. ``$KUBEBUILDER_ASSETS`` holding ``kube-apiserver`` and ``etcd`` executables
   (the envtest convention, e.g. from ``setup-envtest use -p path``).
2. The build cache, ``$EKS_OIDC_K8S_CACHE/<apiserver>-<etcd>/`` where the root
   defaults to ``${XDG_CACHE_HOME:-~/.cache}/kubeauth-eks-oidc/k8s``.
3. Only when asked to build: compile both from the Go module proxy using the
   pinned modules in ``tests/sandbox/go/`` and store them in that cache.

CLI::

    python tests/sandbox/binaries.py ensure   # resolve or build; prints the dir
    python tests/sandbox/binaries.py path     # resolve only; exit 1 if missing

Importable (no side effects at import time)::

    from binaries import binaries_dir
    binaries_dir(build=False) -> str | None

Standard library only.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cache  # tests/sandbox/cache.py: this script's directory is on sys.path, and so is it for its importers

# Keep in sync with tests/sandbox/go/*/go.mod (the go.mod files are the pins;
# these name the cache directory and are checked against `--version`).
APISERVER_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.16"

BINARIES = ("kube-apiserver", "etcd")
GO_DIR = Path(__file__).resolve().parent / "go"

# Rough cold-cache build times on a 2-core machine, only used for the
# "first time only" progress line (see docs/sandbox-binaries.md).
_BUILD_MINUTES = {"kube-apiserver": 10, "etcd": 2}

# Print a heartbeat at least this often so CI logs show the build is alive.
_HEARTBEAT_SECONDS = 30
_TAIL_LINES = 40


class BuildError(RuntimeError):
    """Building one of the binaries with the Go toolchain failed."""


def _log(msg: str) -> None:
    print(msg, flush=True)


def cache_root() -> Path:
    """Directory holding one subdirectory per pinned version pair."""
    return cache.cache_root("k8s", "EKS_OIDC_K8S_CACHE")


def cache_dir() -> Path:
    # The version pair is part of the path so bumping a pin never reuses
    # stale binaries.
    return cache_root() / f"{APISERVER_VERSION}-{ETCD_VERSION}"


def _has_binaries(directory: str | os.PathLike | None) -> bool:
    if not directory:
        return False
    return all(
        os.path.isfile(os.path.join(directory, name))
        and os.access(os.path.join(directory, name), os.X_OK)
        for name in BINARIES
    )


def find_go() -> str | None:
    """The `go` command: PATH first, then the usual tarball install location
    (/usr/local/go is where the official tarball goes but it is often not on
    PATH in non-login shells)."""
    found = shutil.which("go")
    if found:
        return found
    for candidate in (
        os.path.join(os.environ.get("GOROOT", ""), "bin", "go"),
        "/usr/local/go/bin/go",
    ):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _resolve() -> tuple[str, str] | None:
    """(directory, source) of usable binaries without building, else None."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if _has_binaries(assets):
        return str(Path(assets).resolve()), "KUBEBUILDER_ASSETS"
    if _has_binaries(cache_dir()):
        return str(cache_dir()), "cache"
    return None


def binaries_dir(build: bool = False) -> str | None:
    """Directory containing both `kube-apiserver` and `etcd`, or None.

    With build=True a missing cache is built (minutes, first time only);
    returns None if there is no Go toolchain to build with, and raises
    BuildError if the build itself fails.
    """
    found = _resolve()
    if found:
        return found[0]
    if not build:
        return None
    go = find_go()
    if go is None:
        return None
    return str(build_all(go))


# --------------------------------------------------------------------------
# Building


def _version_ldflags() -> str:
    """-X flags like Kubernetes' hack/lib/version.sh, so `--version` and the
    /version endpoint report the real release (kubectl compares versions).
    buildDate/gitCommit stay at their defaults to keep the build reproducible;
    the proxy module carries no commit hash anyway."""
    major, minor = APISERVER_VERSION.lstrip("v").split(".")[:2]
    values = {"gitVersion": APISERVER_VERSION, "gitMajor": major, "gitMinor": minor}
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        for key, val in values.items():
            flags.append(f"-X {pkg}.{key}={val}")
    return " ".join(flags)


def _expected_version(name: str) -> str:
    # What `--version` must contain: "Kubernetes v1.35.4" / "etcd Version: 3.6.16".
    if name == "kube-apiserver":
        return f"Kubernetes {APISERVER_VERSION}"
    return f"etcd Version: {ETCD_VERSION.lstrip('v')}"


def _run_streaming(cmd: list[str], cwd: Path, env: dict, name: str, log_path: Path) -> None:
    """Run `go build -v`, writing everything to log_path but printing only a
    heartbeat (counts of modules downloaded / packages compiled) every
    _HEARTBEAT_SECONDS; on failure print the tail. Thousands of package names
    would drown the CI log, silence for 10+ minutes would look hung."""
    start = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    counts = {"downloaded": 0, "compiled": 0}
    lines: queue.Queue[str | None] = queue.Queue()

    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace",
        )

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        next_beat = start + _HEARTBEAT_SECONDS
        done = False
        try:
            while not done:
                try:
                    line = lines.get(timeout=max(0.1, next_beat - time.monotonic()))
                except queue.Empty:
                    line = ""
                if line is None:
                    done = True
                elif line:
                    log.write(line)
                    tail.append(line.rstrip("\n"))
                    if line.startswith("go: downloading"):
                        counts["downloaded"] += 1
                    elif not line.startswith(("go: ", "#", " ", "\t")):
                        counts["compiled"] += 1  # `-v` prints one package path per line
                if time.monotonic() >= next_beat:
                    next_beat += _HEARTBEAT_SECONDS
                    _log(f"   ... {name}: {counts['downloaded']} modules downloaded, "
                         f"{counts['compiled']} packages compiled, "
                         f"{_fmt_elapsed(time.monotonic() - start)} elapsed")
        except BaseException:
            proc.kill()  # e.g. Ctrl-C: don't leave `go build` running
            raise
        rc = proc.wait()

    if rc != 0:
        _log(f"!! building {name} failed (exit {rc}); last lines of {log_path}:")
        for t in tail:
            _log("   | " + t)
        raise BuildError(f"go build of {name} failed with exit code {rc} (log: {log_path})")


def _fmt_elapsed(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


def _build_one(go: str, name: str, out_dir: Path, log_dir: Path) -> float:
    """Build one binary into out_dir, check its --version; return seconds."""
    version = APISERVER_VERSION if name == "kube-apiserver" else ETCD_VERSION
    _log(f">> building {name} {version} with Go "
         f"(first time only, ~{_BUILD_MINUTES[name]} min on 2 cores)")
    ldflags = _version_ldflags() if name == "kube-apiserver" else "-s -w"
    out = out_dir / name
    # -mod=readonly: the committed go.mod/go.sum are authoritative (fail rather
    # than re-resolve). -buildvcs=false: don't stamp (or trip over) the state
    # of this collection's git checkout; with -trimpath the build is reproducible.
    cmd = [go, "build", "-v", "-trimpath", "-mod=readonly", "-buildvcs=false",
           "-ldflags", ldflags, "-o", str(out), "."]
    env = dict(os.environ, CGO_ENABLED="0")  # static binary, no C toolchain needed
    start = time.monotonic()
    _run_streaming(cmd, GO_DIR / name, env, name, log_dir / f"build-{name}.log")
    elapsed = time.monotonic() - start

    got = subprocess.run([str(out), "--version"], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL, check=False)
    text = got.stdout + got.stderr
    if _expected_version(name) not in text:
        raise BuildError(f"{name} --version printed {text.strip()!r}, "
                         f"expected {_expected_version(name)!r}")
    _log(f">> built {name} in {_fmt_elapsed(elapsed)}: {text.strip().splitlines()[0]}")
    return elapsed


@contextlib.contextmanager
def _lock(root: Path):
    # Two sandbox launches at once must not build twice into the same place.
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_all(go: str) -> Path:
    """Build both binaries into the cache. They are built in a temporary
    sibling directory and renamed into place only when both are complete,
    so an interrupted build never leaves a half-filled cache."""
    final = cache_dir()
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    with _lock(root):
        if _has_binaries(final):  # another process finished while we waited
            return final
        if final.exists():  # incomplete leftovers (e.g. a binary deleted by hand)
            shutil.rmtree(final)
        for stale in root.glob(".build-*"):  # from a killed build; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".build-{final.name}-", dir=root))
        try:
            total = 0.0
            for name in BINARIES:
                total += _build_one(go, name, tmp, root)
            tmp.chmod(0o755)  # mkdtemp makes it 0700
            os.rename(tmp, final)  # atomic on the same filesystem
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _log(f">> both binaries built in {_fmt_elapsed(total)}")
    return final


# --------------------------------------------------------------------------
# CLI


def _cmd_ensure() -> int:
    found = _resolve()
    if found:
        directory, source = found
        if source == "cache":
            _log(f">> kube-apiserver {APISERVER_VERSION} / etcd {ETCD_VERSION}: cache is warm")
        else:
            _log(">> using kube-apiserver and etcd from KUBEBUILDER_ASSETS")
            _warn_if_too_old(directory)
        print(directory)
        return 0
    go = find_go()
    if go is None:
        _log(">> no kube-apiserver/etcd (KUBEBUILDER_ASSETS unset, cache empty) and no `go` "
             "to build them: the Kubernetes side of the sandbox will be skipped")
        return 0
    try:
        directory = build_all(go)
    except BuildError as exc:
        _log(f"!! {exc}")
        return 1
    print(directory)
    return 0


def _warn_if_too_old(directory: str) -> None:
    # Structured authentication (--authentication-config, apiserver.config.k8s.io/v1)
    # is GA from 1.34; older envtest binaries start but reject the sandbox's config.
    try:
        out = subprocess.run([os.path.join(directory, "kube-apiserver"), "--version"],
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL, check=False).stdout
        major, minor = out.split()[-1].lstrip("v").split(".")[:2]
        if (int(major), int(minor)) < (1, 34):
            _log(f"!! warning: {out.strip()} from KUBEBUILDER_ASSETS is older than 1.34; "
                 "the sandbox needs --authentication-config (GA in 1.34)")
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        _log("!! warning: could not read `kube-apiserver --version` from KUBEBUILDER_ASSETS")


def _cmd_path() -> int:
    found = _resolve()
    if found:
        print(found[0])
        return 0
    print(f"kube-apiserver/etcd not found: KUBEBUILDER_ASSETS is unset or incomplete and "
          f"{cache_dir()} is not built; run `python {Path(__file__).name} ensure`",
          file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    commands = {"ensure": _cmd_ensure, "path": _cmd_path}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: {Path(__file__).name} {{ensure|path}}", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("!! interrupted; nothing was put in the cache", file=sys.stderr)
        sys.exit(130)
