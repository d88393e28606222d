# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Install the kubectl credential plugins of one kubeconfig context, and the exec entry that runs them.

Two plugins, each one file of this collection that also serves the modules:

* ``oidc``: ``credential_plugin.py`` (standard library only) logs the OIDC
  user in and caches the tokens; kubectl runs it with the real interpreter and
  ``-I -S`` (the cached path costs ~50 ms, a pyenv shim alone ~170 ms).
* ``eks_token``: ``eks_token.py`` signs the EKS IAM token, as
  ``aws eks get-token`` does, with botocore (so with the interpreter as it is:
  a virtualenv's python keeps its packages).

Layout of the plugin directory (mode 0700, owned by the user, refused
otherwise as ssh refuses a loose ~/.ssh)::

    credential_plugin.py, eks_token.py   the scripts, as this collection ships them
    CONTEXT.json                         what the context runs: the plugin config (no secret)
    CONTEXT.password                     password login only
    cache/                               the oidc plugin's token cache (one file per issuer,
                                         client and user, so the contexts of one issuer share a login)

Every file is 0600. ``state=absent`` removes a context's files, and the
whole directory once no context is left in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import shutil
import stat
import sys

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import eks_token
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.kubeconfig import write_atomically
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.issuer import pool_of_issuer

SCRIPTS = {"oidc": credential_plugin, "eks_token": eks_token}
SCRIPT_NAMES = {"oidc": "credential_plugin.py", "eks_token": "eks_token.py"}
CACHE_DIR = "cache"
LOCK_TIMEOUT = 60
INSTALL_HINT = "Run the kubeauth.eks_oidc.kubeconfig role (or the kubectl_credential_plugin module) again: it installs the plugin."


class PluginInstallError(Exception):
    """The plugin cannot be installed or removed as asked; the message says why and what to do."""


# ---------------------------------------------------------------------------
# Ownership, as ssh checks ~/.ssh
# ---------------------------------------------------------------------------

def ownership_problem(path, st, uid, directory):
    """What is wrong with an existing path that holds the user's secrets, or None."""
    kind = "directory" if directory else "file"
    if stat.S_ISLNK(st.st_mode):
        return "%s is a symbolic link; a %s is expected here (remove the link)" % (path, kind)
    if directory and not stat.S_ISDIR(st.st_mode):
        return "%s is not a directory" % path
    if not directory and not stat.S_ISREG(st.st_mode):
        return "%s is not a regular file" % path
    if st.st_uid != uid:
        return "%s is owned by uid %d, not by you (uid %d); remove it or choose another directory" % (path, st.st_uid, uid)
    if st.st_mode & 0o022:
        return "%s is writable by %s; fix it with chmod %s or remove it" % (
            path, "group and others" if st.st_mode & 0o022 == 0o022 else ("group" if st.st_mode & 0o020 else "others"),
            "700" if directory else "600")
    return None


def checked_lstat(path, directory=False, uid=None):
    """os.lstat of ``path`` after the ownership check; None when it does not exist."""
    try:
        st = os.lstat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        raise PluginInstallError("cannot inspect %s: %s" % (path, e.strerror))
    problem = ownership_problem(path, st, os.geteuid() if uid is None else uid, directory)
    if problem:
        raise PluginInstallError("refusing to use %s" % problem)
    return st


# ---------------------------------------------------------------------------
# What a context needs
# ---------------------------------------------------------------------------

def cognito_pool(issuer_url):
    """(region, user pool id) when the issuer is a Cognito user pool, else None."""
    pool_id = pool_of_issuer(issuer_url)
    return (pool_id.split("_", 1)[0], pool_id) if pool_id else None


def oidc_config(params, directory):
    """The credential plugin's config for the context (see credential_plugin.py): no secret in it."""
    config = {
        "issuer_url": params["issuer_url"],
        "client_id": params["client_id"],
        "login": params["login"],
        "cache_dir": os.path.join(directory, CACHE_DIR),
    }
    for key in ("discovery_url", "ca_file", "scopes", "redirect_uri"):
        if params.get(key):
            config[key] = params[key]
    pool = cognito_pool(params["issuer_url"])
    if pool:
        config["cognito"] = {"region": pool[0], "user_pool_id": pool[1]}
        if params.get("cognito_endpoint_url"):
            config["cognito"]["endpoint_url"] = params["cognito_endpoint_url"]
    if params["login"] == "password":
        config["username"] = params["username"]
        config["password_file"] = password_file(directory, params["name"])
    return config


