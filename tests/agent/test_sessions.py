"""Sessions keep their kernel across turns; cancellation stops the LLM stream or the program."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from agent.records import ActionStep, Event
from tests.agent.helpers import fence, system_of
from tests.fake_llm import FakeLLM, Reply

TURN_ONE = "orders = [lookup(k) for k in ('a', 'bb', 'ccc')]\nfinal_answer(sum(o['value'] for o in orders))"


async def _turn(runtime: Any, task: str, session_id: str | None = None, **kw: Any) -> Any:
    record = runtime.new_record(task, session_id=session_id)
    return await runtime.execute(record, **kw)


async def test_turn_two_reuses_a_variable_turn_one_left_in_the_kernel(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence(TURN_ONE), fence("final_answer(max(o['value'] for o in orders))"))
    first = await _turn(runtime, "Total of the orders a, bb, ccc?")
    assert (first.status, first.result) == ("completed", 42)
    second = await _turn(runtime, "And the largest one?", first.session_id)
    try:
        assert (second.status, second.result) == ("completed", 21), second.error
        assert second.skill_calls == []
        system = system_of(fake_llm.requests[1])
        assert "## Variables already in the kernel" in system and "- orders: list" in system
        task_text = fake_llm.requests[1].last_user_text()
        assert "Turn 1: Total of the orders a, bb, ccc?" in task_text and "Answer: 42" in task_text
        names = [v.name for v in await runtime.variables(first.session_id)]
        assert "orders" in names and "lookup" not in names
    finally:
        await runtime.close_session(first.session_id)


async def test_a_session_whose_kernel_was_lost_is_told_or_rehydrated(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence(TURN_ONE), fence("final_answer(len(orders))"))
    first = await _turn(runtime, "Total of the orders a, bb, ccc?")
    await runtime.kernels.close(first.session_id)  # eviction: the kernel goes, the session stays
    second = await _turn(runtime, "How many orders?", first.session_id)
    try:
        system = system_of(fake_llm.requests[1])
        rehydrated = importlib.util.find_spec("agent.rehydrate") is not None and first.notebook
        if rehydrated:
            assert (second.status, second.result) == ("completed", 3), second.error
            assert "kernel was restarted" not in system
        else:
            assert "kernel was restarted" in system
            assert second.status == "failed"  # `orders` is gone and the one step raised
    finally:
        await runtime.close_session(first.session_id)


async def test_cancelling_during_the_llm_call_stops_the_stream(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(Reply(text="thinking " * 200, chunk_delay_s=0.2))
    streaming = asyncio.Event()

    def listen(event: Event) -> None:
        if event.type == "llm_delta":
            streaming.set()

    record = runtime.new_record("Think for a long time")
    task = asyncio.create_task(runtime.execute(record, on_event=listen))
    await asyncio.wait_for(streaming.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert record.status == "cancelled"
    assert record.error is not None and record.error.code == "cancelled"
    assert fake_llm.requests[0].wait_disconnected(10)
    saved = await runtime.store.get(record.execution_id)
    assert saved is not None and saved.status == "cancelled"
    await runtime.close_session(record.session_id)


async def test_cancelling_a_running_program_interrupts_the_kernel_and_keeps_its_state(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    sleeper = "marker = 'set before sleep'\nprint('sleeping now', flush=True)\nimport time\ntime.sleep(120)"
    fake_llm.queue(fence(sleeper), fence("final_answer(marker)"))
    sleeping = asyncio.Event()

    def listen(event: Event) -> None:
        if event.type == "output" and "sleeping now" in str(event.data.get("output")):
            sleeping.set()

    record = runtime.new_record("Sleep for a while")
    task = asyncio.create_task(runtime.execute(record, on_event=listen))
    try:
        await asyncio.wait_for(sleeping.wait(), 60)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert record.status == "cancelled"
        action = record.steps[1]
        assert isinstance(action, ActionStep) and action.status == "interrupted"
        after = await asyncio.wait_for(_turn(runtime, "What was set?", record.session_id), 60)
        assert (after.status, after.result) == ("completed", "set before sleep")
    finally:
        await runtime.close_session(record.session_id)


async def test_tasks_of_one_session_run_in_order(runtime: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        fence("import time\ntime.sleep(0.5)\nseen = ['first']\nfinal_answer(seen)"),
        fence("seen.append('second')\nfinal_answer(seen)"),
    )
    one = runtime.new_record("first", session_id=None)
    two = runtime.new_record("second", session_id=one.session_id)
    try:
        done = await asyncio.gather(runtime.execute(one), runtime.execute(two))
        assert [r.result for r in done] == [["first"], ["first", "second"]]
    finally:
        await runtime.close_session(one.session_id)
