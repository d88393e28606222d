"""Scale: an organisation's users and a fleet of clusters, under throttling (issue 12).

    .venv/bin/python benchmarks/scale.py [--users 1000] [--groups 50] [--baseline-users N]
        [--clusters 8] [--association-delay 60] [--throttle 0.1]
        [--phases directory,throttled,fleet] [--json FILE]

A benchmark that prints figures, not a timed test. Each phase starts its own
private sandbox (tests/sandbox/sandbox.py, random port) with the knobs it
needs, runs real ansible-playbook processes against it, and stops it again:

* directory: the cognito_idp role (one kubeauth.eks_oidc.cognito_user_directory
  task for the users, groups and memberships) with USERS users in GROUPS
  groups, each user with an email, a permanent password and one group; the
  first run and a no-op rerun. Beside it, on its own pool of the same
  sandbox, today's per-user loop (the role's tasks before: one
  cognito_group call per group, one cognito_user call per user) as the
  baseline, first run and rerun, with --baseline-users users (default: USERS).
* throttled: the same directory in a sandbox started with SANDBOX_THROTTLE
  (default 0.1): first run, second run (changed=0 expected), and a check
  from the API that nothing is duplicated or missing.
* fleet: CLUSTERS twin clusters in a sandbox started with
  SANDBOX_EKS_ASSOCIATION_DELAY (default 60 s): playbooks/associate.yml with
  ansible's default forks (5), its no-op rerun, the disassociation, and as
  the baseline the association as it ran before (the module waiting for
  ACTIVE on each host, five hosts at a time).

API calls are counted at the sandbox: every Cognito user pool and EKS API
call that reached MiniStack, throttled ones included (GET /_sandbox/api-calls,
tests/sandbox/knobs.py), taken before and after each run. The machine (CPU,
cores, memory) and the load average around each run are printed with the
figures: on a shared machine they say how much the figures can be trusted.
Passwords are generated per run, written to a 0600 file in a 0700 temporary
directory, and never printed.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import knobs  # noqa: E402  (tests/sandbox/knobs.py: the call count's shape)
import sandbox  # noqa: E402  (tests/sandbox/sandbox.py)

COLLECTIONS = os.path.join(REPO, ".build", "collections")
INVENTORY = os.path.join(REPO, "playbooks", "inventory", "sandbox")
# The cognito_idp role alone, as the scale tests run it.
ROLE_PLAYBOOK = os.path.join(REPO, "tests", "integration", "cognito_idp_role.yml")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
# ansible.posix.profile_tasks' recap: "role : task name ---------- 12.34s"
TASK_TIME = re.compile(r"^(?:[\w.]+ : )?(.+?) -{2,} (\d+\.\d+)s$", re.MULTILINE)
ISSUE_TARGETS = {
    "no-op rerun": "under 15 s and under 100 API calls",
    "first run": "at least 10x faster than the per-user loop",
    "fleet": "associate phase under 1.5 x the association delay with forks=5",
    "throttled": "converges, nothing duplicated, second run changed=0",
}

# The cognito_idp role's tasks before issue 12, for the baseline: the same
# pool and client, then one module call per group and one per user.
PER_USER_LOOP = """
- name: Today's per-user loop (baseline)
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/kubeauth.eks_oidc.aws: "{{ eks_oidc_aws_connection | combine({'region': eks_oidc_region}) }}"
  tasks:
    - name: User pool
      kubeauth.eks_oidc.cognito_user_pool:
        name: "{{ eks_oidc_user_pool_name }}"
        password_policy: {minimum_length: 12}
        username_attributes: [email]
      register: pool
    - name: App client
      kubeauth.eks_oidc.cognito_user_pool_client:
        user_pool_id: "{{ pool.user_pool.id }}"
        name: oidc-client
        allowed_oauth_flows: [code]
        allowed_oauth_scopes: [openid, email]
        callback_urls: ["http://localhost:8000"]
    - name: Groups
      kubeauth.eks_oidc.cognito_group:
        user_pool_id: "{{ pool.user_pool.id }}"
        name: "{{ item.name }}"
      loop: "{{ eks_oidc_groups }}"
      loop_control:
        label: "{{ item.name }}"
    - name: Users
      kubeauth.eks_oidc.cognito_user:
        user_pool_id: "{{ pool.user_pool.id }}"
        username: "{{ item.username }}"
        attributes: "{{ item.attributes | default(omit) }}"
        password: "{{ item.password | default(omit) }}"
        groups: "{{ item.groups | default(omit) }}"
      loop: "{{ eks_oidc_users }}"
      loop_control:
        label: "{{ item.username }}"
      no_log: true
