"""LLM providers on the official anthropic and openai SDKs, plus the scripted (not-a-model) one.

    providers = LLMProviders(settings.llm)
    completion = await providers.get().complete([Message("user", "hi")], on_delta=print)
    complete_sync(providers.get("glm"), [Message("user", "hi")])   # from blocking code

Every failure is an `LLMError` (code + one line naming provider, model, base URL, what to set).
"""

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
