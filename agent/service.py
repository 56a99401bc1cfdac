"""TaskService: the in-process queue every front end shares (REST, Gradio, the CLI's server mode).

`AGENT_CONCURRENCY` workers take *sessions* from a ready queue, so one session's tasks run in
order while different sessions run in parallel, and a busy session never ties up a second worker.
Each live task keeps its event log: a late subscriber gets the events so far, then live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.errors import AgentError
from agent.memory_store import RecordStore
from agent.records import ErrorInfo, Event, ExecutionRecord, now
from agent.store import SessionTaken, SqlRecordStore

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["TaskService", "current_execution", "replay_events"]

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often a stream of a task running on another instance reads the database
Finished = Callable[[ExecutionRecord], None]

# the execution a log line belongs to (set for the whole run, inherited by its asyncio tasks)
current_execution: ContextVar[str | None] = ContextVar("current_execution", default=None)


@dataclass
class _Task:
    record: ExecutionRecord
    options: dict[str, Any]
    job: asyncio.Task[Any] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[Event] = field(default_factory=list)
    listeners: list[asyncio.Queue[Event]] = field(default_factory=list)

    def publish(self, event: Event) -> None:
        if event.type != "llm_delta":  # deltas are live only: the steps carry the whole text
            self.log.append(event)
        for queue in self.listeners:
            queue.put_nowait(event)


def _ends(event: Event, execution_id: str) -> bool:
    return event.type == "done" and event.execution_id == execution_id


def replay_events(record: ExecutionRecord) -> list[Event]:
    """The events of a finished run, rebuilt from its record (for subscribers who came late)."""
    events = [Event(type="status", execution_id=record.execution_id, data={"status": "running"})]
    for step in record.steps:
        data = {"step": step.model_dump(mode="json", by_alias=True)}
        events.append(Event(type="step", execution_id=record.execution_id, data=data))
    if record.done:
        error = record.error.model_dump() if record.error else None
        events.append(
            Event(type="status", execution_id=record.execution_id, data={"status": record.status})
        )
        events.append(
            Event(
                type="done",
                execution_id=record.execution_id,
                data={"status": record.status, "result": record.result, "error": error},
            )
        )
    return events


class TaskService:
    def __init__(
        self,
        runtime: AgentRuntime,
        store: RecordStore,
        *,
        concurrency: int,
        on_finished: Finished | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.concurrency = concurrency
        self.on_finished = on_finished
        self._sql = store if isinstance(store, SqlRecordStore) else None
        self._idempotent: dict[tuple[str | None, str], str] = {}  # without a database only
        self._live: dict[str, _Task] = {}
        self._pending: dict[str, deque[_Task]] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._scheduled: set[str] = set()  # sessions in the ready queue or running
        self._workers: list[asyncio.Task[None]] = []
        self.accepting = False
        self.running = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._worker(), name=f"task-worker-{n}")
            for n in range(self.concurrency)
        ]
        self.accepting = True

    def stop_accepting(self) -> None:
        """Draining: new submissions are refused from now on."""
        self.accepting = False

    async def shutdown(self, grace_s: float) -> None:
        """Let running tasks finish within `grace_s`; the rest (and everything queued) fail
        with `interrupted`."""
        self.accepting = False
        for queue in list(self._pending.values()):
            while queue:
                await self._interrupt(queue.popleft())
        running = [t.job for t in self._live.values() if t.job is not None]
        if running:
            _, late = await asyncio.wait(running, timeout=max(grace_s, 0.0))
            cut = [t for t in self._live.values() if t.job in late]
            for job in late:
                job.cancel()
            if late:
                await asyncio.wait(late, timeout=10.0)
            for task in cut:  # cut short by the shutdown, not by a user: say so
                task.record.status = "running"
                await self._interrupt(task)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        for task in list(self._live.values()):
            if not task.record.done:
                await self._interrupt(task)
        if self._sql is not None:
            await self._sql.mark_interrupted(only_mine=True)

    # --- submitting --------------------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        return sum(len(q) for q in self._pending.values())

    async def submit(
        self,
        task: str,
        *,
        session_id: str | None = None,
        agent: str | None = None,
        available_skills: list[str] | None = None,
        provider: str | None = None,
        model: str | None = None,
        owner: str | None = None,
        idempotency_key: str | None = None,
    ) -> ExecutionRecord:
        """Queue a task; AgentError (bad_request, unknown_agent, unknown_skill, not_found,
        shutting_down) before anything is queued. A repeated idempotency key returns the first."""
        if idempotency_key is not None:
            first = await self._find_idempotent(owner, idempotency_key)
            if first is not None:
                return first
        if not self.accepting:
            raise AgentError("shutting_down", "the server is shutting down; retry on another")
        self.runtime.check_request(agent=agent, available_skills=available_skills)
        record = self.runtime.new_record(task, session_id=session_id, agent=agent)
        record.owner = owner
        if self._sql is not None:
            try:
                record, created = await self._sql.create(record, idempotency_key=idempotency_key)
            except SessionTaken:
                raise AgentError("not_found", f"no session {session_id!r}") from None
            if not created:
                return record
        else:
            await self.store.save(record)
            if idempotency_key is not None:
                self._idempotent[(owner, idempotency_key)] = record.execution_id
        options = {"available_skills": available_skills, "provider": provider, "model": model}
        await self._enqueue(_Task(record=record, options=options))
        return record

    async def _find_idempotent(self, owner: str | None, key: str) -> ExecutionRecord | None:
        if self._sql is not None:
            return await self._sql.find_idempotent(owner, key)
        execution_id = self._idempotent.get((owner, key))
        return None if execution_id is None else await self.get(execution_id, owner=owner)

    async def _enqueue(self, task: _Task) -> None:
        session = task.record.session_id
        self._live[task.record.execution_id] = task
        self._pending.setdefault(session, deque()).append(task)
        if session not in self._scheduled:
            self._scheduled.add(session)
            self._ready.put_nowait(session)

    # --- running -----------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            session = await self._ready.get()
            queue = self._pending.get(session)
            if not queue:
                self._scheduled.discard(session)
                self._pending.pop(session, None)
                continue
            task = queue.popleft()
            try:
                await self._run(task)
            finally:
                if queue:
                    self._ready.put_nowait(session)
                else:
                    self._scheduled.discard(session)
                    self._pending.pop(session, None)

    async def _run(self, task: _Task) -> None:
        task.job = asyncio.create_task(self._execute(task), name=task.record.execution_id)
        try:
            await asyncio.wait({task.job})
        except asyncio.CancelledError:
            task.job.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task.job
            raise

    async def _execute(self, task: _Task) -> None:
        record = task.record
        current_execution.set(record.execution_id)
        self.running += 1
        try:
            await self.runtime.execute(record, on_event=task.publish, **task.options)
        except asyncio.CancelledError:
            pass  # the runtime has already ended the record `cancelled`
        except Exception as exc:
            log.exception("task %s failed outside the runtime", record.execution_id)
            await self._end(task, "failed", ErrorInfo(code="internal_error", message=str(exc)))
        finally:
            self.running -= 1
            self._done(task)

    async def _end(self, task: _Task, status: str, error: ErrorInfo) -> None:
        """End a task the runtime did not run (or could not end): save, then tell subscribers."""
        record = task.record
        if record.done:
            return
        record.status = status  # type: ignore[assignment]
        record.error = error
        record.finished_at = now()
        try:  # after any checkpoint of the run still being written
            await self.runtime.checkpoints.now(record, write=self.store.save)
        except Exception:
            log.exception("saving %s failed", record.execution_id)
        payload = {"status": status, "result": record.result, "error": error.model_dump()}
        task.publish(
            Event(type="status", execution_id=record.execution_id, data={"status": status})
        )
        task.publish(Event(type="done", execution_id=record.execution_id, data=payload))

    async def _interrupt(self, task: _Task) -> None:
        message = "the server stopped before this task finished; submit it again"
        await self._end(task, "failed", ErrorInfo(code="interrupted", message=message))
        self._done(task)

    def _done(self, task: _Task) -> None:
        if task.finished.is_set():
            return
        task.finished.set()
        record = task.record
        self._live.pop(record.execution_id, None)
        took = (record.finished_at or now()) - record.created_at
        log.info(
            "execution %s",
            record.status,
            extra={
                "executionId": record.execution_id,
                "sessionId": record.session_id,
                "status": record.status,
                "errorCode": record.error.code if record.error else None,
                "ms": round(took.total_seconds() * 1000, 1),
            },
        )
        if self.on_finished is not None:
            try:
                self.on_finished(task.record)
            except Exception:
                log.exception("on_finished failed for %s", task.record.execution_id)

    # --- reading -----------------------------------------------------------------------------

    async def get(self, execution_id: str, *, owner: str | None = None) -> ExecutionRecord | None:
        """The record if it exists and belongs to `owner` (None: auth off)."""
        live = self._live.get(execution_id)
        record = live.record if live is not None else await self.store.get(execution_id)
        if record is None or record.owner != owner:
            return None
        return record

    async def wait(self, execution_id: str) -> ExecutionRecord:
        """The record once it is terminal (polls the database for tasks of other instances)."""
        while True:
            live = self._live.get(execution_id)
            if live is not None:
                await live.finished.wait()
                return live.record
            record = await self.store.get(execution_id)
            if record is None:
                raise AgentError("not_found", f"no execution {execution_id!r}")
            if record.done:
                return record
            await asyncio.sleep(POLL_S)

    async def events(self, execution_id: str, *, owner: str | None = None) -> AsyncIterator[Event]:
        """Events so far, then live ones, ending with `done`; nothing when not visible to `owner`."""
        async for batch in self.event_batches(execution_id, owner=owner):
            for event in batch:
                yield event

    async def event_batches(
        self, execution_id: str, *, owner: str | None = None
    ) -> AsyncIterator[list[Event]]:
        """`events`, grouped: each batch is what had arrived by the time the previous one was
        taken, so a stream can write a burst (the streamed reply's deltas, a step and its
        status) at once rather than one write per event."""
        live = self._live.get(execution_id)
        if live is not None:
            if live.record.owner != owner:
                return
            queue: asyncio.Queue[Event] = asyncio.Queue()
            batch = list(live.log)  # copied and subscribed with no await between: no gap
            live.listeners.append(queue)
            try:
                while True:
                    while not queue.empty() or not batch:
                        batch.append(queue.get_nowait() if batch else await queue.get())
                    end = next((n for n, e in enumerate(batch) if _ends(e, execution_id)), None)
                    if end is not None:
                        yield batch[: end + 1]
                        return
                    yield batch
                    batch = []
            finally:
                live.listeners.remove(queue)
        record = await self.store.get(execution_id)
        if record is None or record.owner != owner:
            return
        async for event in self._poll(record):
            yield [event]

    async def _poll(self, record: ExecutionRecord) -> AsyncIterator[Event]:
        """A task of another instance (or finished): its steps from the database as they land."""
        sent: dict[int, str] = {}
        while True:
            events = replay_events(record)
            for event in events:
                if event.type == "step":
                    index = int(event.data["step"].get("index", 0))
                    text = repr(event.data["step"])
                    if sent.get(index) == text:
                        continue
                    sent[index] = text
                elif event.type == "status" and event.data["status"] == "running":
                    if -1 in sent:
                        continue
                    sent[-1] = "running"
                yield event
            if record.done:
                return
            await asyncio.sleep(POLL_S)
            fresh = await self.store.get(record.execution_id)
            if fresh is None:
                return
            record = fresh

    # --- cancelling and sessions -------------------------------------------------------------

    async def cancel(
        self, execution_id: str, *, owner: str | None = None
    ) -> ExecutionRecord | None:
        """Cancel while queued or running; a finished record comes back unchanged."""
        task = self._live.get(execution_id)
        if task is None:
            return await self.get(execution_id, owner=owner)
        if task.record.owner != owner:
            return None
        if task.job is None:
            queue = self._pending.get(task.record.session_id)
            if queue is not None and task in queue:
                queue.remove(task)
            await self._end(task, "cancelled", ErrorInfo(code="cancelled", message="cancelled"))
            self._done(task)
        elif not task.job.done():
            task.job.cancel()
            await task.finished.wait()
        return task.record

    async def session_tasks(self, session_id: str) -> list[ExecutionRecord]:
        """Live (queued or running) records of one session in this process."""
        return [t.record for t in self._live.values() if t.record.session_id == session_id]

    async def delete_session(self, session_id: str) -> int:
        """Cancel the session's tasks, shut its kernel down, forget its records and notebooks."""
        for record in await self.session_tasks(session_id):
            await self.cancel(record.execution_id, owner=record.owner)
        await self.runtime.close_session(session_id)
        if self._sql is not None:
            return await self._sql.delete_session(session_id)
        return 0
