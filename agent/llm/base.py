"""The LLM provider interface: one method, async, streaming through a callback.

Providers are built from `ProviderConfig` on the official SDKs. Errors are `LLMError` values with a
code and one line naming provider, model and base URL — never a stack trace to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "Completion",
    "LLMError",
    "LLMProvider",
    "Message",
    "TokenUsage",
    "ToolCall",
    "ToolSpec",
]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Message:
    """A chat message. `tool_calls` on an assistant message; `tool_call_id` on a tool result."""

    role: Literal["user", "assistant", "tool"]
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """A native tool (function calling); used by the one-tool-per-turn baseline of bench/ptc.py."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema


@dataclass
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class Completion:
    text: str
    usage: TokenUsage
    latency_ms: float
    provider: str
    model: str
    stop_reason: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


class LLMError(Exception):
    """codes: llm_unconfigured, llm_unreachable, llm_timeout, llm_rate_limited, llm_auth, llm_error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LLMProvider(Protocol):
    name: str  # the provider's name in config ("default", "glm", ...)
    kind: str  # anthropic | openai | openai-compatible | scripted
    model: str
    base_url: str | None
    is_model: bool  # False for `scripted`: it replays canned replies

    async def complete(
        self,
        messages: list[Message],
        *,
        system: str | None = None,
        on_delta: Callable[[str], None] | None = None,
        tools: list[ToolSpec] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """One call. Cancelling the awaiting task cancels the request (and its stream)."""
        ...
