"""One record shape for a run: the ExecutionRecord of typed steps, and the live events.

The REST API returns it, the UI and SSE stream it, the notebook is written from it, the store
keeps it and the tests assert on it. JSON field names are camelCase (the original REST design);
Python attributes are snake_case. `record.model_dump(mode="json", by_alias=True)` is the wire form.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from skills.records import SkillCall

__all__ = [
    "ActionStep",
    "ErrorInfo",
    "Event",
    "EventType",
    "ExecutionRecord",
    "ExecutionStatus",
    "FinalAnswerStep",
    "PlanningStep",
    "Step",
    "SubagentStep",
    "TaskStep",
    "Usage",
    "new_id",
    "now",
]

ExecutionStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


def now() -> datetime:
    return datetime.now(UTC)


_last_id = [0, 0]  # the milliseconds and the counter of the newest id of this process
_id_lock = threading.Lock()


def new_id(prefix: str = "exe") -> str:
    """Time-sortable id: prefix, 12 hex digits of milliseconds, 8 hex digits that start random
    each millisecond and count up within it, so ids made in one process sort as they were made
    (history pages by id)."""
    with _id_lock:
        ms = int(time.time() * 1000)
        if ms > _last_id[0]:
            _last_id[:] = [ms, secrets.randbelow(1 << 31)]
        else:  # the same millisecond (or the clock stepped back): count on from the newest
            _last_id[1] += 1
        ms, counter = _last_id
    return f"{prefix}_{ms:012x}{counter:08x}"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, arbitrary_types_allowed=True
    )


class Usage(_Model):
    input_tokens: int = 0
    output_tokens: int = 0
    llm_calls: int = 0
    latency_ms: float = 0.0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.llm_calls += other.llm_calls
        self.latency_ms += other.latency_ms


class ErrorInfo(_Model):
    """Errors are values: a stable code and a human message."""

    code: str
    message: str


class _StepBase(_Model):
    index: int = 0
    started_at: datetime = Field(default_factory=now)
    duration_ms: float = 0.0


class TaskStep(_StepBase):
    type: Literal["task"] = "task"
    task: str
    files: list[str] = []  # workspace files the prompt mentioned


class PlanningStep(_StepBase):
    type: Literal["planning"] = "planning"
    plan: str
    usage: Usage = Usage()


class ActionStep(_StepBase):
    type: Literal["action"] = "action"
    model_text: str = ""  # the LLM's whole reply
    reasoning: str = ""  # the reply without the code block
    code: str | None = None  # None: the reply had no code (a corrective message followed)
    status: Literal["running", "ok", "error", "timeout", "interrupted", "died", "no_code"] = (
        "running"
    )
    stdout: str = ""
    stderr: str = ""
    outputs: list[dict[str, Any]] = []  # nbformat outputs the program really produced
    error: dict[str, Any] | None = None  # {ename, evalue, traceback}
    skill_calls: list[SkillCall] = []
    execution_count: int | None = None
    state_lost: bool = False
    llm_ms: float = 0.0
    run_ms: float = 0.0
    usage: Usage = Usage()


class SubagentStep(_StepBase):
    type: Literal["subagent"] = "subagent"
    agent: str
    task: str
    execution_id: str  # the child's record
    status: ExecutionStatus = "running"
    result: Any = None
    error: ErrorInfo | None = None
    record: ExecutionRecord | None = None  # the child's whole record, nested once it ends


class FinalAnswerStep(_StepBase):
    type: Literal["final_answer"] = "final_answer"
    answer: Any


Step = Annotated[
    TaskStep | PlanningStep | ActionStep | SubagentStep | FinalAnswerStep,
    Field(discriminator="type"),
]


class ExecutionRecord(_Model):
    execution_id: str = Field(default_factory=new_id)
    session_id: str
    status: ExecutionStatus = "queued"
    task: str
    agent: str = "master"
    provider: str | None = None
    model: str | None = None
    result: Any = None
    error: ErrorInfo | None = None
    steps: list[Step] = []
    skill_calls: list[SkillCall] = []  # every call of every step, in order
    usage: Usage = Usage()
    notebook: str | None = None  # path of the run's .ipynb
    isolation: str | None = None
    parent_id: str | None = None  # set on a subagent's record
    depth: int = 0
    owner: str | None = Field(None, exclude=True)  # API key id that made it
    created_at: datetime = Field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def wire(self) -> dict[str, Any]:
        """The JSON object REST, Gradio's /run and SSE send."""
        return self.model_dump(mode="json", by_alias=True)


SubagentStep.model_rebuild()


EventType = Literal["status", "step", "llm_delta", "output", "skill_call", "done"]


class Event(_Model):
    """A live event. `step` carries a whole step (new or updated, matched by `index`)."""

    type: EventType
    execution_id: str
    data: dict[str, Any] = {}
    at: datetime = Field(default_factory=now)
