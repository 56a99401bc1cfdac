"""Finding and killing a kernel's processes, and the per-session uids they run under."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import Iterable

import psutil

__all__ = [
    "UidPool",
    "kernel_pid",
    "kill_orphans",
    "kill_tree",
    "sweep_strays",
    "wait_gone",
    "zombie",
]


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _of_uid(uid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["uids"] and proc.info["uids"].real == uid:
                found.append(proc)
    return found


def _kill(procs: Iterable[psutil.Process]) -> int:
    killed = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
            killed += 1
    return killed


def kernel_pid(launcher_pid: int) -> int | None:
    """The host pid of the ipykernel process under a launcher (prlimit/bwrap), or None."""
    for proc in [psutil.Process(launcher_pid), *_descendants(launcher_pid)]:
        with contextlib.suppress(psutil.Error):
            # bwrap and prlimit carry the kernel's argv too: the kernel is the python process
            if proc.name().startswith("python") and "ipykernel_launcher" in proc.cmdline():
                return proc.pid
    return None


def kill_orphans(kernel_dirs: Iterable[str]) -> list[int]:
    """Kill what is left of kernels whose server is gone: the launchers (prlimit, bwrap) and
    kernels whose command line names one of these per-server directories. bubblewrap's
    --die-with-parent misses a server killed while it was starting a kernel (the signal is
    armed only once bwrap runs); such a kernel would live on, reparented to init."""
    marks = tuple(kernel_dirs)
    found = []
    if not marks:
        return []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            argv = " ".join(proc.info["cmdline"] or [])
            if "ipykernel_launcher" in argv and any(mark in argv for mark in marks):
                found.append(proc)
    _kill(found)
    return [p.pid for p in found]


def sweep_strays(launcher_pid: int, keep: set[int], uid: int | None) -> list[int]:
    """Kill everything the kernel left running (children, daemons, fork bombs) but `keep`;
    returns the pids signalled."""
    procs = {p.pid: p for p in _descendants(launcher_pid)}
    if uid is not None and uid != 0:
        procs.update({p.pid: p for p in _of_uid(uid)})
    strays = [p for pid, p in procs.items() if pid not in keep and pid != launcher_pid]
    _kill(strays)
    return [p.pid for p in strays]


def kill_tree(launcher_pid: int, uid: int | None, *, launcher: bool = True) -> list[int]:
    """Kill everything under a launcher, (per-session uid) everything of its uid, and the
    launcher itself unless `launcher=False`; returns the pids signalled."""
    procs = {p.pid: p for p in _descendants(launcher_pid)}
    if uid is not None and uid != 0:
        procs.update({p.pid: p for p in _of_uid(uid)})
    procs.pop(launcher_pid, None)
    if launcher:
        with contextlib.suppress(psutil.Error):
            procs[launcher_pid] = psutil.Process(launcher_pid)
    _kill(procs.values())
    return list(procs)


def zombie(pid: int) -> bool:
    """Dead but not yet reaped by its parent (it still holds a pid and an RLIMIT_NPROC slot)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _running(pid: int) -> bool:
    return psutil.pid_exists(pid) and not zombie(pid)


async def wait_gone(pids: list[int], limit_s: float = 1.0, *, zombies: bool = False) -> None:
    """Give parents a moment to reap what was killed: an orphaned zombie may never be reaped
    (a container's pid 1 often does not), so the launcher must outlive its children. With
    `zombies=True`, a killed process counts as gone once it is a zombie (SIGKILL is delivered
    when the process is next scheduled, not at once)."""
    alive = _running if zombies else psutil.pid_exists
    for _ in range(int(limit_s / 0.01)):
        if not any(alive(pid) for pid in pids):
            return
        await asyncio.sleep(0.01)


class UidPool:
    """Per-session uids from a range, skipping any uid that already owns a process."""

    def __init__(self, base: int, count: int) -> None:
        self.enabled = os.geteuid() == 0
        self._base = base
        self._count = count
        self._taken: set[int] = set()
        self._next = random.randrange(count)  # a fresh server does not reuse the last one's uids

    def take(self) -> int | None:
        if not self.enabled:
            return None
        busy = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
        for _ in range(self._count):
            uid = self._base + self._next
            self._next = (self._next + 1) % self._count
            if uid not in self._taken and uid not in busy:
                self._taken.add(uid)
                return uid
        raise RuntimeError("no free sandbox uid left in the configured range")

    def claim(self, uid: int | None) -> None:
        """Mark a uid taken that another process chose (an adopted remote kernel's)."""
        if uid is not None and self.enabled:
            self._taken.add(uid)

    def release(self, uid: int | None) -> None:
        if uid is not None:
            self._taken.discard(uid)
