"""`SandboxProvisioner`: jupyter_client's local provisioner, with the kernel inside bubblewrap.

Named in the `agent-sandbox` kernelspec's metadata (entry point group
`jupyter_client.kernel_provisioners`), so `KernelManager` stays the one launcher. Per kernel it
makes a directory of its own for the connection file and the ZMQ `ipc` sockets (TCP on loopback
does not cross an empty network namespace), binds only that directory and the workspace into
the sandbox, and runs the kernel under prlimit, as the session's uid when given one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Dict, List, Unicode

from kernels.config import KernelConfig, SandboxLimits
from kernels.processes import kill_tree, wait_gone
from kernels.sandbox import (
    SandboxLaunch,
    bwrap_argv,
    kernel_env,
    prlimit_argv,
    switches_uid,
    workspace_inside,
)

__all__ = ["SandboxProvisioner"]


class SandboxProvisioner(LocalProvisioner):
    """Launch the kernel sandboxed; per-kernel values arrive as `start_kernel(sandbox=...)`."""

    # defaults from the kernelspec's metadata (used when a plain client such as JupyterLab starts
    # the kernelspec without a SandboxLaunch): the workspace is then the client's cwd
    isolation = Unicode("bubblewrap", config=True)
    runtime_dir = Unicode("/tmp/agent-kernels", config=True)
    hide_paths = List(Unicode(), config=True)
    limits = Dict(config=True)

    launch: SandboxLaunch | None = None

    def _default_launch(self, kwargs: dict[str, Any]) -> SandboxLaunch:
        defaults = KernelConfig()
        python = self.kernel_spec.argv[0] if self.kernel_spec else defaults.python
        return SandboxLaunch(
            workspace=Path(kwargs.get("cwd") or os.getcwd()).resolve(),
            kernel_dir=Path(self.runtime_dir) / self.kernel_id[:12],
            isolation="none" if self.isolation == "none" else "bubblewrap",
            limits=SandboxLimits(**self.limits),
            hide_paths=[Path(p) for p in self.hide_paths] or defaults.hide_paths,
            python=python,
        )

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        launch: SandboxLaunch = kwargs.pop("sandbox", None) or self._default_launch(kwargs)
        self.launch = launch
        km = self.parent
        launch.kernel_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if launch.uid is not None:
            os.chown(launch.kernel_dir, launch.uid, launch.uid)
        if km is not None:
            # the sockets and the connection file live in the kernel's own bound directory
            km.transport = "ipc"
            km.cache_ports = False
            km.ip = str(launch.kernel_dir / "s")
            km.connection_file = str(launch.kernel_dir / "c.json")
        kwargs["env"] = kernel_env(launch)
        kwargs = await super().pre_launch(**kwargs)
        if km is not None and launch.uid is not None:
            os.chown(km.connection_file, launch.uid, launch.uid)
        wrap = prlimit_argv(launch.limits)
        if launch.isolation == "bubblewrap":
            wrap += bwrap_argv(launch)
        kwargs["cmd"] = wrap + list(kwargs["cmd"])
        kwargs["cwd"] = str(launch.workspace)
        if launch.uid is not None and not switches_uid(launch):
            kwargs.update(user=launch.uid, group=launch.uid, extra_groups=[])
        kwargs["stdin"] = subprocess.DEVNULL
        kwargs["stdout"] = subprocess.DEVNULL
        # the kernel's own stderr (crash messages) stays beside its sockets, for debugging
        kwargs["stderr"] = open(launch.kernel_dir / "kernel.log", "ab")  # noqa: SIM115, ASYNC230
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        log = kwargs.get("stderr")
        try:
            return await super().launch_kernel(cmd, **kwargs)
        finally:
            if log is not None and hasattr(log, "close"):
                log.close()

    async def kill(self, restart: bool = False) -> None:
        # processes inside bwrap can outlive a killed launcher: kill the whole tree ourselves
        pid = self.pid
        uid = self.launch.uid if self.launch else None
        if pid:
            # inside first, so bwrap reaps its children before it is killed itself
            await wait_gone(kill_tree(pid, uid, launcher=False))
        await super().kill(restart=restart)
        if pid:
            kill_tree(pid, uid)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if self.pid:
            kill_tree(self.pid, uid=self.launch.uid if self.launch else None)
        if not restart and self.launch is not None:
            shutil.rmtree(self.launch.kernel_dir, ignore_errors=True)

    def workspace_inside(self) -> str:
        return workspace_inside(self.launch) if self.launch else os.getcwd()
