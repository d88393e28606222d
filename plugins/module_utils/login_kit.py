# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""kubeauth-login: kubectl access to your team's EKS clusters with one sign-in, no AWS account needed.

Needs Python 3.8+ (standard library only) and kubectl::

    python3 kubeauth-login install [--kubeconfig PATH]    a context oidc-CLUSTER per cluster of the kit
    python3 kubeauth-login login [--headless] [--no-browser]
                                                          sign in once, for every context of the kit
    python3 kubeauth-login status                         who is signed in, and until when
    python3 kubeauth-login logout                         forget the cached tokens
    python3 kubeauth-login uninstall [--kubeconfig PATH]  remove exactly what install added

``install`` merges the contexts into the kubeconfig (default: the first file
of $KUBECONFIG, else ~/.kube/config; mode 0600, the file as it was kept
beside it as CONFIG.kubeauth-login.bak) and puts kubectl's credential plugin
in ~/.kube/kubeauth-login (mode 0700): kubectl runs it with this Python's real
path and ``-I -S``, and it answers from a token cache, renews the ID token
with the refresh token, and asks you to log in again only when it must.
``login`` opens the identity provider's sign-in page in your browser (OAuth
2.0 authorization code with PKCE, the answer comes back to localhost); on a
machine without a browser, ``--headless`` prints the address to open
elsewhere and asks for the address the browser ended up on.

This kit holds no secret: the issuer and the client id are public (the
client is a public client, PKCE protects its codes), the clusters' endpoints
and CA certificates are what any kubeconfig holds. Like ssh with ~/.ssh,
every file and directory it writes or runs must be yours and writable by
nobody else, and is never reached through a symbolic link; otherwise it
refuses, says which path and why, and changes nothing.

In the kubeauth.eks_oidc collection this file is plugins/module_utils/login_kit.py;
the module kubeauth.eks_oidc.login_kit writes the program, with the kit
(KIT_JSON) and the credential plugin (PLUGIN_SOURCE, the collection's
credential_plugin.py as is) filled in at the end.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

PROG = "kubeauth-login"
KIT_VERSION = 1
PLUGIN_DIR = os.path.join("~", ".kube", "kubeauth-login")
PLUGIN_FILE = "credential_plugin.py"
CA_FILE = "ca.pem"
CACHE_DIR = "cache"
STATE_FILE = "installed.json"
BACKUP_SUFFIX = ".kubeauth-login.bak"
CONTEXT_PREFIX = "oidc-"
EXEC_API_VERSION = "client.authentication.k8s.io/v1"
# (list key, item key) of the kubeconfig entries install writes, one of each per cluster.
KINDS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
CLUSTER_FIELDS = ("name", "server", "certificate_authority_data", "issuer_url", "client_id",
                  "username_claim", "username_prefix", "groups_claim", "groups_prefix")
REQUIRED_CLUSTER_FIELDS = ("name", "server", "certificate_authority_data", "issuer_url", "client_id", "username_claim")


class KitError(Exception):
    """A failure the developer can act on; the message says how."""


# ---------------------------------------------------------------------------
# The kit (pure)
# ---------------------------------------------------------------------------

def kit_problem(kit):
    """What is wrong with a kit dict, or None. The admin's module checks it before writing; the program on load."""
    if not isinstance(kit, dict) or kit.get("version") != KIT_VERSION:
        return "not a kubeauth-login kit of version %d" % KIT_VERSION
    clusters = kit.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        return "the kit has no cluster"
    names = set()
    for cluster in clusters:
        if not isinstance(cluster, dict):
            return "a cluster of the kit is not an object"
        for field in REQUIRED_CLUSTER_FIELDS:
            if not isinstance(cluster.get(field), str) or not cluster[field]:
                return "cluster %r has no %s" % (cluster.get("name"), field)
        name = cluster["name"]
        if not all(c.isalnum() or c in "-_" for c in name) or not name[0].isalnum():
            return "cluster name %r is not an EKS cluster name (letters, digits, - and _)" % name
        if name in names:
            return "cluster %s is in the kit twice" % name
        names.add(name)
        for field in ("server", "issuer_url"):
            if not cluster[field].lower().startswith("https://"):
                return "the %s of cluster %s, %r, is not https" % (field, name, cluster[field])
    ca_pem = kit.get("ca_pem") or ""
    if ca_pem and "-----BEGIN CERTIFICATE-----" not in ca_pem:
        return "ca_pem holds no PEM certificate"
    return None


