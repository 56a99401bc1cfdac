"""The Anthropic messages wire format: a response body, SSE events, an error body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.fake_llm.replies import FakeToolCall, Reply

__all__ = ["error_body", "response_body", "stream_frames"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _stop(reply: Reply, calls: list[FakeToolCall]) -> str:
    return reply.stop_reason or ("tool_use" if calls else "end_turn")


def _message(
    reply: Reply,
    model: str,
    rid: str,
    content: list[dict[str, Any]],
    stop: str | None,
    usage: dict[str, int],
) -> dict[str, Any]:
    return {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def response_body(reply: Reply, model: str, tokens: tuple[int, int], rid: str) -> dict[str, Any]:
    calls = reply.calls()
    content: list[dict[str, Any]] = []
    if reply.text or not calls:
        content.append({"type": "text", "text": reply.text})
    content += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in calls
    ]
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
    return _message(reply, model, rid, content, _stop(reply, calls), usage)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def stream_frames(
    reply: Reply, pieces: list[str], model: str, tokens: tuple[int, int], rid: str
) -> Iterator[bytes]:
    """message_start, per block start/delta.../stop, message_delta (usage), message_stop."""
    calls = reply.calls()
    start_usage = {"input_tokens": tokens[0], "output_tokens": 1}
    yield _event(
        "message_start",
        {"type": "message_start", "message": _message(reply, model, rid, [], None, start_usage)},
    )
    index = 0
    if reply.text or not calls:
        yield _event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield _event("ping", {"type": "ping"})
        for piece in pieces:
            yield _event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    for call in calls:
        block: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        )
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        for part in (arguments[:middle], arguments[middle:]):
            yield _event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": part},
                },
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop(reply, calls), "stop_sequence": None},
            "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]},
        },
    )
    yield _event("message_stop", {"type": "message_stop"})


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
