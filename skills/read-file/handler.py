"""read-file skill: a text file of the session workspace."""

from __future__ import annotations

from skills.records import SkillContext, SkillError
from skills.workspace import resolve_in_workspace

__all__ = ["read_file"]


def read_file(path: str, max_chars: int = 100_000, *, context: SkillContext) -> str:
    """Return the text of the workspace file `path` (relative), cut to `max_chars` (head and tail kept)."""
    target = resolve_in_workspace(context.workspace, path)
    if not target.exists():
        raise SkillError(f"no such file: {path!r} (list_files() shows what is there)", "not_found")
    if target.is_dir():
        raise SkillError(f"{path!r} is a directory; use list_files({path!r})", "is_directory")
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SkillError(
            f"{path!r} is not UTF-8 text ({target.stat().st_size} bytes)", "not_text"
        ) from None
    if len(text) <= max_chars:
        return text
    half = max(max_chars // 2, 1)
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"
