"""Delegation: subagents in kernels of their own, two at once, nested records, failures raise."""

from __future__ import annotations

import threading
from typing import Any

from agent.records import SubagentStep
from tests.agent.helpers import fence, system_of
from tests.fake_llm import FakeLLM, RecordedRequest, Reply

PARALLEL = (
    "a, b = parallel(lambda: delegate('helper', 'task alpha'), lambda: delegate('helper', 'task beta'))\n"
    "final_answer([a, b])"
)


async def test_two_subagents_run_concurrently_and_are_nested(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    both_asked = threading.Barrier(2, timeout=30)  # breaks unless both children ask at once

    def respond(request: RecordedRequest) -> Reply | str:
        if 'You are "helper"' not in system_of(request):
            return Reply(status=500, error="unexpected request")
        both_asked.wait()
        key = "alpha" if "task alpha" in request.last_user_text() else "beta"
        return fence(f"final_answer('{key}:' + str(lookup('{key}')['value']))")

    fake_llm.queue(fence(PARALLEL))
    fake_llm.responder = respond
    record = runtime.new_record("Do alpha and beta")
    try:
        await runtime.execute(record)
        assert record.status == "completed", record.error
        assert record.result == ["alpha:35", "beta:28"]
        subs = [s for s in record.steps if isinstance(s, SubagentStep)]
        assert sorted(s.task for s in subs) == ["task alpha", "task beta"]
        for sub in subs:
            assert sub.status == "completed" and sub.record is not None
            assert sub.record.parent_id == record.execution_id and sub.record.depth == 1
            assert sub.record.session_id != record.session_id
            assert [c.skill for c in sub.record.skill_calls] == ["lookup"]
        assert [c.skill for c in record.skill_calls] == ["delegate", "delegate"]
        assert record.usage.llm_calls == 3
    finally:
        await runtime.close_session(record.session_id)


async def test_a_failed_subagent_raises_in_the_program(runtime: Any, fake_llm: FakeLLM) -> None:
    program = (
        "errors = []\n"
        "for agent in ('fragile', 'short'):\n"
        "    try:\n"
        "        delegate(agent, 'do the impossible')\n"
        "    except SkillError as exc:\n"
        "        errors.append(str(exc))\n"
        "final_answer(errors)"
    )
    fake_llm.queue(fence(program), "I cannot write code for this.")
    record = runtime.new_record("Try the impossible")
    try:
        await runtime.execute(record)
        assert record.status == "completed", record.error
        fragile, short = record.result
        assert "max_steps_exceeded" in fragile
        assert "cannot delegate to 'short'" in short
        sub = next(s for s in record.steps if isinstance(s, SubagentStep))
        assert sub.status == "failed" and sub.error is not None
    finally:
        await runtime.close_session(record.session_id)