def eks_token_config(params):
    """What the eks_token context runs (kept beside the others, so removal knows the context)."""
    config = {"plugin": "eks_token", "cluster_name": params["cluster_name"], "region": params["region"]}
    if params.get("role_arn"):
        config["role_arn"] = params["role_arn"]
    return config


def password_file(directory, name):
    return os.path.join(directory, name + ".password")


def config_file(directory, name):
    return os.path.join(directory, name + ".json")


def eks_environment(params):
    """The AWS settings the EKS token needs besides the credentials kubectl's environment has.

    Static keys are never written into a kubeconfig: AWS_PROFILE, the CA bundle
    and the STS endpoint are; the keys come from the environment or the profile.
    """
    env = {}
    for name, key in (("AWS_PROFILE", "aws_profile"), ("AWS_CA_BUNDLE", "aws_ca_bundle"),
                      ("AWS_ENDPOINT_URL_STS", "sts_endpoint_url")):
        if params.get(key):
            env[name] = params[key]
    return env


def exec_entry(params, directory, python):
    """The kubeconfig user's ``exec`` for the context (the kubeconfig module's user.exec)."""
    script = os.path.join(directory, SCRIPT_NAMES[params["plugin"]])
    if params["plugin"] == "oidc":
        # The real interpreter with -I -S: the cached path imports nothing beyond json/os/sys/time.
        return {
            "command": os.path.realpath(python),
            "args": ["-I", "-S", script, "get-token", "--config", config_file(directory, params["name"])],
            # A browser login needs the terminal; a password login never asks.
            "interactive_mode": "Never" if params["login"] == "password" else "IfAvailable",
            "install_hint": INSTALL_HINT,
        }
    args = ["-I", script, "get-token", "--cluster-name", params["cluster_name"], "--region", params["region"]]
    if params.get("role_arn"):
        args += ["--role-arn", params["role_arn"]]
    entry = {"command": python, "args": args, "interactive_mode": "Never", "install_hint": INSTALL_HINT}
    env = eks_environment(params)
    if env:
        entry["env"] = env
    return entry


def script_source(plugin):
    """The plugin's source, as this collection ships it in plugins/module_utils."""
    module = SCRIPTS[plugin]
    path = getattr(module, "__file__", "") or ""
    loader = getattr(module, "__loader__", None)
    if loader is not None and hasattr(loader, "get_source"):  # also inside an AnsiballZ zip
        source = loader.get_source(module.__name__)
        if source:
            return source
    with open(path) as handle:
        return handle.read()


def desired_files(params, directory):
    """{path: content} of the files the context needs (the password file's content is the password)."""
    name = params["name"]
    files = {os.path.join(directory, SCRIPT_NAMES[params["plugin"]]): script_source(params["plugin"])}
    if params["plugin"] == "oidc":
        files[config_file(directory, name)] = json.dumps(oidc_config(params, directory), indent=2, sort_keys=True) + "\n"
        if params["login"] == "password":
            files[password_file(directory, name)] = params["password"] + "\n"
    else:
        files[config_file(directory, name)] = json.dumps(eks_token_config(params), indent=2, sort_keys=True) + "\n"
    return files


# ---------------------------------------------------------------------------
# Reading and writing, each path checked first
# ---------------------------------------------------------------------------

def _read(path):
    """Content and mode of an existing file of ours, or (None, None)."""
    st = checked_lstat(path)
    if st is None:
        return None, None
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd) as handle:
        return handle.read(), stat.S_IMODE(st.st_mode)


def _ensure_directory(path, check_mode):
    """Create ``path`` 0700 (refusing one someone else owns); True when something changed."""
    st = checked_lstat(path, directory=True)
    if st is None:
        if check_mode:
            return True
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o700)
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # whatever the umask
            return True
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise PluginInstallError("cannot create %s: %s" % (path, e.strerror))
        # Created meanwhile (another host of the same play): used only if it passes the checks.
        st = checked_lstat(path, directory=True)
    if stat.S_IMODE(st.st_mode) != 0o700:
        if not check_mode:
            os.chmod(path, 0o700)
        return True
    return False


class DirectoryLock(object):
    """An exclusive lock of the plugin directory (``.lock`` inside it), so the hosts of a fleet,
    which share one directory, never interleave their writes and removals. Bounded wait."""

    def __init__(self, directory, timeout=LOCK_TIMEOUT):
        self.path = os.path.join(directory, ".lock")
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        import fcntl
        import time

        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError as e:
            raise PluginInstallError("cannot open the lock %s: %s" % (self.path, e.strerror))
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise PluginInstallError(
                        "another process has held %s for %d s; run again once it is done" % (self.path, self.timeout))
                time.sleep(0.05)

    def __exit__(self, *exc):
        os.close(self.fd)  # closing releases the flock


