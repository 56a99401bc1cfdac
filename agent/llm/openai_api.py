"""OpenAI and OpenAI-compatible servers (GLM-4, DeepSeek, vLLM, Ollama) on the official `openai` SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import openai

from agent.llm.base import Completion, Message, TokenUsage, ToolCall, ToolSpec
from agent.llm.clients import LoopClients
from agent.llm.errors import SDK_ERRORS, ProviderIdentity, from_sdk

__all__ = ["DEFAULT_OPENAI_MODEL", "OPENAI_BASE_URL", "OpenAIChatProvider", "to_openai"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
OPENAI_BASE_URL = "https://api.openai.com/v1"
RAW_ARGUMENTS = "_raw"  # key of ToolCall.arguments when a model sent arguments that are not JSON


def to_openai(messages: list[Message], system: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "tool":
            out.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role == "assistant" and message.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in message.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": message.role, "content": message.content})
    return out


def _arguments(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {RAW_ARGUMENTS: raw}
    return value if isinstance(value, dict) else {RAW_ARGUMENTS: raw}


class OpenAIChatProvider:
    is_model = True

    def __init__(
        self,
        name: str,
        who: ProviderIdentity,
        *,
        kind: str,
        api_key: str,
        max_tokens: int,
        clients: LoopClients[openai.AsyncOpenAI] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.model = who.model or DEFAULT_OPENAI_MODEL
        self.base_url: str | None = who.base_url or OPENAI_BASE_URL
        self._who = who
        self._max_tokens = max_tokens
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens
        self._tokens_field = "max_completion_tokens" if kind == "openai" else "max_tokens"
        self.clients = clients or LoopClients(
            lambda: openai.AsyncOpenAI(
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
            "messages": to_openai(messages, system),
            self._tokens_field: max_tokens or self._max_tokens,
        }
        if tools:
            request["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        client = self.clients.get()
        started = time.perf_counter()
        try:
            if on_delta is None:
                text, calls, usage, stop = await self._whole(client, request)
            else:
                text, calls, usage, stop = await self._streamed(client, request, on_delta)
        except SDK_ERRORS as exc:
            raise from_sdk(exc, self._who) from None
        return Completion(
            text=text,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000,
            provider=self.name,
            model=self.model,
            stop_reason=stop,
            tool_calls=calls,
        )

    async def _whole(
        self, client: openai.AsyncOpenAI, request: dict[str, Any]
    ) -> tuple[str, list[ToolCall], TokenUsage, str | None]:
        reply = await client.chat.completions.create(**request)
        choice = reply.choices[0] if reply.choices else None
        message = choice.message if choice else None
        calls = [
            ToolCall(id=c.id, name=c.function.name, arguments=_arguments(c.function.arguments))
            for c in (message.tool_calls or [] if message else [])
            if c.type == "function"
        ]
        usage = TokenUsage()
        if reply.usage is not None:
            usage = TokenUsage(reply.usage.prompt_tokens, reply.usage.completion_tokens)
        text = (message.content or "") if message else ""
        return text, calls, usage, choice.finish_reason if choice else None

    async def _streamed(
        self, client: openai.AsyncOpenAI, request: dict[str, Any], on_delta: Callable[[str], None]
    ) -> tuple[str, list[ToolCall], TokenUsage, str | None]:
        stream = await client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        pending: dict[int, dict[str, Any]] = {}
        usage = TokenUsage()
        stop: str | None = None
        async with stream:  # leaving (also by cancellation) closes the response
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = TokenUsage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        parts.append(delta.content)
                        on_delta(delta.content)
                    for call in delta.tool_calls or []:
                        slot = pending.setdefault(call.index, {"id": "", "name": "", "args": []})
                        if call.id:
                            slot["id"] = call.id
                        if call.function and call.function.name:
                            slot["name"] = call.function.name
                        if call.function and call.function.arguments:
                            slot["args"].append(call.function.arguments)
                    if choice.finish_reason:
                        stop = choice.finish_reason
        calls = [
            ToolCall(id=s["id"], name=s["name"], arguments=_arguments("".join(s["args"])))
            for _, s in sorted(pending.items())
        ]
        return "".join(parts), calls, usage, stop

    async def aclose(self) -> None:
        await self.clients.aclose()
