"""The agent core: config, LLM providers, the PTC loop, sessions, records, notebooks, adapters.

    from agent import AgentRuntime, AgentError, run_task, run_task_sync, load_settings

`AgentRuntime` is imported on first use, so `import agent` (config, records) stays light.
"""

from typing import TYPE_CHECKING, Any

from agent.config import ConfigError, Settings, load_settings
from agent.errors import AgentError
from agent.memory_store import MemoryRecordStore, RecordStore
from agent.records import Event, ExecutionRecord, Usage
from agent.tasks import run_task, run_task_sync

if TYPE_CHECKING:
    from agent.runtime import AgentRuntime

__all__ = [
    "AgentError",
    "AgentRuntime",
    "ConfigError",
    "Event",
    "ExecutionRecord",
    "MemoryRecordStore",
    "RecordStore",
    "Settings",
    "Usage",
    "load_settings",
    "run_task",
    "run_task_sync",
]


def __getattr__(name: str) -> Any:
    if name == "AgentRuntime":
        from agent.runtime import AgentRuntime

        return AgentRuntime
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
