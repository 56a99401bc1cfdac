"""Settings: the environment (and `.env`) plus the YAML files in `config/`, parsed once at start.

`load_settings()` is the only place that reads `os.environ` or the config files; everything below
receives the typed `Settings` (or the section it needs). A bad value stops start-up with one
`ConfigError` line naming the variable or the file and line, and what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.llm.config import LLMSettings
from kernels.config import KernelConfig
from skills.config import SkillsConfig

__all__ = [
    "ENV_VARS",
    "AgentSpec",
    "AgentsConfig",
    "ConfigError",
    "ServerSettings",
    "Settings",
    "load_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A configuration problem, said in one line."""

    code = "config_invalid"


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    port: int = Field(7860, ge=1, le=65535)
    host: str = "127.0.0.1"
    env: Literal["development", "production", "test"] = "development"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    api_keys: list[str] = Field(default_factory=list, repr=False)
    api_keys_file: Path | None = None
    session_secret: str | None = Field(None, repr=False, exclude=True)  # signs sign-in cookies
    # a Fernet key: encrypts remote kernels' connection info in the database (unset: no attach)
    kernel_state_key: str | None = Field(None, repr=False, exclude=True)
    concurrency: int = Field(4, ge=1)
    database_url: str = "sqlite:///data/agent.db"
    notebooks_dir: Path = Path("notebooks/runs")
    cors_origins: list[str] = []
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_upload_bytes: int = Field(20 * 1_048_576, ge=1024)
    request_timeout_s: float = Field(30.0, gt=0)
    rate_limit_per_minute: int = Field(120, ge=0)
    rate_limit_ip_per_minute: int = Field(300, ge=0)
    rate_limit_storage: str = "database"  # or a `limits` storage URI (memory://, redis://...)
    trust_proxy: str = ""  # proxy addresses whose X-Forwarded-For is believed ("" = none)
    max_running_tasks_per_key: int = Field(8, ge=0)
    retention_days: int = Field(7, ge=0)
    shutdown_grace_s: float = Field(30.0, ge=0)
    gradio_queue_size: int = Field(64, ge=1)  # UI events waiting at most (then "queue full")
    gradio_concurrency: int = Field(32, ge=1)  # chat streams (and other UI events) at once
    # mid-run record and notebook writes are coalesced this long (0: one write per step)
    checkpoint_delay_s: float = Field(0.25, ge=0)
    rehydrate: bool = True
    rehydrate_timeout_s: float = Field(60.0, gt=0)
    # "auto": procrastinate on a PostgreSQL DATABASE_URL, else the in-process queue
    task_queue: Literal["auto", "memory", "procrastinate"] = "auto"
    queue_stalled_s: float = Field(30.0, ge=2, description="a silent worker's jobs are retried")


class AgentSpec(BaseModel):
    """One agent of config/agents.yaml."""

    model_config = ConfigDict(extra="forbid")

    description: str
    instructions: str = ""
    skills: list[str] | Literal["*"] = "*"
    delegates: list[str] = []
    llm: str | None = None
    model: str | None = None
    max_steps: int = Field(6, ge=1, le=50)
    planning: Literal["inline", "separate"] = "inline"
    run_timeout_s: float | None = None
    # False: a program that prints without final_answer is shown to the model, which continues
    output_is_answer: bool = True


class AgentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_agent: str = "master"
    max_depth: int = Field(2, ge=0)
    max_total_steps: int = Field(30, ge=1)
    history_tokens: int = Field(6000, ge=256)
    observation_chars: int = Field(4000, ge=200)  # program output shown to the model per step
    error_chars: int = Field(3000, ge=200)  # traceback shown to the model, tail kept
    agents: dict[str, AgentSpec] = {}


class Settings(BaseModel):
    """Everything the runtime needs, validated."""

    model_config = ConfigDict(extra="forbid")

    root: Path
    server: ServerSettings = ServerSettings()
    llm: LLMSettings = LLMSettings()
    kernels: KernelConfig = KernelConfig()
    skills: SkillsConfig = SkillsConfig()
    agents: AgentsConfig = AgentsConfig()


# --- the environment -------------------------------------------------------------------------

Parser = Callable[[str], Any]


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _ms(value: str) -> float:
    return float(value) / 1000.0


