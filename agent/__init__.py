"""The agent core: config, LLM providers, the PTC loop, sessions, records, notebooks, adapters."""

from agent.config import ConfigError, Settings, load_settings
from agent.records import ExecutionRecord, Usage

__all__ = ["ConfigError", "ExecutionRecord", "Settings", "Usage", "load_settings"]
