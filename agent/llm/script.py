"""A reply script: a YAML list of canned replies, picked by regex on the last user message.

Shared by the `scripted` provider and the fake LLM server's standalone mode, so a demo script
behaves the same whether it is replayed in-process or served over HTTP.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ReplyScript", "ScriptEntry", "ScriptError", "estimate_tokens"]


class ScriptError(Exception):
    """A reply script that cannot be loaded or has no entry for a message; one line."""


@dataclass(frozen=True)
class ScriptEntry:
    reply: str
    match: re.Pattern[str] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # [{name, arguments}]


def estimate_tokens(text: str) -> int:
    """A rough token count (whitespace-separated words), for replies that are not from a model."""
    return len(text.split())


def _entry(raw: Any, where: str) -> ScriptEntry:
    if isinstance(raw, str):
        return ScriptEntry(reply=raw)
    if not isinstance(raw, dict) or "reply" not in raw:
        raise ScriptError(f"{where}: each entry needs a `reply` (and an optional `match`)")
    unknown = set(raw) - {"reply", "match", "tool_calls"}
    if unknown:
        raise ScriptError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: match, reply, tool_calls"
        )
    pattern = None
    if raw.get("match") is not None:
        try:
            pattern = re.compile(str(raw["match"]), re.IGNORECASE)
        except re.error as exc:
            raise ScriptError(f"{where}: bad `match` regex {raw['match']!r}: {exc}") from None
    calls = raw.get("tool_calls") or []
    if not isinstance(calls, list) or not all(isinstance(c, dict) and "name" in c for c in calls):
        raise ScriptError(f"{where}: `tool_calls` must be a list of {{name, arguments}} mappings")
    return ScriptEntry(reply=str(raw["reply"] or ""), match=pattern, tool_calls=calls)


class ReplyScript:
    """The first entry whose `match` matches wins; entries without `match` answer in turn."""

    def __init__(self, entries: list[ScriptEntry], source: str = "script") -> None:
        if not entries:
            raise ScriptError(f"{source}: the reply script is empty")
        self.source = source
        self.entries = entries
        self._matching = [e for e in entries if e.match is not None]
        self._in_turn = [e for e in entries if e.match is None]
        self._turn = 0
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> ReplyScript:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScriptError(f"{path}: cannot read the reply script: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ScriptError(f"{path}: broken YAML: {exc}".splitlines()[0]) from None
        if not isinstance(data, list):
            raise ScriptError(f"{path}: expected a YAML list of {{match?, reply}} entries")
        return cls([_entry(raw, f"{path} entry {i + 1}") for i, raw in enumerate(data)], str(path))

    def pick(self, last_user_message: str) -> ScriptEntry:
        for entry in self._matching:
            if entry.match is not None and entry.match.search(last_user_message):
                return entry
        if not self._in_turn:
            preview = " ".join(last_user_message.split())[:80]
            raise ScriptError(
                f"{self.source}: no entry matches {preview!r} and none answers without `match`"
            )
        with self._lock:
            entry = self._in_turn[self._turn % len(self._in_turn)]
            self._turn += 1
        return entry
