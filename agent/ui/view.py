"""RunView: a run's live events (or its finished record) as the chat's `gr.ChatMessage`s.

The view keeps the latest version of each step plus what arrived live before the step closed
(the model's text as it streams, outputs, skill calls still pending) and renders the whole run
each time it is asked: the plan text, each program as a collapsible step, its skill calls nested
under it (`parent_id`) with status and duration, outputs (text, errors, HTML, images), subagents
with their own steps nested, and the answer or the failure. Finished runs render from their
record (`RunView.of`) or from their notebook (`notebook_messages`) the same way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import nbformat
from gradio import ChatMessage
from gradio.components.chatbot import MetadataDict

from agent.prompting import truncate
from agent.records import Event, ExecutionRecord
from agent.service import replay_events

__all__ = ["RunView", "notebook_messages", "user_message"]

TEXT_CHARS = 4000  # a program's printed text shown per output, head and tail kept
TITLE_CHARS = 90
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
IMAGES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}
HIDDEN_CELLS = frozenset({"parameters", "agent-setup", "agent-check"})


def _fence(text: str, lang: str = "") -> str:
    """A fenced block that survives backticks inside the text."""
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _short(text: str, limit: int = TITLE_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _seconds(ms: float | None) -> float | None:
    return round(ms / 1000, 2) if ms else None


def _thought(
    content: Any,
    title: str,
    *,
    id: str | None = None,
    parent: str | None = None,
    status: Literal["pending", "done"] | None = None,
    duration: float | None = None,
    log: str | None = None,
) -> ChatMessage:
    meta = MetadataDict(title=title)
    if id is not None:
        meta["id"] = id
    if parent is not None:
        meta["parent_id"] = parent
    if status is not None:
        meta["status"] = status
    if duration is not None:
        meta["duration"] = duration
    if log:
        meta["log"] = log
    return ChatMessage(role="assistant", content=content, metadata=meta)


def _plain(content: Any, parent: str | None = None) -> ChatMessage:
    meta = MetadataDict(parent_id=parent) if parent is not None else MetadataDict()
    return ChatMessage(role="assistant", content=content, metadata=meta)


def user_message(task: str, files: list[str] | None = None) -> ChatMessage:
    text = task
    if files:
        text += "\n\nattached: " + ", ".join(f"`{name}`" for name in files)
    return ChatMessage(role="user", content=text)


def answer_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | bool) or value is None:
        return f"**{value!r}**"
    return _fence(json.dumps(value, indent=2, ensure_ascii=False, default=repr), "json")


class Media:
    """Where images a program displayed are written, so the chat can show them as files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def image(self, data: str, mime: str) -> Path:
        raw = base64.b64decode(data)
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{hashlib.sha256(raw).hexdigest()[:20]}{IMAGES[mime]}"
        if not path.exists():
            path.write_bytes(raw)
        return path


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def output_messages(
    outputs: list[dict[str, Any]], media: Media, parent: str | None
) -> list[ChatMessage]:
    """nbformat outputs, in order: printed text (streams merged), images, HTML, errors."""
    messages: list[ChatMessage] = []
    stream: tuple[str, list[str]] | None = None

    def flush() -> None:
        nonlocal stream
        if stream is not None:
            name, parts = stream
            text = truncate(ANSI.sub("", "".join(parts)), TEXT_CHARS)
            if name == "stderr":
                messages.append(_thought(_fence(text, "text"), "stderr", parent=parent))
            elif text.strip():
                messages.append(_plain(_fence(text, "text"), parent))
        stream = None

    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            if stream is None or stream[0] != name:
                flush()
                stream = (name, [])
            stream[1].append(_text(output.get("text")))
            continue
        flush()
        if kind == "error":
            traceback = ANSI.sub("", "\n".join(output.get("traceback") or []))
            title = _short(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
            messages.append(_thought(_fence(truncate(traceback, TEXT_CHARS)), title, parent=parent))
        elif kind in ("display_data", "execute_result"):
            message = _rich(output.get("data") or {}, media, parent)
            if message is not None:
                messages.append(message)
    flush()
    return messages


def _rich(data: dict[str, Any], media: Media, parent: str | None) -> ChatMessage | None:
    for mime in IMAGES:
        if mime in data:
            path = media.image(_text(data[mime]), mime)
            return _plain({"path": str(path), "alt_text": "a figure the program displayed"}, parent)
    if "text/html" in data:
        return _plain(truncate(_text(data["text/html"]), TEXT_CHARS * 4), parent)
    if "text/markdown" in data:
        return _plain(truncate(_text(data["text/markdown"]), TEXT_CHARS), parent)
    if "text/plain" in data:
        return _plain(_fence(truncate(_text(data["text/plain"]), TEXT_CHARS), "text"), parent)
    return None


def _call_message(call: dict[str, Any], parent: str, key: str) -> ChatMessage:
    """A finished skill call (its SkillCall as JSON) nested under its program."""
    skill = str(call.get("skill", "?")).replace("-", "_")
    args = [json.dumps(a, ensure_ascii=False, default=repr) for a in call.get("args") or []]
    args += [
        f"{k}={json.dumps(v, ensure_ascii=False, default=repr)}"
        for k, v in (call.get("kwargs") or {}).items()
    ]
    title = _short(f"{skill}({', '.join(args)})")
    if call.get("ok"):
        body = _fence(str(call.get("preview") or ""), "json")
        log = f"{call.get('result_size', 0)} bytes"
    else:
        body = f"**failed**: {call.get('error_type') or 'error'}: {call.get('error') or ''}"
        log = "failed"
    duration = _seconds(call.get("duration_ms")) or 0.0
    return _thought(body, title, id=key, parent=parent, status="done", duration=duration, log=log)


@dataclass
class _Pending:
    ref: str
    skill: str
    preview: str
    done: dict[str, Any] | None = None


@dataclass
class RunView:
    execution_id: str
    media: Media
    task: str = ""
    status: str = "queued"
    result: Any = None
    error: dict[str, Any] | None = None
    steps: dict[int, dict[str, Any]] = field(default_factory=dict)
    drafts: dict[int, str] = field(default_factory=dict)
    outputs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: dict[int, list[_Pending]] = field(default_factory=dict)
    children: dict[str, RunView] = field(default_factory=dict)

    @classmethod
    def of(cls, record: ExecutionRecord, media: Media) -> RunView:
        """A finished (or stored) run, from its record."""
        view = cls(record.execution_id, media, task=record.task)
        for event in replay_events(record):
            view.apply(event)
        return view

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    # --- events ------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        if event.execution_id != self.execution_id:
            child = self.children.get(event.execution_id)
            if child is None:
                child = self.children[event.execution_id] = RunView(event.execution_id, self.media)
            child.apply(event)
            return
        data = event.data
        if event.type == "status":
            self.status = str(data.get("status", self.status))
        elif event.type == "llm_delta":
            index = int(data.get("step", 0))
            self.drafts[index] = self.drafts.get(index, "") + str(data.get("text", ""))
        elif event.type == "step":
            self._step(dict(data["step"]))
        elif event.type == "output":
            self.outputs.setdefault(int(data.get("step", 0)), []).append(dict(data["output"]))
        elif event.type == "skill_call" and data.get("step") is not None:
            self._call(int(data["step"]), data)
        elif event.type == "done":
            self.status = str(data.get("status", self.status))
            self.result = data.get("result")
            self.error = data.get("error")

    def _step(self, step: dict[str, Any]) -> None:
        index = int(step.get("index", 0))
        self.steps[index] = step
        self.drafts.pop(index, None)
        if step.get("type") == "task":
            self.task = self.task or str(step.get("task", ""))
        if step.get("type") == "subagent" and step.get("record"):
            child = ExecutionRecord.model_validate(step["record"])
            self.children[child.execution_id] = RunView.of(child, self.media)

    def _call(self, index: int, data: dict[str, Any]) -> None:
        calls = self.calls.setdefault(index, [])
        ref = str(data.get("ref") or "")
        call = dict(data.get("call") or {})
        if data.get("pending"):
            calls.append(_Pending(ref, str(call.get("skill", "?")), str(call.get("preview", ""))))
            return
        for pending in calls:
            if ref and pending.ref == ref:
                pending.done = call
                return
        calls.append(
            _Pending(ref or str(call.get("id", "")), str(call.get("skill", "?")), "", call)
        )

    # --- rendering ---------------------------------------------------------------------------

    def messages(self, parent: str | None = None) -> list[ChatMessage]:
        """The run as chat messages; a subagent's run nests under `parent`."""
        out: list[ChatMessage] = []
        program = None  # the id of the latest program step: subagents nest under it
        number = 0
        for index in sorted(set(self.steps) | set(self.drafts)):
            step = self.steps.get(index)
            if step is None:
                title = f"Writing program {number + 1}…"
                text = truncate(self.drafts[index], TEXT_CHARS, tail_weight=1.0)
                out.append(_thought(text or "…", title, parent=parent, status="pending"))
                continue
            kind = step.get("type")
            if kind == "planning":
                out.append(_thought(step.get("plan", ""), "Plan", parent=parent, status="done"))
            elif kind == "action":
                if step.get("code") is not None:
                    number += 1
                    program = f"{self.execution_id}/step{index}"
                out.extend(self._action(step, index, number, program, parent))
            elif kind == "subagent":
                out.extend(self._subagent(step, index, program or parent))
            elif kind == "final_answer":
                out.append(_plain(answer_text(step.get("answer")), parent))
        if self.status == "failed" and self.error:
            text = f"**The task failed** — `{self.error.get('code')}`: {self.error.get('message')}"
            out.append(_plain(text, parent))
        elif self.status == "cancelled":
            out.append(_plain("**Stopped**: the task was cancelled.", parent))
        return out

    def _action(
        self, step: dict[str, Any], index: int, number: int, key: str | None, parent: str | None
    ) -> list[ChatMessage]:
        out: list[ChatMessage] = []
        reasoning = str(step.get("reasoning") or "").strip()
        if reasoning:
            out.append(_plain(reasoning, parent))
        code = step.get("code")
        if code is None or key is None:
            return out
        status = str(step.get("status", "running"))
        running = status == "running"
        out.append(
            _thought(
                _fence(str(code), "python"),
                f"Program {number}",
                id=key,
                parent=parent,
                status="pending" if running else "done",
                duration=None if running else _seconds(step.get("runMs")) or 0.0,
                log=None if running else status,
            )
        )
        if running:
            for n, pending in enumerate(self.calls.get(index, [])):
                ref = f"{key}/call{n}"
                if pending.done is not None:
                    out.append(_call_message(pending.done, key, ref))
                else:
                    title = _short(f"{pending.skill.replace('-', '_')}({pending.preview})")
                    out.append(_thought("running…", title, id=ref, parent=key, status="pending"))
            outputs = self.outputs.get(index, [])
        else:
            for n, call in enumerate(step.get("skillCalls") or []):
                out.append(_call_message(call, key, f"{key}/call{n}"))
            outputs = list(step.get("outputs") or [])
            if step.get("error") and not any(o.get("output_type") == "error" for o in outputs):
                outputs.append({"output_type": "error", **step["error"]})
        out.extend(output_messages(outputs, self.media, parent))
        return out

    def _subagent(self, step: dict[str, Any], index: int, parent: str | None) -> list[ChatMessage]:
        key = f"{self.execution_id}/sub{index}"
        status = str(step.get("status", "running"))
        running = status in ("queued", "running")
        title = _short(f"Subagent {step.get('agent')}: {step.get('task', '')}")
        body = "working…" if running else f"{status}"
        out = [
            _thought(
                body,
                title,
                id=key,
                parent=parent,
                status="pending" if running else "done",
                duration=None if running else _seconds(step.get("durationMs")) or 0.0,
            )
        ]
        child = self.children.get(str(step.get("executionId", "")))
        if child is not None:
            out.extend(child.messages(parent=key))
        return out


def notebook_messages(path: Path, media: Media) -> list[ChatMessage]:
    """A run rendered from its `.ipynb`: Markdown cells as text, each program as a step with
    its skill calls (from the cell's metadata) and the outputs it produced."""
    notebook = nbformat.read(str(path), as_version=4)
    out: list[ChatMessage] = []
    number = 0
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_CELLS:
            continue
        if cell.cell_type == "markdown":
            out.append(_plain(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        number += 1
        meta = cell.get("metadata", {}).get("agent", {})
        key = f"nb{index}"
        out.append(
            _thought(
                _fence(cell.source, "python"),
                f"Program {number}",
                id=key,
                status="done",
                duration=_seconds(meta.get("run_ms")) or 0.0,
                log=meta.get("status"),
            )
        )
        for n, call in enumerate(meta.get("skill_calls") or []):
            out.append(_call_message(dict(call), key, f"{key}/call{n}"))
        out.extend(output_messages([dict(o) for o in cell.get("outputs", [])], media, None))
    return out
