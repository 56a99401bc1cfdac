"""Running one cell over a kernel client: every message matched to the request by msg_id."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import json
from collections.abc import Awaitable, Callable
from queue import Empty
from typing import Any, Literal

from jupyter_client.asynchronous import AsyncKernelClient

from kernels.bridge import Bridge
from kernels.outputs import OutputCollector
from kernels.results import OutputHandler

__all__ = ["CellRun", "Ending", "parse_final", "quiet_execute"]

Ending = Literal["done", "timeout", "died"]
FINAL_EXPR = "__import__('_agent_runtime').take_final()"


def parse_final(reply: dict[str, Any]) -> tuple[bool, Any]:
    """(has_final_answer, value) from the execute_reply's user_expressions."""
    found = (reply.get("user_expressions") or {}).get("final") or {}
    text = (found.get("data") or {}).get("text/plain")
    if found.get("status") != "ok" or not text:
        return False, None
    try:
        data = json.loads(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return False, None
    return bool(data.get("has")), data.get("value")


class CellRun:
    """One execute_request: iopub outputs, stdin calls and the shell reply, read concurrently."""

    def __init__(
        self,
        client: AsyncKernelClient,
        code: str,
        *,
        bridge: Bridge,
        collector: OutputCollector,
        on_output: OutputHandler | None = None,
    ) -> None:
        self.client = client
        self.code = code
        self.bridge = bridge
        self.collector = collector
        self.on_output = on_output
        self.msg_id = ""
        self.reply: dict[str, Any] | None = None
        self._idle = asyncio.Event()
        self._replied = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._done: asyncio.Future[Any] | None = None

    def start(self) -> None:
        self.msg_id = self.client.execute(
            self.code,
            store_history=True,
            allow_stdin=True,
            stop_on_error=False,
            user_expressions={"final": FINAL_EXPR},
        )
        self._tasks = [
            asyncio.create_task(self._read_iopub()),
            asyncio.create_task(self._read_stdin()),
            asyncio.create_task(self._read_shell()),
        ]
        self._done = asyncio.gather(self._idle.wait(), self._replied.wait())

    def _ours(self, msg: dict[str, Any]) -> bool:
        return bool(msg.get("parent_header", {}).get("msg_id") == self.msg_id)

    async def _read_iopub(self) -> None:
        while True:
            msg = await self.client.get_iopub_msg()
            if not self._ours(msg):
                continue  # late output of an earlier, abandoned request
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                self._idle.set()
                return
            shown = self.collector.add(kind, content)
            if shown is not None and self.on_output is not None:
                with contextlib.suppress(Exception):  # a broken UI callback must not end the run
                    result = self.on_output(shown)
                    if inspect.isawaitable(result):
                        await result

    async def _read_stdin(self) -> None:
        while True:
            msg = await self.client.get_stdin_msg()
            if not self._ours(msg) or msg["msg_type"] != "input_request":
                continue
            reply = await self.bridge.answer(msg["content"].get("prompt", ""))
            self.client.input(reply)

    async def _read_shell(self) -> None:
        while True:
            msg = await self.client.get_shell_msg()
            if self._ours(msg) and msg["msg_type"] == "execute_reply":
                self.reply = msg["content"]
                self._replied.set()
                return

    async def wait(self, limit_s: float, alive: Callable[[], Awaitable[bool]]) -> Ending:
        """Until the reply and the idle status arrived, the timeout passed, or the kernel died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        assert self._done is not None, "start() first"
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return "timeout"
            # execute_interactive would not notice a dead kernel: poll liveness ourselves
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._done), min(left, 0.5))
                return "done"
            if not await alive():
                return "died"

    async def close(self) -> None:
        if self._done is not None:
            self._done.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._done
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def quiet_execute(
    client: AsyncKernelClient,
    code: str,
    *,
    limit_s: float,
    expressions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A silent execute (no history, no count) for the runtime's own work; the reply content."""
    msg_id = client.execute(
        code,
        silent=True,
        store_history=False,
        allow_stdin=False,
        user_expressions=expressions or {},
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while True:
        try:
            msg = await client.get_shell_msg(timeout=max(deadline - loop.time(), 0.01))
        except Empty:
            raise RuntimeError(f"the kernel did not answer within {limit_s:g} s") from None
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_reply":
            content: dict[str, Any] = msg["content"]
            return content
