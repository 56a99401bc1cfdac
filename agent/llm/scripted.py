"""The `scripted` provider: NOT a model. It replays a YAML reply script, for demos and tests.

Streams its reply word by word like a model would, and reports estimated usage (words, not
tokens) so the figures downstream are never zero, but `is_model` is False everywhere it shows.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from agent.llm.base import Completion, LLMError, Message, TokenUsage, ToolCall, ToolSpec
from agent.llm.errors import ProviderIdentity
from agent.llm.script import ReplyScript, ScriptError, estimate_tokens

__all__ = ["ScriptedProvider"]


class ScriptedProvider:
    kind = "scripted"
    is_model = False
    base_url: str | None = None

    def __init__(self, name: str, who: ProviderIdentity, script: ReplyScript) -> None:
        self.name = name
        self.model = who.model or "scripted"
        self.script = script
        self._who = who

    async def complete(
        self,
        messages: list[Message],
        *,
        system: str | None = None,
        on_delta: Callable[[str], None] | None = None,
        tools: list[ToolSpec] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        started = time.perf_counter()
        last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
        try:
            entry = self.script.pick(last_user)
        except ScriptError as exc:
            raise LLMError("llm_error", f"{self._who.where()}: {exc}") from None
        if on_delta is not None:
            for piece in re.findall(r"\s*\S+\s*", entry.reply):
                on_delta(piece)
                await asyncio.sleep(0)  # a cancellation point between deltas, as with a stream
        calls = [
            ToolCall(
                id=f"scripted_{i + 1}",
                name=str(c["name"]),
                arguments=dict(c.get("arguments") or {}),
            )
            for i, c in enumerate(entry.tool_calls)
        ]
        prompt = " ".join([system or ""] + [m.content for m in messages])
        return Completion(
            text=entry.reply,
            usage=TokenUsage(estimate_tokens(prompt), estimate_tokens(entry.reply)),
            latency_ms=(time.perf_counter() - started) * 1000,
            provider=self.name,
            model=self.model,
            stop_reason="tool_use" if calls else "end_turn",
            tool_calls=calls,
        )

    async def aclose(self) -> None:
        """Nothing to close: no connection."""
