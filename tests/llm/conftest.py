"""Providers pointed at the fake LLM server, one registry per test, closed after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from agent.llm import LLMProviders, LLMSettings, ProviderConfig
from tests.fake_llm import FakeLLM

WIRES = ["anthropic", "openai", "openai-compatible"]
Make = Callable[..., LLMProviders]


def provider_config(kind: str, fake: FakeLLM, **overrides: Any) -> ProviderConfig:
    base_url = fake.anthropic_base_url if kind == "anthropic" else fake.openai_base_url
    fields: dict[str, Any] = {
        "type": kind,
        "base_url": base_url,
        "api_key": "test-key",
        "max_retries": 0,
        "timeout_s": 10.0,
    }
    if kind == "openai-compatible":
        fields["model"] = "glm-4-plus"
    fields.update(overrides)
    return ProviderConfig(**fields)


@pytest.fixture
async def make(fake_llm: FakeLLM) -> AsyncIterator[Make]:
    """make(kind, **config) -> LLMProviders whose default provider talks to the fake server."""
    made: list[LLMProviders] = []

    def build(kind: str, **overrides: Any) -> LLMProviders:
        config = provider_config(kind, fake_llm, **overrides)
        providers = LLMProviders(LLMSettings(default="test", providers={"test": config}))
        made.append(providers)
        return providers

    yield build
    for providers in made:
        await providers.aclose()
