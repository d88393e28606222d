"""`make demo`: site.yml against the running sandbox, then the post's Step 5 proof with kubectl.

The Makefile has already started the sandbox (`make sandbox-up`). This runs
playbooks/site.yml with the sandbox inventory, then, as the OIDC user of each
cluster, `kubectl get secrets` (must list) and `kubectl get nodes` (must be
Forbidden), exactly as the post shows them, and leaves the sandbox running.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sandbox  # noqa: E402  (tests/sandbox/sandbox.py)


def run_site(info):
    command = ["ansible-playbook", "-i", "playbooks/inventory/sandbox", "playbooks/site.yml"]
    print(">> %s" % " ".join(command), flush=True)
    # The inventory holds the AWS settings; the proxy that makes the Cognito issuer URL
    # reachable is environment, as an egress proxy is for anyone.
    proxy = dict((name, value) for name, value in sandbox.environment(info).items() if "PROXY" in name.upper())
    return subprocess.call(command, cwd=REPO_ROOT, env=dict(os.environ, **proxy))


def kubectl(kubeconfig, context, *args):
    result = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--context", context] + list(args),
        capture_output=True, text=True, check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def prove(kubeconfig, cluster):
    """The post's Step 5 on one cluster; True when both answers are the expected ones."""
    context = "oidc-%s" % cluster
    print("\n$ kubectl --context %s get secrets" % context)
    secrets_rc, secrets_out = kubectl(kubeconfig, context, "get", "secrets", "-n", "default")
    print(secrets_out or "No resources found in default namespace.")
    print("\n$ kubectl --context %s get nodes" % context)
    nodes_rc, nodes_out = kubectl(kubeconfig, context, "get", "nodes")
    print(nodes_out)
    return secrets_rc == 0 and nodes_rc != 0 and "Forbidden" in nodes_out


def main():
    info = sandbox.load()
    if not info:
        print("no sandbox is running: run `make sandbox-up` (make demo does it)", file=sys.stderr)
        return 1
    if run_site(info) != 0:
        print("site.yml failed; the sandbox is still up (make sandbox-status, make sandbox-down)", file=sys.stderr)
        return 1
    directory = sandbox.state_dir()
    kubeconfig = os.path.join(directory, "kubeconfig")
    if not info["kubernetes"]:
        print("\nThe Kubernetes side of the sandbox is skipped (no kube-apiserver binaries): no kubectl proof.")
        return 0
    proven = [prove(kubeconfig, cluster) for cluster in sorted(info["clusters"])]
    relative = os.path.relpath(kubeconfig, REPO_ROOT)
    print("\nExplore: KUBECONFIG=%s kubectl config get-contexts" % relative)
    print("  the admin contexts (admin-CLUSTER) sign EKS tokens with AWS credentials from the environment:")
    print("  eval \"$(.venv/bin/python tests/sandbox/sandbox.py env)\"; stop it all: make sandbox-down")
    if not all(proven):
        print("the Step 5 proof did not come out as expected (see above)", file=sys.stderr)
        return 1
    return 0


def write_login_kit(info):
    """Last, the developers' side: the login kit for the sandbox's clusters, and the two commands a developer runs."""
    if not info["kubernetes"]:
        return 0
    kit_dir = os.path.join(sandbox.state_dir(), "login-kit")
    command = ["ansible-playbook", "-i", "playbooks/inventory/sandbox", "playbooks/login_kit.yml",
               "-e", "eks_oidc_login_kit_dir=%s" % kit_dir]
    print("\n>> %s" % " ".join(command), flush=True)
    if subprocess.call(command, cwd=REPO_ROOT) != 0:
        print("login_kit.yml failed; the sandbox is still up", file=sys.stderr)
        return 1
    kit = os.path.join(kit_dir, "kubeauth-login")
    kit = os.path.relpath(kit, REPO_ROOT) if kit.startswith(REPO_ROOT + os.sep) else kit
    print("\nA developer without AWS access, with Python 3 and kubectl only (docs/onboarding.md), runs:")
    print("  python3 %s install" % kit)
    print("  python3 %s login" % kit)
    print("  (the sandbox's issuer is reached through its proxy, as behind a corporate one: export HTTPS_PROXY=%s NO_PROXY=%s)"
          % (info["https_proxy"], info["no_proxy"]))
    return 0


if __name__ == "__main__":
    sys.exit(main() or write_login_kit(sandbox.load()))
