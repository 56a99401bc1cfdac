"""Keeps Gradio and the Hugging Face hub client from calling out: set before `import gradio`."""

from __future__ import annotations

import os

__all__ = ["quiet_gradio"]

_OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def quiet_gradio() -> None:
    """Turn off Gradio's analytics and version check and the hub's telemetry, in code."""
    for name, value in _OFFLINE_ENV.items():
        os.environ[name] = value