"""

# The association as it ran before issue 12: each host waits for ACTIVE, forks hosts at a time.
ASSOCIATE_ONE_BY_ONE = """
- name: Associate, each host waiting for ACTIVE (baseline)
  hosts: eks_clusters
  gather_facts: false
  module_defaults:
    group/kubeauth.eks_oidc.aws: "{{ eks_oidc_aws_connection | combine({'region': eks_oidc_region}) }}"
  tasks:
    - name: Associate and wait
      kubeauth.eks_oidc.eks_identity_provider_config:
        cluster_name: "{{ eks_oidc_cluster_name }}"
        name: "{{ config_name }}"
        issuer_url: "{{ eks_oidc_issuer_url }}"
        client_id: "{{ eks_oidc_client_id }}"
        username_claim: email
        groups_claim: cognito:groups
        groups_prefix: "gid:"
        wait: true
"""

DISASSOCIATE = """
- name: Disassociate
  hosts: eks_clusters
  gather_facts: false
  roles:
    - role: kubeauth.eks_oidc.eks_oidc
      vars:
        eks_oidc_state: absent
        eks_oidc_identity_provider_config_name: "{{ config_name }}"
"""


# -- the machine and its load --------------------------------------------------------------


def machine():
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    memory = 0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as handle:
        memory = next((int(line.split()[1]) // 1024 for line in handle if line.startswith("MemTotal")), 0)
    ansible = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "--version"],
                             capture_output=True, text=True, check=False).stdout.splitlines()[:1]
    return {"cpu": model, "cores": os.cpu_count(), "memory_mib": memory, "python": platform.python_version(),
            "ansible": ansible[0] if ansible else "unknown", "kernel": platform.release()}


def load():
    return round(os.getloadavg()[0], 1)


# -- running things ----------------------------------------------------------------------------


@contextlib.contextmanager
def private_sandbox(clusters, **knob_values):
    directory = tempfile.mkdtemp(prefix="scale-sandbox-")
    started = time.monotonic()
    try:
        info = sandbox.up(directory, port=0, clusters=clusters, **knob_values)
        print(f"  sandbox up in {time.monotonic() - started:.0f} s: {len(clusters)} cluster(s), knobs {info['knobs']}",
              flush=True)
        yield info
    finally:
        sandbox.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def connection(info):
    return {
        "endpoint_url": info["aws_endpoint_url"],
        "aws_ca_bundle": info["aws_ca_bundle"],
        "access_key": info["aws_access_key_id"],
        "secret_key": info["aws_secret_access_key"],
    }


class Run(dict):
    """One ansible-playbook run: seconds, API calls (and throttled ones), changed per host, load around it."""


def run_playbook(info, workdir, playbook, variables, inventory="localhost,", label=""):
    """ansible-playbook with ``variables`` (a 0600 file), its figures as a Run; fails loudly with its output."""
    path = os.path.join(workdir, "playbook.yml")
    if not os.path.isabs(playbook):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(playbook)
        playbook = path
    vars_file = os.path.join(workdir, "vars.json")
    with open(os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(variables, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               EKS_OIDC_SANDBOX_DIR=info["state_dir"], ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               # Each task's time, for the directory task beside the per-user loop's tasks.
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    env.pop("ANSIBLE_FORKS", None)  # ansible's default forks (5), as the issue's targets say
    calls_before, load_before = sandbox.api_calls(info), load()
    started = time.monotonic()
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook,
         "-e", "@" + vars_file],
        env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    calls = knobs.difference(sandbox.api_calls(info), calls_before)
    if result.returncode != 0:
        raise SystemExit(f"{label}: ansible-playbook failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    recap = {host: int(changed) for host, _ok, changed, _unreachable, _failed in RECAP.findall(result.stdout)}
    recap_start = result.stdout.rfind("TASKS RECAP")
    tasks = dict((name.strip(), float(value)) for name, value in TASK_TIME.findall(result.stdout[recap_start:]))
    run = Run(label=label, seconds=round(seconds, 1), api_calls=knobs.total(calls),
              throttled=knobs.total(calls, "throttled"), changed=sum(recap.values()),
              load_before=load_before, load_after=load(), calls_by_operation=calls["calls"], task_seconds=tasks)
    users_groups = directory_seconds(run)
    print(f"  {label:<46} {run['seconds']:>7.1f} s  {run['api_calls']:>6} API calls"
          f"{' (%d throttled)' % run['throttled'] if run['throttled'] else ''}  changed={run['changed']}"
          f"{'  users+groups tasks %.1f s' % users_groups if users_groups is not None else ''}"
          f"  load {load_before} -> {run['load_after']}", flush=True)
    return run


def directory_seconds(run):
    """The seconds of the tasks that converge groups and users: the directory task, or the loops' two."""
    tasks = run["task_seconds"]
    if "Groups, users and their memberships" in tasks:
        return tasks["Groups, users and their memberships"]
    if "Users" in tasks:
        return round(tasks["Users"] + tasks.get("Groups", 0.0), 1)
    return None


