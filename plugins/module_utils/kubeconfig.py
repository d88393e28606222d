# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One cluster, user and context in a kubeconfig file (module kubeconfig).

Everything here is a plain function over parsed YAML, so each step has a unit
test: build the entries the task asks for, upsert or remove them by name in
the loaded document (every other cluster, user, context, the preferences and
the extensions stay as they are), decide ``changed`` by comparing the parsed
documents (never the text), mask the secrets for the diff and the result, and
write the file atomically with mode 0600.

Entry names are the identity: an entry the task names is owned by the task and
replaced as a whole (only its ``extensions`` are kept), so switching a user
from a static token to ``exec`` leaves no stale token behind.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import fcntl
import hashlib
import os
import re
import stat
import tempfile

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE
from ansible.module_utils.parsing.convert_bool import BOOLEANS_TRUE

# kubectl writes its kubeconfig readable by the owner only; so does this module, always.
KUBECONFIG_MODE = 0o600
# Directory created for a kubeconfig whose directory does not exist yet (~/.kube).
KUBECONFIG_DIR_MODE = 0o700
MASK = "********"

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")

SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))

# Keys whose values are credentials, wherever they appear (user fields, auth-provider config).
SECRET_KEYS = frozenset([
    "token", "id-token", "refresh-token", "access-token", "client-secret", "client-key-data", "password",
])
# Exec plugin environment variables that carry credentials, by name.
SECRET_ENV_NAME = re.compile(r"(?i)secret|token|passw|private|credential")

# auth_provider options that go into the provider's config under the kubeconfig's own key names.
AUTH_PROVIDER_SECRETS = (("id_token", "id-token"), ("refresh_token", "refresh-token"), ("client_secret", "client-secret"))


class KubeconfigError(Exception):
    """A problem the user can fix; the message says how. The module fails with it."""


# ---------------------------------------------------------------------------
# Entries the task asks for (pure)
# ---------------------------------------------------------------------------

def _without_none(value):
    return dict((k, v) for k, v in value.items() if v is not None)


def _config_value(value):
    """A kubeconfig string value (auth-provider config is map[string]string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def cluster_entry(cluster):
    """``{name, cluster: {server, certificate-authority-data | certificate-authority}}``."""
    return {
        "name": cluster["name"],
        "cluster": _without_none({
            "server": cluster.get("server"),
            "certificate-authority-data": cluster.get("certificate_authority_data"),
            "certificate-authority": cluster.get("certificate_authority"),
        }),
    }


def exec_config(spec):
    """The ``exec`` block of a user (client.authentication.k8s.io credential plugin)."""
    env = spec.get("env") or {}
    return _without_none({
        "apiVersion": spec.get("api_version") or EXEC_API_VERSIONS[0],
        "command": spec["command"],
        "args": [_config_value(arg) for arg in spec.get("args") or []] or None,
        "env": [{"name": name, "value": _config_value(env[name])} for name in sorted(env)] or None,
        "interactiveMode": spec.get("interactive_mode") or "IfAvailable",
        "provideClusterInfo": bool(spec.get("provide_cluster_info")),
        "installHint": spec.get("install_hint"),
    })


def auth_provider_config(spec):
    """The ``auth-provider`` block of a user: ``{name, config}`` with the secret options merged in."""
    config = dict((key, _config_value(value)) for key, value in (spec.get("config") or {}).items() if value is not None)
    for option, key in AUTH_PROVIDER_SECRETS:
        if spec.get(option) is not None:
            config[key] = spec[option]
    return {"name": spec.get("name") or "oidc", "config": config}


def user_entry(user):
    """``{name, user: {...}}`` with exactly the credential the task gives."""
    if user.get("exec"):
        fields = {"exec": exec_config(user["exec"])}
    elif user.get("auth_provider"):
        fields = {"auth-provider": auth_provider_config(user["auth_provider"])}
    elif user.get("token") is not None:
        fields = {"token": user["token"]}
    else:
        fields = _without_none({
            "client-certificate-data": user.get("client_certificate_data"),
            "client-key-data": user.get("client_key_data"),
        })
    return {"name": user["name"], "user": fields}


def context_entry(context, cluster_name, user_name):
    """``{name, context: {cluster, user, namespace}}``."""
    return {
        "name": context["name"],
        "context": _without_none({
            "cluster": context.get("cluster") or cluster_name,
            "user": context.get("user") or user_name,
            "namespace": context.get("namespace"),
        }),
    }


def current_context_choice(value, context_name):
    """What ``current_context`` asks for: a context name, or None to leave current-context alone.

    ``true`` means the task's context, ``false`` (or nothing) leaves the file's
    current-context as it is, a string names a context. Strings that read as
    booleans ("yes", "True" from a template) count as booleans.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in BOOLEANS_TRUE | BOOLEANS_FALSE:
        value = value.lower() in BOOLEANS_TRUE
    if value is True:
        if not context_name:
            raise KubeconfigError("current_context: true needs context.name (the context to switch to)")
        return context_name
    if value is False:
        return None
    if not isinstance(value, str) or not value:
        raise KubeconfigError("current_context must be true, false or a context name, got %r" % (value,))
    return value


