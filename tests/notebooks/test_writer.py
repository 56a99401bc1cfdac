"""RunNotebook: layout, real outputs, metadata, paths, atomic writes, odd outputs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import nbformat
import pytest

from agent.notebook import RunNotebook, recording_of
from agent.records import ActionStep, ExecutionRecord, TaskStep
from agent.replay import Recording, cell_key


def _write(tmp_path: Path, record: ExecutionRecord) -> nbformat.NotebookNode:
    path = RunNotebook.path_for(tmp_path, record)
    RunNotebook(path).write(record)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def test_layout_holds_the_run_as_it_happened(
    tmp_path: Path, repaired_record: ExecutionRecord
) -> None:
    nb = _write(tmp_path, repaired_record)
    assert nb.metadata.kernelspec.name == "python3"
    header, params, setup, *rest = nb.cells
    assert "How many cat pages?" in header.source and "fake-model" in header.source
    assert params.metadata.tags == ["parameters"] and 'skill_mode = "replay"' in params.source
    assert setup.metadata.tags == ["agent-setup"] and setup.metadata.jupyter.source_hidden
    programs = [
        c
        for c in rest
        if c.cell_type == "code" and c.metadata.get("agent", {}).get("role") == "program"
    ]
    assert [p.source for p in programs] == [
        s.code for s in repaired_record.steps if isinstance(s, ActionStep)
    ]
    failed, repaired = programs
    assert failed.metadata.tags == ["raises-exception"]
    assert [o.output_type for o in failed.outputs] == ["stream", "error"]
    assert failed.outputs[1].ename == "IndexError"
    assert failed.metadata.agent.skill_calls[0]["skill"] == "web-search"
    assert failed.metadata.agent.skill_calls[0]["kwargs"] == {"max_results": 2}
    kinds = [next(iter(o.get("data", {"stream": 0}))) for o in repaired.outputs]
    assert kinds[:2] == ["text/html", "image/png"] and repaired.outputs[2].text == "n = 2\n"
    assert repaired.execution_count > failed.execution_count
    assert "Index 5 does not exist" in rest[rest.index(repaired) - 1].source
    assert nb.cells[-1].cell_type == "markdown" and "2 results: Cat, Kitten" in nb.cells[-1].source
    assert nb.cells[-2].metadata.tags == ["agent-check"]
    meta = nb.metadata.agent
    assert meta.executionId == repaired_record.execution_id and meta.status == "completed"
    assert set(meta.usage) >= {"inputTokens", "outputTokens", "llmCalls"}
    assert [s["type"] for s in meta.steps] == ["task", "action", "action", "final_answer"]


def test_setup_cell_carries_results_so_replay_needs_nothing_else(
    tmp_path: Path, repaired_record: ExecutionRecord
) -> None:
    nb = _write(tmp_path, repaired_record)
    recording = recording_of(repaired_record)
    assert repr(recording.to_json()) in nb.cells[2].source
    back = Recording.from_json(recording.to_json())
    first = back.cells[0]
    assert first.key == cell_key(repaired_record.steps[1].code or "")
    assert (first.status, first.ename) == ("error", "IndexError")
    assert first.calls[0].result[1]["title"] == "Kitten"
    assert back.answer == "2 results: Cat, Kitten" and back.answer_from_final


def test_path_sorts_by_time_and_cannot_leave_the_notebooks_dir(tmp_path: Path) -> None:
    early = ExecutionRecord(session_id="../../etc", task="t")
    late = ExecutionRecord(
        session_id="../../etc", task="t", created_at=early.created_at + timedelta(seconds=1)
    )
    a, b = RunNotebook.path_for(tmp_path, early), RunNotebook.path_for(tmp_path, late)
    assert a.parent == b.parent and a.parent.parent == tmp_path
    assert ".." not in a.parent.name and early.execution_id in a.name
    assert sorted([b.name, a.name]) == [a.name, b.name]


def test_running_record_is_a_valid_partial_notebook_replaced_atomically(tmp_path: Path) -> None:
    record = ExecutionRecord(session_id="s1", task="t", status="running")
    record.steps = [TaskStep(task="t"), ActionStep(index=1, code="print(1)", status="running")]
    path = RunNotebook.path_for(tmp_path, record)
    RunNotebook(path).write(record)
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[-1].source.startswith("## Outcome: running")
    record.steps[1].status, record.steps[1].outputs = (
        "ok",
        [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
    )
    RunNotebook(path).write(record)
    assert nbformat.read(path, as_version=4).cells[4].outputs[0].text == "1\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.parametrize(
    "raw",
    [
        {"output_type": "display_data", "data": 5, "metadata": {}},
        {"output_type": "clear_output", "wait": True},
        {"name": "stdout"},
    ],
)
def test_an_output_nbformat_cannot_hold_becomes_a_visible_note(tmp_path: Path, raw: dict) -> None:
    record = ExecutionRecord(session_id="s1", task="t", status="failed")
    record.steps = [ActionStep(index=1, code="x = 1", status="ok", outputs=[raw])]
    nb = _write(tmp_path, record)
    (note,) = nb.cells[4].outputs
    assert note.name == "stderr" and "could not be stored" in note.text


def test_steps_without_code_and_timeouts(tmp_path: Path) -> None:
    record = ExecutionRecord(session_id="s1", task="t", status="failed")
    record.steps = [
        ActionStep(index=1, model_text="I think the answer is 4.", code=None, status="no_code"),
        ActionStep(index=2, code="while True: pass", status="timeout"),
    ]
    nb = _write(tmp_path, record)
    assert "I think the answer is 4." in nb.cells[3].source and "no program" in nb.cells[3].source
    assert nb.cells[5].metadata.agent.replay == "skip"
    assert recording_of(record).cells[0].status == "skip"
