"""The LLM layer's public surface: what other layers import from `agent.llm`."""

from __future__ import annotations

import agent.llm


def test_the_package_offers_exactly_its_public_names() -> None:
    assert sorted(agent.llm.__all__) == sorted(
        [
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
    )
    for name in agent.llm.__all__:
        assert getattr(agent.llm, name) is not None
