"""The named Gradio API endpoints `/run` and `/chat` (the "Use via API" page, `gradio_client`,
and Gradio's MCP server, which exposes them as tools).

No `from __future__ import annotations` here: `gr.api` reads the parameter and return types from
the live annotations to describe the endpoint.
"""

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from gradio import ChatMessage

from agent.ui.chat import ChatUI

__all__ = ["add_api"]


def add_api(ui: ChatUI) -> None:
    """Inside a `gr.Blocks` context: `/run` (a plain typed function) and `/chat` (streamed, on
    hidden components so the messages keep the Chatbot's format and files)."""

    async def run(task: str, session_id: str, request: gr.Request) -> dict[str, Any]:
        """Run a task with the agent and return its execution record once it is done.

        The agent writes a short Python program that calls skills as functions and runs it in
        the session's persistent, sandboxed Jupyter kernel. The record holds the status, the
        result, every step (reasoning, program, outputs, skill calls), usage and the path of
        the run's notebook.

        Args:
            task: what the agent should do, in plain language
            session_id: an existing session to continue (its kernel variables carry over), a new id of your choosing, or "" for a new session
        """
        return await ui.run_api(task, session_id, request)

    gr.api(run, api_name="run", queue=False)

    async def chat(
        message: str, session_id: str, request: gr.Request
    ) -> AsyncIterator[list[ChatMessage]]:
        """Send a message to the agent and stream the session's conversation as it grows.

        Args:
            message: the task or follow-up, in plain language
            session_id: the session to continue, a new id of your choosing, or "" for a new one (the first message names it)
        """
        async for messages in ui.chat_api(message, session_id, request):
            yield messages

    # Not an MCP tool (`run` is): Gradio serves queued tools through a loopback client that
    # carries no API key, so with keys on it could never be called. Gradio lists as tools only
    # functions whose `_mcp_type` is unset or "tool"; the MCP suite checks this stays so.
    chat._mcp_type = "none"  # type: ignore[attr-defined]

    with gr.Row(visible=False):
        message = gr.Textbox(label="message")
        session = gr.Textbox(label="session_id")
        conversation = gr.Chatbot(label="messages")
        go = gr.Button("chat")
    go.click(
        chat,
        [message, session],
        conversation,
        api_name="chat",
        concurrency_limit=ui.settings.server.gradio_concurrency,
        show_progress="hidden",
    )