def context_name(cluster):
    return CONTEXT_PREFIX + cluster["name"]


def config_path(directory, cluster):
    """The credential plugin's config of a cluster's context (see credential_plugin.py)."""
    return os.path.join(directory, context_name(cluster) + ".json")


def plugin_config(kit, cluster, directory):
    """The credential plugin's config for a cluster's context: issuer, client, browser login, the shared cache.

    Every context of one issuer and client shares the cache file (the plugin
    keys it by issuer, client and user), so one login serves them all.
    """
    config = {
        "issuer_url": cluster["issuer_url"],
        "client_id": cluster["client_id"],
        "login": "browser",
        "cache_dir": os.path.join(directory, CACHE_DIR),
    }
    if kit.get("ca_pem"):
        config["ca_file"] = os.path.join(directory, CA_FILE)
    for key in ("redirect_uri", "scopes"):
        if kit.get(key):
            config[key] = kit[key]
    return config


def logins(kit):
    """[(issuer_url, client_id, [clusters])]: one login each, in the kit's order."""
    found = []
    for cluster in kit["clusters"]:
        key = (cluster["issuer_url"], cluster["client_id"])
        for issuer_url, client_id, clusters in found:
            if (issuer_url, client_id) == key:
                clusters.append(cluster)
                break
        else:
            found.append((key[0], key[1], [cluster]))
    return found


def exec_entry(cluster, python, directory):
    """The kubeconfig user's exec: the real interpreter with -I -S (isolated, no site: the cached path costs ~20 ms)."""
    return {
        "apiVersion": EXEC_API_VERSION,
        "command": os.path.realpath(python),
        "args": ["-I", "-S", os.path.join(directory, PLUGIN_FILE), "get-token", "--config", config_path(directory, cluster)],
        "env": None,
        "interactiveMode": "IfAvailable",
        "provideClusterInfo": False,
        "installHint": "the kubeauth-login kit installs this plugin: run `python3 kubeauth-login install` again",
    }


