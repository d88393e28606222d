"""How fast this machine is right now: the CPU seconds of one fixed Python loop, run several times in a row.

    .venv/bin/python benchmarks/host_drift.py [--runs 5]

On a virtual machine the host can take speed back without the guest seeing
it as steal: the same loop's CPU time then varies from run to run. Run this before and after a timing of the test suite, with
nothing else busy: when the loop's figures differ, so will the suite's, for
the same code (docs/commands.md). A benchmark that prints figures, not a test.
"""

import argparse
import resource
import time

LOOP = 3_000_000


def loop_cpu_seconds():
    """CPU seconds of a dict-and-str loop, about as memory-bound as ansible's own work."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    table = {}
    for number in range(LOOP):
        table[number % 1000] = str(number)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=5, help="how many times to run the loop")
    args = parser.parse_args()
    loop_cpu_seconds()  # warm-up: the first loop of a process also pays for growing its heap
    figures = [loop_cpu_seconds() for _run in range(args.runs)]
    print("%s: the loop took %s CPU-seconds (min %.2f, max %.2f)" % (
        time.strftime("%H:%M:%S"), ", ".join("%.2f" % seconds for seconds in figures), min(figures), max(figures)))


if __name__ == "__main__":
    main()
