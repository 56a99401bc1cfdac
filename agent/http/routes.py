"""REST routes under /agent and /skills: execute, executions (record, history, events, notebook,
cancel), sessions. Bodies are pydantic models with the camelCase names of the original API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sse_starlette import EventSourceResponse, ServerSentEvent

from agent.config import Settings
from agent.http.context import AppContext, Principal, context_of, principal
from agent.http.problems import Problem
from agent.records import ExecutionRecord
from agent.service import TaskService
from agent.sessions import Turn
from agent.store import SqlRecordStore

__all__ = ["ID_PATTERN", "ExecuteBody", "router"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
SSE_PING_S = 15
WAIT_MARGIN_S = 1.0  # a waiting request answers this long before REQUEST_TIMEOUT_MS would cut it

router = APIRouter()
Auth = Annotated[Principal, Depends(principal)]


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ExecuteBody(_Body):
    task: str = Field(min_length=1, max_length=100_000)
    session_id: str | None = Field(None, pattern=ID_PATTERN)
    available_skills: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = None
    agent: str | None = Field(None, min_length=1, max_length=128)
    idempotency_key: str | None = Field(None, min_length=1, max_length=256)
    provider: str | None = Field(None, min_length=1, max_length=128)
    model: str | None = Field(None, min_length=1, max_length=256)


class Accepted(_Body):
    execution_id: str
    session_id: str
    status: str


class Summary(_Body):
    execution_id: str
    session_id: str
    status: str
    task: str
    agent: str
    result: Any = None
    error: dict[str, Any] | None = None
    notebook: str | None = None
    created_at: str
    finished_at: str | None = None


class HistoryPage(_Body):
    items: list[Summary]
    next_cursor: str | None


def _summary(record: ExecutionRecord) -> Summary:
    wire = record.wire()
    names = [field.alias or name for name, field in Summary.model_fields.items()]
    return Summary.model_validate({name: wire.get(name) for name in names})


def _notebook_path(root: Path, notebook: str | None) -> Path | None:
    """The run's notebook if it is a file under NOTEBOOKS_DIR."""
    if not notebook:
        return None
    path = Path(notebook).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path


def _not_found(kind: str, ident: str) -> Problem:
    return Problem("not_found", f"no {kind} {ident!r}")


def _allowed(who: Principal, body: ExecuteBody, default_agent: str) -> list[str] | None:
    """A key limited to some agents/skills: 403 outside them; no list asked means the key's list."""
    key = who.key
    if key is None:
        return body.available_skills
    if key.agents is not None:
        agent = body.agent or default_agent
        if agent not in key.agents:
            raise Problem("forbidden", f"this API key may not use agent {agent!r}", status=403)
    if key.skills is None:
        return body.available_skills
    if body.available_skills is None:
        return list(key.skills)
    outside = [s for s in body.available_skills if s not in key.skills]
    if outside:
        raise Problem("forbidden", f"this API key may not use skills {outside}", status=403)
    return body.available_skills


async def submit_body(
    service: TaskService, body: ExecuteBody, skills: list[str] | None, owner: str | None
) -> ExecutionRecord:
    """Queue what an execute body asks for (REST and the UI's chat share it)."""
    return await service.submit(
        body.task,
        session_id=body.session_id,
        agent=body.agent,
        available_skills=skills,
        provider=body.provider,
        model=body.model,
        owner=owner,
        idempotency_key=body.idempotency_key,
    )


