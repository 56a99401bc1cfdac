"""mount_ui: the Gradio app on the FastAPI app at `/`, with the MCP server and, when API keys
are set, the same keys guarding the page, its API and the MCP tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
from fastapi import FastAPI

from agent.http.auth import KeyRing
from agent.service import TaskService
from agent.ui.access import LoginRedirect, SignIn, add_login, caller
from agent.ui.page import CSS, THEME, build_ui

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = ["mount_ui"]


def mount_ui(
    app: FastAPI,
    service: TaskService,
    runtime: AgentRuntime,
    keyring: KeyRing,
    *,
    ui: gr.Blocks | None = None,
) -> FastAPI:
    """Mount `ui` (built here when None: the benchmark adds an endpoint to one it built)."""
    ui = ui if ui is not None else build_ui(service, runtime, keyring)
    sign_in = SignIn(keyring, runtime.settings.server.session_secret)
    if keyring.enabled:
        add_login(app, sign_in)  # before the mount: the parent's routes are matched first
        app.add_middleware(LoginRedirect, sign_in=sign_in)
    mounted: FastAPI = gr.mount_gradio_app(
        app,
        ui,
        path="/",
        auth_dependency=caller(sign_in) if keyring.enabled else None,
        mcp_server=True,
        theme=THEME,
        css=CSS,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        max_file_size=runtime.settings.server.max_upload_bytes,
        show_error=True,
    )
    return mounted
