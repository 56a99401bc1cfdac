"""Small helpers the agent suites share: replies in both code formats, prompt text of requests."""

from __future__ import annotations

from typing import Any

from tests.fake_llm import RecordedRequest, request_text


def fence(code: str, plan: str = "Plan: do it.") -> str:
    return f"{plan}\n\n```python\n{code}\n```\n"


def code_tag(code: str, plan: str = "I will do it.") -> str:
    return f"{plan}\n<code>\n{code}\n</code>"


def system_of(request: RecordedRequest) -> str:
    body: Any = request.json
    if request.wire == "anthropic":
        system = body.get("system")
        if isinstance(system, list):
            return " ".join(block.get("text", "") for block in system)
        return str(system or "")
    for message in body.get("messages", []):
        if message.get("role") == "system":
            return str(message.get("content"))
    return ""


def all_text(requests: list[RecordedRequest]) -> str:
    return "\n".join(request_text(r.json) for r in requests)
