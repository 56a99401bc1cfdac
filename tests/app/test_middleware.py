"""The guards on a bare FastAPI app (no runtime needed): problems, body limit, timeout, headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from agent.http.middleware import BodyLimit, RequestTimeout, SecurityHeaders
from agent.http.problems import install_problem_handlers


class Body(BaseModel):
    task: str
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/agent/echo")
    async def echo(body: Body) -> dict[str, str]:
        return {"task": body.task}

    @app.get("/agent/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {}

    @app.get("/agent/trickle")
    async def trickle() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"a", b"b", b"c"):
                await asyncio.sleep(0.15)  # 0.45 s in all, past the 0.2 s limit
                yield part

        return StreamingResponse(parts())

    app.add_middleware(RequestTimeout, seconds=0.2)
    app.add_middleware(BodyLimit, limit_for=lambda method, path: 2048)
    app.add_middleware(SecurityHeaders)
    return app


def test_problems_name_each_bad_field() -> None:
    with TestClient(_app()) as client:
        bad = client.post("/agent/echo", json={"count": "many"})
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in bad.json()["errors"]} == {"task", "count"}
        broken = client.post(
            "/agent/echo", content=b"{", headers={"content-type": "application/json"}
        )
        assert broken.json()["code"] == "invalid_json"
        missing = client.get("/agent/nothing")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_body_limit_timeout_and_headers() -> None:
    with TestClient(_app()) as client:
        big = client.post("/agent/echo", json={"task": "x" * 5000, "count": 1})
        assert big.status_code == 413 and big.json()["code"] == "body_too_large"

        def chunks():  # no Content-Length: counted while read
            for _ in range(5):
                yield b"x" * 1000

        assert client.post("/agent/echo", content=chunks()).status_code == 413
        slow = client.get("/agent/slow")
        assert slow.status_code == 503 and slow.json()["code"] == "request_timeout"
        # the limit is on starting the answer: a stream that has started runs to its end
        assert client.get("/agent/trickle").content == b"abc"
        ok = client.post("/agent/echo", json={"task": "t", "count": 1})
        assert ok.headers["x-content-type-options"] == "nosniff"
        assert ok.headers["cache-control"] == "no-store"
        assert "server" not in ok.headers