def validate_params(params):
    """Refuse, before reading the file, what kubectl could not use."""
    cluster, user, context = params.get("cluster"), params.get("user"), params.get("context")
    if params["state"] == "absent":
        if not (cluster or user or context):
            raise KubeconfigError("state: absent needs the name of a cluster, user or context to remove")
        return
    if not (cluster or user or context or params.get("current_context") not in (None, False)):
        raise KubeconfigError("nothing to do: give a cluster, user, context or current_context")
    if cluster and not cluster.get("server"):
        raise KubeconfigError("cluster.server is required with state: present (the API server URL, https://...)")
    if user:
        methods = [key for key in ("exec", "auth_provider", "token", "client_certificate_data") if user.get(key) is not None]
        if len(methods) != 1:
            raise KubeconfigError(
                "user '%s' needs exactly one way to authenticate with state: present: exec, auth_provider, token, "
                "or client_certificate_data with client_key_data; got %s" % (user["name"], ", ".join(methods) or "none")
            )
        provider = user.get("auth_provider") or {}
        secrets_in_config = sorted(set(provider.get("config") or {}) & SECRET_KEYS)
        if secrets_in_config:
            raise KubeconfigError(
                "auth_provider.config holds %s; pass them as auth_provider.id_token, refresh_token or client_secret "
                "instead, so they are never logged" % ", ".join(secrets_in_config)
            )
    if context:
        if not (context.get("cluster") or cluster):
            raise KubeconfigError("context '%s' needs a cluster: give cluster, or context.cluster" % context["name"])
        if not (context.get("user") or user):
            raise KubeconfigError("context '%s' needs a user: give user, or context.user" % context["name"])


def desired_entries(params):
    """``{"clusters": entry, "users": entry, "contexts": entry}`` for the sections the task names."""
    cluster, user, context = params.get("cluster"), params.get("user"), params.get("context")
    entries = {}
    if cluster:
        entries["clusters"] = cluster_entry(cluster)
    if user:
        entries["users"] = user_entry(user)
    if context:
        entries["contexts"] = context_entry(context, (cluster or {}).get("name"), (user or {}).get("name"))
    return entries


# ---------------------------------------------------------------------------
# The document: parse, upsert, remove (pure)
# ---------------------------------------------------------------------------

def empty_kubeconfig():
    """A new kubeconfig, keys in the order kubectl writes them."""
    return {"apiVersion": "v1", "clusters": [], "contexts": [], "kind": "Config", "preferences": {}, "users": []}


