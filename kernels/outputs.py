"""Collecting a cell's iopub messages into nbformat outputs, with capped streams."""

from __future__ import annotations

import re
from typing import Any

from kernels.results import KernelError

__all__ = ["OutputCollector", "strip_ansi"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class _Stream:
    """One stream's text: the head as it came, then only a tail once over the cap."""

    def __init__(self, cap: int) -> None:
        self.head_cap = cap // 2
        self.tail_cap = cap - self.head_cap
        self.head = ""
        self.tail = ""
        self.cut = 0

    @property
    def over(self) -> bool:
        return len(self.head) >= self.head_cap

    def add(self, text: str) -> str:
        """Keep `text`; return the part that still belongs to the head (shown live)."""
        room = self.head_cap - len(self.head)
        shown = text[: max(room, 0)]
        self.head += shown
        rest = text[len(shown) :]
        if rest:
            self.tail += rest
            if len(self.tail) > self.tail_cap:
                drop = len(self.tail) - self.tail_cap
                self.cut += drop
                self.tail = self.tail[drop:]
        return shown

    def note(self) -> str:
        return f"\n[... {self.cut} characters of output cut; head and tail kept ...]\n"

    def text(self) -> str:
        return self.head + (self.note() if self.cut else "") + self.tail


class OutputCollector:
    """Feeds on iopub message contents; gives the nbformat outputs, streams and the error."""

    def __init__(self, stream_cap: int) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.streams = {"stdout": _Stream(stream_cap), "stderr": _Stream(stream_cap)}
        self.error: KernelError | None = None
        self.execution_count: int | None = None

    def add(self, msg_type: str, content: dict[str, Any]) -> dict[str, Any] | None:
        """Take one iopub message; return the output to show live, if any."""
        if msg_type == "stream":
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            shown = self.streams[name].add(content.get("text", ""))
            if not shown:
                return None
            last = self.outputs[-1] if self.outputs else None
            # one print can arrive as several stream messages: merge them
            if last and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += shown
            else:
                self.outputs.append({"output_type": "stream", "name": name, "text": shown})
            return {"output_type": "stream", "name": name, "text": shown}
        if msg_type in ("display_data", "execute_result", "update_display_data"):
            out: dict[str, Any] = {
                "output_type": "display_data" if msg_type != "execute_result" else msg_type,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            if msg_type == "execute_result":
                out["execution_count"] = content.get("execution_count")
            self.outputs.append(out)
            return out
        if msg_type == "error":
            out = {
                "output_type": "error",
                "ename": content.get("ename", ""),
                "evalue": content.get("evalue", ""),
                "traceback": content.get("traceback", []),
            }
            self.outputs.append(out)
            self.set_error(content)
            return out
        if msg_type == "clear_output":
            self.outputs.clear()
        elif msg_type == "execute_input":
            self.execution_count = content.get("execution_count")
        return None

    def set_error(self, content: dict[str, Any]) -> None:
        self.error = KernelError(
            ename=content.get("ename", ""),
            evalue=strip_ansi(content.get("evalue", "")),
            traceback=[strip_ansi(line) for line in content.get("traceback", [])],
        )

    def finish(self) -> None:
        """Append what the caps cut: a note saying how much, then the tail."""
        for name, stream in self.streams.items():
            if stream.tail:
                tail = (stream.note() if stream.cut else "") + stream.tail
                self.outputs.append({"output_type": "stream", "name": name, "text": tail})

    @property
    def truncated(self) -> int:
        return sum(s.cut for s in self.streams.values())

    def text(self, name: str) -> str:
        return self.streams[name].text()
