"""RunNotebook: every execution as a real `.ipynb` (nbformat 4), written from its ExecutionRecord.

Layout: a Markdown header (task, agent, provider/model, time), a papermill `parameters` cell
(`skill_mode`), a hidden setup cell that loads `agent.replay` with the run's recording, then per
step a Markdown cell (reasoning, plan, delegation) and a code cell holding the program with the
outputs it really produced, its skill calls in the cell's metadata; a check cell that replays the
answer, and the answer last. The record's id, usage and timings are in the notebook's metadata.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_notebook, new_output, writes_json

from agent.records import ActionStep, ExecutionRecord, FinalAnswerStep, PlanningStep, SubagentStep
from agent.replay import (
    CHECK_SOURCE,
    CellStatus,
    RecordedCall,
    RecordedCell,
    Recording,
    cell_key,
    normalise,
    python_name,
)
from skills.records import SkillCall

__all__ = ["KERNELSPEC", "RunNotebook", "recording_of"]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED = frozenset({"timeout", "interrupted", "died"})
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _safe_name(text: str) -> str:
    """A path component from an id a client may have chosen: no separators, no dot-dot."""
    cleaned = _SAFE.sub("_", text).replace("..", "__")[:120].strip(".")
    return cleaned or "_"


def _recorded_call(call: SkillCall) -> RecordedCall:
    value, is_json = normalise(call.result)
    return RecordedCall(
        name=python_name(call.skill),
        args=normalise(call.args)[0],
        kwargs=normalise(call.kwargs)[0],
        ok=call.ok,
        result=value if call.ok else None,
        result_is_json=is_json,
        error=call.error,
        error_type=call.error_type,
    )


def recording_of(record: ExecutionRecord) -> Recording:
    """What the replay runtime needs: each program cell's outcome and its calls, with results."""
    cells: list[RecordedCell] = []
    for step in record.steps:
        if not isinstance(step, ActionStep) or not step.code:
            continue
        error = step.error or {}
        status: CellStatus = (
            "skip" if step.status in _SKIPPED else "error" if step.status == "error" else "ok"
        )
        cells.append(
            RecordedCell(
                key=cell_key(step.code),
                status=status,
                ename=error.get("ename"),
                evalue=error.get("evalue"),
                calls=[_recorded_call(c) for c in step.skill_calls],
            )
        )
    programs = [s.code for s in record.steps if isinstance(s, ActionStep) and s.code]
    names = dict.fromkeys(python_name(c.skill) for c in record.skill_calls)
    return Recording(
        execution_id=record.execution_id,
        session_id=record.session_id,
        agent=record.agent,
        status=record.status,
        skills=list(names),
        cells=cells,
        answer=normalise(record.result)[0],
        answer_from_final=bool(programs) and "final_answer(" in (programs[-1] or ""),
    )


def _markdown(cell_id: str, source: str) -> NotebookNode:
    """A markdown cell. Cells are built unvalidated and the whole notebook is validated once at
    write time (nbformat's constructors validate every cell: 3/4 of a write's cost)."""
    return nbformat.from_dict(
        {"id": cell_id, "cell_type": "markdown", "metadata": {}, "source": source}
    )


def _code(
    cell_id: str,
    source: str,
    metadata: dict[str, Any],
    outputs: list[NotebookNode] | None = None,
    execution_count: int | None = None,
) -> NotebookNode:
    """A code cell (ids are stable per step, so rewriting the notebook keeps them)."""
    cell = nbformat.from_dict(
        {
            "id": cell_id,
            "cell_type": "code",
            "metadata": metadata,
            "execution_count": execution_count,
            "source": source,
        }
    )
    cell.outputs = outputs or []
    return cell


def _output(raw: dict[str, Any]) -> NotebookNode:
    """One kernel output as a valid nbformat output; an unknown shape becomes a visible note."""
    kind = raw.get("output_type")
    fields = {k: v for k, v in raw.items() if k != "output_type"}
    try:
        if kind == "stream":
            return new_output(
                "stream", name=fields.get("name", "stdout"), text=fields.get("text", "")
            )
        if kind in ("display_data", "execute_result", "error"):
            output = new_output(kind, **fields)
            nbformat.validate(output, ref=kind, version=4, version_minor=5)
            return output
    except (TypeError, ValueError, nbformat.ValidationError):
        pass
    note = f"[notebook] an output of type {kind!r} could not be stored: {json.dumps(raw)[:300]}\n"
    return new_output("stream", name="stderr", text=note)


def _header(record: ExecutionRecord) -> str:
    model = " / ".join(p for p in (record.provider, record.model) if p) or "—"
    started = (record.started_at or record.created_at).strftime("%Y-%m-%d %H:%M:%S UTC")
    task = "\n".join(f"> {line}" for line in record.task.splitlines() or [""])
    return (
        f"# Agent run\n\n{task}\n\n"
        f"| agent | provider / model | started | status | execution | session |\n"
        f"| --- | --- | --- | --- | --- | --- |\n"
        f"| `{record.agent}` | {model} | {started} | {record.status} | "
        f"`{record.execution_id}` | `{record.session_id}` |\n\n"
        "Re-run it offline: `papermill this.ipynb out.ipynb` answers every skill call from the "
        "recording below; `-p skill_mode live` calls the real skills."
    )


