"""What an idle sandbox costs: CPU seconds a minute per process kind, with nothing asking anything of it.

    .venv/bin/python benchmarks/sandbox_idle.py [--clusters 2] [--seconds 60] [--settle 20]

Starts a private sandbox (its own state directory, a free port; as the
integration suite's workers do), waits ``--settle`` seconds for start-up
work to finish, then reads every sandbox process's CPU time (utime + stime
in /proc) before and after ``--seconds`` of idleness, and stops the sandbox.
It prints what each process kind used up to the first reading (start-up and
settling), then what it used a minute while idle. Every worker of `make test` runs such a sandbox for the whole suite, so its
idle cost is paid for every minute the suite takes (docs/commands.md).

A benchmark that prints figures, not a test. Linux only (/proc).
"""

import argparse
import collections
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

import sandbox as sandbox_launcher  # noqa: E402  (tests/sandbox/sandbox.py)

TICKS = os.sysconf("SC_CLK_TCK")


def kind(argv):
    """A process's kind: the binary's name, or the script's for a Python process."""
    program = os.path.basename(argv[0])
    if program.startswith("python") and len(argv) > 1:
        return os.path.basename(argv[1])
    return program


def sandbox_cpu(state_dir):
    """{pid: (kind, CPU seconds so far)} of the processes whose command line names ``state_dir``."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
            if not argv or not any(state_dir in part for part in argv):
                continue
            with open("/proc/%s/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        found[pid] = (kind(argv), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clusters", type=int, default=2, help="twin clusters, as each test worker runs (2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure the idle sandbox")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait after start-up first")
    args = parser.parse_args()
    clusters = ["oidc-test"] + ["oidc-test-%d" % n for n in range(2, args.clusters + 1)]
    directory = tempfile.mkdtemp(prefix="sandbox-idle-")
    try:
        sandbox_launcher.up(directory, port=0, clusters=clusters)
        time.sleep(args.settle)
        before = sandbox_cpu(directory)
        time.sleep(args.seconds)
        after = sandbox_cpu(directory)
    finally:
        sandbox_launcher.down(directory)
    started = collections.Counter()
    for name, seconds in before.values():
        started[name] += seconds
    print("start-up of a sandbox with %d cluster(s), and %.0f s settling:" % (len(clusters), args.settle))
    for name, seconds in started.most_common():
        print("  %-22s %5.2f CPU-seconds" % (name, seconds))
    print("  %-22s %5.2f CPU-seconds" % ("all", sum(started.values())))
    per_kind = collections.Counter()
    for pid, (name, seconds) in after.items():
        if pid in before:
            per_kind[name] += seconds - before[pid][1]
    print("idle sandbox with %d cluster(s), %.0f s measured after %.0f s settling:" % (
        len(clusters), args.seconds, args.settle))
    for name, seconds in per_kind.most_common():
        print("  %-22s %5.2f CPU-seconds a minute" % (name, seconds * 60 / args.seconds))
    print("  %-22s %5.2f CPU-seconds a minute" % ("all", sum(per_kind.values()) * 60 / args.seconds))


if __name__ == "__main__":
    main()
