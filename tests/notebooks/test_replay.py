"""Replay under papermill: offline re-execution reproduces the answer; divergence fails clearly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from agent.notebook import RunNotebook
from agent.records import ExecutionRecord


def _notebook(tmp_path: Path, record: ExecutionRecord) -> Path:
    path = RunNotebook.path_for(tmp_path, record)
    RunNotebook(path).write(record)
    return path


def _programs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.metadata.get("agent", {}).get("role") == "program"]


def _run(path: Path, out: Path, **parameters: str) -> nbformat.NotebookNode:
    return papermill.execute_notebook(
        str(path), str(out), kernel_name="python3", progress_bar=False, parameters=parameters
    )


def test_replay_reproduces_the_run_offline(
    tmp_path: Path, repaired_record: ExecutionRecord
) -> None:
    out = _run(_notebook(tmp_path, repaired_record), tmp_path / "out.ipynb")
    nbformat.validate(out)
    failed, repaired = _programs(out)
    assert [o.output_type for o in failed.outputs] == ["stream", "stream"]
    assert failed.outputs[0].text == "2\n"
    assert failed.outputs[1].name == "stderr" and "IndexError" in failed.outputs[1].text
    data = [o.data for o in repaired.outputs if o.output_type == "display_data"]
    assert "<b>found</b>" in data[0]["text/html"] and data[1]["image/png"]
    check = out.cells[-2]
    assert "answer reproduced" in check.outputs[0].text
    assert check.outputs[1].data["text/plain"] == repr("2 results: Cat, Kitten")


def test_a_call_that_differs_from_the_recording_names_both(
    tmp_path: Path, repaired_record: ExecutionRecord
) -> None:
    path = _notebook(tmp_path, repaired_record)
    nb = nbformat.read(path, as_version=4)
    first = _programs(nb)[0]
    first.source = first.source.replace('"cats"', '"dogs"')
    nbformat.write(nb, path)
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        _run(path, tmp_path / "out.ipynb")
    message = str(failure.value)
    assert "ReplayMismatch" in message
    assert "expected web_search('cats', max_results=2)" in message
    assert "the program called web_search('dogs', max_results=2)" in message


def test_an_error_the_recording_did_not_have_fails_the_replay(
    tmp_path: Path, repaired_record: ExecutionRecord
) -> None:
    path = _notebook(tmp_path, repaired_record)
    nb = nbformat.read(path, as_version=4)
    second = _programs(nb)[1]
    second.source = second.source.replace("n = len(hits)", "n = len(hits) / 0")
    nbformat.write(nb, path)
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        _run(path, tmp_path / "out.ipynb")
    assert failure.value.ename == "ZeroDivisionError"
