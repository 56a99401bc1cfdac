"""`run_task` / `run_task_sync`: one task through a runtime (given, or built from settings).

The sync wrapper works where an event loop is already running (a notebook, papermill): it then
runs the task on a worker thread with a loop of its own. Bad input raises `AgentError`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from agent.config import Settings, load_settings
from agent.events import EventListener
from agent.records import ExecutionRecord

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["run_task", "run_task_sync"]


async def run_task(
    task: str,
    *,
    session_id: str | None = None,
    agent: str | None = None,
    available_skills: list[str] | None = None,
    provider: str | None = None,
    model: str | None = None,
    on_event: EventListener | None = None,
    runtime: AgentRuntime | None = None,
    settings: Settings | None = None,
) -> ExecutionRecord:
    """Run one task to a terminal status; without `runtime`, one is started and shut down."""
    if runtime is None:
        from agent.runtime import AgentRuntime

        async with AgentRuntime(settings or load_settings()) as own:
            return await run_task(
                task,
                session_id=session_id,
                agent=agent,
                available_skills=available_skills,
                provider=provider,
                model=model,
                on_event=on_event,
                runtime=own,
            )
    runtime.check_request(agent=agent, available_skills=available_skills)
    record = runtime.new_record(task, session_id=session_id, agent=agent)
    return await runtime.execute(
        record,
        available_skills=available_skills,
        provider=provider,
        model=model,
        on_event=on_event,
    )


def run_task_sync(task: str, **options: Any) -> ExecutionRecord:
    """`run_task` for sync callers; pass no `runtime` bound to another event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_task(task, **options))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="run_task") as pool:
        return pool.submit(asyncio.run, run_task(task, **options)).result()
