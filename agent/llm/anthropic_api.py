"""Claude on the official `anthropic` SDK: messages.create, or messages.stream when deltas are wanted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anthropic

from agent.llm.base import Completion, LLMError, Message, TokenUsage, ToolCall, ToolSpec
from agent.llm.clients import LoopClients
from agent.llm.errors import SDK_ERRORS, ProviderIdentity, from_sdk

__all__ = ["ANTHROPIC_BASE_URL", "DEFAULT_ANTHROPIC_MODEL", "AnthropicProvider", "to_anthropic"]

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"


def to_anthropic(messages: list[Message]) -> list[dict[str, Any]]:
    """Our messages in the Messages API shape; consecutive tool results share one user turn."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            previous = out[-1] if out else None
            if (
                previous is not None
                and previous["role"] == "user"
                and isinstance(previous["content"], list)
                and all(b.get("type") == "tool_result" for b in previous["content"])
            ):
                previous["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif message.role == "assistant" and message.tool_calls:
            content: list[dict[str, Any]] = []
            if message.content:
                content.append({"type": "text", "text": message.content})
            content += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.tool_calls
            ]
            out.append({"role": "assistant", "content": content})
        else:
            out.append({"role": message.role, "content": message.content})
    return out


class AnthropicProvider:
    kind = "anthropic"
    is_model = True

    def __init__(
        self,
        name: str,
        who: ProviderIdentity,
        *,
        api_key: str,
        max_tokens: int,
        clients: LoopClients[anthropic.AsyncAnthropic] | None = None,
    ) -> None:
        self.name = name
        self.model = who.model or DEFAULT_ANTHROPIC_MODEL
        self.base_url: str | None = who.base_url or ANTHROPIC_BASE_URL
        self._who = who
        self._max_tokens = max_tokens
        # the SDK's own timeout and retries (429/5xx/connection, honouring retry-after)
        self.clients = clients or LoopClients(
            lambda: anthropic.AsyncAnthropic(
                api_key=api_key,
                base_url=self.base_url,
                timeout=who.timeout_s,
                max_retries=who.max_retries,
            )
        )

    async def complete(
        self,
        messages: list[Message],
        *,
        system: str | None = None,
        on_delta: Callable[[str], None] | None = None,
        tools: list[ToolSpec] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens or self._max_tokens,
            "messages": to_anthropic(messages),
        }
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        client = self.clients.get()
        started = time.perf_counter()
        try:
            if on_delta is None:
                reply = await client.messages.create(**request)
            else:
                async with client.messages.stream(**request) as stream:
                    async for text in stream.text_stream:
                        on_delta(text)
                    reply = await stream.get_final_message()
        except SDK_ERRORS as exc:
            raise from_sdk(exc, self._who) from None
        latency_ms = (time.perf_counter() - started) * 1000
        if reply is None:
            raise LLMError("llm_error", f"{self._who.where()}: the stream ended without a message")
        text = "".join(block.text for block in reply.content if block.type == "text")
        calls = [
            ToolCall(id=block.id, name=block.name, arguments=dict(block.input or {}))
            for block in reply.content
            if block.type == "tool_use"
        ]
        usage = TokenUsage(reply.usage.input_tokens or 0, reply.usage.output_tokens or 0)
        return Completion(
            text=text,
            usage=usage,
            latency_ms=latency_ms,
            provider=self.name,
            model=self.model,
            stop_reason=reply.stop_reason,
            tool_calls=calls,
        )

    async def aclose(self) -> None:
        await self.clients.aclose()
