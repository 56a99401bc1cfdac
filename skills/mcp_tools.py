"""MCP servers as skill sources, through the official `mcp` SDK (stdio and streamable HTTP).

Each server gets one long-lived task that owns the SDK's context managers (anyio needs them
entered and left in one task); calls go through its `ClientSession` from any task. A server whose
connection ends (a crashed stdio process) is marked lost and reconnected on the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO, cast

import anyio
import httpx
from mcp import ClientSession, McpError, StdioServerParameters, types
from mcp.client.stdio import get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client

from skills.config import McpServerConfig
from skills.net import network_error
from skills.records import SkillContext, SkillError, SkillInfo
from skills.signatures import SchemaShape, schema_type

__all__ = ["McpServer", "McpToolSkill", "tool_python_name"]

log = logging.getLogger(__name__)


def tool_python_name(server: str, tool: str) -> str:
    """`<server>__<tool>` with every character Python does not allow in a name turned into `_`."""
    raw = f"{server}__{tool}"
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in raw)
    return name if not name[0].isdigit() else f"_{name}"


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    leaf = _leaf(exc)
    text = str(leaf) or type(leaf).__name__
    return f"{type(leaf).__name__}: {text}" if str(leaf) else text


class McpServer:
    """One configured MCP server: connect, list tools, call them, reconnect after a crash."""

    def __init__(self, name: str, config: McpServerConfig) -> None:
        self.name = name
        self.config = config
        self.tools: list[types.Tool] = []
        self.error: str | None = None
        self._session: ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stderr: TextIO | None = None
        self._ended: str | None = None  # why the last live connection ended

    @property
    def connected(self) -> bool:
        return self._session is not None and not self._stop.is_set()

    async def connect(self) -> list[types.Tool]:
        """Start the server (or open the HTTP session), initialize and list its tools."""
        async with self._lock:
            return await self._connect()

    async def _connect(self) -> list[types.Tool]:
        await self._shutdown()
        self._stop = asyncio.Event()
        self._ended = None
        ready: asyncio.Future[list[types.Tool]] = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(ready), name=f"mcp:{self.name}")
        try:
            self.tools = await asyncio.wait_for(ready, self.config.startup_timeout_s)
        except TimeoutError:
            await self._shutdown()
            self.error = f"did not start within {self.config.startup_timeout_s:g} s"
            raise SkillError(f"MCP server {self.name!r}: {self.error}", "mcp_unavailable") from None
        except Exception as exc:
            await self._shutdown()
            self.error = self._explain(exc)
            raise SkillError(f"MCP server {self.name!r}: {self.error}", "mcp_unavailable") from None
        self.error = None
        return self.tools

    def _explain(self, exc: BaseException) -> str:
        leaf = _leaf(exc)
        if isinstance(leaf, httpx.HTTPError):
            reason = str(network_error(leaf, f"reaching {self.config.url}"))
        else:
            reason = _reason(exc)
        tail = self._stderr_tail()
        return f"{reason}; stderr: {tail}" if tail else reason

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            lines = [line.rstrip() for line in self._stderr.read().splitlines() if line.strip()]
            return " | ".join(lines[-3:])[-400:]
        return ""

    def _fresh_stderr(self) -> TextIO:
        # owned by the server object, not the connection, so the tail is still readable when a
        # failed start has already torn the connection down
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = cast(TextIO, tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115  # closed in close()
        return self._stderr

    async def _open(self, stack: contextlib.AsyncExitStack) -> tuple[Any, Any]:
        cfg = self.config
        if cfg.transport == "stdio":
            if not cfg.command:
                raise ValueError("stdio server needs a command")
            errlog = self._fresh_stderr()
            params = StdioServerParameters(
                command=cfg.command,
                args=cfg.args,
                env={**get_default_environment(), **cfg.env},
                cwd=cfg.cwd,
            )
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
            return read, write
        if not cfg.url:
            raise ValueError("http server needs a url")
        client = httpx.AsyncClient(
            headers=cfg.headers, timeout=httpx.Timeout(cfg.timeout_s, read=300.0)
        )
        await stack.enter_async_context(client)
        read, write, _ = await stack.enter_async_context(
            streamable_http_client(cfg.url, http_client=client)
        )
        return read, write

    async def _run(self, ready: asyncio.Future[list[types.Tool]]) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await self._open(stack)
                # our own read stream, so that the end of the server's output is noticed
                ours_send, ours_read = anyio.create_memory_object_stream[Any](0)
                pump = asyncio.create_task(self._pump(read, ours_send))
                stack.callback(pump.cancel)
                session = await stack.enter_async_context(ClientSession(ours_read, write))
                await session.initialize()
                tools: list[types.Tool] = []
                cursor: str | None = None
                while True:
                    page = await session.list_tools(
                        params=types.PaginatedRequestParams(cursor=cursor) if cursor else None
                    )
                    tools.extend(page.tools)
                    cursor = page.nextCursor
                    if not cursor:
                        break
                self._session = session
                ready.set_result(tools)
                await self._stop.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                self._ended = self._explain(exc)
                log.warning("MCP server %s: connection ended: %s", self.name, self._ended)
        finally:
            self._session = None
            self._stop.set()

    async def _pump(self, source: Any, target: Any) -> None:
        try:
            async with target:
                async for item in source:
                    await target.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            if not self._stop.is_set() and self._session is not None:
                log.warning("MCP server %s: connection lost; reconnecting on next use", self.name)
            self._stop.set()

    def _lost(self) -> SkillError:
        if self._ended:
            why = self._ended
        elif self.config.transport == "stdio":
            tail = self._stderr_tail()
            why = (
                f"the server process ended; stderr: {tail}" if tail else "the server process ended"
            )
        else:
            why = "the server closed the connection"
        return SkillError(
            f"MCP server {self.name!r}: connection lost during the call ({why}); "
            "it is reconnected on the next call",
            "mcp_unavailable",
        )

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        async with self._lock:
            if not self.connected:
                await self._connect()
            session, lost = self._session, self._stop
        if session is None:
            raise SkillError(f"MCP server {self.name!r} is not connected", "mcp_unavailable")
        # the SDK leaves a request to a dead server waiting for its read timeout; the end of the
        # connection is noticed by our pump, so the call races that
        call = asyncio.ensure_future(
            session.call_tool(
                tool, arguments, read_timeout_seconds=timedelta(seconds=self.config.timeout_s)
            )
        )
        ended = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({call, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (call, ended):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
        if not call.done() or call.cancelled():
            raise self._lost()
        try:
            return call.result()
        except McpError as exc:
            raise SkillError(
                f"MCP server {self.name!r}: {exc.error.message}", "mcp_error"
            ) from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._stop.set()
            raise self._lost() from None

    async def _shutdown(self) -> None:
        runner, self._runner = self._runner, None
        # a connection still starting waits on the server, not on _stop: cancel it outright
        starting = self._session is None
        self._stop.set()
        if runner is not None and not runner.done():
            if not starting:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(runner), 5.0)
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(BaseException):
                    await runner
        self._session = None

    async def close(self) -> None:
        async with self._lock:
            await self._shutdown()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None


def _result_value(result: types.CallToolResult, output_schema: dict[str, Any] | None) -> Any:
    texts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            texts.append(f"[{block.mimeType} content omitted]")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            texts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        else:
            texts.append(f"[{block.type} content]")
    if result.isError:
        raise SkillError("\n".join(texts) or "the tool reported an error", "mcp_tool_error")
    structured = result.structuredContent
    if structured is not None:
        if _wrapped(output_schema) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    return "\n".join(texts)


def _wrapped(output_schema: dict[str, Any] | None) -> bool:
    """FastMCP's wrapper around a non-object result: `<function>Output` with one `result` field."""
    if not output_schema:
        return False
    properties = output_schema.get("properties")
    return (
        isinstance(properties, dict)
        and set(properties) == {"result"}
        and output_schema.get("required") == ["result"]
        and str(output_schema.get("title", "")).endswith("Output")
    )


