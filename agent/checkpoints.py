"""Checkpoints: when a run's record and notebook are written.

The last write of a run (its terminal status) happens at once, before `done` is sent. The
writes in between (`running`, each step) are coalesced: the first one waits `delay_s`, then
writes the record as it stands by then, so a run that ends within the delay is written once and
a slow run (a real LLM takes seconds per step) still lands every step at most `delay_s` late.
Writes of one record never overlap, so an older version never lands after a newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agent.records import ExecutionRecord

__all__ = ["Checkpoints"]

log = logging.getLogger(__name__)

Write = Callable[[ExecutionRecord], Awaitable[None]]


@dataclass
class _Run:
    record: ExecutionRecord
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timer: asyncio.Task[None] | None = None


class Checkpoints:
    def __init__(self, write: Write, delay_s: float) -> None:
        self._write = write
        self.delay_s = delay_s
        self._runs: dict[str, _Run] = {}

    async def soon(self, record: ExecutionRecord) -> None:
        """A write within `delay_s` (at once when the delay is 0)."""
        if self.delay_s <= 0:
            await self.now(record, last=False)
            return
        run = self._runs.setdefault(record.execution_id, _Run(record))
        if run.timer is None:
            run.timer = asyncio.create_task(
                self._later(run), name=f"checkpoint-{record.execution_id}"
            )

    async def now(
        self, record: ExecutionRecord, *, last: bool = True, write: Write | None = None
    ) -> None:
        """Write at once (by `write`, else the notebook and the store), after a write in
        progress; `last`: the run's writes end here."""
        run = self._runs.get(record.execution_id) or _Run(record)
        if run.timer is not None:  # still waiting (it takes the lock only once it writes)
            run.timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.timer
            run.timer = None
        if last:
            self._runs.pop(record.execution_id, None)
        async with run.lock:
            await (write or self._write)(record)

    async def flush(self) -> None:
        """Write every waiting checkpoint now (at shutdown)."""
        for run in list(self._runs.values()):
            await self.now(run.record)

    async def _later(self, run: _Run) -> None:
        await asyncio.sleep(self.delay_s)
        run.timer = None  # a checkpoint from here on waits for a timer of its own
        try:
            async with run.lock:
                await self._write(run.record)
        except Exception:  # the next checkpoint writes the same record again
            log.exception("checkpoint of %s failed", run.record.execution_id)