# -- the directory -----------------------------------------------------------------------------


def directory_variables(info, pool_name, users, groups):
    """The role's variables: USERS users user0001@example.com..., one group each, generated passwords."""
    alphabet = string.ascii_letters + string.digits
    group_names = ["team-%02d" % g for g in range(groups)]
    return {
        "eks_oidc_region": info["region"],
        "eks_oidc_aws_connection": connection(info),
        "eks_oidc_user_pool_name": pool_name,
        "eks_oidc_domain": "",
        "eks_oidc_groups": [{"name": name} for name in group_names],
        "eks_oidc_users": [
            {
                "username": "user%04d@example.com" % u,
                "attributes": {"email": "user%04d@example.com" % u},
                # 12+ characters of every class: the role's default password policy.
                "password": "Aa1!" + "".join(secrets.choice(alphabet) for _char in range(16)),
                "groups": [group_names[u % groups]],
            }
            for u in range(1, users + 1)
        ],
    }


def check_directory(info, pool_name, variables):
    """From the API: exactly the declared users, groups and memberships, nothing duplicated or missing."""
    # Standard retry mode: the check's own reads meet SANDBOX_THROTTLE too.
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})
    client = boto3.client("cognito-idp", config=config, **sandbox.boto3_kwargs(info))
    pools = [p for page in client.get_paginator("list_user_pools").paginate(MaxResults=60)
             for p in page["UserPools"] if p["Name"] == pool_name]
    if len(pools) != 1:
        return f"{len(pools)} pools called {pool_name}"
    pool_id = pools[0]["Id"]
    emails = [next(a["Value"] for a in user["Attributes"] if a["Name"] == "email")
              for page in client.get_paginator("list_users").paginate(UserPoolId=pool_id)
              for user in page["Users"]]
    declared = {user["username"]: user for user in variables["eks_oidc_users"]}
    if sorted(emails) != sorted(declared):
        return f"{len(emails)} users ({len(set(emails))} distinct) for {len(declared)} declared"
    problems = []
    for group in variables["eks_oidc_groups"]:
        members = [next(a["Value"] for a in user["Attributes"] if a["Name"] == "email")
                   for page in client.get_paginator("list_users_in_group").paginate(
                       UserPoolId=pool_id, GroupName=group["name"]) for user in page["Users"]]
        wanted = sorted(name for name, user in declared.items() if group["name"] in user["groups"])
        if sorted(members) != wanted:
            problems.append(f"group {group['name']}: {len(members)} members, {len(wanted)} declared")
    return "; ".join(problems) or "exactly as declared"


