"""Serves the Gradio chat at `/` and the REST API under `/agent`, in one process: `python app.py`."""

from __future__ import annotations

import sys

from agent.offline import quiet_gradio

quiet_gradio()  # before gradio is imported: no analytics, no version check, no hub calls

import gradio as gr  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from agent.config import ConfigError, Settings, load_settings  # noqa: E402


def create_app(settings: Settings) -> FastAPI:
    api = FastAPI(title="Agent System", version="0.2.0")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with gr.Blocks(title="Agent System", analytics_enabled=False) as ui:
        gr.Markdown("# Agent System\nThe chat arrives with the Gradio app issue.")
    return gr.mount_gradio_app(api, ui, path="/")


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
