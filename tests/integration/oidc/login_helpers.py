"""What the login tests share: where things are, the test user, running oidc_token_info as Ansible does."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PLUGIN = os.path.join(REPO, "plugins", "module_utils", "credential_plugin.py")
MODULE = "ansible_collections.kubeauth.eks_oidc.plugins.modules.oidc_token_info"
# Not "test...": the sandbox's AWS keys are "test", and Ansible masks no_log values in every result string.
USERNAME = "alice@example.com"
PASSWORD = "Blah123$-kubeauth"


def run_module(sandbox, cognito, tmp_path, **args):
    """Run oidc_token_info as Ansible runs it on a target (python -m, arguments in a file); its result."""
    base = {
        "endpoint_url": sandbox["aws_endpoint_url"], "region": sandbox["region"],
        "access_key": sandbox["aws_access_key_id"], "secret_key": sandbox["aws_secret_access_key"],
        "aws_ca_bundle": sandbox["aws_ca_bundle"], "ca_file": sandbox["aws_ca_bundle"],
        "issuer_url": cognito["issuer_url"], "discovery_url": cognito["discovery_url"], "client_id": cognito["client_id"],
    }
    base.update(args)
    base = dict((k, v) for k, v in base.items() if v is not None)
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": base}))
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, ".build", "collections"))
    run = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    try:
        return json.loads(run.stdout)
    except ValueError:
        raise AssertionError("module output is not JSON:\n%s\n%s" % (run.stdout, run.stderr))
