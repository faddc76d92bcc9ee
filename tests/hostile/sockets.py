"""Raw HTTP over a socket, for requests no client library would send (slow, partial, huge)."""

from __future__ import annotations

import socket

from andon.serve.up import Line

GUARD = 60.0  # seconds: a failure guard, never a measure of speed


def connect(line: Line, timeout: float = GUARD) -> socket.socket:
    """A fresh connection to the server of ``line``."""
    host, port = line.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and a Content-Length body) read from ``sock``; what came
    before the server closed the connection otherwise."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        length = [int(h.split(b":")[1]) for h in head.lower().split(b"\r\n")
                  if h.startswith(b"content-length:")]
        if sep and length and len(body) >= length[0]:
            return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
