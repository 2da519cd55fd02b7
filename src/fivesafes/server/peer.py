"""Who is at the other end of a Unix-socket connection: the kernel says (SO_PEERCRED).

uvicorn's HTTP protocol is subclassed so that, when a connection is made, the peer's
pid, uid and gid are read from the socket once and put in every request's ASGI scope
(``scope["extensions"]["fivesafes.peer"]``). Nothing the client sends can set it: a TCP
connection has no peer credentials, and its requests must carry a bearer token instead.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

PEER_KEY = "fivesafes.peer"


@dataclass(frozen=True)
class Peer:
    """The process at the other end of a Unix socket."""

    pid: int
    uid: int
    gid: int


def peer_of(sock: Any) -> Peer | None:
    """The peer credentials of a connected Unix socket; None for any other socket."""
    if sock is None or getattr(sock, "family", None) != socket.AF_UNIX:
        return None
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:  # pragma: no cover - not Linux: no identity, so no access
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def peer_in_scope(scope: Mapping[str, Any]) -> Peer | None:
    """The peer the connection's protocol recorded, if any."""
    peer = scope.get("extensions", {}).get(PEER_KEY)
    return peer if isinstance(peer, Peer) else None


def _with_peer(protocol: Any, transport: asyncio.Transport) -> None:
    peer = peer_of(transport.get_extra_info("socket"))
    inner = protocol.app

    async def with_peer(scope: Any, receive: Any, send: Any) -> None:
        # Always set (None on TCP), so that nothing upstream could have put one there.
        scope.setdefault("extensions", {})
        scope["extensions"] = {**(scope["extensions"] or {}), PEER_KEY: peer}
        await inner(scope, receive, send)

    protocol.app = with_peer


class PeerCredProtocol(H11Protocol):
    """uvicorn's h11 protocol, adding the peer's credentials to each request's scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _with_peer(self, transport)


def peer_protocol() -> type[asyncio.Protocol]:
    """The fastest HTTP protocol installed, with the peer's credentials in each scope.

    httptools (C, llhttp) parses a request in a fraction of h11's (pure Python) time,
    which is most of what the socket adds to a request; h11 when it is not installed.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is in the lockfile
        return PeerCredProtocol

    class PeerCredHttpTools(HttpToolsProtocol):
        """uvicorn's httptools protocol, adding the peer's credentials to each scope."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            _with_peer(self, transport)

    return PeerCredHttpTools
