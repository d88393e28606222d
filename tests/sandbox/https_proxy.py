"""An HTTPS (CONNECT) proxy that makes the Cognito issuer host reach MiniStack.

A Cognito ID token's ``iss`` is ``https://cognito-idp.REGION.amazonaws.com/POOL``.
That host does not resolve to the sandbox, so anything that follows the
issuer URL (discovery, JWKS, the token endpoint: the collection's modules,
the kubectl credential plugin, kubectl's oidc auth provider) would fail where
on AWS it works. With ``HTTPS_PROXY`` pointing here (``sandbox.py env``
prints it, with ``NO_PROXY`` for loopback), Python, kubectl and any Go
program tunnel ``cognito-idp.REGION.amazonaws.com:443`` to MiniStack, whose
certificate (from the sandbox CA) carries those names and which serves the
pool's documents under the issuer's own path. So the roles use the real
issuer URL, exactly as on AWS, and a user behind a corporate egress proxy
sets the very same variable.

Only CONNECT to a Cognito issuer host on port 443 is tunnelled; every other
request is refused (403), so the proxy never reaches anything but MiniStack.
TLS runs end to end inside the tunnel: the proxy sees no request content.

Started by sandbox.py as a detached process::

    python https_proxy.py STATE_DIR --port P --target-port MINISTACK_PORT
"""

from __future__ import annotations

import argparse
import re
import selectors
import socket
import socketserver
import sys

# The hosts a Cognito issuer names, in any region (and the China partition).
COGNITO_ISSUER_HOST = re.compile(r"^cognito-idp\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?:443$")
_MAX_HEADER_BYTES = 8192
_IDLE_TIMEOUT = 300.0  # a tunnel with no traffic in either direction for this long is closed
_HANDSHAKE_TIMEOUT = 10.0


def tunnel_allowed(authority: str) -> bool:
    """Whether ``host:port`` of a CONNECT request is a Cognito issuer host on 443."""
    return bool(COGNITO_ISSUER_HOST.match(authority.lower()))


def parse_request_head(head: bytes) -> tuple[str, str]:
    """(method, target) of an HTTP request head; ValueError when it is not one."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError("not an HTTP/1.x request line: %r" % request_line[:80])
    return parts[0].upper(), parts[1]


class _Handler(socketserver.BaseRequestHandler):
    target_port: int

    def handle(self) -> None:
        client = self.request
        client.settimeout(_HANDSHAKE_TIMEOUT)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = client.recv(1024)
                if not chunk or len(head) > _MAX_HEADER_BYTES:
                    return
                head += chunk
            method, target = parse_request_head(head)
        except (OSError, ValueError):
            return
        if method != "CONNECT":
            self._answer(405, "this proxy only tunnels HTTPS (CONNECT) to Cognito issuer hosts")
            return
        if not tunnel_allowed(target):
            print("refused CONNECT %s" % target, flush=True)
            self._answer(403, "the sandbox proxy tunnels only cognito-idp.REGION.amazonaws.com:443")
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=_HANDSHAKE_TIMEOUT)
        except OSError as e:
            self._answer(502, "MiniStack is not reachable: %s" % e)
            return
        print("CONNECT %s -> 127.0.0.1:%d" % (target, self.target_port), flush=True)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        # Bytes the client sent after the request head already belong to the tunnel.
        rest = head.split(b"\r\n\r\n", 1)[1]
        with upstream:
            if rest:
                upstream.sendall(rest)
            _relay(client, upstream)

    def _answer(self, status: int, reason: str) -> None:
        body = (reason + "\n").encode()
        phrase = {403: "Forbidden", 405: "Method Not Allowed", 502: "Bad Gateway"}[status]
        head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            status, phrase, len(body))
        try:
            self.request.sendall(head.encode() + body)
        except OSError:
            pass


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or the tunnel idles too long."""
    peer = {a: b, b: a}
    with selectors.DefaultSelector() as selector:
        for sock in peer:
            sock.setblocking(True)
            sock.settimeout(None)
            selector.register(sock, selectors.EVENT_READ)
        while True:
            ready = selector.select(timeout=_IDLE_TIMEOUT)
            if not ready:
                return
            for key, _events in ready:
                try:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    peer[key.fileobj].sendall(data)
                except OSError:
                    return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(port: int, target_port: int) -> None:
    handler = type("Handler", (_Handler,), {"target_port": target_port})
    with _Server(("127.0.0.1", port), handler) as server:
        print("sandbox HTTPS proxy on 127.0.0.1:%d, Cognito issuer hosts -> 127.0.0.1:%d" % (port, target_port),
              flush=True)
        server.serve_forever()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("state_dir", help="the sandbox's state directory (marks the process as the sandbox's)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target-port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.target_port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
