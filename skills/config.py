"""Settings of the skill layer (config/skills.yaml and config/mcp.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpServerConfig", "SkillsConfig", "WebSearchConfig"]


class WebSearchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    searxng_url: str | None = None
    brave_api_key: str | None = None
    tavily_api_key: str | None = None
    timeout_s: float = 15.0


class McpServerConfig(BaseModel):
    """One MCP server: stdio (command/args/env) or streamable HTTP (url/headers)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["stdio", "http"] = "stdio"
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    url: str | None = None
    headers: dict[str, str] = {}
    timeout_s: float = 30.0


class SkillsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    builtin_dir: Path = Field(default_factory=lambda: Path(__file__).resolve().parent)
    extra_dirs: list[Path] = []
    disabled: list[str] = []
    call_timeout_s: float = 60.0
    reload: bool = True
    web_search: WebSearchConfig = WebSearchConfig()
    http_fetch_allow_hosts: list[str] = []
    http_fetch_max_bytes: int = 2_000_000
    mcp_servers: dict[str, McpServerConfig] = {}
    # progressive disclosure: above this many skills the prompt lists names and one-liners only
    full_signatures_up_to: int = 40
    settings: dict[str, dict[str, Any]] = {}
