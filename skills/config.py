"""Settings of the skill layer (config/skills.yaml and config/mcp.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpServerConfig", "SkillsConfig", "WebSearchConfig"]


class WebSearchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    searxng_url: str | None = None
    brave_api_key: str | None = Field(None, repr=False)
    tavily_api_key: str | None = Field(None, repr=False)
    brave_url: str = "https://api.search.brave.com/res/v1/web/search"
    tavily_url: str = "https://api.tavily.com/search"
    timeout_s: float = Field(15.0, gt=0)


class McpServerConfig(BaseModel):
    """One MCP server: stdio (command/args/env) or streamable HTTP (url/headers)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["stdio", "http"] = "stdio"
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: Path | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    timeout_s: float = Field(30.0, gt=0, description="per tool call")
    startup_timeout_s: float = Field(20.0, gt=0, description="connect + initialize + list tools")
    disabled: bool = False


class SkillsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    builtin_dir: Path = Field(default_factory=lambda: Path(__file__).resolve().parent)
    extra_dirs: list[Path] = []
    disabled: list[str] = []
    call_timeout_s: float = Field(60.0, gt=0)
    reload: bool = True
    reload_debounce_ms: int = Field(300, ge=1)
    web_search: WebSearchConfig = WebSearchConfig()
    http_fetch_allow_hosts: list[str] = []
    http_fetch_max_bytes: int = Field(2_000_000, ge=1024)
    http_fetch_timeout_s: float = Field(20.0, gt=0)
    mcp_servers: dict[str, McpServerConfig] = {}
    # progressive disclosure: above this many skills the prompt lists names and one-liners only
    full_signatures_up_to: int = Field(40, ge=0)
    # above this estimate (chars/4) the prompt folds MCP servers' tools into one line per server
    catalog_token_budget: int = Field(2000, ge=200)
    preview_chars: int = Field(300, ge=20)
    max_result_bytes: int = Field(5_000_000, ge=1024)
    settings: dict[str, dict[str, Any]] = {}
