"""Builds notebooks/templates/task.ipynb with nbformat: `python notebooks/templates/build_task_template.py`.

The template is what `python -m agent batch` runs through papermill once per task; it works on its
own too: `papermill notebooks/templates/task.ipynb out.ipynb -p task "..."`.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["build", "main"]

TEMPLATE = Path(__file__).resolve().parent / "task.ipynb"

PARAMETERS = """\
task = "Say hello"  # the task for the agent
agent = ""  # agent name from config/agents.yaml; empty: the default agent
provider = ""  # LLM provider name; empty: the default provider
model = ""  # model id; empty: the provider's model
session_id = ""  # empty: a new session
"""

RUN = """\
from agent import run_task_sync

record = run_task_sync(
    task,
    agent=agent or None,
    provider=provider or None,
    model=model or None,
    session_id=session_id or None,
)
print(f"{record.status}: {record.execution_id} (session {record.session_id})")
print(f"run notebook: {record.notebook}")
"""

RECORD = """\
from IPython.display import JSON, display

display(JSON(record.wire(), expanded=False))
"""

ANSWER = """\
import json

from IPython.display import Markdown

if record.status == "completed":
    answer = (
        record.result if isinstance(record.result, str) else json.dumps(record.result, indent=2)
    )
    display(Markdown(f"## Answer\\n\\n{answer}"))
else:
    error = record.error.message if record.error else "no answer"
    display(Markdown(f"## {record.status}\\n\\n{error}"))
"""


def build() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# Agent task\n\nRuns one task through the agent (`agent.run_task_sync`) and shows "
            "the execution record and the answer. With papermill:\n\n"
            '`papermill notebooks/templates/task.ipynb out.ipynb -p task "…"`'
        ),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(RUN, metadata={"tags": ["agent-run"]}),
        new_code_cell(RECORD, metadata={"tags": ["agent-record"]}),
        new_code_cell(ANSWER, metadata={"tags": ["agent-answer"]}),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"task-{index}"  # stable ids: rebuilding gives the same file
        cell.source = cell.source.rstrip("\n")  # as ruff formats notebook cells
    meta = {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        },
        "language_info": {"name": "python"},
    }
    return new_notebook(cells=cells, metadata=meta)


def main() -> None:
    nb = build()
    nbformat.validate(nb)
    nbformat.write(nb, TEMPLATE)


if __name__ == "__main__":
    main()
