"""One SDK client per event loop: an httpx connection pool must not cross loops.

The server's loop and the background loop of `complete_sync` each get their own client; clients
of loops that have since closed are dropped (their sockets went with the loop).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["LoopClients"]


class _Closable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class LoopClients(Generic[C]):
    def __init__(self, factory: Callable[[], C]) -> None:
        self._factory = factory
        self._clients: list[tuple[weakref.ref[asyncio.AbstractEventLoop], C]] = []
        self._lock = threading.Lock()

    def get(self) -> C:
        """The client of the running loop, made on first use."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._clients = [(ref, c) for ref, c in self._clients if _alive(ref)]
            for ref, client in self._clients:
                if ref() is loop:
                    return client
            client = self._factory()
            self._clients.append((weakref.ref(loop), client))
            return client

    async def aclose(self) -> None:
        """Close the running loop's client; others belong to loops this one cannot drive."""
        loop = asyncio.get_running_loop()
        with self._lock:
            mine = [c for ref, c in self._clients if ref() is loop]
            self._clients = [(ref, c) for ref, c in self._clients if ref() is not loop]
        for client in mine:
            await client.close()


def _alive(ref: weakref.ref[asyncio.AbstractEventLoop]) -> bool:
    loop = ref()
    return loop is not None and not loop.is_closed()
