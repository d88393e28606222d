"""Run MiniStack with the sandbox playing the EKS control plane.

Started by sandbox.py (``python ministack_hook.py STATE_DIR``), never by hand.

Why MiniStack is patched, and why only here: MiniStack (pinned at 1.5.33 in
tests/requirements.txt) backs each EKS cluster with a k3s Docker container
and restarts it with --oidc-* flags on identity provider changes. This
machine has no Docker, so MiniStack would report every cluster ACTIVE with a
placeholder endpoint and empty CA, and leave every identity provider config
CREATING forever. The sandbox instead runs a real etcd + kube-apiserver per
cluster (controlplane.py). This module wraps six functions of
``ministack.services.eks`` so the ordinary EKS API reports that control
plane, and keeps MiniStack off port 443. The wrapped functions are looked
up by name through the module at request time, so replacing the module
attributes is enough. Re-check these names when bumping MiniStack.

Environment (besides MiniStack's own): SANDBOX_K8S_BINARIES, the directory
holding etcd and kube-apiserver, or empty to run the AWS side alone.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import json
import logging
import os
import sys
import time

import authn
import controlplane
import pki

from ministack import app
from ministack.core import tls
from ministack.services import eks

log = logging.getLogger("sandbox")


class _Cluster:
    """The sandbox's side of one EKS cluster: its control plane and a job queue.

    One worker thread per cluster runs start, (dis)associations and stop in
    the order the API calls arrived.
    """

    def __init__(self, plane: controlplane.ControlPlane, name: str) -> None:
        self.plane = plane
        self.status = "CREATING"
        self.jobs = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"twin-{name}")

    def submit(self, what: str, job) -> concurrent.futures.Future:
        def run():
            try:
                job()
            except Exception:
                log.exception("%s failed", what)
                raise
        return self.jobs.submit(run)


class Twin:
    """Maps MiniStack's EKS records to live control planes (by cluster ARN)."""

    def __init__(self, state_dir: str, binaries: str | None, gateway: str) -> None:
        self.state_dir = state_dir
        self.binaries = binaries
        self.gateway = gateway
        self.ca_cert = os.path.join(state_dir, pki.CA_CERT)
        self.ca_key = os.path.join(state_dir, pki.CA_KEY)
        with open(self.ca_cert, encoding="utf-8") as handle:
            self.ca_pem = handle.read()
        self.clusters: dict[str, _Cluster] = {}

    def add(self, cluster: dict) -> None:
        if not self.binaries:
            return
        # arn:aws:eks:REGION:ACCOUNT:cluster/NAME
        region = cluster["arn"].split(":")[3]
        name = cluster["name"]
        plane = controlplane.ControlPlane(
            os.path.join(self.state_dir, "clusters", region, name),
            logs_dir=os.path.join(self.state_dir, "logs"),
            log_prefix=f"{region}-{name}",
            binaries=self.binaries,
            ca_cert=self.ca_cert,
            ca_key=self.ca_key,
            service_cidr=cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"],
            service_account_issuer=cluster["identity"]["oidc"]["issuer"],
        )
        entry = self.clusters[cluster["arn"]] = _Cluster(plane, name)

        def start():
            try:
                plane.start()
            except Exception:
                entry.status = "FAILED"
                raise
            entry.status = "ACTIVE"
            log.info("cluster %s: kube-apiserver ready at %s", name, plane.endpoint)

        entry.submit(f"starting the control plane of {name}", start)

    def remove(self, arn: str) -> None:
        entry = self.clusters.pop(arn, None)
        if entry:
            entry.submit("stopping a control plane", entry.plane.stop).exception()
            entry.jobs.shutdown()

    def overlay(self, cluster: dict) -> None:
        """Report the control plane's state in a DescribeCluster/CreateCluster record."""
        entry = self.clusters.get(cluster["arn"])
        if entry is None:
            return
        cluster["status"] = entry.status
        if entry.status == "ACTIVE":
            cluster["endpoint"] = entry.plane.endpoint
            cluster["certificateAuthority"] = {"data": entry.plane.certificate_authority_data}
        else:  # as EKS: no endpoint or CA before the cluster is ACTIVE
            cluster.pop("endpoint", None)
            cluster["certificateAuthority"] = {}

    def associate(self, arn: str, oidc: dict, record: dict) -> None:
        entry = self.clusters.get(arn)
        if entry is None:  # no Kubernetes side: nothing to wait for
            record["status"] = "ACTIVE"
            return

        def job():
            jwt = authn.jwt_authenticator(oidc, cognito_base=self.gateway, ca_pem=self.ca_pem)
            reachable = controlplane.issuer_reachable(jwt)
            if not reachable:
                log.warning("issuer %s: discovery document not reachable from here; restarting "
                            "kube-apiserver, which accepts its tokens once it can reach it",
                            oidc["issuerUrl"])
            entry.plane.apply([jwt], restart=not reachable)
            if record["status"] == "CREATING":  # not disassociated meanwhile
                record["status"] = "ACTIVE"

        entry.submit(f"associating {oidc['identityProviderConfigName']}", job)

    def disassociate(self, arn: str, key: str, record: dict) -> None:
        """Keep the config visible as DELETING until kube-apiserver refuses its tokens."""
        entry = self.clusters.get(arn)
        if entry is None:  # no Kubernetes side: MiniStack's immediate removal is right
            return
        record["status"] = "DELETING"
        eks._idp_configs[key] = record
        scope = contextvars.copy_context()  # the store is scoped by the request's account/region

        def job():
            entry.plane.apply([])
            time.sleep(controlplane.TOKEN_CACHE_TTL)
            scope.run(eks._idp_configs.pop, key, None)

        entry.submit(f"disassociating {record['oidc']['identityProviderConfigName']}", job)


