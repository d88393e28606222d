# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One compare/plan helper for every module of the collection.

A module states the settings the user asked for (``desired``, where ``None``
means "not specified, leave as is") and the settings the API reports
(``current``). ``plan_changes`` returns what differs, keyed by a dotted path,
so a module can decide to update, refuse (immutable settings) or report a diff
without each module comparing nested dicts its own way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def plan_changes(current, desired, prefix=""):
    """Return ``{path: {"before": x, "after": y}}`` for every desired value that differs.

    Dicts are compared key by key (only the keys present in ``desired``),
    so settings the user did not mention never count as changes. Lists and
    scalars are compared as a whole; callers sort lists whose order does not
    matter before calling.
    """
    current = current or {}
    changes = {}
    for key, wanted in desired.items():
        if wanted is None:
            continue
        path = prefix + key
        have = current.get(key)
        if isinstance(wanted, dict) and isinstance(have, dict):
            changes.update(plan_changes(have, wanted, path + "."))
        elif have != wanted:
            changes[path] = {"before": have, "after": wanted}
    return changes


def diff_from_changes(changes):
    """Ansible's ``diff`` dict (before/after) from a ``plan_changes`` result."""
    return {
        "before": dict((path, change["before"]) for path, change in changes.items()),
        "after": dict((path, change["after"]) for path, change in changes.items()),
    }


def update_result(changes, **result):
    """A module's result after an update planned with ``plan_changes``: changed exactly when something differs."""
    return dict(result, changed=bool(changes), diff=diff_from_changes(changes))


def merge_desired(current, desired):
    """``current`` with every non-None value of ``desired`` laid over it (recursively).

    Several AWS update calls (UpdateUserPool, UpdateUserPoolClient) reset any
    setting they are not given to its default. Sending ``merge_desired`` of the
    described resource and the user's settings keeps what the user did not
    mention.
    """
    merged = dict(current or {})
    for key, wanted in desired.items():
        if wanted is None:
            continue
        if isinstance(wanted, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_desired(merged[key], wanted)
        else:
            merged[key] = wanted
    return merged


def describe_changes(changes, show=str):
    """A ``plan_changes`` result as one line for a message: ``path: before -> after; ...``, by path.

    ``show=repr`` quotes strings, so that an empty string stands out from an unset value.
    """
    return "; ".join("%s: %s -> %s" % (path, show(c["before"]), show(c["after"])) for path, c in sorted(changes.items()))
