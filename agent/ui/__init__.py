"""The Gradio app: live chat with one kernel per browser tab, the named API (`/run`, `/chat`),
the agent as an MCP tool. A thin adapter over `TaskService` and `AgentRuntime`."""

from agent.ui.chat import BrowserSession, ChatUI, Choices, Turn
from agent.ui.mount import mount_ui
from agent.ui.page import THEME, build_ui
from agent.ui.view import RunView, notebook_messages

__all__ = [
    "THEME",
    "BrowserSession",
    "ChatUI",
    "Choices",
    "RunView",
    "Turn",
    "build_ui",
    "mount_ui",
    "notebook_messages",
]
