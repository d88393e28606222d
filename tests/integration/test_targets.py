"""Run every integration target under tests/integration/targets against the sandbox.

A target is an ordinary role whose tasks use the collection's modules and
assert on their results (ansible-test's layout, so `ansible-test integration`
can run them too). Each target gets a unique ``resource_prefix`` so targets
never see each other's resources.
"""

import json
import os
import subprocess
import uuid

import pytest

from ansible_runs import target_variables

pytestmark = pytest.mark.independent  # every target has its own resource_prefix

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS_DIR = os.path.join(HERE, "targets")
TARGETS = sorted(
    name for name in os.listdir(TARGETS_DIR)
    if os.path.isfile(os.path.join(TARGETS_DIR, name, "tasks", "main.yml"))
    and not name.startswith("setup_")
)


def run_target(target, sandbox, tmp_path, extra_vars=None):
    variables = dict(target_variables(sandbox), target=target, resource_prefix="it-%s" % uuid.uuid4().hex[:8])
    variables.update(extra_vars or {})
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS_DIR, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        ["ansible-playbook", "-i", "localhost,", os.path.join(HERE, "run_target.yml"), "-e", "@%s" % vars_file],
        env=env, capture_output=True, text=True, timeout=1800, check=False,
    )


@pytest.mark.parametrize("target", TARGETS)
def test_target(target, sandbox, tmp_path):
    result = run_target(target, sandbox, tmp_path)
    assert result.returncode == 0, "target %s failed:\n%s\n%s" % (target, result.stdout[-20000:], result.stderr[-5000:])
