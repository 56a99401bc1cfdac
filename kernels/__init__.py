"""Persistent, sandboxed Jupyter kernels per session, driven by jupyter_client.

`SessionKernels` (the session table, warm pool, bounds and culler) hands out `SessionKernel`s;
`SessionKernel.run(code, on_call=...)` executes a cell and answers the program's skill calls on
the host over the Jupyter stdin channel. `SandboxProvisioner` is the jupyter_client provisioner
that puts each kernel inside bubblewrap. The session table (and jupyter_client with it) loads on
first use, so config and result users stay light.
"""

from typing import TYPE_CHECKING, Any

from kernels.config import KernelConfig, SandboxLimits
from kernels.results import (
    BadSessionId,
    CallHandler,
    CallOutcome,
    IsolationReport,
    KernelError,
    KernelsBusy,
    OutputHandler,
    RunResult,
    RunStatus,
    SandboxUnavailable,
    SkillStub,
    VariableInfo,
)

if TYPE_CHECKING:
    from kernels.pool import SessionKernels
    from kernels.session import SessionKernel

__all__ = [
    "BadSessionId",
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
    "SandboxUnavailable",
    "SessionKernel",
    "SessionKernels",
    "SkillStub",
    "VariableInfo",
]


def __getattr__(name: str) -> Any:
    if name == "SessionKernels":
        from kernels.pool import SessionKernels

        return SessionKernels
    if name == "SessionKernel":
        from kernels.session import SessionKernel

        return SessionKernel
    raise AttributeError(f"module 'kernels' has no attribute {name!r}")
