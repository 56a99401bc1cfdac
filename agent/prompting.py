"""The agent's prompts: templates from agent/prompts/code_agent.yaml, filled here and nowhere else.

Templates are `string.Template` text. The file is loaded once; a missing key or a placeholder the
code does not fill is a `PromptError` at load, not a half-filled prompt at run time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from string import Template
from typing import Any

import yaml

from kernels.results import VariableInfo

__all__ = [
    "PLACEHOLDERS",
    "PromptError",
    "estimate_tokens",
    "load_prompts",
    "render",
    "system_prompt",
    "task_message",
    "truncate",
]

# template key -> the placeholders the code fills for it
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "system": frozenset(
        {"agent_name", "description", "instructions", "skills", "delegates", "variables"}
        | {"state_note"}
    ),
    "delegates": frozenset({"agents"}),
    "variables": frozenset({"lines"}),
    "state_note": frozenset({"note"}),
    "state_lost": frozenset({"reason"}),
    "task": frozenset({"history", "files", "task"}),
    "history": frozenset({"turns"}),
    "history_turn": frozenset({"n", "task", "status", "answer"}),
    "history_dropped": frozenset({"count"}),
    "files": frozenset({"names"}),
    "plan": frozenset(),
    "code_after_plan": frozenset(),
    "repair": frozenset({"ename", "evalue", "calls", "stdout", "traceback"}),
    "timeout": frozenset({"seconds", "calls", "stdout"}),
    "died": frozenset({"reason", "calls", "stdout"}),
    "no_final": frozenset({"calls", "stdout"}),
    "no_code": frozenset(),
    "calls": frozenset({"lines"}),
    "variable_line": frozenset({"name", "type", "preview"}),
    "agent_line": frozenset({"name", "description"}),
}


class PromptError(Exception):
    """The prompt file is broken; one line naming the key."""

    code = "prompt_invalid"


def _validated(data: Any, source: str) -> dict[str, Template]:
    if not isinstance(data, dict):
        raise PromptError(f"{source}: expected a mapping of template names to text")
    missing = sorted(set(PLACEHOLDERS) - set(data))
    if missing:
        raise PromptError(f"{source}: missing templates: {', '.join(missing)}")
    templates: dict[str, Template] = {}
    for key, allowed in PLACEHOLDERS.items():
        text = data[key]
        if not isinstance(text, str):
            raise PromptError(f"{source}: {key}: expected text, got {type(text).__name__}")
        template = Template(text)
        if not template.is_valid():
            raise PromptError(f"{source}: {key}: a `$$` is malformed (write $$$$ for a dollar)")
        unknown = set(template.get_identifiers()) - allowed
        if unknown:
            raise PromptError(
                f"{source}: {key}: unknown placeholders {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        templates[key] = template
    return templates


def load_prompts(text: str | None = None) -> dict[str, Template]:
    """The packaged templates (or those in `text`, for tests), validated."""
    if text is None:
        return _packaged()
    return _validated(yaml.safe_load(text), "prompts")


@functools.cache
def _packaged() -> dict[str, Template]:
    source = resources.files("agent") / "prompts" / "code_agent.yaml"
    return _validated(
        yaml.safe_load(source.read_text(encoding="utf-8")), "agent/prompts/code_agent.yaml"
    )


def render(key: str, **values: object) -> str:
    """Fill one template; every placeholder it uses must be given."""
    return _packaged()[key].substitute({k: str(v) for k, v in values.items()})


def estimate_tokens(text: str) -> int:
    """Prompt budget unit: about four characters a token, good enough to bound history."""
    return (len(text) + 3) // 4


def truncate(text: str, limit: int, *, tail_weight: float = 0.5) -> str:
    """Keep head and tail within `limit` characters and say how much was cut."""
    if len(text) <= limit:
        return text
    tail = int(limit * tail_weight)
    head = limit - tail
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[len(text) - tail :]}"


def _indent_block(text: str) -> str:
    return text.strip("\n")


def system_prompt(
    *,
    agent_name: str,
    description: str,
    instructions: str,
    skills_section: str,
    delegates: Mapping[str, str],
    variables: Sequence[VariableInfo],
    state_note: str | None = None,
    max_variables: int = 40,
) -> str:
    """The system prompt: protocol rules, skills as signatures, specialists, live variables."""
    delegates_text = ""
    if delegates:
        agents = "\n".join(
            render("agent_line", name=name, description=text) for name, text in delegates.items()
        )
        delegates_text = render("delegates", agents=agents)
    variables_text = ""
    if variables:
        shown = list(variables)[:max_variables]
        lines = [
            render("variable_line", name=v.name, type=v.type, preview=truncate(v.preview, 120))
            for v in shown
        ]
        if len(variables) > len(shown):
            lines.append(f"- ({len(variables) - len(shown)} more not shown)")
        variables_text = render("variables", lines="\n".join(lines))
    note_text = render("state_note", note=state_note) if state_note else ""
    text = render(
        "system",
        agent_name=agent_name,
        description=description.strip(),
        instructions=_indent_block(instructions) or "Solve the user's task.",
        skills=skills_section.strip() or "(no skills: plain Python only)",
        delegates=delegates_text,
        variables=variables_text,
        state_note=note_text,
    )
    return text.rstrip() + "\n"


def task_message(task: str, *, history: str = "", files: Sequence[str] = ()) -> str:
    """The first user message of a run: earlier turns, workspace files, then the task."""
    files_text = render("files", names=", ".join(files)) + "\n" if files else ""
    history_text = history.rstrip() + "\n\n" if history else ""
    return render("task", history=history_text, files=files_text, task=task.strip())
