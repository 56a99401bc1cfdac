"""Sessions: a conversation (its earlier turns, bounded by a token budget) plus its kernel.

The turns come from the store the first time a session is used in this process, so a restarted
server still shows the model what was said. Each session has a lock: its tasks run in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.prompting import estimate_tokens, render, truncate
from agent.records import ExecutionRecord

__all__ = ["Session", "Sessions", "Turn", "answer_text", "history_text"]

ANSWER_CHARS = 800  # per turn in the history, so one long answer cannot crowd out the others


def answer_text(value: Any) -> str:
    """An answer as the model and the history see it: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


@dataclass
class Turn:
    task: str
    status: str
    answer: str

    @classmethod
    def of(cls, record: ExecutionRecord) -> Turn:
        if record.status == "completed":
            answer = answer_text(record.result)
        elif record.error is not None:
            answer = f"(no answer: {record.error.code}: {record.error.message})"
        else:
            answer = f"(no answer: {record.status})"
        return cls(task=record.task, status=record.status, answer=answer)


@dataclass
class Session:
    id: str
    turns: list[Turn] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    notebooks: list[str] = field(default_factory=list)  # earlier runs' notebooks, oldest first
    loaded: bool = False
    kernel_used: bool = False  # a kernel of this session ran a program in this process
    state_note: str | None = None  # why earlier kernel state is gone; told to the next prompt

    def add(self, record: ExecutionRecord) -> None:
        self.turns.append(Turn.of(record))
        if record.notebook:
            self.notebooks.append(record.notebook)


def history_text(turns: Sequence[Turn], budget_tokens: int) -> str:
    """Earlier turns, newest kept first, within the budget; a too-long newest turn is shortened."""
    if not turns:
        return ""
    kept: list[str] = []
    used = 0
    for number in range(len(turns), 0, -1):
        turn = turns[number - 1]
        text = render(
            "history_turn",
            n=number,
            task=truncate(turn.task, ANSWER_CHARS),
            status=turn.status,
            answer=truncate(turn.answer, ANSWER_CHARS),
        )
        cost = estimate_tokens(text)
        if used + cost > budget_tokens:
            if not kept:
                kept.append(truncate(text, max(200, budget_tokens * 4 - 80)))
            break
        kept.append(text)
        used += cost
    dropped = len(turns) - len(kept)
    parts = list(reversed(kept))
    if dropped:
        parts.insert(0, render("history_dropped", count=dropped))
    return render("history", turns="".join(parts).rstrip("\n"))


RecordsOf = Callable[[str], Awaitable[list[ExecutionRecord]]]


class Sessions:
    """The sessions this process knows, filled from the store on first use."""

    def __init__(self, records_of: RecordsOf) -> None:
        self._records_of = records_of
        self._sessions: dict[str, Session] = {}

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = Session(session_id)
        return session

    async def load(self, session: Session, *, exclude: str | None = None) -> Session:
        """Read earlier finished top-level runs from the store once (call under the session lock)."""
        if session.loaded:
            return session
        session.loaded = True
        for record in await self._records_of(session.id):
            if record.execution_id != exclude and record.done and record.depth == 0:
                session.add(record)
        return session

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions
