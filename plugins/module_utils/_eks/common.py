# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every EKS module of the collection shares: the client, reading EKS, the one wait loop.

EKS changes a cluster through cluster updates: associating an identity
provider config or changing the control-plane logging starts one, which takes
seconds on the sandbox and up to half an hour on EKS, and a cluster busy with
one update refuses the next (ResourceInUseException). So every change is made
through ``call_when_cluster_idle`` and followed with ``wait_for``, the one
wait loop, on a ``Clock`` that a unit test replaces with one that does not
sleep. Problems the user can fix are raised as ``AnsibleAWSError`` with the
``WaitLog`` of what was seen (module_utils/aws_module.py turns them into the
module's failure).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import paginate

# Throttling codes of EKS beyond the ones AWSRetry knows.
EKS_RETRY_CODES = ["ThrottlingException", "TooManyRequestsException"]

# The status of an identity provider config, and what it reads as once EKS no longer finds it.
ACTIVE, CREATING, DELETING, GONE = "ACTIVE", "CREATING", "DELETING", "GONE"

# The status of a cluster update (DescribeUpdate).
UPDATE_IN_PROGRESS, UPDATE_SUCCESSFUL = "InProgress", "Successful"
UPDATE_FAILED = ("Failed", "Cancelled")

# Seconds between attempts: the first, how much each grows, and the most.
Backoff = collections.namedtuple("Backoff", ["first", "factor", "maximum"])

# Between attempts while the cluster is busy with another update.
BUSY = Backoff(5.0, 2.0, 60.0)


class Clock(object):
    """Time as the waits see it; a unit test hands them one that does not sleep."""

    def now(self):
        """Seconds on a clock that only moves forward, for deadlines."""
        return time.monotonic()

    def wall(self):
        """Seconds since the epoch, for time ranges such as "the last hour"."""
        return time.time()

    def sleep(self, seconds):
        time.sleep(seconds)


def backoff_delays(backoff):
    """first, first*factor, ... capped at maximum, forever."""
    delay = backoff.first
    while True:
        yield min(delay, backoff.maximum)
        delay *= backoff.factor


class WaitLog(object):
    """What the module saw while it waited, for the result: each change of a status, with the time."""

    def __init__(self, clock):
        self.clock = clock
        self.started = clock.now()
        self.entries = []
        self._last = {}

    def elapsed(self):
        return int(round(self.clock.now() - self.started))

    def record(self, subject, **observed):
        """Add an entry unless ``subject`` was last seen exactly so."""
        if self._last.get(subject) == observed:
            return
        self._last[subject] = observed
        entry = {"elapsed_seconds": self.elapsed(), "subject": subject}
        entry.update(observed)
        self.entries.append(entry)

    def last(self, subject):
        """What was last seen of ``subject``, for a message that says how things stood."""
        return self._last.get(subject, {})

    def result(self):
        return {"wait_log": list(self.entries), "elapsed_seconds": self.elapsed()}


def wait_for(poll, deadline, clock, backoff, timed_out):
    """The one wait loop: ``poll()`` until it is done, sleeping ever longer in between.

    ``poll()`` returns ``(done, value)``, and raises when waiting cannot help
    (an update failed). At ``deadline``, ``timed_out()`` returns the error to
    raise; its message says what was last seen and what to do. Returns the
    ``value`` of the poll that was done.
    """
    delays = backoff_delays(backoff)
    while True:
        done, value = poll()
        if done:
            return value
        remaining = deadline - clock.now()
        if remaining <= 0:
            raise timed_out()
        clock.sleep(min(next(delays), remaining))


# ---------------------------------------------------------------------------
# Reading EKS: clusters and their OIDC identity provider configs
# ---------------------------------------------------------------------------

def eks_client(module):
    """The EKS client of every EKS module: throttling and transient errors retried with jittered backoff."""
    return module.client("eks", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=EKS_RETRY_CODES))


