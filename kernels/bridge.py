"""The host side of the skill bridge: answer the kernel's marked `input_request`s.

A request carries a batch of calls (one, or all of a `parallel(...)` round); the host awaits the
handler for each concurrently and replies with the outcomes as JSON, in order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from kernels.inkernel import MARK
from kernels.results import CallHandler, CallOutcome

__all__ = ["EOF_REPLY", "Bridge", "HostOutcome"]

EOF_REPLY = "\x04"  # ipykernel turns this reply into EOFError: no person answers plain input()


@dataclass
class HostOutcome:
    """An outcome the bridge made itself (no handler, the handler raised, a bad request)."""

    ok: bool
    result: Any = None
    error: str | None = None
    error_type: str | None = None
    name: str = ""
    duration_ms: float = 0.0


def _jsonable(value: Any) -> Any:
    """What json.dumps cannot take on its own but has one obvious JSON form."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"a value of type {type(value).__name__} is not JSON-serialisable")


def _encode(name: str, outcome: CallOutcome) -> dict[str, Any]:
    if not outcome.ok:
        return {
            "ok": False,
            "error": outcome.error or f"{name} failed",
            "error_type": outcome.error_type,
        }
    try:
        json.dumps(outcome.result, default=_jsonable)
    except (TypeError, ValueError) as exc:
        return {
            "ok": False,
            "error": f"{name} returned a value the program cannot receive: {exc}",
            "error_type": "not_serialisable",
        }
    return {"ok": True, "result": outcome.result}


class Bridge:
    """Answers one run's calls with `on_call`; keeps what the handler returned, in call order."""

    def __init__(self, on_call: CallHandler | None) -> None:
        self.on_call = on_call
        self.calls: list[CallOutcome] = []

    async def _one(self, call: Any) -> CallOutcome:
        started = time.perf_counter()
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            return HostOutcome(
                ok=False, error="malformed call from the kernel", error_type="bad_call"
            )
        name = call["name"]
        args: list[Any] = call["args"] if isinstance(call.get("args"), list) else []
        kwargs: dict[str, Any] = call["kwargs"] if isinstance(call.get("kwargs"), dict) else {}
        if self.on_call is None:
            return HostOutcome(
                ok=False,
                name=name,
                error=f"{name}: no skills are available in this run",
                error_type="no_handler",
            )
        try:
            return await self.on_call(name, args, kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler bug must reach the program as an error, not a hang
            return HostOutcome(
                ok=False,
                name=name,
                error=f"{name}: {type(exc).__name__}: {exc}",
                error_type="host_error",
                duration_ms=(time.perf_counter() - started) * 1000,
            )

    async def answer(self, prompt: str) -> str:
        """The reply to one input_request."""
        if not prompt.startswith(MARK):
            return EOF_REPLY
        try:
            calls = json.loads(prompt[len(MARK) :])["calls"]
            if not isinstance(calls, list):
                raise TypeError("calls is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            bad = {"ok": False, "error": f"unreadable call: {exc}", "error_type": "bad_call"}
            return json.dumps({"outcomes": [bad]})
        if len(calls) == 1:  # the common case: no task per call
            outcomes = [await self._one(calls[0])]
        else:
            outcomes = list(await asyncio.gather(*(self._one(call) for call in calls)))
        self.calls.extend(outcomes)
        names = [c.get("name", "?") if isinstance(c, dict) else "?" for c in calls]
        encoded = [_encode(n, o) for n, o in zip(names, outcomes, strict=True)]
        return json.dumps({"outcomes": encoded}, default=_jsonable)
