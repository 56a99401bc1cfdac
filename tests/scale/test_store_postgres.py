"""The store's writes of every task on PostgreSQL (the same statements as on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.records import ExecutionRecord
from agent.store import SessionTaken, SqlRecordStore
from tests.scale.conftest import Postgres


@pytest.fixture
async def store(postgres: Postgres) -> AsyncIterator[SqlRecordStore]:
    opened = SqlRecordStore(postgres.url)
    await opened.start(heartbeat=False)
    yield opened
    await opened.close()


def _record(session: str, owner: str | None) -> ExecutionRecord:
    record = ExecutionRecord(session_id=session, task="t")
    record.owner = owner
    return record


async def test_claim_create_and_save_on_postgres(store: SqlRecordStore) -> None:
    first = _record("ses_pg_claim", "k1")
    await store.create(first)
    await store.create(_record("ses_pg_claim", "k1"))  # the owner's next turn
    with pytest.raises(SessionTaken):
        await store.create(_record("ses_pg_claim", "k2"))
    for _ in range(2):  # auth off: no owner on both sides is the same owner
        await store.create(_record("ses_pg_open", None))
    with pytest.raises(SessionTaken):
        await store.create(_record("ses_pg_open", "k1"))
    first.status = "completed"
    first.result = {"answer": 42}
    await store.save(first)
    got = await store.get(first.execution_id)
    assert got is not None and got.status == "completed" and got.result == {"answer": 42}
    assert [r.owner for r in await store.session_records("ses_pg_claim")] == ["k1", "k1"]
    again, created = await store.create(_record("ses_pg_key", "k1"), idempotency_key="once")
    same, created_again = await store.create(_record("ses_pg_key", "k1"), idempotency_key="once")
    assert created and not created_again and same.execution_id == again.execution_id


async def test_an_ended_kernels_row_goes_only_while_it_names_it(
    store: SqlRecordStore, postgres: Postgres
) -> None:
    """clear_kernel(session, kernel_id=...) removes the row only while it names this instance
    and that kernel: a newer kernel, or a row another instance took, stays."""
    other = SqlRecordStore(postgres.url)
    await other.start(heartbeat=False)
    try:
        await store.save_kernel("ses_pg_kernel", kernel_id="k1", host="h", state="sealed")
        await store.clear_kernel("ses_pg_kernel", kernel_id="k0")  # an older kernel ended
        await other.clear_kernel("ses_pg_kernel", kernel_id="k1")  # not the row's instance
        row = await store.kernel("ses_pg_kernel")
        assert row is not None and row.kernel_id == "k1" and row.instance == store.instance_id
        await other.save_kernel("ses_pg_kernel", kernel_id="k1", host="h", state="sealed")
        await store.clear_kernel("ses_pg_kernel", kernel_id="k1")  # the other one took it
        row = await store.kernel("ses_pg_kernel")
        assert row is not None and row.instance == other.instance_id
        await other.clear_kernel("ses_pg_kernel", kernel_id="k1")
        assert await store.kernel("ses_pg_kernel") is None
    finally:
        await other.close()