def directory_phase(args, workdir, results):
    print(f"directory: {args.users} users in {args.groups} groups, and today's per-user loop with "
          f"{args.baseline_users} users", flush=True)
    with private_sandbox([sandbox.DEFAULT_CLUSTER]) as info:
        variables = directory_variables(info, "scale-directory", args.users, args.groups)
        results["directory_first"] = run_playbook(info, workdir, ROLE_PLAYBOOK, variables, label="cognito_idp role, first run")
        results["directory_noop"] = run_playbook(info, workdir, ROLE_PLAYBOOK, variables, label="cognito_idp role, no-op rerun")
        results["directory_check"] = check_directory(info, "scale-directory", variables)
        print(f"  check: {results['directory_check']}", flush=True)
        baseline = directory_variables(info, "scale-loop", args.baseline_users, args.groups)
        results["loop_first"] = run_playbook(info, workdir, PER_USER_LOOP, baseline, label="per-user loop, first run")
        results["loop_noop"] = run_playbook(info, workdir, PER_USER_LOOP, baseline, label="per-user loop, no-op rerun")


def throttled_phase(args, workdir, results):
    print(f"throttled: {args.users} users in {args.groups} groups with SANDBOX_THROTTLE={args.throttle}", flush=True)
    with private_sandbox([sandbox.DEFAULT_CLUSTER], throttle=args.throttle) as info:
        variables = directory_variables(info, "scale-throttled", args.users, args.groups)
        results["throttled_first"] = run_playbook(info, workdir, ROLE_PLAYBOOK, variables, label="cognito_idp role, first run")
        results["throttled_second"] = run_playbook(info, workdir, ROLE_PLAYBOOK, variables, label="cognito_idp role, second run")
        results["throttled_check"] = check_directory(info, "scale-throttled", variables)
        print(f"  check: {results['throttled_check']}", flush=True)


# -- the fleet ---------------------------------------------------------------------------------


def fleet_phase(args, workdir, results):
    names = ["fleet-%d" % n for n in range(1, args.clusters + 1)]
    print(f"fleet: {args.clusters} clusters, SANDBOX_EKS_ASSOCIATION_DELAY={args.association_delay:g}, "
          "ansible's default forks (5)", flush=True)
    with private_sandbox(names, eks_association_delay=args.association_delay) as info:
        client = boto3.client("cognito-idp", **sandbox.boto3_kwargs(info))
        pool = client.create_user_pool(PoolName="fleet")["UserPool"]
        app = client.create_user_pool_client(UserPoolId=pool["Id"], ClientName="fleet")["UserPoolClient"]
        provider = {"eks_oidc_issuer_url": "https://cognito-idp.%s.amazonaws.com/%s" % (info["region"], pool["Id"]),
                    "eks_oidc_client_id": app["ClientId"]}
        playbook = os.path.join(REPO, "playbooks", "associate.yml")
        results["fleet_associate"] = run_playbook(info, workdir, playbook, provider, INVENTORY, "associate.yml")
        results["fleet_noop"] = run_playbook(info, workdir, playbook, provider, INVENTORY, "associate.yml, no-op rerun")
        results["fleet_disassociate"] = run_playbook(info, workdir, DISASSOCIATE, dict(provider, config_name="oidc-config"),
                                                     INVENTORY, "disassociate (eks_oidc role, absent)")
        results["fleet_baseline"] = run_playbook(info, workdir, ASSOCIATE_ONE_BY_ONE,
                                                 dict(provider, config_name="oidc-baseline"), INVENTORY,
                                                 "baseline: each host waits, 5 forks")


# -- the report --------------------------------------------------------------------------------


