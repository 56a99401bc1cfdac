"""Runs tests/skills/mcp_server.py as a streamable-HTTP MCP server process for a test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.skills.fake_web import free_port

__all__ = ["PYTHON", "SERVER", "HttpMcpServer", "serve_http_mcp"]

PYTHON = sys.executable
SERVER = Path(__file__).with_name("mcp_server.py")


@dataclass
class HttpMcpServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    stderr: Path


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@contextmanager
def serve_http_mcp(
    directory: Path, *, port: int | None = None, tools: int = 0, within_s: float = 30.0
) -> Iterator[HttpMcpServer]:
    """Start the server, wait until it listens, stop it (and wait for it) on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    stderr = directory / "mcp-http.stderr"
    args = [PYTHON, str(SERVER), "--http", str(port), "--tools", str(tools)]
    with stderr.open("wb") as errors:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + within_s
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = stderr.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"MCP test server did not start on port {port}:\n{tail}")
            time.sleep(0.05)
        yield HttpMcpServer(f"http://127.0.0.1:{port}/mcp", port, process, stderr)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
