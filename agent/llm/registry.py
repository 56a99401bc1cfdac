"""LLMProviders: the configured providers by name, built on first use, checked without a network call.

"default" comes from the environment (DEFAULT_LLM_PROVIDER and the vendor variables); other names
come from config/llm.yaml. A provider that cannot work (no key, no base URL, no model, a broken
reply script) is reported by `status()` and refused by `get()` with one line naming what to set.
"""

from __future__ import annotations

import threading
from typing import Any

from agent.llm.anthropic_api import ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_MODEL, AnthropicProvider
from agent.llm.base import LLMError, LLMProvider
from agent.llm.clients import LoopClients
from agent.llm.config import LLMSettings, ProviderConfig
from agent.llm.errors import ProviderIdentity
from agent.llm.openai_api import DEFAULT_OPENAI_MODEL, OPENAI_BASE_URL, OpenAIChatProvider
from agent.llm.script import ReplyScript, ScriptError
from agent.llm.scripted import ScriptedProvider

__all__ = ["NO_PROVIDER", "LLMProviders"]

NO_PROVIDER = (
    "No LLM provider is configured: set ANTHROPIC_API_KEY (Claude), or LLM_BASE_URL + "
    "DEFAULT_LLM_MODEL (+ LLM_API_KEY) for an OpenAI-compatible server (GLM-4, DeepSeek, vLLM, "
    "Ollama), or OPENAI_API_KEY; or DEFAULT_LLM_PROVIDER=scripted for the canned demo (not a model)"
)
# the environment's provider is named "default" by the config loader
_ENV_NAME = "default"
_ENV_KEY = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_ENV_BASE = {
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "openai-compatible": "LLM_BASE_URL",
    "scripted": "LLM_SCRIPT_FILE",
}
_DEFAULT_MODEL = {"anthropic": DEFAULT_ANTHROPIC_MODEL, "openai": DEFAULT_OPENAI_MODEL}
_DEFAULT_BASE = {"anthropic": ANTHROPIC_BASE_URL, "openai": OPENAI_BASE_URL}
# OpenAI-compatible servers often need no key (vLLM, Ollama); the SDK refuses an empty one
_NO_KEY = "no-key"


def _identity(name: str, config: ProviderConfig, model: str | None) -> ProviderIdentity:
    kind = config.type
    if name == _ENV_NAME:
        key_var = config.api_key_env or _ENV_KEY.get(kind, "LLM_API_KEY")
        base_var, model_var = _ENV_BASE[kind], "DEFAULT_LLM_MODEL"
    else:
        entry = f"providers.{name}"
        key_var = config.api_key_env or f"api_key_env of {entry} in config/llm.yaml"
        base_var = f"{entry}.base_url in config/llm.yaml"
        model_var = f"{entry}.model in config/llm.yaml"
    if kind == "scripted":
        base_url = str(config.script_file) if config.script_file else None
    else:
        base_url = config.base_url or _DEFAULT_BASE.get(kind)
    return ProviderIdentity(
        name=name,
        kind=kind,
        model=model
        or config.model
        or _DEFAULT_MODEL.get(kind)
        or ("scripted" if kind == "scripted" else None),
        base_url=base_url,
        key_var=key_var,
        base_var=base_var,
        model_var=model_var,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
    )


class LLMProviders:
    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._built: dict[tuple[str, str | None], LLMProvider] = {}
        self._scripts: dict[str, ReplyScript | str] = {}  # a loaded script, or why it failed
        self._clients: dict[str, LoopClients[Any]] = {}  # one pool per provider, shared by models
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self.settings.providers)

    def _problem(self, name: str, config: ProviderConfig, who: ProviderIdentity) -> str | None:
        """Why this provider cannot work, in one line; None when it can."""
        where = who.where()
        if config.type in ("anthropic", "openai") and not config.api_key:
            return f"{where} has no API key: set {who.key_var}"
        if config.type == "openai-compatible":
            missing = [
                v for v, ok in ((who.base_var, who.base_url), (who.model_var, who.model)) if not ok
            ]
            if missing:
                return f"{where} needs a base URL and a model: set {' and '.join(missing)}"
        if config.type == "scripted":
            script = self._script(name, config)
            if isinstance(script, str):
                return f"{where}: {script}"
        return None

    def _script(self, name: str, config: ProviderConfig) -> ReplyScript | str:
        with self._lock:
            if name not in self._scripts:
                if config.script_file is None:
                    self._scripts[name] = "no reply script: set LLM_SCRIPT_FILE (or script_file)"
                else:
                    try:
                        self._scripts[name] = ReplyScript.load(config.script_file)
                    except ScriptError as exc:
                        self._scripts[name] = str(exc)
            return self._scripts[name]

    def _config(self, name: str) -> ProviderConfig:
        config = self.settings.providers.get(name)
        if config is not None:
            return config
        if name == self.settings.default:
            raise LLMError("llm_unconfigured", NO_PROVIDER)
        known = ", ".join(self.names()) or "none"
        raise LLMError(
            "llm_unconfigured",
            f"No LLM provider named {name!r} (configured: {known}); add it to config/llm.yaml",
        )

    def get(self, name: str | None = None, *, model: str | None = None) -> LLMProvider:
        """The provider `name` (None: the default), optionally with another model."""
        name = name or self.settings.default
        config = self._config(name)
        key = (name, model)
        with self._lock:
            if key in self._built:
                return self._built[key]
        who = _identity(name, config, model)
        problem = self._problem(name, config, who)
        if problem is not None:
            raise LLMError("llm_unconfigured", problem)
        provider = self._build(name, config, who)
        with self._lock:
            return self._built.setdefault(key, provider)

    def _build(self, name: str, config: ProviderConfig, who: ProviderIdentity) -> LLMProvider:
        shared = self._clients.get(name)
        if config.type == "anthropic":
            anthropic_provider = AnthropicProvider(
                name,
                who,
                api_key=config.api_key or "",
                max_tokens=config.max_tokens,
                clients=shared,
            )
            self._clients.setdefault(name, anthropic_provider.clients)
            return anthropic_provider
        if config.type in ("openai", "openai-compatible"):
            openai_provider = OpenAIChatProvider(
                name,
                who,
                kind=config.type,
                api_key=config.api_key or _NO_KEY,
                max_tokens=config.max_tokens,
                clients=shared,
            )
            self._clients.setdefault(name, openai_provider.clients)
            return openai_provider
        script = self._script(name, config)
        assert isinstance(script, ReplyScript)  # _problem() refused the other case
        return ScriptedProvider(name, who, script)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per provider: usable, reason, kind, model, base_url (for /ready; no network call)."""
        out: dict[str, dict[str, Any]] = {}
        for name, config in self.settings.providers.items():
            who = _identity(name, config, None)
            reason = self._problem(name, config, who)
            out[name] = {
                "usable": reason is None,
                "reason": reason,
                "kind": config.type,
                "model": who.model,
                "base_url": who.base_url,
                "is_model": config.type != "scripted",
                "default": name == self.settings.default,
            }
        if self.settings.default not in out:
            out[self.settings.default] = {
                "usable": False,
                "reason": NO_PROVIDER,
                "kind": None,
                "model": None,
                "base_url": None,
                "is_model": False,
                "default": True,
            }
        return out

    async def aclose(self) -> None:
        """Close the SDK clients (connection pools) made on this event loop."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            self._built.clear()
        for pool in clients:
            await pool.aclose()
