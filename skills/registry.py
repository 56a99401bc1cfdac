"""The skill registry: folders and MCP servers loaded into one catalog, selection, and calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, Protocol

from skills.config import SkillsConfig
from skills.folder import FolderSkill, SkillFolderError, load_folder
from skills.mcp_tools import McpServer, McpToolSkill
from skills.prompt import match_names, render_full, render_line, render_section
from skills.records import (
    Catalog,
    SkillCall,
    SkillContext,
    SkillError,
    SkillInfo,
    SkillLoadError,
    UnknownSkill,
)
from skills.signatures import ArgumentError, SignatureProblem
from skills.watcher import watch_skill_dirs

__all__ = ["SkillRegistry"]

log = logging.getLogger(__name__)

_ARG_CHARS = 1000  # recorded arguments are capped; the handler gets them whole
_DESCRIBE_FULL_UP_TO = 25  # describe_skills beyond this many matches: one line per skill


class _Skill(Protocol):
    info: SkillInfo
    timeout_s: float | None

    async def invoke(
        self, args: list[Any], kwargs: dict[str, Any], context: SkillContext, executor: Any
    ) -> Any: ...


def _cap(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _ARG_CHARS:
        cut = len(value) - _ARG_CHARS
        return f"{value[: _ARG_CHARS // 2]}...[{cut} chars cut]...{value[-_ARG_CHARS // 2 :]}"
    if isinstance(value, list):
        return [_cap(v) for v in value]
    if isinstance(value, dict):
        return {k: _cap(v) for k, v in value.items()}
    return value


def _preview(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}...[{len(text) - 2 * half} chars cut]...{text[-half:]}"


class SkillRegistry:
    """Every skill a program may call: built-in and configured folders, and MCP servers' tools."""

    def __init__(self, config: SkillsConfig) -> None:
        self.config = config
        self._skills: dict[str, _Skill] = {}  # by skill name, in load order
        self._python: dict[str, str] = {}  # python name -> skill name
        self._folder_errors: dict[Path, SkillLoadError] = {}
        self._mcp_errors: dict[str, SkillLoadError] = {}
        self._servers: dict[str, McpServer] = {}
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="skill")
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    # --- loading -------------------------------------------------------------------------------

    def _roots(self) -> list[tuple[Path, Literal["builtin", "folder"]]]:
        roots: list[tuple[Path, Literal["builtin", "folder"]]] = [
            (self.config.builtin_dir.resolve(), "builtin")
        ]
        roots += [(p.resolve(), "folder") for p in self.config.extra_dirs]
        return roots

    def _source_of(self, folder: Path) -> Literal["builtin", "folder"]:
        for root, source in self._roots():
            if folder.parent == root:
                return source
        return "folder"

    def _all_folders(self) -> list[Path]:
        folders: list[Path] = []
        for root, _ in self._roots():
            if not root.is_dir():
                self._folder_errors[root] = SkillLoadError(
                    name=None, path=str(root), reason="skill directory not found"
                )
                continue
            self._folder_errors.pop(root, None)
            folders += sorted(
                p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
            )
        return folders

    def _forget_folder(self, folder: Path) -> None:
        self._folder_errors.pop(folder, None)
        for name, skill in list(self._skills.items()):
            if isinstance(skill, FolderSkill) and skill.folder == folder:
                del self._skills[name]
                self._python.pop(skill.info.python_name, None)

    def _load_folder(self, folder: Path) -> None:
        self._forget_folder(folder)
        if not (folder / "SKILL.md").is_file():
            if folder.is_dir() and (folder / "handler.py").exists():
                self._folder_errors[folder] = SkillLoadError(
                    name=None, path=str(folder / "SKILL.md"), reason="SKILL.md not found"
                )
            return
        try:
            skill = load_folder(folder, self._source_of(folder))
        except SkillFolderError as exc:
            log.warning("skill not loaded: %s: %s", exc.path, exc.reason)
            self._folder_errors[folder] = SkillLoadError(
                name=exc.name, path=str(exc.path), reason=exc.reason
            )
            return
        name = skill.info.name
        if name in self.config.disabled:
            return
        existing = self._skills.get(name)
        if existing is not None:
            reason = f"name {name!r} already used by {existing.info.path}"
            self._folder_errors[folder] = SkillLoadError(
                name=name, path=str(folder / "SKILL.md"), reason=reason
            )
            return
        self._add(skill)

    def _add(self, skill: _Skill) -> None:
        self._skills[skill.info.name] = skill
        self._python[skill.info.python_name] = skill.info.name

    def load_folders(self) -> None:
        """(Re)load every skill folder of the configured directories."""
        for folder in self._all_folders():
            self._load_folder(folder)

    async def reload(self, folders: set[Path] | None = None) -> None:
        """Reload these skill folders (all of them when None): new, edited or removed ones."""
        targets = sorted(folders) if folders is not None else self._all_folders()
        for folder in targets:
            self._load_folder(folder)
        log.info("skills reloaded: %s", ", ".join(f.name for f in targets))

    async def _connect_server(self, name: str, server: McpServer) -> list[McpToolSkill]:
        try:
            tools = await server.connect()
        except SkillError as exc:
            log.warning("%s", exc)
            self._mcp_errors[name] = SkillLoadError(
                name=name, path="config/mcp.yaml", reason=str(exc)
            )
            return []
        skills = []
        for tool in tools:
            try:
                skill = McpToolSkill.of(server, tool)
            except SignatureProblem as exc:
                self._mcp_errors[f"{name}/{tool.name}"] = SkillLoadError(
                    name=f"{name}__{tool.name}", path="config/mcp.yaml", reason=str(exc)
                )
                continue
            if skill.info.name not in self.config.disabled:
                skills.append(skill)
        return skills

    async def start(self) -> None:
        """Load the folders, connect the MCP servers, start the reload watcher."""
        self.load_folders()
        for name, cfg in self.config.mcp_servers.items():
            if not cfg.disabled:
                self._servers[name] = McpServer(name, cfg)
        loaded = await asyncio.gather(
            *(self._connect_server(n, s) for n, s in self._servers.items())
        )
        # servers start concurrently, but their tools join in config order: the prompt's catalog
        # stays the same from one start to the next (and provider prompt caches keep hitting)
        for skills in loaded:
            for skill in skills:
                self._add(skill)
        if self.config.reload:
            self._stop = asyncio.Event()
            roots = [root for root, _ in self._roots()]
            self._watcher = asyncio.create_task(
                watch_skill_dirs(roots, self.reload, self._stop, self.config.reload_debounce_ms),
                name="skills-watcher",
            )
        log.info("skills: %d loaded, %d load errors", len(self._skills), len(self.catalog().errors))

    async def close(self) -> None:
        """Stop the watcher, disconnect MCP servers (stdio servers exit), release the threads."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(BaseException):
                await self._watcher
            self._watcher = None
        await asyncio.gather(*(s.close() for s in self._servers.values()))
        self._servers.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- the catalog ---------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        errors = list(self._folder_errors.values()) + list(self._mcp_errors.values())
        return Catalog(skills=[s.info for s in self._skills.values()], errors=errors)

    def status(self) -> dict[str, Any]:
        """For /ready: counts, and each MCP server's state."""
        servers = {
            name: {"connected": s.connected, "tools": len(s.tools), "error": s.error}
            for name, s in self._servers.items()
        }
        return {
            "ok": True,
            "reason": None,
            "skills": len(self._skills),
            "errors": len(self._folder_errors) + len(self._mcp_errors),
            "mcp": servers,
        }

    def get(self, name: str) -> SkillInfo | None:
        """A skill by name ("web-search") or Python name ("web_search")."""
        skill = self._skills.get(name) or self._skills.get(self._python.get(name, ""))
        return skill.info if skill is not None else None

    def select(
        self, allowed: list[str] | Literal["*"], requested: list[str] | None = None
    ) -> list[SkillInfo]:
        """The skills a task may use: `allowed` (an agent's list or "*"), narrowed by `requested`.

        Entries are names, Python names or globs (`github__*`). Raises UnknownSkill when an entry
        matches no skill, or a requested skill is not among the allowed ones.
        """
        every = [s.info for s in self._skills.values()]
        if allowed == "*":
            pool = every
        else:
            pool, unknown = match_names(list(allowed), every)
            if unknown:
                raise UnknownSkill(unknown)
        if requested is None:
            return pool
        chosen, unknown = match_names(list(requested), every)
        if unknown:
            raise UnknownSkill(unknown)
        allowed_names = {s.name for s in pool}
        refused = [s.name for s in chosen if s.name not in allowed_names]
        if refused:
            raise UnknownSkill(
                refused,
                f"skill(s) not available to this agent: {', '.join(refused)} "
                f"(available: {', '.join(s.python_name for s in pool) or 'none'})",
            )
        return chosen

    def prompt_section(self, skills: list[SkillInfo]) -> str:
        return render_section(
            skills, self.config.full_signatures_up_to, self.config.catalog_token_budget
        )

    def describe(self, names: list[str]) -> str:
        """Full signatures and docs for describe_skills(...): names, Python names or globs.

        A pattern matching many skills (a whole MCP server) gets one line per skill instead, so
        the answer stays a size a program can search and print from.
        """
        every = [s.info for s in self._skills.values()]
        found, unknown = match_names([str(n) for n in names], every)
        if len(found) > _DESCRIBE_FULL_UP_TO:
            head = (
                f"# {len(found)} skills match, one line each; describe_skills('<name>') "
                "prints one in full"
            )
            lines = [head, *map(render_line, found)]
            return "\n".join(lines + [f"# unknown skill: {name}" for name in unknown])
        parts = []
        for info in found:
            text = render_full(info)
            skill = self._skills[info.name]
            if isinstance(skill, FolderSkill) and skill.body:
                text += "\n# Notes:\n" + "\n".join(f"# {line}" for line in skill.body.splitlines())
            parts.append(text)
        parts += [f"# unknown skill: {name}" for name in unknown]
        return "\n\n".join(parts) if parts else "# no skill names given"

    # --- calling -------------------------------------------------------------------------------

    def _context_for(self, skill: _Skill, context: SkillContext) -> SkillContext:
        name = skill.info.name
        builtin: dict[str, Any] = {}
        if name == "web-search":
            builtin = self.config.web_search.model_dump()
        elif name == "http-fetch":
            builtin = {
                "allow_hosts": list(self.config.http_fetch_allow_hosts),
                "max_bytes": self.config.http_fetch_max_bytes,
                "timeout_s": self.config.http_fetch_timeout_s,
            }
        settings = {**builtin, **self.config.settings.get(name, {}), **context.settings}
        return replace(context, settings=settings)

    async def call(
        self, name: str, args: list[Any], kwargs: dict[str, Any], context: SkillContext
    ) -> SkillCall:
        """Validate and run one call; a failure comes back as ok=False with the error, never raised."""
        record = SkillCall(
            id=uuid.uuid4().hex[:12], skill=name, args=_cap(list(args)), kwargs=_cap(dict(kwargs))
        )
        started = time.perf_counter()
        skill = self._skills.get(name) or self._skills.get(self._python.get(name, ""))
        if skill is None:
            return self._failed(record, started, f"{name}(): no such skill", "unknown_skill")
        record.skill = skill.info.name
        label = f"{skill.info.python_name}()"
        timeout = skill.timeout_s or self.config.call_timeout_s
        try:
            result = await asyncio.wait_for(
                skill.invoke(
                    list(args), dict(kwargs), self._context_for(skill, context), self._executor
                ),
                timeout,
            )
        except ArgumentError as exc:
            return self._failed(record, started, str(exc), exc.code)
        except TimeoutError:
            return self._failed(
                record, started, f"{label}: timed out after {timeout:g} s", "timeout"
            )
        except SkillError as exc:
            return self._failed(record, started, f"{label}: {exc}", exc.code)
        except Exception as exc:
            message = f"{label}: {type(exc).__name__}: {exc}"
            return self._failed(record, started, message, type(exc).__name__)
        try:
            payload = json.dumps(result, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            message = f"{label}: returned a {type(result).__name__}, which is not JSON-serialisable ({exc})"
            return self._failed(record, started, message, "not_serialisable")
        size = len(payload.encode("utf-8"))
        if size > self.config.max_result_bytes:
            message = f"{label}: result of {size} bytes is over the {self.config.max_result_bytes} byte limit"
            return self._failed(record, started, message, "result_too_large")
        record.ok = True
        record.result = result
        record.result_size = size
        record.preview = _preview(payload, self.config.preview_chars)
        record.duration_ms = (time.perf_counter() - started) * 1000
        log.debug("skill %s ok in %.1f ms (%d bytes)", record.skill, record.duration_ms, size)
        return record

    def _failed(
        self, record: SkillCall, started: float, message: str, error_type: str
    ) -> SkillCall:
        record.ok = False
        record.error = message
        record.error_type = error_type
        record.preview = _preview(message, self.config.preview_chars)
        record.duration_ms = (time.perf_counter() - started) * 1000
        log.info("skill %s failed: %s", record.skill, message)
        return record
