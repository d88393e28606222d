"""A user directory under throttling, and a run interrupted half-way (issue 12).

A private sandbox started with SANDBOX_THROTTLE: a fifth of the Cognito (and
EKS) API calls are answered TooManyRequestsException, as Cognito answers a
caller over its quota. The cognito_idp role (its cognito_user_directory task)
must converge anyway, twice to changed=0, with exactly the declared users,
groups and memberships; and a run killed half-way must leave nothing that
the next run duplicates or misses.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import boto3
import botocore.config
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

import knobs  # noqa: E402
import sandbox as sandbox_launcher  # noqa: E402

THROTTLE = 0.2
RECAP = re.compile(r"^localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", re.MULTILINE)
# The test's own reads meet the throttling too: botocore's standard retry mode retries Cognito's
# TooManyRequestsException (its default legacy mode does not).
RETRYING = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("throttled-sandbox"))
    try:
        yield sandbox_launcher.up(directory, port=0, throttle=THROTTLE, throttle_seed=12)
    finally:
        sandbox_launcher.down(directory)


def variables(info, pool_name, users, groups):
    names = ["team-%d" % g for g in range(groups)]
    return {
        "eks_oidc_region": info["region"],
        "eks_oidc_aws_connection": {"endpoint_url": info["aws_endpoint_url"], "aws_ca_bundle": info["aws_ca_bundle"],
                                    "access_key": info["aws_access_key_id"], "secret_key": info["aws_secret_access_key"]},
        "eks_oidc_user_pool_name": pool_name,
        "eks_oidc_domain": "",
        "eks_oidc_groups": [{"name": name} for name in names],
        "eks_oidc_users": [{"username": "user%03d@example.com" % u, "attributes": {"email": "user%03d@example.com" % u},
                            "password": "Scale-Test-%03d!" % u, "groups": [names[u % groups]]}
                           for u in range(users)],
    }


def start(tmp_path, values):
    playbook, vars_file = os.path.join(REPO, "tests", "integration", "cognito_idp_role.yml"), tmp_path / "vars.json"
    vars_file.write_text(json.dumps(values))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", playbook,
         "-e", "@%s" % vars_file], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # a session of its own, as a job runner starts it


def converge(tmp_path, values):
    """The role once; (changed, output). Fails the test when the run fails."""
    proc = start(tmp_path, values)
    output = proc.communicate(timeout=600)[0]
    recap = RECAP.search(output)
    assert proc.returncode == 0 and recap, output[-8000:]
    return int(recap.group(1)), output


def pool_id(client, name):
    ids = [p["Id"] for page in client.get_paginator("list_user_pools").paginate(MaxResults=60)
           for p in page["UserPools"] if p["Name"] == name]
    assert len(ids) == 1, "pools called %s: %s" % (name, ids)
    return ids[0]


def email(user):
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "email")


def directory(info, name):
    """The pool's users (emails, in the order listed) and each group's members, read from the API."""
    client = boto3.client("cognito-idp", config=RETRYING, **sandbox_launcher.boto3_kwargs(info))
    pool = pool_id(client, name)
    users = [email(user) for page in client.get_paginator("list_users").paginate(UserPoolId=pool) for user in page["Users"]]
    groups = [g["GroupName"] for page in client.get_paginator("list_groups").paginate(UserPoolId=pool) for g in page["Groups"]]
    members = dict((group, sorted(email(user) for page in client.get_paginator("list_users_in_group").paginate(
        UserPoolId=pool, GroupName=group) for user in page["Users"])) for group in groups)
    statuses = set(user["UserStatus"] for page in client.get_paginator("list_users").paginate(UserPoolId=pool)
                   for user in page["Users"])
    return users, members, statuses


def process_tree(pid):
    """``pid`` and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue  # /proc/self, /proc/meminfo, ...
        try:
            with open("/proc/%s/stat" % entry) as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue  # gone
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


def kill_run(proc):
    """SIGKILL the run as a crash or a cancelled job does: ansible-playbook, its workers and their modules.

    Ansible's workers start sessions of their own (WorkerProcess._detach), out of the run's process group,
    so the whole tree is stopped first (until it forks no more), then killed; else the workers would go
    on with their tasks after the test."""
    stopped = set()
    while True:
        tree = set(process_tree(proc.pid)) - stopped
        if not tree:
            break
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= tree
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def declared(values):
    users = [user["username"] for user in values["eks_oidc_users"]]
    members = dict((group["name"], sorted(user["username"] for user in values["eks_oidc_users"]
                                          if group["name"] in user["groups"])) for group in values["eks_oidc_groups"])
    return users, members


def test_a_throttled_directory_converges_twice_to_nothing_changed(throttled, tmp_path):
    values = variables(throttled, "throttled", users=40, groups=4)
    before = sandbox_launcher.api_calls(throttled)
    assert converge(tmp_path, values)[0] > 0
    changed, output = converge(tmp_path, values)
    assert changed == 0, output[-8000:]
    calls = knobs.difference(sandbox_launcher.api_calls(throttled), before)
    assert knobs.total(calls, "throttled", "cognito-idp") > 0  # the runs did meet throttling
    users, members, statuses = directory(throttled, "throttled")
    wanted_users, wanted_members = declared(values)
    assert sorted(users) == sorted(wanted_users) and len(set(users)) == len(users)
    assert members == wanted_members
    assert statuses == {"CONFIRMED"}  # every password set


def test_a_run_killed_half_way_is_finished_by_the_next_with_nothing_duplicated(throttled, tmp_path):
    values = variables(throttled, "interrupted", users=150, groups=5)
    client = boto3.client("cognito-idp", config=RETRYING, **sandbox_launcher.boto3_kwargs(throttled))
    proc = start(tmp_path, values)
    deadline = time.monotonic() + 300
    created = 0
    while created < 15:  # some users there, most not yet
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be interrupted"
        time.sleep(0.2)
        try:
            pool = pool_id(client, "interrupted")
            created = client.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"]
        except AssertionError:
            continue  # the pool is not there yet
    kill_run(proc)
    half_way = len(directory(throttled, "interrupted")[0])
    assert 15 <= half_way < 150

    assert converge(tmp_path, values)[0] > 0
    assert converge(tmp_path, values)[0] == 0
    users, members, statuses = directory(throttled, "interrupted")
    wanted_users, wanted_members = declared(values)
    assert sorted(users) == sorted(wanted_users) and len(set(users)) == len(users)
    assert members == wanted_members
    assert statuses == {"CONFIRMED"}
