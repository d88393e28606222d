"""Run one of this directory's playbooks with the venv's ansible-playbook and this checkout's collection."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def ansible_env():
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".build", "collections"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def playbook(name, variables, tmp_path):
    """Run NAME.yml with ``variables`` as extra vars; fail with its output when it fails."""
    vars_file = tmp_path / ("%s-vars.json" % name)
    vars_file.write_text(json.dumps(variables))
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         os.path.join(HERE, name + ".yml"), "-e", "@%s" % vars_file],
        env=ansible_env(), capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (name, result.stdout[-20000:], result.stderr[-5000:])
    return result
