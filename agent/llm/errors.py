"""One line per LLM failure: which provider (kind, model, base URL), what went wrong, what to set.

SDK exceptions of both vendors map to the codes of `LLMError`; transport errors that escape the
SDKs mid-stream are mapped too, so no stack trace reaches a user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import anthropic
import httpx
import httpx2
import openai

from agent.llm.base import LLMError

__all__ = ["SDK_ERRORS", "ProviderIdentity", "from_sdk", "one_line"]

_MAX_DETAIL = 200


@dataclass(frozen=True)
class ProviderIdentity:
    """What error lines name: the provider and the variables that configure it."""

    name: str
    kind: str
    model: str | None
    base_url: str | None
    key_var: str  # where the API key comes from, e.g. "ANTHROPIC_API_KEY"
    base_var: str  # where the base URL comes from, e.g. "LLM_BASE_URL"
    model_var: str  # where the model comes from, e.g. "DEFAULT_LLM_MODEL"
    timeout_s: float = 120.0
    max_retries: int = 3

    def where(self) -> str:
        return (
            f"LLM provider {self.name!r} ({self.kind}, model {self.model or 'unset'}, "
            f"base URL {self.base_url or 'unset'})"
        )

    def with_model(self, model: str) -> ProviderIdentity:
        return replace(self, model=model)


def one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    """Collapse whitespace and cut visibly, so a server's error page stays one short line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else f"{flat[:limit]}… ({len(flat) - limit} more chars)"


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return one_line(str(error["message"]))
        if isinstance(error, str):
            return one_line(error)
    return one_line(getattr(exc, "message", None) or str(exc))


def _cause(exc: BaseException) -> str:
    """The transport reason under an SDK connection error ('Connection refused', ...)."""
    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None and (current.__cause__ or current.__context__) is not None:
        if str(current):
            break
        current = current.__cause__ or current.__context__
    return one_line(str(current) if current is not None and str(current) else type(exc).__name__)


_TIMEOUT = (
    anthropic.APITimeoutError,
    openai.APITimeoutError,
    httpx.TimeoutException,
    httpx2.TimeoutException,
)
_CONNECTION = (
    anthropic.APIConnectionError,
    openai.APIConnectionError,
    httpx.TransportError,
    httpx2.TransportError,
)
_RATE = (anthropic.RateLimitError, openai.RateLimitError)
_AUTH = (
    anthropic.AuthenticationError,
    anthropic.PermissionDeniedError,
    openai.AuthenticationError,
    openai.PermissionDeniedError,
)
_NOT_FOUND = (anthropic.NotFoundError, openai.NotFoundError)
_STATUS = (anthropic.APIStatusError, openai.APIStatusError)
SDK_ERRORS: tuple[type[BaseException], ...] = (
    anthropic.AnthropicError,
    openai.OpenAIError,
    httpx.HTTPError,
    httpx2.HTTPError,
)


def from_sdk(exc: BaseException, who: ProviderIdentity) -> LLMError:
    """The LLMError for an exception raised by an SDK call (after the SDK's own retries)."""
    where = who.where()
    retries = f"after {who.max_retries} retries" if who.max_retries else "with retries off"
    if isinstance(exc, _TIMEOUT):
        return LLMError(
            "llm_timeout",
            f"{where}: no answer within {who.timeout_s:g} s ({retries}); raise LLM_TIMEOUT_MS "
            f"(or timeout_s in config/llm.yaml) or check the server at {who.base_var}",
        )
    if isinstance(exc, _CONNECTION):
        return LLMError(
            "llm_unreachable", f"{where} is unreachable ({_cause(exc)}); check {who.base_var}"
        )
    if isinstance(exc, _RATE):
        return LLMError(
            "llm_rate_limited",
            f"{where}: rate limited (HTTP 429, {retries}): {_server_message(exc)}",
        )
    if isinstance(exc, _AUTH):
        status = getattr(exc, "status_code", "401")
        return LLMError(
            "llm_auth",
            f"{where}: the API key was refused (HTTP {status}: {_server_message(exc)}); "
            f"set {who.key_var}",
        )
    if isinstance(exc, _NOT_FOUND):
        return LLMError(
            "llm_error",
            f"{where}: HTTP 404 ({_server_message(exc)}); check the model ({who.model_var}) "
            f"and the base URL ({who.base_var})",
        )
    if isinstance(exc, _STATUS):
        return LLMError("llm_error", f"{where}: HTTP {exc.status_code}: {_server_message(exc)}")
    return LLMError("llm_error", f"{where}: {type(exc).__name__}: {one_line(str(exc))}")
