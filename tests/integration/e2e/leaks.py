"""Where secrets could leak from site.yml and cleanup.yml, and what counts as one (test_site.py searches).

Secrets in play: the test user's password, the sandbox's AWS secret key, the
ID and refresh tokens the kubectl credential plugin obtained (read from its
0600 cache before cleanup removes it), and the client key of every twin's
admin kubeconfig; any string shaped like a JWT or an EKS token (k8s-aws-v1.)
counts as a leak too. Searched: everything the runs printed at -vvv --diff
(stdout and stderr), the sandbox's logs, and every file the runs left or
wrote that is not a 0600 file (a 0600 file is where a secret is meant to be).
"""

import glob
import json
import os
import re
import stat

import yaml

from ansible_runs import REPO_ROOT

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
EKS_TOKEN = re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]{20,}")  # the admin's bearer token (rbac role, kubeconfig)


def tokens_in_cache(sandbox):
    """ID and refresh tokens the credential plugin cached (its cache files are 0600)."""
    found = []
    for path in glob.glob(os.path.join(sandbox["state_dir"], "kubeauth-eks-oidc", "cache", "*.json")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        with open(path) as handle:
            cached = json.load(handle)
        found += [cached[key] for key in ("id_token", "refresh_token") if cached.get(key)]
    return found


def admin_client_keys(sandbox):
    keys = []
    for cluster in sandbox["clusters"].values():
        with open(cluster["admin_kubeconfig"]) as handle:
            keys += [u["user"]["client-key-data"] for u in yaml.safe_load(handle)["users"]]
    return keys


def files(directories, private_too=False):
    """(path, text) of every file below ``directories``; 0600 files only with ``private_too``."""
    for directory in directories:
        for root, _dirs, names in os.walk(directory):
            for name in names:
                path = os.path.join(root, name)
                if os.path.islink(path) or (stat.S_IMODE(os.lstat(path).st_mode) == 0o600 and not private_too):
                    continue
                with open(path, "rb") as handle:
                    yield path, handle.read().decode("utf-8", errors="replace")


def leaks(secrets, places):
    """'where: what' for every secret (and every JWT-shaped string) found in ``places`` ((where, text) pairs)."""
    found = []
    for where, text in places:
        for name, value in secrets.items():
            if value and value in text:
                found.append("%s: %s" % (where, name))
        for match in JWT.findall(text):
            found.append("%s: a JWT %s..." % (where, match[:12]))
        for match in EKS_TOKEN.findall(text):
            found.append("%s: an EKS token %s..." % (where, match[:16]))
    return found


def secrets_in_play(sandbox):
    """{what: value} of every secret of a site.yml run; call it before cleanup.yml removes the token cache."""
    tokens = tokens_in_cache(sandbox)
    assert tokens, "the plugin cached no token: the test would search for nothing"
    with open(os.path.join(sandbox["state_dir"], "test-user.password")) as handle:
        password = handle.read().strip()
    secrets = {"the test user's password": password, "the AWS secret key": sandbox["aws_secret_access_key"]}
    secrets.update(("token %d" % i, token) for i, token in enumerate(tokens))
    secrets.update(("admin client key %d" % i, key) for i, key in enumerate(admin_client_keys(sandbox)))
    return secrets


def places_to_search(sandbox, outputs):
    """(where, text) of the runs' ``outputs`` ((where, text) pairs), the sandbox's logs and the files the runs
    wrote: the sandbox's files (kubeconfig, plugin directory) and the checkout's playbooks."""
    places = list(outputs)
    places += files([sandbox["logs_dir"]], private_too=True)
    places += files([sandbox["state_dir"], os.path.join(REPO_ROOT, "playbooks")])
    return places
