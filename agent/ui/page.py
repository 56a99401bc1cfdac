"""build_ui: the Gradio Blocks (chat, history and skills tabs) wired to ChatUI's handlers.

Offline by itself: a theme of system fonts (nothing fetched), analytics off, no run history
kept in the browser, `share` never used. The queue is sized from the settings.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from agent.errors import AgentError
from agent.http.auth import KeyRing
from agent.service import TaskService
from agent.ui.api import add_api
from agent.ui.chat import BrowserSession, ChatUI, Choices

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["CSS", "THEME", "build_ui"]

THEME = gr.themes.Default(
    font=[gr.themes.Font("system-ui"), gr.themes.Font("Segoe UI"), gr.themes.Font("sans-serif")],
    font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")],
)
CSS = "#chat pre { max-height: 28rem; overflow: auto; }"
PLACEHOLDER = (
    "**Ask the agent.** It writes a short Python program that calls skills as functions and "
    "runs it in this session's own sandboxed Jupyter kernel; variables stay for the next turn. "
    "Attach files with the clip: they land in the session's workspace."
)
VARIABLE_HEADERS = ["name", "type", "preview"]
HISTORY_HEADERS = ["created", "status", "task", "execution"]
SKILL_HEADERS = ["function", "signature", "description", "source"]


def _note(browser: BrowserSession) -> str:
    return f"Session `{browser.session_id}` · its own kernel and workspace"


@dataclass
class _Chat:
    chatbot: gr.Chatbot
    box: gr.MultimodalTextbox
    fresh: gr.Button
    notebook: gr.DownloadButton
    agent: gr.Dropdown
    provider: gr.Dropdown
    model: gr.Textbox
    skills: gr.CheckboxGroup
    variables: gr.Dataframe
    refresh: gr.Button
    files: gr.File


@dataclass
class _History:
    tab: gr.Tab
    runs: gr.Dataframe
    pick: gr.Dropdown
    opened: gr.Chatbot
    notebook: gr.DownloadButton


@dataclass
class _Skills:
    tab: gr.Tab
    catalog: gr.Dataframe
    errors: gr.Markdown


def _chat_tab(runtime: AgentRuntime) -> _Chat:
    settings = runtime.settings
    providers = [("the agent's default", "")] + [
        (
            f"{name} ({s['kind']}, {s['model'] or 'no model'})"
            + ("" if s["usable"] else " (unusable)"),
            name,
        )
        for name, s in runtime.llm.status().items()
    ]
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation",
                elem_id="chat",
                height=620,
                placeholder=PLACEHOLDER,
                buttons=["copy_all"],
                feedback_options=None,
                group_consecutive_messages=False,
            )
            box = gr.MultimodalTextbox(
                placeholder="Type a task… (attach files with the clip)",
                file_count="multiple",
                sources=["upload"],
                stop_btn=True,
                show_label=False,
                elem_id="task",
                autofocus=True,
            )
            with gr.Row():
                fresh = gr.Button("New session", size="sm", elem_id="new-session")
                notebook = gr.DownloadButton(
                    "Download the run's notebook", visible=False, size="sm", elem_id="notebook"
                )
        with gr.Column(scale=2):
            with gr.Accordion("Agent, model and skills", open=False):
                agent = gr.Dropdown(
                    sorted(runtime.agents()), value=settings.agents.default_agent, label="Agent"
                )
                provider = gr.Dropdown(providers, value="", label="LLM provider")
                model = gr.Textbox(label="Model", placeholder="the provider's model")
                skills = gr.CheckboxGroup([], label="Skills (none ticked: all the agent's)")
            variables = gr.Dataframe(
                headers=VARIABLE_HEADERS,
                label="Kernel variables",
                interactive=False,
                wrap=True,
                elem_id="variables",
            )
            refresh = gr.Button("Refresh variables", size="sm")
            files = gr.File(
                label="Workspace files (the program's working directory)",
                file_count="multiple",
                interactive=False,
                elem_id="files",
            )
    return _Chat(
        chatbot, box, fresh, notebook, agent, provider, model, skills, variables, refresh, files
    )


class Page:
    """The event handlers: each turns Gradio's inputs into a ChatUI call and back."""

    def __init__(self, chat: ChatUI) -> None:
        self.chat = chat

    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        browser = self.chat.open(request)
        rows, errors = self.chat.skills()
        names = [row[0] for row in rows]
        return _note(browser), gr.update(choices=names), rows, "\n".join(errors)

    async def on_send(
        self,
        message: dict[str, Any] | None,
        agent: str,
        provider: str,
        model: str,
        skills: list[str],
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        browser = self.chat.browser(request)
        text = str((message or {}).get("text") or "")
        paths = [str(p) for p in (message or {}).get("files") or []]
        if not text.strip():
            gr.Warning("Type a task first (attached files need one too).")
            yield (gr.skip(),) * 5
            return
        choices = Choices(
            agent=agent or None,
            provider=provider or None,
            model=(model or "").strip() or None,
            skills=list(skills) if skills else None,
        )
        busy: Any = gr.MultimodalTextbox(value=None, interactive=False)
        async for turn in self.chat.send(text, paths, browser, choices):
            if not turn.final:
                yield turn.messages, busy, gr.skip(), gr.skip(), gr.skip()
                busy = gr.skip()
                continue
            yield (
                turn.messages,
                gr.MultimodalTextbox(value=None, interactive=True),
                gr.DownloadButton(value=turn.notebook, visible=turn.notebook is not None),
                turn.files or None,
                turn.variables or None,
            )

    async def on_stop(self, request: gr.Request) -> None:
        await self.chat.stop(self.chat.browser(request))

    async def on_new(self, request: gr.Request) -> tuple[Any, ...]:
        browser = await self.chat.new_session(request)
        return [], _note(browser), gr.DownloadButton(visible=False), None, None

    async def on_variables(self, request: gr.Request) -> Any:
        return await self.chat.variables(self.chat.browser(request).session_id) or None

    async def on_history(self, request: gr.Request) -> tuple[Any, ...]:
        records = await self.chat.history(self.chat.browser(request).owner)
        rows = [
            [f"{r.created_at:%Y-%m-%d %H:%M:%S}", r.status, r.task[:120], r.execution_id]
            for r in records
        ]
        labels = [(f"{r.created_at:%m-%d %H:%M} · {r.task[:60]}", r.execution_id) for r in records]
        return rows or None, gr.Dropdown(choices=labels, value=None)

    async def on_open(self, execution_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not execution_id:
            return [], gr.DownloadButton(visible=False)
        browser = self.chat.browser(request)
        try:
            messages, path = await self.chat.open_run(
                execution_id, browser.owner, browser.session_id
            )
        except (AgentError, OSError, ValueError) as exc:
            return [gr.ChatMessage(f"**Cannot open** {execution_id}: {exc}")], gr.skip()
        return messages, gr.DownloadButton(value=path, visible=path is not None)

    def on_skills(self) -> tuple[Any, ...]:
        rows, errors = self.chat.skills()
        return rows, "\n".join(errors)


def media_dir() -> Path:
    """Where the chat keeps the images programs displayed: removed when the process ends."""
    media = Path(tempfile.mkdtemp(prefix="agent-ui-"))
    atexit.register(shutil.rmtree, media, True)
    return media


def build_ui(service: TaskService, runtime: AgentRuntime, keyring: KeyRing) -> gr.Blocks:
    settings = runtime.settings
    chat = ChatUI(service, runtime, keyring, media_root=media_dir())
    page = Page(chat)
    limit = settings.server.gradio_concurrency
    private: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": limit}

    with gr.Blocks(
        title="Agent System", analytics_enabled=False, delete_cache=(3600, 24 * 3600)
    ) as ui:
        with gr.Row():
            gr.Markdown("## Agent System")
            note = gr.Markdown(elem_id="session")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                c = _chat_tab(runtime)
            with gr.Tab("History", id="history") as history_tab:
                h = _History(
                    history_tab,
                    gr.Dataframe(headers=HISTORY_HEADERS, label="Your runs", interactive=False),
                    gr.Dropdown([], label="Open a run", elem_id="pick-run"),
                    gr.Chatbot(label="The run, from its notebook", height=520),
                    gr.DownloadButton("Download notebook", visible=False),
                )
            with gr.Tab("Skills", id="skills") as skills_tab:
                s = _Skills(
                    skills_tab, gr.Dataframe(headers=SKILL_HEADERS, wrap=True), gr.Markdown()
                )
        add_api(chat)

        outputs = [note, c.skills, s.catalog, s.errors]
        ui.load(page.on_load, None, outputs, api_visibility="private", queue=False)
        ui.unload(chat.unload)
        c.box.submit(
            page.on_send,
            [c.box, c.agent, c.provider, c.model, c.skills],
            [c.chatbot, c.box, c.notebook, c.files, c.variables],
            show_progress="hidden",
            **private,
        )
        c.box.stop(page.on_stop, None, None, api_visibility="private", queue=False)
        c.fresh.click(
            page.on_new, None, [c.chatbot, note, c.notebook, c.files, c.variables], **private
        )
        c.refresh.click(page.on_variables, None, c.variables, **private)
        h.tab.select(page.on_history, None, [h.runs, h.pick], **private)
        h.pick.change(page.on_open, h.pick, [h.opened, h.notebook], **private)
        s.tab.select(page.on_skills, None, [s.catalog, s.errors], **private)

    ui.queue(max_size=settings.server.gradio_queue_size, default_concurrency_limit=limit)
    _calm_queue(ui)
    return ui


# Gradio's queue looks for new events every 1 ms and for progress every 10 ms, busy or not: ~9% of
# a core in a server with nothing to do, and timer churn in the event loop that also serves REST
# and runs the kernels' clients. At 10 ms / 50 ms the UI still took ~25 ms of CPU a second here,
# idle, ~0.7 ms per REST task at 35 tasks/s; 50 ms / 100 ms (Gradio's own poll on Windows is
# 50 ms) halve the server's idle CPU and add at most 50 ms to a chat turn's start, against an
# LLM's seconds. (Gradio has no public setting for it; without these attributes nothing changes.)
QUEUE_POLL_S = 0.05
QUEUE_PROGRESS_POLL_S = 0.1


def _calm_queue(ui: gr.Blocks) -> None:
    queue = getattr(ui, "_queue", None)
    if hasattr(queue, "sleep_when_free") and hasattr(queue, "progress_update_sleep_when_free"):
        queue.sleep_when_free = QUEUE_POLL_S  # type: ignore[union-attr]
        queue.progress_update_sleep_when_free = QUEUE_PROGRESS_POLL_S  # type: ignore[union-attr]
