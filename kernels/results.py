"""What running a cell gives back, and the shapes the bridge exchanges with the host.

This is the contract between `kernels/` and its callers (the agent, the notebook writer). Outputs
are kept in nbformat form (`{"output_type": "stream", ...}` dicts) so the notebook writer can store
them as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "BadSessionId",
    "CallHandler",
    "CallOutcome",
    "IsolationReport",
    "KernelError",
    "KernelsBusy",
    "OutputHandler",
    "RunResult",
    "RunStatus",
    "SandboxUnavailable",
    "SkillStub",
    "VariableInfo",
]


class SandboxUnavailable(RuntimeError):
    """Kernels cannot start safely here (no sandbox, unreachable workspace): refuse to run."""


RunStatus = Literal["ok", "error", "timeout", "interrupted", "died"]


class CallOutcome(Protocol):
    """What the host's call handler returns for one call (skills.SkillCall satisfies it)."""

    ok: bool
    result: Any
    error: str | None
    error_type: str | None


# handler(name, args, kwargs) -> outcome; `name` is the Python name the program called
# (`web_search`, `delegate`, `myserver__tool`). The kernel layer never interprets it.
CallHandler = Callable[[str, list[Any], dict[str, Any]], Awaitable[CallOutcome]]
# called with each nbformat output as it arrives (for live UIs); may be sync or async
OutputHandler = Callable[[dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True)
class SkillStub:
    """One function to define in the kernel: the program calls it, the host answers."""

    name: str  # Python name, e.g. "web_search"
    signature: str  # e.g. "(query: str, max_results: int = 5) -> list[dict]"
    doc: str = ""


@dataclass
class KernelError:
    ename: str
    evalue: str
    traceback: list[str]  # ANSI codes stripped


@dataclass
class VariableInfo:
    name: str
    type: str
    preview: str  # short repr, capped


@dataclass
class IsolationReport:
    """The sandbox in force, probed once at start; shown on every result and on /ready."""

    mode: Literal["bubblewrap", "none"]
    network: bool  # True when the kernel can reach a network
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    status: RunStatus
    stdout: str = ""
    stderr: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)  # nbformat outputs, in order
    error: KernelError | None = None
    execution_count: int | None = None
    duration_ms: float = 0.0
    calls: list[CallOutcome] = field(default_factory=list)  # what the handler returned, in order
    has_final_answer: bool = False
    final_answer: Any = None
    state_lost: bool = False  # the kernel was restarted: earlier variables are gone
    truncated_bytes: int = 0  # output cut by the caps (head and tail kept)
    isolation: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class KernelsBusy(Exception):
    """No kernel slot became free within the configured wait."""

    code = "kernels_busy"


class BadSessionId(ValueError):
    """A session id that cannot name a workspace directory."""

    code = "bad_request"