def kubeconfig_entries(kit, python, directory):
    """{"clusters": [...], "users": [...], "contexts": [...]}: what install puts in the kubeconfig, named oidc-CLUSTER."""
    entries = {"clusters": [], "users": [], "contexts": []}
    for cluster in kit["clusters"]:
        name = context_name(cluster)
        entries["clusters"].append({"name": name, "cluster": {
            "server": cluster["server"], "certificate-authority-data": cluster["certificate_authority_data"]}})
        entries["users"].append({"name": name, "user": {"exec": exec_entry(cluster, python, directory)}})
        entries["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    return entries


def kubernetes_identity(claims, cluster):
    """(username, groups) as the cluster's API server names the token's user (the association's claims and prefixes)."""
    username = claims.get(cluster["username_claim"])
    if isinstance(username, str) and username:
        username = (cluster.get("username_prefix") or "") + username
    else:
        username = None
    groups = claims.get(cluster.get("groups_claim") or "") or []
    groups = [groups] if isinstance(groups, str) else [g for g in groups if isinstance(g, str)]
    return username, [(cluster.get("groups_prefix") or "") + group for group in groups]


# ---------------------------------------------------------------------------
# Kubeconfig merge and removal (pure: dicts as `kubectl config view -o json` gives them)
# ---------------------------------------------------------------------------

def empty_config():
    return {"kind": "Config", "apiVersion": "v1", "preferences": {}, "clusters": [], "users": [], "contexts": [],
            "current-context": ""}


def canonical(value):
    """``value`` without empty fields (None, "", False, [], {}), as kubectl treats them: for comparing entries."""
    if isinstance(value, dict):
        value = dict((key, canonical(item)) for key, item in value.items())
        return dict((key, item) for key, item in value.items() if item not in (None, "", False, [], {}))
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def same_config(a, b):
    return canonical(a) == canonical(b)


def merge_entries(config, entries, owned):
    """(new config, names owned afterwards) once ``entries`` are in ``config``.

    ``owned`` ({kind: [names]}) is what an earlier install added: those
    entries are replaced, and dropped when the kit no longer has them. An
    entry of the same name that install did not add is kept when it is
    identical (and stays not ours), refused otherwise: install never
    overwrites what someone else wrote.
    """
    config = dict(config)
    after = {}
    for kind, _item in KINDS:
        mine = set(owned.get(kind, []))
        wanted = dict((entry["name"], entry) for entry in entries[kind])
        current = [entry for entry in (config.get(kind) or []) if entry.get("name") not in mine or entry.get("name") in wanted]
        names = [entry.get("name") for entry in current]
        after[kind] = []
        for name, entry in wanted.items():
            if name in names:
                index = names.index(name)
                if name not in mine:
                    if canonical(current[index]) != canonical(entry):
                        raise KitError(
                            "the kubeconfig already has a %s named %s that kubeauth-login did not write; rename or delete it "
                            "(kubectl config delete-%s %s) or install into another file with --kubeconfig"
                            % (kind[:-1], name, kind[:-1], name))
                    continue
                current[index] = entry
            else:
                current.append(entry)
            after[kind].append(name)
        config[kind] = current
    if not config.get("current-context") and entries["contexts"]:
        config["current-context"] = entries["contexts"][0]["name"]
    return config, after


def remove_entries(config, owned, previous_current_context):
    """``config`` without the entries named in ``owned``; a current context of ours goes back to what it was."""
    config = dict(config)
    for kind, _item in KINDS:
        mine = set(owned.get(kind, []))
        config[kind] = [entry for entry in (config.get(kind) or []) if entry.get("name") not in mine]
    if config.get("current-context") in set(owned.get("contexts", [])):
        contexts = [entry.get("name") for entry in config["contexts"]]
        config["current-context"] = previous_current_context if previous_current_context in contexts else ""
    return config


def is_empty(config):
    """Whether ``config`` holds nothing at all (a file install created can go again)."""
    rest = dict((key, value) for key, value in canonical(config).items() if key not in ("kind", "apiVersion"))
    return not rest


# ---------------------------------------------------------------------------
# YAML out (kubectl reads the file; the standard library writes no YAML)
# ---------------------------------------------------------------------------

YAML_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~")


def yaml_scalar(value):
    """One YAML scalar: plain when it cannot be misread, else JSON-quoted (JSON strings are YAML)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    plain = (text[:1].isalpha() or text[:1] in "/_") and text.lower() not in YAML_WORDS and not text.endswith(":") \
        and all(c.isalnum() and c.isascii() or c in "/_.:@+=-" for c in text)
    return text if plain else json.dumps(text, ensure_ascii=False)


def to_yaml(value, indent=""):
    """Block-style YAML of a JSON-like value (what kubectl writes, keys in the order given)."""
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = indent + yaml_scalar(key) + ":"
            if isinstance(item, (dict, list)) and item:
                lines.append(head + "\n" + to_yaml(item, indent + ("  " if isinstance(item, dict) else "")))
            else:
                lines.append(head + " " + (("{}" if isinstance(item, dict) else "[]") if isinstance(item, (dict, list)) else yaml_scalar(item)) + "\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = to_yaml(item, indent + "  ")
                lines.append(indent + "- " + nested[len(indent) + 2:])
            else:
                lines.append(indent + "- " + (("{}" if isinstance(item, dict) else "[]") if isinstance(item, (dict, list)) else yaml_scalar(item)) + "\n")
    return "".join(lines)


# ---------------------------------------------------------------------------
# Files, checked as ssh checks ~/.ssh
# ---------------------------------------------------------------------------

def check_path(plugin, path, what, directory=False, private=False, follow=False):
    """The lstat of ``path`` (None when it does not exist) after ssh's checks: the user's own, writable by
    nobody else (``private``: usable by nobody else), no symbolic link unless ``follow``; KitError or the
    plugin's PluginError otherwise."""
    import stat

    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise KitError("%s %s is a symbolic link, which kubeauth-login never writes through; remove the link, or pass "
                       "the real path with --kubeconfig (nothing was changed)" % (what, path))
    if directory != stat.S_ISDIR(st.st_mode) or not (directory or stat.S_ISREG(st.st_mode)):
        raise KitError("%s %s is not a %s (nothing was changed)" % (what, path, "directory" if directory else "regular file"))
    plugin.check_trusted(path, what, st, private)
    return st


def ensure_directory(plugin, path, what, private):
    """Create ``path`` (0700) unless it exists; either way it must pass check_path. A private one of ours is made 0700."""
    if check_path(plugin, path, what, directory=True, private=False, follow=not private) is None:
        os.makedirs(path, mode=0o700)
        os.chmod(path, 0o700)  # whatever the umask
    elif private:
        os.chmod(path, 0o700)
    check_path(plugin, path, what, directory=True, private=private, follow=not private)


def read_file(plugin, path, what):
    """Bytes of a file of ours (checked, never through a link), or None when there is none."""
    if check_path(plugin, path, what) is None:
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def write_file(path, data, mode=0o600):
    """Atomically: a temporary file in the same directory, fsync, rename; readers see the old file or the new one whole."""
    import tempfile

    fd, staging = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(staging, path)  # replaces a link itself, never its target
    except BaseException:
        if os.path.exists(staging):
            os.unlink(staging)
        raise


def write_if_changed(plugin, path, data, what, mode=0o600):
    """write_file unless ``path`` already holds ``data`` with ``mode``; True when it wrote."""
    data = data if isinstance(data, bytes) else data.encode("utf-8")
    if read_file(plugin, path, what) == data and os.stat(path).st_mode & 0o7777 == mode:
        return False
    write_file(path, data, mode)
    return True


def plugin_directory():
    return os.path.expanduser(PLUGIN_DIR)


def default_kubeconfig():
    """kubectl's choice: the first file of $KUBECONFIG, else ~/.kube/config."""
    first = [path for path in os.environ.get("KUBECONFIG", "").split(os.pathsep) if path]
    return os.path.abspath(os.path.expanduser(first[0] if first else os.path.join("~", ".kube", "config")))


def find_kubectl():
    import shutil

    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise KitError("kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/), then run this again")
    return kubectl


def read_kubeconfig(kubectl, path):
    """The kubeconfig at ``path`` as kubectl reads it (`kubectl config view --raw -o json`): kubectl is the YAML parser."""
    import subprocess

    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    run = subprocess.run([kubectl, "config", "view", "--raw", "-o", "json", "--kubeconfig", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    if run.returncode != 0:
        raise KitError("kubectl cannot read %s (%s); fix the file, or install into another one with --kubeconfig"
                       % (path, run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "no reason given"))
    config = json.loads(run.stdout.decode("utf-8"))
    for kind, _item in KINDS:
        config[kind] = config.get(kind) or []
    return config


# ---------------------------------------------------------------------------
# Install and uninstall
# ---------------------------------------------------------------------------

def load_state(plugin, directory):
    """{kubeconfig path: what install added there}; {} when nothing is installed."""
    data = read_file(plugin, os.path.join(directory, STATE_FILE), "the install record") if os.path.isdir(directory) else None
    return json.loads(data.decode("utf-8")) if data else {}


def save_state(directory, state):
    write_file(os.path.join(directory, STATE_FILE), json.dumps(state, indent=2, sort_keys=True) + "\n")


def install_plugin_files(kit, plugin, plugin_source, directory):
    """The plugin directory (0700): the plugin, the CA bundle, one config per context; the paths written."""
    ensure_directory(plugin, os.path.dirname(directory), "the kubectl directory", private=False)
    ensure_directory(plugin, directory, "the plugin directory", private=True)
    files = [(os.path.join(directory, PLUGIN_FILE), plugin_source, "the credential plugin")]
    if kit.get("ca_pem"):
        files.append((os.path.join(directory, CA_FILE), kit["ca_pem"], "the CA bundle"))
    else:  # a newer kit without one: the system's store, as its configs say
        remove_file(plugin, os.path.join(directory, CA_FILE), "the CA bundle")
    for cluster in kit["clusters"]:
        config = json.dumps(plugin_config(kit, cluster, directory), indent=2, sort_keys=True) + "\n"
        files.append((config_path(directory, cluster), config, "the plugin config"))
    return [path for path, data, what in files if write_if_changed(plugin, path, data, what)]


def install(kit, plugin, plugin_source, kubeconfig, python, out):
    """Contexts oidc-CLUSTER in ``kubeconfig``, merged with what is there, and the plugin they run."""
    kubectl = find_kubectl()
    directory = plugin_directory()
    ensure_directory(plugin, os.path.dirname(kubeconfig), "the kubeconfig's directory", private=False)
    original = read_file(plugin, kubeconfig, "the kubeconfig")
    config = read_kubeconfig(kubectl, kubeconfig) if original else empty_config()
    written = install_plugin_files(kit, plugin, plugin_source, directory)
    state = load_state(plugin, directory)
    record = state.get(kubeconfig)
    merged, owned = merge_entries(config, kubeconfig_entries(kit, python, directory), (record or {}).get("entries", {}))
    if record is None:
        record = {"created": original is None, "backup": None, "previous_current_context": config.get("current-context") or ""}
        if original is not None:
            record["backup"] = kubeconfig + BACKUP_SUFFIX
            if check_path(plugin, record["backup"], "the kubeconfig backup") is not None:
                raise KitError("%s exists, but no install is on record: move it away (it may be the backup of an earlier "
                               "install), then run install again" % record["backup"])
            fd = os.open(record["backup"], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(original)
    dropped = [name for name in record.get("entries", {}).get("contexts", []) if name not in owned["contexts"]]
    record["entries"] = owned
    state[kubeconfig] = record
    save_state(directory, state)  # first: what the kubeconfig is about to hold is on record
    changed = not same_config(merged, config) or original is None
    if changed:
        write_file(kubeconfig, to_yaml(merged))
    elif os.stat(kubeconfig).st_mode & 0o7777 != 0o600:
        os.chmod(kubeconfig, 0o600)
    for name in dropped:
        remove_file(plugin, os.path.join(directory, name + ".json"), "the plugin config")
    names = [context_name(cluster) for cluster in kit["clusters"]]
    if changed or written:
        out("installed %d context%s in %s: %s" % (len(names), "" if len(names) == 1 else "s", kubeconfig, ", ".join(names)))
        if record["backup"]:
            out("the kubeconfig as it was before kubeauth-login: %s" % record["backup"])
    else:
        out("already installed in %s: %s" % (kubeconfig, ", ".join(names)))
    out("next: python3 %s login" % PROG)
    return 0


def remove_file(plugin, path, what):
    if check_path(plugin, path, what) is not None:
        os.unlink(path)


def uninstall(plugin, kubeconfig, out):
    """Remove what install added to ``kubeconfig``; the file comes back byte for byte when nothing else changed."""
    import shutil

    directory = plugin_directory()
    state = load_state(plugin, directory)
    record = state.pop(kubeconfig, None)
    if record is None:
        out("nothing of kubeauth-login is installed in %s" % kubeconfig)
    else:
        kubectl = find_kubectl()
        outcome = "nothing to remove from %s" % kubeconfig
        if read_file(plugin, kubeconfig, "the kubeconfig") is not None:
            config = read_kubeconfig(kubectl, kubeconfig)
            result = remove_entries(config, record["entries"], record["previous_current_context"])
            backup = record.get("backup")
            original = read_file(plugin, backup, "the kubeconfig backup") if backup else None
            if original is not None and same_config(result, read_kubeconfig(kubectl, backup)):
                write_file(kubeconfig, original)  # byte for byte the file before install
                os.unlink(backup)
                outcome = "%s is as it was before install" % kubeconfig
            elif record.get("created") and is_empty(result):
                os.unlink(kubeconfig)
                outcome = "removed %s, which install had created" % kubeconfig
            elif not same_config(result, config):
                write_file(kubeconfig, to_yaml(result))
                outcome = "removed the kubeauth-login contexts from %s" % kubeconfig
                if original is not None:
                    outcome += "; it changed since install in other ways too, so the backup %s is kept" % backup
        out(outcome)
    still_used = set(name for other in state.values() for name in other["entries"].get("contexts", []))
    if not state and check_path(plugin, directory, "the plugin directory", directory=True) is not None:
        shutil.rmtree(directory)  # ours (checked); rmtree removes links, never follows them
        out("removed %s (plugin, configs, cached tokens)" % directory)
    elif record is not None:
        for name in record["entries"].get("contexts", []):
            if name not in still_used:
                remove_file(plugin, os.path.join(directory, name + ".json"), "the plugin config")
        save_state(directory, state)
    return 0


# ---------------------------------------------------------------------------
# Login, status, logout
# ---------------------------------------------------------------------------

def installed_directory(plugin):
    directory = plugin_directory()
    if not load_state(plugin, directory):
        raise KitError("kubeauth-login is not installed here; run `python3 %s install` first" % PROG)
    return directory


def browser_available():
    import webbrowser

    try:
        webbrowser.get()
        return True
    except webbrowser.Error:
        return False


def keyboard_login(plugin, config, cache_file, ask, out):
    """The code flow with PKCE for a machine without a browser: open the URL anywhere, paste back where it led."""
    import secrets
    import time
    import urllib.parse

    redirect_uri = config.get("redirect_uri") or plugin.DEFAULT_REDIRECT_URI
    callback_path = plugin.callback_address(redirect_uri)[2]
    discovery = plugin.discover(config["issuer_url"], config.get("discovery_url"), config.get("ca_file"))
    endpoints = dict((name, discovery.get(name)) for name in ("authorization_endpoint", "token_endpoint"))
    for name, url in endpoints.items():
        if not url:
            raise KitError("the issuer's discovery document has no %s" % name)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = plugin.pkce_pair()
    url = plugin.authorization_url(endpoints["authorization_endpoint"], config, redirect_uri, state, nonce, challenge)
    out("open this address in a browser on any machine and sign in:\n\n  %s\n" % url)
    out("the browser then goes to %s?code=... (a page that does not load, as nothing listens there: that is expected)." % redirect_uri)
    pasted = ask("paste that whole address here: ").strip()
    parts = urllib.parse.urlsplit(pasted)
    _status, _page, code, failure = plugin.callback_verdict((parts.path or "/") + "?" + parts.query, callback_path, state)
    if not code:
        raise KitError(failure or "that is not the address the browser was sent to (it starts with %s?code=); run login again" % redirect_uri)
    form = {"grant_type": "authorization_code", "client_id": config["client_id"], "code": code,
            "redirect_uri": redirect_uri, "code_verifier": verifier}
    tokens = plugin.token_grant(endpoints["token_endpoint"], form, config.get("ca_file"))
    plugin.check_nonce(tokens["id_token"], nonce)
    entry = plugin.cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token"), time.time())
    with plugin.CacheLock(cache_file + ".lock", plugin.LOCK_TIMEOUT):
        plugin.write_private_json(cache_file, entry)
    return entry


def login(kit, plugin, headless, open_browser, ask, out):
    """One sign-in per issuer of the kit (usually one for all); the tokens go to the plugin's cache."""
    directory = installed_directory(plugin)
    if not headless and open_browser and not browser_available() and sys.stdin.isatty():
        out("no browser found here: using the keyboard flow (--headless)")
        headless = True
    for issuer_url, _client_id, clusters in logins(kit):
        config = plugin_config(kit, clusters[0], directory)
        config["open_browser"] = open_browser
        cache_file = plugin.cache_file_of(config)
        if headless:
            entry = keyboard_login(plugin, config, cache_file, ask, out)
        else:
            entry = plugin.obtain(config, config_path(directory, clusters[0]), cache_file, True, True)
        username, _groups = kubernetes_identity(plugin.jwt_claims(entry["id_token"]), clusters[0])
        out("signed in to %s as %s until %s; kubectl --context %s get pods" % (
            issuer_url, username, local_time(entry["expires_at"]), context_name(clusters[0])))
    return 0


def local_time(epoch):
    import time

    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(epoch))


def describe_login(cached, clusters, now, plugin):
    """(signed in, lines) for status: who the clusters see, until when, whether kubectl can renew it."""
    if not cached or not isinstance(cached.get("id_token"), str):
        return False, ["not signed in: python3 %s login" % PROG]
    claims = plugin.jwt_claims(cached["id_token"])
    lines = []
    for username, groups in sorted(set((name, tuple(groups)) for name, groups in (kubernetes_identity(claims, c) for c in clusters))):
        lines.append("signed in as %s%s" % (username or "(no %s claim)" % clusters[0]["username_claim"],
                                            ", groups %s" % ", ".join(groups) if groups else ""))
    expires_at = cached.get("expires_at") or 0
    if now < expires_at:
        lines.append("ID token valid until %s (%d min from now)" % (local_time(expires_at), (expires_at - now) // 60))
        return True, lines
    if cached.get("refresh_token"):
        lines.append("ID token expired at %s; kubectl renews it with the cached refresh token" % local_time(expires_at))
        return True, lines
    return False, lines + ["expired at %s: python3 %s login" % (local_time(expires_at), PROG)]


def status(kit, plugin, out, now):
    """Per issuer: the contexts it serves, who is signed in and until when. 0 when signed in everywhere, else 3."""
    directory = plugin_directory()
    state = load_state(plugin, directory)
    if not state:
        out("not installed: python3 %s install" % PROG)
        return 3
    for path in sorted(state):
        out("installed in %s: %s" % (path, ", ".join(state[path]["entries"].get("contexts", [])) or "(no context)"))
    signed_in = True
    for issuer_url, client_id, clusters in logins(kit):
        out("%s (client %s), contexts %s:" % (issuer_url, client_id, ", ".join(context_name(c) for c in clusters)))
        cached = plugin.read_cache(plugin.cache_file_of(plugin_config(kit, clusters[0], directory)))
        if cached and (cached.get("issuer_url"), cached.get("client_id")) != (issuer_url, client_id):
            cached = None
        ok, lines = describe_login(cached, clusters, now, plugin)
        signed_in = signed_in and ok
        for line in lines:
            out("  " + line)
    return 0 if signed_in else 3


def logout(kit, plugin, out):
    """Remove the cached tokens of the kit's issuers (the identity provider's session in the browser stays)."""
    directory = plugin_directory()
    for issuer_url, _client_id, clusters in logins(kit):
        cache_file = plugin.cache_file_of(plugin_config(kit, clusters[0], directory))
        present = [path for path in (cache_file, cache_file + ".lock") if check_path(plugin, path, "the token cache", private=True)]
        for path in present:
            os.unlink(path)
        out(("signed out of %s: cached tokens removed" if present else "not signed in to %s") % issuer_url)
    return 0


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n", 1)[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, text in (("install", "add a context oidc-CLUSTER per cluster to your kubeconfig"),
                       ("uninstall", "remove exactly what install added")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--kubeconfig", help="the kubeconfig file (default: first of $KUBECONFIG, else ~/.kube/config)")
    command = commands.add_parser("login", help="sign in (browser, PKCE); one login serves every context")
    command.add_argument("--headless", action="store_true",
                         help="no browser here: print the address to open elsewhere, then paste back where it led")
    command.add_argument("--no-browser", dest="open_browser", action="store_false",
                         help="print the address instead of opening a browser (the answer still comes to localhost)")
    commands.add_parser("status", help="who is signed in, and until when")
    commands.add_parser("logout", help="remove the cached tokens")
    return parser.parse_args(argv)


def write_line(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(argv, kit, plugin, plugin_source, out=None, ask=None):
    """The command line on a loaded kit and plugin module; the exit status."""
    import time

    out = out or write_line
    args = parse_args(argv)
    if args.command in ("install", "uninstall"):
        kubeconfig = os.path.abspath(os.path.expanduser(args.kubeconfig)) if args.kubeconfig else default_kubeconfig()
        if args.command == "install":
            return install(kit, plugin, plugin_source, kubeconfig, sys.executable, out)
        return uninstall(plugin, kubeconfig, out)
    if args.command == "login":
        return login(kit, plugin, args.headless, args.open_browser, ask or input, out)
    if args.command == "status":
        return status(kit, plugin, out, int(time.time()))
    return logout(kit, plugin, out)


def load_plugin(source):
    """The credential plugin as a module, from its source (the same file install writes)."""
    import types

    module = types.ModuleType("kubeauth_credential_plugin")
    module.__file__ = os.path.join(plugin_directory(), PLUGIN_FILE)  # where its messages send the user
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # the kit's own embedded plugin source
    return module


def main(argv=None):
    if KIT_JSON is None or PLUGIN_SOURCE is None:
        sys.stderr.write("%s: this is the template in the collection; run playbooks/login_kit.yml to write a kit\n" % PROG)
        return 2
    kit = json.loads(KIT_JSON)
    problem = kit_problem(kit)
    if problem:
        sys.stderr.write("%s: this kit is damaged (%s); ask your cluster administrator for a new one\n" % (PROG, problem))
        return 2
    plugin = load_plugin(PLUGIN_SOURCE)
    try:
        return run(sys.argv[1:] if argv is None else argv, kit, plugin, PLUGIN_SOURCE)
    except (KitError, plugin.PluginError) as e:
        sys.stderr.write("%s: %s\n" % (PROG, plugin.error_line(e)))
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % PROG)
    except OSError as e:
        sys.stderr.write("%s: %s\n" % (PROG, plugin.error_line(e)))
    return 1


# ---------------------------------------------------------------------------
# The kit: None here; the program the module writes has them filled in (render_program).
# ---------------------------------------------------------------------------

KIT_JSON = None
PLUGIN_SOURCE = None


def render_program(kit, program_source, plugin_source):
    """The text of the kubeauth-login program: ``program_source`` (this file) with the kit and the plugin filled in."""
    problem = kit_problem(kit)
    if problem:
        raise KitError(problem)
    kit_json = json.dumps(kit, indent=2, sort_keys=True)  # ASCII only
    program = program_source
    for name, text in (("KIT_JSON", "\n" + kit_json + "\n"), ("PLUGIN_SOURCE", plugin_source)):
        line = "\n%s = None\n" % name
        if program.count(line) != 1 or "'''" in text or text.endswith("\\"):
            raise KitError("cannot embed %s in the program (no single '%s = None' line, or the text holds ''')" % (name, name))
        program = program.replace(line, "\n%s = r'''%s'''\n" % (name, text))
    return "#!/usr/bin/env python3\n" + program


if __name__ == "__main__":
    raise SystemExit(main())
