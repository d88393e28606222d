"""What the end-to-end tests share: ansible-playbook as a user runs it on the sandbox, and how to read its result.

Importable from every test file under tests/integration (pytest puts this directory, the one of the
top conftest.py, on sys.path).
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import boto3

import sandbox as sandbox_launcher  # tests/sandbox/sandbox.py, on sys.path through conftest.py

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")  # the venv's
SANDBOX_INVENTORY = os.path.join(REPO_ROOT, "playbooks", "inventory", "sandbox")
# The session sandbox's one twin cluster (conftest.py's `sandbox`), and the second one its `fleet` fixture adds.
SESSION_CLUSTER = "oidc-test"
FLEET_CLUSTER = "oidc-test-2"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def target_variables(sandbox):
    """The sandbox's AWS connection as the integration targets (and the audit playbooks) name it, and the
    whole sandbox.json as ``sandbox``."""
    return {
        "aws_endpoint_url": sandbox["aws_endpoint_url"],
        "aws_region": sandbox["region"],
        "aws_access_key_id": sandbox["aws_access_key_id"],
        "aws_secret_access_key": sandbox["aws_secret_access_key"],
        "aws_ca_bundle": sandbox["aws_ca_bundle"],
        "sandbox": sandbox,
    }


def sandbox_environment(sandbox, **extra):
    """The environment of a user's shell: no AWS variables (the inventory's connection settings are all the
    roles get), no KUBECONFIG of the person running the tests, this sandbox's inventory, no colours."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AWS_") and k != "KUBECONFIG")
    env.update(EKS_OIDC_SANDBOX_DIR=sandbox["state_dir"], ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **extra)
    return env


def changed_by_host(stdout):
    """{host: changed count} from the PLAY RECAP."""
    return dict((host, int(changed)) for host, _ok, changed, _unreachable, _failed in RECAP.findall(stdout))


def changed_tasks(stdout):
    """The tasks that reported a change, with the hosts, for assertion messages."""
    changed, task = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]")[0] + "]"
        elif line.startswith("changed:"):
            changed.append("%s %s" % (task, line))
    return "\n".join(changed)


def ansible_playbook(sandbox, path, *args, extra_vars=None, cwd=REPO_ROOT, env=None, timeout=1800):
    """ansible-playbook PATH with the sandbox inventory, as a user runs it; its CompletedProcess.

    ``extra_vars`` go through a 0600 file (they may hold passwords), ``env`` adds to the user's environment.
    Fails with the end of the output when the run fails."""
    command = [ANSIBLE_PLAYBOOK, "-i", SANDBOX_INVENTORY, path] + list(args)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as vars_file:  # mode 0600
        if extra_vars:
            json.dump(extra_vars, vars_file)
            vars_file.flush()
            command += ["-e", "@" + vars_file.name]
        result = subprocess.run(command, cwd=cwd, env=sandbox_environment(sandbox, **(env or {})), capture_output=True,
                                text=True, check=False, timeout=timeout)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (path, result.stdout[-30000:], result.stderr[-5000:])
    return result


class PlaybookRunner(object):
    """ansible_playbook with a test's extra vars, from a working directory of the test's own."""

    def __init__(self, sandbox, workdir, extra_vars):
        self.sandbox = sandbox
        self.workdir = workdir
        self.extra_vars = extra_vars

    def run(self, playbook, *args, cwd=None, env=None, **overrides):
        return ansible_playbook(self.sandbox, playbook, *args, extra_vars=dict(self.extra_vars, **overrides),
                                cwd=cwd or self.workdir, env=env)


def sandbox_playbook(sandbox, path, *args, extra_vars=None, timeout=1800):
    """ansible_playbook from the checkout; ({host: changed}, output), the output being stdout then stderr."""
    result = ansible_playbook(sandbox, path, *args, extra_vars=extra_vars, timeout=timeout)
    return changed_by_host(result.stdout), result.stdout + result.stderr


def kubectl_as_oidc_user(sandbox, cluster, *args):
    """kubectl through the OIDC user's context the kubeconfig role wrote into the sandbox's kubeconfig."""
    kubeconfig = os.path.join(sandbox["state_dir"], "kubeconfig")
    return subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--context", "oidc-%s" % cluster] + list(args),
                          capture_output=True, text=True, check=False, timeout=120)


def aws(sandbox, service):
    """A boto3 client of the sandbox's AWS side, with its administrator's credentials."""
    return boto3.client(service, **sandbox_launcher.boto3_kwargs(sandbox))
