"""rehydrate(): a fresh session kernel gets earlier runs' state back from their notebooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import kernels
from agent.notebook import RunNotebook
from agent.records import ActionStep, ExecutionRecord, FinalAnswerStep
from agent.rehydrate import rehydrate
from kernels.config import KernelConfig
from skills.records import SkillCall

pytestmark = pytest.mark.skipif(
    not hasattr(kernels, "SessionKernels"), reason="the kernels layer has not landed yet"
)

FIRST = 'rows = lookup("ada")\nsecret = rows["n"] + 1\nprint(secret)\nfinal_answer(secret)'
SLOW = "import time\ntime.sleep(3)\nlater = 1"


@pytest.fixture(scope="module")
async def session_kernels(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    base = tmp_path_factory.mktemp("rehydrate")
    config = KernelConfig(workspace_root=base / "ws", pool_size=0, max_kernels=2)
    pool = kernels.SessionKernels(config)
    await pool.start()
    yield pool
    await pool.shutdown()


async def _record(kernel: Any, session_id: str, programs: list[str]) -> ExecutionRecord:
    """A record of real runs in the session kernel, its skill calls answered by this host."""
    record = ExecutionRecord(session_id=session_id, task="remember a number", status="running")

    async def on_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> SkillCall:
        call = SkillCall(id=f"c{len(record.skill_calls)}", skill=name, args=args, kwargs=kwargs)
        call.ok, call.result = True, {"n": 41}
        record.skill_calls.append(call)
        return call

    for index, code in enumerate(programs, start=1):
        before = len(record.skill_calls)
        result = await kernel.run(code, on_call=on_call)
        error = result.error
        record.steps.append(
            ActionStep(
                index=index,
                code=code,
                status=result.status,
                outputs=result.outputs,
                error=None if error is None else vars(error),
                skill_calls=record.skill_calls[before:],
                execution_count=result.execution_count,
            )
        )
        if result.has_final_answer:
            record.steps.append(FinalAnswerStep(index=index + 1, answer=result.final_answer))
            record.result, record.status = result.final_answer, "completed"
    return record


async def test_a_variable_survives_a_kernel_restart(session_kernels: Any, tmp_path: Path) -> None:
    from kernels import SkillStub

    kernel = await session_kernels.open("s-rehydrate")
    await kernel.install_stubs([SkillStub(name="lookup", signature="(name: str) -> dict")])
    record = await _record(kernel, "s-rehydrate", [FIRST, "1 / 0", "doubled = secret * 2"])
    assert record.result == 42
    path = RunNotebook.path_for(tmp_path, record)
    RunNotebook(path).write(record)

    await session_kernels.close("s-rehydrate")
    fresh = await session_kernels.open("s-rehydrate")
    assert fresh.run_count == 0
    report = await rehydrate(fresh, [path], timeout=60)
    assert (report.ok, report.cells, report.error) == (True, 3, None)
    result = await fresh.run("print(secret, doubled)")
    assert result.stdout.strip() == "42 84"


async def test_divergence_and_the_time_bound_make_a_partial_report(
    session_kernels: Any, tmp_path: Path
) -> None:
    kernel = await session_kernels.open("s-partial")
    record = await _record(kernel, "s-partial", ["value = 5", SLOW])
    # the recording says the first program succeeded; make the fresh kernel fail it instead
    record.steps[0].code = "value = undefined_name"
    path = RunNotebook.path_for(tmp_path, record)
    RunNotebook(path).write(record)
    await session_kernels.close("s-partial")
    fresh = await session_kernels.open("s-partial")
    report = await rehydrate(fresh, [path], timeout=1.5)
    assert not report.ok and report.cells == 2
    assert "NameError" in (report.error or "")
    missing = await rehydrate(fresh, [tmp_path / "gone.ipynb"], timeout=5)
    assert not missing.ok and "not a readable run notebook" in (missing.error or "")
