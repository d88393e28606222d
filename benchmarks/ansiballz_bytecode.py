"""What the AnsiballZ bytecode cache saves: CPU seconds of the same playbook, with and without it.

    .venv/bin/python benchmarks/ansiballz_bytecode.py [--tasks 20] [--rounds 3]

Runs a playbook of ``--tasks`` runs of the collection's kubeconfig module
(offline: it writes a kubeconfig in a temporary directory) with
tests/ansiballz_bytecode_cache.py switched on and off in turn, ``--rounds``
times each, and prints the CPU seconds (user and system) of each
ansible-playbook run and its children. A warm-up run of each kind comes
first and is not counted: the first run with the cache fills it. The
difference between the two, divided by the tasks, is what a module run
saves; docs/commands.md has the figures. This machine's speed drifts
(benchmarks/host_drift.py), which is why the two kinds alternate.

A benchmark that prints figures, not a test. Needs `make venv collection`.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWITCH_VARIABLE = "KUBEAUTH_ANSIBALLZ_BYTECODE_CACHE"

PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: A kubeconfig context, written once, then unchanged
      kubeauth.eks_oidc.kubeconfig:
        path: "{path}"
        context:
          name: benchmark
          cluster: benchmark-cluster
          user: benchmark-user
      loop: "{{{{ range({tasks}) | list }}}}"
"""


def playbook_cpu_seconds(playbook, switch):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"))
    env[SWITCH_VARIABLE] = switch
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", playbook],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--tasks", type=int, default=20, help="module runs per playbook run")
    parser.add_argument("--rounds", type=int, default=3, help="counted runs with the cache and without it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        playbook = os.path.join(workdir, "playbook.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            handle.write(PLAY.format(path=os.path.join(workdir, "config"), tasks=args.tasks))
        figures = {"on": [], "off": []}
        for switch in figures:
            playbook_cpu_seconds(playbook, switch)  # warm-up, not counted
        for _round in range(args.rounds):
            for switch, runs in figures.items():
                runs.append(playbook_cpu_seconds(playbook, switch))
    for switch, runs in figures.items():
        mean = sum(runs) / len(runs)
        print("cache %-3s: %s CPU-seconds per run of %d module runs (mean %.2f)" % (
            switch, ", ".join("%.2f" % seconds for seconds in runs), args.tasks, mean))
    saved = (sum(figures["off"]) - sum(figures["on"])) / args.rounds
    print("saved: %.2f CPU-seconds a run, %.3f a module run (%.0f%%)" % (
        saved, saved / args.tasks, 100 * saved / (sum(figures["off"]) / args.rounds)))


if __name__ == "__main__":
    main()
