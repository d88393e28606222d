"""Detached processes with pidfiles, and stopping them again safely.

Every process the sandbox starts (MiniStack, and per cluster etcd and
kube-apiserver) runs in its own session so it outlives the command that
started it, and leaves a pidfile ``NAME.pid.json`` holding
``{"name", "pid", "ports"}``. `down` and `status` find them all by globbing
the state directory.

A pid is only trusted while /proc/PID/cmdline still mentions the sandbox
state directory (every command line the sandbox builds does): after a reboot
or a crash the number may belong to an unrelated process, which must never be
signalled.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import threading
import time
from typing import Callable

PIDFILE_SUFFIX = ".pid.json"  # distinct from the plain pidfiles MiniStack writes


def spawn(argv: list[str], *, name: str, pidfile: str, logfile: str,
          ports: list[int], env: dict | None = None) -> subprocess.Popen:
    """Start `argv` detached, output appended to `logfile`, and record it in `pidfile`."""
    with open(logfile, "ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
        )
    with open(pidfile, "w", encoding="utf-8") as handle:
        json.dump({"name": name, "pid": proc.pid, "ports": ports}, handle)
    # Reap it when it exits, so a stopped process does not linger as a zombie
    # of a long-running parent (MiniStack for control planes, pytest for MiniStack).
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()
    return proc


def read_pidfile(pidfile: str) -> dict | None:
    try:
        with open(pidfile, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def alive(pid: int, marker: str) -> bool:
    """Whether `pid` is a running (not zombie) process with `marker` (a directory) in its arguments."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            # The state letter follows the parenthesised command name.
            state = handle.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            args = handle.read().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return False
    # The directory itself or a path below it: /tmp/sb must not match /tmp/sb2.
    mentioned = any(arg.endswith(marker) or marker + os.sep in arg for arg in args)
    return state not in ("Z", "X") and mentioned


def pidfiles(state_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(state_dir, "**", "*" + PIDFILE_SUFFIX), recursive=True))


def stop(pidfile: str, marker: str, timeout: float = 15.0) -> None:
    """SIGTERM the recorded process, SIGKILL it after `timeout`, then drop the pidfile."""
    record = read_pidfile(pidfile)
    pid = record and record.get("pid")
    if pid and alive(pid, marker):
        terminate(lambda signum: _signal(pid, signum), lambda: alive(pid, marker), timeout)
    try:
        os.remove(pidfile)
    except FileNotFoundError:
        pass


def terminate(send: Callable[[int], None], running: Callable[[], object], timeout: float) -> None:
    """`send(SIGTERM)`, `send(SIGKILL)` if `running()` still holds after `timeout` seconds; return once it does not.

    `send` signals one process or a whole process group; `running` says whether any of it is left.
    """
    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    if running():
        send(signal.SIGKILL)
        while running():
            time.sleep(0.05)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's pick; tiny race until it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