def _setup_source(recording: Recording) -> str:
    return (
        "# Setup (hidden): the program's functions, answered from this run's recording.\n"
        "try:\n"
        "    from agent.replay import install as _agent_install\n"
        "except ImportError:  # opened outside the project's venv: use the checkout that wrote it\n"
        "    import sys\n"
        f"    sys.path.insert(0, {str(PROJECT_ROOT)!r})\n"
        "    from agent.replay import install as _agent_install\n"
        "_agent_replay = _agent_install(globals(), skill_mode=skill_mode, recording="
        f"{recording.to_json()!r})\n"
    )


def _answer_markdown(record: ExecutionRecord, final: FinalAnswerStep | None) -> str:
    if final is not None or record.status == "completed":
        answer = final.answer if final is not None else record.result
        body = (
            answer
            if isinstance(answer, str)
            else f"```json\n{json.dumps(answer, indent=2, default=repr)}\n```"
        )
        return f"## Answer\n\n{body}"
    if record.error is not None:
        return f"## Outcome: {record.status}\n\n`{record.error.code}`: {record.error.message}"
    return f"## Outcome: {record.status}\n\nThe run has no answer yet."


def _action_cells(step: ActionStep) -> list[NotebookNode]:
    title = f"### Step {step.index}"
    reasoning = step.reasoning.strip() or (step.model_text.strip() if step.code is None else "")
    cells = [_markdown(f"step-{step.index}", f"{title}\n\n{reasoning}".strip())]
    if step.code is None:
        cells[0].source += "\n\n*(the reply had no program)*"
        return cells
    tags = ["raises-exception"] if step.status == "error" else []
    meta = {
        "agent": {
            "role": "program",
            "step": step.index,
            "status": step.status,
            "skill_calls": [c.model_dump(mode="json") for c in step.skill_calls],
            "llm_ms": step.llm_ms,
            "run_ms": step.run_ms,
            "state_lost": step.state_lost,
            "replay": "skip" if step.status in _SKIPPED else "run",
        },
        "tags": tags,
    }
    outputs = [_output(o) for o in step.outputs]
    cells.append(
        _code(f"step-{step.index}-program", step.code, meta, outputs, step.execution_count)
    )
    return cells


def _metadata(record: ExecutionRecord) -> dict[str, Any]:
    steps = [
        {
            "index": s.index,
            "type": s.type,
            "duration_ms": s.duration_ms,
            **({"llm_ms": s.llm_ms, "run_ms": s.run_ms} if isinstance(s, ActionStep) else {}),
        }
        for s in record.steps
    ]
    wire = record.wire()
    keep = ("executionId", "sessionId", "status", "agent", "provider", "model", "usage", "error")
    times = ("createdAt", "startedAt", "finishedAt", "isolation", "parentId", "depth")
    return {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python", "version": ".".join(map(str, sys.version_info[:3]))},
        "agent": {**{k: wire[k] for k in keep + times}, "task": record.task, "steps": steps},
    }


class RunNotebook:
    """The `.ipynb` of one execution, rewritten whole from the record after every step."""

    @staticmethod
    def path_for(notebooks_dir: Path, record: ExecutionRecord) -> Path:
        """NOTEBOOKS_DIR/<session>/<UTC start>_<execution id>.ipynb: sorts by time."""
        stamp = record.created_at.strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}_{_safe_name(record.execution_id)}.ipynb"
        return Path(notebooks_dir) / _safe_name(record.session_id) / name

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def build(self, record: ExecutionRecord) -> NotebookNode:
        """The notebook of the record as it stands (a running record gives a partial run)."""
        recording = recording_of(record)
        params = _code(
            "parameters",
            'skill_mode = "replay"  # "replay": answer skill calls from the recording; '
            '"live": call the real skills',
            {"tags": ["parameters"]},
        )
        setup = _code(
            "agent-setup",
            _setup_source(recording),
            {"tags": ["agent-setup"], "jupyter": {"source_hidden": True}},
        )
        cells = [_markdown("header", _header(record)), params, setup]
        final: FinalAnswerStep | None = None
        for step in record.steps:
            if isinstance(step, ActionStep):
                cells.extend(_action_cells(step))
            elif isinstance(step, PlanningStep):
                cells.append(_markdown(f"step-{step.index}", f"### Plan\n\n{step.plan}"))
            elif isinstance(step, SubagentStep):
                cells.append(
                    _markdown(
                        f"step-{step.index}",
                        f"### Delegated to `{step.agent}` ({step.status})\n\n> {step.task}\n\n"
                        f"Run `{step.execution_id}`: {step.result!r}",
                    )
                )
            elif isinstance(step, FinalAnswerStep):
                final = step
        check = _code(
            "agent-check", CHECK_SOURCE, {"tags": ["agent-check"], "agent": {"role": "check"}}
        )
        cells.extend([check, _markdown("answer", _answer_markdown(record, final))])
        return new_notebook(cells=cells, metadata=_metadata(record))

    def write(self, record: ExecutionRecord) -> None:
        """Build, validate and atomically replace the file."""
        self.save(self.build(record))

    def save(self, nb: NotebookNode) -> None:
        """Validate once and atomically replace the file, so a reader never sees half a notebook.
        Touches only `nb`, not the record: callers may run it in a thread."""
        nbformat.validate(nb)
        text = writes_json(nb)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".", suffix=".ipynb.tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
