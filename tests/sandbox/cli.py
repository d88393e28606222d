"""What the sandbox's command-line programs (sandbox.py, keycloak.py) share."""

from __future__ import annotations

import sys
from typing import Callable


def run_command(action: Callable[[], object], error: type[Exception], failed: str) -> int:
    """The exit status of one command: 0 once `action()` ran; 1, with "`failed`: why" on stderr, when it raised `error`.

    `error` is the program's own error class, whose message says what to do next; any other exception
    is a bug and shows its traceback.
    """
    try:
        action()
    except error as exc:
        print(f"{failed}: {exc}", file=sys.stderr)
        return 1
    return 0
