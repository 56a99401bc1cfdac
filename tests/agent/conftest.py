"""One AgentRuntime per test session: real kernels, real skills, the fake LLM through the SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import Settings, load_settings
from tests.fake_llm import FakeLLM

REPO = Path(__file__).resolve().parents[2]
TEST_SKILLS = Path(__file__).resolve().parent / "skills"

AGENTS: dict[str, Any] = {
    "default_agent": "master",
    "max_depth": 2,
    "max_total_steps": 30,
    "agents": {
        "master": {
            "description": "Test master agent.",
            "skills": "*",
            "delegates": ["helper", "fragile"],
            "max_steps": 4,
        },
        "helper": {"description": "Answers small sub-tasks.", "skills": ["lookup"], "max_steps": 2},
        "fragile": {"description": "Fails at once.", "skills": [], "max_steps": 1},
        "short": {"description": "Two steps only.", "skills": "*", "max_steps": 2},
        "explorer": {
            "description": "Sees its output before answering.",
            "skills": "*",
            "output_is_answer": False,
            "max_steps": 3,
        },
        "planner": {
            "description": "Plans in a call of its own.",
            "skills": "*",
            "planning": "separate",
            "max_steps": 2,
        },
    },
}


def agent_settings(fake: FakeLLM, base: Path, **env: str) -> Settings:
    """Settings for a runtime against `fake`, with config files and folders under `base`."""
    config = base / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "agents.yaml").write_text(yaml.safe_dump(AGENTS))
    (config / "skills.yaml").write_text(
        yaml.safe_dump({"extra_dirs": [str(TEST_SKILLS)], "reload": False})
    )
    llm = {
        "providers": {
            "claude": {
                "type": "anthropic",
                "model": "claude-fake",
                "base_url": fake.anthropic_base_url,
                "api_key_env": "FAKE_ANTHROPIC_KEY",
            }
        }
    }
    (config / "llm.yaml").write_text(yaml.safe_dump(llm))
    values = {
        "AGENT_CONFIG_DIR": str(config),
        "DEFAULT_LLM_PROVIDER": "openai-compatible",
        "DEFAULT_LLM_MODEL": "fake-model",
        "LLM_BASE_URL": fake.openai_base_url,
        "LLM_API_KEY": "test-key",
        "FAKE_ANTHROPIC_KEY": "test-key",
        "LLM_MAX_RETRIES": "0",
        "NOTEBOOKS_DIR": str(base / "notebooks"),
        "WORKSPACE_DIR": str(base / "workspace"),
        "DATABASE_URL": f"sqlite:///{base / 'agent.db'}",
        "KERNEL_POOL_SIZE": "2",
        "MAX_KERNELS": "6",
        **env,
    }
    return load_settings(env=values, root=REPO, read_dotenv=False)


@pytest.fixture(scope="session")
def agent_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agent")


@pytest.fixture(scope="session")
def settings(fake_llm_server: FakeLLM, agent_base: Path) -> Settings:
    return agent_settings(fake_llm_server, agent_base)


def require_kernels() -> None:
    """The integration suites run as soon as the kernels layer exports SessionKernels."""
    import kernels

    if not hasattr(kernels, "SessionKernels"):
        pytest.skip("the kernels layer (SessionKernels) has not landed yet")


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Any]:
    require_kernels()
    from agent.runtime import AgentRuntime

    async with AgentRuntime(settings) as started:
        yield started
