"""Retries (429/503, retry-after), timeout, cancellation, unreachable and misconfigured providers."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.config import load_settings
from agent.llm import NO_PROVIDER, LLMError, LLMProviders, Message, ProviderConfig
from tests.fake_llm import NOTHING_SCRIPTED, FakeLLM, RecordedRequest, Reply
from tests.llm.conftest import WIRES, Make

ROOT = Path(__file__).resolve().parents[2]
HI = [Message("user", "hi")]


def assert_one_line(error: LLMError, *parts: str) -> None:
    assert "\n" not in error.message and "Traceback" not in error.message
    for part in parts:
        assert part in error.message, (part, error.message)


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_a_429_is_retried_after_the_retry_after_it_names(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(Reply(status=429, headers={"retry-after": "1"}, error="slow down"), "ok")
    completion = await make(kind, max_retries=2).get().complete(HI)
    assert completion.text == "ok"
    first, second = fake_llm.requests
    assert [
        first.headers["x-stainless-retry-count"],
        second.headers["x-stainless-retry-count"],
    ] == [
        "0",
        "1",
    ]
    # the SDK's own backoff for a first retry is at most 0.5 s: a 1 s gap is the header's
    assert second.received_at - first.received_at >= 0.95


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("kind", ["anthropic", "openai-compatible"])
async def test_a_503_is_retried_and_the_stream_still_arrives(
    kind: str, streamed: bool, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(
        Reply(status=503, headers={"retry-after-ms": "10"}),
        Reply(status=503, headers={"retry-after-ms": "10"}),
        "third time lucky",
    )
    deltas: list[str] = []
    completion = (
        await make(kind, max_retries=3)
        .get()
        .complete(HI, on_delta=deltas.append if streamed else None)
    )
    assert completion.text == "third time lucky"
    assert len(fake_llm.requests) == 3
    assert ("".join(deltas) == completion.text) if streamed else deltas == []


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_rate_limit_after_the_last_retry_is_one_clear_line(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    limited = Reply(status=429, headers={"retry-after-ms": "10"}, error="quota exhausted")
    fake_llm.queue(limited, limited)
    with pytest.raises(LLMError) as caught:
        await make(kind, max_retries=1).get().complete(HI)
    assert caught.value.code == "llm_rate_limited"
    assert_one_line(caught.value, "'test'", kind, "quota exhausted", "after 1 retries")
    assert len(fake_llm.requests) == 2


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_a_silent_server_times_out(kind: str, fake_llm: FakeLLM, make: Make) -> None:
    fake_llm.queue(Reply(text="too late", delay_s=5))
    with pytest.raises(LLMError) as caught:
        await make(kind, timeout_s=0.3).get().complete(HI)
    assert caught.value.code == "llm_timeout"
    assert_one_line(caught.value, "no answer within 0.3 s", "LLM_TIMEOUT_MS")
    assert fake_llm.requests[0].wait_disconnected(5)


@pytest.mark.parametrize("kind", WIRES)
async def test_cancelling_the_task_closes_the_stream(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(Reply(text=" ".join(f"word{i}" for i in range(200)), chunk_delay_s=0.05))
    started = asyncio.Event()
    deltas: list[str] = []

    def on_delta(text: str) -> None:
        deltas.append(text)
        started.set()

    task = asyncio.create_task(make(kind).get().complete(HI, on_delta=on_delta))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    request = fake_llm.requests[0]
    assert await asyncio.to_thread(request.wait_disconnected, 10)
    assert len(deltas) < 200


@pytest.mark.parametrize("kind", WIRES)
async def test_an_unreachable_server_names_the_base_url_and_the_variable(
    kind: str, make: Make
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}" + ("" if kind == "anthropic" else "/v1")
    with pytest.raises(LLMError) as caught:
        await make(kind, base_url=base_url).get().complete(HI)
    assert caught.value.code == "llm_unreachable"
    assert_one_line(caught.value, base_url, "is unreachable", "check providers.test.base_url")


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_a_refused_key_names_the_variable_holding_it(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(Reply(status=401, error="invalid x-api-key"))
    with pytest.raises(LLMError) as caught:
        await make(kind, api_key_env="MY_KEY").get().complete(HI)
    assert caught.value.code == "llm_auth"
    assert_one_line(caught.value, "HTTP 401", "invalid x-api-key", "set MY_KEY")


async def test_a_server_error_says_what_the_server_said(fake_llm: FakeLLM, make: Make) -> None:
    with pytest.raises(LLMError) as caught:
        await make("openai-compatible").get().complete(HI)
    assert caught.value.code == "llm_error"
    assert_one_line(caught.value, "HTTP 500", NOTHING_SCRIPTED, "glm-4-plus")


def providers_from(env: dict[str, str]) -> LLMProviders:
    return LLMProviders(load_settings(env=env, root=ROOT, read_dotenv=False).llm)


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({"DEFAULT_LLM_PROVIDER": "anthropic"}, ["set ANTHROPIC_API_KEY", "claude-sonnet-4-5"]),
        ({"DEFAULT_LLM_PROVIDER": "openai"}, ["set OPENAI_API_KEY", "api.openai.com"]),
        (
            {"DEFAULT_LLM_PROVIDER": "openai-compatible", "LLM_API_KEY": "k"},
            ["set LLM_BASE_URL and DEFAULT_LLM_MODEL", "model unset", "base URL unset"],
        ),
        (
            {"LLM_BASE_URL": "http://127.0.0.1:9/v1"},
            ["set DEFAULT_LLM_MODEL", "http://127.0.0.1:9/v1"],
        ),
        (
            {"DEFAULT_LLM_PROVIDER": "scripted", "LLM_SCRIPT_FILE": "/nonexistent/replies.yaml"},
            ["cannot read the reply script", "/nonexistent/replies.yaml"],
        ),
    ],
    ids=[
        "anthropic-no-key",
        "openai-no-key",
        "compatible-nothing",
        "compatible-no-model",
        "no-script",
    ],
)
def test_misconfiguration_is_refused_with_what_to_set(
    env: dict[str, str], needs: list[str]
) -> None:
    providers = providers_from(env)
    with pytest.raises(LLMError) as caught:
        providers.get()
    assert caught.value.code == "llm_unconfigured"
    assert_one_line(caught.value, "'default'", *needs)
    status = providers.status()["default"]
    assert status["usable"] is False
    assert status["reason"] == caught.value.message


def test_nothing_configured_names_every_way_to_configure() -> None:
    providers = providers_from({})
    with pytest.raises(LLMError) as caught:
        providers.get()
    assert (caught.value.code, caught.value.message) == ("llm_unconfigured", NO_PROVIDER)
    assert providers.names() == []
    assert providers.status() == {
        "default": {
            "usable": False,
            "reason": NO_PROVIDER,
            "kind": None,
            "model": None,
            "base_url": None,
            "is_model": False,
            "default": True,
        }
    }


def test_an_unknown_provider_name_lists_the_configured_ones(make: Make) -> None:
    with pytest.raises(LLMError) as caught:
        make("openai").get("glm")
    assert caught.value.code == "llm_unconfigured"
    assert_one_line(caught.value, "'glm'", "configured: test", "config/llm.yaml")


def test_a_named_provider_without_its_key_names_its_variable(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "llm.yaml").write_text(
        "providers:\n  glm:\n    type: openai-compatible\n    model: glm-4-plus\n"
        "    base_url: https://open.bigmodel.cn/api/paas/v4\n    api_key_env: GLM_API_KEY\n"
        "  claude:\n    type: anthropic\n    api_key_env: CLAUDE_KEY\n"
    )
    providers = LLMProviders(
        load_settings(env={"AGENT_CONFIG_DIR": str(config)}, root=ROOT, read_dotenv=False).llm
    )
    status = providers.status()
    # a compatible server may need no key (vLLM, Ollama): usable; Claude always needs one
    assert status["glm"]["usable"] is True
    assert status["glm"]["base_url"] == "https://open.bigmodel.cn/api/paas/v4"
    assert status["claude"]["usable"] is False
    assert "set CLAUDE_KEY" in status["claude"]["reason"]
    assert providers.get("glm").model == "glm-4-plus"


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_cancelling_a_whole_reply_request_closes_the_connection(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    arrived = threading.Event()

    def hold(request: RecordedRequest) -> Reply:
        arrived.set()
        return Reply(text="never sent", delay_s=10)

    fake_llm.responder = hold
    task = asyncio.create_task(make(kind).get().complete(HI))
    assert await asyncio.to_thread(arrived.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_llm.requests[0].wait_disconnected, 10)


@pytest.mark.parametrize(
    "fields",
    [{"base_url": "localhost:11434"}, {"max_retries": -1}, {"timeout_s": 0}, {"max_tokens": 0}],
)
def test_provider_config_refuses_values_that_cannot_work(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ProviderConfig(type="openai-compatible", model="m", **fields)
