"""`python -m agent`: the scripted demo prints live steps and the answer; exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.agent.conftest import require_kernels

    require_kernels()
    base = tmp_path_factory.mktemp("cli")
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        "DEFAULT_LLM_PROVIDER": "scripted",
        "NOTEBOOKS_DIR": str(base / "notebooks"),
        "WORKSPACE_DIR": str(base / "workspace"),
        "DATABASE_URL": f"sqlite:///{base / 'agent.db'}",
        "KERNEL_POOL_SIZE": "0",
        "COLUMNS": "120",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_scripted_demo_prints_live_steps_and_the_answer(cli_env: dict[str, str]) -> None:
    done = _cli(cli_env, "run", "What is 2**20?")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1048576"
    assert "step 1" in done.stderr and "2 ** 20" in done.stderr
    assert "2 ** 20 = 1048576" in done.stderr and "answer" in done.stderr


def test_json_prints_the_whole_record(cli_env: dict[str, str]) -> None:
    done = _cli(cli_env, "run", "What is 2**20?", "--json", "--quiet", "--session", "cli-demo")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "completed" and record["result"] == 1048576
    assert record["sessionId"] == "cli-demo"
    assert [s["type"] for s in record["steps"]] == ["task", "action", "final_answer"]


def test_agents_lists_the_configured_agents(cli_env: dict[str, str]) -> None:
    done = _cli(cli_env, "agents")
    assert done.returncode == 0
    assert "master (default)" in done.stdout and "researcher" in done.stdout


def test_unknown_agent_is_a_usage_error(cli_env: dict[str, str]) -> None:
    done = _cli(cli_env, "run", "x", "--agent", "nobody", "--quiet")
    assert done.returncode == 2
    assert "unknown_agent" in done.stderr
