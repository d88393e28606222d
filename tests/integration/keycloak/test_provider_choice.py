"""eks_oidc_identity_provider: the provider site.yml's first step runs, and `external` for one run elsewhere.

The Cognito and Keycloak runs are the end-to-end tests; here the choice
itself: an unknown provider and an external one without its issuer are
refused with a message that says what to set, and an external provider's
issuer and client id become the facts the association reads.
"""

import json
import os
import re
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "provider_facts.yml")


def provision(sandbox, tmp_path, **variables):
    out = tmp_path / "facts.json"
    env = dict(os.environ, EKS_OIDC_SANDBOX_DIR=sandbox["state_dir"], ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    run = subprocess.run(["ansible-playbook", "-i", "playbooks/inventory/sandbox", "--limit", "localhost", PLAYBOOK,
                          "-e", json.dumps(dict(variables, out=str(out)))],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    return run, (json.loads(out.read_text()) if out.exists() else None)


def test_an_unknown_provider_is_refused(sandbox, tmp_path):
    run, facts = provision(sandbox, tmp_path, eks_oidc_identity_provider="okta")
    assert run.returncode != 0 and facts is None
    assert "eks_oidc_identity_provider is 'okta': use cognito (a Cognito user pool), keycloak" in run.stdout


def test_external_needs_its_issuer_and_client(sandbox, tmp_path):
    run, facts = provision(sandbox, tmp_path, eks_oidc_identity_provider="external",
                           eks_oidc_issuer_url="http://dex.example.com", eks_oidc_client_id="kubernetes")
    assert run.returncode != 0 and facts is None
    assert "eks_oidc_identity_provider=external needs eks_oidc_issuer_url (https://" in run.stdout


def test_external_issuer_and_client_are_what_the_association_gets(sandbox, tmp_path):
    run, facts = provision(sandbox, tmp_path, eks_oidc_identity_provider="external",
                           eks_oidc_issuer_url="https://dex.example.com", eks_oidc_client_id="kubernetes")
    assert run.returncode == 0, run.stdout[-5000:]
    assert facts == {"issuer_url": "https://dex.example.com", "client_id": "kubernetes"}
    assert re.search(r"TASK \[A Cognito user pool\] \**\nskipping: \[localhost\]", run.stdout), run.stdout[-5000:]
    assert re.search(r"TASK \[A Keycloak realm\] \**\nskipping: \[localhost\]", run.stdout), run.stdout[-5000:]
