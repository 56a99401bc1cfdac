"""MCP tools called from programs in a real sandboxed kernel, through the agent's bridge.

One SessionKernels for this module; the host side is the production wiring: `agent.bridge.Bridge`
hands each call to the registry, which calls a real MCP server process over stdio.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from agent.bridge import Bridge
from agent.events import Events
from agent.records import ExecutionRecord
from kernels import KernelConfig, SessionKernel, SessionKernels, SkillStub
from skills import SkillContext, SkillInfo, SkillRegistry, SkillsConfig
from tests.skills.mcp_server_process import PYTHON, SERVER

pytestmark = pytest.mark.slow

SESSION = "skills-bridge"


@pytest.fixture(scope="module")
async def kernels() -> AsyncIterator[SessionKernels]:
    # short paths under /tmp: ipc socket paths must stay under ~100 characters
    base = Path(f"/tmp/skt-{os.getpid()}")
    config = KernelConfig(
        workspace_root=base / "ws",
        runtime_dir=base / "rt",
        pool_size=0,
        max_kernels=1,
        run_timeout_s=60,
    )
    pool = SessionKernels(config)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.shutdown()
        shutil.rmtree(base, ignore_errors=True)
        left = [
            p
            for p in psutil.process_iter(["cmdline"])
            if any(str(config.runtime_dir) in part for part in p.info["cmdline"] or [])
        ]
        assert not left, f"kernel processes left behind: {left}"


@pytest.fixture(scope="module")
async def registry() -> AsyncIterator[SkillRegistry]:
    config = SkillsConfig(
        reload=False,
        mcp_servers={"tools": {"command": PYTHON, "args": [str(SERVER), "--tools", "40"]}},
    )
    registry = SkillRegistry(config)
    await registry.start()
    assert registry.catalog().errors == []
    yield registry
    await registry.close()


@pytest.fixture(scope="module")
async def allowed(registry: SkillRegistry) -> list[SkillInfo]:
    return registry.select(["tools__*", "read-file"])


@pytest.fixture(scope="module")
async def kernel(kernels: SessionKernels, allowed: list[SkillInfo]) -> SessionKernel:
    session = await kernels.open(SESSION)
    # what the agent runtime installs: one stub per allowed skill, its signature and docstring
    await session.install_stubs(
        [SkillStub(name=i.python_name, signature=i.signature, doc=i.docstring) for i in allowed]
    )
    return session


def bridge_for(
    registry: SkillRegistry, allowed: list[SkillInfo], kernels: SessionKernels
) -> tuple[Bridge, ExecutionRecord]:
    record = ExecutionRecord(session_id=SESSION, task="bridge test")
    bridge = Bridge(
        skills=registry,
        allowed=allowed,
        context=SkillContext(session_id=SESSION, workspace=kernels.workspace(SESSION)),
        record=record,
        events=Events(record.execution_id, None),
        delegate=None,
    )
    return bridge, record


PROGRAM = """
import json
total = tools__add(2, b=40)
table = json.loads(tools__lookup("alpha"))
both = parallel(lambda: tools__echo("ab", times=2), (tools__add, 1))
try:
    tools__add("not a number")
except SkillError as exc:
    refused = str(exc)
try:
    tools__lookup("zeta")
except SkillError as exc:
    tool_error = str(exc)
final_answer({"total": total, "table": table, "both": both, "refused": refused,
              "tool_error": tool_error})
"""


async def test_mcp_tools_called_from_a_program(
    kernel: SessionKernel,
    registry: SkillRegistry,
    allowed: list[SkillInfo],
    kernels: SessionKernels,
) -> None:
    bridge, record = bridge_for(registry, allowed, kernels)
    result = await kernel.run(PROGRAM, on_call=bridge)
    assert result.status == "ok", result.error
    assert result.isolation == "bubblewrap"
    answer = result.final_answer
    assert answer["total"] == 42 and answer["table"] == {"id": 1, "tags": ["a"]}
    assert answer["both"] == ["abab", 2]
    assert (
        answer["refused"] == "tools__add(): argument 'a': 'not a number' is not of type 'integer'"
    )
    assert "no entry 'zeta'" in answer["tool_error"]
    calls = [(c.skill, c.ok) for c in record.skill_calls]
    assert calls == [
        ("tools__add", True),
        ("tools__lookup", True),
        ("tools__echo", True),
        ("tools__add", True),
        ("tools__add", False),
        ("tools__lookup", False),
    ]
    assert record.skill_calls[0].args == [2] and record.skill_calls[0].kwargs == {"b": 40}


async def test_signatures_and_help_inside_the_kernel(
    kernel: SessionKernel,
    registry: SkillRegistry,
    allowed: list[SkillInfo],
    kernels: SessionKernels,
) -> None:
    bridge, record = bridge_for(registry, allowed, kernels)
    code = (
        "import inspect\n"
        "print(inspect.signature(tools__add))\n"
        "print(tools__add.__doc__)\n"
        "try:\n"
        "    tools__add()\n"
        "except TypeError as exc:\n"
        "    print('TypeError:', exc)\n"
    )
    result = await kernel.run(code, on_call=bridge)
    assert result.status == "ok", result.error
    lines = result.stdout.splitlines()
    assert lines[0] == "(a: int, b: int = 1) -> int"
    assert lines[1] == "Add two integers."
    assert lines[2].startswith("TypeError: tools__add(a: int, b: int = 1) -> int: missing")
    assert record.skill_calls == []  # a call that cannot bind never leaves the kernel


async def test_describe_skills_on_demand(
    kernel: SessionKernel,
    registry: SkillRegistry,
    allowed: list[SkillInfo],
    kernels: SessionKernels,
) -> None:
    bridge, record = bridge_for(registry, allowed, kernels)
    code = (
        "listing = describe_skills('tools__*')\n"
        "matches = [line for line in listing.splitlines() if '_commit' in line]\n"
        "print(len(listing.splitlines()), len(matches))\n"
        "print(describe_skills('tools__get_commit'))\n"
        "try:\n"
        "    describe_skills('web_search')\n"
        "except SkillError as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = await kernel.run(code, on_call=bridge)
    assert result.status == "ok", result.error
    head, *rest = result.stdout.splitlines()
    # 45 tools (5 fixed + 40 generated), one line each after a header; 10 verbs x commit
    assert head == "46 10"
    doc = "\n".join(rest)
    assert "def tools__get_commit(query: str, limit: int = 20" in doc
    assert "query: Which commit records: an id, or a filter." in doc
    # this task's skills are the tools and read-file only
    assert "refused: unknown skill(s) for this agent: web_search" in doc
    assert [c.skill for c in record.skill_calls] == ["describe_skills"] * 3


async def test_a_crashed_server_is_reconnected_between_runs(
    kernel: SessionKernel,
    registry: SkillRegistry,
    allowed: list[SkillInfo],
    kernels: SessionKernels,
) -> None:
    bridge, _ = bridge_for(registry, allowed, kernels)
    code = (
        "before = tools__pid()\n"
        "try:\n"
        "    tools__crash()\n"
        "except SkillError as exc:\n"
        "    lost = str(exc)\n"
        "final_answer([before, lost, tools__pid()])\n"
    )
    result = await kernel.run(code, on_call=bridge)
    assert result.status == "ok", result.error
    before, lost, after = result.final_answer
    assert "connection lost during the call" in lost
    assert isinstance(after, int) and after != before
