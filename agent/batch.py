"""Batch runs: each task of a YAML list through papermill on notebooks/templates/task.ipynb.

`run_batch(tasks_file, out_dir, parallel=N)` writes one output notebook per task into `out_dir`,
then `summary.csv` and `summary.md` (task, status, answer, tokens, duration, notebook), with a
progress bar on stderr. The exit code is 0 when every task completed, 1 when one did not, 2 when
the tasks file is unusable. The CLI's `python -m agent batch` calls it.
"""

from __future__ import annotations

import csv
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml
from tqdm import tqdm

__all__ = ["TEMPLATE", "BatchError", "BatchResult", "BatchTask", "load_tasks", "run_batch"]

TEMPLATE = Path(__file__).resolve().parent.parent / "notebooks" / "templates" / "task.ipynb"
_FIELDS = ("task", "status", "answer", "tokens", "duration", "notebook")
_KEYS = {"task", "agent", "session", "provider", "model"}


class BatchError(Exception):
    """The tasks file is unusable; the message says where and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class BatchTask:
    task: str
    agent: str = ""
    session: str = ""
    provider: str = ""
    model: str = ""


@dataclass
class BatchResult:
    task: str
    status: str
    answer: str = ""
    tokens: int = 0
    duration_s: float = 0.0
    notebook: str = ""  # the papermill output notebook
    run_notebook: str = ""  # the run's own notebook (replayable)
    error: str = ""


def load_tasks(path: Path) -> list[BatchTask]:
    """Parse a YAML list of tasks: strings, or mappings with `task` and optional agent/session."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BatchError("tasks_unreadable", f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise BatchError("tasks_invalid", f"{path}: broken YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise BatchError("tasks_invalid", f"{path}: expected a non-empty YAML list of tasks")
    tasks: list[BatchTask] = []
    for number, item in enumerate(data, start=1):
        where = f"{path}: item {number}"
        if isinstance(item, str) and item.strip():
            tasks.append(BatchTask(task=item))
            continue
        if not isinstance(item, dict):
            raise BatchError("tasks_invalid", f"{where}: a task is a string or a mapping")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise BatchError("tasks_invalid", f"{where}: unknown key(s) {', '.join(unknown)}")
        if not isinstance(item.get("task"), str) or not item["task"].strip():
            raise BatchError("tasks_invalid", f"{where}: `task` must be a non-empty string")
        bad = [k for k, v in item.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise BatchError("tasks_invalid", f"{where}: {', '.join(bad)} must be strings")
        tasks.append(BatchTask(**{k: v or "" for k, v in item.items()}))
    return tasks


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "task"


def _record_of(path: Path) -> dict[str, Any] | None:
    """The execution record the template's record cell displayed, if it ran."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
    for cell in nb.cells:
        if "agent-record" in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get("application/json")
                if isinstance(data, dict):
                    return data
    return None


def _answer_text(value: Any) -> str:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True)
    text = " ".join(str(text).split())
    return text if len(text) <= 200 else text[:190] + f"… (+{len(text) - 190} chars)"


def _run_one(index: int, item: BatchTask, out_dir: Path) -> BatchResult:
    import papermill

    out = out_dir / f"{index:03d}-{_slug(item.task)}.ipynb"
    parameters = {
        "task": item.task,
        "agent": item.agent,
        "provider": item.provider,
        "model": item.model,
        "session_id": item.session,
    }
    started = time.perf_counter()
    error = ""
    try:
        papermill.execute_notebook(
            str(TEMPLATE),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
        )
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # a kernel that would not start, a missing kernelspec: one row says so
        error = f"{type(exc).__name__}: {exc}"
    duration = time.perf_counter() - started
    record = _record_of(out) if out.exists() else None
    if record is None:
        return BatchResult(item.task, "failed", duration_s=duration, notebook=str(out), error=error)
    usage = record.get("usage") or {}
    problem = (record.get("error") or {}).get("message") or error
    return BatchResult(
        task=item.task,
        status=str(record.get("status")),
        answer=_answer_text(record.get("result")) if record.get("status") == "completed" else "",
        tokens=int(usage.get("inputTokens", 0)) + int(usage.get("outputTokens", 0)),
        duration_s=duration,
        notebook=str(out),
        run_notebook=str(record.get("notebook") or ""),
        error=problem,
    )


def _row(result: BatchResult) -> dict[str, str]:
    answer = result.answer or (f"({result.error})" if result.error else "")
    return {
        "task": result.task,
        "status": result.status,
        "answer": answer,
        "tokens": str(result.tokens),
        "duration": f"{result.duration_s:.1f} s",
        "notebook": result.notebook,
    }


def write_summary(results: list[BatchResult], out_dir: Path) -> tuple[Path, Path]:
    """summary.csv and summary.md in `out_dir`, one row per task in the file's order."""
    rows = [_row(r) for r in results]
    csv_path, md_path = out_dir / "summary.csv", out_dir / "summary.md"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*_FIELDS, "run_notebook"])
        writer.writeheader()
        for row, result in zip(rows, results, strict=True):
            writer.writerow({**row, "run_notebook": result.run_notebook})

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(_FIELDS) + " |",
        "| " + " | ".join("---" for _ in _FIELDS) + " |",
        *("| " + " | ".join(cell(row[f]) for f in _FIELDS) + " |" for row in rows),
    ]
    done = sum(r.status == "completed" for r in results)
    md_path.write_text(
        f"# Batch summary\n\n{done} of {len(results)} tasks completed.\n\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    return csv_path, md_path


def run_batch(tasks_file: Path, out_dir: Path, *, parallel: int = 1) -> int:
    """Run every task of `tasks_file` through papermill; 0 when all completed, 1 if not, 2 on bad input."""
    try:
        tasks = load_tasks(tasks_file)
    except BatchError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if parallel < 1:
        print(f"error: --parallel must be at least 1, got {parallel}", file=sys.stderr)
        return 2
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[BatchResult | None] = [None] * len(tasks)
    with (
        ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="batch") as pool,
        tqdm(total=len(tasks), desc="tasks", unit="task", file=sys.stderr) as bar,
    ):
        futures = {pool.submit(_run_one, i, t, out_dir): i for i, t in enumerate(tasks, start=1)}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future] - 1] = result
            bar.set_postfix_str(f"{result.status}: {result.task[:30]}")
            bar.update()
    finished = [r for r in results if r is not None]
    _, md_path = write_summary(finished, out_dir)
    print(md_path.read_text(encoding="utf-8"))
    return 0 if all(r.status == "completed" for r in finished) else 1
