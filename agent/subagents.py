"""Delegation: `delegate(agent, task)` in a program runs a subagent in a kernel of its own.

The child's record is nested in the parent's `SubagentStep`; its usage counts toward the parent's.
Depth is bounded by `agents.max_depth`, program attempts across the tree by `max_total_steps`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from agent.config import AgentSpec
from agent.errors import AgentError
from agent.events import Events
from agent.records import ExecutionRecord, SubagentStep, now
from agent.sessions import answer_text

__all__ = ["ChildRunner", "Delegation", "child_session_id"]

# run_child(child_record) -> the child's record at a terminal status
ChildRunner = Callable[[ExecutionRecord], Awaitable[ExecutionRecord]]


def child_session_id(parent_session: str, agent: str) -> str:
    """A fresh session (so a fresh kernel) per delegation, named after its parent."""
    return f"{parent_session}--{agent}-{os.urandom(3).hex()}"


class Delegation:
    """The `delegate` handler of one parent run."""

    def __init__(
        self,
        *,
        parent: ExecutionRecord,
        spec: AgentSpec,
        agents: dict[str, AgentSpec],
        max_depth: int,
        events: Events,
        run_child: ChildRunner,
    ) -> None:
        self._parent = parent
        self._spec = spec
        self._agents = agents
        self._max_depth = max_depth
        self._events = events
        self._run_child = run_child

    async def __call__(self, agent: str, task: str) -> str:
        parent = self._parent
        if agent not in self._spec.delegates or agent not in self._agents:
            allowed = ", ".join(self._spec.delegates) or "none"
            raise AgentError(
                "unknown_agent",
                f"agent {parent.agent!r} cannot delegate to {agent!r}; it may delegate to: {allowed}",
            )
        if parent.depth + 1 > self._max_depth:
            raise AgentError(
                "max_depth_exceeded",
                f"delegation depth {parent.depth + 1} is over agents.max_depth={self._max_depth}",
            )
        child = ExecutionRecord(
            session_id=child_session_id(parent.session_id, agent),
            task=task,
            agent=agent,
            parent_id=parent.execution_id,
            depth=parent.depth + 1,
            owner=parent.owner,
        )
        step = SubagentStep(
            index=len(parent.steps), agent=agent, task=task, execution_id=child.execution_id
        )
        parent.steps.append(step)
        await self._emit(step)
        done = await self._run_child(child)
        step.status = done.status
        step.result = done.result
        step.error = done.error
        step.record = done
        step.duration_ms = (now() - step.started_at).total_seconds() * 1000
        parent.usage.add(done.usage)
        await self._emit(step)
        if done.status != "completed":
            code = done.error.code if done.error else done.status
            message = done.error.message if done.error else f"the subagent ended {done.status}"
            raise AgentError(code, f"subagent {agent!r} failed: {message}")
        return answer_text(done.result)

    async def _emit(self, step: SubagentStep) -> None:
        data = step.model_dump(mode="json", by_alias=True, exclude={"record"})
        await self._events.emit("step", {"step": data})
