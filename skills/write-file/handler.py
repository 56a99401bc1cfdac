"""write-file skill: write or append UTF-8 text inside the session workspace."""

from __future__ import annotations

from skills.records import SkillContext, SkillError
from skills.workspace import relative_name, resolve_in_workspace

__all__ = ["write_file"]


def write_file(path: str, content: str, append: bool = False, *, context: SkillContext) -> dict:
    """Write `content` to the workspace file `path` (append when `append`); returns {path, bytes, appended}."""
    context.workspace.mkdir(parents=True, exist_ok=True)
    target = resolve_in_workspace(context.workspace, path)
    if target.is_dir():
        raise SkillError(f"{path!r} is a directory", "is_directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8")
    with target.open("ab" if append else "wb") as handle:
        handle.write(data)
    return {
        "path": relative_name(context.workspace, target),
        "bytes": len(data),
        "appended": append,
    }