def _returns(output_schema: dict[str, Any] | None) -> str:
    """The return annotation shown: the structured type, or str for a tool that answers in text."""
    if not output_schema:
        return "str"
    if _wrapped(output_schema):
        return schema_type(output_schema["properties"]["result"])
    return "dict"


@dataclass
class McpToolSkill:
    """One MCP tool offered as the skill `<server>__<tool>`."""

    info: SkillInfo
    shape: SchemaShape
    server: McpServer
    tool: types.Tool
    timeout_s: float | None

    @classmethod
    def of(cls, server: McpServer, tool: types.Tool) -> McpToolSkill:
        python_name = tool_python_name(server.name, tool.name)
        description = (tool.description or tool.title or tool.name).strip()
        shape = SchemaShape.of(
            tool.inputSchema, python_name, description, _returns(tool.outputSchema)
        )
        info = SkillInfo(
            name=f"{server.name}__{tool.name}",
            python_name=python_name,
            description=" ".join(description.split()),
            signature=shape.signature,
            docstring=shape.docstring,
            json_schema=tool.inputSchema,
            source="mcp",
            path=server.config.url or server.config.command,
        )
        # the server's own per-call limit applies; ours waits a little longer than it
        return cls(info, shape, server, tool, server.config.timeout_s + 1.0)

    async def invoke(
        self, args: list[Any], kwargs: dict[str, Any], context: SkillContext, executor: Any
    ) -> Any:
        arguments = self.shape.bind(args, kwargs)
        result = await self.server.call_tool(self.tool.name, arguments)
        return _result_value(result, self.tool.outputSchema)
