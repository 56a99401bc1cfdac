"""Skills: functions LLM programs call, run on the host; the registry, built-ins and MCP tools.

`SkillRegistry(config)` loads the skill folders (`skills/<name>/SKILL.md` + `handler.py`, and the
configured extra directories), connects the MCP servers of `config/mcp.yaml`, and offers the
catalog, selection, prompt text and validated calls.
"""

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
from skills.registry import SkillRegistry
from skills.signatures import ArgumentError

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
