"""Calling skills: validation errors name the argument, timeouts, JSON results, records; selection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skills import SkillContext, SkillRegistry, SkillsConfig, UnknownSkill
from tests.skills.skill_folders import write_skill

HANDLERS = {
    "typed": '''
        from typing import Literal
        def typed(count: int, ratio: float = 0.5, mode: Literal["a", "b"] = "a", tags: list[str] | None = None) -> dict:
            """Echo typed values."""
            return {"count": count, "ratio": ratio, "mode": mode, "tags": tags}
    ''',
    "bounded": """
        from typing import Annotated
        from pydantic import Field
        def bounded(top: Annotated[int, Field(ge=1, le=100)] = 3) -> Annotated[dict, "counts"]:
            return {"top": top}
    """,
    "slow-sync": """
        import time
        def slow_sync(seconds: float) -> str:
            time.sleep(seconds)
            return "done"
    """,
    "slow-async": """
        import asyncio
        async def slow_async(seconds: float) -> str:
            await asyncio.sleep(seconds)
            return "done"
    """,
    "gate-wait": """
        import time
        from pathlib import Path
        def gate_wait(path: str) -> str:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if Path(path).exists():
                    return "released"
                time.sleep(0.01)
            return "never released"
    """,
    "gate-open": """
        from pathlib import Path
        async def gate_open(path: str) -> str:
            Path(path).touch()
            return "opened"
    """,
    "not-json": """
        def not_json() -> object:
            return {1, 2, 3}
    """,
    "raises": """
        def raises(message: str) -> None:
            raise RuntimeError(message)
    """,
    "big-result": """
        def big_result(n: int) -> str:
            return "x" * n
    """,
    "sees-context": """
        from skills.records import SkillContext
        def sees_context(*, context: SkillContext) -> dict:
            return {"session": context.session_id, "settings": context.settings}
    """,
}


@pytest.fixture(scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SkillRegistry]:
    root = tmp_path_factory.mktemp("call-skills")
    for name, handler in HANDLERS.items():
        write_skill(
            root, name, handler, extra_meta="timeout_s: 0.5\n" if name.startswith("slow") else ""
        )
    config = SkillsConfig(
        extra_dirs=[root],
        reload=False,
        max_result_bytes=10_000,
        settings={"sees-context": {"color": "blue"}},
    )
    registry = SkillRegistry(config)
    await registry.start()
    assert registry.catalog().errors == []
    yield registry
    await registry.close()


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ([], {}, "typed(): missing a required argument: 'count'"),
        (["many"], {}, "typed(): argument 'count': Input should be a valid integer"),
        ([1], {"mode": "c"}, "argument 'mode': Input should be 'a' or 'b'"),
        ([1], {"limit": 3}, "typed(): got an unexpected keyword argument 'limit'"),
        ([1, 0.1, "a", None, 5], {}, "typed(): too many positional arguments"),
        ([1], {"tags": "x"}, "argument 'tags': Input should be a valid list"),
    ],
)
async def test_bad_calls_name_the_argument(
    registry: SkillRegistry, context: SkillContext, args: list, kwargs: dict, expected: str
) -> None:
    call = await registry.call("typed", args, kwargs, context)
    assert not call.ok
    assert call.error_type == "bad_arguments"
    assert expected in (call.error or "")


async def test_annotated_constraints_are_checked_and_shown_plainly(
    registry: SkillRegistry, context: SkillContext
) -> None:
    info = registry.get("bounded")
    assert info is not None and info.signature == "(top: int = 3) -> dict"
    top = info.json_schema["properties"]["top"]
    assert (top["minimum"], top["maximum"], top["default"]) == (1, 100, 3)
    low = await registry.call("bounded", [0], {}, context)
    assert low.error == (
        "bounded(): argument 'top': Input should be greater than or equal to 1 (got 0)"
    )
    assert (await registry.call("bounded", [100], {}, context)).result == {"top": 100}


async def test_good_call_is_validated_and_recorded(
    registry: SkillRegistry, context: SkillContext
) -> None:
    call = await registry.call("typed", ["3"], {"tags": ["x"]}, context)
    assert call.ok, call.error
    assert call.result == {"count": 3, "ratio": 0.5, "mode": "a", "tags": ["x"]}
    assert call.skill == "typed" and call.args == ["3"] and call.kwargs == {"tags": ["x"]}
    assert call.result_size == len(b'{"count": 3, "ratio": 0.5, "mode": "a", "tags": ["x"]}')
    assert call.preview.startswith('{"count": 3')
    assert call.duration_ms > 0
    assert "result" not in call.model_dump()


@pytest.mark.parametrize("name", ["slow_sync", "slow-async"])
async def test_timeout(registry: SkillRegistry, context: SkillContext, name: str) -> None:
    call = await registry.call(name, [5], {}, context)
    assert not call.ok and call.error_type == "timeout"
    assert "timed out after 0.5 s" in (call.error or "")


async def test_fast_enough_call_finishes(registry: SkillRegistry, context: SkillContext) -> None:
    call = await registry.call("slow_async", [0.01], {}, context)
    assert call.ok and call.result == "done"


async def test_failures_come_back_as_values(registry: SkillRegistry, context: SkillContext) -> None:
    not_json = await registry.call("not_json", [], {}, context)
    assert not not_json.ok and not_json.error_type == "not_serialisable"
    assert "returned a set, which is not JSON-serialisable" in (not_json.error or "")
    raised = await registry.call("raises", ["boom"], {}, context)
    assert not raised.ok and raised.error == "raises(): RuntimeError: boom"
    assert raised.error_type == "RuntimeError"
    big = await registry.call("big_result", [20_000], {}, context)
    assert not big.ok and big.error_type == "result_too_large"
    unknown = await registry.call("no_such_skill", [], {}, context)
    assert not unknown.ok and unknown.error_type == "unknown_skill"


async def test_context_gets_skill_settings(registry: SkillRegistry, context: SkillContext) -> None:
    call = await registry.call("sees-context", [], {}, context)
    assert call.ok
    assert call.result == {"session": "test-session", "settings": {"color": "blue"}}
    info = registry.get("sees_context")
    assert info is not None and info.signature == "() -> dict"


async def test_long_arguments_are_capped_in_the_record(
    registry: SkillRegistry, context: SkillContext
) -> None:
    call = await registry.call("raises", ["y" * 5000], {}, context)
    assert "chars cut" in call.args[0] and len(call.args[0]) < 1100


async def test_select(builtins: SkillRegistry) -> None:
    every = builtins.select("*")
    assert len(every) == 7
    coder = ["code-analysis", "read-file", "write_file"]
    assert [s.name for s in builtins.select(coder)] == ["code-analysis", "read-file", "write-file"]
    assert [s.name for s in builtins.select(coder, ["read_file"])] == ["read-file"]
    assert {s.name for s in builtins.select(["*-file"])} == {"read-file", "write-file"}
    with pytest.raises(UnknownSkill) as unknown:
        builtins.select("*", ["web_search", "teleport"])
    assert unknown.value.names == ["teleport"] and unknown.value.code == "unknown_skill"
    with pytest.raises(UnknownSkill, match="teleport"):
        builtins.select(["teleport"])
    with pytest.raises(UnknownSkill, match="not available to this agent: web-search"):
        builtins.select(coder, ["web-search"])


async def test_prompt_section_full_then_compact(builtins: SkillRegistry) -> None:
    skills = builtins.select("*")
    full = builtins.prompt_section(skills)
    assert "def web_search(query: str, max_results: int = 5) -> list[dict]:" in full
    compact_registry = SkillRegistry(SkillsConfig(reload=False, full_signatures_up_to=3))
    compact = compact_registry.prompt_section(skills)
    assert "def " not in compact and "describe_skills(" in compact
    assert "- web_search: Search the web" in compact
    described = builtins.describe(["web_search", "nothing_here"])
    assert "def web_search(" in described and "# unknown skill: nothing_here" in described
    assert builtins.prompt_section([]) == "No skills are available to this task."


async def test_sync_handlers_run_in_threads_async_ones_on_the_loop(
    tmp_path: Path, context: SkillContext
) -> None:
    write_skill(
        tmp_path,
        "thread-name",
        "import threading\ndef thread_name() -> str:\n    return threading.current_thread().name\n",
    )
    write_skill(
        tmp_path,
        "loop-thread",
        "import asyncio, threading\n"
        "async def loop_thread() -> str:\n"
        "    asyncio.get_running_loop()\n"
        "    return threading.current_thread().name\n",
    )
    registry = SkillRegistry(SkillsConfig(extra_dirs=[tmp_path], reload=False))
    await registry.start()
    call = await registry.call("thread_name", [], {}, context)
    assert call.ok and call.result.startswith("skill")
    native = await registry.call("loop_thread", [], {}, context)
    assert native.ok and native.result == threading.current_thread().name
    await registry.close()


async def test_a_blocking_sync_handler_does_not_stall_other_calls(
    registry: SkillRegistry, context: SkillContext, tmp_path: Path
) -> None:
    # gate_wait blocks until the gate file exists; only gate_open, called meanwhile, makes it.
    # Were sync handlers run on the event loop, gate_open could not run until gate_wait gave up.
    gate = tmp_path / "gate"
    waiting = asyncio.ensure_future(registry.call("gate_wait", [str(gate)], {}, context))
    opened = await registry.call("gate_open", [str(gate)], {}, context)
    assert opened.result == "opened"
    assert (await waiting).result == "released"
