"""site.yml as AWX runs it: `ansible-runner run` on a private data directory, judged by its job events.

The data directory is laid out as AWX writes it for a job (docs/awx.md maps
the job template's fields to it):

- ``project/``: the job template's project, a playbook importing
  ``kubeauth.eks_oidc.site``; the collection is the tarball `make build` ships,
  installed into ``requirements_collections/`` as a project update installs
  ``collections/requirements.yml``.
- ``inventory/hosts``: the sandbox inventory as an inventory sync stores it
  (``ansible-inventory --list --export``, variables left untemplated),
  written back as AWX writes every job's inventory, a script printing the JSON.
- ``env/envvars``: AWX's ANSIBLE_* settings and collections path, the AWS
  credential's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and the sandbox's
  other variables (endpoint, CA bundle, HTTPS_PROXY, ...) as "Extra Environment
  Variables". ansible-runner runs with nothing from this shell but PATH and
  the locale, as in an execution environment.
- ``env/extravars``: survey answers, marked ``!unsafe`` as AWX marks them.
- ``env/settings``, ``env/cmdline``: timeout, quiet output, ``-u root --forks``.

Then the job events must show: the verify role's checks passed on every
cluster, no host failed or was unreachable, and no secret (the AWS secret key,
the test user's password, any ID/access/refresh token, EKS token or private
key, also base64-encoded) in any event. The second job template,
``kubeauth.eks_oidc.cleanup``, runs last in the same way, so the session's
sandbox is left as the test found it.
"""

import base64
import binascii
import json
import os
import re
import subprocess

import pytest
import yaml

from ansible_runs import FLEET_CLUSTER, SESSION_CLUSTER, aws
from awx_helpers import REPO_ROOT, VENV_BIN, install_collection, venv_tool

import sandbox as sandbox_launcher  # tests/sandbox/sandbox.py, on sys.path through tests/integration/conftest.py

CLUSTERS = (SESSION_CLUSTER, FLEET_CLUSTER)
JOB_TIMEOUT = 1200

# Survey answers (docs/awx.md), with the sandbox's region. The pool, domain and
# groups prefix differ from the sandbox inventory's: the job proves that extra
# vars reach the roles and that verify expects the prefix the association has.
SURVEY = {
    "eks_oidc_user_pool_name": "awx-userpool",
    "eks_oidc_domain": "awx-userpool-login",
    "eks_oidc_groups_claim": "cognito:groups",
    "eks_oidc_groups_prefix": "awx:",
    "eks_oidc_username_claim": "email",
    "eks_oidc_idp_force": False,
}
# The post's user and group (the inventory's), as the API server must name them.
EXPECTED_USERNAME = "test@example.com"
EXPECTED_GROUP = SURVEY["eks_oidc_groups_prefix"] + "secret-reader"

# AWX's own ANSIBLE_* settings (awx/settings/defaults.py), exported to every job.
AWX_ANSIBLE_SETTINGS = {
    "ANSIBLE_FORCE_COLOR": "True",
    "ANSIBLE_HOST_KEY_CHECKING": "False",
    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
    "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
}

# JWS (header.payload.signature) and JWE (five parts, the second may be empty) compact forms.
JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*")
EKS_TOKEN = re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]{20,}")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
BASE64_BLOB = re.compile(r"^[A-Za-z0-9+/_-]{40,}={0,2}$")


class UnsafeStringDumper(yaml.SafeDumper):
    """Every string as `!unsafe`, as AWX dumps extra vars that come from a survey or a launch prompt."""

    def represent_str(self, data):
        return self.represent_scalar("!unsafe", data)


UnsafeStringDumper.add_representer(str, UnsafeStringDumper.represent_str)


