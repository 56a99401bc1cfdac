"""Operations routes, outside API keys: /health (liveness), /ready (can it serve tasks, and why
not), /metrics (Prometheus text; keep it off the public proxy)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from agent.http.context import AppContext
from agent.http.metrics import CONTENT_TYPE
from agent.store import StoreError

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _checks(ctx: AppContext) -> dict[str, dict[str, Any]]:
    database: dict[str, Any] = {"ok": True, "reason": None, "dialect": ctx.store.dialect}
    try:
        await ctx.store.ping()
    except StoreError as exc:
        database = {"ok": False, "reason": str(exc), "dialect": ctx.store.dialect}
    checks: dict[str, dict[str, Any]] = {"database": database}
    runtime = ctx.runtime.readiness()
    kernels = runtime.get("kernels", {})
    mode = kernels.get("isolation")
    checks["isolation"] = {
        "ok": mode == "bubblewrap",
        "mode": mode,
        "reason": None
        if mode == "bubblewrap"
        else ("kernels not started" if mode is None else "KERNEL_ISOLATION=none: not isolated"),
    }
    checks.update(runtime)
    checks["server"] = {
        "ok": ctx.started and not ctx.drain.draining,
        "reason": "shutting down" if ctx.drain.draining else (None if ctx.started else "starting"),
        "queueDepth": ctx.service.queue_depth,
        "running": ctx.service.running,
    }
    return checks


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """200 when every check passes, else 503; each check says why it failed."""
    ctx: AppContext = request.app.state.ctx
    checks = await _checks(ctx)
    ok = all(bool(check.get("ok")) for check in checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    return Response(ctx.metrics.text(), media_type=CONTENT_TYPE)
