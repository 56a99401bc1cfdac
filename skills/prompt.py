"""The catalog as prompt text: full signatures, or names and one-liners, folded to fit a budget.

Progressive disclosure: a small catalog is shown as Python signatures with docstrings; a large
one as one line per skill, and MCP servers whose tools do not fit are folded into one line each,
with `describe_skills("server__*")` to read them on demand.
"""

from __future__ import annotations

import fnmatch
import math
import textwrap
from collections import defaultdict

from skills.records import SkillInfo

__all__ = ["estimate_tokens", "match_names", "render_full", "render_line", "render_section"]

_ONE_LINE = 90


def estimate_tokens(text: str) -> int:
    """Token estimate used for the budget: one token per four characters."""
    return math.ceil(len(text) / 4)


def render_full(info: SkillInfo) -> str:
    """`def name(signature):` with the docstring, as the program would see it in help()."""
    doc = textwrap.indent(info.docstring.strip() or info.description, "    ")
    return f'def {info.python_name}{info.signature}:\n    """\n{doc}\n    """'


def _one_liner(info: SkillInfo) -> str:
    text = info.description.strip().splitlines()[0] if info.description.strip() else ""
    return text if len(text) <= _ONE_LINE else text[: _ONE_LINE - 3].rstrip() + "..."


def render_line(info: SkillInfo) -> str:
    """`name(signature): one-liner`, for listings too long for full docs."""
    return f"{info.python_name}{info.signature}: {_one_liner(info)}"


def _server_of(info: SkillInfo) -> str | None:
    return info.python_name.split("__", 1)[0] if info.source == "mcp" else None


_COMPACT_HEAD = (
    "Available skills, one line each. Call describe_skills('name', ...) to print full "
    "signatures before first use; 'server__*' patterns work."
)


def render_section(skills: list[SkillInfo], full_up_to: int, token_budget: int) -> str:
    """The catalog part of the system prompt for exactly these skills."""
    if not skills:
        return "No skills are available to this task."
    if len(skills) <= full_up_to:
        return "Available skills (Python functions):\n\n" + "\n\n".join(map(render_full, skills))

    local = [s for s in skills if _server_of(s) is None]
    servers: dict[str, list[SkillInfo]] = defaultdict(list)
    for info in skills:
        server = _server_of(info)
        if server is not None:
            servers[server].append(info)
    # per server: 0 = one line per tool, 1 = tool names only, 2 = a count
    level = dict.fromkeys(servers, 0)

    def render() -> str:
        lines = [_COMPACT_HEAD]
        lines += [f"- {s.python_name}: {_one_liner(s)}" for s in local]
        for server, tools in servers.items():
            if level[server] == 0:
                lines += [f"- {s.python_name}: {_one_liner(s)}" for s in tools]
            elif level[server] == 1:
                names = ", ".join(s.python_name.split("__", 1)[1] for s in tools)
                lines.append(f"- {server}__<tool> ({len(tools)} MCP tools): {names}")
            else:
                lines.append(
                    f"- {server}__* : {len(tools)} MCP tools, too many to list here; "
                    f"describe_skills('{server}__*') returns one line per tool (a str to search "
                    f"in), describe_skills('{server}__*word*') only those whose name has 'word'"
                )
        return "\n".join(lines)

    text = render()
    # fold the largest servers first: they save the most per step
    for target in (1, 2):
        for server in sorted(servers, key=lambda s: -len(servers[s])):
            if estimate_tokens(text) <= token_budget:
                return text
            level[server] = target
            text = render()
    return text


def match_names(patterns: list[str], skills: list[SkillInfo]) -> tuple[list[SkillInfo], list[str]]:
    """Skills matching names, Python names or globs (in catalog order), and patterns matching none."""
    chosen: dict[str, SkillInfo] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        hits = [
            s
            for s in skills
            if fnmatch.fnmatchcase(s.name, pattern) or fnmatch.fnmatchcase(s.python_name, pattern)
        ]
        if not hits:
            unmatched.append(pattern)
        for hit in hits:
            chosen.setdefault(hit.name, hit)
    order = {s.name: i for i, s in enumerate(skills)}
    return sorted(chosen.values(), key=lambda s: order[s.name]), unmatched
