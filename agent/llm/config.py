"""Settings of the LLM layer: the default provider from the environment plus named ones (config/llm.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    script_file: Path | None = None
    max_tokens: int = Field(4096, ge=1)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # a bare host:port would reach the SDK as a URL with an odd scheme and fail obscurely later
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. http://localhost:11434/v1")
        return value


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = "default"
    providers: dict[str, ProviderConfig] = {}
