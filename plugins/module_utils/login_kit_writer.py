# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write a kubeauth-login kit (module login_kit): the program with the clusters baked in, and a README.

The program is login_kit.py of this collection with the kit and
credential_plugin.py filled in (login_kit.render_program): one implementation
of the developer's side and of the plugin kubectl runs, whichever way they
reach a machine. The kit holds no secret, so its files are 0755/0644 in a
directory others may read; who may write them matters (developers run the
program), so the directory and files must be the administrator's own and
writable by nobody else, as ssh wants ~/.ssh.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import login_kit

PROGRAM = "kubeauth-login"
README = "README.md"
EMBEDDED_KIT = re.compile(r"\nKIT_JSON = r'''\n(.*?)\n'''\n", re.S)


class KitWriteError(Exception):
    """The kit cannot be written as asked; the message says why and what to do."""


def source_of(module):
    """The source text of one of this collection's Python files, also from inside an AnsiballZ zip."""
    loader = getattr(module, "__loader__", None)
    if loader is not None and hasattr(loader, "get_source"):
        source = loader.get_source(module.__name__)
        if source:
            return source
    with open(module.__file__) as handle:
        return handle.read()


def build_kit(params):
    """The kit dict from the module's parameters, checked (https, cluster names, CA bundle, redirect URI, scopes)."""
    clusters = [dict((field, cluster.get(field) or "") for field in login_kit.CLUSTER_FIELDS) for cluster in params["clusters"]]
    ca_pem = ""
    if params.get("ca_file"):
        try:
            with open(params["ca_file"]) as handle:
                ca_pem = handle.read()
        except (OSError, UnicodeDecodeError) as e:
            raise KitWriteError("cannot read ca_file %s: %s" % (params["ca_file"], e))
    redirect_uri = params.get("redirect_uri") or ""
    if redirect_uri:
        try:
            credential_plugin.callback_address(redirect_uri)
        except credential_plugin.PluginError as e:
            raise KitWriteError(str(e).replace("in the config", "(the module's redirect_uri)"))
    scopes = params.get("scopes") or []
    if scopes and "openid" not in scopes:
        raise KitWriteError("scopes must include openid (the ID token is what kubectl sends), got %s" % ", ".join(scopes))
    kit = {"version": login_kit.KIT_VERSION, "clusters": clusters, "ca_pem": ca_pem, "redirect_uri": redirect_uri, "scopes": scopes}
    problem = login_kit.kit_problem(kit)
    if problem:
        raise KitWriteError("%s; each cluster needs name, server, certificate_authority_data, issuer_url, client_id and "
                            "username_claim (eks_cluster_info and eks_identity_provider_config_info return them)" % problem)
    return kit


def readme(kit, program_sha256):
    clusters = "\n".join("- `oidc-%s`: %s" % (cluster["name"], cluster["server"]) for cluster in kit["clusters"])
    issuers = "\n".join("- %s (client %s)" % (issuer_url, client_id) for issuer_url, client_id, _c in login_kit.logins(kit))
    return """# kubectl access with kubeauth-login

You need Python 3.8 or later and kubectl; no AWS account, nothing else.

    python3 kubeauth-login install    # a kubectl context per cluster, in ~/.kube/config
    python3 kubeauth-login login      # sign in with your browser (--headless without one)
    kubectl --context oidc-CLUSTER get pods

Later: `python3 kubeauth-login status`, `logout`, `uninstall` (removes exactly what install added).

Contexts:
%s

Sign-in:
%s

This kit holds no password, token or key: the issuer and the client id are public
(a public client; PKCE protects the login). kubeauth-login has sha256 %s;
your administrator can confirm it.
""" % (clusters, issuers, program_sha256)


def kit_files(kit, program_source, plugin_source):
    """{file name: (content, mode)} of the kit."""
    program = login_kit.render_program(kit, program_source, plugin_source)
    digest = hashlib.sha256(program.encode("utf-8")).hexdigest()
    return {PROGRAM: (program, 0o755), README: (readme(kit, digest), 0o644)}, digest


def kit_of_program(text):
    """The kit embedded in an existing program, for the diff; None when there is none."""
    match = EMBEDDED_KIT.search(text or "")
    try:
        return json.loads(match.group(1)) if match else None
    except ValueError:
        return None


def _read(path):
    """(text, mode) of a kit file, (None, None) when missing; refused when it is a link, someone else's, or writable by others."""
    if login_kit.check_path(credential_plugin, path, "kit file") is None:
        return None, None
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace"), os.stat(path).st_mode & 0o7777


def _check_directory(dest):
    return login_kit.check_path(credential_plugin, dest, "the kit directory", directory=True, follow=True)


def write_kit(params, check_mode):
    """Write the kit to ``dest``; the module's result (changed, diff, program, sha256, clusters, issuers, files)."""
    dest = params["dest"]
    kit = build_kit(params)
    files, digest = kit_files(kit, source_of(login_kit), source_of(credential_plugin))
    exists = _check_directory(dest) is not None
    changed_files, before_kit = [], None
    for name, (content, mode) in sorted(files.items()):
        path = os.path.join(dest, name)
        current, current_mode = _read(path) if exists else (None, None)
        if name == PROGRAM:
            before_kit = kit_of_program(current)
        if current == content and current_mode == mode:
            continue
        changed_files.append(path)
        if not check_mode:
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o755)
            login_kit.write_file(path, content, mode)
    return {
        "changed": bool(changed_files),
        "diff": {"before": before_kit or {}, "after": kit, "before_header": os.path.join(dest, PROGRAM),
                 "after_header": os.path.join(dest, PROGRAM)},
        "program": os.path.join(dest, PROGRAM),
        "sha256": digest,
        "clusters": ["oidc-" + cluster["name"] for cluster in kit["clusters"]],
        "issuers": [issuer_url for issuer_url, _client_id, _c in login_kit.logins(kit)],
        "files": changed_files,
    }


def remove_kit(params, check_mode):
    """Remove the kit's files, and ``dest`` when that leaves it empty."""
    dest = params["dest"]
    if _check_directory(dest) is None:
        return {"changed": False, "diff": {"before": {}, "after": {}}, "files": []}
    removed, before_kit = [], None
    for name in (PROGRAM, README):
        path = os.path.join(dest, name)
        current, _mode = _read(path)
        if current is None:
            continue
        if name == PROGRAM:
            before_kit = kit_of_program(current)
        removed.append(path)
        if not check_mode:
            os.unlink(path)
    if removed and not check_mode and not os.listdir(dest):
        os.rmdir(dest)
    return {"changed": bool(removed), "diff": {"before": before_kit or {}, "after": {}}, "files": removed}


def run(params, check_mode):
    params = dict(params, dest=os.path.abspath(os.path.expanduser(params["dest"])))
    try:
        if params["state"] == "absent":
            return remove_kit(params, check_mode)
        return write_kit(params, check_mode)
    except (login_kit.KitError, credential_plugin.PluginError) as e:
        raise KitWriteError(str(e))