# variable -> (dotted settings path, parser); .env.example documents each (a test checks)
ENV_VARS: dict[str, tuple[str, Parser]] = {
    "PORT": ("server.port", int),
    "HOST": ("server.host", str),
    "AGENT_ENV": ("server.env", str),
    "LOG_LEVEL": ("server.log_level", str.lower),
    "AGENT_API_KEYS": ("server.api_keys", _csv),
    "AGENT_API_KEYS_FILE": ("server.api_keys_file", Path),
    "AGENT_SESSION_SECRET": ("server.session_secret", str),
    "AGENT_CONCURRENCY": ("server.concurrency", int),
    "DATABASE_URL": ("server.database_url", str),
    "NOTEBOOKS_DIR": ("server.notebooks_dir", Path),
    "CORS_ORIGINS": ("server.cors_origins", _csv),
    "MAX_BODY_BYTES": ("server.max_body_bytes", int),
    "MAX_UPLOAD_BYTES": ("server.max_upload_bytes", int),
    "REQUEST_TIMEOUT_MS": ("server.request_timeout_s", _ms),
    "RATE_LIMIT_PER_MINUTE": ("server.rate_limit_per_minute", int),
    "RATE_LIMIT_IP_PER_MINUTE": ("server.rate_limit_ip_per_minute", int),
    "RATE_LIMIT_STORAGE": ("server.rate_limit_storage", str),
    "TRUST_PROXY": ("server.trust_proxy", str),
    "MAX_RUNNING_TASKS_PER_KEY": ("server.max_running_tasks_per_key", int),
    "EXECUTION_RETENTION_DAYS": ("server.retention_days", int),
    "SHUTDOWN_GRACE_MS": ("server.shutdown_grace_s", _ms),
    "SESSION_REHYDRATE": ("server.rehydrate", _bool),
    "CHECKPOINT_DELAY_MS": ("server.checkpoint_delay_s", _ms),
    "GRADIO_QUEUE_SIZE": ("server.gradio_queue_size", int),
    "GRADIO_CONCURRENCY": ("server.gradio_concurrency", int),
    "TASK_QUEUE": ("server.task_queue", str.lower),
    "QUEUE_STALLED_MS": ("server.queue_stalled_s", _ms),
    "KERNEL_STATE_KEY": ("server.kernel_state_key", str),
    "KERNEL_ISOLATION": ("kernels.isolation", str),
    "KERNEL_POOL_SIZE": ("kernels.pool_size", int),
    "MAX_KERNELS": ("kernels.max_kernels", int),
    "KERNEL_RUN_TIMEOUT_MS": ("kernels.run_timeout_s", _ms),
    "WORKSPACE_DIR": ("kernels.workspace_root", Path),
    "KERNEL_PLACEMENT": ("kernels.placement", str.lower),
    "KERNEL_HOSTS": ("kernels.ssh.hosts", _csv),
    "KERNEL_SSH_USER": ("kernels.ssh.user", str),
    "KERNEL_SSH_PORT": ("kernels.ssh.port", int),
    "KERNEL_RESPONSE_IP": ("kernels.ssh.response_ip", str),
    "KERNEL_PORT_RANGE": ("kernels.ssh.port_range", str),
    "KERNEL_ENCRYPTION": ("kernels.ssh.encryption", str.lower),
    "KERNEL_LOG_DIR": ("kernels.ssh.log_dir", Path),
    "SEARXNG_URL": ("skills.web_search.searxng_url", str),
    "BRAVE_API_KEY": ("skills.web_search.brave_api_key", str),
    "TAVILY_API_KEY": ("skills.web_search.tavily_api_key", str),
}

# Read by the LLM section below rather than mapped one to one.
LLM_ENV_VARS = (
    "DEFAULT_LLM_PROVIDER",
    "DEFAULT_LLM_MODEL",
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "LLM_SCRIPT_FILE",
    "LLM_TIMEOUT_MS",
    "LLM_MAX_RETRIES",
)

