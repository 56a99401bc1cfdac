"""`SessionKernels`: the session table, the warm pool, the bound on live kernels, the culler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

from kernels.config import KernelConfig
from kernels.launcher import KernelLauncher, KernelState, LiveKernel
from kernels.probe import probe_isolation
from kernels.processes import UidPool, kill_orphans
from kernels.results import BadSessionId, IsolationReport, KernelsBusy, SandboxUnavailable
from kernels.sandbox import workspace_inside
from kernels.session import SessionKernel

__all__ = ["SessionKernels"]

log = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _chown_tree(root: Path, uid: int | None) -> None:
    if uid is None:
        return
    os.chown(root, uid, uid)
    os.chmod(root, 0o700)
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(parent, name), uid, uid)


def _check_traversable(path: Path) -> None:
    """Unsandboxed, per-session uids open these paths themselves: every ancestor needs o+x.
    (Sandboxed, bwrap runs as root and binds them; the uid is taken inside.)"""
    path = path.absolute()
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise SandboxUnavailable(
                f"{parent} is not traversable by other users (mode "
                f"{oct(parent.stat().st_mode & 0o777)}), so unsandboxed kernels, which run as "
                f"per-session uids, cannot reach {path}; use isolation: bubblewrap, move it "
                "out (workspace_root, runtime_dir, the venv) or chmod o+x it"
            )


def _check_tools(config: KernelConfig, as_root: bool) -> None:
    """The programs a sandboxed launch runs, named in one line when one is missing."""
    needed = {"prlimit": "/usr/bin/prlimit"}
    if config.isolation == "bubblewrap":
        needed["bubblewrap"] = config.bwrap
        if as_root:
            needed["setpriv"] = "/usr/bin/setpriv"
    hints = {
        "bubblewrap": "install it (`make setup` does: apt package bubblewrap) or set "
        "isolation: none (development only)",
        "prlimit": "install util-linux",
        "setpriv": "install util-linux",
    }
    for name, path in needed.items():
        if not os.access(path, os.X_OK):
            raise SandboxUnavailable(f"{name} is not installed at {path}: {hints[name]}")


class SessionKernels:
    """One persistent kernel per session, started from a warm pool, bounded, culled when idle."""

    def __init__(self, config: KernelConfig) -> None:
        self.config = config
        self.launcher = KernelLauncher(config)
        self.isolation = IsolationReport(mode=config.isolation, network=config.isolation == "none")
        self._sessions: dict[str, SessionKernel] = {}
        self._pool: list[tuple[LiveKernel, Path]] = []
        self._slots = 0  # session kernels live or starting
        self._changed = asyncio.Condition()
        self._uids = UidPool(config.uid_base, config.uid_count)
        self._tasks: set[asyncio.Task[None]] = set()
        self._culler: asyncio.Task[None] | None = None
        self._filling = 0
        self._started = False
        self._closing = False
        # one directory per instance: shutdown removes it, and a process may hold several
        self._run_dir = config.runtime_dir / f"{os.getpid()}-{uuid.uuid4().hex[:4]}"
        self._pool_dir = config.workspace_root / ".pool"
        self._venv_bin = Path(config.python).absolute().parent
        self.counters = {"started": 0, "restarts": 0, "evictions": 0, "culled": 0, "waits": 0}
        # set by a caller that shares remote kernels between processes: False for a session
        # whose kernel another process drives now, which eviction, culling, shutdown must spare
        self.still_ours: Callable[[str], Awaitable[bool]] | None = None
        # set by the same caller: told (session id, kernel id) when this process has ended a
        # remote kernel it drove, so that no other process tries to attach to it any more
        self.on_ended: Callable[[str, str], Awaitable[None]] | None = None

    # --- start and shutdown -------------------------------------------------------------------

    async def start(self) -> None:
        """Probe isolation, fill the warm pool, start the idle culler."""
        if self.launcher.remote:
            if not self.config.ssh.hosts:
                raise SandboxUnavailable(
                    "placement is 'ssh' but no kernel host is configured: set ssh.hosts in "
                    "config/kernels.yaml or KERNEL_HOSTS"
                )
            from kernels.remote import configure_gateway

            configure_gateway(self.config.ssh)  # bwrap, prlimit are checked on the hosts
        else:
            _check_tools(self.config, self._uids.enabled)
        self._sweep_stale()
        if self._uids.enabled and self.config.isolation == "none" and not self.launcher.remote:
            # the venv too: the kernel's Python is executed as the session's uid
            for root in (self.config.workspace_root, self.config.runtime_dir, self._venv_bin):
                _check_traversable(root)
        self.config.workspace_root.mkdir(parents=True, exist_ok=True)
        self._pool_dir.mkdir(parents=True, exist_ok=True, mode=0o711)
        try:
            first = await self._start_pooled()
        except SandboxUnavailable:
            raise
        except Exception as exc:  # the sandbox cannot start: refuse to run, in one line
            raise SandboxUnavailable(f"the first sandboxed kernel did not start: {exc}") from exc
        self.isolation = await probe_isolation(first, self.config)
        for warning in self.isolation.warnings:
            log.warning("kernels: %s", warning)
        self._pool.append(first)
        self._started = True
        self._fill_pool()
        self._culler = asyncio.create_task(self._cull_loop())

    async def shutdown(self) -> None:
        """Shut every kernel down; no kernel process is left behind."""
        self._closing = True
        if self._culler is not None:
            self._culler.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        ends = [live.shutdown() for live, _ in self._pool]
        self._pool.clear()
        for session in self._sessions.values():
            live = session.detach()
            if live is not None:
                ends.append(self._end(session.session_id, live))
        await asyncio.gather(*ends, return_exceptions=True)
        self._sessions.clear()
        self._slots = 0
        shutil.rmtree(self._run_dir, ignore_errors=True)

    def _sweep_stale(self) -> None:
        """Remove socket directories of servers that are gone, and their pooled workspaces."""
        root = self.config.runtime_dir
        root.mkdir(parents=True, exist_ok=True, mode=0o711)
        stale = []
        for entry in root.iterdir():
            owner = entry.name.split("-")[0]
            if owner.isdigit() and not psutil.pid_exists(int(owner)):
                stale.append(entry)
        orphans = kill_orphans(f"{entry}/" for entry in stale)
        if orphans:
            log.warning("kernels: killed %d processes left by a server that is gone", len(orphans))
        for entry in stale:
            shutil.rmtree(entry, ignore_errors=True)
        if self._pool_dir.is_dir():
            for entry in self._pool_dir.iterdir():
                owner = entry.name.split("-")[0]
                if owner.isdigit() and not psutil.pid_exists(int(owner)):
                    shutil.rmtree(entry, ignore_errors=True)

    # --- sessions -----------------------------------------------------------------------------

    def workspace(self, session_id: str) -> Path:
        """The session's workspace directory (created on demand, before any kernel exists)."""
        if not _SESSION_ID.match(session_id):
            raise BadSessionId(
                f"session id {session_id[:80]!r} must be 1-128 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        path = self.config.workspace_root / session_id
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    async def open(self, session_id: str) -> SessionKernel:
        """The session's kernel, started (from the warm pool) when needed; same id, same kernel.

        Waits up to `open_wait_s` for a free slot, then raises KernelsBusy."""
        session = self._sessions.get(session_id)
        if session is None:
            session = SessionKernel(self, session_id, self.workspace(session_id))
            self._sessions[session_id] = session
        await session.ensure()
        return session

    async def close(self, session_id: str) -> None:
        """Shut the session's kernel down and forget the session (its workspace stays)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        if session.busy:
            with contextlib.suppress(Exception):
                await session.interrupt()
        async with session.exclusive():
            live = session.detach()
        if live is not None:
            await self._shut_down(session_id, live)
            await self._free_slot()
        self._uids.release(session.uid)
        session.uid = None

    def has_kernel(self, session_id: str) -> bool:
        session = self._sessions.get(session_id)
        return session is not None and session.live is not None

    async def export(self, session_id: str) -> KernelState | None:
        """The session's running remote kernel, as another process can attach to it."""
        session = self._sessions.get(session_id)
        return None if session is None else await session.export_state()

    async def adopt(
        self, session_id: str, state: KernelState, *, limit_s: float = 5.0
    ) -> SessionKernel | None:
        """Drive the session's remote kernel that another process started (its variables kept,
        no replay); None when it cannot be reached in `limit_s` (the kernel is left alone, and
        the session's next run starts a fresh one). The session must hold no kernel here."""
        if not self._started or self._closing:
            raise RuntimeError("SessionKernels is not started")
        session = self._sessions.get(session_id)
        if session is None:
            session = SessionKernel(self, session_id, self.workspace(session_id))
            self._sessions[session_id] = session
        async with session.exclusive():
            if session.live is not None:
                raise RuntimeError(f"session {session_id} already has a kernel here")
            await self._take_slot(session)
            try:
                live = await self.launcher.attach(
                    state, session.workspace, state.uid, self._kernel_dir(), limit_s=limit_s
                )
            except Exception as exc:
                await self._free_slot()
                log.info("kernels: session %s: no attach to %s: %s", session_id, state.host, exc)
                return None
            self._uids.release(session.uid)
            self._uids.claim(state.uid)
            session.uid = state.uid
            session.live = live
            session.run_count = max(state.run_count, 1)  # not fresh: nothing to rebuild
            session.last_used = time.monotonic()
        return session

    async def release(self, session_id: str) -> None:
        """Forget the session here without ending its remote kernel (another process drives
        it now); a local kernel, which no one else can drive, is shut down as by close()."""
        session = self._sessions.get(session_id)
        if session is None:
            return
        live = session.live
        if live is None or not live.launch.remote:
            await self.close(session_id)
            return
        self._sessions.pop(session_id, None)
        async with session.exclusive():
            live = session.detach()
        if live is not None:
            await live.detach()
            await self._free_slot()
        self._uids.release(session.uid)
        session.uid = None

    def stats(self) -> dict[str, int | float]:
        live = [s for s in self._sessions.values() if s.live is not None]
        return {
            "live": len(live),
            "pooled": len(self._pool),
            "max": self.config.max_kernels,
            "busy": sum(1 for s in self._sessions.values() if s.busy),
            "sessions": len(self._sessions),
            "slots_used": self._slots,
            **{f"{name}_total": value for name, value in self.counters.items()},
        }

    # --- slots, the pool and eviction (called by SessionKernel) -------------------------------

    async def kernel_for(self, session: SessionKernel) -> LiveKernel:
        """A kernel for a session that has none: a free slot (waiting, evicting), then a kernel."""
        if not self._started or self._closing:
            raise RuntimeError("SessionKernels is not started")
        await self._take_slot(session)
        try:
            return await self._attach(session)
        except BaseException:
            await self._free_slot()
            raise

    async def replace_kernel(self, session: SessionKernel, dead: LiveKernel) -> None:
        """Swap a dead or stuck kernel for a fresh one in the same slot."""
        await self._shut_down(session.session_id, dead)
        self.counters["restarts"] += 1
        try:
            session.live = await self._start_for(session)
        except BaseException:
            await self._free_slot()
            raise

    def notify_idle(self) -> None:
        task = asyncio.ensure_future(self._notify())
        self._track(task)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _take_slot(self, session: SessionKernel) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.open_wait_s
        waited = False
        async with self._changed:
            while True:
                if self._slots < self.config.max_kernels:
                    self._slots += 1
                    return
                victim = self._lru_idle(exclude=session)
                if victim is not None:
                    live = victim.detach()  # its slot passes to this session
                    self.counters["evictions"] += 1
                    uid, victim.uid = victim.uid, None
                    if live is not None:
                        retire = self._retire(victim.session_id, live, uid)
                        self._track(asyncio.create_task(retire))
                    return
                left = deadline - loop.time()
                if left <= 0:
                    raise KernelsBusy(
                        f"all {self.config.max_kernels} session kernels are busy; none became "
                        f"free within {self.config.open_wait_s:g} s"
                    )
                if not waited:
                    self.counters["waits"] += 1
                    waited = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    def _lru_idle(self, exclude: SessionKernel) -> SessionKernel | None:
        idle = [
            s
            for s in self._sessions.values()
            if s is not exclude and s.live is not None and not s.busy and not s.locked()
        ]
        return min(idle, key=lambda s: s.last_used) if idle else None

    async def _retire(self, session_id: str, live: LiveKernel, uid: int | None) -> None:
        # the uid is free again only once none of its processes is left
        await self._end(session_id, live)
        self._uids.release(uid)

    async def _end(self, session_id: str, live: LiveKernel) -> None:
        """Shut a session's kernel down (evicted, culled, server stopping), unless it is a
        remote one that `still_ours` says another process drives now: then only let go."""
        if live.launch.remote and self.still_ours is not None:
            try:
                ours = await self.still_ours(session_id)
            except Exception as exc:
                log.warning("kernels: session %s: who drives it is unknown: %s", session_id, exc)
                ours = True
            if not ours:
                await live.detach()
                return
        await self._shut_down(session_id, live)

    async def _shut_down(self, session_id: str, live: LiveKernel) -> None:
        """Shut a session's kernel down; for a remote one, tell `on_ended` it is gone."""
        await live.shutdown()
        if not live.launch.remote or self.on_ended is None:
            return
        try:
            await self.on_ended(session_id, str(live.manager.kernel_id))
        except Exception as exc:  # the next turn elsewhere then finds it gone and rehydrates
            log.warning("kernels: session %s: its ended kernel not reported: %s", session_id, exc)

    async def _free_slot(self) -> None:
        async with self._changed:
            self._slots = max(self._slots - 1, 0)
            self._changed.notify_all()

    async def _attach(self, session: SessionKernel) -> LiveKernel:
        """Hand the session a pooled kernel (it takes over the kernel's uid and workspace)."""
        while self._pool:
            live, pool_ws = self._pool.pop(0)
            self._fill_pool()
            if not await live.alive():
                self._track(asyncio.create_task(live.shutdown()))
                continue
            self._adopt_workspace(session, pool_ws, live.launch.uid)
            follow = workspace_inside(live.launch) == str(pool_ws)  # no fixed inside path
            live.launch.workspace = session.workspace
            if follow:
                await self._chdir(live, session.workspace)
            return live
        return await self._start_for(session)

    def _adopt_workspace(self, session: SessionKernel, pool_ws: Path, uid: int | None) -> None:
        target = session.workspace
        if target.exists():
            for entry in target.iterdir():
                os.rename(entry, pool_ws / entry.name)
            target.rmdir()
        os.rename(pool_ws, target)
        self._uids.release(session.uid)
        session.uid = uid
        _chown_tree(target, uid)

    async def _chdir(self, live: LiveKernel, path: Path) -> None:
        from kernels.cell import quiet_execute

        await quiet_execute(
            live.client,
            f"import os as _o; _o.chdir({str(path)!r}); _o.environ['HOME'] = {str(path)!r}; del _o",
            limit_s=self.config.start_timeout_s,
        )

    async def _start_for(self, session: SessionKernel) -> LiveKernel:
        if session.uid is None:
            session.uid = self._uids.take()
        self.workspace(session.session_id)
        _chown_tree(session.workspace, session.uid)
        self.counters["started"] += 1
        return await self.launcher.start(session.workspace, session.uid, self._kernel_dir())

    def _kernel_dir(self) -> Path:
        return self._run_dir / uuid.uuid4().hex[:8]

    async def _start_pooled(self) -> tuple[LiveKernel, Path]:
        uid = self._uids.take()
        ws = self._pool_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        ws.mkdir(mode=0o700)
        _chown_tree(ws, uid)
        try:
            live = await self.launcher.start(ws, uid, self._kernel_dir())
        except BaseException:
            self._uids.release(uid)
            shutil.rmtree(ws, ignore_errors=True)
            raise
        self.counters["started"] += 1
        return live, ws

    def _fill_pool(self) -> None:
        missing = self.config.pool_size - len(self._pool) - self._filling
        for _ in range(max(missing, 0)):
            self._filling += 1
            self._track(asyncio.create_task(self._add_pooled()))

    async def _add_pooled(self) -> None:
        try:
            entry = await self._start_pooled()
        except Exception as exc:
            log.warning("kernels: a pooled kernel failed to start: %s", exc)
            return
        finally:
            self._filling -= 1
        if self._closing:
            await entry[0].shutdown()
        else:
            self._pool.append(entry)

    def track(self, task: asyncio.Task[None] | asyncio.Future[None]) -> None:
        """Keep a session's background work (a cancelled run stopping) until it ends; shutdown
        cancels what is left."""
        self._track(task)

    def _track(self, task: asyncio.Task[None] | asyncio.Future[None]) -> None:
        self._tasks.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._tasks.discard)

    # --- the idle culler ----------------------------------------------------------------------

    async def _cull_loop(self) -> None:
        period = min(self.config.idle_cull_s / 4, 30.0)
        while True:
            await asyncio.sleep(period)
            await self.cull()

    async def cull(self) -> int:
        """Shut down session kernels idle longer than idle_cull_s; returns how many."""
        now = time.monotonic()
        culled = 0
        for session in list(self._sessions.values()):
            if session.live is None or session.busy or session.locked():
                continue
            if now - session.last_used < self.config.idle_cull_s:
                continue
            live = session.detach()
            if live is not None:
                await self._end(session.session_id, live)
                await self._free_slot()
                self._uids.release(session.uid)
                session.uid = None
                culled += 1
        self.counters["culled"] += culled
        return culled
