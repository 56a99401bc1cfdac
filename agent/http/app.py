"""create_app(settings): the REST API, its guards and the Gradio UI in one FastAPI app.

The store, runtime and service are built here (the UI needs them to be built) and started by
the lifespan; shutdown drains the queue within SHUTDOWN_GRACE_MS and shuts every kernel down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from agent.config import ConfigError, Settings
from agent.http import files, ops, routes
from agent.http.auth import KeyRing
from agent.http.context import AppContext
from agent.http.limits import RateGuard
from agent.http.metrics import Metrics
from agent.http.middleware import AccessLog, BodyLimit, RequestTimeout, SecurityHeaders, is_api
from agent.http.problems import install_problem_handlers
from agent.service import TaskService
from agent.store import SqlRecordStore

__all__ = ["HOUSEKEEPING_S", "begin_drain", "create_app"]

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 3600.0  # retention sweep and limit-window purge


def begin_drain(app: FastAPI) -> None:
    """SIGTERM: stop taking tasks and report not ready; running tasks go on (app.py calls it)."""
    ctx: AppContext = app.state.ctx
    if not ctx.drain.draining:
        ctx.drain.draining, ctx.drain.since = True, time.monotonic()
        ctx.service.stop_accepting()
        log.info(
            "draining: no new tasks; running ones get %.0f s", ctx.settings.server.shutdown_grace_s
        )


async def _housekeeping(ctx: AppContext) -> None:
    while True:
        try:
            removed = await ctx.store.sweep(ctx.settings.server.retention_days)
            if removed:
                log.info("retention sweep removed %d executions", removed)
            if ctx.guard is not None:
                await asyncio.to_thread(ctx.guard.purge)
        except Exception:
            log.exception("housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_S)


def _lifespan(ctx: AppContext) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server = ctx.settings.server
        if not ctx.keyring.enabled:
            log.warning("authentication is off: no AGENT_API_KEYS or AGENT_API_KEYS_FILE is set")
        marked = await ctx.store.start()
        if marked:
            log.warning("%d executions left by a stopped server marked failed/interrupted", marked)
        ctx.guard = RateGuard.build(
            server.rate_limit_storage,
            ctx.store.engine,
            per_key=server.rate_limit_per_minute,
            per_ip=server.rate_limit_ip_per_minute,
        )
        await ctx.runtime.start()
        await ctx.service.start()
        keeper = asyncio.create_task(_housekeeping(ctx), name="housekeeping")
        ctx.started = True
        try:
            yield
        finally:
            begin_drain(app)
            spent = time.monotonic() - (ctx.drain.since or time.monotonic())
            await ctx.service.shutdown(max(server.shutdown_grace_s - spent, 0.0))
            ctx.started = False
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await ctx.runtime.shutdown()
            await ctx.store.close()

    return lifespan


def _limit_for(settings: Settings) -> Any:
    server = settings.server

    def limit(method: str, path: str) -> int:
        if method == "POST" and (path.endswith("/files") or not is_api(path)):
            return server.max_upload_bytes  # uploads (REST files, the Gradio app's)
        return server.max_body_bytes

    return limit


def _mount_ui(app: FastAPI, ctx: AppContext) -> FastAPI:
    from agent.offline import quiet_gradio

    quiet_gradio()  # before gradio is imported: no analytics, no version check, no hub calls
    import gradio as gr

    try:
        from agent.ui import mount_ui
    except ImportError:
        with gr.Blocks(title="Agent System", analytics_enabled=False) as ui:
            gr.Markdown("# Agent System\nThe REST API is under `/agent`; see `/docs`.")
        fallback: FastAPI = gr.mount_gradio_app(app, ui, path="/")
        return fallback
    return mount_ui(app, ctx.service, ctx.runtime, ctx.keyring)


def create_app(settings: Settings, *, ui: bool = True) -> FastAPI:
    """REST routes + lifespan (store, runtime, service) + the Gradio UI at `/`."""
    from agent.runtime import AgentRuntime

    server = settings.server
    keyring = KeyRing.from_settings(server)
    postgres = server.database_url.startswith("postgresql")
    if server.task_queue == "procrastinate" and not postgres:
        raise ConfigError(
            "TASK_QUEUE=procrastinate needs a PostgreSQL DATABASE_URL "
            "(postgresql+psycopg://...); unset TASK_QUEUE for the in-process queue"
        )
    queued = server.task_queue == "procrastinate" or (server.task_queue == "auto" and postgres)
    store = SqlRecordStore(
        server.database_url, notebooks_dir=server.notebooks_dir, fail_orphans=not queued
    )
    runtime = AgentRuntime(settings, store=store)
    holder: dict[str, AppContext] = {}

    def gauges() -> dict[str, float]:
        ctx = holder["ctx"]
        stats = ctx.runtime.kernels.stats() if ctx.started else {}
        return {
            "agent_queue_depth": ctx.service.queue_depth,
            "agent_tasks_running": ctx.service.running,
            "agent_kernels_live": float(stats.get("live", 0)),
            "agent_kernels_pooled": float(stats.get("pooled", 0)),
        }

    metrics = Metrics(gauges)
    service: TaskService
    if queued:
        from agent.queue import QueuedTaskService

        service = QueuedTaskService(
            runtime,
            store,
            concurrency=server.concurrency,
            stalled_s=server.queue_stalled_s,
            on_finished=metrics.observe,
        )
    else:
        service = TaskService(
            runtime, store, concurrency=server.concurrency, on_finished=metrics.observe
        )
    ctx = holder["ctx"] = AppContext(
        settings=settings,
        store=store,
        runtime=runtime,
        service=service,
        keyring=keyring,
        metrics=metrics,
    )
    app = FastAPI(
        title="Agent System",
        version="0.2.0",
        summary="Programmatic tool calling in persistent, sandboxed Jupyter kernels.",
        lifespan=_lifespan(ctx),
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    app.include_router(ops.router)
    app.include_router(routes.router)
    app.include_router(files.router)
    if server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "x-api-key",
                "Content-Type",
                "Last-Event-ID",
                "Prefer",
            ],
            expose_headers=["Location", "Preference-Applied", "Retry-After"],
        )
    app.add_middleware(RequestTimeout, seconds=server.request_timeout_s)
    app.add_middleware(BodyLimit, limit_for=_limit_for(settings))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, count=metrics.request)
    return _mount_ui(app, ctx) if ui else app
