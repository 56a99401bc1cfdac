"""list-files skill: the session workspace's entries, symlinks listed but never followed."""

from __future__ import annotations

import os
from pathlib import Path

from skills.records import SkillContext, SkillError
from skills.workspace import relative_name, resolve_in_workspace

__all__ = ["list_files"]

_LIMIT = 1000


def list_files(path: str = ".", recursive: bool = False, *, context: SkillContext) -> list[dict]:
    """List the workspace folder `path`; each entry {path, type: file|dir|symlink, size}."""
    if not context.workspace.exists():
        return []
    folder = resolve_in_workspace(context.workspace, path)
    if not folder.exists():
        raise SkillError(f"no such folder: {path!r}", "not_found")
    if not folder.is_dir():
        raise SkillError(f"{path!r} is a file; read_file({path!r}) reads it", "not_a_directory")
    entries: list[dict] = []
    left_out = 0
    pending = [folder]
    while pending:
        current = pending.pop(0)
        with os.scandir(current) as scan:
            for entry in sorted(scan, key=lambda e: e.name):
                if len(entries) >= _LIMIT:
                    left_out += 1
                    continue
                kind = "symlink" if entry.is_symlink() else "dir" if entry.is_dir() else "file"
                size = entry.stat(follow_symlinks=False).st_size if kind == "file" else 0
                entries.append(
                    {
                        "path": relative_name(context.workspace, Path(entry.path)),
                        "type": kind,
                        "size": size,
                    }
                )
                if recursive and kind == "dir":
                    pending.append(Path(entry.path))
    if left_out:
        entries.append({"path": "...", "type": "truncated", "size": left_out})
    return entries
