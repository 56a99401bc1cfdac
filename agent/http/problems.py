"""RFC 9457 problem documents: every error the HTTP layer sends, mapped from error values once.

A problem carries `type`, `title`, `status`, `detail`, our stable `code`, and for bad bodies
`errors`: one entry per bad field (`field`, `message`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.errors import AgentError
from agent.store import StoreError

__all__ = [
    "PROBLEM_TYPE",
    "Problem",
    "install_problem_handlers",
    "problem_body",
    "problem_response",
]

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"

# one place where error codes become HTTP statuses
STATUS_OF: dict[str, int] = {
    "bad_request": 400,
    "invalid_json": 400,
    "invalid_body": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "unknown_agent": 404,
    "unknown_skill": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "body_too_large": 413,
    "rate_limited": 429,
    "task_budget_exceeded": 429,
    "shutting_down": 503,
    "database_unavailable": 503,
    "request_timeout": 503,
    "llm_unconfigured": 503,
    "kernels_busy": 503,
}

TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """Raise from a route or dependency; the handler turns it into a problem document."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status or STATUS_OF.get(code, 400)
        self.errors = errors
        self.headers = headers or {}


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:agent-system:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, detail, instance=instance, errors=errors),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    code = "invalid_body"
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            code = "invalid_json"
        loc = [str(part) for part in error.get("loc", ())]
        where = loc[0] if loc else "body"
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        errors.append({"field": field, "in": where, "message": str(error.get("msg", "invalid"))})
    return code, errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(AgentError)
    async def _agent_error(request: Request, exc: AgentError) -> JSONResponse:
        status = STATUS_OF.get(exc.code, 400)
        return problem_response(status, exc.code, exc.message, instance=request.url.path)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        log.error("database error on %s: %s", request.url.path, exc)
        detail = "the database is unavailable; retry shortly"
        return problem_response(503, exc.code, detail, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, errors = _field_errors(exc)
        if code == "invalid_json":
            detail = "the body is not valid JSON"
        else:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(400, code, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            status, "http_error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return problem_response(
            status, code, detail, instance=request.url.path, headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        detail = f"unexpected error: {type(exc).__name__}"
        return problem_response(500, "internal_error", detail, instance=request.url.path)
