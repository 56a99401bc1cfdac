"""Writes skill folders for the suites: good ones, and each kind of broken one."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["write_skill"]


def write_skill(
    root: Path,
    name: str,
    handler: str,
    *,
    description: str = "A test skill.",
    extra_meta: str = "",
    skill_md: str | None = None,
) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    text = skill_md
    if text is None:
        text = (
            f"---\nname: {name}\ndescription: {description}\n{extra_meta}---\nNotes for {name}.\n"
        )
    (folder / "SKILL.md").write_text(text, encoding="utf-8")
    (folder / "handler.py").write_text(textwrap.dedent(handler), encoding="utf-8")
    return folder
