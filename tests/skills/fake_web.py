"""Local HTTP fakes for the web skills: a SearXNG JSON API, Brave/Tavily look-alikes, and pages."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeWeb", "free_port", "serve_fake_web"]

PAGE = """<!doctype html><html><head><title>Kernel notes</title>
<style>body { color: red }</style><script>var secret = "do not show";</script></head>
<body><nav>Home | About</nav><h1>Jupyter kernels</h1>
<p>The stdin channel carries <b>input requests</b> to the host.</p>
<p>Second paragraph.</p><footer>copyright</footer></body></html>"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeWeb:
    """What the fake saw, for assertions."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.requests: list[dict[str, Any]] = []


def _handler(web: FakeWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(
            self,
            status: int,
            body: bytes | str,
            kind: str = "text/html; charset=utf-8",
            **headers: str,
        ) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def _json(self, payload: Any, status: int = 200) -> None:
            self._send(status, json.dumps(payload), "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            web.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
            if self.path == "/tavily" and self.headers.get("Authorization") == "Bearer tv-key":
                hits = [
                    {"title": f"T{i}", "url": f"https://t.example/{i}", "content": "tav"}
                    for i in range(body["max_results"])
                ]
                self._json({"results": hits})
            else:
                self._json({"error": "unauthorized"}, 401)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            web.requests.append({"path": parts.path, "query": query, "headers": dict(self.headers)})
            path = parts.path
            if path == "/search":
                if query.get("format") != "json":
                    self._send(403, "Forbidden")
                    return
                q = query.get("q", "")
                hits = [
                    {
                        "title": f"Result {i} for {q}",
                        "url": f"https://example.org/{i}",
                        "content": f" snippet {i} ",
                    }
                    for i in range(8)
                ]
                self._json({"query": q, "results": hits})
            elif path == "/brave":
                if self.headers.get("X-Subscription-Token") != "br-key":
                    self._json({"error": "bad key"}, 401)
                    return
                count = int(query.get("count", "5"))
                self._json(
                    {
                        "web": {
                            "results": [
                                {
                                    "title": f"B{i}",
                                    "url": f"https://b.example/{i}",
                                    "description": "brave",
                                }
                                for i in range(count)
                            ]
                        }
                    }
                )
            elif path == "/json-off/search":
                self._send(403, "Forbidden")
            elif path == "/not-json/search":
                self._send(200, "<html><body>a login page</body></html>")
            elif path == "/slow":
                time.sleep(float(query.get("s", "3")))
                self._json({"results": []})
            elif path == "/page.html":
                self._send(200, PAGE)
            elif path == "/plain.txt":
                self._send(200, "just text\nline two", "text/plain; charset=utf-8")
            elif path == "/big.html":
                self._send(
                    200, "<html><body><p>" + "word " * 50_000 + "</p><p>THE END</p></body></html>"
                )
            elif path == "/image.png":
                self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")
            elif path == "/redirect":
                self._send(302, "", Location=query["to"])
            else:
                self._send(404, "not here")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # the timeout tests hang up on /slow on purpose; anything else is a fake's bug to show
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_fake_web() -> Iterator[FakeWeb]:
    port = free_port()
    web = FakeWeb(port)
    server = _Server(("127.0.0.1", port), _handler(web))
    thread = threading.Thread(target=server.serve_forever, name="fake-web", daemon=True)
    thread.start()
    try:
        yield web
    finally:
        server.shutdown()
        server.server_close()
