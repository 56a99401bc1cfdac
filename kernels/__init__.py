"""Persistent, sandboxed Jupyter kernels per session, driven by jupyter_client.

`SessionKernels` (the session table, warm pool, bounds and culler) hands out `SessionKernel`s;
`SessionKernel.run(code, on_call=...)` executes a cell and answers the program's skill calls on
the host over the Jupyter stdin channel. `SandboxProvisioner` is the jupyter_client provisioner
that puts each kernel inside bubblewrap.
"""

from kernels.config import KernelConfig, SandboxLimits
from kernels.pool import SessionKernels
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