def describe_cluster(client, cluster_name):
    """The described cluster, or None when there is none by that name."""
    try:
        return client.describe_cluster(name=cluster_name, aws_retry=True)["cluster"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def require_cluster(client, cluster_name, region):
    cluster = describe_cluster(client, cluster_name)
    if cluster is None:
        raise AnsibleAWSError(
            "EKS cluster '%s' does not exist in region %s; check cluster_name and region (or the endpoint_url)"
            % (cluster_name, region)
        )
    return cluster


def config_ref(name):
    """How the EKS API names an OIDC identity provider config."""
    return {"type": "oidc", "name": name}


def describe_config(client, cluster_name, name, with_tags=True):
    """The described OIDC config (API dict, ``tags`` read from the tag API), or None when it does not exist.

    The tags come from ListTagsForResource: it is what TagResource changes, while
    the emulator's DescribeIdentityProviderConfig keeps the tags of the association.
    """
    try:
        config = client.describe_identity_provider_config(
            clusterName=cluster_name, identityProviderConfig=config_ref(name), aws_retry=True
        )["identityProviderConfig"]["oidc"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    if with_tags and config.get("identityProviderConfigArn"):
        try:
            config["tags"] = client.list_tags_for_resource(resourceArn=config["identityProviderConfigArn"], aws_retry=True)["tags"]
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
    return config


def list_config_names(client, cluster_name):
    """Names of the cluster's OIDC configs."""
    found = paginate(client, "list_identity_provider_configs", clusterName=cluster_name)
    return sorted(ref["name"] for ref in found.get("identityProviderConfigs", []) if ref.get("type") == "oidc")


def read_configs(client, cluster_name, with_tags=True):
    """Every described OIDC config of the cluster."""
    names = list_config_names(client, cluster_name)
    described = (describe_config(client, cluster_name, name, with_tags) for name in names)
    return [config for config in described if config is not None]


# ---------------------------------------------------------------------------
# Changing EKS: the busy-cluster retry and the cluster update
# ---------------------------------------------------------------------------

def cluster_update_in_progress(client, cluster_name):
    """Whether the cluster is busy: updating, or one of its OIDC configs is being associated or disassociated."""
    cluster = describe_cluster(client, cluster_name)
    if cluster is None:
        return False
    if cluster.get("status") not in (None, ACTIVE):
        return True
    return any(c.get("status") in (CREATING, DELETING) for c in read_configs(client, cluster_name, with_tags=False))


def call_when_cluster_idle(call, what, is_busy, deadline, clock, log):
    """``call()``, retried with backoff while EKS answers ResourceInUseException because the cluster is busy.

    EKS takes one cluster update at a time, so a cluster upgrade or another
    change makes it refuse this one for up to half an hour. Retries stop at
    ``deadline``. When EKS refuses although ``is_busy()`` sees nothing going on
    (twice, to allow for an update that just finished), waiting would not help
    and the refusal is reported at once.
    """
    idle_refusals = 0

    def attempt():
        nonlocal idle_refusals
        try:
            return True, call()
        except is_boto3_error_code("ResourceInUseException") as e:
            message = e.response["Error"].get("Message", "")
            busy = is_busy()
            log.record("cluster", waiting_to=what, refused=message, busy=busy)
            idle_refusals = 0 if busy else idle_refusals + 1
            if idle_refusals >= 2:
                raise AnsibleAWSError(
                    "EKS refused to %s: %s (the cluster has no update in progress, so waiting would not help)" % (what, message),
                    **log.result()
                )
            return False, None

    def timed_out():
        return AnsibleAWSError(
            "could not %s: the cluster is still busy with another update after %d seconds; EKS says: %s. "
            "Run the task again later, or raise wait_timeout" % (what, log.elapsed(), log.last("cluster").get("refused")),
            **log.result()
        )

    return wait_for(attempt, deadline, clock, BUSY, timed_out)


def errors_text(errors):
    """The errors of a failed update, as EKS gives them."""
    return "; ".join("%s: %s" % (e.get("errorCode"), e.get("errorMessage")) for e in errors) or "no details given"


class ClusterUpdate(object):
    """One EKS cluster update (an association, a logging change) as DescribeUpdate reports it.

    DescribeUpdate tells a failed update from a slow one. The emulator has no
    DescribeUpdate: once the endpoint cannot describe the update, ``status``
    stays None and the waits judge by the resource alone.
    """

    def __init__(self, client, cluster_name, update_id, subject):
        self.client = client
        self.cluster_name = cluster_name
        self.update_id = update_id
        self.subject = subject  # what the update changes, as the failure message names it
        self.status, self.errors = None, []
        self._describable = bool(update_id)

    def refresh(self):
        """Describe the update again, while the endpoint can."""
        if not self._describable:
            return
        try:
            update = self.client.describe_update(name=self.cluster_name, updateId=self.update_id, aws_retry=True)["update"]
        except is_boto3_error_code(["InvalidRequestException", "ResourceNotFoundException", "InvalidParameterException"]):
            self._describable = False
            return
        self.status, self.errors = update.get("status"), update.get("errors") or []

    def observed(self):
        """What a WaitLog entry says of the update."""
        return {"update_status": self.status} if self.status else {}

    def raise_if_failed(self, log):
        if self.status in UPDATE_FAILED:
            raise AnsibleAWSError(
                "EKS update %s of %s %s: %s" % (self.update_id, self.subject, self.status.lower(), errors_text(self.errors)),
                **log.result()
            )

    def describe(self):
        """The update as a message mentions it: " (update ID STATUS)", or "" while its status is unknown."""
        return " (update %s %s)" % (self.update_id, self.status) if self.status else ""
