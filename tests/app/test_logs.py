"""The server's JSON log: what no logger call writes (a thread's death, an error in a finalizer)
is still one JSON line, in a process of its own so the hooks stay out of pytest's."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.app.conftest import REPO

PROGRAM = """
import threading
from agent.http.logs import configure_logging

configure_logging()

def channel():
    raise OSError("Too many open files")

thread = threading.Thread(target=channel, name="hb-channel")
thread.start()
thread.join()

class Finalized:
    def __del__(self):
        raise ValueError("in a finalizer")

Finalized()
"""


def test_uncaught_thread_and_finalizer_errors_are_json_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    thread, finalizer = lines
    assert thread["logger"] == "agent.uncaught" and thread["level"] == "error"
    assert "hb-channel" in thread["msg"] and "OSError: Too many open files" in thread["exc"]
    assert "Finalized" in finalizer["msg"] and "ValueError: in a finalizer" in finalizer["exc"]
