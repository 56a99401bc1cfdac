"""`skill_mode = "live"` of a replayed notebook: the real skills, in this process, from the config.

The notebook's kernel is an ordinary Jupyter kernel whose event loop is busy running the cell, so
the registry lives on a private loop in a daemon thread and each call waits for its result there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from agent.replay import SkillError

__all__ = ["LiveSkills"]


class LiveSkills:
    """The project's SkillRegistry (and subagents through the agent runtime) for one notebook."""

    def __init__(self, session_id: str, workspace: Path | None = None) -> None:
        from agent.config import load_settings

        self.session_id = session_id
        self.workspace = workspace or Path.cwd()
        self.settings = load_settings()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="live-skills", daemon=True).start()
        self._registry: Any = self._wait(self._start())

    def _wait(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _start(self) -> Any:
        from skills import SkillRegistry

        registry = SkillRegistry(self.settings.skills)
        await registry.start()
        return registry

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name == "describe_skills":
            return self._registry.describe([str(a) for a in args])
        if name == "delegate":
            return self._wait(self._delegate(*args, **kwargs))
        return self._wait(self._skill(name, args, kwargs))

    async def _skill(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        from skills.records import SkillContext

        context = SkillContext(session_id=self.session_id, workspace=self.workspace)
        call = await self._registry.call(name, args, kwargs, context)
        if not call.ok:
            raise SkillError(call.error or f"{name} failed")
        return call.result

    async def _delegate(self, agent: str, task: str) -> Any:
        # a subagent needs its LLM: live mode runs it through the real agent runtime
        from agent.tasks import run_task

        record = await run_task(task, agent=agent, settings=self.settings)
        if record.status != "completed":
            message = record.error.message if record.error else record.status
            raise SkillError(f"delegate({agent!r}) {record.status}: {message}")
        return record.result
