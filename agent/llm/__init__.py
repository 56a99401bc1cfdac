"""LLM providers on the official anthropic and openai SDKs, plus the scripted (not-a-model) one.

    providers = LLMProviders(settings.llm)
    completion = await providers.get().complete([Message("user", "hi")], on_delta=print)
    complete_sync(providers.get("glm"), [Message("user", "hi")])   # from blocking code

Every failure is an `LLMError` (code + one line naming provider, model, base URL, what to set).
The registry (and with it the SDKs, ~2 s of imports) loads on first use, so config users stay light.
"""

from typing import TYPE_CHECKING, Any

from agent.llm.base import (
    Completion,
    LLMError,
    LLMProvider,
    Message,
    TokenUsage,
    ToolCall,
    ToolSpec,
)
from agent.llm.config import LLMSettings, ProviderConfig, ProviderType

if TYPE_CHECKING:
    from agent.llm.registry import NO_PROVIDER, LLMProviders
    from agent.llm.sync import complete_sync

__all__ = [
    "NO_PROVIDER",
    "Completion",
    "LLMError",
    "LLMProvider",
    "LLMProviders",
    "LLMSettings",
    "Message",
    "ProviderConfig",
    "ProviderType",
    "TokenUsage",
    "ToolCall",
    "ToolSpec",
    "complete_sync",
]


def __getattr__(name: str) -> Any:
    if name in ("NO_PROVIDER", "LLMProviders"):
        from agent.llm import registry

        return getattr(registry, name)
    if name == "complete_sync":
        from agent.llm.sync import complete_sync

        return complete_sync
    raise AttributeError(f"module 'agent.llm' has no attribute {name!r}")
