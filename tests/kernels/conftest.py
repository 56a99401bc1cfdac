"""One sandboxed SessionKernels per test session for the kernel suites; fake skills on the host."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import pytest_asyncio

from kernels import KernelConfig, SessionKernels, SkillStub

HOST_SECRET = "host-secret-4f1c9a"
PROGRAMS = Path(__file__).parent / "programs"

STUBS = [
    SkillStub("echo", "(text: str, times: int = 1) -> str", "Repeat `text` `times` times."),
    SkillStub("web_search", "(query: str, max_results: int = 5) -> list[dict]", "Search the web."),
    SkillStub("fail", "(message: str = 'boom') -> None", "Always fails."),
    SkillStub("big", "(size: int) -> str", "A string of `size` characters."),
    SkillStub("gathered", "(tag: str) -> str", "Returns once three calls wait at once."),
    SkillStub("opaque", "() -> dict", "Returns a value JSON cannot carry."),
    SkillStub("crash", "() -> None", "The host handler raises."),
]


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    error: str | None = None
    error_type: str | None = None


class FakeSkills:
    """Host-side skills for the bridge tests (real async code, no network)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any], dict[str, Any]]] = []
        self._barrier: asyncio.Barrier | None = None

    async def __call__(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Outcome:
        self.calls.append((name, args, kwargs))
        if name == "echo":
            return Outcome(True, args[0] * kwargs.get("times", args[1] if len(args) > 1 else 1))
        if name == "web_search":
            n = kwargs.get("max_results", 5)
            return Outcome(True, [{"title": f"{args[0]} {i}", "url": f"u{i}"} for i in range(n)])
        if name == "fail":
            return Outcome(False, error=(args or ["boom"])[0], error_type="skill_failed")
        if name == "big":
            return Outcome(True, "x" * args[0])
        if name == "gathered":
            # only completes when three calls are in flight together: proves concurrency
            if self._barrier is None:
                self._barrier = asyncio.Barrier(3)
            try:
                await asyncio.wait_for(self._barrier.wait(), 10)
            except TimeoutError:
                return Outcome(False, error="calls were not concurrent")
            return Outcome(True, f"got {args[0]}")
        if name == "opaque":
            return Outcome(True, {"value": object()})
        if name == "crash":
            raise RuntimeError("handler bug")
        if name == "delegate":
            return Outcome(True, f"{args[0]} did: {args[1]}")
        if name == "describe_skills":
            return Outcome(True, "docs of " + ",".join(args))
        return Outcome(False, error=f"unknown skill {name}")


def kernel_config(name: str, **overrides: Any) -> KernelConfig:
    # not under pytest's tmp dir: it is mode 0700, which per-session uids cannot traverse
    fields: dict[str, Any] = {
        "workspace_root": Path(f"/tmp/akt-ws-{os.getpid()}") / name,
        "runtime_dir": Path(f"/tmp/akt-{os.getpid()}"),
        "pool_size": 1,
        "max_kernels": 6,
        "run_timeout_s": 30,
        "interrupt_grace_s": 3,
    }
    fields.update(overrides)
    return KernelConfig(**fields)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits on whatever reaps in this container)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def sandbox_processes(config: KernelConfig) -> list[psutil.Process]:
    """Processes started for this config's kernels (their argv names its runtime dir)."""
    found = []
    marker = str(config.runtime_dir)
    for proc in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in proc.info["cmdline"] or []) and running(proc.pid):
            found.append(proc)
    return found


@pytest_asyncio.fixture(scope="session")
async def kernels() -> AsyncIterator[SessionKernels]:
    os.environ["AGENT_TEST_SECRET"] = HOST_SECRET  # the host has a secret; the kernel must not
    config = kernel_config("main")
    pool = SessionKernels(config)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.shutdown()
        os.environ.pop("AGENT_TEST_SECRET", None)
        shutil.rmtree(config.workspace_root.parent, ignore_errors=True)
        shutil.rmtree(config.runtime_dir, ignore_errors=True)
        leftover = sandbox_processes(config)
        for proc in leftover:
            proc.kill()
        assert not leftover, f"kernel processes left behind: {leftover}"


@pytest.fixture
def skills() -> FakeSkills:
    return FakeSkills()


def program(name: str) -> str:
    return (PROGRAMS / name).read_text(encoding="utf-8")