def parse_kubeconfig(text, path="kubeconfig"):
    """The parsed document; an empty file reads as an empty kubeconfig."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise KubeconfigError("%s is not valid YAML (%s); fix or move the file, this module will not overwrite it" % (path, e))
    if document is None:
        return empty_kubeconfig()
    if not isinstance(document, dict):
        raise KubeconfigError("%s is not a kubeconfig (its top level is a %s, not a mapping)" % (path, type(document).__name__))
    for section, _kind in SECTIONS:
        if not isinstance(document.get(section) or [], list):
            raise KubeconfigError("%s is not a kubeconfig: '%s' is not a list" % (path, section))
    return document


def entry_names(document, section):
    return [entry.get("name") for entry in document.get(section) or [] if isinstance(entry, dict)]


def upsert_entry(document, section, entry):
    """``document`` with ``entry`` in ``section``: in place of the entry of that name, else appended.

    The new entry replaces the old one as a whole except for its ``extensions``
    (tools keep their own data there). A name listed twice keeps one entry.
    """
    kind = dict(SECTIONS)[section]
    result = copy.deepcopy(document)
    entries = result.get(section) or []
    positions = [i for i, old in enumerate(entries) if isinstance(old, dict) and old.get("name") == entry["name"]]
    new = copy.deepcopy(entry)
    if positions:
        old_fields = entries[positions[0]].get(kind) or {}
        if isinstance(old_fields, dict) and "extensions" in old_fields:
            new[kind]["extensions"] = old_fields["extensions"]
        entries[positions[0]] = new
        for i in reversed(positions[1:]):
            del entries[i]
    else:
        entries.append(new)
    result[section] = entries
    return result


def context_references(document, section, name, ignore_contexts=()):
    """Names of the contexts (other than ``ignore_contexts``) that use cluster/user ``name``."""
    kind = dict(SECTIONS)[section]
    users = []
    for entry in document.get("contexts") or []:
        if not isinstance(entry, dict) or entry.get("name") in ignore_contexts:
            continue
        if (entry.get("context") or {}).get(kind) == name:
            users.append(entry.get("name"))
    return users


def remove_entries(document, names):
    """``(document, removed, kept)`` without the named entries.

    ``names`` maps a section to the name to remove. A cluster or user that a
    context outside the removal still uses is kept (``kept`` says which and
    why), so removing one context never breaks another. current-context is
    dropped when it named a removed context.
    """
    result = copy.deepcopy(document)
    removed = {"clusters": [], "users": [], "contexts": []}
    kept = []
    removed_contexts = [names["contexts"]] if names.get("contexts") else []
    for section, _kind in SECTIONS:
        name = names.get(section)
        if not name or name not in entry_names(result, section):
            continue
        if section != "contexts":
            still_used = context_references(result, section, name, removed_contexts)
            if still_used:
                kept.append("%s '%s' is kept: context %s still uses it" % (
                    section[:-1], name, ", ".join("'%s'" % c for c in still_used)))
                continue
        result[section] = [e for e in result[section] if not (isinstance(e, dict) and e.get("name") == name)]
        removed[section].append(name)
    if result.get("current-context") and result["current-context"] in removed["contexts"]:
        del result["current-context"]
    return result, removed, kept


def plan_present(current, params):
    """The document after the task: its entries upserted, current-context set if asked."""
    document = copy.deepcopy(current) if current is not None else empty_kubeconfig()
    entries = desired_entries(params)
    for section, _kind in SECTIONS:
        if section in entries:
            document = upsert_entry(document, section, entries[section])
    context_name = (params.get("context") or {}).get("name")
    wanted = current_context_choice(params.get("current_context"), context_name)
    if wanted is not None:
        if wanted not in entry_names(document, "contexts"):
            raise KubeconfigError(
                "current_context '%s' is not a context of the file; contexts: %s"
                % (wanted, ", ".join(n for n in entry_names(document, "contexts") if n) or "none")
            )
        document["current-context"] = wanted
    return document, entries


def plan_absent(current, params):
    names = {}
    for section, kind in SECTIONS:
        if params.get(kind):
            names[section] = params[kind]["name"]
    if current is None:
        return None, {"clusters": [], "users": [], "contexts": []}, []
    return remove_entries(current, names)


# ---------------------------------------------------------------------------
# Secrets, rendering, diff (pure)
# ---------------------------------------------------------------------------

def mask_secrets(value):
    """A copy with every credential replaced by ``********``: for the diff and the result."""
    if isinstance(value, dict):
        masked = {}
        for key, item in value.items():
            if key in SECRET_KEYS and item not in (None, ""):
                masked[key] = MASK
            elif key == "env" and isinstance(item, list):
                masked[key] = [_mask_env(variable) for variable in item]
            else:
                masked[key] = mask_secrets(item)
        return masked
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _mask_env(variable):
    if isinstance(variable, dict) and SECRET_ENV_NAME.search(str(variable.get("name", ""))) and variable.get("value"):
        return dict(variable, value=MASK)
    return mask_secrets(variable)


def render(document):
    """The file's text."""
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False, allow_unicode=True, width=10000)


