"""QueuedTaskService: the TaskService of several app instances, on procrastinate over PostgreSQL.

A submitted task is a procrastinate job on the shared database, locked by its session id, so one
session's tasks run one at a time and in order whichever instance's worker takes them. The
instance that runs a task streams it live; the others stream it from the database. Cancel works
from any instance (a queued job is cancelled, a running one aborted through procrastinate). A
job whose worker stopped sending heartbeats (its instance was killed) is put back in the queue
and run again elsewhere; a job whose record is already terminal is never run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import make_url

from agent.kernel_state import KernelStateBox, KernelStateUnreadable
from agent.records import ErrorInfo, ExecutionRecord, now
from agent.service import Finished, TaskService, _Task
from agent.store import KernelRow, SqlRecordStore, StoreError

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["QUEUE", "QueuedTaskService", "libpq_conninfo"]

log = logging.getLogger(__name__)

QUEUE = "agent-tasks"
TASK_NAME = "agent.run_execution"
SCHEMA_LOCK = 71_170_001  # pg advisory lock ids: schema creation, the stalled-job sweep
SWEEP_LOCK = 71_170_002
CANCEL_WAIT_S = 30.0
ATTACH_LIMIT_S = 5.0  # a stored kernel that does not answer within this is taken as gone
DEPTH_REFRESH_S = 1.0  # how often the shared queue's depth is read for /metrics and /ready


def libpq_conninfo(url: str) -> str:
    """The libpq URL psycopg wants, from an SQLAlchemy URL (`postgresql+psycopg://...`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"the task queue needs a PostgreSQL DATABASE_URL, not {parsed.drivername}")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _fresh(record: ExecutionRecord) -> ExecutionRecord:
    """The record of an attempt cut short by a gone instance, back to queued for a new run."""
    again = ExecutionRecord(
        execution_id=record.execution_id,
        session_id=record.session_id,
        task=record.task,
        agent=record.agent,
        parent_id=record.parent_id,
        depth=record.depth,
        created_at=record.created_at,
    )
    again.owner = record.owner
    return again


