"""Paths confined to a session's workspace: the file skills resolve every path through here."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from skills.records import SkillError

__all__ = ["WorkspaceEscape", "relative_name", "resolve_in_workspace"]


class WorkspaceEscape(SkillError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="outside_workspace")


def resolve_in_workspace(workspace: Path, path: str) -> Path:
    """The real path of `path` inside `workspace`; refuses absolute paths, '..' and symlinks out."""
    if not isinstance(path, str) or not path.strip():
        raise WorkspaceEscape("path must be a non-empty relative path")
    if "\x00" in path:
        raise WorkspaceEscape("path contains a NUL byte")
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or path.startswith("~"):
        raise WorkspaceEscape(
            f"absolute paths are refused ({path!r}); use a path inside the workspace"
        )
    if ".." in pure.parts:
        raise WorkspaceEscape(f"'..' is refused ({path!r}); paths stay inside the workspace")
    root = workspace.resolve()
    # resolve() follows every symlink, so a link pointing out of the workspace is caught here
    target = (root / pure).resolve()
    if target != root and not target.is_relative_to(root):
        raise WorkspaceEscape(f"{path!r} leads outside the workspace (through a symlink)")
    return target


def relative_name(workspace: Path, target: Path) -> str:
    """How a program names `target`: relative to the workspace, with '/' separators."""
    relative = target.relative_to(workspace.resolve())
    return relative.as_posix() or "."
