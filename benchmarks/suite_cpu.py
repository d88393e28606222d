"""Where the integration suite's time goes: CPU seconds and wall time per test, per worker (issue 14).

    SUITE_CPU_LOG=/tmp/suite-cpu.jsonl PYTHONPATH=benchmarks \\
        .venv/bin/python -m pytest -p suite_cpu -q -n 4 --dist loadgroup --no-loadscope-reorder tests/integration
    .venv/bin/python benchmarks/suite_cpu.py /tmp/suite-cpu.jsonl [--timeline]

A benchmark that prints figures, not a test. Loaded as a pytest plugin
(``-p suite_cpu``), every worker appends one JSON line per test to
SUITE_CPU_LOG: the CPU seconds its child processes used during the test's
setup, call and teardown (ansible-playbook, its workers and module processes,
kubectl, Keycloak's admin calls: getrusage(RUSAGE_CHILDREN) counts every
descendant that was waited for), the worker's own CPU, and when the test
started and ended. The sandbox's long-lived processes (MiniStack,
kube-apiserver, etcd, Keycloak) are reaped when the session ends, so their CPU
time lands on each worker's last test.

Run as a script, it prints the CPU and wall seconds per test file (per test
for the files whose tests stand alone), the total, and with --timeline what
each worker ran when. The suite is CPU-bound on two cores: a test's CPU
seconds, not its wall time (which grows with what runs beside it), say what
making it cheaper would save.
"""

import argparse
import collections
import json
import os
import resource
import time

LOG_VARIABLE = "SUITE_CPU_LOG"
# Files whose tests are each their own unit of work: reported test by test.
PER_TEST_FILES = ("tests/integration/test_targets.py", "tests/integration/e2e/test_site.py")


def _cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# -- the pytest plugin ---------------------------------------------------------

try:
    import pytest
except ImportError:  # run as a script with a Python that has no pytest
    pytest = None

if pytest is not None:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        log = os.environ.get(LOG_VARIABLE)
        children, own, start = _cpu_seconds(resource.RUSAGE_CHILDREN), _cpu_seconds(resource.RUSAGE_SELF), time.time()
        yield
        if not log:
            return
        row = {
            "test": item.nodeid,
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "children_cpu": round(_cpu_seconds(resource.RUSAGE_CHILDREN) - children, 2),
            "own_cpu": round(_cpu_seconds(resource.RUSAGE_SELF) - own, 2),
            "start": start,
            "end": time.time(),
        }
        with open(log, "a") as handle:  # one short line per write: workers' lines do not interleave
            handle.write(json.dumps(row) + "\n")


# -- the report ----------------------------------------------------------------

def unit_of(nodeid):
    """The file, or the test itself (without xdist's @group) for files whose tests stand alone."""
    path = nodeid.partition("::")[0]
    return nodeid.split("@")[0] if path in PER_TEST_FILES else path


def report(rows, timeline=False):
    units = collections.defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        unit = units[unit_of(row["test"])]
        unit[0] += row["children_cpu"] + row["own_cpu"]
        unit[1] += row["end"] - row["start"]
    print("%9s %9s  %s" % ("CPU s", "wall s", "tests"))
    for unit, (cpu, wall) in sorted(units.items(), key=lambda item: -item[1][0]):
        print("%9.1f %9.1f  %s" % (cpu, wall, unit))
    began, ended = min(row["start"] for row in rows), max(row["end"] for row in rows)
    print("%9.1f %9.1f  all %d tests (wall: first start to last end)" % (
        sum(cpu for cpu, _wall in units.values()), ended - began, len(rows)))
    if timeline:
        for worker in sorted(set(row["worker"] for row in rows)):
            print("\n%s:" % worker)
            for row in sorted((r for r in rows if r["worker"] == worker), key=lambda r: r["start"]):
                print("  %6.0f-%6.0f  %s" % (row["start"] - began, row["end"] - began, row["test"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("log", help="the SUITE_CPU_LOG file a pytest run with -p suite_cpu wrote")
    parser.add_argument("--timeline", action="store_true", help="also what each worker ran, and when")
    args = parser.parse_args()
    with open(args.log) as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    if not rows:
        raise SystemExit("%s holds no test: was pytest run with -p suite_cpu and %s set?" % (args.log, LOG_VARIABLE))
    report(rows, args.timeline)


if __name__ == "__main__":
    main()
