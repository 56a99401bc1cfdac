"""Starting one ready kernel (sandboxed or not) with the in-kernel runtime loaded, and ending it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psutil
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from kernels.cell import quiet_execute
from kernels.config import KernelConfig
from kernels.kernelspec import SANDBOX_KERNEL, SandboxSpecManager
from kernels.processes import kernel_pid, kill_tree, sweep_strays, wait_gone, zombie
from kernels.remote import KERNEL_USERNAME, REMOTE_KERNEL, LaunchSpecs, remote_spec
from kernels.sandbox import SandboxLaunch, bwrap_argv, prlimit_argv, workspace_inside

__all__ = ["KernelLauncher", "KernelState", "LiveKernel"]

log = logging.getLogger(__name__)

_LOAD = """\
import sys as _s, types as _t
_m = _t.ModuleType("_agent_runtime")
exec(compile({source!r}, "<agent-runtime>", "exec"), _m.__dict__)
_s.modules["_agent_runtime"] = _m
_m.setup(get_ipython())
del _s, _t, _m
"""


def _chain(launcher_pid: int, pid: int | None) -> set[int]:
    """The launcher, the kernel and the processes between them (bwrap and its init)."""
    between: set[int] = set()
    if pid is not None and pid != launcher_pid:  # unsandboxed, prlimit execs the kernel itself
        with contextlib.suppress(psutil.Error):
            for parent in psutil.Process(pid).parents():
                if parent.pid == launcher_pid:
                    break
                between.add(parent.pid)
            else:
                between = set()  # not under the launcher: never keep the server's ancestors
    return {launcher_pid, *between} | ({pid} if pid is not None else set())


def _open_channels(client: AsyncKernelClient) -> None:
    """Shell, iopub, stdin and control; not the heartbeat. A client made by its manager asks the
    manager whether the kernel lives (its process, or a remote launcher's comm port), so the
    heartbeat would only be a thread per kernel pinging every second that nothing reads; and
    its thread's errors bypass the event loop (one died here on a socket it could not open)."""
    client.start_channels(hb=False)


def _plain(value: Any) -> Any:
    """JSON-able: the session key arrives as bytes."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class KernelState:
    """What another process needs to drive a running remote kernel: its connection info (ports,
    HMAC key, curve keys: secrets) and the provisioner's (host, pid, comm port)."""

    kernel_id: str
    connection: dict[str, Any]
    provisioner: dict[str, Any]
    host: str | None
    uid: int | None = None  # the session's uid on the host (its sandbox runs as it)
    run_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return _plain(
            {
                "kernel_id": self.kernel_id,
                "connection": self.connection,
                "provisioner": self.provisioner,
                "host": self.host,
                "uid": self.uid,
                "run_count": self.run_count,
            }
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KernelState:
        return cls(
            kernel_id=str(data["kernel_id"]),
            connection=dict(data["connection"]),
            provisioner=dict(data["provisioner"]),
            host=data.get("host"),
            uid=None if data.get("uid") is None else int(data["uid"]),
            run_count=int(data.get("run_count", 0)),
        )


@dataclass
class LiveKernel:
    """One running kernel process and what we know of its processes.

    A remote kernel (`launch.remote`) has no process here: `launcher_pid` is 0, liveness and
    kills go through its provisioner (the launcher's comm port on the host), and leftover
    processes live until the kernel ends (bwrap's pid namespace on the host ends them then).
    `manager.connection_file`-free connection info: `manager.get_connection_info()`, with
    `await manager.provisioner.get_provisioner_info()` for the host, pids and comm port."""

    manager: AsyncKernelManager
    client: AsyncKernelClient
    launch: SandboxLaunch
    launcher_pid: int
    pid: int | None  # the ipykernel process, on the host
    keep: set[int] = field(default_factory=set)  # launcher, bwrap's init, the kernel
    reach_s: float = 0.5  # remote: how long the launcher's comm port may take to answer

    @property
    def host(self) -> str | None:
        """The kernel host it runs on (None: this one)."""
        if not self.launch.remote:
            return None
        return str(getattr(self.manager.provisioner, "assigned_host", "") or "") or None

    async def export_state(self) -> KernelState | None:
        """The remote kernel's state for another process to attach with; None for a local one
        (its process dies with this one)."""
        if not self.launch.remote or self.manager.provisioner is None:
            return None
        return KernelState(
            kernel_id=str(self.manager.kernel_id),
            connection=_plain(self.manager.get_connection_info()),
            provisioner=_plain(await self.manager.provisioner.get_provisioner_info()),
            host=self.host,
            uid=self.launch.uid,
        )

    async def detach(self) -> None:
        """Let go of a remote kernel without ending it: another process drives it now."""
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.manager._close_control_socket()
        if getattr(self.manager, "_created_context", False):  # its own, as shutdown would
            with contextlib.suppress(Exception):
                self.manager.context.destroy(linger=0)

    async def alive(self) -> bool:
        if self.launch.remote:  # a host that is gone does not refuse: it never answers
            try:
                return bool(await asyncio.wait_for(self.manager.is_alive(), self.reach_s))
            except TimeoutError:
                return False
        return bool(await self.manager.is_alive())

    def strays(self) -> bool:
        """Cheap check after every run: any process in the sandbox beyond the kernel's own?"""
        if self.launch.remote:
            return False
        for pid in self.keep:
            try:
                with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
                    children = {int(p) for p in fh.read().split()}
            except (OSError, ValueError):
                continue
            # a zombie is a killed child the kernel reaps before its next run
            if any(not zombie(child) for child in children - self.keep):
                return True
        return False

    async def sweep(self) -> int:
        """Kill every leftover process of the run (children, daemons, fork bombs); returns how
        many, once they are dead."""
        if not self.strays():
            return 0
        killed = sweep_strays(self.launcher_pid, self.keep, self.launch.uid)
        await wait_gone(killed, limit_s=5.0, zombies=True)  # returns as soon as they are
        return len(killed)

    async def shutdown(self) -> None:
        """Leave no process behind, whatever state the kernel is in."""
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        if self.launch.remote:  # the provisioner signals the launcher: TERM, then KILL
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.manager.shutdown_kernel(now=True), 15)
            return
        if self.launcher_pid:
            # inside first, so bwrap reaps its children before it is killed itself
            await wait_gone(kill_tree(self.launcher_pid, self.launch.uid, launcher=False))
        with contextlib.suppress(Exception):
            await self.manager.shutdown_kernel(now=True)
        if self.launcher_pid:
            kill_tree(self.launcher_pid, self.launch.uid)


class KernelLauncher:
    """Starts kernels through AsyncKernelManager with our kernelspec and provisioner."""

    def __init__(self, config: KernelConfig) -> None:
        self.config = config
        self.specs = SandboxSpecManager(config)
        self.source = resources.files("kernels").joinpath("inkernel.py").read_text("utf-8")

    @property
    def remote(self) -> bool:
        return self.config.placement == "ssh"

    def launch_for(self, workspace: Path, uid: int | None, kernel_dir: Path) -> SandboxLaunch:
        cfg = self.config
        remote_root = cfg.ssh.user == "root"
        return SandboxLaunch(
            workspace=workspace,
            kernel_dir=kernel_dir,
            isolation=cfg.isolation,
            uid=uid if not self.remote or remote_root else None,
            limits=cfg.limits,
            hide_paths=cfg.hide_paths,
            python=(cfg.ssh.python or cfg.python) if self.remote else cfg.python,
            bwrap=cfg.bwrap,
            remote=self.remote,
            as_root=remote_root if self.remote else None,
        )

    async def _start_remote(self, launch: SandboxLaunch) -> AsyncKernelManager:
        """Start the kernel on the next host; a host that fails is skipped for the next one
        (the provisioner's round-robin moves on), each host tried once."""
        wrap = prlimit_argv(launch.limits)
        if launch.isolation == "bubblewrap":
            wrap += bwrap_argv(launch)
        specs = LaunchSpecs(REMOTE_KERNEL, remote_spec(self.config, wrap))
        failures = []
        for _ in range(max(len(self.config.ssh.hosts), 1)):
            manager = AsyncKernelManager(kernel_name=REMOTE_KERNEL, kernel_spec_manager=specs)
            manager.transport_encryption = self.config.ssh.encryption
            start = asyncio.ensure_future(
                manager.start_kernel(env={"KERNEL_USERNAME": KERNEL_USERNAME})
            )
            try:
                await asyncio.shield(start)
                return manager
            except asyncio.CancelledError:
                # a kernel launched over SSH can only be stopped once it has reported back
                # (its comm port): let the start finish, then end it
                with contextlib.suppress(BaseException):
                    await start
                with contextlib.suppress(Exception):
                    await manager.shutdown_kernel(now=True)
                raise
            except Exception as exc:
                host = getattr(manager.provisioner, "assigned_host", "?")
                log.warning("kernels: no kernel on host %s: %s", host, exc)
                failures.append(f"{host}: {exc}")
                with contextlib.suppress(Exception):
                    await manager.shutdown_kernel(now=True)
        raise RuntimeError("no kernel host started a kernel: " + "; ".join(failures))

    async def start(self, workspace: Path, uid: int | None, kernel_dir: Path) -> LiveKernel:
        launch = self.launch_for(workspace, uid, kernel_dir)
        if launch.remote:
            manager = await self._start_remote(launch)
            launcher_pid = 0
        else:
            manager = AsyncKernelManager(kernel_name=SANDBOX_KERNEL, kernel_spec_manager=self.specs)
            await manager.start_kernel(sandbox=launch)
            launcher_pid = int(getattr(manager.provisioner, "pid", 0) or 0)
        client = manager.client()
        _open_channels(client)
        try:
            await client.wait_for_ready(timeout=self.config.start_timeout_s)
            await self.load_runtime(client)
        except BaseException:
            live = LiveKernel(manager, client, launch, launcher_pid, None)
            await live.shutdown()
            raise
        if launch.remote:
            return LiveKernel(
                manager, client, launch, 0, None, reach_s=self.config.ssh.signal_timeout_s
            )
        pid = kernel_pid(launcher_pid)
        return LiveKernel(manager, client, launch, launcher_pid, pid, _chain(launcher_pid, pid))

    async def attach(
        self,
        state: KernelState,
        workspace: Path,
        uid: int | None,
        kernel_dir: Path,
        *,
        limit_s: float = 5.0,
    ) -> LiveKernel:
        """Drive a remote kernel another process started, from its exported state: the
        provisioner gets the host, pid and comm port back, the manager the ports and keys; the
        kernel must answer a liveness poll and kernel_info within `limit_s`, else this raises
        (and leaves the kernel alone). Its runtime is already loaded."""
        if not self.remote:
            raise RuntimeError("only remote kernels can be attached to")
        launch = self.launch_for(workspace, uid, kernel_dir)
        wrap = prlimit_argv(launch.limits)
        if launch.isolation == "bubblewrap":
            wrap += bwrap_argv(launch)
        specs = LaunchSpecs(REMOTE_KERNEL, remote_spec(self.config, wrap))
        manager = AsyncKernelManager(kernel_name=REMOTE_KERNEL, kernel_spec_manager=specs)
        manager.transport_encryption = self.config.ssh.encryption
        manager.kernel_id = state.kernel_id
        provisioner = KernelProvisionerFactory.instance().create_provisioner_instance(
            state.kernel_id, manager.kernel_spec, parent=manager
        )
        await provisioner.load_provisioner_info(dict(state.provisioner))
        manager.provisioner = provisioner
        manager.load_connection_info(dict(state.connection))  # type: ignore[arg-type]
        live = LiveKernel(
            manager, manager.client(), launch, 0, None, reach_s=self.config.ssh.signal_timeout_s
        )
        try:
            if not await live.alive():
                raise RuntimeError(f"the kernel on {state.host} does not answer its comm port")
            _open_channels(live.client)
            await live.client.wait_for_ready(timeout=limit_s)
        except BaseException:
            await live.detach()
            raise
        return live

    async def load_runtime(self, client: AsyncKernelClient) -> None:
        reply = await quiet_execute(
            client, _LOAD.format(source=self.source), limit_s=self.config.start_timeout_s
        )
        if reply.get("status") != "ok":
            raise RuntimeError(f"the in-kernel runtime failed to load: {reply.get('evalue')}")

    @staticmethod
    def inside_path(launch: SandboxLaunch) -> str:
        return workspace_inside(launch)
