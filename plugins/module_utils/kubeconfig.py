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

The file is handled as ssh handles ``~/.ssh``: a kubeconfig's exec entries run
commands and its users hold credentials, so a file or directory that another
user owns or may write, and a symbolic link unless the task allows it, are
refused before anything is read. Writers take a lock beside the file (never in
a shared temporary directory) for the read-merge-write.

Entry names are the identity: an entry the task names is owned by the task and
replaced as a whole (only its ``extensions`` are kept), so switching a user
from a static token to ``exec`` leaves no stale token behind.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import errno
import fcntl
import os
import pwd
import re
import stat
import tempfile
import time

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE
from ansible.module_utils.parsing.convert_bool import BOOLEANS_TRUE
# From eks_token.py, not credential_plugin.py: the same tuple, but the kubeconfig modules' payloads
# then carry 171 lines instead of 1091 (2 ms to import instead of 14, at every run).
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.eks_token import EXEC_API_VERSIONS

# kubectl writes its kubeconfig readable by the owner only; so does this module, always.
KUBECONFIG_MODE = 0o600
# Directory created for a kubeconfig whose directory does not exist yet (~/.kube).
KUBECONFIG_DIR_MODE = 0o700
MASK = "********"

INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")

SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))

# Keys whose values are credentials, wherever they appear (user fields, auth-provider config).
SECRET_KEYS = frozenset([
    "token", "id-token", "refresh-token", "access-token", "client-secret", "client-key-data", "password",
])
# Exec plugin options whose value is a credential: --token, --password, --client-secret, --id-token,
# --api-key... (also Go's single-dash -token), as --token=VALUE or followed by the value. Not
# --token-file or --password-stdin: their values are paths or nothing.
SECRET_ARG_OPTION = re.compile(r"(?i)^--?(?:[a-z0-9]+[-_])*(?:token|password|passwd|secret|api[-_]?key)$")
# A JWT (ID and access tokens): base64url of a JSON header ("{" encodes as "ew" or "ey"), a
# payload and a signature (empty for alg none), joined by dots; found inside longer strings
# too ("Bearer eyJ...").
JWT = re.compile(r"(?<![A-Za-z0-9_])e[wy][A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# The longest sleep between two tries to take the lock.
LOCK_POLL_MAX = 0.2

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
    if params.get("lock_timeout", 0) < 0:
        raise KubeconfigError("lock_timeout must be 0 (do not wait) or more seconds, got %s" % params["lock_timeout"])
    cluster, user, context = params.get("cluster"), params.get("user"), params.get("context")
    if params["state"] == "absent":
        if not (cluster or user or context):
            raise KubeconfigError("state: absent needs the name of a cluster, user or context to remove")
        if params.get("prune") and not context:
            raise KubeconfigError("prune removes what a context used: give context.name")
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
        raise KubeconfigError(
            "%s is not valid YAML (%s); fix or move the file, this module will not overwrite it"
            % (path, yaml_error_place(e, text))
        )
    if document is None:
        return empty_kubeconfig()
    if not isinstance(document, dict):
        raise KubeconfigError("%s is not a kubeconfig (its top level is a %s, not a mapping)" % (path, type(document).__name__))
    for section, _kind in SECTIONS:
        if not isinstance(document.get(section) or [], list):
            raise KubeconfigError("%s is not a kubeconfig: '%s' is not a list" % (path, section))
    return document


def yaml_error_place(error, text):
    """Where in ``text`` a YAML error is, as "line L, column C", and nothing else.

    PyYAML's own message quotes the offending line and may name the token it
    found there; in a kubeconfig that line can be a token or a client key, so
    the text of the file never reaches an error message.
    """
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        return "line %d, column %d" % (mark.line + 1, mark.column + 1)
    position = getattr(error, "position", None)  # ReaderError: a character YAML does not allow
    if position is not None:
        return "line %d, column %d" % (text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position))
    return "no position known"


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
    pruned = pruned_names(current, names.get("contexts")) if params.get("prune") else {}
    for section, name in pruned.items():
        names.setdefault(section, name)
    document, removed, kept = remove_entries(current, names)
    # What prune adds is removed only when unused; keeping it is the expected outcome, not news.
    kept = [message for message in kept if not any("'%s' is kept" % name in message for name in pruned.values())]
    return document, removed, kept