def per_user_scaled(run, scale):
    """A per-user-loop run as it would be with ``scale`` times the users: its Users task and Admin* calls scaled."""
    users_task = run["task_seconds"].get("Users", 0.0)
    per_user_calls = sum(count for name, count in run["calls_by_operation"].get("cognito-idp", {}).items()
                         if name.startswith("Admin"))
    return {"seconds": run["seconds"] + users_task * (scale - 1),
            "tasks": directory_seconds(run) + users_task * (scale - 1),
            "api_calls": run["api_calls"] + per_user_calls * (scale - 1)}


def summary(args, results):
    lines = []

    def line(text):
        lines.append(text)

    if "directory_first" in results:
        first, noop = results["directory_first"], results["directory_noop"]
        loop_first, loop_noop = results["loop_first"], results["loop_noop"]
        scale = args.users / args.baseline_users
        if scale != 1:
            line(f"per-user loop measured with {args.baseline_users} users; for {args.users} its Users task and its "
                 f"per-user calls (Admin*) are scaled x{scale:g}, the rest (pool, client, {args.groups} groups) is as measured")
        loop_first_s, loop_noop_s = per_user_scaled(loop_first, scale), per_user_scaled(loop_noop, scale)
        line(f"no-op rerun: role {noop['seconds']} s (its users+groups task {directory_seconds(noop)} s), "
             f"{noop['api_calls']} API calls; per-user loop: role {loop_noop_s['seconds']:.0f} s "
             f"(users+groups tasks {loop_noop_s['tasks']:.0f} s), {loop_noop_s['api_calls']:.0f} calls")
        line(f"first run: role {first['seconds']} s (users+groups task {directory_seconds(first)} s), {first['api_calls']} "
             f"calls; per-user loop: role {loop_first_s['seconds']:.0f} s (users+groups tasks {loop_first_s['tasks']:.0f} s), "
             f"{loop_first_s['api_calls']:.0f} calls -> {loop_first_s['seconds'] / first['seconds']:.1f}x faster "
             f"(tasks: {loop_first_s['tasks'] / directory_seconds(first):.1f}x)")
    if "throttled_first" in results:
        line(f"throttled {args.throttle:g}: first run {results['throttled_first']['seconds']} s "
             f"({results['throttled_first']['throttled']} of {results['throttled_first']['api_calls']} calls throttled), "
             f"second run changed={results['throttled_second']['changed']}, {results['throttled_check']}")
    if "fleet_associate" in results:
        line(f"fleet of {args.clusters}, {args.association_delay:g} s association: associate.yml "
             f"{results['fleet_associate']['seconds']} s = {results['fleet_associate']['seconds'] / args.association_delay:.2f}"
             f" x delay (baseline, each host waiting: {results['fleet_baseline']['seconds']} s = "
             f"{results['fleet_baseline']['seconds'] / args.association_delay:.2f} x)")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--baseline-users", type=int, help="users of the per-user loop (default: --users)")
    parser.add_argument("--clusters", type=int, default=8)
    parser.add_argument("--association-delay", type=float, default=60.0)
    parser.add_argument("--throttle", type=float, default=0.1)
    parser.add_argument("--phases", default="directory,throttled,fleet")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    args.baseline_users = args.baseline_users or args.users
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = sorted(set(phases) - {"directory", "throttled", "fleet"})
    if unknown:
        parser.error("unknown phases %s" % ", ".join(unknown))

    results = {"machine": machine(), "arguments": vars(args), "targets": ISSUE_TARGETS}
    print("machine: %(cpu)s, %(cores)s cores, %(memory_mib)s MiB, Python %(python)s, %(ansible)s" % results["machine"])
    print(f"load average (1 min) at start: {load()}", flush=True)
    workdir = tempfile.mkdtemp(prefix="scale-")  # 0700: the variables files hold passwords
    try:
        for phase in phases:
            {"directory": directory_phase, "throttled": throttled_phase, "fleet": fleet_phase}[phase](args, workdir, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["summary"] = summary(args, results)
    print("\n".join(["", "summary:"] + ["  " + text for text in results["summary"]]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
