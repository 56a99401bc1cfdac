"""ChatUI: the Gradio app's handlers, a thin adapter over TaskService and AgentRuntime.

Each browser tab (Gradio's `session_hash`) gets its own agent session, hence its own kernel and
workspace; "New session" swaps in a fresh one, and the tab going away (`unload`) cancels what
still runs and releases the kernel. The handlers are plain async functions (and generators, for
the streamed chat), so the tests call them directly as well as through Gradio.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio import ChatMessage
from pydantic import ValidationError

from agent.errors import AgentError
from agent.http.auth import KeyRing, key_from_headers
from agent.http.files import listing, save_file
from agent.http.problems import Problem
from agent.records import ExecutionRecord, new_id
from agent.service import TaskService
from agent.store import SqlRecordStore
from agent.ui.view import Media, RunView, notebook_messages, user_message

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["BrowserSession", "ChatUI", "Choices", "Turn"]

log = logging.getLogger(__name__)

DELTA_EVERY_S = 0.1  # streamed model text is sent to the page at most this often
CHUNK = 1 << 16
HISTORY_ROWS = 50


@dataclass
class BrowserSession:
    """One browser tab's conversation: its agent session, the messages of finished turns."""

    session_id: str
    owner: str | None
    history: list[ChatMessage] = field(default_factory=list)
    running: str | None = None  # the execution now streaming
    last: ExecutionRecord | None = None  # the latest finished run (its notebook downloads)


@dataclass(frozen=True)
class Choices:
    """What the pickers ask for; empty values mean the agent's own configuration."""

    agent: str | None = None
    provider: str | None = None
    model: str | None = None
    skills: list[str] | None = None


@dataclass
class Turn:
    """What one `send` step yields: the messages, and (at the end) the panels that changed."""

    messages: list[ChatMessage]
    final: bool = False
    notebook: str | None = None
    files: list[str] = field(default_factory=list)
    variables: list[list[str]] = field(default_factory=list)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


def _error_text(exc: Exception) -> str:
    if isinstance(exc, AgentError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, Problem):
        return f"{exc.code}: {exc.detail}"
    if isinstance(exc, ValidationError):
        fields = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return "bad_request: " + "; ".join(fields)
    return f"{type(exc).__name__}: {exc}"