def pruned_names(document, context_name):
    """The cluster and user (by section) that context ``context_name`` of ``document`` uses."""
    for entry in document.get("contexts") or []:
        if isinstance(entry, dict) and entry.get("name") == context_name:
            context = entry.get("context") or {}
            return dict((section, context[kind]) for section, kind in SECTIONS
                        if section != "contexts" and context.get(kind))
    return {}


# ---------------------------------------------------------------------------
# Secrets, rendering, diff (pure)
# ---------------------------------------------------------------------------

def mask_secrets(value):
    """A copy with every credential replaced by ``********``: for the diff and the result.

    Masked: the values of SECRET_KEYS wherever they are, every exec ``env``
    value (its names stay), credential ``args`` (see exec_args_masked) and any
    JWT-shaped text in any string.
    """
    if isinstance(value, dict):
        masked = {}
        for key, item in value.items():
            if key in SECRET_KEYS and item not in (None, ""):
                masked[key] = MASK
            elif key == "env" and isinstance(item, list):
                masked[key] = [_mask_env(variable) for variable in item]
            elif key == "args" and isinstance(item, list):
                masked[key] = exec_args_masked(item)[0]
            else:
                masked[key] = mask_secrets(item)
        return masked
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return JWT.sub(MASK, value)
    return value


def _mask_env(variable):
    """An exec env entry with its value masked: a plugin's environment is where its credentials go."""
    if isinstance(variable, dict) and variable.get("value") not in (None, ""):
        return dict(mask_secrets(variable), value=MASK)
    return mask_secrets(variable)


def exec_args_masked(args):
    """``(masked, secrets)``: exec args as they may be shown, and the credential values they held.

    A credential is the value of a SECRET_ARG_OPTION (``--token=VALUE``, or
    the argument after ``--token``) or a JWT-shaped part of any argument.
    """
    masked, secrets = [], []
    value_follows = False
    for arg in args:
        if not isinstance(arg, str):
            masked.append(mask_secrets(arg))
            value_follows = False
            continue
        if value_follows:
            value_follows = False
            if arg:
                masked.append(MASK)
                secrets.append(arg)
                continue
        option, equals, value = arg.partition("=")
        if SECRET_ARG_OPTION.match(option):
            if equals and value:
                masked.append(option + "=" + MASK)
                secrets.append(value)
                continue
            value_follows = not equals
        secrets.extend(JWT.findall(arg))
        masked.append(JWT.sub(MASK, arg))
    return masked, secrets


def _strings(value):
    """Every string in ``value``, however deep in dicts and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (dict, list)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def credential_values(params):
    """Credentials among the task's options that no ``no_log`` option covers.

    The secrets of exec args and JWT-shaped strings anywhere. Added to the
    module's no_log values, they are masked in its invocation (printed at
    -vvv), its logs and everything it returns.
    """
    exec_spec = (params.get("user") or {}).get("exec") or {}
    values = set(exec_args_masked(exec_spec.get("args") or [])[1])
    for text in _strings(params):
        values.update(JWT.findall(text))
    return values


def render(document):
    """The file's text."""
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False, allow_unicode=True, width=10000)


def diff_text(document, mode, note=None):
    """Masked YAML for Ansible's diff, its first line the file's mode, then ``note``; empty for no file."""
    if document is None:
        return ""
    return "# mode %04o\n%s%s" % (mode, "# %s\n" % note if note else "", render(mask_secrets(document)))


def only_masked_values_differ(before, after):
    """Whether the documents differ in masked values only, so that the masked diff shows no change."""
    return before is not None and after is not None and before != after and mask_secrets(before) == mask_secrets(after)


def file_changed(before, after, mode):
    """Whether the file must be written: other content (parsed, not text), a missing file, or a mode other than 0600."""
    if after is None:
        return False
    return before is None or before != after or mode != KUBECONFIG_MODE


# ---------------------------------------------------------------------------
# The file: who may own it, reading, writing, the lock
# ---------------------------------------------------------------------------

def _user(uid):
    """``uid 1000 (alice)``, for messages."""
    try:
        return "uid %d (%s)" % (uid, pwd.getpwuid(uid).pw_name)
    except KeyError:
        return "uid %d" % uid


