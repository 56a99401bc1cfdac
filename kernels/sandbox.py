"""The bubblewrap command line, the scrubbed environment and the rlimits of one kernel.

Pure functions of a `SandboxLaunch`; the provisioner wraps the kernel's argv with them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kernels.config import SandboxLimits

__all__ = [
    "INSIDE_WORKSPACE",
    "SandboxLaunch",
    "bound_back",
    "bwrap_argv",
    "kernel_env",
    "prlimit_argv",
    "workspace_inside",
]

# the workspace's path inside the sandbox: the same for a pooled kernel and the session taking it
INSIDE_WORKSPACE = "/home/agent"


@dataclass
class SandboxLaunch:
    """Everything that differs between two sandboxed kernels."""

    workspace: Path
    kernel_dir: Path  # connection file + ipc sockets, bound into this sandbox only
    isolation: Literal["bubblewrap", "none"] = "bubblewrap"
    uid: int | None = None  # None: keep the server's uid
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    hide_paths: list[Path] = field(default_factory=list)
    python: str = sys.executable
    bwrap: str = "/usr/bin/bwrap"


def workspace_inside(launch: SandboxLaunch) -> str:
    """Where the program sees its workspace (cwd and HOME)."""
    if launch.isolation == "bubblewrap" and Path("/home").is_dir():
        return INSIDE_WORKSPACE
    return str(launch.workspace)


def kernel_env(launch: SandboxLaunch) -> dict[str, str]:
    """The kernel's whole environment: nothing of the host's beyond these."""
    venv_bin = str(Path(launch.python).parent)
    # inside the sandbox /tmp is private; unsandboxed, the host's /tmp would be shared by every
    # kernel (IPython's startup files, its history database): use the kernel's own directory
    scratch = "/tmp" if launch.isolation == "bubblewrap" else str(launch.kernel_dir)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workspace_inside(launch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "IPYTHONDIR": f"{scratch}/.ipython",
        "MPLCONFIGDIR": f"{scratch}/.matplotlib",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "XDG_CACHE_HOME": f"{scratch}/.cache",
        # glibc reserves 64 MiB of address space per malloc arena; RLIMIT_AS counts it
        "MALLOC_ARENA_MAX": "2",
    }


def prlimit_argv(limits: SandboxLimits) -> list[str]:
    mib = 1024 * 1024
    return [
        "/usr/bin/prlimit",
        f"--as={limits.memory_mb * mib}",
        f"--nproc={limits.max_processes}",
        f"--fsize={limits.file_size_mb * mib}",
        f"--cpu={limits.cpu_seconds}",
        "--core=0",
        "--",
    ]


def _venv_root(python: str) -> Path:
    """The venv (or prefix) holding the kernel's Python: bound back after the masks."""
    return Path(python).absolute().parent.parent


def bound_back(launch: SandboxLaunch) -> list[Path]:
    """Read-only binds made after the masks: the venv and the interpreter's prefix, which may
    live in a masked directory (the project, a clone under /tmp)."""
    venv = _venv_root(launch.python)
    base = Path(os.path.realpath(launch.python)).parent.parent
    return [root for root in dict.fromkeys([venv, base]) if root not in (Path("/"), Path("/usr"))]


def bwrap_argv(launch: SandboxLaunch) -> list[str]:
    """bwrap options, ending in `--`: no network, private namespaces, read-only host, masks."""
    inside = workspace_inside(launch)
    argv = [
        launch.bwrap,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/run",
        "--tmpfs",
        "/var/tmp",
        "--tmpfs",
        "/dev/shm",
    ]
    if inside == INSIDE_WORKSPACE:
        argv += ["--tmpfs", "/home"]
    for hidden in launch.hide_paths:
        if hidden.exists() and hidden != Path("/"):
            argv += ["--tmpfs", str(hidden)]
    for root in bound_back(launch):
        argv += ["--ro-bind", str(root), str(root)]
    argv += [
        "--bind",
        str(launch.workspace),
        inside,
        "--bind",
        str(launch.kernel_dir),
        str(launch.kernel_dir),
        "--chdir",
        inside,
        "--clearenv",
    ]
    for key, value in kernel_env(launch).items():
        argv += ["--setenv", key, value]
    # as root, caps inside bwrap would allow remounting the read-only binds writable
    argv += ["--cap-drop", "ALL", "--"]
    return argv
