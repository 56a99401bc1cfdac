"""LLM providers on the official anthropic and openai SDKs, plus the scripted (not-a-model) one."""

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

__all__ = [
    "Completion",
    "LLMError",
    "LLMProvider",
    "LLMSettings",
    "Message",
    "ProviderConfig",
    "ProviderType",
    "TokenUsage",
    "ToolCall",
    "ToolSpec",
]
