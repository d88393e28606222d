"""EKS control-plane logging for the twin: the logging config, and the audit log shipper.

EKS sends a cluster's control-plane logs to CloudWatch Logs group
``/aws/eks/NAME/cluster`` for the log types that are enabled (UpdateClusterConfig
``logging``); the audit log goes to streams ``kube-apiserver-audit-<id>``, one
JSON audit.k8s.io/v1 Event per log event. The twin does the same for the audit
log type: every kube-apiserver writes its audit events to a file all the time
(controlplane.py), and `Shipper` tails those files and, while a cluster's
``audit`` type is enabled, sends the new lines to MiniStack with PutLogEvents,
through MiniStack's ordinary CloudWatch Logs API. Lines written while it is
disabled are skipped, so enabling it ships only what happens afterwards, as on
EKS. The other log types (api, authenticator, controllerManager, scheduler)
can be enabled, but nothing is shipped for them.

No MiniStack import here: the hook passes in what it needs.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import threading
import time
import uuid

log = logging.getLogger("sandbox")

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# PutLogEvents limits: 10,000 events and 1,048,576 bytes (message bytes + 26 each) per call.
_BATCH_EVENTS = 10000
_BATCH_BYTES = 1048576 - 10000
_EVENT_OVERHEAD = 26
# Seconds between looks at the audit logs: the delay between a request and its
# event in CloudWatch Logs (EKS: usually under a minute).
POLL_INTERVAL = 0.5


# -- the logging config (pure) ---------------------------------------------------


def enabled_types(logging_config: dict | None) -> set[str]:
    """The enabled log types of a ``logging`` value, applying its entries in order."""
    enabled: set[str] = set()
    for entry in (logging_config or {}).get("clusterLogging") or []:
        types = set(entry.get("types") or [])
        if entry.get("enabled"):
            enabled |= types
        else:
            enabled -= types
    return enabled


def apply_update(current: set[str], logging_config: dict | None) -> set[str]:
    """The enabled types after an UpdateClusterConfig ``logging``; ValueError for what EKS refuses."""
    entries = (logging_config or {}).get("clusterLogging")
    if not entries:
        raise ValueError("logging.clusterLogging must name at least one entry {types, enabled}")
    wanted = set(current)
    for entry in entries:
        types = entry.get("types") or []
        unknown = sorted(set(types) - set(LOG_TYPES))
        if unknown:
            raise ValueError(f"unknown log types {unknown}; EKS knows {list(LOG_TYPES)}")
        if not isinstance(entry.get("enabled"), bool):
            raise ValueError("every logging.clusterLogging entry needs enabled: true or false")
        if entry["enabled"]:
            wanted |= set(types)
        else:
            wanted -= set(types)
    return wanted


def logging_config(enabled: set[str]) -> dict:
    """``logging`` as DescribeCluster reports it on EKS: the enabled types, then the disabled ones."""
    entries = []
    on = [t for t in LOG_TYPES if t in enabled]
    off = [t for t in LOG_TYPES if t not in enabled]
    if on:
        entries.append({"types": on, "enabled": True})
    if off:
        entries.append({"types": off, "enabled": False})
    return {"clusterLogging": entries}


def log_group_name(cluster_name: str) -> str:
    return f"/aws/eks/{cluster_name}/cluster"


def event_timestamp_ms(event: dict) -> int:
    """The CloudWatch timestamp of an audit event: its stageTimestamp (when the response completed)."""
    stamp = event.get("stageTimestamp") or event.get("requestReceivedTimestamp")
    try:
        parsed = datetime.datetime.strptime(stamp.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    except (AttributeError, ValueError):
        return int(time.time() * 1000)
    return int(parsed.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def batches(lines: list[str]):
    """PutLogEvents logEvents lists for audit log lines, in time order, within the API's limits."""
    events = []
    for line in lines:
        try:
            timestamp = event_timestamp_ms(json.loads(line))
        except ValueError:
            timestamp = int(time.time() * 1000)
        events.append({"timestamp": timestamp, "message": line})
    events.sort(key=lambda e: e["timestamp"])
    batch, size = [], 0
    for event in events:
        cost = len(event["message"].encode()) + _EVENT_OVERHEAD
        if batch and (len(batch) >= _BATCH_EVENTS or size + cost > _BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += cost
    if batch:
        yield batch


# -- the shipper -------------------------------------------------------------------


class _Source:
    """One cluster's audit log file, where the shipper stopped reading, and where it ships to."""

    def __init__(self, path: str, region: str, cluster_name: str) -> None:
        self.path = path
        self.region = region
        self.group = log_group_name(cluster_name)
        self.stream = f"kube-apiserver-audit-{uuid.uuid4().hex}"
        self.shipping = False
        self.inode: int | None = None
        self.offset = 0
        self.partial = b""

    def read_lines(self) -> list[str]:
        """Complete lines appended since the last call (follows a rotated or recreated file)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        if stat.st_ino != self.inode or stat.st_size < self.offset:
            self.inode, self.offset, self.partial = stat.st_ino, 0, b""
        if stat.st_size == self.offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        data = self.partial + data
        *complete, self.partial = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in complete if line.strip()]


class Shipper:
    """Ships each watched cluster's new audit events while its audit log type is enabled.

    ``logs_client(region)`` returns a CloudWatch Logs client (boto3) for
    MiniStack itself. One daemon thread serves every cluster.
    """

    def __init__(self, logs_client) -> None:
        self._logs_client = logs_client
        self._sources: dict[str, _Source] = {}
        self._lock = threading.Lock()
        # Completed passes over the watched files: once it has grown by two after a line was written,
        # a whole pass began after the write, so the line was read (and shipped or dropped).
        self.passes = 0
        threading.Thread(target=self._run, daemon=True, name="audit-shipper").start()

    def watch(self, key: str, path: str, region: str, cluster_name: str) -> None:
        with self._lock:
            self._sources[key] = _Source(path, region, cluster_name)

    def forget(self, key: str) -> None:
        with self._lock:
            self._sources.pop(key, None)

    def set_enabled(self, key: str, enabled: bool) -> None:
        """Start or stop shipping; on start, create the log group and stream first, as EKS does."""
        with self._lock:
            source = self._sources.get(key)
            if source is None:
                return
            if enabled and not source.shipping:
                self._ensure_destination(source)
                source.read_lines()  # what was written before is not shipped
            source.shipping = enabled

    def _ensure_destination(self, source: _Source) -> None:
        client = self._logs_client(source.region)
        for call, kwargs in ((client.create_log_group, {"logGroupName": source.group}),
                             (client.create_log_stream, {"logGroupName": source.group,
                                                         "logStreamName": source.stream})):
            try:
                call(**kwargs)
            except client.exceptions.ResourceAlreadyExistsException:
                pass

    def ship_once(self) -> None:
        """Read every watched file once; ship what enabled clusters wrote."""
        with self._lock:
            for source in list(self._sources.values()):
                lines = source.read_lines()
                if not (lines and source.shipping):
                    continue
                try:
                    self._put(source, lines)
                except Exception:  # keep shipping the other clusters; say why in ministack.log
                    log.exception("shipping %d audit events to %s failed", len(lines), source.group)
            self.passes += 1

    def _put(self, source: _Source, lines: list[str]) -> None:
        client = self._logs_client(source.region)
        for batch in batches(lines):
            try:
                client.put_log_events(logGroupName=source.group, logStreamName=source.stream, logEvents=batch)
            except client.exceptions.ResourceNotFoundException:  # deleted meanwhile: EKS recreates it
                self._ensure_destination(source)
                client.put_log_events(logGroupName=source.group, logStreamName=source.stream, logEvents=batch)

    def _run(self) -> None:
        while True:
            time.sleep(POLL_INTERVAL)
            self.ship_once()