class QueuedTaskService(TaskService):
    """TaskService's public methods, with the queue and the workers shared over the database."""

    def __init__(
        self,
        runtime: AgentRuntime,
        store: SqlRecordStore,
        *,
        concurrency: int,
        stalled_s: float,
        on_finished: Finished | None = None,
    ) -> None:
        super().__init__(runtime, store, concurrency=concurrency, on_finished=on_finished)
        self.sql: SqlRecordStore = store
        self.stalled_s = stalled_s
        connector = procrastinate.PsycopgConnector(conninfo=libpq_conninfo(store.url))
        self.app = procrastinate.App(connector=connector)
        self.job = self.app.task(name=TASK_NAME, queue=QUEUE)(self._job)
        self._queue_worker: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._depth_reader: asyncio.Task[None] | None = None
        self._depth = 0
        self._stopping = False
        # remote kernels, with a key: any instance attaches to a session's running kernel
        key = runtime.settings.server.kernel_state_key
        remote = runtime.settings.kernels.placement == "ssh"
        self.box: KernelStateBox | None = KernelStateBox(key) if key and remote else None
        if self.box is not None:
            runtime.kernels.still_ours = self._drives
            runtime.kernels.on_ended = self._kernel_ended

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self._apply_schema)
        await self.app.open_async()
        name = f"{socket.gethostname()}-{os.getpid()}-{self.sql.instance_id}"
        self._queue_worker = asyncio.create_task(
            self.app.run_worker_async(
                name=name,
                queues=[QUEUE],
                concurrency=self.concurrency,
                wait=True,
                install_signal_handlers=False,
                update_heartbeat_interval=max(self.stalled_s / 4, 0.5),
                stalled_worker_timeout=self.stalled_s,
                abort_job_polling_interval=1.0,
                delete_jobs="successful",
            ),
            name="queue-worker",
        )
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="queue-stalled-sweep")
        self._depth_reader = asyncio.create_task(self._depth_loop(), name="queue-depth")
        self.accepting = True

    def _apply_schema(self) -> None:
        """procrastinate's tables, once per database (two instances starting together wait)."""
        with self.sql.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            exists = conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
            if exists is None:
                # the driver's cursor with no parameters: the schema's `%` are not placeholders
                cursor = conn.connection.cursor()
                cursor.execute(self.app.schema_manager.get_schema())
                cursor.close()

    async def shutdown(self, grace_s: float) -> None:
        """Running tasks get `grace_s`, then end failed/interrupted; queued ones stay queued
        for the other instances."""
        self.accepting = False
        self._stopping = True
        running = [t.job for t in self._live.values() if t.job is not None]
        if running:
            await asyncio.wait(running, timeout=max(grace_s, 0.0))
        loops = [j for j in (self._sweeper, self._depth_reader, self._queue_worker) if j]
        for job in loops:
            job.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for task in list(self._live.values()):
            if not task.record.done:
                await self._interrupt(task)
        if self.box is not None:  # the runtime shuts this instance's kernels down next
            with contextlib.suppress(StoreError):
                await self.sql.clear_kernel()
        with contextlib.suppress(Exception):
            await self.app.close_async()

    # --- submitting and running --------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        """Tasks waiting in the shared queue (every instance's), as of the last read: at most
        DEPTH_REFRESH_S old. Read on the event loop at scrape time, so never a query here."""
        return self._depth

    def _count_waiting(self) -> int:
        with self.sql.engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs "
                    "WHERE queue_name = :q AND status = 'todo'"
                ),
                {"q": QUEUE},
            ).scalar()
        return int(count or 0)

    async def _depth_loop(self) -> None:
        failing = False
        while True:
            try:
                self._depth = await asyncio.to_thread(self._count_waiting)
                failing = False
            except Exception as exc:  # the last value stands; said once per outage
                if not failing:
                    log.warning("the queue's depth could not be read: %s", exc)
                failing = True
            await asyncio.sleep(DEPTH_REFRESH_S)

    async def _enqueue(self, task: _Task) -> None:
        record = task.record
        try:
            await self.job.configure(lock=record.session_id).defer_async(
                execution_id=record.execution_id, options=task.options
            )
        except Exception as exc:  # no job, so no worker will ever end the record: end it here
            record.status = "failed"
            record.error = ErrorInfo(code="database_unavailable", message=f"not queued: {exc}")
            record.finished_at = now()
            with contextlib.suppress(Exception):
                await self.store.save(record)
            raise StoreError(f"the task could not be queued: {exc}") from exc

    async def _job(self, execution_id: str, options: dict[str, Any]) -> None:
        """The procrastinate task: one execution, run here to a terminal status."""
        record = await self.sql.get(execution_id)
        if record is None or record.done:
            return  # deleted, cancelled while queued, or answered before its job was closed
        if record.status != "queued":
            log.warning("execution %s: running it again, its instance is gone", execution_id)
            record = _fresh(record)
        await self._take_over(record)
        task = _Task(record=record, options=options)
        self._live[execution_id] = task
        try:
            await self._run(task)
            await self._remember_kernel(record.session_id)
        except asyncio.CancelledError:
            if self._stopping and not record.done:
                record.status = "running"  # cut by the shutdown, not by a user: say so
                await self._interrupt(task)
            raise

    async def _take_over(self, record: ExecutionRecord) -> None:
        """Before a turn: when another instance drives the session's (remote) kernel, attach to
        it; failing that, or with no stored kernel, drop what is stale here (the run then
        rebuilds the state from the notebooks)."""
        if self.box is not None:
            try:
                row = await self.sql.kernel(record.session_id)
            except StoreError as exc:
                log.warning("session %s: kernel row unreadable: %s", record.session_id, exc)
                row = None
            if row is not None and row.instance != self.sql.instance_id:
                await self._adopt(record.session_id, row)
                return
        await self._forget_if_stale(record)

    async def _adopt(self, session_id: str, row: KernelRow) -> None:
        assert self.box is not None
        runtime = self.runtime
        mine = await runtime.kernels.export(session_id)
        if mine is not None and mine.kernel_id == row.kernel_id:
            await runtime.kernels.release(session_id)  # the other one drives it now: no kill
        else:
            await runtime.kernels.close(session_id)  # an older kernel here is no one's
        runtime.sessions.drop(session_id)  # the history is reloaded from the database
        try:
            state = self.box.open(row.state)
        except KernelStateUnreadable as exc:
            log.warning("session %s: %s; rehydrating instead", session_id, exc)
            return
        started = asyncio.get_running_loop().time()
        kernel = await runtime.kernels.adopt(session_id, state, limit_s=ATTACH_LIMIT_S)
        if kernel is None:
            log.info("session %s: its kernel on %s is gone; rehydrating", session_id, row.host)
            return
        log.info(
            "session %s: attached to its kernel on %s (driven by %s) in %.0f ms",
            session_id,
            row.host,
            row.instance,
            (asyncio.get_running_loop().time() - started) * 1000,
        )
        await self._remember_kernel(session_id)

    async def _drives(self, session_id: str) -> bool:
        """Whether this instance still drives the session's kernel (no other one took it)."""
        row = await self.sql.kernel(session_id)
        return row is None or row.instance == self.sql.instance_id

    async def _kernel_ended(self, session_id: str, kernel_id: str) -> None:
        """This instance ended the session's kernel (evicted, culled, closed, replaced): its row
        goes, or the next turn elsewhere would try to attach to a dead kernel. Only while the row
        still names this instance and that kernel: a row another instance took stays."""
        await self.sql.clear_kernel(session_id, kernel_id=kernel_id)

    async def _remember_kernel(self, session_id: str) -> None:
        """Store (sealed) which kernel the session has and that this instance drives it."""
        if self.box is None:
            return
        try:
            state = await self.runtime.kernels.export(session_id)
            if state is None:
                await self.sql.clear_kernel(session_id)
                return
            await self.sql.save_kernel(
                session_id, kernel_id=state.kernel_id, host=state.host, state=self.box.seal(state)
            )
        except Exception as exc:  # the turn's answer stands; the next one may replay instead
            log.warning("session %s: kernel state not stored: %s", session_id, exc)

    async def delete_session(self, session_id: str) -> int:
        """As TaskService's; a kernel another instance drives is attached to, then ended."""
        if self.box is not None and not self.runtime.kernels.has_kernel(session_id):
            row = await self.sql.kernel(session_id)
            if row is not None and row.instance != self.sql.instance_id:
                with contextlib.suppress(Exception):
                    await self.runtime.kernels.adopt(
                        session_id, self.box.open(row.state), limit_s=ATTACH_LIMIT_S
                    )
        return await super().delete_session(session_id)

    async def _forget_if_stale(self, record: ExecutionRecord) -> None:
        """Another instance took turns of this session since this one last did: its kernel and
        history here are behind, so drop them (the run rebuilds both from the database and the
        session's notebooks)."""
        sessions = self.runtime.sessions
        if record.session_id not in sessions:
            return
        local = sessions.get(record.session_id)
        if not local.loaded:
            return
        turns = [
            r
            for r in await self.sql.session_records(record.session_id)
            if r.done and r.depth == 0 and r.execution_id != record.execution_id
        ]
        if len(turns) != len(local.turns):
            await self.runtime.close_session(record.session_id)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(max(self.stalled_s / 2, 1.0))
            try:
                await self.requeue_stalled()
            except Exception:
                log.exception("the stalled-job sweep failed")

    async def requeue_stalled(self) -> int:
        """Put the jobs of workers silent past `stalled_s` back in the queue; returns how many."""

        def sweep() -> int:
            # one sweep at a time over every instance: a job requeued and taken again by a
            # live worker is not returned by the next sweep's query, so it never runs twice
            with self.sql.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK})
                jobs = asyncio.run_coroutine_threadsafe(
                    self.app.job_manager.get_stalled_jobs(
                        queue=QUEUE, seconds_since_heartbeat=self.stalled_s
                    ),
                    loop,
                ).result()
                for job in jobs:
                    asyncio.run_coroutine_threadsafe(
                        self.app.job_manager.retry_job(job), loop
                    ).result()
                return len(list(jobs))

        loop = asyncio.get_running_loop()
        count = await asyncio.to_thread(sweep)
        if count:
            log.warning("%d task(s) of a silent instance put back in the queue", count)
        return count

    # --- cancelling and sessions -------------------------------------------------------------

    async def _job_id(self, execution_id: str) -> int | None:
        def find() -> int | None:
            with self.sql.engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT id FROM procrastinate_jobs WHERE task_name = :t "
                        "AND args->>'execution_id' = :e ORDER BY id DESC LIMIT 1"
                    ),
                    {"t": TASK_NAME, "e": execution_id},
                ).first()
            return None if row is None else int(row[0])

        return await asyncio.to_thread(find)

    async def cancel(
        self, execution_id: str, *, owner: str | None = None
    ) -> ExecutionRecord | None:
        """Cancel while queued or running, on whichever instance runs it."""
        if execution_id in self._live:
            return await super().cancel(execution_id, owner=owner)
        record = await self.get(execution_id, owner=owner)
        if record is None or record.done:
            return record
        job_id = await self._job_id(execution_id)
        manager = self.app.job_manager
        if job_id is not None and await manager.cancel_job_by_id_async(job_id):
            # it was waiting in the queue: no worker took it and none will, so end it here
            record.status = "cancelled"
            record.error = ErrorInfo(code="cancelled", message="the task was cancelled")
            record.finished_at = now()
            await self.store.save(record)
            return record
        if job_id is not None:
            await manager.cancel_job_by_id_async(job_id, abort=True)
        try:
            return await asyncio.wait_for(self.wait(execution_id), CANCEL_WAIT_S)
        except TimeoutError:
            return await self.get(execution_id, owner=owner)

    async def session_tasks(self, session_id: str) -> list[ExecutionRecord]:
        """Queued or running records of one session, on every instance."""
        records = await self.sql.session_records(session_id)
        return [r for r in records if not r.done]
