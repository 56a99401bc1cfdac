"""What every route needs (the started service, store, key ring, limits) and the guard that runs
before each API route: per-IP limit, then the key, then the per-key limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from agent.config import Settings
from agent.http.auth import ApiKey, KeyRing, key_from_headers
from agent.http.limits import RateGuard
from agent.http.metrics import Metrics
from agent.http.problems import Problem
from agent.service import TaskService
from agent.store import SqlRecordStore

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["AppContext", "Drain", "Principal", "context_of", "principal"]


@dataclass
class Drain:
    """Set on SIGTERM: /ready turns 503 and new tasks are refused while running ones finish."""

    draining: bool = False
    since: float | None = None


@dataclass
class AppContext:
    settings: Settings
    store: SqlRecordStore
    runtime: AgentRuntime
    service: TaskService
    keyring: KeyRing
    metrics: Metrics
    guard: RateGuard | None = None  # built once the database is open
    drain: Drain = field(default_factory=Drain)
    started: bool = False


@dataclass(frozen=True)
class Principal:
    owner: str | None  # the key's id; None when auth is off (every caller is anonymous)
    key: ApiKey | None


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    if not ctx.started:
        raise Problem("shutting_down", "the server is starting or stopping", status=503)
    return ctx


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def principal(request: Request) -> Principal:
    """FastAPI dependency of every API route; raises 401/429 problems."""
    ctx = context_of(request)
    if ctx.guard is not None:
        await ctx.guard.check_ip(client_ip(request))
    if not ctx.keyring.enabled:
        return Principal(owner=None, key=None)
    presented = key_from_headers(
        request.headers.get("authorization"), request.headers.get("x-api-key")
    )
    owner = ctx.keyring.owner_for(presented)
    if owner is None:
        detail = "an API key is required" if presented is None else "unknown API key"
        raise Problem(
            "unauthorized", detail, status=401, headers={"WWW-Authenticate": 'Bearer realm="agent"'}
        )
    request.state.owner = owner
    if ctx.guard is not None:
        await ctx.guard.check_key(owner)
    return Principal(owner=owner, key=ctx.keyring.key(owner))
