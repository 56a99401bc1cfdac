"""Live events of a run, sent to the caller's `on_event` (sync or async) as things happen.

A failing listener is logged and ignored: a broken UI must not fail the task it watches. Sync
sources (the LLM's delta callback) schedule async listeners and `drain()` awaits them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from agent.records import Event, EventType

__all__ = ["EventListener", "Events"]

log = logging.getLogger(__name__)

EventListener = Callable[[Event], Awaitable[None] | None]


class Events:
    def __init__(self, execution_id: str, listener: EventListener | None) -> None:
        self.execution_id = execution_id
        self._listener = listener
        self._pending: set[asyncio.Future[Any]] = set()

    @property
    def listener(self) -> EventListener | None:
        return self._listener

    @property
    def live(self) -> bool:
        return self._listener is not None

    def _call(self, event: Event) -> Awaitable[None] | None:
        if self._listener is None:
            return None
        try:
            return self._listener(event)
        except Exception:
            log.exception("event listener failed on %s", event.type)
            return None

    async def emit(self, type: EventType, data: dict[str, Any]) -> None:
        outcome = self._call(Event(type=type, execution_id=self.execution_id, data=data))
        if inspect.isawaitable(outcome):
            try:
                await outcome
            except Exception:
                log.exception("event listener failed on %s", type)

    def emit_nowait(self, type: EventType, data: dict[str, Any]) -> None:
        """From sync code running on the event loop (the LLM delta callback)."""
        outcome = self._call(Event(type=type, execution_id=self.execution_id, data=data))
        if inspect.isawaitable(outcome):
            future = asyncio.ensure_future(outcome)
            self._pending.add(future)
            future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("event listener failed: %r", future.exception())

    async def drain(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
