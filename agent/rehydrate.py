"""Sessions survive restarts: replay earlier runs' programs in a fresh kernel, from their notebooks.

`rehydrate(kernel, notebooks, timeout=...)` runs the program cells of each earlier run notebook
(oldest first) in the session's new kernel. Every skill call is answered from the results the
notebook recorded, so no LLM is asked and no live skill runs; cells the recorded run never
finished are skipped. It never raises for a program's failure: the report says how far it got.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from agent.replay import CallQueue, RecordedCell, Recording, ReplayMismatch, cell_key, python_name
from kernels.results import SkillStub

if TYPE_CHECKING:
    from kernels.session import SessionKernel

__all__ = ["RehydrateReport", "read_recording", "rehydrate"]


@dataclass
class RehydrateReport:
    ok: bool  # every cell replayed as recorded; False: the kernel's state is partial
    cells: int  # program cells run
    error: str | None = None  # the first divergence, failure or the time bound hit


@dataclass
class _Outcome:
    """A recorded answer handed back to the kernel (satisfies kernels.CallOutcome)."""

    ok: bool
    result: Any = None
    error: str | None = None
    error_type: str | None = None


def read_recording(path: Path) -> tuple[Recording, list[str]]:
    """The recording of a run notebook and its program cells' sources, in order."""
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if "agent-setup" in c.metadata.get("tags", []))
    call = next(
        node
        for node in ast.walk(ast.parse(setup.source))
        if isinstance(node, ast.Call) and any(k.arg == "recording" for k in node.keywords)
    )
    literal = next(k.value for k in call.keywords if k.arg == "recording")
    recording = Recording.from_json(ast.literal_eval(literal))
    programs = [c.source for c in nb.cells if c.metadata.get("agent", {}).get("role") == "program"]
    return recording, programs


def _handler(queue: CallQueue) -> Any:
    async def on_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> _Outcome:
        try:
            recorded = queue.take(name, args, kwargs)
        except ReplayMismatch as exc:
            return _Outcome(ok=False, error=str(exc), error_type="ReplayMismatch")
        if not recorded.ok:
            return _Outcome(ok=False, error=recorded.error, error_type=recorded.error_type)
        return _Outcome(ok=True, result=recorded.result)

    return on_call


def _diverged(cell: RecordedCell, status: str, ename: str | None) -> bool:
    """A failure the recording did not have (a recorded failure that now passes is fine)."""
    return status != "ok" and not (cell.status == "error" and ename == cell.ename)


async def rehydrate(
    kernel: SessionKernel,
    notebooks: list[Path],
    *,
    timeout: float,  # noqa: ASYNC109  # the pinned interface: one bound over many kernel runs
) -> RehydrateReport:
    """Re-run the earlier runs' cells in `kernel` (a kernels.SessionKernel), within `timeout` s.

    It installs stubs for the skills the recordings call; install the turn's own stubs after.
    """
    deadline = time.monotonic() + timeout
    runs: list[tuple[Path, Recording, list[str]]] = []
    for path in notebooks:
        try:
            recording, programs = read_recording(Path(path))
        except (OSError, ValueError, StopIteration, SyntaxError, KeyError, TypeError) as exc:
            return RehydrateReport(
                False, 0, f"{Path(path).name} is not a readable run notebook: {exc}"
            )
        runs.append((Path(path), recording, programs))
    names = dict.fromkeys(
        python_name(c.name) for _, rec, _ in runs for cell in rec.cells for c in cell.calls
    )
    runtime = {"final_answer", "delegate", "parallel", "describe_skills"}
    await kernel.install_stubs(
        [SkillStub(name=n, signature="(*args, **kwargs)") for n in names if n not in runtime]
    )
    done, first_error = 0, None
    for path, recording, programs in runs:
        by_key = {c.key: c for c in recording.cells}
        for source in programs:
            cell = by_key.get(cell_key(source))
            if cell is None or cell.status == "skip":
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return RehydrateReport(
                    False, done, f"replaying stopped at the {timeout:g} s bound after {done} cells"
                )
            result = await kernel.run(source, timeout=left, on_call=_handler(CallQueue(cell.calls)))
            done += 1
            ename = result.error.ename if result.error else None
            if _diverged(cell, result.status, ename) and first_error is None:
                detail = result.error.evalue if result.error else ""
                first_error = f"{path.name}: {ename or result.status}: {detail}".strip(": ")
            if result.status in ("timeout", "died"):
                return RehydrateReport(False, done, first_error)
    return RehydrateReport(first_error is None, done, first_error)
