"""Rate limits per API key and per client IP, through the `limits` library.

The counters live in the records database by default (a `limits` storage on SQLAlchemy), so every
server process on one database shares one count; `RATE_LIMIT_STORAGE` may name any storage URI
`limits` knows instead (`memory://`, `redis://host:6379`). Fixed one-minute windows.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, cast

from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from agent.http.problems import Problem

__all__ = ["RateGuard", "SqlLimitStorage"]

limits_metadata = MetaData()

counters = Table(
    "rate_limits",
    limits_metadata,
    Column("key", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)


class SqlLimitStorage(Storage):
    """Fixed-window counters in a table; one atomic upsert per hit, on SQLite and PostgreSQL."""

    STORAGE_SCHEME = ["agent-sql"]  # noqa: RUF012  # the base class declares it a plain attribute

    def __init__(self, engine: Engine, uri: str | None = None, **options: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        limits_metadata.create_all(engine)
        super().__init__(uri, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        stamp = time.time()
        module = postgresql if self.dialect == "postgresql" else sqlite
        expired = counters.c.expires_at <= stamp
        statement = module.insert(counters).values(key=key, count=amount, expires_at=stamp + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((expired, amount), else_=counters.c.count + amount),
                "expires_at": case((expired, stamp + expiry), else_=counters.c.expires_at),
            },
        ).returning(counters.c.count)
        with self.engine.begin() as conn:
            return int(conn.execute(statement).scalar_one())

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.engine.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(counters.c.count, counters.c.expires_at).where(counters.c.key == key)
            ).first()
            conn.rollback()
        if row is None or float(row[1]) <= time.time():
            return None
        return int(row[0]), float(row[1])

    def get(self, key: str) -> int:
        row = self._row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(counters)).rowcount)

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(counters).where(counters.c.key == key))

    def purge(self) -> int:
        """Drop windows that ended (housekeeping; the counts are unaffected)."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(delete(counters).where(counters.c.expires_at <= time.time())).rowcount
            )


class RateGuard:
    """`check_ip` / `check_key` raise a 429 Problem with Retry-After when a window is full."""

    def __init__(self, storage: Storage, *, per_key: int, per_ip: int) -> None:
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self.per_key = RateLimitItemPerMinute(per_key) if per_key > 0 else None
        self.per_ip = RateLimitItemPerMinute(per_ip) if per_ip > 0 else None

    @classmethod
    def build(cls, uri: str, engine: Engine, *, per_key: int, per_ip: int) -> RateGuard:
        if uri in ("", "database"):
            storage: Storage = SqlLimitStorage(engine)
        else:
            storage = cast(Storage, storage_from_string(uri))
        return cls(storage, per_key=per_key, per_ip=per_ip)

    def _hit(self, item: RateLimitItemPerMinute, *identifiers: str) -> float | None:
        """None when allowed, else seconds until the window resets."""
        if self.limiter.hit(item, *identifiers):
            return None
        reset, _ = self.limiter.get_window_stats(item, *identifiers)
        return max(1.0, reset - time.time())

    async def _check(self, item: RateLimitItemPerMinute | None, scope: str, who: str) -> None:
        if item is None:
            return
        wait = await asyncio.to_thread(self._hit, item, scope, who)
        if wait is not None:
            seconds = math.ceil(wait)
            raise Problem(
                "rate_limited",
                f"more than {item.amount} requests a minute for this {scope}; retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    async def check_ip(self, ip: str) -> None:
        await self._check(self.per_ip, "ip", ip)

    async def check_key(self, owner: str) -> None:
        await self._check(self.per_key, "key", owner)

    def purge(self) -> int:
        return self.storage.purge() if isinstance(self.storage, SqlLimitStorage) else 0
