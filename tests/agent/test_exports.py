"""The agent package's public surface: what other layers import stays importable."""

from __future__ import annotations

import agent


def test_exported_names() -> None:
    assert set(agent.__all__) >= {
        "AgentError",
        "AgentRuntime",
        "ExecutionRecord",
        "RecordStore",
        "Settings",
        "load_settings",
        "run_task",
        "run_task_sync",
    }
    for name in set(agent.__all__) - {"AgentRuntime"}:
        assert getattr(agent, name) is not None


def test_agent_runtime_is_imported_on_first_use() -> None:
    from tests.agent.conftest import require_kernels

    require_kernels()
    from agent.runtime import AgentRuntime

    assert agent.AgentRuntime is AgentRuntime


def test_agent_error_is_a_value() -> None:
    error = agent.AgentError("unknown_agent", "unknown agent 'x'")
    assert (error.code, error.message, str(error)) == (
        "unknown_agent",
        "unknown agent 'x'",
        "unknown agent 'x'",
    )
    assert error.info().model_dump() == {"code": "unknown_agent", "message": "unknown agent 'x'"}
