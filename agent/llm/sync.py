"""`complete_sync`: a provider call from blocking code (notebooks, papermill, the CLI).

Runs on one background event loop for the whole process, so it works inside a Jupyter kernel
(whose own loop is already running) and keeps one connection pool per provider.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from agent.llm.base import Completion, LLMProvider, Message

__all__ = ["complete_sync"]

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="llm-sync", daemon=True).start()
        return _loop


def complete_sync(provider: LLMProvider, messages: list[Message], **kw: Any) -> Completion:
    """`provider.complete(messages, **kw)`, blocking; an interrupt (Ctrl-C) cancels the call."""
    future = asyncio.run_coroutine_threadsafe(provider.complete(messages, **kw), _background_loop())
    try:
        return future.result()
    except BaseException:
        # KeyboardInterrupt in a notebook: stop the request instead of leaving it running
        future.cancel()
        raise
    finally:
        if not future.done():
            concurrent.futures.wait([future], timeout=5)
