"""EKS's timing and the AWS request quotas, as the sandbox stands in for them (docs/sandbox.md, "Timing and throttling").

Two knobs, read by ministack_hook.py from its environment (sandbox.py's
``up(..., eks_association_delay=..., throttle=..., throttle_seed=...)`` sets them):

- ``SANDBOX_EKS_ASSOCIATION_DELAY``: seconds an identity provider
  association (or disassociation) takes at least before the config is
  ACTIVE (or gone). Unset or 0: as fast as the control plane applies it.
- ``SANDBOX_THROTTLE``: the fraction of Cognito user pool and EKS API calls
  answered as the real services answer a throttled call: HTTP 400 with
  ``TooManyRequestsException`` (Cognito) or ``ThrottlingException`` (EKS),
  so that botocore's retries and AWSRetry meet real throttling. Which calls
  are throttled comes from a random generator seeded with
  ``SANDBOX_THROTTLE_SEED`` (default 0): the same sequence of calls is
  throttled the same way on every run.

Also the count of API calls per service and operation that the hook serves
at ``GET /_sandbox/api-calls``, so a benchmark counts what reached "AWS".
Pure logic only: the hook wires it into MiniStack.
"""

from __future__ import annotations

import collections
import os
import random
import re
import threading

ASSOCIATION_DELAY_ENV = "SANDBOX_EKS_ASSOCIATION_DELAY"
THROTTLE_ENV = "SANDBOX_THROTTLE"
THROTTLE_SEED_ENV = "SANDBOX_THROTTLE_SEED"
API_CALLS_PATH = "/_sandbox/api-calls"
AUDIT_SHIPPER_PATH = "/_sandbox/audit-shipper"

# The services whose API calls are throttled and counted, by MiniStack's service name.
COGNITO, EKS = "cognito-idp", "eks"
_COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# An EKS REST path with its names replaced, so one operation counts as one key:
# /clusters/NAME/identity-provider-configs/describe -> /clusters/{name}/identity-provider-configs/describe
_EKS_NAMED_SEGMENT = re.compile(r"^(/(?:clusters|addons|fargate-profiles|node-groups|updates|access-entries"
                                r"|identity-provider-configs|tags)/)[^/]+")


class KnobError(ValueError):
    """A knob's value the sandbox cannot use; the message names the variable."""


def _number(environ: dict, name: str, default: float) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise KnobError(f"{name}={raw!r} is not a number") from None


def association_delay(environ: dict | None = None) -> float:
    """SANDBOX_EKS_ASSOCIATION_DELAY in seconds (0 when unset)."""
    delay = _number(os.environ if environ is None else environ, ASSOCIATION_DELAY_ENV, 0.0)
    if delay < 0:
        raise KnobError(f"{ASSOCIATION_DELAY_ENV} must be 0 or more seconds, got {delay:g}")
    return delay


def throttle_fraction(environ: dict | None = None) -> float:
    """SANDBOX_THROTTLE as a fraction in [0, 1) (0 when unset)."""
    fraction = _number(os.environ if environ is None else environ, THROTTLE_ENV, 0.0)
    if not 0 <= fraction < 1:
        raise KnobError(f"{THROTTLE_ENV} must be a fraction from 0 to below 1 (0.1 = one call in ten), got {fraction:g}")
    return fraction


def throttle_seed(environ: dict | None = None) -> int:
    raw = ((os.environ if environ is None else environ).get(THROTTLE_SEED_ENV) or "").strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise KnobError(f"{THROTTLE_SEED_ENV}={raw!r} is not an integer") from None


def operation(service: str, method: str, path: str, headers: dict) -> str | None:
    """The API operation a request calls, as counted and throttled; None for what is not an API call.

    Cognito's OAuth2/OIDC endpoints (hosted UI, token, discovery) are not
    user pool API calls; AWS rates them separately.
    """
    if service == COGNITO:
        target = headers.get("x-amz-target", "")
        return target[len(_COGNITO_TARGET_PREFIX):] if target.startswith(_COGNITO_TARGET_PREFIX) else None
    if service == EKS:
        return f"{method} {_EKS_NAMED_SEGMENT.sub(lambda m: m.group(1) + '{name}', path)}"
    return None


class Throttle:
    """Decides which calls are throttled: each with probability ``fraction``, from a seeded generator."""

    def __init__(self, fraction: float, seed: int = 0) -> None:
        self.fraction = fraction
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def hit(self) -> bool:
        if not self.fraction:
            return False
        with self._lock:
            return self._random.random() < self.fraction


class CallCounter:
    """API calls per service and operation, and how many of them were throttled."""

    def __init__(self) -> None:
        self._calls: collections.Counter = collections.Counter()
        self._throttled: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def add(self, service: str, name: str, throttled: bool) -> None:
        with self._lock:
            self._calls[(service, name)] += 1
            if throttled:
                self._throttled[(service, name)] += 1

    def snapshot(self) -> dict:
        """``{"calls": {service: {operation: n}}, "throttled": {...}}``, as /_sandbox/api-calls answers."""
        with self._lock:
            report = {"calls": {}, "throttled": {}}
            for kind, counter in (("calls", self._calls), ("throttled", self._throttled)):
                for (service, name), count in sorted(counter.items()):
                    report[kind].setdefault(service, {})[name] = count
            return report


def total(report: dict, kind: str = "calls", service: str | None = None) -> int:
    """The number of calls (or throttled calls) in a snapshot, of one service or all."""
    return sum(count for name, per_operation in report.get(kind, {}).items()
               if service in (None, name) for count in per_operation.values())


def difference(after: dict, before: dict) -> dict:
    """What happened between two snapshots, in the snapshot's shape (operations that did not occur left out)."""
    report = {"calls": {}, "throttled": {}}
    for kind in report:
        for service, per_operation in after.get(kind, {}).items():
            for name, count in per_operation.items():
                delta = count - before.get(kind, {}).get(service, {}).get(name, 0)
                if delta:
                    report[kind].setdefault(service, {})[name] = delta
    return report