def preferred_wait(prefer: str | None, ctx: AppContext) -> int | None:
    """The seconds of RFC 7240's `Prefer: wait=N`, capped so the answer comes before the request
    timeout; None without one (a malformed preference is ignored, as the RFC asks)."""
    for preference in (prefer or "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        seconds = value.strip().strip('"')
        if name.strip().lower() == "wait" and seconds.isdigit():
            cap = max(int(ctx.settings.server.request_timeout_s - WAIT_MARGIN_S), 0)
            return min(int(seconds), cap) or None
    return None


async def finished_within(
    service: TaskService, record: ExecutionRecord, seconds: int
) -> ExecutionRecord | None:
    """The record once terminal if that happens within `seconds` (the task runs on regardless)."""
    if record.done:
        return record
    try:
        async with asyncio.timeout(seconds):
            return await service.wait(record.execution_id)
    except TimeoutError:
        return None


def _waited(record: ExecutionRecord, seconds: int) -> JSONResponse:
    headers = {
        "Location": f"/agent/executions/{record.execution_id}",
        "Preference-Applied": f"wait={seconds}",
    }
    return JSONResponse(record.wire(), headers=headers)


async def check_task_budget(settings: Settings, store: SqlRecordStore, owner: str | None) -> None:
    """A key may have MAX_RUNNING_TASKS_PER_KEY tasks queued or running at once (REST and UI)."""
    budget = settings.server.max_running_tasks_per_key
    if owner is not None and budget > 0 and await store.active_count(owner) >= budget:
        raise Problem(
            "task_budget_exceeded",
            f"this API key already has {budget} tasks queued or running; retry when one ends",
            headers={"Retry-After": "5"},
        )


@router.post(
    "/agent/execute",
    status_code=202,
    response_model=Accepted,
    tags=["executions"],
    responses={
        200: {
            "description": "the finished record (`Prefer: wait`), a repeated key, or with "
            "`Accept: text/event-stream` the execution's events (as `/events` gives them)",
            "content": {"text/event-stream": {}},
        }
    },
)
async def execute(
    body: ExecuteBody,
    request: Request,
    response: Response,
    who: Auth,
    prefer: Annotated[str | None, Header()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Accepted | JSONResponse | EventSourceResponse:
    """Queue a task. A repeated `idempotencyKey` returns the first execution (200). With
    `Accept: text/event-stream` the answer is the execution's event stream, to `done` (one
    request to submit and follow). With `Prefer: wait=N`, a task finished within N seconds
    comes back whole (200, the record as `GET /agent/executions/{id}` gives it); otherwise the
    usual 202."""
    ctx = context_of(request)
    skills = _allowed(who, body, ctx.settings.agents.default_agent)
    stream = wants_events(accept)
    wait = None if stream else preferred_wait(prefer, ctx)
    record = None
    if body.idempotency_key is not None:
        record = await ctx.store.find_idempotent(who.owner, body.idempotency_key)
    if record is None:
        await check_task_budget(ctx.settings, ctx.store, who.owner)
        record = await submit_body(ctx.service, body, skills, who.owner)
    else:  # a repeated key: the first execution
        response.status_code = 200
    request.state.execution_id = record.execution_id
    location = f"/agent/executions/{record.execution_id}"
    if stream:
        return _event_stream(ctx.service, record.execution_id, who.owner, Location=location)
    if wait is not None:
        response.headers["Preference-Applied"] = f"wait={wait}"
        finished = await finished_within(ctx.service, record, wait)
        if finished is not None:
            return _waited(finished, wait)
    response.headers["Location"] = location
    return Accepted(
        execution_id=record.execution_id, session_id=record.session_id, status=record.status
    )


@router.get("/agent/executions", response_model=HistoryPage, tags=["executions"])
async def history(
    request: Request,
    who: Auth,
    session_id: Annotated[str | None, Query(alias="sessionId", pattern=ID_PATTERN)] = None,
    status: Literal["queued", "running", "completed", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> HistoryPage:
    """The key's executions, newest first; pass `nextCursor` back as `cursor` for the next page."""
    ctx = context_of(request)
    page = await ctx.store.page(
        owner=who.owner, session_id=session_id, status=status, limit=limit, cursor=cursor
    )
    return HistoryPage(items=[_summary(r) for r in page.records], next_cursor=page.next_cursor)


@router.get("/agent/executions/{execution_id}", tags=["executions"])
async def get_execution(
    execution_id: str,
    request: Request,
    who: Auth,
    prefer: Annotated[str | None, Header()] = None,
) -> Any:
    """The record; with `Prefer: wait=N`, once it is terminal or N seconds have passed (a long
    poll), whichever comes first."""
    ctx = context_of(request)
    record = await ctx.service.get(execution_id, owner=who.owner)
    if record is None:
        raise _not_found("execution", execution_id)
    wait = preferred_wait(prefer, ctx)
    if wait is None:
        return record.wire()
    finished = await finished_within(ctx.service, record, wait)
    latest = finished or await ctx.service.get(execution_id, owner=who.owner) or record
    return _waited(latest, wait)


def _event_stream(
    service: TaskService, execution_id: str, owner: str | None, *, skip: int = 0, **headers: str
) -> EventSourceResponse:
    """The execution's events as SSE: those so far (from number `skip`), then live ones, ending
    with `done`."""

    async def stream() -> AsyncIterator[bytes]:
        # a burst of events (a streamed reply's deltas, a step and its status) is encoded into
        # one chunk: one write to the socket instead of one per event
        number = 0
        async for batch in service.event_batches(execution_id, owner=owner):
            chunk = bytearray()
            for event in batch:
                if number >= skip:
                    data = event.model_dump_json(by_alias=True)
                    chunk += ServerSentEvent(data=data, event=event.type, id=str(number)).encode()
                number += 1
            if chunk:
                yield bytes(chunk)

    return EventSourceResponse(
        stream(), ping=SSE_PING_S, headers={"Cache-Control": "no-store", **headers}
    )


def wants_events(accept: str | None) -> bool:
    """`Accept` names `text/event-stream` and not JSON: the client reads the task's events."""
    types = {part.split(";")[0].strip().lower() for part in (accept or "").split(",")}
    return "text/event-stream" in types and "application/json" not in types


@router.get("/agent/executions/{execution_id}/events", tags=["executions"])
async def execution_events(
    execution_id: str,
    request: Request,
    who: Auth,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Server-Sent Events: the steps so far, then live ones, ending with `done`."""
    service = context_of(request).service
    if await service.get(execution_id, owner=who.owner) is None:
        raise _not_found("execution", execution_id)
    skip = int(last_event_id) + 1 if last_event_id and last_event_id.isdigit() else 0
    return _event_stream(service, execution_id, who.owner, skip=skip)


@router.get(
    "/agent/executions/{execution_id}/notebook",
    tags=["executions"],
    response_class=FileResponse,
    responses={200: {"content": {"application/x-ipynb+json": {}}}},
)
async def execution_notebook(execution_id: str, request: Request, who: Auth) -> FileResponse:
    ctx = context_of(request)
    record = await ctx.service.get(execution_id, owner=who.owner)
    if record is None:
        raise _not_found("execution", execution_id)
    path = _notebook_path(ctx.settings.server.notebooks_dir, record.notebook)
    if path is None:
        raise Problem("not_found", f"execution {execution_id!r} has no notebook (yet)")
    return FileResponse(
        path,
        media_type="application/x-ipynb+json",
        filename=f"{execution_id}.ipynb",
        headers={"Cache-Control": "no-store"},
    )


@router.post("/agent/executions/{execution_id}/cancel", tags=["executions"])
async def cancel_execution(execution_id: str, request: Request, who: Auth) -> dict[str, Any]:
    """Cancel while queued or running; a finished execution comes back unchanged."""
    record = await context_of(request).service.cancel(execution_id, owner=who.owner)
    if record is None:
        raise _not_found("execution", execution_id)
    return record.wire()


async def _own_session(request: Request, session_id: str, who: Principal) -> None:
    row = await context_of(request).store.session(session_id)
    if row is None or row.owner != who.owner:
        raise _not_found("session", session_id)


@router.get("/agent/sessions/{session_id}", tags=["sessions"])
async def get_session(session_id: str, request: Request, who: Auth) -> dict[str, Any]:
    """The session's turns (what later tasks see), its executions and its kernel's variables."""
    ctx = context_of(request)
    await _own_session(request, session_id, who)
    records = await ctx.store.session_records(session_id)
    row = await ctx.store.session(session_id)
    variables = await ctx.runtime.variables(session_id)
    return {
        "sessionId": session_id,
        "executionIds": [r.execution_id for r in records],
        "turns": [vars(Turn.of(r)) for r in records if r.done],
        "active": [r.execution_id for r in records if not r.done],
        "variables": [vars(v) for v in variables],
        "createdAt": row.created_at if row else None,
        "updatedAt": row.updated_at if row else None,
    }


@router.delete("/agent/sessions/{session_id}", tags=["sessions"])
async def delete_session(session_id: str, request: Request, who: Auth) -> dict[str, Any]:
    """Cancel its tasks, shut its kernel down, forget its history, executions and notebooks."""
    await _own_session(request, session_id, who)
    deleted = await context_of(request).service.delete_session(session_id)
    return {"sessionId": session_id, "deleted": True, "executionsDeleted": deleted}


@router.get("/skills", tags=["skills"])
async def list_skills(request: Request, who: Auth) -> dict[str, Any]:
    catalog = context_of(request).runtime.skills.catalog()
    allowed = who.key.skills if who.key is not None else None
    skills = [
        s.model_dump(exclude={"path"})  # json_schema: the arguments, for clients that validate
        for s in catalog.skills
        if allowed is None or s.name in allowed
    ]
    return {"skills": skills, "errors": [e.model_dump() for e in catalog.errors]}
