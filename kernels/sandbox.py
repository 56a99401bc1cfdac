"""The bubblewrap command line, the scrubbed environment and the rlimits of one kernel.

Pure functions of a `SandboxLaunch`; the provisioner wraps the kernel's argv with them.
"""

from __future__ import annotations

import contextlib
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
    "switches_uid",
    "uid_switch_argv",
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
    # on a kernel host over SSH: the host's network (the kernel's ZMQ ports and the launcher's
    # connection back are TCP), no kernel_dir (the launcher writes its connection file in the
    # private /tmp), and no --die-with-parent (its parent, the SSH session's shell, exits at once)
    remote: bool = False
    as_root: bool | None = None  # bwrap runs as root there; None: this process's euid says


def _as_root(launch: SandboxLaunch) -> bool:
    return os.geteuid() == 0 if launch.as_root is None else launch.as_root


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
    } | ({"LOG_LEVEL": "WARNING"} if launch.remote else {})  # the remote launcher's own log


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


def switches_uid(launch: SandboxLaunch) -> bool:
    """As root with a session uid, bwrap runs as root and the kernel switches to the uid inside:
    root can reach bind sources the session uid cannot (a clone under /root, a 0700 tmp dir)."""
    return launch.isolation == "bubblewrap" and launch.uid is not None and _as_root(launch)


# tmpfs inside every sandbox: nothing of the host's below them
_PRIVATE = [Path("/tmp"), Path("/run"), Path("/var/tmp"), Path("/dev/shm")]


def _masks(launch: SandboxLaunch, inside: str, binds: list[Path]) -> list[Path]:
    """Directories to cover with an empty tmpfs, parents first: the hidden paths, and any
    ancestor of a bind destination the session uid could not traverse (it holds nothing the
    uid could reach, and the tmpfs lets it reach what is bound below)."""
    masks = [p for p in launch.hide_paths if p.exists() and p != Path("/")]
    covered = [*_PRIVATE, *masks] + ([Path("/home")] if inside == INSIDE_WORKSPACE else [])
    if launch.uid is not None:
        for dest in binds:
            for parent in reversed(dest.parents):
                if parent == Path("/") or any(parent.is_relative_to(c) for c in covered):
                    continue
                with contextlib.suppress(OSError):
                    if not parent.stat().st_mode & 0o001:
                        masks.append(parent)
                        covered.append(parent)
    return sorted(dict.fromkeys(masks), key=lambda p: len(p.parts))


def _parents_below(dests: list[Path], roots: list[Path]) -> list[Path]:
    """Ancestors of `dests` strictly inside one of `roots`, parents first."""
    found: dict[Path, None] = {}
    for dest in dests:
        for parent in reversed(dest.parents):
            if any(parent != root and parent.is_relative_to(root) for root in roots):
                found[parent] = None
    return sorted(found, key=lambda p: len(p.parts))


def uid_switch_argv(launch: SandboxLaunch) -> list[str]:
    """Inside the sandbox, become the session uid for good (no groups, no capabilities, no new
    privileges), then enter the workspace as that uid (root without capabilities cannot)."""
    uid = str(launch.uid)
    return [
        "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        "/usr/bin/env",
        "-C",
        workspace_inside(launch),
    ]


def bwrap_argv(launch: SandboxLaunch) -> list[str]:
    """bwrap options, ending in `--` (and the uid switch when bwrap runs as root): no network,
    private namespaces, read-only host, masks."""
    inside = workspace_inside(launch)
    back = bound_back(launch)
    own = [] if launch.remote else [launch.kernel_dir]
    binds = [*back, *own] + ([] if inside == INSIDE_WORKSPACE else [Path(inside)])
    argv = [launch.bwrap, *([] if launch.remote else ["--unshare-net"])]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    argv += ["--hostname", "sandbox", *([] if launch.remote else ["--die-with-parent"])]
    argv += [
        "--new-session",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    # world-writable like the host's (made by bwrap running as root, they belong to root), and
    # bounded: a tmpfs is host memory that no rlimit counts
    tmp_size = str(launch.limits.tmp_mb * 1024 * 1024)
    for private in _PRIVATE:
        mode = "0755" if private == Path("/run") else "1777"
        argv += ["--perms", mode, "--size", tmp_size, "--tmpfs", str(private)]
    small = str(1024 * 1024)  # masks only hold the directories leading to binds
    if inside == INSIDE_WORKSPACE:
        argv += ["--size", small, "--tmpfs", "/home"]
    masks = _masks(launch, inside, binds)
    for mask in masks:
        argv += ["--size", small, "--tmpfs", str(mask)]
    # directories leading to a bind inside a tmpfs: bwrap running as root would make them 0700
    fresh = [*_PRIVATE, *masks] + ([Path("/home")] if inside == INSIDE_WORKSPACE else [])
    for parent in _parents_below([*binds, Path(inside)], fresh):
        argv += ["--perms", "0755", "--dir", str(parent)]
    for root in back:
        argv += ["--ro-bind", str(root), str(root)]
    switch = switches_uid(launch)
    argv += ["--bind", str(launch.workspace), inside]
    for own_dir in own:
        argv += ["--bind", str(own_dir), str(own_dir)]
    argv += [
        "--chdir",
        "/" if switch else inside,
        "--clearenv",
    ]
    for key, value in kernel_env(launch).items():
        argv += ["--setenv", key, value]
    # as root, caps inside bwrap would allow remounting the read-only binds writable
    argv += ["--cap-drop", "ALL"]
    if switch:  # only what setpriv needs to drop to the session uid; it clears them all
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        return [*argv, "--", *uid_switch_argv(launch)]
    return [*argv, "--"]
