"""What a test scripts (Reply) and what the fake server records (RecordedRequest)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeToolCall", "RecordedRequest", "Reply", "count_tokens", "request_text"]


@dataclass
class FakeToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None  # generated when None


@dataclass
class Reply:
    """One scripted answer. status >= 400 sends the vendor's error body instead of a reply."""

    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the response starts (timeouts)
    chunk_delay_s: float = 0.0  # between streamed chunks (cancellation)
    tool_calls: list[FakeToolCall | dict[str, Any]] = field(default_factory=list)
    usage: tuple[int, int] | None = None  # (input, output); estimated from the words when None
    stop_reason: str | None = None  # the vendor's own value; derived when None
    error: str | None = None  # message of the error body

    def calls(self) -> list[FakeToolCall]:
        out = []
        for i, call in enumerate(self.tool_calls):
            if isinstance(call, dict):
                call = FakeToolCall(call["name"], dict(call.get("arguments") or {}), call.get("id"))
            out.append(FakeToolCall(call.name, call.arguments, call.id or f"call_{i + 1}"))
        return out


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any
    received_at: float = field(default_factory=time.monotonic)
    _closed: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def wire(self) -> str:
        return "anthropic" if self.path.endswith("/messages") else "openai"

    @property
    def stream(self) -> bool:
        return bool(isinstance(self.json, dict) and self.json.get("stream"))

    @property
    def disconnected(self) -> bool:
        """True once the client closed the connection before the reply was complete."""
        return self._closed.is_set()

    def wait_disconnected(self, timeout: float) -> bool:
        return self._closed.wait(timeout)

    def last_user_text(self) -> str:
        messages = self.json.get("messages", []) if isinstance(self.json, dict) else []
        for message in reversed(messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""


def _text_of(content: Any) -> str:
    """Text of a message content: a string, or a list of vendor content blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                for key in ("text", "content", "input"):
                    if key in block:
                        value = block[key]
                        parts.append(value if isinstance(value, str) else _text_of(value))
            else:
                parts.append(str(block))
        return " ".join(parts)
    if isinstance(content, dict):
        return json.dumps(content)
    return str(content)


def request_text(body: Any) -> str:
    """All the text a request sends the model (system, messages, tool calls and results)."""
    if not isinstance(body, dict):
        return ""
    parts = [_text_of(body.get("system"))]
    for message in body.get("messages", []) or []:
        if not isinstance(message, dict):
            continue
        parts.append(_text_of(message.get("content")))
        for call in message.get("tool_calls") or []:
            parts.append(str((call.get("function") or {}).get("arguments", "")))
    return " ".join(p for p in parts if p)


def count_tokens(text: str) -> int:
    """The fake's token count: whitespace-separated words (tests compute expectations the same way)."""
    return len(text.split())
