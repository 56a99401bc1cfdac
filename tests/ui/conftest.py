"""The Gradio app's suites: the handlers in-process (ChatUI over a real runtime, service and
SQLite store, real sandboxed kernels, the fake LLM), and ONE `app.py` process per suite with API
keys on for `gradio_client`, the MCP client and the browser."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.app.conftest import REPO, Server, runtime_missing, server_env, start_server
from tests.fake_llm import FakeLLM

os.environ["HF_HUB_OFFLINE"] = "1"  # gradio_client would otherwise ask the hub at Client()

KEY = "ui-suite-key"
AGENTS = {
    "default_agent": "master",
    "agents": {
        "master": {"description": "Test.", "max_steps": 3, "delegates": ["helper"]},
        "helper": {"description": "Answers sub-tasks.", "skills": [], "max_steps": 2},
        "planner": {"description": "Plans first.", "planning": "separate", "max_steps": 2},
    },
}
ARTIFACTS = REPO / "tests" / "artifacts" / "ui"


def fence(code: str, plan: str = "Plan.") -> str:
    return f"{plan}\n\n```python\n{code}\n```\n"


def require_runtime() -> None:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    import kernels

    if not hasattr(kernels, "SessionKernels"):
        pytest.skip("the kernels layer (SessionKernels) has not landed yet")


@dataclass
class InProcess:
    """What build_ui gets in app.py, built the same way, plus the handlers."""

    base: Path
    runtime: Any
    service: Any
    store: Any
    chat: Any  # agent.ui.ChatUI


@pytest.fixture(scope="session")
async def ui_app(
    fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcess]:
    require_runtime()
    from agent.config import load_settings
    from agent.http.auth import KeyRing
    from agent.runtime import AgentRuntime
    from agent.service import TaskService
    from agent.store import SqlRecordStore
    from agent.ui import ChatUI

    base = tmp_path_factory.mktemp("ui-handlers")
    env = server_env(fake_llm_server, base, MAX_KERNELS="6", KERNEL_POOL_SIZE="1")
    (base / "config" / "agents.yaml").write_text(yaml.safe_dump(AGENTS))
    settings = load_settings(env=env, root=REPO, read_dotenv=False)
    store = SqlRecordStore(
        settings.server.database_url, notebooks_dir=settings.server.notebooks_dir
    )
    runtime = AgentRuntime(settings, store=store)
    service = TaskService(runtime, store, concurrency=2)
    await store.start(heartbeat=False)
    await runtime.start()
    await service.start()
    chat = ChatUI(service, runtime, KeyRing([]), media_root=base / "media")
    try:
        yield InProcess(base, runtime, service, store, chat)
    finally:
        await service.shutdown(5.0)
        await runtime.shutdown()
        await store.close()


@dataclass
class UIServer:
    server: Server
    base: Path  # its workspaces are under base / "workspace", notebooks under base / "notebooks"

    @property
    def url(self) -> str:
        return self.server.url

    def workspace(self, session_id: str) -> Path:
        return self.base / "workspace" / session_id


@pytest.fixture(scope="session")
def ui_server(
    fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UIServer]:
    """`python app.py` with API keys on (the page, the Gradio API and MCP all need one)."""
    require_runtime()
    base = tmp_path_factory.mktemp("ui-server")
    env = server_env(fake_llm_server, base, AGENT_API_KEYS=KEY, RATE_LIMIT_PER_MINUTE="0")
    server = start_server(env, base, "ui")
    yield UIServer(server, base)
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