def clean_environment(home):
    """What ansible-runner itself runs with: an execution environment has no developer shell."""
    return {"PATH": os.pathsep.join([VENV_BIN, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(home), "LANG": "C.UTF-8"}


def synced_inventory(sandbox, private_data_dir):
    """The sandbox inventory as an AWX inventory sync imports it: ansible-inventory --list --export."""
    source = os.path.join(REPO_ROOT, "playbooks", "inventory", "sandbox")
    # The inventory source's environment variables: where the sandbox is.
    env = dict(clean_environment(private_data_dir), EKS_OIDC_SANDBOX_DIR=sandbox["state_dir"])
    result = subprocess.run(
        [venv_tool("ansible-inventory"), "--list", "--export", "-i", source, "--playbook-dir", source],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, "inventory sync failed:\n%s" % result.stderr
    return json.loads(result.stdout)


def write_private(path, content, mode=0o600):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        handle.write(content)


def private_data_dir(root, sandbox, tarball):
    """The job's private data directory, as AWX writes it (module docstring)."""
    os.mkdir(root, 0o700)
    collections = os.path.join(root, "requirements_collections")
    install_collection(tarball, collections)
    for name in ("site", "cleanup"):
        write_private(os.path.join(root, "project", name + ".yml"),
                      "---\n- name: The collection's %s playbook\n  ansible.builtin.import_playbook: kubeauth.eks_oidc.%s\n"
                      % (name, name))
    inventory = synced_inventory(sandbox, root)
    write_private(os.path.join(root, "inventory", "hosts"),
                  "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(inventory), mode=0o700)
    envvars = dict(AWX_ANSIBLE_SETTINGS)
    envvars["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [collections, "~/.ansible/collections", "/usr/share/ansible/collections"])
    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: the job's AWS credential; the rest: Extra Environment Variables.
    envvars.update(sandbox_launcher.environment(sandbox))
    write_private(os.path.join(root, "env", "envvars"), yaml.safe_dump(envvars))
    write_private(os.path.join(root, "env", "extravars"), yaml.dump(
        dict(SURVEY, eks_oidc_region=sandbox["region"]), Dumper=UnsafeStringDumper))
    write_private(os.path.join(root, "env", "settings"), json.dumps(
        {"job_timeout": JOB_TIMEOUT, "suppress_ansible_output": True, "suppress_output_file": True}))
    write_private(os.path.join(root, "env", "cmdline"), "-u root --forks=%d" % len(CLUSTERS))
    return root


def run_job(root, playbook):
    """`ansible-runner run` of project/PLAYBOOK; (status, job events in order)."""
    ident = playbook.split(".")[0]
    result = subprocess.run(
        [venv_tool("ansible-runner"), "run", str(root), "--playbook", playbook, "--ident", ident],
        env=clean_environment(root), capture_output=True, text=True, timeout=JOB_TIMEOUT + 120, check=False,
    )
    artifacts = os.path.join(str(root), "artifacts", ident)
    assert os.path.isdir(os.path.join(artifacts, "job_events")), "ansible-runner wrote no events:\n%s\n%s" % (
        result.stdout, result.stderr)
    events = []
    for name in os.listdir(os.path.join(artifacts, "job_events")):
        with open(os.path.join(artifacts, "job_events", name)) as handle:
            events.append(json.load(handle))
    events.sort(key=lambda event: event["counter"])
    with open(os.path.join(artifacts, "status")) as handle:
        return handle.read().strip(), events


class Secrets:
    """Finds secrets in job events without ever printing one."""

    def __init__(self, literals):
        self.literals = {name: value for name, value in literals.items() if value}

    def kinds(self, text):
        found = [name for name, value in self.literals.items() if value in text]
        found += [name for name, pattern in (("a JWT/JWE token", JWT_SHAPED), ("an EKS token", EKS_TOKEN),
                                             ("a private key", PRIVATE_KEY)) if pattern.search(text)]
        return found

    def redact(self, text):
        for value in self.literals.values():
            text = text.replace(value, "<redacted>")
        for pattern in (JWT_SHAPED, EKS_TOKEN):
            text = pattern.sub("<redacted>", text)
        return text

    def in_events(self, events):
        """'event N (type, task): kind' for every event holding a secret, plain or base64-encoded (slurp)."""
        findings = []
        for event in events:
            for text in strings(event):
                for form in readable_forms(text):
                    for kind in self.kinds(form):
                        findings.append("event %s (%s, task %r): %s" % (
                            event["counter"], event["event"], event.get("event_data", {}).get("task"), kind))
        return sorted(set(findings))


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def readable_forms(text):
    yield text
    compact = "".join(text.split())
    if BASE64_BLOB.match(compact):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decode(compact + "=" * (-len(compact) % 4)).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue


def job_output(events, secrets):
    """The job's stdout (as AWX shows it), secrets redacted, for assertion messages."""
    stdout = "\n".join(event["stdout"] for event in events if event.get("stdout"))
    return secrets.redact(ANSI_ESCAPE.sub("", stdout))[-30000:]


def host_events(events, event_type, predicate):
    return {event["event_data"]["host"]: event for event in events
            if event["event"] == event_type and predicate(event["event_data"])}


def assert_job_succeeded(name, status, events, secrets):
    assert status == "successful", "%s job %s:\n%s" % (name, status, job_output(events, secrets))
    stats = [event["event_data"] for event in events if event["event"] == "playbook_on_stats"]
    assert len(stats) == 1, "%s: no playbook_on_stats event:\n%s" % (name, job_output(events, secrets))
    stats = stats[0]
    assert set(stats["processed"]) == {"localhost", *CLUSTERS}, stats["processed"]
    failed = {host: count for host, count in list(stats["failures"].items()) + list(stats["dark"].items()) if count}
    assert not failed, "%s: failed or unreachable hosts %s:\n%s" % (name, failed, job_output(events, secrets))


def assert_no_secret_in(name, events, secrets):
    leaks = secrets.in_events(events)
    assert not leaks, "%s: secrets in job events:\n%s" % (name, "\n".join(leaks))


def user_pool_names(sandbox):
    return {pool["Name"] for pool in aws(sandbox, "cognito-idp").list_user_pools(MaxResults=60)["UserPools"]}


def identity_provider_configs(sandbox):
    eks = aws(sandbox, "eks")
    return {cluster: eks.list_identity_provider_configs(clusterName=cluster)["identityProviderConfigs"]
            for cluster in CLUSTERS}


@pytest.fixture()
def unassociated_fleet(fleet):
    """conftest.py's fleet (CLUSTERS), found without associations: the test leaves it as it finds it."""
    assert sorted(fleet["clusters"]) == sorted(CLUSTERS), fleet["clusters"]
    assert set(map(len, identity_provider_configs(fleet).values())) == {0}, identity_provider_configs(fleet)
    return fleet


def job_secrets(sandbox):
    """The secrets the job handles: the AWS secret key, and the test user's password once the job generated it.

    The sandbox inventory's password lookup writes the password into the
    sandbox's state directory on first use.
    """
    password_file = os.path.join(sandbox["state_dir"], "test-user.password")
    password = ""
    if os.path.exists(password_file):
        with open(password_file) as handle:
            password = handle.read().strip()
    return Secrets({"the AWS secret access key": sandbox["aws_secret_access_key"],
                    "the test user's password": password})


def is_verify_task(data, task):
    return (data.get("role") or "").split(".")[-1] == "verify" and data.get("task") == task


def test_site_and_cleanup_as_awx_job_templates(unassociated_fleet, collection_tarball, tmp_path):
    fleet = unassociated_fleet
    root = private_data_dir(str(tmp_path / "job"), fleet, collection_tarball)
    try:
        status, events = run_job(root, "site.yml")
        secrets = job_secrets(fleet)
        assert_job_succeeded("site.yml", status, events, secrets)
        assert secrets.literals.get("the test user's password"), "site.yml generated no test user password"
        assert_no_secret_in("site.yml", events, secrets)

        # Step 5's proof on every cluster, as the job's events show it.
        asserted = host_events(events, "runner_on_ok", lambda data: is_verify_task(data, "Expected versus actual"))
        assert set(asserted) == set(CLUSTERS), "the verify role's assertion passed on %s only" % sorted(asserted)
        access = host_events(events, "runner_on_ok",
                             lambda data: data.get("resolved_action") == "kubeauth.eks_oidc.kubernetes_access_info")
        assert set(access) == set(CLUSTERS), sorted(access)
        for cluster, event in access.items():
            result = event["event_data"]["res"]
            assert result["all_ok"] and all(row["ok"] for row in result["rows"]), (cluster, result["rows"])
            assert result["user"]["username"] == EXPECTED_USERNAME, (cluster, result["user"])
            assert EXPECTED_GROUP in result["user"]["groups"], (cluster, result["user"])
        # The survey's pool name reached the roles.
        assert SURVEY["eks_oidc_user_pool_name"] in user_pool_names(fleet)
    finally:
        # The cleanup job template, whatever happened above: the session's other tests need a clean sandbox.
        status, events = run_job(root, "cleanup.yml")
        secrets = job_secrets(fleet)
        assert_job_succeeded("cleanup.yml", status, events, secrets)
        assert_no_secret_in("cleanup.yml", events, secrets)
        assert SURVEY["eks_oidc_user_pool_name"] not in user_pool_names(fleet)
        assert set(map(len, identity_provider_configs(fleet).values())) == {0}, identity_provider_configs(fleet)
