"""Connections slow or greedy clients cannot hold: a header timeout and a cap per client address.

uvicorn (0.3x-0.5x, h11) times out only idle kept-alive connections, and only until their first
byte: a client that connects and says nothing, or sends its headers a byte at a time, holds its
connection for ever, and enough of them hold every file descriptor; so does one that sends its
headers and then its body a byte at a time. ``guarded_protocol`` makes uvicorn's h11 protocol
class with two guards:

- **request timeout**: from the moment a connection is made, and again each time a response is
  complete, the client has ``header_timeout`` seconds to finish sending the next request, headers
  and body, or the connection is closed. A request that has arrived and is being answered (an
  event stream, a long poll) is never timed out.
- **per-client cap**: one client address holds at most ``max_connections``. A new connection past
  the cap drops that address's oldest connection that is still sending (or has not begun) its
  request, preferring one that never had a request answered (a slow or silent client loses its
  place to a working one, and a kept-alive client that works keeps it); when every one of them
  is busy with an answer, the new connection gets ``503`` and is closed.

Both act at the protocol level, before a request exists, so the application never sees them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_BUSY_BODY = (b'{"error":"TooManyConnections","message":"this client holds too many connections '
              b'busy with requests","where":"","hint":"wait for one to end, or reuse it"}')
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: " + str(len(_BUSY_BODY)).encode()
        + b"\r\n\r\n" + _BUSY_BODY)


def guarded_protocol(header_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with the header timeout and the per-client cap (see the module);
    each call makes a class with its own connection table (one per server)."""
    # client host -> its open connections, oldest first (a dict used as an ordered set)
    table: dict[str, OrderedDict[Guarded, None]] = {}

    class Guarded(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _peer = ""
        _served = False  # a request of this connection was answered

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._peer = self.client[0] if self.client else ""
            mine = table.setdefault(self._peer, OrderedDict())
            if len(mine) >= max_connections:
                waiting = [c for c in mine if c._waiting()]
                if not waiting:
                    transport.write(BUSY)
                    transport.close()
                    return
                # one that never completed a request first: a kept-alive client that did keeps
                # its place against a flood of silent ones
                next((c for c in waiting if not c._served), waiting[0])._drop()
            mine[self] = None
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            mine = table.get(self._peer)
            if mine is not None:
                mine.pop(self, None)
                if not mine:
                    del table[self._peer]
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if not self._waiting():
                self._disarm()  # the request is in: its answer takes as long as it needs

        def on_response_complete(self) -> None:
            self._served = True
            super().on_response_complete()
            if not self.transport.is_closing() and self._waiting():
                self._arm()

        def _waiting(self) -> bool:
            """Still waiting for (the rest of) a request: its headers or its body."""
            return bool(self.conn.their_state in (h11.IDLE, h11.SEND_BODY))

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._expire)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expire(self) -> None:
            self._header_timer = None
            if self._waiting():
                self._drop()

        def _drop(self) -> None:
            self._disarm()
            mine = table.get(self._peer)
            if mine is not None:
                mine.pop(self, None)
            if not self.transport.is_closing():
                self.transport.close()

    return Guarded
