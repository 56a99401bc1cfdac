"""Batch runs: the tasks file is checked, each task runs through papermill, a summary is written."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import papermill
import pytest

import kernels
from agent.batch import TEMPLATE, BatchError, load_tasks, run_batch
from tests.fake_llm import FakeLLM, RecordedRequest, request_text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "non-empty YAML list"),
        ("task: one", "non-empty YAML list"),
        ("- [1, 2]", "item 1: a task is a string or a mapping"),
        ("- {task: ok}\n- {agent: coder}", "item 2: `task` must be a non-empty string"),
        ("- {task: ok, colour: red}", "unknown key(s) colour"),
        ("- {task: ok, agent: 3}", "agent must be strings"),
        ("- [unclosed", "broken YAML"),
    ],
)
def test_a_bad_tasks_file_is_named_clearly(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(text)
    with pytest.raises(BatchError) as failure:
        load_tasks(path)
    assert fragment in failure.value.message
    assert run_batch(path, tmp_path / "out") == 2


def test_tasks_are_strings_or_mappings(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text("- plain task\n- {task: second, agent: coder, session: s1}\n")
    first, second = load_tasks(path)
    assert (first.task, first.agent) == ("plain task", "")
    assert (second.task, second.agent, second.session) == ("second", "coder", "s1")
    assert run_batch(tmp_path / "missing.yaml", tmp_path / "out") == 2


needs_agent = pytest.mark.skipif(
    not hasattr(kernels, "SessionKernels"), reason="the kernels layer has not landed yet"
)


def _answer_by_task(request: RecordedRequest) -> str:
    number = re.search(r"task number (\d+)", request_text(request.json))
    if number is None:
        return "```python\nfinal_answer('no task number')\n```"
    return f"```python\nprint('working on {number[1]}')\nfinal_answer('answer {number[1]}')\n```"


@pytest.fixture
def batch_env(fake_llm: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    """The papermill kernels inherit this environment: the fake LLM, folders under tmp_path."""
    for name, value in {
        "DEFAULT_LLM_PROVIDER": "openai-compatible",
        "DEFAULT_LLM_MODEL": "fake-model",
        "LLM_BASE_URL": fake_llm.openai_base_url,
        "LLM_API_KEY": "test-key",
        "LLM_MAX_RETRIES": "0",
        "NOTEBOOKS_DIR": str(tmp_path / "runs"),
        "WORKSPACE_DIR": str(tmp_path / "workspace"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'agent.db'}",
        "KERNEL_POOL_SIZE": "0",
    }.items():
        monkeypatch.setenv(name, value)
    fake_llm.responder = _answer_by_task
    return fake_llm


@needs_agent
def test_a_batch_of_three_gives_three_notebooks_and_a_summary(
    batch_env: FakeLLM, tmp_path: Path
) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("- task number 1\n- {task: task number 2, session: shared}\n- task number 3\n")
    out = tmp_path / "out"
    assert run_batch(tasks, out, parallel=2) == 0
    notebooks = sorted(out.glob("*.ipynb"))
    assert [p.name[:4] for p in notebooks] == ["001-", "002-", "003-"]
    for path in notebooks:
        nbformat.validate(nbformat.read(path, as_version=4))
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["task"], r["status"], r["answer"]) for r in rows] == [
        (f"task number {n}", "completed", f"answer {n}") for n in (1, 2, 3)
    ]
    assert all(int(r["tokens"]) > 0 and Path(r["run_notebook"]).exists() for r in rows)
    assert Path(rows[1]["run_notebook"]).parent.name == "shared"
    table = (out / "summary.md").read_text()
    assert "3 of 3 tasks completed" in table
    assert "| task | status | answer | tokens | duration | notebook |" in table


@needs_agent
def test_the_template_runs_on_its_own_and_a_failed_task_fails_the_batch(
    batch_env: FakeLLM, tmp_path: Path
) -> None:
    out = papermill.execute_notebook(
        str(TEMPLATE),
        str(tmp_path / "one.ipynb"),
        parameters={"task": "task number 7"},
        kernel_name="python3",
        progress_bar=False,
    )
    answer = next(c for c in out.cells if "agent-answer" in c.metadata.get("tags", []))
    assert "answer 7" in answer.outputs[0].data["text/markdown"]
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("- {task: task number 8, agent: no-such-agent}\n")
    assert run_batch(tasks, tmp_path / "out") == 1
    (row,) = csv.DictReader((tmp_path / "out" / "summary.csv").open())
    assert row["status"] == "failed" and "no-such-agent" in row["answer"]