class ChatUI:
    def __init__(
        self, service: TaskService, runtime: AgentRuntime, keyring: KeyRing, media_root: Path
    ) -> None:
        self.service = service
        self.runtime = runtime
        self.keyring = keyring
        self.media_root = media_root
        self.settings = runtime.settings
        self.browsers: dict[str, BrowserSession] = {}

    # --- who is asking -----------------------------------------------------------------------

    def owner(self, request: Any) -> str | None:
        """The API key id of the caller (None with auth off); AgentError when keys are on and
        none (or an unknown one) came. Gradio's auth dependency has already named the key for
        the page and the queue; an MCP call brings its own headers."""
        if not self.keyring.enabled:
            return None
        username = getattr(request, "username", None)
        if isinstance(username, str) and self.keyring.key(username) is not None:
            return username
        headers = getattr(request, "headers", None) or {}
        presented = key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
        owner = self.keyring.owner_for(presented)
        if owner is None:
            detail = "an API key is required" if presented is None else "unknown API key"
            raise AgentError("unauthorized", f"{detail}: send Authorization: Bearer <key>")
        return owner

    def media(self, session_id: str) -> Media:
        return Media(self.media_root / session_id)

    # --- the tab's lifecycle -----------------------------------------------------------------

    def open(self, request: gr.Request) -> BrowserSession:
        """Page load: this tab's own session (a new id, so a new kernel when it first runs)."""
        key = request.session_hash or new_id("tab")
        browser = BrowserSession(session_id=new_id("ses"), owner=self.owner(request))
        self.browsers[key] = browser
        return browser

    def browser(self, request: gr.Request) -> BrowserSession:
        key = request.session_hash or ""
        browser = self.browsers.get(key)
        if browser is None:  # a tab older than a server restart: give it a session now
            browser = self.open(request)
        return browser

    async def release(self, browser: BrowserSession) -> None:
        """Cancel what still runs, shut the kernel down, drop the tab's images (records stay)."""
        for record in await self.service.session_tasks(browser.session_id):
            await self.service.cancel(record.execution_id, owner=record.owner)
        try:
            await self.runtime.close_session(browser.session_id)
        except Exception:
            log.exception("closing session %s failed", browser.session_id)
        await asyncio.to_thread(shutil.rmtree, self.media_root / browser.session_id, True)

    async def unload(self, request: gr.Request) -> None:
        browser = self.browsers.pop(request.session_hash or "", None)
        if browser is not None:
            await self.release(browser)

    async def new_session(self, request: gr.Request) -> BrowserSession:
        old = self.browsers.pop(request.session_hash or "", None)
        if old is not None:
            await self.release(old)
        return self.open(request)

    # --- running a task ----------------------------------------------------------------------

    async def submit(
        self, task: str, session_id: str | None, owner: str | None, choices: Choices
    ) -> ExecutionRecord:
        """The REST route's checks (body limits, the key's agents and skills, its task budget),
        then the service's queue; AgentError / Problem / ValidationError say what is wrong."""
        from agent.http.context import Principal
        from agent.http.routes import ExecuteBody, _allowed, check_task_budget, submit_body

        body = ExecuteBody(
            task=task,
            session_id=session_id,
            agent=choices.agent or None,
            available_skills=choices.skills or None,
            provider=choices.provider or None,
            model=choices.model or None,
        )
        who = Principal(owner=owner, key=self.keyring.key(owner) if owner else None)
        skills = _allowed(who, body, self.settings.agents.default_agent)
        store = self.service.store
        if isinstance(store, SqlRecordStore):
            await check_task_budget(self.settings, store, owner)
        return await submit_body(self.service, body, skills, owner)

    async def attach(self, browser: BrowserSession, paths: list[str]) -> list[str]:
        """Copy the files attached in the chat into the session's workspace (the REST upload's
        rules: plain names, MAX_UPLOAD_BYTES each); their names, or Problem."""
        if not paths:
            return []
        store = self.service.store
        if isinstance(store, SqlRecordStore):
            row = await store.claim_session(browser.session_id, browser.owner)
            if row.owner != browser.owner:
                raise Problem("not_found", f"no session {browser.session_id!r}")
        root = self.runtime.kernels.workspace(browser.session_id)
        limit = self.settings.server.max_upload_bytes
        names = []
        for raw in paths:
            path = Path(raw)
            saved = await save_file(root, path.name, _chunks(path), limit)
            names.append(str(saved["name"]))
        return names

    async def send(
        self, text: str, files: list[str], browser: BrowserSession, choices: Choices
    ) -> AsyncIterator[Turn]:
        """One chat turn: attachments into the workspace, the task queued, its steps streamed
        as they happen, then the answer with the notebook, workspace files and variables."""
        text = (text or "").strip()
        if not text:
            raise AgentError("bad_request", "type a task (attached files need one too)")
        before = list(browser.history)
        try:
            names = await self.attach(browser, files)
            record = await self.submit(text, browser.session_id, browser.owner, choices)
        except (AgentError, Problem, ValidationError) as exc:
            failed = [user_message(text), ChatMessage(f"**Not run** — {_error_text(exc)}")]
            browser.history = before + failed
            yield Turn(browser.history, final=True)
            return
        asked = user_message(text, names)
        view = RunView(record.execution_id, self.media(browser.session_id), task=text)
        browser.running = record.execution_id
        try:
            yield Turn([*before, asked, *view.messages()])
            sent = time.monotonic()
            async for event in self.service.events(record.execution_id, owner=browser.owner):
                view.apply(event)
                if event.type == "llm_delta" and time.monotonic() - sent < DELTA_EVERY_S:
                    continue
                sent = time.monotonic()
                yield Turn([*before, asked, *view.messages()])
        finally:
            browser.running = None
        final = await self.service.wait(record.execution_id)
        browser.last = final
        browser.history = [*before, asked, *view.messages()]
        yield Turn(
            browser.history,
            final=True,
            notebook=self.notebook_path(final),
            files=await self.workspace_files(browser.session_id),
            variables=await self.variables(browser.session_id),
        )

    async def stop(self, browser: BrowserSession) -> None:
        """Cancel the running task: the LLM stream and the kernel's program both stop."""
        if browser.running is not None:
            await self.service.cancel(browser.running, owner=browser.owner)

    # --- panels ------------------------------------------------------------------------------

    def notebook_path(self, record: ExecutionRecord | None) -> str | None:
        if record is None or not record.notebook:
            return None
        path = Path(record.notebook).resolve()
        root = self.settings.server.notebooks_dir.resolve()
        return str(path) if path.is_relative_to(root) and path.is_file() else None

    async def workspace_files(self, session_id: str) -> list[str]:
        root = self.runtime.kernels.workspace(session_id)
        entries = await asyncio.to_thread(listing, root)
        return [str(root / entry["name"]) for entry in entries]

    async def variables(self, session_id: str) -> list[list[str]]:
        try:
            found = await self.runtime.variables(session_id)
        except Exception as exc:  # the kernel is gone or busy: the panel says so, no crash
            log.info("variables of %s unavailable: %s", session_id, exc)
            return []
        return [[v.name, v.type, v.preview] for v in found]

    async def history(self, owner: str | None) -> list[ExecutionRecord]:
        store = self.service.store
        if not isinstance(store, SqlRecordStore):
            return []
        page = await store.page(owner=owner, limit=HISTORY_ROWS)
        return page.records

    async def open_run(
        self, execution_id: str, owner: str | None, session_id: str
    ) -> tuple[list[ChatMessage], str | None]:
        """A past run rendered from its notebook (from its record while it has none)."""
        record = await self.service.get(execution_id, owner=owner)
        if record is None:
            return [ChatMessage(f"**Not found** — no execution {execution_id!r}")], None
        path = self.notebook_path(record)
        media = self.media(session_id)
        if path is None:
            return [user_message(record.task), *RunView.of(record, media).messages()], None
        messages = await asyncio.to_thread(notebook_messages, Path(path), media)
        return messages, path

    def skills(self) -> tuple[list[list[str]], list[str]]:
        catalog = self.runtime.skills.catalog()
        rows = [[s.python_name, s.signature, s.description, s.source] for s in catalog.skills]
        return rows, [f"{e.name or e.path}: {e.reason}" for e in catalog.errors]

    # --- the named API endpoints -------------------------------------------------------------

    async def run_api(self, task: str, session_id: str, request: Any) -> dict[str, Any]:
        """`/run`: the execution record (REST's JSON) once the task is done."""
        try:
            owner = self.owner(request)
            record = await self.submit(task, session_id or None, owner, Choices())
        except (AgentError, Problem, ValidationError) as exc:
            raise gr.Error(_error_text(exc), print_exception=False) from None
        final = await self.service.wait(record.execution_id)
        return final.wire()

    async def chat_api(
        self, message: str, session_id: str, request: Any
    ) -> AsyncIterator[list[ChatMessage]]:
        """`/chat`: the session's conversation as it grows; the first message (role `system`)
        names the session, so a caller that sent an empty id can continue it."""
        try:
            owner = self.owner(request)
            record = await self.submit(message, session_id or None, owner, Choices())
        except (AgentError, Problem, ValidationError) as exc:
            raise gr.Error(_error_text(exc), print_exception=False) from None
        session = record.session_id
        media = self.media(session)
        head: list[ChatMessage] = [ChatMessage(f"session_id: {session}", role="system")]
        for earlier in await self.service.store.session_records(session):
            if earlier.done and earlier.execution_id != record.execution_id:
                head += [user_message(earlier.task), *RunView.of(earlier, media).messages()]
        head.append(user_message(record.task))
        view = RunView(record.execution_id, media, task=record.task)
        yield [*head, *view.messages()]
        sent = time.monotonic()
        async for event in self.service.events(record.execution_id, owner=owner):
            view.apply(event)
            if event.type == "llm_delta" and time.monotonic() - sent < DELTA_EVERY_S:
                continue
            sent = time.monotonic()
            yield [*head, *view.messages()]
