"""The execute–observe–repair loop against the fake LLM (real SDKs), real kernels, real skills."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from agent.errors import AgentError
from agent.records import ActionStep, Event, FinalAnswerStep, PlanningStep, TaskStep
from tests.agent.helpers import all_text, code_tag, fence, system_of
from tests.fake_llm import FakeLLM


async def run(runtime: Any, task: str, **kw: Any) -> Any:
    from agent import run_task

    record = await run_task(task, runtime=runtime, **kw)
    await runtime.close_session(record.session_id)
    return record


async def test_python_fence_over_openai_wire(runtime: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue(fence("x = 6 * 7\nprint('computed', x)\nfinal_answer(x)"))
    record = await run(runtime, "What is six times seven?")
    assert record.status == "completed", record.error
    assert record.result == 42
    kinds = [type(s) for s in record.steps]
    assert kinds == [TaskStep, ActionStep, FinalAnswerStep]
    action = record.steps[1]
    assert isinstance(action, ActionStep)
    assert action.status == "ok" and "computed 42" in action.stdout
    assert action.code == "x = 6 * 7\nprint('computed', x)\nfinal_answer(x)"
    assert record.usage.llm_calls == 1 and record.usage.input_tokens > 0
    assert record.provider == "default" and record.model == "fake-model"
    assert fake_llm.requests[0].path == "/v1/chat/completions"
    saved = await runtime.store.get(record.execution_id)
    assert saved is not None and saved.status == "completed"
    if record.notebook is not None:
        assert await asyncio.to_thread(Path(record.notebook).is_file)


async def test_code_tag_over_anthropic_wire(runtime: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue(code_tag("final_answer(2 ** 20)"))
    record = await run(runtime, "What is 2**20?", provider="claude")
    assert (record.status, record.result) == ("completed", 1048576)
    assert fake_llm.requests[0].path == "/v1/messages"
    assert record.provider == "claude"


async def test_the_program_runs_in_a_kernel_not_in_this_process(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence("import os\nfinal_answer(os.getpid())"))
    record = await run(runtime, "Which process runs you?")
    assert record.status == "completed"
    assert isinstance(record.result, int) and record.result != os.getpid()


async def test_printed_output_is_the_answer_without_final_answer(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence("print('forty-two')"))
    record = await run(runtime, "Say forty-two")
    assert (record.status, record.result) == ("completed", "forty-two")


async def test_reply_without_code_gets_a_corrective_message_and_counts(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue("The answer is surely 4.", fence("final_answer(2 + 2)"))
    record = await run(runtime, "What is 2 + 2?")
    assert (record.status, record.result) == ("completed", 4)
    actions = [s for s in record.steps if isinstance(s, ActionStep)]
    assert [a.status for a in actions] == ["no_code", "ok"]
    assert actions[0].code is None
    assert "contained no program" in fake_llm.requests[1].last_user_text()


async def test_repair_after_an_exception_sees_the_traceback(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(
        fence("ratio = 1 / 0"),
        fence("ratio = 1 / 4\nfinal_answer(ratio)", plan="Fix the division."),
    )
    record = await run(runtime, "Compute a ratio")
    assert (record.status, record.result) == ("completed", 0.25)
    first = record.steps[1]
    assert isinstance(first, ActionStep) and first.status == "error"
    assert first.error is not None and first.error["ename"] == "ZeroDivisionError"
    repair = fake_llm.requests[1].last_user_text()
    assert "The program failed with ZeroDivisionError" in repair
    assert "Traceback" in repair and "1 / 0" in repair


async def test_running_out_of_steps_fails_clearly(runtime: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue(fence("raise ValueError('nope one')"), fence("raise ValueError('nope two')"))
    record = await run(runtime, "Never works", agent="short")
    assert record.status == "failed"
    assert record.error is not None and record.error.code == "max_steps_exceeded"
    assert "stopped after 2 steps" in record.error.message
    assert "ValueError: nope two" in record.error.message
    assert len(fake_llm.requests) == 2


async def test_a_skill_result_of_300_kb_never_reaches_the_prompt(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(
        fence("blob = big_blob(300)\nprint('length', len(blob))"),
        fence("final_answer(len(blob))"),
    )
    record = await run(runtime, "How long is the blob?", agent="explorer")
    assert record.status == "completed", record.error
    assert record.result > 300_000
    call = record.skill_calls[0]
    assert call.skill == "big-blob" and call.ok and call.result_size > 300_000
    prompts = all_text(fake_llm.requests)
    assert "ZEBRAQUARTZ" not in prompts
    observation = fake_llm.requests[1].last_user_text()
    assert "length 30" in observation and "big-blob(300) -> ok (str," in observation
    assert len(prompts) < 30_000


async def test_separate_planning_makes_a_plan_call_first(runtime: Any, fake_llm: FakeLLM) -> None:
    fake_llm.queue("1. Multiply.\n2. Answer.", fence("final_answer(3 * 3)"))
    record = await run(runtime, "What is three squared?", agent="planner")
    assert (record.status, record.result) == ("completed", 9)
    plan = record.steps[1]
    assert isinstance(plan, PlanningStep) and plan.plan.startswith("1. Multiply.")
    assert "numbered plan" in fake_llm.requests[0].last_user_text()
    assert "carries out your plan" in fake_llm.requests[1].last_user_text()
    assert record.usage.llm_calls == 2


async def test_system_prompt_shows_skill_signatures_and_rules(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence("final_answer(lookup('abc')['value'])"))
    record = await run(runtime, "Look abc up")
    assert record.result == 21
    system = system_of(fake_llm.requests[0])
    assert "def lookup(key: str) -> dict" in system
    assert "final_answer(value)" in system and "delegate(agent, task)" in system
    assert "- helper: Answers small sub-tasks." in system


async def test_events_stream_deltas_steps_and_end_with_done(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    events: list[Event] = []

    async def listen(event: Event) -> None:
        events.append(event)

    fake_llm.queue(fence("print('hello from the kernel')\nfinal_answer(lookup('x'))"))
    record = await run(runtime, "Stream it", on_event=listen)
    assert record.status == "completed"
    types = [e.type for e in events]
    assert types[-1] == "done" and "llm_delta" in types
    assert {"step", "skill_call", "output", "status"} <= set(types)
    deltas = "".join(e.data["text"] for e in events if e.type == "llm_delta")
    assert "final_answer(lookup('x'))" in deltas
    assert all(e.execution_id == record.execution_id for e in events)


async def test_unknown_agent_and_skill_are_refused_before_anything_runs(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    from agent import run_task

    with pytest.raises(AgentError) as agent_error:
        await run_task("x", runtime=runtime, agent="nobody")
    assert agent_error.value.code == "unknown_agent"
    with pytest.raises(AgentError) as skill_error:
        await run_task("x", runtime=runtime, available_skills=["no-such-skill"])
    assert skill_error.value.code == "unknown_skill"
    with pytest.raises(AgentError) as empty:
        await run_task("   ", runtime=runtime)
    assert empty.value.code == "bad_request"
    assert fake_llm.requests == []


async def test_narrowed_skills_refuse_the_others_in_the_program(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(fence("final_answer(sorted(k for k in dir() if k in ('lookup', 'big_blob')))"))
    record = await run(runtime, "Which skills?", available_skills=["lookup"])
    assert record.result == ["lookup"]


async def test_an_llm_error_fails_the_record_with_its_code(runtime: Any, fake_llm: FakeLLM) -> None:
    from tests.fake_llm import Reply

    fake_llm.queue(Reply(status=401, error="bad key"))
    record = await run(runtime, "Anything")
    assert record.status == "failed"
    assert record.error is not None and record.error.code.startswith("llm_")