def refuse_foreign(path, info, what):
    """Refuse ``path`` (``info`` its stat) when another user owns it or group or others may write it.

    As ssh refuses a loose ~/.ssh: whoever else may write a kubeconfig, or
    the directory it is in, can add an exec entry that kubectl runs, or send
    the user's credentials to a server of theirs.
    """
    me = os.geteuid()
    if info.st_uid != me:
        raise KubeconfigError(
            "%s %s is owned by %s, not by %s who runs this task; refusing to use it. Run the task as its owner "
            "(become_user), or choose a path of your own" % (what, path, _user(info.st_uid), _user(me))
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KubeconfigError(
            "%s %s is writable by group or others (mode %04o); refusing to use it, since whoever can write it "
            "decides what kubectl runs and where it sends credentials. Check it, then run: chmod go-w %s"
            % (what, path, stat.S_IMODE(info.st_mode), path)
        )


def kubeconfig_file(path, follow):
    """The file to read and write: ``path`` itself, or with ``follow`` the file the link ``path`` points to.

    A link is refused unless ``follow`` is true, and then every link on the
    way must belong to the user: whoever owns a link chooses the file this
    task writes. The file found is checked like any other (load_kubeconfig),
    and so is its directory.
    """
    path = os.path.abspath(path)
    current = path
    for _hop in range(40):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            info = None
        if info is None or not stat.S_ISLNK(info.st_mode):
            if current == path:
                return path
            return os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
        if not follow:
            raise KubeconfigError(
                "%s is a symbolic link (to %s); refusing to follow it, since whoever can change the link chooses "
                "the file written. Give the file's own path, or set follow: true to write the file that a link "
                "of yours points to" % (path, os.path.realpath(path))
            )
        if info.st_uid != os.geteuid():
            raise KubeconfigError(
                "%s is a symbolic link owned by %s, not by %s who runs this task; refusing to follow it. Give the "
                "file's own path" % (current, _user(info.st_uid), _user(os.geteuid()))
            )
        current = os.path.join(os.path.dirname(current), os.readlink(current))
    raise KubeconfigError("%s: too many levels of symbolic links" % path)


def check_directory(directory):
    """Whether the kubeconfig's directory exists; one that another user owns or may write is refused."""
    try:
        info = os.stat(directory)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        raise KubeconfigError("%s is not a directory; path must name a file in a directory" % directory)
    refuse_foreign(directory, info, "the kubeconfig's directory")
    return True


def ensure_directory(directory):
    """Create the kubeconfig's directory, mode 0700, when it is missing (parents as ``mkdir -p`` makes them)."""
    if not check_directory(directory):
        os.makedirs(directory, KUBECONFIG_DIR_MODE, exist_ok=True)
        check_directory(directory)  # someone else's, made in the meantime, is refused like any other


def load_kubeconfig(path):
    """``(document, mode)``; ``(None, None)`` when there is no file.

    The file is opened without following a link, and checked (a regular file
    of the user's that only the user may write) on the open descriptor, so
    what is checked is what is read.
    """
    try:
        # O_NONBLOCK: opening a FIFO must fail the check below, not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise KubeconfigError("%s became a symbolic link while this task ran; refusing to follow it" % path)
        raise
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise KubeconfigError("%s is a directory; path must name the kubeconfig file" % path)
        if not stat.S_ISREG(info.st_mode):
            raise KubeconfigError("%s is not a regular file; path must name the kubeconfig file" % path)
        refuse_foreign(path, info, "the kubeconfig")
        with os.fdopen(descriptor, "rb") as handle:
            descriptor = None  # closed with the handle
            data = handle.read()
    finally:
        if descriptor is not None:
            os.close(descriptor)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KubeconfigError("%s is not UTF-8 text; it is not a kubeconfig this module can edit" % path)
    return parse_kubeconfig(text, path), stat.S_IMODE(info.st_mode)


def write_atomically(path, text, mode=KUBECONFIG_MODE):
    """Write ``text`` to ``path`` through a temporary file in the same directory and os.replace.

    Readers see the old file or the new one, never half of one. The file gets
    ``mode`` before it has content. The directory must exist (ensure_directory).
    """
    directory = os.path.dirname(path) or "."
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def set_kubeconfig_mode(path):
    """Give the file mode 0600 without rewriting it (its comments and layout stay); never through a link."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(descriptor, KUBECONFIG_MODE)
    finally:
        os.close(descriptor)


def lock_path(path):
    """The lock file of a kubeconfig: ``.NAME.lock`` beside it, in the directory the user owns.

    Not ``NAME.lock``: kubectl (client-go) creates that name with O_EXCL for its
    own writes and fails while it exists.
    """
    directory, name = os.path.split(path)
    return os.path.join(directory, ".%s.lock" % name)


def open_lock_file(lock):
    """A descriptor of the lock file, created 0600 if missing; a symbolic link there is refused."""
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, KUBECONFIG_MODE)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise KubeconfigError(
                "the lock file %s is a symbolic link; refusing to follow it. Remove the link and run again" % lock
            )
        raise


def flock_before(descriptor, deadline):
    """Take the exclusive flock of ``descriptor``, trying until ``deadline`` (time.monotonic); whether it was taken."""
    delay = 0.01
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, LOCK_POLL_MAX)


def names_inode(lock, descriptor):
    """Whether the path ``lock`` still names the file open as ``descriptor``."""
    try:
        on_path = os.lstat(lock)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (on_path.st_dev, on_path.st_ino) == (held.st_dev, held.st_ino)


@contextlib.contextmanager
def kubeconfig_lock(path, timeout):
    """Hold the exclusive lock of the kubeconfig ``path``, waiting ``timeout`` seconds at most.

    Playbooks write one kubeconfig from several hosts at once (a fleet of
    clusters under forks); without the lock two read-merge-write cycles would
    lose each other's entries.

    The lock is flock(2) on lock_path(path), and the file is removed when the
    lock is released, so nothing stays behind. Removing a locked file is safe
    only with a check: a writer that opened the file before its removal
    waits on an inode that is no longer at the path, while a newcomer creates
    and locks a new file; both would get a lock and go ahead together. So a
    writer that got the lock checks that the path still names the file it
    locked, and starts over if not; and the holder removes the path before it
    releases the lock, so the path only ever names the current holder's file.
    The kernel releases the lock of a process that dies; the file it leaves
    behind locks nothing, and the next writer takes it over and removes it.
    """
    lock = lock_path(path)
    deadline = time.monotonic() + timeout
    while True:
        descriptor = open_lock_file(lock)
        try:
            locked = flock_before(descriptor, deadline)
            current = locked and names_inode(lock, descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        if current:
            break
        os.close(descriptor)
        if not locked:
            raise KubeconfigError(
                "timed out after %s s waiting for the lock %s: another task or process is writing %s, or hangs "
                "while it holds the lock (`fuser -v %s` names it). Run again when it is done, or give lock_timeout "
                "more seconds" % (timeout, lock, path, lock)
            )
    try:
        yield lock
    finally:
        if names_inode(lock, descriptor):  # not if someone removed it by hand: the file there is not ours
            os.unlink(lock)
        os.close(descriptor)  # releases the lock


# ---------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------

class KubeconfigModule(AnsibleModule):
    """The module's AnsibleModule: credentials among exec args stay out of its syslog/journal entry too.

    AnsibleModule logs each invocation ("Invoked with ...") while it is being
    built, masking the values of no_log options only. exec args cannot be
    no_log as a whole (every argument, "-I" or "--config" alike, would then be
    masked wherever it appears in the output), so the credentials among them
    join the no_log values just before that entry is written.
    """

    def _log_invocation(self):
        self.no_log_values.update(credential_values(self.params))
        super()._log_invocation()


def plan_file(path, params):
    """Read the kubeconfig ``path`` (after the ownership checks) and plan the task.

    A dict: ``current`` and ``mode`` (None without a file), ``after``,
    ``changed``, and ``entries`` (present) or ``removed`` and ``kept`` (absent).
    """
    if check_directory(os.path.dirname(path)):
        current, mode = load_kubeconfig(path)
    else:
        current, mode = None, None
    plan = {"current": current, "mode": mode}
    if params["state"] == "present":
        plan["after"], plan["entries"] = plan_present(current, params)
    else:
        plan["after"], plan["removed"], plan["kept"] = plan_absent(current, params)
    plan["changed"] = file_changed(current, plan["after"], mode)
    return plan


def write_plan(path, plan):
    if plan["current"] is not None and plan["after"] == plan["current"]:
        set_kubeconfig_mode(path)
    else:
        write_atomically(path, render(plan["after"]))


def converge(module):
    """The module's result. Plan without a lock; only a run that writes creates the directory and takes the lock."""
    params = module.params
    validate_params(params)
    path = kubeconfig_file(params["path"], params["follow"])
    plan = plan_file(path, params)
    if plan["changed"] and not module.check_mode:
        ensure_directory(os.path.dirname(path))
        with kubeconfig_lock(path, params["lock_timeout"]):
            plan = plan_file(path, params)  # again: another writer may have changed the file since it was read
            if plan["changed"]:
                write_plan(path, plan)
    return report(module, path, plan)


def report(module, path, plan):
    """The result: the entries (secrets masked), what was removed, the diff; kept entries become warnings."""
    current, after, changed = plan["current"], plan["after"], plan["changed"]
    result = {"path": path, "cluster": {}, "user": {}, "context": {}}
    if module.params["state"] == "present":
        for section, kind in SECTIONS:
            result[kind] = mask_secrets(plan["entries"].get(section, {}))
    else:
        result["removed"] = plan["removed"]
        for message in plan["kept"]:
            module.warn(message)
    final = after if after is not None else current
    result["current_context"] = (final or {}).get("current-context") or ""
    # changed compares the real values; a change in masked values alone would otherwise show no diff.
    note = "masked values change" if only_masked_values_differ(current, after) else None
    result["diff"] = {
        "before_header": path,
        "after_header": path,
        "before": diff_text(current, plan["mode"]),
        "after": diff_text(after, KUBECONFIG_MODE, note) if changed else diff_text(current, plan["mode"]),
    }
    result["changed"] = changed
    return result


def run(module):
    """The kubeconfig module's result; KubeconfigError says what was refused or failed (nothing was written)."""
    if not HAS_YAML:
        from ansible.module_utils.basic import missing_required_lib
        raise KubeconfigError(missing_required_lib("PyYAML"))
    # Also here, not only in KubeconfigModule: with no_log on the task the invocation is never logged,
    # but the result (its invocation included) must still hold no credential.
    module.no_log_values.update(credential_values(module.params))
    try:
        return converge(module)
    except (IOError, OSError) as e:
        raise KubeconfigError("could not write the kubeconfig %s: %s" % (module.params["path"], e))


# ---------------------------------------------------------------------------
# Reading only: the kubeconfig_info module
# ---------------------------------------------------------------------------

def user_tokens(document, user_name):
    """The OIDC tokens the user entry ``user_name`` holds: ``{id_token, refresh_token}`` ('' when absent).

    The ID token is the auth provider's ``id-token`` or a static ``token``.
    """
    for entry in (document or {}).get("users") or []:
        if isinstance(entry, dict) and entry.get("name") == user_name:
            user = entry.get("user") or {}
            provider = (user.get("auth-provider") or {}).get("config") or {}
            return {"id_token": provider.get("id-token") or user.get("token") or "",
                    "refresh_token": provider.get("refresh-token") or ""}
    return {"id_token": "", "refresh_token": ""}


def read_info(params, no_log):
    """The kubeconfig_info module's result (a dict), after the same ownership checks as the kubeconfig module."""
    if params["return_credentials"] and not no_log:
        raise KubeconfigError(
            "return_credentials returns the user's tokens in clear in the task's result; set no_log: true on the task "
            "(the registered variable still holds them)")
    path = kubeconfig_file(params["path"], params["follow"])
    document = load_kubeconfig(path)[0] if check_directory(os.path.dirname(path)) else None
    result = {"path": path, "exists": document is not None,
              "current_context": (document or {}).get("current-context") or ""}
    for section, _kind in SECTIONS:
        result[section] = mask_secrets([e for e in (document or {}).get(section) or [] if isinstance(e, dict)])
    if params["return_credentials"]:
        result["tokens"] = user_tokens(document, params["user"])
    return result
