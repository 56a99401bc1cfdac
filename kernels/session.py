"""`SessionKernel`: one session's persistent kernel; runs cells, installs stubs, survives failure."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient

from kernels.bridge import Bridge
from kernels.cell import CellRun, parse_final, quiet_execute
from kernels.launcher import KernelState, LiveKernel
from kernels.outputs import OutputCollector
from kernels.results import (
    CallHandler,
    KernelError,
    OutputHandler,
    RunResult,
    SkillStub,
    VariableInfo,
)

if TYPE_CHECKING:
    from kernels.pool import SessionKernels

__all__ = ["SessionKernel"]


class SessionKernel:
    """The session's kernel. The object stays valid across eviction, death and restart: the next
    run starts a fresh kernel (`run_count` is then 0 and earlier variables are gone)."""

    def __init__(self, owner: SessionKernels, session_id: str, workspace: Path) -> None:
        self.session_id = session_id
        self.workspace = workspace
        self.run_count = 0
        self.uid: int | None = None
        self.live: LiveKernel | None = None
        self.busy = False
        self.last_used = time.monotonic()
        self._owner = owner
        self._stubs: list[SkillStub] | None = None
        self._lock = asyncio.Lock()
        self._interrupt_requested = False
        self._state_lost = False  # an earlier kernel of this session had state that is now gone
        self._settling: asyncio.Task[None] | None = None  # a cancelled run, still stopping

    # --- the contract's attributes ------------------------------------------------------------

    @property
    def manager(self) -> AsyncKernelManager:
        return self._require().manager

    @property
    def client(self) -> AsyncKernelClient:
        return self._require().client

    def _require(self) -> LiveKernel:
        if self.live is None:
            raise RuntimeError(f"session {self.session_id}: no kernel running (run() starts one)")
        return self.live

    # --- lifecycle (called by SessionKernels) -------------------------------------------------

    def detach(self) -> LiveKernel | None:
        """Take the kernel away (eviction, culling, close); the caller shuts it down."""
        live, self.live = self.live, None
        if live is not None and self.run_count:
            self._state_lost = True
        self.run_count = 0
        return live

    async def export_state(self) -> KernelState | None:
        """The running remote kernel's state, for another process to attach with (None: no
        kernel, or a local one)."""
        live = self.live
        if live is None:
            return None
        state = await live.export_state()
        if state is not None:
            state.run_count = self.run_count
        return state

    def locked(self) -> bool:
        return self._lock.locked()

    async def ensure(self) -> None:
        """Start (or revive) the kernel now; waits for a slot (KernelsBusy past the wait)."""
        async with self._using():
            pass

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    @contextlib.asynccontextmanager
    async def _using(self, *, start: bool = True) -> AsyncIterator[LiveKernel | None]:
        async with self._lock:
            self.busy = True
            try:
                if self._settling is not None:  # the last run was cancelled: let it stop first
                    settling, self._settling = self._settling, None
                    with contextlib.suppress(Exception):
                        await settling
                if start and (self.live is None or not await self.live.alive()):
                    await self._fresh_kernel()
                yield self.live
            finally:
                self.busy = False
                self.last_used = time.monotonic()
                self._owner.notify_idle()

    async def _fresh_kernel(self) -> None:
        dead = self.detach()
        if dead is not None:
            await self._owner.replace_kernel(self, dead)
        else:
            self.live = await self._owner.kernel_for(self)
        if self._stubs is not None:
            await self._install(self._stubs)

    # --- the contract's methods ---------------------------------------------------------------

    async def install_stubs(self, stubs: list[SkillStub]) -> None:
        """Define exactly these skill functions (+ final_answer, delegate, parallel, ...)."""
        async with self._using():
            self._stubs = list(stubs)
            await self._install(self._stubs)

    async def _install(self, stubs: list[SkillStub]) -> None:
        specs = json.dumps(
            [{"name": s.name, "signature": s.signature, "doc": s.doc} for s in stubs]
        )
        reply = await quiet_execute(
            self._require().client,
            f"__import__('_agent_runtime').install_stubs({specs!r})",
            limit_s=self._owner.config.start_timeout_s,
        )
        if reply.get("status") != "ok":
            raise RuntimeError(f"installing skill stubs failed: {reply.get('evalue')}")

    async def run(
        self,
        code: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109  # the pinned interface's name
        on_call: CallHandler | None = None,
        on_output: OutputHandler | None = None,
    ) -> RunResult:
        """Execute one cell; never raises for the program's own failure (see RunResult.status)."""
        limit = timeout if timeout is not None else self._owner.config.run_timeout_s
        async with self._using() as live:
            assert live is not None
            return await self._run(live, code, limit, on_call, on_output)

    async def _run(
        self,
        live: LiveKernel,
        code: str,
        limit: float,
        on_call: CallHandler | None,
        on_output: OutputHandler | None,
    ) -> RunResult:
        config = self._owner.config
        collector = OutputCollector(config.limits.output_bytes)
        bridge = Bridge(on_call)
        cell = CellRun(live.client, code, bridge=bridge, collector=collector, on_output=on_output)
        self._interrupt_requested = False
        state_lost, self._state_lost = self._state_lost, False
        started = time.perf_counter()
        cell.start()
        restart_error: KernelError | None = None
        settle = False
        try:
            ending = await cell.wait(limit, live.alive)
            if ending == "timeout":
                with contextlib.suppress(Exception):
                    await live.manager.interrupt_kernel()
                if await cell.wait(config.interrupt_grace_s, live.alive) != "done":
                    restart_error = KernelError(
                        "TimeoutError",
                        f"the program ran past its {limit:g} s limit and did not stop when "
                        "interrupted; the kernel was restarted and the session's variables are lost",
                        [],
                    )
            elif ending == "died":
                code_ = await live.manager.provisioner.poll() if live.manager.provisioner else None
                restart_error = KernelError(
                    "KernelDied",
                    f"the kernel process ended (exit code {code_}) while running the program; a "
                    "fresh kernel was started and the session's variables are lost",
                    [],
                )
        except asyncio.CancelledError:
            # the caller gave up (task cancelled): stop the program, keep the kernel. The next
            # use of the session first waits until the program has stopped (an interrupt that
            # arrives before the cell starts is lost, and the cell would run on)
            with contextlib.suppress(Exception):
                await asyncio.shield(live.manager.interrupt_kernel())
            settle = True
            self._settling = asyncio.ensure_future(self._settle(live, cell))
            self._owner.track(self._settling)
            raise
        finally:
            if not settle:
                await cell.close()
        collector.finish()
        reply = cell.reply or {}
        if restart_error is not None:
            await self._restart_now()
            status = "died" if restart_error.ename == "KernelDied" else "timeout"
            return self._result(
                status, collector, bridge, started, reply, error=restart_error, state_lost=True
            )
        swept = await live.sweep()
        self.run_count += 1
        if ending == "timeout":
            status = "timeout"
        elif reply.get("status") == "ok":
            status = "ok"
        else:
            status = "interrupted" if self._interrupt_requested else "error"
        error = collector.error
        if status != "ok" and error is None and reply.get("ename"):
            collector.set_error(reply)
            error = collector.error
        if status == "timeout" and error is not None:
            error.evalue = error.evalue or f"interrupted at the {limit:g} s time limit"
        if swept:
            collector.streams["stderr"].add(
                f"\n[sandbox: {swept} leftover process(es) of this run were killed]\n"
            )
        result = self._result(
            status, collector, bridge, started, reply, error=error, state_lost=state_lost
        )
        if status == "ok":
            result.has_final_answer, result.final_answer = parse_final(reply)
        return result

    def _result(
        self,
        status: Any,
        collector: OutputCollector,
        bridge: Bridge,
        started: float,
        reply: dict[str, Any],
        *,
        error: KernelError | None,
        state_lost: bool,
    ) -> RunResult:
        return RunResult(
            status=status,
            stdout=collector.text("stdout"),
            stderr=collector.text("stderr"),
            outputs=collector.outputs,
            error=error,
            execution_count=reply.get("execution_count") or collector.execution_count,
            duration_ms=(time.perf_counter() - started) * 1000,
            calls=bridge.calls,
            state_lost=state_lost,
            truncated_bytes=collector.truncated,
            isolation=self._owner.isolation.mode,
        )

    async def _settle(self, live: LiveKernel, cell: CellRun) -> None:
        """After a cancelled run: wait for the cell to end, interrupting once more; a kernel
        still busy after that is replaced (the next run is told its variables are gone)."""
        grace = self._owner.config.interrupt_grace_s
        try:
            for attempt in range(2):
                if await cell.wait(grace, live.alive) == "done":
                    return
                if attempt == 0:
                    with contextlib.suppress(Exception):
                        await live.manager.interrupt_kernel()
            if self.live is live:  # not evicted, culled or closed meanwhile
                await self._restart_now()
                self._state_lost = True
        finally:
            await cell.close()

    async def _restart_now(self) -> None:
        """A fresh kernel for this session at once, so the next run does not pay for it."""
        dead = self.detach()
        self._state_lost = False  # this run's result already says so
        if dead is not None:
            await self._owner.replace_kernel(self, dead)
        if self._stubs is not None:
            await self._install(self._stubs)

    async def interrupt(self) -> None:
        """Interrupt the running program (KeyboardInterrupt in it; variables survive)."""
        live = self.live
        if live is not None:
            self._interrupt_requested = True
            await live.manager.interrupt_kernel()

    async def variables(self) -> list[VariableInfo]:
        """The program's variables (name, type, short preview); empty with no kernel running."""
        async with self._using(start=False) as live:
            if live is None:
                return []
            reply = await quiet_execute(
                live.client,
                "",
                limit_s=10.0,
                expressions={"v": "__import__('_agent_runtime').variables()"},
            )
        found = (reply.get("user_expressions") or {}).get("v") or {}
        text = (found.get("data") or {}).get("text/plain", "'[]'")
        items = json.loads(ast.literal_eval(text))
        return [VariableInfo(name=i["name"], type=i["type"], preview=i["preview"]) for i in items]