CONFIG_DIR_VAR = "AGENT_CONFIG_DIR"


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _read_yaml(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path} line {mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: broken YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: broken YAML: {exc}") from None


def _yaml_mapping(path: Path) -> dict[str, Any]:
    data = _read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _line_of(path: Path, key: str) -> str:
    """Best-effort 'file line N' for a top-level or nested key, for error messages."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip().startswith(f"{key}:"):
                return f"{path} line {number}"
    except OSError:
        pass
    return str(path)


def _explain(exc: ValidationError, source: Callable[[tuple[Any, ...]], str]) -> ConfigError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    allowed = first.get("ctx", {}).get("expected")
    detail = first["msg"] + (f" (allowed: {allowed})" if allowed else "")
    return ConfigError(f"{source(loc)}: {'.'.join(map(str, loc))}: {detail}")


def _llm_section(env: Mapping[str, str], data: dict[str, Any], config_dir: Path) -> dict[str, Any]:
    """The default provider from the environment, plus the named providers of llm.yaml."""
    timeout_s = _ms(env["LLM_TIMEOUT_MS"]) if env.get("LLM_TIMEOUT_MS") else 120.0
    retries = int(env["LLM_MAX_RETRIES"]) if env.get("LLM_MAX_RETRIES") else 3
    providers: dict[str, Any] = {}
    for name, raw in (data.get("providers") or {}).items():
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{_line_of(config_dir / 'llm.yaml', name)}: provider {name!r} must be a mapping"
            )
        entry = {"timeout_s": timeout_s, "max_retries": retries, **raw}
        key_env = entry.get("api_key_env")
        if key_env:
            entry["api_key"] = env.get(key_env) or None
        providers[name] = entry

    kind = env.get("DEFAULT_LLM_PROVIDER") or ""
    if not kind:
        if env.get("ANTHROPIC_API_KEY"):
            kind = "anthropic"
        elif env.get("LLM_BASE_URL"):
            kind = "openai-compatible"
        elif env.get("OPENAI_API_KEY"):
            kind = "openai"
    default: dict[str, Any] | None = None
    if kind:
        model = env.get("DEFAULT_LLM_MODEL") or None
        if kind == "anthropic":
            default = {
                "type": kind,
                "model": model,
                "base_url": env.get("ANTHROPIC_BASE_URL") or None,
                "api_key_env": "ANTHROPIC_API_KEY",
                "api_key": env.get("ANTHROPIC_API_KEY") or None,
            }
        elif kind == "openai":
            default = {
                "type": kind,
                "model": model,
                "base_url": env.get("OPENAI_BASE_URL") or None,
                "api_key_env": "OPENAI_API_KEY",
                "api_key": env.get("OPENAI_API_KEY") or None,
            }
        elif kind == "openai-compatible":
            default = {
                "type": kind,
                "model": model,
                "base_url": env.get("LLM_BASE_URL") or None,
                "api_key_env": "LLM_API_KEY",
                "api_key": env.get("LLM_API_KEY") or None,
            }
        elif kind == "scripted":
            script = env.get("LLM_SCRIPT_FILE") or str(config_dir / "scripted-demo.yaml")
            default = {"type": kind, "model": "scripted", "script_file": script}
        elif kind in providers:
            default = None  # DEFAULT_LLM_PROVIDER names a provider of llm.yaml
        else:
            raise ConfigError(
                f"DEFAULT_LLM_PROVIDER={kind!r}: allowed: anthropic, openai-compatible, openai, "
                f"scripted, or a provider name from {config_dir / 'llm.yaml'}"
            )
    if default is not None:
        providers["default"] = {"timeout_s": timeout_s, "max_retries": retries, **default}
        default_name = "default"
    else:
        default_name = kind or data.get("default") or "default"
    return {"default": default_name, "providers": providers}


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_vars(value: Any, env: Mapping[str, str], where: str) -> Any:
    """`${NAME}` in the strings of a config tree, from the environment (secrets such as an MCP
    server's token stay out of the file); an unset or empty variable is a ConfigError."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if not env.get(name):
                raise ConfigError(f"{where}: ${{{name}}} is used but {name} is not set")
            return env[name]

        return _VAR.sub(one, value)
    if isinstance(value, dict):
        return {key: _expand_vars(item, env, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_vars(item, env, where) for item in value]
    return value


def load_settings(
    env: Mapping[str, str] | None = None, root: Path | None = None, *, read_dotenv: bool = True
) -> Settings:
    """Parse the environment (over `.env`) and the YAML files into `Settings`, or raise ConfigError."""
    root = (root or PROJECT_ROOT).resolve()
    merged: dict[str, str] = {}
    if read_dotenv and (root / ".env").exists():
        merged.update({k: v for k, v in dotenv_values(root / ".env").items() if v is not None})
    merged.update(os.environ if env is None else env)
    config_dir = Path(merged.get(CONFIG_DIR_VAR) or root / "config")
    if not config_dir.is_absolute():
        config_dir = root / config_dir

    tree: dict[str, Any] = {"root": root}
    files: dict[str, Path] = {
        "kernels": config_dir / "kernels.yaml",
        "skills": config_dir / "skills.yaml",
        "agents": config_dir / "agents.yaml",
        "server": config_dir / "server.yaml",
    }
    for section, path in files.items():
        data = _yaml_mapping(path)
        if data:
            tree[section] = data
    mcp = _yaml_mapping(config_dir / "mcp.yaml").get("servers") or {}
    if mcp:
        tree.setdefault("skills", {})["mcp_servers"] = _expand_vars(mcp, merged, "mcp.yaml")
    tree["llm"] = _llm_section(merged, _yaml_mapping(config_dir / "llm.yaml"), config_dir)

    for name, (dotted, parse) in ENV_VARS.items():
        raw = merged.get(name)
        if raw is None or raw == "":
            continue
        try:
            _set_path(tree, dotted, parse(raw))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{name}={raw!r}: {exc}") from None

    env_by_path = {dotted: name for name, (dotted, _) in ENV_VARS.items()}

    def source(loc: tuple[Any, ...]) -> str:
        dotted = ".".join(map(str, loc))
        if dotted in env_by_path and merged.get(env_by_path[dotted]):
            return f"{env_by_path[dotted]}={merged[env_by_path[dotted]]!r}"
        section = str(loc[0]) if loc else ""
        if section == "llm":
            env_name = _default_provider_var(tree["llm"], loc)
            if env_name and merged.get(env_name):
                return f"{env_name}={merged[env_name]!r}"
            return str(config_dir / "llm.yaml")
        path = files.get(section)
        if path is None:
            return "settings"
        return _line_of(path, str(loc[-1])) if len(loc) > 1 else str(path)

    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        raise _explain(exc, source) from None
    return _resolve_paths(settings)


def _default_provider_var(llm: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    """The variable a field of the env-built default provider came from (LLM_BASE_URL, ...)."""
    if tuple(map(str, loc[:3])) != ("llm", "providers", "default") or len(loc) < 4:
        return None
    default = llm.get("providers", {}).get("default") or {}
    prefix = str(default.get("api_key_env") or "LLM_API_KEY").removesuffix("_API_KEY")
    return {
        "base_url": f"{prefix}_BASE_URL",
        "api_key": f"{prefix}_API_KEY",
        "model": "DEFAULT_LLM_MODEL",
        "timeout_s": "LLM_TIMEOUT_MS",
        "max_retries": "LLM_MAX_RETRIES",
        "script_file": "LLM_SCRIPT_FILE",
        "type": "DEFAULT_LLM_PROVIDER",
    }.get(str(loc[3]))


def _resolve_paths(settings: Settings) -> Settings:
    """Relative paths in the config are relative to the project root."""
    root = settings.root

    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else root / path

    settings.server.notebooks_dir = absolute(settings.server.notebooks_dir)
    if settings.server.api_keys_file is not None:
        settings.server.api_keys_file = absolute(settings.server.api_keys_file)
    settings.kernels.workspace_root = absolute(settings.kernels.workspace_root)
    settings.skills.extra_dirs = [absolute(p) for p in settings.skills.extra_dirs]
    for provider in settings.llm.providers.values():
        if provider.script_file is not None:
            provider.script_file = absolute(provider.script_file)
    if settings.server.database_url.startswith(
        "sqlite:///"
    ) and not settings.server.database_url.startswith("sqlite:////"):
        relative = settings.server.database_url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            settings.server.database_url = f"sqlite:///{absolute(Path(relative))}"
    return settings
