"""AgentError: the agent layer's errors as values (a stable code and a human message).

`error_info` maps what the layers below raise (LLMError, KernelsBusy, UnknownSkill, ...) to the
record's `ErrorInfo`, so no caller ever shows a stack trace to a user.
"""

from __future__ import annotations

from agent.llm.base import LLMError
from agent.records import ErrorInfo
from kernels.results import KernelsBusy
from skills.records import SkillError

__all__ = ["AgentError", "error_info"]


class AgentError(Exception):
    """codes: unknown_agent, unknown_skill, llm_unconfigured, max_steps_exceeded,
    step_budget_exceeded, cancelled, kernels_busy, kernel_died, interrupted, bad_request."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def info(self) -> ErrorInfo:
        return ErrorInfo(code=self.code, message=self.message)

    def __repr__(self) -> str:
        return f"AgentError({self.code!r}, {self.message!r})"


def error_info(exc: BaseException) -> ErrorInfo:
    """The record's error for an exception from any layer; unexpected ones say what they were."""
    if isinstance(exc, AgentError):
        return exc.info()
    if isinstance(exc, LLMError):
        return ErrorInfo(code=exc.code, message=exc.message)
    if isinstance(exc, KernelsBusy):
        return ErrorInfo(code="kernels_busy", message=str(exc) or "no kernel slot became free")
    if isinstance(exc, SkillError):
        return ErrorInfo(code=exc.code, message=str(exc))
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return ErrorInfo(code=code, message=str(exc) or type(exc).__name__)
    return ErrorInfo(code="internal_error", message=f"{type(exc).__name__}: {exc}")
