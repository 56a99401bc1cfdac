"""SqlRecordStore: execution records and sessions in a real database (SQLAlchemy 2).

`DATABASE_URL` picks the database: SQLite (WAL, the default) or PostgreSQL, one code path. Each
record is kept whole as JSON beside the columns that are queried (session, owner, status, time).
Several server processes may share one database: each registers as an *instance*, and records
left `queued`/`running` by an instance that is gone are marked `failed` / `interrupted`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from agent.records import ErrorInfo, ExecutionRecord, new_id, now

__all__ = [
    "ACTIVE",
    "KernelRow",
    "Page",
    "SessionRow",
    "SessionTaken",
    "SqlRecordStore",
    "StoreError",
    "metadata",
]

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
HEARTBEAT_S = 10.0
STALE_AFTER_S = 45.0  # an instance on another host is gone when its heartbeat is this old

T = TypeVar("T")

metadata = MetaData()

executions = Table(
    "executions",
    metadata,
    Column("execution_id", String(64), primary_key=True),
    Column("session_id", String(128), nullable=False),
    Column("owner", String(128), nullable=True),
    Column("status", String(16), nullable=False),
    Column("parent_id", String(64), nullable=True),
    Column("idempotency_key", String(256), nullable=True),
    Column("instance", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("notebook", Text, nullable=True),
    Column("record", Text, nullable=False),
    Index("ix_executions_session", "session_id", "created_at"),
    Index("ix_executions_owner_status", "owner", "status"),
    Index("ix_executions_finished", "finished_at"),
    Index("ux_executions_idempotency", "owner", "idempotency_key", unique=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("owner", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# a session's running remote kernel: `state` (connection and provisioner info) is a Fernet
# token under KERNEL_STATE_KEY, since it holds the kernel's HMAC and curve secret keys
session_kernels = Table(
    "session_kernels",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("instance", String(64), nullable=False),  # the one driving it
    Column("kernel_id", String(64), nullable=False),
    Column("host", String(256), nullable=True),
    Column("state", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

instances = Table(
    "instances",
    metadata,
    Column("instance_id", String(64), primary_key=True),
    Column("host", String(256), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("pid_started", Float, nullable=False),
    Column("heartbeat", Float, nullable=False),
)


class StoreError(Exception):
    """The database cannot be reached or refused a statement."""

    code = "database_unavailable"


class SessionTaken(Exception):
    """The session exists and belongs to another owner (callers answer "not found")."""


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    owner: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class KernelRow:
    session_id: str
    instance: str
    kernel_id: str
    host: str | None
    state: str  # encrypted
    updated_at: float


@dataclass(frozen=True)
class Page:
    records: list[ExecutionRecord]
    next_cursor: str | None


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers; writes take the lock up front so two writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below decides
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Statements:
    """The statements of every task, built once: executed with their values as parameters,
    SQLAlchemy skips building, coercing and keying them again (most of a write's CPU)."""

    def __init__(self, insert: Callable[[Table], Any]) -> None:
        upsert = insert(executions)
        kept = [c.name for c in executions.columns if c.name not in ("execution_id", "owner")]
        kept.remove("idempotency_key")
        self.upsert_execution = upsert.on_conflict_do_update(
            index_elements=["execution_id"], set_={name: upsert.excluded[name] for name in kept}
        )
        self.insert_execution = executions.insert()
        claim = insert(sessions)
        self.claim_session = claim.on_conflict_do_update(
            index_elements=["session_id"],
            set_={"updated_at": claim.excluded.updated_at},
            where=sessions.c.owner.is_not_distinct_from(claim.excluded.owner),
        ).returning(sessions.c.session_id)


@dataclass
class _Write:
    record: ExecutionRecord
    values: dict[str, Any]  # taken when asked: the record may change before the commit
    create: bool  # a new record (its session claimed first) rather than a save of one
    done: asyncio.Future[Any]


class _GroupCommit:
    """Every task's two writes (its record created, later saved whole) go through here: the
    first write starts a transaction at once, and the writes that arrive while it commits go
    together in the next one. Concurrent tasks then share a commit and a thread hop (under
    load a commit costs more than the statements in it), and a lone write waits for nothing.
    A batch that fails is written again one write per transaction, so a bad write fails alone."""

    def __init__(self, store: SqlRecordStore) -> None:
        self.store = store
        self.waiting: list[_Write] = []
        self.writer: asyncio.Task[None] | None = None

    async def write(self, record: ExecutionRecord, values: dict[str, Any], *, create: bool) -> Any:
        done = asyncio.get_running_loop().create_future()
        self.waiting.append(_Write(record, values, create, done))
        if self.writer is None:
            self.writer = asyncio.create_task(self._drain(), name="store-group-commit")
        return await done

    async def flush(self) -> None:
        if self.writer is not None:
            await asyncio.shield(self.writer)

    async def _drain(self) -> None:
        batch: list[_Write] = []
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    outcomes = await self.store._run(self._commit, batch)
                except Exception:
                    outcomes = [await self._alone(item) for item in batch]
                for item, outcome in zip(batch, outcomes, strict=True):
                    if item.done.done():
                        continue  # its caller was cancelled; the write went ahead regardless
                    if isinstance(outcome, BaseException):
                        item.done.set_exception(outcome)
                    else:
                        item.done.set_result(outcome)
        finally:  # cancelled (the loop is closing): nobody is left waiting forever
            for item in [*batch, *self.waiting]:
                if not item.done.done():
                    item.done.set_exception(StoreError("the store stopped before this write"))
            self.writer = None

    async def _alone(self, item: _Write) -> Any:
        try:
            return (await self.store._run(self._commit, [item]))[0]
        except Exception as exc:
            return exc

    def _commit(self, batch: list[_Write]) -> list[Any]:
        """One transaction. A create whose session is another owner's writes nothing and has
        SessionTaken as its outcome; any other error fails the whole transaction."""
        outcomes: list[Any] = []
        with self.store.engine.begin() as conn:
            for item in batch:
                if not item.create:
                    conn.execute(self.store._statements.upsert_execution, item.values)
                    outcomes.append(None)
                elif self.store._insert_new(conn, item.record, item.values, None):
                    outcomes.append((item.record, True))
                else:
                    outcomes.append(SessionTaken(item.record.session_id))
        return outcomes


def _pid_started(pid: int) -> float:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


class SqlRecordStore:
    """Implements agent.memory_store.RecordStore, plus what the service and the HTTP layer need."""

    def __init__(
        self,
        url: str,
        *,
        notebooks_dir: Path | None = None,
        threads: int = 4,
        fail_orphans: bool = True,
    ) -> None:
        self.url = url
        # False with a shared task queue: it runs a gone instance's tasks again elsewhere
        self.fail_orphans = fail_orphans
        self.notebooks_dir = notebooks_dir
        self.instance_id = new_id("ins")
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        options: dict[str, Any] = {"future": True}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            options["pool_pre_ping"] = True
        self.engine = create_engine(url, **options)
        if self.dialect == "sqlite":
            _sqlite_pragmas(self.engine)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")
        self._heartbeat: asyncio.Task[None] | None = None
        self._statements = _Statements(self._insert)
        self._group = _GroupCommit(self)

    # --- plumbing ----------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {type(exc).__name__}: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(readonly=True) as conn:
            yield conn
            conn.rollback()

    def _insert(self, table: Table) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, heartbeat: bool = True) -> int:
        """Create tables, register this instance, mark what dead instances left; returns that count."""
        await self._run(metadata.create_all, self.engine)
        await self._run(self._register)
        marked = await self.mark_interrupted()
        if heartbeat:
            self._heartbeat = asyncio.create_task(self._beat(), name="store-heartbeat")
        return marked

    async def close(self) -> None:
        await self._group.flush()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        try:
            await self._run(self._unregister)
        except StoreError as exc:
            log.warning("could not unregister instance %s: %s", self.instance_id, exc)
        self._pool.shutdown(wait=True)
        self.engine.dispose()

    def _register(self) -> None:
        pid = os.getpid()
        row = {
            "instance_id": self.instance_id,
            "host": socket.gethostname(),
            "pid": pid,
            "pid_started": _pid_started(pid),
            "heartbeat": time.time(),
        }
        with self.engine.begin() as conn:
            conn.execute(instances.insert().values(**row))

    def _unregister(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(instances).where(instances.c.instance_id == self.instance_id))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self._run(self._touch)
                await self.mark_interrupted()
            except StoreError as exc:
                log.warning("store heartbeat failed: %s", exc)

    def _touch(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(instances)
                .where(instances.c.instance_id == self.instance_id)
                .values(heartbeat=time.time())
            )

    async def ping(self) -> None:
        def _ping() -> None:
            with self._read() as conn:
                conn.execute(select(1))

        await self._run(_ping)

    # --- interrupted runs --------------------------------------------------------------------

    def _dead_instances(self, conn: Connection) -> list[str]:
        host = socket.gethostname()
        dead = []
        for row in conn.execute(select(instances)).mappings():
            if row["instance_id"] == self.instance_id:
                continue
            if row["host"] == host:
                started = _pid_started(int(row["pid"]))
                gone = started == 0.0 or abs(started - float(row["pid_started"])) > 1.0
            else:
                gone = float(row["heartbeat"]) < time.time() - STALE_AFTER_S
            if gone:
                dead.append(str(row["instance_id"]))
        return dead

    def _mark_interrupted(self, only: str | None) -> int:
        with self.engine.begin() as conn:
            orphan: ColumnElement[bool]
            if only is None:
                dead = self._dead_instances(conn)
                if not self.fail_orphans:
                    if dead:
                        conn.execute(delete(instances).where(instances.c.instance_id.in_(dead)))
                    return 0
                known = [str(r[0]) for r in conn.execute(select(instances.c.instance_id))]
                alive = [i for i in known if i not in dead]
                orphan = executions.c.instance.is_(None) | ~executions.c.instance.in_(alive)
            else:
                dead = []
                orphan = executions.c.instance == only
            rows = conn.execute(
                select(executions.c.execution_id, executions.c.record).where(
                    executions.c.status.in_(ACTIVE), orphan
                )
            ).all()
            for execution_id, raw in rows:
                record = ExecutionRecord.model_validate_json(raw)
                record.status = "failed"
                record.error = ErrorInfo(
                    code="interrupted",
                    message="the server stopped before this task finished; submit it again",
                )
                record.finished_at = now()
                conn.execute(
                    update(executions)
                    .where(executions.c.execution_id == execution_id)
                    .values(
                        status="failed",
                        finished_at=record.finished_at.timestamp(),
                        record=record.model_dump_json(by_alias=True),
                    )
                )
            if dead:
                conn.execute(delete(instances).where(instances.c.instance_id.in_(dead)))
        return len(rows)

    async def mark_interrupted(self, *, only_mine: bool = False) -> int:
        """Records left active by gone instances (or, at shutdown, by this one) become failed."""
        return await self._run(self._mark_interrupted, self.instance_id if only_mine else None)

    # --- records -----------------------------------------------------------------------------

    def _values(self, record: ExecutionRecord) -> dict[str, Any]:
        """The record's row in `executions` (all but its idempotency key)."""
        return {
            "execution_id": record.execution_id,
            "owner": record.owner,
            "session_id": record.session_id,
            "status": record.status,
            "parent_id": record.parent_id,
            "instance": self.instance_id,
            "created_at": record.created_at.timestamp(),
            "finished_at": record.finished_at.timestamp() if record.finished_at else None,
            "notebook": record.notebook,
            "record": record.model_dump_json(by_alias=True),
        }

    def _insert_new(
        self,
        conn: Connection,
        record: ExecutionRecord,
        values: dict[str, Any],
        idempotency_key: str | None,
    ) -> bool:
        """Claim the record's session and insert the record; False (nothing written) when the
        session is another owner's. IntegrityError when the idempotency key is taken."""
        stamp = time.time()
        # the session first: claimed for this owner when new, refused when another's (its
        # stamp moves only when it is this owner's: no row comes back otherwise)
        session = {"session_id": record.session_id, "owner": record.owner}
        claimed = conn.execute(
            self._statements.claim_session, {**session, "created_at": stamp, "updated_at": stamp}
        ).first()
        if claimed is None:
            return False
        conn.execute(
            self._statements.insert_execution, {**values, "idempotency_key": idempotency_key}
        )
        return True

    async def save(self, record: ExecutionRecord) -> None:
        await self._group.write(record, self._values(record), create=False)

    def _create(
        self, record: ExecutionRecord, idempotency_key: str
    ) -> tuple[ExecutionRecord, bool]:
        try:
            with self.engine.begin() as conn:
                if not self._insert_new(conn, record, self._values(record), idempotency_key):
                    raise SessionTaken(record.session_id)
        except IntegrityError:
            first = self._find_idempotent(record.owner, idempotency_key)
            if first is None:
                raise
            return first, False
        return record, True

    async def create(
        self, record: ExecutionRecord, *, idempotency_key: str | None = None
    ) -> tuple[ExecutionRecord, bool]:
        """Insert a new record and claim its session, in one transaction; with a key already
        used, (the first one, False). SessionTaken when the session belongs to another owner."""
        if idempotency_key is None:  # nothing to collide with: it may share a commit
            values = self._values(record)
            outcome: tuple[ExecutionRecord, bool] = await self._group.write(
                record, values, create=True
            )
            return outcome
        return await self._run(self._create, record, idempotency_key)

    @staticmethod
    def _load(row: Any) -> ExecutionRecord:
        record = ExecutionRecord.model_validate_json(row.record)
        record.owner = row.owner
        return record

    def _find_idempotent(self, owner: str | None, key: str) -> ExecutionRecord | None:
        owner_match = executions.c.owner.is_(None) if owner is None else executions.c.owner == owner
        with self._read() as conn:
            row = conn.execute(
                select(executions.c.record, executions.c.owner).where(
                    owner_match, executions.c.idempotency_key == key
                )
            ).first()
        return None if row is None else self._load(row)

    async def find_idempotent(self, owner: str | None, key: str) -> ExecutionRecord | None:
        return await self._run(self._find_idempotent, owner, key)

    def _get(self, execution_id: str) -> ExecutionRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(executions.c.record, executions.c.owner).where(
                    executions.c.execution_id == execution_id
                )
            ).first()
        return None if row is None else self._load(row)

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        return await self._run(self._get, execution_id)

    def _session_records(self, session_id: str) -> list[ExecutionRecord]:
        with self._read() as conn:
            rows = conn.execute(
                select(executions.c.record, executions.c.owner)
                .where(executions.c.session_id == session_id, executions.c.parent_id.is_(None))
                .order_by(executions.c.created_at, executions.c.execution_id)
            ).all()
        return [self._load(row) for row in rows]

    async def session_records(self, session_id: str) -> list[ExecutionRecord]:
        """Top-level records of the session, oldest first."""
        return await self._run(self._session_records, session_id)

    def _page(
        self,
        owner: str | None,
        session_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        owner_match = executions.c.owner.is_(None) if owner is None else executions.c.owner == owner
        query = select(executions.c.record, executions.c.owner).where(
            executions.c.parent_id.is_(None), owner_match
        )
        if session_id is not None:
            query = query.where(executions.c.session_id == session_id)
        if status is not None:
            query = query.where(executions.c.status == status)
        if cursor is not None:
            query = query.where(executions.c.execution_id < cursor)
        query = query.order_by(executions.c.execution_id.desc()).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        records = [self._load(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(records, records[-1].execution_id if more and records else None)

    async def page(
        self,
        *,
        owner: str | None,
        session_id: str | None = None,
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """Top-level records of `owner`, newest first; `cursor` is the last id of the page before."""
        return await self._run(self._page, owner, session_id, status, limit, cursor)

    def _active_count(self, owner: str | None) -> int:
        owner_match = executions.c.owner.is_(None) if owner is None else executions.c.owner == owner
        with self._read() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(executions)
                .where(
                    owner_match,
                    executions.c.status.in_(ACTIVE),
                    executions.c.parent_id.is_(None),
                )
            ).scalar_one()
        return int(count)

    async def active_count(self, owner: str | None) -> int:
        """Queued + running top-level tasks of `owner`, across every instance on this database."""
        return await self._run(self._active_count, owner)

    # --- sessions ----------------------------------------------------------------------------

    def _session(self, session_id: str) -> SessionRow | None:
        with self._read() as conn:
            row = conn.execute(select(sessions).where(sessions.c.session_id == session_id)).first()
        if row is None:
            return None
        return SessionRow(row.session_id, row.owner, row.created_at, row.updated_at)

    async def session(self, session_id: str) -> SessionRow | None:
        return await self._run(self._session, session_id)

    def _claim_session(self, session_id: str, owner: str | None) -> SessionRow:
        stamp = time.time()
        with self.engine.begin() as conn:
            statement = self._insert(sessions).values(
                session_id=session_id, owner=owner, created_at=stamp, updated_at=stamp
            )
            conn.execute(statement.on_conflict_do_nothing(index_elements=["session_id"]))
            row = conn.execute(select(sessions).where(sessions.c.session_id == session_id)).one()
        return SessionRow(row.session_id, row.owner, row.created_at, row.updated_at)

    async def claim_session(self, session_id: str, owner: str | None) -> SessionRow:
        """The session row, created for `owner` when new; the caller compares the owner."""
        return await self._run(self._claim_session, session_id, owner)

    def _delete_session(self, session_id: str) -> list[str | None]:
        with self.engine.begin() as conn:
            notebooks = [
                row[0]
                for row in conn.execute(
                    select(executions.c.notebook).where(executions.c.session_id == session_id)
                )
            ]
            conn.execute(delete(executions).where(executions.c.session_id == session_id))
            conn.execute(delete(sessions).where(sessions.c.session_id == session_id))
            conn.execute(delete(session_kernels).where(session_kernels.c.session_id == session_id))
        return notebooks

    async def delete_session(self, session_id: str) -> int:
        """Forget the session, its records and their notebooks; returns how many records went."""
        notebooks = await self._run(self._delete_session, session_id)
        await asyncio.to_thread(self._remove_notebooks, notebooks)
        return len(notebooks)

    # --- session kernels (remote, attachable from any instance) ------------------------------

    def _save_kernel(self, session_id: str, kernel_id: str, host: str | None, state: str) -> None:
        values = {
            "instance": self.instance_id,
            "kernel_id": kernel_id,
            "host": host,
            "state": state,
            "updated_at": time.time(),
        }
        statement = self._insert(session_kernels).values(session_id=session_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["session_id"], set_=values)
        with self.engine.begin() as conn:
            conn.execute(statement)

    async def save_kernel(
        self, session_id: str, *, kernel_id: str, host: str | None, state: str
    ) -> None:
        """Record that this instance drives the session's kernel (`state` already encrypted)."""
        await self._run(self._save_kernel, session_id, kernel_id, host, state)

    def _kernel(self, session_id: str) -> KernelRow | None:
        with self._read() as conn:
            row = conn.execute(
                select(session_kernels).where(session_kernels.c.session_id == session_id)
            ).first()
        if row is None:
            return None
        return KernelRow(
            row.session_id, row.instance, row.kernel_id, row.host, row.state, row.updated_at
        )

    async def kernel(self, session_id: str) -> KernelRow | None:
        return await self._run(self._kernel, session_id)

    def _clear_kernel(self, session_id: str | None, kernel_id: str | None) -> None:
        where = session_kernels.c.instance == self.instance_id
        if session_id is not None:
            where = where & (session_kernels.c.session_id == session_id)
        if kernel_id is not None:
            where = where & (session_kernels.c.kernel_id == kernel_id)
        with self.engine.begin() as conn:
            conn.execute(delete(session_kernels).where(where))

    async def clear_kernel(
        self, session_id: str | None = None, *, kernel_id: str | None = None
    ) -> None:
        """Forget the session's kernel (all of this instance's with None), if this instance
        is still the one driving it (and, given `kernel_id`, it is still that kernel)."""
        await self._run(self._clear_kernel, session_id, kernel_id)

    # --- retention ---------------------------------------------------------------------------

    def _sweep(self, cutoff: float) -> list[str | None]:
        with self.engine.begin() as conn:
            old = executions.c.finished_at < cutoff
            notebooks = [row[0] for row in conn.execute(select(executions.c.notebook).where(old))]
            conn.execute(delete(executions).where(old))
            has_records = select(executions.c.session_id).where(
                executions.c.session_id == sessions.c.session_id
            )
            conn.execute(
                delete(sessions).where(sessions.c.updated_at < cutoff, ~has_records.exists())
            )
        return notebooks

    async def sweep(self, retention_days: int) -> int:
        """Delete records finished more than `retention_days` ago, notebooks included (0 = keep)."""
        if retention_days <= 0:
            return 0
        notebooks = await self._run(self._sweep, time.time() - retention_days * 86400)
        await asyncio.to_thread(self._remove_notebooks, notebooks)
        return len(notebooks)

    def _remove_notebooks(self, paths: list[str | None]) -> None:
        """Only files under NOTEBOOKS_DIR are removed, whatever a record says."""
        if self.notebooks_dir is None:
            return
        root = self.notebooks_dir.resolve()
        for raw in paths:
            if not raw:
                continue
            path = Path(raw).resolve()
            if not path.is_relative_to(root):
                continue
            path.unlink(missing_ok=True)
            parent = path.parent
            if parent != root and parent.is_relative_to(root) and not any(parent.iterdir()):
                parent.rmdir()
