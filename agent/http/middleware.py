"""Pure ASGI middleware (streams pass through untouched): security headers, body-size limit,
request timeout, and one JSON access-log line per request."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.http.problems import PROBLEM_TYPE, problem_body

__all__ = ["AccessLog", "BodyLimit", "RequestTimeout", "SecurityHeaders", "is_api"]

log = logging.getLogger("agent.http.access")

API_PREFIXES = ("/agent/", "/skills")
API_PATHS = frozenset({"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/redoc"})
EXECUTION_IN_PATH = re.compile(r"/agent/executions/([A-Za-z0-9_]+)")

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=15552000; includeSubDomains"),
]
API_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in API_PATHS


async def _send_problem(send: Send, status: int, code: str, detail: str, path: str) -> None:
    body = json.dumps(problem_body(status, code, detail, instance=path)).encode()
    headers = [
        (b"content-type", PROBLEM_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Standard headers on every response; API responses also get a closed CSP and no-store
    (the Gradio pages get no CSP: they rely on inline scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = is_api(scope["path"])

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [*COMMON_HEADERS, *(API_HEADERS if api else [])]
                headers = list(message.get("headers", []))
                headers.extend(h for h in extra if h[0] not in present)
                headers = [h for h in headers if h[0].lower() not in (b"server", b"x-powered-by")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for bodies over the limit, by Content-Length up front or by counting a chunked body."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        detail = f"the request body is larger than {limit} bytes"
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_problem(send, 413, "body_too_large", detail, scope["path"])
            return
        seen = 0
        over = False
        replaced = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal replaced
            if over:  # the app answered its own error for the cut body: answer 413 instead
                if not replaced:
                    replaced = True
                    await _send_problem(send, 413, "body_too_large", detail, scope["path"])
                return
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not replaced:
                await _send_problem(send, 413, "body_too_large", detail, scope["path"])


class RequestTimeout:
    """503 for API requests that have not started their answer within the limit. Once it has
    started, an answer runs on: an event stream (`/events`, or `POST /agent/execute` asked for
    one) lives as long as its task. The Gradio app is exempt."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_api(path):
            await self.app(scope, receive, send)
            return
        started = False
        deadline = asyncio.timeout(self.seconds)

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, tracking)
        except TimeoutError:
            if not started:
                detail = f"the request took longer than {self.seconds:g} s"
                await _send_problem(send, 503, "request_timeout", detail, path)


class AccessLog:
    """One JSON line per request (method, path, status, ms, key id, execution id); counts it."""

    def __init__(self, app: ASGIApp, *, count: Callable[[str, str, int], None]) -> None:
        self.app = app
        self.count = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        begin = time.perf_counter()
        status = 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            path = scope["path"]
            route: Any = scope.get("route")
            fallback = "unmatched" if is_api(path) else "/gradio"
            template = getattr(route, "path", None) or fallback
            self.count(scope["method"], template, status)
            if is_api(path):
                match = EXECUTION_IN_PATH.match(path)
                state = scope.get("state") or {}
                log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "status": status,
                        "ms": round((time.perf_counter() - begin) * 1000, 2),
                        "keyId": state.get("owner"),
                        "executionId": match.group(1) if match else state.get("execution_id"),
                    },
                )
