"""The host side of a run's skill calls: what the program's stubs reach through the kernel.

Every call is checked against the agent's skills, executed by the registry (or handed to a
subagent for `delegate`), recorded on the running step and the record, and streamed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agent.errors import AgentError
from agent.events import Events
from agent.prompting import truncate
from agent.records import ActionStep, ExecutionRecord, new_id
from skills.prompt import match_names
from skills.records import SkillCall, SkillContext, SkillInfo

if TYPE_CHECKING:
    from skills import SkillRegistry

__all__ = ["Bridge", "DelegateFn", "outcome"]

# delegate(agent, task) -> the subagent's answer; raises AgentError when it fails
DelegateFn = Callable[[str, str], Awaitable[Any]]

PREVIEW_CHARS = 300


def outcome(
    skill: str,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    ok: bool,
    result: Any = None,
    error: str | None = None,
    error_type: str | None = None,
    started: float | None = None,
) -> SkillCall:
    """A SkillCall made on the host side (delegate, describe_skills, refusals)."""
    try:
        encoded = json.dumps(result, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        encoded = repr(result)
    return SkillCall(
        id=new_id("call"),
        skill=skill,
        args=args,
        kwargs=kwargs,
        ok=ok,
        result=result,
        result_size=len(encoded.encode()) if ok else 0,
        preview=truncate(encoded, PREVIEW_CHARS) if ok else "",
        error=error,
        error_type=error_type,
        duration_ms=(time.perf_counter() - started) * 1000 if started is not None else 0.0,
    )


def _arguments(args: list[Any], kwargs: dict[str, Any]) -> str:
    """A call's arguments as one short line, for a live "pending" event."""
    parts = [json.dumps(a, ensure_ascii=False, default=repr) for a in args]
    parts += [f"{k}={json.dumps(v, ensure_ascii=False, default=repr)}" for k, v in kwargs.items()]
    return truncate(", ".join(parts), PREVIEW_CHARS)


class Bridge:
    """The `on_call` handler of one run. `step` is the action step whose program is running."""

    def __init__(
        self,
        *,
        skills: SkillRegistry,
        allowed: list[SkillInfo],
        context: SkillContext,
        record: ExecutionRecord,
        events: Events,
        delegate: DelegateFn | None,
    ) -> None:
        self._skills = skills
        self._by_python = {info.python_name: info for info in allowed}
        self._by_python.update({info.name: info for info in allowed})
        self._context = context
        self._record = record
        self._events = events
        self._delegate = delegate
        self.step: ActionStep | None = None

    async def __call__(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> SkillCall:
        started = time.perf_counter()
        ref = new_id("ref")  # pairs this start with its end, so a UI can show the call pending
        await self._events.emit(
            "skill_call",
            {
                "step": self.step.index if self.step is not None else None,
                "ref": ref,
                "pending": True,
                "call": {"skill": name, "preview": _arguments(args, kwargs)},
            },
        )
        if name == "delegate":
            call = await self._delegation(args, kwargs, started)
        elif name == "describe_skills":
            call = self._describe(args, started)
        elif name in self._by_python:
            call = await self._skills.call(self._by_python[name].name, args, kwargs, self._context)
        else:
            call = outcome(
                name,
                args,
                kwargs,
                ok=False,
                error=f"skill {name!r} is not available to agent {self._record.agent!r}",
                error_type="SkillNotAllowed",
            )
        if self.step is not None:
            self.step.skill_calls.append(call)
        self._record.skill_calls.append(call)
        await self._events.emit(
            "skill_call",
            {
                "step": self.step.index if self.step is not None else None,
                "ref": ref,
                "pending": False,
                "call": call.model_dump(mode="json", by_alias=True),
            },
        )
        return call

    def _describe(self, args: list[Any], started: float) -> SkillCall:
        allowed = list({i.name: i for i in self._by_python.values()}.values())
        names = [str(a) for a in args] or sorted(i.name for i in allowed)
        # globs too ("server__*"): the compact catalog tells programs to use them
        found, unknown = match_names(names, allowed)
        if unknown:
            return outcome(
                "describe_skills",
                args,
                {},
                ok=False,
                error=f"unknown skill(s) for this agent: {', '.join(unknown)}",
                error_type="UnknownSkill",
                started=started,
            )
        text = self._skills.describe([info.name for info in found])
        return outcome("describe_skills", args, {}, ok=True, result=text, started=started)

    async def _delegation(
        self, args: list[Any], kwargs: dict[str, Any], started: float
    ) -> SkillCall:
        values = list(args) + [kwargs[k] for k in ("agent", "task") if k in kwargs]
        if len(values) != 2 or not all(isinstance(v, str) and v.strip() for v in values):
            return outcome(
                "delegate",
                args,
                kwargs,
                ok=False,
                error="delegate(agent, task) takes two non-empty strings",
                error_type="TypeError",
                started=started,
            )
        if self._delegate is None:
            return outcome(
                "delegate",
                args,
                kwargs,
                ok=False,
                error=f"agent {self._record.agent!r} cannot delegate",
                error_type="DelegationRefused",
                started=started,
            )
        try:
            answer = await self._delegate(values[0], values[1])
        except AgentError as exc:
            return outcome(
                "delegate",
                args,
                kwargs,
                ok=False,
                error=f"{exc.code}: {exc.message}",
                error_type="SubagentFailed",
                started=started,
            )
        return outcome("delegate", args, kwargs, ok=True, result=answer, started=started)
