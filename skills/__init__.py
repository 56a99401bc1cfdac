"""Skills: functions LLM programs call, run on the host; the registry, built-ins and MCP tools."""

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

__all__ = [
    "Catalog",
    "LLMComplete",
    "McpServerConfig",
    "SkillCall",
    "SkillContext",
    "SkillError",
    "SkillInfo",
    "SkillLoadError",
    "SkillsConfig",
    "UnknownSkill",
    "WebSearchConfig",
]
