"""Every provider against the fake server in its wire format: text, streaming, usage, tool calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.llm import LLMProviders, Message, ToolCall, ToolSpec, complete_sync
from tests.fake_llm import FakeLLM, FakeToolCall, Reply, count_tokens
from tests.llm.conftest import WIRES, Make

ROOT = Path(__file__).resolve().parents[2]
ADD = ToolSpec(
    name="add",
    description="Add two numbers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
)


@pytest.mark.parametrize("kind", WIRES)
async def test_a_whole_reply_carries_text_usage_and_latency(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(Reply(text="The answer is 42.", usage=(11, 7)))
    provider = make(kind).get()
    completion = await provider.complete(
        [Message("user", "What is six times seven?")], system="Be brief.", max_tokens=64
    )
    assert completion.text == "The answer is 42."
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (11, 7)
    assert completion.latency_ms > 0
    assert completion.stop_reason in {"end_turn", "stop"}
    assert (completion.provider, completion.model) == ("test", provider.model)
    [request] = fake_llm.requests
    assert request.wire == ("anthropic" if kind == "anthropic" else "openai")
    assert not request.stream
    body = request.json
    assert body["model"] == provider.model
    if kind == "anthropic":
        # this SDK version sends the key as a Bearer token; older ones used x-api-key
        sent = request.headers.get("x-api-key") or request.headers["authorization"]
        assert sent.removeprefix("Bearer ") == "test-key"
        assert body["system"] == "Be brief."
        assert body["max_tokens"] == 64
        assert body["messages"] == [{"role": "user", "content": "What is six times seven?"}]
    else:
        assert request.headers["authorization"] == "Bearer test-key"
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        field = "max_completion_tokens" if kind == "openai" else "max_tokens"
        assert body[field] == 64


@pytest.mark.parametrize("kind", WIRES)
async def test_streaming_delivers_deltas_and_the_usage_of_the_last_event(
    kind: str, fake_llm: FakeLLM, make: Make
) -> None:
    text = "Plan: search first.\n\n```python\nfinal_answer(2 ** 20)\n```"
    fake_llm.queue(text)
    deltas: list[str] = []
    prompt = "what is two to the twentieth"
    completion = (
        await make(kind)
        .get()
        .complete([Message("user", prompt)], system="sys prompt", on_delta=deltas.append)
    )
    assert len(deltas) > 3
    assert "".join(deltas) == completion.text == text
    # the fake counts words of everything sent, and of the reply
    assert completion.usage.input_tokens == count_tokens("sys prompt " + prompt)
    assert completion.usage.output_tokens == count_tokens(text)
    [request] = fake_llm.requests
    assert request.stream
    if kind != "anthropic":
        assert request.json["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("kind", WIRES)
async def test_native_tool_calls_round_trip(
    kind: str, streamed: bool, fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue(
        Reply(text="Adding.", tool_calls=[FakeToolCall("add", {"a": 2, "b": 3}, id="call_a")]),
        "The sum is 5.",
    )
    provider = make(kind).get()
    deltas: list[str] = []
    on_delta = deltas.append if streamed else None
    history = [Message("user", "add 2 and 3")]
    first = await provider.complete(history, tools=[ADD], on_delta=on_delta)
    assert first.tool_calls == [ToolCall(id="call_a", name="add", arguments={"a": 2, "b": 3})]
    assert first.stop_reason in {"tool_use", "tool_calls"}
    history += [
        Message("assistant", first.text, tool_calls=first.tool_calls),
        Message("tool", "5", tool_call_id="call_a"),
    ]
    second = await provider.complete(history, tools=[ADD], on_delta=on_delta)
    assert second.text == "The sum is 5."
    assert second.tool_calls == []
    sent_tools = fake_llm.requests[0].json["tools"]
    follow_up = fake_llm.requests[1].json["messages"]
    if kind == "anthropic":
        assert sent_tools == [
            {"name": "add", "description": "Add two numbers.", "input_schema": ADD.parameters}
        ]
        assert follow_up[1] == {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Adding."},
                {"type": "tool_use", "id": "call_a", "name": "add", "input": {"a": 2, "b": 3}},
            ],
        }
        assert follow_up[2] == {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "call_a", "content": "5"}],
        }
    else:
        assert sent_tools == [
            {
                "type": "function",
                "function": {
                    "name": "add",
                    "description": "Add two numbers.",
                    "parameters": ADD.parameters,
                },
            }
        ]
        call = follow_up[1]["tool_calls"][0]
        assert (call["id"], call["function"]["name"]) == ("call_a", "add")
        assert json.loads(call["function"]["arguments"]) == {"a": 2, "b": 3}
        assert follow_up[2] == {"role": "tool", "tool_call_id": "call_a", "content": "5"}


async def test_anthropic_tool_results_of_one_turn_share_one_user_message(
    fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue("done")
    calls = [ToolCall("t1", "add", {"a": 1, "b": 1}), ToolCall("t2", "add", {"a": 2, "b": 2})]
    history = [
        Message("user", "two sums"),
        Message("assistant", "", tool_calls=calls),
        Message("tool", "2", tool_call_id="t1"),
        Message("tool", "4", tool_call_id="t2"),
    ]
    await make("anthropic").get().complete(history, tools=[ADD])
    messages = fake_llm.requests[0].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["tool_use_id"] for b in messages[2]["content"]] == ["t1", "t2"]


async def test_another_model_of_the_same_provider(fake_llm: FakeLLM, make: Make) -> None:
    fake_llm.queue("a", "b")
    providers = make("openai-compatible")
    other = providers.get(model="glm-4-flash")
    assert other.model == "glm-4-flash"
    assert providers.get(model="glm-4-flash") is other
    await other.complete([Message("user", "hi")])
    await providers.get().complete([Message("user", "hi")])
    assert [r.json["model"] for r in fake_llm.requests] == ["glm-4-flash", "glm-4-plus"]


@pytest.mark.parametrize(
    ("env", "kind", "model"),
    [
        (
            {"DEFAULT_LLM_PROVIDER": "openai-compatible", "DEFAULT_LLM_MODEL": "glm-4-plus"},
            "openai-compatible",
            "glm-4-plus",
        ),
        ({"ANTHROPIC_API_KEY": "k"}, "anthropic", "claude-sonnet-4-5"),
        ({"DEFAULT_LLM_PROVIDER": "openai", "OPENAI_API_KEY": "k"}, "openai", "gpt-4o-mini"),
    ],
    ids=["glm-at-LLM_BASE_URL", "claude-default-model", "openai-default-model"],
)
async def test_the_default_provider_from_the_environment(
    env: dict[str, str], kind: str, model: str, fake_llm: FakeLLM
) -> None:
    base = {
        "LLM_BASE_URL": fake_llm.openai_base_url,
        "ANTHROPIC_BASE_URL": fake_llm.anthropic_base_url,
        "OPENAI_BASE_URL": fake_llm.openai_base_url,
        "LLM_MAX_RETRIES": "0",
    }
    settings = load_settings(env={**base, **env}, root=ROOT, read_dotenv=False)
    providers = LLMProviders(settings.llm)
    try:
        provider = providers.get()
        assert (provider.kind, provider.model, provider.is_model) == (kind, model, True)
        fake_llm.queue("hello from the fake")
        completion = await provider.complete([Message("user", "hi")])
        assert completion.text == "hello from the fake"
        assert fake_llm.requests[0].json["model"] == model
        assert providers.status()["default"]["usable"] is True
    finally:
        await providers.aclose()


def test_complete_sync_from_blocking_code(fake_llm: FakeLLM, make: Make) -> None:
    fake_llm.queue("sync one", "sync two")
    provider = make("anthropic").get()
    first = complete_sync(provider, [Message("user", "hi")])
    second = complete_sync(provider, [Message("user", "again")], on_delta=lambda _: None)
    assert (first.text, second.text) == ("sync one", "sync two")


async def test_complete_sync_inside_a_running_loop_as_in_a_jupyter_kernel(
    fake_llm: FakeLLM, make: Make
) -> None:
    fake_llm.queue("from a kernel")
    completion = complete_sync(make("openai").get(), [Message("user", "hi")])
    assert completion.text == "from a kernel"
