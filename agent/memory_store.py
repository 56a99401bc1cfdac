"""RecordStore: where records are kept. The runtime defaults to this in-memory one; the server
passes agent.store's SQLAlchemy store, which has the same three methods."""

from __future__ import annotations

from typing import Protocol

from agent.records import ExecutionRecord

__all__ = ["MemoryRecordStore", "RecordStore"]


class RecordStore(Protocol):
    async def save(self, record: ExecutionRecord) -> None: ...

    async def get(self, execution_id: str) -> ExecutionRecord | None: ...

    async def session_records(self, session_id: str) -> list[ExecutionRecord]:
        """Oldest first."""
        ...


class MemoryRecordStore:
    """Records of this process only; keeps the live objects (the CLI, tests, notebooks)."""

    def __init__(self) -> None:
        self._records: dict[str, ExecutionRecord] = {}

    async def save(self, record: ExecutionRecord) -> None:
        self._records[record.execution_id] = record

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        return self._records.get(execution_id)

    async def session_records(self, session_id: str) -> list[ExecutionRecord]:
        found = [r for r in self._records.values() if r.session_id == session_id]
        return sorted(found, key=lambda r: (r.created_at, r.execution_id))
