"""The OpenAI chat-completions wire format: a response body, SSE chunks, an error body."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.fake_llm.replies import FakeToolCall, Reply

__all__ = ["error_body", "response_body", "stream_frames"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


def _usage(tokens: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)}


def _finish(reply: Reply, calls: list[FakeToolCall]) -> str:
    return reply.stop_reason or ("tool_calls" if calls else "stop")


def _wire_call(call: FakeToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def response_body(reply: Reply, model: str, tokens: tuple[int, int], rid: str) -> dict[str, Any]:
    calls = reply.calls()
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if calls:
        message["tool_calls"] = [_wire_call(c) for c in calls]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": _finish(reply, calls),
                "logprobs": None,
            }
        ],
        "usage": _usage(tokens),
    }


def stream_frames(
    reply: Reply,
    pieces: list[str],
    model: str,
    tokens: tuple[int, int],
    rid: str,
    include_usage: bool,
) -> Iterator[bytes]:
    """`data: {chunk}` frames: role, text deltas, tool-call deltas, finish, usage, then [DONE]."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if include_usage:
            body["usage"] = None
        return f"data: {json.dumps(body)}\n\n".encode()

    calls = reply.calls()
    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        yield chunk({"content": piece})
    for index, call in enumerate(calls):
        head = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        for part in (arguments[:middle], arguments[middle:]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    yield chunk({}, _finish(reply, calls))
    if include_usage:
        final = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": _usage(tokens),
        }
        yield f"data: {json.dumps(final)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}
