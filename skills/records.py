"""The skill layer's records: what a skill is (SkillInfo), what a call was (SkillCall).

Contract between `skills/` and its callers. `SkillCall` satisfies `kernels.CallOutcome`, so the
agent's bridge handler returns it straight to the kernel layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Catalog",
    "LLMComplete",
    "SkillCall",
    "SkillContext",
    "SkillError",
    "SkillInfo",
    "SkillLoadError",
    "UnknownSkill",
]

# complete(prompt, max_tokens) -> text; given by the agent so `summarize` can use the LLM layer
LLMComplete = Callable[[str, int], Awaitable[str]]


class SkillError(Exception):
    """A skill failed; the message reaches the program as `SkillError`."""

    def __init__(self, message: str, code: str = "skill_failed") -> None:
        super().__init__(message)
        self.code = code


class UnknownSkill(SkillError):
    """Names that match no skill, or (with `message`) skills this task may not use."""

    def __init__(self, names: list[str], message: str | None = None) -> None:
        super().__init__(message or f"unknown skill(s): {', '.join(names)}", code="unknown_skill")
        self.names = names


class SkillInfo(BaseModel):
    """One skill as the catalog shows it."""

    name: str  # "web-search"
    python_name: str  # "web_search"
    description: str
    signature: str  # "(query: str, max_results: int = 5) -> list[dict]"
    docstring: str = ""
    json_schema: dict[str, Any] = {}
    source: Literal["builtin", "folder", "mcp"] = "builtin"
    path: str | None = None


class SkillLoadError(BaseModel):
    name: str | None
    path: str
    reason: str


class Catalog(BaseModel):
    skills: list[SkillInfo] = []
    errors: list[SkillLoadError] = []


class SkillCall(BaseModel):  # type: ignore[no-redef]  # the plugin's __init__ has **kwargs too
    """One call, as recorded: what was asked, how it went, a preview of what came back."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    skill: str  # the skill's name ("web-search"), or "delegate"
    args: list[Any] = []
    kwargs: dict[str, Any] = Field(default_factory=dict)
    ok: bool = False
    result_size: int = 0  # bytes of the JSON result
    preview: str = ""  # capped
    duration_ms: float = 0.0
    error: str | None = None
    error_type: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    result: Any = Field(None, exclude=True)  # the value itself, handed to the program, not stored


@dataclass
class SkillContext:
    """What a handler may know about the call it serves."""

    session_id: str
    workspace: Path
    llm: LLMComplete | None = None
    settings: dict[str, Any] = field(default_factory=dict)
