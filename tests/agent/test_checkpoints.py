"""Checkpoints: the last write at once, the ones before it coalesced, never two of a record at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.checkpoints import Checkpoints
from agent.records import ExecutionRecord, TaskStep
from tests.agent.helpers import fence
from tests.fake_llm import FakeLLM


class Writes:
    """A write that records what it saw and can be held open."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.busy = 0
        self.overlapped = False

    async def __call__(self, record: ExecutionRecord) -> None:
        self.busy += 1
        self.overlapped |= self.busy > 1
        await self.open.wait()
        self.seen.append((record.status, len(record.steps)))
        self.busy -= 1


def record() -> ExecutionRecord:
    return ExecutionRecord(session_id="ses_1", task="t", agent="master")


async def test_a_run_that_ends_within_the_delay_is_written_once() -> None:
    writes = Writes()
    checkpoints = Checkpoints(writes, delay_s=10)
    rec = record()
    rec.status = "running"
    await checkpoints.soon(rec)
    await checkpoints.soon(rec)
    rec.status = "completed"
    await checkpoints.now(rec)
    await asyncio.sleep(0)
    assert writes.seen == [("completed", 0)]


async def test_a_slow_run_lands_each_batch_within_the_delay() -> None:
    writes = Writes()
    checkpoints = Checkpoints(writes, delay_s=0.02)
    rec = record()
    rec.status = "running"
    await checkpoints.soon(rec)
    await asyncio.sleep(0.2)
    assert writes.seen == [("running", 0)]  # written while the run goes on
    rec.steps.append(TaskStep(index=0, task="t", files=[]))
    await checkpoints.soon(rec)
    await asyncio.sleep(0.2)
    rec.status = "completed"
    await checkpoints.now(rec)
    assert writes.seen == [("running", 0), ("running", 1), ("completed", 1)]


async def test_the_last_write_waits_for_one_in_progress() -> None:
    writes = Writes()
    checkpoints = Checkpoints(writes, delay_s=0.01)
    rec = record()
    rec.status = "running"
    writes.open.clear()
    await checkpoints.soon(rec)
    await asyncio.sleep(0.1)  # the timer's write has started and is held
    assert writes.busy == 1
    rec.status = "failed"
    last = asyncio.create_task(checkpoints.now(rec))
    await asyncio.sleep(0.05)
    assert not last.done() and not writes.overlapped
    writes.open.set()
    await last
    assert [status for status, _ in writes.seen] == ["failed", "failed"]
    assert not writes.overlapped


async def test_no_delay_writes_every_checkpoint_and_flush_writes_the_waiting() -> None:
    writes = Writes()
    now = Checkpoints(writes, delay_s=0)
    rec = record()
    await now.soon(rec)
    await now.soon(rec)
    assert len(writes.seen) == 2
    later = Checkpoints(writes, delay_s=60)
    other = record()
    await later.soon(other)
    await later.flush()
    assert len(writes.seen) == 3


async def test_a_quick_run_is_written_once_and_a_slow_one_while_it_runs(
    runtime: Any, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent import run_task

    seen: list[str] = []
    save = runtime.store.save

    async def counted(rec: ExecutionRecord) -> None:
        seen.append(rec.status)
        await save(rec)

    monkeypatch.setattr(runtime.store, "save", counted)
    monkeypatch.setattr(runtime.checkpoints, "delay_s", 30.0)
    fake_llm.queue(fence("final_answer(1)"))
    quick = await run_task("quick", runtime=runtime)
    assert quick.status == "completed" and seen == ["completed"]

    seen.clear()
    monkeypatch.setattr(runtime.checkpoints, "delay_s", 0.05)
    fake_llm.queue(fence("import time\ntime.sleep(1.0)\nfinal_answer(2)"))
    slow = await run_task("slow", runtime=runtime, session_id=quick.session_id)
    assert slow.result == 2 and seen[0] == "running" and seen[-1] == "completed"
    stored = await runtime.store.get(slow.execution_id)
    assert stored is not None and stored.status == "completed"
    await runtime.close_session(quick.session_id)
