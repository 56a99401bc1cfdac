"""Server processes for the app suites: `python app.py` on a free port, against the fake LLM.

The REST suite shares ONE server per suite (module scope). The suites need the agent runtime and
the kernels layer; until `agent.runtime` imports, they skip with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.fake_llm import FakeLLM

REPO = Path(__file__).resolve().parents[2]


def runtime_missing() -> str | None:
    try:
        import agent.runtime  # noqa: F401
    except ImportError as exc:
        return f"the agent runtime does not import yet: {exc}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def server_env(fake: FakeLLM, base: Path, **extra: str) -> dict[str, str]:
    config = base / "config"
    config.mkdir(parents=True, exist_ok=True)
    agents = {
        "default_agent": "master",
        "agents": {"master": {"description": "Test.", "max_steps": 3}},
    }
    (config / "agents.yaml").write_text(yaml.safe_dump(agents))
    (config / "skills.yaml").write_text(yaml.safe_dump({"reload": False}))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base),
        "AGENT_CONFIG_DIR": str(config),
        "AGENT_ENV": "test",
        "DEFAULT_LLM_PROVIDER": "openai-compatible",
        "DEFAULT_LLM_MODEL": "fake-model",
        "LLM_BASE_URL": fake.openai_base_url,
        "LLM_API_KEY": "test-key",
        "LLM_MAX_RETRIES": "0",
        "NOTEBOOKS_DIR": str(base / "notebooks"),
        "WORKSPACE_DIR": str(base / "workspace"),
        "DATABASE_URL": f"sqlite:///{base / 'agent.db'}",
        "KERNEL_POOL_SIZE": "1",
        "MAX_KERNELS": "4",
        "AGENT_CONCURRENCY": "2",
        "RATE_LIMIT_IP_PER_MINUTE": "0",
        "SHUTDOWN_GRACE_MS": "5000",
        **extra,
    }
    return env


def start_server(
    env: dict[str, str], base: Path, name: str = "server", argv: list[str] | None = None
) -> Server:
    """`python app.py` (or `argv`, e.g. a benchmark's own app) on a free port, once healthy."""
    port = free_port()
    log = base / f"{name}.log"
    process = subprocess.Popen(
        argv or [sys.executable, str(REPO / "app.py")],
        cwd=REPO,
        env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(process, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not answer /health: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def rest_server(
    fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("rest")
    server = start_server(server_env(fake_llm_server, base), base)
    yield server
    server.stop()
