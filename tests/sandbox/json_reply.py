"""One JSON answer from an http.server request handler.

The sandbox's IAM webhooks answer kube-apiserver with it; the tests' and
benchmarks' stand-in identity providers (tests/integration/logins.py,
benchmarks/credential_plugin.py) answer the credential plugin with it.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


def send_json(handler: BaseHTTPRequestHandler, status: int, document: object, *, close: bool = False) -> None:
    """Answer the handler's request with `status` and `document` as JSON; `close` ends the connection after it."""
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    if close:
        handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)
