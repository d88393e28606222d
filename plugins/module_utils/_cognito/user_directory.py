# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply a user pool's whole directory in one call (module cognito_user_directory).

The directory is the pool's groups, its users (attributes, enabled state,
passwords on create) and who belongs to which group. One run reads it once,
each list paginated: DescribeUserPool (how users sign in, the password
policy), ListGroups, ListUsers, and ListUsersInGroup for the groups that
matter (1000 users in 50 groups: 69 calls). It compares that with what the
task declares, the same way cognito_user and cognito_group compare one user
or group (their functions are reused), and then changes only what differs:
declared groups first (memberships need them), then users, concurrently
within Cognito's quotas (quotas.py), then the groups ``purge_groups`` removes.

Nothing is removed unless asked: users not declared with ``purge_users``,
groups not declared with ``purge_groups``, memberships not declared with a
user's ``purge_groups`` (default: ``purge_memberships``).

A run interrupted half-way leaves no harm a second run does not repair:
every step is one idempotent call or treats "already there" as done
(a user that exists when it is created, a group that exists, a user already
gone), and the second run's plan holds exactly what the first did not do.
Passwords are never in results, diffs or messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import describe_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import password_policy_violations
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import comparable_group
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import desired_group
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import update_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.group import validate_group_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.quotas import QuotaLimiter
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import PASSWORD_DIFF
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import attribute_list
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import attributes_dict
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import changed_attributes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import create_request
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import desired_attributes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import password_to_set
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import passwords_to_check
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.user import validate_user_params
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

# Problems listed in one message before "and N more".
MAX_LISTED = 10

# The user operations a run may make, for sizing its thread pool (quotas.QuotaLimiter.workers).
USER_OPERATIONS = (
    "admin_create_user", "admin_set_user_password", "admin_update_user_attributes", "admin_enable_user",
    "admin_add_user_to_group", "admin_remove_user_from_group",
)

CREATE, UPDATE, DELETE = "create", "update", "delete"


