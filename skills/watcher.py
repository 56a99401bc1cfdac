"""Reload on change: watch the skill directories and hand back the skill folders that changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import awatch

__all__ = ["changed_folders", "watch_skill_dirs"]

log = logging.getLogger(__name__)


def changed_folders(roots: list[Path], paths: set[Path]) -> set[Path]:
    """The skill folders (direct children of a root) that the changed paths belong to."""
    folders: set[Path] = set()
    for path in paths:
        for root in roots:
            try:
                relative = path.relative_to(root)
            except ValueError:
                continue
            if relative.parts and not relative.parts[0].startswith((".", "_")):
                folder = root / relative.parts[0]
                # a plain file at the root (the registry's own modules) is not a skill folder
                if folder.is_dir() or len(relative.parts) > 1 or not folder.suffix:
                    folders.add(folder)
            break
    return folders


async def watch_skill_dirs(
    roots: list[Path],
    on_change: Callable[[set[Path]], Awaitable[None]],
    stop: asyncio.Event,
    debounce_ms: int,
) -> None:
    """Call `on_change(folders)` after each batch of file changes, until `stop` is set."""
    roots = [r.resolve() for r in roots if r.is_dir()]
    if not roots:
        return
    async for changes in awatch(*roots, stop_event=stop, debounce=debounce_ms, step=50):
        folders = changed_folders(roots, {Path(p) for _, p in changes})
        if folders:
            try:
                await on_change(folders)
            except Exception:
                log.exception("skill reload failed for %s", sorted(map(str, folders)))
