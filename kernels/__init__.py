"""Persistent, sandboxed Jupyter kernels per session, driven by jupyter_client."""

from kernels.config import KernelConfig, SandboxLimits
from kernels.results import (
    CallHandler,
    CallOutcome,
    IsolationReport,
    KernelError,
    KernelsBusy,
    OutputHandler,
    RunResult,
    RunStatus,
    SkillStub,
    VariableInfo,
)

__all__ = [
    "CallHandler",
    "CallOutcome",
    "IsolationReport",
    "KernelConfig",
    "KernelError",
    "KernelsBusy",
    "OutputHandler",
    "RunResult",
    "RunStatus",
    "SandboxLimits",
    "SkillStub",
    "VariableInfo",
]