def _rewrite_cluster(response: tuple, twin: Twin) -> tuple:
    status, headers, body = response
    if status != 200:
        return response
    data = json.loads(body)
    twin.overlay(data["cluster"])
    return status, headers, json.dumps(data).encode()


def install(twin: Twin) -> None:
    create, describe, delete = eks._create_cluster, eks._describe_cluster, eks._delete_cluster
    associate, disassociate = (eks._associate_identity_provider_config,
                               eks._disassociate_identity_provider_config)

    def create_cluster(body, creator_arn=None):
        response = create(body, creator_arn)
        if response[0] == 200:
            twin.add(json.loads(response[2])["cluster"])
        return _rewrite_cluster(response, twin)

    def describe_cluster(name):
        return _rewrite_cluster(describe(name), twin)

    def delete_cluster(name):
        cluster = eks._clusters.get(name)
        response = delete(name)
        if response[0] == 200:
            twin.remove(cluster["arn"])
        return response

    def associate_identity_provider_config(cluster_name, body):
        response = associate(cluster_name, body)
        if response[0] == 200:
            oidc = body["oidc"]
            key = f"{cluster_name}\x00{oidc['identityProviderConfigName']}"
            twin.associate(eks._clusters[cluster_name]["arn"], oidc, eks._idp_configs[key])
        return response

    def disassociate_identity_provider_config(cluster_name, body):
        key = f"{cluster_name}\x00{(body.get('identityProviderConfig') or {}).get('name')}"
        record = eks._idp_configs.get(key)
        response = disassociate(cluster_name, body)  # removes the record at once
        if response[0] == 200 and record is not None:
            twin.disassociate(eks._clusters[cluster_name]["arn"], key, record)
        return response

    eks._create_cluster = create_cluster
    eks._describe_cluster = describe_cluster
    eks._delete_cluster = delete_cluster
    eks._associate_identity_provider_config = associate_identity_provider_config
    eks._disassociate_identity_provider_config = disassociate_identity_provider_config
    # Never start k3s, even where Docker exists: the sandbox is the control plane.
    eks._get_docker = lambda: None
    # With TLS on, MiniStack also binds :443 so that Cognito `iss` URLs work
    # through /etc/hosts. The sandbox hands kube-apiserver a discoveryURL
    # instead, and must not hold a privileged port that parallel sandboxes share.
    app._port_is_bindable = lambda host, port: False


def _serve_tls(state_dir: str) -> None:
    """Give MiniStack a certificate from the sandbox CA, for the names its own would carry."""
    directory = os.path.join(state_dir, "ministack")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    pki.issue(
        os.path.join(state_dir, pki.CA_CERT), os.path.join(state_dir, pki.CA_KEY), cert, key,
        "ministack", dns_names=("localhost", *tls.cognito_idp_hosts()),
        ip_addresses=("127.0.0.1", "::1"), server=True,
    )
    os.environ.update(USE_SSL="1", MINISTACK_SSL_CERT=cert, MINISTACK_SSL_KEY=key)


def main() -> None:
    state_dir = os.path.realpath(sys.argv[1])
    _serve_tls(state_dir)
    gateway = f"https://127.0.0.1:{os.environ['GATEWAY_PORT']}"
    install(Twin(state_dir, os.environ.get("SANDBOX_K8S_BINARIES") or None, gateway))
    sys.argv = sys.argv[:1]  # MiniStack parses its own (empty) command line
    app.main()


if __name__ == "__main__":
    main()
