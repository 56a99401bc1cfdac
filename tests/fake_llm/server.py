"""FakeLLM: a real local HTTP server speaking OpenAI /v1/chat/completions and Anthropic /v1/messages.

Replies come from a queue a test fills, then from `responder`, else an HTTP 500 saying nothing was
scripted. Every request is recorded (path, headers, JSON body), including whether the client hung up.
"""

from __future__ import annotations

import itertools
import json
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_llm import wire_anthropic, wire_openai
from tests.fake_llm.replies import RecordedRequest, Reply, count_tokens, request_text

__all__ = ["NOTHING_SCRIPTED", "FakeLLM", "Responder"]

Responder = Callable[[RecordedRequest], "Reply | str"]
NOTHING_SCRIPTED = (
    "fake LLM: nothing was scripted for this request (queue a reply or set a responder)"
)
_PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


def _pieces(text: str) -> list[str]:
    """Stream deltas: one word with its trailing whitespace each, so joined they are the text."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeLLM


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `fake.requests`, not the access log."""

    def do_GET(self) -> None:
        if self.path in ("/health", "/v1/models"):
            self._send_json(200, {"ok": True, "object": "list", "data": []})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        wire = _PATHS.get(self.path.split("?")[0])
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self._send_json(400, {"error": {"message": "fake LLM: the body is not JSON"}})
            return
        if wire is None:
            self._send_json(404, {"error": {"message": f"fake LLM: no route {self.path}"}})
            return
        request = RecordedRequest(
            path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, json=body
        )
        fake = self.server.fake
        reply = fake._next_reply(request)
        try:
            self._answer(wire, request, reply)
        except (BrokenPipeError, ConnectionResetError):
            request._closed.set()

    def _peer_closed(self, wait_s: float) -> bool:
        """Wait up to wait_s; True as soon as the client has closed its end."""
        sock = self.connection
        stop = self.server.fake._stopping
        deadline = time.monotonic() + wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            if stop.is_set():
                return True
            readable, _, _ = select.select([sock], [], [], min(remaining, 0.05))
            if not readable:
                continue
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
            time.sleep(min(remaining, 0.05))  # bytes pending, not a close: keep waiting
        return False

    def _answer(self, wire: str, request: RecordedRequest, reply: Reply) -> None:
        if reply.delay_s > 0 and self._peer_closed(reply.delay_s):
            request._closed.set()
            return
        model = str(request.json.get("model", "fake")) if isinstance(request.json, dict) else "fake"
        if reply.status >= 400:
            message = reply.error or f"fake LLM: scripted HTTP {reply.status}"
            module = wire_anthropic if wire == "anthropic" else wire_openai
            self._send_json(reply.status, module.error_body(reply.status, message), reply.headers)
            return
        calls_text = " ".join(json.dumps(c.arguments) for c in reply.calls())
        tokens = reply.usage or (
            count_tokens(request_text(request.json)),
            count_tokens(reply.text) + count_tokens(calls_text),
        )
        rid = self.server.fake._new_id(wire)
        if not request.stream:
            if wire == "anthropic":
                payload = wire_anthropic.response_body(reply, model, tokens, rid)
            else:
                payload = wire_openai.response_body(reply, model, tokens, rid)
            self._send_json(reply.status, payload, reply.headers)
            return
        pieces = _pieces(reply.text)
        frames: Iterator[bytes]
        if wire == "anthropic":
            frames = wire_anthropic.stream_frames(reply, pieces, model, tokens, rid)
        else:
            options = request.json.get("stream_options") or {}
            frames = wire_openai.stream_frames(
                reply, pieces, model, tokens, rid, bool(options.get("include_usage"))
            )
        self.send_response(reply.status)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        for frame in frames:
            self.wfile.write(frame)
            self.wfile.flush()
            if reply.chunk_delay_s > 0 and self._peer_closed(reply.chunk_delay_s):
                request._closed.set()
                return

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeLLM:
    """Start with `start()` (or `with FakeLLM() as fake:`); `port=0` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.responder: Responder | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeLLM:
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    # --- scripting -------------------------------------------------------------------------

    def queue(self, *replies: Reply | str) -> None:
        """Answer the next requests with these, in order (a str is a plain text reply)."""
        with self._lock:
            self._queue.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.responder = None

    def _new_id(self, wire: str) -> str:
        prefix = "msg_fake" if wire == "anthropic" else "chatcmpl-fake"
        return f"{prefix}{next(self._ids):06d}"

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        if responder is None:
            return Reply(status=500, error=NOTHING_SCRIPTED)
        try:
            reply = responder(request)
        except Exception as exc:  # a broken responder is a test bug: say so in the reply
            return Reply(status=500, error=f"fake LLM: the responder raised {exc!r}")
        return Reply(text=reply) if isinstance(reply, str) else reply