def install(params, check_mode):
    """Write what the context needs; (changed, diff, exec entry, changed paths)."""
    directory = params["directory"]
    dir_created = checked_lstat(directory, directory=True) is None
    directory_changed = _ensure_directory(directory, check_mode)
    if check_mode and dir_created:
        return _install(params, True, directory_changed, dir_created)
    with DirectoryLock(directory):
        return _install(params, check_mode, directory_changed, dir_created)


def _install(params, check_mode, directory_changed, dir_created):
    directory = params["directory"]
    python = params.get("python") or sys.executable
    changed_paths = [directory] if directory_changed else []
    cache = os.path.join(directory, CACHE_DIR)
    if params["plugin"] == "oidc" and _ensure_directory(cache, check_mode):
        changed_paths.append(cache)
    before, after = {}, {}
    for path, content in sorted(desired_files(params, directory).items()):
        current, mode = (None, None) if dir_created else _read(path)
        if current == content and mode == 0o600:
            continue
        changed_paths.append(path)
        secret = path.endswith(".password")
        before[path] = None if current is None else ("(the password)" if secret else _summary(path, current, mode))
        after[path] = "(the password)" if secret else _summary(path, content, 0o600)
        if not check_mode:
            if current is not None and current == content:
                os.chmod(path, 0o600)
            else:
                write_atomically(path, content, 0o600)
    diff = {"before": before, "after": after, "before_header": directory, "after_header": directory}
    return bool(changed_paths), diff, exec_entry(params, directory, python), changed_paths


def _summary(path, content, mode):
    """What the diff shows of a file: a config in full (it holds no secret), a script by size."""
    if path.endswith(".json"):
        return {"mode": "%04o" % mode, "content": json.loads(content)}
    return {"mode": "%04o" % mode, "size": len(content)}


def remove(params, check_mode):
    """Remove the context's files, and the directory once no context is left; (changed, diff, removed paths)."""
    directory = params["directory"]
    if checked_lstat(directory, directory=True) is None:
        return False, {"before": {}, "after": {}}, []
    with DirectoryLock(directory):
        if checked_lstat(directory, directory=True) is None:  # removed by another host meanwhile
            return False, {"before": {}, "after": {}}, []
        name = params["name"]
        removed = [path for path in (config_file(directory, name), password_file(directory, name))
                   if checked_lstat(path) is not None]
        remaining = [entry for entry in os.listdir(directory)
                     if entry.endswith(".json") and os.path.join(directory, entry) not in removed]
        if not remaining:
            removed = [directory]
        if not check_mode:
            for path in removed:
                if path == directory:
                    # Our own 0700 directory (checked above); rmtree removes links, never follows them.
                    shutil.rmtree(directory)
                else:
                    os.unlink(path)
    before = dict((path, "present") for path in removed)
    return bool(removed), {"before": before, "after": {}}, removed


# ---------------------------------------------------------------------------
# The module's flow
# ---------------------------------------------------------------------------

def params_problem(params):
    """What is wrong with the module's parameters, or None (checked before anything is touched)."""
    name = params["name"]
    if not name or "/" in name or name.startswith(".") or "\0" in name:
        return "name %r cannot name a file: use a context name without '/' that does not start with '.'" % name
    if params.get("state", "present") == "absent" or params.get("plugin") != "oidc":
        return None
    for key in ("issuer_url", "discovery_url", "cognito_endpoint_url"):
        value = params.get(key)
        if value and not value.lower().startswith("https://"):
            return ("%s must be an https URL, got %r: tokens, passwords and signing keys would travel in clear "
                    "and anyone on the path could read or swap them" % (key, value))
    scopes = params.get("scopes")
    if scopes and "openid" not in scopes:
        return "scopes must include openid, got %s" % ", ".join(scopes)
    return None


def run(params, check_mode):
    """The module's result: {changed, diff, paths[, exec]}; PluginInstallError for anything refused."""
    params = dict(params, directory=os.path.abspath(os.path.expanduser(params["directory"])))
    problem = params_problem(params)
    if problem:
        raise PluginInstallError(problem)
    if params["state"] == "absent":
        changed, diff, paths = remove(params, check_mode)
        return {"changed": changed, "diff": diff, "paths": paths}
    changed, diff, entry, paths = install(params, check_mode)
    return {"changed": changed, "diff": diff, "paths": paths, "exec": entry}
