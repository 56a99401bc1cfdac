"""Settings of the LLM layer: the default provider from the environment plus named ones (config/llm.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LLMSettings", "ProviderConfig", "ProviderType"]

ProviderType = Literal["anthropic", "openai-compatible", "openai", "scripted"]


class ProviderConfig(BaseModel):
    """One provider. Keys are never stored here: `api_key` is resolved from `api_key_env` at load."""

    model_config = ConfigDict(extra="forbid")

    type: ProviderType
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = Field(None, exclude=True, repr=False)
    timeout_s: float = 120.0
    max_retries: int = 3
    script_file: Path | None = None
    max_tokens: int = 4096


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = "default"
    providers: dict[str, ProviderConfig] = {}
