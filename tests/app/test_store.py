"""SqlRecordStore and the shared rate-limit storage on a real SQLite file (no server needed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from agent.http.limits import RateGuard
from agent.http.problems import Problem
from agent.records import ExecutionRecord, new_id
from agent.store import SessionTaken, SqlRecordStore, StoreError, executions


@pytest.fixture
async def store(tmp_path: Path) -> SqlRecordStore:
    opened = SqlRecordStore(f"sqlite:///{tmp_path / 'db' / 'agent.db'}", notebooks_dir=tmp_path)
    await opened.start(heartbeat=False)
    yield opened
    await opened.close()


def _record(session: str = "ses_a", owner: str | None = "k1", **kw: object) -> ExecutionRecord:
    record = ExecutionRecord(session_id=session, task="t", **kw)
    record.owner = owner
    return record


async def test_save_get_and_session_order(store: SqlRecordStore) -> None:
    first, second = _record(), _record()
    await store.create(first)
    await store.create(second)
    second.status = "completed"
    second.result = {"answer": 42}
    await store.save(second)
    got = await store.get(second.execution_id)
    assert got is not None and got.result == {"answer": 42} and got.owner == "k1"
    assert [r.execution_id for r in await store.session_records("ses_a")] == [
        first.execution_id,
        second.execution_id,
    ]
    assert await store.get("exe_missing") is None


async def test_idempotency_key_returns_the_first(store: SqlRecordStore) -> None:
    first, created = await store.create(_record(), idempotency_key="same")
    again, created_again = await store.create(_record(), idempotency_key="same")
    assert created and not created_again and again.execution_id == first.execution_id
    other, created_other = await store.create(_record("ses_b", owner="k2"), idempotency_key="same")
    assert created_other and other.execution_id != first.execution_id


async def test_a_session_is_claimed_by_its_first_owner(store: SqlRecordStore) -> None:
    await store.create(_record())
    with pytest.raises(SessionTaken):
        await store.create(_record(owner="k2"))
    assert [r.owner for r in await store.session_records("ses_a")] == ["k1"]  # nothing written
    row = await store.session("ses_a")
    assert row is not None and row.owner == "k1"
    for _ in range(2):  # auth off: no owner on both sides is the same owner
        await store.create(_record("ses_open", owner=None))
    with pytest.raises(SessionTaken):
        await store.create(_record("ses_open", owner="k1"))


async def test_concurrent_writes_share_commits_and_fail_alone(
    store: SqlRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits: list[int] = []
    commit = store._group._commit

    def counted(batch: list) -> list:
        commits.append(len(batch))
        return commit(batch)

    monkeypatch.setattr(store._group, "_commit", counted)
    await store.create(_record("ses_other", owner="k2"))
    records = [_record(f"ses_{n}") for n in range(6)]
    foreign = _record("ses_other")  # that session is k2's: refused, the others unharmed
    broken = _record("ses_broken")
    values = store._values

    def bad_values(record: ExecutionRecord) -> dict:  # a NOT NULL column left empty
        return {**values(record), "status": None} if record is broken else values(record)

    monkeypatch.setattr(store, "_values", bad_values)
    commits.clear()
    outcomes = await asyncio.gather(
        *(store.create(r) for r in [*records[:3], foreign, broken, *records[3:]]),
        return_exceptions=True,
    )
    # asked together, the eight went in one commit; it failed on the broken record, so each
    # was written again on its own
    assert commits == [8, *[1] * 8]
    assert isinstance(outcomes[3], SessionTaken) and isinstance(outcomes[4], StoreError)
    assert [o for o in outcomes if isinstance(o, tuple)] == [(r, True) for r in records]
    for r in records:
        r.status = "completed"
    await asyncio.gather(*(store.save(r) for r in records))
    got = [await store.get(r.execution_id) for r in records]
    assert [g.status for g in got if g is not None] == ["completed"] * 6
    assert await store.get(broken.execution_id) is None


def test_ids_made_within_one_millisecond_sort_as_made() -> None:
    ids = [new_id() for _ in range(2000)]  # many share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_history_pages_newest_first_per_owner(store: SqlRecordStore) -> None:
    ids = []
    for _ in range(5):
        record, _ = await store.create(_record())
        ids.append(record.execution_id)
    await store.create(_record("ses_b", owner="k2"))
    page = await store.page(owner="k1", limit=2)
    assert [r.execution_id for r in page.records] == ids[::-1][:2]
    rest = await store.page(owner="k1", limit=10, cursor=page.next_cursor)
    assert [r.execution_id for r in rest.records] == ids[::-1][2:] and rest.next_cursor is None
    assert await store.active_count("k1") == 5


async def test_records_of_a_dead_instance_become_interrupted(
    store: SqlRecordStore, tmp_path: Path
) -> None:
    running = _record()
    running.status = "running"
    await store.create(running)
    # a process that ended: its pid no longer exists, so its running record is orphaned
    dead = subprocess.run(  # noqa: ASYNC221  # a finished child gives a pid that is surely gone
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with store.engine.begin() as conn:
        conn.execute(
            update(executions)
            .where(executions.c.execution_id == running.execution_id)
            .values(instance="ins_gone")
        )
        conn.exec_driver_sql(
            "INSERT INTO instances VALUES ('ins_gone', ?, ?, 1.0, 0.0)",
            (__import__("socket").gethostname(), int(dead.stdout)),
        )
    assert await store.mark_interrupted() == 1
    got = await store.get(running.execution_id)
    assert got is not None and got.status == "failed" and got.error is not None
    assert got.error.code == "interrupted"


async def test_retention_sweep_removes_old_records_and_notebooks(
    store: SqlRecordStore, tmp_path: Path
) -> None:
    notebook = tmp_path / "ses_a" / "run.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    old = _record(notebook=str(notebook), status="completed")
    await store.create(old)
    with store.engine.begin() as conn:
        conn.execute(update(executions).values(finished_at=1.0))
    kept = _record()
    await store.create(kept)
    assert await store.sweep(7) == 1
    assert await store.get(old.execution_id) is None and not notebook.exists()
    assert await store.get(kept.execution_id) is not None


async def test_rate_limit_is_shared_by_two_stores_on_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one, two = SqlRecordStore(url), SqlRecordStore(url)
    await one.start(heartbeat=False)
    await two.start(heartbeat=False)
    try:
        guard_one = RateGuard.build("database", one.engine, per_key=3, per_ip=0)
        guard_two = RateGuard.build("database", two.engine, per_key=3, per_ip=0)
        await guard_one.check_key("k1")
        await guard_two.check_key("k1")
        await guard_one.check_key("k1")
        with pytest.raises(Problem) as refused:
            await guard_two.check_key("k1")
        assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) >= 1
        await guard_two.check_key("k2")  # another key has its own window
    finally:
        await one.close()
        await two.close()
