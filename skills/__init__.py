"""Skills: functions LLM programs call, run on the host; the registry, built-ins and MCP tools.

`SkillRegistry(config)` loads the skill folders (`skills/<name>/SKILL.md` + `handler.py`, and the
configured extra directories), connects the MCP servers of `config/mcp.yaml`, and offers the
catalog, selection, prompt text and validated calls. The registry (and the MCP SDK it needs)
loads on first use, so config users stay light.
"""

from typing import TYPE_CHECKING, Any

from skills.config import McpServerConfig, SkillsConfig, WebSearchConfig
from skills.records import (
    Catalog,
    LLMComplete,
    SkillCall,
    SkillContext,
    SkillError,
    SkillInfo,
    SkillLoadError,
    UnknownSkill,
)
from skills.signatures import ArgumentError

if TYPE_CHECKING:
    from skills.registry import SkillRegistry

__all__ = [
    "ArgumentError",
    "Catalog",
    "LLMComplete",
    "McpServerConfig",
    "SkillCall",
    "SkillContext",
    "SkillError",
    "SkillInfo",
    "SkillLoadError",
    "SkillRegistry",
    "SkillsConfig",
    "UnknownSkill",
    "WebSearchConfig",
]


def __getattr__(name: str) -> Any:
    if name == "SkillRegistry":
        from skills.registry import SkillRegistry

        return SkillRegistry
    raise AttributeError(f"module 'skills' has no attribute {name!r}")
