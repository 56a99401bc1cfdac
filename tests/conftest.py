"""Shared pytest setup: the fake LLM server fixtures (`fake_llm`) for every suite, and temp dirs
that sandboxed kernels can reach."""

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fake_llm.fixtures"]

_mktemp = pytest.TempPathFactory.mktemp


def _traversable(path: Path) -> Path:
    """pytest makes its temp dirs 0700; sandboxed kernels run as per-session uids and must reach
    workspaces under them, so each temp dir and its ancestors get o+x (listing stays owner-only)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o011)
    return path


def _traversable_mktemp(self: pytest.TempPathFactory, basename: str, numbered: bool = True) -> Path:
    return _traversable(_mktemp(self, basename, numbered))


pytest.TempPathFactory.mktemp = _traversable_mktemp  # type: ignore[method-assign]
