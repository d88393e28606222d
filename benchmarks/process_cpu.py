"""Where a command's CPU goes, by kind of process: module runs, ansible-playbook, kube-apiserver, ...

    sudo .venv/bin/python benchmarks/process_cpu.py -- make integration

Runs the command with the kernel's process accounting switched on (acct(2):
needs root, or CAP_SYS_PACCT), then prints the CPU seconds (user and system)
of every process that ended while it ran, summed by kind. The kernel writes a
record when a process exits, so it counts short processes that a sampler
would miss (each module run is one). Accounting covers the whole machine:
run it with nothing else busy. A Python process is named by what started it,
because every Python process is called "python": a module run is a Python
process whose parent is the `sh` of an ansible-playbook worker.

A benchmark that prints figures, not a test; docs/commands.md has the
figures of the integration suite.
"""

import argparse
import collections
import ctypes
import os
import struct
import subprocess
import sys
import tempfile

# struct acct_v3 (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid,
# ppid, btime, etime (float), then eight comp_t (utime, stime, mem, io, rw,
# minflt, majflt, swaps) and the 16-byte command name.
RECORD = struct.Struct("<BBHIIIIIIf8H16s")
TICKS_PER_SECOND = 100  # AHZ: the unit of ac_utime and ac_stime


def switch_accounting(path):
    """Start writing records to path, or stop when path is None."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.acct(os.fsencode(path) if path else None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, "acct(2): %s (process accounting needs root or CAP_SYS_PACCT)" % os.strerror(error))


def comp_t_seconds(value):
    """A comp_t (13-bit mantissa, 3-bit base-8 exponent) in seconds."""
    return ((value & 0x1FFF) << (3 * (value >> 13))) / TICKS_PER_SECOND


def read_records(path):
    with open(path, "rb") as accounting:
        data = accounting.read()
    for offset in range(0, len(data) - RECORD.size + 1, RECORD.size):
        fields = RECORD.unpack_from(data, offset)
        yield {
            "pid": fields[6],
            "ppid": fields[7],
            "cpu": comp_t_seconds(fields[10]) + comp_t_seconds(fields[11]),
            "command": fields[18].split(b"\0", 1)[0].decode(errors="replace"),
        }


def process_kind(record, by_pid):
    """The command name, or for a Python process the command name of what started it."""
    if not record["command"].startswith("python"):
        return record["command"]
    parent = by_pid.get(record["ppid"])
    if parent is None:
        return "python (parent not seen)"
    if parent["command"] == "sh":
        return "python under sh (module runs, mostly)"
    return "python under %s" % parent["command"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--top", type=int, default=15, help="how many kinds to print")
    parser.add_argument("command", nargs="+", help="the command to measure, after --")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        records_path = os.path.join(workdir, "acct")
        open(records_path, "wb").close()
        switch_accounting(records_path)
        try:
            status = subprocess.run(args.command, check=False).returncode
        finally:
            switch_accounting(None)
        records = list(read_records(records_path))
    by_pid = {record["pid"]: record for record in records}
    cpu = collections.Counter()
    processes = collections.Counter()
    for record in records:
        kind = process_kind(record, by_pid)
        cpu[kind] += record["cpu"]
        processes[kind] += 1
    total = sum(cpu.values())
    print("%.1f CPU-seconds in %d processes (the command exited %d)" % (total, len(records), status))
    for kind, seconds in cpu.most_common(args.top):
        print("%8.1f %5.1f%% %7d  %s" % (seconds, 100 * seconds / total if total else 0, processes[kind], kind))
    sys.exit(status)


if __name__ == "__main__":
    main()