def diff_text(document, mode):
    """Masked YAML for Ansible's diff, its first line the file's mode; empty for no file."""
    if document is None:
        return ""
    return "# mode %04o\n%s" % (mode, render(mask_secrets(document)))


def file_changed(before, after, mode):
    """Whether the file must be written: other content (parsed, not text), a missing file, or a mode other than 0600."""
    if after is None:
        return False
    return before is None or before != after or mode != KUBECONFIG_MODE


# ---------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------

def load_kubeconfig(path):
    """``(document, mode)``; ``(None, None)`` when there is no file."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        return None, None
    except IsADirectoryError:
        raise KubeconfigError("%s is a directory; path must name the kubeconfig file" % path)
    except UnicodeDecodeError:
        raise KubeconfigError("%s is not UTF-8 text; it is not a kubeconfig this module can edit" % path)
    return parse_kubeconfig(text, path), mode


def write_atomically(path, text, mode=KUBECONFIG_MODE):
    """Write ``text`` to ``path`` through a temporary file in the same directory and os.replace.

    Readers see the old file or the new one, never half of one. The file gets
    ``mode`` before it has content, and keeps the owner and group of the file it
    replaces (a root task writing a user's kubeconfig leaves it the user's).
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, KUBECONFIG_DIR_MODE)
    try:
        owner = os.stat(path)
    except FileNotFoundError:
        owner = None
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            if owner is not None and hasattr(os, "fchown"):
                try:
                    os.fchown(handle.fileno(), owner.st_uid, owner.st_gid)
                except PermissionError:
                    pass  # not root: the new file is ours, as the old one was
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def lock_path(path):
    """The lock file of a kubeconfig: in the temp directory, named after the kubeconfig's real path.

    Not ``<file>.lock`` beside the file: kubectl creates that name itself and
    fails while it exists. Not the file's directory either: it may not exist yet.
    """
    digest = hashlib.sha256(os.path.realpath(path).encode("utf-8")).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), "kubeauth-eks-oidc-kubeconfig-%s.lock" % digest)


@contextlib.contextmanager
def kubeconfig_lock(path, check_mode):
    """Hold an exclusive lock on the kubeconfig while reading, merging and writing it.

    Playbooks write one kubeconfig from several hosts at once (a fleet of
    clusters under forks); without the lock two read-modify-write cycles would
    lose each other's entries.
    """
    if check_mode:
        yield
        return
    descriptor = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def target_path(path):
    """The file to write: a symlinked kubeconfig is written where the link points."""
    return os.path.realpath(path) if os.path.islink(path) else path


# ---------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------

def converge(module):
    params = module.params
    validate_params(params)
    path = target_path(params["path"])
    with kubeconfig_lock(path, module.check_mode):
        converge_file(module, path)


def converge_file(module, path):
    params = module.params
    current, mode = load_kubeconfig(path)
    result = {"path": path, "cluster": {}, "user": {}, "context": {}}
    if params["state"] == "present":
        after, entries = plan_present(current, params)
        for section, kind in SECTIONS:
            result[kind] = mask_secrets(entries.get(section, {}))
    else:
        after, removed, kept = plan_absent(current, params)
        result["removed"] = removed
        for message in kept:
            module.warn(message)
    changed = file_changed(current, after, mode)
    if changed and not module.check_mode:
        if current is not None and after == current:
            os.chmod(path, KUBECONFIG_MODE)  # same content: keep the text (comments, layout) as it is
        else:
            write_atomically(path, render(after))
    final = after if after is not None else current
    result["current_context"] = (final or {}).get("current-context") or ""
    result["diff"] = {
        "before_header": path,
        "after_header": path,
        "before": diff_text(current, mode),
        "after": diff_text(after, KUBECONFIG_MODE) if changed else diff_text(current, mode),
    }
    module.exit_json(changed=changed, **result)


def run(module):
    """Entry point of the kubeconfig module."""
    if not HAS_YAML:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("PyYAML"))
    try:
        converge(module)
    except KubeconfigError as e:
        module.fail_json(msg=str(e))
    except (IOError, OSError) as e:
        module.fail_json(msg="could not write the kubeconfig %s: %s" % (module.params["path"], e))
