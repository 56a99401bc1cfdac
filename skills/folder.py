"""One skill folder: `SKILL.md` (YAML front matter + documentation) and a Python handler module.

The handler module is imported by file path (folder names contain '-', so they are not
packages); the function named like the skill (`web-search` -> `web_search`) is the skill, and its
type hints and docstring are the signature the program sees.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import itertools
import re
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import yaml

from skills.records import SkillContext, SkillInfo
from skills.signatures import FunctionShape, SignatureProblem

__all__ = ["FolderSkill", "SkillFolderError", "load_folder", "read_skill_md"]

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_module_ids = itertools.count()


class SkillFolderError(Exception):
    """A folder that cannot be loaded: the file at fault and why."""

    def __init__(self, path: Path, reason: str, name: str | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.name = name


def read_skill_md(path: Path) -> tuple[dict[str, Any], str]:
    """The front matter (a mapping) and the Markdown body of a SKILL.md."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise SkillFolderError(path, "no YAML front matter (the file must start with '---')")
    end = re.search(r"^---\s*$", text[3:], flags=re.MULTILINE)
    if end is None:
        raise SkillFolderError(path, "front matter is not closed by a '---' line")
    head, body = text[3 : 3 + end.start()], text[3 + end.end() :]
    try:
        meta = yaml.safe_load(head)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else "?"
        raise SkillFolderError(
            path, f"bad YAML in front matter, line {line}: {exc.problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise SkillFolderError(path, f"bad YAML in front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise SkillFolderError(path, "front matter must be a mapping with name and description")
    return meta, body.strip()


def _import_handler(path: Path, python_name: str) -> Any:
    # a fresh module name per load, so a reload runs the edited code
    module_name = f"_skill_{python_name}_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SkillFolderError(path, "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise SkillFolderError(path, f"import failed: {type(exc).__name__}: {exc}") from None
    return module


@dataclass
class FolderSkill:
    """A loaded folder skill, ready to be called."""

    info: SkillInfo
    shape: FunctionShape
    fn: Callable[..., Any]
    timeout_s: float | None
    folder: Path
    body: str

    async def invoke(
        self, args: list[Any], kwargs: dict[str, Any], context: SkillContext, executor: Executor
    ) -> Any:
        bound = self.shape.bind(args, kwargs)
        if self.shape.context_param:
            bound[self.shape.context_param] = context
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**bound)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, partial(self.fn, **bound))


def load_folder(folder: Path, source: Literal["builtin", "folder"]) -> FolderSkill:
    """Load one skill folder, or raise SkillFolderError naming the file and the reason."""
    skill_md = folder / "SKILL.md"
    meta, body = read_skill_md(skill_md)
    name = meta.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SkillFolderError(
            skill_md, f"name must be lowercase words joined by '-', got {name!r}", None
        )
    if name != folder.name:
        raise SkillFolderError(skill_md, f"name {name!r} differs from the folder name", name)
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SkillFolderError(skill_md, "description is missing or not a string", name)
    timeout = meta.get("timeout_s")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise SkillFolderError(
            skill_md, f"timeout_s must be a positive number, got {timeout!r}", name
        )
    python_name = name.replace("-", "_")
    function = str(meta.get("function") or python_name)
    handler_path = folder / str(meta.get("handler") or "handler.py")
    if not handler_path.is_file():
        raise SkillFolderError(handler_path, "handler module not found", name)
    module = _import_handler(handler_path, python_name)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise SkillFolderError(handler_path, f"defines no function {function}()", name)
    try:
        shape = FunctionShape.of(fn, python_name)
    except SignatureProblem as exc:
        raise SkillFolderError(handler_path, str(exc), name) from None
    info = SkillInfo(
        name=name,
        python_name=python_name,
        description=" ".join(description.split()),
        signature=shape.signature,
        docstring=shape.docstring or description.strip(),
        json_schema=shape.json_schema,
        source=source,
        path=str(folder),
    )
    return FolderSkill(
        info=info,
        shape=shape,
        fn=fn,
        timeout_s=float(timeout) if timeout else None,
        folder=folder,
        body=body,
    )