def listed(items):
    """``a, b, c`` for a message, at most MAX_LISTED of them."""
    items = list(items)
    text = ", ".join(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        text += " and %d more" % (len(items) - MAX_LISTED)
    return text


# ---------------------------------------------------------------------------
# Checks before any API call (pure)
# ---------------------------------------------------------------------------

def validate_params(params):
    """Refuse, before any API call, what Cognito would refuse or what cannot be meant."""
    for group in params["groups"]:
        try:
            validate_group_params(group)
        except AnsibleAWSError as e:
            raise AnsibleAWSError("groups: %s: %s" % (group.get("name") or "(no name)", e.message))
    for user in params["users"]:
        try:
            validate_user_params(user)
        except AnsibleAWSError as e:
            raise AnsibleAWSError("users: %s: %s" % (user.get("username") or "(no username)", e.message))
    names = [group["name"] for group in params["groups"]]
    twice = sorted(set(name for name in names if names.count(name) > 1))
    if twice:
        raise AnsibleAWSError("groups: %s declared more than once; declare each group once" % listed(twice))


# ---------------------------------------------------------------------------
# The directory as read from Cognito
# ---------------------------------------------------------------------------

class Directory(object):
    """What the pool holds: its users, groups and memberships, and how a declared username finds its user.

    In a pool whose users sign in with their email (``UsernameAttributes``)
    AWS stores each user under a generated id and the email is an attribute:
    the declared username is looked up by the stored name and by each
    sign-in attribute, case-insensitively unless the pool is case sensitive.
    """

    def __init__(self, pool, users, groups):
        self.pool = pool
        self.case_sensitive = (pool.get("UsernameConfiguration") or {}).get("CaseSensitive", True)
        self.sign_in_attributes = pool.get("UsernameAttributes") or []
        self.users = dict((user["Username"], user) for user in users)
        self.groups = dict((group["GroupName"], group) for group in groups)
        self.memberships = {}  # stored username -> groups, of the groups whose members were read
        self._index = {}
        for user in users:
            attributes = attributes_dict(user)
            keys = [user["Username"]] + [attributes[a] for a in self.sign_in_attributes if attributes.get(a)]
            for key in set(self.key(k) for k in keys):
                self._index.setdefault(key, []).append(user["Username"])

    def key(self, name):
        return name if self.case_sensitive else name.lower()

    def find(self, username):
        """The user a declared username names, or None; refuses a name that fits two users."""
        found = self._index.get(self.key(username), [])
        if len(found) > 1:
            raise AnsibleAWSError(
                "username '%s' matches %d users of pool '%s' (%s), by name or sign-in attribute; remove the "
                "duplicate users (kubeauth.eks_oidc.cognito_user, state: absent) first"
                % (username, len(found), self.pool["Id"], ", ".join(sorted(found)))
            )
        return self.users[found[0]] if found else None

    def add_members(self, group, usernames):
        for username in usernames:
            self.memberships.setdefault(username, set()).add(group)

    def groups_of(self, username):
        return sorted(self.memberships.get(username, ()))


def groups_to_read(params, existing_groups):
    """The groups whose members the plan needs: those users name, or every group when memberships may be purged."""
    if not params["users"] or params["state"] == "absent":
        return []
    purging = any(purges_memberships(user, params) for user in params["users"])
    if purging:
        return sorted(existing_groups)
    named = set()
    for user in params["users"]:
        named.update(user.get("groups") or [])
    return sorted(named & set(existing_groups))


def purges_memberships(user, params):
    """Whether a declared user leaves the groups it does not list (its ``purge_groups``, else ``purge_memberships``)."""
    if user.get("groups") is None:
        return False
    return params["purge_memberships"] if user.get("purge_groups") is None else user["purge_groups"]


def read_directory(limiter, params, pool):
    """The Directory of the described ``pool``: its groups and (when users matter) its users, each list read once."""
    pool_id = pool["Id"]
    groups = limiter.paginate("list_groups", UserPoolId=pool_id, Limit=60)
    users = []
    if params["users"] or params["purge_users"]:
        users = limiter.paginate("list_users", UserPoolId=pool_id, Limit=60)
    return Directory(pool, users, groups)


def read_memberships(limiter, params, directory):
    """Add the members of the groups the plan needs to ``directory``, several groups at once."""
    pool_id = directory.pool["Id"]

    def members(name):
        found = limiter.paginate("list_users_in_group", UserPoolId=pool_id, GroupName=name, Limit=60)
        return name, [user["Username"] for user in found]

    names = groups_to_read(params, directory.groups)
    with concurrent.futures.ThreadPoolExecutor(max_workers=limiter.limit("list_users_in_group")) as readers:
        for name, usernames in readers.map(members, names):
            directory.add_members(name, usernames)


# ---------------------------------------------------------------------------
# The plan (pure): what changes, per group and per user
# ---------------------------------------------------------------------------

class GroupChange(object):
    """A group to create, update or delete."""

    def __init__(self, name, action, changes, request):
        self.name = name
        self.action = action
        self.changes = changes
        self.request = request  # CreateGroup/UpdateGroup/DeleteGroup arguments

    def report(self):
        return {"action": self.action, "changes": self.changes}


class UserChange(object):
    """A user to create, update or delete, and the calls that do it.

    ``params`` and ``password`` hold secrets: only ``report()``, ``before``
    and ``after`` leave this object, and they carry none.
    """

    def __init__(self, username, action, stored_username=None, params=None):
        self.username = username  # as declared (or the stored name of an undeclared user)
        self.action = action
        self.stored_username = stored_username
        self.params = params
        self.changes = {}
        self.before, self.after = {}, {}
        self.attributes = {}  # to update
        self.password = None  # (password, permanent)
        self.enabled = None  # to set
        self.add_groups, self.remove_groups = [], []

    def report(self):
        return {"action": self.action, "changes": self.changes}


def user_state(user, groups):
    """What is compared of a user, as the diff shows it."""
    return {"attributes": attributes_dict(user), "enabled": user.get("Enabled", True), "groups": sorted(groups)}


def planned_groups_of(user, current, params):
    """The groups a declared user belongs to after the run."""
    wanted = user.get("groups")
    if wanted is None:
        return sorted(current)
    if purges_memberships(user, params):
        return sorted(set(wanted))
    return sorted(set(current) | set(wanted))


def plan_group(declared, current):
    """The GroupChange for a declared group, or None when it is as declared."""
    desired = desired_group(declared)
    if current is None:
        request = dict(desired, GroupName=declared["name"])
        return GroupChange(declared["name"], CREATE, dict((k, {"before": None, "after": v}) for k, v in desired.items()), request)
    changes = plan_changes(comparable_group(current), desired)
    if not changes:
        return None
    request = update_request(current, desired)
    request.pop("UserPoolId")
    return GroupChange(declared["name"], UPDATE, changes, request)


def plan_new_user(declared):
    change = UserChange(declared["username"], CREATE, params=declared)
    attributes = desired_attributes(declared.get("attributes")) or {}
    groups = sorted(set(declared.get("groups") or []))
    enabled = declared.get("enabled", True)
    change.after = {"attributes": attributes, "enabled": enabled, "groups": groups}
    if declared.get("password"):
        change.password = (declared["password"], True)
        change.after["password"] = PASSWORD_DIFF["after"]
    if not enabled:
        change.enabled = False
    change.add_groups = groups
    change.changes = dict((path, {"before": None, "after": value}) for path, value in change.after.items())
    return change


def plan_existing_user(declared, user, current_groups, params):
    """The UserChange for a declared user that exists, or None when it is as declared."""
    change = UserChange(declared["username"], UPDATE, stored_username=user["Username"], params=declared)
    desired = {
        "attributes": desired_attributes(declared.get("attributes")),
        "enabled": declared.get("enabled"),
        "groups": planned_groups_of(declared, current_groups, params),
    }
    before = user_state(user, current_groups)
    changes = plan_changes(before, desired)
    password, permanent, option = password_to_set(declared, user)
    if password:
        changes["password"] = dict(PASSWORD_DIFF)
        change.password = (password, permanent)
    if not changes:
        return None
    change.changes = changes
    change.attributes = changed_attributes(changes, desired["attributes"] or {})
    if "enabled" in changes:
        change.enabled = desired["enabled"]
    change.add_groups = sorted(set(desired["groups"]) - set(current_groups))
    change.remove_groups = sorted(set(current_groups) - set(desired["groups"]))
    after = dict(before, groups=desired["groups"])
    after["attributes"] = dict(before["attributes"], **change.attributes)
    if change.enabled is not None:
        after["enabled"] = change.enabled
    if password:
        before["password"], after["password"] = PASSWORD_DIFF["before"], PASSWORD_DIFF["after"]
    change.before, change.after = before, after
    return change


def plan_deleted_user(username, user, groups):
    change = UserChange(username, DELETE, stored_username=user["Username"])
    change.before = user_state(user, groups)
    change.changes = {"user": {"before": username, "after": None}}
    return change


class Plan(object):
    """Everything a run changes, decided before the first change."""

    def __init__(self):
        self.groups = []  # GroupChange: create/update, applied first
        self.users = []  # UserChange
        self.deleted_groups = []  # GroupChange: delete, applied last
        self.unchanged_users = 0
        self.unchanged_groups = 0

    @property
    def changed(self):
        return bool(self.groups or self.users or self.deleted_groups)

    def summary(self):
        def count(changes, action):
            return sum(1 for change in changes if change.action == action)

        all_groups = self.groups + self.deleted_groups
        return {
            "users": {"created": count(self.users, CREATE), "updated": count(self.users, UPDATE),
                      "deleted": count(self.users, DELETE), "unchanged": self.unchanged_users},
            "groups": {"created": count(all_groups, CREATE), "updated": count(all_groups, UPDATE),
                       "deleted": count(all_groups, DELETE), "unchanged": self.unchanged_groups},
            "memberships": {"added": sum(len(c.add_groups) for c in self.users),
                            "removed": sum(len(c.remove_groups) for c in self.users)},
        }

    def result(self, pool_id):
        """The module's result: the plan per user and per group, a summary, and the diff. No secrets."""
        all_groups = self.groups + self.deleted_groups
        return {
            "changed": self.changed,
            "user_pool_id": pool_id,
            "summary": self.summary(),
            "users": dict((c.username, c.report()) for c in self.users),
            "groups": dict((c.name, c.report()) for c in all_groups),
            "diff": {
                "before": {"users": dict((c.username, c.before) for c in self.users),
                           "groups": dict((c.name, dict((k, v["before"]) for k, v in c.changes.items())) for c in all_groups)},
                "after": {"users": dict((c.username, c.after) for c in self.users),
                          "groups": dict((c.name, dict((k, v["after"]) for k, v in c.changes.items())) for c in all_groups)},
            },
        }


def check_declared_users(params, directory):
    """Refuse, before any change: a user declared twice, groups that will not exist, passwords the policy rejects."""
    pool_id = params["user_pool_id"]
    seen = {}
    for user in params["users"]:
        found = directory.find(user["username"])
        key = found["Username"] if found else directory.key(user["username"])
        seen.setdefault(key, []).append(user["username"])
    twice = sorted(", ".join(names) for names in seen.values() if len(names) > 1)
    if twice:
        raise AnsibleAWSError("users: %s name the same user; declare each user once" % listed("(%s)" % t for t in twice))
    if params["state"] == "absent":
        return
    declared_groups = set(group["name"] for group in params["groups"])
    available = declared_groups | (set() if params["purge_groups"] else set(directory.groups))
    missing = {}
    for user in params["users"]:
        for group in user.get("groups") or []:
            if group not in available:
                missing.setdefault(group, []).append(user["username"])
    if missing:
        raise AnsibleAWSError(
            "users name groups that %s: %s; declare them in groups (or create them with kubeauth.eks_oidc.cognito_group)"
            % ("are not declared (purge_groups deletes the others)" if params["purge_groups"] else "do not exist in "
               "user pool '%s' and are not declared" % pool_id,
               listed("%s (%s)" % (group, listed(users)) for group, users in sorted(missing.items())))
        )
    policy = directory.pool.get("Policies", {}).get("PasswordPolicy")
    problems = []
    for user in params["users"]:
        found = directory.find(user["username"])
        for option, password in sorted(passwords_to_check(user, found).items()):
            lacks = password_policy_violations(password, policy)
            if lacks:
                problems.append("%s: %s needs %s" % (user["username"], option, ", ".join(lacks)))
    if problems:
        raise AnsibleAWSError(
            "the password policy of user pool '%s' is not met: %s; nothing was changed" % (pool_id, listed(problems))
        )


def plan_present(params, directory):
    plan = Plan()
    for declared in params["groups"]:
        change = plan_group(declared, directory.groups.get(declared["name"]))
        if change:
            plan.groups.append(change)
        else:
            plan.unchanged_groups += 1
    declared_users = set()
    for declared in params["users"]:
        user = directory.find(declared["username"])
        if user is None:
            plan.users.append(plan_new_user(declared))
            continue
        declared_users.add(user["Username"])
        change = plan_existing_user(declared, user, directory.groups_of(user["Username"]), params)
        if change:
            plan.users.append(change)
        else:
            plan.unchanged_users += 1
    if params["purge_users"]:
        for stored, user in sorted(directory.users.items()):
            if stored not in declared_users:
                plan.users.append(plan_deleted_user(stored, user, directory.groups_of(stored)))
    if params["purge_groups"]:
        declared_groups = set(group["name"] for group in params["groups"])
        for name, group in sorted(directory.groups.items()):
            if name not in declared_groups:
                plan.deleted_groups.append(GroupChange(name, DELETE, {"group": {"before": name, "after": None}}, {"GroupName": name}))
    return plan


def plan_absent(params, directory):
    """Delete the declared users and groups that exist; nothing else."""
    plan = Plan()
    for declared in params["users"]:
        user = directory.find(declared["username"])
        if user is not None:
            plan.users.append(plan_deleted_user(declared["username"], user, directory.groups_of(user["Username"])))
    for declared in params["groups"]:
        if declared["name"] in directory.groups:
            plan.deleted_groups.append(GroupChange(declared["name"], DELETE, {"group": {"before": declared["name"], "after": None}},
                                                   {"GroupName": declared["name"]}))
    return plan


# ---------------------------------------------------------------------------
# Applying the plan
# ---------------------------------------------------------------------------

def apply_group(limiter, pool_id, change):
    operation = {CREATE: "create_group", UPDATE: "update_group", DELETE: "delete_group"}[change.action]
    try:
        limiter.call(operation, UserPoolId=pool_id, **change.request)
    except is_boto3_error_code("GroupExistsException"):
        pass  # created by an earlier, interrupted run (or meanwhile): there it is
    except is_boto3_error_code("ResourceNotFoundException"):
        if change.action != DELETE:
            raise  # a group to delete that is gone already is done


def apply_user(limiter, pool_id, change):
    """The calls of one UserChange, in order; each tolerates what an interrupted earlier run left done."""
    name = change.stored_username
    if change.action == DELETE:
        try:
            limiter.call("admin_delete_user", UserPoolId=pool_id, Username=name)
        except is_boto3_error_code("UserNotFoundException"):
            pass
        return
    password = change.password
    if change.action == CREATE:
        request = create_request(dict(change.params, user_pool_id=pool_id))
        try:
            name = limiter.call("admin_create_user", **request)["User"]["Username"]
        except is_boto3_error_code("UsernameExistsException"):
            # An earlier run created it and stopped (or its answer was lost): finish it as an update would,
            # giving the password only to a user that still waits for one.
            user = limiter.call("admin_get_user", UserPoolId=pool_id, Username=change.username)
            name = user["Username"]
            password = password_to_set(change.params, user)[:2]
    if change.attributes:
        limiter.call("admin_update_user_attributes", UserPoolId=pool_id, Username=name,
                     UserAttributes=attribute_list(change.attributes))
    if password and password[0]:
        limiter.call("admin_set_user_password", UserPoolId=pool_id, Username=name, Password=password[0],
                     Permanent=password[1])
    if change.enabled is not None:
        limiter.call("admin_enable_user" if change.enabled else "admin_disable_user", UserPoolId=pool_id, Username=name)
    for group in change.add_groups:
        limiter.call("admin_add_user_to_group", UserPoolId=pool_id, Username=name, GroupName=group)
    for group in change.remove_groups:
        limiter.call("admin_remove_user_from_group", UserPoolId=pool_id, Username=name, GroupName=group)


def error_text(e):
    """An AWS error as a message part: operation, code and message (never a request's parameters)."""
    if isinstance(e, botocore.exceptions.ClientError):
        error = e.response.get("Error", {})
        return "%s: %s: %s" % (e.operation_name, error.get("Code"), error.get("Message"))
    return str(e)


def run_all(items, job, workers):
    """``job(item)`` for every item on ``workers`` threads; ``[(item, error text)]`` of those that failed.

    One item's failure (a user Cognito refuses) does not stop the others: a
    run does all it can, and the next run finds only what is still missing.
    """
    failures = []

    def guarded(item):
        try:
            job(item)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            failures.append((item, error_text(e)))

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as executor:
        list(executor.map(guarded, items))
    return failures


def apply_plan(limiter, pool_id, plan):
    """Groups, then users (concurrently within the quotas), then deleted groups: ``[(kind, name, error)]`` of failures.

    Users wait for every declared group: when one cannot be created or
    updated, no user is changed (their memberships would fail).
    """
    failures = run_all(plan.groups, lambda c: apply_group(limiter, pool_id, c), 1)
    if failures:
        return [("group", c.name, e) for c, e in failures], len(plan.users) + len(plan.deleted_groups)
    failures = [("user", c.username, e) for c, e in
                run_all(plan.users, lambda c: apply_user(limiter, pool_id, c), limiter.workers(USER_OPERATIONS))]
    failures += [("group", c.name, e) for c, e in run_all(plan.deleted_groups, lambda c: apply_group(limiter, pool_id, c), 1)]
    return failures, 0


# ---------------------------------------------------------------------------
# The module's flow
# ---------------------------------------------------------------------------

def converge(module, client):
    """The flow of cognito_user_directory."""
    params = module.params
    validate_params(params)
    try:
        limiter = QuotaLimiter(client, params.get("request_quotas"))
    except ValueError as e:
        raise AnsibleAWSError(str(e))
    pool_id = params["user_pool_id"]
    pool = describe_user_pool(client, pool_id)
    if pool is None:
        if params["state"] == "absent":  # no pool, no directory: nothing left to delete
            return Plan().result(pool_id)
        raise AnsibleAWSError("user pool '%s' does not exist; create it first (kubeauth.eks_oidc.cognito_user_pool)" % pool_id)
    directory = read_directory(limiter, params, pool)
    check_declared_users(params, directory)
    read_memberships(limiter, params, directory)
    plan = plan_absent(params, directory) if params["state"] == "absent" else plan_present(params, directory)
    result = plan.result(pool_id)
    if module.check_mode or not plan.changed:
        return result
    failures, not_started = apply_plan(limiter, pool_id, plan)
    if failures:
        raise AnsibleAWSError(
            "%d change(s) of user pool '%s' failed: %s; %d planned change(s) were not started. What was done is kept: "
            "fix the cause and run the task again, it does only what is still missing"
            % (len(failures), pool_id, listed("%s %s: %s" % failure for failure in failures), not_started),
            failures=[{"kind": kind, "name": name, "error": error} for kind, name, error in failures],
            **result
        )
    return result
