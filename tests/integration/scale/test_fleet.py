"""A fleet of clusters in one association's time, whatever forks is (issue 12).

A private sandbox of three twin clusters whose associations take at least
DELAY seconds (SANDBOX_EKS_ASSOCIATION_DELAY). playbooks/associate.yml runs
with forks=2 for four hosts (the three clusters and one that does not exist,
which must fail alone and by name): a play that waits on each host before the
next batch starts takes two associations' time, 2 x DELAY and more; starting
them all and then waiting takes about one.
"""

import json
import os
import re
import subprocess
import sys
import time

import boto3
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

import knobs  # noqa: E402
import sandbox as sandbox_launcher  # noqa: E402

# Long enough that ansible's own time (which grows with the machine's load) stays well inside one
# more association's: batch after batch takes 2 x DELAY and more, all at once about DELAY.
DELAY = 30
CLUSTERS = ["fleet-1", "fleet-2", "fleet-3"]
MISSING = "fleet-missing"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", re.MULTILINE)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("fleet-sandbox"))
    try:
        info = sandbox_launcher.up(directory, port=0, clusters=CLUSTERS, eks_association_delay=DELAY)
        cognito = boto3.client("cognito-idp", **sandbox_launcher.boto3_kwargs(info))
        pool = cognito.create_user_pool(PoolName="fleet")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="fleet")["UserPoolClient"]["ClientId"]
        info["provider"] = {"eks_oidc_issuer_url": "https://cognito-idp.%s.amazonaws.com/%s" % (info["region"], pool),
                            "eks_oidc_client_id": client_id}
        yield info
    finally:
        sandbox_launcher.down(directory)


def inventory(info, tmp_path, clusters):
    """A static inventory such as a user writes: one host per cluster, the AWS connection as variables."""
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({
        "all": {"vars": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "eks_oidc_region": info["region"],
            "eks_oidc_aws_connection": {"endpoint_url": info["aws_endpoint_url"], "aws_ca_bundle": info["aws_ca_bundle"],
                                        "access_key": info["aws_access_key_id"], "secret_key": info["aws_secret_access_key"]},
        }},
        "eks_clusters": {"hosts": dict((name, {"eks_oidc_cluster_name": name}) for name in clusters)},
    }))
    return str(path)


def run(info, tmp_path, playbook, clusters, *options, variables=None):
    """ansible-playbook with forks=2; (seconds, {host: (changed, failed)}, output)."""
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(dict(info["provider"], **(variables or {}))))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    started = time.monotonic()
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory(info, tmp_path, clusters),
         "--forks", "2", playbook, "-e", "@%s" % vars_file, *options],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.monotonic() - started
    recap = dict((host, (int(changed), int(failed))) for host, changed, failed in RECAP.findall(result.stdout))
    return seconds, recap, result.stdout + result.stderr


def configs(info):
    eks = boto3.client("eks", **sandbox_launcher.boto3_kwargs(info))
    found = {}
    for name in CLUSTERS:
        refs = eks.list_identity_provider_configs(clusterName=name)["identityProviderConfigs"]
        found[name] = [eks.describe_identity_provider_config(clusterName=name, identityProviderConfig=ref)
                       ["identityProviderConfig"]["oidc"]["status"] for ref in refs]
    return found


ASSOCIATE = os.path.join(REPO, "playbooks", "associate.yml")
DISASSOCIATE = os.path.join(HERE, "disassociate.yml")


def test_check_mode_reports_every_association_and_starts_none(fleet, tmp_path):
    _seconds, recap, output = run(fleet, tmp_path, ASSOCIATE, CLUSTERS, "--check")
    assert all(recap[name] == (1, 0) for name in CLUSTERS), output[-5000:]
    assert configs(fleet) == dict((name, []) for name in CLUSTERS)


def test_the_fleet_associates_in_one_associations_time_and_a_missing_cluster_fails_alone(fleet, tmp_path):
    seconds, recap, output = run(fleet, tmp_path, ASSOCIATE, CLUSTERS + [MISSING])
    assert recap[MISSING][1] == 1
    assert "EKS cluster '%s' does not exist in region %s" % (MISSING, fleet["region"]) in output
    assert all(recap[name] == (1, 0) for name in CLUSTERS), output[-5000:]
    assert configs(fleet) == dict((name, ["ACTIVE"]) for name in CLUSTERS)
    # Batch after batch would take 2 x DELAY and more; all at once about DELAY, plus ansible's own time.
    print("associate.yml, %d clusters of %d s each and a missing one, forks=2: %.1f s" % (len(CLUSTERS), DELAY, seconds))
    assert seconds < 2 * DELAY, output[-5000:]

    # The rerun finds every config ACTIVE: it changes nothing and starts no association (counted at the
    # sandbox, not timed: how long ansible takes depends on the machine's load).
    before = sandbox_launcher.api_calls(fleet)
    _seconds, recap, output = run(fleet, tmp_path, ASSOCIATE, CLUSTERS)
    assert all(recap[name] == (0, 0) for name in CLUSTERS), output[-5000:]
    eks_calls = knobs.difference(sandbox_launcher.api_calls(fleet), before)["calls"].get("eks", {})
    assert eks_calls and not [name for name in eks_calls if name.endswith("/associate")], eks_calls


def test_the_fleet_disassociates_and_waits_until_every_config_is_gone(fleet, tmp_path):
    # A twin's disassociation takes about 20 s whatever the delay (kube-apiserver's reload and its
    # 10 s token cache), so its time is printed, not bounded.
    seconds, recap, output = run(fleet, tmp_path, DISASSOCIATE, CLUSTERS)
    assert all(recap[name] == (1, 0) for name in CLUSTERS), output[-5000:]
    assert configs(fleet) == dict((name, []) for name in CLUSTERS)
    print("eks_oidc role, absent, %d clusters, forks=2: %.1f s" % (len(CLUSTERS), seconds))
