"""`python -m tests.fake_llm --port 8099 --script replies.yaml`: the fake server for demos.

Replies come from a reply script (the scripted provider's format: a YAML list of {match?, reply});
point a provider at it with LLM_BASE_URL=http://127.0.0.1:8099/v1 (OpenAI wire) or
ANTHROPIC_BASE_URL=http://127.0.0.1:8099 (Anthropic wire).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from agent.llm.script import ReplyScript, ScriptError
from tests.fake_llm.replies import FakeToolCall, RecordedRequest, Reply
from tests.fake_llm.server import FakeLLM

__all__ = ["main"]


def _responder(script: ReplyScript) -> Callable[[RecordedRequest], Reply]:
    def answer(request: RecordedRequest) -> Reply:
        try:
            entry = script.pick(request.last_user_text())
        except ScriptError as exc:
            return Reply(status=400, error=str(exc))
        calls = [FakeToolCall(c["name"], dict(c.get("arguments") or {})) for c in entry.tool_calls]
        return Reply(text=entry.reply, tool_calls=list(calls))

    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    parser.add_argument(
        "--script", type=Path, help="YAML reply script; without it every request gets HTTP 500"
    )
    args = parser.parse_args(argv)
    fake = FakeLLM(args.host, args.port)
    if args.script is not None:
        try:
            fake.responder = _responder(ReplyScript.load(args.script))
        except ScriptError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        fake.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"fake LLM listening on {fake.base_url} (OpenAI: {fake.openai_base_url})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
